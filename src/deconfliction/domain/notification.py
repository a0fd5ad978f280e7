"""Notifications: what a party must know, by when, and what happens when nobody answers.

A notification tells one party about one change (a conflict opened, updated or resolved, a tactical
alert, a hotline message, a request, or that the other side acknowledged one of these). It is
*acknowledged* when the party says it was received, which is never the same as approving anything. Its
deadline (none for information, such as an acknowledgement told to the other side) comes from the
``EscalationPolicy`` and the time left before the danger it is about starts (``starts_at``): each step of
the on-call ladder (primary, then each alternate) gets a share of that time, and the coordinators a
share after the last contact, so that all of them have been asked before it starts. Unacknowledged at its
deadline, it escalates to the next step, whose deadline is computed again from the time then left. Every
step is recorded. One conflict version is chased once (``take_over``): a later notification about the
same conflict is information when what the conflict is did not change, and takes the chase over at the
step it had reached when it did. Everything here is pure: the store keeps the state, the service decides
when to look.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from deconfliction.domain.volume import format_time
from deconfliction.errors import FieldError, InvalidInput, InvalidTransition


class NotificationState(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    SUPERSEDED = "superseded"
    """A newer notification about the same thing took its chase over: never overdue, never escalated."""


ESCALATION_KIND = "escalation"
"""The kind of the notification a coordinator gets when a party's ladder is exhausted."""


@dataclass(frozen=True)
class EscalationPolicy:
    """How long each step of an on-call ladder has to acknowledge (policy file section ``escalation``,
    docs/policy.md).

    A step's length is ``clamp(time_left / (contacts_left + coordinator_shares), floor_s, default_s)``:
    ``time_left`` runs until the danger starts (a conflict's window start, a tactical alert's predicted
    loss), ``contacts_left`` counts the contacts not yet asked including the one being asked now, and
    ``coordinator_shares`` keeps that many equal shares for the coordinators after the last contact. So
    every contact and then the coordinators are asked before the danger starts, whenever the first
    notification went out. A danger already in force (or too close for a share of ``floor_s``) gets
    ``floor_s``: a person needs that long to read. Without a danger time (a message, a site to
    revalidate): ``default_s``, which is also the longest a step ever gets."""

    default_s: float = 15 * 60
    floor_s: float = 60
    coordinator_shares: int = 1

    def step_s(self, now: datetime, starts_at: datetime | None, contacts_left: int = 1, *, last: bool = False) -> float:
        """The length of the step that asks a contact now. ``last``: nobody comes after this ladder (a
        coordinator's own), so no share is kept."""
        if starts_at is None:
            return self.default_s
        left = (starts_at - now).total_seconds()
        shares = max(contacts_left, 0) + (0 if last else self.coordinator_shares)
        return min(max(left / max(shares, 1), self.floor_s), self.default_s)

    def deadline(
        self, now: datetime, starts_at: datetime | None, contacts_left: int = 1, *, last: bool = False
    ) -> datetime:
        return now + timedelta(seconds=self.step_s(now, starts_at, contacts_left, last=last))

    def record(self) -> dict[str, Any]:
        return {"default_s": self.default_s, "floor_s": self.floor_s, "coordinator_shares": self.coordinator_shares}

    @classmethod
    def from_mapping(cls, raw: Any, *, where: str = "escalation") -> EscalationPolicy:
        """From the policy file's ``escalation`` section; members not given keep their default. Every bad
        member is named (``escalation.floor_s``) with the reason."""
        if not isinstance(raw, Mapping):
            raise InvalidInput.one(where, "invalid_value", "an object: {default_s, floor_s, coordinator_shares}")
        base = cls()
        values: dict[str, Any] = base.record()
        errors: list[FieldError] = []
        names = [f.name for f in fields(cls)]
        for k, v in raw.items():
            if k not in names:
                errors.append(FieldError(f"{where}.{k}", "unknown_field", f"expected {', '.join(names)}"))
            elif k == "coordinator_shares":
                if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 10:
                    errors.append(FieldError(f"{where}.{k}", "invalid_number", "an integer from 1 to 10"))
                else:
                    values[k] = v
            elif isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                errors.append(FieldError(f"{where}.{k}", "invalid_number", "a number of seconds > 0"))
            else:
                values[k] = float(v)
        if not errors and values["floor_s"] > values["default_s"]:
            errors.append(FieldError(f"{where}.floor_s", "invalid_number", "must not exceed default_s"))
        if not errors and values["default_s"] > 7 * 24 * 3600:
            errors.append(FieldError(f"{where}.default_s", "invalid_number", "at most a week (604800 s)"))
        if errors:
            raise InvalidInput(errors)
        return cls(**values)


DeadlinePolicy = EscalationPolicy
"""The former name: ``deadline(now, starts_at)`` still gives a first step's deadline."""


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
    starts_at: datetime | None = None
    """When the danger it is about starts (a conflict's window, a tactical alert's predicted loss): each
    step's deadline is computed from the time left before it. None: no danger time, default lengths."""
    superseded_by: str | None = None
    """State ``superseded``: the notification that took its chase over."""
    unit_id: str | None = None
    """The party's unit concerned (its object in the conflict was declared by it): told with the party's
    watch desk; its ladder is asked first. None: the party as a whole."""

    def is_overdue(self, now: datetime) -> bool:
        """Pending and a deadline was missed: the current one, or an earlier one (escalated since)."""
        if self.state is not NotificationState.PENDING:
            return False
        return self.step > 0 or (self.deadline is not None and now >= self.deadline)

    def escalation_due(self, now: datetime) -> bool:
        return (
            self.state is NotificationState.PENDING
            and self.deadline is not None
            and now >= self.deadline
            and not self.at_coordinator
        )

    def overdue_since(self) -> datetime | None:
        """The first deadline it missed (None while none was)."""
        if self.escalations:
            missed = self.escalations[0].get("missed")
            if isinstance(missed, str):
                return datetime.fromisoformat(missed.replace("Z", "+00:00"))
        return self.deadline

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
            "starts_at": _fmt(self.starts_at),
            "superseded_by": self.superseded_by,
            "unit": self.unit_id,
        }


def _fmt(t: datetime | None) -> str | None:
    return None if t is None else format_time(t)


def acknowledge(n: Notification, *, by: str, now: datetime) -> Notification:
    """Received. Acknowledging twice is refused (the first time stands, with its time), and so is
    acknowledging a superseded notification (the one that took it over is what to acknowledge)."""
    if n.state is NotificationState.ACKNOWLEDGED:
        raise InvalidTransition(
            f"notification {n.id} was acknowledged at {_fmt(n.acknowledged_at)}",
            state=n.state.value,
            requested="acknowledged",
        )
    if n.state is NotificationState.SUPERSEDED:
        raise InvalidTransition(
            f"notification {n.id} was superseded by {n.superseded_by}: acknowledge that one",
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


def escalate(n: Notification, ladder: Sequence[Contact], *, now: datetime, policy: EscalationPolicy) -> Escalation:
    """The next step for a notification whose deadline passed: the next contact of the ladder, with a
    deadline from the time then left before the danger (``EscalationPolicy.step_s``), or, past the last
    one, the coordinator (no further deadline)."""
    if not n.escalation_due(now):
        raise ValueError(f"notification {n.id} has no escalation due")
    step = n.step + 1
    at = _fmt(now)
    if step < len(ladder):
        contact = ladder[step]
        new_deadline = policy.deadline(now, n.starts_at, len(ladder) - step, last=n.kind == ESCALATION_KIND)
        record = {
            "step": step,
            "to": contact.name,
            "at": at,
            "missed": _fmt(n.deadline),
            "deadline": _fmt(new_deadline),
        }
        done = replace(n, step=step, deadline=new_deadline, escalations=(*n.escalations, record))
        return Escalation(done, contact.name, step, False)
    record = {"step": step, "to": COORDINATOR_STEP, "at": at, "missed": _fmt(n.deadline)}
    done = replace(n, step=step, at_coordinator=True, escalations=(*n.escalations, record))
    return Escalation(done, COORDINATOR_STEP, step, True)


def first_deadline(
    policy: EscalationPolicy, now: datetime, starts_at: datetime | None, contacts: int, kind: str = ""
) -> datetime:
    """The deadline of a new notification, whose primary contact is asked now (``contacts``: the
    length of the ladder it walks, at least 1)."""
    return policy.deadline(now, starts_at, max(contacts, 1), last=kind == ESCALATION_KIND)


# ------------------------------------------------------------------------------------------- one chase


def chase_of(earlier: Sequence[Notification]) -> Notification | None:
    """Among a party's earlier notifications about one thing, the one that carries the chase: the
    newest with a deadline that was not superseded (acknowledged or not)."""
    carrying = [n for n in earlier if n.deadline is not None and n.state is not NotificationState.SUPERSEDED]
    return max(carrying, key=lambda n: n.seq, default=None)


@dataclass(frozen=True)
class Chase:
    """What becomes of a new notification about something already chased."""

    notification: Notification
    """The new notification as it is stored: with a deadline (it carries the chase) or without."""
    superseded: Notification | None = None
    """The earlier notification whose chase it took over (now ``superseded``)."""


def take_over(
    new: Notification, prior: Notification | None, *, now: datetime, policy: EscalationPolicy, contacts: int
) -> Chase:
    """One version of what a notification is about, one chase. ``new`` (with its first deadline) and
    ``prior``, the notification carrying the party's chase of the same thing (``chase_of``); versions
    compare by ``body["content_version"]``, which a change of tokens alone (the other side planning,
    then activating) keeps.

    * no prior chase, or the prior one acknowledged and what it is about changed since: ``new`` starts a
      chase of its own;
    * what it is about unchanged: ``new`` is information (no deadline; ``body["chase"]`` names the
      notification that carries the chase, which goes on, or whose acknowledgement stands);
    * changed while the prior chase is pending: ``new`` takes it over at the step it reached (step,
      escalations, at_coordinator; ``body["takes_over"]`` names it), with a deadline no later than the
      one it inherits, and the prior notification is superseded."""
    if prior is None:
        return Chase(new)
    same = new.body.get("content_version") is not None and new.body.get("content_version") == prior.body.get(
        "content_version"
    )
    if same:
        return Chase(replace(new, deadline=None, body={**new.body, "chase": prior.id}))
    if prior.state is not NotificationState.PENDING:
        return Chase(new)
    deadline = prior.deadline
    if not prior.at_coordinator and deadline is not None:
        mine = policy.deadline(now, new.starts_at, max(contacts - prior.step, 1), last=new.kind == ESCALATION_KIND)
        deadline = min(deadline, mine)
    taken = replace(
        new,
        deadline=deadline,
        step=prior.step,
        escalations=prior.escalations,
        at_coordinator=prior.at_coordinator,
        body={**new.body, "takes_over": prior.id},
    )
    return Chase(taken, replace(prior, state=NotificationState.SUPERSEDED, superseded_by=new.id))
