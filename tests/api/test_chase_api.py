"""The chase over HTTP: /v1/notifications/overdue lists what missed a deadline at every step, with its
steps and since when; a superseded notification is shown as such and filtered by state; a site to
revalidate (no danger time) gets the default length; a bad ``escalation`` section stops the start."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deconfliction.domain.party import Party
from deconfliction.domain.volume import format_time
from deconfliction.errors import InvalidInput
from deconfliction.service import notifications as notes
from tests.conftest import T0, FakeClock, auth, square, volume_json


def declare(client: TestClient, key: str, lon: float, lat: float) -> dict[str, Any]:
    r = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(lon, lat))]}, headers=auth(key)
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_overdue_lists_every_step_and_a_superseded_notification_is_shown_as_such(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock, rt: Any
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    ladder = {"contacts": [{"name": "duty officer"}, {"name": "deputy"}]}
    assert client.put("/v1/contacts", json=ladder, headers=auth(keys["alpha"])).status_code == 200
    clock.now = T0 - timedelta(minutes=10)
    declare(client, keys["alpha"], 40, 35)
    b = declare(client, keys["bravo"], 40.05, 35.05)
    (mine,) = client.get("/v1/notifications", headers=auth(keys["alpha"])).json()["items"]
    assert mine["starts_at"] == format_time(T0) and mine["deadline"] == format_time(clock.now + timedelta(seconds=200))
    clock.now = T0 - timedelta(minutes=6, seconds=40)
    assert notes.run_escalations(rt) == 1  # alpha's (bravo, one contact, has until 5 minutes before)
    for who in ("alpha", "coordinator"):
        key = keys["alpha"] if who == "alpha" else keys["cell"]
        items = client.get("/v1/notifications/overdue", headers=auth(key)).json()["items"]
        (late,) = [x for x in items if x["party"] == parties["alpha"][0].id]
        assert late["id"] == mine["id"] and late["overdue"] is True and late["step"] == 1
        assert late["overdue_since"] == mine["deadline"]
        assert [(s["to"], s["missed"]) for s in late["escalations"]] == [("deputy", mine["deadline"])]
    # bravo moves its strike: the conflict's content changes, the new notification takes the chase over
    conflict = b["conflicts"][0]
    moved = client.put(
        f"/v1/operations/{b['operation']['id']}",
        json={
            "kind": "air",
            "volumes": [volume_json(square(40.06, 35.06))],
            "known_conflict_tokens": [conflict["token"]],
        },
        headers=auth(keys["bravo"], **{"If-Match": '"1"'}),
    )
    assert moved.status_code == 200, moved.text
    old = client.get(f"/v1/notifications/{mine['id']}", headers=auth(keys["alpha"])).json()
    (new,) = client.get("/v1/notifications?state=pending", headers=auth(keys["alpha"])).json()["items"]
    assert old["state"] == "superseded" and old["superseded_by"] == new["id"] and old["step"] == 1
    assert new["body"]["takes_over"] == mine["id"] and new["step"] == 1 and new["deadline"] == old["deadline"]
    superseded = client.get("/v1/notifications?state=superseded", headers=auth(keys["alpha"])).json()["items"]
    assert [x["id"] for x in superseded] == [mine["id"]]
    items = client.get("/v1/notifications/overdue", headers=auth(keys["alpha"])).json()["items"]
    assert [x["id"] for x in items] == [new["id"]]
    refused = client.post(f"/v1/notifications/{mine['id']}/ack", headers=auth(keys["alpha"]))
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"
    assert refused.json()["state"] == "superseded"
    assert client.post(f"/v1/notifications/{new['id']}/ack", headers=auth(keys["alpha"])).status_code == 200
    items = client.get("/v1/notifications/overdue", headers=auth(keys["alpha"])).json()["items"]
    assert items == []


def test_a_site_to_revalidate_has_no_danger_time_and_gets_the_default(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock, rt: Any
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    ladder = {"contacts": [{"name": "duty officer"}, {"name": "deputy"}]}
    assert client.put("/v1/contacts", json=ladder, headers=auth(keys["bravo"])).status_code == 200
    until = format_time(clock.now + timedelta(hours=1))
    site = {"name": "Clinic", "category": "hospital", "position": "35.0, 40.0", "radius_m": 200, "accuracy_m": 10}
    assert client.post("/v1/sites", json={**site, "valid_until": until}, headers=auth(keys["bravo"])).status_code == 201
    clock.advance(hours=2)
    assert notes.flag_expired_sites(rt) == 1
    (n,) = client.get("/v1/notifications", headers=auth(keys["bravo"])).json()["items"]
    assert n["starts_at"] is None and n["deadline"] == format_time(clock.now + timedelta(minutes=15))


def test_a_bad_escalation_section_stops_the_start(tmp_path: Path) -> None:
    from deconfliction.api.app import create_app
    from deconfliction.settings import Settings

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"escalation": {"floor_s": -5}}), encoding="utf-8")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite", policy_file=str(policy))
    with pytest.raises(InvalidInput, match=r"escalation\.floor_s"), TestClient(create_app(settings)):
        pass
