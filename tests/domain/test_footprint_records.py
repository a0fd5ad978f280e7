"""A footprint rebuilt from a stored volume (domain/footprint.py ``footprint_of_volume``): the RFC 7946
geometry with its number beside it, and the service's own shapes of records written before."""

from __future__ import annotations

from deconfliction.domain.footprint import (
    CircleFootprint,
    CorridorFootprint,
    PolygonFootprint,
    footprint_of_volume,
)

RING = [[36.0, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.0]]


def test_a_point_with_radius_m_is_a_circle() -> None:
    volume = {"footprint": {"type": "Point", "coordinates": [36.5, 35.25]}, "radius_m": 750.0, "half_width_m": 9.0}
    assert footprint_of_volume(volume) == CircleFootprint((36.5, 35.25), 750.0)


def test_a_linestring_with_half_width_m_is_a_corridor() -> None:
    line = [[36.0, 35.0, 120.0], [36.2, 35.1], [36.3, 35.3]]  # a third coordinate is not part of the path
    volume = {"footprint": {"type": "LineString", "coordinates": line}, "half_width_m": 250.0, "radius_m": 9.0}
    assert footprint_of_volume(volume) == CorridorFootprint(((36.0, 35.0), (36.2, 35.1), (36.3, 35.3)), 250.0)


def test_polygons_and_the_records_written_before_rfc_7946() -> None:
    assert footprint_of_volume({"footprint": {"type": "Polygon", "coordinates": [RING]}}) == PolygonFootprint(
        (tuple(tuple((p[0], p[1]) for p in r) for r in [RING]),)
    )
    multi = footprint_of_volume({"footprint": {"type": "MultiPolygon", "coordinates": [[RING], [RING]]}})
    assert isinstance(multi, PolygonFootprint) and multi.multi and len(multi.polygons) == 2
    old_circle = {"footprint": {"type": "Circle", "center": [36.5, 35.25], "radius_m": 750.0}}
    assert footprint_of_volume(old_circle) == CircleFootprint((36.5, 35.25), 750.0)
    old_corridor = {"footprint": {"type": "Corridor", "path": [[36.0, 35.0], [36.2, 35.1]], "half_width_m": 250.0}}
    assert footprint_of_volume(old_corridor) == CorridorFootprint(((36.0, 35.0), (36.2, 35.1)), 250.0)


def test_the_store_s_own_records_round_trip() -> None:
    from deconfliction.domain.footprint import footprint_from_trusted, footprint_to_geojson

    corridor = CorridorFootprint(((36.0, 35.0), (36.2, 35.1)), 250.0)
    assert footprint_to_geojson(corridor) == {
        "type": "Corridor",
        "path": [[36.0, 35.0], [36.2, 35.1]],
        "half_width_m": 250.0,
    }
    circle = CircleFootprint((36.5, 35.25), 750.0)
    assert footprint_to_geojson(circle) == {"type": "Circle", "center": [36.5, 35.25], "radius_m": 750.0}
    polygon = footprint_from_trusted({"type": "Polygon", "coordinates": [RING]})
    multi = footprint_from_trusted({"type": "MultiPolygon", "coordinates": [[RING], [RING]]})
    for fp in (corridor, circle, polygon, multi):
        assert footprint_from_trusted(footprint_to_geojson(fp)) == fp
