"""The acknowledgement gate (docs/notifications.md): activating an operation over another party's protected
site, agreed zone or line band needs that side's acknowledgement of the conflict as it is now, or an
override by name with a reason, recorded and told at once; operation against operation keeps the proof
of knowledge by tokens alone, unless the policy says otherwise. Both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from deconfliction.domain.acknowledgement import AcknowledgementPolicy, Override
from deconfliction.domain.conflict import Conflict
from deconfliction.domain.notification import NotificationState
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Party
from deconfliction.domain.policy import OperationKind
from deconfliction.errors import AwaitingAcknowledgement, InvalidInput, MissingConflictTokens
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service import sites
from deconfliction.service.runtime import Runtime
from tests.conftest import FakeClock
from tests.service.test_sites import HOSPITAL, circle_op, east_of, site_draft, towards

Parties = dict[str, tuple[Party, str]]


def over_the_hospital(rt: Runtime, parties: Parties, metres: float = 500.0) -> tuple[Party, Party, Any, Conflict]:
    """Alpha (an agency) protects a hospital; bravo (a force) drafts a ground operation near it."""
    agency, force = parties["alpha"][0], parties["bravo"][0]
    sites.create_site(rt, agency, site_draft())
    draft = ops.submit_operation(rt, force, circle_op(east_of(HOSPITAL, metres)))
    [c] = draft.conflicts
    assert c.kind == "protected_site" and (c.party_a, c.party_b) == (force.id, agency.id)
    return agency, force, draft.operation, c


def acknowledge(rt: Runtime, party: Party, conflict_id: str, kind: str = "conflict.opened") -> None:
    with rt.store.read() as tx:
        pending = [
            n for n in tx.notifications.about(party.id, kind, conflict_id) if n.state is NotificationState.PENDING
        ]
    assert pending, f"{party.name} has no pending {kind} about {conflict_id}"
    notes.acknowledge_notification(rt, party, pending[-1].id)


def plan(rt: Runtime, who: Party, op: Any, c: Conflict, **kw: Any) -> Any:
    return ops.change_state(
        rt, who, op.id, OperationState.PLANNED, expected_version=op.version, known_tokens=[c.token_a], **kw
    ).operation


def activate(rt: Runtime, who: Party, op: Any, c: Conflict, **kw: Any) -> Any:
    return ops.change_state(
        rt, who, op.id, OperationState.ACTIVE, expected_version=op.version, known_tokens=[c.token_a], **kw
    )


def test_activation_over_a_site_waits_for_the_owner_and_passes_once_it_acknowledged(rt, parties):
    agency, force, op, c = over_the_hospital(rt, parties)
    planned = plan(rt, force, op, c)  # by default planning is not held
    assert planned.state is OperationState.PLANNED
    with pytest.raises(MissingConflictTokens):  # tokens first, as before
        ops.change_state(rt, force, op.id, OperationState.ACTIVE, expected_version=planned.version)
    with pytest.raises(AwaitingAcknowledgement) as refused:
        activate(rt, force, planned, c)
    with rt.store.read() as tx:
        stored = tx.conflicts.get(c.id)
    assert stored is not None
    assert refused.value.extra["conflicts"] == [
        {
            "id": c.id,
            "kind": "protected_site",
            "version": stored.version,
            "content_version": stored.content_version,
            "awaiting": [{"party": agency.id, "party_name": "alpha"}],
        }
    ]
    assert ops.get_operation(rt, force, op.id).state is OperationState.PLANNED  # nothing stored
    acknowledge(rt, agency, c.id)
    done = activate(rt, force, planned, c)
    assert done.operation.state is OperationState.ACTIVE


def test_the_operator_s_own_acknowledgement_does_not_count(rt, parties):
    _agency, force, op, c = over_the_hospital(rt, parties)
    acknowledge(rt, force, c.id)
    planned = plan(rt, force, op, c)
    with pytest.raises(AwaitingAcknowledgement):
        activate(rt, force, planned, c)


def test_a_material_change_after_the_acknowledgement_needs_a_new_one(rt, parties):
    agency, force, op, c = over_the_hospital(rt, parties, metres=600.0)
    acknowledge(rt, agency, c.id)
    planned = plan(rt, force, op, c)
    closer = ops.revise_operation(
        rt,
        force,
        op.id,
        circle_op(east_of(HOSPITAL, 300.0)),
        expected_version=planned.version,
        known_tokens=[c.token_a],
    )
    [moved] = closer.conflicts
    assert moved.id == c.id and moved.content_version == moved.version > c.content_version
    with pytest.raises(AwaitingAcknowledgement) as refused:
        activate(rt, force, closer.operation, c)
    assert [x["content_version"] for x in refused.value.extra["conflicts"]] == [moved.content_version]
    acknowledge(rt, agency, c.id, "conflict.updated")  # the notification that told the new content
    assert activate(rt, force, closer.operation, c).operation.state is OperationState.ACTIVE


def test_plan_then_activate_with_one_acknowledgement_in_between(rt, parties):
    agency, force, op, c = over_the_hospital(rt, parties)
    acknowledge(rt, agency, c.id)
    planned = plan(rt, force, op, c)
    with rt.store.read() as tx:
        after_plan = tx.conflicts.get(c.id)
    assert after_plan is not None and after_plan.version > c.version
    assert after_plan.content_version == c.content_version  # the tokens changed, not the conflict
    # the owner was told of the new version (pending) but its acknowledgement of the content stands
    assert activate(rt, force, planned, c).operation.state is OperationState.ACTIVE


def test_an_override_passes_is_recorded_and_told_at_once_as_urgent(rt, parties, clock: FakeClock):
    agency, force, op, c = over_the_hospital(rt, parties)
    coordinator, watcher = parties["cell"][0], parties["watcher"][0]
    planned = plan(rt, force, op, c)
    with rt.store.read() as tx:
        stored = tx.conflicts.get(c.id)
    assert stored is not None
    reason = "Evacuation corridor under fire; the hospital's liaison is unreachable by radio."
    done = activate(rt, force, planned, c, overrides=[Override(c.id, f"  {reason}  ")])
    assert done.operation.state is OperationState.ACTIVE
    with rt.store.read() as tx:
        entries = [e for e in tx.events.after(0, 10_000) if e.type == "conflict.overridden"]
        told = {
            p.id: tx.notifications.about(p.id, "conflict.overridden", c.id)
            for p in (agency, coordinator, watcher, force)
        }
    [entry] = entries
    assert entry.actor_id == force.id and entry.subject_id == c.id
    assert sorted(entry.audience) == sorted([force.id, agency.id])
    assert entry.payload["reason"] == reason
    assert (entry.payload["version"], entry.payload["content_version"]) == (stored.version, stored.content_version)
    assert (entry.payload["by"], entry.payload["by_name"], entry.payload["to_state"]) == (force.id, "bravo", "active")
    assert op.id not in str(entry.payload)  # the owner reads it: nothing of the operator's plan
    assert told[watcher.id] == [] and told[force.id] == []
    for who in (agency, coordinator):
        [n] = told[who.id]
        assert n.entry_seq == entry.seq and n.body["reason"] == reason
        # urgent: the shortest step there is (the escalation policy's floor), chased towards the conflict's start
        assert n.deadline == clock.now + timedelta(seconds=rt.escalation.floor_s)
        assert n.starts_at == stored.window.start
        assert n.deadline - clock.now <= timedelta(minutes=2)
    # the owner acknowledges it: the operator is told, as for any conflict notification
    notes.acknowledge_notification(rt, agency, told[agency.id][0].id)
    with rt.store.read() as tx:
        assert [n.body["kind"] for n in tx.notifications.about(force.id, "conflict.acknowledged", c.id)] == [
            "conflict.overridden"
        ]


def test_operation_against_operation_is_unchanged_by_default(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    a = ops.submit_operation(rt, alpha, circle_op((40.0, 35.0), 200.0))
    b = ops.submit_operation(rt, bravo, circle_op((40.0, 35.0), 200.0))
    [c] = b.conflicts
    token = c.token_for(bravo.id)
    op_id = b.operation.id
    planned = ops.change_state(rt, bravo, op_id, OperationState.PLANNED, expected_version=1, known_tokens=[token])
    v = planned.operation.version
    with pytest.raises(InvalidInput) as refused:  # nothing to override there
        ops.change_state(
            rt,
            bravo,
            op_id,
            OperationState.ACTIVE,
            expected_version=v,
            known_tokens=[token],
            overrides=[Override(c.id, "no need")],
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [("override[0].conflict", "override_not_needed")]
    active = ops.change_state(rt, bravo, op_id, OperationState.ACTIVE, expected_version=v, known_tokens=[token])
    assert active.operation.state is OperationState.ACTIVE and a.operation.state is OperationState.DRAFT


def test_the_plan_policy_holds_planning_too_and_operations_can_be_gated(rt, parties):
    policy = AcknowledgementPolicy.from_mapping({"protected_site": "plan", "operation": "activate"})
    strict = replace(rt, acknowledgement=policy)
    agency, force, op, c = over_the_hospital(strict, parties)
    with pytest.raises(AwaitingAcknowledgement):
        plan(strict, force, op, c)
    acknowledge(strict, agency, c.id)
    planned = plan(strict, force, op, c)
    assert activate(strict, force, planned, c).operation.state is OperationState.ACTIVE
    # a new operation declared as planned over the site: its conflict was never told, so it has no id
    with pytest.raises(MissingConflictTokens) as missing:
        ops.submit_operation(strict, force, circle_op(HOSPITAL), state=OperationState.PLANNED)
    token = missing.value.extra["missing"][0]["token"]
    with pytest.raises(AwaitingAcknowledgement) as waiting:
        ops.submit_operation(strict, force, circle_op(HOSPITAL), state=OperationState.PLANNED, known_tokens=[token])
    assert waiting.value.extra["conflicts"] == [
        {"kind": "protected_site", "awaiting": [{"party": agency.id, "party_name": "alpha"}]}
    ]
    # operation against operation, gated by this policy at activation only
    other = ops.submit_operation(strict, agency, circle_op(east_of(HOSPITAL, 3000.0), kind=OperationKind.GROUND))
    mine = ops.submit_operation(strict, force, circle_op(east_of(HOSPITAL, 3000.0)))
    [oc] = mine.conflicts
    token = oc.token_for(force.id)
    planned = ops.change_state(
        strict, force, mine.operation.id, OperationState.PLANNED, expected_version=1, known_tokens=[token]
    )
    with pytest.raises(AwaitingAcknowledgement) as op_wait:
        ops.change_state(
            strict,
            force,
            mine.operation.id,
            OperationState.ACTIVE,
            expected_version=planned.operation.version,
            known_tokens=[token],
        )
    assert [x["id"] for x in op_wait.value.extra["conflicts"]] == [oc.id]
    assert other.operation.owner_id == agency.id


def test_the_default_policy_needs_planning_not_to_wait(rt, parties):
    assert rt.acknowledgement == AcknowledgementPolicy()
    assert AcknowledgementPolicy().as_dict() == {
        "operation": "none",
        "zone_entry": "activate",
        "band_entry": "activate",
        "protected_site": "activate",
    }


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ({"hospital": "plan"}, "acknowledgement.hospital", "unknown_kind"),
        ({"protected_site": "always"}, "acknowledgement.protected_site", "invalid_value"),
        (["protected_site"], "acknowledgement", "invalid_section"),
    ],
)
def test_a_wrong_policy_section_is_refused_by_name(raw: Any, field: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        AcknowledgementPolicy.from_mapping(raw)
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]


def test_bad_overrides_are_refused_by_field_and_change_nothing(rt, parties):
    _agency, force, op, c = over_the_hospital(rt, parties)
    other_agency_site = sites.create_site(rt, parties["cell"][0], site_draft(pos=(41.0, 36.0)))
    planned = plan(rt, force, op, c)
    cases = [
        ([Override(c.id, "   ")], "override[0].reason", "missing_reason"),
        ([Override(c.id, "x" * 1001)], "override[0].reason", "too_long"),
        ([Override("cf_nope", "a reason")], "override[0].conflict", "not_open"),
        ([Override(c.id, "a"), Override(c.id, "b")], "override[1].conflict", "duplicate"),
        ([Override(other_agency_site.site.id, "a reason")], "override[0].conflict", "not_open"),
    ]
    for overrides, field, code in cases:
        with pytest.raises(InvalidInput) as refused:
            activate(rt, force, planned, c, overrides=overrides)
        assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)], overrides
    assert ops.get_operation(rt, force, op.id).state is OperationState.PLANNED
    with rt.store.read() as tx:
        assert not [e for e in tx.events.after(0, 10_000) if e.type == "conflict.overridden"]
    # a conflict of somebody else's operation is not open on this one
    third = ops.submit_operation(rt, parties["cell"][0], circle_op(towards(HOSPITAL, 270.0, 900.0)))
    [theirs] = third.conflicts  # with the site only: 1,400 m from bravo's operation
    with pytest.raises(InvalidInput):
        activate(rt, force, planned, c, overrides=[Override(theirs.id, "a reason")])
