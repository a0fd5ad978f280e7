"""The fast path of ``canonical`` (domain/canonical.py) at its edges: each value it claims is written as
the RFC 8785 reference writes it, each value it must leave is left (``_Slow``), integers beyond 2^53 are
read as doubles, and values RFC 8785 cannot write are refused."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain import canonical as c
from tests.oracle import examples

SAFE = 2**53 - 1


def _doubles(v: Any) -> Any:
    """JSON numbers are doubles: what the reference is given for an integer past 2^53."""
    if type(v) is int and abs(v) > SAFE:
        return float(v)
    if isinstance(v, dict):
        return {k: _doubles(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_doubles(x) for x in v]
    return v


@pytest.mark.parametrize(
    "value",
    [
        "text",
        None,
        True,
        False,
        0,
        -SAFE,
        SAFE,
        0.0,
        -0.0,
        42.0,
        float(SAFE),
        -float(SAFE),
        1e-4,
        -1e-4,
        1.5,
        4503599627370495.5,  # the largest double below 2^52 with a fraction
        [1, "a", None, True, 2.5],
        (1, 2.5),
        {"b": 1, "a": [0.5, 1.25]},
        [[0.5, 1.25], [2.5, 3.75]],
    ],
)
def test_the_fast_path_takes_these_and_writes_what_the_reference_writes(value: Any) -> None:
    plain = c._plain(value)  # no _Slow: the fast path writes it
    assert orjson.dumps(plain, option=orjson.OPT_SORT_KEYS) == rfc8785.dumps(value)
    assert c.canonical(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        SAFE + 1,
        -(SAFE + 1),
        float(SAFE + 1),
        -float(SAFE + 1),
        9.999e-5,
        -9.999e-5,
        5e-324,
        1e16,
        1.5e16,
        1e21,
        math.nan,
        math.inf,
        {"é": 1},
        {1: 2},
        [1, 2**60],
        {"a": {"b": 9.999e-5}},
        object(),
        b"bytes",
    ],
)
def test_the_fast_path_leaves_these_to_the_reference(value: Any) -> None:
    with pytest.raises(c._Slow):
        c._plain(value)


def test_integral_floats_are_written_as_integers() -> None:
    assert c._plain(42.0) == 42 and type(c._plain(42.0)) is int
    assert type(c._plain(float(SAFE))) is int
    assert c.canonical({"a": 42.0, "b": -0.0, "c": 1.0e15}) == b'{"a":42,"b":0,"c":1000000000000000}'


@pytest.mark.parametrize(
    "value",
    [
        {"a": 2**53, "b": -(2**53) - 1, "c": 1e21, "d": 5e-324, "é": 1.5e16},
        [2**60, 9.999e-5, 1e-7, 1.5e16],
        {"n": 42529098255226460},
        [[0.5, 1e-7]] * 3,
    ],
)
def test_values_off_the_fast_path_are_written_by_the_reference(value: Any) -> None:
    # integers beyond 2^53 are JSON numbers, i.e. doubles: the reference is given the double
    assert c.canonical(value) == rfc8785.dumps(_doubles(value))


def test_an_integer_past_2_53_is_its_nearest_double() -> None:
    assert c.canonical({"n": 42529098255226460}) == b'{"n":42529098255226460}'
    assert c.canonical([2**53 + 1]) == b"[9007199254740992]"
    assert c.canonical([-(2**53) - 1]) == b"[-9007199254740992]"
    assert c.canonical(((2**53 + 1,),)) == b"[[9007199254740992]]"


def test_an_integer_beyond_any_double_is_refused() -> None:
    with pytest.raises(c.NotCanonical, match="beyond the range of a JSON number"):
        c.canonical({"a": [10**400]})
    with pytest.raises(c.NotCanonical):
        c.canonical(-(10**400))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "\ud800"])
def test_what_rfc_8785_cannot_write_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"."):
        c.canonical({"a": value})
    with pytest.raises(ValueError, match=r"."):
        rfc8785.dumps({"a": value})


def few(n: int, value: float) -> list[float]:
    return [0.5 + k * 1e-3 for k in range(n - 1)] + [value]


@pytest.mark.parametrize("n", [1, c._FEW, c._FEW + 1, 3 * c._FEW])
def test_plain_floats_by_map_and_by_numpy(n: int) -> None:
    assert c._FEW == 64
    assert c._plain_floats(few(n, 0.25))
    assert c._plain_floats(tuple(few(n, 0.25)))
    assert c._plain_floats([[x, x + 0.25] for x in few(n, 0.25)])
    for bad in (1.0, 0.0, -0.0, 9.999e-5, -9.999e-5, 1e16, -1e16, 1e17, math.nan, math.inf, -math.inf):
        assert not c._plain_floats(few(n, bad)), (n, bad)
    assert c._plain_floats(few(n, 1e-4)) and c._plain_floats(few(n, -1e-4))
    # every double from 2^53 up is integral, so no fraction reaches 1e16; the largest with one does pass
    assert c._plain_floats(few(n, 4503599627370495.5)) and c._plain_floats(few(n, -4503599627370495.5))


def test_plain_floats_in_lists_and_tuples_alike() -> None:
    assert c._plain_floats([[0.5, 1.5], (2.5, 3.5)])
    assert c._plain_floats(([0.5], (1.5,)))


def test_plain_floats_only_for_floats() -> None:
    assert not c._plain_floats([])
    assert not c._plain_floats([0.5, 1])
    assert not c._plain_floats([0.5, True])
    assert not c._plain_floats([[0.5], [1]])
    assert not c._plain_floats([[0.5], 0.5])
    assert not c._plain_floats(["a"])
    assert not c._plain_floats([[]])


def test_format_at_is_utc_whatever_the_machine_s_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert c.format_at(datetime(2026, 11, 23, 8, 0, tzinfo=UTC)) == "2026-11-23T08:00:00.000000Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_format_at_always_has_microseconds_in_utc() -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert c.format_at(at) == "2026-11-23T08:00:00.000000Z"
    assert c.format_at(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "2026-01-02T03:04:05.000006Z"


# ----------------------------------------------------------------- the quickest path: orjson, mended


# strings made of what the mending and the declining look for, so that some hold ".0]" or "-0.0,"
tricky_text = st.text(alphabet=st.sampled_from(list('0123456789.-+e,]}[{:" \\é')), max_size=12)
tricky_number = st.sampled_from(
    [0.0, -0.0, 42.0, -42.0, 0.5, -0.0123, 1e-4, 9.999e-5, 1e-7, 1e15, 1e15 + 0.5, 1e16, 2.0**53, 1e21, 0.1 + 0.2]
) | st.floats(allow_nan=False, allow_infinity=False)
tricky_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | tricky_number | tricky_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(tricky_text | st.sampled_from(["a", "é", "\U0001f600"]), children, max_size=4)
    ),
    max_leaves=16,
)


@given(tricky_json)
@settings(max_examples=examples(500))
def test_the_orjson_path_writes_what_the_reference_writes_or_declines(value: Any) -> None:
    written = c._written_by_orjson(value)
    if written is not None:
        assert written == rfc8785.dumps(_doubles(value))
    assert c.canonical({"v": value}) == rfc8785.dumps({"v": _doubles(value)})


def test_ledger_entries_take_the_orjson_path() -> None:
    """What entries hold: integral altitudes and rules, coordinates written with 17 digits, longitudes
    just west of Greenwich, times on the second, identifiers and tokens; a path that always declined
    would pass the test above and be no quicker."""
    entry = {
        "seq": 2032,
        "at": "2026-12-07T23:00:00.000000Z",
        "actor": "pt_01M99D1YWZRBKN0RDW1T0A2EZ0",
        "audience": ["pt_01M99D1YWZRBKN0RDW1T0A2EZ0"],
        "type": "conflict.opened",
        "subject": "cf_01M99D207HH8P3PSH10RXPX62X",
        "payload": {
            "altitude": {"lower_m": 0.0, "upper_m": 100.0},
            "rule": {"horizontal_m": 1000.0, "vertical_m": None, "time_s": 0.0},
            "region": {
                "type": "Polygon",
                "coordinates": [
                    [[-0.0123, 51.5], [0.30000000000000004, 51.5], [5.123456789012345, 52.0], [-0.0123, 51.5]]
                ],
            },
            "token": "97bYBCp4US48U-qR",
            "title": "Convoy 3, route B",
            "version": 1,
        },
    }
    written = c._written_by_orjson(entry)
    assert written is not None
    assert written == rfc8785.dumps(entry)
    assert b'"lower_m":0,' in written and b'"horizontal_m":1000,' in written


@pytest.mark.parametrize(
    "value",
    [
        {"a": -0.0},
        {"a": [1.0, -0.0]},
        {"a": 1e16},
        {"a": 1e15},
        {"a": 9.999e-5},
        {"a": 1e-7},
        {"a": SAFE + 2},
        {"é": 1},
        {"a": "é"},
        {"a": (1, 2)},
        {"a": "x.0,"},  # mended inside the string: read back, it differs
        {"a": math.nan},
        {"a": datetime(2026, 1, 1, tzinfo=UTC)},
        42.0,
        "text",
    ],
)
def test_the_orjson_path_declines_these(value: Any) -> None:
    assert c._written_by_orjson(value) is None
