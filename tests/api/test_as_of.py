"""As-of reads over HTTP and `deconflict replay`: the views as they were, from the ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from deconfliction.cli import app
from deconfliction.domain.party import Party
from deconfliction.domain.volume import format_time
from tests.conftest import FakeClock, auth, square, volume_json


def iso(clock: FakeClock) -> str:
    return format_time(clock.now)


def test_as_of_reads_show_the_views_of_that_moment(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    before = iso(clock)
    clock.advance(minutes=1)
    a = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(keys["alpha"])
    )
    clock.advance(minutes=1)
    after_a = iso(clock)
    clock.advance(minutes=1)
    b = client.post(
        "/v1/operations",
        json={"kind": "air", "volumes": [volume_json(square(40.05, 35.05))]},
        headers=auth(keys["bravo"]),
    )
    assert a.status_code == b.status_code == 201
    op_a = a.json()["operation"]
    clock.advance(minutes=1)
    cancel = client.post(f"/v1/operations/{op_a['id']}/cancel", headers=auth(keys["alpha"], **{"If-Match": '"1"'}))
    assert cancel.status_code == 200
    cid = b.json()["conflicts"][0]["id"]

    def get(path: str, who: str, at: str | None) -> Any:
        return client.get(path, params={"as_of": at} if at else {}, headers=auth(keys[who]))

    # before anything, nothing; after alpha's submission, its draft and no conflict
    assert get("/v1/operations", "alpha", before).json()["items"] == []
    assert get("/v1/operations", "alpha", after_a).json()["items"] == [op_a]
    assert get(f"/v1/operations/{op_a['id']}", "alpha", after_a).json() == op_a
    assert get(f"/v1/operations/{op_a['id']}", "alpha", before).status_code == 404
    assert get(f"/v1/operations/{op_a['id']}", "bravo", after_a).status_code == 404  # never another's plan
    assert get("/v1/conflicts", "alpha", after_a).json()["items"] == []
    # while the conflict was open, each side saw it as it was told; now it is resolved
    open_at = iso(clock)
    was_open = get(f"/v1/conflicts/{cid}", "bravo", b.json()["operation"]["created_at"]).json()
    assert was_open["state"] == "open" and was_open == b.json()["conflicts"][0]
    assert get(f"/v1/conflicts/{cid}", "bravo", open_at).json()["state"] == "resolved"
    assert get(f"/v1/conflicts/{cid}", "bravo", None).json() == get(f"/v1/conflicts/{cid}", "bravo", open_at).json()
    # the coordinator sees both sides, as the live read does
    for who in ("cell", "alpha", "bravo"):
        for path in ("/v1/operations", "/v1/conflicts"):
            assert get(path, who, open_at).json() == get(path, who, None).json(), (who, path)
    bad = get("/v1/operations", "alpha", "yesterday")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "as_of"
    naive = get("/v1/operations", "alpha", "2026-11-22T08:00:00")
    assert naive.json()["errors"][0]["code"] == "time_without_offset"


def test_cli_replay_prints_a_partys_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path}/r.db"
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", url)
    assert runner.invoke(app, ["demo", "--database-url", url]).exit_code == 0
    result = runner.invoke(app, ["replay", "--party", "North Force", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["operations"] and all(o["owner"] == body["operations"][0]["owner"] for o in body["operations"])
    assert body["conflicts"] and all("counterpart" in c for c in body["conflicts"])
    everything = json.loads(runner.invoke(app, ["replay", "--json"]).output)
    assert len(everything["operations"]) > len(body["operations"])
    assert all("sides" in c for c in everything["conflicts"])
    early = json.loads(
        runner.invoke(app, ["replay", "--party", "North Force", "--at", "2000-01-01T00:00:00Z", "--json"]).output
    )
    assert early["operations"] == [] and early["conflicts"] == []
    table = runner.invoke(app, ["replay", "--party", "North Force"], terminal_width=200)
    assert table.exit_code == 0 and "Operations:" in table.output and "Conflicts:" in table.output
    missing = runner.invoke(app, ["replay", "--party", "Nobody"])
    assert missing.exit_code == 2 and "Nobody" in missing.output


def test_as_of_sites_and_zones(client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    before = iso(clock)
    clock.advance(minutes=1)
    site = {"name": "School", "category": "school", "position": "35.1, 40.1", "radius_m": 100, "accuracy_m": 5}
    made = client.post("/v1/sites", json={**site, "valid_until": "2027-01-01T00:00:00Z"}, headers=auth(keys["bravo"]))
    assert made.status_code == 201, made.text
    sid = made.json()["site"]["id"]
    clock.advance(minutes=1)
    while_active = iso(clock)
    clock.advance(minutes=1)
    gone = client.post(f"/v1/sites/{sid}/withdraw", headers=auth(keys["bravo"], **{"If-Match": '"1"'}))
    assert gone.status_code == 200, gone.text

    def site_at(at: str, who: str = "alpha") -> Any:
        return client.get(f"/v1/sites/{sid}", params={"as_of": at}, headers=auth(keys[who]))

    assert site_at(before).status_code == 404
    assert site_at(while_active).json()["state"] == "active"  # every party sees every site
    assert site_at(iso(clock)).json()["state"] == "withdrawn"
    listed = client.get("/v1/sites", params={"as_of": while_active, "state": "active"}, headers=auth(keys["alpha"]))
    assert [s["id"] for s in listed.json()["items"]] == [sid]
    # a zone proposed by alpha to bravo: a third party sees it only once agreed
    area = {"type": "Polygon", "coordinates": [[[41, 35], [41.1, 35], [41.1, 35.1], [41, 35.1], [41, 35]]]}
    validity = {"start": "2026-11-22T00:00:00Z", "end": "2026-12-30T00:00:00Z"}
    z = client.post(
        "/v1/zones",
        json={
            "name": "North bank",
            "counterparties": [parties["bravo"][0].id],
            "footprint": area,
            "validity": validity,
        },
        headers=auth(keys["alpha"]),
    )
    assert z.status_code == 201, z.text
    zid = z.json()["zone"]["id"]
    clock.advance(minutes=1)
    proposed = iso(clock)
    clock.advance(minutes=1)
    ok = client.post(f"/v1/zones/{zid}/answer", json={"answer": "accepted"}, headers=auth(keys["bravo"]))
    assert ok.status_code == 200, ok.text
    assert client.get(f"/v1/zones/{zid}", params={"as_of": proposed}, headers=auth(keys["watcher"])).status_code == 404
    assert (
        client.get(f"/v1/zones/{zid}", params={"as_of": proposed}, headers=auth(keys["bravo"])).json()["versions"][0][
            "state"
        ]
        == "proposed"
    )
    now = client.get(f"/v1/zones/{zid}", params={"as_of": iso(clock)}, headers=auth(keys["watcher"]))
    assert now.json()["versions"][0]["state"] == "agreed"
    assert now.json() == client.get(f"/v1/zones/{zid}", headers=auth(keys["watcher"])).json()
