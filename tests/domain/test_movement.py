"""Movements swept into Volume4D (``domain/movement.py``) against a brute-force, time-stepped oracle.

The oracle here shares nothing with the sweep: it places the movement every second along its route with
pyproj's geodesics (``Geod.inv`` / ``Geod.fwd``) at the scheduled speed, takes every place the timing
tolerance allows (the route between the points scheduled ``tolerance_s`` before and after), and measures
in its own azimuthal equidistant frame (PROJ ``aeqd``, GEOS distances; within a millimetre over the
few kilometres the scenarios span).

* **Containment**: every sampled (place, time) lies on the core of a volume whose window holds that time
  (so the disc of the half-width around it lies in that volume's footprint).
* **Little more**: every sampled (place, time) a volume claims lies within the sweep's stated
  ``slack_m`` of a place the movement can occupy at that time.
* **Conflicts**: two movements of different parties conflict per ``conflict.detect`` whenever the oracle
  finds them closer than the ground-ground rule at the same second (by more than the detector's 1 m), and
  never when the oracle finds them farther than the rule plus both slacks plus the oracle's own sampling
  error (half a second of travel, 5 m of route sampling).
* The issue's cases: convoys on crossing roads an hour apart do not conflict, at the same time they do; a
  convoy passing a protected site's circle conflicts, and only around the time it passes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from deconfliction.domain.conflict import detect, occupancies
from deconfliction.domain.footprint import CircleFootprint, CorridorFootprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.movement import (
    DEFAULT_MAX_SEGMENT_M,
    MovementDraft,
    SweptMovement,
    parse_movement,
    sweep_movement,
)
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.policy import OperationKind, SeparationPolicy
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.errors import InvalidInput
from tests.oracle import examples
from tests.shapes import circle, parse_shape

GEOD = Geod(ellps="WGS84")
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GROUND = AltitudeBand(0.0, 10.0)
POLICY = SeparationPolicy()
SEPARATION_M = POLICY.rule(OperationKind.GROUND, OperationKind.GROUND).horizontal_m
F64 = np.ndarray[Any, np.dtype[np.float64]]


def seconds(t: datetime) -> float:
    return (t - T0).total_seconds()


# ---------------------------------------------------------------------------------------------- oracle


@dataclass
class Truth:
    """Where a movement can be, from its waypoints and schedule alone."""

    lons: F64
    lats: F64
    times: F64
    """Seconds after T0 at every waypoint."""
    tolerance_s: float
    half_width_m: float

    def __post_init__(self) -> None:
        az, _, dist = GEOD.inv(self.lons[:-1], self.lats[:-1], self.lons[1:], self.lats[1:])
        self.azimuths = np.asarray(az, dtype=np.float64)
        self.along = np.concatenate(([0.0], np.cumsum(dist)))
        speeds = np.diff(self.along) / np.diff(self.times)
        self.max_speed = float(speeds.max())

    @property
    def occupied(self) -> tuple[float, float]:
        return float(self.times[0]) - self.tolerance_s, float(self.times[-1]) + self.tolerance_s

    def along_at(self, t: F64) -> F64:
        """Route distance scheduled at ``t`` (a halt is a flat stretch)."""
        out: F64 = np.interp(t, self.times, self.along)
        return out

    def points(self, s: F64) -> tuple[F64, F64]:
        """The route points ``s`` metres from the start (on the geodesic of their leg)."""
        i = np.clip(np.searchsorted(self.along, s, side="right") - 1, 0, self.along.size - 2)
        lon, lat, _ = GEOD.fwd(self.lons[i], self.lats[i], self.azimuths[i], s - self.along[i])
        return np.asarray(lon), np.asarray(lat)

    def reachable(self, t: float) -> tuple[float, float] | None:
        """The stretch of route [s0, s1] the movement can be on at ``t`` (None outside its occupancy)."""
        lo, hi = max(t - self.tolerance_s, self.times[0]), min(t + self.tolerance_s, self.times[-1])
        if lo > hi:
            return None
        s = self.along_at(np.array([lo, hi]))
        return float(s[0]), float(s[1])


class Frame:
    """PROJ's ellipsoidal azimuthal equidistant projection centred on the scenario."""

    def __init__(self, lon: float, lat: float) -> None:
        self._to = Transformer.from_crs(
            "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m", always_xy=True
        )

    def xy(self, lons: F64, lats: F64) -> F64:
        x, y = self._to.transform(lons, lats)
        return np.column_stack((np.asarray(x), np.asarray(y)))


def dense_geodesic(positions: Sequence[tuple[float, float]], step_m: float = 5.0) -> tuple[F64, F64]:
    lons = [positions[0][0]]
    lats = [positions[0][1]]
    for (x0, y0), (x1, y1) in itertools.pairwise(positions):
        az, _, d = GEOD.inv(x0, y0, x1, y1)
        n = max(1, math.ceil(d / step_m))
        lo, la, _ = GEOD.fwd(np.full(n, x0), np.full(n, y0), np.full(n, az), d * np.arange(1, n + 1) / n)
        lons.extend(np.asarray(lo).tolist())
        lats.extend(np.asarray(la).tolist())
    return np.array(lons), np.array(lats)


def core_geometry(v: Volume4D, frame: Frame) -> tuple[Any, float]:
    """A volume's core in the frame and its buffer radius."""
    fp = v.footprint
    if isinstance(fp, CircleFootprint):
        return shapely.Point(frame.xy(np.array([fp.center[0]]), np.array([fp.center[1]]))[0]), fp.radius_m
    assert isinstance(fp, CorridorFootprint)
    return shapely.LineString(frame.xy(*dense_geodesic(list(fp.path)))), fp.half_width_m


def arc_line(truth: Truth, frame: Frame, s0: float, s1: float, step_m: float = 10.0) -> Any:
    """The route from ``s0`` to ``s1`` as a line in the frame (points every ``step_m`` and both ends)."""
    s = np.unique(
        np.concatenate((np.arange(s0, s1, step_m), [s1], truth.along[(truth.along > s0) & (truth.along < s1)]))
    )
    xy = frame.xy(*truth.points(s))
    return shapely.Point(xy[0]) if len(xy) == 1 else shapely.LineString(xy)


def sample_times(start: float, end: float) -> F64:
    """Every whole second in [start, end), and both ends (just inside)."""
    grid = np.arange(math.ceil(start), math.ceil(end), 1.0)
    return np.unique(np.concatenate((grid, [start + 1e-6, end - 1e-6])))


# ----------------------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    draft: MovementDraft
    truth: Truth
    max_segment_m: float


def draft_and_truth(
    route: list[tuple[float, float]],
    *,
    speed: float | None,
    leg_seconds: list[float] | None,
    start_s: float,
    tolerance_s: float,
    half_width_m: float,
) -> tuple[MovementDraft, Truth]:
    lons, lats = np.array([p[0] for p in route]), np.array([p[1] for p in route])
    start_s = round(start_s, 6)  # a datetime holds microseconds
    if speed is not None:
        _, _, dist = GEOD.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
        times = start_s + np.concatenate(([0.0], np.cumsum(dist))) / speed
        draft = MovementDraft(
            route,
            GROUND,
            half_width_m,
            departure=T0 + timedelta(seconds=start_s),
            speed_m_s=speed,
            tolerance_s=tolerance_s,
        )
    else:
        assert leg_seconds is not None
        times = start_s + np.concatenate(([0.0], np.cumsum(leg_seconds)))
        stamps = [T0 + timedelta(seconds=float(t)) for t in times]
        times = np.array([seconds(t) for t in stamps])  # what the draft says, to the microsecond
        draft = MovementDraft(route, GROUND, half_width_m, waypoint_times=stamps, tolerance_s=tolerance_s)
    return draft, Truth(lons, lats, times, tolerance_s, half_width_m)


@st.composite
def movements(draw: st.DrawFn, centre: tuple[float, float] | None = None, start_s: float | None = None) -> Scenario:
    """A route of 2-5 waypoints wandering across ``centre``; constant speed, or times per leg with halts."""
    if centre is None:
        centre = (
            draw(st.one_of(st.floats(-180.0, 180.0), st.sampled_from([179.99, -179.99]))),
            draw(st.floats(-70.0, 70.0)),
        )
    az0 = draw(st.floats(0.0, 360.0))
    lon, lat, _ = GEOD.fwd(centre[0], centre[1], az0, draw(st.floats(500.0, 3_000.0)))
    route = [(float(lon), float(lat))]
    heading = az0 + 180.0
    for _ in range(draw(st.integers(1, 4))):
        heading += draw(st.floats(-60.0, 60.0))
        lon, lat, _ = GEOD.fwd(route[-1][0], route[-1][1], heading, draw(st.floats(200.0, 2_500.0)))
        route.append((float(lon), float(lat)))
    leg_seconds: list[float] | None = None
    speed: float | None = None
    if draw(st.booleans()):  # a time at every waypoint, a speed per leg, halts
        timed_route, leg_seconds = [route[0]], []
        for p in route[1:]:
            _, _, d = GEOD.inv(*timed_route[-1], *p)
            leg_seconds.append(round(d / draw(st.floats(3.0, 20.0)), 3) + 0.001)
            timed_route.append(p)
            if draw(st.integers(0, 3)) == 0:  # a halt: the same waypoint again, later
                leg_seconds.append(round(draw(st.floats(1.0, 300.0)), 3))
                timed_route.append(p)
        route = timed_route
    else:
        speed = draw(st.floats(3.0, 20.0))
    draft, truth = draft_and_truth(
        route,
        speed=speed,
        leg_seconds=leg_seconds,
        start_s=start_s if start_s is not None else draw(st.floats(-900.0, 900.0)),
        tolerance_s=draw(st.sampled_from([0.0, 0.0, 15.0, 60.0, 90.0])),
        half_width_m=draw(st.floats(5.0, 150.0)),
    )
    return Scenario(draft, truth, draw(st.sampled_from([100.0, 250.0, DEFAULT_MAX_SEGMENT_M])))


# ------------------------------------------------------------------------------------ containment


@settings(max_examples=examples(40))
@given(movements())
def test_sweep_contains_every_place_and_time_and_little_more(sc: Scenario) -> None:
    swept = sweep_movement(sc.draft, max_segment_m=sc.max_segment_m)
    truth = sc.truth
    frame = Frame(float(truth.lons[0]), float(truth.lats[0]))
    assert swept.slack_m <= sc.max_segment_m + 1e-6
    start, end = truth.occupied
    # times are whole microseconds and the sweep rounds outwards: up to 1 us, plus float noise
    assert (seconds(swept.occupied.start), seconds(swept.occupied.end)) == (
        pytest.approx(start, abs=2e-6),
        pytest.approx(end, abs=2e-6),
    )
    # every place the movement can be, every second: route points scheduled within the tolerance
    ts, taus = [], []
    for t in sample_times(start, end):
        lo, hi = max(t - truth.tolerance_s, truth.times[0]), min(t + truth.tolerance_s, truth.times[-1])
        for tau in np.linspace(lo, hi, 5 if hi > lo else 1):
            ts.append(t)
            taus.append(tau)
    t_arr = np.array(ts)
    pts = shapely.points(frame.xy(*truth.points(truth.along_at(np.array(taus)))))
    covered = np.zeros(t_arr.size, dtype=bool)
    windows = [(seconds(v.window.start), seconds(v.window.end)) for v in swept.volumes]
    for v, (w0, w1) in zip(swept.volumes, windows, strict=True):
        inside = (t_arr >= w0) & (t_arr < w1)
        if not inside.any():
            continue
        core, radius = core_geometry(v, frame)
        # on the core, so the disc of the half-width around the place is within the volume
        close = shapely.distance(pts[inside], core) + truth.half_width_m <= radius + 0.01
        covered[np.flatnonzero(inside)[close]] = True
    missed = np.flatnonzero(~covered)
    assert missed.size == 0, f"{missed.size} samples uncovered, first at t={t_arr[missed[0]]}, tau={taus[missed[0]]}"
    # and every volume claims only places within slack_m of where the movement can be at that time
    for v, (w0, w1) in zip(swept.volumes, windows, strict=True):
        core, _ = core_geometry(v, frame)
        core_pts = shapely.points(shapely.get_coordinates(core))
        for t in np.linspace(w0 + 2e-6, w1 - 2e-6, 4):  # a window may reach 1 us past by rounding outwards
            reach = truth.reachable(float(t))
            assert reach is not None, f"volume window [{w0}, {w1}) claims t={t} outside the occupancy"
            far = float(shapely.distance(core_pts, arc_line(truth, frame, *reach, step_m=2.0)).max())
            assert far <= swept.slack_m + 0.05, (far, swept.slack_m)
    event(f"volumes: {min(len(swept.volumes) // 10 * 10, 40)}+")


# ------------------------------------------------------------------------------------------ conflicts


def as_operation(op_id: str, owner: str, volumes: Sequence[Volume4D]) -> Operation:
    return Operation(
        op_id, owner, OperationKind.GROUND, 0, OperationState.PLANNED, 1, op_id, tuple(volumes), op_id, T0, T0
    )


def conflicts(a: Sequence[Volume4D], b: Sequence[Volume4D]) -> bool:
    return bool(detect(occupancies(as_operation("a", "alpha", a)), occupancies(as_operation("b", "bravo", b)), POLICY))


def oracle_min_distance(a: Truth, b: Truth, frame: Frame) -> float:
    """Smallest distance between where the two can be at the same second (the buffers: minus both half-widths)."""
    start = max(a.occupied[0], b.occupied[0])
    end = min(a.occupied[1], b.occupied[1])
    if start >= end:
        return math.inf
    best = math.inf
    a_lines, b_lines = [], []
    for t in sample_times(start, end):
        ra, rb = a.reachable(float(t)), b.reachable(float(t))
        if ra is None or rb is None:
            continue
        a_lines.append(arc_line(a, frame, *ra))
        b_lines.append(arc_line(b, frame, *rb))
    if a_lines:
        best = float(shapely.distance(np.array(a_lines), np.array(b_lines)).min())
    return max(0.0, best - a.half_width_m - b.half_width_m)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Scenario, Scenario]:
    centre = (draw(st.floats(-180.0, 180.0)), draw(st.floats(-70.0, 70.0)))
    a = draw(movements(centre=centre, start_s=0.0))
    b = draw(movements(centre=centre, start_s=draw(st.floats(-600.0, 600.0))))
    return a, b


@settings(max_examples=examples(40))
@given(pairs())
def test_conflict_equals_the_time_stepped_oracle(pair: tuple[Scenario, Scenario]) -> None:
    a, b = pair
    sa = sweep_movement(a.draft, max_segment_m=a.max_segment_m)
    sb = sweep_movement(b.draft, max_segment_m=b.max_segment_m)
    found = conflicts(sa.volumes, sb.volumes)
    assert found == conflicts(sb.volumes, sa.volumes)
    frame = Frame(float(a.truth.lons[0]), float(a.truth.lats[0]))
    d = oracle_min_distance(a.truth, b.truth, frame)
    sampling = 0.5 * (a.truth.max_speed + b.truth.max_speed) + 5.0 + 0.01
    if d < SEPARATION_M - 1.0:
        assert found, f"missed: the oracle has them {d:.1f} m apart at the same time"
    if found:
        assert d < SEPARATION_M + sa.slack_m + sb.slack_m + 1.0 + sampling, (d, sa.slack_m, sb.slack_m)
    event("conflict" if found else "clear")
    if found and d >= SEPARATION_M:
        event("conflict within the slack")


# ---------------------------------------------------------------------------------- the cases

X = (40.141, 35.336)  # where the roads cross


def road(azimuth: float, length_m: float = 20_000.0) -> list[tuple[float, float]]:
    """A straight road through X along ``azimuth``, X in its middle."""
    lon0, lat0, _ = GEOD.fwd(*X, azimuth + 180.0, length_m / 2)
    lon1, lat1, _ = GEOD.fwd(*X, azimuth, length_m / 2)
    return [(float(lon0), float(lat0)), (float(lon1), float(lat1))]


def convoy(route: list[tuple[float, float]], at_x: datetime, speed: float = 10.0, **kw: Any) -> SweptMovement:
    """A convoy at ``speed`` passing X (the middle of its road) at ``at_x``."""
    _, _, half = GEOD.inv(*route[0], *X)
    draft = MovementDraft(route, GROUND, 25.0, departure=at_x - timedelta(seconds=half / speed), speed_m_s=speed, **kw)
    return sweep_movement(draft)


def test_convoys_on_crossing_roads_an_hour_apart_do_not_conflict() -> None:
    east = convoy(road(90.0), T0 + timedelta(hours=1))
    north = convoy(road(0.0), T0 + timedelta(hours=2))
    assert not conflicts(east.volumes, north.volumes)
    # both roads do pass X: only the time keeps them apart
    static = [
        Volume4D(v.footprint, v.altitude, TimeWindow(T0, T0 + timedelta(hours=4)), v.shape) for v in north.volumes
    ]
    assert conflicts(east.volumes, static)


def test_convoys_on_crossing_roads_at_the_same_time_conflict_there_and_then() -> None:
    at_x = T0 + timedelta(hours=1)
    east = convoy(road(90.0), at_x)
    north = convoy(road(0.0), at_x)
    [finding] = detect(
        occupancies(as_operation("a", "alpha", east.volumes)),
        occupancies(as_operation("b", "bravo", north.volumes)),
        POLICY,
    )
    window = finding.encounters[0].window
    for e in finding.encounters[1:]:
        window = window.hull(e.window)
    # only the volumes near X, around the time they pass it: each convoy travels 1 km each way of X in
    # 100 s, and a volume covers 500 m, so no encounter lies further than ~4 minutes from the crossing
    assert window.start >= at_x - timedelta(minutes=4) and window.end <= at_x + timedelta(minutes=4)
    # and where: both ends of the closest approach of every encounter lie near X
    for e in finding.encounters:
        for point in (e.point_a, e.point_b):
            assert GEOD.inv(*X, *point)[2] < SEPARATION_M + DEFAULT_MAX_SEGMENT_M


def test_convoys_minutes_apart_conflict_only_within_their_tolerance() -> None:
    at_x = T0 + timedelta(hours=1)
    east = convoy(road(90.0), at_x)
    # ten minutes later, the first convoy is 6 km past X: clear...
    assert not conflicts(east.volumes, convoy(road(0.0), at_x + timedelta(minutes=10)).volumes)
    # ...unless the second may run ten minutes early
    early = convoy(road(0.0), at_x + timedelta(minutes=10), tolerance_s=600.0)
    assert conflicts(east.volumes, early.volumes)
    assert not conflicts(east.volumes, convoy(road(0.0), at_x + timedelta(minutes=10), tolerance_s=300.0).volumes)


def site_operation(centre: tuple[float, float], radius_m: float) -> list[Volume4D]:
    fp = parse_shape(circle(list(centre), radius_m), Limits())
    return [Volume4D.create(fp, AltitudeBand(0.0, 50.0), TimeWindow(T0, T0 + timedelta(days=7)))]


def test_convoy_passing_a_protected_site_conflicts_when_it_passes() -> None:
    passing = T0 + timedelta(hours=1)
    east = convoy(road(90.0), passing)
    lon, lat, _ = GEOD.fwd(*X, 0.0, 400.0)  # 400 m north of the road, radius 300 m
    site = site_operation((float(lon), float(lat)), 300.0)
    [finding] = detect(
        occupancies(as_operation("convoy", "agency", east.volumes)),
        occupancies(as_operation("site", "ministry", site)),
        POLICY,
    )
    assert min(e.horizontal_m for e in finding.encounters) == pytest.approx(400.0 - 300.0 - 25.0, abs=1.0)
    window = finding.encounters[0].window
    for e in finding.encounters[1:]:
        window = window.hull(e.window)
    assert passing - timedelta(minutes=5) <= window.start and window.end <= passing + timedelta(minutes=5)
    far_lon, far_lat, _ = GEOD.fwd(*X, 0.0, 3_000.0)
    assert not conflicts(east.volumes, site_operation((float(far_lon), float(far_lat)), 300.0))


# ---------------------------------------------------------------------------------- bounds and errors


def test_volume_count_is_bounded_and_the_slack_says_so() -> None:
    short = convoy(road(90.0, 10_000.0), T0 + timedelta(hours=1))
    assert len(short.volumes) == 20 and short.slack_m == pytest.approx(500.0)
    assert short.length_m == pytest.approx(10_000.0, abs=1e-6)
    limits = Limits(max_volumes=50)
    long_route = road(90.0, 100_000.0)
    draft = MovementDraft(long_route, GROUND, 25.0, departure=T0, speed_m_s=15.0)
    swept = sweep_movement(draft, limits=limits)
    assert len(swept.volumes) <= 50
    assert swept.slack_m == pytest.approx(swept.length_m / len(swept.volumes), rel=1e-9)
    assert swept.slack_m > 1_900.0
    assert len(sweep_movement(draft).volumes) == 200


def test_a_halt_is_a_circle_for_its_whole_stay() -> None:
    a, b = road(90.0, 4_000.0)
    stay = [T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=40), T0 + timedelta(minutes=50)]
    swept = sweep_movement(MovementDraft([a, X, X, b], GROUND, 30.0, waypoint_times=stay, tolerance_s=60.0))
    circles = [v for v in swept.volumes if isinstance(v.footprint, CircleFootprint)]
    assert len(circles) == 1
    assert circles[0].footprint.center == X and circles[0].footprint.radius_m == pytest.approx(30.0)
    assert (circles[0].window.start, circles[0].window.end) == (
        stay[1] - timedelta(seconds=60),
        stay[2] + timedelta(seconds=60),
    )


def test_antimeridian_route() -> None:
    draft = MovementDraft([(179.99, 10.0), (-179.99, 10.0)], GROUND, 20.0, departure=T0, speed_m_s=10.0)
    swept = sweep_movement(draft)
    assert swept.length_m == pytest.approx(GEOD.inv(179.99, 10.0, -179.99, 10.0)[2])
    assert len(swept.volumes) == math.ceil(swept.length_m / DEFAULT_MAX_SEGMENT_M)
    assert all(max(b[2] - b[0] for b in v.shape.boxes) < 1.0 for v in swept.volumes)  # no volume spans the globe


def refused(draft: MovementDraft) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as info:
        sweep_movement(draft)
    return [(e.field, e.code) for e in info.value.errors]


ROUTE = [(40.0, 35.0), (40.1, 35.0), (40.1, 35.1)]
TIMES = [T0, T0 + timedelta(minutes=20), T0 + timedelta(minutes=40)]


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        ({"route": [(40.0, 35.0)], "speed_m_s": 10.0, "departure": T0}, [("route", "too_few_positions")]),
        ({"speed_m_s": 0.0, "departure": T0}, [("speed_m_s", "out_of_range")]),
        ({"speed_m_s": -3.0, "departure": T0}, [("speed_m_s", "out_of_range")]),
        ({"speed_m_s": math.nan, "departure": T0}, [("speed_m_s", "invalid_number")]),
        ({"speed_m_s": 10.0}, [("departure", "required")]),
        ({"speed_m_s": 10.0, "waypoint_times": TIMES}, [("speed_m_s", "speed_and_times")]),
        ({}, [("speed_m_s", "no_schedule")]),
        ({"waypoint_times": TIMES[:2]}, [("waypoint_times", "wrong_count")]),
        ({"waypoint_times": [TIMES[0], TIMES[2], TIMES[1]]}, [("waypoint_times[2]", "times_not_increasing")]),
        ({"waypoint_times": [TIMES[0], TIMES[0], TIMES[2]]}, [("waypoint_times[1]", "times_not_increasing")]),
        ({"waypoint_times": [datetime(2026, 11, 23, 8), *TIMES[1:]]}, [("waypoint_times[0]", "time_without_offset")]),
        ({"waypoint_times": TIMES, "departure": T0 + timedelta(minutes=1)}, [("departure", "departure_mismatch")]),
        ({"speed_m_s": 10.0, "departure": T0, "half_width_m": 0.0}, [("half_width_m", "out_of_range")]),
        ({"speed_m_s": 10.0, "departure": T0, "tolerance_s": -1.0}, [("tolerance_s", "out_of_range")]),
        (
            {"route": [(40.0, 35.0), (40.0, 95.0)], "speed_m_s": 10.0, "departure": T0},
            [("route[1][1]", "out_of_range")],
        ),
        ({"route": [(40.0, 35.0), (40.0, 35.0)], "speed_m_s": 10.0, "departure": T0}, [("route", "degenerate_path")]),
        ({"route": [(40.0, 89.5), (41.0, 89.5)], "speed_m_s": 10.0, "departure": T0}, [("route", "near_pole")]),
        ({"speed_m_s": 0.01, "departure": T0}, [("speed_m_s", "window_too_long")]),
    ],
)
def test_validation_names_the_field(kwargs: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    base: dict[str, Any] = {"route": ROUTE, "altitude": GROUND, "half_width_m": 50.0}
    assert refused(MovementDraft(**{**base, **kwargs})) == errors


def test_every_problem_at_once() -> None:
    draft = MovementDraft([(40.0, 35.0)], GROUND, -1.0, speed_m_s=0.0, tolerance_s=-5.0)
    assert set(refused(draft)) == {
        ("route", "too_few_positions"),
        ("half_width_m", "out_of_range"),
        ("tolerance_s", "out_of_range"),
        ("speed_m_s", "out_of_range"),
        ("departure", "required"),
    }


def test_parse_movement_from_json() -> None:
    obj = {
        "route": {"type": "LineString", "coordinates": [[40.0, 35.0], [40.1, 35.0]]},
        "departure": "2026-11-23T08:00:00Z",
        "speed_m_s": 12.5,
        "half_width_m": 50,
        "altitude": {"lower_m": 0, "upper_m": 10},
        "tolerance_s": 600,
    }
    draft = parse_movement(obj, Limits())
    assert draft.departure == T0 and draft.route == [(40.0, 35.0), (40.1, 35.0)]
    swept = sweep_movement(draft)
    assert swept.occupied.start == T0 - timedelta(minutes=10)
    with pytest.raises(InvalidInput) as info:
        parse_movement({**obj, "colour": "red", "speed": 3}, Limits())
    assert [(e.field, e.code) for e in info.value.errors] == [("colour", "unknown_field"), ("speed", "unknown_field")]
    with pytest.raises(InvalidInput) as info:
        parse_movement({**obj, "departure": "8 am", "altitude": {"lower_m": 10, "upper_m": 0}}, Limits())
    assert [(e.field, e.code) for e in info.value.errors] == [
        ("altitude.lower_m", "altitude_inverted"),
        ("departure", "invalid_time"),
    ]
