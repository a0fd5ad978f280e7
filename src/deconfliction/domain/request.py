"""Requests: asking another party for something (to enter its zone, to cross a line, to pass a site).

Acknowledging a notification says "received"; a request is answered separately: the party asked
approves, denies or comments; the requester may withdraw it. It stays open until answered or withdrawn,
and both sides see its state. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from deconfliction.domain.volume import TimeWindow, format_time
from deconfliction.errors import Forbidden, InvalidTransition

MAX_TEXT = 4000


class RequestKind(StrEnum):
    ENTER_ZONE = "enter_zone"
    CROSS_LINE = "cross_line"
    PASS_SITE = "pass_site"
    OTHER = "other"


SUBJECT_OF = {
    RequestKind.ENTER_ZONE: "zone",
    RequestKind.CROSS_LINE: "line",
    RequestKind.PASS_SITE: "site",
    RequestKind.OTHER: "conflict",
}
"""What each kind of request is about: a zone, a line, a site; ``other`` is about a conflict."""


class RequestState(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Request:
    id: str
    kind: RequestKind
    requester_id: str
    owner_id: str
    """The party asked: the zone's or site's owner, the other side of the line or of the conflict."""
    subject_id: str
    text: str
    window: TimeWindow | None
    created_at: datetime
    state: RequestState = RequestState.OPEN
    comments: tuple[Mapping[str, Any], ...] = ()
    answered_at: datetime | None = None
    answer: str | None = None

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "about": {"type": SUBJECT_OF[self.kind], "id": self.subject_id},
            "requester": self.requester_id,
            "owner": self.owner_id,
            "text": self.text,
            "window": None
            if self.window is None
            else {"start": format_time(self.window.start), "end": format_time(self.window.end)},
            "state": self.state.value,
            "comments": [dict(c) for c in self.comments],
            "answer": self.answer,
            "answered_at": None if self.answered_at is None else format_time(self.answered_at),
            "created_at": format_time(self.created_at),
        }


def _open(r: Request, action: str) -> None:
    if r.state is not RequestState.OPEN:
        raise InvalidTransition(f"request {r.id} is {r.state.value}: it cannot be {action}", state=r.state.value)


def answer(r: Request, *, by: str, approve: bool, text: str | None, now: datetime) -> Request:
    if by != r.owner_id:
        raise Forbidden("only the party asked answers a request")
    _open(r, "answered")
    state = RequestState.APPROVED if approve else RequestState.DENIED
    return replace(r, state=state, answered_at=now, answer=text)


def comment(r: Request, *, by: str, text: str, now: datetime) -> Request:
    if by not in (r.owner_id, r.requester_id):
        raise Forbidden("only the two sides of a request comment on it")
    _open(r, "commented on")
    return replace(r, comments=(*r.comments, {"by": by, "text": text, "at": format_time(now)}))


def withdraw(r: Request, *, by: str, now: datetime) -> Request:
    if by != r.requester_id:
        raise Forbidden("only the requester withdraws a request")
    _open(r, "withdrawn")
    return replace(r, state=RequestState.WITHDRAWN, answered_at=now)
