"""RFC 8785 canonical JSON (fast where provably equal to the reference) and the ledger's time format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import rfc8785


def canonical(obj: Any) -> bytes:
    """RFC 8785 canonical JSON.

    Most entries take a fast path: once integral floats are written as integers, every value of an
    entry is one that orjson writes exactly as RFC 8785 does (ASCII keys, so sorting by code point
    equals sorting by UTF-16 unit; floats in [1e-4, 1e16), where orjson, Python's ``repr`` and
    ECMAScript all print the shortest round-tripping digits without exponent; the same string escapes).
    Anything else goes to the reference implementation; a property test holds the two byte-equal."""
    try:
        return orjson.dumps(_plain(obj), option=orjson.OPT_SORT_KEYS)
    except (_Slow, orjson.JSONEncodeError):
        return rfc8785.dumps(_as_doubles(obj))


class NotCanonical(ValueError):
    """A value RFC 8785 cannot write: a number no IEEE double holds exactly, a lone surrogate, NaN."""


def _as_doubles(obj: Any) -> Any:
    """JSON numbers are doubles (RFC 8785 section 3.2.2.3): an integer beyond 2^53, as a parser reads
    ``42529098255226460``, is the double nearest it, written back in its canonical form."""
    t = type(obj)
    if t is int and abs(obj) > _MAX_SAFE_INT:
        try:
            return float(obj)
        except OverflowError:
            raise NotCanonical(f"{obj} is beyond the range of a JSON number (an IEEE double)") from None
    if t is dict:
        return {k: _as_doubles(v) for k, v in obj.items()}
    if t is list or t is tuple:
        return [_as_doubles(v) for v in obj]
    return obj


class _Slow(Exception):
    """A value outside the fast path of ``canonical``."""


_MAX_SAFE_INT = 2**53 - 1


def _plain(obj: Any) -> Any:
    t = type(obj)
    if t is str or obj is None or t is bool:
        return obj
    if t is float:
        if obj.is_integer():
            if abs(obj) <= _MAX_SAFE_INT:
                return int(obj)
            raise _Slow
        if 1e-4 <= abs(obj) < 1e16:
            return obj
        raise _Slow
    if t is int:
        if abs(obj) <= _MAX_SAFE_INT:
            return obj
        raise _Slow
    if t is dict:
        out = {}
        for k, v in obj.items():
            if type(k) is not str or not k.isascii():
                raise _Slow
            out[k] = _plain(v)
        return out
    if t is list or t is tuple:
        if all(type(v) is float and not v.is_integer() and 1e-4 <= abs(v) < 1e16 for v in obj):
            return obj  # coordinates: written as they are, without a call per number
        return [_plain(v) for v in obj]
    raise _Slow


def format_at(at: datetime) -> str:
    """The entry's time, always with microseconds, so the stored instant and the text map one to one."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
