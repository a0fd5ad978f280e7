"""Use cases of notifications: tell each party concerned, take acknowledgements, show what is late, and
escalate down the on-call ladder when a deadline passes.

Notifications are written in the same transaction as the change they report, numbered in commit order,
so a party's stream (``/v1/stream``) resumes after the last number it saw with no gap and no repeat,
whichever API process wrote them: the notifications table is the outbox every process reads. Deadlines
and escalation steps are rows, not timers: ``run_escalations`` (called every second by each server, and
safe to call from any number of processes) takes the due ones inside one serialised write, so each step
happens exactly once and survives restarts.

An acknowledgement is told to the other side ("did they get it?"): acknowledging a notification about
something shared with one other party (a conflict, a tactical alert, a hotline message, a request) gives
that party, in the same write, a notification ``<subject>.acknowledged`` (``conflict.acknowledged``,
``tactical.acknowledged``, ``message.acknowledged``, ``request.acknowledged``) without a deadline, whose
entry is the acknowledgement's ledger entry (its audience names both). When the acknowledged notification
had been escalated to the coordinators, each coordinator that got the escalation is told too
(``escalation.acknowledged``). Acknowledging one of these tells nobody: no ping-pong.

Deadlines come from the time left before the danger (``EscalationPolicy``, the runtime's
``escalation``): a notification keeps its danger time (``starts_at``), and every step recomputes from
what is then left. One conflict version, one chase: a party's later notification about the same conflict
is information when the conflict's content did not change, or takes the pending chase over at its step
when it did (``domain.notification.take_over``; the older one is ``superseded``, a ledger entry
``notification.superseded``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from deconfliction import wire
from deconfliction.domain.conflict import Conflict, ConflictState
from deconfliction.domain.notification import (
    ESCALATION_KIND,
    Contact,
    Notification,
    NotificationState,
    acknowledge,
    chase_of,
    escalate,
    first_deadline,
    parse_contacts,
    take_over,
)
from deconfliction.domain.party import Party, Role
from deconfliction.domain.site import ProtectedSite, revalidation_due
from deconfliction.domain.tactical import NO_PARTY, Alert, AlertChange, AlertKind
from deconfliction.domain.unit import escalation_ladder
from deconfliction.domain.volume import format_time
from deconfliction.errors import Forbidden, NotFound
from deconfliction.service.delivery import enqueue
from deconfliction.service.events import after_commit, emit
from deconfliction.service.runtime import Runtime
from deconfliction.service.units import ladder_for, unit_of_side
from deconfliction.service.views import may_read_notification, may_see_unit_item
from deconfliction.store.ports import Transaction

log = logging.getLogger("deconfliction.notifications")


def _reads_all(viewer: Party) -> bool:
    return viewer.sees_all or viewer.role is Role.AUDITOR


def unchased(c: Conflict) -> bool:
    """Nothing to chase: a historical record, or a conflict whose window ended (expired). Its sides are
    told without a deadline: information, never overdue, never escalated."""
    return c.historical or c.state is ConflictState.EXPIRED


def notify_conflict(
    tx: Transaction,
    rt: Runtime,
    c: Conflict,
    party_id: str,
    entry_seq: int,
    kind: str,
    counterpart: str | None,
    unit_id: str | None = None,
) -> Notification:
    """Inside the write that changed ``c``: tell ``party_id`` (one of its sides) what its ledger entry
    ``entry_seq`` recorded, with a deadline from the time left before the conflict starts; one chase per
    version of the conflict (``take_over``). ``unit_id``: the party's unit concerned (its
    object in the conflict was declared by it), told with the party's watch desk."""
    now = rt.clock()
    contacts = ladder_length(tx, party_id, unit_id)
    n = Notification(
        rt.ids.new_id("nt"),
        tx.notifications.next_seq(),
        party_id,
        f"conflict.{kind}",
        c.id,
        entry_seq,
        {
            "conflict": c.id,
            "kind": c.kind,
            "state": c.state.value,
            "version": c.version,
            "content_version": c.content_version,
            "counterpart": counterpart,
            "window": {"start": format_time(c.window.start), "end": format_time(c.window.end)},
            "min_horizontal_m": round(c.min_horizontal_m, 1),
            **({"historical": True} if c.historical else {}),
        },
        now,
        None if unchased(c) else first_deadline(rt.escalation, now, c.window.start, contacts),
        starts_at=c.window.start,
        unit_id=unit_id,
    )
    prior = None
    if c.version > 1 and not unchased(c):  # a new conflict has no earlier notification; nothing to chase
        earlier = [
            x
            for x in tx.notifications.for_subject(party_id, c.id)
            if x.kind.startswith("conflict.") and not x.kind.endswith(ACKNOWLEDGED)
        ]
        prior = chase_of(earlier)
    chase = take_over(n, prior, now=now, policy=rt.escalation, contacts=contacts)
    n = chase.notification
    tx.notifications.add(n)
    if chase.superseded is not None:
        old = chase.superseded
        tx.notifications.save(old)
        tx.events.append(
            at=now,
            actor_id=None,
            type="notification.superseded",
            subject_id=old.id,
            payload={
                "notification": old.id,
                "about": old.subject_id,
                "by": n.id,
                "step": n.step,
                "deadline": format_time(n.deadline) if n.deadline else None,
            },
            audience=[party_id],
        )
    enqueue(tx, rt, n)
    return n


def prepare_to_tell(tx: Transaction, conflicts: Iterable[Conflict]) -> None:
    """Before telling both sides of each of ``conflicts`` (``notify_conflict``, one call per side): their
    on-call ladders and delivery endpoints read in one statement each, not one per side and conflict."""
    parties = {side for c in conflicts for side in (c.party_a, c.party_b)}
    tx.contacts.prefetch(parties)
    tx.endpoints.prefetch(parties)


def ladder_length(tx: Transaction, party_id: str, unit_id: str | None = None) -> int:
    """How many contacts a party's notification walks before the coordinators: the unit's ladder, if it
    concerns a unit, then the party's (1 without any)."""
    unit = tx.units.get(unit_id) if unit_id is not None else None
    return max(len(escalation_ladder(unit, tx.contacts.get(party_id))), 1)


def acknowledge_notification(rt: Runtime, actor: Party, notification_id: str) -> tuple[Notification, tuple[int, str]]:
    """Received (never "approved"): recorded with its time, in the ledger too, and told in the same write
    to the other side of what the notification was about and to the coordinators it was escalated to."""
    with after_commit(), rt.store.write() as tx:
        n = tx.notifications.get(notification_id)
        if n is None or n.party_id != actor.id or not may_see_unit_item(actor, n.party_id, n.unit_id):
            raise NotFound(f"no notification {notification_id}", id=notification_id)
        now = rt.clock()
        done = acknowledge(n, by=actor.id, now=now)
        tx.notifications.save(done)
        emit(
            rt,
            "notification.acknowledged",
            f"notification {n.id} ({n.kind}) acknowledged by {actor.id}",
            notification=n.id,
            kind=n.kind,
            about=n.subject_id,
            party=actor.id,
        )
        # information about a conflict whose chase another notification carries: received, so that chase stops
        chase = _pending_chase(tx, n)
        if chase is not None:
            tx.notifications.save(acknowledge(chase, by=actor.id, now=now))
        counterpart = _counterpart(tx, n)
        at = done.acknowledged_at or now
        payload: dict[str, Any] = {"notification": n.id, "about": n.subject_id, "entry": n.entry_seq, "kind": n.kind}
        if chase is not None:
            payload["chase"] = chase.id
        if actor.unit_id is not None:
            payload["by_unit"] = actor.unit_id
        seq = tx.events.append(
            at=at,
            actor_id=actor.id,
            type="notification.acknowledged",
            subject_id=n.id,
            payload=payload,
            audience=[actor.id] if counterpart is None else [actor.id, counterpart],
        )
        body = _acknowledgement_body(n, actor, at)
        if counterpart is not None:
            unit = _unit_told(tx, n, counterpart)
            _tell(tx, rt, counterpart, f"{_subject_of(n.kind)}{ACKNOWLEDGED}", n.subject_id, seq, body, unit)
        escalated = chase or n
        if escalated.at_coordinator:
            for coordinator in _told_coordinators(tx, escalated):
                _tell(
                    tx,
                    rt,
                    coordinator,
                    f"escalation{ACKNOWLEDGED}",
                    escalated.id,
                    seq,
                    {"notification": escalated.id, **body},
                )
        return done, tx.events.head()


def _pending_chase(tx: Transaction, n: Notification) -> Notification | None:
    """The still pending notification of the same party that carries the chase ``n`` names (``n`` is
    information about an unchanged conflict), if any."""
    named = n.body.get("chase")
    if not isinstance(named, str):
        return None
    chase = tx.notifications.get(named)
    if chase is None or chase.party_id != n.party_id or chase.state is not NotificationState.PENDING:
        return None
    return chase


ACKNOWLEDGED = ".acknowledged"
"""The suffix of the kind of a notification that tells a party its counterpart acknowledged."""

TOLD_OF_ACKNOWLEDGEMENT = frozenset({"conflict", "tactical", "message", "request"})
"""Subjects (a notification kind up to its first dot) shared with one other party, who is told."""


def _subject_of(kind: str) -> str:
    return kind.split(".", 1)[0]


def _counterpart(tx: Transaction, n: Notification) -> str | None:
    """The party on the other side of what ``n`` told its party: the other side of the conflict, the
    other party of the tactical alert, the sender of the message, the other party of the request. None
    for what nobody else shares (a site to revalidate, an escalation) and for ``*.acknowledged`` itself."""
    subject = _subject_of(n.kind)
    if n.kind.endswith(ACKNOWLEDGED) or subject not in TOLD_OF_ACKNOWLEDGEMENT:
        return None
    other: str | None = None
    if subject == "conflict":
        c = tx.conflicts.get(n.subject_id)
        if c is not None and c.side_of(n.party_id) is not None:
            other = c.party_b if n.party_id == c.party_a else c.party_a
    elif subject == "tactical":
        named = n.body.get("counterpart")
        other = named.get("party") if isinstance(named, Mapping) else None
    elif subject == "message":
        thread = n.body.get("thread")
        if isinstance(thread, str):
            other = next((m.sender for m in tx.hotline.messages(thread) if m.id == n.subject_id), None)
    else:
        r = tx.requests.get(n.subject_id)
        if r is not None and n.party_id in (r.requester_id, r.owner_id):
            other = r.requester_id if n.party_id == r.owner_id else r.owner_id
    if not isinstance(other, str) or other == n.party_id or tx.parties.get(other) is None:
        return None
    return other


def _acknowledgement_body(n: Notification, actor: Party, at: datetime) -> dict[str, Any]:
    """What the other side is told: which shared thing, which kind of notification, by whom and when;
    nothing from the acknowledged notification's body that is the acknowledging party's own (its
    operation, its track), only ids both sides already hold."""
    subject = _subject_of(n.kind)
    shared: dict[str, Any] = {}
    if subject == "conflict":
        shared = {"conflict": n.subject_id, "version": n.body.get("version")}
    elif subject == "tactical":
        shared = {"alert": n.subject_id}
    elif subject == "message":
        shared = {"message": n.subject_id, "thread": n.body.get("thread")}
    elif subject == "request":
        shared = {"request": n.subject_id}
    return {
        **shared,
        "about": n.subject_id,
        "kind": n.kind,
        "acknowledged_by": actor.id,
        "acknowledged_by_name": actor.name,
        "acknowledged_at": format_time(at),
    }


def _told_coordinators(tx: Transaction, n: Notification) -> list[str]:
    """The coordinators that got an escalation of ``n`` or of a notification whose chase it took over
    (each got its own ``escalation`` notification)."""
    chain, seen = [n.id], {n.id}
    older = n.body.get("takes_over")
    while isinstance(older, str) and older not in seen and len(chain) < 1000:
        chain.append(older)
        seen.add(older)
        found = tx.notifications.get(older)
        older = found.body.get("takes_over") if found is not None else None
    coordinators = [p.id for p in tx.parties.list(limit=100_000) if p.role is Role.COORDINATOR]
    return [
        c for c in coordinators if c != n.party_id and any(tx.notifications.about(c, ESCALATION_KIND, i) for i in chain)
    ]


def _unit_told(tx: Transaction, n: Notification, counterpart: str) -> str | None:
    """The counterpart's unit concerned by the acknowledged conflict (its own object's unit), if any."""
    if _subject_of(n.kind) != "conflict":
        return None
    c = tx.conflicts.get(n.subject_id)
    return None if c is None else unit_of_side(tx, c, counterpart)


def _tell(
    tx: Transaction,
    rt: Runtime,
    party_id: str,
    kind: str,
    subject_id: str,
    entry_seq: int,
    body: dict[str, Any],
    unit_id: str | None = None,
) -> Notification:
    """Information, nothing to acknowledge in time: no deadline, so it never escalates."""
    told = Notification(
        rt.ids.new_id("nt"),
        tx.notifications.next_seq(),
        party_id,
        kind,
        subject_id,
        entry_seq,
        body,
        rt.clock(),
        None,
        unit_id=unit_id,
    )
    tx.notifications.add(told)
    enqueue(tx, rt, told)
    return told


def get_notification(rt: Runtime, viewer: Party, notification_id: str) -> Notification:
    with rt.store.read() as tx:
        n = tx.notifications.get(notification_id)
    if n is None or not may_read_notification(viewer, n):
        raise NotFound(f"no notification {notification_id}", id=notification_id)
    return n


def list_notifications(
    rt: Runtime,
    viewer: Party,
    *,
    pending: bool | None = None,
    after: str | None = None,
    limit: int = 100,
    state: NotificationState | None = None,
) -> list[Notification]:
    with rt.store.read() as tx:
        return tx.notifications.list(
            party_id=viewer.id, pending=pending, after=after, limit=limit, state=state, unit_id=viewer.unit_id
        )


def overdue(rt: Runtime, viewer: Party, *, after: str | None = None, limit: int = 100) -> list[Notification]:
    """What is late: every pending notification that missed a deadline, whether its current one or an
    earlier one (it was escalated since), with its steps. A party's own; the coordinator's (and
    auditors') view: everyone's."""
    party = None if _reads_all(viewer) else viewer.id
    with rt.store.read() as tx:
        return tx.notifications.list(
            party_id=party, overdue_at=rt.clock(), after=after, limit=limit, unit_id=viewer.unit_id
        )


def stream_after(rt: Runtime, viewer: Party, after_seq: int, limit: int = 500) -> list[Notification]:
    with rt.store.read() as tx:
        return tx.notifications.for_party(viewer.id, after_seq=after_seq, limit=limit, unit_id=viewer.unit_id)


def set_contacts(rt: Runtime, actor: Party, raw: Any) -> tuple[tuple[Contact, ...], tuple[int, str]]:
    """Replace the party's on-call ladder (primary first)."""
    ladder = parse_contacts(raw)
    if actor.role is Role.OBSERVER:
        raise Forbidden("an observer has no on-call ladder")
    if actor.unit_id is not None:
        raise Forbidden("a unit's key changes its unit's ladder (PUT /v1/units/{id}/contacts), not its party's")
    with rt.store.write() as tx:
        tx.contacts.put(actor.id, ladder, rt.clock())
        tx.events.append(
            at=rt.clock(),
            actor_id=actor.id,
            type="party.contacts_changed",
            subject_id=actor.id,
            payload={"contacts": [c.record() for c in ladder]},
            audience=[actor.id],
        )
        return ladder, tx.events.head()


def get_contacts(rt: Runtime, actor: Party) -> tuple[Contact, ...]:
    with rt.store.read() as tx:
        return tx.contacts.get(actor.id)


def run_escalations(rt: Runtime, limit: int = 100) -> int:
    """Take every escalation step now due, once: the next contact of the ladder with a fresh deadline, or
    past the last contact the coordinators (each gets a notification of its own). Returns the steps."""
    with rt.store.read() as tx:  # most rounds have nothing to do: they leave the serialised write alone
        if not tx.notifications.escalations_due(rt.clock(), 1):
            return 0
    with after_commit(), rt.store.write() as tx:
        now = rt.clock()
        due = tx.notifications.escalations_due(now, limit)  # (none: another process took them meanwhile)
        coordinators = [p for p in tx.parties.list(limit=100_000) if p.role is Role.COORDINATOR]
        for n in due:
            ladder = ladder_for(tx, n)
            step = escalate(n, ladder, now=now, policy=rt.escalation)
            tx.notifications.save(step.notification)
            seq = tx.events.append(
                at=now,
                actor_id=None,
                type="notification.escalated",
                subject_id=n.id,
                payload={
                    "notification": n.id,
                    "about": n.subject_id,
                    "step": step.step,
                    "to": step.to,
                    "missed_deadline": format_time(n.deadline) if n.deadline else None,
                    **({} if n.unit_id is None else {"unit": n.unit_id}),
                },
                audience=[n.party_id],
            )
            emit(
                rt,
                "notification.escalated",
                f"notification {n.id} ({n.kind}) of {n.party_id} escalated: step {step.step}"
                + (" to the coordinators" if step.to_coordinator else ""),
                notification=n.id,
                kind=n.kind,
                about=n.subject_id,
                party=n.party_id,
                step=step.step,
                to_coordinator=step.to_coordinator,
            )
            if step.to_coordinator and n.kind != "escalation":  # a coordinator's own miss stops there
                party = tx.parties.get(n.party_id)
                for coordinator in coordinators:
                    copy = Notification(
                        rt.ids.new_id("nt"),
                        tx.notifications.next_seq(),
                        coordinator.id,
                        ESCALATION_KIND,
                        n.id,
                        seq,
                        {
                            "notification": n.id,
                            "party": n.party_id,
                            "party_name": party.name if party else n.party_id,
                            "about": n.subject_id,
                            "kind": n.kind,
                            "missed_deadline": format_time(n.deadline) if n.deadline else None,
                            "starts_at": format_time(n.starts_at) if n.starts_at else None,
                            **({} if n.unit_id is None else {"unit": n.unit_id}),
                        },
                        now,
                        first_deadline(
                            rt.escalation, now, n.starts_at, ladder_length(tx, coordinator.id), ESCALATION_KIND
                        ),
                        starts_at=n.starts_at,
                    )
                    tx.notifications.add(copy)
                    enqueue(tx, rt, copy)
        return len(due)


def notify_alert(rt: Runtime, change: AlertChange) -> None:
    """A tactical alert raised or resolved (a cycle listener): each party concerned gets a ledger entry of
    what it is told and a notification, whose steps share the time left before the predicted loss. Updates of an
    ongoing alert are not notified: hysteresis keeps an alert from flapping, and its first warning stands."""
    if change.change not in ("raised", "resolved"):
        return
    with rt.store.write() as tx:
        _notify_alert_in(tx, rt, change, rt.clock())


ALERTS_PER_TRANSACTION = 250
"""``notify_alerts`` writes this many alert changes per transaction: few commits, never a long hold of
the ledger's lock."""


def notify_alerts(rt: Runtime, changes: Sequence[AlertChange]) -> None:
    """``notify_alert`` for each change of one cycle, in order, ``ALERTS_PER_TRANSACTION`` to a transaction
    (a newly elected cycle raises thousands at once: one transaction each cost seconds of CPU). The same
    ledger entries and notifications as one by one; a group whose transaction fails is written again one
    change at a time, so that one bad change loses only its own."""
    told = [ch for ch in changes if ch.change in ("raised", "resolved")]
    for k in range(0, len(told), ALERTS_PER_TRANSACTION):
        group = told[k : k + ALERTS_PER_TRANSACTION]
        try:
            with rt.store.write() as tx:
                now = rt.clock()
                for change in group:
                    _notify_alert_in(tx, rt, change, now)
        except Exception:
            log.exception("alert notifications of %d changes failed together: one at a time", len(group))
            for change in group:
                try:
                    notify_alert(rt, change)
                except Exception:
                    log.exception("alert notification failed on %s %s", change.change, change.alert.id)


def _notify_alert_in(tx: Transaction, rt: Runtime, change: AlertChange, now: datetime) -> None:
    if change.alert.kind is AlertKind.UNDECLARED:
        _notify_undeclared_in(tx, rt, change, now)
        return
    a = change.alert
    p = a.prediction
    for i, party_id in enumerate(a.parties):
        other = a.subjects[1 - i]
        body = {
            "alert": a.id,
            "kind": "tactical",
            "type": a.kind.value,
            "state": a.state.value,
            "own": a.subjects[i][1],
            "counterpart": {"party": other[0], "id": other[1]},
            "loss_at": format_time(p.loss_at),
            "closest_at": format_time(p.closest_at),
            "min_horizontal_m": round(p.horizontal_m, 1),
            "vertical_m": round(p.vertical_m, 1),
            "position": list(p.position) if p.position else None,
        }
        _tell_alert(tx, rt, party_id, change, body, now)


def undeclared_audience(tx: Transaction, a: Alert) -> list[tuple[str, str]]:
    """Who is told of an undeclared entry, and as what: the owner of the zone, band or site entered
    (``owner``), every coordinator (``coordinator``), and the track's own party when it has one
    (``track``)."""
    (track_party, _), (owner, _) = a.subjects
    out = [(owner, "owner")]
    out += [(p.id, "coordinator") for p in tx.parties.list(limit=100_000) if p.role is Role.COORDINATOR]
    if track_party != NO_PARTY:
        out.append((track_party, "track"))
    first: dict[str, str] = {}
    for pid, role in out:
        first.setdefault(pid, role)  # a coordinator that owns the zone is told once, as its owner
    return list(first.items())


def _tell_alert(
    tx: Transaction, rt: Runtime, party_id: str, change: AlertChange, body: dict[str, Any], now: datetime
) -> None:
    """One party told of a tactical alert raised or resolved: a ledger entry of what it is told, and a
    notification chased towards the predicted loss (``tactical.raised``, ``tactical.resolved``)."""
    loss_at = change.alert.prediction.loss_at
    seq = tx.events.append(
        at=now,
        actor_id=None,
        type=f"tactical.{change.change}",
        subject_id=change.alert.id,
        payload=body,
        audience=[party_id],
    )
    n = Notification(
        rt.ids.new_id("nt"),
        tx.notifications.next_seq(),
        party_id,
        f"tactical.{change.change}",
        change.alert.id,
        seq,
        body,
        now,
        first_deadline(rt.escalation, now, loss_at, ladder_length(tx, party_id)),
        starts_at=loss_at,
    )
    tx.notifications.add(n)
    enqueue(tx, rt, n)


def notify_undeclared(rt: Runtime, change: AlertChange) -> None:
    """An undeclared entry raised or resolved: a ledger entry and an urgent notification (kinds
    ``tactical.raised``, ``tactical.resolved``; body ``type`` ``undeclared_entry``) for the owner of what is
    entered, each coordinator, and the track's own party (told that its track is outside everything it
    declared). The owner reads the track's affiliation (``unknown`` for a track of no party) and, when it
    is a party's, which party; the track's party reads which zone, band or site and whose."""
    with rt.store.write() as tx:
        _notify_undeclared_in(tx, rt, change, rt.clock())


def _notify_undeclared_in(tx: Transaction, rt: Runtime, change: AlertChange, now: datetime) -> None:
    a = change.alert
    p = a.prediction
    (track_party, track_id), (owner, target_id) = a.subjects
    for party_id, role in undeclared_audience(tx, a):
        body: dict[str, Any] = {
            "alert": a.id,
            "kind": "tactical",
            "type": a.kind.value,
            "state": a.state.value,
            "affiliation": p.affiliation.value,
            "track": {"party": track_party or None, "id": track_id, "affiliation": p.affiliation.value},
            "target": {"kind": p.target, "id": target_id, "owner": owner},
            "loss_at": format_time(p.loss_at),
            "inside_now": p.now,
            "position": list(p.position) if p.position else None,
            "told_as": role,
        }
        if role == "owner":
            body["counterpart"] = {"party": track_party or None, "id": track_id}
        elif role == "track":
            body["own"] = track_id
            body["counterpart"] = {"party": owner, "id": target_id}
        _tell_alert(tx, rt, party_id, change, body, now)


def flag_expired_sites(rt: Runtime) -> int:
    """Tell each owner once per site version that a protected site is past its valid_until: it stays
    protected until the owner withdraws it, but must be revalidated (its coordinates checked again)."""
    with rt.store.read() as tx:  # most rounds have nothing to do: they leave the serialised write alone
        if not _unflagged_sites(tx, rt.clock()):
            return 0
    flagged = 0
    with rt.store.write() as tx:
        now = rt.clock()
        for site in _unflagged_sites(tx, now):
            body = {
                "site": site.id,
                "name": site.name,
                "version": site.version,
                "valid_until": format_time(site.valid_until),
                "still_protected": True,
            }
            seq = tx.events.append(
                at=now,
                actor_id=None,
                type="site.revalidation_due",
                subject_id=site.id,
                payload={**body, "about": site.id},
                audience=[site.owner_id],
            )
            n = Notification(
                rt.ids.new_id("nt"),
                tx.notifications.next_seq(),
                site.owner_id,
                "site.revalidation_due",
                site.id,
                seq,
                body,
                now,
                rt.escalation.deadline(now, None),
            )
            tx.notifications.add(n)
            enqueue(tx, rt, n)
            flagged += 1
    return flagged


def _unflagged_sites(tx: Transaction, now: datetime) -> list[ProtectedSite]:
    """The active sites past their valid_until whose owner was not told yet about their current version."""
    sites, after = [], None
    while batch := tx.sites.list(active=True, after=after, limit=500):
        sites += batch
        after = batch[-1].id
    return [
        site
        for site in revalidation_due(sites, now)
        if not any(
            n.body.get("version") == site.version
            for n in tx.notifications.about(site.owner_id, "site.revalidation_due", site.id)
        )
    ]


def notification_view(n: Notification) -> wire.Notification:
    """A notification as its party reads it: its record, checked against the model."""
    return wire.Notification.model_validate(n.record())


def overdue_view(n: Notification) -> wire.OverdueNotification:
    """An overdue notification, with the first deadline it missed."""
    since = n.overdue_since()
    return wire.OverdueNotification.model_validate(
        {**n.record(), "overdue": True, "overdue_since": None if since is None else format_time(since)}
    )
