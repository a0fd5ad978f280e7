"""The acknowledgement gate in the web map: North plans its operation across East's agreed zone from the
page, activation waits for East (the page says so and offers an override with a required reason), the
override is sent, and East and the coordinator are told; a second operation activates once East has
acknowledged, with no override."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.web.conftest import ZONE, Cell, Shots, open_page
from tests.web.test_map import LIVE_S, cross_zone

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def own_card(page: Any, title: str) -> Any:
    box = page.locator("#own-operations")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    card = page.locator("#operations .card").filter(has_text=title)
    card.wait_for(timeout=LIVE_S)
    return card


def state_of(cell: Cell, title: str) -> str:
    ops = cell.call("north", "GET", "/v1/operations").json()["items"]
    return next(o["state"] for o in ops if o["title"] == title)


def test_plan_then_activate_waits_for_the_other_side_and_an_override_needs_a_reason(
    browser: Any, cell: Cell, shots: Shots
) -> None:
    title = "Gate check: supply drop over the east bank"
    cross_zone(cell, title, days=2)
    errors: list[str] = []
    north = open_page(browser, cell, "north", errors)

    own_card(north, title).get_by_role("button", name=f"Plan: {title}").click()
    north.locator("#operations .card").filter(has_text=title).filter(has_text="(planned)").wait_for(timeout=LIVE_S)
    assert state_of(cell, title) == "planned"  # planning is not held by default

    card = own_card(north, title)
    card.get_by_role("button", name=f"Activate: {title}").click()
    waiting = card.locator("form.override")
    waiting.wait_for(timeout=LIVE_S)
    assert "waits for East Force" in waiting.inner_text()
    assert "zone entry" in waiting.inner_text()
    shots.take(north, "awaiting-acknowledgement")
    assert state_of(cell, title) == "planned"

    # the override is a deliberate step: without a reason nothing is sent
    card.get_by_role("button", name=f"Override and activate: {title}").click()
    reason = card.get_by_label("Reason to go ahead without East Force's acknowledgement")
    card.locator(".field-error.generated").filter(has_text="a reason is required").wait_for(timeout=LIVE_S)
    assert reason.get_attribute("aria-invalid") == "true"
    assert state_of(cell, title) == "planned"
    reason.fill("Resupply of the cut-off post; East's liaison unreachable on every channel")
    card.get_by_role("button", name=f"Override and activate: {title}").click()
    north.get_by_text("is now active", exact=False).wait_for(timeout=LIVE_S)
    shots.take(north, "overridden")
    assert state_of(cell, title) == "active"

    # East and the coordinator are told at once, with a deadline
    for who in ("east", "coordinator"):
        told = [
            n
            for n in cell.call(who, "GET", "/v1/notifications?pending=true").json()["items"]
            if n["kind"] == "conflict.overridden" and n["body"]["reason"].startswith("Resupply of the cut-off post")
        ]
        assert len(told) == 1 and told[0]["deadline"] and told[0]["body"]["by_name"] == "North Force", (who, told)
    east = open_page(browser, cell, "east", errors)
    east.locator('#notifications [data-kind="conflict.overridden"]').filter(has_text="Resupply").first.wait_for(
        timeout=LIVE_S
    )
    told_card = east.locator('#notifications [data-kind="conflict.overridden"]').first
    assert "North Force overrode the zone entry conflict" in told_card.inner_text()
    shots.take(east, "east-told-of-the-override")
    assert not errors, errors
    for page in (north, east):
        page.context.close()


def test_activation_passes_from_the_page_once_the_other_side_acknowledged(
    browser: Any, cell: Cell, shots: Shots
) -> None:
    title = "Gate check: recce after acknowledgement"
    cross_zone(cell, title, days=2)
    [op] = [o for o in cell.call("north", "GET", "/v1/operations").json()["items"] if o["title"] == title]
    [c] = cell.call("north", "GET", f"/v1/conflicts?operation={op['id']}&state=open").json()["items"]
    notes = cell.call("east", "GET", "/v1/notifications?pending=true").json()["items"]
    [opened] = [n for n in notes if n["kind"] == "conflict.opened" and n["subject"] == c["id"]]
    assert cell.call("east", "POST", f"/v1/notifications/{opened['id']}/ack").status_code == 200
    errors: list[str] = []
    north = open_page(browser, cell, "north", errors)
    own_card(north, title).get_by_role("button", name=f"Plan: {title}").click()
    north.locator("#operations .card").filter(has_text=title).filter(has_text="(planned)").wait_for(timeout=LIVE_S)
    own_card(north, title).get_by_role("button", name=f"Activate: {title}").click()
    north.get_by_text("is now active", exact=False).wait_for(timeout=LIVE_S)
    assert state_of(cell, title) == "active"
    assert north.locator("form.override").count() == 0
    shots.take(north, "activated-after-acknowledgement")
    assert not errors, errors
    north.context.close()


def test_a_unit_declares_from_the_page_and_overrides_with_its_own_key(browser: Any, cell: Cell, shots: Shots) -> None:
    """North's air wing, signed in with its unit key, types its operation across East's zone in the draw
    form (declared for the unit), plans it and, East silent, overrides with a reason: the operation is
    the unit's, active, and East is told of the override."""
    r = cell.call("north", "POST", "/v1/units", json={"name": "Air wing", "contacts": [{"name": "Wing ops"}]})
    assert r.status_code == 201, r.text
    wing = r.json()["unit"]
    r = cell.call("north", "POST", f"/v1/units/{wing['id']}/keys")
    assert r.status_code == 201, r.text
    cell.keys["north-wing"] = r.json()["api_key"]
    errors: list[str] = []
    page = open_page(browser, cell, "north-wing", errors)
    title = "Unit check: air wing over the east bank"
    page.get_by_role("tab", name="Draw and upload").click()
    assert page.get_by_label("Declared by").locator("option").all_inner_texts() == ["Air wing"]
    page.get_by_label("Footprint (GeoJSON geometry", exact=False).fill(json.dumps(ZONE))
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Submit").click()
    page.locator("#draw-result").get_by_text("Stored").wait_for(timeout=LIVE_S)
    (op,) = [o for o in cell.call("north-wing", "GET", "/v1/operations").json()["items"] if o["title"] == title]
    assert op["unit"] == wing["id"]

    page.get_by_role("tab", name="Inbox").click()
    own_card(page, title).get_by_role("button", name=f"Plan: {title}").click()
    page.locator("#operations .card").filter(has_text=title).filter(has_text="(planned)").wait_for(timeout=LIVE_S)
    card = own_card(page, title)
    card.get_by_role("button", name=f"Activate: {title}").click()
    card.locator("form.override").wait_for(timeout=LIVE_S)
    card.get_by_label("Reason to go ahead without East Force's acknowledgement").fill(
        "Casualty evacuation flight; East's liaison does not answer"
    )
    card.get_by_role("button", name=f"Override and activate: {title}").click()
    page.get_by_text("is now active", exact=False).wait_for(timeout=LIVE_S)
    shots.take(page, "unit-overridden")
    (op,) = [o for o in cell.call("north-wing", "GET", "/v1/operations").json()["items"] if o["title"] == title]
    assert (op["state"], op["unit"]) == ("active", wing["id"])
    told = [
        n
        for n in cell.call("east", "GET", "/v1/notifications?pending=true").json()["items"]
        if n["kind"] == "conflict.overridden" and n["body"]["reason"].startswith("Casualty evacuation flight")
    ]
    assert len(told) == 1
    assert not errors, errors
