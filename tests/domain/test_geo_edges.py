"""Geodesy primitives at their edges (domain/geo.py): the constants, longitudes wrapped and unwrapped at
180, great circles against the spherical law of cosines, densification's shortcuts on both sides of their
conditions, and the frames' error bounds as written in their docstrings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod

from deconfliction.domain.geo import (
    MAX_EDGE_M,
    MEAN_RADIUS_M,
    SCREEN_REL_ERROR,
    EllipsoidalFrame,
    SphericalFrame,
    densify_geodesic,
    geodesic_area_m2,
    geodesic_distance,
    geodesic_forward,
    haversine_m,
    unwrap_longitudes,
    wrap_longitude,
)

WGS84 = Geod(ellps="WGS84")


def test_constants() -> None:
    assert (MEAN_RADIUS_M, SCREEN_REL_ERROR, MAX_EDGE_M) == (6_371_008.8, 0.01, 10_000.0)


@pytest.mark.parametrize(
    ("lon", "wrapped"),
    [(0.0, 0.0), (180.0, -180.0), (-180.0, -180.0), (181.0, -179.0), (-181.0, 179.0), (540.0, -180.0), (359.5, -0.5)],
)
def test_wrap_longitude(lon: float, wrapped: float) -> None:
    assert wrap_longitude(lon) == pytest.approx(wrapped, abs=1e-12)


def test_unwrap_longitudes() -> None:
    assert unwrap_longitudes(np.array([10.0])).tolist() == [10.0]
    assert unwrap_longitudes(np.array([])).tolist() == []
    near = np.array([-90.0, 89.9])  # a span under 180: left as it is
    out = unwrap_longitudes(near)
    assert out.tolist() == [-90.0, 89.9] and out is not near and out.dtype == np.float64
    assert unwrap_longitudes(np.array([170.0, -170.0, -160.0, 175.0])).tolist() == [170.0, 190.0, 200.0, 175.0]
    assert unwrap_longitudes(np.array([-170.0, 170.0])).tolist() == [-170.0, -190.0]
    ints = unwrap_longitudes(np.array([1, 2]))
    assert ints.dtype == np.float64


def law_of_cosines(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return MEAN_RADIUS_M * math.acos(max(-1.0, min(1.0, c)))


@pytest.mark.parametrize(
    "pts", [(0.0, 0.0, 1.0, 0.0), (40.0, 35.0, 40.5, 35.7), (-120.0, -60.0, 60.0, 50.0), (10.0, 80.0, -170.0, 80.0)]
)
def test_haversine_is_the_great_circle(pts: tuple[float, float, float, float]) -> None:
    assert haversine_m(*pts) == pytest.approx(law_of_cosines(*pts), rel=1e-9, abs=1e-6)


def test_haversine_of_antipodes_is_half_the_circumference() -> None:
    assert haversine_m(0.0, 0.0, 180.0, 0.0) == pytest.approx(math.pi * MEAN_RADIUS_M, rel=1e-12)
    assert haversine_m(5.0, 5.0, 5.0, 5.0) == 0.0


def test_the_pyproj_wrappers() -> None:
    _, _, d = WGS84.inv(40.0, 35.0, 41.0, 36.0)
    assert float(geodesic_distance(40.0, 35.0, 41.0, 36.0)) == d
    lon, lat, _ = WGS84.fwd(40.0, 35.0, 30.0, 5000.0)
    assert geodesic_forward(40.0, 35.0, 30.0, 5000.0) == (lon, lat)
    lons, lats = np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0])
    area, _ = WGS84.polygon_area_perimeter(lons, lats)
    assert geodesic_area_m2(lons, lats) == abs(area)
    assert geodesic_area_m2(lons[::-1].copy(), lats[::-1].copy()) == abs(area)


def test_densify_keeps_one_point_and_short_rings() -> None:
    lons, lats, edges = densify_geodesic(np.array([10.0]), np.array([20.0]))
    assert (lons.tolist(), lats.tolist(), edges.tolist()) == ([10.0], [20.0], [0])
    # a box smaller than an edge: nothing inserted, each point its own edge
    small_lon, small_lat = np.array([10.0, 10.05, 10.05, 10.0]), np.array([20.0, 20.0, 20.05, 20.0])
    lons, lats, edges = densify_geodesic(small_lon, small_lat)
    assert lons.tolist() == small_lon.tolist() and lats.tolist() == small_lat.tolist()
    assert edges.tolist() == [0, 1, 2, 3]
    assert lons is not small_lon


def test_densify_inserts_points_every_max_edge() -> None:
    lons, lats, edges = densify_geodesic(np.array([0.0, 1.0]), np.array([0.0, 0.0]), 20_000.0)
    _, _, length = WGS84.inv(0.0, 0.0, 1.0, 0.0)
    pieces = math.ceil(length / 20_000.0)
    assert len(lons) == pieces + 1
    assert edges.tolist() == [0] * pieces + [1]
    _, _, steps = WGS84.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    assert np.allclose(steps, length / pieces, atol=1e-6)
    assert (lons[0], lons[-1]) == (0.0, 1.0)


def test_densify_near_the_pole_even_when_short() -> None:
    # points above 89 degrees are always densified (their edges bend poleward), however close
    lons, _, _ = densify_geodesic(np.array([0.0, 0.001]), np.array([89.5, 89.5]), 10.0)
    _, _, length = WGS84.inv(0.0, 89.5, 0.001, 89.5)
    assert len(lons) == math.ceil(length / 10.0) + 1


def test_densify_keeps_longitudes_continuous_across_180() -> None:
    lons, _, _ = densify_geodesic(np.array([179.9, 180.1]), np.array([0.0, 0.0]), 5_000.0)
    assert np.all(np.diff(lons) > 0) and lons[-1] == 180.1


def test_frame_error_bounds() -> None:
    assert SphericalFrame.relative_error(0.0) == 0.01
    assert SphericalFrame.relative_error(MEAN_RADIUS_M) == pytest.approx(0.01 + 0.2)
    assert EllipsoidalFrame.excess(0.0) == 0.0
    assert EllipsoidalFrame.excess(MEAN_RADIUS_M) == pytest.approx(1.02 / 6.0)
    assert EllipsoidalFrame.excess(100_000.0) == pytest.approx((100_000.0 / MEAN_RADIUS_M) ** 2 / 6.0 * 1.02)


def test_frames_are_centred_where_asked() -> None:
    e = EllipsoidalFrame(190.0, 35.0)
    assert (e.lon0, e.lat0) == (-170.0, 35.0)
    x, y = e.forward(np.array([-170.0]), np.array([35.0]))
    assert abs(x[0]) < 1e-9 and abs(y[0]) < 1e-9
    lon, lat = e.inverse(np.array([0.0]), np.array([0.0]))
    assert lon[0] == pytest.approx(-170.0) and lat[0] == pytest.approx(35.0)
    s = SphericalFrame(40.0, 35.0)
    x, y = s.forward(np.array([40.0]), np.array([35.0]))
    assert (x[0], y[0]) == (0.0, 0.0)
    lon, lat = s.inverse(np.array([0.0]), np.array([0.0]))
    assert (lon[0], lat[0]) == (40.0, 35.0)
    # 1 km due north on the sphere is 1 km along y
    x, y = s.forward(np.array([40.0]), np.array([35.0 + math.degrees(1000.0 / MEAN_RADIUS_M)]))
    assert x[0] == pytest.approx(0.0, abs=1e-9) and y[0] == pytest.approx(1000.0, abs=1e-6)
    lon, lat = s.inverse(np.array([1000.0]), np.array([0.0]))
    assert lat[0] < 35.0 + 1e-9 and lon[0] > 40.0
    lon, _ = s.inverse(np.array([1.0]), np.array([0.0]))  # 1 m east of the centre is east of it
    assert lon[0] == pytest.approx(40.0 + math.degrees(1.0 / MEAN_RADIUS_M) / math.cos(math.radians(35.0)), abs=1e-12)


def test_densify_edge_indices_are_integers() -> None:
    for lons, lats in ((np.array([10.0]), np.array([20.0])), (np.array([10.0, 10.01]), np.array([20.0, 20.0]))):
        assert densify_geodesic(lons, lats)[2].dtype == np.int64
    assert densify_geodesic(np.array([0.0, 1.0]), np.array([0.0, 0.0]))[2].dtype == np.int64


def test_an_edge_just_longer_than_the_limit_is_cut() -> None:
    # 10,050 m along the equator (a geodesic): longer than 10 km, so cut in two, although the mean sphere
    # makes it 0.1 % shorter
    lon1, _, _ = WGS84.fwd(0.0, 0.0, 90.0, 10_050.0)
    lons, _, edges = densify_geodesic(np.array([0.0, lon1]), np.array([0.0, 0.0]))
    assert len(lons) == 3 and edges.tolist() == [0, 0, 1]
    lon2, _, _ = WGS84.fwd(0.0, 0.0, 90.0, 9_000.0)
    assert len(densify_geodesic(np.array([0.0, lon2]), np.array([0.0, 0.0]))[0]) == 2
