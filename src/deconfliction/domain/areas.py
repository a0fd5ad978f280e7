"""Conflicts between an operation and static things: foreign zones, line bands, protected sites.

Three rules, pure functions of an operation and the things to check it against (from any pre-filter, or
all of them), each returning one ``AreaFinding`` per thing the operation conflicts with:

``zone_entries(operation, zones)`` -> kind ``zone_entry``
    A volume of the operation of party A overlaps (or touches) an **agreed** zone of another party B
    while the zone is in force (the volume's window meets the zone's validity). The conflict concerns A
    and B. Any party other than the owner entering counts, not only the zone's counter-parties: "if you
    come in there, you call us". Altitudes are not compared: a zone of responsibility is all of the
    airspace above it too.
``band_entries(operation, bands)`` -> kind ``band_entry``
    A volume of an operation of *either* party of a deconfliction line overlaps the line's band while it
    is valid: a conflict for both parties. Other parties' operations are not concerned. Any altitude.
``site_conflicts(operation, sites, site_policy)`` -> kind ``protected_site``
    A volume comes within radius + accuracy + the policy's distance for the operation's kind of an active
    site's footprint (site.py), at any altitude and time (a hospital is there day and night; expired
    sites included). The conflict concerns the site's owner and the operator.

Never a conflict: an operation of the zone's or site's owner with its own zone or site.

Exactness is the operation-operation detector's (docs/geometry.md): ``Screen`` discards what is
certainly clear, ``measure`` decides the rest within 1 m on the real geometry (a volume more than 1 m
inside a zone or the protection distance always conflicts, one more than 1 m outside never does).
Each encounter carries the overlap region, drawn only when read: the part of the volume's footprint
within the zone, the band or the protection distance, in longitude/latitude.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from deconfliction.domain.footprint import Position, Shape
from deconfliction.domain.lazy import once
from deconfliction.domain.line import Band
from deconfliction.domain.minima import threshold_m
from deconfliction.domain.operation import Operation
from deconfliction.domain.policy import SeparationRule
from deconfliction.domain.separation import Screen, draw_region, measure
from deconfliction.domain.site import ProtectedSite, ProtectionDistance, SitePolicy
from deconfliction.domain.volume import AltitudeBand, TimeWindow
from deconfliction.domain.zone import Zone

ENTRY_M = 1e-6
"""An entry is a distance of 0 (overlap or touch); the threshold the detector compares with."""


class AreaConflictKind(StrEnum):
    ZONE_ENTRY = "zone_entry"
    BAND_ENTRY = "band_entry"
    PROTECTED_SITE = "protected_site"


ZONE_ENTRY_RULE = SeparationRule("zone_entry", 0.0, None, 0.0)
BAND_ENTRY_RULE = SeparationRule("band_entry", 0.0, None, 0.0)


@dataclass(frozen=True)
class AreaEncounter:
    """One volume of the operation against the thing."""

    index: int
    """The volume's index in the operation."""
    horizontal_m: float
    """Geodesic distance from the volume's footprint to the thing's footprint (zone, band, the site's own
    point or polygon), 0 when they touch or overlap; within 1 m."""
    window: TimeWindow
    """The volume's window within the thing's validity (the volume's window for a site)."""
    altitude: AltitudeBand
    """The volume's band (the thing has none)."""
    drawn: BaseGeometry | Callable[[], BaseGeometry] = field(compare=False, repr=False)
    point_operation: Position
    point_target: Position
    """Closest points: on the volume's core, and on the thing's footprint."""

    @once
    def region(self) -> BaseGeometry:
        """Longitude/latitude: the part of the volume's footprint inside the zone, the band or the
        protection distance."""
        return self.drawn() if callable(self.drawn) else self.drawn


@dataclass(frozen=True)
class AreaFinding:
    """Operation ``operation_id`` of ``operator_id`` conflicts with the zone, band or site ``target_id``,
    which concerns ``target_owner_id`` (for a band: the line's other party)."""

    kind: AreaConflictKind
    operation_id: str
    operator_id: str
    ovn: str
    target_id: str
    target_version: int
    """The zone's or site's version (bands have none: 1)."""
    target_owner_id: str
    rule: SeparationRule
    encounters: tuple[AreaEncounter, ...]
    protection: ProtectionDistance | None = None
    """For a site: how the protection distance was made up."""

    @property
    def parties(self) -> tuple[str, str]:
        """Who is told: the operator and the owner of the thing."""
        return (self.operator_id, self.target_owner_id)

    @property
    def window(self) -> TimeWindow:
        w = self.encounters[0].window
        for e in self.encounters[1:]:
            w = w.hull(e.window)
        return w

    @property
    def region(self) -> BaseGeometry:
        return shapely.union_all(np.array([e.region for e in self.encounters], dtype=object))

    @property
    def min_horizontal_m(self) -> float:
        return min(e.horizontal_m for e in self.encounters)


@dataclass(frozen=True, eq=False)
class _Target:
    id: str
    version: int
    owner_id: str
    shape: Shape
    """What the distance is measured to."""
    within_m: float
    """Closer than this is a conflict: a site's protection distance as declared (``minima.threshold_m``),
    or ``ENTRY_M`` for an entry (a touch)."""
    region_shape: Shape
    """What the region is drawn against: the volume's footprint within it."""
    validity: TimeWindow | None
    rule: SeparationRule
    protection: ProtectionDistance | None = None


def _find(operation: Operation, kind: AreaConflictKind, targets: Sequence[_Target]) -> list[AreaFinding]:
    if not targets:
        return []
    found: dict[str, list[AreaEncounter]] = {}
    meta: dict[str, _Target] = {}
    for index, volume in enumerate(operation.volumes):
        near = [t for t in targets if t.validity is None or volume.window.intersects(t.validity)]
        if not near:
            continue
        screening = Screen(volume.shape).screen([t.shape for t in near])
        for t, bound, meet in zip(near, screening.bounds.tolist(), screening.meeting, strict=True):
            if bound >= t.within_m:
                continue
            if meet is not None:  # the cores overlap: distance 0, nothing to measure
                distance, point_a, point_b = 0.0, meet, meet
            else:
                m = measure(volume.shape, t.shape, t.within_m)
                if m is None:
                    continue
                distance, point_a, point_b = m.distance_m, m.point_a, m.point_b
            found.setdefault(t.id, []).append(
                AreaEncounter(
                    index,
                    distance,
                    volume.window if t.validity is None else volume.window.meeting(t.validity),
                    volume.altitude,
                    partial(draw_region, volume.shape, t.region_shape, 0.0),
                    point_a,
                    point_b,
                )
            )
            meta[t.id] = t
    return [
        AreaFinding(
            kind,
            operation.id,
            operation.owner_id,
            operation.ovn,
            t.id,
            t.version,
            t.owner_id,
            t.rule,
            tuple(found[t.id]),
            t.protection,
        )
        for t in sorted(meta.values(), key=lambda t: t.id)
    ]


def zone_entries(operation: Operation, zones: Iterable[Zone]) -> list[AreaFinding]:
    """Every agreed zone of another party that a volume of ``operation`` enters while it is in force."""
    targets = [
        _Target(z.id, z.version, z.owner_id, z.shape, ENTRY_M, z.shape, z.validity, ZONE_ENTRY_RULE)
        for z in zones
        if z.is_agreed and z.owner_id != operation.owner_id
    ]
    return _find(operation, AreaConflictKind.ZONE_ENTRY, targets)


def band_entries(operation: Operation, bands: Iterable[Band]) -> list[AreaFinding]:
    """Every band of a line between the operation's party and another that a volume of ``operation``
    enters while the band is valid. ``target_owner_id`` is the line's other party."""
    targets = []
    for b in bands:
        if operation.owner_id not in b.parties:
            continue
        other = b.party_right if operation.owner_id == b.party_left else b.party_left
        targets.append(_Target(b.id, 1, other, b.shape, ENTRY_M, b.shape, b.validity, BAND_ENTRY_RULE))
    return _find(operation, AreaConflictKind.BAND_ENTRY, targets)


def site_conflicts(
    operation: Operation, sites: Iterable[ProtectedSite], site_policy: SitePolicy | None = None
) -> list[AreaFinding]:
    """Every active site of another party within its protection distance of a volume of ``operation``."""
    policy = site_policy or SitePolicy()
    targets = []
    for s in sites:
        if not s.is_protected or s.owner_id == operation.owner_id:
            continue
        protection = s.protection(operation.kind, policy)
        targets.append(
            _Target(
                s.id,
                s.version,
                s.owner_id,
                s.shape,
                max(threshold_m(protection.total_m), ENTRY_M),
                s.protection_shape(operation.kind, policy),
                None,
                protection.rule,
                protection,
            )
        )
    return _find(operation, AreaConflictKind.PROTECTED_SITE, targets)
