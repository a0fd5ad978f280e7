"""/v1/movements over HTTP: declared, swept, read back by the owner only; bad input by field."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import T0, auth
from tests.service.test_movements import ROUTE, movement


def test_declare_and_read_back(client, parties):
    (_, akey), (_, bkey) = parties["alpha"], parties["bravo"]
    r = client.post(
        "/v1/movements", json={"kind": "ground", "title": "convoy", "movement": movement()}, headers=auth(akey)
    )
    assert r.status_code == 201, r.text
    body = r.json()
    op_id = body["operation"]["id"]
    assert r.headers["Location"] == f"/v1/movements/{op_id}" and body["receipt"]["signature"]
    assert len(body["operation"]["volumes"]) == body["movement"]["sweep"]["segments"]
    first = body["operation"]["volumes"][0]
    assert first["footprint"]["type"] == "LineString" and first["half_width_m"] > 0
    back = client.get(f"/v1/movements/{op_id}", headers=auth(akey))
    assert back.status_code == 200 and back.json()["movement"] == body["movement"]
    assert back.json()["movement"]["route"]["coordinates"] == ROUTE
    assert client.get(f"/v1/movements/{op_id}", headers=auth(bkey)).status_code == 404
    assert client.get(f"/v1/operations/{op_id}", headers=auth(akey)).status_code == 200  # an operation like any


def test_bad_input(client, parties):
    akey = parties["alpha"][1]
    bad = movement(speed_m_s=None, waypoint_times=["2026-11-23T08:00:00Z"])
    r = client.post("/v1/movements", json={"kind": "ground", "movement": bad}, headers=auth(akey))
    assert r.status_code == 422
    assert {e["field"]: e["code"] for e in r.json()["errors"]} == {"movement.waypoint_times": "wrong_count"}
    r = client.post(
        "/v1/movements", json={"kind": "ground", "movement": movement()}, headers=auth(parties["watcher"][1])
    )
    assert r.status_code == 403


def test_a_movement_by_waypoint_times_is_answered_as_the_document_declares(client, parties):
    """Timed by its waypoints (no departure or speed): the answer and the read-back keep the movement as
    declared, and both fit the document (the ``client`` fixture checks every answer against it)."""
    akey = parties["alpha"][1]
    times = [(T0 + timedelta(minutes=30 * i)).isoformat().replace("+00:00", "Z") for i in range(len(ROUTE))]
    body = movement(departure=None, speed_m_s=None, waypoint_times=times)
    body = {k: v for k, v in body.items() if v is not None}
    r = client.post("/v1/movements", json={"kind": "ground", "movement": body}, headers=auth(akey))
    assert r.status_code == 201, r.text
    declared = r.json()["movement"]
    assert declared["waypoint_times"] == times and "speed_m_s" not in declared
    back = client.get(f"/v1/movements/{r.json()['operation']['id']}", headers=auth(akey))
    assert back.status_code == 200 and back.json()["movement"] == declared
