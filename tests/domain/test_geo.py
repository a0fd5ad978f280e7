"""The geodesy primitives of ``domain/geo.py`` against PROJ and GeographicLib (through pyproj).

* ``EllipsoidalFrame`` is PROJ's ellipsoidal ``aeqd`` (within 1e-6 m, out to 1,000 km), and its inverse
  returns the input;
* its distortion bound ``EllipsoidalFrame.excess``: for two points within ``rho`` of the centre the planar
  distance is never below the geodesic one and never above it by more than ``excess(rho)``;
* ``SphericalFrame.relative_error``: |planar / geodesic - 1| stays below it;
* ``densify_geodesic``: inserted points lie on the edge's geodesic, no piece is longer than asked, the
  user's vertices are kept and every point names its edge;
* ``unwrap_longitudes``: continuous, each value moved by whole turns only, and a closed ring that does not
  go round a pole ends exactly where it starts.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from deconfliction.domain.geo import (
    EllipsoidalFrame,
    SphericalFrame,
    densify_geodesic,
    unwrap_longitudes,
)
from deconfliction.domain.limits import Limits
from tests.oracle import densify as oracle_densify
from tests.oracle import examples
from tests.shapes import parse_shape

GEOD = Geod(ellps="WGS84")

lons = st.one_of(st.floats(-180.0, 180.0), st.sampled_from([-180.0, 180.0, 179.999, -179.999]))
lats = st.one_of(st.floats(-88.0, 88.0), st.sampled_from([0.0, 88.0, -88.0]))


@lru_cache(maxsize=256)
def _aeqd(lon0: float, lat0: float) -> Transformer:
    """PROJ's ellipsoidal aeqd as a raw pipeline (a CRS would round the centre to 1e-9 degree)."""
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=aeqd +lat_0={lat0:.15f} +lon_0={lon0:.15f} +ellps=WGS84"
    )


def _around(lon0: float, lat0: float, az: list[float], dist: list[float]) -> tuple[np.ndarray, np.ndarray]:
    n = len(az)
    lo, la, _ = GEOD.fwd(np.full(n, lon0), np.full(n, lat0), np.array(az), np.array(dist))
    return np.asarray(lo), np.asarray(la)


def _geodesic(lo1: np.ndarray, la1: np.ndarray, lo2: np.ndarray, la2: np.ndarray) -> np.ndarray:
    return np.asarray(GEOD.inv(lo1, la1, lo2, la2)[2])


# ----------------------------------------------------------------------------------- EllipsoidalFrame


@settings(max_examples=examples(40))
@given(
    lons,
    lats,
    st.lists(st.floats(0.0, 360.0), min_size=1, max_size=30),
    st.lists(st.floats(0.0, 1_000_000.0), min_size=30, max_size=30),
)
def test_ellipsoidal_frame_is_proj_aeqd(lon0: float, lat0: float, az: list[float], dist: list[float]) -> None:
    frame = EllipsoidalFrame(lon0, lat0)
    lo, la = _around(lon0, lat0, az, dist[: len(az)])
    x, y = frame.forward(lo, la)
    px, py = _aeqd(frame.lon0, lat0).transform(lo, la)
    # PROJ itself returns (0, 0) for points within 1e-10 radian (0.6 mm) of its centre: skip those
    off_centre = np.array(dist[: len(az)]) > 0.01
    assert np.max(np.abs(x - px)[off_centre], initial=0.0) < 1e-6
    assert np.max(np.abs(y - py)[off_centre], initial=0.0) < 1e-6
    back_lon, back_lat = frame.inverse(x, y)
    assert np.max(np.abs((back_lon - lo + 180.0) % 360.0 - 180.0)) < 1e-9
    assert np.max(np.abs(back_lat - la)) < 1e-9


@st.composite
def pairs_within(draw: st.DrawFn) -> tuple[float, float, float, np.ndarray, np.ndarray]:
    """A centre, a radius rho, and pairs of points within rho of it: anywhere, and close together far
    out (where the tangential stretch is largest)."""
    lon0, lat0 = draw(lons), draw(lats)
    rho = draw(st.floats(1_000.0, 1_000_000.0))
    n = draw(st.integers(1, 20))
    az1 = draw(st.lists(st.floats(0.0, 360.0), min_size=n, max_size=n))
    r1 = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    lo1, la1 = _around(lon0, lat0, az1, [rho * f for f in r1])
    if draw(st.booleans()):
        az2 = draw(st.lists(st.floats(0.0, 360.0), min_size=n, max_size=n))
        r2 = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
        lo2, la2 = _around(lon0, lat0, az2, [rho * f for f in r2])
    else:  # a short hop from the first point, then pulled back inside rho if needed
        hop = draw(st.lists(st.floats(1.0, 20_000.0), min_size=n, max_size=n))
        dirs = draw(st.lists(st.floats(0.0, 360.0), min_size=n, max_size=n))
        lo2, la2, _ = GEOD.fwd(lo1, la1, np.array(dirs), np.array(hop))
        far = _geodesic(np.full(n, lon0), np.full(n, lat0), lo2, la2) > rho
        lo2, la2 = np.where(far, lo1, lo2), np.where(far, la1, la2)
    keep = _geodesic(lo1, la1, lo2, la2) > 0.5
    return lon0, lat0, rho, np.vstack((lo1, la1, lo2, la2))[:, keep], keep


@settings(max_examples=examples(40))
@given(pairs_within())
def test_ellipsoidal_excess_bound(case: tuple[float, float, float, np.ndarray, np.ndarray]) -> None:
    lon0, lat0, rho, pts, _ = case
    lo1, la1, lo2, la2 = pts
    if lo1.size == 0:
        return
    frame = EllipsoidalFrame(lon0, lat0)
    x1, y1 = frame.forward(lo1, la1)
    x2, y2 = frame.forward(lo2, la2)
    planar = np.hypot(x2 - x1, y2 - y1)
    d = _geodesic(lo1, la1, lo2, la2)
    assert np.all(planar >= d - 1e-6), "the frame shrinks a distance"
    assert np.all(planar <= d * (1.0 + EllipsoidalFrame.excess(rho)) + 1e-6)


def test_ellipsoidal_excess_bound_is_not_loose() -> None:
    """The bound is close to the worst case (a short tangential step at rho from the centre), so the
    rho_ok derived from it in separation.py wastes little."""
    for lat0 in (0.0, 45.0, 88.0):
        frame = EllipsoidalFrame(30.0, lat0)
        for rho in (100_000.0, 500_000.0):
            worst = 0.0
            for az in np.linspace(0.0, 360.0, 24, endpoint=False):
                lo1, la1 = _around(30.0, lat0, [float(az)], [rho])
                _, back_az, _ = GEOD.inv(30.0, lat0, lo1, la1)
                lo2, la2, _ = GEOD.fwd(lo1, la1, back_az + 90.0, 10.0)  # tangential, stays ~within rho
                x, y = frame.forward(np.concatenate((lo1, lo2)), np.concatenate((la1, la2)))
                d = float(_geodesic(lo1, la1, lo2, la2)[0])
                worst = max(worst, math.hypot(x[1] - x[0], y[1] - y[0]) / d - 1.0)
            assert 0.9 * EllipsoidalFrame.excess(rho) < worst <= EllipsoidalFrame.excess(rho)


# ------------------------------------------------------------------------------------- SphericalFrame


@settings(max_examples=examples(40))
@given(pairs_within())
def test_spherical_relative_error_bound(case: tuple[float, float, float, np.ndarray, np.ndarray]) -> None:
    lon0, lat0, rho, pts, _ = case
    lo1, la1, lo2, la2 = pts
    if lo1.size == 0:
        return
    frame = SphericalFrame(lon0, lat0)
    x1, y1 = frame.forward(lo1, la1)
    x2, y2 = frame.forward(lo2, la2)
    ratio = np.hypot(x2 - x1, y2 - y1) / _geodesic(lo1, la1, lo2, la2)
    assert np.all(np.abs(ratio - 1.0) <= SphericalFrame.relative_error(rho))


@settings(max_examples=examples(20))
@given(lons, lats, st.lists(st.floats(0.0, 360.0), min_size=5, max_size=5), st.floats(0.0, 2_000_000.0))
def test_spherical_inverse_round_trips(lon0: float, lat0: float, az: list[float], dist: float) -> None:
    frame = SphericalFrame(lon0, lat0)
    lo, la = _around(lon0, lat0, az, [dist] * len(az))
    back_lon, back_lat = frame.inverse(*frame.forward(lo, la))
    assert np.max(np.abs((back_lon - lo + 180.0) % 360.0 - 180.0)) < 1e-8
    assert np.max(np.abs(back_lat - la)) < 1e-8


# ----------------------------------------------------------------------------------- densify_geodesic


@st.composite
def polylines(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Paths of 2-12 vertices with edges from 1 m to 2,000 km, anywhere (antimeridian, up to 89 degrees),
    longitudes as people send them (wrapped to [-180, 180])."""
    lon, lat = draw(lons), draw(st.floats(-88.9, 88.9))
    n = draw(st.integers(2, 12))
    pts = [(lon, lat)]
    for _ in range(n - 1):
        step = draw(st.one_of(st.floats(1.0, 12_000.0), st.floats(1.0, 2_000_000.0)))
        lo, la, _ = GEOD.fwd(pts[-1][0], pts[-1][1], draw(st.floats(0.0, 360.0)), step)
        pts.append((float(lo), float(la)))
    lo_, la_ = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    # no edge may pass within 1 degree of a pole (such footprints are refused before densifying)
    assume(float(np.max(np.abs(oracle_densify(lo_, la_, 500.0)[1]))) < 89.0)
    return lo_, la_


@settings(max_examples=examples(60))
@given(polylines(), st.sampled_from([10_000.0, 1_000.0, 50_000.0]))
def test_densify_geodesic(line: tuple[np.ndarray, np.ndarray], max_edge: float) -> None:
    raw_lons, lats = line
    lons = unwrap_longitudes(raw_lons)
    dl, dt, edge_of = densify_geodesic(lons, lats, max_edge)
    n = lons.size
    # every point names its edge, edges in order, the last point ends the last edge
    assert edge_of[-1] == n - 1
    assert np.all(np.diff(edge_of) >= 0)
    assert set(edge_of[:-1].tolist()) == set(range(n - 1))
    # the user's vertices are kept exactly, where each edge starts
    starts = np.searchsorted(edge_of, np.arange(n))
    assert np.array_equal(dl[starts], lons) and np.array_equal(dt[starts], lats)
    # continuous longitudes
    assert np.all(np.abs(np.diff(dl)) < 180.0)
    # no piece longer than asked
    pieces = _geodesic(dl[:-1], dt[:-1], dl[1:], dt[1:])
    assert np.all(pieces <= max_edge * (1.0 + 1e-9) + 1e-6)
    # every inserted point is on its edge's geodesic: where the geodesic from the edge's start, along
    # the edge's azimuth, arrives after the same distance
    e = edge_of[:-1]
    az, _, _ = GEOD.inv(lons[e], lats[e], lons[e + 1], lats[e + 1])
    along = _geodesic(lons[e], lats[e], dl[:-1], dt[:-1])
    on_lon, on_lat, _ = GEOD.fwd(lons[e], lats[e], az, along)
    off = _geodesic(np.asarray(on_lon), np.asarray(on_lat), dl[:-1], dt[:-1])
    assert np.max(off) < 1e-5
    # and in order along it
    for k in range(n - 1):
        run = along[e == k]
        assert np.all(np.diff(run) > 0.0)


def test_densify_geodesic_edge_lengths() -> None:
    """A 95 km edge with 10 km pieces becomes 10 equal pieces; a short edge stays whole."""
    lons = np.array([10.0, 11.2, 11.2001])
    lats = np.array([45.0, 45.1, 45.1])
    dl, dt, edge_of = densify_geodesic(lons, lats)
    assert edge_of.tolist() == [0] * 10 + [1, 2]
    pieces = _geodesic(dl[:-1], dt[:-1], dl[1:], dt[1:])
    assert np.allclose(pieces[:10], pieces[0], rtol=1e-9) and pieces[0] <= 10_000.0


# ---------------------------------------------------------------------------------- unwrap_longitudes


@settings(max_examples=examples(100))
@given(st.lists(st.one_of(st.floats(-180.0, 180.0), st.sampled_from([-180.0, 180.0, 179.9, -179.9])), max_size=40))
def test_unwrap_longitudes(values: list[float]) -> None:
    lons = np.array(values, dtype=np.float64)
    out = unwrap_longitudes(lons)
    assert out.shape == lons.shape
    if lons.size == 0:
        return
    assert out[0] == lons[0]
    assert np.all(np.abs(np.diff(out)) <= 180.0 + 1e-9)
    turns = (out - lons) / 360.0
    assert np.allclose(turns, np.round(turns), rtol=0.0, atol=1e-12), "moved by something else than whole turns"


@settings(max_examples=examples(60))
@given(st.lists(st.floats(-180.0, 180.0), min_size=3, max_size=30), st.floats(-180.0, 180.0))
def test_unwrap_closed_ring_ends_where_it_starts(values: list[float], first: float) -> None:
    """A closed ring that does not go round a pole (net turns 0) must end on exactly its first value:
    a rounding drift of 1e-14 degree is enough for GEOS to call a valid ring self-intersecting."""
    lons = np.array([first, *values, first])
    out = unwrap_longitudes(lons)
    if abs(out[-1] - out[0]) < 180.0:  # it did not go round
        assert out[-1] == out[0]


def test_antimeridian_triangle_is_valid() -> None:
    """Found by the oracle tests: a 600 m triangle with a vertex on 180 was refused as self-intersecting
    because the unwrapped ring ended 3e-14 degree away from where it started."""
    obj = {
        "type": "Polygon",
        "coordinates": [
            [
                [180.0, 0.005426216862139391],
                [-179.99764294724744, -0.0013153410678176964],
                [179.99542911259752, -0.002875456844146162],
                [180.0, 0.005426216862139391],
            ]
        ],
    }
    parse_shape(obj, Limits())


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([179.0, -179.0, -178.0], [179.0, 181.0, 182.0]),
        ([-179.0, 179.0], [-179.0, -181.0]),
        ([0.0, 120.0, -120.0, 0.0], [0.0, 120.0, 240.0, 360.0]),  # round the pole: one turn
        ([10.0, 20.0], [10.0, 20.0]),
    ],
)
def test_unwrap_examples(values: list[float], expected: list[float]) -> None:
    assert unwrap_longitudes(np.array(values)).tolist() == expected
