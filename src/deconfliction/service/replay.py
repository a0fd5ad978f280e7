"""As-of views: what a reader could see at a given time, rebuilt from the ledger alone.

The ledger holds, for every change, the whole operation (for its owner) and, for every conflict change,
exactly what each side was told (one entry per side). Replaying the entries up to a time therefore gives
each reader's view as it was then, with the same need-to-know as the live reads: a party gets its own
operations and its side of its conflicts; the coordinator gets every operation and, per conflict, the
two sides merged (``coordinator_view``). Entries count when their time is at or before the requested
time; the whole ledger is read (entry times follow commit order within a process, not necessarily
across processes, so stopping at the first later entry could miss one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deconfliction.domain.party import Party
from deconfliction.service.runtime import Runtime
from deconfliction.service.views import coordinator_view

PAGE = 1000


@dataclass(frozen=True)
class Replayed:
    at: datetime | None
    """The time asked for (None: now, the whole ledger)."""
    last_seq: int
    """The last entry the views include."""
    operations: dict[str, dict[str, Any]]
    """Operation id -> the operation as the reader saw it (``operation_view``)."""
    conflicts: dict[str, dict[str, Any]]
    """Conflict id -> the conflict as the reader saw it (``conflict_view``)."""

    def operation_list(self, states: Sequence[str] | None = None) -> list[dict[str, Any]]:
        return [v for k, v in sorted(self.operations.items()) if states is None or not states or v["state"] in states]

    def conflict_list(self, state: str | None = None, operation: str | None = None) -> list[dict[str, Any]]:
        out = []
        for _, v in sorted(self.conflicts.items()):
            if state is not None and v["state"] != state:
                continue
            if operation is not None and operation not in _operations_of(v):
                continue
            out.append(v)
        return out


def _operations_of(view: Mapping[str, Any]) -> set[str]:
    if "sides" in view:
        return {s["operation"] for s in view["sides"]}
    return {view["operation"]}


def _side_order(view: Mapping[str, Any]) -> tuple[bool, str]:
    """Side a first: the operation whose id sorts first; in an area conflict the operation, not the thing."""
    own = str(view["operation"])
    return (not own.startswith("op_"), own)


def replay(rt: Runtime, viewer: Party | None, at: datetime | None = None) -> Replayed:
    """The views ``viewer`` had at ``at`` (None: now). ``viewer`` None is the operator at the console,
    who sees what the coordinator sees."""
    sees_all = viewer is None or viewer.sees_all
    operations: dict[str, dict[str, Any]] = {}
    sides: dict[str, dict[str, dict[str, Any]]] = {}  # conflict id -> side party -> what it was told
    last = 0
    with rt.store.read() as tx:
        seq = 0
        while True:
            batch = tx.events.after(seq, PAGE)
            if not batch:
                break
            seq = batch[-1].seq
            for e in batch:
                if at is not None and e.at > at:
                    continue
                if e.type.startswith("operation."):
                    owner = e.audience[0] if e.audience else None
                    if sees_all or owner == viewer.id:  # type: ignore[union-attr]
                        operations[e.subject_id] = {k: v for k, v in e.payload.items() if k != "conflicts"}
                        last = e.seq
                elif e.type.startswith("conflict."):
                    side = e.audience[0] if e.audience else None
                    if side is not None and (sees_all or side == viewer.id):  # type: ignore[union-attr]
                        sides.setdefault(e.subject_id, {})[side] = dict(e.payload)
                        last = e.seq
    conflicts: dict[str, dict[str, Any]] = {}
    for cid, told in sides.items():
        if not sees_all:
            conflicts[cid] = told[viewer.id]  # type: ignore[union-attr]
        elif len(told) == 2:
            view_a, view_b = sorted(told.values(), key=_side_order)
            conflicts[cid] = coordinator_view(view_a, view_b)
    return Replayed(at, last, operations, conflicts)
