"""Footprints: the horizontal part of a Volume4D, parsed from what people send, and the ``Shape`` the
conflict detector computes with.

Accepted forms (GeoJSON order, WGS84 degrees, geodesic edges):

* ``{"type": "Polygon", "coordinates": [[[lon, lat], ...]]}`` and ``MultiPolygon`` as in RFC 7946;
  rings must be closed, any orientation is accepted; holes allowed; a polygon crossing the
  antimeridian may be sent either unsplit (consecutive longitudes 179.9 then -179.9) or split in two.
* a circle: ``{"type": "Point", "coordinates": [lon, lat]}`` with ``radius_m`` beside the geometry;
* a corridor: ``{"type": "LineString", "coordinates": [[lon, lat], ...]}`` with ``half_width_m`` beside it.

Only RFC 7946 geometry types: the numbers of a circle or a corridor sit beside the geometry (in a volume,
``{"footprint": {...}, "radius_m": 500}``; in a file, the Feature's properties), never in a new geometry
type. The service's earlier ``{"type": "Circle"}`` and ``{"type": "Corridor"}`` forms are refused with a
problem that shows the new form (``not_rfc7946``).

Every refusal is an ``InvalidInput`` whose field paths are relative to the footprint object, but for
``radius_m`` and ``half_width_m``, which name the numbers beside it; ``located`` puts both where they
belong (``volumes[2].footprint.coordinates[0]``, ``volumes[2].radius_m``).

A ``Shape`` is a *core* geometry plus a buffer radius: a polygon is its own core with radius 0, a circle
is its centre with the radius, a corridor its path with the half-width. Because the distance between
geodesic buffers is the distance between cores minus the radii, the detector never has to draw a curve.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from deconfliction.domain.geo import (
    MEAN_RADIUS_M,
    FloatArray,
    SphericalFrame,
    densify_geodesic,
    geodesic_area_m2,
    geodesic_forward,
    haversine_m,
    unwrap_longitudes,
    wrap_longitude,
)
from deconfliction.domain.lazy import once
from deconfliction.domain.limits import Limits
from deconfliction.errors import FieldError, InvalidInput

Position = tuple[float, float]
Ring = tuple[Position, ...]
PolygonRings = tuple[Ring, ...]
"""An exterior ring followed by its holes."""

FOOTPRINT_TYPES = ("Polygon", "MultiPolygon", "Point", "LineString")
"""RFC 7946 geometry types a footprint may have (a Point with ``radius_m``, a LineString with
``half_width_m``)."""
NUMBERS = ("radius_m", "half_width_m")
"""The numbers beside a footprint's geometry."""
_OLD_FORMS = {
    "Circle": 'a circle is an RFC 7946 Point with radius_m beside it: {"footprint": {"type": "Point", '
    '"coordinates": [lon, lat]}, "radius_m": 500} (in a file: radius_m in the Feature\'s properties)',
    "Corridor": 'a corridor is an RFC 7946 LineString with half_width_m beside it: {"footprint": {"type": '
    '"LineString", "coordinates": [[lon, lat], ...]}, "half_width_m": 200} (in a file: in the properties)',
}
BOX_PAD_M = 250.0
"""Bounding boxes are padded by this much: a geodesic between two densified vertices (<= 10 km apart)
leaves the latitude range of its ends by at most 2 m x tan(latitude), about 115 m at 89 degrees."""


@dataclass(frozen=True)
class PolygonFootprint:
    polygons: tuple[PolygonRings, ...]
    multi: bool = False

    @once
    def unwrapped(self) -> list[list[tuple[FloatArray, FloatArray]]]:
        """(longitudes, latitudes) of every ring, longitudes continuous, each ring shifted by a multiple of
        360 degrees to sit next to the first ring (so a MultiPolygon split at the antimeridian becomes
        contiguous). Computed once; validation, area and shape all use it."""
        out: list[list[tuple[FloatArray, FloatArray]]] = []
        ref: float | None = None
        for rings in self.polygons:
            poly = []
            for ring in rings:
                lons = unwrap_longitudes(np.array([p[0] for p in ring], dtype=np.float64))
                if ref is None:
                    ref = (float(lons.min()) + float(lons.max())) / 2.0
                poly.append((lons + _shift_to(lons, ref), np.array([p[1] for p in ring], dtype=np.float64)))
            out.append(poly)
        return out

    @once
    def dense(self) -> list[list[tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]]]:
        """Every ring densified along its geodesic edges (``densify_geodesic``), from ``unwrapped``."""
        return [[densify_geodesic(lons, lats) for lons, lats in poly] for poly in self.unwrapped]


@dataclass(frozen=True)
class CircleFootprint:
    center: Position
    radius_m: float


@dataclass(frozen=True)
class CorridorFootprint:
    path: tuple[Position, ...]
    half_width_m: float


Footprint = PolygonFootprint | CircleFootprint | CorridorFootprint


@dataclass(frozen=True, eq=False)
class Shape:
    """What the detector needs of a footprint.

    ``core`` is a shapely geometry in longitude/latitude degrees whose edges are densified geodesics and
    whose longitudes are continuous (they may run past +/-180). ``radius_m`` buffers it. ``center`` is
    a point near the middle (wrapped to [-180, 180)), ``reach_m`` an upper bound of the geodesic distance
    from ``center`` to any point of the buffered footprint, ``boxes`` its bounding boxes in [-180, 180]
    (two when it crosses the antimeridian)."""

    core: BaseGeometry
    radius_m: float
    center: Position
    reach_m: float
    boxes: tuple[tuple[float, float, float, float], ...]


# ----------------------------------------------------------------------------------------------- parsing


def parse_footprint(obj: Any, limits: Limits, *, radius_m: Any = None, half_width_m: Any = None) -> Footprint:
    """Parse and validate one footprint: an RFC 7946 geometry, and the number beside it for a Point
    (``radius_m``) or a LineString (``half_width_m``). Raises ``InvalidInput`` naming the field and the
    reason (paths relative to the geometry; ``radius_m`` / ``half_width_m`` for the numbers)."""
    if not isinstance(obj, Mapping):
        raise InvalidInput.one("", "invalid_geojson", "footprint must be a JSON object with a 'type'")
    kind = obj.get("type")
    if kind in _OLD_FORMS:
        raise InvalidInput.one("type", "not_rfc7946", _OLD_FORMS[str(kind)], type=kind)
    if kind not in FOOTPRINT_TYPES:
        raise InvalidInput.one(
            "type", "invalid_geojson", f"type must be one of {', '.join(FOOTPRINT_TYPES)}; got {kind!r}"
        )
    unknown = sorted(set(obj) - {"type", "coordinates", "bbox"})
    if unknown:
        raise InvalidInput([FieldError(k, "unknown_field", f"unknown member of a {kind} geometry") for k in unknown])
    needed = {"Point": "radius_m", "LineString": "half_width_m"}.get(str(kind))
    given = {"radius_m": radius_m, "half_width_m": half_width_m}
    misplaced = [
        FieldError(name, "not_with_this_type", f"{name} goes with a {'Point' if name == 'radius_m' else 'LineString'}")
        for name, value in given.items()
        if value is not None and name != needed
    ]
    if misplaced:
        raise InvalidInput(misplaced)
    footprint: Footprint
    coords = obj.get("coordinates")
    if kind == "Polygon":
        footprint = PolygonFootprint((_parse_polygon(coords, "coordinates"),))
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise InvalidInput.one("coordinates", "invalid_geojson", "a MultiPolygon needs a non-empty list")
        footprint = PolygonFootprint(
            tuple(_parse_polygon(p, f"coordinates[{i}]") for i, p in enumerate(coords)), multi=True
        )
    elif kind == "Point":
        center = _parse_position(coords, "coordinates")
        footprint = CircleFootprint(center, _parse_length(radius_m, "radius_m", "a Point footprint is a circle"))
    else:
        if not isinstance(coords, list) or len(coords) < 2:
            raise InvalidInput.one("coordinates", "invalid_geojson", "a corridor's line needs 2 positions or more")
        path = tuple(_parse_position(p, f"coordinates[{i}]") for i, p in enumerate(coords))
        if all(p == path[0] for p in path):
            raise InvalidInput.one("coordinates", "degenerate_path", "the corridor's line has no length")
        width = _parse_length(half_width_m, "half_width_m", "a LineString footprint is a corridor")
        footprint = CorridorFootprint(path, width)
    validate_footprint(footprint, limits)
    return footprint


def parse_polygon_footprint(obj: Any, limits: Limits, what: str = "an area") -> PolygonFootprint:
    """A Polygon or MultiPolygon footprint (a zone, an area of interest, a site's outline); any other type
    is refused as ``not_a_polygon`` (paths relative to the geometry)."""
    kind = obj.get("type") if isinstance(obj, Mapping) else None
    if kind in FOOTPRINT_TYPES and kind not in ("Polygon", "MultiPolygon"):
        raise InvalidInput.one("type", "not_a_polygon", f"{what} is a Polygon or MultiPolygon; got {kind}")
    fp = parse_footprint(obj, limits)
    if not isinstance(fp, PolygonFootprint):  # cannot happen past the check above; never guessed
        raise InvalidInput.one("type", "not_a_polygon", f"{what} is a Polygon or MultiPolygon")
    return fp


def located(e: InvalidInput, geometry_at: str, numbers_at: str = "") -> InvalidInput:
    """``parse_footprint``'s refusal with each field where it is: the geometry's under ``geometry_at``,
    ``radius_m`` and ``half_width_m`` under ``numbers_at`` (the object that holds the geometry)."""
    errors = []
    for err in e.errors:
        head = err.field.split("[", 1)[0].split(".", 1)[0]
        errors.append(err.at(numbers_at) if head in NUMBERS else err.at(geometry_at))
    return InvalidInput(errors)


def footprint_wire(fp: Footprint) -> dict[str, Any]:
    """A footprint as the API and files write it: ``{"footprint": <RFC 7946 geometry>}``, with
    ``radius_m`` beside a circle's Point and ``half_width_m`` beside a corridor's LineString."""
    if isinstance(fp, CircleFootprint):
        return {"footprint": {"type": "Point", "coordinates": list(fp.center)}, "radius_m": fp.radius_m}
    if isinstance(fp, CorridorFootprint):
        line = {"type": "LineString", "coordinates": [list(p) for p in fp.path]}
        return {"footprint": line, "half_width_m": fp.half_width_m}
    return {"footprint": footprint_to_geojson(fp)}


def _parse_position(raw: Any, where: str) -> Position:
    if not isinstance(raw, list | tuple) or len(raw) not in (2, 3):
        raise InvalidInput.one(where, "invalid_geojson", "a position is [longitude, latitude]")
    for i, v in enumerate(raw):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InvalidInput.one(f"{where}[{i}]", "invalid_geojson", f"not a finite number: {v!r}")
    lon, lat = float(raw[0]), float(raw[1])
    if not -180.0 <= lon <= 180.0:
        raise InvalidInput.one(f"{where}[0]", "out_of_range", f"longitude {lon} is outside [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        raise InvalidInput.one(f"{where}[1]", "out_of_range", f"latitude {lat} is outside [-90, 90]")
    return (lon, lat)


def _parse_length(raw: Any, where: str, what: str = "") -> float:
    if raw is None and what:
        raise InvalidInput.one(where, "required", f"{what}: give {where} beside it")
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise InvalidInput.one(where, "invalid_number", f"{where} must be a number of metres")
    if raw <= 0:
        raise InvalidInput.one(where, "out_of_range", f"{where} must be greater than 0")
    return float(raw)


def _parse_polygon(raw: Any, where: str) -> PolygonRings:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput.one(where, "invalid_geojson", "a polygon is a non-empty list of linear rings")
    rings: list[Ring] = []
    for r, ring_raw in enumerate(raw):
        at = f"{where}[{r}]"
        if not isinstance(ring_raw, list):
            raise InvalidInput.one(at, "invalid_geojson", "a linear ring is a list of positions")
        ring = tuple(_parse_position(p, f"{at}[{i}]") for i, p in enumerate(ring_raw))
        if len(ring) < 4:
            raise InvalidInput.one(at, "invalid_geojson", f"a linear ring needs at least 4 positions, got {len(ring)}")
        if ring[0] != ring[-1]:
            raise InvalidInput.one(
                at,
                "ring_not_closed",
                f"the ring is not closed: first {list(ring[0])} != last {list(ring[-1])}",
            )
        deduped = [ring[0]]
        for p in ring[1:]:
            if p != deduped[-1]:
                deduped.append(p)
        if len(deduped) < 4:
            raise InvalidInput.one(at, "degenerate_ring", "the ring has fewer than 3 distinct corners")
        rings.append(tuple(deduped))
    return tuple(rings)


# -------------------------------------------------------------------------------------------- validation


def validate_footprint(fp: Footprint, limits: Limits) -> None:
    """Limits, poles, topology and area. Field paths relative to the footprint."""
    count = vertex_count(fp)
    if count > limits.max_vertices:
        raise InvalidInput.one(
            "coordinates",
            "too_many_vertices",
            f"{count} vertices; at most {limits.max_vertices} are allowed per footprint",
            count=count,
            limit=limits.max_vertices,
        )
    if isinstance(fp, PolygonFootprint):
        for p, rings in enumerate(fp.polygons):
            prefix = f"coordinates[{p}]" if fp.multi else "coordinates"
            for r, (lons, lats) in enumerate(fp.unwrapped[p]):
                _check_ring_poles(lons, lats, f"{prefix}[{r}]", limits)
                _check_edges_pole(fp.dense[p][r][1], fp.dense[p][r][2], 0.0, f"{prefix}[{r}]", limits)
            _check_polygon_topology(fp.dense[p], rings, prefix)
        _check_parts_disjoint(fp)
        area = polygon_area_m2(fp)
        if area <= 0.0:
            raise InvalidInput.one("coordinates", "zero_area", "the polygon has no area")
    elif isinstance(fp, CircleFootprint):
        _check_reach_pole(fp.center[1], fp.radius_m, "coordinates", limits)
        area = math.pi * fp.radius_m**2
    else:
        for i, (_, lat) in enumerate(fp.path):
            _check_reach_pole(lat, fp.half_width_m, f"coordinates[{i}]", limits)
        lons = unwrap_longitudes(np.array([p[0] for p in fp.path]))
        lats = np.array([p[1] for p in fp.path])
        _, dense_lats, edge_of = densify_geodesic(lons, lats)
        _check_edges_pole(dense_lats, edge_of, fp.half_width_m, "coordinates", limits)
        from deconfliction.domain.geo import geodesic_distance

        length = float(np.sum(geodesic_distance(lons[:-1], lats[:-1], lons[1:], lats[1:])))
        area = 2.0 * fp.half_width_m * length + math.pi * fp.half_width_m**2
    if area > limits.max_area_km2 * 1e6:
        raise InvalidInput.one(
            "",
            "area_too_large",
            f"footprint area {area / 1e6:,.0f} km2 exceeds the limit of {limits.max_area_km2:,.0f} km2",
            area_km2=area / 1e6,
            limit_km2=limits.max_area_km2,
        )


def vertex_count(fp: Footprint) -> int:
    if isinstance(fp, PolygonFootprint):
        return sum(len(ring) - 1 for rings in fp.polygons for ring in rings)
    if isinstance(fp, CircleFootprint):
        return 1
    return len(fp.path)


def polygon_area_m2(fp: PolygonFootprint) -> float:
    total = 0.0
    for poly in fp.unwrapped:
        for r, (lons, lats) in enumerate(poly):
            a = geodesic_area_m2(lons, lats)
            total += a if r == 0 else -a
    return total


def _check_ring_poles(lons: FloatArray, lats: FloatArray, where: str, limits: Limits) -> None:
    worst = int(np.argmax(np.abs(lats)))
    if abs(lats[worst]) > 90.0 - limits.pole_margin_deg:
        raise InvalidInput.one(
            f"{where}[{worst}]",
            "near_pole",
            f"latitude {lats[worst]} is within {limits.pole_margin_deg} degree of a pole; "
            "footprints there are not supported",
        )
    if abs(lons[-1] - lons[0]) > 1e-9:
        raise InvalidInput.one(where, "encloses_pole", "the ring goes all the way round the Earth (it encloses a pole)")


def _check_edges_pole(
    dense_lats: FloatArray, edge_of: npt.NDArray[np.int64], reach_m: float, where: str, limits: Limits
) -> None:
    """The vertices may all be outside the pole cap while a geodesic edge between two of them bends
    poleward into it (vertices at 88.5 degrees 150 degrees of longitude apart: the edge climbs to 89.6).
    Check the densified edges too (points every <= 10 km; between two of them a geodesic climbs at most
    0.001 degree higher, at 89 degrees)."""
    reach_deg = math.degrees(reach_m / MEAN_RADIUS_M) * 1.01
    worst = int(np.argmax(np.abs(dense_lats)))
    if abs(float(dense_lats[worst])) + reach_deg > 90.0 - limits.pole_margin_deg:
        edge = int(edge_of[worst])
        raise InvalidInput.one(
            f"{where}[{edge}]",
            "near_pole",
            f"the geodesic edge from position {edge} to {edge + 1} passes within {limits.pole_margin_deg} "
            "degree of a pole; footprints there are not supported",
        )


def _check_reach_pole(lat: float, reach_m: float, where: str, limits: Limits) -> None:
    reach_deg = math.degrees(reach_m / MEAN_RADIUS_M) * 1.01
    if abs(lat) + reach_deg > 90.0 - limits.pole_margin_deg:
        raise InvalidInput.one(
            where,
            "near_pole",
            f"the footprint reaches within {limits.pole_margin_deg} degree of a pole; "
            "footprints there are not supported",
        )


def _frame_for(lons: FloatArray, lats: FloatArray) -> SphericalFrame:
    return SphericalFrame(float((lons.min() + lons.max()) / 2.0), float((lats.min() + lats.max()) / 2.0))


def _shift_to(lons: FloatArray, ref: float) -> float:
    """Multiple of 360 that brings the middle of ``lons`` within 180 degrees of ``ref``."""
    mid = (float(lons.min()) + float(lons.max())) / 2.0
    return 360.0 * round((ref - mid) / 360.0)


def _check_polygon_topology(
    dense: list[tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]], rings: PolygonRings, where: str
) -> None:
    """GEOS validity in a local frame; when invalid, name the user's edges that cross and where."""
    frame = _frame_for(dense[0][0], dense[0][1])
    projected = [(np.column_stack(frame.forward(dl, dt)), edge_of) for dl, dt, edge_of in dense]
    polygon = shapely.Polygon(projected[0][0], [xy for xy, _ in projected[1:]])
    if shapely.is_valid(polygon):
        return
    crossing = _first_crossing(projected, rings)
    if crossing is not None:
        (ra, ea), (rb, eb), (px, py), verb = crossing
        plon, plat = frame.inverse(np.array([px]), np.array([py]))
        point = [round(wrap_longitude(float(plon[0])), 7), round(float(plat[0]), 7)]
        subject = f"ring {ra} is self-intersecting: edge" if ra == rb else f"ring {ra} edge"
        other = "edge" if ra == rb else f"ring {rb} edge"
        msg = f"{subject} {ea} (positions {ea} to {ea + 1}) {verb} {other} {eb} (positions {eb} to {eb + 1}) at {point}"
        raise InvalidInput.one(
            f"{where}[{ra}]",
            "self_intersection",
            msg,
            ring=ra,
            edge=ea,
            other_ring=rb,
            other_edge=eb,
            point=point,
        )
    shell = shapely.Polygon(projected[0][0])
    holes = [shapely.Polygon(xy) for xy, _ in projected[1:]]
    for r, hole in enumerate(holes, start=1):
        if not shell.covers(hole):
            raise InvalidInput.one(
                f"{where}[{r}]", "hole_outside_shell", f"hole ring {r} is not inside the exterior ring"
            )
        for r2 in range(1, r):
            if holes[r2 - 1].intersection(hole).area > 0.0:
                raise InvalidInput.one(f"{where}[{r}]", "holes_overlap", f"hole ring {r} overlaps hole ring {r2}")
    reason = shapely.is_valid_reason(polygon)
    raise InvalidInput.one(where, "invalid_polygon", f"the polygon is not valid: {reason.split('[')[0].strip()}")


def _first_crossing(
    projected: list[tuple[FloatArray, npt.NDArray[np.int64]]], rings: PolygonRings
) -> tuple[tuple[int, int], tuple[int, int], tuple[float, float], str] | None:
    """The first pair (in the user's order) of non-adjacent edges that meet, and where."""
    edges: list[BaseGeometry] = []
    owner: list[tuple[int, int]] = []
    for r, (xy, edge_of) in enumerate(projected):
        for e in range(len(rings[r]) - 1):
            idx = np.nonzero(edge_of == e)[0]
            edges.append(shapely.LineString(xy[np.append(idx, idx[-1] + 1)]))
            owner.append((r, e))
    left, right = shapely.STRtree(edges).query(edges, predicate="intersects")
    best: tuple[tuple[int, int], tuple[int, int], tuple[float, float], str] | None = None
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if j <= i:
            continue
        (ra, ea), (rb, eb) = owner[i], owner[j]
        inter = edges[i].intersection(edges[j])
        if inter.is_empty:
            continue
        if ra == rb and (eb - ea) % (len(rings[ra]) - 1) in (1, len(rings[ra]) - 2) and inter.geom_type == "Point":
            continue  # neighbours share their common vertex; anything more is a fold-back
        pt = inter if inter.geom_type == "Point" else inter.representative_point()
        verb = "crosses" if edges[i].crosses(edges[j]) else "touches"
        found = ((ra, ea), (rb, eb), (float(pt.x), float(pt.y)), verb)
        if best is None or (found[0], found[1]) < (best[0], best[1]):
            best = found
    return best


def _check_parts_disjoint(fp: PolygonFootprint) -> None:
    if len(fp.polygons) < 2:
        return
    shape = footprint_shape(fp)
    frame = SphericalFrame(*shape.center)
    parts = [shapely.Polygon(np.column_stack(frame.forward(*poly[0][:2]))) for poly in fp.dense]
    for i in range(len(parts)):
        for j in range(i):
            if parts[i].intersection(parts[j]).area > 1.0:  # m2: touching along an edge is fine
                raise InvalidInput.one(
                    f"coordinates[{i}]",
                    "parts_overlap",
                    f"polygon {i} overlaps polygon {j} of the same MultiPolygon",
                )


# ------------------------------------------------------------------------------------------------ shapes


def _project(geom: BaseGeometry, frame: SphericalFrame) -> BaseGeometry:
    return shapely.transform(geom, lambda c: np.column_stack(frame.forward(c[:, 0], c[:, 1])))


def footprint_shape(fp: Footprint) -> Shape:
    """The detector's view of a validated footprint."""
    core: BaseGeometry
    if isinstance(fp, PolygonFootprint):
        polys = [
            shapely.Polygon(np.column_stack(poly[0][:2]), [np.column_stack(h[:2]) for h in poly[1:]])
            for poly in fp.dense
        ]
        core = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
        radius = 0.0
    elif isinstance(fp, CircleFootprint):
        core = shapely.Point(fp.center)
        radius = fp.radius_m
    else:
        lons = unwrap_longitudes(np.array([p[0] for p in fp.path]))
        lats = np.array([p[1] for p in fp.path])
        dl, dt, _ = densify_geodesic(lons, lats)
        core = shapely.LineString(np.column_stack((dl, dt)))
        radius = fp.half_width_m
    return shape_from_core(core, radius)


def shape_from_core(core: BaseGeometry, radius_m: float) -> Shape:
    """Centre, reach and boxes of a core geometry (already densified, longitudes continuous)."""
    coords = shapely.get_coordinates(core)
    lon_min, lat_min = coords.min(axis=0)
    lon_max, lat_max = coords.max(axis=0)
    c_lon = wrap_longitude(float(lon_min + lon_max) / 2.0)
    c_lat = float(lat_min + lat_max) / 2.0
    # On a sphere, the point of a longitude/latitude box farthest from a point inside it is a corner
    # (distance is monotonic along parallels and unimodal along meridians); 1 % covers the ellipsoid, the
    # pad the geodesic edges bulging past their vertices' box.
    rho = max(
        haversine_m(c_lon, c_lat, float(lon), float(lat)) for lon in (lon_min, lon_max) for lat in (lat_min, lat_max)
    )
    reach = rho * 1.01 + BOX_PAD_M + radius_m * 1.01 + 1.0
    # boxes: latitude grows by the buffer; longitude by the buffer at the worst latitude
    # buffer, plus a pad for the geodesic between two densified vertices bulging off their chord
    dlat = math.degrees((radius_m * 1.01 + BOX_PAD_M) / MEAN_RADIUS_M)
    lat_lo, lat_hi = max(-90.0, float(lat_min) - dlat), min(90.0, float(lat_max) + dlat)
    cos_worst = max(math.cos(math.radians(max(abs(lat_lo), abs(lat_hi)))), 1e-6)
    dlon = dlat / cos_worst
    return Shape(
        core,
        radius_m,
        (c_lon, c_lat),
        reach,
        lon_boxes(float(lon_min) - dlon, float(lon_max) + dlon, lat_lo, lat_hi),
    )


def lon_boxes(
    lon_lo: float, lon_hi: float, lat_lo: float, lat_hi: float
) -> tuple[tuple[float, float, float, float], ...]:
    """Split a box with continuous longitudes into boxes within [-180, 180]."""
    if lon_hi - lon_lo >= 360.0:
        return ((-180.0, lat_lo, 180.0, lat_hi),)
    shift = 360.0 * math.floor((lon_lo + 180.0) / 360.0)
    lo, hi = lon_lo - shift, lon_hi - shift  # lo in [-180, 180)
    if hi <= 180.0:
        return ((lo, lat_lo, hi, lat_hi),)
    return ((lo, lat_lo, 180.0, lat_hi), (-180.0, lat_lo, hi - 360.0, lat_hi))


def circle_polygon(center: Position, radius_m: float, segments: int = 64) -> list[Position]:
    """A closed ring approximating a geodesic circle (for display and export only)."""
    az = np.linspace(0.0, 360.0, segments, endpoint=False)
    lons, lats = geodesic_forward(
        np.full(segments, center[0]), np.full(segments, center[1]), az, np.full(segments, radius_m)
    )
    ring = [(float(a), float(b)) for a, b in zip(lons, lats, strict=True)]
    return [*ring, ring[0]]


# ----------------------------------------------------------------------------------------------- GeoJSON


def footprint_to_geojson(fp: Footprint) -> dict[str, Any]:
    """The footprint as the store keeps it (read back by ``footprint_from_trusted``): GeoJSON for
    polygons; a circle or a corridor as the store's own ``Circle`` / ``Corridor`` record, which never
    leaves the service (``footprint_wire`` is what the API and files write)."""
    if isinstance(fp, PolygonFootprint):
        coords = [[[list(p) for p in ring] for ring in rings] for rings in fp.polygons]
        if fp.multi:
            return {"type": "MultiPolygon", "coordinates": coords}
        return {"type": "Polygon", "coordinates": coords[0]}
    if isinstance(fp, CircleFootprint):
        return {"type": "Circle", "center": list(fp.center), "radius_m": fp.radius_m}
    return {"type": "Corridor", "path": [list(p) for p in fp.path], "half_width_m": fp.half_width_m}


def footprint_of_volume(volume: Mapping[str, Any]) -> Footprint:
    """The footprint of a volume as a view or a ledger record holds it (validated when it was declared):
    the RFC 7946 geometry with ``radius_m`` / ``half_width_m`` beside it, or, in a record written before
    footprints were RFC 7946, the service's own ``Circle`` / ``Corridor``."""
    g = volume["footprint"]
    if g["type"] == "Point":
        return CircleFootprint((g["coordinates"][0], g["coordinates"][1]), volume["radius_m"])
    if g["type"] == "LineString":
        return CorridorFootprint(tuple((p[0], p[1]) for p in g["coordinates"]), volume["half_width_m"])
    return footprint_from_trusted(g)


def footprint_from_trusted(obj: Mapping[str, Any]) -> Footprint:
    """Rebuild a footprint that was validated when it was stored (no checks, no geometry work)."""
    kind = obj["type"]
    if kind == "Polygon":
        return PolygonFootprint((tuple(tuple((p[0], p[1]) for p in r) for r in obj["coordinates"]),))
    if kind == "MultiPolygon":
        return PolygonFootprint(
            tuple(tuple(tuple((p[0], p[1]) for p in r) for r in poly) for poly in obj["coordinates"]),
            multi=True,
        )
    if kind == "Circle":
        return CircleFootprint((obj["center"][0], obj["center"][1]), obj["radius_m"])
    return CorridorFootprint(tuple((p[0], p[1]) for p in obj["path"]), obj["half_width_m"])


def footprint_display_geojson(fp: Footprint) -> dict[str, Any]:
    """Plain GeoJSON (circles and corridors drawn as polygons) for maps and formats without circles."""
    if isinstance(fp, CircleFootprint):
        return {"type": "Polygon", "coordinates": [[list(p) for p in circle_polygon(fp.center, fp.radius_m)]]}
    if isinstance(fp, CorridorFootprint):
        shape = footprint_shape(fp)
        frame = SphericalFrame(*shape.center)
        buffered = _project(shape.core, frame).buffer(fp.half_width_m, quad_segs=16)
        back = shapely.transform(buffered, lambda c: np.column_stack(frame.inverse(c[:, 0], c[:, 1])))
        return dict(shapely.geometry.mapping(back))
    return footprint_to_geojson(fp)
