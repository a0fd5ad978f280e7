"""Edges of the exact separation (domain/separation.py) that the oracle tests do not reach; among them, a
pair found inside the detection's tolerance band but just beyond the separation itself is drawn as a small
disc where the two come closest (1 % of the separation), not as a region the size of the separation."""

from __future__ import annotations

import math

import pytest
from pyproj import Geod

from deconfliction.domain.footprint import footprint_shape
from deconfliction.domain.geo import MEAN_RADIUS_M
from deconfliction.domain.limits import Limits
from deconfliction.domain.separation import MEASURE_ERROR_M, draw_region, rho_ok
from tests.oracle import destination
from tests.shapes import parse_shape


def test_rho_ok_is_the_radius_where_the_frame_s_excess_reaches_half_a_metre() -> None:
    # threshold * rho^2 / (6 R^2) * 1.02 = 0.5 m
    for within in (9260.0, 100_000.0):
        rho = rho_ok(within)
        assert within * 1.02 * rho * rho / (6.0 * MEAN_RADIUS_M**2) == pytest.approx(MEASURE_ERROR_M, rel=1e-12)
    # capped at 1,000 km, which a threshold under about 120 m reaches
    assert rho_ok(1.0) == 1_000_000.0
    assert rho_ok(0.5) == 1_000_000.0
    assert rho_ok(120.0) < 1_000_000.0 == rho_ok(119.0)
    assert rho_ok(1000.0) == pytest.approx(MEAN_RADIUS_M * math.sqrt(3.0 / 1020.0), rel=1e-12)


@pytest.mark.parametrize("within", [0.0, -1.0])
def test_rho_ok_without_a_threshold_is_the_cap(within: float) -> None:
    """A zero threshold (two footprints that must not touch) has no excess to bound: the cap, no division."""
    assert rho_ok(within) == 1_000_000.0


def test_screening_nothing_gives_no_bound() -> None:
    from deconfliction.domain.footprint import CircleFootprint, footprint_shape
    from deconfliction.domain.separation import Screen

    screen = Screen(footprint_shape(CircleFootprint((36.0, 35.0), 500.0)))
    got = screen.screen([])
    assert got.bounds.shape == (0,) and got.meeting == []
    assert screen.lower_bounds([]).tolist() == []


GEOD = Geod(ellps="WGS84")


def square(lon: float, lat: float, side_m: float) -> object:
    east, _ = destination(lon, lat, 90.0, side_m)
    _, north = destination(lon, lat, 0.0, side_m)
    ring = [[lon, lat], [east, lat], [east, north], [lon, north], [lon, lat]]
    return footprint_shape(parse_shape({"type": "Polygon", "coordinates": [ring]}, Limits()))


def test_a_pair_just_beyond_the_separation_is_drawn_as_a_small_disc_where_they_meet() -> None:
    a = square(10.0, 45.0, 2_000.0)
    east_of_a, _ = destination(10.0, 45.0, 90.0, 2_000.0)
    lon_b, _ = destination(east_of_a, 45.0, 90.0, 1_000.4)  # 0.4 m beyond a 1,000 m separation
    region = draw_region(a, square(lon_b, 45.0, 2_000.0), 1_000.0)  # type: ignore[arg-type]
    assert not region.is_empty
    area = abs(GEOD.geometry_area_perimeter(region)[0])
    # a 10 m disc swept along the 1,000 m closest line: about 2 x 10 x 1,000 + pi x 10^2 m2
    assert 15_000 < area < 30_000, area
    west, _, east, _ = region.bounds
    assert east_of_a - 0.001 < west and east < lon_b + 0.001  # between the two, where they come closest
