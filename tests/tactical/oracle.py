"""A brute-force closest-point-of-approach oracle that shares nothing with the detector.

Each track flies the geodesic from its reported position along its reported track at its ground speed
(GeographicLib's direct problem, ``pyproj.Geod.fwd``, from the report itself at every time); the horizontal
distance is GeographicLib's inverse problem (``Geod.inv``) between the two positions. The pair loses
separation when, at some time in [0, T] after ``t0`` at which the altitudes differ by less than V, the
distance is below S. Altitudes are compared by the exactness rule, restated here: a difference less
than half a millimetre below V is separated, and a constant difference is taken in exact decimal
arithmetic on the altitudes as reported. The oracle samples every time step of that window, then
refines the smallest sample by golden section on the exact functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from pyproj import Geod

GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class OTrack:
    lat: float
    lon: float
    alt: float
    gs: float
    trk: float
    vs: float
    t: float
    """Report time (s)."""
    party: int = 0


def _pos(tr: list[OTrack], idx: np.ndarray, times: np.ndarray, t0: float) -> tuple[np.ndarray, np.ndarray]:
    lat = np.array([tr[k].lat for k in idx])
    lon = np.array([tr[k].lon for k in idx])
    trk = np.array([tr[k].trk for k in idx])
    dist = np.array([tr[k].gs for k in idx]) * (t0 - np.array([tr[k].t for k in idx]) + times)
    # Geod.fwd needs non-negative distances for the azimuth to mean "ahead": go backwards by turning round
    back = dist < 0
    az = np.where(back, trk + 180.0, trk)
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, np.abs(dist))
    return np.asarray(lon2), np.asarray(lat2)


def _alt(tr: list[OTrack], idx: np.ndarray, times: np.ndarray, t0: float) -> np.ndarray:
    alt = np.array([tr[k].alt for k in idx])
    vs = np.array([tr[k].vs for k in idx])
    age = t0 - np.array([tr[k].t for k in idx])
    return alt + vs * (age + times)


def _dist(tr: list[OTrack], i: np.ndarray, j: np.ndarray, t: np.ndarray, t0: float) -> np.ndarray:
    lon_i, lat_i = _pos(tr, i, t, t0)
    lon_j, lat_j = _pos(tr, j, t, t0)
    _, _, d = GEOD.inv(lon_i, lat_i, lon_j, lat_j)
    return np.asarray(d)


EXACTNESS_M = 0.0005
"""The exactness rule, stated here on its own: altitudes less than half a millimetre closer than the
vertical minimum are separated (docs/tactical.md)."""


def declared(x: float) -> Decimal:
    """The decimal number a source wrote: the shortest text that reads back as the float (``repr``)."""
    return Decimal(repr(float(x)))


def vertical_window(a: OTrack, b: OTrack, t0: float, v: float, horizon: float) -> tuple[float, float] | None:
    """The times in [0, horizon] with |altitude difference| < v - 0.5 mm, by bisection on a fine scan (no
    formula shared with the detector); None when there are none. Two tracks whose altitude difference
    stays constant (no vertical rate, or the same one reported at the same time) are compared in exact
    decimal arithmetic on their altitudes as reported: always, or never."""
    if a.vs == b.vs and (a.vs == 0.0 or a.t == b.t):
        close = abs(declared(b.alt) - declared(a.alt)) < declared(v) - Decimal(repr(EXACTNESS_M))
        return (0.0, horizon) if close else None
    v = v - EXACTNESS_M
    t = np.linspace(0.0, horizon, 4001)
    dz = (b.alt + b.vs * (t0 - b.t + t)) - (a.alt + a.vs * (t0 - a.t + t))
    inside = np.abs(dz) < v
    if not inside.any():
        return None
    k = np.flatnonzero(inside)
    lo_k, hi_k = k[0], k[-1]

    def edge(t_in: float, t_out: float) -> float:
        for _ in range(80):
            mid = 0.5 * (t_in + t_out)
            dzm = (b.alt + b.vs * (t0 - b.t + mid)) - (a.alt + a.vs * (t0 - a.t + mid))
            if abs(dzm) < v:
                t_in = mid
            else:
                t_out = mid
        return t_in

    lo = 0.0 if lo_k == 0 else edge(float(t[lo_k]), float(t[lo_k - 1]))
    hi = horizon if hi_k == t.size - 1 else edge(float(t[hi_k]), float(t[hi_k + 1]))
    return lo, hi


def min_separation(
    tracks: list[OTrack], pairs: list[tuple[int, int]], t0: float, v: float, horizon: float, step_s: float = 1.0
) -> dict[tuple[int, int], float]:
    """For each pair, the smallest horizontal distance while vertically within v (inf when never)."""
    out: dict[tuple[int, int], float] = {}
    rows_i, rows_j, rows_t, owner = [], [], [], []
    windows: dict[tuple[int, int], tuple[float, float]] = {}
    for n, (i, j) in enumerate(pairs):
        w = vertical_window(tracks[i], tracks[j], t0, v, horizon)
        if w is None:
            out[(i, j)] = math.inf
            continue
        windows[(i, j)] = w
        ts = np.append(np.arange(w[0], w[1], step_s), w[1])
        rows_i.append(np.full(ts.size, i))
        rows_j.append(np.full(ts.size, j))
        rows_t.append(ts)
        owner.append(np.full(ts.size, n))
    if not rows_i:
        return out
    ii, jj, tt, own = (np.concatenate(x) for x in (rows_i, rows_j, rows_t, owner))
    d = _dist(tracks, ii, jj, tt, t0)
    live = [p for p in pairs if p in windows]
    best_t = np.zeros(len(live))
    for k, p in enumerate(live):
        sel = own == pairs.index(p)
        best_t[k] = tt[sel][np.argmin(d[sel])]
    lo = np.array([max(windows[p][0], best_t[k] - step_s) for k, p in enumerate(live)])
    hi = np.array([min(windows[p][1], best_t[k] + step_s) for k, p in enumerate(live)])
    pi = np.array([p[0] for p in live])
    pj = np.array([p[1] for p in live])
    r = (math.sqrt(5.0) - 1.0) / 2.0
    c, e = hi - r * (hi - lo), lo + r * (hi - lo)
    fc, fe = _dist(tracks, pi, pj, c, t0), _dist(tracks, pi, pj, e, t0)
    for _ in range(60):
        left = fc < fe
        hi = np.where(left, e, hi)
        lo = np.where(left, lo, c)
        c, e = hi - r * (hi - lo), lo + r * (hi - lo)
        fc, fe = _dist(tracks, pi, pj, c, t0), _dist(tracks, pi, pj, e, t0)
    ends = np.stack([np.array([windows[p][0] for p in live]), np.array([windows[p][1] for p in live])])
    f_lo = _dist(tracks, pi, pj, ends[0], t0)
    f_hi = _dist(tracks, pi, pj, ends[1], t0)
    samples_min = np.array([d[own == pairs.index(p)].min() for p in live])
    best = np.minimum.reduce([fc, fe, f_lo, f_hi, samples_min])
    for k, p in enumerate(live):
        out[p] = float(best[k])
    return out
