"""Polygon topology refusals and display geometry (domain/footprint.py): a bow tie, a fold-back, a hole
outside its shell, overlapping holes and overlapping parts, each named with the user's edges; circles and
corridors drawn as polygons for maps, checked against pyproj's geodesic distances."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod

from deconfliction.domain.footprint import (
    CircleFootprint,
    CorridorFootprint,
    circle_polygon,
    footprint_display_geojson,
    footprint_to_geojson,
    parse_footprint,
)
from deconfliction.domain.limits import Limits
from deconfliction.errors import InvalidInput

L = Limits()
WGS84 = Geod(ellps="WGS84")


def refusal(raw: Any) -> tuple[str, str, str, dict[str, Any]]:
    with pytest.raises(InvalidInput) as e:
        parse_footprint(raw, L)
    (err,) = e.value.errors
    return err.field, err.code, err.message, err.detail


def test_a_bow_tie_names_the_two_edges_that_cross_and_where() -> None:
    bow = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    field, code, message, detail = refusal({"type": "Polygon", "coordinates": [bow]})
    assert (field, code) == ("coordinates[0]", "self_intersection")
    assert (detail["ring"], detail["edge"], detail["other_ring"], detail["other_edge"]) == (0, 0, 0, 2)
    lon, lat = detail["point"]
    # the crossing of the two geodesic diagonals, near (0.5, 0.5)
    assert abs(lon - 0.5) < 1e-6 and abs(lat - 0.5) < 1e-3
    assert message.startswith(
        "ring 0 is self-intersecting: edge 0 (positions 0 to 1) crosses edge 2 (positions 2 to 3) at ["
    )


def test_an_edge_folding_back_onto_its_neighbour() -> None:
    fold = [[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    field, code, message, detail = refusal({"type": "Polygon", "coordinates": [fold]})
    assert (field, code) == ("coordinates[0]", "self_intersection")
    assert (detail["edge"], detail["other_edge"]) == (0, 1)  # neighbours that share more than their vertex
    assert message.startswith("ring 0 is self-intersecting: edge 0 (positions 0 to 1) ")


def test_a_vertex_on_another_edge_is_named_with_both_edges() -> None:
    # (1, 0) lies on the equator, the geodesic edge from (0, 0) to (2, 0)
    ring = [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    field, code, message, detail = refusal({"type": "Polygon", "coordinates": [ring]})
    assert (field, code, detail["edge"], detail["other_edge"]) == ("coordinates[0]", "self_intersection", 0, 2)
    assert detail["point"] == pytest.approx([1.0, 0.0], abs=2e-7)  # 7 decimals, found in a projected frame
    # whether GEOS sees the vertex touch or cross the edge depends on its last bits in the projected frame
    verb = "touches" if "touches" in message else "crosses"
    assert message == (
        f"ring 0 is self-intersecting: edge 0 (positions 0 to 1) {verb} edge 2 (positions 2 to 3) at {detail['point']}"
    )


def test_a_hole_crossing_its_shell_names_both_rings() -> None:
    shell = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    hole = [[0.5, 0.5], [1.5, 0.5], [1.5, 0.6], [0.5, 0.6], [0.5, 0.5]]
    field, code, message, detail = refusal({"type": "Polygon", "coordinates": [shell, hole]})
    assert (field, code) == ("coordinates[0]", "self_intersection")
    assert (detail["ring"], detail["edge"], detail["other_ring"], detail["other_edge"]) == (0, 1, 1, 0)
    assert message.startswith("ring 0 edge 1 (positions 1 to 2) crosses ring 1 edge 0 (positions 0 to 1) at [")


def test_a_hole_outside_its_shell() -> None:
    shell = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    away = [[2.0, 2.0], [2.1, 2.0], [2.1, 2.1], [2.0, 2.0]]
    assert refusal({"type": "Polygon", "coordinates": [shell, away]})[:3] == (
        "coordinates[1]",
        "hole_outside_shell",
        "hole ring 1 is not inside the exterior ring",
    )


def test_overlapping_holes() -> None:
    shell = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    h1 = [[0.2, 0.2], [0.5, 0.2], [0.5, 0.5], [0.2, 0.5], [0.2, 0.2]]
    h2 = [[0.3, 0.3], [0.6, 0.3], [0.6, 0.6], [0.3, 0.6], [0.3, 0.3]]
    field, code, _, detail = refusal({"type": "Polygon", "coordinates": [shell, h1, h2]})
    assert (field, code) == ("coordinates[1]", "self_intersection")
    assert (detail["ring"], detail["other_ring"]) == (1, 2)
    h3 = [[0.7, 0.7], [0.8, 0.7], [0.8, 0.8], [0.7, 0.8], [0.7, 0.7]]
    parse_footprint({"type": "Polygon", "coordinates": [shell, h1, h3]}, L)


def test_overlapping_parts_of_a_multipolygon_and_parts_that_touch() -> None:
    a = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    b = [[0.5, 0.0], [1.5, 0.0], [1.5, 1.0], [0.5, 1.0], [0.5, 0.0]]
    c = [[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 0.0]]
    assert refusal({"type": "MultiPolygon", "coordinates": [[a], [c], [b]]})[:3] == (
        "coordinates[2]",
        "parts_overlap",
        "polygon 2 overlaps polygon 0 of the same MultiPolygon",
    )
    parse_footprint({"type": "MultiPolygon", "coordinates": [[a], [c]]}, L)  # along an edge: fine


def test_a_multipolygon_part_is_named_with_its_index() -> None:
    ok = [[10.0, 10.0], [11.0, 10.0], [11.0, 11.0], [10.0, 10.0]]
    bow = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    assert refusal({"type": "MultiPolygon", "coordinates": [[ok], [bow]]})[:2] == (
        "coordinates[1][0]",
        "self_intersection",
    )


@pytest.mark.parametrize("segments", [8, 64])
def test_circle_polygon_lies_on_the_geodesic_circle(segments: int) -> None:
    ring = circle_polygon((40.0, 35.0), 1500.0, segments)
    assert len(ring) == segments + 1 and ring[0] == ring[-1]
    lons, lats = np.array([p[0] for p in ring]), np.array([p[1] for p in ring])
    az, _, dist = WGS84.inv(np.full(len(ring), 40.0), np.full(len(ring), 35.0), lons, lats)
    assert np.allclose(dist, 1500.0, atol=1e-6)
    steps = np.diff(np.mod(np.asarray(az)[:-1], 360.0))
    assert np.allclose(steps, 360.0 / segments, atol=1e-6)  # evenly round, starting due north
    assert abs(np.mod(az[0], 360.0)) < 1e-9


def test_display_geojson_of_each_kind() -> None:
    square = {"type": "Polygon", "coordinates": [[[0.0, 0.0], [0.1, 0.0], [0.1, 0.1], [0.0, 0.1], [0.0, 0.0]]]}
    fp = parse_footprint(square, L)
    assert footprint_display_geojson(fp) == footprint_to_geojson(fp)
    circle = footprint_display_geojson(CircleFootprint((40.0, 35.0), 500.0))
    assert circle["type"] == "Polygon" and len(circle["coordinates"][0]) == 65
    assert circle["coordinates"][0] == [list(p) for p in circle_polygon((40.0, 35.0), 500.0)]
    corridor = footprint_display_geojson(CorridorFootprint(((40.0, 35.0), (40.1, 35.0)), 200.0))
    assert corridor["type"] == "Polygon"
    outline = shapely.geometry.shape(corridor)
    assert outline.contains(shapely.Point(40.05, 35.0))
    # the outline runs about 200 m from the path: north of the middle, and beyond each end
    xs = np.array([p[0] for p in corridor["coordinates"][0]])
    ys = np.array([p[1] for p in corridor["coordinates"][0]])
    _, _, north = WGS84.inv(40.05, 35.0, 40.05, float(ys.max()))
    _, _, west = WGS84.inv(40.0, 35.0, float(xs.min()), 35.0)
    assert abs(north - 200.0) < 2.0 and abs(west - 200.0) < 2.0
