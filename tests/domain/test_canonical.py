"""The bulk check of coordinate arrays in ``canonical`` writes exactly what the RFC 8785 reference writes."""

from __future__ import annotations

import math
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain.canonical import _FEW, canonical
from tests.oracle import examples

# coordinates as regions carry them, plus the values at the edges of the fast path, so that arrays both
# above and below the bulk threshold hold a value the fast path must leave to the reference
edge = st.sampled_from([1e-4, 9.999e-5, 1.5e-6, -1e-6, 1e16, 1e16 - 2.0, 5e-324, 0.0, -0.0, 42.0, 2.0**53, 1e21])
coordinate = st.floats(-180.0, 180.0, allow_nan=False).map(lambda v: round(v, 7))
number = coordinate | st.floats(allow_nan=False, allow_infinity=False) | edge
pair = st.lists(number, min_size=2, max_size=3)
ring = st.lists(pair, min_size=1, max_size=_FEW)  # up to 3 * _FEW numbers: both ways of checking
flat = st.lists(number, min_size=0, max_size=2 * _FEW)
odd = st.lists(number | st.integers(-(2**40), 2**40) | st.booleans() | st.none(), min_size=1, max_size=2 * _FEW)


@given(st.one_of(ring, flat, st.lists(ring, max_size=3), st.lists(odd, max_size=3), odd))
@settings(max_examples=examples(400))  # 400 by default, 100 under make mutation's profile
def test_coordinate_arrays_equal_the_reference(value: Any) -> None:
    doc = {"region": {"type": "Polygon", "coordinates": value}, "n": 1}
    assert canonical(doc) == rfc8785.dumps(doc)


def test_a_large_array_with_one_value_off_the_fast_path_equals_the_reference() -> None:
    for pairs in (_FEW // 4, 4 * _FEW):  # checked by map, and by NumPy
        _one_value_off_the_fast_path(pairs)


def _one_value_off_the_fast_path(pairs: int) -> None:
    base = [[43.0 + k * 1e-3 + 1e-7, 33.0 + k * 1e-3 + 3e-7] for k in range(pairs)]
    for bad in (0.0, -0.0, 44.0, 1.5e-6, -1e-6, 1e16, 1e21, 2.0**60, True, 7):
        for at in (0, len(base) // 2, len(base) - 1):
            value = [list(p) for p in base]
            value[at][1] = bad
            assert canonical({"c": value}) == rfc8785.dumps({"c": value}), (bad, at)


def test_a_large_array_with_a_nan_is_refused_like_the_reference() -> None:
    for pairs in (_FEW // 4, 4 * _FEW):
        value = [[43.0 + k * 1e-3 + 1e-7, 33.5] for k in range(pairs)]
        for bad in (math.nan, math.inf, -math.inf):
            for at in (0, pairs - 1):
                row = [list(p) for p in value]
                row[at][0] = bad
                for fn in (canonical, rfc8785.dumps):
                    try:
                        fn({"c": row})
                    except Exception:
                        continue
                    raise AssertionError(f"{fn.__name__} accepted {bad} at {at} of {pairs}")
