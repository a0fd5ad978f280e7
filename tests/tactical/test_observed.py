"""Declared against observed, on every backend: a party's track outside everything it declared (or a track
of no party) entering another party's zone, a line's band or a site is an ``undeclared_entry`` told to
the owner, the coordinators and the track's own party; tracks keep their affiliation (HTTP, CoT, sensor
feeds); a party claims or disclaims a track, on the record, told to whoever was alerted about it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import orjson
import pytest
from fastapi.testclient import TestClient

from deconfliction.domain.footprint import footprint_shape
from deconfliction.domain.line import parse_line
from deconfliction.domain.party import Party
from deconfliction.domain.tactical import NO_PARTY, Affiliation, TacticalPolicy
from deconfliction.domain.tactical.declared import (
    DeclaredTolerance,
    DeclaredVolume,
    Observed,
    declaring_operation,
)
from deconfliction.domain.volume import TimeWindow, format_time
from deconfliction.domain.zone import ZoneAnswer
from deconfliction.errors import InvalidInput
from deconfliction.formats.cot import parse_cot
from deconfliction.formats.sbs import SbsAssembler, parse_sbs_line
from deconfliction.service import lines, zones
from deconfliction.service.runtime import Runtime
from deconfliction.service.tactical.cycle import TacticalService
from deconfliction.service.tactical.feeds import parse_endpoints
from deconfliction.service.tactical.setup import DeclaredInForce
from tests.conftest import T0, FakeClock, auth
from tests.shapes import circle, parse_shape
from tests.tactical.helpers import GEOD, around, declare_active

AREA = {
    "type": "Polygon",
    "coordinates": [[[40.0, 35.0], [40.2, 35.0], [40.2, 35.2], [40.0, 35.2], [40.0, 35.0]]],
}
LINE = [[40.1, 34.95], [40.1, 35.25]]
"""Walking north along 40.1 E: the west side is on the left."""
BAND_M = 300.0


def split(rt: Runtime, cell: Party, west: Party, east: Party, now: Any) -> tuple[str, str, str]:
    """The area split along 40.1 E: the west side ``west``'s zone, the east side ``east``'s, a 300 m band;
    each side accepts the other's zone. Returns (band id, west zone id, east zone id)."""
    done = lines.create_line(
        rt,
        cell,
        lines.LineDraft(
            "the line",
            parse_shape(AREA, rt.limits),
            AREA,
            parse_line(LINE, rt.limits),
            west.id,
            east.id,
            TimeWindow(now, now + timedelta(days=30)),
            BAND_M,
        ),
    )
    assert isinstance(done, lines.LineResult)
    left, right = done.zones
    zones.answer(rt, east, left.id, ZoneAnswer.ACCEPTED)
    zones.answer(rt, west, right.id, ZoneAnswer.ACCEPTED)
    return done.line.id, left.id, right.id


def tactical(client: TestClient) -> TacticalService:
    return cast(TacticalService, client.app.state.tactical)  # type: ignore[attr-defined]


def report(clock: FakeClock, ident: str, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    out = {
        "id": ident,
        "time": format_time(clock()),
        "lat": lat,
        "lon": lon,
        "altitude_m": 3000.0,
        "ground_speed_mps": 20.0,
        "track_deg": 90.0,
    }
    return out | extra


def post(client: TestClient, key: str, *reports: dict[str, Any]) -> None:
    r = client.post("/v1/tracks", json={"reports": list(reports)}, headers=auth(key))
    assert r.status_code == 200 and r.json()["accepted"] == len(reports), r.text


def told(client: TestClient, key: str, kind_prefix: str) -> list[dict[str, Any]]:
    items = client.get("/v1/notifications", headers=auth(key)).json()["items"]
    return [n for n in items if n["kind"].startswith(kind_prefix)]


@pytest.fixture
def world(client: TestClient, rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock) -> dict[str, Any]:
    band, west_zone, east_zone = split(rt, parties["cell"][0], parties["bravo"][0], parties["alpha"][0], clock())
    keys = {n: k for n, (_, k) in parties.items()}
    ids = {n: p.id for n, (p, _) in parties.items()}
    return {"band": band, "west": west_zone, "east": east_zone, "keys": keys, "ids": ids}


# ----------------------------------------------------------------------------- a party's undeclared track


def test_an_undeclared_track_entering_the_other_side_is_told_to_owner_coordinators_and_its_party(
    client: TestClient, world: dict[str, Any], clock: FakeClock, rt: Runtime, parties: dict[str, tuple[Party, str]]
) -> None:
    keys, ids = world["keys"], world["ids"]
    # bravo's vehicle 1.8 km west of the line, driving east at 20 m/s; bravo declared nothing
    post(client, keys["bravo"], report(clock, "B1", 35.1, 40.08))
    tactical(client).cycle()
    alerts = client.get("/v1/alerts", headers=auth(keys["alpha"])).json()["items"]
    assert {(a["type"], a["target"]["kind"], a["target"]["id"]) for a in alerts} == {
        ("undeclared_entry", "band", world["band"]),
        ("undeclared_entry", "zone", world["east"]),
    }
    assert all(a["affiliation"] == "party" and a["counterpart"]["party"] == ids["bravo"] for a in alerts)
    band_alert = next(a for a in alerts if a["target"]["kind"] == "band")
    zone_alert = next(a for a in alerts if a["target"]["kind"] == "zone")
    # the band (300 m) is reached first: about (1,817 - 300) m at 20 m/s
    at = lambda a: (T0.fromisoformat(a["loss_at"].replace("Z", "+00:00")) - clock()).total_seconds()  # noqa: E731
    assert 70 < at(band_alert) < 80 and 85 < at(zone_alert) < 95
    # told: the owner, the coordinator, the track's own party; each once per alert, nobody else
    for who, role in (("alpha", "owner"), ("cell", "coordinator"), ("bravo", "track")):
        notes = told(client, keys[who], "tactical.")
        assert sorted(n["body"]["alert"] for n in notes) == sorted(a["id"] for a in alerts), who
        assert {n["body"]["told_as"] for n in notes} == {role} and all(n["deadline"] for n in notes)
        assert all(n["body"]["type"] == "undeclared_entry" for n in notes)
    assert told(client, keys["watcher"], "tactical.") == []
    # bravo's own view names the zone entered and whose it is
    own = told(client, keys["bravo"], "tactical.")
    assert {n["body"]["counterpart"]["party"] for n in own} == {ids["alpha"]}
    assert {n["body"]["own"] for n in own} == {"B1"}

    # bravo now declares what its vehicle does (an active operation around it): the entry into the zone
    # is an ordinary zone alert, the band's is the operation's band conflict, the undeclared ones resolve
    disc = circle([40.08, 35.1], 5000)
    declare_active(rt, parties["bravo"][0], disc, 0.0, 4000.0, clock(), clock() + timedelta(hours=1))
    cast(DeclaredInForce, tactical(client).declared).invalidate()
    for _ in range(7):
        clock.advance(seconds=1)
        post(client, keys["bravo"], report(clock, "B1", 35.1, 40.08))
        tactical(client).cycle()
    now_alerts = client.get("/v1/alerts", headers=auth(keys["alpha"])).json()["items"]
    assert [(a["type"], a["counterpart"]["track"]) for a in now_alerts] == [("zone", "B1")]
    resolved = client.get("/v1/alerts", params={"state": "resolved"}, headers=auth(keys["alpha"])).json()["items"]
    assert {a["id"] for a in resolved} == {a["id"] for a in alerts}
    assert {n["body"]["alert"] for n in told(client, keys["cell"], "tactical.resolved")} == {a["id"] for a in alerts}


def test_the_tolerance_decides_declared_against_observed_at_its_edges() -> None:
    from deconfliction.domain.footprint import CircleFootprint

    tol = DeclaredTolerance(horizontal_m=500.0, vertical_m=150.0, time_s=300.0)
    start, end = 1_000_000.0, 1_003_600.0
    op = DeclaredVolume("p", "op_1", footprint_shape(CircleFootprint((40.0, 35.0), 1000.0)), 1000.0, 2000.0, start, end)

    def at(dist_m: float, alt: float = 1500.0, t: float = start + 10.0, party: str = "p") -> bool:
        lat, lon = around(35.0, 40.0, 37.0, dist_m)
        return declaring_operation(Observed(party, lon, lat, alt, t), [op], tol) == "op_1"

    assert at(0.0) and at(1499.0) and not at(1501.0)
    assert at(300.0, alt=2149.0) and not at(300.0, alt=2151.0) and at(300.0, alt=851.0) and not at(300.0, alt=849.0)
    assert at(300.0, t=start - 299.0) and not at(300.0, t=start - 301.0)
    assert at(300.0, t=end + 299.0) and not at(300.0, t=end + 300.0)  # half-open, as every window
    assert not at(0.0, party="q") and not at(0.0, party=NO_PARTY)
    # the horizontal distance is the geodesic one (GeographicLib), to the centimetre
    lat, lon = around(35.0, 40.0, 200.0, 4321.0)
    from deconfliction.domain.tactical.declared import horizontal_distance_m

    assert abs(horizontal_distance_m(op.shape, lon, lat) - 3321.0) < 0.01


def test_the_policy_file_states_the_tolerance() -> None:
    assert TacticalPolicy().declared == DeclaredTolerance(500.0, 150.0, 300.0)
    p = TacticalPolicy.from_mapping({"declared": {"horizontal_m": 1000, "time_s": 60}})
    assert p.declared == DeclaredTolerance(1000.0, 150.0, 60.0)
    with pytest.raises(InvalidInput) as refused:
        TacticalPolicy.from_mapping({"declared": {"horizontal_m": -1, "seconds": 3}})
    assert {e.field for e in refused.value.errors} == {"declared.horizontal_m", "declared.seconds"}


# ----------------------------------------------------------------------------- affiliations


def test_cot_affiliations_and_sensor_feeds() -> None:
    now = T0

    def atom(kind: str) -> str:
        return (
            f'<event version="2.0" uid="U-7" type="{kind}" how="m-g" time="2026-11-23T08:00:00Z" '
            'stale="2026-11-23T08:01:00Z"><point lat="35.1" lon="40.08" hae="250" ce="10" le="10"/>'
            '<detail><track course="90" speed="8"/></detail></event>'
        )

    expected = {
        "a-f-G-U-C": ("pt_a", Affiliation.PARTY, None),
        "a-u-G": (NO_PARTY, Affiliation.UNKNOWN, "pt_a"),
        "a-h-G-U-C-I": (NO_PARTY, Affiliation.HOSTILE, "pt_a"),
        "a-s-G": (NO_PARTY, Affiliation.HOSTILE, "pt_a"),
        "a-p-G": (NO_PARTY, Affiliation.PENDING, "pt_a"),
        "a-n-G": (NO_PARTY, Affiliation.NEUTRAL, "pt_a"),
    }
    for kind, (party, affiliation, reporter) in expected.items():
        r = parse_cot(atom(kind), "pt_a", now)
        assert (r.party_id, r.affiliation, r.reporter) == (party, affiliation, reporter), kind  # type: ignore[union-attr]
    # a sensor's feed is nobody's: its friends are unknown, its hostiles hostile, no reporter
    sensed = parse_cot(atom("a-f-G"), NO_PARTY, now)
    assert (sensed.party_id, sensed.affiliation, sensed.reporter) == (NO_PARTY, Affiliation.UNKNOWN, None)  # type: ignore[union-attr]
    assert parse_cot(atom("a-h-G"), NO_PARTY, now).affiliation is Affiliation.HOSTILE  # type: ignore[union-attr]
    # configuration: host:port=sensor:NAME
    feeds = parse_endpoints("127.0.0.1:30003=sensor:Radar North;127.0.0.1:30004=alpha", "X")
    assert [f.sensor for f in feeds] == ["Radar North", None]
    # SBS-1 from a sensor: aircraft of unknown affiliation
    asm = SbsAssembler(NO_PARTY)
    asm.feed(
        parse_sbs_line("MSG,4,1,1,4CA2D6,1,2026/11/23,08:00:00.100,2026/11/23,08:00:00.100,,,459,271,,,-64,,,,,0"), now
    )  # type: ignore[arg-type]
    got = asm.feed(
        parse_sbs_line(  # type: ignore[arg-type]
            "MSG,3,1,1,4CA2D6,1,2026/11/23,08:00:00.200,2026/11/23,08:00:00.200,,37000,,,51.45735,-1.02826,,,0,0,0,0"
        ),
        now,
    )
    assert got is not None and (got.party_id, got.affiliation) == (NO_PARTY, Affiliation.UNKNOWN)


def test_a_sensor_feed_is_configured_without_a_party(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    from deconfliction.service.tactical.setup import build_tactical

    service = build_tactical(
        rt,
        cycle_s=1.0,
        expiry_s=30.0,
        policy_file=None,
        sbs_feeds="127.0.0.1:30003=sensor:Radar North",
        cot_udp="127.0.0.1:16969=alpha",
        cot_tcp=None,
    )
    assert [f.party_id for f in service._feeds] == [NO_PARTY, parties["alpha"][0].id]


# ----------------------------------------------------------------------------- claim and disclaim


def test_tracks_of_no_party_are_claimed_and_disclaimed_on_the_record(
    client: TestClient, world: dict[str, Any], clock: FakeClock
) -> None:
    keys, ids = world["keys"], world["ids"]
    # alpha's observation post reports a vehicle of unknown affiliation in bravo's zone, heading east
    post(client, keys["alpha"], report(clock, "U1", 35.1, 40.08, affiliation="unknown"))
    tactical(client).cycle()
    cell = client.get("/v1/alerts", headers=auth(keys["cell"])).json()["items"]
    assert {(a["target"]["kind"], a["target"]["owner"]) for a in cell} == {
        ("zone", ids["bravo"]),  # inside bravo's zone already
        ("band", ids["bravo"]),
        ("band", ids["alpha"]),
        ("zone", ids["alpha"]),
    }
    assert all(a["type"] == "undeclared_entry" and a["affiliation"] == "unknown" for a in cell)
    assert all(a["tracks"][0] == {"party": None, "party_name": None, "track": "U1"} for a in cell)
    inside = next(a for a in cell if a["target"]["owner"] == ids["bravo"] and a["target"]["kind"] == "zone")
    assert inside["now"] is True
    # the picture: the reporter and the alerted see it as unknown, of no party; an observer does not
    tracks = {n: client.get("/v1/tracks", headers=auth(keys[n])).json()["items"] for n in ("alpha", "bravo", "watcher")}
    assert [(t["party"], t["affiliation"], t["own"], t.get("reported_by")) for t in tracks["alpha"]] == [
        (None, "unknown", False, ids["alpha"])
    ]
    assert [(t["party"], t["affiliation"], "reported_by" in t) for t in tracks["bravo"]] == [(None, "unknown", False)]
    assert tracks["watcher"] == []

    # bravo: "not ours"; alpha (alerted, as owner of the east zone and band) and the cell are told
    r = client.post(
        "/v1/tracks/U1/disclaim", json={"reason": "no unit of ours east of the river"}, headers=auth(keys["bravo"])
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["statement"], body["party"], body["affiliation"], body["told"]) == ("disclaimed", None, "unknown", 2)
    assert set(body["alerts"]) == {a["id"] for a in cell} and body["receipt"]["seq"] > 0
    for who in ("alpha", "cell"):
        (note,) = told(client, keys[who], "track.")
        assert note["kind"] == "track.disclaimed" and note["deadline"] is None
        assert (note["body"]["by"], note["body"]["reason"]) == (ids["bravo"], "no unit of ours east of the river")
    ledger = client.get("/v1/ledger", headers=auth(keys["alpha"])).content.splitlines()[1:]
    types = [e["content"]["type"] for e in map(orjson.loads, ledger) if "content" in e]
    assert [t for t in types if t.startswith("track.")] == ["track.disclaimed"]

    # alpha: "ours" after all: the track and its later reports are alpha's, compared with what alpha declared
    r = client.post("/v1/tracks/U1/claim", headers=auth(keys["alpha"]))
    assert r.status_code == 200 and (r.json()["party"], r.json()["affiliation"]) == (ids["alpha"], "party")
    assert [n["kind"] for n in told(client, keys["bravo"], "track.")] == ["track.claimed"]
    clock.advance(seconds=1)
    post(client, keys["alpha"], report(clock, "U1", 35.1, 40.081, affiliation="unknown"))
    (mine,) = client.get("/v1/tracks", headers=auth(keys["alpha"])).json()["items"]
    assert (mine["party"], mine["affiliation"], mine["own"], mine["lon"]) == (ids["alpha"], "party", True, 40.081)
    tactical(client).cycle()
    bravo_now = client.get("/v1/alerts", headers=auth(keys["bravo"])).json()["items"]
    assert {(a["affiliation"], a["counterpart"]["party"]) for a in bravo_now if a["state"] == "new"} == {
        ("party", ids["alpha"])
    }
    # refusals: someone else's track, one's own, no such track, a watcher
    r = client.post("/v1/tracks/U1/claim", headers=auth(keys["bravo"]))
    assert r.status_code == 409 and r.json()["code"] == "track_not_claimable"
    r = client.post("/v1/tracks/U1/claim", headers=auth(keys["alpha"]))
    assert r.status_code == 409 and r.json()["code"] == "track_not_claimable"
    assert client.post("/v1/tracks/U9/claim", headers=auth(keys["alpha"])).status_code == 404
    assert client.post("/v1/tracks/U1/disclaim", headers=auth(keys["bravo"])).status_code == 404
    assert client.post("/v1/tracks/U1/claim", headers=auth(keys["watcher"])).status_code == 403
    r = client.post("/v1/tracks/U1/disclaim", json={"reason": " "}, headers=auth(keys["alpha"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"

    # alpha disclaims its own track: of no party again, its later reports too
    assert client.post("/v1/tracks/U1/disclaim", headers=auth(keys["alpha"])).json()["affiliation"] == "unknown"
    clock.advance(seconds=1)
    post(client, keys["alpha"], report(clock, "U1", 35.1, 40.082))
    (again,) = client.get("/v1/tracks", headers=auth(keys["alpha"])).json()["items"]
    assert (again["party"], again["affiliation"], again["reported_by"]) == (None, "unknown", ids["alpha"])


def test_an_unknown_track_seen_by_a_sensor_is_nobody_s_and_pairs_with_no_aircraft(
    client: TestClient, world: dict[str, Any], clock: FakeClock
) -> None:
    keys = world["keys"]
    # far from every zone: an unknown aircraft next to alpha's own raises no pair alert (it has no party to
    # tell), and alpha's own aircraft is not paired with it
    lat, lon = around(10.0, 10.0, 90.0, 2000.0)
    post(client, keys["alpha"], report(clock, "A1", 10.0, 10.0))
    post(client, keys["alpha"], report(clock, "H1", lat, lon, affiliation="hostile"))
    tactical(client).cycle()
    assert client.get("/v1/alerts", headers=auth(keys["cell"])).json()["items"] == []
    seen = client.get("/v1/tracks", headers=auth(keys["cell"])).json()["items"]
    assert sorted((t["id"], t["affiliation"]) for t in seen) == [("A1", "party"), ("H1", "hostile")]
    assert GEOD.inv(10.0, 10.0, lon, lat)[2] == pytest.approx(2000.0)
