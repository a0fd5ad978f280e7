"""GeoJSON out (domain/geojson.py): longitudes brought back into [-180, 180] and cut at the antimeridian
(RFC 7946 3.1.9), coordinates rounded to 7 decimals with points that merge written once."""

from __future__ import annotations

import shapely

from deconfliction.domain.geojson import PRECISION, to_geojson, wrapped


def test_precision_is_seven_decimals() -> None:
    assert PRECISION == 7


def test_a_geometry_inside_the_map_is_left_alone() -> None:
    edge = shapely.box(-180.0, -10.0, 180.0, 10.0)
    assert wrapped(edge) is edge
    empty = shapely.Polygon()
    assert wrapped(empty) is empty


def test_a_polygon_beyond_180_is_shifted_back() -> None:
    out = wrapped(shapely.box(181.0, 0.0, 182.0, 1.0))
    assert isinstance(out, shapely.Polygon)
    assert out.normalize().equals_exact(shapely.box(-179.0, 0.0, -178.0, 1.0).normalize(), 1e-9)
    west = wrapped(shapely.box(-200.0, 0.0, -190.0, 1.0))
    assert west.normalize().equals_exact(shapely.box(160.0, 0.0, 170.0, 1.0).normalize(), 1e-9)


def test_a_polygon_from_the_antimeridian_on_is_shifted_whole() -> None:
    # it touches the cell west of 180 along a line: that line is no piece of it
    out = wrapped(shapely.box(180.0, 0.0, 182.0, 1.0))
    assert isinstance(out, shapely.Polygon)
    assert out.normalize().equals_exact(shapely.box(-180.0, 0.0, -178.0, 1.0).normalize(), 1e-9)


def test_pieces_that_are_multipolygons_are_taken_apart() -> None:
    three = shapely.MultiPolygon(
        [shapely.box(170, 0, 171, 1), shapely.box(175, 0, 176, 1), shapely.box(181, 0, 182, 1)]
    )
    out = wrapped(three)
    assert isinstance(out, shapely.MultiPolygon)
    assert sorted(tuple(round(v, 9) for v in p.bounds) for p in out.geoms) == [
        (-179.0, 0.0, -178.0, 1.0),
        (170.0, 0.0, 171.0, 1.0),
        (175.0, 0.0, 176.0, 1.0),
    ]


def test_a_polygon_across_the_antimeridian_is_cut_in_two() -> None:
    out = wrapped(shapely.box(179.0, 0.0, 181.0, 1.0))
    assert isinstance(out, shapely.MultiPolygon)
    parts = sorted(tuple(round(v, 9) for v in p.bounds) for p in out.geoms)
    assert parts == [(-180.0, 0.0, -179.0, 1.0), (179.0, 0.0, 180.0, 1.0)]
    west = wrapped(shapely.box(-181.0, 0.0, -179.0, 1.0))
    assert sorted(tuple(round(v, 9) for v in p.bounds) for p in west.geoms) == [
        (-180.0, 0.0, -179.0, 1.0),
        (179.0, 0.0, 180.0, 1.0),
    ]


def test_lines_across_the_antimeridian_become_a_collection() -> None:
    out = wrapped(shapely.LineString([(179.0, 0.0), (181.0, 0.0)]))
    assert isinstance(out, shapely.GeometryCollection)
    assert sorted(tuple(round(v, 9) for v in g.bounds) for g in out.geoms) == [
        (-180.0, 0.0, -179.0, 0.0),
        (179.0, 0.0, 180.0, 0.0),
    ]
    one = wrapped(shapely.LineString([(181.0, 0.0), (182.0, 0.0)]))
    assert isinstance(one, shapely.LineString)
    assert [tuple(round(v, 9) for v in c) for c in one.coords] == [(-179.0, 0.0), (-178.0, 0.0)]


def test_a_mix_of_polygon_and_line_is_a_collection() -> None:
    mix = shapely.GeometryCollection([shapely.box(181.0, 0.0, 182.0, 1.0), shapely.LineString([(185, 0), (186, 0)])])
    out = wrapped(mix)
    assert isinstance(out, shapely.GeometryCollection)
    assert sorted(g.geom_type for g in out.geoms) == ["LineString", "Polygon"]


def test_a_polygon_is_written_rounded_to_seven_decimals() -> None:
    p = shapely.Polygon([(36.123456789, 35.0), (36.2, 35.0), (36.2, 35.1), (36.123456789, 35.1)])
    out = to_geojson(p)
    assert out["type"] == "Polygon"
    ring = out["coordinates"][0]
    assert [36.1234568, 35.0] in ring
    assert ring[0] == ring[-1]
    assert len(ring) == 5
    assert all(isinstance(c, list) and all(isinstance(v, float) for v in c) for c in ring)


def test_points_that_merge_on_the_grid_are_written_once() -> None:
    p = shapely.Polygon([(0.0, 0.0), (1.0, 0.0), (1.00000001, 0.00000001), (1.0, 1.0), (0.0, 1.0)])
    ring = to_geojson(p)["coordinates"][0]
    assert ring == [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]


def test_holes_follow_the_shell() -> None:
    p = shapely.box(0.0, 0.0, 10.0, 10.0).difference(shapely.box(2.0, 2.0, 3.0, 3.0))
    rings = to_geojson(p)["coordinates"]
    assert len(rings) == 2
    assert sorted(map(tuple, rings[1][:-1])) == [(2.0, 2.0), (2.0, 3.0), (3.0, 2.0), (3.0, 3.0)]


def test_a_multipolygon_and_a_cut_polygon_are_multipolygons() -> None:
    two = shapely.MultiPolygon([shapely.box(0.0, 0.0, 1.0, 1.0), shapely.box(5.0, 5.0, 6.0, 6.0)])
    # written as given, vertex for vertex (not re-noded by GEOS)
    assert to_geojson(two) == {
        "type": "MultiPolygon",
        "coordinates": [
            [[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]],
            [[[6.0, 5.0], [6.0, 6.0], [5.0, 6.0], [5.0, 5.0], [6.0, 5.0]]],
        ],
    }
    cut = to_geojson(shapely.box(179.5, 0.0, 180.5, 1.0))
    assert cut["type"] == "MultiPolygon"
    assert all(-180.0 <= x <= 180.0 for poly in cut["coordinates"] for ring in poly for x, _ in ring)


def test_other_geometries_are_snapped_to_the_grid_as_lists() -> None:
    assert to_geojson(shapely.Point(36.123456789, 35.0)) == {"type": "Point", "coordinates": [36.1234568, 35.0]}
    line = to_geojson(shapely.LineString([(0.0, 0.0), (1.000000049, 2.0)]))
    assert line == {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 2.0]]}
    empty = to_geojson(shapely.Polygon())
    assert empty["type"] == "Polygon" and list(empty["coordinates"]) == []
    coll = to_geojson(shapely.GeometryCollection([shapely.Point(1, 2), shapely.LineString([(0, 0), (1, 1)])]))
    assert coll == {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [1.0, 2.0]},
            {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]},
        ],
    }
