"""``once``: a property computed on first read and kept in the instance, for the domain's derived values
(a footprint's densified rings, a conflict's region, a zone's shape)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class once(Generic[T]):
    """A property computed on first read and kept in the instance, like ``functools.cached_property``
    but without its lock: before Python 3.12 that lock is one per property for *all* instances, so
    threads drawing unrelated regions waited for each other. Two threads may both compute the value of
    one instance; they compute the same value and either is kept."""

    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> once[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> T | once[T]:
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.name] = value  # a non-data descriptor: the instance's value wins from now on
        return value
