"""Incidents (domain/incident.py): every validation branch with the input that reaches it, each limit on
both sides, the window around the time, and nearness by geodesic distance (pyproj as the oracle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyproj import Geod

from deconfliction.domain.footprint import CircleFootprint, footprint_to_geojson
from deconfliction.domain.incident import Incident, operation_near, parse_incident, volume_near
from deconfliction.domain.volume import TimeWindow
from deconfliction.errors import InvalidInput

AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GOOD: dict[str, Any] = {"place": {"type": "Point", "coordinates": [36.0, 35.0]}, "at": "2026-11-23T08:00:00Z"}
WGS84 = Geod(ellps="WGS84")


def report(**kw: Any) -> dict[str, Any]:
    out = {**GOOD, "description": "shelling near the bridge", **kw}
    return {k: v for k, v in out.items() if v is not ...}


def problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as e:
        parse_incident(raw)
    return [(f.field, f.code) for f in e.value.errors]


def test_the_defaults() -> None:
    d = parse_incident(report(description="  shelling  "))
    assert (d.lon, d.lat, d.at, d.description) == (36.0, 35.0, AT, "shelling")
    assert (d.radius_m, d.before_s, d.after_s) == (5000.0, 3600, 3600)
    assert isinstance(d.radius_m, float)


def test_every_field_given() -> None:
    raw = report(
        place={"type": "Point", "coordinates": [-180, 90, 12.5]}, radius_m=100_000, before_s=0, after_s=604_800
    )
    d = parse_incident(raw)
    assert (d.lon, d.lat, d.radius_m, d.before_s, d.after_s) == (-180.0, 90.0, 100_000.0, 0, 604_800)
    assert isinstance(d.lon, float) and isinstance(d.radius_m, float)
    assert parse_incident(report(place={"type": "Point", "coordinates": [180, -90]})).lon == 180.0


def test_an_unknown_member_is_named() -> None:
    assert problems(report(severity="high", z=1)) == [("severity", "unknown_field"), ("z", "unknown_field")]


@pytest.mark.parametrize(
    "place",
    [
        None,
        [36.0, 35.0],
        {"type": "Polygon", "coordinates": [36.0, 35.0]},
        {"coordinates": [36.0, 35.0]},
        {"type": "Point", "coordinates": "36,35"},
        {"type": "Point", "coordinates": [36.0]},
        {"type": "Point", "coordinates": [36.0, 35.0, 1.0, 2.0]},
        {"type": "Point", "coordinates": [36.0, "35"]},
        {"type": "Point", "coordinates": [True, 35.0]},
        {"type": "Point", "coordinates": [36.0, None]},
    ],
)
def test_a_place_that_is_not_a_point_is_refused(place: object) -> None:
    assert problems(report(place=place)) == [("place", "invalid_geojson")]


def test_the_messages_say_what_is_wrong() -> None:
    def messages(raw: dict[str, Any]) -> list[str]:
        with pytest.raises(InvalidInput) as e:
            parse_incident(raw)
        return [f.message for f in e.value.errors]

    assert messages(report(place=None)) == ["place is a GeoJSON Point: [longitude, latitude]"]
    assert messages(report(place={"type": "Point", "coordinates": [181, 91]})) == [
        "longitude outside [-180, 180]",
        "latitude outside [-90, 90]",
    ]
    assert messages(report(description="x" * 4001)) == ["at most 4000 characters"]
    assert messages(report(description="")) == ["say what happened"]
    assert messages(report(radius_m=0)) == ["radius_m is above 0 and at most 100,000"]
    assert messages(report(severity=1)) == ["unknown member 'severity'"]


def test_a_point_given_as_a_tuple_is_read() -> None:
    assert parse_incident(report(place={"type": "Point", "coordinates": (36, 35)})).lat == 35.0


@pytest.mark.parametrize(
    ("coords", "expected"),
    [
        ([180.000001, 0.0], [("place.coordinates[0]", "out_of_range")]),
        ([-180.000001, 0.0], [("place.coordinates[0]", "out_of_range")]),
        ([0.0, 90.000001], [("place.coordinates[1]", "out_of_range")]),
        ([0.0, -90.000001], [("place.coordinates[1]", "out_of_range")]),
        ([200.0, -95.0], [("place.coordinates[0]", "out_of_range"), ("place.coordinates[1]", "out_of_range")]),
    ],
)
def test_a_place_off_the_globe_is_refused(coords: list[float], expected: list[tuple[str, str]]) -> None:
    assert problems(report(place={"type": "Point", "coordinates": coords})) == expected


@pytest.mark.parametrize(
    ("at", "code"),
    [(..., "invalid_time"), ("yesterday", "invalid_time"), ("2026-11-23T08:00:00", "time_without_offset")],
)
def test_a_missing_or_bad_time_is_refused(at: object, code: str) -> None:
    assert problems(report(at=at)) == [("at", code)]


@pytest.mark.parametrize("description", [..., "", "   ", 42])
def test_a_report_says_what_happened(description: object) -> None:
    assert problems(report(description=description)) == [("description", "missing_field")]


def test_a_description_of_4000_characters_at_most() -> None:
    assert parse_incident(report(description="x" * 4000)).description == "x" * 4000
    assert problems(report(description="x" * 4001)) == [("description", "too_long")]


@pytest.mark.parametrize("radius", [0, -1.0, 100_000.001, "5000", True, None])
def test_a_radius_above_0_and_at_most_100_km(radius: object) -> None:
    assert problems(report(radius_m=radius)) == [("radius_m", "out_of_range")]


def test_the_smallest_radius_is_accepted() -> None:
    assert parse_incident(report(radius_m=0.001)).radius_m == 0.001


@pytest.mark.parametrize("name", ["before_s", "after_s"])
@pytest.mark.parametrize("value", [-1, 604_801, 10.0, "60", True, None])
def test_spans_are_whole_seconds_from_0_to_a_week(name: str, value: object) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_incident(report(**{name: value}))
    assert [(f.field, f.code) for f in e.value.errors] == [(name, "out_of_range")]
    assert e.value.errors[0].message == f"{name} is a whole number of seconds, 0 to 604800"


def test_every_problem_is_reported_at_once() -> None:
    raw = {"place": None, "at": "soon", "description": "", "radius_m": 0, "before_s": -1, "after_s": -1, "x": 1}
    assert problems(raw) == [
        ("x", "unknown_field"),
        ("place", "invalid_geojson"),
        ("at", "invalid_time"),
        ("description", "missing_field"),
        ("radius_m", "out_of_range"),
        ("before_s", "out_of_range"),
        ("after_s", "out_of_range"),
    ]


def incident(radius_m: float = 5000.0, before_s: int = 600, after_s: int = 1200) -> Incident:
    return Incident("in_1", "pt_a", 36.0, 35.0, AT, "shelling", radius_m, before_s, after_s, AT)


def test_the_window_runs_from_before_to_after_the_time() -> None:
    assert incident().window == TimeWindow(AT - timedelta(seconds=600), AT + timedelta(seconds=1200))


def test_the_record() -> None:
    assert incident().record() == {
        "id": "in_1",
        "reporter": "pt_a",
        "place": {"type": "Point", "coordinates": [36.0, 35.0]},
        "at": "2026-11-23T08:00:00Z",
        "description": "shelling",
        "radius_m": 5000.0,
        "before_s": 600,
        "after_s": 1200,
        "created_at": "2026-11-23T08:00:00Z",
    }


# a circle of 100 m, 3 km due east of the place
EAST = WGS84.fwd(36.0, 35.0, 90.0, 3000.0)[:2]
CIRCLE = CircleFootprint((EAST[0], EAST[1]), 100.0)
OVERLAP = TimeWindow(AT, AT + timedelta(minutes=5))


def test_a_volume_within_the_radius_is_near_at_its_geodesic_distance() -> None:
    _, _, centre_m = WGS84.inv(36.0, 35.0, EAST[0], EAST[1])
    d = volume_near(incident(), CIRCLE, OVERLAP)
    assert d is not None
    # the place is a disc of 1 m: centre distance less both radii (two circles: measured exactly, far
    # inside the 1 m the detector promises)
    assert abs(d - (centre_m - 100.0 - 1.0)) <= 0.01


def test_a_volume_beyond_the_radius_is_not_near() -> None:
    assert volume_near(incident(radius_m=2800.0), CIRCLE, OVERLAP) is None
    assert volume_near(incident(radius_m=2950.0), CIRCLE, OVERLAP) is not None


def test_a_volume_at_another_time_is_not_near() -> None:
    before = TimeWindow(AT - timedelta(hours=1), AT - timedelta(seconds=600))  # ends where the window starts
    assert volume_near(incident(), CIRCLE, before) is None
    touching = TimeWindow(AT - timedelta(hours=1), AT - timedelta(seconds=599))
    assert volume_near(incident(), CIRCLE, touching) is not None


def record_of(*volumes: tuple[CircleFootprint, TimeWindow]) -> dict[str, Any]:
    return {
        "volumes": [
            {
                "footprint": footprint_to_geojson(fp),
                "window": {"start": w.start.isoformat(), "end": w.end.isoformat()},
            }
            for fp, w in volumes
        ]
    }


def test_an_operation_is_as_near_as_its_nearest_volume_at_the_time() -> None:
    far_lon, far_lat = WGS84.fwd(36.0, 35.0, 0.0, 4000.0)[:2]
    far = CircleFootprint((far_lon, far_lat), 100.0)
    near_late = CircleFootprint((36.0, 35.0), 100.0)  # on the place, but after the window
    late = TimeWindow(AT + timedelta(hours=2), AT + timedelta(hours=3))
    d_far = volume_near(incident(), far, OVERLAP)
    d_east = volume_near(incident(), CIRCLE, OVERLAP)
    assert d_far is not None and d_east is not None and d_east < d_far
    assert operation_near(incident(), record_of((far, OVERLAP), (CIRCLE, OVERLAP), (near_late, late))) == d_east
    assert operation_near(incident(), record_of((CIRCLE, OVERLAP), (far, OVERLAP))) == d_east
    assert operation_near(incident(), record_of((near_late, late))) is None
    assert operation_near(incident(), record_of()) is None
