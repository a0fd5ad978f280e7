"""POST /v1/tracks, GET /v1/alerts and GET /v1/tracks in process: reports of one's own aircraft, refusals
that name the field, and alerts and tracks seen through need-to-know (a party: its own, and another's
aircraft only while an alert pairs it with one of its own; the coordinator: all)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Geod

from deconfliction.api import tracks as tracks_api
from deconfliction.domain.party import Party, Role
from deconfliction.domain.volume import format_time
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.service.tactical.cycle import TacticalService
from tests.conftest import FakeClock, auth
from tests.shapes import circle
from tests.tactical.helpers import around, declare_active

PROBLEM = "application/problem+json"
GEOD = Geod(ellps="WGS84")


@pytest.fixture
def keys(parties: dict[str, tuple[Party, str]]) -> dict[str, str]:
    return {name: key for name, (_, key) in parties.items()}


def tactical(client: TestClient) -> TacticalService:
    service: TacticalService = client.app.state.tactical  # type: ignore[attr-defined]
    return service


def rep(clock: FakeClock, ident: str, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    out = {
        "id": ident,
        "time": format_time(clock()),
        "lat": lat,
        "lon": lon,
        "altitude_m": 3000.0,
        "ground_speed_mps": 0.0,
        "track_deg": 90.0,
    }
    out.update(extra)
    return out


def test_reports_become_alerts_that_each_side_sees(
    client: TestClient, keys: dict[str, str], parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    lon_b, lat_b, _ = GEOD.fwd(30.0, 40.0, 90.0, 6000.0)
    r = client.post(
        "/v1/tracks", json={"reports": [rep(clock, "A1", 40.0, 30.0, callsign="ALPHA1")]}, headers=auth(keys["alpha"])
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "ignored_older": 0, "ignored_expired": 0}
    r = client.post(
        "/v1/tracks", json={"reports": [rep(clock, "B1", float(lat_b), float(lon_b))]}, headers=auth(keys["bravo"])
    )
    assert r.status_code == 200
    tactical(client).cycle()

    alpha = client.get("/v1/alerts", headers=auth(keys["alpha"])).json()["items"]
    bravo = client.get("/v1/alerts", headers=auth(keys["bravo"])).json()["items"]
    cell = client.get("/v1/alerts", headers=auth(keys["cell"])).json()["items"]
    watcher = client.get("/v1/alerts", headers=auth(keys["watcher"])).json()["items"]
    assert len(alpha) == len(bravo) == len(cell) == 1 and watcher == []
    # the conflicts API shows them as kind tactical, through the same need-to-know
    for who, seen in (("alpha", alpha), ("cell", cell), ("watcher", watcher)):
        listed = client.get("/v1/conflicts", params={"kind": "tactical"}, headers=auth(keys[who])).json()["items"]
        assert listed == seen, who
    a = alpha[0]
    assert a["id"] == bravo[0]["id"] == cell[0]["id"]
    assert (a["kind"], a["type"], a["state"], a["now"]) == ("tactical", "tracks", "new", True)
    assert a["own_tracks"] == ["A1"]
    assert a["counterpart"] == {"party": parties["bravo"][0].id, "party_name": "bravo", "track": "B1"}
    assert bravo[0]["own_tracks"] == ["B1"] and bravo[0]["counterpart"]["track"] == "A1"
    assert abs(a["min_horizontal_m"] - 6000.0) < 0.5 and a["vertical_m"] == 0.0
    assert a["rule"] == {"horizontal_m": 9260.0, "vertical_m": 304.8, "lookahead_s": 300.0}
    assert a["loss_at"] == format_time(clock())
    assert {s["track"] for s in cell[0]["tracks"]} == {"A1", "B1"}
    assert "counterpart" not in cell[0]

    # the same batch again changes nothing; an older report is ignored
    again = client.post("/v1/tracks", json={"reports": [rep(clock, "A1", 40.0, 30.0)]}, headers=auth(keys["alpha"]))
    assert again.json() == {"accepted": 0, "ignored_older": 1, "ignored_expired": 0}
    # bravo moves away; 5 s later the alert resolves
    far_lon, far_lat, _ = GEOD.fwd(30.0, 40.0, 90.0, 40_000.0)
    for _ in range(6):
        clock.advance(seconds=1)
        client.post(
            "/v1/tracks",
            json={"reports": [rep(clock, "B1", float(far_lat), float(far_lon))]},
            headers=auth(keys["bravo"]),
        )
        client.post("/v1/tracks", json={"reports": [rep(clock, "A1", 40.0, 30.0)]}, headers=auth(keys["alpha"]))
        tactical(client).cycle()
    assert client.get("/v1/alerts", headers=auth(keys["alpha"])).json()["items"] == []
    done = client.get("/v1/alerts", params={"state": "resolved"}, headers=auth(keys["alpha"])).json()["items"]
    assert [d["id"] for d in done] == [a["id"]] and done[0]["resolved_at"] is not None
    # each side was told when it was raised (urgent: 2 minutes to acknowledge) and when it resolved
    for who in ("alpha", "bravo"):
        told = client.get("/v1/notifications", headers=auth(keys[who])).json()["items"]
        assert [n["kind"] for n in told] == ["tactical.raised", "tactical.resolved"], who
        assert told[0]["subject"] == a["id"] and told[0]["body"]["counterpart"]["party"] != parties[who][0].id
    assert client.get("/v1/notifications", headers=auth(keys["watcher"])).json()["items"] == []


def test_a_party_s_own_aircraft_do_not_alert_each_other(
    client: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    client.post(
        "/v1/tracks",
        json={"reports": [rep(clock, "A1", 40.0, 30.0), rep(clock, "A2", 40.0, 30.01)]},
        headers=auth(keys["alpha"]),
    )
    tactical(client).cycle()
    assert client.get("/v1/alerts", headers=auth(keys["cell"])).json()["items"] == []


def test_bad_reports_name_the_field_and_store_nothing(
    client: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    future = clock() + timedelta(seconds=60)
    body = {
        "reports": [
            rep(clock, "A1", 40.0, 30.0),
            rep(clock, "A2", 95.0, 30.0),
            {**rep(clock, "A3", 40.0, 30.0), "time": format_time(future)},
            rep(clock, "A4", 40.0, 30.0, ground_speed_mps=-1.0),
            {**rep(clock, "A5", 40.0, 30.0), "time": "2026-11-23T08:00:00"},
        ]
    }
    r = client.post("/v1/tracks", json=body, headers=auth(keys["alpha"]))
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    errors = {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert errors == {
        ("reports[1].lat", "out_of_range"),
        ("reports[2].time", "time_in_future"),
        ("reports[3].ground_speed_mps", "out_of_range"),
        ("reports[4].time", "time_without_offset"),
    }
    assert len(tactical(client).store) == 0
    r = client.post(
        "/v1/tracks", json={"reports": [{**rep(clock, "A1", 40.0, 30.0), "colour": "red"}]}, headers=auth(keys["alpha"])
    )
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "unknown_field"


def test_who_may_post_and_read(client: TestClient, keys: dict[str, str], clock: FakeClock, rt: Runtime) -> None:
    body = {"reports": [rep(clock, "A1", 40.0, 30.0)]}
    assert client.post("/v1/tracks", json=body).status_code == 401
    assert client.get("/v1/alerts").status_code == 401
    r = client.post("/v1/tracks", json=body, headers=auth(keys["watcher"]))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert client.post("/v1/tracks", json=body, headers=auth(keys["cell"])).status_code == 200
    r = client.get("/v1/alerts", params={"state": "lost"}, headers=auth(keys["alpha"]))
    assert r.status_code == 422


def test_feeds_and_policy_from_the_settings(rt: Runtime, parties: dict[str, tuple[Party, str]], tmp_path: Any) -> None:
    from deconfliction.service.tactical.feeds import CotUdpListener, SbsClient
    from deconfliction.service.tactical.setup import build_tactical

    policy = tmp_path / "tactical.json"
    policy.write_text('{"pairs": [{"parties": ["alpha", "bravo"], "horizontal_m": 1852}]}')
    service = build_tactical(
        rt,
        cycle_s=1.0,
        expiry_s=20.0,
        policy_file=str(policy),
        sbs_feeds="127.0.0.1:30003=alpha",
        cot_udp="127.0.0.1:16969=bravo",
        cot_tcp=None,
    )
    assert [type(f) for f in service._feeds] == [SbsClient, CotUdpListener]
    assert [f.party_id for f in service._feeds] == [parties["alpha"][0].id, parties["bravo"][0].id]
    assert service.policy.rule(parties["alpha"][0].id, parties["bravo"][0].id).horizontal_m == 1852.0
    assert service.store.expiry_s == 20.0
    kw: dict[str, Any] = {"cycle_s": 1.0, "expiry_s": 30.0, "policy_file": None, "sbs_feeds": None, "cot_tcp": None}
    with pytest.raises(ValueError, match="DECONFLICTION_COT_UDP: no party named 'nobody'"):
        build_tactical(rt, cot_udp="0.0.0.0:6969=nobody", **kw)
    policy.write_text('{"pairs": [{"parties": ["alpha", "zulu"]}]}')
    with pytest.raises(ValueError, match=r"DECONFLICTION_TACTICAL_POLICY_FILE .*no party 'zulu'"):
        build_tactical(rt, cot_udp=None, **{**kw, "policy_file": str(policy)})


def field_hospital(clock: FakeClock) -> dict[str, Any]:
    """Bravo's site at 40 N 30 E: 500 m radius, 50 m accuracy."""
    return {
        "name": "Field hospital",
        "category": "hospital",
        "position": "40.0, 30.0",
        "radius_m": 500,
        "accuracy_m": 50,
        "valid_until": format_time(clock() + timedelta(days=30)),
    }


def test_a_track_heading_into_a_protected_site_raises_an_alert_for_both(
    client: TestClient, keys: dict[str, str], parties: dict[str, tuple[Party, str]], clock: FakeClock, rt: Runtime
) -> None:
    site = field_hospital(clock)
    assert client.post("/v1/sites", json=site, headers=auth(keys["bravo"])).status_code == 201
    # alpha's aircraft 10 km west, flying east at 100 m/s: inside the 550 m radius in about 95 s; it is
    # where alpha declared it would be (a 3 km circle around it), so the entry is a site alert, not an
    # undeclared one
    lon, lat, _ = GEOD.fwd(30.0, 40.0, 270.0, 10_000.0)
    disc = circle([float(lon), float(lat)], 3000)
    declare_active(rt, parties["alpha"][0], disc, 2000.0, 4000.0, clock(), clock() + timedelta(hours=1))
    report = rep(clock, "A7", float(lat), float(lon), ground_speed_mps=100.0, track_deg=90.0)
    assert client.post("/v1/tracks", json={"reports": [report]}, headers=auth(keys["alpha"])).status_code == 200
    tactical(client).cycle()
    for who in ("alpha", "bravo"):
        (alert,) = client.get("/v1/alerts", headers=auth(keys[who])).json()["items"]
        assert alert["type"] == "site" and not alert["now"], (who, alert)
        seconds = (datetime.fromisoformat(alert["loss_at"].replace("Z", "+00:00")) - clock()).total_seconds()
        assert 85 < seconds < 100, seconds
    kinds = [n["kind"] for n in client.get("/v1/notifications", headers=auth(keys["bravo"])).json()["items"]]
    assert kinds == ["tactical.raised"]


# ------------------------------------------------------------------------------------ GET /v1/tracks


def seen(client: TestClient, key: str, **params: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The caller's GET /v1/tracks as {(party name, aircraft id): track}."""
    r = client.get("/v1/tracks", params=params, headers=auth(key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "at", "truncated"} and body["truncated"] is False
    return {(t["party_name"], t["id"]): t for t in body["items"]}


def post(client: TestClient, key: str, *reports: dict[str, Any]) -> None:
    r = client.post("/v1/tracks", json={"reports": list(reports)}, headers=auth(key))
    assert r.status_code == 200 and r.json()["accepted"] == len(reports), r.text


def test_a_foreign_track_is_seen_only_while_an_alert_pairs_it_with_one_s_own(
    client: TestClient, keys: dict[str, str], parties: dict[str, tuple[Party, str]], clock: FakeClock, rt: Runtime
) -> None:
    keys["charlie"] = create_party(rt, None, "charlie", Role.PARTY)[1]
    keys["audit"] = create_party(rt, None, "audit", Role.AUDITOR)[1]
    far = around(40.0, 30.0, 90.0, 100_000.0)
    near = around(40.0, 30.0, 90.0, 6_000.0)
    post(client, keys["alpha"], rep(clock, "A1", 40.0, 30.0, callsign="ALPHA1", vertical_rate_mps=-1.5))
    post(client, keys["bravo"], rep(clock, "B1", *far))
    post(client, keys["charlie"], rep(clock, "C1", 10.0, 10.0))
    tactical(client).cycle()

    mine = seen(client, keys["alpha"])
    assert list(mine) == [("alpha", "A1")]
    assert mine[("alpha", "A1")] == {
        "party": parties["alpha"][0].id,
        "party_name": "alpha",
        "affiliation": "party",
        "id": "A1",
        "callsign": "ALPHA1",
        "time": format_time(clock()),
        "lat": 40.0,
        "lon": 30.0,
        "altitude_m": 3000.0,
        "ground_speed_mps": 0.0,
        "track_deg": 90.0,
        "vertical_rate_mps": -1.5,
        "own": True,
        "alerts": [],
    }
    assert list(seen(client, keys["bravo"])) == [("bravo", "B1")]
    assert seen(client, keys["watcher"]) == {}  # an observer has no tracks, and no alerts (as GET /v1/alerts)
    everything = {("alpha", "A1"), ("bravo", "B1"), ("charlie", "C1")}
    for reader in ("cell", "audit"):
        assert set(seen(client, keys[reader])) == everything, reader
        assert not any(t["own"] for t in seen(client, keys[reader]).values())

    # bravo comes within 6 km: one alert, and each side sees the other's aircraft, with the alert on both
    clock.advance(seconds=1)
    post(client, keys["bravo"], rep(clock, "B1", *near))
    post(client, keys["alpha"], rep(clock, "A1", 40.0, 30.0))
    tactical(client).cycle()
    (alert,) = client.get("/v1/alerts", headers=auth(keys["alpha"])).json()["items"]
    for reader, own, other in (("alpha", "A1", ("bravo", "B1")), ("bravo", "B1", ("alpha", "A1"))):
        tracks = seen(client, keys[reader])
        assert set(tracks) == {(reader, own), other}, reader
        assert tracks[(reader, own)]["own"] and not tracks[other]["own"]
        assert tracks[(reader, own)]["alerts"] == tracks[other]["alerts"] == [alert["id"]]
    b1 = seen(client, keys["alpha"])[("bravo", "B1")]
    assert (b1["lat"], b1["lon"], b1["party"]) == (near[0], near[1], parties["bravo"][0].id)
    # charlie is no side of it: it sees its own aircraft only; the readers of everything see the alert
    assert list(seen(client, keys["charlie"])) == [("charlie", "C1")]
    for reader in ("cell", "audit"):
        tracks = seen(client, keys[reader])
        assert tracks[("alpha", "A1")]["alerts"] == tracks[("bravo", "B1")]["alerts"] == [alert["id"]]
        assert tracks[("charlie", "C1")]["alerts"] == []

    # bravo leaves: the alert is ongoing for the hold time (B1 still shown), then resolves (B1 gone)
    states = []
    for _ in range(7):
        clock.advance(seconds=1)
        post(client, keys["bravo"], rep(clock, "B1", *far))
        post(client, keys["alpha"], rep(clock, "A1", 40.0, 30.0))
        tactical(client).cycle()
        active = client.get("/v1/alerts", headers=auth(keys["alpha"])).json()["items"]
        states.append(active[0]["state"] if active else None)
        assert (("bravo", "B1") in seen(client, keys["alpha"])) == bool(active)
    assert states[0] == "ongoing" and states[-1] is None
    assert list(seen(client, keys["alpha"])) == [("alpha", "A1")]
    assert seen(client, keys["cell"])[("bravo", "B1")]["alerts"] == []


def test_an_entry_into_one_s_site_shows_the_owner_the_intruding_track_while_the_alert_lasts(
    client: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    site = field_hospital(clock)
    assert client.post("/v1/sites", json=site, headers=auth(keys["bravo"])).status_code == 201
    post(client, keys["alpha"], rep(clock, "A7", *around(40.0, 30.0, 270.0, 10_000.0), ground_speed_mps=100.0))
    tactical(client).cycle()
    (alert,) = client.get("/v1/alerts", headers=auth(keys["bravo"])).json()["items"]
    # alpha declared nothing there: the entry is undeclared
    assert alert["type"] == "undeclared_entry" and alert["target"]["kind"] == "site"
    # alpha's own track carries the alert; bravo (the site's owner) is told the aircraft by the alert, and
    # sees where it is while the alert lasts, as for a pair alert
    assert seen(client, keys["alpha"])[("alpha", "A7")]["alerts"] == [alert["id"]]
    assert seen(client, keys["bravo"])[("alpha", "A7")]["alerts"] == [alert["id"]]
    assert seen(client, keys["cell"])[("alpha", "A7")]["alerts"] == [alert["id"]]
    # a turn away resolves the alert (after the hysteresis' hold): the track is bravo's to see no longer
    for _ in range(30):
        clock.advance(seconds=1)
        post(client, keys["alpha"], rep(clock, "A7", *around(40.0, 30.0, 270.0, 10_000.0), track_deg=270.0))
        tactical(client).cycle()
        if not client.get("/v1/alerts", headers=auth(keys["bravo"])).json()["items"]:
            break
    assert client.get("/v1/alerts", headers=auth(keys["bravo"])).json()["items"] == []
    assert ("alpha", "A7") not in seen(client, keys["bravo"])


def test_expired_tracks_are_gone_before_the_next_cycle(
    client: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    post(client, keys["alpha"], rep(clock, "A1", 40.0, 30.0))
    clock.advance(seconds=20)
    post(client, keys["alpha"], rep(clock, "A2", 41.0, 30.0))
    clock.advance(seconds=10)  # A1 is 30 s old: at the expiry, still shown
    assert set(seen(client, keys["alpha"])) == {("alpha", "A1"), ("alpha", "A2")}
    clock.advance(seconds=0.5)
    r = client.get("/v1/tracks", headers=auth(keys["alpha"])).json()
    assert [t["id"] for t in r["items"]] == ["A2"] and r["at"] == format_time(clock())
    assert len(tactical(client).store) == 2  # nothing was dropped by reading: the cycle does that


def test_the_bbox_filter_wraps_across_the_antimeridian(
    client: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    post(
        client,
        keys["alpha"],
        rep(clock, "E", 0.0, 179.5),
        rep(clock, "W", 0.0, -179.5),
        rep(clock, "AM", 5.0, -180.0),
        rep(clock, "G", 0.0, 0.0),
        rep(clock, "N", 60.0, 0.5),
    )

    def ids(bbox: str) -> set[str]:
        return {i for _, i in seen(client, keys["alpha"], bbox=bbox)}

    assert ids("-180,-90,180,90") == {"E", "W", "AM", "G", "N"}
    assert ids("179,-10,-179,10") == {"E", "W", "AM"}  # minLon > maxLon: across the antimeridian
    assert ids("-179,-10,179,10") == {"G"}  # the same edges the other way round: the rest of the world
    assert ids("170,-10,180,10") == {"E", "AM"}  # -180 and 180 are one meridian
    assert ids("-1,-1,1,1") == {"G"} and ids("-1,-1,1,70") == {"G", "N"}
    assert ids("0,0,0,0") == {"G"}  # edges included
    assert ids("10,10,20,20") == set()


@pytest.mark.parametrize(
    ("bbox", "code"),
    [
        ("1,2,3", "invalid_value"),
        ("", "invalid_value"),
        ("a,0,1,1", "invalid_value"),
        ("nan,0,1,1", "invalid_value"),
        ("0,0,inf,1", "invalid_value"),
        ("0,5,1,4", "invalid_value"),
        ("0,0,181,1", "out_of_range"),
        ("0,-91,1,1", "out_of_range"),
    ],
)
def test_a_bad_bbox_is_refused_naming_it(client: TestClient, keys: dict[str, str], bbox: str, code: str) -> None:
    r = client.get("/v1/tracks", params={"bbox": bbox}, headers=auth(keys["alpha"]))
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("bbox", code)]


def test_reading_tracks_needs_a_key_and_a_capped_answer_keeps_alerted_tracks(
    client: TestClient, keys: dict[str, str], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/v1/tracks").status_code == 401
    post(client, keys["alpha"], rep(clock, "A1", 40.0, 30.0), rep(clock, "A2", 50.0, 30.0), rep(clock, "A9", 0.0, 0.0))
    post(client, keys["bravo"], rep(clock, "B1", *around(40.0, 30.0, 90.0, 6_000.0)))
    tactical(client).cycle()
    monkeypatch.setattr(tracks_api, "MAX_TRACKS", 2)
    r = client.get("/v1/tracks", headers=auth(keys["alpha"])).json()
    assert r["truncated"] is True
    # (party id, track id) order; party ids made in the same millisecond may sort either way
    assert sorted((t["id"], bool(t["alerts"])) for t in r["items"]) == [("A1", True), ("B1", True)]
    monkeypatch.setattr(tracks_api, "MAX_TRACKS", 4)
    r = client.get("/v1/tracks", headers=auth(keys["alpha"])).json()
    assert r["truncated"] is False and sorted(t["id"] for t in r["items"]) == ["A1", "A2", "A9", "B1"]
    assert [(t["party"], t["id"]) for t in r["items"]] == sorted((t["party"], t["id"]) for t in r["items"])


def island_clinic(clock: FakeClock) -> dict[str, Any]:
    """Bravo's polygon site across the antimeridian (179.95 E to 179.95 W, 10.00 to 10.05 N), sent unsplit."""
    ring = [[179.95, 10.0], [-179.95, 10.0], [-179.95, 10.05], [179.95, 10.05], [179.95, 10.0]]
    return {
        "name": "Island clinic",
        "category": "hospital",
        "footprint": {"type": "Polygon", "coordinates": [ring]},
        "radius_m": 500,
        "accuracy_m": 50,
        "valid_until": format_time(clock() + timedelta(days=30)),
    }


def test_a_polygon_site_across_the_antimeridian_is_guarded_where_it_is(
    client: TestClient, keys: dict[str, str], parties: dict[str, tuple[Party, str]], clock: FakeClock, rt: Runtime
) -> None:
    from deconfliction.service.tactical.setup import AreasInForce

    assert client.post("/v1/sites", json=island_clinic(clock), headers=auth(keys["bravo"])).status_code == 201
    (site,) = AreasInForce(rt)()[1]
    assert abs(abs(site.lon) - 180.0) < 1e-9 and abs(site.lat - 10.025) < 1e-9, (site.lon, site.lat)
    # the farthest vertex (a corner, 5.5 km east and 2.8 km north: 6.1 km) + radius + accuracy (550 m)
    assert 6_600 < site.radius_m < 6_800, site.radius_m
    # alpha's aircraft on the other side of the earth (Greenwich, at the site's latitude) enters nothing;
    # one 10 km west of the site flying east at 100 m/s enters it
    far = rep(clock, "A1", 10.025, 0.0, ground_speed_mps=100.0, track_deg=90.0)
    lon, lat, _ = GEOD.fwd(179.95, 10.025, 270.0, 10_000.0)
    near = rep(clock, "A2", float(lat), float(lon), ground_speed_mps=100.0, track_deg=90.0)
    for where in (0.0, float(lon)):
        disc = circle([where, 10.025], 15_000)
        declare_active(rt, parties["alpha"][0], disc, 2000.0, 4000.0, clock(), clock() + timedelta(hours=1))
    assert client.post("/v1/tracks", json={"reports": [far, near]}, headers=auth(keys["alpha"])).status_code == 200
    tactical(client).cycle()
    alerts = client.get("/v1/alerts", headers=auth(keys["alpha"])).json()["items"]
    assert [(a["type"], a["own_tracks"]) for a in alerts] == [("site", ["A2"])], alerts
