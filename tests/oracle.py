"""A brute-force oracle for horizontal separation and 4D conflicts, independent of the production path.

Nothing here uses ``deconfliction.domain.geo``, ``footprint.Shape`` or ``separation``: it reads the
footprints' raw coordinates (the vertices the party typed) and works on WGS84 with its own tools.

Horizontal distance between two footprints
------------------------------------------
1. **Cores.** A polygon is its own region (holes excluded, MultiPolygon parts united) with radius 0; a
   circle is its centre point with the radius; a corridor is its path (a geodesic polyline) with the
   half-width. On a length space such as the ellipsoid, the distance between the two buffers is the
   distance between the cores minus both radii, floored at 0.
2. **Densify.** Every edge (a geodesic, as the design says) is cut into pieces of at most ``STEP_M`` =
   50 m with ``pyproj.Geod.inv`` (azimuth and length of the edge) and ``Geod.fwd`` (the points along it).
   The production code's ``densify_geodesic`` (10 km pieces) is not used.
3. **ECEF.** Every dense point goes to Earth-centred Cartesian coordinates, where the antimeridian and the
   poles are nothing special. A 50 m piece's chord departs from its geodesic by its sagitta,
   50^2 / (8 R) = 0.05 mm, so within one piece the surface is flat to well below a millimetre.
4. **Touch or overlap** (distance 0) is decided separately: the dense cores are projected orthographically
   onto the plane tangent at their common middle (a linear map of ECEF, so chords stay straight and the
   surface patch maps one-to-one: crossings, containment and holes are preserved) and GEOS decides
   ``intersects`` there. That covers a boundary crossing, one footprint inside the other, and one inside
   the other's hole (not touching).
5. **Otherwise** the minimum distance between the two sets of boundary pieces is attained at a vertex of
   one and a point of a piece of the other (for non-crossing segments in a plane; the pieces are flat to
   0.05 mm). Every vertex of each is measured against every piece of the other by the 3D point-to-segment
   distance (chords). A branch and bound over blocks of 16 points, each with its bounding ball, skips the
   block pairs that cannot beat the best distance found, which is an exact pruning, not an approximation.
6. **Geodesic.** The chord ``c`` and the geodesic ``d`` differ by about d^3 / (24 R^2): below 1 cm up to
   20 km, 0.35 m at 70 km (cores of two 25 km circles 20 km apart). So the oracle does not return the
   chord: every vertex/piece pair whose chord is within a small margin of the best (ties that the
   direction-dependent curvature could reorder, 1e-5 relative) is re-measured as a geodesic with
   ``Geod.inv`` between the vertex and the matching point of the piece, and the least is returned.

Error of the oracle: below 1 cm (piece flatness 0.05 mm, the surface point of a chord 0.05 mm below it,
the tie margin), far inside the 1 m the production code is allowed.

4D conflicts
------------
``conflict_verdicts`` applies the policy to every pair of volumes of different owners, with time and
altitude computed here from the raw windows and bands: a window with end == start is the instant start,
otherwise it is half-open; bands are closed, and their gap is taken in exact decimal arithmetic on the
limits as written and compared with the vertical minimum by the exactness rule (less than half a
millimetre closer is separated: docs/policy.md), restated here with its own constant. The horizontal
test uses the distance above, with a band of ``TOLERANCE_M`` either side of the threshold in which both
answers are accepted.

Also here, shared by the property tests: builders of awkward footprints (rings around a point, the RFC 7946
split of a polygon at the antimeridian), Hypothesis strategies for them, ``examples`` (per-test example
counts that scale with the Hypothesis profile) and ``record`` (the largest errors seen, printed at exit
with ORACLE_REPORT=1).
"""

from __future__ import annotations

import atexit
import itertools
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from hypothesis import settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from deconfliction.domain.footprint import CircleFootprint, CorridorFootprint, Footprint, PolygonFootprint
from deconfliction.domain.operation import Operation
from deconfliction.domain.policy import SeparationPolicy, SeparationRule
from tests.shapes import circle, corridor

F64 = npt.NDArray[np.float64]

GEOD = Geod(ellps="WGS84")
WGS84_A = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

STEP_M = 50.0
"""Longest piece of a densified geodesic edge."""

BLOCK = 16
"""Points per block of the branch and bound."""

TOLERANCE_M = 1.0
"""What the production answer may differ from the oracle by (design: at most 1 m)."""


# ------------------------------------------------------------------------------------------ coordinates


def to_ecef(lons: F64, lats: F64) -> F64:
    """Points on the WGS84 ellipsoid (height 0) in Earth-centred Cartesian metres, shape (n, 3)."""
    lam, phi = np.radians(lons), np.radians(lats)
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * sin_phi**2)
    return np.column_stack((n * cos_phi * np.cos(lam), n * cos_phi * np.sin(lam), n * (1.0 - WGS84_E2) * sin_phi))


def to_geodetic(xyz: F64) -> tuple[F64, F64]:
    """Longitude and latitude (degrees) of Cartesian points near the ellipsoid (iterated, to 1e-12 rad)."""
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    p = np.hypot(x, y)
    phi = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(6):
        n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * np.sin(phi) ** 2)
        h = p / np.cos(phi) - n
        phi = np.arctan2(z, p * (1.0 - WGS84_E2 * n / (n + h)))
    return np.degrees(np.arctan2(y, x)), np.degrees(phi)


def densify(lons: Sequence[float], lats: Sequence[float], step_m: float = STEP_M) -> tuple[F64, F64]:
    """Points along the geodesics between consecutive vertices, no piece longer than ``step_m``; the
    vertices themselves are kept (the last one too). Longitudes may wrap: ECEF does not care."""
    lo = np.asarray(lons, dtype=np.float64)
    la = np.asarray(lats, dtype=np.float64)
    if lo.size < 2:
        return lo.copy(), la.copy()
    az, _, dist = GEOD.inv(lo[:-1], la[:-1], lo[1:], la[1:])
    az, dist = np.asarray(az), np.asarray(dist)
    pieces = np.maximum(1, np.ceil(dist / step_m)).astype(np.int64)
    edge = np.repeat(np.arange(dist.size), pieces)
    k = np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    out_lon, out_lat, _ = GEOD.fwd(lo[edge], la[edge], az[edge], dist[edge] * k / pieces[edge])
    return np.append(np.asarray(out_lon), lo[-1]), np.append(np.asarray(out_lat), la[-1])


# ---------------------------------------------------------------------------------------------- cores


@dataclass(frozen=True, eq=False)
class Core:
    """A footprint's core, densified, in ECEF.

    ``starts[i]`` and ``ends[i]`` are the ends of piece ``i`` (a piece of zero length at the last vertex
    of each curve, so every vertex is also a start). ``parts`` keeps the curves for the topology test:
    for an area, one list of rings (exterior first) per polygon; for a line, ``[[path]]``; for a point,
    ``[[point]]``."""

    kind: str
    starts: F64
    ends: F64
    parts: tuple[tuple[F64, ...], ...]
    radius_m: float
    ball_center: F64
    ball_radius: float


def _core(kind: str, curves: list[list[F64]], radius_m: float) -> Core:
    starts, ends = [], []
    for part in curves:
        for xyz in part:
            starts.append(xyz)
            ends.append(np.vstack((xyz[1:], xyz[-1:])))
    s, e = np.vstack(starts), np.vstack(ends)
    center = s.mean(axis=0)
    r = float(np.max(np.linalg.norm(s - center, axis=1)))
    # a surface patch bounded by curves inside a ball bulges out of it by at most its sagitta r^2 / 2R
    ball_r = r + r * r / 6.3e6 + 1_000.0
    return Core(kind, s, e, tuple(tuple(p) for p in curves), radius_m, center, ball_r)


@lru_cache(maxsize=4096)
def core_of(fp: Footprint) -> Core:
    """The oracle's core of a footprint (cached: footprints are immutable and hashable)."""
    if isinstance(fp, CircleFootprint):
        xyz = to_ecef(np.array([fp.center[0]]), np.array([fp.center[1]]))
        return _core("point", [[xyz]], fp.radius_m)
    if isinstance(fp, CorridorFootprint):
        lons, lats = densify([p[0] for p in fp.path], [p[1] for p in fp.path])
        return _core("line", [[to_ecef(lons, lats)]], fp.half_width_m)
    assert isinstance(fp, PolygonFootprint)
    polys = []
    for rings in fp.polygons:
        polys.append([to_ecef(*densify([p[0] for p in ring], [p[1] for p in ring])) for ring in rings])
    return _core("area", polys, 0.0)


# ------------------------------------------------------------------------------------------- topology


def _tangent_basis(xyz: F64) -> tuple[F64, F64, F64]:
    up = xyz.mean(axis=0)
    up /= np.linalg.norm(up)
    helper = np.array([0.0, 0.0, 1.0]) if abs(up[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    east = np.cross(helper, up)
    east /= np.linalg.norm(east)
    north = np.cross(up, east)
    return xyz.mean(axis=0), east, north


def _planar(core: Core, origin: F64, east: F64, north: F64) -> list[BaseGeometry]:
    def xy(pts: F64) -> F64:
        d = pts - origin
        return np.column_stack((d @ east, d @ north))

    if core.kind == "point":
        return [shapely.Point(xy(core.parts[0][0])[0])]
    if core.kind == "line":
        return [shapely.LineString(xy(core.parts[0][0]))]
    return [shapely.Polygon(xy(rings[0]), [xy(h) for h in rings[1:]]) for rings in core.parts]


def cores_meet(a: Core, b: Core) -> bool:
    """True when the two cores touch or overlap (orthographic projection on the common tangent plane)."""
    if np.linalg.norm(a.ball_center - b.ball_center) > a.ball_radius + b.ball_radius:
        return False
    origin, east, north = _tangent_basis(np.vstack((a.starts, b.starts)))
    ga, gb = _planar(a, origin, east, north), _planar(b, origin, east, north)
    return any(shapely.intersects(x, y) for x in ga for y in gb)


# ------------------------------------------------------------------------------------------- distance


def _blocks(core: Core) -> tuple[F64, F64, F64, F64]:
    n = core.starts.shape[0]
    m = -(-n // BLOCK)
    pad = m * BLOCK - n
    s = np.vstack((core.starts, np.repeat(core.starts[-1:], pad, axis=0))).reshape(m, BLOCK, 3)
    e = np.vstack((core.ends, np.repeat(core.starts[-1:], pad, axis=0))).reshape(m, BLOCK, 3)
    pts = np.concatenate((s, e), axis=1)
    center = pts.mean(axis=1)
    radius = np.max(np.linalg.norm(pts - center[:, None, :], axis=2), axis=1)
    return s, e, center, radius


def _point_segment(p: F64, s0: F64, s1: F64) -> tuple[F64, F64]:
    """Distances from points p (B, Kp, 3) to segments s0-s1 (B, Ks, 3), shape (B, Kp, Ks), and the
    parameter of the closest point along each segment. Computed relative to the first point of each
    batch row, where coordinates are tens of kilometres, so the squares lose nothing that matters."""
    origin = p[:, :1, :]
    pr, sr = p - origin, s0 - origin
    d = s1 - s0
    dd = np.einsum("bkc,bkc->bk", d, d)
    rd = np.matmul(pr, d.transpose(0, 2, 1)) - np.einsum("bkc,bkc->bk", sr, d)[:, None, :]
    t = np.clip(rd / np.where(dd > 0.0, dd, 1.0)[:, None, :], 0.0, 1.0)
    rr = np.einsum("bpc,bpc->bp", pr, pr)[:, :, None] - 2.0 * np.matmul(pr, sr.transpose(0, 2, 1))
    rr += np.einsum("bkc,bkc->bk", sr, sr)[:, None, :]
    sq = rr - 2.0 * t * rd + t * t * dd[:, None, :]
    return np.sqrt(np.maximum(sq, 0.0)), t


def core_distance(a: Core, b: Core, upto: float = math.inf) -> float:
    """Geodesic distance between two cores (0 when they meet). When it is not below ``upto`` the result
    is some number >= ``upto`` (``math.inf`` when a block bound already shows it), which is all a
    threshold test needs."""
    if cores_meet(a, b):
        return 0.0
    ball_gap = float(np.linalg.norm(a.ball_center - b.ball_center)) - a.ball_radius - b.ball_radius
    if ball_gap >= upto:  # a chord is never longer than the geodesic it spans
        return math.inf
    sa, ea, ca, ra = _blocks(a)
    sb, eb, cb, rb = _blocks(b)
    lower = np.maximum(0.0, np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2) - ra[:, None] - rb[None, :])
    order = np.argsort(lower, axis=None)
    ia_all, ib_all = np.unravel_index(order, lower.shape)
    lb_sorted = lower.ravel()[order]
    best = math.inf
    cand_p: list[F64] = []
    cand_q: list[F64] = []
    cand_c: list[F64] = []
    at, batch = 0, 2
    while at < order.size:
        margin = 0.05 + 1e-5 * best if math.isfinite(best) else 0.0
        if lb_sorted[at] > min(best + margin, upto):
            break
        ia, ib = ia_all[at : at + batch], ib_all[at : at + batch]
        at, batch = at + batch, min(2 * batch, 256)
        for p, s0, s1 in ((sa[ia], sb[ib], eb[ib]), (sb[ib], sa[ia], ea[ia])):
            dist, t = _point_segment(p, s0, s1)
            best = min(best, float(dist.min()))
            keep = dist <= best + 0.1 + 1e-5 * best
            if keep.any():
                r, i, k = np.nonzero(keep)
                q = s0[r, k] + t[r, i, k][:, None] * (s1[r, k] - s0[r, k])
                cand_p.append(p[r, i])
                cand_q.append(q)
                cand_c.append(np.linalg.norm(p[r, i] - q, axis=1))
    if best >= upto:
        return best  # a chord is never longer than its geodesic: the distance is not below ``upto``
    c = np.concatenate(cand_c)
    p = np.vstack(cand_p)
    q = np.vstack(cand_q)
    keep = c <= best + 0.05 + 1e-5 * best
    c, p, q = c[keep], p[keep], q[keep]
    if c.size > 512:
        pick = np.argsort(c)[:512]
        p, q = p[pick], q[pick]
    plon, plat = to_geodetic(p)
    qlon, qlat = to_geodetic(q)
    _, _, geodesic = GEOD.inv(plon, plat, qlon, qlat)
    return float(np.min(geodesic))


def distance(a: Footprint, b: Footprint, upto: float = math.inf) -> float:
    """Geodesic distance between the two buffered footprints, 0 when they touch or overlap. Beyond
    ``upto`` (a separation threshold), some number >= ``upto``."""
    ca, cb = core_of(a), core_of(b)
    radii = ca.radius_m + cb.radius_m
    return max(0.0, core_distance(ca, cb, upto + radii) - radii)


# ------------------------------------------------------------------------------------------ 4D oracle


def _us(t: datetime) -> int:
    return round(t.timestamp() * 1_000_000)


def windows_intersect(s1: datetime, e1: datetime, s2: datetime, e2: datetime) -> bool:
    """[s, e) half-open, or the single instant s when e == s."""
    a0, a1, b0, b1 = _us(s1), _us(e1), _us(s2), _us(e2)
    # an instant [t, t] is the closed interval; a proper window is [s, e)
    if a0 == a1 and b0 == b1:
        return a0 == b0
    if a0 == a1:
        return b0 <= a0 < b1
    if b0 == b1:
        return a0 <= b0 < a1
    return max(a0, b0) < min(a1, b1)


def window_gap_s(s1: datetime, e1: datetime, s2: datetime, e2: datetime) -> float:
    return max(0, _us(s2) - _us(e1), _us(s1) - _us(e2)) / 1e6


def band_gap_m(lo1: float, hi1: float, lo2: float, hi2: float) -> float:
    """Closed bands: 0 when they overlap or touch."""
    return max(0.0, lo2 - hi1, lo1 - hi2)


class Verdict(Enum):
    CONFLICT = "conflict"
    CLEAR = "clear"
    EITHER = "either"
    """Within TOLERANCE_M of the horizontal threshold: both answers are correct."""


@dataclass(frozen=True)
class PairVerdict:
    verdict: Verdict
    rule: SeparationRule
    horizontal_m: float | None
    """The oracle distance when it was needed (time and altitude close), else None."""


def time_close(s1: datetime, e1: datetime, s2: datetime, e2: datetime, time_s: float) -> bool:
    return windows_intersect(s1, e1, s2, e2) or window_gap_s(s1, e1, s2, e2) < time_s


EXACTNESS_M = Decimal("0.0005")
"""The exactness rule, stated here on its own: bands whose declared limits are less than half a
millimetre closer than the vertical minimum are separated (docs/policy.md)."""


def declared(x: float) -> Decimal:
    """The decimal number a party wrote: the shortest text that reads back as the float (``repr``)."""
    return Decimal(repr(float(x)))


def altitude_close(lo1: float, hi1: float, lo2: float, hi2: float, vertical_m: float | None) -> bool:
    """The bands touch or overlap, or their gap, in exact decimal arithmetic on the declared limits, is
    more than half a millimetre below the minimum (no floating-point subtraction decides it)."""
    if vertical_m is None:
        return True
    a_lo, a_hi, b_lo, b_hi = (declared(x) for x in (lo1, hi1, lo2, hi2))
    gap = max(Decimal(0), b_lo - a_hi, a_lo - b_hi)
    return gap == 0 or gap < declared(vertical_m) - EXACTNESS_M


def verdict(
    fa: Footprint,
    wa: tuple[datetime, datetime],
    ba: tuple[float, float],
    fb: Footprint,
    wb: tuple[datetime, datetime],
    bb: tuple[float, float],
    rule: SeparationRule,
) -> PairVerdict:
    """The rule applied by brute force to one pair of volumes."""
    if not time_close(*wa, *wb, rule.time_s) or not altitude_close(*ba, *bb, rule.vertical_m):
        return PairVerdict(Verdict.CLEAR, rule, None)
    h = rule.horizontal_m
    d = distance(fa, fb, upto=h + 2.0 * TOLERANCE_M)
    if d == 0.0 and h == 0.0:
        return PairVerdict(Verdict.CONFLICT, rule, d)
    if d < h - TOLERANCE_M:
        return PairVerdict(Verdict.CONFLICT, rule, d)
    if d > h + TOLERANCE_M:
        return PairVerdict(Verdict.CLEAR, rule, d)
    return PairVerdict(Verdict.EITHER, rule, d)


VolumeKey = tuple[str, int, str, int]
"""(operation a, volume index in a, operation b, volume index in b)."""


def conflict_verdicts(operations: Iterable[Operation], policy: SeparationPolicy) -> dict[VolumeKey, PairVerdict]:
    """Every ordered pair of volumes of operations of different owners, judged by brute force."""
    ops = list(operations)
    out: dict[VolumeKey, PairVerdict] = {}
    for a in ops:
        for b in ops:
            if a.owner_id == b.owner_id or a.id == b.id:
                continue
            rule = policy.rule(a.kind, b.kind)
            for i, va in enumerate(a.volumes):
                for j, vb in enumerate(b.volumes):
                    key_back = (b.id, j, a.id, i)
                    if key_back in out:
                        out[(a.id, i, b.id, j)] = out[key_back]
                        continue
                    out[(a.id, i, b.id, j)] = verdict(
                        va.footprint,
                        (va.window.start, va.window.end),
                        (va.altitude.lower_m, va.altitude.upper_m),
                        vb.footprint,
                        (vb.window.start, vb.window.end),
                        (vb.altitude.lower_m, vb.altitude.upper_m),
                        rule,
                    )
    return out


# ------------------------------------------------------------------------------- inputs for the tests


def destination(lon: float, lat: float, azimuth: float, dist_m: float) -> tuple[float, float]:
    """The point ``dist_m`` from (lon, lat) along ``azimuth`` (longitude wrapped to [-180, 180])."""
    lo, la, _ = GEOD.fwd(lon, lat, azimuth, dist_m)
    return float(lo), float(la)


def ring_around(lon: float, lat: float, azimuths: Sequence[float], radii: Sequence[float]) -> list[list[float]]:
    """A closed ring through the points at the given azimuths and distances from (lon, lat)."""
    n = len(azimuths)
    lo, la, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), np.asarray(azimuths), np.asarray(radii))
    pts = [[float(x), float(y)] for x, y in zip(lo, la, strict=True)]
    return [*pts, pts[0]]


def polygon_json(*rings: list[list[float]]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": list(rings)}


def circle_json(lon: float, lat: float, radius_m: float) -> dict[str, object]:
    return circle([lon, lat], radius_m)


def corridor_json(path: Sequence[Sequence[float]], half_width_m: float) -> dict[str, object]:
    return corridor([[float(p[0]), float(p[1])] for p in path], half_width_m)


def _crossing_latitude(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Latitude where the geodesic from 1 to 2 crosses the antimeridian (bisection on Geod.fwd)."""
    az, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    side0 = math.copysign(1.0, lon1 % 360.0 - 180.0)
    lo_s, hi_s = 0.0, float(dist)
    for _ in range(80):
        mid = (lo_s + hi_s) / 2.0
        lon, _, _ = GEOD.fwd(lon1, lat1, az, mid)
        if math.copysign(1.0, float(lon) % 360.0 - 180.0) == side0:
            lo_s = mid
        else:
            hi_s = mid
    _, lat, _ = GEOD.fwd(lon1, lat1, az, (lo_s + hi_s) / 2.0)
    return float(lat)


def split_at_antimeridian(poly: dict[str, object]) -> dict[str, object]:
    """The same region as an RFC 7946 MultiPolygon cut at the antimeridian.

    Every edge that crosses gets a vertex exactly where its geodesic meets the meridian 180 (found by
    bisection), so each piece's edges are parts of the original geodesics plus stretches of the meridian
    (itself a geodesic): the union is the same region on the ellipsoid."""
    rings_in = poly["coordinates"]
    assert isinstance(rings_in, list)
    rings: list[list[tuple[float, float]]] = []
    for ring in rings_in:
        pts: list[tuple[float, float]] = []
        for (lon1, lat1), (lon2, lat2) in itertools.pairwise(ring):
            e1 = lon1 % 360.0  # eastern longitudes: the antimeridian is 180
            e2 = e1 + ((lon2 - lon1 + 180.0) % 360.0 - 180.0)
            pts.append((e1, lat1))
            if (e1 - 180.0) * (e2 - 180.0) < 0.0:
                pts.append((180.0, _crossing_latitude(lon1, lat1, lon2, lat2)))
        pts.append(pts[0])
        rings.append(pts)
    shape = shapely.Polygon(rings[0], rings[1:])
    parts: list[list[list[list[float]]]] = []
    for side, shift in ((shapely.box(90.0, -90.0, 180.0, 90.0), 0.0), (shapely.box(180.0, -90.0, 270.0, 90.0), -360.0)):
        piece = shapely.intersection(shape, side)
        for p in getattr(piece, "geoms", [piece]):
            if p.geom_type != "Polygon" or p.is_empty or p.area == 0.0:
                continue
            p = shapely.geometry.polygon.orient(p)
            parts.append([[[x + shift, y] for x, y in r.coords] for r in (p.exterior, *p.interiors)])
    return {"type": "MultiPolygon", "coordinates": parts}


# Hypothesis strategies for footprints, shared by the property tests.


@st.composite
def polygon_spec(draw: st.DrawFn, max_radius: float = 25_000.0) -> tuple[list[float], list[float]]:
    """Azimuths and radii of a convex (all radii equal) or star-shaped polygon, gaps under 120 degrees
    so that a hole of 0.4 times the smallest radius stays inside."""
    n = draw(st.integers(3, 24))
    gaps = np.array(draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n)))
    gaps = gaps / gaps.sum() * 360.0
    if gaps.max() >= 120.0:
        gaps = np.full(n, 360.0 / n) if n >= 4 else np.full(n, 119.0)
        if n == 3:
            gaps[-1] = 360.0 - 2 * 119.0
    az0 = draw(st.floats(0.0, 360.0))
    azimuths = list(az0 + np.concatenate(([0.0], np.cumsum(gaps)[:-1])))
    r_max = draw(st.floats(min(600.0, max_radius / 2.0), max_radius))
    if draw(st.booleans()):
        radii = [r_max] * n  # convex
    else:
        radii = [r_max * f for f in draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n))]
    return azimuths, radii


def star(lon: float, lat: float, spec: tuple[list[float], list[float]], hole: bool = False) -> dict[str, Any]:
    azimuths, radii = spec
    rings = [ring_around(lon, lat, azimuths, radii)]
    if hole:
        r_h = 0.4 * min(radii)
        rings.append(ring_around(lon, lat, [15.0 + 60.0 * k for k in range(6)], [r_h] * 6))
    return polygon_json(*rings)


@dataclass(frozen=True)
class Spec:
    """A footprint described relative to an anchor point, so the same shape can be placed anywhere."""

    kind: str
    azimuths: tuple[float, ...] = ()
    radii: tuple[float, ...] = ()
    size_m: float = 0.0
    width_m: float = 0.0
    second: Spec | None = None
    second_az: float = 0.0
    second_gap_m: float = 0.0

    @property
    def reach_m(self) -> float:
        """Distance from the anchor beyond which no point of the footprint lies (roughly)."""
        if self.kind == "circle":
            return self.size_m
        if self.kind == "corridor":
            return self.size_m + self.width_m
        own = max(self.radii)
        if self.second is not None:
            return own + self.second_gap_m + 2.0 * self.second.reach_m
        return own

    def at(self, lon: float, lat: float) -> dict[str, Any]:
        if self.kind == "circle":
            return circle_json(lon, lat, self.size_m)
        if self.kind == "corridor":
            n = len(self.azimuths)
            path = [destination(lon, lat, self.azimuths[k], self.radii[k]) for k in range(n)]
            return corridor_json(path, self.width_m)
        rings = [ring_around(lon, lat, self.azimuths, self.radii)]
        if self.kind == "holed":
            r_h = 0.4 * min(self.radii)
            rings.append(ring_around(lon, lat, [15.0 + 60.0 * k for k in range(6)], [r_h] * 6))
        if self.second is None:
            return polygon_json(*rings)
        lon2, lat2 = destination(lon, lat, self.second_az, max(self.radii) + self.second.reach_m + self.second_gap_m)
        other = self.second.at(lon2, lat2)["coordinates"]
        return {"type": "MultiPolygon", "coordinates": [rings, other]}


@st.composite
def specs(draw: st.DrawFn, max_radius: float = 25_000.0) -> Spec:
    """Any kind of footprint: convex and star polygons (with a hole, or a second part: MultiPolygon),
    circles and corridors; sizes from a few hundred metres to ``2 * max_radius``."""
    kind = draw(st.sampled_from(["polygon", "polygon", "holed", "multi", "circle", "corridor"]))
    if kind == "circle":
        return Spec("circle", size_m=draw(st.floats(10.0, max_radius)))
    if kind == "corridor":
        n = draw(st.integers(2, 6))
        az = draw(st.floats(0.0, 360.0))
        half = draw(st.floats(500.0, max_radius))
        azimuths = tuple(az + (0.0 if k < n / 2 else 180.0) + draw(st.floats(-40.0, 40.0)) for k in range(n))
        radii = tuple(abs(half * (2.0 * k / (n - 1) - 1.0)) for k in range(n))
        return Spec("corridor", azimuths, radii, size_m=half, width_m=draw(st.floats(10.0, 5_000.0)))
    azimuths, radii = draw(polygon_spec(max_radius))
    if kind == "multi":
        second_az, second_radii = draw(polygon_spec(max_radius / 2))
        return Spec(
            "polygon",
            tuple(azimuths),
            tuple(radii),
            second=Spec("polygon", tuple(second_az), tuple(second_radii)),
            second_az=draw(st.floats(0.0, 360.0)),
            second_gap_m=draw(st.floats(100.0, 10_000.0)),
        )
    return Spec(kind, tuple(azimuths), tuple(radii))


# ------------------------------------------------------------------------------- measured error report


def examples(n: int) -> int:
    """``n`` examples under the default Hypothesis profile (60), scaled up with a deeper one
    (HYPOTHESIS_PROFILE=deep: 2000, so 33 times ``n``). Per-test ``max_examples`` keeps the default run
    fast where one example is expensive without pinning the deep run to the same count."""
    return max(1, round(n * settings().max_examples / 60))


OBSERVED: dict[str, float] = {}
"""Largest |production - oracle| seen per label, printed at exit when ORACLE_REPORT=1."""


def record(label: str, error_m: float) -> None:
    OBSERVED[label] = max(OBSERVED.get(label, 0.0), error_m)


def _report() -> None:
    if os.environ.get("ORACLE_REPORT") == "1" and OBSERVED:
        print("\nlargest |measure - oracle| (m):")
        for k, v in sorted(OBSERVED.items()):
            print(f"  {k:40s} {v:.4f}")


atexit.register(_report)
