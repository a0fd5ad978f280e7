"""Incidents: a report links what was near in space and time as it stood then, and the timeline of
who was told what; bad reports are refused by field; the HTML report is self-contained."""

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
from tests.conftest import T0, FakeClock, auth, square, volume_json

AT = format_time(T0.replace(hour=9))


def incident(**over: Any) -> dict[str, Any]:
    return {"place": {"type": "Point", "coordinates": [40.06, 35.06]}, "at": AT, "description": "a blast", **over}


@pytest.fixture
def scene(client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock) -> dict[str, Any]:
    keys = {n: k for n, (_, k) in parties.items()}
    a = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(keys["alpha"])
    )
    clock.advance(minutes=1)
    b = client.post(
        "/v1/operations",
        json={"kind": "air", "volumes": [volume_json(square(40.05, 35.05))]},
        headers=auth(keys["bravo"]),
    )
    far = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(44, 35))]}, headers=auth(keys["bravo"])
    )
    assert a.status_code == b.status_code == far.status_code == 201
    return {"keys": keys, "a": a.json(), "b": b.json(), "far": far.json()}


def test_an_inquiry_links_what_was_near_as_it_stood_then_and_who_was_told(
    client: TestClient, scene: dict[str, Any], clock: FakeClock
) -> None:
    keys = scene["keys"]
    clock.advance(minutes=1)
    # it happened now, while both plans stood as declared; the search runs two days ahead to their windows
    report = incident(at=format_time(clock.now), after_s=2 * 86_400)
    clock.advance(minutes=1)
    r = client.post("/v1/incidents", json=report, headers=auth(keys["alpha"]))
    assert r.status_code == 201, r.text
    iid = r.json()["incident"]["id"]
    assert r.json()["receipt"]["signature"]
    # bravo moves away afterwards: the inquiry still shows the plan as it stood at the incident's time
    clock.advance(minutes=5)
    (told,) = client.get("/v1/notifications", headers=auth(keys["bravo"])).json()["items"]
    assert client.post(f"/v1/notifications/{told['id']}/ack", headers=auth(keys["bravo"])).status_code == 200
    b = scene["b"]["operation"]
    moved = client.put(
        f"/v1/operations/{b['id']}",
        json={"kind": "air", "volumes": [volume_json(square(46, 35))]},
        headers=auth(keys["bravo"], **{"If-Match": '"1"'}),
    )
    assert moved.status_code == 200
    full = client.get(f"/v1/incidents/{iid}", headers=auth(keys["cell"])).json()
    near = {o["id"]: o for o in full["operations"]}
    assert set(near) == {scene["a"]["operation"]["id"], b["id"]}  # not the one 350 km away
    assert near[b["id"]]["version"] == 1 and near[b["id"]]["distance_m"] == 0.0
    assert [c["id"] for c in full["conflicts"]] == [c["id"] for c in scene["b"]["conflicts"]]
    assert full["conflicts"][0]["state"] == "open"  # open at the time, resolved since
    timeline = [(t["type"], tuple(t["told"])) for t in full["timeline"]]
    assert ("conflict.opened", ("alpha",)) in timeline and ("conflict.opened", ("bravo",)) in timeline
    assert ("conflict.resolved", ("alpha",)) in timeline  # the move resolved it, and both were told
    assert ("incident.reported", ("alpha",)) in timeline
    assert ("notification.acknowledged", ("bravo", "alpha")) in timeline  # bravo said it received the conflict
    assert full["not_recorded"]
    # the reporter sees its own side only; another party does not see the incident at all
    own = client.get(f"/v1/incidents/{iid}", headers=auth(keys["alpha"])).json()
    assert {o["id"] for o in own["operations"]} == {scene["a"]["operation"]["id"]}
    assert b["id"] not in str(own)
    assert client.get(f"/v1/incidents/{iid}", headers=auth(keys["bravo"])).status_code == 404
    listed = client.get("/v1/incidents", headers=auth(keys["bravo"])).json()["items"]
    assert listed == []
    # the HTML report: one file, no script, no external resource, everything escaped
    html = client.get(f"/v1/incidents/{iid}/report", headers=auth(keys["cell"]))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    page = html.text
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert b["id"] in page and "<svg" in page and full["timeline"][0]["hash"] in page


def test_bad_reports_are_refused_by_field_and_nothing_is_stored(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    key = parties["alpha"][1]
    cases = {
        "place": incident(place={"type": "Point", "coordinates": ["x", 1]}),
        "place.coordinates[1]": incident(place={"type": "Point", "coordinates": [40, 95]}),
        "at": incident(at="2026-11-23T09:00:00"),
        "description": incident(description="  "),
        "radius_m": incident(radius_m=0),
        "before_s": incident(before_s=-1),
    }
    for field, body in cases.items():
        r = client.post("/v1/incidents", json=body, headers=auth(key))
        assert r.status_code == 422, (field, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
    unknown = client.post("/v1/incidents", json={**incident(), "severity": 5}, headers=auth(key))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "severity"
    observer = client.post("/v1/incidents", json=incident(), headers=auth(parties["watcher"][1]))
    assert observer.status_code == 403
    assert client.get("/v1/incidents", headers=auth(parties["cell"][1])).json()["items"] == []


def test_cli_writes_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deconfliction.domain.incident import IncidentDraft
    from deconfliction.service.incidents import report_incident
    from deconfliction.service.runtime import Runtime
    from deconfliction.store import open_store

    url = f"sqlite:///{tmp_path}/i.db"
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--database-url", url]).exit_code == 0
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", url)
    rt = Runtime(open_store(url))
    try:
        with rt.store.read() as tx:
            reporter = tx.parties.by_name("Aid Agency")
        assert reporter is not None
        incident_, _ = report_incident(
            rt, reporter, IncidentDraft(40.14, 35.33, rt.clock(), "shelling near the road", 50_000.0, 86_400, 86_400)
        )
    finally:
        rt.store.close()
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["incident", "report", incident_.id, "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "shelling near the road" in page and "Who was told what" in page
    as_json = json.loads(runner.invoke(app, ["incident", "report", incident_.id, "--json"]).output)
    # the demo's hospital and warehouse, and the two forces' zones, are near the road
    assert {s["category"] for s in as_json["sites"]} >= {"hospital", "warehouse"}
    assert len(as_json["zones"]) >= 2 and as_json["operations"]
    as_party = runner.invoke(app, ["incident", "report", incident_.id, "--party", "North Force"])
    assert as_party.exit_code == 2 and "no incident" in as_party.output
    missing = runner.invoke(app, ["incident", "report", "in_nope"])
    assert missing.exit_code == 2
