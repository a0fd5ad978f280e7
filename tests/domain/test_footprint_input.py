"""Footprint input at its edges (domain/footprint.py): every refusal of ``parse_footprint`` with the input
that reaches it, its field and its message; the vertex, area and pole limits on both sides (areas from
pyproj's geodesic polygon area and the circle's pi r^2); the GeoJSON written back."""

from __future__ import annotations

import math
from typing import Any

import pytest

from deconfliction.domain.footprint import (
    BOX_PAD_M,
    FOOTPRINT_TYPES,
    CircleFootprint,
    CorridorFootprint,
    PolygonFootprint,
    footprint_from_trusted,
    footprint_to_geojson,
    footprint_wire,
    parse_footprint,
    polygon_area_m2,
    vertex_count,
)
from deconfliction.domain.limits import Limits
from deconfliction.errors import InvalidInput

L = Limits()
SQUARE = [[36.0, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.1], [36.0, 35.0]]


def test_constants() -> None:
    assert FOOTPRINT_TYPES == ("Polygon", "MultiPolygon", "Point", "LineString")
    assert BOX_PAD_M == 250.0


def C(center: Any, radius_m: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A circle as it is sent: an RFC 7946 Point, and its radius beside it."""
    return {"type": "Point", "coordinates": center}, {"radius_m": radius_m}


def K(path: Any, half_width_m: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A corridor as it is sent: an RFC 7946 LineString, and its half-width beside it."""
    return {"type": "LineString", "coordinates": path}, {"half_width_m": half_width_m}


def parse(raw: Any, limits: Limits = L) -> Any:
    geometry, numbers = raw if isinstance(raw, tuple) else (raw, {})
    return parse_footprint(geometry, limits, **numbers)


def refusal(raw: Any, limits: Limits = L) -> tuple[str, str, str]:
    with pytest.raises(InvalidInput) as e:
        parse(raw, limits)
    (first, *_) = e.value.errors
    return first.field, first.code, first.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], ("", "invalid_geojson", "footprint must be a JSON object with a 'type'")),
        (
            {"type": "MultiPoint"},
            (
                "type",
                "invalid_geojson",
                "type must be one of Polygon, MultiPolygon, Point, LineString; got 'MultiPoint'",
            ),
        ),
        (
            {"coordinates": []},
            ("type", "invalid_geojson", "type must be one of Polygon, MultiPolygon, Point, LineString; got None"),
        ),
        (
            {"type": "Circle", "center": [36, 35], "radius_m": 5},
            (
                "type",
                "not_rfc7946",
                'a circle is an RFC 7946 Point with radius_m beside it: {"footprint": {"type": "Point", "coordinates": '
                '[lon, lat]}, "radius_m": 500} (in a file: radius_m in the Feature\'s properties)',
            ),
        ),
        (
            {"type": "Corridor", "path": [[36, 35], [36.1, 35]], "half_width_m": 5},
            (
                "type",
                "not_rfc7946",
                'a corridor is an RFC 7946 LineString with half_width_m beside it: {"footprint": {"type": '
                '"LineString", "coordinates": [[lon, lat], ...]}, "half_width_m": 200} (in a file: in the properties)',
            ),
        ),
        (
            ({"type": "Point", "coordinates": [36, 35]}, {}),
            ("radius_m", "required", "a Point footprint is a circle: give radius_m beside it"),
        ),
        (
            ({"type": "LineString", "coordinates": [[36, 35], [36.1, 35]]}, {}),
            ("half_width_m", "required", "a LineString footprint is a corridor: give half_width_m beside it"),
        ),
        (
            ({"type": "LineString", "coordinates": [[36, 35], [36.1, 35]]}, {"half_width_m": 5, "radius_m": 5}),
            ("radius_m", "not_with_this_type", "radius_m goes with a Point"),
        ),
        (
            ({"type": "Point", "coordinates": [36, 35]}, {"half_width_m": 5}),
            ("half_width_m", "not_with_this_type", "half_width_m goes with a LineString"),
        ),
        (
            {"type": "Polygon", "coordinates": [SQUARE], "radius_m": 5},
            ("radius_m", "unknown_field", "unknown member of a Polygon geometry"),
        ),
        (
            ({"type": "Polygon", "coordinates": [SQUARE]}, {"radius_m": 5}),
            ("radius_m", "not_with_this_type", "radius_m goes with a Point"),
        ),
        (
            ({"type": "Point", "coordinates": [36, 35], "center": [36, 35]}, {"radius_m": 5}),
            ("center", "unknown_field", "unknown member of a Point geometry"),
        ),
        (
            {"type": "Polygon", "coordinates": []},
            ("coordinates", "invalid_geojson", "a polygon is a non-empty list of linear rings"),
        ),
        (
            {"type": "Polygon", "coordinates": SQUARE[0]},
            ("coordinates[0]", "invalid_geojson", "a linear ring is a list of positions"),
        ),
        (
            {"type": "Polygon", "coordinates": [SQUARE[:3]]},
            ("coordinates[0]", "invalid_geojson", "a linear ring needs at least 4 positions, got 3"),
        ),
        (
            {"type": "Polygon", "coordinates": [SQUARE[:4]]},
            ("coordinates[0]", "ring_not_closed", "the ring is not closed: first [36.0, 35.0] != last [36.0, 35.1]"),
        ),
        (
            {"type": "Polygon", "coordinates": [[[36, 35], [36.1, 35], [36.1, 35], [36, 35]]]},
            ("coordinates[0]", "degenerate_ring", "the ring has fewer than 3 distinct corners"),
        ),
        (
            {"type": "Polygon", "coordinates": [[[36, 35], [36.1], [36.1, 35.1], [36, 35]]]},
            ("coordinates[0][1]", "invalid_geojson", "a position is [longitude, latitude]"),
        ),
        (
            {"type": "Polygon", "coordinates": [[[36, 35], [36.1, "35"], [36.1, 35.1], [36, 35]]]},
            ("coordinates[0][1][1]", "invalid_geojson", "not a finite number: '35'"),
        ),
        (
            {"type": "Polygon", "coordinates": [[[36, 35], [180.1, 35], [36.1, 35.1], [36, 35]]]},
            ("coordinates[0][1][0]", "out_of_range", "longitude 180.1 is outside [-180, 180]"),
        ),
        (
            {"type": "Polygon", "coordinates": [[[36, 35], [36.1, -90.1], [36.1, 35.1], [36, 35]]]},
            ("coordinates[0][1][1]", "out_of_range", "latitude -90.1 is outside [-90, 90]"),
        ),
        (
            {"type": "MultiPolygon", "coordinates": []},
            ("coordinates", "invalid_geojson", "a MultiPolygon needs a non-empty list"),
        ),
        (
            {"type": "MultiPolygon", "coordinates": [[SQUARE], []]},
            ("coordinates[1]", "invalid_geojson", "a polygon is a non-empty list of linear rings"),
        ),
        (
            C([36, 35, 1, 2], 5),
            ("coordinates", "invalid_geojson", "a position is [longitude, latitude]"),
        ),
        (
            C([36, 35], 0),
            ("radius_m", "out_of_range", "radius_m must be greater than 0"),
        ),
        (
            C([36, 35], True),
            ("radius_m", "invalid_number", "radius_m must be a number of metres"),
        ),
        (
            C([36, 35], math.nan),
            ("radius_m", "invalid_number", "radius_m must be a number of metres"),
        ),
        (
            K([[36, 35]], 5),
            ("coordinates", "invalid_geojson", "a corridor's line needs 2 positions or more"),
        ),
        (
            K("36,35", 5),
            ("coordinates", "invalid_geojson", "a corridor's line needs 2 positions or more"),
        ),
        (
            K([[36, 35], [36, 35.0]], 5),
            ("coordinates", "degenerate_path", "the corridor's line has no length"),
        ),
        (
            K([[36, 35], [36, 95]], 5),
            ("coordinates[1][1]", "out_of_range", "latitude 95.0 is outside [-90, 90]"),
        ),
        (
            K([[36, 35], [36, 36]], -5),
            ("half_width_m", "out_of_range", "half_width_m must be greater than 0"),
        ),
    ],
)
def test_each_refusal(raw: Any, expected: tuple[str, str, str]) -> None:
    assert refusal(raw) == expected


def test_unknown_fields_are_all_named_in_order() -> None:
    with pytest.raises(InvalidInput) as e:
        parse(({"type": "LineString", "coordinates": [[0, 0], [1, 0]], "z": 1, "a": 2}, {"half_width_m": 5}), L)
    assert [(f.field, f.code) for f in e.value.errors] == [("a", "unknown_field"), ("z", "unknown_field")]


def test_the_edges_of_a_position_are_accepted() -> None:
    fp = parse(C([180, 0, 12.5], 1), L)
    assert fp == CircleFootprint((180.0, 0.0), 1.0)
    assert parse(C((-180, 0), 0.001), L).center == (-180.0, 0.0)
    path = parse(K([[36, 35], [36, 35], [36.1, 35]], 5), L)
    assert isinstance(path, CorridorFootprint) and path.path[0] == path.path[1]


def test_repeated_vertices_are_written_once() -> None:
    raw = [[36.0, 35.0], [36.1, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.1], [36.0, 35.0]]
    fp = parse({"type": "Polygon", "coordinates": [raw]}, L)
    assert isinstance(fp, PolygonFootprint)
    assert fp.polygons[0][0] == tuple((float(x), float(y)) for x, y in SQUARE)
    assert vertex_count(fp) == 4


def test_vertex_counts_and_their_limit() -> None:
    assert vertex_count(CircleFootprint((0.0, 0.0), 5.0)) == 1
    assert vertex_count(CorridorFootprint(((0.0, 0.0), (1.0, 0.0), (2.0, 0.0)), 5.0)) == 3
    hole = [[36.02, 35.02], [36.03, 35.02], [36.03, 35.03], [36.02, 35.02]]
    with_hole = parse({"type": "Polygon", "coordinates": [SQUARE, hole]}, L)
    assert vertex_count(with_hole) == 4 + 3
    assert parse({"type": "Polygon", "coordinates": [SQUARE, hole]}, Limits(max_vertices=7)) == with_hole
    with pytest.raises(InvalidInput) as e:
        parse({"type": "Polygon", "coordinates": [SQUARE, hole]}, Limits(max_vertices=6))
    (err,) = e.value.errors
    assert (err.field, err.code, err.detail) == ("coordinates", "too_many_vertices", {"count": 7, "limit": 6})
    assert err.message == "7 vertices; at most 6 are allowed per footprint"
    path = K([[0, 0], [1, 0], [2, 0]], 5)
    assert refusal(path, Limits(max_vertices=2))[:2] == ("coordinates", "too_many_vertices")


def test_the_area_limit_on_both_sides_for_a_circle() -> None:
    r = 1000.0
    km2 = math.pi * r * r / 1e6  # 3.14159... km2
    circle = C([36, 35], r)
    assert parse(circle, Limits(max_area_km2=3.1416)) == CircleFootprint((36.0, 35.0), r)
    with pytest.raises(InvalidInput) as e:
        parse(circle, Limits(max_area_km2=3.1415))
    (err,) = e.value.errors
    assert (err.field, err.code) == ("", "area_too_large")
    assert err.detail == {"area_km2": pytest.approx(km2), "limit_km2": 3.1415}
    assert err.message == "footprint area 3 km2 exceeds the limit of 3 km2"


def test_the_area_limit_for_a_corridor_counts_both_sides_and_the_ends() -> None:
    from pyproj import Geod

    _, _, length = Geod(ellps="WGS84").inv(36.0, 35.0, 36.1, 35.0)
    w = 100.0
    km2 = (2 * w * length + math.pi * w * w) / 1e6
    corridor = K([[36, 35], [36.1, 35]], w)
    parse(corridor, Limits(max_area_km2=km2 * 1.0001))
    assert refusal(corridor, Limits(max_area_km2=km2 * 0.9999))[1] == "area_too_large"


def test_the_area_of_a_polygon_less_its_holes() -> None:
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    hole = [[36.02, 35.02], [36.03, 35.02], [36.03, 35.03], [36.02, 35.03], [36.02, 35.02]]
    outer, _ = geod.polygon_area_perimeter([p[0] for p in SQUARE], [p[1] for p in SQUARE])
    inner, _ = geod.polygon_area_perimeter([p[0] for p in hole], [p[1] for p in hole])
    fp = parse({"type": "Polygon", "coordinates": [SQUARE, hole]}, L)
    assert isinstance(fp, PolygonFootprint)
    assert polygon_area_m2(fp) == pytest.approx(abs(outer) - abs(inner), rel=1e-9)
    apart = [[x + 1.0, y] for x, y in hole]
    multi = parse({"type": "MultiPolygon", "coordinates": [[SQUARE], [apart]]}, L)
    assert isinstance(multi, PolygonFootprint)
    other, _ = geod.polygon_area_perimeter([p[0] for p in apart], [p[1] for p in apart])
    assert polygon_area_m2(multi) == pytest.approx(abs(outer) + abs(other), rel=1e-9)
    km2 = (abs(outer) - abs(inner)) / 1e6
    parse({"type": "Polygon", "coordinates": [SQUARE, hole]}, Limits(max_area_km2=km2 * 1.0001))
    assert refusal({"type": "Polygon", "coordinates": [SQUARE, hole]}, Limits(max_area_km2=km2 * 0.9999))[1] == (
        "area_too_large"
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (C([0, 89.01], 1), "coordinates"),
        (C([0, -89.01], 1), "coordinates"),
        (C([0, 88.0], 120_000), "coordinates"),  # its reach crosses 89
        (K([[0, 80], [0, 89.01]], 10), "coordinates[1]"),
        ({"type": "Polygon", "coordinates": [[[0, 88], [1, 88], [1, 89.2], [0, 88]]]}, "coordinates[0][2]"),
        ({"type": "Polygon", "coordinates": [[[0, 88.5], [150, 88.5], [75, 88.0], [0, 88.5]]]}, "coordinates[0][0]"),
    ],
)
def test_footprints_reaching_the_pole_cap_are_refused(raw: Any, field: str) -> None:
    assert refusal(raw)[:2] == (field, "near_pole")


def test_footprints_just_outside_the_pole_cap_are_accepted() -> None:
    parse(C([0, 88.99], 1), L)
    parse(C([0, -88.99], 1), L)
    parse({"type": "Polygon", "coordinates": [[[0, 88], [1, 88], [1, 88.9], [0, 88]]]}, L)
    parse(C([0, 84.5], 1), Limits(pole_margin_deg=5.0))
    assert refusal(C([0, 85.5], 1), Limits(pole_margin_deg=5.0))[1] == "near_pole"


def test_the_pole_messages() -> None:
    assert refusal(C([0, 89.01], 1)) == (
        "coordinates",
        "near_pole",
        "the footprint reaches within 1.0 degree of a pole; footprints there are not supported",
    )
    assert refusal({"type": "Polygon", "coordinates": [[[0, 88], [1, 88], [1, 89.2], [0, 88]]]}) == (
        "coordinates[0][2]",
        "near_pole",
        "latitude 89.2 is within 1.0 degree of a pole; footprints there are not supported",
    )


def test_a_ring_around_the_pole_is_refused() -> None:
    ring = [[0, 80], [90, 80], [180, 80], [-90, 80], [0, 80]]
    assert refusal({"type": "Polygon", "coordinates": [ring]})[:2] == ("coordinates[0]", "encloses_pole")


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "Polygon", "coordinates": [SQUARE]},
        {"type": "MultiPolygon", "coordinates": [[SQUARE], [[[37, 35], [37.1, 35], [37.1, 35.1], [37, 35]]]]},
        C([36.0, 35.0], 500.0),
        K([[36.0, 35.0], [36.1, 35.2]], 50.0),
    ],
)
def test_geojson_out_and_back(raw: Any) -> None:
    """As the API writes it (``footprint_wire``: the geometry, the number beside it) and as the store keeps
    it (``footprint_to_geojson``, read back by ``footprint_from_trusted``): the same footprint both ways."""
    fp = parse(raw, L)
    geometry, numbers = raw if isinstance(raw, tuple) else (raw, {})
    wire = footprint_wire(fp)
    assert wire == {"footprint": {**geometry, "coordinates": wire["footprint"]["coordinates"]}, **numbers}
    assert parse((wire.pop("footprint"), wire), L) == fp
    assert footprint_from_trusted(footprint_to_geojson(fp)) == fp
