"""Conflict report for a file in the export's dialect, with no server and no database: operations and
movements against each other, against the agreed zones and the protected sites of the same file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deconfliction.domain.areas import AreaFinding, site_conflicts, zone_entries
from deconfliction.domain.conflict import Finding, Occupancy, detect
from deconfliction.domain.features import DeclaredOperation, DeclaredSite, DeclaredZone, parse_document
from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.policy import SeparationPolicy
from deconfliction.domain.site import ProtectedSite, SitePolicy, SiteState
from deconfliction.domain.zone import Zone, ZoneState

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FAR = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OfflineReport:
    operations: list[DeclaredOperation]
    findings: list[Finding]
    """Each conflicting pair once (operation_a sorts before operation_b)."""
    zones: list[DeclaredZone]
    sites: list[DeclaredSite]
    areas: list[AreaFinding]
    """Operations entering another party's agreed zone or a protected site's distance; ``target_id`` is
    ``zone:<index>`` or ``site:<index>`` in ``zones`` / ``sites``, owners by party name."""


def _as_operation(d: DeclaredOperation) -> Operation:
    return Operation(d.name, d.party, d.kind, d.priority, OperationState.PLANNED, 1, d.name, d.volumes, d.title,
                     _EPOCH, _EPOCH)  # fmt: skip


def _as_zone(i: int, z: DeclaredZone) -> Zone:
    state = ZoneState.AGREED if z.agreed else ZoneState.PROPOSED
    return Zone(f"zone:{i}", 1, z.party, z.counterparties, z.name, z.footprint, z.validity, state, (), 1, _EPOCH,
                _EPOCH)  # fmt: skip


def _as_site(i: int, s: DeclaredSite) -> ProtectedSite:
    return ProtectedSite(f"site:{i}", s.party, s.name, s.category, s.footprint, s.radius_m, s.accuracy_m, _FAR,
                         SiteState.ACTIVE, 1, _EPOCH, _EPOCH)  # fmt: skip


def check_collection(
    obj: Any, policy: SeparationPolicy, limits: Limits, site_policy: SitePolicy | None = None
) -> OfflineReport:
    document = parse_document(obj, limits)
    ops = [_as_operation(d) for d in document.operations]
    occupancy: list[Occupancy] = [
        Occupancy(op.id, op.owner_id, op.kind, op.ovn, i, v.shape, v.altitude, v.window)
        for op in ops
        for i, v in enumerate(op.volumes)
    ]
    findings: list[Finding] = []
    for op in ops:
        subject = [o for o in occupancy if o.operation_id == op.id]
        later = [o for o in occupancy if o.operation_id > op.id]
        findings.extend(detect(subject, later, policy))
    zones = [_as_zone(i, z) for i, z in enumerate(document.zones)]
    sites = [_as_site(i, s) for i, s in enumerate(document.sites)]
    areas = [a for op in ops for a in (*zone_entries(op, zones), *site_conflicts(op, sites, site_policy))]
    return OfflineReport(document.operations, findings, document.zones, document.sites, areas)
