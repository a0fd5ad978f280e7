"""Parties: the organisations taking part, and their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    PARTY = "party"
    """Declares its own operations; sees its own objects and the overlaps that concern it."""
    COORDINATOR = "coordinator"
    """Runs the cell: creates parties, sees everything, receives escalations."""
    OBSERVER = "observer"
    """Reads what concerns it; declares nothing."""
    AUDITOR = "auditor"
    """Reads the record; declares nothing."""
    USS = "uss"
    """A drone service supplier coming through the ASTM F3548 DSS interface (docs/dss.md): created on
    its first request, named by its token's subject; its intents are mirrored as its operations."""


DECLARING_ROLES = frozenset({Role.PARTY, Role.COORDINATOR})


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    role: Role
    created_at: datetime
    unit_id: str | None = None
    """Set when the caller signed in with a key scoped to one of the party's units: it acts as its party,
    declares for that unit, and sees that unit's items and the party's items of no unit."""

    @property
    def sees_all(self) -> bool:
        return self.role is Role.COORDINATOR
