from __future__ import annotations

import pytest

from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import OperationState
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.errors import InvalidTransition, MissingConflictTokens, NotFound, PreconditionFailed
from deconfliction.service import operations as ops
from deconfliction.service.conflicts import list_conflicts
from tests.conftest import T0, square
from tests.shapes import parse_shape

L = Limits()


def draft(
    lon: float, lat: float, kind: OperationKind = OperationKind.AIR, lo: float = 0, hi: float = 3000, hours: float = 2
) -> ops.OperationDraft:
    from datetime import timedelta

    v = Volume4D.create(
        parse_shape(square(lon, lat), L), AltitudeBand(lo, hi), TimeWindow(T0, T0 + timedelta(hours=hours))
    )
    return ops.OperationDraft(kind, (v,))


def test_crossing_operations_conflict_for_both_parties(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    a = ops.submit_operation(rt, alpha, draft(40.0, 35.0))
    b = ops.submit_operation(rt, bravo, draft(40.05, 35.05))
    assert a.conflicts == []
    assert len(b.conflicts) == 1
    c = b.conflicts[0]
    assert {c.party_a, c.party_b} == {alpha.id, bravo.id}
    assert c.min_horizontal_m == 0.0
    for p in (alpha, bravo):
        seen = list_conflicts(rt, p)
        assert [v.id for v in seen] == [c.id]
        assert seen[0].counterpart is not None
        assert seen[0].counterpart.party == (bravo.id if p is alpha else alpha.id)


def test_same_party_never_conflicts_with_itself(rt, parties):
    alpha = parties["alpha"][0]
    ops.submit_operation(rt, alpha, draft(40.0, 35.0))
    again = ops.submit_operation(rt, alpha, draft(40.0, 35.0))
    assert again.conflicts == []


def test_planning_needs_the_current_token_of_every_conflict(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    a = ops.submit_operation(rt, alpha, draft(40.0, 35.0))
    with pytest.raises(MissingConflictTokens) as refused:
        ops.submit_operation(rt, bravo, draft(40.05, 35.05), state=OperationState.PLANNED)
    missing = refused.value.extra["missing"]
    assert len(missing) == 1 and "id" not in missing[0]  # nothing stored, so no id
    assert list_conflicts(rt, alpha) == []
    token = missing[0]["token"]
    assert token == a.operation.ovn
    b = ops.submit_operation(rt, bravo, draft(40.05, 35.05), state=OperationState.PLANNED, known_tokens=[token])
    assert b.operation.state is OperationState.PLANNED
    # alpha's token changes when bravo's operation changed: alpha must present bravo's current one
    with pytest.raises(MissingConflictTokens):
        ops.change_state(rt, alpha, a.operation.id, OperationState.PLANNED, expected_version=1, known_tokens=["stale"])
    planned = ops.change_state(
        rt, alpha, a.operation.id, OperationState.PLANNED, expected_version=1, known_tokens=[b.operation.ovn]
    )
    assert planned.operation.version == 2


def test_revision_moves_away_and_resolves(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    ops.submit_operation(rt, alpha, draft(40.0, 35.0))
    b = ops.submit_operation(rt, bravo, draft(40.05, 35.05))
    moved = ops.revise_operation(rt, bravo, b.operation.id, draft(41.0, 35.0), expected_version=1)
    assert moved.conflicts == []
    assert [c.state.value for c in moved.changed] == ["resolved"]
    back = ops.revise_operation(rt, bravo, b.operation.id, draft(40.05, 35.05), expected_version=2)
    assert [c.id for c in back.conflicts] == [b.conflicts[0].id]  # the same record reopens
    assert back.conflicts[0].version == 3


def test_stale_version_and_other_party_are_refused(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    a = ops.submit_operation(rt, alpha, draft(40.0, 35.0))
    with pytest.raises(PreconditionFailed):
        ops.revise_operation(rt, alpha, a.operation.id, draft(40.0, 35.0), expected_version=7)
    with pytest.raises(NotFound):
        ops.revise_operation(rt, bravo, a.operation.id, draft(40.0, 35.0), expected_version=1)
    with pytest.raises(NotFound):
        ops.get_operation(rt, bravo, a.operation.id)


def test_state_machine(rt, parties):
    alpha = parties["alpha"][0]
    a = ops.submit_operation(rt, alpha, draft(40.0, 35.0))
    with pytest.raises(InvalidTransition):
        ops.change_state(rt, alpha, a.operation.id, OperationState.ACTIVE, expected_version=1)
    ops.change_state(rt, alpha, a.operation.id, OperationState.PLANNED, expected_version=1)
    ops.change_state(rt, alpha, a.operation.id, OperationState.ACTIVE, expected_version=2)
    done = ops.change_state(rt, alpha, a.operation.id, OperationState.ENDED, expected_version=3)
    assert done.operation.state is OperationState.ENDED
    with pytest.raises(InvalidTransition):
        ops.change_state(rt, alpha, a.operation.id, OperationState.ACTIVE, expected_version=4)


def test_ending_resolves_and_frees_the_space(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    a = ops.submit_operation(rt, alpha, draft(40.0, 35.0))
    b = ops.submit_operation(rt, bravo, draft(40.05, 35.05))
    cancelled = ops.change_state(rt, alpha, a.operation.id, OperationState.CANCELLED, expected_version=1)
    assert [c.state.value for c in cancelled.changed] == ["resolved"]
    again = ops.submit_operation(rt, bravo, draft(40.06, 35.06))
    assert again.conflicts == []
    assert b.conflicts[0].id not in {c.id for c in list_conflicts(rt, bravo, state=None) if c.state == "open"}


def test_altitude_and_time_separation(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    ops.submit_operation(rt, alpha, draft(40.0, 35.0, lo=0, hi=1000))
    # 304 m above: inside the 1,000 ft rule; 306 m above: clear
    assert ops.submit_operation(rt, bravo, draft(40.0, 35.0, lo=1304, hi=2000)).conflicts
    assert not ops.submit_operation(rt, bravo, draft(40.0, 35.0, lo=1306, hi=2000)).conflicts
    # ground operations ignore altitude
    ops.submit_operation(rt, alpha, draft(42.0, 35.0, kind=OperationKind.GROUND, lo=0, hi=10))
    assert ops.submit_operation(rt, bravo, draft(42.0, 35.0, kind=OperationKind.GROUND, lo=5000, hi=6000)).conflicts


def test_content_version_moves_only_when_what_the_conflict_is_changes(rt, parties):
    """Planning or activating an operation changes the conflict's tokens (a new version) but not what
    the conflict is: its content_version stays, so an acknowledgement of it stands. A revision that
    changes the overlap moves both."""
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    ops.submit_operation(rt, alpha, draft(40.0, 35.0))
    b = ops.submit_operation(rt, bravo, draft(40.05, 35.05))
    c = b.conflicts[0]
    assert (c.version, c.content_version) == (1, 1)
    token = c.token_for(bravo.id)
    planned = ops.change_state(
        rt, bravo, b.operation.id, OperationState.PLANNED, expected_version=1, known_tokens=[token]
    )
    c2 = planned.conflicts[0]
    assert (c2.version, c2.content_version) == (2, 1)
    assert c2.token_for(alpha.id) != c.token_for(alpha.id)
    moved = ops.revise_operation(
        rt, bravo, b.operation.id, draft(40.06, 35.06), expected_version=2, known_tokens=[token]
    )
    c3 = moved.conflicts[0]
    assert (c3.version, c3.content_version) == (3, 3)
    with rt.store.read() as tx:  # stored and read back as written, on both backends
        assert tx.conflicts.get(c.id).content_version == 3
