"""The convoy case (World Central Kitchen, 2024) as a user would live it, on both backends: the aid
agency's convoy route is coordinated at the level of the force's headquarters; then the force's drone
squadron, signing in with its own unit key, declares a strike across the route. The warning must reach
the squadron itself (the unit whose operation conflicts), at the moment of its declaration, and not only
the headquarters: the squadron reads it in its own inbox, a sibling unit does not, the watch desk does,
and an unanswered warning asks the squadron's ladder before the watch desk's."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from deconfliction.domain.party import Party
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import format_time
from deconfliction.service import movements, units
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service.parties import authenticate
from deconfliction.service.runtime import Runtime
from tests.conftest import T0, FakeClock
from tests.service.test_operations import draft

ROUTE = [[40.0, 35.02], [40.2, 35.02]]


def test_the_convoys_warning_reaches_the_unit_whose_operation_conflicts(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    agency, force, cell = parties["alpha"][0], parties["bravo"][0], parties["cell"][0]
    notes.set_contacts(rt, force, [{"name": "HQ watch desk"}, {"name": "HQ duty chief"}])
    squadron, _ = units.create_unit(
        rt, force, "Drone squadron", contacts=[{"name": "pilot in command"}, {"name": "squadron duty officer"}]
    )
    air_cell, _ = units.create_unit(rt, force, "Air cell")
    keys: dict[str, Any] = {}
    for unit in (squadron, air_cell):
        _, api_key, _ = units.issue_unit_key(rt, force, unit.id)
        keys[unit.name] = authenticate(rt, api_key)

    # the route is coordinated with the force as a party (no unit)
    clock.now = T0 - timedelta(minutes=50)
    movement = {
        "route": {"type": "LineString", "coordinates": ROUTE},
        "departure": format_time(T0),
        "speed_m_s": 8,
        "half_width_m": 30,
        "altitude": {"lower_m": 0, "upper_m": 5},
    }
    movements.submit_movement(rt, agency, OperationKind.GROUND, movement, title="Convoy")

    # the squadron declares a strike across it, with its own key: it is told at once, in its answer
    strike = ops.submit_operation(rt, keys["Drone squadron"], replace(draft(40.05, 34.98, hi=500), title="Strike"))
    assert not isinstance(strike, ops.StoredResponse)
    assert strike.operation.unit_id == squadron.id
    (told,) = strike.conflict_views(keys["Drone squadron"])
    assert told["unit"] == squadron.id and told["counterpart"]["party_name"] == "alpha"

    # the squadron's inbox has it; the sibling unit's does not; the watch desk's does
    (warning,) = [n for n in notes.list_notifications(rt, keys["Drone squadron"]) if n.kind == "conflict.opened"]
    assert warning.unit_id == squadron.id and warning.created_at == clock.now
    assert [n for n in notes.list_notifications(rt, keys["Air cell"]) if n.kind == "conflict.opened"] == []
    assert warning.id in {n.id for n in notes.list_notifications(rt, force)}

    # nobody answers: the squadron's own ladder is asked before the headquarters', then the coordinator
    (agency_told,) = [n for n in notes.list_notifications(rt, agency) if n.kind == "conflict.opened"]
    notes.acknowledge_notification(rt, agency, agency_told.id)
    asked = []
    while not (current := notes.get_notification(rt, force, warning.id)).at_coordinator:
        assert current.deadline is not None
        clock.now = current.deadline
        notes.run_escalations(rt)
        asked.append(notes.get_notification(rt, force, warning.id).escalations[-1]["to"])
    assert asked == ["squadron duty officer", "HQ watch desk", "HQ duty chief", "coordinator"]
    (escalated,) = [n for n in notes.list_notifications(rt, cell) if n.kind == "escalation"]
    assert escalated.body["unit"] == squadron.id
