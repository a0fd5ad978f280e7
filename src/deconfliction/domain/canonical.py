"""RFC 8785 canonical JSON (fast where provably equal to the reference) and the ledger's time format."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import chain
from math import isnan
from typing import Any

import numpy as np
import orjson
import rfc8785


def canonical(obj: Any) -> bytes:
    """RFC 8785 canonical JSON.

    Most entries take a fast path: once integral floats are written as integers, every value of an
    entry is one that orjson writes exactly as RFC 8785 does (ASCII keys, so sorting by code point
    equals sorting by UTF-16 unit; floats in [1e-4, 1e16), where orjson, Python's ``repr`` and
    ECMAScript all print the shortest round-tripping digits without exponent; the same string escapes).
    The quickest form of it (``_written_by_orjson``) lets orjson write the whole value and mends its
    integral floats in the text; where that cannot be shown right, a walk of the value (``_plain``) does
    it. Anything else goes to the reference implementation; property tests hold all three byte-equal."""
    written = _written_by_orjson(obj)
    if written is not None:
        return written
    try:
        return orjson.dumps(_plain(obj), option=orjson.OPT_SORT_KEYS)
    except (_Slow, orjson.JSONEncodeError):
        return rfc8785.dumps(_as_doubles(obj))


def _written_by_orjson(obj: Any) -> bytes | None:
    """``obj`` in RFC 8785 form, written by orjson in one call (no Python call per value: a ledger
    entry telling a conflict in 20 us instead of 50), or None where this cannot be shown right.

    orjson writes an integral float as ``42.0`` where RFC 8785 writes ``42``; in its output (no
    whitespace) ``.0`` followed by ``,``, ``]`` or ``}`` outside a string is exactly the end of such a
    float, so dropping each ``.0`` there mends them. The same three bytes inside a string would be
    changed too, so the mended text is read back and must equal ``obj`` (Python compares 42 and 42.0
    equal, never two different strings; nor a list and a tuple, a string and a date, None and NaN:
    anything but plain JSON values is declined the same way). Declined before that, by a conservative
    look at the text (which may match inside a string too): anything not ASCII (key order, which the
    reference sorts by UTF-16 unit); 16 digits or more before any point (integers past 2^53, numbers
    from 1e15); a digit followed by ``e+`` or ``e-`` (orjson's exponents: 1e16 and up, the smallest
    fractions); ``0.0000`` after ``:``, ``,``, ``[`` or ``-`` (a number below 1e-4); ``-0.0`` before
    ``,``, ``]`` or ``}`` (negative zero, which RFC 8785 writes ``0``); a document that is not an
    object or an array."""
    try:
        out = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return None
    if (
        out[:1] not in (b"{", b"[")
        or not out.isascii()
        or b":0.0000" in out
        or b",0.0000" in out
        or b"[0.0000" in out
        or b"-0.0000" in out
        or b"-0.0," in out
        or b"-0.0]" in out
        or b"-0.0}" in out
        or _DIGIT_RUN in out.translate(_DIGITS)
        or ((b"e+" in out or b"e-" in out) and _exponent(out))
    ):
        return None
    mended = _INTEGRAL_END.sub(b"", out)
    try:
        same = orjson.loads(mended) == obj
    except orjson.JSONDecodeError:
        return None
    return mended if same else None


_INTEGRAL_END = re.compile(rb"\.0(?=[,\]}])")
"""The end of an integral float as orjson writes it (or the same three bytes in a string)."""

_DIGITS = bytes(ord("9") if 48 <= b <= 57 else b if b == ord(".") else ord(" ") for b in range(256))
"""Every digit to ``9``, a point kept, everything else to a space."""

_DIGIT_RUN = b" " + b"9" * 16
"""16 digits or more not after a point: an integer part that long (a fraction's digits may run on)."""


def _exponent(out: bytes) -> bool:
    """Whether a digit is followed by ``e+`` or ``e-`` anywhere (orjson's exponent form)."""
    for mark in (b"e+", b"e-"):
        at = out.find(mark)
        while at > 0:
            if 48 <= out[at - 1] <= 57:
                return True
            at = out.find(mark, at + 1)
    return False


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
            out[k] = v if type(v) in _AS_IS else _plain(v)
        return out
    if t is list or t is tuple:
        if _plain_floats(obj):
            return obj  # coordinates: written as they are, without a call per number
        return [v if type(v) in _AS_IS else _plain(v) for v in obj]
    raise _Slow


_AS_IS = frozenset((str, bool, type(None)))
"""Values written as they are (``_plain`` returns them unchanged), without a call for each."""


_ARRAYS = frozenset((list, tuple))
_FEW = 64
"""Up to this many floats ``map`` over them is quicker than a round trip through NumPy."""


def _plain_floats(obj: list[Any] | tuple[Any, ...]) -> bool:
    """Whether ``obj`` is an array of floats, or of arrays of floats (a ring of coordinates), each of
    which orjson writes as RFC 8785 does: not integral, and in [1e-4, 1e16) (so neither NaN nor
    infinite). Decided in bulk, without a Python call per number: the types by ``map``, the values by
    ``map`` (few) or NumPy (many)."""
    kinds = set(map(type, obj))
    flat: list[Any] | tuple[Any, ...] = obj
    if kinds and kinds <= _ARRAYS:
        flat = list(chain.from_iterable(obj))
        kinds = set(map(type, flat))
    if len(kinds) != 1 or float not in kinds:
        return False
    if len(flat) <= _FEW:
        if any(map(isnan, flat)) or any(map(float.is_integer, flat)):
            return False
        # no NaN: min and max are well defined, and exclude both infinities
        return bool(min(flat) > -1e16 and max(flat) < 1e16 and min(map(abs, flat)) >= 1e-4)
    values = np.array(flat, dtype=np.float64)
    magnitude = np.abs(values)
    # NaN fails every comparison, so it fails the range test
    return bool(np.all((magnitude >= 1e-4) & (magnitude < 1e16) & (np.trunc(values) != values)))


def format_at(at: datetime) -> str:
    """The entry's time, always with microseconds, so the stored instant and the text map one to one."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
