"""Minima compared exactly as declared, tactical side: two aircraft at adjacent flight levels (exactly
1,000 ft apart) are separated on every path in, under both earth models; 1 cm closer, they conflict.

Each example puts every pair of adjacent flight levels FL000 to FL600 (591 pairs) on the map at once, each
pair at its own place (a degree from the next), plus the same pairs 1 cm closer: 2,364 aircraft of two
parties in one detection cycle. The pairs enter as SBS-1 lines (feet), Cursor-on-Target events (metres
written FL x 30.48) and over HTTP (feet, and metres), and Hypothesis varies where (latitudes to 72
degrees), how fast, which way, how far apart horizontally, how old the reports are and whether the pair
climbs together. Then random altitudes given to the millimetre under random vertical minima. The
oracles (tests/tactical/oracle.py and flat_oracle.py) restate the rule on their own and agree."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain.party import Party
from deconfliction.domain.tactical import AlertKind, PositionReport, TacticalPolicy, TacticalRule
from deconfliction.domain.tactical.flat import EarthModel, FlatTracks
from deconfliction.domain.volume import format_time
from deconfliction.formats.cot import parse_cot
from deconfliction.formats.sbs import SbsAssembler, parse_sbs_line
from deconfliction.service.tactical.cycle import TacticalService
from deconfliction.store.tracks import TrackStore
from tests.conftest import FakeClock, auth
from tests.minima_cases import (
    ADJACENT,
    CM,
    MILLIMETRES,
    MINIMA,
    MM,
    feet,
    feet_as_read,
    float_misjudged,
    metres_as_read,
    metres_text,
)
from tests.oracle import examples
from tests.tactical import flat_oracle
from tests.tactical.helpers import around
from tests.tactical.oracle import OTrack, min_separation

T = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
COLUMNS = 34
FEET_CLOSER = Decimal("0.033")
"""1 cm in feet (1.006 cm): how much lower the upper aircraft of a 'closer' pair flies when in feet."""


@dataclass(frozen=True)
class Layout:
    """Where and how the pairs fly: pair k's lower aircraft (alpha's) at a grid point around
    (``lat0``, ``lon0``), its upper one (bravo's) ``offset_m`` away on ``bearing``; both on track ``trk``,
    alpha at ``gs`` and bravo ``dv`` faster (BlueSky reports nothing for two aircraft at exactly the same
    velocity), both climbing at ``vs_fpm``, reported ``age_s`` before the cycle."""

    lat0: float = 45.0
    lon0: float = 7.0
    gs: float = 120.0
    trk: float = 90.0
    dv: float = 1.0
    offset_m: float = 1_000.0
    bearing: float = 0.0
    vs_fpm: int = 0
    age_s: float = 0.0

    def places(self, n: int) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        out = []
        for k in range(n):
            lat = self.lat0 + (k // COLUMNS) - n // COLUMNS / 2
            lon = self.lon0 + (k % COLUMNS) - COLUMNS / 2
            out.append(((lat, lon), around(lat, lon, self.bearing, self.offset_m)))
        return out


layouts = st.builds(
    Layout,
    lat0=st.floats(-55.0, 55.0),
    lon0=st.floats(-150.0, 150.0),  # pairs either side of the antimeridian are a whole turn apart for BlueSky
    gs=st.one_of(st.just(0.0), st.floats(0.0, 280.0)),
    trk=st.floats(0.0, 359.9),
    dv=st.floats(0.5, 5.0),
    offset_m=st.floats(0.0, 5_000.0),
    bearing=st.floats(0.0, 359.9),
    vs_fpm=st.sampled_from([0, 0, 640, -1024]),
    age_s=st.sampled_from([0.0, 0.0, 1.5, 8.0]),
)


@dataclass(frozen=True)
class Aircraft:
    """One aircraft as a source states it: its track id, party, place and altitude text (feet or metres)."""

    ident: str
    party: str
    lat: float
    lon: float
    altitude: Decimal
    gs: float
    trk: float


def pairs(layout: Layout, unit: str) -> tuple[list[tuple[Aircraft, Aircraft]], list[tuple[Aircraft, Aircraft]]]:
    """The 591 adjacent pairs exactly 1,000 ft apart, and the same pairs 1 cm closer; in ``unit`` ("ft":
    FL x 100, "m": FL x 30.48 written out)."""
    exact, closer = [], []
    places = layout.places(2 * len(ADJACENT))
    for k, (lo, hi) in enumerate(ADJACENT):
        for n, (out, less) in enumerate(((exact, Decimal(0)), (closer, FEET_CLOSER if unit == "ft" else CM))):
            (lat_a, lon_a), (lat_b, lon_b) = places[2 * k + n]
            low, high = (feet(lo), feet(hi)) if unit == "ft" else (Decimal(metres_text(lo)), Decimal(metres_text(hi)))
            a = Aircraft(f"{2 * k + n:06X}", "alpha", lat_a, lon_a, low, layout.gs, layout.trk)
            b = Aircraft(
                f"{0x800000 + 2 * k + n:06X}", "bravo", lat_b, lon_b, high - less, layout.gs + layout.dv, layout.trk
            )
            out.append((a, b))
    return exact, closer


def sbs_reports(aircraft: list[Aircraft], layout: Layout, received: datetime) -> list[PositionReport]:
    """What an SBS-1 feed per party turns these aircraft into: a velocity line (knots, ft/min) and a
    position line (feet) each."""
    stamp = received.strftime("%Y/%m/%d,%H:%M:%S.%f")[:-3]
    assemblers = {p: SbsAssembler(p) for p in ("alpha", "bravo")}
    out = []
    for ac in aircraft:
        kt = ac.gs / (1852.0 / 3600.0)
        vel = f"MSG,4,1,1,{ac.ident},1,{stamp},{stamp},,,{kt!r},{ac.trk!r},,,{layout.vs_fpm},,,,,0"
        pos = f"MSG,3,1,1,{ac.ident},1,{stamp},{stamp},,{ac.altitude},,,{ac.lat!r},{ac.lon!r},,,0,0,0,0"
        for line in (vel, pos):
            msg = parse_sbs_line(line)
            assert not hasattr(msg, "reason"), msg
            report = assemblers[ac.party].feed(msg, received)  # type: ignore[arg-type]
        assert report is not None
        out.append(report)
    return out


def cot_reports(aircraft: list[Aircraft], when: datetime) -> list[PositionReport]:
    """Cursor-on-Target events (hae in metres as written), read as the service reads them."""
    out = []
    t, stale = format_time(when), format_time(when + timedelta(minutes=5))
    for ac in aircraft:
        xml = (
            f'<event version="2.0" uid="{ac.ident}" type="a-f-A-C-F" how="m-g" time="{t}" start="{t}" stale="{stale}">'
            f'<point lat="{ac.lat!r}" lon="{ac.lon!r}" hae="{ac.altitude}" ce="10" le="20"/>'
            f'<detail><track course="{ac.trk!r}" speed="{ac.gs!r}" slope="0"/></detail></event>'
        )
        report = parse_cot(xml, ac.party, when)
        assert isinstance(report, PositionReport), report
        out.append(report)
    return out


def alerted(service: TacticalService) -> set[tuple[str, str]]:
    """The (alpha track, bravo track) pairs with an alert."""
    out = set()
    for a in service.alerts(None):
        if a.kind is AlertKind.TRACKS:
            (pa, ta), (_, tb) = a.subjects
            out.add((ta, tb) if pa == "alpha" else (tb, ta))
    return out


def cycle(reports: list[PositionReport], earth: EarthModel, policy: TacticalPolicy | None = None) -> TacticalService:
    counter = itertools.count()
    service = TacticalService(
        policy or TacticalPolicy(), FakeClock(T), lambda: f"al_{next(counter)}", TrackStore(), earth_model=earth
    )
    result = service.ingest(reports)
    assert result.accepted == len(reports)
    service.cycle()
    return service


def ids(group: list[tuple[Aircraft, Aircraft]]) -> set[tuple[str, str]]:
    return {(a.ident, b.ident) for a, b in group}


def check(service: TacticalService, exact: list[tuple[Aircraft, Aircraft]], closer: list[tuple[Aircraft, Aircraft]]):
    found = alerted(service)
    assert found & ids(exact) == set(), sorted(found & ids(exact))[:5]
    assert ids(closer) <= found, sorted(ids(closer) - found)[:5]


@pytest.mark.parametrize("earth", ["wgs84", "flat"])
@settings(max_examples=examples(10), deadline=None)
@given(layouts)
def test_adjacent_flight_levels_from_sbs_feet(earth: EarthModel, layout: Layout) -> None:
    exact, closer = pairs(layout, "ft")
    reports = sbs_reports([x for p in exact + closer for x in p], layout, T - timedelta(seconds=layout.age_s))
    by_id = {r.track_id: r.altitude_m for r in reports}
    assert float_misjudged([(by_id[a.ident], by_id[b.ident]) for a, b in exact], 304.8) > 100
    check(cycle(reports, earth), exact, closer)


@pytest.mark.parametrize("earth", ["wgs84", "flat"])
@settings(max_examples=examples(10), deadline=None)
@given(layouts.map(lambda lay: Layout(**{**lay.__dict__, "vs_fpm": 0})))
def test_adjacent_flight_levels_from_cot_metres(earth: EarthModel, layout: Layout) -> None:
    exact, closer = pairs(layout, "m")
    reports = cot_reports([x for p in exact + closer for x in p], T - timedelta(seconds=layout.age_s))
    by_id = {r.track_id: r.altitude_m for r in reports}
    assert float_misjudged([(by_id[a.ident], by_id[b.ident]) for a, b in exact], 304.8) > 100
    check(cycle(reports, earth), exact, closer)


def report_json(ac: Aircraft, when: datetime, unit: str) -> dict[str, Any]:
    altitude = {"altitude_ft": int(ac.altitude) if ac.altitude == int(ac.altitude) else float(ac.altitude)}
    if unit == "m":
        altitude = {"altitude_m": metres_as_read(ac.altitude)}
    return {
        "id": ac.ident,
        "time": format_time(when),
        "lat": ac.lat,
        "lon": ac.lon,
        **altitude,
        "ground_speed_mps": ac.gs,
        "track_deg": ac.trk,
    }


@pytest.mark.parametrize("unit", ["ft", "m"])
def test_adjacent_flight_levels_over_http(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock, unit: str
) -> None:
    """``POST /v1/tracks`` with ``altitude_ft`` (FL x 100) or ``altitude_m`` (FL x 30.48), one batch per
    party; the cycle; the coordinator's ``GET /v1/alerts``: the 591 closer pairs, none of the exact ones."""
    exact, closer = pairs(Layout(), unit)
    for who in ("alpha", "bravo"):
        batch = [report_json(x, clock(), unit) for p in exact + closer for x in p if x.party == who]
        r = client.post("/v1/tracks", json={"reports": batch}, headers=auth(parties[who][1]))
        assert r.status_code == 200 and r.json()["accepted"] == len(batch), r.text
    service: TacticalService = client.app.state.tactical  # type: ignore[attr-defined]
    service.cycle()
    items = client.get("/v1/alerts", headers=auth(parties["cell"][1])).json()["items"]
    found = set()
    for item in items:
        sides = {s["party_name"]: s["track"] for s in item["tracks"]}
        found.add((sides["alpha"], sides["bravo"]))
    assert found & ids(exact) == set()
    assert ids(closer) <= found
    # what was read: the altitudes the exact pairs were posted with do reach the rounding edge
    heights = {t.report.track_id: t.report.altitude_m for t in service.tracks(None, None)[1]}
    assert float_misjudged([(heights[a.ident], heights[b.ident]) for a, b in exact], 304.8) > 100


def test_http_altitude_in_feet_or_metres_not_both(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    base = {"id": "A1", "time": format_time(clock()), "lat": 40.0, "lon": 30.0, "ground_speed_mps": 0, "track_deg": 0}
    key = auth(parties["alpha"][1])
    for extra in ({}, {"altitude_m": 10668.0, "altitude_ft": 35000}):
        r = client.post("/v1/tracks", json={"reports": [{**base, **extra}]}, headers=key)
        assert r.status_code == 422
        assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("reports[0].altitude_m", "altitude_m_or_ft")]
    r = client.post("/v1/tracks", json={"reports": [{**base, "altitude_ft": 400_000}]}, headers=key)
    assert r.status_code == 422
    (err,) = r.json()["errors"]
    assert (err["field"], err["code"]) == ("reports[0].altitude_ft", "out_of_range") and " ft" in err["message"]
    r = client.post("/v1/tracks", json={"reports": [{**base, "altitude_ft": 35000}]}, headers=key)
    assert r.status_code == 200
    service: TacticalService = client.app.state.tactical  # type: ignore[attr-defined]
    assert service.store.track((parties["alpha"][0].id, "A1"))["alt"] == 35000 * 0.3048


@st.composite
def decimal_pairs(draw: st.DrawFn) -> tuple[Decimal, list[tuple[Decimal, Decimal]]]:
    """A vertical minimum and pairs (altitude, how much closer than the minimum the other flies)."""
    minimum = draw(MINIMA)
    found = draw(st.lists(st.tuples(MILLIMETRES, st.sampled_from([Decimal(0), MM, CM])), min_size=1, max_size=200))
    return minimum, found


@pytest.mark.parametrize("earth", ["wgs84", "flat"])
@settings(max_examples=examples(40), deadline=None)
@given(decimal_pairs(), layouts.map(lambda lay: Layout(**{**lay.__dict__, "vs_fpm": 0})))
def test_decimal_metres_exactly_the_minimum_apart(
    earth: EarthModel, case: tuple[Decimal, list[tuple[Decimal, Decimal]]], layout: Layout
) -> None:
    """Altitudes given to the millimetre under a minimum given to the millimetre: exactly the minimum
    apart, separated; a millimetre or a centimetre closer, lost."""
    minimum, heights = case
    policy = TacticalPolicy(default=TacticalRule(9260.0, float(minimum), 300.0))
    when = T - timedelta(seconds=layout.age_s)
    reports, expected, spared = [], set(), set()
    for k, ((a_place, b_place), (alt, closer_by)) in enumerate(zip(layout.places(len(heights)), heights, strict=True)):
        a = PositionReport("alpha", f"a{k}", when, *a_place, metres_as_read(alt), layout.gs, layout.trk, 0.0)
        high = metres_as_read(alt + minimum - closer_by)
        b = PositionReport("bravo", f"b{k}", when, *b_place, high, layout.gs + layout.dv, layout.trk, 0.0)
        reports += [a, b]
        (expected if closer_by else spared).add((a.track_id, b.track_id))
    found = alerted(cycle(reports, earth, policy))
    assert found & spared == set()
    assert expected <= found


@settings(max_examples=examples(8), deadline=None)
@given(layouts)
def test_the_oracles_state_the_same_rule(layout: Layout) -> None:
    """The geodesic oracle and BlueSky written out (each with its own statement of the rule) agree with
    what the pass must say, on a sample of the pairs: exact pairs separated, closer ones lost."""
    exact, closer = pairs(layout, "ft")
    sample = exact[::37] + closer[::37]
    tracks: list[OTrack] = []
    planes: list[flat_oracle.Aircraft] = []
    t_report = -layout.age_s
    vs = layout.vs_fpm * 0.3048 / 60.0
    for a, b in sample:
        for ac in (a, b):
            alt = feet_as_read(ac.altitude)
            tracks.append(OTrack(ac.lat, ac.lon, alt, ac.gs, ac.trk, vs, t_report))
            # BlueSky's state at the pass: the report moved by its age as BlueSky moves traffic
            moved = FlatTracks.from_reports(
                0.0, *(np.array([x]) for x in (ac.lat, ac.lon, alt, ac.gs, ac.trk, vs, t_report))
            )
            planes.append(
                flat_oracle.Aircraft(float(moved.lat[0]), float(moved.lon[0]), float(moved.alt[0]), ac.gs, ac.trk, vs)
            )
    index = [(2 * k, 2 * k + 1) for k in range(len(sample))]
    truth = min_separation(tracks, index, 0.0, 304.8, 300.0)
    flat = [flat_oracle.evaluate(planes[i], planes[j], 9260.0, 304.8, 300.0)[0] for i, j in index]
    n = len(exact[::37])
    assert [truth[p] < 9260.0 for p in index] == [False] * n + [True] * (len(index) - n)
    assert flat == [False] * n + [True] * (len(index) - n)
