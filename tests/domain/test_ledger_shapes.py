"""Ledger verification on every malformed shape an export can take, with the exact problem list and line
numbers; and the keys and signatures an export announces as it goes (docs/ledger.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from deconfliction.domain.ledger import (
    FORMAT,
    GENESIS,
    Entry,
    Problem,
    Report,
    Sealed,
    chain_hash,
    content_hash,
    export_line,
    header,
    seal,
    verify,
)
from deconfliction.domain.signing import ServiceSigner, b64url, key_id_for, sign_request

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def chain(*entries: Entry) -> list[Sealed]:
    out, previous = [], GENESIS
    for e in entries:
        s = seal(e, previous)
        out.append(s)
        previous = s.hash
    return out


def plain(n: int) -> list[Sealed]:
    return chain(*(Entry(seq, T0, None, "party.created", f"pt_{seq}", ("*",), {"n": seq}) for seq in range(1, n + 1)))


def lines_of(sealed: list[Sealed], *, until: int | None = None, head: tuple[int, str] | None = None) -> list[bytes]:
    last = sealed[-1] if sealed else None
    top = header(
        after_seq=0,
        previous=GENESIS,
        until_seq=until if until is not None else (last.entry.seq if last else 0),
        party=None,
        head_seq=head[0] if head else (last.entry.seq if last else 0),
        head_hash=head[1] if head else (last.hash if last else GENESIS),
    )
    return [export_line(top), *(export_line(s.line()) for s in sealed)]


def found(report: Report) -> list[tuple[int, int | None, str]]:
    return [(p.line, p.seq, p.what) for p in report.problems]


def obj(line: bytes) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(line)
    return value


def test_nothing_and_a_header_only_export() -> None:
    assert found(verify([])) == [(1, None, f"empty: no {FORMAT} header")]
    assert found(verify(["", "\n"])) == [(1, None, f"empty: no {FORMAT} header")]
    only = verify(lines_of([]))
    assert only.ok and (only.entries, only.first_seq, only.last_seq, only.head_hash) == (0, None, None, None)
    # a header announcing entries that are not there: truncated, at entry 0
    assert found(verify(lines_of([], until=2))) == [(0, None, "the export ends at entry 0, not 2: truncated")]


def test_an_untouched_export_reports_what_it_holds() -> None:
    sealed = plain(3)
    report = verify(lines_of(sealed))
    assert report.ok
    assert (report.entries, report.redacted, report.first_seq, report.last_seq) == (3, 0, 1, 3)
    assert report.head_hash == sealed[-1].hash
    # str and bytes lines alike, with CRLF or LF ends, and blank lines skipped
    text = [line.decode() + "\r\n" for line in lines_of(sealed)]
    assert verify([text[0], "", *text[1:], "\n"]).ok
    redacted = [lines_of(sealed)[0], *(export_line(s.line(redacted=s.entry.seq == 2)) for s in sealed)]
    report = verify(redacted)
    assert report.ok and (report.entries, report.redacted) == (3, 1)


def test_a_continued_export_starts_after_its_first_entry() -> None:
    sealed = plain(4)
    top = header(after_seq=2, previous=sealed[1].hash, until_seq=4, party=None, head_seq=4, head_hash=sealed[-1].hash)
    report = verify([export_line(top), *(export_line(s.line()) for s in sealed[2:])])
    assert report.ok and (report.first_seq, report.last_seq, report.entries) == (3, 4, 2)


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        (b"[1, 2]", "not a JSON object"),
        (b'"header"', "not a JSON object"),
        (b"{", "not JSON"),
    ],
)
def test_a_line_that_is_no_object_is_named_at_its_line(bad: bytes, what: str) -> None:
    lines = lines_of(plain(2))
    report = verify([lines[0], lines[1], bad, lines[2]])
    assert [(p.line, p.seq) for p in report.problems] == [(3, None)]
    assert report.problems[0].what.startswith(what)
    assert report.entries == 2


def test_a_bad_header_stops_at_line_one() -> None:
    lines = lines_of(plain(2))
    for change in ({"format": "deconfliction-ledger/2"}, {"previous_hash": "0" * 63}, {"previous_hash": "G" * 64}):
        top = {**obj(lines[0]), **change}
        report = verify([export_line(top), *lines[1:]])
        assert found(report) == [(1, None, f"the first line is not a {FORMAT} header")], change
        assert report.entries == 0
    # an entry line first is no header either
    assert found(verify(lines[1:])) == [(1, None, f"the first line is not a {FORMAT} header")]


def test_a_header_whose_head_is_not_the_last_hash() -> None:
    sealed = plain(2)
    report = verify(lines_of(sealed, head=(2, "a" * 64)))
    assert found(report) == [(0, 2, "the last hash is not the head the header announces")]
    # a head beyond the export (the chain grew since) is no problem
    assert verify(lines_of(sealed, head=(5, "a" * 64))).ok


def test_entry_shapes() -> None:
    lines = lines_of(plain(3))
    second = obj(lines[2])

    def at_two(changed: dict[str, Any]) -> list[tuple[int, int | None, str]]:
        return found(verify([lines[0], lines[1], export_line(changed), lines[3]]))

    no_seq = {k: v for k, v in second.items() if k != "seq"}
    assert at_two(no_seq) == [
        (3, None, "no entry number (seq)"),
        (4, 3, "entry 2 expected here: missing or reordered"),
    ]
    assert at_two({**second, "content_hash": "x"}) == [(3, 2, "content_hash or hash is not 64 hex digits")]
    assert at_two({**second, "hash": 5}) == [(3, 2, "content_hash or hash is not 64 hex digits")]
    no_content = {k: v for k, v in second.items() if k != "content"}
    assert at_two(no_content) == [(3, 2, "no content and not marked redacted")]
    assert at_two({**second, "redacted": False, "content": None}) == [(3, 2, "no content and not marked redacted")]
    assert at_two({**second, "content": {**second["content"], "seq": 7}}) == [(3, 2, "its content says entry 7")]
    assert at_two({**second, "content": {**second["content"], "subject": "pt_9"}}) == [
        (3, 2, "the content does not match its content_hash")
    ]
    relinked = {**second, "hash": "f" * 64}
    assert at_two(relinked) == [(3, 2, "hash does not follow from the previous hash: chain broken")]


def test_a_missing_entry_is_named_with_its_line_and_the_truncation_at_line_zero() -> None:
    lines = lines_of(plain(4))
    report = verify([lines[0], lines[1], lines[3], lines[4]])
    assert found(report) == [(3, 3, "entry 2 expected here: missing or reordered")]
    assert found(verify(lines[:3])) == [(0, 2, "the export ends at entry 2, not 4: truncated")]


def test_a_line_not_in_canonical_form() -> None:
    lines = lines_of(plain(2))
    spaced = lines[2].decode().replace(",", ", ", 1)
    report = verify([lines[0], lines[1], spaced])
    assert found(report) == [(3, 2, "not in canonical form: the line was altered")]
    top = lines[0].decode().replace(",", ", ", 1)
    report = verify([top, *lines[1:]])
    assert found(report) == [(1, None, "not in canonical form: the line was altered")]
    huge = verify([lines[0], b'{"seq":1e400}'])
    assert [(p.line, p.seq) for p in huge.problems][:1] == [(2, None)]


def test_problems_read_with_their_line_and_entry() -> None:
    assert str(Problem(3, 2, "x")) == "line 3 (entry 2): x"
    assert str(Problem(1, None, "y")) == "line 1: y"


def test_exercise_and_live_entries_never_mix() -> None:
    live = Entry(1, T0, None, "party.created", "pt_1", ("*",), {})
    drill = Entry(2, T0, None, "party.created", "pt_2", ("*",), {}, exercise=True)
    report = verify(lines_of(chain(live, drill)))
    assert found(report) == [(3, 2, "an exercise entry in a live ledger: exercise and live data are never mixed")]
    assert report.exercise == 1
    first = Entry(1, T0, None, "party.created", "pt_1", ("*",), {}, exercise=True)
    second = Entry(2, T0, None, "party.created", "pt_2", ("*",), {})
    assert found(verify(lines_of(chain(first, second)))) == [
        (3, 2, "a live entry in an exercise ledger: exercise and live data are never mixed")
    ]
    both = verify(lines_of(chain(first, Entry(2, T0, None, "x", "y", ("*",), {}, exercise=True))))
    assert both.ok and both.exercise == 2


# ------------------------------------------------------------------------------------ keys and receipts


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_added(seq: int, key: Ed25519PrivateKey, party: str = "pt_a") -> Entry:
    payload = {"party": party, "key_id": key_id_for(raw_public(key)), "public_key": b64url(raw_public(key))}
    return Entry(seq, T0, "pt_co", "party.key_added", party, (party,), payload)


def signed_entry(seq: int, key: Ed25519PrivateKey, actor: str = "pt_a", tamper: bool = False) -> Entry:
    body = {"name": "op"}
    h = sign_request(key, "POST", "/v1/operations", body, T0)
    evidence = {
        "algorithm": "Ed25519",
        "key_id": h["Deconfliction-Signature-Key-Id"],
        "timestamp": h["Deconfliction-Signature-Timestamp"],
        "signature": h["Deconfliction-Signature"],
        "request": {"method": "POST", "path": "/v1/operations", "body": {"name": "other"} if tamper else body},
    }
    return Entry(seq, T0, actor, "operation.created", "op_1", (actor,), {}, signed=evidence)


def test_party_signatures_are_checked_against_the_keys_announced() -> None:
    key = Ed25519PrivateKey.generate()
    kid = key_id_for(raw_public(key))
    good = verify(lines_of(chain(key_added(1, key), signed_entry(2, key))))
    assert good.ok and good.signatures_checked == 1
    unknown = verify(lines_of(chain(signed_entry(1, key))))
    assert unknown.ok and unknown.unchecked == [f"entry 1: party key {kid} is not in this export"]
    assert unknown.signatures_checked == 0
    other = verify(lines_of(chain(key_added(1, key), signed_entry(2, key, actor="pt_b"))))
    assert found(other) == [(3, 2, f"signed with key {kid} of pt_a, not of the actor pt_b")]
    tampered = verify(lines_of(chain(key_added(1, key), signed_entry(2, key, tamper=True))))
    assert found(tampered) == [(3, 2, f"the party's signature (key {kid}) does not verify")]
    revoked = Entry(2, T0, "pt_a", "party.key_revoked", "pt_a", ("pt_a",), {"key_id": kid})
    after = verify(lines_of(chain(key_added(1, key), revoked, signed_entry(3, key))))
    assert found(after) == [(4, 3, f"signed with key {kid}, revoked before this entry")]
    odd = Entry(1, T0, "pt_a", "operation.created", "op_1", ("pt_a",), {}, signed=None)
    assert verify(lines_of(chain(odd))).ok


def test_key_entries_without_a_valid_key() -> None:
    for kind in ("service.key", "party.key_added", "party.key_revoked"):
        bad = Entry(1, T0, None, kind, "x", ("*",), {"public_key": "AAAA"})
        assert found(verify(lines_of(chain(bad)))) == [(2, 1, f"a {kind} entry without a valid key")], kind
    content = Entry(1, T0, None, "service.key", "x", ("*",), {}).content()
    assert found(verify(forged([{**content, "payload": [1]}]))) == [(2, 1, "a service.key entry without a valid key")]
    plain_list = Entry(1, T0, None, "x", "y", ("*",), {}).content()
    assert verify(forged([{**plain_list, "payload": [1]}])).ok


def forged(contents: list[dict[str, Any]]) -> list[bytes]:
    """An export of entry contents as given (shapes an Entry cannot make), correctly hashed and chained."""
    out, previous = [], GENESIS
    for content in contents:
        digest = content_hash(content)
        previous = chain_hash(previous, digest)
        out.append({"seq": content["seq"], "content": content, "content_hash": digest, "hash": previous})
    top = header(after_seq=0, previous=GENESIS, until_seq=len(out), party=None, head_seq=len(out), head_hash=previous)
    return [export_line(top), *(export_line(o) for o in out)]


def test_a_signature_record_that_is_not_an_object() -> None:
    content = Entry(1, T0, "pt_a", "operation.created", "op_1", ("pt_a",), {}).content()
    assert found(verify(forged([{**content, "signed": "yes"}]))) == [(2, 1, "its signature record is not an object")]
    assert found(verify(forged([{**content, "signed": None}]))) == []


def test_receipts() -> None:
    signer = ServiceSigner(Ed25519PrivateKey.generate())
    announce = Entry(1, T0, None, "service.key", "service", ("*",), signer.announcement())
    sealed = chain(announce, Entry(2, T0, None, "x", "y", ("*",), {}))
    lines = lines_of(sealed)
    receipt = signer.receipt(2, sealed[1].hash, T0)
    report = verify(lines, receipts=[receipt, {"seq": 1, "hash": sealed[0].hash}])
    assert report.ok and report.receipts_signed == 1
    forged = {**receipt, "at": "2026-11-23T09:00:00.000000Z"}
    assert found(verify(lines, receipts=[forged])) == [(0, 2, "receipt 2: the service's signature does not verify")]
    other = ServiceSigner(Ed25519PrivateKey.generate())
    unknown = verify(lines, receipts=[other.receipt(2, sealed[1].hash, T0)])
    assert unknown.ok and unknown.unchecked == [f"receipt 2: service key {other.key_id} is not in this export"]
    missing = {"seq": "2", "hash": sealed[1].hash}
    assert found(verify(lines, receipts=[missing])) == [(0, None, f"receipt {missing} not in this chain")]


def test_an_entry_and_a_header_read_back_exactly() -> None:
    e = Entry(3, T0, "pt_a", "operation.created", "op_1", ("pt_a", "*"), {"n": 1}, signed={"key_id": "k"})
    assert e.content() == {
        "seq": 3,
        "at": "2026-11-23T08:00:00.000000Z",
        "actor": "pt_a",
        "type": "operation.created",
        "subject": "op_1",
        "audience": ["pt_a", "*"],
        "payload": {"n": 1},
        "signed": {"key_id": "k"},
    }
    assert "signed" not in Entry(1, T0, None, "x", "y", (), {}).content()
    assert Entry(1, T0, None, "x", "y", (), {}, exercise=True).content()["exercise"] is True
    assert "exercise" not in Entry(1, T0, None, "x", "y", (), {}).content()
    assert e.readable_by("pt_z") and Entry(1, T0, None, "x", "y", ("pt_a",), {}).readable_by("pt_a")
    assert not Entry(1, T0, None, "x", "y", ("pt_a",), {}).readable_by("pt_b")
    s = seal(e, GENESIS)
    assert s.line(redacted=True) == {"seq": 3, "redacted": True, "content_hash": s.content_hash, "hash": s.hash}
    assert s.line() == {"seq": 3, "content": e.content(), "content_hash": s.content_hash, "hash": s.hash}
    assert header(after_seq=2, previous="p", until_seq=9, party="pt_a", head_seq=12, head_hash="h") == {
        "format": "deconfliction-ledger/1",
        "after_seq": 2,
        "previous_hash": "p",
        "until_seq": 9,
        "party": "pt_a",
        "head": {"seq": 12, "hash": "h"},
    }


def wrong_head(lines: list[bytes], last: int) -> list[bytes]:
    """The export with a header announcing a head hash that is not its last one."""
    top = {**obj(lines[0]), "head": {"seq": last, "hash": "a" * 64}}
    return [export_line(top), *lines[1:]]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (b"{", None),
        (b"[1]", (3, None, "not a JSON object")),
        (b'{"x":1}', (3, None, "no entry number (seq)")),
    ],
)
def test_a_broken_line_stops_trusting_the_head(bad: bytes, expected: tuple[int, int | None, str] | None) -> None:
    """After a line that breaks the chain, the header's head is not compared (the chain cannot show it)."""
    lines = wrong_head(lines_of(plain(2)), 2)
    report = verify([lines[0], lines[1], bad, lines[2]])
    assert report.problems and report.problems[0].line == 3
    if expected is not None:
        assert found(report)[0] == expected
    assert all(p.line == 3 for p in report.problems), found(report)


def test_every_entry_problem_stops_trusting_the_head() -> None:
    lines = lines_of(plain(3), until=2)
    second = obj(lines[2])
    full = lines_of(plain(3))
    bad_hash = verify([full[0], full[1], export_line({**second, "hash": "x"}), full[3]])
    assert found(bad_hash) == [(3, 2, "content_hash or hash is not 64 hex digits")]  # entry 3 not blamed
    for changed in (
        {k: v for k, v in second.items() if k != "content"},
        {**second, "content": {**second["content"], "seq": 7}},
        {**second, "content": {**second["content"], "subject": "pt_9"}},
    ):
        report = verify(wrong_head([lines[0], lines[1], export_line(changed)], 2))
        assert [p.line for p in report.problems] == [3], found(report)
    # a missing entry: the lines after it are not also reported as broken links
    lines = lines_of(plain(3))
    assert found(verify(wrong_head([lines[0], lines[1], lines[3]], 3))) == [
        (3, 3, "entry 2 expected here: missing or reordered")
    ]


def test_an_altered_line_stops_trusting_the_head() -> None:
    lines = lines_of(plain(2))
    spaced = lines[2].decode().replace(",", ", ", 1)
    report = verify(wrong_head([lines[0], lines[1], spaced], 2))
    assert found(report) == [(3, 2, "not in canonical form: the line was altered")]
    odd = verify([lines[0], lines[1], b'{"seq": "2"}'])
    assert found(odd)[0] == (3, None, "not in canonical form: the line was altered")


def test_headers_with_members_left_out() -> None:
    sealed = plain(2)
    top = obj(lines_of(sealed)[0])
    del top["after_seq"]
    assert verify([export_line(top), *lines_of(sealed)[1:]]).ok  # entries from 1
    odd = {**obj(lines_of(sealed)[0]), "head": "somewhere"}
    assert verify([export_line(odd), *lines_of(sealed)[1:]]).ok
    later = header(after_seq=5, previous=GENESIS, until_seq=5, party=None, head_seq=5, head_hash=GENESIS)
    assert verify([export_line(later)]).ok  # nothing after entry 5, as announced


def test_trailing_blanks_are_part_of_the_line() -> None:
    lines = lines_of(plain(1))
    for last in (lines[1] + b" ", lines[1].decode() + " ", lines[1] + b"\t\n"):
        assert found(verify([lines[0], last])) == [(2, 1, "not in canonical form: the line was altered")]


def test_receipts_each_checked() -> None:
    signer = ServiceSigner(Ed25519PrivateKey.generate())
    announce = Entry(1, T0, None, "service.key", "service", ("*",), signer.announcement())
    sealed = chain(announce, Entry(2, T0, None, "x", "y", ("*",), {}))
    lines = lines_of(sealed)
    good = [signer.receipt(1, sealed[0].hash, T0), signer.receipt(2, sealed[1].hash, T0)]
    wrong = {"seq": 1, "hash": "f" * 64}
    report = verify(lines, receipts=[wrong, *good, {"seq": 2, "hash": sealed[1].hash}])
    assert found(report) == [(0, 1, f"receipt {wrong} not in this chain")]
    assert report.receipts_signed == 2 and report.unchecked == []


def test_every_signature_is_counted() -> None:
    key = Ed25519PrivateKey.generate()
    report = verify(lines_of(chain(key_added(1, key), signed_entry(2, key), signed_entry(3, key))))
    assert report.ok and report.signatures_checked == 2


def test_a_signature_problem_stops_trusting_the_head() -> None:
    """An entry whose content hashes and chains correctly but whose signature does not verify: the chain
    cannot vouch for what follows, so the header's head is not compared (its problem is the only one)."""
    key = Ed25519PrivateKey.generate()
    kid = key_id_for(raw_public(key))
    lines = lines_of(chain(key_added(1, key), signed_entry(2, key, tamper=True)))
    assert found(verify(wrong_head(lines, 2))) == [(3, 2, f"the party's signature (key {kid}) does not verify")]
    # with the same head and a good signature, the head is compared
    good = lines_of(chain(key_added(1, key), signed_entry(2, key)))
    assert found(verify(wrong_head(good, 2))) == [(0, 2, "the last hash is not the head the header announces")]


def test_an_empty_export_after_entry_minus_one_is_whole() -> None:
    """A header announcing the entries after -1 up to 0 with none listed: entries start at 1, so nothing
    is missing (the export ends at entry 0); announcing up to -1 is a truncation to name."""
    for until, problems in ((0, []), (-1, [(0, None, "the export ends at entry 0, not -1: truncated")])):
        top = header(after_seq=-1, previous=GENESIS, until_seq=until, party=None, head_seq=0, head_hash=GENESIS)
        assert found(verify([export_line(top)])) == problems


def test_an_unsigned_receipt_does_not_end_the_check_of_the_next() -> None:
    signer = ServiceSigner(Ed25519PrivateKey.generate())
    announce = Entry(1, T0, None, "service.key", "service", ("*",), signer.announcement())
    sealed = chain(announce, Entry(2, T0, None, "x", "y", ("*",), {}))
    lines = lines_of(sealed)
    unsigned = {"seq": 1, "hash": sealed[0].hash}
    forged = {**signer.receipt(2, sealed[1].hash, T0), "at": "2026-11-23T09:00:00.000000Z"}
    report = verify(lines, receipts=[unsigned, signer.receipt(1, sealed[0].hash, T0), forged])
    assert found(report) == [(0, 2, "receipt 2: the service's signature does not verify")]
    assert report.receipts_signed == 1
