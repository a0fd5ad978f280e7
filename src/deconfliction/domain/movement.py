"""Movements: an operation along a route with a schedule, swept into Volume4D so that it conflicts only
where and when it really is.

A movement follows its route (a polyline of lon/lat positions whose legs are WGS84 geodesics) from its
departure to its arrival, either at a constant ``speed_m_s`` or reaching every waypoint at the time given
for it (constant speed on each leg; a repeated position with a later time is a halt). It may run up to
``tolerance_s`` early or late anywhere along the route, and it is anywhere within ``half_width_m`` of the
route, inside its altitude band. So at a time ``t`` it can be within ``half_width_m`` of any route point
scheduled for a time in ``[t - tolerance_s, t + tolerance_s]`` (between departure and arrival): it occupies
``[departure - tolerance_s, arrival + tolerance_s)`` in time.

**The sweep.** The route is cut into pieces of at most ``max_segment_m`` along it (never across a halt); a
piece scheduled over ``[t0, t1]`` becomes one Volume4D: a Corridor of the route's half-width along exactly
that piece of route, over the window ``[t0 - tolerance_s, t1 + tolerance_s)`` (a halt becomes a Circle over
its whole stay). Widening in time rather than in space keeps every footprint on the road.

* **Contains everything**: a place occupied at time ``t`` is near the route point scheduled at some ``tau``
  with ``|t - tau| <= tolerance_s``; ``tau`` falls in some piece's ``[t0, t1]``, so ``t`` is in that piece's
  window and the place in its corridor.
* **Adds little**: a (place, time) that a volume claims is within one piece's length (``slack_m``, at most
  ``max_segment_m``), measured along the route, of a place the movement can truly occupy at that very
  time (the route point scheduled at ``t`` clamped to the piece's ``[t0, t1]``, which is within the
  tolerance of ``t``). So at any instant the volumes claim the stretch of road the movement can be on
  (``2 * speed * tolerance_s`` long, plus the half-width around it) extended by at most ``slack_m`` at
  each end, and nothing else; two movements are reported in conflict exactly when they truly come within
  the separation at the same time, up to the sum of their ``slack_m`` (and the detector's 1 m).
* **Bounded**: at most ``Limits.max_volumes`` volumes. A route too long for that many pieces of
  ``max_segment_m`` gets longer pieces, and its ``slack_m`` says how long.

With the default ``max_segment_m`` of 500 m (half the ground-ground rule of 1,000 m) a 100 km convoy
route is 200 volumes, and a pair of movements is never flagged more than 1 km further apart than the rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from pyproj import Geod

from deconfliction.domain.footprint import (
    CircleFootprint,
    CorridorFootprint,
    Footprint,
    Position,
    validate_footprint,
)
from deconfliction.domain.geo import geodesic_forward
from deconfliction.domain.limits import Limits
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D, parse_time
from deconfliction.errors import FieldError, InvalidInput

DEFAULT_MAX_SEGMENT_M = 500.0
"""Longest piece of route one volume covers: the sweep's slack (see the module docstring)."""

HALT_M = 0.01
"""A leg shorter than this is a halt: the position does not change."""


@dataclass(frozen=True)
class MovementDraft:
    """A movement as a party declares it. ``route`` is lon/lat (GeoJSON order); give ``speed_m_s`` with a
    ``departure``, or a time at every waypoint (``waypoint_times``, the first being the departure)."""

    route: Sequence[Position]
    altitude: AltitudeBand
    half_width_m: float
    departure: datetime | None = None
    speed_m_s: float | None = None
    waypoint_times: Sequence[datetime] | None = None
    tolerance_s: float = 0.0


@dataclass(frozen=True)
class SweptMovement:
    """The volumes of a movement and what the sweep claims beyond the truth."""

    volumes: tuple[Volume4D, ...]
    departure: datetime
    arrival: datetime
    occupied: TimeWindow
    """``[departure - tolerance, arrival + tolerance)``."""
    length_m: float
    slack_m: float
    """The longest piece of route one volume covers: no claimed (place, time) is farther than this along
    the route from where the movement can be at that time."""


@dataclass(frozen=True)
class _Schedule:
    lons: np.ndarray[Any, np.dtype[np.float64]]
    lats: np.ndarray[Any, np.dtype[np.float64]]
    azimuths: np.ndarray[Any, np.dtype[np.float64]]
    """Of each leg, at its start."""
    distances: np.ndarray[Any, np.dtype[np.float64]]
    """Cumulative distance along the route at every waypoint, metres."""
    seconds: np.ndarray[Any, np.dtype[np.float64]]
    """Scheduled time at every waypoint, seconds after departure."""
    departure: datetime


# ------------------------------------------------------------------------------------------- the sweep


def sweep_movement(
    draft: MovementDraft, *, limits: Limits | None = None, max_segment_m: float = DEFAULT_MAX_SEGMENT_M
) -> SweptMovement:
    """Validate a movement and sweep it into Volume4D (see the module docstring). Raises ``InvalidInput``
    naming the draft's field and the reason."""
    limits = limits or Limits()
    if not (math.isfinite(max_segment_m) and max_segment_m > 0):
        raise ValueError("max_segment_m must be a positive number of metres")
    schedule = _schedule(draft, limits)
    tol = float(draft.tolerance_s)
    width = float(draft.half_width_m)
    dist, secs = schedule.distances, schedule.seconds
    legs = np.diff(dist)
    halts = [i for i in range(legs.size) if legs[i] < HALT_M]
    stretches = _stretches(legs)
    moving = float(sum(dist[b] - dist[a] for a, b in stretches))
    segment = max_segment_m
    if sum(_pieces(dist[b] - dist[a], segment) for a, b in stretches) + len(halts) > limits.max_volumes:
        room = limits.max_volumes - len(halts) - len(stretches)
        if room <= 0:
            raise InvalidInput.one(
                "waypoint_times",
                "too_many_volumes",
                f"{len(halts)} halts and {len(stretches)} moving stretches need more than {limits.max_volumes} volumes",
            )
        segment = moving / room
    pieces: list[tuple[float, float, Footprint]] = []
    slack = 0.0
    for i in halts:
        center = (float(schedule.lons[i]), float(schedule.lats[i]))
        pieces.append((float(secs[i]), float(secs[i + 1]), CircleFootprint(center, width + float(legs[i]))))
    for a, b in stretches:
        k = _pieces(dist[b] - dist[a], segment)
        bounds = np.linspace(dist[a], dist[b], k + 1)
        bounds[0], bounds[-1] = dist[a], dist[b]
        times = np.interp(bounds, dist[a : b + 1], secs[a : b + 1])
        for j in range(k):
            path = _route_between(schedule, float(bounds[j]), float(bounds[j + 1]))
            pieces.append((float(times[j]), float(times[j + 1]), CorridorFootprint(path, width)))
            slack = max(slack, float(bounds[j + 1] - bounds[j]))
    pieces.sort(key=lambda p: (p[0], p[1]))
    volumes = []
    for t0, t1, fp in pieces:
        try:
            validate_footprint(fp, limits)
        except InvalidInput as e:
            raise InvalidInput([FieldError("route", err.code, err.message, err.detail) for err in e.errors]) from None
        window = TimeWindow(_at(schedule.departure, t0 - tol, math.floor), _at(schedule.departure, t1 + tol, math.ceil))
        volumes.append(Volume4D.create(fp, draft.altitude, window))
    arrival = _at(schedule.departure, float(secs[-1]), math.ceil)
    return SweptMovement(
        tuple(volumes),
        schedule.departure,
        arrival,
        TimeWindow(
            _at(schedule.departure, -tol, math.floor), _at(schedule.departure, float(secs[-1]) + tol, math.ceil)
        ),
        float(dist[-1]),
        slack,
    )


def _pieces(length_m: float, segment_m: float) -> int:
    """How many pieces of at most ``segment_m`` (give or take a nanometre of rounding) make ``length_m``."""
    return max(1, math.ceil(length_m / segment_m - 1e-9))


def _at(origin: datetime, seconds: float, rounding: Callable[[float], int]) -> datetime:
    """``origin`` plus ``seconds``, rounded to the microsecond outward (floor for a start, ceil for an end),
    so that windows never shrink."""
    return origin + timedelta(microseconds=int(rounding(seconds * 1e6)))


def _stretches(legs: np.ndarray[Any, np.dtype[np.float64]]) -> list[tuple[int, int]]:
    """Maximal runs of moving legs, as (first waypoint, last waypoint)."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i, leg in enumerate(legs.tolist()):
        if leg >= HALT_M and start is None:
            start = i
        elif leg < HALT_M and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, int(legs.size)))
    return out


def _point_at(schedule: _Schedule, s: float) -> Position:
    """The route point ``s`` metres from the start, on the geodesic of its leg."""
    dist = schedule.distances
    i = int(np.searchsorted(dist, s, side="right")) - 1
    i = min(max(i, 0), dist.size - 2)
    along = s - float(dist[i])
    if along <= 0.0:
        return (float(schedule.lons[i]), float(schedule.lats[i]))
    if s >= float(dist[i + 1]):
        return (float(schedule.lons[i + 1]), float(schedule.lats[i + 1]))
    lon, lat = geodesic_forward(float(schedule.lons[i]), float(schedule.lats[i]), float(schedule.azimuths[i]), along)
    return (float(lon), float(lat))


def _route_between(schedule: _Schedule, s0: float, s1: float) -> tuple[Position, ...]:
    """The route from ``s0`` to ``s1`` metres: its two ends and the waypoints strictly between."""
    inner = [
        (float(lon), float(lat))
        for lon, lat, d in zip(schedule.lons, schedule.lats, schedule.distances, strict=True)
        if s0 < d < s1
    ]
    path = [_point_at(schedule, s0), *inner, _point_at(schedule, s1)]
    deduped = [path[0]]
    for p in path[1:]:
        if p != deduped[-1]:
            deduped.append(p)
    return tuple(deduped)


# ------------------------------------------------------------------------------------------ validation


def _inverse(a: Position, b: Position) -> tuple[float, float]:
    """Azimuth (degrees) and length (metres) of the geodesic from ``a`` to ``b``."""
    az, _, dist = Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])
    return float(az), float(dist)


def _number(raw: object, field: str, errors: list[FieldError], *, positive: bool) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        errors.append(FieldError(field, "invalid_number", f"{field} must be a finite number"))
        return None
    if positive and raw <= 0:
        errors.append(FieldError(field, "out_of_range", f"{field} must be greater than 0"))
        return None
    if not positive and raw < 0:
        errors.append(FieldError(field, "out_of_range", f"{field} must not be negative"))
        return None
    return float(raw)


def _aware(raw: object, field: str, errors: list[FieldError]) -> datetime | None:
    try:
        return parse_time(raw, field)
    except InvalidInput as e:
        errors.extend(e.errors)
        return None


def _schedule(draft: MovementDraft, limits: Limits) -> _Schedule:
    errors: list[FieldError] = []
    route = list(draft.route) if isinstance(draft.route, Sequence) else []
    if len(route) < 2:
        errors.append(FieldError("route", "too_few_positions", "a route needs at least 2 positions"))
    elif len(route) > limits.max_vertices:
        errors.append(
            FieldError("route", "too_many_vertices", f"{len(route)} positions; at most {limits.max_vertices}")
        )
    positions: list[Position] = []
    for i, p in enumerate(route):
        if not isinstance(p, Sequence) or isinstance(p, str) or len(p) not in (2, 3):
            errors.append(FieldError(f"route[{i}]", "invalid_position", "a position is [longitude, latitude]"))
            continue
        lon, lat = p[0], p[1]
        if any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in (lon, lat)):
            errors.append(FieldError(f"route[{i}]", "invalid_position", "longitude and latitude must be numbers"))
        elif not -180.0 <= lon <= 180.0:
            errors.append(FieldError(f"route[{i}][0]", "out_of_range", f"longitude {lon} is outside [-180, 180]"))
        elif not -90.0 <= lat <= 90.0:
            errors.append(FieldError(f"route[{i}][1]", "out_of_range", f"latitude {lat} is outside [-90, 90]"))
        else:
            positions.append((float(lon), float(lat)))
    _number(draft.half_width_m, "half_width_m", errors, positive=True)
    tolerance = _number(draft.tolerance_s, "tolerance_s", errors, positive=False)
    departure = None if draft.departure is None else _aware(draft.departure, "departure", errors)
    times: list[datetime] | None = None
    speed: float | None = None
    if draft.speed_m_s is not None and draft.waypoint_times is not None:
        errors.append(FieldError("speed_m_s", "speed_and_times", "give either speed_m_s or waypoint_times, not both"))
    elif draft.speed_m_s is None and draft.waypoint_times is None:
        errors.append(FieldError("speed_m_s", "no_schedule", "give speed_m_s (with departure) or waypoint_times"))
    elif draft.speed_m_s is not None:
        speed = _number(draft.speed_m_s, "speed_m_s", errors, positive=True)
        if draft.departure is None:
            errors.append(FieldError("departure", "required", "a movement with speed_m_s needs a departure time"))
    else:
        raw_times = list(draft.waypoint_times or [])
        times = []
        for i, raw in enumerate(raw_times):
            t = _aware(raw, f"waypoint_times[{i}]", errors)
            if t is None:
                times = None
                break
            if times and t <= times[-1]:
                errors.append(
                    FieldError(
                        f"waypoint_times[{i}]",
                        "times_not_increasing",
                        f"waypoint_times[{i}] is not after waypoint_times[{i - 1}]",
                    )
                )
            times.append(t)
        if len(raw_times) != len(route):
            errors.append(
                FieldError(
                    "waypoint_times",
                    "wrong_count",
                    f"{len(raw_times)} times for {len(route)} waypoints; give a time for every waypoint",
                )
            )
        elif times and departure is not None and departure != times[0]:
            errors.append(
                FieldError("departure", "departure_mismatch", "departure differs from waypoint_times[0]; omit one")
            )
    if errors:
        raise InvalidInput(errors)
    if speed is not None and departure is not None:
        # at a constant speed a repeated position is no halt: drop it
        kept = [positions[0]]
        for p in positions[1:]:
            if _inverse(kept[-1], p)[1] >= HALT_M:
                kept.append(p)
        if len(kept) < 2:
            raise InvalidInput.one("route", "degenerate_path", "the route has no length")
        positions = kept
    lons = np.array([p[0] for p in positions], dtype=np.float64)
    lats = np.array([p[1] for p in positions], dtype=np.float64)
    az, _, leg = Geod(ellps="WGS84").inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    distances = np.concatenate(([0.0], np.cumsum(np.asarray(leg, dtype=np.float64))))
    if speed is not None and departure is not None:
        seconds = distances / speed
        start = departure
    elif times:
        start = times[0]
        seconds = np.array([(t - start).total_seconds() for t in times], dtype=np.float64)
    else:  # unreachable: the checks above raised
        raise InvalidInput.one("speed_m_s", "no_schedule", "give speed_m_s (with departure) or waypoint_times")
    total = float(seconds[-1]) + 2.0 * float(tolerance or 0.0)
    if total > limits.max_window_s:
        field = "speed_m_s" if speed is not None else "waypoint_times"
        raise InvalidInput.one(
            field,
            "window_too_long",
            f"the movement lasts {total / 3600:.1f} h with its tolerance; at most {limits.max_window_s / 3600:.1f} h",
        )
    return _Schedule(lons, lats, np.asarray(az, dtype=np.float64), distances, seconds, start)


# ------------------------------------------------------------------------------------------------ JSON

MOVEMENT_FIELDS = {
    "route",
    "departure",
    "speed_m_s",
    "waypoint_times",
    "half_width_m",
    "altitude",
    "tolerance_s",
}


def parse_movement(obj: Any, limits: Limits) -> MovementDraft:
    """A movement from JSON: ``route`` as a GeoJSON LineString (or a list of positions), RFC 3339 times,
    ``altitude`` as ``{"lower_m", "upper_m"}``. Shape errors here; schedule errors in ``sweep_movement``::

        {"route": {"type": "LineString", "coordinates": [[40.1, 35.3], [40.3, 35.2]]},
         "departure": "2026-11-23T08:00:00Z", "speed_m_s": 12.5,
         "half_width_m": 50, "altitude": {"lower_m": 0, "upper_m": 10}, "tolerance_s": 600}
    """
    if not isinstance(obj, Mapping):
        raise InvalidInput.one("", "invalid_movement", "a movement is a JSON object")
    unknown = sorted(set(obj) - MOVEMENT_FIELDS)
    if unknown:
        raise InvalidInput([FieldError(k, "unknown_field", "unknown field for a movement") for k in unknown])
    errors: list[FieldError] = []
    route_raw = obj.get("route")
    if isinstance(route_raw, Mapping):
        if route_raw.get("type") != "LineString":
            errors.append(FieldError("route.type", "invalid_geojson", "the route is a GeoJSON LineString"))
        route_raw = route_raw.get("coordinates")
    if not isinstance(route_raw, list):
        errors.append(FieldError("route", "invalid_geojson", "the route is a LineString or a list of positions"))
        route_raw = []
    altitude_raw = obj.get("altitude")
    altitude: AltitudeBand | None = None
    if not isinstance(altitude_raw, Mapping):
        errors.append(FieldError("altitude", "required", "altitude is {lower_m, upper_m}"))
    else:
        try:
            altitude = AltitudeBand.of(
                altitude_raw.get("lower_m"),  # type: ignore[arg-type]
                altitude_raw.get("upper_m"),  # type: ignore[arg-type]
                limits,
                str(altitude_raw.get("reference", "W84")),
            )
        except InvalidInput as e:
            errors.extend(e.at("altitude").errors)
        except TypeError:
            errors.append(FieldError("altitude", "invalid_number", "lower_m and upper_m must be numbers of metres"))
    times_raw = obj.get("waypoint_times")
    if times_raw is not None and not isinstance(times_raw, list):
        errors.append(FieldError("waypoint_times", "invalid_time", "waypoint_times is a list of RFC 3339 times"))
        times_raw = None
    departure = obj.get("departure")
    parsed_departure = None if departure is None else _aware(departure, "departure", errors)
    parsed_times = None
    if times_raw is not None:
        parsed_times = [_aware(t, f"waypoint_times[{i}]", errors) for i, t in enumerate(times_raw)]
    if errors or altitude is None:
        raise InvalidInput(errors)
    route: list[Any] = [tuple(p) if isinstance(p, list) else p for p in route_raw]
    return MovementDraft(
        route=route,
        altitude=altitude,
        half_width_m=obj.get("half_width_m"),  # type: ignore[arg-type]
        departure=parsed_departure,
        speed_m_s=obj.get("speed_m_s"),
        waypoint_times=parsed_times,  # type: ignore[arg-type]
        tolerance_s=obj.get("tolerance_s", 0.0),
    )
