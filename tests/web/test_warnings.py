"""Warnings in the web map's draw form: a declaration stored with likely mistakes (swapped coordinates,
feet given as metres) says so next to the input that caused each, in Debian's chromium against the real
service (docs/api.md, Warnings)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.web.conftest import ZONE, Cell, Shots, open_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LIVE_S = 15_000


def _square(lon: float, lat: float, size: float = 0.05) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_swapped_coordinates_and_feet_are_flagged_next_to_their_inputs(browser: Any, cell: Cell, shots: Shots) -> None:
    # North works on the Euphrates (its operation there, through the API)
    start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    window = {"start": f"{start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"}
    volume = {"footprint": ZONE, "altitude": {"lower_m": 0, "upper_m": 500}, "window": window}
    r = cell.call("north", "POST", "/v1/operations", json={"kind": "ground", "volumes": [volume]})
    assert r.status_code == 201 and r.json()["warnings"] == [], r.text

    errors: list[str] = []
    page = open_page(browser, cell, "north", errors)
    page.get_by_role("tab", name="Draw and upload").click()
    # typed with latitude first: 35.3 E, 40.3 N is in Turkey, 700 km from everything North declared
    page.get_by_label("Footprint (GeoJSON", exact=False).fill(json.dumps(_square(35.3, 40.3)))
    page.get_by_label("Title").fill("Typed in a hurry")
    page.get_by_label("Altitude from").fill("33000")
    page.get_by_label("Altitude to").fill("35000")  # FL350 in feet, sent as metres
    page.get_by_role("button", name="Submit").click()
    page.locator("#draw-result").get_by_text("Stored").wait_for(timeout=LIVE_S)

    swapped = page.locator("#f-footprint + .field-warning")
    swapped.wait_for(timeout=LIVE_S)
    assert swapped.get_attribute("data-code") == "coordinates_look_swapped"
    assert "longitude and latitude exchanged" in swapped.inner_text()
    feet = page.locator("#f-upper + .field-warning")
    assert feet.get_attribute("data-code") == "altitude_looks_like_feet"
    assert "look like feet" in feet.inner_text()
    assert page.locator("#f-footprint").get_attribute("aria-describedby") == swapped.get_attribute("id")
    assert "2 warnings" in page.locator("#draw-result").inner_text()
    shots.take(page, "warnings-in-place")

    # a sound declaration afterwards clears them
    page.get_by_label("Footprint (GeoJSON", exact=False).fill(json.dumps(_square(40.25, 35.25)))
    page.get_by_label("Altitude from").fill("0")
    page.get_by_label("Altitude to").fill("3000")
    page.get_by_role("button", name="Submit").click()
    page.locator("#draw-result").get_by_text("Stored").wait_for(timeout=LIVE_S)
    page.wait_for_function("() => document.querySelectorAll('#draw-form .field-warning').length === 0")
    assert not errors, errors
    page.context.close()
