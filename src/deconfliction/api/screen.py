"""The one screen every request passes before any route sees it (docs/security.md, Bad input).

Two rules, the same on every backend, so that what one database would store and another refuse (or
crash on) is answered alike, with a 422 naming the field:

* no string anywhere in a request (path or query parameter, header, JSON body at any depth, object keys
  included) holds a C0 control character other than tab, newline and carriage return: PostgreSQL refuses
  NUL in text, SQLite stores it, and no name, title or address needs one;
* every integer query or header parameter a route declares lies in the signed 64-bit range that both
  databases store (SQLite raises past 2**63 - 1, PostgreSQL answers out of range).

It runs as an application-wide dependency: before authentication, before the body's own validation,
and for every route added later without anything to remember.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from typing import Any

import orjson
from fastapi import Request
from fastapi.dependencies.models import Dependant

from deconfliction.errors import FieldError, InvalidInput

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""C0 controls but tab, newline and carriage return."""
_CONTROL_ANY = re.compile("[\x00-\x1f]")
"""Every C0 control: none belongs in a query parameter or a header."""
_ESCAPES = (b"\\u00", b"\\b", b"\\f")
"""How JSON spells a control character; a body without any holds none (raw ones are not JSON)."""


def _control_error(field: str, text: str) -> FieldError:
    found = _CONTROL_ANY.search(text)
    char = f"U+{ord(found.group()):04X}" if found else "a control character"
    return FieldError(
        field, "control_character", f"{char} is not allowed in text (only tab, newline and carriage return are)"
    )


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string of a parsed JSON value with its field path (``volumes[0].name``); a key is reported
    at the path it would name."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            yield sub, str(k)
            yield from _strings(v, sub)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def body_errors(body: bytes) -> list[FieldError]:
    """The control characters of a JSON body, by field (none for a body that is not JSON: its parser
    answers for it)."""
    if not any(e in body for e in _ESCAPES):
        return []
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    return [_control_error(path, text) for path, text in _strings(parsed, "") if _CONTROL.search(text)]


def _is_int(annotation: Any) -> bool:
    """``int``, ``int | None``, ``Optional[int]`` (not bool)."""
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(a is int for a in typing.get_args(annotation))
    return False


def _integer_params(dependant: Dependant) -> Iterator[tuple[str, str]]:
    """(where, name) of every integer query or header parameter of a route and its dependencies."""
    for where, params in (("query", dependant.query_params), ("header", dependant.header_params)):
        for p in params:
            if _is_int(p.field_info.annotation):
                yield where, p.alias
    for sub in dependant.dependencies:
        yield from _integer_params(sub)


def integer_errors(request: Request) -> list[FieldError]:
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return []
    errors = []
    for where, name in sorted(set(_integer_params(dependant))):
        text = (request.query_params if where == "query" else request.headers).get(name)
        if text is None:
            continue
        try:
            value = int(text.strip())
        except ValueError:
            continue  # not an integer: the route's own validation says so
        if not INT64_MIN <= value <= INT64_MAX:
            reason = f"{name} {text!r} is outside the signed 64-bit range a number may take"
            errors.append(FieldError(name, "out_of_range", reason))
    return errors


async def screen(request: Request) -> None:
    """The application-wide dependency: refuse, naming every field, or let the request through."""
    errors = [_control_error(k, v) for k, v in request.query_params.multi_items() if _CONTROL_ANY.search(v)]
    errors += [_control_error(k, k) for k in request.query_params if _CONTROL_ANY.search(k)]
    errors += [_control_error(k, v) for k, v in request.path_params.items() if _CONTROL_ANY.search(str(v))]
    errors += [_control_error(k, v) for k, v in request.headers.items() if _CONTROL_ANY.search(v.replace("\t", ""))]
    errors += integer_errors(request)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        errors += body_errors(await request.body())
    if errors:
        raise InvalidInput(errors)
