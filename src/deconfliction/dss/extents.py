"""The standard's 4D volumes, parsed and checked (pure: no I/O).

A footprint is kept exactly: its parts' vertices in lon/lat degrees (a shapely geometry, never compared
in degrees). Two footprints are compared in an azimuthal equidistant frame centred on one of them, so
that the poles and the antimeridian are ordinary places. Several volumes become one extent: all their
footprints' parts, the lowest floor to the highest ceiling and the earliest start to the
latest end, as the reference DSS unions them. Two extents meet when their footprints intersect and their
altitude and time ranges overlap, bounds included.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from deconfliction.domain.lazy import once

MAX_AREA_KM2 = 2500.0
"""The largest footprint accepted, as the reference DSS (its S2 covering refuses larger loops)."""

CIRCLE_SEGMENTS = 64
_GEOD = Geod(ellps="WGS84")


class ExtentError(ValueError):
    """Bad input: the message names the field and the reason."""


@dataclass(frozen=True)
class Extent:
    footprint: BaseGeometry | None
    alt_lo: float | None
    alt_hi: float | None
    start: datetime | None
    end: datetime | None

    def meets(self, other: Extent, *, altitude: bool = True) -> bool:
        if not _ranges_meet(self.start, self.end, other.start, other.end):
            return False
        if altitude and not _ranges_meet(self.alt_lo, self.alt_hi, other.alt_lo, other.alt_hi):
            return False
        if self.footprint is None or other.footprint is None:
            return False
        return footprints_meet(self.footprint, other.footprint)

    @once
    def box(self) -> tuple[float, float, float, float] | None:
        """The footprint's ``bounding_box``, computed once (a write files and searches by it several times)."""
        return bounding_box(self.footprint) if self.footprint is not None else None

    def covers(self, other: Extent) -> bool:
        """The footprint of ``other`` lies within this one's (to a centimetre)."""
        if self.footprint is None or other.footprint is None:
            return False
        a, b = _in_frame(self.footprint, other.footprint)
        return bool(shapely.union_all(_parts(a)).buffer(0.01).covers(shapely.union_all(_parts(b))))


EARTH_RADIUS_M = 6_371_008.8


def _aeqd(lon0: float, lat0: float, xy: Any) -> Any:
    """Spherical azimuthal equidistant projection centred on (lon0, lat0), in metres: continuous and
    one-to-one around the centre, poles and the antimeridian included (footprints are at most 2,500 km²,
    so a few tens of kilometres from their centre)."""
    lam = np.radians(xy[:, 0] - lon0)
    phi = np.radians(xy[:, 1])
    phi0 = math.radians(lat0)
    cos_c = np.clip(math.sin(phi0) * np.sin(phi) + math.cos(phi0) * np.cos(phi) * np.cos(lam), -1.0, 1.0)
    c = np.arccos(cos_c)
    sin_c = np.sin(c)
    k = np.where(sin_c > 1e-15, c / np.where(sin_c > 1e-15, sin_c, 1.0), 1.0)
    x = EARTH_RADIUS_M * k * np.cos(phi) * np.sin(lam)
    y = EARTH_RADIUS_M * k * (math.cos(phi0) * np.sin(phi) - math.sin(phi0) * np.cos(phi) * np.cos(lam))
    return np.column_stack((x, y))


def parts(geometry: BaseGeometry) -> list[BaseGeometry]:
    """The polygons of a footprint."""
    return list(getattr(geometry, "geoms", [geometry]))


_parts = parts


def _frame_of(a: BaseGeometry) -> Callable[[Any], Any]:
    """What puts geometries (one, or an array of them) in metres, in the azimuthal equidistant frame
    centred on the first vertex of ``a``."""
    lon, lat = (float(v) for v in shapely.get_coordinates(a)[0])
    return lambda g: shapely.transform(g, lambda xy: _aeqd(lon, lat, xy))


def _in_frame(a: BaseGeometry, b: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
    """Both footprints in metres, in the azimuthal equidistant frame centred on a vertex of ``a``."""
    to_frame = _frame_of(a)
    return to_frame(a), to_frame(b)


def footprints_meet(a: BaseGeometry, b: BaseGeometry) -> bool:
    return footprints_meeting(a, [b])[0]


def footprints_meeting(a: BaseGeometry, others: Sequence[BaseGeometry]) -> list[bool]:
    """Whether each of ``others`` meets ``a`` (a part of one intersects a part of the other), all compared
    in ``a``'s frame: the footprints are projected together in one array operation, the cost of a search
    that finds dozens being one projection, not one per pair (numpy's cost per call dwarfs a polygon's
    few vertices). A footprint with exactly ``a``'s vertices meets it without being projected (a write's
    own implicit subscription, found by the write's search for subscribers)."""
    if not others:
        return []
    given = np.empty(len(others), dtype=object)
    given[:] = list(others)
    meets = shapely.equals_exact(a, given, tolerance=0.0) & ~shapely.is_empty(given)
    rest = np.flatnonzero(~meets)
    if len(rest) == 0:
        return [bool(m) for m in meets]
    every = np.empty(len(rest) + 1, dtype=object)
    every[0] = a
    every[1:] = given[rest]
    flat = _frame_of(a)(every)
    their_parts, owner = shapely.get_parts(flat[1:], return_index=True)
    for part in shapely.get_parts(flat[0]):
        shapely.prepare(part)
        meets[rest[owner[shapely.intersects(part, their_parts)]]] = True
    return [bool(m) for m in meets]


def bounding_box(geometry: BaseGeometry) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) that surely holds the footprint: a footprint that spans more
    than half the longitudes (around a pole, across the antimeridian) gets every longitude, and the pole."""
    x0, y0, x1, y1 = (float(v) for v in geometry.bounds)
    if x1 - x0 > 180.0:
        x0, x1 = -180.0, 180.0
        if y1 > 0:
            y1 = 90.0
        if y0 < 0:
            y0 = -90.0
    return x0, y0, x1, y1


def _ranges_meet(a0: Any, a1: Any, b0: Any, b1: Any) -> bool:
    return (a0 is None or b1 is None or a0 <= b1) and (b0 is None or a1 is None or b0 <= a1)


def parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, Mapping) or not isinstance(value.get("value"), str):
        raise ExtentError(f"{field}: a Time object with a string value is required")
    if value.get("format", "RFC3339") != "RFC3339":
        raise ExtentError(f"{field}.format: only RFC3339 is accepted")
    raw = value["value"]
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ExtentError(f"{field}.value: {raw!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None or "T" not in raw.upper():
        raise ExtentError(f"{field}.value: {raw!r} is not an RFC 3339 time with a time zone")
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _altitude(value: Any, field: str) -> float:
    if not isinstance(value, Mapping):
        raise ExtentError(f"{field}: an Altitude object is required")
    if value.get("units", "M") != "M":
        raise ExtentError(f"{field}.units: only M is accepted, not {value.get('units')!r}")
    if value.get("reference", "W84") != "W84":
        raise ExtentError(f"{field}.reference: only W84 is accepted, not {value.get('reference')!r}")
    number = value.get("value")
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        raise ExtentError(f"{field}.value: a number is required")
    return float(number)


def _point(value: Any, field: str) -> tuple[float, float]:
    if not isinstance(value, Mapping):
        raise ExtentError(f"{field}: a LatLngPoint is required")
    lat, lng = value.get("lat"), value.get("lng")
    for name, number, bound in (("lat", lat, 90.0), ("lng", lng, 180.0)):
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise ExtentError(f"{field}.{name}: a number is required")
        if abs(number) > bound:
            raise ExtentError(f"{field}.{name}: {number} is outside [-{bound:g}, {bound:g}]")
    return float(lng), float(lat)  # type: ignore[arg-type]


def _area_km2(geometry: BaseGeometry) -> float:
    return abs(_GEOD.geometry_area_perimeter(geometry)[0]) / 1e6


def _polygon(value: Any, field: str) -> BaseGeometry:
    vertices = value.get("vertices") if isinstance(value, Mapping) else None
    if not isinstance(vertices, list) or len(vertices) < 3:
        raise ExtentError(f"{field}.vertices: at least 3 vertices are required")
    points = [_point(v, f"{field}.vertices[{i}]") for i, v in enumerate(vertices)]
    if len(set(points)) != len(points):
        raise ExtentError(f"{field}.vertices: a vertex is repeated")
    polygon = shapely.Polygon(points)
    flat = _frame_of(polygon)(polygon)
    if not flat.is_valid:
        raise ExtentError(f"{field}: {shapely.is_valid_reason(flat)}")
    if flat.area == 0:
        raise ExtentError(f"{field}: the polygon has no area")
    if _area_km2(polygon) > MAX_AREA_KM2:
        raise ExtentError(f"{field}: area too large ({_area_km2(polygon):.0f} km² > {MAX_AREA_KM2:g} km²)")
    return polygon


def _circle(value: Any, field: str) -> BaseGeometry:
    if not isinstance(value, Mapping):
        raise ExtentError(f"{field}: a Circle is required")
    lng, lat = _point(value.get("center"), f"{field}.center")
    radius = value.get("radius")
    if not isinstance(radius, Mapping):
        raise ExtentError(f"{field}.radius: a Radius is required")
    if radius.get("units", "M") != "M":
        raise ExtentError(f"{field}.radius.units: only M is accepted")
    r = radius.get("value")
    if isinstance(r, bool) or not isinstance(r, int | float) or not math.isfinite(r) or r <= 0:
        raise ExtentError(f"{field}.radius.value: a number of metres above 0 is required")
    if math.pi * (r / 1000.0) ** 2 > MAX_AREA_KM2:
        raise ExtentError(f"{field}: area too large (radius {r:g} m)")
    azimuths = [360.0 * i / CIRCLE_SEGMENTS for i in range(CIRCLE_SEGMENTS)]
    lons, lats, _ = _GEOD.fwd([lng] * CIRCLE_SEGMENTS, [lat] * CIRCLE_SEGMENTS, azimuths, [float(r)] * CIRCLE_SEGMENTS)
    return shapely.Polygon(list(zip(lons, lats, strict=True)))


def parse_volume(value: Any, field: str) -> Extent:
    if not isinstance(value, Mapping):
        raise ExtentError(f"{field}: a Volume4D object is required")
    volume = value.get("volume")
    if not isinstance(volume, Mapping):
        raise ExtentError(f"{field}.volume: a Volume3D object is required")
    lo = _altitude(volume["altitude_lower"], f"{field}.volume.altitude_lower") if "altitude_lower" in volume else None
    hi = _altitude(volume["altitude_upper"], f"{field}.volume.altitude_upper") if "altitude_upper" in volume else None
    if lo is not None and hi is not None and lo > hi:
        raise ExtentError(f"{field}.volume: altitude_lower {lo:g} is above altitude_upper {hi:g}")
    circle, polygon = volume.get("outline_circle"), volume.get("outline_polygon")
    if circle is not None and polygon is not None:
        raise ExtentError(f"{field}.volume: both outline_circle and outline_polygon are given")
    footprint: BaseGeometry | None = None
    if polygon is not None:
        footprint = _polygon(polygon, f"{field}.volume.outline_polygon")
    elif circle is not None:
        footprint = _circle(circle, f"{field}.volume.outline_circle")
    start = parse_time(value["time_start"], f"{field}.time_start") if value.get("time_start") is not None else None
    end = parse_time(value["time_end"], f"{field}.time_end") if value.get("time_end") is not None else None
    if start is not None and end is not None and start > end:
        raise ExtentError(f"{field}: time_start is after time_end")
    return Extent(footprint, lo, hi, start, end)


def _lowest(values: Sequence[Any]) -> Any:
    return None if any(v is None for v in values) else min(values)


def _highest(values: Sequence[Any]) -> Any:
    return None if any(v is None for v in values) else max(values)


def union(extents: Sequence[Extent], field: str = "extents") -> Extent:
    if not extents:
        raise ExtentError(f"{field}: at least one volume is required")
    shapes = [p for e in extents if e.footprint is not None for p in _parts(e.footprint)]
    footprint = (shapes[0] if len(shapes) == 1 else shapely.GeometryCollection(shapes)) if shapes else None
    return Extent(
        footprint,
        _lowest([e.alt_lo for e in extents]),
        _highest([e.alt_hi for e in extents]),
        _lowest([e.start for e in extents]),
        _highest([e.end for e in extents]),
    )


def parse_extents(value: Any, field: str = "extents") -> Extent:
    if not isinstance(value, list):
        raise ExtentError(f"{field}: a list of Volume4D is required")
    return union([parse_volume(v, f"{field}[{i}]") for i, v in enumerate(value)], field)


def require_bounds(extent: Extent, field: str, *, altitude: bool, now: datetime) -> None:
    if extent.footprint is None:
        raise ExtentError(f"{field}: an outline_polygon or outline_circle is required")
    if extent.start is None:
        raise ExtentError(f"{field}: time_start is required")
    if extent.end is None:
        raise ExtentError(f"{field}: time_end is required")
    if extent.end < now:
        raise ExtentError(f"{field}: time_end may not be in the past")
    if altitude and (extent.alt_lo is None or extent.alt_hi is None):
        raise ExtentError(f"{field}: altitude_lower and altitude_upper are required")


def merge(a: BaseGeometry | None, b: BaseGeometry | None) -> BaseGeometry | None:
    """Both footprints' parts as one footprint."""
    shapes = [p for g in (a, b) if g is not None for p in _parts(g)]
    if not shapes:
        return None
    return shapes[0] if len(shapes) == 1 else shapely.GeometryCollection(shapes)
