"""Conflicts with things that stay put (foreign zones, line bands, protected sites) as Conflict records.

The pure rules are ``domain.areas`` (``zone_entries``, ``band_entries``, ``site_conflicts``); this module
finds what to check them against through the store's bounding-box index (``area_boxes``: agreed zone
versions, active sites, bands; never a scan of every row) and keeps one ``Conflict`` record per
(operation, zone | band | site) pair, like the operation-operation records:

* ``operation_a`` / ``party_a`` is always the operation and its operator, ``operation_b`` / ``party_b``
  the zone, line (for a band) or site id and the party it concerns (the zone's or site's owner, the line's
  other party). ``kind`` is ``zone_entry``, ``band_entry`` or ``protected_site``.
* ``token_a`` is the thing's token (one per zone version, site or line, drawn when it is stored): the
  operator lists it to plan or activate, as for an operation conflict. ``token_b`` is the operation's ovn.
* Each encounter is one volume of the operation (``index_a``) against the thing: the overlap region
  (the volume's footprint inside the zone, the band or the protection distance), the window, the
  volume's altitude band and the distance; ``index_b`` is 0 and not shown.

Records are reconciled on every change of an operation (from ``operations.apply_change``, so they are in the
same ``changed`` list, logged per side and notified) and on every change of a thing: a site created or
withdrawn, a zone version agreed, superseded or withdrawn, a band created (``reconcile_target``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from deconfliction import wire
from deconfliction.domain.areas import AreaConflictKind, AreaFinding, band_entries, site_conflicts, zone_entries
from deconfliction.domain.cells import Box
from deconfliction.domain.conflict import (
    Conflict,
    ConflictState,
    Encounter,
    found_state,
    next_version,
    stays_expired,
)
from deconfliction.domain.footprint import lon_boxes
from deconfliction.domain.operation import Operation
from deconfliction.domain.site import SitePolicy
from deconfliction.service.conflicts import party_names
from deconfliction.service.events import conflict_changed
from deconfliction.service.notifications import notify_conflict, prepare_to_tell
from deconfliction.service.runtime import Runtime
from deconfliction.service.units import told_view
from deconfliction.store.ports import CandidateQuery, Transaction

AREA_KINDS = frozenset(k.value for k in AreaConflictKind)
SITE_POLICY = SitePolicy()
"""The deployment's site policy (docs/zones-and-sites.md): the defaults."""

METRES_PER_DEGREE_MIN = 110_500.0
"""Fewer metres than any degree of latitude has, so boxes grown by it are never too small."""
SLACK_M = 10.0
"""Boxes are grown by this much more than needed, so rounding never drops a touching thing."""
ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC))


def is_area_conflict(c: Conflict) -> bool:
    return c.kind in AREA_KINDS


def grow_boxes(boxes: Iterable[Box], metres: float) -> list[Box]:
    """Boxes grown by ``metres`` on every side (never too little), split at the antimeridian."""
    grow = metres * 1.01 + SLACK_M
    dlat = grow / METRES_PER_DEGREE_MIN
    out: list[Box] = []
    for lon_lo, lat_lo, lon_hi, lat_hi in boxes:
        lat_lo2, lat_hi2 = max(-90.0, lat_lo - dlat), min(90.0, lat_hi + dlat)
        cos_worst = max(math.cos(math.radians(max(abs(lat_lo2), abs(lat_hi2)))), 1e-6)
        dlon = dlat / cos_worst
        out.extend(lon_boxes(lon_lo - dlon, lon_hi + dlon, lat_lo2, lat_hi2))
    return out


def area_findings(
    tx: Transaction, op: Operation, policy: SitePolicy = SITE_POLICY
) -> tuple[list[AreaFinding], dict[str, str]]:
    """Every zone, band and site ``op`` conflicts with (exact), and the token of each thing found."""
    if not op.is_live:
        return [], {}
    own = [b for v in op.volumes for b in v.shape.boxes]
    near = grow_boxes(own, 0.0)
    # one look at the index for all three kinds; a record is read only for what it found
    keys = tx.area_index.near({"zone": near, "band": near, "site": grow_boxes(own, max(policy.distance_m.values()))})
    zones = tx.zones.filed(keys["zone"])
    bands = tx.lines.bands_filed(keys["band"])
    sites = tx.sites.filed(keys["site"])
    tokens = {z.id: t for z, t in zones} | {b.id: t for b, t in bands} | {s.id: t for s, t in sites}
    findings = [
        *zone_entries(op, [z for z, _ in zones]),
        *band_entries(op, [b for b, _ in bands]),
        *site_conflicts(op, [s for s, _ in sites], policy),
    ]
    return findings, tokens


def _encounters(f: AreaFinding) -> tuple[Encounter, ...]:
    return tuple(
        Encounter(
            e.index, 0, e.horizontal_m, 0.0, 0.0, e.window, e.altitude, e.drawn, e.point_operation, e.point_target
        )
        for e in f.encounters
    )


def reconcile_areas(
    op: Operation,
    findings: Sequence[AreaFinding],
    tokens: Mapping[str, str],
    existing: Mapping[str, Conflict],
    *,
    now: datetime,
    rt: Runtime,
) -> list[Conflict]:
    """The area conflict records that change: ``existing`` maps a thing's id to the record of ``op``
    with it (open or resolved); things no longer found are resolved, found ones opened or updated."""
    changed: list[Conflict] = []
    found: set[str] = set()
    for f in findings if op.is_live else ():
        found.add(f.target_id)
        encounters = _encounters(f)
        old = existing.get(f.target_id)
        state = found_state(encounters, now, historical=op.historical)
        if old is None:
            changed.append(
                Conflict(
                    rt.ids.new_id("cf"),
                    f.kind.value,
                    state,
                    1,
                    op.id,
                    op.owner_id,
                    f.target_id,
                    f.target_owner_id,
                    tokens[f.target_id],
                    op.ovn,
                    f.rule,
                    encounters,
                    now,
                    now,
                    historical=op.historical,
                )
            )
            continue
        updated = replace(
            old,
            state=state,
            historical=op.historical,
            token_a=tokens[f.target_id],
            token_b=op.ovn,
            rule=f.rule,
            encounters=encounters,
        )
        if updated != old and not stays_expired(old, updated):
            changed.append(next_version(old, updated, now))
    for target_id, old in existing.items():
        if target_id not in found and old.state is ConflictState.OPEN:
            changed.append(next_version(old, replace(old, state=ConflictState.RESOLVED), now))
    return changed


def reconcile_operation(
    tx: Transaction,
    rt: Runtime,
    op: Operation,
    existing: Mapping[str, Conflict],
    now: datetime,
    found: tuple[Sequence[AreaFinding], Mapping[str, str]] | None = None,
) -> list[Conflict]:
    """Called by ``operations.apply_change`` for every change of ``op``: its area records after the change.
    ``existing`` is every record of ``op`` keyed by the other id (operation records are ignored);
    ``found``: ``area_findings(tx, op)`` as a snapshot found it, when nothing it reads changed since."""
    mine = {k: c for k, c in existing.items() if is_area_conflict(c)}
    findings, tokens = found if found is not None else area_findings(tx, op)
    return reconcile_areas(op, findings, tokens, mine, now=now, rt=rt)


def reconcile_target(
    tx: Transaction, rt: Runtime, actor_id: str | None, target_id: str, boxes: Iterable[Box], now: datetime
) -> list[Conflict]:
    """After a zone, band or site changed (it counts now, or no longer, or differently): reconcile its
    records with every live operation whose volumes may reach ``boxes`` (the thing's boxes grown by
    whatever distance it protects) and with every operation it had a record with; log and notify
    each changed record per side, as ``apply_change`` does. Returns the changed records."""
    existing = {c.operation_a: c for c in tx.conflicts.list(operation_id=target_id, limit=1_000_000)}
    query = CandidateQuery(tuple(boxes), ALL_TIME[0], ALL_TIME[1], None, None)
    op_ids = {o.operation_id for o in tx.operations.candidates(query)} | set(existing)
    changed: list[Conflict] = []
    for op_id in sorted(op_ids):
        op = tx.operations.get(op_id)
        if op is None:
            continue
        findings, tokens = area_findings(tx, op)
        mine = [f for f in findings if f.target_id == target_id]
        old = {target_id: existing[op_id]} if op_id in existing else {}
        changed += reconcile_areas(op, mine, tokens, old, now=now, rt=rt)
    record_changes(tx, rt, actor_id, changed, now)
    return changed


def record_changes(
    tx: Transaction, rt: Runtime, actor_id: str | None, changed: Sequence[Conflict], now: datetime
) -> None:
    """Store each changed record and append one ledger entry per side (what that side is told), then
    notify that side: the rule of ``operations.apply_change``."""
    if not changed:
        return
    names = party_names(tx, changed)
    prepare_to_tell(tx, changed)
    for c in changed:
        tx.conflicts.save(c)
        kind = "opened" if c.version == 1 else ("resolved" if c.state is ConflictState.RESOLVED else "updated")
        conflict_changed(rt, c, kind)
        for side in (c.party_a, c.party_b):
            view = told_view(tx, c, side, names)
            seq = tx.events.append(
                at=now,
                actor_id=actor_id,
                type=f"conflict.{kind}",
                subject_id=c.id,
                payload=wire.to_record(view),
                audience=[side],
            )
            other = c.party_b if side == c.party_a else c.party_a
            notify_conflict(tx, rt, c, side, seq, kind, names.get(other), view.unit)
