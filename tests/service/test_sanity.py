"""Time and place sanity, on SQLite and PostgreSQL: past windows refused unless historical; historical
records recorded but never chased; conflicts whose window ended closed as expired (ledger, notification,
chase stopped, out of the default list); warnings for swapped coordinates and feet given as metres."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from deconfliction.domain.conflict import ConflictState
from deconfliction.domain.incident import IncidentDraft
from deconfliction.domain.limits import Limits
from deconfliction.domain.notification import NotificationState
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Party
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.sanity import WindowInPast
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.errors import InvalidInput, InvalidTransition
from deconfliction.service import movements, sites
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service.conflicts import get_conflict, list_conflicts
from deconfliction.service.incidents import inquire, report_incident
from deconfliction.service.runtime import Runtime
from deconfliction.service.sanity import expire_conflicts
from deconfliction.wire import to_record
from tests.conftest import T0, FakeClock, square
from tests.service.test_sites import HOSPITAL, site_draft
from tests.shapes import parse_shape

L = Limits()


def vol(lon: float, lat: float, start: datetime = T0, hours: float = 2, lo: float = 0, hi: float = 3000) -> Volume4D:
    return Volume4D.create(
        parse_shape(square(lon, lat), L), AltitudeBand(lo, hi), TimeWindow(start, start + timedelta(hours=hours))
    )


def op(*volumes: Volume4D, kind: OperationKind = OperationKind.AIR, historical: bool = False) -> ops.OperationDraft:
    return ops.OperationDraft(kind, volumes, historical=historical)


def who(parties: dict[str, tuple[Party, str]]) -> dict[str, Party]:
    return {n: p for n, (p, _) in parties.items()}


def entries(rt: Runtime, subject: str) -> list[Any]:
    with rt.store.read() as tx:
        return [e for e in tx.events.after(0, 100_000) if e.subject_id == subject]


# --------------------------------------------------------------------------------------- window_in_past


def test_a_declaration_whose_window_has_wholly_passed_is_refused_naming_each_end(rt, parties, clock):
    alpha = who(parties)["alpha"]
    clock.now = T0 + timedelta(days=1)
    past = [vol(40, 35), vol(40.2, 35, start=T0 - timedelta(days=3))]
    with pytest.raises(WindowInPast) as e:
        ops.submit_operation(rt, alpha, op(*past))
    assert e.value.code == "window_in_past" and e.value.status == 422
    assert [(f.field, f.code) for f in e.value.errors] == [
        ("volumes[0].window.end", "window_in_past"),
        ("volumes[1].window.end", "window_in_past"),
    ]
    assert ops.list_operations(rt, alpha) == []  # nothing stored
    # ending exactly now has passed ([start, end) is half-open); one volume still to come is accepted
    with pytest.raises(WindowInPast):
        ops.submit_operation(rt, alpha, op(vol(40, 35, start=clock.now - timedelta(hours=2))))
    ok = ops.submit_operation(rt, alpha, op(*past, vol(40, 35, start=clock.now - timedelta(hours=1))))
    assert ok.operation.version == 1
    # a revision into the past is refused too, and changes nothing
    with pytest.raises(WindowInPast) as e:
        ops.revise_operation(rt, alpha, ok.operation.id, op(*past), expected_version=1)
    assert e.value.errors[1].field == "volumes[1].window.end"
    assert ops.get_operation(rt, alpha, ok.operation.id).version == 1


def test_a_movement_whose_arrival_has_passed_is_refused(rt, parties, clock):
    alpha = who(parties)["alpha"]
    clock.now = T0 + timedelta(days=1)
    route = {"type": "LineString", "coordinates": [[40.0, 35.0], [40.1, 35.0]]}
    body = {
        "route": route,
        "departure": "2026-11-23T08:00:00Z",
        "speed_m_s": 10,
        "half_width_m": 50,
        "altitude": {"lower_m": 0, "upper_m": 10},
    }
    with pytest.raises(WindowInPast) as e:
        movements.submit_movement(rt, alpha, OperationKind.GROUND, body)
    assert [f.field for f in e.value.errors] == ["movement.departure"]
    times = {**{k: v for k, v in body.items() if k not in ("departure", "speed_m_s")}}
    times["waypoint_times"] = ["2026-11-23T08:00:00Z", "2026-11-23T09:00:00Z"]
    with pytest.raises(WindowInPast) as e:
        movements.submit_movement(rt, alpha, OperationKind.GROUND, times)
    assert [f.field for f in e.value.errors] == ["movement.waypoint_times[1]"]
    kept = movements.submit_movement(rt, alpha, OperationKind.GROUND, times, historical=True)
    assert kept.result.operation.historical


def test_a_site_and_a_zone_whose_validity_has_passed_are_refused(rt, parties, clock):
    from deconfliction.service import zones

    p = who(parties)
    clock.now = T0 + timedelta(days=40)
    with pytest.raises(WindowInPast) as e:
        sites.create_site(rt, p["alpha"], site_draft(days=30))
    assert [(f.field, f.code) for f in e.value.errors] == [("valid_until", "window_in_past")]
    draft = zones.ZoneDraft(
        "East bank",
        [p["bravo"].id],
        parse_shape(square(40, 35), L),
        TimeWindow(T0, T0 + timedelta(days=3)),
    )
    with pytest.raises(WindowInPast) as e:
        zones.propose(rt, p["alpha"], draft)
    assert [(f.field, f.code) for f in e.value.errors] == [("validity.end", "window_in_past")]


# ------------------------------------------------------------------------------------------ historical


def test_a_historical_record_is_stored_its_conflicts_recorded_never_chased(rt, parties, clock):
    p = who(parties)
    clock.now = T0 - timedelta(hours=1)
    live = ops.submit_operation(rt, p["bravo"], op(vol(40.05, 35.05, start=T0 - timedelta(days=2), hours=72)))
    site = sites.create_site(rt, p["bravo"], site_draft(pos=(40.02, 35.02)))
    clock.now = T0 + timedelta(days=2)  # the strike at T0 is two days old: filed for the inquiry
    record = ops.submit_operation(rt, p["alpha"], op(vol(40, 35), historical=True))
    assert record.operation.historical and record.operation.state is OperationState.DRAFT
    assert record.conflicts == []  # nothing open: nothing to prove knowledge of, nothing in the inbox
    found = [to_record(c) for c in list_conflicts(rt, p["cell"], state=ConflictState.EXPIRED)]
    assert sorted(c["kind"] for c in found) == ["operation", "protected_site"]
    assert all(c["historical"] is True and c["state"] == "expired" for c in found)
    assert list_conflicts(rt, p["alpha"]) == []  # not in the active list
    # both sides told, without a deadline: never overdue, never escalated
    for party in (p["alpha"], p["bravo"]):
        told = [n for n in notes.list_notifications(rt, party) if n.kind.startswith("conflict.")]
        assert told and all(n.deadline is None and n.body.get("historical") is True for n in told)
        assert all(n.body["state"] == "expired" for n in told)
    clock.advance(hours=2)
    assert notes.run_escalations(rt) == 0
    assert notes.overdue(rt, p["cell"]) == []
    # marked in its ledger entries and views
    (created,) = entries(rt, record.operation.id)
    assert created.type == "operation.created" and created.payload["historical"] is True
    for c in found:
        assert all(e.payload["historical"] is True for e in entries(rt, c["id"]))
    assert to_record(get_conflict(rt, p["bravo"], found[0]["id"]))["historical"] is True
    # the live operation and the site are not marked
    assert "historical" not in entries(rt, live.operation.id)[0].payload
    assert site.site.id
    # it is never planned or activated; filing it as planned is refused
    with pytest.raises(InvalidTransition):
        ops.change_state(rt, p["alpha"], record.operation.id, OperationState.PLANNED, expected_version=1)
    with pytest.raises(InvalidInput) as e:
        ops.submit_operation(rt, p["alpha"], op(vol(40, 35), historical=True), state=OperationState.PLANNED)
    assert e.value.errors[0].field == "state"
    # it may be revised in the past, and cancelled
    again = ops.revise_operation(rt, p["alpha"], record.operation.id, op(vol(40.01, 35)), expected_version=1)
    assert again.operation.historical and again.operation.version == 2
    # an inquiry into the strike links the record filed afterwards, and its conflicts, marked historical
    incident, _ = report_incident(
        rt, p["bravo"], IncidentDraft(40.05, 35.05, T0 + timedelta(minutes=30), "a strike on the market")
    )
    inquiry = inquire(rt, None, incident.id)
    linked = {o["id"]: o for o in inquiry.operations}
    assert linked[record.operation.id]["historical"] is True and live.operation.id in linked
    assert {c["id"] for c in found} <= {c["id"] for c in inquiry.conflicts}
    assert {c["id"] for c in found} <= {t.subject for t in inquiry.timeline}
    ops.change_state(rt, p["alpha"], record.operation.id, OperationState.CANCELLED, expected_version=2)
    assert expire_conflicts(rt) == 0  # expired already: nothing to expire


# -------------------------------------------------------------------------------------------- expiry


@pytest.fixture
def crossing(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> dict[str, Any]:
    p = who(parties)
    a = ops.submit_operation(rt, p["alpha"], op(vol(40, 35)))
    b = ops.submit_operation(rt, p["bravo"], op(vol(40.05, 35.05)))
    site = sites.create_site(rt, p["alpha"], site_draft(pos=(40.07, 35.07)))
    return {**p, "a": a.operation, "b": b.operation, "site": site.site}


def test_a_conflict_whose_window_ended_is_expired_told_and_no_longer_chased(rt, crossing, clock: FakeClock):
    p = crossing
    opened = [to_record(c) for c in list_conflicts(rt, p["cell"])]
    assert sorted(c["kind"] for c in opened) == ["operation", "protected_site"]
    assert all(c["state"] == "open" for c in opened)
    assert expire_conflicts(rt) == 0  # nothing ended yet
    # alpha lets its first notification run out: escalated past its (empty) ladder to the coordinator
    clock.advance(minutes=20)
    assert notes.run_escalations(rt) >= 1
    assert notes.overdue(rt, p["cell"])
    assert notes.list_notifications(rt, p["cell"])  # the coordinator's escalation copies
    clock.now = T0 + timedelta(hours=2)  # the windows end (half-open: at their end)
    assert expire_conflicts(rt) == 2
    assert expire_conflicts(rt) == 0  # once
    for c in opened:
        now = to_record(get_conflict(rt, p["cell"], c["id"]))
        assert (now["state"], now["version"]) == ("expired", c["version"] + 1)
        expired = [e for e in entries(rt, c["id"]) if e.type == "conflict.expired"]
        sides = {s["party"] for s in now["sides"]}
        assert sorted(e.audience[0] for e in expired) == sorted(sides)
        assert all(e.payload["state"] == "expired" and e.actor_id is None for e in expired)
    # every side told, for information; what was pending is no longer chased
    for name in ("alpha", "bravo"):
        mine = notes.list_notifications(rt, p[name])
        told = [n for n in mine if n.kind == "conflict.expired"]
        assert told and all(n.deadline is None for n in told)
        assert all(n.deadline is None for n in mine if n.state is NotificationState.PENDING)
    assert notes.overdue(rt, p["cell"]) == []
    clock.advance(hours=1)
    assert notes.run_escalations(rt) == 0
    # out of the active list, readable with the filter; the coordinator reads the entries of both sides
    assert list_conflicts(rt, p["alpha"]) == []
    assert len(list_conflicts(rt, p["alpha"], state=ConflictState.EXPIRED)) == 2
    assert len(list_conflicts(rt, p["bravo"], state=ConflictState.EXPIRED)) == 2


def test_an_expired_conflict_reopens_only_when_a_revision_conflicts_again_ahead(rt, parties, clock):
    p = who(parties)
    ahead = T0 + timedelta(days=1)
    a = ops.submit_operation(rt, p["alpha"], op(vol(40, 35), vol(41, 36, start=ahead)))
    b = ops.submit_operation(rt, p["bravo"], op(vol(40.05, 35.05), vol(43, 38, start=ahead)))
    (c,) = b.conflicts
    clock.now = T0 + timedelta(hours=3)
    assert expire_conflicts(rt) == 1
    # a revision that conflicts only in the past leaves it expired (no new version, nobody told again)
    before = len(notes.list_notifications(rt, p["alpha"]))
    same = ops.revise_operation(
        rt, p["bravo"], b.operation.id, op(vol(40.05, 35.05), vol(43.5, 38, start=ahead)), expected_version=1
    )
    assert same.conflicts == [] and same.changed == []
    now = get_conflict(rt, p["bravo"], c.id)
    assert (now.state, now.version) == ("expired", c.version + 1)
    assert len(notes.list_notifications(rt, p["alpha"])) == before
    # one that conflicts again in a window still to come reopens it, chased as usual
    again = ops.revise_operation(
        rt, p["bravo"], b.operation.id, op(vol(40.05, 35.05), vol(41.05, 36.05, start=ahead)), expected_version=2
    )
    (reopened,) = again.conflicts
    assert reopened.id == c.id and reopened.state is ConflictState.OPEN and reopened.version == c.version + 2
    told = [n for n in notes.list_notifications(rt, p["alpha"]) if n.kind == "conflict.updated"]
    assert told and told[-1].deadline is not None
    assert a.operation.id in (reopened.operation_a, reopened.operation_b)


# -------------------------------------------------------------------------------------------- warnings


def test_swapped_coordinates_and_feet_are_warned_and_stored(rt, parties, clock):
    p = who(parties)
    first = ops.submit_operation(rt, p["alpha"], op(vol(40, 35)))
    assert first.warnings == []  # nothing declared before: nothing to compare with
    swapped = ops.submit_operation(rt, p["alpha"], op(vol(35, 40), vol(40.1, 35.1, hi=35000)))
    assert [(w.field, w.code) for w in swapped.warnings] == [
        ("volumes[0].footprint", "coordinates_look_swapped"),
        ("volumes[1].altitude", "altitude_looks_like_feet"),
    ]
    assert swapped.operation.version == 1  # stored as sent
    # the same footprint is fine for a party that works there; a ground band of 35000 is not flagged
    assert ops.submit_operation(rt, p["bravo"], op(vol(35, 40))).warnings == []
    ground = ops.submit_operation(rt, p["alpha"], op(vol(40, 35, hi=35000), kind=OperationKind.GROUND))
    assert ground.warnings == []
    # a revision is compared with everything else the party declared, not with itself
    fixed = ops.revise_operation(rt, p["alpha"], swapped.operation.id, op(vol(40, 35)), expected_version=1)
    assert fixed.warnings == []
    # a site typed latitude first
    site = sites.create_site(rt, p["alpha"], site_draft(pos=(HOSPITAL[1], HOSPITAL[0])))
    assert [(w.field, w.code) for w in site.warnings] == [("footprint", "coordinates_look_swapped")]
    assert sites.create_site(rt, p["alpha"], site_draft()).warnings == []
    # a movement: once per code, on its own fields (declared by the coordinator, who works at 40 E 35 N)
    ops.submit_operation(rt, p["cell"], op(vol(40, 35)))
    route = {"type": "LineString", "coordinates": [[35.0, 40.0], [35.1, 40.0]]}
    body = {
        "route": route,
        "departure": "2026-11-23T08:00:00Z",
        "speed_m_s": 100,
        "half_width_m": 50,
        "altitude": {"lower_m": 30000, "upper_m": 35000},
    }
    moved = movements.submit_movement(rt, p["cell"], OperationKind.AIR, body)
    assert [(w.field, w.code) for w in moved.warnings] == [
        ("movement.route", "coordinates_look_swapped"),
        ("movement.altitude", "altitude_looks_like_feet"),
    ]


def test_an_override_told_to_the_coordinators_stops_being_chased_when_the_conflict_expires(rt, parties, clock):
    """The urgent ``conflict.overridden`` of a coordinator (not a side of the conflict) is chased like the
    sides' notifications, and stops with them when the conflict's window ends."""
    from deconfliction.domain.acknowledgement import Override
    from tests.service.test_acknowledgement_gate import activate, over_the_hospital, plan

    _agency, force, op, c = over_the_hospital(rt, parties)
    cell = parties["cell"][0]
    done = activate(rt, force, plan(rt, force, op, c), c, overrides=[Override(c.id, "casualty evacuation")])
    (told,) = [n for n in notes.list_notifications(rt, cell) if n.kind == "conflict.overridden"]
    assert told.deadline is not None
    clock.now = done.operation.window.end
    assert expire_conflicts(rt) == 1
    after = notes.get_notification(rt, cell, told.id)
    assert after.state is NotificationState.PENDING and after.deadline is None  # can still be acknowledged
    clock.advance(hours=1)
    notes.run_escalations(rt)
    assert notes.overdue(rt, cell) == [] and not notes.get_notification(rt, cell, told.id).escalations
