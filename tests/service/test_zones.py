"""Zones of responsibility in the service: agreement, versions, need-to-know, and the ``zone_entry``
records kept in step with every change of a zone or an operation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.domain.zone import ZoneAnswer, ZoneState
from deconfliction.errors import Forbidden, InvalidInput, InvalidTransition, MissingConflictTokens, NotFound
from deconfliction.service import operations as ops
from deconfliction.service import zones
from deconfliction.service.conflicts import list_conflicts
from deconfliction.service.parties import create_party
from deconfliction.wire import to_record
from tests.conftest import T0, square
from tests.shapes import parse_shape

L = Limits()
VALID = TimeWindow(T0 - timedelta(days=1), T0 + timedelta(days=30))


def zone_draft(counterparties: list[str], lon: float = 40.0, lat: float = 35.0, size: float = 0.2) -> zones.ZoneDraft:
    return zones.ZoneDraft("north bank", counterparties, parse_shape(square(lon, lat, size), L), VALID)


def op_at(lon: float, lat: float, hours: float = 2.0) -> ops.OperationDraft:
    v = Volume4D.create(
        parse_shape(square(lon, lat, 0.02), L), AltitudeBand(0, 10), TimeWindow(T0, T0 + timedelta(hours=hours))
    )
    return ops.OperationDraft(OperationKind.GROUND, (v,))


def agreed_zone(rt, owner, other, **kw):
    z = zones.propose(rt, owner, zone_draft([other.id], **kw)).zone
    return zones.answer(rt, other, z.id, ZoneAnswer.ACCEPTED)


def test_entering_an_agreed_zone_is_a_conflict_for_both(rt, parties):
    north, south = parties["alpha"][0], parties["bravo"][0]
    third, _ = create_party(rt, None, "agency", Role.PARTY)
    inside = ops.submit_operation(rt, south, op_at(40.05, 35.05))
    proposed = zones.propose(rt, north, zone_draft([south.id]))
    assert proposed.zone.state is ZoneState.PROPOSED and proposed.changed == []  # a proposal counts for nothing
    assert list_conflicts(rt, south) == []
    agreed = zones.answer(rt, south, proposed.zone.id, ZoneAnswer.ACCEPTED)
    assert agreed.zone.state is ZoneState.AGREED
    [c] = agreed.changed
    assert (c.kind, c.operation_a, c.party_a, c.operation_b, c.party_b) == (
        "zone_entry",
        inside.operation.id,
        south.id,
        agreed.zone.id,
        north.id,
    )
    # any other party entering counts, the owner's own operation never does
    assert [x.kind for x in ops.submit_operation(rt, third, op_at(40.1, 35.1)).conflicts] == ["zone_entry"]
    own = ops.submit_operation(rt, north, op_at(40.1, 35.1)).conflicts
    assert [x.kind for x in own] == ["operation"]  # with the third party's operation, not its own zone
    assert ops.submit_operation(rt, third, op_at(41.0, 35.1)).conflicts == []
    # what the owner is told: the operator and the overlap, never the operation
    [view] = [v for v in map(to_record, list_conflicts(rt, north)) if v["id"] == c.id]
    assert view["operation"] == agreed.zone.id and view["counterpart"]["party"] == south.id
    assert inside.operation.id not in str(view)


def test_planning_in_a_zone_needs_the_version_token(rt, parties):
    north, south = parties["alpha"][0], parties["bravo"][0]
    agreed_zone(rt, north, south)
    with pytest.raises(MissingConflictTokens) as refused:
        ops.submit_operation(rt, south, op_at(40.05, 35.05), state=OperationState.PLANNED)
    token = refused.value.extra["missing"][0]["token"]
    done = ops.submit_operation(rt, south, op_at(40.05, 35.05), state=OperationState.PLANNED, known_tokens=[token])
    assert done.operation.state is OperationState.PLANNED


def test_a_new_version_supersedes_and_moves_the_conflicts(rt, parties):
    north, south = parties["alpha"][0], parties["bravo"][0]
    first = agreed_zone(rt, north, south)
    zone_id = first.zone.id
    inside = ops.submit_operation(rt, south, op_at(40.05, 35.05)).operation
    moved = parse_shape(square(40.3, 35.0, 0.2), L)
    v2 = zones.revise(rt, north, zone_id, expected_version=1, footprint=moved)
    assert v2.zone.version == 2 and v2.zone.state is ZoneState.PROPOSED
    assert [v.state for v in v2.versions] == [ZoneState.AGREED, ZoneState.PROPOSED]  # v1 still in force
    assert list_conflicts(rt, south, operation_id=inside.id)[0].state == "open"
    later = ops.submit_operation(rt, south, op_at(40.35, 35.05)).operation
    done = zones.answer(rt, south, zone_id, ZoneAnswer.ACCEPTED)
    assert [v.state for v in done.versions] == [ZoneState.SUPERSEDED, ZoneState.AGREED]
    by_op = {c.operation_a: c.state.value for c in done.changed}
    assert by_op == {inside.id: "resolved", later.id: "open"}


def test_rejection_withdrawal_and_who_sees_what(rt, parties):
    north, south = parties["alpha"][0], parties["bravo"][0]
    third, _ = create_party(rt, None, "agency", Role.PARTY)
    p = zones.propose(rt, north, zone_draft([south.id])).zone
    with pytest.raises(NotFound):  # a proposal is for its owner and counter-parties
        zones.get_zone(rt, third, p.id)
    assert zones.list_zones(rt, third) == []
    with pytest.raises(Forbidden):
        zones.answer(rt, north, p.id, ZoneAnswer.ACCEPTED)  # the owner does not answer
    rejected = zones.answer(rt, south, p.id, ZoneAnswer.REJECTED).zone
    assert rejected.state is ZoneState.REJECTED
    with pytest.raises(InvalidTransition):
        zones.answer(rt, south, p.id, ZoneAnswer.ACCEPTED)
    zones.revise(rt, north, p.id, expected_version=1)
    agreed = zones.answer(rt, south, p.id, ZoneAnswer.ACCEPTED).zone
    assert [z.version for z in zones.get_zone(rt, third, p.id)] == [2]  # the agreed one only
    op = ops.submit_operation(rt, third, op_at(40.05, 35.05)).operation
    with pytest.raises(Forbidden):
        zones.withdraw(rt, south, p.id, expected_version=2)
    gone = zones.withdraw(rt, north, p.id, expected_version=agreed.version)
    assert gone.zone.state is ZoneState.WITHDRAWN
    assert [(c.operation_a, c.state.value) for c in gone.changed] == [(op.id, "resolved")]
    assert [z.version for z in zones.get_zone(rt, third, p.id)] == [2]  # withdrawn after agreement: history
    with pytest.raises(InvalidTransition):
        zones.withdraw(rt, north, p.id, expected_version=2)


def test_bad_proposals_name_the_field(rt, parties):
    north, south = parties["alpha"][0], parties["bravo"][0]
    with pytest.raises(InvalidInput) as e:
        zones.propose(rt, north, zone_draft(["pt_nobody"]))
    assert [(x.field, x.code) for x in e.value.errors] == [("counterparties[0]", "unknown_party")]
    with pytest.raises(InvalidInput) as e:
        zones.propose(rt, north, zone_draft([north.id]))
    assert [(x.field, x.code) for x in e.value.errors] == [("counterparties[0]", "owner_as_counterparty")]
    with pytest.raises(Forbidden):
        zones.propose(rt, parties["watcher"][0], zone_draft([south.id]))
