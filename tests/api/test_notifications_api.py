"""Notifications over HTTP: the stream resumes after a disconnect with every notification exactly once;
a live one arrives without polling by the client; acknowledging, the overdue view, the ladder."""

from __future__ import annotations

import threading
from typing import Any

import orjson
from fastapi.testclient import TestClient

from deconfliction.domain.party import Party
from tests.conftest import FakeClock, auth, square, volume_json


def events(r: Any) -> list[dict[str, Any]]:
    """Read SSE events until the server closes the stream."""
    out, current = [], {}
    for line in r.iter_lines():
        if line.startswith(":"):
            continue
        if not line:
            if current:
                out.append(current)
            current = {}
            continue
        name, _, value = line.partition(": ")
        current[name] = value
    return out


def test_a_client_disconnected_during_100_notifications_gets_all_exactly_once(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    # bravo's long bar along a meridian (a geodesic, so it stays straight); alpha crosses it 100 times:
    # 100 conflicts, 100 notifications for bravo
    bar = {"type": "Polygon", "coordinates": [[[40, 35], [40.01, 35], [40.01, 45], [40, 45], [40, 35]]]}
    assert (
        client.post(
            "/v1/operations", json={"kind": "air", "volumes": [volume_json(bar)]}, headers=auth(keys["bravo"])
        ).status_code
        == 201
    )
    for i in range(100):
        r = client.post(
            "/v1/operations",
            json={"kind": "air", "volumes": [volume_json(square(39.995, 35 + 0.09 * i, 0.02))]},
            headers=auth(keys["alpha"]),
        )
        assert r.status_code == 201 and len(r.json()["conflicts"]) == 1
    with client.stream("GET", "/v1/stream", params={"limit": 37}, headers=auth(keys["bravo"])) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        first = events(r)  # the connection drops after 37
    last = first[-1]["id"]
    with client.stream(
        "GET", "/v1/stream", params={"limit": 63}, headers=auth(keys["bravo"], **{"Last-Event-ID": last})
    ) as r:
        rest = events(r)
    got = [int(e["id"]) for e in first + rest]
    assert len(got) == 100 and len(set(got)) == 100 and got == sorted(got)
    subjects = {orjson.loads(e["data"])["subject"] for e in first + rest}
    assert len(subjects) == 100 and all(e["event"] == "notification" for e in first + rest)
    # alpha's stream holds alpha's own 100, never bravo's
    with client.stream("GET", "/v1/stream", params={"limit": 100}, headers=auth(keys["alpha"])) as r:
        mine = events(r)
    assert {orjson.loads(e["data"])["party"] for e in mine} == {parties["alpha"][0].id}
    bad = client.get("/v1/stream", headers=auth(keys["alpha"], **{"Last-Event-ID": "yesterday"}))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "Last-Event-ID"


def test_a_live_notification_arrives_on_an_open_stream(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    received: list[dict[str, Any]] = []

    def listen() -> None:
        with client.stream("GET", "/v1/stream", params={"limit": 1}, headers=auth(keys["bravo"])) as r:
            received.extend(events(r))

    t = threading.Thread(target=listen)
    t.start()
    client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(keys["alpha"])
    )
    made = client.post(
        "/v1/operations",
        json={"kind": "air", "volumes": [volume_json(square(40.05, 35.05))]},
        headers=auth(keys["bravo"]),
    )
    t.join(20)
    assert not t.is_alive() and len(received) == 1
    assert orjson.loads(received[0]["data"])["subject"] == made.json()["conflicts"][0]["id"]


def test_acknowledge_overdue_and_the_ladder(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    ladder = {"contacts": [{"name": "duty", "channels": {"email": "duty@example.org"}}]}
    r = client.put("/v1/contacts", json=ladder, headers=auth(keys["alpha"]))
    assert r.status_code == 200 and r.json()["contacts"] == ladder["contacts"]
    assert client.get("/v1/contacts", headers=auth(keys["alpha"])).json() == ladder
    bad = client.put(
        "/v1/contacts", json={"contacts": [{"name": "x", "channels": {"pigeon": "y"}}]}, headers=auth(keys["alpha"])
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "unknown_channel"
    client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(keys["alpha"])
    )
    client.post(
        "/v1/operations",
        json={"kind": "air", "volumes": [volume_json(square(40.05, 35.05))]},
        headers=auth(keys["bravo"]),
    )
    (mine,) = client.get("/v1/notifications", params={"state": "pending"}, headers=auth(keys["alpha"])).json()["items"]
    assert client.get(f"/v1/notifications/{mine['id']}", headers=auth(keys["bravo"])).status_code == 404
    assert client.get(f"/v1/notifications/{mine['id']}", headers=auth(keys["cell"])).status_code == 200
    clock.advance(minutes=16)
    late = client.get("/v1/notifications/overdue", headers=auth(keys["cell"])).json()["items"]
    assert len(late) == 2 and all(n["overdue"] for n in late)
    assert [n["id"] for n in client.get("/v1/notifications/overdue", headers=auth(keys["alpha"])).json()["items"]] == [
        mine["id"]
    ]
    ack = client.post(f"/v1/notifications/{mine['id']}/ack", headers=auth(keys["alpha"]))
    assert (
        ack.status_code == 200
        and ack.json()["notification"]["state"] == "acknowledged"
        and ack.json()["receipt"]["signature"]
    )
    again = client.post(f"/v1/notifications/{mine['id']}/ack", headers=auth(keys["alpha"]))
    assert again.status_code == 409
    assert client.post(f"/v1/notifications/{mine['id']}/ack", headers=auth(keys["bravo"])).status_code == 404
    assert client.get("/v1/notifications/overdue", headers=auth(keys["alpha"])).json()["items"] == []


def test_an_expired_site_is_flagged_to_its_owner_once_and_stays_protected(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock, rt: Any
) -> None:
    from datetime import timedelta

    from deconfliction.domain.volume import format_time
    from deconfliction.service.notifications import flag_expired_sites

    keys = {n: k for n, (_, k) in parties.items()}
    until = format_time(clock.now + timedelta(days=1))
    site = {"name": "Clinic", "category": "hospital", "position": "35.0, 40.0", "radius_m": 200, "accuracy_m": 10}
    r = client.post("/v1/sites", json={**site, "valid_until": until}, headers=auth(keys["bravo"]))
    assert r.status_code == 201, r.text
    assert flag_expired_sites(rt) == 0
    clock.advance(days=1, seconds=1)
    assert flag_expired_sites(rt) == 1
    assert flag_expired_sites(rt) == 0  # once
    (n,) = client.get("/v1/notifications", headers=auth(keys["bravo"])).json()["items"]
    assert n["kind"] == "site.revalidation_due" and n["body"]["still_protected"] is True
    assert client.get("/v1/notifications", headers=auth(keys["alpha"])).json()["items"] == []
    # still protected: an operation of another party near it conflicts
    op = client.post(
        "/v1/operations",
        json={
            "kind": "ground",
            "volumes": [volume_json(square(39.999, 34.999, 0.002), start=clock.now + timedelta(hours=1))],
        },
        headers=auth(keys["alpha"]),
    )
    assert op.status_code == 201 and [c["kind"] for c in op.json()["conflicts"]] == ["protected_site"]
