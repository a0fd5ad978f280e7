"""Operations: a party's planned activity, its states and versions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import TimeWindow, Volume4D
from deconfliction.errors import InvalidTransition


class OperationState(StrEnum):
    DRAFT = "draft"
    PLANNED = "planned"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


TRANSITIONS: dict[OperationState, frozenset[OperationState]] = {
    OperationState.DRAFT: frozenset({OperationState.PLANNED, OperationState.CANCELLED}),
    OperationState.PLANNED: frozenset({OperationState.ACTIVE, OperationState.CANCELLED}),
    OperationState.ACTIVE: frozenset({OperationState.ENDED, OperationState.CANCELLED}),
    OperationState.ENDED: frozenset(),
    OperationState.CANCELLED: frozenset(),
}

LIVE_STATES = frozenset({OperationState.DRAFT, OperationState.PLANNED, OperationState.ACTIVE})
"""States that take part in conflict detection."""

COMMITTED_STATES = frozenset({OperationState.PLANNED, OperationState.ACTIVE})
"""States an operation may only hold with proof of knowledge of every conflict it has."""


@dataclass(frozen=True)
class Operation:
    id: str
    owner_id: str
    kind: OperationKind
    priority: int
    state: OperationState
    version: int
    ovn: str
    """Opaque version token; another party's conflict token for this operation. Changes with every version."""
    volumes: tuple[Volume4D, ...]
    title: str
    created_at: datetime
    updated_at: datetime
    unit_id: str | None = None
    """The owner's unit that declared it (None: the party as a whole)."""
    historical: bool = False
    """Filed as a record for an inquiry (its window may have wholly passed): its conflicts are found and
    recorded but never chased, and it is never planned or activated."""

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def window(self) -> TimeWindow:
        w = self.volumes[0].window
        for v in self.volumes[1:]:
            w = w.hull(v.window)
        return w

    def transition(self, to: OperationState, *, now: datetime, ovn: str) -> Operation:
        if to not in TRANSITIONS[self.state]:
            allowed = ", ".join(sorted(TRANSITIONS[self.state])) or "none"
            raise InvalidTransition(
                f"an operation that is {self.state} cannot become {to} (allowed: {allowed})",
                state=self.state.value,
                requested=to.value,
            )
        if self.historical and to in COMMITTED_STATES:
            raise InvalidTransition(
                f"operation {self.id} is a historical record: it cannot become {to}",
                state=self.state.value,
                requested=to.value,
            )
        return replace(self, state=to, version=self.version + 1, ovn=ovn, updated_at=now)

    def revise(
        self,
        *,
        volumes: tuple[Volume4D, ...],
        kind: OperationKind,
        priority: int,
        title: str,
        now: datetime,
        ovn: str,
    ) -> Operation:
        if not self.is_live:
            raise InvalidTransition(f"an operation that is {self.state} cannot be changed", state=self.state.value)
        return replace(
            self,
            volumes=volumes,
            kind=kind,
            priority=priority,
            title=title,
            version=self.version + 1,
            ovn=ovn,
            updated_at=now,
        )
