"""Deconfliction lines: an area of interest split into the two sides of a line, and the band along it.

``split_area(area, line, party_left, party_right)`` cuts a polygon area by a line (a river, a road) and
returns the two sides as polygon footprints, proposed as zones for the two named parties
(``propose_split_zones``).

**Which side is whose.** Walk along the line from its first position to its last: everything on your
left hand is ``party_left``'s side, everything on your right hand ``party_right``'s. Reverse the line and
the sides swap.

**What the line must do.** Cross the area from boundary to boundary: both ends outside the area (draw it
past the boundary; an end inside the area, even by a centimetre, is refused as ``line_ends_inside``), no
self-crossing (``line_self_intersects``), and it must divide the area (``line_misses_area`` when it misses
it or only touches it, ``line_does_not_separate`` when a piece lies on both sides, as when the line starts
in a hole, ``part_not_divided`` when one polygon of a MultiPolygon area is not crossed). A line that leaves
the area and comes back (a meandering river) is accepted: it cuts the area into more than two pieces, each
on one side of it, and each party's side is then a MultiPolygon of every piece on its side.

**Exactness.** The pieces are found in an ellipsoidal azimuthal-equidistant frame centred on the area
(``geo.EllipsoidalFrame``) with every geodesic edge densified to 10 km, but the sides are written with the
vertices people gave: the area's own vertices, the line's own vertices, and the crossing points, each
computed as the intersection of the two *geodesic* edges (area edge and line edge) on WGS84 to 1e-9 m.
Both sides therefore share the same boundary along the line, vertex for vertex, and their other edges
are pieces of the area's own geodesic edges: the two sides partition the area exactly, up to the
placement of the crossing points (nanometres). tests/domain/test_line.py measures it.

**The band.** A line may carry a buffer band of ``half_width_m`` on both sides (``band_along``): the
corridor, in the geodesic sense, along the line from its first to its last crossing of the area. It is a
``CorridorFootprint``, so detection measures it exactly (core plus radius, docs/geometry.md); an operation
of either party inside it is a conflict for both (``areas.band_entries``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from deconfliction.domain.footprint import (
    CorridorFootprint,
    PolygonFootprint,
    Position,
    Shape,
    footprint_shape,
    polygon_area_m2,
)
from deconfliction.domain.geo import (
    MEAN_RADIUS_M,
    EllipsoidalFrame,
    FloatArray,
    densify_geodesic,
    geodesic_distance,
    geodesic_forward,
    unwrap_longitudes,
    wrap_longitude,
)
from deconfliction.domain.lazy import once
from deconfliction.domain.limits import Limits
from deconfliction.domain.volume import TimeWindow
from deconfliction.domain.zone import Zone, propose_zone
from deconfliction.errors import FieldError, InvalidInput

SNAP_M = 1e-6
"""In the frame, a point this close to the line or the area's boundary is on it (the noding's rounding is
about 1e-9 m at 1,000 km from the centre)."""

_WGS84 = Geod(ellps="WGS84")

OUTLINE_EDGE_M = 200.0
"""Vertex spacing of ``band_outline``: a 200 m chord drawn straight in degrees departs from the curve by
a few millimetres at most (below 70 degrees of latitude)."""


@dataclass(frozen=True)
class AreaSplit:
    """The two sides of an area cut by a line. ``left`` is ``party_left``'s side (left of the line's
    direction of travel), ``right`` is ``party_right``'s."""

    party_left: str
    party_right: str
    left: PolygonFootprint
    right: PolygonFootprint
    crossings: tuple[Position, ...]
    """Where the line meets the area's boundary, in order along the line."""
    band_path: tuple[Position, ...]
    """The line from its first to its last crossing: the axis of the band."""

    @property
    def left_area_m2(self) -> float:
        return polygon_area_m2(self.left)

    @property
    def right_area_m2(self) -> float:
        return polygon_area_m2(self.right)


@dataclass(frozen=True)
class Band:
    """The buffer band along a deconfliction line: an operation of either party inside it during
    ``validity`` is a conflict for both."""

    id: str
    party_left: str
    party_right: str
    footprint: CorridorFootprint
    validity: TimeWindow

    @once
    def shape(self) -> Shape:
        return footprint_shape(self.footprint)

    @property
    def parties(self) -> tuple[str, str]:
        return (self.party_left, self.party_right)

    @property
    def half_width_m(self) -> float:
        return self.footprint.half_width_m


# --------------------------------------------------------------------------------------------- input


def parse_line(raw: Any, limits: Limits, field: str = "line") -> tuple[Position, ...]:
    """A line as GeoJSON LineString coordinates ``[[lon, lat], ...]`` (geodesic edges), validated."""
    if not isinstance(raw, list | tuple) or len(raw) < 2:
        raise InvalidInput.one(field, "invalid_geojson", "a line needs at least 2 positions")
    if len(raw) > limits.max_vertices:
        raise InvalidInput.one(
            field, "too_many_vertices", f"{len(raw)} positions; at most {limits.max_vertices} are allowed"
        )
    out: list[Position] = []
    for i, p in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(p, list | tuple) or len(p) not in (2, 3):
            raise InvalidInput.one(where, "invalid_geojson", "a position is [longitude, latitude]")
        for k, v in enumerate(p):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise InvalidInput.one(f"{where}[{k}]", "invalid_geojson", f"not a finite number: {v!r}")
        lon, lat = float(p[0]), float(p[1])
        if not -180.0 <= lon <= 180.0:
            raise InvalidInput.one(f"{where}[0]", "out_of_range", f"longitude {lon} is outside [-180, 180]")
        if abs(lat) > 90.0 - limits.pole_margin_deg:
            raise InvalidInput.one(
                f"{where}[1]", "near_pole", f"latitude {lat} is within {limits.pole_margin_deg} degree of a pole"
            )
        out.append((lon, lat))
    if all(p == out[0] for p in out):
        raise InvalidInput.one(field, "degenerate_path", "the line has no length")
    return tuple(out)


def _check_parties(party_left: str, party_right: str) -> None:
    errors = [
        FieldError(name, "required", "a party id is needed")
        for name, v in (("party_left", party_left), ("party_right", party_right))
        if not v
    ]
    if not errors and party_left == party_right:
        errors.append(FieldError("party_right", "same_party", "the two sides must go to two different parties"))
    if errors:
        raise InvalidInput(errors)


# ------------------------------------------------------------------------------------ geodesic crossing


def geodesic_crossing(a0: Position, a1: Position, b0: Position, b1: Position, guess: Position) -> Position:
    """The point where the geodesic edge a0-a1 crosses the geodesic edge b0-b1, from a guess nearby.

    Newton-like: in an ellipsoidal AEQD frame centred on the current point of edge A, A is a straight line
    through the centre and B is straight to second order near it, so intersecting the two chords 2 x 50 m
    long around the current points converges in two or three steps. The result lies on A exactly and on
    B within 1e-9 m."""
    az_a, len_a = _azimuth_length(a0, a1)
    az_b, len_b = _azimuth_length(b0, b1)
    s_a = float(geodesic_distance(a0[0], a0[1], guess[0], guess[1]))
    s_b = float(geodesic_distance(b0[0], b0[1], guess[0], guess[1]))
    step = 50.0
    for _ in range(12):
        lon_a, lat_a = geodesic_forward(
            np.full(2, a0[0]), np.full(2, a0[1]), np.full(2, az_a), np.array([s_a - step, s_a + step])
        )
        lon_b, lat_b = geodesic_forward(
            np.full(2, b0[0]), np.full(2, b0[1]), np.full(2, az_b), np.array([s_b - step, s_b + step])
        )
        centre_lon, centre_lat = geodesic_forward(a0[0], a0[1], az_a, s_a)
        frame = EllipsoidalFrame(float(centre_lon), float(centre_lat))
        pa = np.column_stack(frame.forward(np.asarray(lon_a), np.asarray(lat_a)))
        pb = np.column_stack(frame.forward(np.asarray(lon_b), np.asarray(lat_b)))
        da, db = pa[1] - pa[0], pb[1] - pb[0]
        det = da[0] * -db[1] - da[1] * -db[0]
        if abs(det) < 1e-12 * step * step:  # parallel: the guess is as good as it gets
            break
        rhs = pb[0] - pa[0]
        u = (rhs[0] * -db[1] - rhs[1] * -db[0]) / det
        v = (da[0] * rhs[1] - da[1] * rhs[0]) / det
        ds_a, ds_b = (2.0 * u - 1.0) * step, (2.0 * v - 1.0) * step
        s_a = min(max(s_a + ds_a, 0.0), len_a)
        s_b = min(max(s_b + ds_b, 0.0), len_b)
        if abs(ds_a) < 1e-10 and abs(ds_b) < 1e-10:
            break
        step = max(1.0, min(step, 4.0 * max(abs(ds_a), abs(ds_b))))
    lon, lat = geodesic_forward(a0[0], a0[1], az_a, s_a)
    return (wrap_longitude(float(lon)), float(lat))


def _azimuth_length(p: Position, q: Position) -> tuple[float, float]:
    az, _, dist = _WGS84.inv(p[0], p[1], q[0], q[1])
    return float(az), float(dist)


# ------------------------------------------------------------------------------------------- splitting


@dataclass
class _Dense:
    """Densified curves projected into the frame, with what each point stands for."""

    xy: FloatArray
    """(n, 2) every dense point of every curve."""
    vertex: list[Position | None]
    """The position people gave, for points that are one of their vertices; None for inserted points."""
    seg_start: FloatArray
    seg_end: FloatArray
    seg_edge: list[tuple[Position, Position]]
    """Per dense segment, the ends of the original geodesic edge it lies on."""


def _densify(
    curves: Sequence[Sequence[Position]], unwrapped: Sequence[tuple[FloatArray, FloatArray]], frame: EllipsoidalFrame
) -> tuple[_Dense, list[FloatArray]]:
    xys: list[FloatArray] = []
    vertex: list[Position | None] = []
    starts: list[FloatArray] = []
    ends: list[FloatArray] = []
    seg_edge: list[tuple[Position, Position]] = []
    for raw, (lons, lats) in zip(curves, unwrapped, strict=True):
        dl, dt, edge_of = densify_geodesic(lons, lats)
        xy = np.column_stack(frame.forward(dl, dt))
        first = np.ones(edge_of.size, dtype=bool)
        first[1:] = edge_of[1:] != edge_of[:-1]
        first[-1] = True
        for i in range(edge_of.size):
            vertex.append(raw[int(edge_of[i])] if first[i] else None)
        xys.append(xy)
        starts.append(xy[:-1])
        ends.append(xy[1:])
        seg_edge.extend((raw[int(e)], raw[int(e) + 1]) for e in edge_of[:-1])
    dense = _Dense(np.vstack(xys), vertex, np.vstack(starts), np.vstack(ends), seg_edge)
    return dense, xys


def _nearest_segment(dense: _Dense, x: float, y: float) -> int:
    p = np.array([x, y])
    d = dense.seg_end - dense.seg_start
    dd = np.einsum("ij,ij->i", d, d)
    t = np.clip(np.einsum("ij,ij->i", p - dense.seg_start, d) / np.where(dd > 0.0, dd, 1.0), 0.0, 1.0)
    closest = dense.seg_start + t[:, None] * d
    return int(np.argmin(np.hypot(closest[:, 0] - x, closest[:, 1] - y)))


def split_area(
    area: PolygonFootprint,
    line: Sequence[Position],
    party_left: str,
    party_right: str,
    *,
    limits: Limits | None = None,
) -> AreaSplit:
    """The two sides of ``area`` (a validated polygon footprint) cut by ``line`` (positions, geodesic
    edges): left of the line's direction for ``party_left``, right for ``party_right``. Raises
    ``InvalidInput`` naming the field and the reason when the line does not divide the area."""
    limits = limits or Limits()
    _check_parties(party_left, party_right)
    path = parse_line(list(line), limits)
    frame = EllipsoidalFrame(*footprint_shape(area).center)

    polygons = _area_polygons(area)
    area_dense, ring_xy = _densify(
        [ring for rings, _ in polygons for ring in rings], [u for _, unwrapped in polygons for u in unwrapped], frame
    )
    polys: list[shapely.Polygon] = []
    k = 0
    for rings, _ in polygons:
        polys.append(shapely.Polygon(ring_xy[k], ring_xy[k + 1 : k + len(rings)]))
        k += len(rings)
    region: BaseGeometry = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    boundary = region.boundary

    line_lons = unwrap_longitudes(np.array([p[0] for p in path]))
    line_lats = np.array([p[1] for p in path])
    line_dense, (line_xy,) = _densify([path], [(line_lons, line_lats)], frame)
    axis = shapely.LineString(line_xy)
    if not axis.is_simple:
        raise InvalidInput.one("line", "line_self_intersects", _self_crossing(line_xy, line_dense))
    for end, where in ((0, "line[0]"), (len(path) - 1, f"line[{len(path) - 1}]")):
        pt = shapely.Point(line_xy[0] if end == 0 else line_xy[-1])
        if region.contains(pt):
            raise InvalidInput.one(
                where,
                "line_ends_inside",
                f"the line ends inside the area, {boundary.distance(pt):,.1f} m from its boundary; "
                "a deconfliction line must cross the area from boundary to boundary (draw it past the edge)",
                position=list(path[end]),
            )

    noded = shapely.union(boundary, axis)
    pieces = [
        g
        for g in shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
        if isinstance(g, shapely.Polygon) and region.contains(g.representative_point())
    ]
    covered = sum(g.area for g in pieces)
    if abs(covered - region.area) > 1e-9 * region.area + 1e-3:
        raise RuntimeError(f"line split lost area: {covered} of {region.area} m2 in the frame")

    resolve = _Resolver(frame, area_dense, line_dense, boundary, axis)
    left: list[shapely.Polygon] = []
    right: list[shapely.Polygon] = []
    lonely: list[shapely.Polygon] = []
    for piece in pieces:
        oriented = shapely.orient_polygons(piece)
        side = _side(oriented, axis, boundary)
        if side is None:
            lonely.append(oriented)
        elif side == "both":
            raise InvalidInput.one(
                "line",
                "line_does_not_separate",
                f"the area around {_where(frame, piece)} lies on both sides of the line (does the line end "
                "in a hole of the area?); a deconfliction line must divide the area in two sides",
            )
        else:
            (left if side == "left" else right).append(oriented)
    for piece in lonely:
        if piece.intersection(axis).length > SNAP_M:  # crossed, yet not cut: the line ends in a hole
            raise InvalidInput.one(
                "line",
                "line_does_not_separate",
                f"the line runs into the area around {_where(frame, piece)} without cutting it in two (does it "
                "end in a hole of the area?); a deconfliction line must divide the area in two sides",
            )
    if not left or not right:
        where = f"all of the area is on its {'left' if left else 'right'}" if left or right else "it misses it"
        raise InvalidInput.one("line", "line_misses_area", f"the line does not divide the area: {where}")
    if lonely:
        raise InvalidInput.one(
            "area",
            "part_not_divided",
            f"the part of the area around {_where(frame, lonely[0])} is not crossed by the line, so it is on "
            "neither side; split the area or draw the line through every part",
        )
    left_fp, right_fp = resolve.footprint(left), resolve.footprint(right)
    crossings = resolve.crossings()  # found while the sides were written
    return AreaSplit(
        party_left,
        party_right,
        left_fp,
        right_fp,
        tuple(p for _, p in crossings),
        _band_path(crossings, line_xy, line_dense, axis),
    )


def _area_polygons(
    area: PolygonFootprint,
) -> list[tuple[list[tuple[Position, ...]], list[tuple[FloatArray, FloatArray]]]]:
    """The area's polygons as (rings of positions, rings of unwrapped longitudes and latitudes).

    A MultiPolygon's parts that share edges (the RFC 7946 halves of an area cut at the antimeridian) are
    merged first, in unwrapped longitude/latitude where their common vertices are equal numbers and the
    seam is a straight line, so that no seam is left inside the area: densified separately, its two
    copies would differ by nanometres and leave slivers. The merged rings keep the parts' vertices."""
    if len(area.polygons) == 1:
        return [(list(area.polygons[0]), list(area.unwrapped[0]))]
    parts = [shapely.Polygon(np.column_stack(u[0]), [np.column_stack(h) for h in u[1:]]) for u in area.unwrapped]
    out: list[tuple[list[tuple[Position, ...]], list[tuple[FloatArray, FloatArray]]]] = []
    for merged in shapely.get_parts(shapely.union_all(parts)):
        rings = []
        unwrapped = []
        for ring in (merged.exterior, *merged.interiors):
            xy = shapely.get_coordinates(ring)
            rings.append(tuple((_lon_in_range(float(x)), float(y)) for x, y in xy.tolist()))
            unwrapped.append((xy[:, 0].copy(), xy[:, 1].copy()))
        out.append((rings, unwrapped))
    return out


def _lon_in_range(lon: float) -> float:
    return lon if -180.0 <= lon <= 180.0 else wrap_longitude(lon)


def _where(frame: EllipsoidalFrame, piece: BaseGeometry) -> list[float]:
    pt = piece.representative_point()
    lon, lat = frame.inverse(np.array([pt.x]), np.array([pt.y]))
    return [round(wrap_longitude(float(lon[0])), 6), round(float(lat[0]), 6)]


def _side(piece: shapely.Polygon, axis: shapely.LineString, boundary: BaseGeometry) -> str | None:
    """Which side of the line a piece (rings oriented with the interior on their left) lies on: the
    direction it runs along the line's stretches of its boundary tells. None when no stretch of its
    boundary is on the line."""
    signs: set[bool] = set()
    for ring in (piece.exterior, *piece.interiors):
        xy = shapely.get_coordinates(ring)
        a, b = xy[:-1], xy[1:]
        mid = shapely.points((a + b) / 2.0)
        along = (shapely.distance(mid, axis) <= SNAP_M) & (shapely.distance(mid, boundary) > SNAP_M)
        if not along.any():
            continue
        ta = shapely.line_locate_point(axis, shapely.points(a[along]))
        tb = shapely.line_locate_point(axis, shapely.points(b[along]))
        signs.update((tb > ta).tolist())
    if not signs:
        return None
    if len(signs) == 2:
        return "both"
    return "left" if signs.pop() else "right"


class _Resolver:
    """Maps the frame coordinates of the pieces back to positions: people's vertices as given, inserted
    points dropped (they lie on the geodesic between two vertices), crossings computed exactly."""

    def __init__(
        self, frame: EllipsoidalFrame, area: _Dense, line: _Dense, boundary: BaseGeometry, axis: shapely.LineString
    ) -> None:
        self.frame = frame
        self.area, self.line = area, line
        self.boundary, self.axis = boundary, axis
        self.known: dict[tuple[float, float], tuple[_Dense, int]] = {}
        for dense in (area, line):  # the line's vertices win where both coincide
            for i, (x, y) in enumerate(dense.xy.tolist()):
                self.known[(x, y)] = (dense, i)
        self.cache: dict[tuple[float, float], Position | None] = {}
        self.found: dict[Position, float] = {}
        """Crossings, with their distance along the axis."""

    def position(self, x: float, y: float) -> Position | None:
        key = (x, y)
        if key not in self.cache:
            self.cache[key] = self._resolve(x, y)
        return self.cache[key]

    def _resolve(self, x: float, y: float) -> Position | None:
        pt = shapely.Point(x, y)
        on_line = float(shapely.distance(pt, self.axis)) <= SNAP_M
        on_boundary = float(shapely.distance(pt, self.boundary)) <= SNAP_M
        hit = self.known.get((x, y))
        if hit is None:  # a node the noding made, or a vertex it moved by rounding
            for dense in (self.line, self.area):
                d = np.hypot(dense.xy[:, 0] - x, dense.xy[:, 1] - y)
                i = int(np.argmin(d))
                if d[i] <= SNAP_M:
                    hit = (dense, i)
                    break
        if hit is not None:
            dense, i = hit
            vertex = dense.vertex[i]
            if vertex is not None:
                if on_line and on_boundary:
                    self.found[vertex] = float(shapely.line_locate_point(self.axis, pt))
                return vertex
            if not (on_line and on_boundary):
                return None  # an inserted point: the geodesic between its neighbours passes through it
        if not (on_line and on_boundary):
            raise RuntimeError(f"line split: a point of a piece is on neither the line nor the area at {x}, {y}")
        a0, a1 = self.area.seg_edge[_nearest_segment(self.area, x, y)]
        b0, b1 = self.line.seg_edge[_nearest_segment(self.line, x, y)]
        lon, lat = self.frame.inverse(np.array([x]), np.array([y]))
        crossing = geodesic_crossing(a0, a1, b0, b1, (float(lon[0]), float(lat[0])))
        self.found[crossing] = float(shapely.line_locate_point(self.axis, pt))
        return crossing

    def ring(self, ring: shapely.LinearRing) -> tuple[Position, ...] | None:
        out: list[Position] = []
        for x, y in shapely.get_coordinates(ring)[:-1].tolist():
            p = self.position(x, y)
            if p is not None and (not out or not _same_place(p, out[-1])):
                out.append(p)
        while len(out) > 1 and _same_place(out[-1], out[0]):
            out.pop()
        if len(out) < 3:
            return None  # no area left once the inserted points are gone
        return (*out, out[0])

    def footprint(self, pieces: Sequence[shapely.Polygon]) -> PolygonFootprint:
        polygons = []
        for piece in pieces:
            shell = self.ring(piece.exterior)
            if shell is None:
                continue
            holes = [h for h in (self.ring(r) for r in piece.interiors) if h is not None]
            polygons.append((shell, *holes))
        return PolygonFootprint(tuple(polygons), multi=len(polygons) > 1)

    def crossings(self) -> list[tuple[float, Position]]:
        return sorted((t, p) for p, t in self.found.items())


SAME_PLACE_DEG = 1e-10
"""Two vertices closer than this (about 10 micrometres) are one: the parts of an RFC 7946 split area
meet on the antimeridian, each writing it its own way (180 or -180, latitudes computed separately)."""


def _same_place(p: Position, q: Position) -> bool:
    return abs(p[1] - q[1]) <= SAME_PLACE_DEG and abs(wrap_longitude(p[0] - q[0] + 0.0)) <= SAME_PLACE_DEG


def _band_path(
    crossings: list[tuple[float, Position]],
    line_xy: FloatArray,
    line_dense: _Dense,
    axis: shapely.LineString,
) -> tuple[Position, ...]:
    """The line's own vertices between its first and last crossing, with those crossings as ends."""
    (t0, first), (t1, last) = crossings[0], crossings[-1]
    inner: list[Position] = []
    for i, vertex in enumerate(line_dense.vertex):
        if vertex is None:
            continue
        t = float(shapely.line_locate_point(axis, shapely.Point(line_xy[i])))
        if t0 < t < t1:
            inner.append(vertex)
    out = [first]
    for p in (*inner, last):
        if not _same_place(p, out[-1]):
            out.append(p)
    return tuple(out)


def _self_crossing(line_xy: FloatArray, dense: _Dense) -> str:
    """Name the first two edges of the line that meet (other than neighbours at their shared vertex)."""
    starts = [i for i, v in enumerate(dense.vertex) if v is not None]
    edges = [shapely.LineString(line_xy[a : b + 1]) for a, b in itertools.pairwise(starts)]
    tree = shapely.STRtree(edges)
    left, right = tree.query(edges, predicate="intersects")
    for i, j in sorted(zip(left.tolist(), right.tolist(), strict=True)):
        if j <= i or (j == i + 1 and edges[i].intersection(edges[j]).geom_type == "Point"):
            continue
        return f"the line crosses itself: edge {i} (positions {i} to {i + 1}) meets edge {j} (positions {j} to {j + 1})"
    return "the line crosses itself"


# ------------------------------------------------------------------------------------ zones and band


def propose_split_zones(
    split: AreaSplit,
    *,
    zone_ids: tuple[str, str],
    validity: TimeWindow,
    now: datetime,
    names: tuple[str, str] = ("", ""),
) -> tuple[Zone, Zone]:
    """The two sides as proposed zones: the left side owned by ``party_left`` and proposed to
    ``party_right``, the right side the other way round (ids and names in that order)."""
    return (
        propose_zone(
            zone_id=zone_ids[0],
            owner_id=split.party_left,
            counterparties=[split.party_right],
            footprint=split.left,
            validity=validity,
            now=now,
            name=names[0],
        ),
        propose_zone(
            zone_id=zone_ids[1],
            owner_id=split.party_right,
            counterparties=[split.party_left],
            footprint=split.right,
            validity=validity,
            now=now,
            name=names[1],
        ),
    )


def band_along(
    split: AreaSplit, *, band_id: str, half_width_m: float, validity: TimeWindow, limits: Limits | None = None
) -> Band:
    """The band of ``half_width_m`` on both sides of the line, from its first to its last crossing."""
    limits = limits or Limits()
    if isinstance(half_width_m, bool) or not math.isfinite(half_width_m) or half_width_m <= 0.0:
        raise InvalidInput.one("half_width_m", "out_of_range", "half_width_m must be a number of metres above 0")
    reach_deg = math.degrees(half_width_m / MEAN_RADIUS_M) * 1.01
    if max(abs(p[1]) for p in split.band_path) + reach_deg > 90.0 - limits.pole_margin_deg:
        raise InvalidInput.one(
            "half_width_m", "near_pole", f"the band reaches within {limits.pole_margin_deg} degree of a pole"
        )
    if validity.end <= validity.start:
        raise InvalidInput.one("validity.end", "window_empty", "the band's validity must not be empty")
    return Band(
        band_id, split.party_left, split.party_right, CorridorFootprint(split.band_path, float(half_width_m)), validity
    )


def band_outline(band: Band, quad_segs: int = 16) -> BaseGeometry:
    """The band as a longitude/latitude polygon for maps and exports, drawn in an ellipsoidal AEQD frame
    centred on it (distances from the centre exact; across the band the frame stretches by at most
    (rho / R)^2 / 6: 0.1 % at 500 km from the centre), with a vertex every ``OUTLINE_EDGE_M`` so that
    maps drawing straight lines in degrees stay within millimetres of it. Detection never uses this
    drawing: it measures the corridor itself."""
    shape = band.shape
    frame = EllipsoidalFrame(*shape.center)
    xy = shapely.get_coordinates(shape.core)
    projected = shapely.LineString(np.column_stack(frame.forward(xy[:, 0], xy[:, 1])))
    drawn = shapely.segmentize(projected.buffer(band.half_width_m, quad_segs=quad_segs), OUTLINE_EDGE_M)

    def back(c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.column_stack(frame.inverse(c[:, 0], c[:, 1]))

    return shapely.transform(drawn, back)
