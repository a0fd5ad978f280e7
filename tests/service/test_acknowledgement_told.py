"""The other side is told of an acknowledgement ("did they get it?"), on SQLite and PostgreSQL.

When a party acknowledges a notification about something it shares with one other party (a conflict of
any kind, a tactical alert, a hotline message, a request), that party gets exactly one notification
``<subject>.acknowledged`` in the same write: no deadline, never escalated, its entry the acknowledgement's
ledger entry (readable by both), its body nothing of the acknowledging party's own plan. Acknowledging it
tells nobody; acknowledging twice is refused and tells nothing more; a late acknowledgement of one that
reached the coordinators tells them too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest

from deconfliction.domain.conflict import Conflict
from deconfliction.domain.hotline import MessageContent
from deconfliction.domain.notification import Notification, NotificationState
from deconfliction.domain.party import Party
from deconfliction.domain.tactical import (
    Alert,
    AlertChange,
    AlertKind,
    AlertState,
    Prediction,
    TacticalRule,
)
from deconfliction.domain.volume import format_time
from deconfliction.errors import InvalidTransition
from deconfliction.service import hotline, lines, sites
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service import requests as asks
from deconfliction.service.ledger import export_ledger
from deconfliction.service.runtime import Runtime
from tests.conftest import T0, FakeClock
from tests.service import test_lines, test_sites, test_zones
from tests.service.test_operations import draft


def stream(rt: Runtime, who: Party) -> list[Notification]:
    """Everything on the party's stream (``/v1/stream`` reads the same)."""
    return notes.stream_after(rt, who, 0)


def kinds(rt: Runtime, who: Party) -> list[str]:
    return [n.kind for n in stream(rt, who)]


def only(rt: Runtime, who: Party, kind: str) -> Notification:
    (n,) = [n for n in stream(rt, who) if n.kind == kind]
    return n


def ledger_view(rt: Runtime, who: Party, seq: int) -> dict[str, Any]:
    """Entry ``seq`` as ``GET /v1/ledger`` gives it to ``who``: with its content, or redacted."""
    (line,) = [x for x in list(export_ledger(rt, who))[1:] if x["seq"] == seq]
    return line


@pytest.fixture
def who(parties: dict[str, tuple[Party, str]]) -> dict[str, Party]:
    return {n: p for n, (p, _) in parties.items()}


@pytest.fixture
def crossing(rt: Runtime, who: dict[str, Party]) -> tuple[Conflict, str]:
    """alpha and bravo in an operation x operation conflict; the conflict and bravo's operation id."""
    ops.submit_operation(rt, who["alpha"], draft(40, 35))
    made = ops.submit_operation(rt, who["bravo"], draft(40.05, 35.05))
    (c,) = made.conflicts
    return c, made.operation.id


def test_the_other_side_is_told_once_with_no_deadline_and_nothing_of_the_plan(
    rt: Runtime, who: dict[str, Party], crossing: tuple[Conflict, str], clock: FakeClock
) -> None:
    alpha, bravo = who["alpha"], who["bravo"]
    c, bravo_op = crossing
    opened = only(rt, bravo, "conflict.opened")
    clock.advance(minutes=3)
    done, receipt = notes.acknowledge_notification(rt, bravo, opened.id)
    told = only(rt, alpha, "conflict.acknowledged")
    assert told.subject_id == c.id and told.party_id == alpha.id and told.seq > opened.seq
    assert told.deadline is None and told.state is NotificationState.PENDING and told.step == 0
    assert dict(told.body) == {
        "conflict": c.id,
        "version": 1,
        "about": c.id,
        "kind": "conflict.opened",
        "acknowledged_by": bravo.id,
        "acknowledged_by_name": "bravo",
        "acknowledged_at": format_time(clock.now),
    }
    assert done.acknowledged_at == clock.now
    # bravo, who acknowledged, is told nothing; nobody else is told anything
    assert kinds(rt, alpha) == ["conflict.opened", "conflict.acknowledged"]
    assert kinds(rt, bravo) == ["conflict.opened"]
    assert stream(rt, who["cell"]) == stream(rt, who["watcher"]) == []
    # its entry is the acknowledgement, the last entry of that write, and both sides read it
    assert told.entry_seq == receipt[0]
    for reader in (alpha, bravo, who["cell"]):
        content = ledger_view(rt, reader, told.entry_seq)["content"]
        assert content["type"] == "notification.acknowledged" and content["payload"]["notification"] == opened.id
    assert ledger_view(rt, who["watcher"], told.entry_seq).get("redacted") is True
    # need-to-know: alpha never learns bravo's operation from it
    assert bravo_op not in orjson.dumps(told.record()).decode()
    assert bravo_op not in orjson.dumps(ledger_view(rt, alpha, told.entry_seq)).decode()


def test_it_never_escalates_and_acknowledging_it_tells_nobody(
    rt: Runtime, who: dict[str, Party], crossing: tuple[Conflict, str], clock: FakeClock
) -> None:
    alpha, bravo, cell = who["alpha"], who["bravo"], who["cell"]
    notes.set_contacts(rt, alpha, [{"name": "duty"}, {"name": "deputy"}])
    for p in (alpha, bravo):
        notes.acknowledge_notification(rt, p, only(rt, p, "conflict.opened").id)
    told = {p.name: only(rt, p, "conflict.acknowledged") for p in (alpha, bravo)}
    assert told["alpha"].body["acknowledged_by"] == bravo.id and told["bravo"].body["acknowledged_by"] == alpha.id
    clock.advance(days=3)
    assert notes.run_escalations(rt) == 0
    assert notes.overdue(rt, cell) == [] and stream(rt, cell) == []
    # a party may acknowledge it (harmless, recorded for itself only); nobody is told of that
    before = {p.name: kinds(rt, p) for p in (alpha, bravo, cell)}
    done, receipt = notes.acknowledge_notification(rt, alpha, told["alpha"].id)
    assert done.state is NotificationState.ACKNOWLEDGED
    assert {p.name: kinds(rt, p) for p in (alpha, bravo, cell)} == before
    with rt.store.read() as tx:
        (entry,) = tx.events.after(receipt[0] - 1)
    assert entry.type == "notification.acknowledged" and entry.audience == (alpha.id,)


def test_acknowledging_twice_is_refused_and_tells_nothing_more(
    rt: Runtime, who: dict[str, Party], crossing: tuple[Conflict, str]
) -> None:
    alpha, bravo = who["alpha"], who["bravo"]
    opened = only(rt, bravo, "conflict.opened")
    notes.acknowledge_notification(rt, bravo, opened.id)
    with rt.store.read() as tx:
        head = tx.events.head()
    streams = {p.name: stream(rt, p) for p in who.values()}
    with pytest.raises(InvalidTransition):
        notes.acknowledge_notification(rt, bravo, opened.id)
    with rt.store.read() as tx:
        assert tx.events.head() == head
    assert {p.name: stream(rt, p) for p in who.values()} == streams
    assert kinds(rt, alpha).count("conflict.acknowledged") == 1


def test_a_late_acknowledgement_of_an_escalated_one_tells_the_counterpart_and_the_coordinator(
    rt: Runtime, who: dict[str, Party], crossing: tuple[Conflict, str], clock: FakeClock
) -> None:
    alpha, bravo, cell = who["alpha"], who["bravo"], who["cell"]
    notes.acknowledge_notification(rt, bravo, only(rt, bravo, "conflict.opened").id)
    notes.set_contacts(rt, alpha, [{"name": "duty"}])
    clock.advance(minutes=16)
    assert notes.run_escalations(rt) == 1  # alpha's only: bravo's answered, alpha's told one never escalates
    late = only(rt, alpha, "conflict.opened")
    escalation = only(rt, cell, "escalation")
    assert late.at_coordinator and escalation.body["notification"] == late.id
    clock.advance(minutes=5)
    notes.acknowledge_notification(rt, alpha, late.id)
    told = only(rt, bravo, "conflict.acknowledged")
    assert told.body["acknowledged_by"] == alpha.id and told.deadline is None
    settled = only(rt, cell, "escalation.acknowledged")
    assert settled.subject_id == late.id == settled.body["notification"] and settled.deadline is None
    assert settled.body["acknowledged_at"] == format_time(clock.now) and settled.entry_seq == told.entry_seq
    assert notes.overdue(rt, cell) == []  # alpha's is no longer late
    # the coordinator's own escalation copy is left as it was (its deadline and ladder unchanged)
    assert notes.get_notification(rt, cell, escalation.id) == escalation
    assert kinds(rt, alpha) == ["conflict.opened", "conflict.acknowledged"]


def _zone(rt: Runtime, who: dict[str, Party]) -> tuple[Party, Party, Conflict, str]:
    operator, owner = who["bravo"], who["alpha"]
    inside = ops.submit_operation(rt, operator, test_zones.op_at(40.05, 35.05)).operation
    (c,) = test_zones.agreed_zone(rt, owner, operator).changed
    return operator, owner, c, inside.id


def _site(rt: Runtime, who: dict[str, Party]) -> tuple[Party, Party, Conflict, str]:
    operator, owner = who["bravo"], who["alpha"]
    near = ops.submit_operation(rt, operator, test_sites.circle_op(test_sites.east_of(test_sites.HOSPITAL, 500)))
    (c,) = sites.create_site(rt, owner, test_sites.site_draft()).changed
    return operator, owner, c, near.operation.id


def _band(rt: Runtime, who: dict[str, Party]) -> tuple[Party, Party, Conflict, str]:
    operator, other = who["alpha"], who["bravo"]
    near = ops.submit_operation(rt, operator, test_lines.op_at(10.1, 45.102)).operation
    (c,) = lines.create_line(rt, other, test_lines.draft(operator.id, other.id)).changed
    return operator, other, c, near.id


@pytest.mark.parametrize("make", [_zone, _site, _band], ids=["zone_entry", "protected_site", "band_entry"])
def test_area_conflicts_tell_the_owner_and_the_operator(rt: Runtime, who: dict[str, Party], make: Any) -> None:
    operator, owner, c, op_id = make(rt, who)
    assert (c.party_a, c.party_b) == (operator.id, owner.id)
    notes.acknowledge_notification(rt, operator, only(rt, operator, "conflict.opened").id)
    to_owner = only(rt, owner, "conflict.acknowledged")
    assert to_owner.subject_id == c.id and to_owner.body["acknowledged_by"] == operator.id
    assert op_id not in orjson.dumps(to_owner.record()).decode()  # the owner never sees the operation
    notes.acknowledge_notification(rt, owner, only(rt, owner, "conflict.opened").id)
    assert only(rt, operator, "conflict.acknowledged").body["acknowledged_by_name"] == owner.name
    assert kinds(rt, who["cell"]) == kinds(rt, who["watcher"]) == []


def test_a_message_acknowledged_tells_its_sender_only(rt: Runtime, who: dict[str, Party]) -> None:
    alpha, bravo, cell = who["alpha"], who["bravo"], who["cell"]
    thread, message, _ = hotline.start_thread(
        rt, alpha, [bravo.id, cell.id], "Convoy 14:00", MessageContent(text="Convoy at the bridge at 14:00.")
    )
    notes.acknowledge_notification(rt, bravo, only(rt, bravo, "message").id)
    told = only(rt, alpha, "message.acknowledged")
    assert told.subject_id == message.id and told.deadline is None
    assert (told.body["message"], told.body["thread"], told.body["acknowledged_by"]) == (
        message.id,
        thread.id,
        bravo.id,
    )
    assert kinds(rt, cell) == ["message"] and kinds(rt, bravo) == ["message"]


def test_a_request_acknowledged_tells_the_requester_and_answers_nothing(
    rt: Runtime, who: dict[str, Party], crossing: tuple[Conflict, str]
) -> None:
    alpha, bravo = who["alpha"], who["bravo"]
    c, _ = crossing
    r, _ = asks.make_request(rt, alpha, {"kind": "other", "about": c.id, "text": "Can you climb 1,000 ft?"})
    notes.acknowledge_notification(rt, bravo, only(rt, bravo, "request.opened").id)
    told = only(rt, alpha, "request.acknowledged")
    assert (told.subject_id, told.body["request"], told.body["acknowledged_by"]) == (r.id, r.id, bravo.id)
    assert asks.get_request(rt, alpha, r.id).state.value == "open"  # received is not approved


def _alert(a: tuple[str, str], b: tuple[str, str]) -> AlertChange:
    p = Prediction(T0 + timedelta(minutes=3), T0 + timedelta(minutes=4), 900.0, 100.0, False, TacticalRule())
    return AlertChange("raised", Alert("al-1", AlertKind.TRACKS, (a, b), AlertState.NEW, p, T0, T0, T0))


def test_a_tactical_alert_acknowledged_tells_the_other_party_but_not_its_track(
    rt: Runtime, who: dict[str, Party]
) -> None:
    alpha, bravo = who["alpha"], who["bravo"]
    notes.notify_alert(rt, _alert((alpha.id, "ALPHA-TRACK-1"), (bravo.id, "BRAVO-TRACK-7")))
    notes.acknowledge_notification(rt, bravo, only(rt, bravo, "tactical.raised").id)
    told = only(rt, alpha, "tactical.acknowledged")
    assert (told.subject_id, told.body["alert"], told.body["acknowledged_by"]) == ("al-1", "al-1", bravo.id)
    assert "BRAVO-TRACK-7" not in orjson.dumps(told.record()).decode()
    assert kinds(rt, bravo) == ["tactical.raised"]


def test_what_is_not_shared_with_another_party_tells_nobody(
    rt: Runtime, who: dict[str, Party], clock: FakeClock
) -> None:
    alpha = who["alpha"]
    # one party's own two aircraft (a deployment may check those)
    notes.notify_alert(rt, _alert((alpha.id, "ALPHA-1"), (alpha.id, "ALPHA-2")))
    # a site of its own to revalidate
    sites.create_site(rt, alpha, test_sites.site_draft(days=2))
    clock.now = T0 + timedelta(days=3)
    assert notes.flag_expired_sites(rt) == 1
    mine = stream(rt, alpha)
    assert sorted(n.kind for n in mine) == ["site.revalidation_due", "tactical.raised", "tactical.raised"]
    for n in mine:
        _, receipt = notes.acknowledge_notification(rt, alpha, n.id)
        with rt.store.read() as tx:
            (entry,) = tx.events.after(receipt[0] - 1)
        assert entry.audience == (alpha.id,)
    assert [n.id for n in stream(rt, alpha)] == [n.id for n in mine]
    assert all(stream(rt, p) == [] for p in who.values() if p is not alpha)
