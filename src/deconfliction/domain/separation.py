"""Horizontal separation between two footprints, exact within 1 m.

Method (stated in docs/geometry.md, proved by tests against a brute-force geodesic oracle):

1. **Screening.** One ``SphericalFrame`` per subject; every candidate core is projected into it with
   NumPy and GEOS gives planar distances ``d~``. The geodesic distance is at least
   ``d~ / (1 + e) - 1 m`` with ``e`` the frame's stated error, so a candidate whose bound minus both
   buffer radii is not below the threshold is certainly clear and is dropped. Nothing else is decided here.
2. **Measure.** A survivor is measured in PROJ's ellipsoidal AEQD centred near the encounter. There a
   planar distance ``d'`` satisfies ``d <= d' <= d (1 + rho^2 / 6R^2)`` for points within ``rho`` of the
   centre. Only the *near regions* matter (the parts of each core that lie within the threshold of the
   other): when they are within ``rho_ok`` of the centre, with ``threshold * rho_ok^2 / 6R^2 <= 0.5 m``,
   the measured distance is within 0.5 m of the true one. Otherwise the frame is re-centred on the
   closest pair, and if the near regions are still too wide (long parallel footprints) they are cut
   into chunks measured each in its own frame.
3. Buffers: the distance between geodesic buffers is the distance between cores minus both radii
   (the ellipsoid is a length space), so circles and corridors cost no curve drawing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from deconfliction.domain.footprint import Position, Shape
from deconfliction.domain.geo import (
    MAX_EDGE_M,
    MEAN_RADIUS_M,
    SCREEN_REL_ERROR,
    EllipsoidalFrame,
    FloatArray,
    SphericalFrame,
)

CHORD_ERROR_M = 0.1
"""Bound on the gap between a densified chord and its geodesic in any frame used here."""

MEASURE_ERROR_M = 0.5
"""Target error of the frame distortion on a measured distance (the total stays below 1 m)."""

REGION_QUAD_SEGS = 8

MEET_TRUST_M = 200_000.0
"""Within this radius of the screening frame's centre a chord departs from its geodesic by less than
CHORD_ERROR_M, so cores that meet in the frame meet on the ellipsoid (within CHORD_ERROR_M)."""


def _project(geom: BaseGeometry, frame: SphericalFrame | EllipsoidalFrame) -> BaseGeometry:
    out: BaseGeometry = shapely.transform(geom, lambda c: np.column_stack(frame.forward(c[:, 0], c[:, 1])))
    return out


def _unproject(geom: BaseGeometry, frame: EllipsoidalFrame) -> BaseGeometry:
    return shapely.transform(geom, lambda c: np.column_stack(frame.inverse(c[:, 0], c[:, 1])))


def _max_radius(geom: BaseGeometry) -> float:
    xy = shapely.get_coordinates(geom)
    return float(np.max(np.hypot(xy[:, 0], xy[:, 1]))) if xy.size else 0.0


class Screen:
    """Cheap, certain lower bounds of the distance from one subject to many shapes."""

    def __init__(self, subject: Shape) -> None:
        self.subject = subject
        self.frame = SphericalFrame(*subject.center)

    def lower_bounds(self, others: Sequence[Shape]) -> FloatArray:
        """For each shape, a number the geodesic distance between the buffered footprints is never below."""
        return self.screen(others).bounds

    def screen(self, others: Sequence[Shape]) -> Screening:
        """Lower bounds for every shape, and for those whose core certainly meets the subject's, a point
        they share (then the separation is 0 and nothing needs measuring)."""
        if not others:
            return Screening(np.zeros(0), [])
        frame = self.frame
        cores = np.array([self.subject.core, *(o.core for o in others)], dtype=object)
        projected = shapely.transform(cores, lambda c: np.column_stack(frame.forward(c[:, 0], c[:, 1])))
        planar = shapely.distance(projected[0], projected[1:])
        # every point of a core lies within sqrt(2) * max(|x|, |y|) of its box's corner furthest out
        rho = np.max(np.abs(shapely.bounds(projected)), axis=1) * math.sqrt(2.0)
        rho_pair = np.maximum(rho[0], rho[1:])
        err = SCREEN_REL_ERROR + (rho_pair / MEAN_RADIUS_M) ** 2 / 5.0  # SphericalFrame.relative_error
        radii = np.array([o.radius_m for o in others]) + self.subject.radius_m
        bounds: FloatArray = np.maximum(0.0, planar / (1.0 + err) - CHORD_ERROR_M - radii)
        meeting: list[Position | None] = [None] * len(others)
        hits = np.flatnonzero((planar == 0.0) & (rho_pair <= MEET_TRUST_M))
        if hits.size:
            ends = shapely.get_coordinates(shapely.shortest_line(projected[0], projected[1 + hits]))[0::2]
            lons, lats = frame.inverse(ends[:, 0], ends[:, 1])
            for i, lon, lat in zip(hits.tolist(), lons.tolist(), lats.tolist(), strict=True):
                meeting[i] = (lon, lat)
        return Screening(bounds, meeting)


@dataclass(frozen=True)
class Screening:
    bounds: FloatArray
    """Per shape, a number the geodesic distance between the buffered footprints is never below."""
    meeting: list[Position | None]
    """Per shape, a point of both cores when they certainly meet (separation 0 within CHORD_ERROR_M)."""


def draw_region(a: Shape, b: Shape, separation_m: float) -> BaseGeometry:
    """The region of two footprints known to come within ``separation_m`` (see ``Measurement.region``)."""
    m = measure(a, b, separation_m + 2.0 * CHORD_ERROR_M + 1.0)
    if m is None:  # cannot happen for a pair detection found; drawn as nothing rather than guessed
        return shapely.GeometryCollection()
    return m.region(separation_m)


@dataclass(frozen=True)
class Measurement:
    """The exact horizontal separation of two buffered footprints, and where it is smallest."""

    distance_m: float
    """Geodesic distance between the buffered footprints, 0 when they touch or overlap (within 1 m)."""
    point_a: Position
    point_b: Position
    """Closest points on the two *cores* (centre of a circle, axis of a corridor)."""
    frame: EllipsoidalFrame
    core_a: BaseGeometry
    core_b: BaseGeometry
    """Both cores in ``frame``, for drawing the overlap region."""
    radius_a: float
    radius_b: float

    def region(self, separation_m: float) -> BaseGeometry:
        """Where the two footprints come closer than ``separation_m``: the part of each footprint within
        that distance of the other, in longitude/latitude. For need-to-know, this is all of the other side
        a party ever sees."""
        return _draw(self.frame, self.core_a, self.core_b, self.radius_a, self.radius_b, separation_m)


def _full(core: BaseGeometry, radius: float) -> BaseGeometry:
    return core.buffer(radius, quad_segs=REGION_QUAD_SEGS) if radius else core


def _draw(
    frame: EllipsoidalFrame,
    core_a: BaseGeometry,
    core_b: BaseGeometry,
    radius_a: float,
    radius_b: float,
    separation_m: float,
    full_a: BaseGeometry | None = None,
    grown_a: BaseGeometry | None = None,
) -> BaseGeometry:
    """``Measurement.region``; ``full_a`` (A's footprint in the frame) and ``grown_a`` (that footprint
    grown by ``separation_m``) when the caller already has them."""
    full_a = _full(core_a, radius_a) if full_a is None else full_a
    full_b = _full(core_b, radius_b)
    if separation_m > 0:
        if grown_a is None:
            grown_a = full_a.buffer(separation_m, quad_segs=REGION_QUAD_SEGS)
        region = shapely.union(
            full_a.intersection(full_b.buffer(separation_m, quad_segs=REGION_QUAD_SEGS)),
            full_b.intersection(grown_a),
        )
    else:
        region = full_a.intersection(full_b)
    if region.is_empty:
        # touching at a point or a line only: show the meeting place as a tiny disc
        line = shapely.shortest_line(full_a, full_b)
        region = line.buffer(max(1.0, separation_m * 0.01), quad_segs=REGION_QUAD_SEGS)
    region = shapely.segmentize(region, MAX_EDGE_M)
    return _unproject(region, frame)


class SubjectFrame:
    """One subject's share of the exact work, done once for all the shapes it is measured against or
    drawn with: the ellipsoidal frame centred on the subject (where ``measure`` starts), the subject's
    core projected in it, its largest radius there, its footprint and that footprint grown by each
    separation. ``measure`` and ``region`` give exactly what ``measure(subject, other, ...)`` and
    ``draw_region(subject, other, ...)`` give; only the repeated steps are skipped."""

    def __init__(self, subject: Shape) -> None:
        self.subject = subject
        self._prepared: tuple[EllipsoidalFrame, BaseGeometry, float] | None = None
        self._full: BaseGeometry | None = None
        self._grown: dict[float, BaseGeometry] = {}

    def _prepare(self) -> tuple[EllipsoidalFrame, BaseGeometry, float]:
        if self._prepared is None:
            frame = EllipsoidalFrame(*self.subject.center)
            core = _project(self.subject.core, frame)
            self._prepared = (frame, core, _max_radius(core))
        return self._prepared

    @property
    def frame(self) -> EllipsoidalFrame:
        return self._prepare()[0]

    @property
    def core(self) -> BaseGeometry:
        return self._prepare()[1]

    @property
    def rho(self) -> float:
        return self._prepare()[2]

    def measure(self, other: Shape, within_m: float) -> Measurement | None:
        return measure(self.subject, other, within_m, prepared=self)

    def measure_many(self, others: Sequence[Shape], within_m: Sequence[float]) -> list[Measurement | None]:
        """``[measure(subject, o, w) for o, w in zip(others, within_m)]``, with the steps every pair takes
        in the subject's frame (projection, distance, closest points) done for all pairs in one call each:
        the same arithmetic on the same points, so the same numbers. A pair that needs more (a frame
        moved to the encounter, or cut into chunks) is measured alone."""
        if not others:
            return []
        a = self.subject
        frame, pa, rho_a = self._prepare()
        pbs = shapely.transform(
            np.array([o.core for o in others], dtype=object),
            lambda c: np.column_stack(frame.forward(c[:, 0], c[:, 1])),
        )
        ds = shapely.distance(pa, pbs).tolist()
        xy, owner = shapely.get_coordinates(pbs, return_index=True)
        radii = np.hypot(xy[:, 0], xy[:, 1])
        rho_b = np.zeros(len(others))
        np.maximum.at(rho_b, owner, radii)
        out: list[Measurement | None] = [None] * len(others)
        first: list[tuple[int, float]] = []  # pairs settled in this frame: (index, core distance)
        for i, (o, w, d, rb) in enumerate(zip(others, within_m, ds, rho_b.tolist(), strict=True)):
            within_core = w + a.radius_m + o.radius_m
            rho_all = max(rho_a, rb)
            if d / (1.0 + EllipsoidalFrame.excess(rho_all)) >= within_core + CHORD_ERROR_M:
                continue  # certainly not within: what measure answers
            if d == 0.0 or rho_all <= rho_ok(within_core):
                first.append((i, d))
            else:
                out[i] = measure(a, o, w, prepared=self)
        if first:
            idx = [i for i, _ in first]
            lines = shapely.shortest_line(pa, pbs[idx])
            ends = shapely.get_coordinates(lines)
            lons, lats = frame.inverse(ends[:, 0], ends[:, 1])
            lons_l, lats_l = lons.tolist(), lats.tolist()
            for k, (i, d) in enumerate(first):
                o = others[i]
                distance = max(0.0, d - a.radius_m - o.radius_m)
                if distance >= within_m[i]:
                    continue
                point_a = (float(lons_l[2 * k]), float(lats_l[2 * k]))
                point_b = (float(lons_l[2 * k + 1]), float(lats_l[2 * k + 1]))
                out[i] = Measurement(distance, point_a, point_b, frame, pa, pbs[i], a.radius_m, o.radius_m)
        return out

    def region(self, other: Shape, separation_m: float) -> BaseGeometry:
        """``draw_region(subject, other, separation_m)``."""
        a = self.subject
        frame, core, _ = self._prepare()
        pb = _project(other.core, frame)
        if float(shapely.distance(core, pb)) != 0.0:
            return draw_region(a, other, separation_m)
        # cores meeting in the subject's frame: ``measure`` stops at its first step with this frame and
        # these projections, and the region is drawn from them
        if self._full is None:
            self._full = _full(core, a.radius_m)
        grown = self._grown.get(separation_m)
        if grown is None and separation_m > 0:
            grown = self._grown[separation_m] = self._full.buffer(separation_m, quad_segs=REGION_QUAD_SEGS)
        return _draw(frame, core, pb, a.radius_m, other.radius_m, separation_m, full_a=self._full, grown_a=grown)


@dataclass(frozen=True)
class _Found:
    core_distance: float
    point_a: Position
    point_b: Position
    frame: EllipsoidalFrame
    core_a: BaseGeometry
    core_b: BaseGeometry


def measure(
    a: Shape, b: Shape, within_m: float, start: Position | None = None, *, prepared: SubjectFrame | None = None
) -> Measurement | None:
    """The separation of ``a`` and ``b`` if it is below ``within_m`` (within 1 m); ``None`` when it is
    certainly not. ``prepared``: ``a`` already projected in its own frame (only when ``start`` is None)."""
    within_core = within_m + a.radius_m + b.radius_m
    if prepared is not None and start is None:
        frame, pa, rho_a = prepared.frame, prepared.core, prepared.rho
        found = _measure_cores(a.core, b.core, a.center, within_core, depth=0, first=(frame, pa, rho_a))
    else:
        found = _measure_cores(a.core, b.core, start if start is not None else a.center, within_core, depth=0)
    if found is None:
        return None
    distance = max(0.0, found.core_distance - a.radius_m - b.radius_m)
    if distance >= within_m:
        return None
    return Measurement(
        distance,
        found.point_a,
        found.point_b,
        found.frame,
        found.core_a,
        found.core_b,
        a.radius_m,
        b.radius_m,
    )


def rho_ok(within_core: float) -> float:
    """Largest radius of the near regions at which the frame's excess stays within MEASURE_ERROR_M."""
    if within_core <= 0:
        return 1_000_000.0
    return min(1_000_000.0, MEAN_RADIUS_M * math.sqrt(6.0 * MEASURE_ERROR_M / (1.02 * within_core)))


def _closest_points(line: BaseGeometry, frame: EllipsoidalFrame) -> tuple[Position, Position]:
    xy = shapely.get_coordinates(line)
    lon, lat = frame.inverse(xy[:, 0], xy[:, 1])
    return (float(lon[0]), float(lat[0])), (float(lon[1]), float(lat[1]))


def _measure_cores(
    a: BaseGeometry,
    b: BaseGeometry,
    center: Position,
    within_core: float,
    depth: int,
    first: tuple[EllipsoidalFrame, BaseGeometry, float] | None = None,
) -> _Found | None:
    """``first``: the frame at ``center``, ``a`` projected in it and its largest radius there, when the
    caller has them (the same values this function would compute)."""
    if first is None:
        frame = EllipsoidalFrame(*center)
        pa = _project(a, frame)
        rho_a = _max_radius(pa)
    else:
        frame, pa, rho_a = first
    pb = _project(b, frame)
    d = float(shapely.distance(pa, pb))
    rho_all = max(rho_a, _max_radius(pb))
    k_all = EllipsoidalFrame.excess(rho_all)
    if d / (1.0 + k_all) >= within_core + CHORD_ERROR_M:
        return None
    line = shapely.shortest_line(pa, pb)
    limit = rho_ok(within_core)
    if d == 0.0 or rho_all <= limit:
        return _Found(d, *_closest_points(line, frame), frame, pa, pb)
    reach = within_core * (1.0 + k_all) * 1.01 + 1.0  # 1 %: polygonal buffers lie inside the true one
    near_a = pa.intersection(pb.buffer(reach, quad_segs=REGION_QUAD_SEGS))
    near_b = pb.intersection(pa.buffer(reach, quad_segs=REGION_QUAD_SEGS))
    rho_near = max(_max_radius(near_a), _max_radius(near_b))
    if rho_near <= limit or depth >= 2:
        return _Found(d, *_closest_points(line, frame), frame, pa, pb)
    minx, miny, maxx, maxy = near_a.bounds
    if depth == 0 and max(maxx - minx, maxy - miny) <= limit:
        # a compact encounter far from this frame's centre: measure again around it
        mid = shapely.get_coordinates(line).mean(axis=0)
        lon, lat = frame.inverse(np.array([mid[0]]), np.array([mid[1]]))
        return _measure_cores(a, b, (float(lon[0]), float(lat[0])), within_core, depth + 1)
    # long near regions: cut A's near part into chunks, each measured in a frame of its own
    side = max(1_000.0, (limit - reach) / 0.71)
    best: _Found | None = None
    for x0 in np.arange(minx, maxx + side, side):
        for y0 in np.arange(miny, maxy + side, side):
            chunk = near_a.intersection(shapely.box(x0, y0, x0 + side, y0 + side))
            if chunk.is_empty:
                continue
            chunk_ll = _unproject(shapely.segmentize(chunk, MAX_EDGE_M), frame)
            c = chunk.centroid
            lon, lat = frame.inverse(np.array([c.x]), np.array([c.y]))
            found = _measure_cores(chunk_ll, b, (float(lon[0]), float(lat[0])), within_core, 2)
            if found is not None and (best is None or found.core_distance < best.core_distance):
                best = found
    if best is None:
        return None
    # the distance and points come from the best chunk; the whole encounter stays drawn in this frame
    return _Found(best.core_distance, best.point_a, best.point_b, frame, pa, pb)
