"""POST /v1/tracks and GET /v1/alerts in process: reports of one's own aircraft, refusals that name the
field, and alerts seen through need-to-know (a party: its own; the coordinator: all)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Geod

from deconfliction.domain.party import Party
from deconfliction.domain.volume import format_time
from deconfliction.service.runtime import Runtime
from deconfliction.tactical.cycle import TacticalService
from tests.conftest import FakeClock, auth

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
    from deconfliction.tactical.feeds import CotUdpListener, SbsClient
    from deconfliction.tactical.setup import build_tactical

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


def test_a_track_heading_into_a_protected_site_raises_an_alert_for_both(
    client: TestClient, keys: dict[str, str], parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    site = {
        "name": "Field hospital",
        "category": "hospital",
        "position": "40.0, 30.0",
        "radius_m": 500,
        "accuracy_m": 50,
        "valid_until": format_time(clock() + timedelta(days=30)),
    }
    assert client.post("/v1/sites", json=site, headers=auth(keys["bravo"])).status_code == 201
    # alpha's aircraft 10 km west, flying east at 100 m/s: inside the 550 m radius in about 95 s
    lon, lat, _ = GEOD.fwd(30.0, 40.0, 270.0, 10_000.0)
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
