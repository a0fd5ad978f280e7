"""Edges of ``domain/separation.py`` that the property tests do not reach: a pair found inside the
detection's tolerance band but just beyond the separation itself is drawn as a small disc where the two
come closest (1 % of the separation), not as a region the size of the separation."""

from __future__ import annotations

from pyproj import Geod

from deconfliction.domain.footprint import footprint_shape
from deconfliction.domain.limits import Limits
from deconfliction.domain.separation import draw_region
from tests.oracle import destination
from tests.shapes import parse_shape

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
