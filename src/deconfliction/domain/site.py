"""Protected sites: static places (a hospital, a school, a shelter...) that operations keep away from.

A site is a point or a polygon, with a protection radius, the accuracy its owner states for its
coordinates, an owner and a ``valid_until``. An operation conflicts with it (``areas.site_conflicts``)
when it comes within the **protection distance**::

    protection distance = radius_m + accuracy_m + SitePolicy.distance(operation kind)

of the site's footprint, at any altitude and any time while the site is active.

**Expiry.** Past ``valid_until`` a site is *expired*: it is flagged to its owner for revalidation
(``revalidation_due``) and **stays protected** until the owner withdraws it; a stale list must not
silently unprotect a hospital. The owner revalidates it with a new ``valid_until``.

**Duplicates.** A new site within ``SitePolicy.duplicate_m`` (25 m) of an active site of the same owner
is reported as a likely duplicate (``likely_duplicates``), geodesic distance between the footprints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import shapely

from deconfliction.domain.footprint import (
    PolygonFootprint,
    Position,
    Shape,
    footprint_shape,
    parse_polygon_footprint,
    shape_from_core,
)
from deconfliction.domain.geo import MEAN_RADIUS_M, geodesic_distance
from deconfliction.domain.lazy import once
from deconfliction.domain.limits import Limits
from deconfliction.domain.policy import OperationKind, SeparationRule
from deconfliction.domain.sanity import WindowInPast
from deconfliction.domain.separation import Screen, measure
from deconfliction.domain.volume import format_time
from deconfliction.errors import FieldError, Forbidden, InvalidInput, InvalidTransition


class SiteCategory(StrEnum):
    HOSPITAL = "hospital"
    SCHOOL = "school"
    SHELTER = "shelter"
    WAREHOUSE = "warehouse"
    OFFICE = "office"
    OTHER = "other"


class SiteState(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class SitePoint:
    """A site given as one position."""

    position: Position


SiteFootprint = SitePoint | PolygonFootprint


# --------------------------------------------------------------------------------------------- policy

DEFAULT_SITE_DISTANCE_M: Mapping[OperationKind, float] = {
    OperationKind.AIR: 1_000.0,
    OperationKind.GROUND: 1_000.0,
    OperationKind.MARITIME: 500.0,
}
"""A site is a place on the ground: by default an operation keeps from it the distance the default
separation policy (docs/policy.md) asks of it from a ground operation: air-ground 1,000 m, ground-ground
1,000 m, ground-maritime 500 m. The site's radius and stated accuracy come on top."""

DUPLICATE_M = 25.0
"""A new site this close to an active site of the same owner is reported as a likely duplicate."""


@dataclass(frozen=True)
class SitePolicy:
    """The site rules a deployment may change: the policy distance per operation kind, and the distance
    under which a new site is a likely duplicate."""

    distance_m: Mapping[OperationKind, float] = field(default_factory=lambda: dict(DEFAULT_SITE_DISTANCE_M))
    duplicate_m: float = DUPLICATE_M

    def __post_init__(self) -> None:
        missing = [k.value for k in OperationKind if k not in self.distance_m]
        if missing:
            raise ValueError(f"site policy has no distance for {', '.join(missing)}")

    def distance(self, kind: OperationKind) -> float:
        return self.distance_m[kind]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> SitePolicy:
        """From a deployment's settings: ``{"air": 1500, "ground": 500, "maritime": 500, "duplicate_m": 25}``
        (metres). Keys not given keep their default; anything else is refused by name."""
        distances = dict(DEFAULT_SITE_DISTANCE_M)
        duplicate = DUPLICATE_M
        errors: list[FieldError] = []
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                errors.append(FieldError(key, "invalid_number", "must be a number of metres >= 0"))
            elif key == "duplicate_m":
                duplicate = float(value)
            elif key in {k.value for k in OperationKind}:
                distances[OperationKind(key)] = float(value)
            else:
                kinds = ", ".join(k.value for k in OperationKind)
                errors.append(FieldError(key, "unknown_field", f"expected one of {kinds}, duplicate_m"))
        if errors:
            raise InvalidInput(errors)
        return cls(distances, duplicate)


@dataclass(frozen=True)
class ProtectionDistance:
    """How far an operation of ``kind`` keeps from a site's footprint, and what it is made of."""

    kind: OperationKind
    radius_m: float
    accuracy_m: float
    policy_m: float

    @property
    def total_m(self) -> float:
        return self.radius_m + self.accuracy_m + self.policy_m

    @property
    def rule(self) -> SeparationRule:
        """The rule a conflict records: the total distance, altitudes not compared, no time margin."""
        return SeparationRule(f"protected_site-{self.kind.value}", self.total_m, None, 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "radius_m": self.radius_m,
            "accuracy_m": self.accuracy_m,
            "policy_m": self.policy_m,
            "total_m": self.total_m,
        }


# ----------------------------------------------------------------------------------------------- site


@dataclass(frozen=True)
class ProtectedSite:
    id: str
    owner_id: str
    name: str
    category: SiteCategory
    footprint: SiteFootprint
    radius_m: float
    accuracy_m: float
    """The accuracy the owner states for the coordinates, in metres."""
    valid_until: datetime
    state: SiteState
    version: int
    """Counts every change (revalidation, withdrawal); for ETag / If-Match. Starts at 1."""
    created_at: datetime
    updated_at: datetime
    unit_id: str | None = None
    """The owner's unit that declared it (None: the party as a whole); shown to the owner only."""

    @once
    def shape(self) -> Shape:
        """The site's own footprint as the detector sees it (a point or polygon core, no buffer)."""
        if isinstance(self.footprint, SitePoint):
            return shape_from_core(shapely.Point(self.footprint.position), 0.0)
        return footprint_shape(self.footprint)

    def protection(self, kind: OperationKind, policy: SitePolicy) -> ProtectionDistance:
        return ProtectionDistance(kind, self.radius_m, self.accuracy_m, policy.distance(kind))

    def protection_shape(self, kind: OperationKind, policy: SitePolicy) -> Shape:
        """The protected area for an operation of ``kind``: the footprint buffered by the protection
        distance (exact: a core and a radius, never a drawn curve)."""
        return shape_from_core(self.shape.core, self.protection(kind, policy).total_m)

    @property
    def is_protected(self) -> bool:
        """Active sites are protected, expired or not; only withdrawal ends protection."""
        return self.state is SiteState.ACTIVE

    def is_expired(self, now: datetime) -> bool:
        return now >= self.valid_until

    def needs_revalidation(self, now: datetime) -> bool:
        return self.is_protected and self.is_expired(now)


# ---------------------------------------------------------------------------------------------- input


def parse_category(raw: Any, field: str = "category") -> SiteCategory:
    try:
        return SiteCategory(raw)
    except ValueError:
        allowed = ", ".join(c.value for c in SiteCategory)
        raise InvalidInput.one(field, "unknown_category", f"category must be one of {allowed}; got {raw!r}") from None


def parse_site_footprint(obj: Any, limits: Limits) -> SiteFootprint:
    """A GeoJSON ``Point`` or ``Polygon`` / ``MultiPolygon`` (geodesic edges, as operations' footprints).
    Field paths are relative to the footprint object."""
    kind = obj.get("type") if isinstance(obj, Mapping) else None
    if kind == "Point":
        unknown = sorted(set(obj) - {"type", "coordinates", "bbox"})
        if unknown:
            raise InvalidInput([FieldError(k, "unknown_field", "unknown field for a Point") for k in unknown])
        return SitePoint(_parse_point(obj.get("coordinates"), limits))
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidInput.one("type", "invalid_geojson", f"a site is a Point, Polygon or MultiPolygon; got {kind!r}")
    return parse_polygon_footprint(obj, limits, "a site's outline")


def _parse_point(raw: Any, limits: Limits) -> Position:
    if not isinstance(raw, list | tuple) or len(raw) not in (2, 3):
        raise InvalidInput.one("coordinates", "invalid_geojson", "a position is [longitude, latitude]")
    for i, v in enumerate(raw):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InvalidInput.one(f"coordinates[{i}]", "invalid_geojson", f"not a finite number: {v!r}")
    lon, lat = float(raw[0]), float(raw[1])
    if not -180.0 <= lon <= 180.0:
        raise InvalidInput.one("coordinates[0]", "out_of_range", f"longitude {lon} is outside [-180, 180]")
    if abs(lat) > 90.0 - limits.pole_margin_deg:
        raise InvalidInput.one(
            "coordinates[1]", "near_pole", f"latitude {lat} is within {limits.pole_margin_deg} degree of a pole"
        )
    return (lon, lat)


def _check_lengths(radius_m: float, accuracy_m: float) -> list[FieldError]:
    errors = []
    for name, value in (("radius_m", radius_m), ("accuracy_m", accuracy_m)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            errors.append(FieldError(name, "out_of_range", f"{name} must be a number of metres >= 0"))
    return errors


def _check_valid_until(valid_until: datetime, now: datetime) -> list[FieldError]:
    if valid_until <= now:
        return [
            FieldError(
                "valid_until",
                "window_in_past",
                f"valid_until {format_time(valid_until)} is not after now ({format_time(now)})",
            )
        ]
    return []


def _refusal(errors: list[FieldError]) -> InvalidInput:
    """``window_in_past`` as the problem's code when that is the only reason (as for operations)."""
    return (WindowInPast if all(e.code == "window_in_past" for e in errors) else InvalidInput)(errors)


def new_site(
    *,
    site_id: str,
    owner_id: str,
    name: str,
    category: SiteCategory,
    footprint: SiteFootprint,
    radius_m: float,
    accuracy_m: float,
    valid_until: datetime,
    now: datetime,
    limits: Limits | None = None,
) -> ProtectedSite:
    """A new active site. ``footprint`` comes from ``parse_site_footprint``. Refuses, naming the field: an
    empty name, a negative or non-finite radius or accuracy, ``valid_until`` not in the future, and a
    protection area reaching the pole cap."""
    limits = limits or Limits()
    errors: list[FieldError] = []
    if not name.strip():
        errors.append(FieldError("name", "required", "a site needs a name"))
    errors += _check_lengths(radius_m, accuracy_m)
    errors += _check_valid_until(valid_until, now)
    if not errors:
        lats = [footprint.position[1]] if isinstance(footprint, SitePoint) else _latitudes(footprint)
        reach_deg = math.degrees((radius_m + accuracy_m) / MEAN_RADIUS_M) * 1.01
        if max(abs(v) for v in lats) + reach_deg > 90.0 - limits.pole_margin_deg:
            errors.append(
                FieldError(
                    "radius_m", "near_pole", f"the site reaches within {limits.pole_margin_deg} degree of a pole"
                )
            )
    if errors:
        raise _refusal(errors)
    return ProtectedSite(
        id=site_id,
        owner_id=owner_id,
        name=name.strip(),
        category=category,
        footprint=footprint,
        radius_m=float(radius_m),
        accuracy_m=float(accuracy_m),
        valid_until=valid_until,
        state=SiteState.ACTIVE,
        version=1,
        created_at=now,
        updated_at=now,
    )


def _latitudes(fp: PolygonFootprint) -> list[float]:
    return [p[1] for rings in fp.polygons for ring in rings for p in ring]


# -------------------------------------------------------------------------------------------- changes


def _require_owner(site: ProtectedSite, party_id: str, action: str) -> None:
    if party_id != site.owner_id:
        raise Forbidden(
            f"party {party_id} cannot {action} site {site.id}: only its owner {site.owner_id} can",
            party=party_id,
            action=action,
        )


def _require_active(site: ProtectedSite, action: str) -> None:
    if site.state is not SiteState.ACTIVE:
        raise InvalidTransition(
            f"site {site.id} is {site.state}: it cannot {action} (allowed: none)", state=site.state.value, action=action
        )


def revalidate_site(site: ProtectedSite, *, party_id: str, valid_until: datetime, now: datetime) -> ProtectedSite:
    """The owner confirms the site, expired or not, until a new ``valid_until`` in the future."""
    _require_owner(site, party_id, "revalidate")
    _require_active(site, "revalidate")
    errors = _check_valid_until(valid_until, now)
    if errors:
        raise _refusal(errors)
    return replace(site, valid_until=valid_until, version=site.version + 1, updated_at=now)


def withdraw_site(site: ProtectedSite, *, party_id: str, now: datetime) -> ProtectedSite:
    """The owner withdraws the site: from now on it protects nothing. Only the owner can."""
    _require_owner(site, party_id, "withdraw")
    _require_active(site, "withdraw")
    return replace(site, state=SiteState.WITHDRAWN, version=site.version + 1, updated_at=now)


def revalidation_due(sites: Iterable[ProtectedSite], now: datetime) -> list[ProtectedSite]:
    """The active sites past their ``valid_until``, oldest expiry first: each is flagged to its owner
    (and still protected)."""
    return sorted((s for s in sites if s.needs_revalidation(now)), key=lambda s: (s.valid_until, s.id))


# ------------------------------------------------------------------------------------------ duplicates


@dataclass(frozen=True)
class Duplicate:
    site: ProtectedSite
    distance_m: float
    """Geodesic distance between the two footprints (0 when they touch or overlap)."""


def likely_duplicates(
    new: ProtectedSite, existing: Iterable[ProtectedSite], policy: SitePolicy | None = None
) -> list[Duplicate]:
    """Active sites of ``new``'s owner within ``policy.duplicate_m`` (25 m) of it, nearest first.

    Two points: exact geodesic distance, "within" including 25 m itself. A polygon on either side: the
    footprints' distance (``separation.measure``, within 1 m). Sites of other owners, withdrawn ones and
    ``new`` itself are ignored."""
    limit = (policy or SitePolicy()).duplicate_m
    candidates = [s for s in existing if s.owner_id == new.owner_id and s.id != new.id and s.is_protected]
    if not candidates:
        return []
    found: list[Duplicate] = []
    bounds = Screen(new.shape).lower_bounds([s.shape for s in candidates]).tolist()
    for site, bound in zip(candidates, bounds, strict=True):
        if bound > limit:
            continue
        if isinstance(new.footprint, SitePoint) and isinstance(site.footprint, SitePoint):
            (lon1, lat1), (lon2, lat2) = new.footprint.position, site.footprint.position
            d = float(geodesic_distance(lon1, lat1, lon2, lat2))
            if d <= limit:
                found.append(Duplicate(site, d))
            continue
        m = measure(new.shape, site.shape, limit)
        if m is not None:
            found.append(Duplicate(site, m.distance_m))
    return sorted(found, key=lambda d: (d.distance_m, d.site.id))
