"""The whole file dialect (domain/features.py ``parse_document``): movements, zones and sites beside
operations, what each reads from its feature, and every refusal at the feature's own path with its exact
code and message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from deconfliction.domain.features import (
    DeclaredSite,
    Document,
    movement_path,
    object_of,
    parse_document,
)
from deconfliction.domain.limits import Limits
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import SiteCategory, SitePoint
from deconfliction.domain.volume import TimeWindow
from deconfliction.errors import FieldError, InvalidInput

L = Limits()
SQUARE = [[[36.0, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.1], [36.0, 35.0]]]
START, END = "2026-11-23T08:00:00Z", "2026-11-23T10:00:00Z"
T0, T1 = datetime(2026, 11, 23, 8, tzinfo=UTC), datetime(2026, 11, 23, 10, tzinfo=UTC)


def feature(geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def zone(**props: Any) -> dict[str, Any]:
    base = {"object": "zone", "name": "North", "party": "Alpha", "counterparties": ["Bravo"], "start": START}
    return feature({"type": "Polygon", "coordinates": SQUARE}, **{**base, "end": END, **props})


def site(geometry: Any = None, **props: Any) -> dict[str, Any]:
    base = {"object": "site", "name": "Clinic", "party": "Alpha", "category": "hospital"}
    return feature(geometry or {"type": "Point", "coordinates": [36.05, 35.05]}, **{**base, **props})


def movement(**props: Any) -> dict[str, Any]:
    base = {
        "object": "movement",
        "operation": "CONVOY",
        "party": "Alpha",
        "departure": START,
        "speed_m_s": 10.0,
        "half_width_m": 50,
        "altitude": {"lower_m": 0, "upper_m": 10},
    }
    return feature({"type": "LineString", "coordinates": [[36.0, 35.0], [36.05, 35.0]]}, **{**base, **props})


def operation() -> dict[str, Any]:
    props = {"operation": "OP-1", "party": "Alpha", "kind": "air", "lower_m": 0, "upper_m": 300}
    return feature({"type": "Polygon", "coordinates": SQUARE}, **{**props, "start": START, "end": END})


def doc(*features: Any) -> Document:
    return parse_document({"type": "FeatureCollection", "features": list(features)}, L)


def refused(*features: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidInput) as err:
        doc(*features)
    return [(e.field, e.code, e.message) for e in err.value.errors]


def test_object_of_reads_the_object_or_operation() -> None:
    assert object_of({"properties": {"object": "zone"}}) == "zone"
    assert object_of({"properties": {"party": "A"}}) == "operation"
    assert object_of({"properties": None}) == "operation"
    assert object_of(["not", "a", "feature"]) == "operation"
    assert object_of({"properties": {"object": 7}}) == "7"


def test_movement_path_puts_the_route_in_the_geometry_and_the_rest_in_properties() -> None:
    e = FieldError("route[2][0]", "out_of_range", "m", {"k": 1})
    assert movement_path(e) == FieldError("geometry[2][0]", "out_of_range", "m", {"k": 1})
    assert movement_path(FieldError("route", "c", "m")) == FieldError("geometry", "c", "m")
    assert movement_path(FieldError("route.type", "c", "m")) == FieldError("geometry.type", "c", "m")
    assert movement_path(FieldError("routes", "c", "m")) == FieldError("properties.routes", "c", "m")
    assert movement_path(FieldError("speed_m_s", "c", "m")) == FieldError("properties.speed_m_s", "c", "m")
    assert movement_path(FieldError("", "c", "m")) == FieldError("properties", "c", "m")


def test_a_document_of_every_object() -> None:
    d = doc(operation(), zone(), site(radius_m=150, accuracy_m=12.5), movement(kind="air", priority=2, title="T"))
    assert [o.name for o in d.operations] == ["OP-1", "CONVOY"]  # operations first, then movements
    convoy = d.operations[1]
    assert (convoy.party, convoy.kind, convoy.priority, convoy.title) == ("Alpha", OperationKind.AIR, 2, "T")
    assert len(convoy.volumes) >= 1 and convoy.volumes[0].window.start == T0
    (z,) = d.zones
    assert (z.name, z.party, z.counterparties, z.validity, z.agreed) == (
        "North",
        "Alpha",
        ("Bravo",),
        TimeWindow(T0, T1),
        True,
    )
    assert [tuple(p) for p in z.footprint.polygons[0][0]] == [tuple(p) for p in SQUARE[0]]
    assert d.sites == [DeclaredSite("Clinic", "Alpha", SiteCategory.HOSPITAL, SitePoint((36.05, 35.05)), 150.0, 12.5)]
    assert type(d.sites[0].radius_m) is float and type(d.sites[0].accuracy_m) is float


def test_defaults_of_movements_zones_and_sites() -> None:
    d = doc(movement(operation=None, id="mv_7"), movement(operation=None), zone(name=7))
    assert [o.name for o in d.operations] == ["mv_7", "feature-1"]
    assert all(o.kind is OperationKind.GROUND and o.priority == 0 and o.title == "" for o in d.operations)
    assert d.zones[0].name == "7"
    assert doc(zone(state="proposed")).zones[0].agreed is False
    assert doc(zone(state="agreed")).zones[0].agreed is True
    nameless = doc(feature(zone()["geometry"], **{k: v for k, v in zone()["properties"].items() if k != "name"}))
    assert nameless.zones[0].name == ""
    s = doc(feature(site()["geometry"], object="site", party="Alpha", category="school")).sites[0]
    assert (s.name, s.radius_m, s.accuracy_m) == ("", 0.0, 0.0)


def test_the_document_itself_must_be_a_feature_collection_of_a_list() -> None:
    for bad in ([], {"type": "Feature"}, {"features": []}):
        with pytest.raises(InvalidInput) as err:
            parse_document(bad, L)
        assert err.value.errors == [FieldError("", "invalid_geojson", "expected a GeoJSON FeatureCollection")]
    with pytest.raises(InvalidInput) as err:
        parse_document({"type": "FeatureCollection", "features": {}}, L)
    assert err.value.errors == [FieldError("features", "invalid_geojson", "features must be a list")]
    assert doc() == Document([], [], [])


def test_an_unknown_object_and_properties_that_are_not_an_object() -> None:
    assert refused(feature(None, object="lake")) == [
        ("features[0].properties.object", "invalid_value", "object is one of operation, movement, zone, site")
    ]
    for bare in (["not a feature"], {"type": "Feature", "properties": ["object", "zone"]}):
        # no properties object: read as an operation, refused as one
        assert all(f.startswith("features[0]") for f, _, _ in refused(bare))


def test_a_zone_refused_field_by_field() -> None:
    assert refused(zone(party=" ")) == [
        ("features[0].properties.party", "missing_field", "every feature names its party")
    ]
    assert refused(zone(party=3)) == [
        ("features[0].properties.party", "missing_field", "every feature names its party")
    ]
    assert refused(zone(end=START)) == [
        ("features[0].properties.end", "empty_window", "a zone's end is after its start")
    ]
    earlier = "2026-11-23T07:59:59Z"
    assert refused(zone(end=earlier))[0][:2] == ("features[0].properties.end", "empty_window")
    assert [f for f, _, _ in refused(zone(start="noon"))] == ["features[0].properties.start"]
    assert [f for f, _, _ in refused(zone(end="noon"))] == ["features[0].properties.end"]
    need = ("features[0].properties.counterparties", "required", "a zone names its counter-parties")
    for bad in ([], "Bravo", ["Bravo", " "], ["Bravo", 3], None):
        assert refused(zone(counterparties=bad)) == [need]
    point = feature({"type": "Point", "coordinates": [36, 35]}, **zone()["properties"])
    assert refused(point) == [
        ("features[0].geometry.type", "not_a_polygon", "a zone is a Polygon or MultiPolygon; got Point")
    ]
    # every bad field of one zone at once
    assert [c for _, c, _ in refused(zone(party="", end=START, counterparties=[]))] == [
        "missing_field",
        "empty_window",
        "required",
    ]


def test_a_site_refused_field_by_field() -> None:
    assert refused(site(category="castle")) == [
        (
            "features[0].properties.category",
            "unknown_category",
            "category must be one of hospital, school, shelter, warehouse, office, other; got 'castle'",
        )
    ]
    for k in ("radius_m", "accuracy_m"):
        for bad in (-0.5, True, "5", float("inf"), None):
            assert refused(site(**{k: bad})) == [
                (f"features[0].properties.{k}", "out_of_range", f"{k} must be a number of metres >= 0")
            ]
        assert getattr(doc(site(**{k: 0})).sites[0], k) == 0.0
    fields = [f for f, _, _ in refused(site({"type": "LineString", "coordinates": [[36, 35], [36.1, 35]]}))]
    assert fields == ["features[0].geometry.type"]
    assert [c for _, c, _ in refused(site(party="", category="x", radius_m=-1))] == [
        "missing_field",
        "unknown_category",
        "out_of_range",
    ]


def test_a_movement_refused_at_its_features_paths() -> None:
    assert refused(movement(party="")) == [
        ("features[0].properties.party", "missing_field", "every feature names its party")
    ]
    fields = [f for f, _, _ in refused(movement(speed_m_s=-1))]
    assert fields and all(f.startswith("features[0].properties.speed_m_s") for f in fields)
    bad_route = feature({"type": "Polygon", "coordinates": SQUARE}, **movement()["properties"])
    assert refused(bad_route)[0][0] == "features[0].geometry.type"
    assert refused(movement(kind="submarine")) == [
        ("features[0].properties", "invalid_value", "'submarine' is not a valid OperationKind")
    ]
    assert refused(movement(priority="high"))[0][:2] == ("features[0].properties", "invalid_value")


def test_every_bad_feature_is_named_by_its_index_in_one_refusal() -> None:
    got = refused(zone(), site(category="castle"), operation(), zone(counterparties=[]))
    assert [f for f, _, _ in got] == ["features[1].properties.category", "features[3].properties.counterparties"]
