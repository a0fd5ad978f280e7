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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deconfliction import wire
from deconfliction.domain.ledger import EVERYONE
from deconfliction.domain.party import Party
from deconfliction.domain.volume import parse_time
from deconfliction.service.runtime import Runtime
from deconfliction.service.views import coordinator_view, may_read_unit_payload
from deconfliction.store.ports import every_event

PAGE = 1000
SITE_RECORDS = ("site.created", "site.revalidated", "site.withdrawn")
ZONE_RECORDS = ("zone.proposed", "zone.answered", "zone.agreed", "zone.rejected", "zone.superseded", "zone.withdrawn")


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
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Site id -> the site as every party saw it (``site_record``, revalidation judged at ``at``)."""
    zones: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    """(zone id, version) -> the version as the reader saw it (``zone_record``)."""
    exercise: bool = False
    """The ledger replayed is an exercise's (its entries are marked, docs/exercise.md)."""

    def zone_versions(self) -> dict[str, list[dict[str, Any]]]:
        """Zone id -> its visible versions, oldest first, zones by id."""
        out: dict[str, list[dict[str, Any]]] = {}
        for (zid, _), record in sorted(self.zones.items()):
            out.setdefault(zid, []).append(record)
        return out

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
    sites: dict[str, dict[str, Any]] = {}
    zones: dict[tuple[str, int], dict[str, Any]] = {}
    last = 0
    exercise = False
    with rt.store.read() as tx:
        for e in every_event(tx.events, PAGE):
            exercise = exercise or e.exercise
            if at is not None and e.at > at:
                continue
            if e.type.startswith("operation."):
                owner = e.audience[0] if e.audience else None
                if sees_all or owner == viewer.id:  # type: ignore[union-attr]
                    if not may_read_unit_payload(viewer, e.payload):  # now a sibling unit's
                        operations.pop(e.subject_id, None)
                        continue
                    operations[e.subject_id] = {k: v for k, v in e.payload.items() if k != "conflicts"}
                    last = e.seq
            elif e.type.startswith("conflict.") and e.type != "conflict.overridden":  # a decision, not a view
                side = e.audience[0] if e.audience else None
                if side is not None and (sees_all or side == viewer.id):  # type: ignore[union-attr]
                    if not may_read_unit_payload(viewer, e.payload):
                        sides.get(e.subject_id, {}).pop(side, None)
                        continue
                    sides.setdefault(e.subject_id, {})[side] = dict(e.payload)
                    last = e.seq
            elif e.type in SITE_RECORDS or e.type in ZONE_RECORDS:
                if not (sees_all or EVERYONE in e.audience or viewer.id in e.audience):  # type: ignore[union-attr]
                    continue
                record = {k: v for k, v in e.payload.items() if k != "likely_duplicates"}
                if e.type in SITE_RECORDS:
                    sites[e.subject_id] = record
                else:
                    zones[(e.subject_id, int(record["version"]))] = record
                last = e.seq
    conflicts: dict[str, dict[str, Any]] = {}
    for cid, told in sides.items():
        if not sees_all:
            if viewer.id in told:  # type: ignore[union-attr]  # (not when a sibling unit's)
                conflicts[cid] = told[viewer.id]  # type: ignore[union-attr]
        elif len(told) == 2:
            view_a, view_b = sorted(told.values(), key=_side_order)
            conflicts[cid] = wire.to_record(coordinator_view(view_a, view_b))
    when = at or rt.clock()
    for record in sites.values():  # as the live read, judged at the time asked for
        record["needs_revalidation"] = record["state"] == "active" and parse_time(record["valid_until"], "") <= when
    return Replayed(at, last, operations, conflicts, sites, zones, exercise)
