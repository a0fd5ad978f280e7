"""The acknowledgement gate: before an operation holds a committed state with an open conflict whose
kind needs it (the policy's ``acknowledgement`` section: by default ``active`` over a protected site, an
agreed zone or a line band), the other side must have acknowledged that conflict's current content, or
the request overrides it by name with a reason. Called by ``operations.apply_change`` inside the write,
after the proof of knowledge by tokens (docs/notifications.md, The acknowledgement gate).

An acknowledgement counts when the other side acknowledged a notification about the conflict
(``conflict.opened`` or ``conflict.updated``) whose body told a content version at or after the
conflict's ``content_version``: a change of tokens alone (plan, then activate) keeps it; a change of what
the conflict is (its region, rule or state) makes a new content version that must be acknowledged anew.

An override is its own ledger entry ``conflict.overridden`` (audience: both sides; it carries the
request's signature like the operation's entry), told at once as urgent to the other side and to every
coordinator (notification ``conflict.overridden``, the shortest deadline). Acknowledged means received,
never approved; an override records a decision, it approves nothing either.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from deconfliction.domain.acknowledgement import Override, acknowledged_version, covers
from deconfliction.domain.conflict import Conflict
from deconfliction.domain.notification import Notification, NotificationState
from deconfliction.domain.operation import Operation
from deconfliction.domain.party import Party, Role
from deconfliction.errors import AwaitingAcknowledgement, FieldError, InvalidInput
from deconfliction.service.conflicts import party_names
from deconfliction.service.delivery import enqueue
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import Transaction

TOLD_KINDS = ("conflict.opened", "conflict.updated")
"""Notifications whose acknowledgement counts: those that told the conflict's content."""


def other_side(c: Conflict, owner_id: str) -> str:
    return c.party_b if owner_id == c.party_a else c.party_a


def acknowledged(tx: Transaction, c: Conflict, party_id: str) -> bool:
    """Has ``party_id`` acknowledged a notification that told ``c``'s current content?"""
    versions = [
        acknowledged_version(n.body)
        for kind in TOLD_KINDS
        for n in tx.notifications.about(party_id, kind, c.id)
        if n.state is NotificationState.ACKNOWLEDGED
    ]
    return covers(versions, c.content_version)


def check(
    tx: Transaction,
    rt: Runtime,
    op: Operation,
    open_conflicts: Sequence[Conflict],
    stored: Mapping[str, Conflict],
    overrides: Sequence[Override],
) -> list[tuple[Override, Conflict]]:
    """Refuse (422) an override that names no open conflict of ``op`` needing acknowledgement for its new
    state; refuse (409 ``awaiting_acknowledgement``) when a conflict that needs it is neither acknowledged
    by the other side nor overridden. Returns each override with the stored conflict it names.
    ``stored``: the conflicts of ``op`` as stored before this write, by id."""
    gated = {c.id: c for c in open_conflicts if rt.acknowledgement.needed_for(c.kind, op.state)}
    errors: list[FieldError] = []
    used: list[tuple[Override, Conflict]] = []
    for i, o in enumerate(overrides):
        where = f"override[{i}].conflict"
        c = next((x for x in open_conflicts if x.id == o.conflict_id and x.id in stored), None)
        if c is None:
            errors.append(FieldError(where, "not_open", f"{o.conflict_id} is not an open conflict of {op.id}"))
        elif c.id not in gated:
            errors.append(
                FieldError(
                    where,
                    "override_not_needed",
                    f"a {c.kind} conflict needs no acknowledgement to make an operation {op.state.value} "
                    "(the policy's acknowledgement section)",
                )
            )
        else:
            used.append((o, stored[c.id]))
    if errors:
        raise InvalidInput(errors)
    overridden = {o.conflict_id for o in overrides}
    awaited = [
        c for c in gated.values() if c.id not in overridden and not acknowledged(tx, c, other_side(c, op.owner_id))
    ]
    names = party_names(tx, awaited)
    waiting = []
    for c in awaited:
        other = other_side(c, op.owner_id)
        shown = stored.get(c.id)
        entry: dict[str, Any] = {"kind": c.kind}
        if shown is not None:  # a conflict new in this write was never told, so never acknowledged
            entry = {"id": shown.id, "kind": c.kind, "version": shown.version, "content_version": shown.content_version}
        entry["awaiting"] = [{"party": other, "party_name": names.get(other, other)}]
        waiting.append(entry)
    if waiting:
        raise AwaitingAcknowledgement(
            f"to make this operation {op.state.value}, the other side must acknowledge each of these "
            f"{len(waiting)} conflict(s) as they are now, or the request overrides each by id with a reason",
            conflicts=waiting,
        )
    return used


def record_overrides(
    tx: Transaction,
    rt: Runtime,
    actor: Party,
    op: Operation,
    used: Sequence[tuple[Override, Conflict]],
    signed: Mapping[str, Any] | None,
) -> None:
    """One ledger entry per override (who, which conflict and version, the reason; audience both sides;
    the request's signature), told at once, as urgent, to the other side and every coordinator."""
    if not used:
        return
    now = rt.clock()
    names = party_names(tx, [c for _, c in used])
    coordinators: Collection[str] = [p.id for p in tx.parties.list(limit=100_000) if p.role is Role.COORDINATOR]
    for o, c in used:
        other = other_side(c, op.owner_id)
        payload = {
            "conflict": c.id,
            "kind": c.kind,
            "version": c.version,
            "content_version": c.content_version,
            "to_state": op.state.value,
            "reason": o.reason,
            "by": actor.id,
            "by_name": actor.name,
            "other_party": other,
            "other_party_name": names.get(other, other),
        }
        seq = tx.events.append(
            at=now,
            actor_id=actor.id,
            type="conflict.overridden",
            subject_id=c.id,
            payload=payload,
            audience=[c.party_a, c.party_b],
            signed=signed,
        )
        for party_id in dict.fromkeys([other, *coordinators]):
            if party_id == actor.id:
                continue
            n = Notification(
                rt.ids.new_id("nt"),
                tx.notifications.next_seq(),
                party_id,
                "conflict.overridden",
                c.id,
                seq,
                payload,
                now,
                rt.escalation.deadline(now, now),  # urgent: the shortest step (the policy's floor)
                starts_at=c.window.start,
            )
            tx.notifications.add(n)
            enqueue(tx, rt, n)
