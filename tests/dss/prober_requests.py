"""Request bodies for the InterUSS prober's tests that read them from ``./scd/resources``.

The prober's wheel (interuss-monitoring on PyPI) does not ship that folder, and its repository is not
reachable from every machine that runs this suite. These bodies are written here, from what each of the
prober's tests checks and from ASTM F3548-21: our own areas, altitudes and times, one fault per error
case (every other field well formed, so a 400 means the fault named, and
``tests/dss/test_prober_requests.py`` checks that it does). When the genuine files are present in the
prober's environment (``tools/prober-venv.sh``), the prober runs on them instead.

Times are written relative to ``now``: the prober reads some bodies as they are (their operation must
still be current) and shifts the others so that their first start is its own ``now``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FILES: dict[str, str] = {}
"""File name -> what the body exercises (filled by ``@case``)."""

_MAKERS: dict[str, Callable[[datetime], Any]] = {}

HOME = (6.14, 46.21)
"""Where the operations are (lon, lat): a town's edge, away from every other test's areas."""

BASE_URL = "https://uss.example/dss-prober"


def case(name: str, what: str) -> Callable[[Callable[[datetime], Any]], Callable[[datetime], Any]]:
    def register(make: Callable[[datetime], Any]) -> Callable[[datetime], Any]:
        FILES[name] = what
        _MAKERS[name] = make
        return make

    return register


def write(directory: Path, now: datetime | None = None) -> None:
    """Every body into ``directory`` (the prober's ``scd/resources``)."""
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    for name, make in _MAKERS.items():
        # a YAML reader reads JSON: the prober's two .yaml files are written as JSON
        (directory / name).write_text(json.dumps(make(now), indent=1) + "\n")


def body(name: str, now: datetime) -> Any:
    return _MAKERS[name](now)


# ---- building blocks


def t(at: datetime) -> dict[str, str]:
    return {"value": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "format": "RFC3339"}


def altitude(metres: float, *, units: str = "M", reference: str = "W84") -> dict[str, Any]:
    return {"value": metres, "reference": reference, "units": units}


def rectangle(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    corners = [(west, south), (east, south), (east, north), (west, north)]
    return {"vertices": [{"lng": x, "lat": y} for x, y in corners]}


def near(dx_km: float, dy_km: float, w_km: float, h_km: float) -> dict[str, Any]:
    """A rectangle ``w_km`` by ``h_km`` whose south-west corner is (dx, dy) km from HOME."""
    lon0, lat0 = HOME
    per_lon = 111.32 * math.cos(math.radians(lat0))
    west, south = lon0 + dx_km / per_lon, lat0 + dy_km / 110.57
    return rectangle(west, south, west + w_km / per_lon, south + h_km / 110.57)


def volume4d(
    outline: dict[str, Any], start: datetime, end: datetime, lo: float = 0.0, hi: float = 120.0, **kind: Any
) -> dict[str, Any]:
    return {
        "volume": {"outline_polygon": outline, "altitude_lower": altitude(lo), "altitude_upper": altitude(hi), **kind},
        "time_start": t(start),
        "time_end": t(end),
    }


def put(extents: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    """A PutOperationalIntentReferenceParameters, Accepted, with a new implicit subscription."""
    return {
        "extents": extents,
        "key": [],
        "state": "Accepted",
        "uss_base_url": BASE_URL,
        "new_subscription": {"uss_base_url": BASE_URL, "notify_for_constraints": False},
        **over,
    }


def query(
    outline: dict[str, Any], start: datetime, end: datetime, lo: float = 0.0, hi: float = 120.0
) -> dict[str, Any]:
    return {"area_of_interest": volume4d(outline, start, end, lo, hi)}


def strip() -> dict[str, Any]:
    return near(0, 0, 0.6, 2.0)


# ---- the operation every state-transition and special-case test starts from


@case("op_request_1.json", "a valid operation of three volumes, the first begun 30 minutes ago (201)")
def _request_1(now: datetime) -> Any:
    return put(
        [
            volume4d(strip(), now - timedelta(minutes=30), now + timedelta(hours=1)),
            volume4d(near(0.6, 1.4, 2.0, 0.6), now + timedelta(hours=1), now + timedelta(hours=2), 60, 120),
            volume4d(near(2.0, 0, 0.6, 2.0), now + timedelta(hours=2), now + timedelta(hours=4)),
        ],
        new_subscription={"uss_base_url": BASE_URL, "notify_for_constraints": True},
    )


# ---- queries


@case("op_ref_area_too_large.json", "a query over 110 x 80 km, past the DSS's area limit (400)")
def _ref_area_too_large(now: datetime) -> Any:
    return query(near(-50, -40, 110, 80), now, now + timedelta(hours=1))


@case("op_ref_start_end_times_past.json", "a query wholly in the past: allowed, past operations may linger (200)")
def _ref_times_past(now: datetime) -> Any:
    return query(strip(), now - timedelta(days=3), now - timedelta(days=3) + timedelta(minutes=10))


def _query_altitudes(now: datetime, **fault: str) -> Any:
    """A query over the strip whose two altitudes carry ``fault`` (a unit or a reference F3548 lacks)."""
    q = query(strip(), now, now + timedelta(hours=1))
    volume = q["area_of_interest"]["volume"]
    volume["altitude_lower"], volume["altitude_upper"] = altitude(0, **fault), altitude(120, **fault)
    return q


@case("op_ref_incorrect_units.json", "a query's altitudes in feet; F3548 has metres only (400)")
def _ref_units(now: datetime) -> Any:
    return _query_altitudes(now, units="FT")


@case("op_ref_incorrect_altitude_ref.json", "a query's altitudes above ground; F3548 has W84 only (400)")
def _ref_altitude_reference(now: datetime) -> Any:
    return _query_altitudes(now, reference="AGL")


@case("op_request_3.json", "a query whose polygon is a line: three vertices on one meridian (400)")
def _request_3(now: datetime) -> Any:
    lon, lat = HOME  # a meridian, not a parallel: a parallel is no geodesic, three points on it enclose an area
    line = {"vertices": [{"lng": lon, "lat": lat}, {"lng": lon, "lat": lat + 0.01}, {"lng": lon, "lat": lat + 0.02}]}
    return query(line, now, now + timedelta(hours=1), 100, 1000)


@case("op_request_4.json", "a query over 40 x 40 km, within the area limit, for ten years (200)")
def _request_4(now: datetime) -> Any:
    return query(near(-20, -20, 40, 40), now - timedelta(days=1), now + timedelta(days=3650), -150, 900)


@case("op_big_operation.json", "a query whose 320-vertex outline crosses itself (a figure of eight) (400)")
def _big_operation(now: datetime) -> Any:
    lon, lat = HOME
    n = 320
    # a lemniscate of Gerono, 1.5 km across: its two lobes meet at the centre, where the outline crosses
    ring = [
        {"lng": lon + 0.01 * math.cos(s), "lat": lat + 0.005 * math.sin(2 * s)}
        for s in (2 * math.pi * (i + 0.5) / n for i in range(n))  # no vertex on the crossing itself
    ]
    return query({"vertices": ring}, now, now + timedelta(minutes=95), 495, 753)


# ---- bad puts


@case("op_uss_base_url_non_tls.json", "an operation whose uss_base_url is plain http (400)")
def _non_tls(now: datetime) -> Any:
    return put([volume4d(strip(), now, now + timedelta(hours=1))], uss_base_url="http://uss.example/dss-prober")


@case("op_bad_subscription.json", "an operation naming a subscription id that is not a UUID (400)")
def _bad_subscription(now: datetime) -> Any:
    body = put([volume4d(strip(), now, now + timedelta(hours=1))], subscription_id="s0")
    del body["new_subscription"]
    return body


@case("op_new_and_existing_subscription.json", "an operation naming a subscription and asking a new one (400)")
def _new_and_existing(now: datetime) -> Any:
    return put(
        [volume4d(strip(), now, now + timedelta(hours=1))], subscription_id="3b0f6a8e-2f1c-4b7a-9d53-6c1e0a4f7d21"
    )


@case("op_end_time_past.json", "an operation that ended yesterday (400)")
def _end_time_past(now: datetime) -> Any:
    return put([volume4d(strip(), now - timedelta(days=2), now - timedelta(days=1))])


@case("op_400_version1.json", "an Activated operation whose volume has no outline, neither circle nor polygon (400)")
def _version1(now: datetime) -> Any:
    body = put([volume4d(strip(), now, now + timedelta(hours=1))], state="Activated")
    del body["extents"][0]["volume"]["outline_polygon"]
    return body


@case("op_bad_state_version0.json", "a new operation whose state is not one of F3548's (400)")
def _bad_state(now: datetime) -> Any:
    return put([volume4d(strip(), now, now + timedelta(hours=1))], state="Approved")


@case("op_bad_lat_lon_range.json", "an operation with a latitude of 91 degrees (400)")
def _bad_lat_lon(now: datetime) -> Any:
    outline = strip()
    outline["vertices"][2]["lat"] = 91.0
    return put([volume4d(outline, now, now + timedelta(hours=1))])


@case("op_area_too_large_put.json", "an operation over 100 x 100 km, past the area limit (400)")
def _area_too_large_put(now: datetime) -> Any:
    return put([volume4d(near(-50, -50, 100, 100), now, now + timedelta(hours=1))])


@case("op_request_2.json", "an operation over a 10-degree square (400)")
def _request_2(now: datetime) -> Any:
    lon, lat = HOME
    return put([volume4d(rectangle(lon - 5, lat - 5, lon + 5, lat + 5), now, now + timedelta(days=1))])


@case("op_bad_time_format.json", "an operation whose end is given in a time format F3548 does not have (400)")
def _bad_time_format(now: datetime) -> Any:
    body = put([volume4d(strip(), now, now + timedelta(hours=1))])
    body["extents"][0]["time_end"]["format"] = "ISO8601-week"
    return body


@case("op_bad_volume.json", "an operation of five volumes, one with both a circle and a polygon (400)")
def _bad_volume(now: datetime) -> Any:
    lon, lat = HOME
    circle = {"center": {"lng": lon, "lat": lat}, "radius": {"value": 250.0, "units": "M"}}
    extents = [
        volume4d(near(0.3 * i, 0, 0.3, 1.0), now + timedelta(hours=i), now + timedelta(hours=i + 1)) for i in range(5)
    ]
    extents[2]["volume"]["outline_circle"] = circle
    return put(extents)


# ---- the missing-operation scenario (test_missing_conflicted_operation): times from T0, which the prober
# moves to its own now. Operation 1 (0-700 m) is placed, then operation 2 (0-500 m, across it) with
# operation 1's OVN; operation 1's update without operation 2's OVN must answer 409 naming operation 2; a
# query above 600 m over operation 1 finds it and not operation 2.

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _op1_extents() -> list[dict[str, Any]]:
    return [
        volume4d(near(0, 0, 3.0, 1.0), T0, T0 + timedelta(minutes=40), 0, 700),
        volume4d(near(2.0, 1.0, 1.0, 2.0), T0 + timedelta(minutes=40), T0 + timedelta(minutes=80), 0, 700),
    ]


@case("op_missing_initial.yaml", "operation 1 of the missing-operation scenario (201)")
def _missing_initial(now: datetime) -> Any:
    return put(_op1_extents())


@case("op_missing_preexisting_unknown.yaml", "operation 2, across operation 1 below 500 m (201)")
def _missing_preexisting(now: datetime) -> Any:
    return put(
        [
            volume4d(near(1.0, -1.0, 0.5, 3.0), T0 + timedelta(minutes=10), T0 + timedelta(minutes=70), 0, 500),
        ]
    )


@case("op_missing_update.json", "operation 1 revised, still across operation 2, without its OVN (409)")
def _missing_update(now: datetime) -> Any:
    extents = _op1_extents()
    extents[0]["volume"]["altitude_upper"] = altitude(650)
    return {"extents": extents, "key": [], "state": "Accepted", "uss_base_url": BASE_URL}


@case("op_missing_query.json", "a query above 600 m over operation 1: finds it, not operation 2 (200)")
def _missing_query(now: datetime) -> Any:
    return query(near(0.5, 0.2, 1.0, 0.5), T0, T0 + timedelta(minutes=30), 600, 800)
