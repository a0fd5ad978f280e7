"""Time and place sanity over HTTP, on SQLite and PostgreSQL: 422 window_in_past naming each end,
"historical": true, expired conflicts out of the default list, and warnings in the answers."""

from __future__ import annotations

from datetime import timedelta

from deconfliction.service.sanity import expire_conflicts
from tests.conftest import T0, auth, crossing_pair, square, volume_json
from tests.service.test_movements import movement


def test_a_past_window_is_refused_unless_historical(client, parties, clock):
    (_, akey), (_, bkey) = parties["alpha"], parties["bravo"]
    clock.now = T0 + timedelta(days=2)
    body = {"kind": "air", "volumes": [volume_json(square(40, 35)), volume_json(square(40.2, 35), start=T0)]}
    r = client.post("/v1/operations", json=body, headers=auth(akey))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "window_in_past"
    assert {e["field"]: e["code"] for e in r.json()["errors"]} == {
        "volumes[0].window.end": "window_in_past",
        "volumes[1].window.end": "window_in_past",
    }
    assert client.get("/v1/operations", headers=auth(akey)).json()["items"] == []
    r = client.post("/v1/operations", json={**body, "historical": True, "state": "planned"}, headers=auth(akey))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "state"
    r = client.post("/v1/operations", json={**body, "historical": True}, headers=auth(akey))
    assert r.status_code == 201, r.text
    record = r.json()["operation"]
    assert record["historical"] is True and r.json()["conflicts"] == [] and r.json()["warnings"] == []
    assert client.get(f"/v1/operations/{record['id']}", headers=auth(akey)).json()["historical"] is True
    r = client.post(f"/v1/operations/{record['id']}/plan", headers=auth(akey, **{"If-Match": '"1"'}))
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    # bravo, live since yesterday and until tomorrow, over the same place: the conflict is recorded expired
    live = volume_json(square(40.05, 35.05), start=T0 - timedelta(hours=1), hours=72)
    r = client.post("/v1/operations", json={"kind": "air", "volumes": [live]}, headers=auth(bkey))
    assert r.status_code == 201 and r.json()["conflicts"] == []
    assert client.get("/v1/conflicts", headers=auth(bkey)).json()["items"] == []
    (c,) = client.get("/v1/conflicts", params={"state": "expired"}, headers=auth(bkey)).json()["items"]
    assert c["historical"] is True and c["state"] == "expired"
    # a movement whose arrival has passed
    r = client.post("/v1/movements", json={"kind": "ground", "movement": movement()}, headers=auth(akey))
    assert r.status_code == 422 and r.json()["code"] == "window_in_past"
    assert [e["field"] for e in r.json()["errors"]] == ["movement.departure"]
    r = client.post(
        "/v1/movements", json={"kind": "ground", "movement": movement(), "historical": True}, headers=auth(akey)
    )
    assert r.status_code == 201 and r.json()["operation"]["historical"] is True


def test_expired_conflicts_leave_the_default_list(client, parties, clock):
    (_, akey), (_, bkey), (_, ckey) = parties["alpha"], parties["bravo"], parties["cell"]
    _, b = crossing_pair(client, akey, bkey)
    (c,) = b.json()["conflicts"]
    clock.now = T0 + timedelta(hours=2)
    assert expire_conflicts(rt := client.app.state.runtime) == 1 and rt
    for key in (akey, bkey, ckey):
        assert client.get("/v1/conflicts", headers=auth(key)).json()["items"] == []
        (seen,) = client.get("/v1/conflicts", params={"state": "expired"}, headers=auth(key)).json()["items"]
        assert (seen["id"], seen["state"], seen["version"]) == (c["id"], "expired", c["version"] + 1)
        assert client.get(f"/v1/conflicts/{c['id']}", headers=auth(key)).json()["state"] == "expired"
    # as it was before the expiry, and after it, rebuilt from the ledger
    before = (T0 + timedelta(hours=1)).isoformat()
    assert len(client.get("/v1/conflicts", params={"as_of": before}, headers=auth(akey)).json()["items"]) == 1
    after = (T0 + timedelta(hours=3)).isoformat()
    assert client.get("/v1/conflicts", params={"as_of": after}, headers=auth(akey)).json()["items"] == []
    past = client.get("/v1/conflicts", params={"as_of": after, "state": "expired"}, headers=auth(akey)).json()
    assert [x["id"] for x in past["items"]] == [c["id"]]
    # each side was told, for information
    kinds = [n["kind"] for n in client.get("/v1/notifications", headers=auth(akey)).json()["items"]]
    assert "conflict.expired" in kinds
    assert client.get("/v1/notifications/overdue", headers=auth(ckey)).json()["items"] == []
    # the tactical layer has no expired alerts
    r = client.get("/v1/conflicts", params={"kind": "tactical", "state": "expired"}, headers=auth(akey))
    assert r.status_code == 200 and r.json()["items"] == []


def test_answers_carry_warnings(client, parties):
    akey = parties["alpha"][1]
    r = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(akey)
    )
    assert r.status_code == 201 and r.json()["warnings"] == []
    swapped = {"kind": "air", "volumes": [volume_json(square(35, 40), hi=35000)]}
    r = client.post("/v1/operations", json=swapped, headers=auth(akey))
    assert r.status_code == 201
    assert [(w["field"], w["code"]) for w in r.json()["warnings"]] == [
        ("volumes[0].footprint", "coordinates_look_swapped"),
        ("volumes[0].altitude", "altitude_looks_like_feet"),
    ]
    assert all(w["message"] for w in r.json()["warnings"])
    op_id = r.json()["operation"]["id"]
    fixed = {"kind": "air", "volumes": [volume_json(square(40.1, 35))]}
    r = client.put(f"/v1/operations/{op_id}", json=fixed, headers=auth(akey, **{"If-Match": '"1"'}))
    assert r.status_code == 200 and r.json()["warnings"] == []
    r = client.post(f"/v1/operations/{op_id}/cancel", headers=auth(akey, **{"If-Match": '"2"'}))
    assert r.status_code == 200 and r.json()["warnings"] == []
    r = client.post("/v1/movements", json={"kind": "ground", "movement": movement()}, headers=auth(akey))
    assert r.status_code == 201 and r.json()["warnings"] == []
    site = {
        "name": "Clinic",
        "category": "hospital",
        "position": "40.14000 35.33000",  # decimal degrees are read latitude first: 40.14 N 35.33 E
        "radius_m": 50,
        "accuracy_m": 10,
        "valid_until": "2027-01-01T00:00:00Z",
    }
    r = client.post("/v1/sites", json=site, headers=auth(akey))
    assert r.status_code == 201, r.text
    assert [(w["field"], w["code"]) for w in r.json()["warnings"]] == [("position", "coordinates_look_swapped")]
