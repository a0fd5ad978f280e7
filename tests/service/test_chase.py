"""The chase of a notification respects the clock of the danger: every step's deadline comes from the
time left before the conflict starts, so the whole ladder and then the coordinators are asked before it;
everything late is listed at every step; one conflict version is chased once (plan then activate does
not restart the ladder; a change of content takes the chase over; an acknowledged conflict that changes
is chased anew). On SQLite and PostgreSQL, on a clock the test moves."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from deconfliction.domain.notification import Notification, NotificationState
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Party
from deconfliction.domain.volume import format_time
from deconfliction.errors import InvalidTransition
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service.runtime import Runtime
from tests.conftest import T0, FakeClock
from tests.service.test_operations import draft

LADDER = [{"name": "duty officer", "channels": {"phone": "1"}}, {"name": "deputy", "channels": {"radio": "2"}}]


def named(parties: dict[str, tuple[Party, str]]) -> dict[str, Party]:
    return {n: p for n, (p, _) in parties.items()}


def chased(rt: Runtime, who: Party) -> list[Notification]:
    """The party's conflict notifications that carry a chase (a deadline), pending or acknowledged."""
    return [
        n
        for n in notes.list_notifications(rt, who, limit=1000)
        if n.kind.startswith("conflict.") and not n.kind.endswith(".acknowledged") and n.deadline is not None
    ]


def conflict_notes(rt: Runtime, who: Party) -> list[Notification]:
    return [
        n
        for n in notes.list_notifications(rt, who, limit=1000)
        if n.kind.startswith("conflict.") and not n.kind.endswith(".acknowledged")
    ]


def strike(rt: Runtime, p: dict[str, Party], *, bravo_answers: bool = True) -> Any:
    """Alpha's operation, then bravo's strike over it: one conflict, told to both; bravo (the striking
    side) acknowledges at once unless told not to, alpha's desk is silent."""
    ops.submit_operation(rt, p["alpha"], draft(40, 35))
    result = ops.submit_operation(rt, p["bravo"], draft(40.05, 35.05))
    if bravo_answers:
        (b,) = chased(rt, p["bravo"])
        notes.acknowledge_notification(rt, p["bravo"], b.id)
    return result


def walk(rt: Runtime, clock: FakeClock, who: Party) -> list[tuple[str, datetime]]:
    """Stay silent: at each deadline of ``who``'s chased notification, the escalation round runs. Returns
    who was asked when, ending with the coordinator."""
    (n,) = [x for x in chased(rt, who) if x.state is NotificationState.PENDING]
    asked = [("primary", n.created_at)]
    while not n.at_coordinator:
        assert n.deadline is not None
        clock.now = n.deadline
        assert notes.run_escalations(rt) == 1
        n = notes.get_notification(rt, who, n.id)
        asked.append((str(n.escalations[-1]["to"]), clock.now))
    return asked


def test_a_strike_ten_minutes_ahead_reaches_the_coordinator_before_it_starts(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    p = named(parties)
    notes.set_contacts(rt, p["alpha"], LADDER)
    clock.now = T0 - timedelta(minutes=10)
    strike(rt, p)
    (n,) = chased(rt, p["alpha"])
    assert n.starts_at == T0 and n.deadline == T0 - timedelta(minutes=10) + timedelta(seconds=200)
    asked = walk(rt, clock, p["alpha"])
    assert asked == [
        ("primary", T0 - timedelta(minutes=10)),
        ("deputy", T0 - timedelta(minutes=6, seconds=40)),
        ("coordinator", T0 - timedelta(minutes=3, seconds=20)),
    ]
    n = notes.get_notification(rt, p["alpha"], n.id)
    assert [e["deadline"] for e in n.escalations if "deadline" in e] == ["2026-11-23T07:56:40Z"]
    (e,) = [x for x in notes.list_notifications(rt, p["cell"]) if x.kind == "escalation"]
    # the coordinator is told 3 min 20 s before the strike, and has until it starts
    assert e.created_at == T0 - timedelta(minutes=3, seconds=20) and e.deadline == T0 and e.starts_at == T0
    with rt.store.read() as tx:
        steps = [(x.payload["to"], x.at) for x in tx.events.after(0) if x.type == "notification.escalated"]
    assert steps == [(to, at) for to, at in asked[1:]]


def test_a_conflict_already_in_force_gets_the_floor_at_every_step(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    p = named(parties)
    notes.set_contacts(rt, p["alpha"], LADDER)
    clock.now = T0 + timedelta(minutes=10)  # both windows began at T0
    strike(rt, p)
    (n,) = chased(rt, p["alpha"])
    assert n.deadline == clock.now + timedelta(seconds=60)
    asked = walk(rt, clock, p["alpha"])
    assert [at - asked[0][1] for _, at in asked] == [timedelta(0), timedelta(seconds=60), timedelta(seconds=120)]
    (e,) = [x for x in notes.list_notifications(rt, p["cell"]) if x.kind == "escalation"]
    assert e.deadline == clock.now + timedelta(seconds=60)


def test_far_ahead_each_step_gets_the_default(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    p = named(parties)
    notes.set_contacts(rt, p["alpha"], LADDER)
    strike(rt, p)  # a day ahead: more than enough for three 15-minute steps
    asked = walk(rt, clock, p["alpha"])
    assert [at - asked[0][1] for _, at in asked] == [timedelta(0), timedelta(minutes=15), timedelta(minutes=30)]
    (e,) = [x for x in notes.list_notifications(rt, p["cell"]) if x.kind == "escalation"]
    assert e.deadline == clock.now + timedelta(minutes=15)


def test_every_overdue_notification_is_listed_at_every_step_with_its_steps(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    p = named(parties)
    notes.set_contacts(rt, p["alpha"], LADDER)
    clock.now = T0 - timedelta(minutes=10)
    strike(rt, p)
    (n,) = chased(rt, p["alpha"])
    assert notes.overdue(rt, p["alpha"]) == notes.overdue(rt, p["cell"]) == []  # in time so far
    assert n.deadline is not None
    first_deadline = n.deadline
    clock.now = first_deadline
    listed = notes.overdue(rt, p["alpha"])
    assert [(x.id, x.step) for x in listed] == [(n.id, 0)] and listed[0].overdue_since() == first_deadline
    for step, to in ((1, "deputy"), (2, "coordinator")):
        assert notes.run_escalations(rt) == 1
        for viewer in (p["alpha"], p["cell"]):  # the party's own view, the coordinator's view of everyone's
            (late,) = [x for x in notes.overdue(rt, viewer) if x.party_id == p["alpha"].id]
            assert (late.id, late.step, late.escalations[-1]["to"]) == (n.id, step, to)
            assert late.overdue_since() == first_deadline  # the first deadline it missed
        assert notes.overdue(rt, p["bravo"]) == []  # acknowledged in time: not late
        now = notes.get_notification(rt, p["alpha"], n.id)
        if now.deadline is not None and not now.at_coordinator:
            assert now.deadline > clock.now  # the deputy's deadline has not passed, and yet it is late
            clock.now = now.deadline
    notes.acknowledge_notification(rt, p["alpha"], n.id)
    assert [x for x in notes.overdue(rt, p["cell"]) if x.party_id == p["alpha"].id] == []


def test_plan_then_activate_is_one_chase(rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock) -> None:
    p = named(parties)
    notes.set_contacts(rt, p["alpha"], LADDER)
    notes.set_contacts(rt, p["bravo"], LADDER)
    clock.now = T0 - timedelta(minutes=30)
    b = strike(rt, p, bravo_answers=False)
    (first,) = chased(rt, p["alpha"])
    assert first.deadline is not None
    clock.now = first.deadline
    assert notes.run_escalations(rt) == 2  # both sides silent: each at the deputy
    token = b.conflicts[0].token_for(p["bravo"].id)
    op = b.operation.id
    clock.advance(seconds=30)
    ops.change_state(rt, p["bravo"], op, OperationState.PLANNED, expected_version=1, known_tokens=[token])
    clock.advance(seconds=30)
    ops.change_state(rt, p["bravo"], op, OperationState.ACTIVE, expected_version=2, known_tokens=[token])
    told = conflict_notes(rt, p["alpha"])
    assert [x.kind for x in told] == ["conflict.opened", "conflict.updated", "conflict.updated"]
    assert [x.body["version"] for x in told] == [1, 2, 3] and {x.body["content_version"] for x in told} == {1}
    # the updates are information naming the notification that carries the chase; the ladder goes on
    assert [(x.deadline, x.body.get("chase")) for x in told[1:]] == [(None, first.id), (None, first.id)]
    (carrying,) = chased(rt, p["alpha"])
    assert (carrying.id, carrying.step, carrying.escalations[-1]["to"]) == (first.id, 1, "deputy")
    assert [x.id for x in notes.overdue(rt, p["alpha"])] == [first.id]
    # ... and reaches the coordinator once, from the step it had reached, not from a restarted ladder
    assert carrying.deadline is not None
    clock.now = carrying.deadline
    assert notes.run_escalations(rt) == 2
    assert notes.get_notification(rt, p["alpha"], first.id).at_coordinator
    escalated = [x for x in notes.list_notifications(rt, p["cell"]) if x.kind == "escalation"]
    assert sorted(x.body["party"] for x in escalated) == sorted([p["alpha"].id, p["bravo"].id])
    # acknowledging the latest information stops the chase it names, and the coordinator is told
    notes.acknowledge_notification(rt, p["alpha"], told[-1].id)
    assert notes.get_notification(rt, p["alpha"], first.id).state is NotificationState.ACKNOWLEDGED
    assert [x.party_id for x in notes.overdue(rt, p["cell"])] == [p["bravo"].id]
    got = [x for x in notes.list_notifications(rt, p["cell"]) if x.kind == "escalation.acknowledged"]
    assert [x.subject_id for x in got] == [first.id]


def test_an_acknowledged_chase_stands_across_plan_and_activate(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    p = named(parties)
    clock.now = T0 - timedelta(minutes=30)
    b = strike(rt, p, bravo_answers=False)
    (first,) = chased(rt, p["alpha"])
    notes.acknowledge_notification(rt, p["alpha"], first.id)
    token = b.conflicts[0].token_for(p["bravo"].id)
    ops.change_state(rt, p["bravo"], b.operation.id, OperationState.PLANNED, expected_version=1, known_tokens=[token])
    (carrying,) = chased(rt, p["alpha"])  # nothing new to chase
    assert carrying.id == first.id and carrying.state is NotificationState.ACKNOWLEDGED
    clock.advance(hours=1)
    assert notes.run_escalations(rt) == 1  # bravo's own, never alpha's
    assert [x.party_id for x in notes.overdue(rt, p["cell"])] == [p["bravo"].id]


def test_a_change_of_content_takes_the_chase_over_at_its_step(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    p = named(parties)
    notes.set_contacts(rt, p["alpha"], LADDER)
    clock.now = T0 - timedelta(minutes=10)
    b = strike(rt, p)
    (first,) = chased(rt, p["alpha"])
    assert first.deadline is not None
    clock.now = first.deadline
    assert notes.run_escalations(rt) == 1  # alpha's deputy asked at T0 - 6:40, until T0 - 3:20
    inherited = notes.get_notification(rt, p["alpha"], first.id).deadline
    assert inherited == T0 - timedelta(minutes=3, seconds=20)
    clock.advance(seconds=20)
    token = b.conflicts[0].token_for(p["bravo"].id)
    moved = ops.revise_operation(
        rt, p["bravo"], b.operation.id, draft(40.06, 35.06), expected_version=1, known_tokens=[token]
    )
    assert moved.conflicts[0].content_version == 2
    old, new = conflict_notes(rt, p["alpha"])
    assert (old.id, new.kind) == (first.id, "conflict.updated")
    assert old.state is NotificationState.SUPERSEDED and old.superseded_by == new.id
    assert (new.step, new.at_coordinator, new.body["takes_over"]) == (1, False, first.id)
    assert [e["to"] for e in new.escalations] == ["deputy"]
    # the deputy's share of what is left (380 s, for the deputy and the coordinators) would be 190 s,
    # later than the deadline it inherits: the inherited one stands
    assert new.deadline == inherited
    assert [x.id for x in notes.overdue(rt, p["alpha"])] == [new.id]  # the superseded one is not late
    with pytest.raises(InvalidTransition) as refused:
        notes.acknowledge_notification(rt, p["alpha"], old.id)
    assert refused.value.extra["state"] == "superseded"
    with rt.store.read() as tx:
        (entry,) = [e for e in tx.events.after(0) if e.type == "notification.superseded"]
    assert entry.payload["by"] == new.id and entry.audience == (p["alpha"].id,)
    # the chase goes on from the new notification: to the coordinators, before the strike
    clock.now = new.deadline
    assert notes.run_escalations(rt) == 1
    assert notes.get_notification(rt, p["alpha"], old.id).state is NotificationState.SUPERSEDED  # never escalated
    (e,) = [x for x in notes.list_notifications(rt, p["cell"]) if x.kind == "escalation"]
    assert e.subject_id == new.id and e.created_at < T0 and e.deadline == T0
    # a change with the chase already at the coordinators keeps it there, still late
    clock.advance(seconds=10)
    ops.revise_operation(rt, p["bravo"], b.operation.id, draft(40.07, 35.07), expected_version=2, known_tokens=[token])
    latest = conflict_notes(rt, p["alpha"])[-1]
    assert latest.at_coordinator and latest.step == 2 and latest.body["takes_over"] == new.id
    assert [x.id for x in notes.overdue(rt, p["alpha"])] == [latest.id]
    notes.run_escalations(rt)  # (bravo's own chase of the new content may step; alpha's goes no further)
    assert notes.get_notification(rt, p["alpha"], latest.id).escalations == latest.escalations
    assert len([x for x in notes.list_notifications(rt, p["cell"]) if x.body.get("party") == p["alpha"].id]) == 1
    notes.acknowledge_notification(rt, p["alpha"], latest.id)  # the coordinator that got it is told
    got = [x for x in notes.list_notifications(rt, p["cell"]) if x.kind == "escalation.acknowledged"]
    assert [x.body["notification"] for x in got] == [latest.id]


def test_an_acknowledged_conflict_that_changes_is_chased_anew(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    p = named(parties)
    notes.set_contacts(rt, p["alpha"], LADDER)
    clock.now = T0 - timedelta(minutes=10)
    b = strike(rt, p)
    (first,) = chased(rt, p["alpha"])
    assert first.deadline is not None
    clock.now = first.deadline
    notes.run_escalations(rt)
    notes.acknowledge_notification(rt, p["alpha"], first.id)  # the deputy answers
    clock.advance(seconds=60)
    token = b.conflicts[0].token_for(p["bravo"].id)
    ops.revise_operation(rt, p["bravo"], b.operation.id, draft(40.06, 35.06), expected_version=1, known_tokens=[token])
    old, new = conflict_notes(rt, p["alpha"])
    assert old.state is NotificationState.ACKNOWLEDGED  # the acknowledgement of what it was stands
    # a new chase from the primary: what is left (340 s) shared by two contacts and the coordinators
    assert (new.step, new.escalations, new.state) == (0, (), NotificationState.PENDING)
    assert "takes_over" not in new.body and "chase" not in new.body
    assert new.deadline == clock.now + timedelta(seconds=340 / 3)


def test_each_step_is_recorded_exactly_and_a_coordinators_own_miss_stops(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    """The ledger entry of every step and the coordinator's ``escalation`` notification, member by member;
    a coordinator's own notification reaching the end of its ladder tells nobody further."""
    p = named(parties)
    notes.set_contacts(rt, p["alpha"], LADDER)
    clock.now = T0 - timedelta(minutes=10)
    assert notes.run_escalations(rt) == 0
    strike(rt, p)
    (n,) = chased(rt, p["alpha"])
    assert n.deadline is not None
    missed = [n.deadline]
    clock.now = n.deadline
    assert notes.run_escalations(rt) == 1
    assert notes.run_escalations(rt) == 0  # taken once
    n = notes.get_notification(rt, p["alpha"], n.id)
    assert n.deadline is not None
    missed.append(n.deadline)
    clock.now = n.deadline
    assert notes.run_escalations(rt) == 1
    with rt.store.read() as tx:
        steps = [e for e in tx.events.after(0, 10_000) if e.type == "notification.escalated"]
    assert [(e.subject_id, e.audience, dict(e.payload)) for e in steps] == [
        (
            n.id,
            (p["alpha"].id,),
            {
                "notification": n.id,
                "about": n.subject_id,
                "step": step,
                "to": to,
                "missed_deadline": format_time(missed[step - 1]),
            },
        )
        for step, to in ((1, "deputy"), (2, "coordinator"))
    ]
    (copy,) = [x for x in notes.list_notifications(rt, p["cell"], limit=1000) if x.kind == "escalation"]
    assert copy.party_id == p["cell"].id and copy.subject_id == n.id and copy.entry_seq == steps[-1].seq
    assert copy.id.startswith("nt_") and copy.id != n.id
    assert dict(copy.body) == {
        "notification": n.id,
        "party": p["alpha"].id,
        "party_name": p["alpha"].name,
        "about": n.subject_id,
        "kind": "conflict.opened",
        "missed_deadline": format_time(missed[1]),
        "starts_at": format_time(T0),
    }
    # the coordinator has no ladder: one contact, no share kept after it, so all the time left is its own
    assert copy.starts_at == T0 and copy.deadline == T0
    clock.now = T0
    assert notes.run_escalations(rt) == 1
    late = notes.get_notification(rt, p["cell"], copy.id)
    assert late.at_coordinator and late.escalations[-1]["to"] == "coordinator"
    assert [x for x in notes.list_notifications(rt, p["cell"], limit=1000) if x.kind == "escalation"] == [late]
    assert notes.run_escalations(rt) == 0
    # what is late, for whom: the party its own, the coordinator and an auditor everyone's
    assert [x.id for x in notes.overdue(rt, p["alpha"])] == [n.id]
    assert {x.id for x in notes.overdue(rt, p["cell"])} == {n.id, copy.id}
    assert notes.overdue(rt, p["bravo"]) == []


def test_a_conflict_notification_and_its_take_over_are_recorded_exactly(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    """The body of a conflict notification, and the ``notification.superseded`` entry when a change of
    content takes its chase over, member by member."""
    p = named(parties)
    notes.set_contacts(rt, p["alpha"], LADDER)
    clock.now = T0 - timedelta(minutes=10)
    b = strike(rt, p)
    (first,) = chased(rt, p["alpha"])
    c = b.conflicts[0]
    assert first.id.startswith("nt_") and first.kind == "conflict.opened" and first.subject_id == c.id
    assert dict(first.body) == {
        "conflict": c.id,
        "kind": c.kind,
        "state": "open",
        "version": 1,
        "content_version": 1,
        "counterpart": p["bravo"].name,
        "window": {"start": format_time(c.window.start), "end": format_time(c.window.end)},
        "min_horizontal_m": round(c.min_horizontal_m, 1),
    }
    # two contacts and the coordinators' share of the 10 minutes left
    assert first.deadline == clock.now + timedelta(seconds=200) and first.starts_at == c.window.start
    clock.advance(seconds=20)
    token = c.token_for(p["bravo"].id)
    ops.revise_operation(rt, p["bravo"], b.operation.id, draft(40.06, 35.06), expected_version=1, known_tokens=[token])
    old, new = conflict_notes(rt, p["alpha"])
    assert new.body["version"] == 2 and new.body["content_version"] == 2
    # its own share (580 s / 3) would end later than the deadline it inherits: the inherited one stands
    assert new.deadline == first.deadline
    with rt.store.read() as tx:
        (entry,) = [e for e in tx.events.after(0, 10_000) if e.type == "notification.superseded"]
    assert (entry.subject_id, entry.audience) == (old.id, (p["alpha"].id,))
    assert dict(entry.payload) == {
        "notification": old.id,
        "about": c.id,
        "by": new.id,
        "step": 0,
        "deadline": format_time(new.deadline),
    }
    # the overdue list pages by id
    clock.now = T0 + timedelta(hours=1)
    late = notes.overdue(rt, p["cell"])
    assert len(late) >= 2
    assert notes.overdue(rt, p["cell"], limit=1) == late[:1]
    assert notes.overdue(rt, p["cell"], after=late[0].id) == late[1:]
