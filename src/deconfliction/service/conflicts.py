"""Reading conflicts, through need-to-know."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deconfliction.domain.conflict import Conflict, ConflictState
from deconfliction.domain.party import Party
from deconfliction.service.runtime import Runtime
from deconfliction.service.views import conflict_view, visible_conflict, visible_operation
from deconfliction.store.ports import Transaction

DEFAULT_STATES = (ConflictState.OPEN, ConflictState.RESOLVED)
"""What a list shows without a state filter: every conflict but the expired ones (their window ended;
``state=expired`` reads them)."""


def party_names(tx: Transaction, conflicts: Iterable[Conflict]) -> dict[str, str]:
    names: dict[str, str] = {}
    for c in conflicts:
        for pid in (c.party_a, c.party_b):
            if pid not in names:
                p = tx.parties.get(pid)
                names[pid] = p.name if p else pid
    return names


def list_conflicts(
    rt: Runtime,
    actor: Party,
    *,
    state: ConflictState | None = None,
    operation_id: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    with rt.store.read() as tx:
        if operation_id is not None:
            visible_operation(actor, tx.operations.get(operation_id), operation_id)
        party = None if actor.sees_all else actor.id
        found = tx.conflicts.list(
            party_id=party,
            state=state,
            operation_id=operation_id,
            after=after,
            limit=limit,
            states=None if state is not None else DEFAULT_STATES,
        )
        names = party_names(tx, found)
    return [conflict_view(actor, c, names) for c in found]


def get_conflict(rt: Runtime, actor: Party, conflict_id: str) -> dict[str, Any]:
    with rt.store.read() as tx:
        c = visible_conflict(actor, tx.conflicts.get(conflict_id), conflict_id)
        names = party_names(tx, [c])
    return conflict_view(actor, c, names)
