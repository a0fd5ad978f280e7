"""Over HTTP: when bravo acknowledges, alpha sees it on its stream (issue #7: "A sees the acknowledgement"),
and reads the acknowledgement's ledger entry; bravo's own stream gets nothing back."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from deconfliction.domain.party import Party
from tests.api.test_notifications_api import events
from tests.conftest import auth, crossing_pair


def test_the_other_side_sees_the_acknowledgement_on_its_stream(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    ids = {n: p.id for n, (p, _) in parties.items()}
    _, made = crossing_pair(client, keys["alpha"], keys["bravo"])
    conflict = made.json()["conflicts"][0]["id"]
    bravo_op = made.json()["operation"]["id"]
    (theirs,) = client.get("/v1/notifications", headers=auth(keys["bravo"])).json()["items"]
    ack = client.post(f"/v1/notifications/{theirs['id']}/ack", headers=auth(keys["bravo"]))
    assert ack.status_code == 200, ack.text
    with client.stream("GET", "/v1/stream", params={"limit": 2}, headers=auth(keys["alpha"])) as r:
        got = [orjson.loads(e["data"]) for e in events(r)]
    assert [n["kind"] for n in got] == ["conflict.opened", "conflict.acknowledged"]
    told = got[1]
    assert told["party"] == ids["alpha"] and told["subject"] == conflict and told["deadline"] is None
    body = told["body"]
    assert (body["conflict"], body["kind"], body["acknowledged_by"], body["acknowledged_by_name"]) == (
        conflict,
        "conflict.opened",
        ids["bravo"],
        "bravo",
    )
    assert body["acknowledged_at"] == ack.json()["notification"]["acknowledged_at"]
    assert bravo_op not in orjson.dumps(told).decode()
    # the entry it points at is the acknowledgement, and alpha reads it
    assert told["entry"] == ack.json()["receipt"]["seq"]
    ledger = client.get("/v1/ledger", params={"after": told["entry"] - 1}, headers=auth(keys["alpha"]))
    entry = orjson.loads(ledger.content.splitlines()[1])
    assert entry["content"]["type"] == "notification.acknowledged"
    assert sorted(entry["content"]["audience"]) == sorted([ids["alpha"], ids["bravo"]])
    # bravo's stream holds its own conflict notification only; the late second ack is refused
    with client.stream("GET", "/v1/stream", params={"limit": 5, "idle_s": 0.3}, headers=auth(keys["bravo"])) as r:
        assert [orjson.loads(e["data"])["kind"] for e in events(r)] == ["conflict.opened"]
    again = client.post(f"/v1/notifications/{theirs['id']}/ack", headers=auth(keys["bravo"]))
    assert again.status_code == 409
    with client.stream("GET", "/v1/stream", params={"limit": 5, "idle_s": 0.3}, headers=auth(keys["alpha"])) as r:
        assert len(events(r)) == 2
