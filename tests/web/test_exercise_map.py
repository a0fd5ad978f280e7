"""The web map of an exercise server, in Debian's chromium against a real ``deconflict serve`` on an
exercise clock (SQLite and PostgreSQL): the EXERCISE banner shows before anyone signs in; the slider's
Now is the scenario time, not the browser's; a coordinator's jump of the clock makes a 15-minute deadline
overdue on the page within seconds, said in words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bench.servers import Server

from deconfliction.domain.party import Role
from deconfliction.service.exercise import start_exercise
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from tests.web.conftest import ZONE, Cell, Shots, chromium, need_browser

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-2")]

START = datetime(2016, 9, 17, 14, 0, tzinfo=UTC)
"""The scenario's start: years away from the browser's clock, so a page on the wrong clock shows."""
ENV = {"DECONFLICTION_EXERCISE_START": "2016-09-17T14:00:00Z", "DECONFLICTION_EXERCISE_SPEED": "1"}
SYNC_S = 15_000  # ms: the page reads an exercise server's clock every 5 s, then counts down every second


@pytest.fixture(scope="module")  # SQLite: the page does not depend on the backend (the API tests run on both)
def exercise_cell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cell]:
    need_browser()
    workdir = tmp_path_factory.mktemp("exercise-web")
    url = f"sqlite:///{workdir / 'exercise.db'}"
    store = open_store(url)
    try:
        rt = Runtime(store, clock=start_exercise(store, START, 1.0))
        coordinator, ckey = create_party(rt, None, "Coordination Cell", Role.COORDINATOR)
    finally:
        store.close()
    server = Server(url, workdir, env=ENV)
    try:
        server.wait_ready()
        keys, ids = {"coordinator": ckey}, {"coordinator": coordinator.id}
        for who, name in (("north", "North Force"), ("east", "East Force")):
            r = httpx.post(
                f"{server.url}/v1/parties", json={"name": name}, headers={"Authorization": f"Bearer {ckey}"}, timeout=30
            )
            r.raise_for_status()
            keys[who], ids[who] = r.json()["api_key"], r.json()["party"]["id"]
        yield Cell(server.url, keys, ids, {})
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(exercise_cell: Cell) -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_the_map_runs_on_the_scenario_clock_and_says_exercise(browser: Any, exercise_cell: Cell, shots: Shots) -> None:
    cell = exercise_cell
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(cell.url + "/")
    # the banner, in words, before anyone signs in
    banner = page.locator("#exercise-banner")
    banner.wait_for(state="visible", timeout=SYNC_S)
    assert "EXERCISE" in banner.inner_text() and "Nothing here is live data" in banner.inner_text()
    assert page.title().startswith("EXERCISE")
    shots.take(page, "sign-in-with-banner")

    # a conflict on the scenario's next day, told to East with a 15-minute deadline (scenario minutes)
    day = START + timedelta(days=1)
    window = {"start": f"{day:%Y-%m-%dT%H:%M:%SZ}", "end": f"{day + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"}
    for who, lon in (("east", 0.0), ("north", 0.05)):
        shifted = [[x + lon, y] for x, y in ZONE["coordinates"][0]]
        volume = {
            "footprint": {"type": "Polygon", "coordinates": [shifted]},
            "altitude": {"lower_m": 0, "upper_m": 500},
            "window": window,
        }
        body = {"kind": "air", "title": f"{who} sortie", "volumes": [volume]}
        r = cell.call(who, "POST", "/v1/operations", json=body)
        assert r.status_code == 201, r.text
        assert r.headers["Deconfliction-Exercise"] == "1"

    key = page.get_by_label("Party API key")
    key.focus()
    page.keyboard.type(cell.keys["east"])
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    # Now is the scenario's time, not the browser's
    now_text = page.locator("#time-out").inner_text()
    assert now_text.startswith("2016-09-17 14:0") and "(now)" in now_text, now_text
    card = page.locator('#notifications [data-kind="conflict.opened"]').first
    card.wait_for(timeout=SYNC_S)
    assert "Acknowledge within 0:1" in card.inner_text() and "OVERDUE" not in card.inner_text()
    shots.take(page, "countdown-on-scenario-time")

    # the coordinator moves the scenario 16 minutes on: the deadline has passed, on the page too
    r = cell.call("coordinator", "POST", "/v1/exercise/advance", json={"seconds": 16 * 60})
    assert r.status_code == 200, r.text
    card.get_by_text("OVERDUE").wait_for(timeout=SYNC_S)
    assert "overdue" in (card.get_attribute("class") or "") and "⚠" in card.inner_text()
    page.wait_for_function(
        "() => document.getElementById('time-out').textContent.startsWith('2016-09-17 14:1')", timeout=SYNC_S
    )
    shots.take(page, "overdue-after-the-jump")
    assert not errors, errors
    context.close()
