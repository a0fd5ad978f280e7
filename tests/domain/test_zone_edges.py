"""Zone rules at their edges (domain/zone.py): the exact refusals (fields, codes, messages, extras), what a
revision carries over and what it validates again, and the small views of a zone (pending, answers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deconfliction.domain.footprint import parse_footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.volume import TimeWindow
from deconfliction.domain.zone import (
    Zone,
    ZoneAnswer,
    ZoneChange,
    ZoneState,
    answer_zone,
    propose_zone,
    revise_zone,
    withdraw_zone,
)
from deconfliction.errors import Forbidden, InvalidInput, InvalidTransition

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
L = Limits()
VALIDITY = TimeWindow(T0, T0 + timedelta(days=90))
AREA = parse_footprint(
    {"type": "Polygon", "coordinates": [[[30, 10], [30.1, 10], [30.1, 10.1], [30, 10.1], [30, 10]]]}, L
)
OTHER = parse_footprint(
    {"type": "Polygon", "coordinates": [[[31, 10], [31.1, 10], [31.1, 10.1], [31, 10.1], [31, 10]]]}, L
)


def propose(**kw: Any) -> Zone:
    args: dict[str, Any] = {
        "zone_id": "z1",
        "owner_id": "alpha",
        "counterparties": ["charlie", "bravo"],
        "footprint": AREA,
        "validity": VALIDITY,
        "now": T0,
        "name": "river north",
    }
    return propose_zone(**(args | kw))


def test_a_proposal() -> None:
    z = propose()
    assert (z.id, z.version, z.owner_id, z.counterparties, z.name) == (
        "z1", 1, "alpha", ("bravo", "charlie"), "river north"
    )  # fmt: skip
    assert (z.state, z.answers, z.revision, z.created_at, z.updated_at) == (ZoneState.PROPOSED, (), 1, T0, T0)
    assert z.pending == ("bravo", "charlie")
    assert z.answer_of("bravo") is None and not z.is_agreed
    assert propose_zone(
        zone_id="z", owner_id="a", counterparties=["b"], footprint=AREA, validity=VALIDITY, now=T0
    ).name == ""  # fmt: skip


def problems(**kw: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidInput) as e:
        propose(**kw)
    return [(f.field, f.code, f.message) for f in e.value.errors]


def test_each_refusal_of_a_proposal() -> None:
    need = ("counterparties", "required", "a zone is proposed to at least one counter-party")
    assert problems(counterparties=[]) == [need]
    assert problems(counterparties="bravo") == [need]
    assert problems(counterparties=["bravo", 5, "alpha", "bravo", ""]) == [
        ("counterparties[1]", "invalid", "a counter-party is a party id"),
        ("counterparties[2]", "owner_as_counterparty", "the owner cannot be a counter-party"),
        ("counterparties[3]", "duplicate", "counter-party bravo is listed twice"),
        ("counterparties[4]", "invalid", "a counter-party is a party id"),
    ]
    circle = parse_footprint({"type": "Point", "coordinates": [30, 10]}, L, radius_m=500)
    assert problems(footprint=circle) == [
        ("footprint.type", "not_a_polygon", "a zone's footprint is a Polygon or MultiPolygon (an area)")
    ]
    assert problems(validity=TimeWindow(T0, T0)) == [
        ("validity.end", "window_empty", "end 2026-11-23T08:00:00Z must be after start 2026-11-23T08:00:00Z")
    ]
    assert propose(validity=TimeWindow(T0, T0 + timedelta(microseconds=1))).validity.end > T0


def test_answers_one_by_one() -> None:
    z = propose()
    first = answer_zone(z, party_id="charlie", answer=ZoneAnswer.ACCEPTED, now=T0 + timedelta(hours=1)).zone
    assert (first.state, first.answers, first.revision, first.updated_at) == (
        ZoneState.PROPOSED, (("charlie", ZoneAnswer.ACCEPTED),), 2, T0 + timedelta(hours=1)
    )  # fmt: skip
    assert first.pending == ("bravo",) and first.answer_of("charlie") is ZoneAnswer.ACCEPTED
    change = answer_zone(first, party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0 + timedelta(hours=2))
    assert change.zone.state is ZoneState.AGREED and change.zone.pending == ()
    assert change.zone.answers == (("bravo", ZoneAnswer.ACCEPTED), ("charlie", ZoneAnswer.ACCEPTED))
    assert change.changed == (change.zone,) and change.superseded is None


def test_a_new_agreed_version_supersedes_the_one_in_force() -> None:
    v1 = answer_zone(propose(counterparties=["bravo"]), party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0).zone
    v2 = revise_zone(v1, party_id="alpha", now=T0 + timedelta(days=1))
    later = T0 + timedelta(days=2)
    change = answer_zone(v2, party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=later, current_agreed=v1)
    assert change.superseded is not None
    assert (change.superseded.state, change.superseded.revision, change.superseded.updated_at) == (
        ZoneState.SUPERSEDED, v1.revision + 1, later
    )  # fmt: skip
    assert change.changed == (change.zone, change.superseded)
    assert ZoneChange(v2, v1).changed == (v2, v1)
    with pytest.raises(ValueError, match=r"^current_agreed must be an older version of zone z1; got z1 version 2$"):
        answer_zone(v2, party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=later, current_agreed=v2)
    # a rejection supersedes nothing, whatever is in force
    rejected = answer_zone(v2, party_id="bravo", answer=ZoneAnswer.REJECTED, now=later, current_agreed=v1)
    assert rejected.superseded is None and rejected.zone.state is ZoneState.REJECTED


def test_refusals_of_an_answer() -> None:
    z = propose()
    with pytest.raises(Forbidden) as f:
        answer_zone(z, party_id="delta", answer=ZoneAnswer.ACCEPTED, now=T0)
    assert f.value.message == "party delta is not a counter-party of zone z1; only bravo, charlie answer it"
    assert f.value.extra == {"party": "delta", "action": "answer"}
    once = answer_zone(z, party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0).zone
    with pytest.raises(InvalidTransition) as t:
        answer_zone(once, party_id="bravo", answer=ZoneAnswer.REJECTED, now=T0)
    assert t.value.message == (
        "zone z1 version 1 is proposed: it cannot answer (bravo already answered accepted; an answer is final)"
    )
    assert t.value.extra == {"state": "proposed", "action": "answer"}
    gone = withdraw_zone(z, party_id="alpha", now=T0)
    with pytest.raises(InvalidTransition) as t:
        answer_zone(gone, party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0)
    assert t.value.message == "zone z1 version 1 is withdrawn: it cannot answer (allowed: revise)"
    assert t.value.extra == {"state": "withdrawn", "action": "answer"}


def test_refusals_name_the_allowed_actions() -> None:
    z = propose()
    with pytest.raises(InvalidTransition) as t:
        revise_zone(z, party_id="alpha", now=T0)
    assert t.value.message == "zone z1 version 1 is proposed: it cannot revise (allowed: answer, withdraw)"
    v1 = answer_zone(propose(counterparties=["bravo"]), party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0).zone
    v2 = answer_zone(
        revise_zone(v1, party_id="alpha", now=T0),
        party_id="bravo",
        answer=ZoneAnswer.ACCEPTED,
        now=T0,
        current_agreed=v1,
    )
    old = v2.superseded
    assert old is not None
    with pytest.raises(InvalidTransition) as t:
        withdraw_zone(old, party_id="alpha", now=T0)
    assert t.value.message == "zone z1 version 1 is superseded: it cannot withdraw (allowed: none)"


def test_owner_only_refusals() -> None:
    v1 = answer_zone(propose(counterparties=["bravo"]), party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0).zone
    for act, fn in (("revise", lambda: revise_zone(v1, party_id="bravo", now=T0)),
                    ("withdraw", lambda: withdraw_zone(v1, party_id="bravo", now=T0))):  # fmt: skip
        with pytest.raises(Forbidden) as f:
            fn()
        assert f.value.message == f"party bravo cannot {act} zone z1: only its owner alpha can"
        assert f.value.extra == {"party": "bravo", "action": act}


def test_a_revision_carries_over_what_is_not_given() -> None:
    v1 = answer_zone(propose(counterparties=["bravo"]), party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0).zone
    later = T0 + timedelta(days=3)
    same = revise_zone(v1, party_id="alpha", now=later)
    assert (same.id, same.version, same.owner_id, same.counterparties, same.name) == (
        "z1", 2, "alpha", ("bravo",), "river north"
    )  # fmt: skip
    assert (same.footprint, same.validity, same.state, same.answers, same.revision) == (
        AREA, VALIDITY, ZoneState.PROPOSED, (), 1
    )  # fmt: skip
    assert (same.created_at, same.updated_at) == (later, later)
    new_validity = TimeWindow(T0, T0 + timedelta(days=10))
    changed = revise_zone(
        v1,
        party_id="alpha",
        now=later,
        footprint=OTHER,
        validity=new_validity,
        counterparties=["delta", "bravo"],
        name="",
    )
    assert (changed.footprint, changed.validity, changed.counterparties, changed.name) == (
        OTHER, new_validity, ("bravo", "delta"), ""
    )  # fmt: skip
    circle = parse_footprint({"type": "Point", "coordinates": [30, 10]}, L, radius_m=500)
    for bad, field in (
        ({"counterparties": ["alpha"]}, "counterparties[0]"),
        ({"validity": TimeWindow(T0, T0)}, "validity.end"),
        ({"footprint": circle}, "footprint.type"),
    ):
        with pytest.raises(InvalidInput) as e:
            revise_zone(v1, party_id="alpha", now=later, **bad)  # type: ignore[arg-type]
        assert e.value.errors[0].field == field


def test_withdrawal() -> None:
    z = propose()
    later = T0 + timedelta(hours=5)
    w = withdraw_zone(z, party_id="alpha", now=later)
    assert (w.state, w.revision, w.updated_at, w.created_at) == (ZoneState.WITHDRAWN, 2, later, T0)
    assert not w.in_force(VALIDITY)
