"""Movement input at its edges (domain/movement.py): every branch of ``parse_movement`` and of the
schedule's checks with the input that reaches it, the limits on both sides, the exact messages, and the
times of a sweep against a schedule worked out by hand (pyproj for the route's length)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyproj import Geod

from deconfliction.domain.footprint import CircleFootprint, CorridorFootprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.movement import (
    DEFAULT_MAX_SEGMENT_M,
    HALT_M,
    MOVEMENT_FIELDS,
    MovementDraft,
    parse_movement,
    sweep_movement,
)
from deconfliction.domain.volume import AltitudeBand, TimeWindow
from deconfliction.errors import InvalidInput

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GROUND = AltitudeBand(0.0, 10.0)
ROUTE = [(40.0, 35.0), (40.01, 35.0)]
WGS84 = Geod(ellps="WGS84")


def test_constants() -> None:
    assert (DEFAULT_MAX_SEGMENT_M, HALT_M) == (500.0, 0.01)
    assert {
        "route",
        "departure",
        "speed_m_s",
        "waypoint_times",
        "half_width_m",
        "altitude",
        "tolerance_s",
    } == MOVEMENT_FIELDS


def draft(**kw: Any) -> MovementDraft:
    base: dict[str, Any] = {
        "route": ROUTE,
        "altitude": GROUND,
        "half_width_m": 50.0,
        "speed_m_s": 10.0,
        "departure": T0,
    }
    return MovementDraft(**{**base, **kw})


def refused(d: MovementDraft, limits: Limits | None = None) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidInput) as e:
        sweep_movement(d, limits=limits)
    return [(f.field, f.code, f.message) for f in e.value.errors]


def test_a_route_of_the_most_vertices_and_one_more() -> None:
    limits = Limits(max_vertices=3)
    three = [(40.0, 35.0), (40.01, 35.0), (40.02, 35.0)]
    assert sweep_movement(draft(route=three), limits=limits).length_m > 0
    assert refused(draft(route=[*three, (40.03, 35.0)]), limits) == [
        ("route", "too_many_vertices", "4 positions; at most 3")
    ]


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ((40.0,), ("route[1]", "invalid_position", "a position is [longitude, latitude]")),
        ((40.0, 35.0, 1.0, 2.0), ("route[1]", "invalid_position", "a position is [longitude, latitude]")),
        ("40,35", ("route[1]", "invalid_position", "a position is [longitude, latitude]")),
        (None, ("route[1]", "invalid_position", "a position is [longitude, latitude]")),
        ((True, 35.0), ("route[1]", "invalid_position", "longitude and latitude must be numbers")),
        ((40.0, math.nan), ("route[1]", "invalid_position", "longitude and latitude must be numbers")),
        ((40.0, "35"), ("route[1]", "invalid_position", "longitude and latitude must be numbers")),
        ((180.5, 35.0), ("route[1][0]", "out_of_range", "longitude 180.5 is outside [-180, 180]")),
        ((-180.5, 35.0), ("route[1][0]", "out_of_range", "longitude -180.5 is outside [-180, 180]")),
        ((40.0, -90.5), ("route[1][1]", "out_of_range", "latitude -90.5 is outside [-90, 90]")),
        ((40.0, 90.5), ("route[1][1]", "out_of_range", "latitude 90.5 is outside [-90, 90]")),
    ],
)
def test_each_bad_position_is_named(position: Any, expected: tuple[str, str, str]) -> None:
    assert refused(draft(route=[(40.0, 35.0), position])) == [expected]


def test_positions_may_carry_an_altitude_and_sit_at_the_limits() -> None:
    swept = sweep_movement(draft(route=[(179.99, 35.0, 5.0), (180.0, 35.0)]))
    assert swept.length_m > 0
    assert refused(draft(route=5)) == [("route", "too_few_positions", "a route needs at least 2 positions")]


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"half_width_m": True}, ("half_width_m", "invalid_number", "half_width_m must be a finite number")),
        ({"half_width_m": math.inf}, ("half_width_m", "invalid_number", "half_width_m must be a finite number")),
        ({"half_width_m": -1.0}, ("half_width_m", "out_of_range", "half_width_m must be greater than 0")),
        ({"tolerance_s": -0.5}, ("tolerance_s", "out_of_range", "tolerance_s must not be negative")),
        ({"tolerance_s": "60"}, ("tolerance_s", "invalid_number", "tolerance_s must be a finite number")),
        ({"speed_m_s": 0}, ("speed_m_s", "out_of_range", "speed_m_s must be greater than 0")),
        ({"departure": "08:00"}, ("departure", "invalid_time", "not an RFC 3339 time: '08:00'")),
        (
            {"speed_m_s": None},
            ("speed_m_s", "no_schedule", "give speed_m_s (with departure) or waypoint_times"),
        ),
        (
            {"waypoint_times": [T0, T0 + timedelta(hours=1)]},
            ("speed_m_s", "speed_and_times", "give either speed_m_s or waypoint_times, not both"),
        ),
        ({"departure": None}, ("departure", "required", "a movement with speed_m_s needs a departure time")),
    ],
)
def test_each_bad_number_or_schedule_is_named(kw: dict[str, Any], expected: tuple[str, str, str]) -> None:
    assert refused(draft(**kw)) == [expected]


def test_zero_tolerance_and_the_smallest_speed_and_width_are_accepted() -> None:
    swept = sweep_movement(draft(tolerance_s=0, speed_m_s=1e-3 * 915, half_width_m=1e-3))
    assert swept.occupied == TimeWindow(swept.departure, swept.arrival)


def timed(*times: datetime, **kw: Any) -> MovementDraft:
    return draft(speed_m_s=None, departure=kw.pop("departure", None), waypoint_times=list(times), **kw)


def test_waypoint_time_messages() -> None:
    t1 = T0 + timedelta(minutes=10)
    assert refused(timed(t1, T0)) == [
        ("waypoint_times[1]", "times_not_increasing", "waypoint_times[1] is not after waypoint_times[0]")
    ]
    assert refused(timed(T0)) == [
        ("waypoint_times", "wrong_count", "1 times for 2 waypoints; give a time for every waypoint")
    ]
    assert refused(timed(T0, t1, departure=t1)) == [
        ("departure", "departure_mismatch", "departure differs from waypoint_times[0]; omit one")
    ]
    assert sweep_movement(timed(T0, t1, departure=T0)).departure == T0


def test_a_bad_waypoint_time_stops_the_order_check() -> None:
    # the first bad time is named; the times after it are not compared with it
    t1 = T0 + timedelta(minutes=10)
    assert [(f, c) for f, c, _ in refused(timed(T0, "noon", T0, route=[*ROUTE, (40.02, 35.0)]))] == [
        ("waypoint_times[1]", "invalid_time")
    ]
    assert [(f, c) for f, c, _ in refused(timed("noon", t1))] == [("waypoint_times[0]", "invalid_time")]


def test_the_longest_window_and_one_second_more() -> None:
    hour = Limits(max_window_s=3600)
    # the tolerance counts twice: 3,000 s of travel and 300 s either side is exactly the hour
    t = T0 + timedelta(seconds=3000)
    swept = sweep_movement(timed(T0, t, tolerance_s=300.0), limits=hour)
    assert swept.occupied == TimeWindow(T0 - timedelta(seconds=300), t + timedelta(seconds=300))
    assert [(f, c) for f, c, _ in refused(timed(T0, t, tolerance_s=300.5), hour)] == [
        ("waypoint_times", "window_too_long")
    ]
    assert sweep_movement(timed(T0, T0 + timedelta(seconds=3600)), limits=hour).arrival == T0 + timedelta(hours=1)
    _, _, length = WGS84.inv(40.0, 35.0, 40.01, 35.0)
    assert refused(draft(speed_m_s=length / 3000.0, tolerance_s=301.0), hour) == [
        ("speed_m_s", "window_too_long", "the movement lasts 1.0 h with its tolerance; at most 1.0 h")
    ]


def test_a_constant_speed_drops_repeated_positions() -> None:
    route = [(40.0, 35.0), (40.0, 35.0), (40.01, 35.0), (40.01, 35.0)]
    swept = sweep_movement(draft(route=route))
    assert not any(isinstance(v.footprint, CircleFootprint) for v in swept.volumes)
    _, _, length = WGS84.inv(40.0, 35.0, 40.01, 35.0)
    assert swept.length_m == pytest.approx(length, abs=1e-6)
    travel = (swept.arrival - T0).total_seconds()
    assert length / 10.0 <= travel <= length / 10.0 + 1e-6


def test_the_schedule_of_a_timed_route_with_a_halt() -> None:
    t1, t2, t3 = (T0 + timedelta(minutes=m) for m in (10, 40, 50))
    route = [(40.0, 35.0), (40.01, 35.0), (40.01, 35.0), (40.02, 35.0)]
    swept = sweep_movement(timed(T0, t1, t2, t3, route=route, tolerance_s=60.0))
    halts = [v for v in swept.volumes if isinstance(v.footprint, CircleFootprint)]
    assert len(halts) == 1
    (halt,) = halts
    assert halt.footprint.center == (40.01, 35.0)
    assert halt.footprint.radius_m == 50.0
    assert halt.window == TimeWindow(t1 - timedelta(seconds=60), t2 + timedelta(seconds=60))
    assert (swept.departure, swept.arrival) == (T0, t3)
    assert swept.occupied == TimeWindow(T0 - timedelta(seconds=60), t3 + timedelta(seconds=60))
    corridors = [v for v in swept.volumes if isinstance(v.footprint, CorridorFootprint)]
    assert corridors[0].window.start == T0 - timedelta(seconds=60)
    assert corridors[-1].window.end == t3 + timedelta(seconds=60)
    assert [v.window.start for v in swept.volumes] == sorted(v.window.start for v in swept.volumes)


def test_too_many_halts_for_the_volumes_allowed() -> None:
    times = [T0 + timedelta(minutes=m) for m in range(5)]
    route = [(40.0, 35.0), (40.0, 35.0), (40.0, 35.0), (40.01, 35.0), (40.01, 35.0)]
    # three halts and one stretch of 913 m (two pieces of 500 m at most): five volumes
    assert len(sweep_movement(timed(*times, route=route), limits=Limits(max_volumes=5)).volumes) == 5
    assert refused(timed(*times, route=route), Limits(max_volumes=4)) == [
        ("waypoint_times", "too_many_volumes", "3 halts and 1 moving stretches need more than 4 volumes")
    ]


def test_a_route_too_long_for_the_volumes_gets_longer_pieces() -> None:
    route = [(40.0, 35.0), (40.0, 35.0), (40.033, 35.0)]
    times = [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=30)]
    _, _, length = WGS84.inv(40.0, 35.0, 40.033, 35.0)
    assert length > 2500.0
    # one halt and one stretch: room for two pieces in four volumes... less the stretch itself: 4 - 1 - 1
    swept = sweep_movement(timed(*times, route=route), limits=Limits(max_volumes=4))
    assert len(swept.volumes) == 3
    assert swept.slack_m == pytest.approx(length / 2, abs=1e-6)
    assert sweep_movement(timed(*times, route=route)).slack_m <= 500.0


def test_max_segment_must_be_a_positive_number() -> None:
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="max_segment_m must be a positive number"):
            sweep_movement(draft(), max_segment_m=bad)


JSON: dict[str, Any] = {
    "route": [[40.0, 35.0], [40.01, 35.0]],
    "departure": "2026-11-23T08:00:00Z",
    "speed_m_s": 12.5,
    "half_width_m": 50,
    "altitude": {"lower_m": 0, "upper_m": 10},
}


def problems(obj: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as e:
        parse_movement(obj, Limits())
    return [(f.field, f.code) for f in e.value.errors]


def test_parse_movement_reads_a_list_of_positions_and_defaults() -> None:
    d = parse_movement(JSON, Limits())
    assert d.route == [(40.0, 35.0), (40.01, 35.0)]
    assert (d.half_width_m, d.speed_m_s, d.tolerance_s, d.waypoint_times) == (50, 12.5, 0.0, None)
    assert d.altitude == GROUND and d.departure == T0
    timed_json = {
        **JSON,
        "speed_m_s": None,
        "departure": None,
        "waypoint_times": ["2026-11-23T08:00:00Z", "2026-11-23T09:00:00+01:00"],
    }
    d = parse_movement(timed_json, Limits())
    assert d.waypoint_times == [T0, T0] and d.departure is None
    odd = parse_movement({**JSON, "route": [[40.0, 35.0], "x"]}, Limits())
    assert odd.route == [(40.0, 35.0), "x"]  # what is not a position is named by the sweep


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"route": {"type": "Point", "coordinates": [[40.0, 35.0], [40.1, 35.0]]}},
         [("route.type", "invalid_geojson")]),
        ({"route": {"type": "LineString"}}, [("route", "invalid_geojson")]),
        ({"route": "40,35 40.1,35"}, [("route", "invalid_geojson")]),
        ({"altitude": None}, [("altitude", "required")]),
        ({"altitude": [0, 10]}, [("altitude", "required")]),
        ({"altitude": {"lower_m": "0", "upper_m": 10}}, [("altitude", "invalid_number")]),
        ({"altitude": {"lower_m": 0, "upper_m": 10, "reference": "AMSL"}},
         [("altitude.reference", "unsupported_reference")]),
        ({"waypoint_times": "2026-11-23T08:00:00Z"}, [("waypoint_times", "invalid_time")]),
        ({"waypoint_times": ["2026-11-23T08:00:00Z", "noon"]}, [("waypoint_times[1]", "invalid_time")]),
        ({"departure": 8}, [("departure", "invalid_time")]),
    ],
)  # fmt: skip
def test_parse_movement_refusals(change: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems({**JSON, **change}) == expected


def test_parse_movement_messages() -> None:
    def messages(obj: Any) -> list[str]:
        with pytest.raises(InvalidInput) as e:
            parse_movement(obj, Limits())
        return [f.message for f in e.value.errors]

    assert messages({**JSON, "route": {"type": "Point", "coordinates": [[1, 2], [3, 4]]}}) == [
        "the route is a GeoJSON LineString"
    ]
    assert messages({**JSON, "route": 5}) == ["the route is a LineString or a list of positions"]
    assert messages({**JSON, "altitude": 5}) == ["altitude is {lower_m, upper_m}"]
    assert messages({**JSON, "altitude": {"lower_m": None, "upper_m": 1}}) == [
        "lower_m and upper_m must be numbers of metres"
    ]
    assert messages({**JSON, "waypoint_times": 5}) == ["waypoint_times is a list of RFC 3339 times"]
    assert messages(5) == ["a movement is a JSON object"]
    assert messages({**JSON, "x": 1}) == ["unknown field for a movement"]
    with pytest.raises(InvalidInput) as e:
        sweep_movement(draft(route=[(40.0, 35.0), (40.0, 35.0)]))
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        ("route", "degenerate_path", "the route has no length")
    ]


def test_parse_movement_refuses_what_is_not_an_object() -> None:
    assert problems(["route"]) == [("", "invalid_movement")]
    assert problems({**JSON, "speed": 1, "colour": 2}) == [("colour", "unknown_field"), ("speed", "unknown_field")]


def test_parse_movement_reports_every_problem_at_once() -> None:
    bad = {**JSON, "route": 5, "altitude": None, "waypoint_times": 5, "departure": "x"}
    assert problems(bad) == [
        ("route", "invalid_geojson"),
        ("altitude", "required"),
        ("waypoint_times", "invalid_time"),
        ("departure", "invalid_time"),
    ]
