"""/v1/zones over HTTP: propose, answer, revise, withdraw; who sees a proposal; the zone_entry conflict
both sides see; bad input by field."""

from __future__ import annotations

from typing import Any

from tests.conftest import auth, square, volume_json
from tests.shapes import circle

VALIDITY = {"start": "2026-11-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}


def zone_body(counterparties: list[str], **over: Any) -> dict[str, Any]:
    return {
        "name": "north bank",
        "counterparties": counterparties,
        "footprint": square(40.0, 35.0, 0.2),
        "validity": VALIDITY,
        **over,
    }


def test_propose_answer_and_the_conflict_both_sides_see(client, parties):
    (north, nkey), (south, skey), (_, wkey) = parties["alpha"], parties["bravo"], parties["watcher"]
    op = client.post(
        "/v1/operations",
        json={"kind": "ground", "volumes": [volume_json(square(40.05, 35.05, 0.02))]},
        headers=auth(skey),
    ).json()["operation"]
    r = client.post("/v1/zones", json=zone_body([south.id]), headers=auth(nkey))
    assert r.status_code == 201, r.text
    zone = r.json()["zone"]
    assert (zone["version"], zone["state"], zone["pending"]) == (1, "proposed", [south.id])
    assert r.headers["ETag"] == '"1"' and r.json()["receipt"]["signature"]
    assert client.get(f"/v1/zones/{zone['id']}", headers=auth(wkey)).status_code == 404  # a proposal is private
    assert client.get("/v1/zones", headers=auth(wkey)).json()["items"] == []
    assert client.get(f"/v1/zones/{zone['id']}", headers=auth(skey)).status_code == 200
    r = client.post(f"/v1/zones/{zone['id']}/answer", json={"answer": "accepted"}, headers=auth(skey))
    assert r.status_code == 200, r.text
    assert r.json()["zone"]["state"] == "agreed"
    [c] = r.json()["conflicts"]
    assert (c["kind"], c["operation"], c["counterpart"]["party"]) == ("zone_entry", op["id"], north.id)
    seen = client.get(f"/v1/zones/{zone['id']}", headers=auth(wkey))
    assert [v["state"] for v in seen.json()["versions"]] == ["agreed"]  # agreed zones: everyone
    theirs = client.get("/v1/conflicts", headers=auth(nkey)).json()["items"]
    assert [(x["kind"], x["operation"]) for x in theirs] == [("zone_entry", zone["id"])]
    assert op["id"] not in str(theirs)
    again = client.post(f"/v1/zones/{zone['id']}/answer", json={"answer": "rejected"}, headers=auth(skey))
    assert again.status_code == 409


def test_revise_and_withdraw_need_the_owner_and_the_version(client, parties):
    nkey, (south, skey) = parties["alpha"][1], parties["bravo"]
    zone = client.post("/v1/zones", json=zone_body([south.id]), headers=auth(nkey)).json()["zone"]
    path = f"/v1/zones/{zone['id']}"
    client.post(f"{path}/answer", json={"answer": "accepted"}, headers=auth(skey))
    assert client.post(f"{path}/revise", json={"name": "v2"}, headers=auth(nkey)).status_code == 428
    assert (
        client.post(f"{path}/revise", json={"name": "v2"}, headers=auth(nkey, **{"If-Match": '"5"'})).status_code == 412
    )
    assert (
        client.post(f"{path}/revise", json={"name": "v2"}, headers=auth(skey, **{"If-Match": '"1"'})).status_code == 403
    )
    r = client.post(
        f"{path}/revise", json={"footprint": square(41.0, 35.0, 0.2)}, headers=auth(nkey, **{"If-Match": '"1"'})
    )
    assert r.status_code == 200, r.text
    assert [(v["version"], v["state"]) for v in r.json()["versions"]] == [(1, "agreed"), (2, "proposed")]
    assert r.headers["ETag"] == '"2"'
    r = client.post(f"{path}/withdraw", headers=auth(nkey, **{"If-Match": '"2"'}))
    assert [(v["version"], v["state"]) for v in r.json()["versions"]] == [(1, "withdrawn"), (2, "withdrawn")]
    assert client.post(f"{path}/withdraw", headers=auth(nkey, **{"If-Match": '"2"'})).status_code == 409


def test_bad_input_names_each_field(client, parties):
    (north, nkey), (south, _) = parties["alpha"], parties["bravo"]
    line = circle([40, 35], 100)["footprint"]  # a Point: not an area
    bad = zone_body([north.id, "pt_nobody"], footprint=line, validity={"start": "soon", "end": "2027-01-01T00:00:00Z"})
    r = client.post("/v1/zones", json=bad, headers=auth(nkey))
    assert r.status_code == 422
    assert {e["field"]: e["code"] for e in r.json()["errors"]} == {
        "validity.start": "invalid_time",
        "footprint.type": "not_a_polygon",
    }
    r = client.post("/v1/zones", json=zone_body([south.id], footprint=line), headers=auth(nkey))
    assert {e["field"]: e["code"] for e in r.json()["errors"]} == {"footprint.type": "not_a_polygon"}
    r = client.post("/v1/zones", json=zone_body([north.id]), headers=auth(nkey))
    assert {e["field"]: e["code"] for e in r.json()["errors"]} == {"counterparties[0]": "owner_as_counterparty"}
    r = client.post("/v1/zones", json=zone_body(["pt_nobody"]), headers=auth(nkey))
    assert {e["field"]: e["code"] for e in r.json()["errors"]} == {"counterparties[0]": "unknown_party"}
    r = client.post(
        "/v1/zones",
        json=zone_body([south.id], validity={"start": "2027-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}),
        headers=auth(nkey),
    )
    assert {e["field"]: e["code"] for e in r.json()["errors"]} == {"validity.end": "window_empty"}
    assert client.get("/v1/zones", headers=auth(nkey)).json()["items"] == []
