"""Use cases of the hotline: start a thread with other parties, post messages, read them in one's own
language. Each message is a notification for every other participant (acknowledged like any other,
escalated when it is not) and a ledger entry readable by the participants."""

from __future__ import annotations

from typing import Any

from deconfliction.domain.hotline import (
    MAX_PARTICIPANTS,
    Message,
    MessageContent,
    Thread,
    parse_language,
)
from deconfliction.domain.notification import Notification
from deconfliction.domain.party import Party, Role
from deconfliction.domain.volume import format_time
from deconfliction.errors import Forbidden, InvalidInput, NotFound
from deconfliction.service.delivery import enqueue
from deconfliction.service.runtime import Runtime
from deconfliction.service.views import may_see_conflict, may_see_operation
from deconfliction.store.ports import Transaction

MAX_SUBJECT = 200


def _reads_all(viewer: Party) -> bool:
    return viewer.sees_all or viewer.role is Role.AUDITOR


def _check_refs(tx: Transaction, actor: Party, content: MessageContent) -> None:
    """A message may name only what its sender may see: its own operations, its conflicts. (Zones,
    sites and lines are named by id as given: they are shared objects.)"""
    for i, (kind, ref_id) in enumerate(content.refs):
        where = f"message.refs[{i}]"
        if kind == "operation":
            op = tx.operations.get(ref_id)
            if op is None or not may_see_operation(actor, op):
                raise InvalidInput.one(where, "unknown_ref", f"no operation {ref_id} of yours")
        elif kind == "conflict":
            c = tx.conflicts.get(ref_id)
            if c is None or not may_see_conflict(actor, c):
                raise InvalidInput.one(where, "unknown_ref", f"no conflict {ref_id} of yours")


def _post(tx: Transaction, rt: Runtime, actor: Party, thread: Thread, content: MessageContent) -> Message:
    _check_refs(tx, actor, content)
    content = content.written_in(tx.hotline.language(actor.id))  # a free text keeps its own language
    now = rt.clock()
    message = Message(rt.ids.new_id("ms"), thread.id, actor.id, content, now)
    tx.hotline.add_message(message)
    seq = tx.events.append(
        at=now,
        actor_id=actor.id,
        type="message.posted",
        subject_id=message.id,
        payload={"thread": thread.id, "about": thread.id, "content": content.record()},
        audience=list(thread.participants),
    )
    for party_id in thread.participants:
        if party_id == actor.id:
            continue
        language = tx.hotline.language(party_id)
        n = Notification(
            rt.ids.new_id("nt"),
            tx.notifications.next_seq(),
            party_id,
            "message",
            message.id,
            seq,
            {
                "thread": thread.id,
                "subject": thread.subject,
                "from": actor.name,
                "text": content.render(language),
                "language": content.language_for(language),
                "refs": content.record()["refs"],
            },
            now,
            rt.escalation.deadline(now, None),
        )
        tx.notifications.add(n)
        enqueue(tx, rt, n)
    return message


def start_thread(
    rt: Runtime, actor: Party, participants: list[str], subject: str, content: MessageContent
) -> tuple[Thread, Message, tuple[int, str]]:
    if actor.role is Role.OBSERVER:
        raise Forbidden("an observer does not post on the hotline")
    subject = subject.strip()
    if not 1 <= len(subject) <= MAX_SUBJECT:
        raise InvalidInput.one("subject", "invalid_value", f"1 to {MAX_SUBJECT} characters")
    others = list(dict.fromkeys(p for p in participants if p != actor.id))
    if not 1 <= len(others) < MAX_PARTICIPANTS:
        raise InvalidInput.one("participants", "invalid_value", f"1 to {MAX_PARTICIPANTS - 1} other parties")
    with rt.store.write() as tx:
        for i, pid in enumerate(others):
            p = tx.parties.get(pid)
            if p is None or p.role is Role.OBSERVER:
                raise InvalidInput.one(f"participants[{i}]", "unknown_party", f"no party {pid} to talk to")
        thread = Thread(rt.ids.new_id("th"), subject, (actor.id, *others), actor.id, rt.clock())
        tx.hotline.add_thread(thread)
        message = _post(tx, rt, actor, thread, content)
        return thread, message, tx.events.head()


def _visible_thread(tx: Transaction, viewer: Party, thread_id: str) -> Thread:
    thread = tx.hotline.thread(thread_id)
    if thread is None or not (viewer.id in thread.participants or _reads_all(viewer)):
        raise NotFound(f"no thread {thread_id}", id=thread_id)
    return thread


def post_message(rt: Runtime, actor: Party, thread_id: str, content: MessageContent) -> tuple[Message, tuple[int, str]]:
    with rt.store.write() as tx:
        thread = _visible_thread(tx, actor, thread_id)
        if actor.id not in thread.participants:
            raise Forbidden("only the thread's participants post in it")
        message = _post(tx, rt, actor, thread, content)
        return message, tx.events.head()


def thread_view(tx: Transaction, thread: Thread, viewer: Party, *, with_messages: bool) -> dict[str, Any]:
    names = {pid: (p.name if (p := tx.parties.get(pid)) else pid) for pid in thread.participants}
    out: dict[str, Any] = {
        "id": thread.id,
        "subject": thread.subject,
        "participants": [{"party": pid, "party_name": names[pid]} for pid in thread.participants],
        "created_by": thread.created_by,
        "created_at": format_time(thread.created_at),
    }
    if with_messages:
        language = tx.hotline.language(viewer.id)
        out["messages"] = [
            {
                "id": m.id,
                "from": m.sender,
                "from_name": names.get(m.sender, m.sender),
                **m.content.record(),
                "text": m.content.render(language),
                "language": m.content.language_for(language),
                "created_at": format_time(m.created_at),
            }
            for m in tx.hotline.messages(thread.id)
        ]
    return out


def get_thread(rt: Runtime, viewer: Party, thread_id: str) -> dict[str, Any]:
    with rt.store.read() as tx:
        return thread_view(tx, _visible_thread(tx, viewer, thread_id), viewer, with_messages=True)


def list_threads(rt: Runtime, viewer: Party, *, after: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    with rt.store.read() as tx:
        found = tx.hotline.threads_of(None if _reads_all(viewer) else viewer.id, after=after, limit=limit)
        return [thread_view(tx, t, viewer, with_messages=False) for t in found]


def set_language(rt: Runtime, actor: Party, raw: Any) -> str:
    language = parse_language(raw)
    with rt.store.write() as tx:
        tx.hotline.set_language(actor.id, language)
    return language


def get_language(rt: Runtime, actor: Party) -> str:
    with rt.store.read() as tx:
        return tx.hotline.language(actor.id)
