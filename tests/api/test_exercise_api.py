"""The exercise clock over HTTP, in process, on both backends: /v1/clock, the coordinator's jump, the
exercise header on every answer (errors, the map's files and the stream included) and on none of a live
server's, marked ledger exports, and a ladder driven to the coordinator by jumps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from deconfliction.api.app import create_app
from deconfliction.domain.ledger import verify
from deconfliction.domain.party import Role
from deconfliction.domain.volume import parse_time
from deconfliction.service import notifications as notes
from deconfliction.service.exercise import start_exercise
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import Store
from tests.conftest import T0, auth, crossing_pair

START = T0 - timedelta(days=1)
HEADER = "Deconfliction-Exercise"


@pytest.fixture
def ex_rt(store: Store) -> Runtime:
    return Runtime(store, clock=start_exercise(store, START, 60.0))


@pytest.fixture
def ex_keys(ex_rt: Runtime) -> dict[str, str]:
    return {
        name: create_party(ex_rt, None, name, role)[1]
        for name, role in (("cell", Role.COORDINATOR), ("alpha", Role.PARTY), ("bravo", Role.PARTY))
    }


@pytest.fixture
def ex_client(ex_rt: Runtime, ex_keys: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=ex_rt)) as c:
        yield c


def test_the_clock_says_exercise_and_runs_at_its_speed(ex_client: TestClient) -> None:
    r = ex_client.get("/v1/clock")
    assert r.status_code == 200 and r.headers[HEADER] == "1"
    body = r.json()
    assert (body["exercise"], body["speed"], body["scenario_start"], body["advanced_s"]) == (
        True,
        60.0,
        "2026-11-22T08:00:00Z",
        0.0,
    )
    first = parse_time(body["now"], "now")
    assert START <= first < START + timedelta(minutes=10)
    time.sleep(0.5)
    later = parse_time(ex_client.get("/v1/clock").json()["now"], "now")
    assert timedelta(seconds=25) <= later - first <= timedelta(minutes=5)  # about 30 s per half real second


def test_every_answer_of_an_exercise_server_carries_the_header(
    ex_client: TestClient, ex_rt: Runtime, ex_keys: dict[str, str]
) -> None:
    too_large = b"x" * (ex_rt.limits.max_body_bytes + 1)
    answers = {
        "health": ex_client.get("/v1/health"),
        "clock": ex_client.get("/v1/clock"),
        "list": ex_client.get("/v1/operations", headers=auth(ex_keys["alpha"])),
        "no key": ex_client.get("/v1/operations"),
        "bad key": ex_client.get("/v1/operations", headers=auth("dk_wrong")),
        "unknown path": ex_client.get("/v1/nothing-here"),
        "bad body": ex_client.post("/v1/operations", json={"kind": "air"}, headers=auth(ex_keys["alpha"])),
        "too large": ex_client.post("/v1/operations", content=too_large, headers=auth(ex_keys["alpha"])),
        "page": ex_client.get("/"),
        "script": ex_client.get("/static/js/clock.js"),
        "openapi": ex_client.get("/v1/openapi.json"),
        "ledger": ex_client.get("/v1/ledger", headers=auth(ex_keys["alpha"])),
    }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses["no key"] == statuses["bad key"] == 401 and statuses["unknown path"] == 404
    assert statuses["bad body"] == 422 and statuses["too large"] == 413 and statuses["page"] == 200
    missing = [name for name, r in answers.items() if r.headers.get(HEADER) != "1"]
    assert not missing, f"answers without {HEADER}: {missing}"
    with ex_client.stream("GET", "/v1/stream", headers=auth(ex_keys["alpha"])) as stream:
        assert stream.status_code == 200 and stream.headers[HEADER] == "1"


def test_a_live_server_answers_without_the_header_and_refuses_a_jump(
    client: TestClient, parties: dict[str, Any]
) -> None:
    for r in (client.get("/v1/health"), client.get("/v1/clock"), client.get("/v1/nothing"), client.get("/")):
        assert HEADER not in r.headers
    clock = client.get("/v1/clock").json()
    assert clock["exercise"] is False and clock["speed"] == 1.0 and "scenario_start" not in clock
    r = client.post("/v1/exercise/advance", json={"seconds": 60}, headers=auth(parties["cell"][1]))
    assert r.status_code == 409 and r.json()["code"] == "not_an_exercise"


def test_only_the_coordinator_jumps_and_each_jump_is_a_marked_entry(
    ex_client: TestClient, ex_keys: dict[str, str]
) -> None:
    before = parse_time(ex_client.get("/v1/clock").json()["now"], "now")
    assert ex_client.post("/v1/exercise/advance", json={"seconds": 60}).status_code == 401
    r = ex_client.post("/v1/exercise/advance", json={"seconds": 60}, headers=auth(ex_keys["alpha"]))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    for body, field, code in (
        ({"seconds": 0}, "seconds", "out_of_range"),
        ({"seconds": "soon"}, "seconds", "invalid_value"),
        ({"minutes": 5}, "minutes", "unknown_field"),
        ({}, "seconds", "missing_field"),
    ):
        r = ex_client.post("/v1/exercise/advance", json=body, headers=auth(ex_keys["cell"]))
        assert r.status_code == 422, body
        assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["code"]) == (field, code)
    r = ex_client.post("/v1/exercise/advance", json={"seconds": 3600}, headers=auth(ex_keys["cell"]))
    assert r.status_code == 200, r.text
    after = parse_time(r.json()["clock"]["now"], "now")
    assert timedelta(hours=1) <= after - before < timedelta(hours=1, minutes=10)
    assert r.json()["clock"]["advanced_s"] == 3600.0 and r.json()["receipt"]["seq"] > 0
    # every party reads the jump in its ledger export; every entry is marked; the export verifies
    export = ex_client.get("/v1/ledger", headers=auth(ex_keys["bravo"])).content.splitlines()
    entries = [orjson.loads(line) for line in export[1:]]
    visible = [e["content"] for e in entries if not e.get("redacted")]
    (jump,) = [c for c in visible if c["type"] == "exercise.advanced"]
    assert jump["payload"]["seconds"] == 3600.0 and jump["exercise"] is True
    assert all(c["exercise"] is True for c in visible)
    report = verify(export)
    assert report.ok and report.exercise == len(visible)


def test_a_ladder_runs_out_after_jumps_in_seconds_of_real_time(
    ex_client: TestClient, ex_rt: Runtime, ex_keys: dict[str, str]
) -> None:
    """The 15-minute deadline of a conflict notification passes after a jump; the next escalation round
    (a server runs one every second) takes the step at once."""
    real_started = time.monotonic()
    crossing_pair(ex_client, ex_keys["alpha"], ex_keys["bravo"])
    (n,) = ex_client.get("/v1/notifications", headers=auth(ex_keys["alpha"])).json()["items"]
    now = parse_time(ex_client.get("/v1/clock").json()["now"], "now")
    deadline = parse_time(n["deadline"], "deadline")
    assert timedelta(0) < deadline - now <= timedelta(minutes=15)
    assert notes.run_escalations(ex_rt) == 0
    cell = ex_keys["cell"]
    for _ in range(4):
        late = ex_client.get("/v1/notifications/overdue", headers=auth(cell)).json()["items"]
        escalated = ex_client.get("/v1/notifications", headers=auth(cell)).json()["items"]
        if len(escalated) >= 2:  # both sides' ladders reached the coordinator
            break
        n = ex_client.get(f"/v1/notifications/{n['id']}", headers=auth(ex_keys["alpha"])).json()
        now = parse_time(ex_client.get("/v1/clock").json()["now"], "now")
        gap = (parse_time(n["deadline"], "deadline") - now).total_seconds()
        r = ex_client.post("/v1/exercise/advance", json={"seconds": max(gap, 0) + 1}, headers=auth(cell))
        assert r.status_code == 200
        late = ex_client.get("/v1/notifications/overdue", headers=auth(cell)).json()["items"]
        assert {x["id"] for x in late} >= {n["id"]}  # overdue by the scenario clock
        assert notes.run_escalations(ex_rt) >= 1
    assert [x["kind"] for x in escalated] == ["escalation", "escalation"]
    assert time.monotonic() - real_started < 10
