"""Exercise entries in the hash chain: the mark is sealed with the content (changing it breaks the
chain), live entries hash as before, and a ledger that mixes exercise and live entries does not verify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from deconfliction.domain.ledger import GENESIS, Entry, Sealed, export_line, header, seal, verify

T0 = datetime(2016, 9, 17, 14, 0, tzinfo=UTC)


def chain(marks: list[bool]) -> list[Sealed]:
    out, previous = [], GENESIS
    for seq, mark in enumerate(marks, start=1):
        entry = Entry(seq, T0 + timedelta(seconds=seq), "pt_a", "party.created", "pt_a", ("*",), {"n": seq}, None, mark)
        sealed = seal(entry, previous)
        out.append(sealed)
        previous = sealed.hash
    return out


def lines(sealed: list[Sealed]) -> list[bytes]:
    head = sealed[-1]
    first = header(
        after_seq=0,
        previous=GENESIS,
        until_seq=head.entry.seq,
        party=None,
        head_seq=head.entry.seq,
        head_hash=head.hash,
    )
    return [export_line(first)] + [export_line(s.line()) for s in sealed]


def test_the_mark_is_part_of_the_sealed_content() -> None:
    live, marked = chain([False])[0], chain([True])[0]
    assert "exercise" not in live.entry.content() and marked.entry.content()["exercise"] is True
    assert live.content_hash != marked.content_hash
    report = verify(lines(chain([True, True, True])))
    assert report.ok and report.exercise == 3
    # taking the mark off an exercise entry (to pass it for live data) breaks the chain at that line
    text = lines(chain([True, True]))
    obj = orjson.loads(text[1])
    del obj["content"]["exercise"]
    text[1] = export_line(obj)
    report = verify(text)
    assert not report.ok and report.problems[0].line == 2 and "content_hash" in report.problems[0].what


def test_a_ledger_that_mixes_exercise_and_live_entries_does_not_verify() -> None:
    report = verify(lines(chain([False, False, True])))
    assert not report.ok
    assert [(p.seq, p.what.split(":")[0]) for p in report.problems] == [(3, "an exercise entry in a live ledger")]
    report = verify(lines(chain([True, False])))
    assert [(p.seq, p.what.split(":")[0]) for p in report.problems] == [(2, "a live entry in an exercise ledger")]
    assert verify(lines(chain([False, False]))).ok
