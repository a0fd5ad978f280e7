"""Use cases of requests: ask another party to enter its zone, cross a line, pass its site (or anything
about a conflict between you); it approves, denies or comments; you may withdraw. Every change is a
ledger entry both sides read and a notification for the other side."""

from __future__ import annotations

from typing import Any

from deconfliction import wire
from deconfliction.domain.notification import Notification, first_deadline
from deconfliction.domain.party import Party, Role
from deconfliction.domain.request import (
    MAX_TEXT,
    Request,
    RequestKind,
    RequestState,
    answer,
    comment,
    withdraw,
)
from deconfliction.domain.volume import TimeWindow, parse_time
from deconfliction.errors import Forbidden, InvalidInput, NotFound
from deconfliction.service.delivery import enqueue
from deconfliction.service.notifications import ladder_length
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import Transaction


def _reads_all(viewer: Party) -> bool:
    return viewer.sees_all or viewer.role is Role.AUDITOR


def _owner(tx: Transaction, actor: Party, kind: RequestKind, subject_id: str) -> str:
    """The party asked, found from what the request is about (which the requester must be able to see)."""
    missing = InvalidInput.one("about", "unknown_subject", f"nothing of that kind with id {subject_id} to ask about")
    if kind is RequestKind.ENTER_ZONE:
        zone = tx.zones.get(subject_id)
        if zone is None:
            raise missing
        return zone.owner_id
    if kind is RequestKind.PASS_SITE:
        site = tx.sites.get(subject_id)
        if site is None:
            raise missing
        return site.owner_id
    if kind is RequestKind.CROSS_LINE:
        line = tx.lines.get(subject_id)
        if line is None or actor.id not in (line.party_left, line.party_right):
            raise missing
        return line.party_right if actor.id == line.party_left else line.party_left
    conflict = tx.conflicts.get(subject_id)
    if conflict is None or actor.id not in (conflict.party_a, conflict.party_b):
        raise missing
    return conflict.party_b if actor.id == conflict.party_a else conflict.party_a


def _record(tx: Transaction, rt: Runtime, actor: Party, r: Request, what: str) -> tuple[int, str]:
    """The ledger entry (both sides read it) and a notification for the other side."""
    now = rt.clock()
    seq = tx.events.append(
        at=now,
        actor_id=actor.id,
        type=f"request.{what}",
        subject_id=r.id,
        payload={**r.record(), "about": r.subject_id},
        audience=[r.requester_id, r.owner_id],
    )
    other = r.owner_id if actor.id == r.requester_id else r.requester_id
    n = Notification(
        rt.ids.new_id("nt"),
        tx.notifications.next_seq(),
        other,
        f"request.{what}",
        r.id,
        seq,
        {"request": r.id, "kind": r.kind.value, "state": r.state.value, "from": actor.name, "text": r.text},
        now,
        first_deadline(rt.escalation, now, r.window.start if r.window else None, ladder_length(tx, other)),
        starts_at=r.window.start if r.window else None,
    )
    tx.notifications.add(n)
    enqueue(tx, rt, n)
    return tx.events.head()


def _text(raw: Any, field: str, *, required: bool) -> str | None:
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or not 1 <= len(raw.strip()) <= MAX_TEXT:
        raise InvalidInput.one(field, "invalid_value", f"1 to {MAX_TEXT} characters")
    return raw.strip()


def make_request(rt: Runtime, actor: Party, body: dict[str, Any]) -> tuple[Request, tuple[int, str]]:
    if actor.role not in (Role.PARTY, Role.COORDINATOR):
        raise Forbidden("only parties make requests")
    try:
        kind = RequestKind(str(body.get("kind")))
    except ValueError:
        raise InvalidInput.one("kind", "invalid_value", f"kind is one of {', '.join(RequestKind)}") from None
    subject_id = body.get("about")
    if not isinstance(subject_id, str):
        raise InvalidInput.one("about", "missing_field", "the id of the zone, line, site or conflict")
    text = _text(body.get("text"), "text", required=True)
    window = None
    if body.get("window") is not None:
        w = body["window"]
        if not isinstance(w, dict):
            raise InvalidInput.one("window", "invalid_value", "{start, end}")
        window = TimeWindow.of(
            parse_time(w.get("start"), "window.start"), parse_time(w.get("end"), "window.end"), rt.limits
        )
    with rt.store.write() as tx:
        owner = _owner(tx, actor, kind, subject_id)
        if owner == actor.id:
            raise InvalidInput.one("about", "own_subject", "this is yours: there is nobody to ask")
        r = Request(rt.ids.new_id("rq"), kind, actor.id, owner, subject_id, str(text), window, rt.clock())
        tx.requests.add(r)
        return r, _record(tx, rt, actor, r, "opened")


def _mine(tx: Transaction, viewer: Party, request_id: str) -> Request:
    r = tx.requests.get(request_id)
    if r is None or not (viewer.id in (r.requester_id, r.owner_id) or _reads_all(viewer)):
        raise NotFound(f"no request {request_id}", id=request_id)
    return r


def act(rt: Runtime, actor: Party, request_id: str, action: str, text: Any) -> tuple[Request, tuple[int, str]]:
    """approve, deny, comment or withdraw."""
    with rt.store.write() as tx:
        r = _mine(tx, actor, request_id)
        now = rt.clock()
        if action in ("approve", "deny"):
            new = answer(r, by=actor.id, approve=action == "approve", text=_text(text, "text", required=False), now=now)
            what = "approved" if action == "approve" else "denied"
        elif action == "comment":
            new = comment(r, by=actor.id, text=str(_text(text, "text", required=True)), now=now)
            what = "commented"
        else:
            new = withdraw(r, by=actor.id, now=now)
            what = "withdrawn"
        tx.requests.save(new)
        return new, _record(tx, rt, actor, new, what)


def get_request(rt: Runtime, viewer: Party, request_id: str) -> Request:
    with rt.store.read() as tx:
        return _mine(tx, viewer, request_id)


def list_requests(
    rt: Runtime, viewer: Party, *, state: RequestState | None = None, after: str | None = None, limit: int = 100
) -> list[Request]:
    with rt.store.read() as tx:
        return tx.requests.list(
            party_id=None if _reads_all(viewer) else viewer.id, state=state, after=after, limit=limit
        )


def request_view(r: Request) -> wire.Request:
    """A request as its two parties (and the coordinator) read it: its record, checked against the model."""
    return wire.Request.model_validate(r.record())
