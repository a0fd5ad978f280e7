"""An operation's state machine and versions (domain/operation.py): every transition allowed and refused,
a historical record never committed, revisions only while live, and the window over all volumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deconfliction.domain.footprint import CircleFootprint
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.errors import InvalidTransition

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
S = OperationState


def vol(start_h: float, end_h: float) -> Volume4D:
    w = TimeWindow(NOW + timedelta(hours=start_h), NOW + timedelta(hours=end_h))
    return Volume4D.create(CircleFootprint((36.0, 35.0), 500.0), AltitudeBand(0.0, 100.0), w)


def op(state: OperationState = S.DRAFT, **kw: object) -> Operation:
    base: dict[str, object] = {
        "id": "op_1",
        "owner_id": "pt_a",
        "kind": OperationKind.AIR,
        "priority": 1,
        "state": state,
        "version": 3,
        "ovn": "ovn_3",
        "volumes": (vol(0, 1),),
        "title": "patrol",
        "created_at": NOW,
        "updated_at": NOW,
    }
    base.update(kw)
    return Operation(**base)  # type: ignore[arg-type]


ALLOWED = {
    S.DRAFT: {S.PLANNED, S.CANCELLED},
    S.PLANNED: {S.ACTIVE, S.CANCELLED},
    S.ACTIVE: {S.ENDED, S.CANCELLED},
    S.ENDED: set(),
    S.CANCELLED: set(),
}


@pytest.mark.parametrize("frm", list(S))
@pytest.mark.parametrize("to", list(S))
def test_every_transition_is_allowed_or_refused_as_documented(frm: OperationState, to: OperationState) -> None:
    later = NOW + timedelta(minutes=1)
    if to in ALLOWED[frm]:
        moved = op(frm).transition(to, now=later, ovn="ovn_4")
        assert (moved.state, moved.version, moved.ovn, moved.updated_at) == (to, 4, "ovn_4", later)
        assert moved.created_at == NOW
    else:
        with pytest.raises(InvalidTransition) as e:
            op(frm).transition(to, now=later, ovn="ovn_4")
        assert e.value.extra == {"state": frm.value, "requested": to.value}
        allowed = ", ".join(sorted(a.value for a in ALLOWED[frm])) or "none"
        assert e.value.message == f"an operation that is {frm.value} cannot become {to.value} (allowed: {allowed})"


@pytest.mark.parametrize(("frm", "to"), [(S.DRAFT, S.PLANNED), (S.PLANNED, S.ACTIVE)])
def test_a_historical_record_is_never_planned_or_activated(frm: OperationState, to: OperationState) -> None:
    with pytest.raises(InvalidTransition, match="op_1 is a historical record: it cannot become") as e:
        op(frm, historical=True).transition(to, now=NOW, ovn="x")
    assert e.value.extra == {"state": frm.value, "requested": to.value}


@pytest.mark.parametrize(("frm", "to"), [(S.DRAFT, S.CANCELLED), (S.ACTIVE, S.ENDED)])
def test_a_historical_record_may_still_be_cancelled_or_ended(frm: OperationState, to: OperationState) -> None:
    assert op(frm, historical=True).transition(to, now=NOW, ovn="x").state is to


@pytest.mark.parametrize("state", list(S))
def test_live_means_draft_planned_or_active(state: OperationState) -> None:
    assert op(state).is_live == (state in {S.DRAFT, S.PLANNED, S.ACTIVE})


@pytest.mark.parametrize("state", [S.DRAFT, S.PLANNED, S.ACTIVE])
def test_a_live_operation_is_revised_as_a_new_version(state: OperationState) -> None:
    later = NOW + timedelta(minutes=2)
    volumes = (vol(1, 2), vol(3, 4))
    r = op(state).revise(volumes=volumes, kind=OperationKind.GROUND, priority=7, title="convoy", now=later, ovn="o4")
    assert (r.volumes, r.kind, r.priority, r.title) == (volumes, OperationKind.GROUND, 7, "convoy")
    assert (r.version, r.ovn, r.updated_at, r.state, r.created_at) == (4, "o4", later, state, NOW)


@pytest.mark.parametrize("state", [S.ENDED, S.CANCELLED])
def test_an_ended_or_cancelled_operation_cannot_be_changed(state: OperationState) -> None:
    with pytest.raises(InvalidTransition, match=f"an operation that is {state.value} cannot be changed") as e:
        op(state).revise(volumes=(vol(0, 1),), kind=OperationKind.AIR, priority=1, title="t", now=NOW, ovn="o")
    assert e.value.extra == {"state": state.value}


def test_the_window_spans_every_volume() -> None:
    assert op().window == TimeWindow(NOW, NOW + timedelta(hours=1))
    three = op(volumes=(vol(2, 3), vol(-1, 0.5), vol(4, 6)))
    assert three.window == TimeWindow(NOW - timedelta(hours=1), NOW + timedelta(hours=6))
