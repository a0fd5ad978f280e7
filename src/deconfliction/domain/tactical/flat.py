"""The ``flat`` earth model: BlueSky's CStateBased conflict test inside the detection pass.

The default earth model of the detection pass (``tactical.detect.detect``, "wgs84") is exact: geodesics on
the WGS84 ellipsoid. This module is the other one, for compatibility with tools built on BlueSky (the
open-source air traffic simulator of TU Delft): it finds the pairs that BlueSky's C++ state-based detector
(``bluesky/traffic/asas/src_cpp/cstatebased.cpp``, version 1.1.1) finds on the same aircraft states, with
BlueSky's formulas:

* **relative position** of aircraft j seen from i: ``kwikdist`` / ``kwikqdr`` (``geo.hpp``), an
  equirectangular approximation on a sphere of radius ``BLUESKY_RE`` = 6,371 km,
  ``d = R sqrt(dlat^2 + dlon^2 cos^2(mean lat))``, ``(dx, dy) = d (sin q, cos q)`` with
  ``q = atan2(dlon cos(mean lat), dlat)``; longitudes are not wrapped (two aircraft either side of the
  antimeridian are a whole turn apart, as in BlueSky);
* **relative velocity** from each aircraft's ground speed and track in its own local east/north,
  constant (straight lines in that plane);
* **horizontal window** (``detect_hor``): no conflict when diverging and separated; otherwise the times
  ``tcpa -+ dt`` at which the straight-line distance crosses ``S``;
* **vertical window** (``detect_ver``): the times the altitude difference crosses ``-+V``; a vertical-rate
  difference of at most 1e-6 m/s counts as level (then lost vertically now or never, until 1e4 s);
* **a conflict** when the two windows intersect in an interval that starts at or before the look-ahead
  and ends after now.

One departure from BlueSky, on purpose: ``V`` is compared by the service's exactness rule (``minima``,
applied by ``tactical.detect.judge_pairs``), so two aircraft exactly ``V`` apart (adjacent flight levels)
are separated; BlueSky's float comparison decides them by rounding.

Every quantity is computed with BlueSky's operations in BlueSky's order, except ``(dx, dy)``, taken in
the algebraically identical form ``R (dlon cos(mean lat), dlat)`` (no arctangent, sine or cosine per
pair; NumPy's arctangent is not the C library's anyway: it differs from it in the last bit on 7 % of
inputs). The two differ by a few units in the last place, so a pair is decided differently only where
BlueSky's own decision is a matter of rounding: within about 1e-9 m or 1e-9 s of a threshold, or two
aircraft at almost (not exactly) the same velocity, below about 1 mm/s apart, where BlueSky divides by
the square of their relative speed. This form is exactly antisymmetric, so testing (i, j) once stands
for BlueSky's two orders (which, at such a tie, can disagree with each other). NaN follows C++: two
aircraft with bitwise the same velocity make ``tcpa = 0 / 0``, and BlueSky reports no conflict for them
(even when already too close); nor does this module.

**Candidates.** The pass keeps the detector's stage 1 (``tactical.detect.candidate_pairs``: slab boxes,
a proof that no pair is lost), run on great circles of BlueSky's own sphere (``sphere_motion``) and
widened per slab by ``flat_widening_m``: a bound, proved in docs/tactical.md, of how much farther apart
on the sphere two aircraft can be than BlueSky's flat distance says at the same time. So every pair
BlueSky finds is a candidate, and then BlueSky's test decides. The bound grows with the traffic's
latitude (the flat model's meridians are parallel); near the poles it falls back to ``4 v t`` (the pass
is then slower, never wrong).

The flat model is BlueSky's, not the Earth's: against WGS84 geodesics its distances are off by up to
0.56 % of the initial separation at the equator and much more near the poles (docs/tactical.md). Use it
to agree with BlueSky-based tools; the default stays the exact model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from deconfliction.domain.lazy import once
from deconfliction.domain.tactical.detect import (
    BoolArray,
    IntArray,
    Losses,
    PassStats,
    RuleTable,
    candidate_pairs,
    judge_pairs,
)
from deconfliction.domain.tactical.motion import FloatArray, Motion

EarthModel = Literal["wgs84", "flat"]
"""The detection pass's earth models: ``"wgs84"`` (``tactical.detect.detect``, exact, the default) and
``"flat"`` (``detect_flat``, BlueSky's)."""
EARTH_MODELS: tuple[EarthModel, ...] = ("wgs84", "flat")

BLUESKY_RE = 6_371_000.0
"""BlueSky's Earth radius (``geo.hpp`` ``re``, ``aero.py`` ``Rearth``), metres."""
DEG2RAD = 0.017453292519943295
"""``cstatebased.cpp`` ``DEG2RAD``: degrees are converted exactly as BlueSky converts them."""
LEVEL_VS = 1e-6
"""A vertical-rate difference of at most this (m/s) is level for BlueSky's ``detect_ver``."""
LEVEL_TOUT = 1e4
"""``detect_ver``'s end of the vertical window of a level pair (s)."""
BOUND_MARGIN_M = 1.0
"""Added to the widening: covers rounding in BlueSky's window times (nanometres) many times over."""
CHUNK = 16_384
"""Candidate pairs are tested this many at a time (temporaries stay in the processor's cache)."""


@dataclass(frozen=True)
class FlatTracks:
    """Every aircraft's state at the pass time, as BlueSky holds it: latitude and longitude (degrees),
    altitude (m), ground speed (m/s), track (degrees from north), vertical rate (m/s)."""

    lat: FloatArray
    lon: FloatArray
    alt: FloatArray
    gs: FloatArray
    trk: FloatArray
    vs: FloatArray

    @property
    def size(self) -> int:
        return int(self.lat.shape[0])

    @once
    def track_sin_cos(self) -> tuple[FloatArray, FloatArray]:
        """sin and cos of every track (as BlueSky computes them: ``sin(trk * DEG2RAD)``), computed once."""
        a = self.trk * DEG2RAD
        return np.sin(a), np.cos(a)

    @classmethod
    def from_reports(
        cls,
        t0: float,
        lat: FloatArray,
        lon: FloatArray,
        alt: FloatArray,
        gs: FloatArray,
        trk: FloatArray,
        vs: FloatArray,
        t_report: FloatArray,
    ) -> FlatTracks:
        """Each report moved from its time to ``t0`` as BlueSky moves its traffic (``Traffic.update_pos``,
        one step of the report's age): north by ``gs cos(trk) age / R`` radians, then east by
        ``gs sin(trk) age / (R cos lat)`` at the new latitude, the altitude by ``vs age``; no wrapping, as
        in BlueSky. A report of age 0 is taken bit for bit."""
        f = np.float64
        lat, lon, alt, gs, trk, vs = (np.asarray(x, dtype=f) for x in (lat, lon, alt, gs, trk, vs))
        age = t0 - np.asarray(t_report, dtype=f)
        if not age.any():
            return cls(lat=lat, lon=lon, alt=alt, gs=gs, trk=trk, vs=vs)
        a = trk * DEG2RAD
        lat1 = lat + np.degrees(age * (gs * np.cos(a)) / BLUESKY_RE)
        coslat = np.cos(lat1 * DEG2RAD)
        lon1 = lon + np.degrees(age * (gs * np.sin(a)) / coslat / BLUESKY_RE)
        return cls(lat=lat1, lon=lon1, alt=alt + vs * age, gs=gs, trk=trk, vs=vs)

    def position_at(self, dt: FloatArray, rows: IntArray) -> tuple[FloatArray, FloatArray]:
        """Latitude and longitude (degrees) of ``rows`` ``dt`` seconds after the pass time, moved as
        ``from_reports`` moves them (for displaying where a conflict happens)."""
        a = self.trk[rows] * DEG2RAD
        lat = self.lat[rows] + np.degrees(dt * (self.gs[rows] * np.cos(a)) / BLUESKY_RE)
        lon = self.lon[rows] + np.degrees(dt * (self.gs[rows] * np.sin(a)) / np.cos(lat * DEG2RAD) / BLUESKY_RE)
        return lat, lon

    def midpoint_at(self, dt: FloatArray, i: IntArray, j: IntArray) -> tuple[FloatArray, FloatArray]:
        """Latitude and longitude (degrees, longitude in [-180, 180)) halfway between aircraft i and j
        ``dt`` seconds after the pass time, in BlueSky's chart (where a conflict is placed on a map)."""
        lat_i, lon_i = self.position_at(dt, i)
        lat_j, lon_j = self.position_at(dt, j)
        lon = np.mod(0.5 * (lon_i + lon_j) + 180.0, 360.0) - 180.0
        return 0.5 * (lat_i + lat_j), lon


def sphere_motion(tracks: FlatTracks) -> Motion:
    """The tracks as great circles on BlueSky's sphere (radius ``BLUESKY_RE``), in the form the
    detector's candidate stage reads: its bounds (curvature at most ``KAPPA_MAX``, the frame stretch from
    the polar radius, the circle error) all hold on this sphere, whose circles are exact."""
    phi, lam = tracks.lat * DEG2RAD, tracks.lon * DEG2RAD
    sp, cp, sl, cl = np.sin(phi), np.cos(phi), np.sin(lam), np.cos(lam)
    normal = np.stack((cp * cl, cp * sl, sp))
    east = np.stack((-sl, cl, np.zeros_like(sl)))
    north = np.stack((-sp * cl, -sp * sl, cp))
    sin_a, cos_a = tracks.track_sin_cos
    tangent = sin_a * east + cos_a * north
    n = tracks.size
    return Motion(
        t0=0.0,
        p=np.ascontiguousarray(BLUESKY_RE * normal),
        tangent=np.ascontiguousarray(tangent),
        normal=np.ascontiguousarray(normal),
        velocity=np.ascontiguousarray(tracks.gs * tangent),
        kappa=np.full(n, 1.0 / BLUESKY_RE),
        speed=tracks.gs,
        alt=tracks.alt,
        vrate=tracks.vs,
        age=np.zeros(n),
    )


def flat_widening_m(t_s: FloatArray, horizontal_m: float, speed_max: float, lat_max_rad: float) -> FloatArray:
    """How much farther apart on BlueSky's sphere (great circles, great-circle distance) two aircraft can
    be at time ``t_s`` than BlueSky's flat distance says, for a pair whose flat distance is at most
    ``horizontal_m`` then; ``lat_max_rad`` bounds every latitude the aircraft pass through up to ``t_s``,
    ``speed_max`` their speeds. Proof in docs/tactical.md ("The flat earth model"); in short, with
    ``D = (S/2 + 2 v t) / R`` (how far the pair's latitudes can be from its mean latitude by then) and
    ``e = v t tan(lat) D`` (how far each aircraft drifts from BlueSky's straight line in the chart in which
    BlueSky's initial relative position is exact: the turn of its track against the meridians and the
    chart's east-west scale) it is ``2 e + (S + 2 e) D tan(lat)``, capped by
    ``2 R asin((S + 2 v t) / 2R) + 2 v t - S`` (the initial great-circle distance is at most the flat
    one's arc, and each aircraft flies ``v t``)."""
    t = np.maximum(np.asarray(t_s, dtype=np.float64), 0.0)
    vt = speed_max * t
    s, r = horizontal_m, BLUESKY_RE
    trivial = 2.0 * r * np.arcsin(np.minimum(1.0, (s + 2.0 * vt) / (2.0 * r))) + 2.0 * vt - s
    if lat_max_rad < math.pi / 2.0:
        tan_lat = math.tan(lat_max_rad)
        d = (s / 2.0 + 2.0 * vt) / r
        e = vt * tan_lat * d
        bound: FloatArray = np.minimum(2.0 * e + (s + 2.0 * e) * d * tan_lat, trivial)
    else:
        bound = trivial
    out: FloatArray = bound + BOUND_MARGIN_M
    return out


def lat_bound_rad(tracks: FlatTracks, rows: IntArray | None, horizon_s: float) -> float:
    """A bound of every latitude the (``rows`` of the) tracks pass through within ``horizon_s`` on their
    great circles (latitude changes at most ``v / R`` radians a second)."""
    lat = tracks.lat if rows is None else tracks.lat[rows]
    gs = tracks.gs if rows is None else tracks.gs[rows]
    if not lat.size:
        return 0.0
    return min(math.pi / 2.0, float(np.abs(lat).max()) * DEG2RAD + float(gs.max()) * horizon_s / BLUESKY_RE)


@dataclass(frozen=True)
class FlatVerdict:
    """BlueSky's test on pairs (i, j): the rows of the input pairs in conflict, and for them the window's
    start ``tin``, the flat closest time inside the window and the flat distances then, and whether the
    pair is lost already (BlueSky's ``lospairs``)."""

    rows: IntArray
    t_in: FloatArray
    t_cpa: FloatArray
    dist: FloatArray
    vertical: FloatArray
    now: BoolArray
    level_cleared: int
    """Pairs that BlueSky's vertical test cleared before the horizontal one."""


_LAT, _LON, _U, _V, _ALT, _VS = range(6)


def _per_track(tracks: FlatTracks) -> FloatArray:
    """What BlueSky computes per aircraft (the same values bit for bit), once per pass, as the rows of one
    (6, n) array so that a pair's values are gathered in two calls: latitude and longitude (radians), the
    velocity's east and north components (m/s), altitude (m), vertical rate (m/s)."""
    sin_a, cos_a = tracks.track_sin_cos
    out: FloatArray = np.stack(
        (
            tracks.lat * DEG2RAD,
            tracks.lon * DEG2RAD,
            tracks.gs * sin_a,
            tracks.gs * cos_a,
            tracks.alt,
            tracks.vs,
        )
    )
    return out


def _verdict(k: FloatArray, i: IntArray, j: IntArray, rpz: FloatArray, hpz: FloatArray, tla: FloatArray) -> FlatVerdict:
    """cstatebased.cpp for ownship i and intruder j: ``detect_ver``, ``detect_hor`` and their combination,
    on every pair at once (a pair ``detect_ver`` rejects is rejected whatever ``detect_hor`` says, so
    computing both changes nothing). Comparisons are written so that NaN falls as in C++
    (``std::max(a, b)`` is ``a < b ? b : a``; a NaN window start fails ``tin <= tlookahead``)."""
    own = k.take(i, axis=1)
    other = k.take(j, axis=1)
    diff = own - other  # ownship minus intruder: BlueSky's du, dv, dalt, dvs; the negated dlat, dlon
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # detect_ver; a level pair divides by infinity instead (0 and 0, no NaN), then takes its window
        # [0, LEVEL_TOUT) and is kept only when lost vertically now
        dalt = diff[_ALT]
        dvs = diff[_VS]
        los_v = np.abs(dalt) < hpz
        level = np.abs(dvs) <= LEVEL_VS
        neg = np.where(level, np.inf, -dvs)
        hi = (dalt + hpz) / neg
        lo = (dalt - hpz) / neg
        tin_v = np.maximum(0.0, np.minimum(lo, hi))
        tout_v = np.maximum(lo, hi)
        tout_v += level * LEVEL_TOUT
        ver = (tin_v <= tla) & (tout_v > 0.0) & (los_v | ~level)
        # detect_hor: kwik_in and kwikdist as geo.hpp evaluates them (lat2 - lat1 is -(lat1 - lat2)
        # exactly); (dx, dy) = d (sin q, cos q) with q = atan2(dlon cavelat, dlat) is R (dlon cavelat, dlat),
        # evaluated so (a few units in the last place from BlueSky's value, exactly antisymmetric in i, j)
        dlat = -diff[_LAT]
        dlon = -diff[_LON]
        cavelat = np.cos(0.5 * (own[_LAT] + other[_LAT]))
        d = BLUESKY_RE * np.sqrt(dlat * dlat + dlon * dlon * cavelat * cavelat)
        dx = BLUESKY_RE * (dlon * cavelat)
        dy = BLUESKY_RE * dlat
        du = diff[_U]
        dv = diff[_V]
        vreldotdx = du * dx + dv * dy
        los_h = d < rpz
        vrel2 = du * du + dv * dv
        tcpa = vreldotdx / vrel2
        cpa2 = d * d - vreldotdx * tcpa
        dt = np.sqrt(np.maximum(rpz * rpz - cpa2, 0.0) / vrel2)
        tin_h = tcpa - dt
        tout_h = tcpa + dt
        hor = ((vreldotdx >= 0.0) | los_h) & (los_h | (tin_h <= tla))
        # the combination: np.maximum / np.minimum propagate a NaN window as std::max / std::min do here
        tin = np.maximum(tin_h, tin_v)
        tout = np.minimum(tout_h, tout_v)
        conflict = ver & hor & (tin <= tla) & (tin < tout) & (tout > 0.0)
        rows = np.flatnonzero(conflict)
        tin, tout, tla, tcpa = tin.take(rows), tout.take(rows), tla.take(rows), tcpa.take(rows)
        t_cpa = np.minimum(np.maximum(tcpa, tin), np.minimum(tout, tla))
        ex = dx.take(rows) - du.take(rows) * t_cpa
        ey = dy.take(rows) - dv.take(rows) * t_cpa
    return FlatVerdict(
        rows=rows,
        t_in=tin,
        t_cpa=t_cpa,
        dist=np.sqrt(ex * ex + ey * ey),
        vertical=np.abs(dalt.take(rows) + dvs.take(rows) * t_cpa),
        now=los_h[rows] & los_v[rows],
        level_cleared=int(i.size - np.count_nonzero(ver)),
    )


def _verdict_chunked(
    k: FloatArray, i: IntArray, j: IntArray, rpz: FloatArray, hpz: FloatArray, tla: FloatArray
) -> FlatVerdict:
    """BlueSky's test on the pairs (i, j) with their minima ``rpz`` (m), ``hpz`` (m) and look-ahead
    ``tla`` (s), ``CHUNK`` pairs at a time."""
    if i.size <= CHUNK:
        return _verdict(k, i, j, rpz, hpz, tla)
    parts = []
    for a in range(0, i.size, CHUNK):
        sl = slice(a, a + CHUNK)
        part = _verdict(k, i[sl], j[sl], rpz[sl], hpz[sl], tla[sl])
        parts.append((part, a))
    return FlatVerdict(
        rows=np.concatenate([p.rows + a for p, a in parts]),
        t_in=np.concatenate([p.t_in for p, _ in parts]),
        t_cpa=np.concatenate([p.t_cpa for p, _ in parts]),
        dist=np.concatenate([p.dist for p, _ in parts]),
        vertical=np.concatenate([p.vertical for p, _ in parts]),
        now=np.concatenate([p.now for p, _ in parts]),
        level_cleared=sum(p.level_cleared for p, _ in parts),
    )


def flat_candidates(
    tracks: FlatTracks,
    horizon_s: float,
    horizontal_m: float,
    vertical_m: float,
    active: BoolArray | None = None,
) -> tuple[IntArray, IntArray, int, int]:
    """Every pair (i < j) that BlueSky's test can find with minima up to ``horizontal_m``, ``vertical_m``
    and look-ahead up to ``horizon_s`` (a superset): the detector's stage 1 on BlueSky's sphere, widened
    per slab by ``flat_widening_m``, with the vertical minimum grown by what a pair BlueSky counts as level
    (up to ``LEVEL_VS``) drifts within the look-ahead."""
    rows = None if active is None else np.flatnonzero(active).astype(np.int64)
    if (tracks.size if rows is None else rows.size) < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, 0, 0
    gs = tracks.gs if rows is None else tracks.gs[rows]
    speed_max = float(gs.max())
    lat_max = lat_bound_rad(tracks, rows, horizon_s)

    def widen(t_end: FloatArray) -> FloatArray:
        return flat_widening_m(t_end, horizontal_m, speed_max, lat_max)

    return candidate_pairs(
        sphere_motion(tracks),
        horizon_s,
        horizontal_m,
        vertical_m + LEVEL_VS * horizon_s + 1e-3,
        active,
        widen_m=widen,
    )


def detect_flat(
    tracks: FlatTracks,
    party: IntArray,
    rules: RuleTable,
    active: BoolArray | None = None,
    core: RuleTable | None = None,
) -> tuple[Losses, PassStats]:
    """``tactical.detect.detect`` in the flat earth model: the pairs BlueSky's CStateBased detector finds
    on these states, with each pair's minima and look-ahead from the rule of its parties (BlueSky takes
    the larger of the two aircraft's values; with one rule for all the two agree). Pairs the rules do not
    check are skipped.

    Returned like ``detect``: ``t_in_s`` is BlueSky's ``tin``; ``t_cpa_s`` the time in the conflict
    window at which the flat distance is smallest, ``horizontal_m`` and ``vertical_m`` the flat distances
    then; ``now`` BlueSky's loss of separation (``lospairs``). With ``core``, ``Losses.core`` says which
    pairs are also conflicts under the narrower rules (their values are then the core rule's)."""
    s_max, v_max, t_max = rules.max_horizontal_m, rules.max_vertical_m, rules.max_lookahead_s
    if not rules.checked.any():
        active = np.zeros(tracks.size, dtype=bool)
    ci, cj, regions, slabs = flat_candidates(tracks, t_max, s_max, v_max, active)
    per = _per_track(tracks)

    def decide(i: IntArray, j: IntArray, s: FloatArray, vmin: FloatArray, horizon: FloatArray) -> FlatVerdict:
        return _verdict_chunked(per, i, j, s, vmin, horizon)

    losses, found, n_checked = judge_pairs(party, rules, core, ci, cj, decide)
    measured = n_checked - found.level_cleared
    stats = PassStats(
        tracks=tracks.size if active is None else int(active.sum()),
        candidates=int(ci.size),
        screened_clear=found.level_cleared,
        measured=measured,
        refined=0,
        losses=len(losses),
        regions=regions,
        slabs=slabs,
    )
    return losses, stats
