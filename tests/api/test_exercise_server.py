"""``deconflict serve`` on an exercise clock, as a real process over a real database (SQLite and
PostgreSQL): it says it is an exercise, marks every answer, and its own escalation rounds take a ladder to
the coordinator within seconds of the coordinator's jumps; a live server refuses the exercise database,
and an exercise server a live one, each naming the setting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.servers import Server

from deconfliction.client import Client
from deconfliction.domain.party import Role
from deconfliction.domain.volume import parse_time
from deconfliction.service.exercise import start_exercise
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from tests.conftest import T0, make_postgres_database, volume_json

START = T0 - timedelta(days=1)
EXERCISE_ENV = {"DECONFLICTION_EXERCISE_START": "2026-11-22T08:00:00Z", "DECONFLICTION_EXERCISE_SPEED": "1"}
SQUARE = {"type": "Polygon", "coordinates": [[[40, 35], [40.1, 35], [40.1, 35.1], [40, 35.1], [40, 35]]]}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'exercise.db'}"
        return
    url, drop = make_postgres_database()
    try:
        yield url
    finally:
        drop()


def _refused(url: str, workdir: Path, env: dict[str, str] | None = None) -> str:
    """Start a server that must refuse the database: its exit and what it said."""
    server = Server(url, workdir, env=env)
    try:
        with pytest.raises(RuntimeError, match="exited") as exc:
            server.wait_ready(timeout=60)
        return str(exc.value)
    finally:
        server.stop()


def _call(server: Server, key: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.request(method, server.url + path, headers=headers, timeout=30, **kw)


def test_an_exercise_server_drives_a_ladder_in_seconds_and_a_live_one_refuses_its_database(
    database: str, tmp_path: Path
) -> None:
    store = open_store(database)
    try:
        rt = Runtime(store, clock=start_exercise(store, START, 1.0))
        cell_key = create_party(rt, None, "Coordination Cell", Role.COORDINATOR)[1]
    finally:
        store.close()
    server = Server(database, tmp_path, env=EXERCISE_ENV)
    try:
        server.wait_ready()
        assert "EXERCISE" in server.log_tail()  # deconflict serve says so on start
        keys = {"cell": cell_key}
        for name in ("alpha", "bravo"):
            r = _call(server, cell_key, "POST", "/v1/parties", json={"name": name})
            assert r.status_code == 201, r.text
            keys[name] = r.json()["api_key"]
        # every answer says it is an exercise, the refusals too
        for key, path in ((None, "/v1/health"), (None, "/v1/clock"), (None, "/"), (None, "/v1/operations")):
            r = _call(server, key, "GET", path)
            assert r.headers.get("Deconfliction-Exercise") == "1", (path, r.status_code)
        r = _call(
            server, keys["alpha"], "PUT", "/v1/contacts", json={"contacts": [{"name": "duty"}, {"name": "deputy"}]}
        )
        assert r.status_code == 200, r.text
        for who, lon in (("alpha", 40.0), ("bravo", 40.05)):
            shifted = {**SQUARE, "coordinates": [[[x + lon - 40, y] for x, y in SQUARE["coordinates"][0]]]}
            r = _call(
                server, keys[who], "POST", "/v1/operations", json={"kind": "air", "volumes": [volume_json(shifted)]}
            )
            assert r.status_code == 201, r.text
        (told,) = _call(server, keys["alpha"], "GET", "/v1/notifications").json()["items"]
        real_started = time.monotonic()
        steps: list[tuple[str, float]] = []
        for _ in range(4):
            n = _call(server, keys["alpha"], "GET", f"/v1/notifications/{told['id']}").json()
            if n["at_coordinator"]:
                break
            with Client(server.url, cell_key, retries=0) as coordinator:  # the Python client's way
                clock = coordinator.clock()
                assert clock.exercise and clock.scenario_start == START
                gap = (parse_time(n["deadline"], "deadline") - clock.now).total_seconds()
                jump = coordinator.advance_exercise(max(gap, 0) + 1)
                assert jump.clock.now > parse_time(n["deadline"], "deadline") and coordinator.receipts == [jump.receipt]
            jumped = time.monotonic()
            while time.monotonic() - jumped < 10:  # the server's own round, once a second
                after = _call(server, keys["alpha"], "GET", f"/v1/notifications/{told['id']}").json()
                if after["step"] > n["step"]:
                    steps.append((after["escalations"][-1]["to"], time.monotonic() - jumped))
                    break
                time.sleep(0.1)
            else:
                pytest.fail(f"no escalation within 10 s of the jump: {after}")
        assert [to for to, _ in steps] == ["deputy", "coordinator"]
        assert all(took < 3 for _, took in steps), steps
        print(f"real seconds from each jump to its escalation: {steps}")
        assert time.monotonic() - real_started < 20
        kinds = [x["kind"] for x in _call(server, cell_key, "GET", "/v1/notifications").json()["items"]]
        assert "escalation" in kinds
    finally:
        server.stop()
    said = _refused(database, tmp_path)  # a live server on the exercise database
    assert "DECONFLICTION_EXERCISE_START" in said and "holds an exercise" in said


def test_an_exercise_server_refuses_a_live_database(database: str, tmp_path: Path) -> None:
    store = open_store(database)
    try:
        create_party(Runtime(store), None, "Coordination Cell", Role.COORDINATOR)
    finally:
        store.close()
    said = _refused(database, tmp_path, env=EXERCISE_ENV)
    assert "DECONFLICTION_EXERCISE_START is set, but this database holds live data" in said.replace("\n", " ")


def test_a_bad_exercise_setting_stops_the_start_naming_it(tmp_path: Path) -> None:
    said = _refused(
        f"sqlite:///{tmp_path / 'x.db'}",
        tmp_path,
        env={"DECONFLICTION_EXERCISE_START": "2026-11-22T08:00:00Z", "DECONFLICTION_EXERCISE_SPEED": "0"},
    )
    assert "DECONFLICTION_EXERCISE_SPEED" in said
    assert not (tmp_path / "x.db").exists()  # refused from the settings, before any database was opened


def test_two_servers_on_one_database_agree_on_the_scenario_time(database: str, tmp_path: Path) -> None:
    """Two ``deconflict serve`` processes: a jump made through one reaches the other within its next
    look at the anchor (once a second), and both then tell the same scenario time."""
    store = open_store(database)
    try:
        rt = Runtime(store, clock=start_exercise(store, START, 1.0))
        cell_key = create_party(rt, None, "Coordination Cell", Role.COORDINATOR)[1]
    finally:
        store.close()
    one, two = Server(database, tmp_path, env=EXERCISE_ENV), Server(database, tmp_path, env=EXERCISE_ENV)
    try:
        one.wait_ready()
        two.wait_ready()

        def now(server: Server) -> Any:
            return parse_time(_call(server, None, "GET", "/v1/clock").json()["now"], "now")

        assert abs((now(one) - now(two)).total_seconds()) < 2
        r = _call(one, cell_key, "POST", "/v1/exercise/advance", json={"seconds": 7200})
        assert r.status_code == 200, r.text
        jumped = time.monotonic()
        while now(two) < START + timedelta(hours=2):
            assert time.monotonic() - jumped < 5, "the other server did not take the jump"
            time.sleep(0.1)
        assert abs((now(one) - now(two)).total_seconds()) < 2
    finally:
        one.stop()
        two.stop()
