"""Requests between parties (domain/request.py): who may answer, comment and withdraw, only while open,
and the record both sides read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deconfliction.domain.request import Request, RequestKind, RequestState, answer, comment, withdraw
from deconfliction.domain.volume import TimeWindow
from deconfliction.errors import Forbidden, InvalidTransition

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def req(**kw: object) -> Request:
    base: dict[str, object] = {
        "id": "rq_1",
        "kind": RequestKind.ENTER_ZONE,
        "requester_id": "pt_a",
        "owner_id": "pt_b",
        "subject_id": "zn_1",
        "text": "convoy through your zone",
        "window": None,
        "created_at": NOW,
    }
    base.update(kw)
    return Request(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "about"),
    [
        (RequestKind.ENTER_ZONE, "zone"),
        (RequestKind.CROSS_LINE, "line"),
        (RequestKind.PASS_SITE, "site"),
        (RequestKind.OTHER, "conflict"),
    ],
)
def test_the_record_names_what_the_request_is_about(kind: RequestKind, about: str) -> None:
    assert req(kind=kind).record()["about"] == {"type": about, "id": "zn_1"}


def test_the_record_of_an_open_request() -> None:
    window = TimeWindow(NOW, NOW + timedelta(hours=2))
    assert req(kind=RequestKind.CROSS_LINE, window=window).record() == {
        "id": "rq_1",
        "kind": "cross_line",
        "about": {"type": "line", "id": "zn_1"},
        "requester": "pt_a",
        "owner": "pt_b",
        "text": "convoy through your zone",
        "window": {"start": "2026-11-23T08:00:00Z", "end": "2026-11-23T10:00:00Z"},
        "state": "open",
        "comments": [],
        "answer": None,
        "answered_at": None,
        "created_at": "2026-11-23T08:00:00Z",
    }


def test_the_party_asked_approves_or_denies_once() -> None:
    approved = answer(req(), by="pt_b", approve=True, text="go", now=LATER)
    assert (approved.state, approved.answer, approved.answered_at) == (RequestState.APPROVED, "go", LATER)
    rec = approved.record()
    assert (rec["state"], rec["answer"], rec["answered_at"]) == ("approved", "go", "2026-11-23T08:05:00Z")
    denied = answer(req(), by="pt_b", approve=False, text=None, now=LATER)
    assert (denied.state, denied.answer) == (RequestState.DENIED, None)
    with pytest.raises(InvalidTransition, match="rq_1 is approved: it cannot be answered") as e:
        answer(approved, by="pt_b", approve=False, text=None, now=LATER)
    assert e.value.extra == {"state": "approved"}


def test_only_the_party_asked_answers() -> None:
    for who in ("pt_a", "pt_c"):
        with pytest.raises(Forbidden, match=r"^only the party asked answers a request$"):
            answer(req(), by=who, approve=True, text=None, now=LATER)


def test_both_sides_and_only_they_comment_while_it_is_open() -> None:
    r = comment(req(), by="pt_a", text="any news?", now=LATER)
    r = comment(r, by="pt_b", text="checking", now=LATER + timedelta(seconds=1))
    assert r.record()["comments"] == [
        {"by": "pt_a", "text": "any news?", "at": "2026-11-23T08:05:00Z"},
        {"by": "pt_b", "text": "checking", "at": "2026-11-23T08:05:01Z"},
    ]
    assert r.state is RequestState.OPEN
    with pytest.raises(Forbidden, match=r"^only the two sides of a request comment on it$"):
        comment(req(), by="pt_c", text="me too", now=LATER)
    closed = answer(req(), by="pt_b", approve=False, text=None, now=LATER)
    with pytest.raises(InvalidTransition, match="is denied: it cannot be commented on"):
        comment(closed, by="pt_a", text="why?", now=LATER)


def test_only_the_requester_withdraws_an_open_request() -> None:
    w = withdraw(req(), by="pt_a", now=LATER)
    assert (w.state, w.answered_at, w.answer) == (RequestState.WITHDRAWN, LATER, None)
    with pytest.raises(Forbidden, match=r"^only the requester withdraws a request$"):
        withdraw(req(), by="pt_b", now=LATER)
    with pytest.raises(InvalidTransition, match="is withdrawn: it cannot be withdrawn"):
        withdraw(w, by="pt_a", now=LATER)
