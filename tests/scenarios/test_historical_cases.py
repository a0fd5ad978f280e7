"""The warning chain tried on three documented failures, each run on the exercise clock (docs/exercise.md)
on SQLite and PostgreSQL: the scenario starts on the day of the case and the coordinator moves the clock,
so a ladder of minutes runs in a fraction of a second.

* Deir ez-Zor, 2016: a strike ten minutes ahead, the other side's usual contact silent. Every contact of
  its ladder and then the coordinators are asked before the strike starts (not 7 minutes after it).
* Kunduz, 2015: a gunship operation over a hospital whose coordinates were declared. Activating it needs
  the hospital's owner's acknowledgement, or an override with a reason that both sides then see.
* World Central Kitchen, 2024: a convoy route coordinated with a force's headquarters; the force's drone
  squadron declares a strike across it. The warning reaches the squadron itself, and its ladder first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deconfliction.domain.acknowledgement import Override
from deconfliction.domain.conflict import Conflict
from deconfliction.domain.footprint import CircleFootprint
from deconfliction.domain.ledger import export_line, verify
from deconfliction.domain.limits import Limits
from deconfliction.domain.notification import Notification, NotificationState
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import SiteCategory, SitePoint
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D, format_time
from deconfliction.errors import AwaitingAcknowledgement
from deconfliction.service import exercise, movements, sites, units
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service.ledger import export_ledger
from deconfliction.service.parties import authenticate, create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import Store
from tests.shapes import parse_shape

LIMITS = Limits()


def on_exercise(store: Store, start: datetime) -> tuple[Runtime, dict[str, Party]]:
    """An exercise runtime whose scenario starts at ``start``, with a coordination cell."""
    rt = Runtime(store, clock=exercise.start_exercise(store, start))
    cell, _ = create_party(rt, None, "Deconfliction cell", Role.COORDINATOR)
    return rt, {"cell": cell}


def jump_to(rt: Runtime, cell: Party, when: datetime) -> None:
    """The coordinator moves the scenario clock to ``when`` (a hair past it), and the server's round runs."""
    exercise.advance(rt, cell, max((when - rt.clock()).total_seconds(), 0.0) + 0.001)
    notes.run_escalations(rt)


def square(lon: float, lat: float, half: float = 0.02) -> dict[str, Any]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def operation(kind: OperationKind, footprint: Any, start: datetime, hours: float, top_m: float, title: str) -> Any:
    shape = footprint if isinstance(footprint, CircleFootprint) else parse_shape(footprint, LIMITS)
    v = Volume4D.create(shape, AltitudeBand(0, top_m), TimeWindow(start, start + timedelta(hours=hours)))
    return ops.OperationDraft(kind, (v,), title=title)


def pending_about(rt: Runtime, who: Party, c: Conflict) -> Notification:
    (n,) = [
        x
        for x in notes.list_notifications(rt, who, limit=1000)
        if x.subject_id == c.id
        and x.kind in ("conflict.opened", "conflict.updated")
        and x.state is NotificationState.PENDING
        and x.deadline is not None
    ]
    return n


# ------------------------------------------------------------------------------------------ Deir ez-Zor


DEIR_EZ_ZOR = datetime(2016, 9, 17, 15, 40, tzinfo=UTC)
"""The scenario's start: twenty minutes before the strike."""


def strike_timeline(store: Store) -> tuple[datetime, list[tuple[str, datetime]], Notification]:
    """The strike case: returns the strike's start, who was asked when (ledger times), and the
    coordinator's escalation notification."""
    rt, p = on_exercise(store, DEIR_EZ_ZOR)
    air, _ = create_party(rt, None, "Coalition air", Role.PARTY)
    ground, _ = create_party(rt, None, "Ground force", Role.PARTY)
    notes.set_contacts(rt, ground, [{"name": "usual contact"}, {"name": "duty officer"}])
    position = (40.20, 35.27)  # the hills south of the airport
    ops.submit_operation(
        rt, ground, operation(OperationKind.GROUND, square(*position), DEIR_EZ_ZOR, 24, 50, "Hill positions")
    )
    jump_to(rt, p["cell"], DEIR_EZ_ZOR + timedelta(minutes=10))
    strike_at = rt.clock().replace(microsecond=0) + timedelta(minutes=10)
    made = ops.submit_operation(
        rt, air, operation(OperationKind.AIR, square(*position, 0.01), strike_at, 1, 3000, "Strike")
    )
    assert not isinstance(made, ops.StoredResponse)
    (c,) = made.conflicts
    notes.acknowledge_notification(rt, air, pending_about(rt, air, c).id)  # the striking side knows
    warning = pending_about(rt, ground, c)  # the other side's usual contact is silent from here on
    while not (now := notes.get_notification(rt, ground, warning.id)).at_coordinator:
        assert now.deadline is not None
        jump_to(rt, p["cell"], now.deadline)
    with rt.store.read() as tx:
        steps = [(e.payload["to"], e.at) for e in tx.events.after(0, 10_000) if e.type == "notification.escalated"]
    (escalation,) = [n for n in notes.list_notifications(rt, p["cell"]) if n.kind == "escalation"]
    return strike_at, [("usual contact", warning.created_at), *steps], escalation


def test_deir_ez_zor_the_coordinator_is_told_before_the_strike_starts(store: Store) -> None:
    strike_at, asked, escalation = strike_timeline(store)
    assert [who for who, _ in asked] == ["usual contact", "duty officer", "coordinator"]
    times = [at for _, at in asked]
    assert times == sorted(times) and times[-1] < strike_at
    # each step has a fair share of what was left: the coordinator hears minutes before, not after
    assert strike_at - times[-1] >= timedelta(minutes=3)
    assert escalation.created_at < strike_at and escalation.deadline is not None
    assert escalation.deadline <= strike_at  # and is chased to answer before it starts


# ----------------------------------------------------------------------------------------------- Kunduz


KUNDUZ = datetime(2015, 10, 2, 20, 0, tzinfo=UTC)
HOSPITAL = (68.8512, 36.7197)


@pytest.fixture
def kunduz(store: Store) -> tuple[Runtime, dict[str, Party], Any, Conflict]:
    """The hospital declared with its coordinates; a gunship operation over it, drafted and planned."""
    rt, p = on_exercise(store, KUNDUZ)
    p["charity"], _ = create_party(rt, None, "Medical charity", Role.PARTY)
    p["air"], _ = create_party(rt, None, "Air force", Role.PARTY)
    sites.create_site(
        rt,
        p["charity"],
        sites.SiteDraft(
            "Trauma centre", SiteCategory.HOSPITAL, SitePoint(HOSPITAL), 150.0, 10.0, KUNDUZ + timedelta(days=90)
        ),
    )
    start = KUNDUZ + timedelta(hours=6)
    made = ops.submit_operation(
        rt,
        p["air"],
        operation(OperationKind.AIR, CircleFootprint(HOSPITAL, 800.0), start, 2, 2500, "Gunship support"),
    )
    assert not isinstance(made, ops.StoredResponse)
    (c,) = made.conflicts
    assert c.kind == "protected_site"
    planned = ops.change_state(
        rt, p["air"], made.operation.id, OperationState.PLANNED, expected_version=1, known_tokens=[c.token_a]
    )
    assert not isinstance(planned, ops.StoredResponse)
    return rt, p, planned.operation, c


def activate(rt: Runtime, who: Party, op: Any, c: Conflict, **kw: Any) -> Any:
    return ops.change_state(
        rt, who, op.id, OperationState.ACTIVE, expected_version=op.version, known_tokens=[c.token_a], **kw
    )


def test_kunduz_activation_over_the_hospital_waits_for_its_owner(kunduz: Any) -> None:
    rt, p, op, c = kunduz
    with pytest.raises(AwaitingAcknowledgement) as refused:  # the conflict's token alone is not enough
        activate(rt, p["air"], op, c)
    (waiting,) = refused.value.extra["conflicts"]
    assert waiting["id"] == c.id and waiting["awaiting"] == [
        {"party": p["charity"].id, "party_name": "Medical charity"}
    ]
    notes.acknowledge_notification(rt, p["charity"], pending_about(rt, p["charity"], c).id)
    done = activate(rt, p["air"], op, c)
    assert done.operation.state is OperationState.ACTIVE


def test_kunduz_an_override_is_a_recorded_decision_both_sides_see(kunduz: Any) -> None:
    rt, p, op, c = kunduz
    reason = "Ground force under fire reports the compound is held by fighters; charity unreachable."
    done = activate(rt, p["air"], op, c, overrides=[Override(c.id, reason)])
    assert done.operation.state is OperationState.ACTIVE
    # told at once, as urgent, to the hospital's owner and to the coordinators, with the reason
    for who in (p["charity"], p["cell"]):
        (n,) = [x for x in notes.list_notifications(rt, who) if x.kind == "conflict.overridden"]
        assert n.body["reason"] == reason  # in the activating write itself (the scenario clock runs on)
        assert abs(n.created_at - done.operation.updated_at) < timedelta(seconds=1)
        assert n.deadline is not None and n.deadline - n.created_at == timedelta(seconds=rt.escalation.floor_s)
    # the decision is in each side's own ledger export, the same entry, and each export verifies offline
    seen = {}
    for who in (p["air"], p["charity"]):
        lines = list(export_ledger(rt, who))
        assert verify([export_line(line) for line in lines]).ok
        (entry,) = [line for line in lines if line.get("content", {}).get("type") == "conflict.overridden"]
        seen[who.name] = entry
    assert seen["Air force"] == seen["Medical charity"]
    assert seen["Air force"]["content"]["payload"]["reason"] == reason


# -------------------------------------------------------------------------------- World Central Kitchen


WCK = datetime(2024, 4, 1, 16, 0, tzinfo=UTC)


def test_world_central_kitchen_the_warning_reaches_the_unit_whose_operation_conflicts(store: Store) -> None:
    rt, p = on_exercise(store, WCK)
    agency, _ = create_party(rt, None, "Food agency", Role.PARTY)
    force, _ = create_party(rt, None, "Force", Role.PARTY)
    notes.set_contacts(rt, force, [{"name": "HQ watch desk"}, {"name": "HQ duty chief"}])
    squadron, _ = units.create_unit(
        rt, force, "Drone squadron", contacts=[{"name": "pilot in command"}, {"name": "squadron duty officer"}]
    )
    other, _ = units.create_unit(rt, force, "Artillery battery")
    key = {u.name: authenticate(rt, units.issue_unit_key(rt, force, u.id)[1]) for u in (squadron, other)}

    # the convoy's route is coordinated with the force's headquarters (the party, no unit)
    departure = WCK + timedelta(hours=6)
    route = {
        "route": {"type": "LineString", "coordinates": [[34.30, 31.42], [34.36, 31.38]]},
        "departure": format_time(departure),
        "speed_m_s": 8,
        "half_width_m": 30,
        "altitude": {"lower_m": 0, "upper_m": 5},
    }
    movements.submit_movement(rt, agency, OperationKind.GROUND, route, title="Convoy to the warehouse")

    # hours later, the squadron declares a strike across the route, with its own key
    jump_to(rt, p["cell"], departure - timedelta(minutes=20))
    strike = ops.submit_operation(
        rt,
        key["Drone squadron"],
        operation(OperationKind.AIR, square(34.33, 31.40, 0.01), departure, 2, 500, "Strike on a vehicle"),
    )
    assert not isinstance(strike, ops.StoredResponse)
    assert strike.operation.unit_id == squadron.id
    (c,) = strike.conflicts
    # the squadron is told in the answer to its own declaration, and finds it in its own inbox at once
    (told,) = strike.conflict_views(key["Drone squadron"])
    assert told.unit == squadron.id
    warning = pending_about(rt, key["Drone squadron"], c)
    assert warning.unit_id == squadron.id
    assert abs(warning.created_at - strike.operation.created_at) < timedelta(seconds=1)  # in the same write
    assert warning.id in {n.id for n in notes.list_notifications(rt, force)}  # the watch desk has it too
    assert not [n for n in notes.list_notifications(rt, key["Artillery battery"]) if n.subject_id == c.id]
    with rt.store.read() as tx:  # the ledger says which unit was told, and when
        (entry,) = [e for e in tx.events.after(0, 10_000) if e.seq == warning.entry_seq]
    assert entry.payload["unit"] == squadron.id and abs(entry.at - warning.created_at) < timedelta(seconds=1)

    # the agency reads its own warning; nobody on the force's side answers: the squadron's own ladder
    # before the headquarters', then the coordinator, all before the convoy departs
    notes.acknowledge_notification(rt, agency, pending_about(rt, agency, c).id)
    asked = []
    while not (now := notes.get_notification(rt, force, warning.id)).at_coordinator:
        assert now.deadline is not None
        jump_to(rt, p["cell"], now.deadline)
        last = notes.get_notification(rt, force, warning.id).escalations[-1]
        asked.append((last["to"], datetime.fromisoformat(last["at"])))
    assert [who for who, _ in asked] == ["squadron duty officer", "HQ watch desk", "HQ duty chief", "coordinator"]
    assert asked[-1][1] < departure
    (escalated,) = [n for n in notes.list_notifications(rt, p["cell"]) if n.kind == "escalation"]
    assert escalated.body["unit"] == squadron.id
