"""Line input at its edges (domain/line.py): ``parse_line`` on every refusal with its field and message,
the vertex limit and the pole margin on both sides; the band's parties; a crossing of the equator by a
meridian (both geodesics, so the crossing is known exactly)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import shape

from deconfliction.domain.footprint import PolygonFootprint, footprint_to_geojson, parse_footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.line import (
    OUTLINE_EDGE_M,
    SNAP_M,
    AreaSplit,
    band_along,
    geodesic_crossing,
    parse_line,
    propose_split_zones,
    split_area,
)
from deconfliction.domain.volume import TimeWindow
from deconfliction.errors import InvalidInput

L = Limits()


def test_constants() -> None:
    assert (SNAP_M, OUTLINE_EDGE_M) == (1e-6, 200.0)


def refusal(raw: Any, limits: Limits = L) -> tuple[str, str, str]:
    with pytest.raises(InvalidInput) as e:
        parse_line(raw, limits, field="line")
    ((field, code, message),) = [(f.field, f.code, f.message) for f in e.value.errors]
    return field, code, message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ("line", "invalid_geojson", "a line needs at least 2 positions")),
        ([[1, 2]], ("line", "invalid_geojson", "a line needs at least 2 positions")),
        ("[[1, 2], [3, 4]]", ("line", "invalid_geojson", "a line needs at least 2 positions")),
        ([[1, 2], [3]], ("line[1]", "invalid_geojson", "a position is [longitude, latitude]")),
        ([[1, 2], [3, 4, 5, 6]], ("line[1]", "invalid_geojson", "a position is [longitude, latitude]")),
        ([[1, 2], "3,4"], ("line[1]", "invalid_geojson", "a position is [longitude, latitude]")),
        ([[1, 2], [3, math.inf]], ("line[1][1]", "invalid_geojson", "not a finite number: inf")),
        ([[1, 2], [3, 4, math.nan]], ("line[1][2]", "invalid_geojson", "not a finite number: nan")),
        ([[False, 2], [3, 4]], ("line[0][0]", "invalid_geojson", "not a finite number: False")),
        ([[1, 2], [180.5, 4]], ("line[1][0]", "out_of_range", "longitude 180.5 is outside [-180, 180]")),
        ([[-180.5, 2], [3, 4]], ("line[0][0]", "out_of_range", "longitude -180.5 is outside [-180, 180]")),
        ([[1, 2], [3, 89.01]], ("line[1][1]", "near_pole", "latitude 89.01 is within 1.0 degree of a pole")),
        ([[1, -89.01], [3, 4]], ("line[0][1]", "near_pole", "latitude -89.01 is within 1.0 degree of a pole")),
        ([[1, 2], [1, 2], [1.0, 2.0]], ("line", "degenerate_path", "the line has no length")),
    ],
)
def test_each_refusal(raw: Any, expected: tuple[str, str, str]) -> None:
    assert refusal(raw) == expected


def test_the_edges_accepted() -> None:
    assert parse_line(((-180, -89), (180, 89)), L) == ((-180.0, -89.0), (180.0, 89.0))
    assert parse_line([[1, 2], [1, 2], [1, 3]], L) == ((1.0, 2.0), (1.0, 2.0), (1.0, 3.0))
    got = parse_line([[1, 2], [3, 4]], L)
    assert all(isinstance(v, float) for p in got for v in p)


def test_the_vertex_limit_on_both_sides() -> None:
    three = Limits(max_vertices=3)
    assert len(parse_line([[0, 0], [1, 0], [2, 0]], three)) == 3
    assert refusal([[0, 0], [1, 0], [2, 0], [3, 0]], three) == (
        "line",
        "too_many_vertices",
        "4 positions; at most 3 are allowed",
    )


def test_another_pole_margin() -> None:
    assert parse_line([[0, 84.9], [1, 84.9]], Limits(pole_margin_deg=5.0))[0] == (0.0, 84.9)
    assert refusal([[0, 85.1], [1, 0]], Limits(pole_margin_deg=5.0))[1] == "near_pole"


@pytest.mark.parametrize(("lon", "guess"), [(5.0, (5.3, 0.2)), (-20.0, (-19.0, -0.5)), (179.5, (179.0, 0.1))])
def test_a_meridian_crosses_the_equator_on_it(lon: float, guess: tuple[float, float]) -> None:
    equator = ((lon - 10.0, 0.0), (lon + 0.4, 0.0))
    meridian = ((lon, -5.0), (lon, 5.0))
    got = geodesic_crossing(*equator, *meridian, guess)
    assert got[1] == pytest.approx(0.0, abs=1e-12)
    assert got[0] == pytest.approx(lon, abs=1e-11)  # 1e-11 degree is a micrometre
    back = geodesic_crossing(*meridian, *equator, guess)
    assert back[0] == pytest.approx(lon, abs=1e-11) and back[1] == pytest.approx(0.0, abs=1e-11)


# ------------------------------------------------------------------------------------ bands and zones

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WINDOW = TimeWindow(T0, T0 + timedelta(days=30))


def box(lon: float, lat: float, size: float = 0.2) -> PolygonFootprint:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    fp = parse_footprint({"type": "Polygon", "coordinates": [ring]}, L)
    assert isinstance(fp, PolygonFootprint)
    return fp


def band_refusal(split: AreaSplit, **kw: Any) -> tuple[str, str, str]:
    args: dict[str, Any] = {"band_id": "b1", "half_width_m": 500.0, "validity": WINDOW}
    with pytest.raises(InvalidInput) as e:
        band_along(split, **(args | kw))
    ((field, code, message),) = [(f.field, f.code, f.message) for f in e.value.errors]
    return field, code, message


def test_band_refusals() -> None:
    split = split_area(box(10.0, 45.0), [(9.9, 45.1), (10.3, 45.1)], "a", "b")
    for bad in (0.0, -1.0, math.inf, True):
        assert band_refusal(split, half_width_m=bad) == (
            "half_width_m",
            "out_of_range",
            "half_width_m must be a number of metres above 0",
        )
    assert band_refusal(split, validity=TimeWindow(T0, T0)) == (
        "validity.end",
        "window_empty",
        "the band's validity must not be empty",
    )
    band = band_along(split, band_id="b1", half_width_m=0.001, validity=TimeWindow(T0, T0 + timedelta(microseconds=1)))
    assert (band.id, band.party_left, band.party_right, band.validity.start) == ("b1", "a", "b", T0)
    assert isinstance(band.footprint.half_width_m, float)


def test_a_band_reaching_the_pole_cap() -> None:
    # a line at 88.65 degrees: 40 km of half-width reach 89.01 with the 1 % margin, 30 km stop at 88.92
    split = split_area(box(10.0, 88.6, 0.1), [(9.9, 88.65), (10.2, 88.65)], "a", "b")
    assert band_refusal(split, half_width_m=40_000.0) == (
        "half_width_m",
        "near_pole",
        "the band reaches within 1.0 degree of a pole",
    )
    assert band_along(split, band_id="b1", half_width_m=30_000.0, validity=WINDOW).half_width_m == 30_000.0


def test_proposed_zones_are_dated_now() -> None:
    split = split_area(box(10.0, 45.0), [(9.9, 45.1), (10.3, 45.1)], "north", "south")
    left, right = propose_split_zones(split, zone_ids=("z1", "z2"), validity=WINDOW, now=T0, names=("N", "S"))
    assert (left.created_at, right.created_at, left.validity, right.validity) == (T0, T0, WINDOW, WINDOW)
    assert (left.name, right.name) == ("N", "S")


def test_a_part_not_crossed_is_named_by_where_it_lies() -> None:
    two = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[10.0, 45.0], [10.2, 45.0], [10.2, 45.2], [10.0, 45.2], [10.0, 45.0]]],
            [[[11.0, 45.0], [11.2, 45.0], [11.2, 45.2], [11.0, 45.2], [11.0, 45.0]]],
        ],
    }
    area = parse_footprint(two, L)
    assert isinstance(area, PolygonFootprint)
    with pytest.raises(InvalidInput) as e:
        split_area(area, [(9.9, 45.1), (10.3, 45.1)], "a", "b")
    (err,) = e.value.errors
    found = re.search(r"around \[(-?[\d.]+), (-?[\d.]+)\]", err.message)
    assert found is not None, err.message
    lon, lat = float(found.group(1)), float(found.group(2))
    assert 11.0 < lon < 11.2 and 45.0 < lat < 45.2  # a point of the part that is not crossed


def split_refusal(area: PolygonFootprint, line: list[tuple[float, float]], left: str = "a", right: str = "b") -> Any:
    with pytest.raises(InvalidInput) as e:
        split_area(area, line, left, right)
    return [(f.field, f.code, f.message) for f in e.value.errors]


def test_parties_are_both_named_and_different() -> None:
    area = box(10.0, 45.0)
    line = [(9.9, 45.1), (10.3, 45.1)]
    assert split_refusal(area, line, "", "") == [
        ("party_left", "required", "a party id is needed"),
        ("party_right", "required", "a party id is needed"),
    ]
    assert split_refusal(area, line, "a", "a") == [
        ("party_right", "same_party", "the two sides must go to two different parties")
    ]


def test_a_line_from_a_hole_does_not_separate_and_says_so() -> None:
    shell = [[10.0, 45.0], [10.2, 45.0], [10.2, 45.2], [10.0, 45.2], [10.0, 45.0]]
    hole = [[10.08, 45.08], [10.12, 45.08], [10.12, 45.12], [10.08, 45.12], [10.08, 45.08]]
    area = parse_footprint({"type": "Polygon", "coordinates": [shell, hole]}, L)
    assert isinstance(area, PolygonFootprint)
    ((field, code, message),) = split_refusal(area, [(10.1, 45.1), (10.3, 45.1)])
    assert (field, code) == ("line", "line_does_not_separate")
    assert re.fullmatch(
        r"the (area around \[[-\d.]+, [-\d.]+\] lies on both sides of the line|line runs into the area around "
        r"\[[-\d.]+, [-\d.]+\] without cutting it in two) \(does (the line|it) end in a hole of the area\?\); "
        r"a deconfliction line must divide the area in two sides",
        message,
    ), message


def test_a_line_that_misses_the_area_says_so() -> None:
    assert split_refusal(box(10.0, 45.0), [(9.9, 45.3), (10.3, 45.3)]) == [
        ("line", "line_misses_area", "the line does not divide the area: it misses it")
    ]


def test_a_band_entry_names_the_line_s_other_party_and_version_1() -> None:
    from deconfliction.domain.areas import band_entries
    from deconfliction.domain.footprint import CircleFootprint
    from deconfliction.domain.operation import Operation, OperationState
    from deconfliction.domain.policy import OperationKind
    from deconfliction.domain.volume import AltitudeBand, Volume4D

    split = split_area(box(10.0, 45.0), [(9.9, 45.1), (10.3, 45.1)], "north", "south")
    band = band_along(split, band_id="b1", half_width_m=500.0, validity=WINDOW)
    v = Volume4D.create(CircleFootprint((10.1, 45.1), 10.0), AltitudeBand(0.0, 1.0), WINDOW)
    op = Operation("op", "south", OperationKind.GROUND, 0, OperationState.PLANNED, 1, "o", (v,), "t", T0, T0)
    (f,) = band_entries(op, [band])
    assert (f.target_id, f.target_version, f.target_owner_id, f.operator_id, f.ovn) == ("b1", 1, "north", "south", "o")


def test_a_line_from_a_hole_back_to_it_cuts_a_pocket_off_the_area() -> None:
    """The side of the rest of the area is told by its hole's ring (the line runs along it there), not its
    outer ring, which the line never touches."""
    shell = [[10.0, 45.0], [10.2, 45.0], [10.2, 45.2], [10.0, 45.2], [10.0, 45.0]]
    hole = [[10.08, 45.08], [10.12, 45.08], [10.12, 45.12], [10.08, 45.12], [10.08, 45.08]]
    area = parse_footprint({"type": "Polygon", "coordinates": [shell, hole]}, L)
    assert isinstance(area, PolygonFootprint)
    split = split_area(area, [(10.09, 45.11), (10.09, 45.15), (10.11, 45.15), (10.11, 45.11)], "a", "b")
    rest, pocket = (shape(footprint_to_geojson(side)) for side in (split.left, split.right))
    assert rest.bounds == pytest.approx((10.0, 45.0, 10.2, 45.2))
    assert pocket.bounds == pytest.approx((10.09, 45.12, 10.11, 45.15), abs=1e-5)
    assert rest.area + pocket.area == pytest.approx(0.2 * 0.2 - 0.04 * 0.04, rel=1e-4)
