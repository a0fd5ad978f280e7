"""Notifications: each side of a changed conflict is told, and nobody else; deadlines from the policy;
acknowledged is recorded; what is late shows; escalation walks the ladder to the coordinator, once, and
survives a restart."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from deconfliction.domain.notification import Contact, NotificationState
from deconfliction.domain.party import Party
from deconfliction.errors import InvalidTransition, NotFound
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from deconfliction.store.ports import Store
from tests.conftest import T0, FakeClock
from tests.service.test_operations import draft


@pytest.fixture
def crossing(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> dict[str, Party]:
    p = {n: party for n, (party, _) in parties.items()}
    ops.submit_operation(rt, p["alpha"], draft(40, 35))
    ops.submit_operation(rt, p["bravo"], draft(40.05, 35.05))
    return p


def pending(rt: Runtime, who: Party) -> list[Any]:
    return notes.list_notifications(rt, who, pending=True)


def test_each_side_is_told_once_and_nobody_else(rt: Runtime, crossing: dict[str, Party], clock: FakeClock) -> None:
    told = {name: notes.list_notifications(rt, p) for name, p in crossing.items()}
    assert [n.kind for n in told["alpha"]] == [n.kind for n in told["bravo"]] == ["conflict.opened"]
    assert told["cell"] == told["watcher"] == []
    a, b = told["alpha"][0], told["bravo"][0]
    assert a.subject_id == b.subject_id and a.body["counterpart"] == "bravo" and b.body["counterpart"] == "alpha"
    # the conflict starts the next day: the default 15 minutes
    assert a.deadline == clock.now + timedelta(minutes=15)
    # the notification points at the ledger entry that recorded what the party was told
    with rt.store.read() as tx:
        entry = next(e for e in tx.events.after(0) if e.seq == a.entry_seq)
    assert entry.type == "conflict.opened" and entry.audience == (crossing["alpha"].id,)


def test_a_conflict_starting_soon_shares_the_time_left_with_the_coordinators(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    clock.now = T0 - timedelta(minutes=20)
    ops.submit_operation(rt, parties["alpha"][0], draft(40, 35))
    ops.submit_operation(rt, parties["bravo"][0], draft(40.05, 35.05))
    (n,) = notes.list_notifications(rt, parties["alpha"][0])
    # one contact (no ladder registered) and the coordinators: half of the 20 minutes each
    assert n.deadline == clock.now + timedelta(minutes=10) and n.starts_at == T0


def test_acknowledged_once_by_the_party_itself_and_recorded(rt: Runtime, crossing: dict[str, Party]) -> None:
    (n,) = pending(rt, crossing["alpha"])
    with pytest.raises(NotFound):
        notes.acknowledge_notification(rt, crossing["bravo"], n.id)
    done, receipt = notes.acknowledge_notification(rt, crossing["alpha"], n.id)
    assert done.state is NotificationState.ACKNOWLEDGED and done.acknowledged_by == crossing["alpha"].id
    with pytest.raises(InvalidTransition):
        notes.acknowledge_notification(rt, crossing["alpha"], n.id)
    with rt.store.read() as tx:
        last = tx.events.after(receipt[0] - 1)[0]
    assert last.type == "notification.acknowledged" and last.payload["notification"] == n.id
    assert pending(rt, crossing["alpha"]) == []
    # bravo's own is still pending, and bravo is told that alpha acknowledged (test_acknowledgement_told.py)
    assert sorted(n.kind for n in pending(rt, crossing["bravo"])) == ["conflict.acknowledged", "conflict.opened"]


def test_escalation_walks_the_ladder_then_reaches_the_coordinator_once(
    rt: Runtime, crossing: dict[str, Party], clock: FakeClock
) -> None:
    alpha, bravo, cell = crossing["alpha"], crossing["bravo"], crossing["cell"]
    notes.set_contacts(rt, alpha, [{"name": "duty officer", "channels": {"phone": "1"}}, {"name": "deputy"}])
    assert notes.run_escalations(rt) == 0  # nothing is late yet
    assert notes.overdue(rt, cell) == []
    clock.advance(minutes=15)
    late = {n.party_id for n in notes.overdue(rt, cell)}
    assert late == {alpha.id, bravo.id}
    assert [n.party_id for n in notes.overdue(rt, alpha)] == [alpha.id]  # a party sees its own only
    notes.acknowledge_notification(rt, bravo, pending(rt, bravo)[0].id)  # bravo answers in time... almost
    assert notes.run_escalations(rt) == 1
    assert notes.run_escalations(rt) == 0  # the step is taken once
    (n,) = [x for x in pending(rt, alpha) if x.kind == "conflict.opened"]  # not bravo's acknowledgement
    assert (n.step, n.escalations[-1]["to"], n.deadline) == (1, "deputy", clock.now + timedelta(minutes=15))
    # a fresh deadline for the deputy, but still listed as late: the primary's deadline was missed
    assert [(x.id, x.step) for x in notes.overdue(rt, alpha)] == [(n.id, 1)]
    clock.advance(minutes=15)
    assert notes.run_escalations(rt) == 1
    (n,) = [x for x in pending(rt, alpha) if x.kind == "conflict.opened"]
    assert n.at_coordinator and n.escalations[-1]["to"] == "coordinator"
    (to_cell,) = notes.list_notifications(rt, cell)
    assert to_cell.kind == "escalation" and to_cell.body["party_name"] == "alpha"
    assert notes.run_escalations(rt) == 0 and [x.id for x in notes.overdue(rt, cell)] == [n.id]
    with rt.store.read() as tx:
        steps = [e.payload["to"] for e in tx.events.after(0) if e.type == "notification.escalated"]
    assert steps == ["deputy", "coordinator"]


def _url(store: Store, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path}/test.db" if store.backend == "sqlite" else request.getfixturevalue("postgres_url")


def test_deadlines_survive_a_restart_and_fire_once_with_several_processes(
    store: Store, clock: FakeClock, parties: dict[str, tuple[Party, str]], request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    rt = Runtime(store, clock=clock)
    ops.submit_operation(rt, parties["alpha"][0], draft(40, 35))
    ops.submit_operation(rt, parties["bravo"][0], draft(40.05, 35.05))
    url = _url(store, request, tmp_path)
    store.close()  # the process stops before the deadline
    clock.advance(minutes=16)
    servers = [Runtime(open_store(url), clock=clock) for _ in range(3)]  # restarted, three of them
    try:
        counts: list[int] = []
        threads = [threading.Thread(target=lambda r=r: counts.append(notes.run_escalations(r))) for r in servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(counts) == [0, 0, 2]  # both notifications escalated, each exactly once
        with servers[0].store.read() as tx:
            escalated = [e for e in tx.events.after(0) if e.type == "notification.escalated"]
        assert len(escalated) == 2
    finally:
        for r in servers:
            r.store.close()


def test_bad_ladders_are_refused_by_field(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    from deconfliction.errors import InvalidInput

    for bad, field in (
        ([], "contacts"),
        ([{"name": ""}], "contacts[0].name"),
        ([{"name": "x", "channels": {"pigeon": "y"}}], "contacts[0].channels.pigeon"),
        ([{"name": "x", "pager": 1}], "contacts[0].pager"),
    ):
        with pytest.raises(InvalidInput) as e:
            notes.set_contacts(rt, parties["alpha"][0], bad)
        assert e.value.errors[0].field == field
    assert notes.get_contacts(rt, parties["alpha"][0]) == ()
    notes.set_contacts(rt, parties["alpha"][0], [{"name": "ops", "channels": {"email": "ops@example.org"}}])
    assert notes.get_contacts(rt, parties["alpha"][0]) == (Contact("ops", {"email": "ops@example.org"}),)
