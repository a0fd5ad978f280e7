"""The hash chain: what verifies, and that one flipped bit anywhere in an entry line is found, at its line."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain.ledger import GENESIS, Entry, Sealed, canonical, export_line, header, seal, verify

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def chains(draw: st.DrawFn) -> list[Sealed]:
    n = draw(st.integers(1, 8))
    out: list[Sealed] = []
    previous = GENESIS
    for seq in range(1, n + 1):
        entry = Entry(
            seq,
            T0 + timedelta(microseconds=draw(st.integers(0, 10**12))),
            draw(st.none() | st.sampled_from(["pt_a", "pt_b"])),
            draw(st.sampled_from(["operation.created", "conflict.opened", "party.created"])),
            draw(st.text(min_size=1, max_size=10)),
            tuple(draw(st.lists(st.sampled_from(["pt_a", "pt_b", "*"]), max_size=2, unique=True))),
            draw(st.dictionaries(st.text(max_size=8), json_values, max_size=4)),
        )
        sealed = seal(entry, previous)
        out.append(sealed)
        previous = sealed.hash
    return out


def export(chain: list[Sealed], redact: set[int] = frozenset(), party: str | None = None) -> list[bytes]:  # type: ignore[assignment]
    head = chain[-1]
    lines: list[dict[str, Any]] = [
        header(
            after_seq=0,
            previous=GENESIS,
            until_seq=head.entry.seq,
            party=party,
            head_seq=head.entry.seq,
            head_hash=head.hash,
        )
    ]
    lines += [s.line(redacted=s.entry.seq in redact) for s in chain]
    return [export_line(line) for line in lines]


@given(chains(), st.data())
def test_an_untouched_export_verifies_redacted_or_not(chain: list[Sealed], data: st.DataObject) -> None:
    redact = set(data.draw(st.lists(st.sampled_from([s.entry.seq for s in chain]), unique=True)))
    report = verify(export(chain, redact), receipts=[{"seq": s.entry.seq, "hash": s.hash} for s in chain])
    assert report.ok, report.problems
    assert (report.entries, report.redacted, report.head_hash) == (len(chain), len(redact), chain[-1].hash)


@settings(max_examples=20 if os.environ.get("HYPOTHESIS_PROFILE") == "mutation" else 300)
@given(chains(), st.data())
def test_one_flipped_bit_in_any_entry_line_is_found_at_its_line(chain: list[Sealed], data: st.DataObject) -> None:
    redact = set(data.draw(st.lists(st.sampled_from([s.entry.seq for s in chain]), unique=True)))
    lines = export(chain, redact)
    target = data.draw(st.integers(1, len(lines) - 1), label="entry line (0 is the header)")
    line = bytearray(lines[target])
    pos = data.draw(st.integers(0, len(line) - 1), label="byte")
    line[pos] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    lines[target] = bytes(line)
    report = verify(b"".join(lines).split(b"\n"))
    assert not report.ok, f"flip at line {target + 1} byte {pos} went unnoticed"
    # a flipped newline joins two lines: the problem is then on the first of them
    assert report.problems[0].line == target + 1, [str(p) for p in report.problems]


def test_tampering_the_header_is_found() -> None:
    t = T0
    chain, previous = [], GENESIS
    for seq in range(1, 4):
        s = seal(Entry(seq, t, None, "party.created", f"pt_{seq}", ("*",), {"n": seq}), previous)
        chain.append(s)
        previous = s.hash
    good = export(chain)
    assert verify(good).ok
    for key, value in (
        ("previous_hash", "1" * 64),
        ("after_seq", 1),
        ("until_seq", 2),
        ("head", {"seq": 3, "hash": "2" * 64}),
    ):
        head = orjson.loads(good[0])
        head[key] = value
        report = verify([export_line(head), *good[1:]])
        assert not report.ok, key


def test_a_missing_reordered_or_truncated_export_is_named() -> None:
    chain, previous = [], GENESIS
    for seq in range(1, 6):
        s = seal(Entry(seq, T0, None, "x", "y", (), {"n": seq}), previous)
        chain.append(s)
        previous = s.hash
    lines = export(chain)
    missing = verify([lines[0], lines[1], lines[3], lines[4], lines[5]])
    assert "entry 2 expected here" in str(missing.problems[0])
    swapped = verify([lines[0], lines[1], lines[3], lines[2], lines[4], lines[5]])
    assert swapped.problems[0].line == 3
    truncated = verify(lines[:4])
    assert [("truncated" in str(p)) for p in truncated.problems] == [True]


def test_a_receipt_not_in_the_chain_is_reported() -> None:
    s = seal(Entry(1, T0, None, "x", "y", (), {}), GENESIS)
    lines = export([s])
    assert verify(lines, receipts=[{"seq": 1, "hash": s.hash}]).ok
    assert not verify(lines, receipts=[{"seq": 1, "hash": "f" * 64}]).ok
    assert not verify(lines, receipts=[{"seq": 2, "hash": s.hash}]).ok


def test_canonical_form_is_rfc_8785() -> None:
    # the examples of RFC 8785 section 3.2.2: key order by UTF-16 code units, ES6 number forms
    assert canonical({"b": 1.0, "a": [1e21, 0.1, -0.0], "\u20ac": "x", "\r": 1}) == (
        b'{"\\r":1,"a":[1e+21,0.1,0],"b":1,"\xe2\x82\xac":"x"}'
    )
    # the same content written differently hashes the same
    e1 = Entry(1, T0, None, "t", "s", (), {"x": 1, "y": [1.5]})
    e2 = Entry(1, T0, None, "t", "s", (), orjson.loads(b'{"y":[1.50],"x":1.0}'))
    assert seal(e1, GENESIS) == seal(e2, GENESIS)


awkward_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-7, 1e-6, 9.999e-5, 1e-4, 1e15 + 0.5, 1e16, 2.0**53, 2.0**60, 1e21, 5e-324, -0.0])
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=4) | st.sampled_from(["\ue000", "\U0001f600", "a"]), children, max_size=4)
    ),
    max_leaves=20,
)


@given(awkward_json)
@settings(max_examples=300)
def test_canonical_fast_path_equals_the_reference(value: Any) -> None:
    """The fast path of ``canonical`` writes exactly what the RFC 8785 reference writes, or leaves the
    value to it: numbers at the edges of both notations, non-BMP keys, controls, lone surrogates."""
    import rfc8785

    def as_doubles(v: Any) -> Any:  # JSON numbers are doubles: 2**60 parsed from text is the double 2.0**60
        if isinstance(v, dict):
            return {k: as_doubles(x) for k, x in v.items()}
        if isinstance(v, list):
            return [as_doubles(x) for x in v]
        if type(v) is int and abs(v) >= 2**53:
            return float(v)
        return v

    try:
        expected: bytes | None = rfc8785.dumps(as_doubles(value))
    except Exception:
        expected = None
    if expected is None:
        try:
            canonical(value)
        except Exception:
            return
        raise AssertionError("the reference refuses this value but canonical accepted it")
    assert canonical(value) == expected
