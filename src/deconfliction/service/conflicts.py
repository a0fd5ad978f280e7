"""Reading conflicts, through need-to-know."""

from __future__ import annotations

from collections.abc import Iterable

from deconfliction import wire
from deconfliction.domain.conflict import Conflict, ConflictState
from deconfliction.domain.party import Party
from deconfliction.errors import NotFound
from deconfliction.service.runtime import Runtime
from deconfliction.service.units import unit_of_side
from deconfliction.service.views import conflict_view, may_see_unit_item, visible_conflict, visible_operation
from deconfliction.store.ports import Transaction

DEFAULT_STATES = (ConflictState.OPEN, ConflictState.RESOLVED)
"""What a list shows without a state filter: every conflict but the expired ones (their window ended;
``state=expired`` reads them)."""


def party_names(tx: Transaction, conflicts: Iterable[Conflict]) -> dict[str, str]:
    ids = {pid for c in conflicts for pid in (c.party_a, c.party_b)}
    found = tx.parties.get_many(ids) if ids else {}
    return {pid: found[pid].name if pid in found else pid for pid in ids}


def _unit_may_see(tx: Transaction, actor: Party, c: Conflict) -> bool:
    """A unit's key sees the conflicts of its own unit's objects and of its party's objects of no unit."""
    return actor.unit_id is None or may_see_unit_item(actor, actor.id, unit_of_side(tx, c, actor.id))


def _has_units(tx: Transaction, viewer: Party) -> bool:
    """Whether a unit may be named at all (most parties have none: no look-up per conflict then)."""
    return bool(tx.units.list(party_id=None if viewer.sees_all else viewer.id, limit=1))


def _with_units(tx: Transaction, viewer: Party, c: Conflict, view: wire.Conflict) -> wire.Conflict:
    """The view with ``unit`` on the viewer's own side (the coordinator: on each side) when one of the
    party's units declared its object, as the write that told it said (``units.told_view``)."""
    if viewer.sees_all:
        for side in view.sides or ():
            unit = unit_of_side(tx, c, side.party)
            if unit is not None:
                side.unit = unit
    elif view.operation is not None:
        unit = unit_of_side(tx, c, viewer.id)
        if unit is not None:
            view.unit = unit
    return view


def list_conflicts(
    rt: Runtime,
    actor: Party,
    *,
    state: ConflictState | None = None,
    operation_id: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[wire.Conflict]:
    with rt.store.read() as tx:
        if operation_id is not None:
            visible_operation(actor, tx.operations.get(operation_id), operation_id)
        party = None if actor.sees_all else actor.id
        default_states = None if state is not None else DEFAULT_STATES
        found = tx.conflicts.list(
            party_id=party, state=state, operation_id=operation_id, after=after, limit=limit, states=default_states
        )
        if actor.unit_id is not None:  # a unit's key: not a sibling unit's conflicts (page on until full)
            kept, batch = [], found
            while batch:
                kept += [c for c in batch if _unit_may_see(tx, actor, c)]
                if len(kept) >= limit or len(batch) < limit:
                    break
                batch = tx.conflicts.list(
                    party_id=party,
                    state=state,
                    operation_id=operation_id,
                    after=batch[-1].id,
                    limit=limit,
                    states=default_states,
                )
            found = kept[:limit]
        names = party_names(tx, found)
        units = _has_units(tx, actor)
        return [
            _with_units(tx, actor, c, conflict_view(actor, c, names)) if units else conflict_view(actor, c, names)
            for c in found
        ]


def get_conflict(rt: Runtime, actor: Party, conflict_id: str) -> wire.Conflict:
    with rt.store.read() as tx:
        c = visible_conflict(actor, tx.conflicts.get(conflict_id), conflict_id)
        if not _unit_may_see(tx, actor, c):
            raise NotFound(f"no conflict {conflict_id}", id=conflict_id)
        names = party_names(tx, [c])
        view = conflict_view(actor, c, names)
        return _with_units(tx, actor, c, view) if _has_units(tx, actor) else view
