"""Notifications: what a party must know, by when, and what happens when nobody answers.

A notification tells one party about one change (a conflict opened, updated or resolved, a tactical
alert, a hotline message, a request, or that the other side acknowledged one of these). It is
*acknowledged* when the party says it was received, which is never the same as approving anything. Its
deadline (none for an acknowledgement told to the other side) comes from the policy: by default 15
minutes, 2 minutes when the conflict starts within the hour. Unacknowledged at its deadline, it
escalates down the party's on-call ladder (primary, then each alternate, each with a fresh deadline of
the same length), and past the last contact, to the coordinator. Every step is recorded. Everything here
is pure: the store keeps the state, the service decides when to look.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from deconfliction.domain.volume import format_time
from deconfliction.errors import FieldError, InvalidInput, InvalidTransition


class NotificationState(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long a party has to acknowledge."""

    default_s: int = 15 * 60
    urgent_s: int = 2 * 60
    urgent_within_s: int = 60 * 60
    """A conflict that starts within this long of the notification is urgent."""

    def deadline(self, now: datetime, starts_at: datetime | None) -> datetime:
        urgent = starts_at is not None and starts_at - now <= timedelta(seconds=self.urgent_within_s)
        return now + timedelta(seconds=self.urgent_s if urgent else self.default_s)


@dataclass(frozen=True)
class Contact:
    """One rung of a party's on-call ladder."""

    name: str
    channels: Mapping[str, str] = field(default_factory=dict)
    """Channel -> address, e.g. {"email": "ops@example.org", "phone": "+963..."}."""

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "channels": dict(self.channels)}


CHANNELS = ("email", "phone", "radio", "webhook", "other")
MAX_CONTACTS = 10


def parse_contacts(raw: Any) -> tuple[Contact, ...]:
    """The ladder as sent: a list of {"name", "channels": {channel: address}}, primary first."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CONTACTS:
        raise InvalidInput.one("contacts", "invalid_value", f"a list of 1 to {MAX_CONTACTS} contacts, primary first")
    errors: list[FieldError] = []
    out = []
    for i, c in enumerate(raw):
        where = f"contacts[{i}]"
        if not isinstance(c, Mapping):
            errors.append(FieldError(where, "invalid_value", "a contact is an object with name and channels"))
            continue
        unknown = [k for k in c if k not in ("name", "channels")]
        errors += [FieldError(f"{where}.{k}", "unknown_field", f"unknown member {k!r}") for k in unknown]
        name = c.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 120:
            errors.append(FieldError(f"{where}.name", "invalid_value", "a name of 1 to 120 characters"))
            continue
        channels = c.get("channels", {})
        if not isinstance(channels, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= 500 for k, v in channels.items()
        ):
            errors.append(FieldError(f"{where}.channels", "invalid_value", "channel -> address, both strings"))
            continue
        bad = [k for k in channels if k not in CHANNELS]
        errors += [
            FieldError(f"{where}.channels.{k}", "unknown_channel", f"channels are {', '.join(CHANNELS)}") for k in bad
        ]
        out.append(Contact(name.strip(), dict(channels)))
    if errors:
        raise InvalidInput(errors)
    return tuple(out)


COORDINATOR_STEP = "coordinator"


@dataclass(frozen=True)
class Notification:
    id: str
    seq: int
    """Position in the service-wide order of notifications: a party's stream resumes after it."""
    party_id: str
    kind: str
    """What happened, e.g. ``conflict.opened``; ``escalation`` for one sent to a coordinator."""
    subject_id: str
    entry_seq: int
    """The ledger entry that recorded what this party was told."""
    body: Mapping[str, Any]
    created_at: datetime
    deadline: datetime | None
    """None: nothing to acknowledge in time, so it never escalates (``*.acknowledged``: the other side
    acknowledged; information only)."""
    state: NotificationState = NotificationState.PENDING
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    step: int = 0
    """0: the primary contact; k: the k-th alternate; past the last, the coordinator."""
    escalations: tuple[Mapping[str, Any], ...] = ()
    at_coordinator: bool = False
    """Escalated past the last contact: nothing further to escalate, still overdue until acknowledged."""
    unit_id: str | None = None
    """The party's unit concerned (its object in the conflict was declared by it): told with the party's
    watch desk; its ladder is asked first. None: the party as a whole."""

    def is_overdue(self, now: datetime) -> bool:
        return self.state is NotificationState.PENDING and self.deadline is not None and now >= self.deadline

    def escalation_due(self, now: datetime) -> bool:
        return self.is_overdue(now) and not self.at_coordinator

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "party": self.party_id,
            "kind": self.kind,
            "subject": self.subject_id,
            "entry": self.entry_seq,
            "body": dict(self.body),
            "created_at": _fmt(self.created_at),
            "deadline": _fmt(self.deadline),
            "state": self.state.value,
            "acknowledged_at": _fmt(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "step": self.step,
            "escalations": [dict(e) for e in self.escalations],
            "at_coordinator": self.at_coordinator,
            "unit": self.unit_id,
        }


def _fmt(t: datetime | None) -> str | None:
    return None if t is None else format_time(t)


def acknowledge(n: Notification, *, by: str, now: datetime) -> Notification:
    """Received. Acknowledging twice is refused (the first time stands, with its time)."""
    if n.state is NotificationState.ACKNOWLEDGED:
        raise InvalidTransition(
            f"notification {n.id} was acknowledged at {_fmt(n.acknowledged_at)}",
            state=n.state.value,
            requested="acknowledged",
        )
    return replace(n, state=NotificationState.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=by)


@dataclass(frozen=True)
class Escalation:
    """One step taken because a deadline passed."""

    notification: Notification
    """The notification after the step (new step, new deadline, the step recorded)."""
    to: str
    """The contact's name, or ``coordinator``."""
    step: int
    to_coordinator: bool


def escalate(n: Notification, ladder: Sequence[Contact], *, now: datetime, policy: DeadlinePolicy) -> Escalation:
    """The next step for a notification whose deadline passed: the next contact of the ladder with a fresh
    deadline of the default length, or, past the last one, the coordinator (no further deadline)."""
    if not n.escalation_due(now):
        raise ValueError(f"notification {n.id} has no escalation due")
    step = n.step + 1
    at = _fmt(now)
    if step < len(ladder):
        contact = ladder[step]
        new_deadline = now + timedelta(seconds=policy.default_s)
        record = {"step": step, "to": contact.name, "at": at, "missed": _fmt(n.deadline)}
        done = replace(n, step=step, deadline=new_deadline, escalations=(*n.escalations, record))
        return Escalation(done, contact.name, step, False)
    record = {"step": step, "to": COORDINATOR_STEP, "at": at, "missed": _fmt(n.deadline)}
    done = replace(n, step=step, at_coordinator=True, escalations=(*n.escalations, record))
    return Escalation(done, COORDINATOR_STEP, step, True)
