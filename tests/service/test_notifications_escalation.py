"""The escalation round and what is late, field by field: the ledger entry, the log record and the
coordinators' copies a step writes (a unit's included), the ladder each coordinator walks, the limit of a
round and of the overdue list, and who reads what is late. On SQLite and PostgreSQL, on a clock the test
moves."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from deconfliction.domain.notification import Notification, NotificationState
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.volume import format_time
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service import units
from deconfliction.service.delivery import register_endpoint
from deconfliction.service.parties import authenticate, create_party
from deconfliction.service.runtime import Runtime
from deconfliction.service.sanity import expire_conflicts
from tests.conftest import T0, FakeClock
from tests.service.test_operations import draft

LADDER = [{"name": "duty officer", "channels": {"phone": "1"}}, {"name": "deputy", "channels": {"radio": "2"}}]


@pytest.fixture
def p(parties: dict[str, tuple[Party, str]]) -> dict[str, Party]:
    return {n: party for n, (party, _) in parties.items()}


def escalated_entries(rt: Runtime) -> list[Any]:
    with rt.store.read() as tx:
        return [e for e in tx.events.after(0, 10_000) if e.type == "notification.escalated"]


def copies(rt: Runtime, coordinator: Party) -> list[Notification]:
    return [x for x in notes.list_notifications(rt, coordinator, limit=1000) if x.kind == "escalation"]


def planted(rt: Runtime, party: Party, count: int, *, deadline: datetime, unit_id: str | None = None) -> list[str]:
    """``count`` pending notifications of ``party`` whose deadline is ``deadline``, written straight to the
    store (no danger time: every step gets the default length)."""
    ids = []
    with rt.store.write() as tx:
        for i in range(count):
            n = Notification(
                rt.ids.new_id("nt"),
                tx.notifications.next_seq(),
                party.id,
                "site.revalidation_due",
                f"site_{i}",
                1,
                {"site": f"site_{i}"},
                deadline - timedelta(minutes=15),
                deadline,
                unit_id=unit_id,
            )
            tx.notifications.add(n)
            ids.append(n.id)
    return ids


def test_a_units_steps_are_recorded_logged_and_copied_exactly(
    rt: Runtime, p: dict[str, Party], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A unit's notification walks its ladder (one contact here) then the party's, then the coordinators:
    each step's ledger entry, log record and the coordinator's copy name the unit, the step and the
    deadline it missed."""
    convoy, _ = units.create_unit(rt, p["alpha"], "Convoy team", contacts=[{"name": "convoy lead"}])
    notes.set_contacts(rt, p["alpha"], [{"name": "watch desk"}])
    clock.now = T0 - timedelta(minutes=10)
    ops.submit_operation(rt, p["alpha"], replace(draft(40, 35), unit_id=convoy.id))
    ops.submit_operation(rt, p["bravo"], draft(40.05, 35.05))
    (n,) = [x for x in notes.list_notifications(rt, p["alpha"]) if x.kind == "conflict.opened"]
    (b,) = [x for x in notes.list_notifications(rt, p["bravo"]) if x.kind == "conflict.opened"]
    notes.acknowledge_notification(rt, p["bravo"], b.id)
    assert n.unit_id == convoy.id
    # two contacts and the coordinators' share of the 10 minutes left
    assert n.deadline == clock.now + timedelta(seconds=200)
    missed = []
    caplog.set_level(logging.INFO, logger="deconfliction.events")
    for _ in range(2):
        current = notes.get_notification(rt, p["alpha"], n.id)
        assert current.deadline is not None
        missed.append(current.deadline)
        clock.now = current.deadline
        caplog.clear()
        assert notes.run_escalations(rt) == 1
        (record,) = [r for r in caplog.records if getattr(r, "event", None) == "notification.escalated"]
        step = len(missed)
        assert record.getMessage() == (
            f"notification {n.id} (conflict.opened) of {p['alpha'].id} escalated: step {step}"
            + (" to the coordinators" if step == 2 else "")
        )
        fields = {k: getattr(record, k) for k in ("notification", "kind", "about", "party", "step", "to_coordinator")}
        assert fields == {
            "notification": n.id,
            "kind": "conflict.opened",
            "about": n.subject_id,
            "party": p["alpha"].id,
            "step": step,
            "to_coordinator": step == 2,
        }
    assert missed == [T0 - timedelta(minutes=10) + timedelta(seconds=200), T0 - timedelta(seconds=200)]
    steps = escalated_entries(rt)
    assert [(e.subject_id, e.audience, e.at, dict(e.payload)) for e in steps] == [
        (
            n.id,
            (p["alpha"].id,),
            missed[i],
            {
                "notification": n.id,
                "about": n.subject_id,
                "step": i + 1,
                "to": to,
                "missed_deadline": format_time(missed[i]),
                "unit": convoy.id,
            },
        )
        for i, to in enumerate(("watch desk", "coordinator"))
    ]
    (copy,) = copies(rt, p["cell"])
    assert (copy.party_id, copy.subject_id, copy.entry_seq, copy.unit_id) == (p["cell"].id, n.id, steps[1].seq, None)
    assert dict(copy.body) == {
        "notification": n.id,
        "party": p["alpha"].id,
        "party_name": p["alpha"].name,
        "about": n.subject_id,
        "kind": "conflict.opened",
        "missed_deadline": format_time(missed[1]),
        "starts_at": format_time(T0),
        "unit": convoy.id,
    }
    assert (copy.created_at, copy.starts_at, copy.deadline) == (missed[1], T0, T0)


def test_each_coordinator_gets_a_copy_with_a_deadline_from_its_own_ladder(
    rt: Runtime, p: dict[str, Party], clock: FakeClock
) -> None:
    """Two coordinators: each gets its own copy; the one with a ladder of two shares the time left between
    its contacts (no share kept after it), the one without has all of it."""
    night, _ = create_party(rt, None, "night cell", Role.COORDINATOR)
    notes.set_contacts(rt, p["cell"], LADDER)
    clock.now = T0 - timedelta(minutes=10)
    ops.submit_operation(rt, p["alpha"], draft(40, 35))
    ops.submit_operation(rt, p["bravo"], draft(40.05, 35.05))
    (b,) = [x for x in notes.list_notifications(rt, p["bravo"]) if x.kind == "conflict.opened"]
    notes.acknowledge_notification(rt, p["bravo"], b.id)
    (n,) = [x for x in notes.list_notifications(rt, p["alpha"]) if x.kind == "conflict.opened"]
    # alpha has no ladder: one contact, then the coordinators (300 s each of the 10 minutes)
    assert n.deadline == clock.now + timedelta(minutes=5)
    clock.now = n.deadline
    assert notes.run_escalations(rt) == 1
    (entry,) = escalated_entries(rt)
    assert entry.payload["to"] == "coordinator" and "unit" not in entry.payload
    (to_cell,) = copies(rt, p["cell"])
    (to_night,) = copies(rt, night)
    assert to_cell.id != to_night.id and to_cell.seq != to_night.seq
    assert to_cell.entry_seq == to_night.entry_seq == entry.seq
    assert to_cell.body == to_night.body and "unit" not in to_cell.body
    assert to_cell.deadline == clock.now + timedelta(seconds=150)  # 300 s left, two contacts
    assert to_night.deadline == T0  # no ladder: all 300 s
    # the cell's copy steps to its deputy, with what is left, and stops there (its own miss goes no further)
    clock.now = to_cell.deadline
    assert notes.run_escalations(rt) == 1
    stepped = notes.get_notification(rt, p["cell"], to_cell.id)
    assert (stepped.step, stepped.escalations[-1]["to"], stepped.deadline) == (1, "deputy", T0)
    assert len(copies(rt, p["cell"])) == len(copies(rt, night)) == 1


def test_a_miss_without_a_danger_time_reaches_the_coordinators_endpoint(
    rt: Runtime, p: dict[str, Party], clock: FakeClock
) -> None:
    """A notification with no danger time (a site to revalidate) whose party has no ladder: its first miss
    goes to the coordinator, whose copy has no danger time either, the default length, and is queued for
    the coordinator's endpoint as it is stored."""
    register_endpoint(rt, p["cell"], "email", "cell@example.org")
    (n,) = planted(rt, p["alpha"], 1, deadline=clock.now)
    clock.advance(seconds=5)
    assert notes.run_escalations(rt) == 1
    (entry,) = escalated_entries(rt)
    assert dict(entry.payload) == {
        "notification": n,
        "about": "site_0",
        "step": 1,
        "to": "coordinator",
        "missed_deadline": format_time(clock.now - timedelta(seconds=5)),
    }
    (copy,) = copies(rt, p["cell"])
    assert dict(copy.body) == {
        "notification": n,
        "party": p["alpha"].id,
        "party_name": p["alpha"].name,
        "about": "site_0",
        "kind": "site.revalidation_due",
        "missed_deadline": format_time(clock.now - timedelta(seconds=5)),
        "starts_at": None,
    }
    assert (copy.starts_at, copy.deadline, copy.created_at) == (None, clock.now + timedelta(minutes=15), clock.now)
    with rt.store.read() as tx:
        (queued,) = tx.deliveries.list(party_id=p["cell"].id)
    assert (queued.notification_id, queued.created_at) == (copy.id, clock.now)
    assert orjson.loads(queued.body) == orjson.loads(orjson.dumps(copy.record()))


def test_a_round_takes_at_most_its_limit(rt: Runtime, p: dict[str, Party], clock: FakeClock) -> None:
    """103 steps due: a round takes the limit it is given, or 100 by default, in deadline order; the next
    round takes the rest, and a step taken is not taken again."""
    notes.set_contacts(rt, p["alpha"], LADDER)
    late = planted(rt, p["alpha"], 103, deadline=clock.now)
    assert notes.run_escalations(rt, limit=2) == 2
    assert [notes.get_notification(rt, p["alpha"], i).step for i in late[:3]] == [1, 1, 0]
    assert notes.run_escalations(rt) == 100
    assert notes.get_notification(rt, p["alpha"], late[-1]).step == 0
    assert notes.run_escalations(rt) == 1
    assert notes.run_escalations(rt) == 0
    stepped = [notes.get_notification(rt, p["alpha"], i) for i in late]
    assert {(x.step, x.escalations[-1]["to"], x.deadline) for x in stepped} == {
        (1, "deputy", clock.now + timedelta(minutes=15))
    }
    assert copies(rt, p["cell"]) == []


def test_the_overdue_list_is_the_viewers_and_pages_by_100(rt: Runtime, p: dict[str, Party], clock: FakeClock) -> None:
    """A party reads its own late notifications, the coordinator and an auditor everyone's, 100 at a time
    unless told otherwise; an observer and a party with nothing late read nothing."""
    auditor, _ = create_party(rt, None, "audit", Role.AUDITOR)
    late = sorted(planted(rt, p["alpha"], 101, deadline=clock.now))  # the list pages by id
    (bravos,) = planted(rt, p["bravo"], 1, deadline=clock.now + timedelta(seconds=1))
    assert [x.id for x in notes.overdue(rt, p["alpha"])] == late[:100]
    assert [x.id for x in notes.overdue(rt, p["alpha"], limit=101)] == late
    assert [x.id for x in notes.overdue(rt, p["alpha"], after=late[99])] == late[100:]
    for everyone in (p["cell"], auditor):
        assert [x.id for x in notes.overdue(rt, everyone)] == late[:100]
        assert [x.id for x in notes.overdue(rt, everyone, after=late[99])] == late[100:]
    assert notes.overdue(rt, p["bravo"]) == notes.overdue(rt, p["watcher"]) == []
    clock.advance(seconds=1)  # bravo's deadline, to the microsecond
    assert [x.id for x in notes.overdue(rt, p["bravo"])] == [bravos]
    assert [x.id for x in notes.overdue(rt, auditor, limit=500)] == sorted([*late, bravos])


def test_a_unit_key_reads_what_is_late_for_its_unit_and_its_party_only(
    rt: Runtime, p: dict[str, Party], clock: FakeClock
) -> None:
    convoy, _ = units.create_unit(rt, p["alpha"], "Convoy team")
    air, _ = units.create_unit(rt, p["alpha"], "Air wing")
    _, key, _ = units.issue_unit_key(rt, p["alpha"], convoy.id)
    as_convoy = authenticate(rt, key)
    (own,) = planted(rt, p["alpha"], 1, deadline=clock.now, unit_id=convoy.id)
    (sibling,) = planted(rt, p["alpha"], 1, deadline=clock.now, unit_id=air.id)
    (party,) = planted(rt, p["alpha"], 1, deadline=clock.now)
    assert [x.id for x in notes.overdue(rt, as_convoy)] == sorted([own, party])
    assert [x.id for x in notes.overdue(rt, p["alpha"])] == sorted([own, sibling, party])


def test_a_conflict_notification_is_queued_for_the_partys_endpoint_with_its_distance_to_a_decimetre(
    rt: Runtime, p: dict[str, Party], clock: FakeClock
) -> None:
    """Two operations side by side, a little under 100 m apart (closer than the minimum, not touching):
    each side is told the closest distance to a decimetre, and the notification is queued for the
    party's endpoint as stored."""
    register_endpoint(rt, p["alpha"], "email", "alpha@example.org")
    ops.submit_operation(rt, p["alpha"], draft(40, 35))
    made = ops.submit_operation(rt, p["bravo"], draft(40.101, 35))
    assert not isinstance(made, ops.StoredResponse)
    (c,) = made.conflicts
    assert 80.0 < c.min_horizontal_m < 100.0 and round(c.min_horizontal_m, 1) != round(c.min_horizontal_m, 2)
    (n,) = [x for x in notes.list_notifications(rt, p["alpha"]) if x.kind == "conflict.opened"]
    assert n.body["min_horizontal_m"] == round(c.min_horizontal_m, 1) and isinstance(n.body["min_horizontal_m"], float)
    with rt.store.read() as tx:
        (queued,) = tx.deliveries.list(party_id=p["alpha"].id)
        assert tx.deliveries.list(party_id=p["bravo"].id) == []  # bravo has no endpoint
    assert (queued.notification_id, queued.created_at) == (n.id, clock.now)
    assert orjson.loads(queued.body) == orjson.loads(orjson.dumps(n.record()))


def test_acknowledging_information_whose_chase_was_answered_touches_only_itself(
    rt: Runtime, p: dict[str, Party], clock: FakeClock
) -> None:
    """An update without a change of content names the chase; once that chase was acknowledged,
    acknowledging the update records the update alone (no chase in its ledger entry)."""
    clock.now = T0 - timedelta(minutes=30)
    ops.submit_operation(rt, p["alpha"], draft(40, 35))
    b = ops.submit_operation(rt, p["bravo"], draft(40.05, 35.05))
    assert not isinstance(b, ops.StoredResponse)
    (first,) = [x for x in notes.list_notifications(rt, p["alpha"]) if x.kind == "conflict.opened"]
    notes.acknowledge_notification(rt, p["alpha"], first.id)
    answered = notes.get_notification(rt, p["alpha"], first.id)
    token = b.conflicts[0].token_for(p["bravo"].id)
    clock.advance(seconds=30)
    ops.change_state(rt, p["bravo"], b.operation.id, OperationState.PLANNED, expected_version=1, known_tokens=[token])
    (update,) = [x for x in notes.list_notifications(rt, p["alpha"]) if x.kind == "conflict.updated"]
    assert update.body["chase"] == first.id and update.deadline is None
    clock.advance(seconds=30)
    done, receipt = notes.acknowledge_notification(rt, p["alpha"], update.id)
    with rt.store.read() as tx:
        entry = tx.events.after(receipt[0] - 1)[0]
    assert done.state is NotificationState.ACKNOWLEDGED
    assert entry.type == "notification.acknowledged" and entry.subject_id == update.id
    assert "chase" not in entry.payload
    assert notes.get_notification(rt, p["alpha"], first.id) == answered  # its acknowledgement stands as it was


def test_historical_and_expired_conflicts_are_told_for_information_only(
    rt: Runtime, p: dict[str, Party], clock: FakeClock
) -> None:
    """A conflict with a historical record is told marked ``historical`` and without a deadline; a chased
    conflict whose window ends is told ``expired`` without a deadline, taking over no chase."""
    clock.now = T0 - timedelta(hours=1)
    ops.submit_operation(rt, p["bravo"], draft(40.05, 35.05))
    clock.now = T0 + timedelta(days=2)  # filed afterwards, for the record
    historical = replace(draft(40, 35), historical=True)
    ops.submit_operation(rt, p["alpha"], historical)
    (told,) = [x for x in notes.list_notifications(rt, p["alpha"]) if x.kind.startswith("conflict.")]
    assert (told.deadline, told.body["historical"], told.body["state"]) == (None, True, "expired")
    # a live crossing, chased, then expired at the end of its window
    clock.now = T0 - timedelta(hours=1)
    ops.submit_operation(rt, p["alpha"], draft(50, 35))
    ops.submit_operation(rt, p["bravo"], draft(50.05, 35.05))
    (chased,) = [x for x in notes.list_notifications(rt, p["bravo"]) if x.deadline is not None]
    assert "historical" not in chased.body
    (answered,) = [x for x in notes.list_notifications(rt, p["alpha"]) if x.body.get("conflict") == chased.subject_id]
    notes.acknowledge_notification(rt, p["alpha"], answered.id)  # alpha answered its chase; bravo did not
    clock.now = T0 + timedelta(hours=2)
    assert expire_conflicts(rt) == 1
    for party in (p["alpha"], p["bravo"]):
        (expired,) = [x for x in notes.list_notifications(rt, party) if x.kind == "conflict.expired"]
        assert (expired.deadline, expired.step, expired.escalations) == (None, 0, ())
        assert not {"chase", "takes_over", "historical"} & set(expired.body)
    with rt.store.read() as tx:
        assert [e for e in tx.events.after(0, 10_000) if e.type == "notification.superseded"] == []
