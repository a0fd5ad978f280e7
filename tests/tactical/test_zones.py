"""Zone and site entry prediction against a sampling oracle that shares none of its geometry: PROJ's
azimuthal equidistant projection centred on the zone, edges densified every 50 m with GeographicLib,
the path sampled every 0.2 s with ``Geod.fwd``, and the entry refined by bisection."""

from __future__ import annotations

import itertools
import math

import numpy as np
import shapely
from hypothesis import assume, given
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from deconfliction.domain.tactical.zones import Site, TrackState, Zone, predict_entries

GEOD = Geod(ellps="WGS84")
T0 = 5_000.0


def _dense_ring(ring: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(ring):
        _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
        n = max(1, int(d // 50.0))
        pts = GEOD.npts(lon1, lat1, lon2, lat2, n - 1) if n > 1 else []
        out.append((lon1, lat1))
        out.extend(pts)
    out.append(ring[-1])
    return out


class ZoneOracle:
    def __init__(self, zone: Zone) -> None:
        lon0, lat0 = zone.rings[0][0]
        self.tf = Transformer.from_crs(
            "EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m", always_xy=True
        )
        rings = []
        for ring in zone.rings:
            pts = _dense_ring(ring)
            x, y = self.tf.transform([p[0] for p in pts], [p[1] for p in pts])
            rings.append(list(zip(x, y, strict=True)))
        self.poly = shapely.Polygon(rings[0], rings[1:])

    def inside(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        x, y = self.tf.transform(lon, lat)
        return shapely.contains_xy(self.poly, np.asarray(x), np.asarray(y))

    def boundary_distance(self, lon: np.ndarray, lat: np.ndarray) -> float:
        x, y = self.tf.transform(lon, lat)
        return float(shapely.distance(self.poly.boundary, shapely.points(np.asarray(x), np.asarray(y))).min())


def path(tr: TrackState, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = tr.ground_speed_mps * (T0 - tr.t + t)
    lon, lat, _ = GEOD.fwd(np.full(t.size, tr.lon), np.full(t.size, tr.lat), np.full(t.size, tr.track_deg), d)
    return np.asarray(lon), np.asarray(lat)


def oracle_zone_entry(tr: TrackState, zone: Zone, horizon: float) -> tuple[float | None, float]:
    """Entry time (None: none) and how close the path comes to the boundary (to skip grazing cases)."""
    o = ZoneOracle(zone)
    ts = np.arange(0.0, horizon + 1e-9, 0.2)
    lon, lat = path(tr, ts)
    ins = o.inside(lon, lat)
    graze = o.boundary_distance(lon, lat)
    if not ins.any():
        return None, graze
    k = int(np.argmax(ins))
    if k == 0:
        return 0.0, graze
    a, b = float(ts[k - 1]), float(ts[k])
    for _ in range(40):
        mid = 0.5 * (a + b)
        lo, la = path(tr, np.array([mid]))
        if o.inside(lo, la)[0]:
            b = mid
        else:
            a = mid
    return b, graze


places = st.one_of(
    st.tuples(st.floats(-80.0, 80.0), st.floats(-180.0, 180.0)),
    st.tuples(st.floats(75.0, 88.0), st.floats(-180.0, 180.0)),
    st.tuples(st.floats(-60.0, 60.0), st.one_of(st.floats(179.5, 180.0), st.floats(-180.0, -179.5))),
)


@st.composite
def zone_case(draw: st.DrawFn) -> tuple[Zone, list[TrackState]]:
    lat0, lon0 = draw(places)
    n = draw(st.integers(3, 10))
    radius = draw(st.floats(3_000.0, 60_000.0))
    ring = []
    for k in range(n):
        lon, lat, _ = GEOD.fwd(lon0, lat0, 360.0 * k / n + draw(st.floats(0, 30)), radius * draw(st.floats(0.3, 1.0)))
        ring.append((float(lon), float(lat)))
    ring.append(ring[0])
    rings: list[tuple[tuple[float, float], ...]] = [tuple(ring)]
    if draw(st.booleans()):
        hole = []
        for k in range(4):
            lon, lat, _ = GEOD.fwd(lon0, lat0, 90.0 * k + 45.0, radius * 0.2)
            hole.append((float(lon), float(lat)))
        hole.append(hole[0])
        rings.append(tuple(hole))
    zone = Zone("z1", "blue", tuple(rings))
    assume(ZoneOracle(zone).poly.is_valid)  # a hole poking out of a thin star is not a valid zone
    tracks = []
    for k in range(draw(st.integers(1, 4))):
        lon, lat, _ = GEOD.fwd(lon0, lat0, draw(st.floats(0, 360)), draw(st.floats(0, 120_000.0)))
        tracks.append(
            TrackState(
                ("red", f"t{k}"),
                float(lat),
                float(lon),
                draw(st.floats(0, 300)),
                draw(st.floats(0, 360)),
                T0 - draw(st.floats(0, 10)),
            )
        )
    return zone, tracks


@given(zone_case())
def test_zone_entries_equal_the_oracle(case: tuple[Zone, list[TrackState]]) -> None:
    zone, tracks = case
    horizon = 300.0
    got = {e.track: e for e in predict_entries(tracks, [zone], [], T0, horizon)}
    for k, tr in enumerate(tracks):
        t_oracle, graze = oracle_zone_entry(tr, zone, horizon)
        if graze < 25.0 or (t_oracle is not None and abs(t_oracle - horizon) < 0.5):
            continue  # the path grazes a corner or enters at the very end: either answer is right
        if t_oracle is None:
            assert k not in got, (k, got.get(k))
        else:
            assert k in got, (k, t_oracle)
            assert abs(got[k].t_s - t_oracle) < 0.05, (got[k].t_s, t_oracle)
            assert got[k].inside_now == (t_oracle == 0.0)


def test_own_zone_and_site_are_not_alerts() -> None:
    lat0, lon0 = 50.0, 10.0
    ring = ((9.9, 49.9), (10.1, 49.9), (10.1, 50.1), (9.9, 50.1), (9.9, 49.9))
    zone = Zone("z", "blue", (ring,))
    site = Site("s", "blue", lon0, lat0, 500.0)
    own = TrackState(("blue", "a"), lat0, lon0, 100.0, 0.0, T0)
    other = TrackState(("red", "b"), lat0, lon0, 100.0, 0.0, T0)
    entries = predict_entries([own, other], [zone], [site], T0, 60.0)
    assert {(e.track, e.kind) for e in entries} == {(1, "zone"), (1, "site")}
    assert all(e.inside_now and e.t_s == 0.0 for e in entries)


@given(
    st.floats(-85.0, 85.0),
    st.floats(-180.0, 180.0),
    st.floats(0, 360),
    st.floats(100.0, 20_000.0),
    st.floats(0.0, 30_000.0),
    st.floats(50.0, 300.0),
)
def test_site_entry_time_is_where_the_distance_reaches_the_radius(
    lat0: float, lon0: float, side: float, radius: float, miss: float, v: float
) -> None:
    """A track heading past a site at a chosen miss distance: it enters iff the miss distance is below the
    radius, and at the entry time its geodesic distance to the site is the radius (within 1 m)."""
    # the track passes (lat0, lon0) at t = 150 s heading `side`; the site lies `miss` metres abeam
    s_lon, s_lat, _ = GEOD.fwd(lon0, lat0, side + 90.0, miss)
    start_lon, start_lat, back = GEOD.fwd(lon0, lat0, side + 180.0, v * 150.0)
    tr = TrackState(("red", "x"), float(start_lat), float(start_lon), v, float(back % 360.0), T0)
    site = Site("s", "blue", float(s_lon), float(s_lat), radius)
    entries = predict_entries([tr], [], [site], T0, 300.0)
    if abs(miss - radius) < 5.0:
        return
    assert bool(entries) == (miss < radius)
    if entries:
        e = entries[0]
        _, _, d = GEOD.inv(e.lon, e.lat, site.lon, site.lat)
        assert e.inside_now or abs(d - radius) < 1.0
        assert math.isfinite(e.t_s) and 0.0 <= e.t_s <= 300.0
