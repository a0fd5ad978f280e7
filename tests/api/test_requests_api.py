"""Requests: asked of the party that owns what they are about; approved, denied, commented or withdrawn;
open until then; both sides see the state and are told of each change; acknowledged is not approved."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from deconfliction.domain.party import Party
from tests.conftest import auth, crossing_pair


def test_pass_a_site_approved_then_a_conflict_request_withdrawn(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    site = client.post(
        "/v1/sites",
        json={
            "name": "Al-Hayat hospital",
            "category": "hospital",
            "position": "35.336, 40.141",
            "radius_m": 300,
            "accuracy_m": 20,
            "valid_until": "2027-06-01T00:00:00Z",
        },
        headers=auth(keys["bravo"]),
    )
    assert site.status_code == 201, site.text
    site_id = site.json()["site"]["id"]
    ask = {"kind": "pass_site", "about": site_id, "text": "Convoy of 6 trucks passes 200 m east at 14:00."}
    r = client.post("/v1/requests", json=ask, headers=auth(keys["alpha"]))
    assert r.status_code == 201, r.text
    req = r.json()["request"]
    assert (req["owner"], req["state"]) == (parties["bravo"][0].id, "open")
    # bravo is told, and acknowledging that notification does not answer the request
    told = [
        n
        for n in client.get("/v1/notifications", headers=auth(keys["bravo"])).json()["items"]
        if n["kind"] == "request.opened"
    ]
    assert len(told) == 1
    assert client.post(f"/v1/notifications/{told[0]['id']}/ack", headers=auth(keys["bravo"])).status_code == 200
    assert client.get(f"/v1/requests/{req['id']}", headers=auth(keys["alpha"])).json()["state"] == "open"
    # only bravo answers; alpha cannot approve its own request; others do not see it
    assert client.post(f"/v1/requests/{req['id']}/approve", headers=auth(keys["alpha"])).status_code == 403
    assert client.get(f"/v1/requests/{req['id']}", headers=auth(keys["watcher"])).status_code == 404
    c = client.post(
        f"/v1/requests/{req['id']}/comment", json={"text": "Keep to the main road."}, headers=auth(keys["bravo"])
    )
    assert c.status_code == 200 and c.json()["request"]["state"] == "open"
    a = client.post(f"/v1/requests/{req['id']}/approve", json={"text": "Approved."}, headers=auth(keys["bravo"]))
    assert a.status_code == 200 and a.json()["request"]["state"] == "approved"
    assert client.post(f"/v1/requests/{req['id']}/deny", headers=auth(keys["bravo"])).status_code == 409
    seen_by_alpha = client.get(f"/v1/requests/{req['id']}", headers=auth(keys["alpha"])).json()
    assert seen_by_alpha["state"] == "approved" and seen_by_alpha["comments"][0]["text"] == "Keep to the main road."
    kinds = [n["kind"] for n in client.get("/v1/notifications", headers=auth(keys["alpha"])).json()["items"]]
    assert kinds.count("request.commented") == 1 and kinds.count("request.approved") == 1

    # about a conflict: asked of the counterpart; withdrawn by the requester
    _, b = crossing_pair(client, keys["alpha"], keys["bravo"])
    conflict = b.json()["conflicts"][0]["id"]
    r2 = client.post(
        "/v1/requests",
        json={"kind": "other", "about": conflict, "text": "Can you move 1,000 ft up?"},
        headers=auth(keys["bravo"]),
    )
    assert r2.status_code == 201 and r2.json()["request"]["owner"] == parties["alpha"][0].id
    w = client.post(f"/v1/requests/{r2.json()['request']['id']}/withdraw", headers=auth(keys["bravo"]))
    assert w.status_code == 200 and w.json()["request"]["state"] == "withdrawn"
    mine = client.get("/v1/requests", params={"state": "open"}, headers=auth(keys["alpha"])).json()["items"]
    assert mine == []
    assert len(client.get("/v1/requests", headers=auth(keys["cell"])).json()["items"]) == 2


def test_bad_requests_name_the_field(client: TestClient, parties: dict[str, tuple[Party, str]]) -> None:
    keys = {n: k for n, (_, k) in parties.items()}

    def ask(body: dict[str, Any], who: str = "alpha") -> Any:
        return client.post("/v1/requests", json=body, headers=auth(keys[who]))

    assert ask({"kind": "fly", "about": "x", "text": "t"}).json()["errors"][0]["field"] == "kind"
    assert ask({"kind": "pass_site", "about": "st_nope", "text": "t"}).json()["errors"][0]["code"] == "unknown_subject"
    assert ask({"kind": "other", "about": "cf_nope", "text": " "}).json()["errors"][0]["field"] == "text"
    assert ask({"kind": "other", "about": "cf_nope", "text": "t"}, who="watcher").status_code == 403
