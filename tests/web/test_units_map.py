"""Units in the web map, in Debian's chromium against the real service: East's watch desk declares an
operation for its convoy team with the draw form's unit select (hidden for North, which has no units);
North crosses it; the convoy team, signed in with its own key, sees the warning in its inbox naming the
unit and acknowledges it; the watch desk sees the same card acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import Cell, Shots, open_cell, open_page
from tests.web.test_map import LIVE_S, draw_polygon

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-2")]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], scope="module")
def cell(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cell]:
    """The warning chain from the page runs on both backends (the other page tests on SQLite only)."""
    with open_cell(request.param, tmp_path_factory) as c:
        yield c


def test_a_unit_declares_is_warned_and_acknowledges_in_its_own_inbox(browser: Any, cell: Cell, shots: Shots) -> None:
    errors: list[str] = []
    r = cell.call("east", "POST", "/v1/units", json={"name": "Convoy team", "contacts": [{"name": "Convoy lead"}]})
    assert r.status_code == 201, r.text
    team = r.json()["unit"]
    r = cell.call("east", "POST", f"/v1/units/{team['id']}/keys")
    assert r.status_code == 201, r.text
    cell.keys["east-convoy"] = r.json()["api_key"]

    # North has no units: no unit select
    north = open_page(browser, cell, "north", errors)
    north.get_by_role("tab", name="Draw and upload").click()
    assert north.locator("#f-unit-row").is_hidden()
    north.context.close()

    # East's watch desk declares for its convoy team
    desk = open_page(browser, cell, "east", errors)
    draw_polygon(desk, [(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)])
    select = desk.get_by_label("Declared by")
    assert select.is_visible()
    assert select.locator("option").all_inner_texts() == ["East Force (no unit)", "Convoy team"]
    select.select_option(label="Convoy team")
    desk.get_by_label("Title").fill("Convoy to the east bank")
    shots.take(desk, "desk-declares-for-the-convoy")
    desk.get_by_role("button", name="Submit").click()
    desk.locator("#draw-result").get_by_text("Stored").wait_for(timeout=LIVE_S)
    (op,) = cell.call("east", "GET", "/v1/operations").json()["items"]
    assert op["unit"] == team["id"] and op["title"] == "Convoy to the east bank"

    # North crosses it (through the API): the convoy team's inbox shows the warning, naming the unit
    volume = op["volumes"][0]
    r = cell.call("north", "POST", "/v1/operations", json={"kind": "air", "title": "Strike", "volumes": [volume]})
    assert r.status_code == 201, r.text
    convoy = open_page(browser, cell, "east-convoy", errors)
    assert "Convoy team (unit)" in convoy.locator("#who").inner_text()
    card = convoy.locator(f'#notifications [data-kind="conflict.opened"][data-unit="{team["id"]}"]')
    card.first.wait_for(timeout=LIVE_S)
    assert "For unit Convoy team" in card.first.inner_text()
    convoy.get_by_role("tab", name="Draw and upload").click()
    assert convoy.get_by_label("Declared by").locator("option").all_inner_texts() == ["Convoy team"]
    convoy.get_by_role("tab", name="Inbox").click()
    shots.take(convoy, "convoy-warned")
    card.first.get_by_role("button", name="Acknowledge", exact=False).click()
    convoy.locator(f'#notifications .card.done[data-unit="{team["id"]}"]').first.wait_for(timeout=LIVE_S)
    shots.take(convoy, "convoy-acknowledged")

    # the watch desk sees the same notification, acknowledged by the unit
    desk.reload()
    desk.wait_for_selector("body[data-ready=true]", timeout=20_000)
    done = desk.locator(f'#notifications .card.done[data-unit="{team["id"]}"]')
    done.first.wait_for(timeout=LIVE_S)
    assert "For unit Convoy team" in done.first.inner_text()
    shots.take(desk, "desk-sees-it-acknowledged")
    assert not errors, errors
    for page in (desk, convoy):
        page.context.close()
