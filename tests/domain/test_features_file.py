"""The operations file (domain/features.py): a FeatureCollection read into operations, each bad feature
named at its own path, circles and corridors as Point and LineString with their numbers beside, and the
round trip with ``volume_feature``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from deconfliction.domain.features import PROPERTIES, parse_feature, parse_feature_collection, volume_feature
from deconfliction.domain.footprint import CircleFootprint, CorridorFootprint, PolygonFootprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow
from deconfliction.errors import InvalidInput

L = Limits()
SQUARE = [[[36.0, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.1], [36.0, 35.0]]]
PROPS: dict[str, Any] = {
    "operation": "ALPHA-1",
    "party": "Alpha",
    "kind": "ground",
    "lower_m": 0,
    "upper_m": 300.5,
    "start": "2026-11-23T08:00:00Z",
    "end": "2026-11-23T10:00:00Z",
}


def feature(geometry: Any = None, **props: Any) -> dict[str, Any]:
    p = {**PROPS, **props}
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": SQUARE} if geometry is None else geometry,
        "properties": {k: v for k, v in p.items() if v is not ...},
    }


def problems(raw: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as e:
        parse_feature(raw, L)
    return [(f.field, f.code) for f in e.value.errors]


def test_the_properties_known() -> None:
    assert {
        "operation", "party", "kind", "lower_m", "upper_m", "start", "end",
        "radius_m", "half_width_m", "priority", "title", "state", "id",
    } == PROPERTIES  # fmt: skip


def test_a_polygon_feature() -> None:
    name, party, kind, priority, title, v = parse_feature(feature(priority=7, title="patrol"), L)
    assert (name, party, kind, priority, title) == ("ALPHA-1", "Alpha", OperationKind.GROUND, 7, "patrol")
    assert isinstance(v.footprint, PolygonFootprint)
    assert v.altitude == AltitudeBand(0.0, 300.5)
    t0, t1 = datetime(2026, 11, 23, 8, tzinfo=UTC), datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert v.window == TimeWindow(t0, t1)


def test_the_defaults() -> None:
    name, party, kind, priority, title, _ = parse_feature(feature(operation=..., kind=...), L)
    assert (name, party, kind, priority, title) == (None, "Alpha", OperationKind.AIR, 0, "")
    assert parse_feature(feature(operation=12), L)[0] == "12"


def test_a_point_with_a_radius_is_a_circle_and_a_line_with_a_half_width_a_corridor() -> None:
    v = parse_feature(feature({"type": "Point", "coordinates": [36.0, 35.0]}, radius_m=500), L)[5]
    assert v.footprint == CircleFootprint((36.0, 35.0), 500.0)
    line = {"type": "LineString", "coordinates": [[36.0, 35.0], [36.2, 35.1]]}
    v = parse_feature(feature(line, half_width_m=250), L)[5]
    assert v.footprint == CorridorFootprint(((36.0, 35.0), (36.2, 35.1)), 250.0)


@pytest.mark.parametrize("raw", [None, [], {"type": "Polygon"}, {"geometry": None}])
def test_not_a_feature(raw: Any) -> None:
    assert problems(raw) == [("", "invalid_geojson")]
    with pytest.raises(InvalidInput, match=r"^expected a GeoJSON Feature$"):
        parse_feature(raw, L)


def test_the_messages_of_a_feature() -> None:
    def messages(raw: Any) -> list[str]:
        with pytest.raises(InvalidInput) as e:
            parse_feature(raw, L)
        return [f.message for f in e.value.errors]

    assert messages({**feature(), "properties": 5}) == ["properties must be an object"]
    assert messages({**feature(), "geometry": 5}) == ["a feature needs a geometry object"]
    assert messages(feature(colour=1)) == [
        "unknown property; expected some of ['end', 'half_width_m', 'id', 'kind', 'lower_m', 'operation', 'party', "
        "'priority', 'radius_m', 'start', 'state', 'title', 'upper_m']"
    ]
    assert messages(feature(party="")) == ["every feature names its party"]
    assert messages(feature(kind="x")) == ["kind is one of air, ground, maritime"]
    assert messages(feature(priority=-1)) == ["priority is an integer from 0 to 100"]
    assert messages(feature(lower_m="1")) == ["lower_m must be a number of metres"]


def test_properties_must_be_an_object_and_none_is_no_properties() -> None:
    assert problems({**feature(), "properties": ["party"]}) == [("properties", "invalid_geojson")]
    found = problems({**feature(), "properties": None})
    assert ("properties.party", "missing_field") in found


def test_unknown_properties_and_a_missing_party_are_named() -> None:
    assert problems(feature(colour="red", party=...)) == [
        ("properties.colour", "unknown_field"),
        ("properties.party", "missing_field"),
    ]
    assert problems(feature(party="  ")) == [("properties.party", "missing_field")]
    assert problems(feature(party=3)) == [("properties.party", "missing_field")]


def test_a_bad_kind_is_named() -> None:
    assert problems(feature(kind="space")) == [("properties.kind", "invalid_value")]


@pytest.mark.parametrize("priority", [-1, 101, 1.5, True, "1"])
def test_priority_is_an_integer_from_0_to_100(priority: Any) -> None:
    assert problems(feature(priority=priority)) == [("properties.priority", "invalid_value")]


@pytest.mark.parametrize("priority", [0, 100])
def test_priority_edges_are_accepted(priority: int) -> None:
    assert parse_feature(feature(priority=priority), L)[3] == priority


def test_a_missing_geometry_is_named() -> None:
    assert problems({**feature(), "geometry": None}) == [("geometry", "invalid_geojson")]


def test_a_polygon_error_is_named_under_geometry() -> None:
    found = problems(feature({"type": "Polygon", "coordinates": [[[36.0, 35.0], [36.1, 35.0]]]}))
    assert found and all(f.startswith("geometry.coordinates") for f, _ in found)
    assert problems(feature({"type": "Hexagon"})) == [("geometry.type", "invalid_geojson")]


def test_circle_errors_are_named_where_the_numbers_are() -> None:
    point = {"type": "Point", "coordinates": [36.0, 95.0]}
    found = problems(feature(point, radius_m=500))
    assert found and all(f.startswith("geometry.coordinates") for f, _ in found)
    assert problems(feature({"type": "Point", "coordinates": [36.0, 35.0]})) == [("properties.radius_m", "required")]
    assert problems(feature({"type": "Point", "coordinates": [36.0, 35.0]}, radius_m=-5))[0][0] == "properties.radius_m"


def test_an_error_of_the_whole_circle_is_named_at_the_geometry() -> None:
    # 300 km of radius is 283,000 km2, past the 250,000 km2 limit: an error of no one field
    found = problems(feature({"type": "Point", "coordinates": [36.0, 35.0]}, radius_m=300_000))
    assert found == [("geometry", "area_too_large")]


def test_corridor_errors_are_named_where_the_numbers_are() -> None:
    assert problems(feature({"type": "LineString", "coordinates": [[36.0, 35.0]]}, half_width_m=10)) == [
        ("geometry.coordinates", "invalid_geojson")
    ]
    found = problems(feature({"type": "LineString", "coordinates": [[36.0, 35.0], [36.0, 99.0]]}, half_width_m=10))
    assert found and all(f.startswith("geometry.coordinates[1]") for f, _ in found)
    line = {"type": "LineString", "coordinates": [[36.0, 35.0], [36.1, 35.0]]}
    assert problems(feature(line)) == [("properties.half_width_m", "required")]


def test_time_and_altitude_errors_are_named_under_properties() -> None:
    assert problems(feature(start=..., end="2026-11-23T07:00:00Z")) == [("properties.start", "invalid_time")]
    assert problems(feature(end="2026-11-23T07:00:00Z")) == [("properties.end", "window_inverted")]
    assert problems(feature(end="later")) == [("properties.end", "invalid_time")]
    assert problems(feature(lower_m="0")) == [("properties.lower_m", "invalid_number")]
    assert problems(feature(upper_m=True)) == [("properties.upper_m", "invalid_number")]
    assert problems(feature(lower_m=500)) == [("properties.lower_m", "altitude_inverted")]
    assert problems(feature(upper_m=200_000)) == [("properties.upper_m", "out_of_range")]


def test_every_problem_of_a_feature_at_once() -> None:
    found = problems(feature({"type": "Hexagon"}, party=..., kind="x", start="x", lower_m=None, priority=-1))
    assert found == [
        ("properties.party", "missing_field"),
        ("properties.kind", "invalid_value"),
        ("geometry.type", "invalid_geojson"),
        ("properties.start", "invalid_time"),
        ("properties.lower_m", "invalid_number"),
        ("properties.priority", "invalid_value"),
    ]


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def test_features_sharing_an_operation_are_one_operation() -> None:
    ops = parse_feature_collection(
        collection(
            feature(priority=3, title="first"),
            feature(operation="B", party="Bravo"),
            feature(start="2026-11-23T11:00:00Z", end="2026-11-23T12:00:00Z", priority=9, title="second"),
            feature(operation=...),
        ),
        L,
    )
    assert [(o.name, o.party, o.kind, o.priority, o.title, len(o.volumes)) for o in ops] == [
        ("ALPHA-1", "Alpha", OperationKind.GROUND, 3, "first", 2),
        ("B", "Bravo", OperationKind.GROUND, 0, "", 1),
        ("feature-3", "Alpha", OperationKind.GROUND, 0, "", 1),
    ]
    assert ops[0].volumes[1].window.start == datetime(2026, 11, 23, 11, tzinfo=UTC)
    assert parse_feature_collection(collection(), L) == []


@pytest.mark.parametrize("raw", [None, {"type": "Feature"}, {"features": []}])
def test_not_a_collection(raw: Any) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_feature_collection(raw, L)
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        ("", "invalid_geojson", "expected a GeoJSON FeatureCollection")
    ]


def test_features_must_be_a_list() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_feature_collection({"type": "FeatureCollection", "features": {}}, L)
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        ("features", "invalid_geojson", "features must be a list")
    ]


def test_every_bad_feature_is_named_at_its_index() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_feature_collection(collection(feature(), feature(party=...), None, feature(kind="x")), L)
    assert [(f.field, f.code) for f in e.value.errors] == [
        ("features[1].properties.party", "missing_field"),
        ("features[2]", "invalid_geojson"),
        ("features[3].properties.kind", "invalid_value"),
    ]


@pytest.mark.parametrize("change", [{"party": "Bravo"}, {"kind": "air"}])
def test_one_operation_has_one_party_and_one_kind(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_feature_collection(collection(feature(), feature(**change)), L)
    assert [(f.field, f.code) for f in e.value.errors] == [("features", "inconsistent_operation")]
    assert e.value.errors[0].message == "operation 'ALPHA-1' has features with different party or kind"


def test_a_priority_or_title_may_differ_within_an_operation() -> None:
    (op,) = parse_feature_collection(collection(feature(priority=1), feature(priority=2, title="x")), L)
    assert (op.priority, op.title, len(op.volumes)) == (1, "", 2)


@pytest.mark.parametrize(
    ("geometry", "extra"),
    [
        (None, {}),
        ({"type": "Point", "coordinates": [36.0, 35.0]}, {"radius_m": 500.0}),
        ({"type": "LineString", "coordinates": [[36.0, 35.0], [36.2, 35.1]]}, {"half_width_m": 250.0}),
        ({"type": "MultiPolygon", "coordinates": [SQUARE]}, {}),
    ],
)
def test_volume_feature_round_trips(geometry: Any, extra: dict[str, Any]) -> None:
    raw = feature(geometry, **extra)
    name, party, kind, _, _, v = parse_feature(raw, L)
    assert name is not None
    out = volume_feature(name, party, kind, v, priority=4)
    assert out == {
        "type": "Feature",
        "geometry": raw["geometry"],
        "properties": {
            "operation": "ALPHA-1",
            "party": "Alpha",
            "kind": "ground",
            "lower_m": 0.0,
            "upper_m": 300.5,
            "start": "2026-11-23T08:00:00Z",
            "end": "2026-11-23T10:00:00Z",
            "priority": 4,
            **extra,
        },
    }
    assert parse_feature(out, L)[5] == v
