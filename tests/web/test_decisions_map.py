"""The inbox sorted by danger and the decisions a duty officer takes from the page, in Debian's chromium
against the real service, at the two screen sizes a duty desk has (1366x768 and 1024x768).

The inbox: one card per conflict naming my operation, its unit and the other party, with the conflict's
notifications and the hotline messages about it inside; a live alert above a conflict in force, above the
rest sorted by what is due first; an ended conflict out of the active list and reachable under the
"ended" filter; filters by kind; counts per group. The decisions: a movement drawn on the map (route,
departure and speed, or a time at every waypoint, corridor width), declared for a unit chosen in the
form, its errors next to their fields; the movement revised from its card with If-Match (a stale version
refused in place); planned, then activated with an override and its reason. Every new control is
reached with Tab and used with Enter."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.web.conftest import ZONE, Cell, Shots, open_page
from tests.web.test_map import LIVE_S, error_next_to

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-2")]

SCREENS = [pytest.param((1366, 768), id="1366x768"), pytest.param((1024, 768), id="1024x768")]


def _t(t: datetime) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%SZ}"


def sized(page: Any, screen: tuple[int, int]) -> Any:
    page.set_viewport_size({"width": screen[0], "height": screen[1]})
    return page


def tab_to(page: Any, selector: str, start: str, limit: int = 120) -> None:
    """Focus ``start``, then press Tab until the element of ``selector`` has the focus: it is reachable by
    the keyboard (fails after ``limit`` presses)."""
    page.locator(start).focus()
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached by Tab from {start}")


def across_zone(cell: Cell, who: str, title: str, start: datetime, hours: float = 2, **extra: Any) -> dict[str, Any]:
    window = {"start": _t(start), "end": _t(start + timedelta(hours=hours))}
    volume = {"footprint": ZONE, "altitude": {"lower_m": 0, "upper_m": 500}, "window": window}
    r = cell.call(who, "POST", "/v1/operations", json={"kind": "air", "title": title, "volumes": [volume], **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def group_of(page: Any, title: str) -> Any:
    return page.locator("#notifications li.group").filter(has_text=title)


@pytest.mark.parametrize("screen", SCREENS)
def test_inbox_is_grouped_by_conflict_and_sorted_by_danger(
    browser: Any, cell: Cell, shots: Shots, screen: tuple[int, int]
) -> None:
    tag = uuid.uuid4().hex[:6]
    r = cell.call("north", "POST", "/v1/units", json={"name": f"Patrol {tag}", "contacts": [{"name": "Lead"}]})
    assert r.status_code == 201, r.text
    unit = r.json()["unit"]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    later = now.replace(minute=0) + timedelta(days=2)
    # in force now, for the patrol unit; due in two days; a third one cancelled: its conflict is resolved
    in_force = across_zone(cell, "north", f"In force {tag}", now - timedelta(minutes=5), unit=unit["id"])
    across_zone(cell, "north", f"Later {tag}", later)
    gone = across_zone(cell, "north", f"Called off {tag}", later + timedelta(hours=5))["operation"]
    # filed afterwards for an inquiry: its conflict is expired from the start (and left out of the map's list)
    across_zone(cell, "north", f"Last night {tag}", now - timedelta(minutes=20), hours=0.25, historical=True)
    r = cell.call(
        "north", "POST", f"/v1/operations/{gone['id']}/cancel", json={}, headers={"If-Match": f'"{gone["version"]}"'}
    )
    assert r.status_code == 200, r.text
    # East sends a hotline message about the conflict in force: it is shown under that conflict's card
    conflict = in_force["conflicts"][0]["id"]
    message = {"text": f"Hold short of the east bank {tag}", "refs": [{"type": "conflict", "id": conflict}]}
    r = cell.call(
        "east",
        "POST",
        "/v1/threads",
        json={"participants": [cell.ids["north"]], "subject": f"Bank {tag}", "message": message},
    )
    assert r.status_code == 201, r.text

    errors: list[str] = []
    north = sized(open_page(browser, cell, "north", errors), screen)
    card = group_of(north, f"In force {tag}")
    # the conflict's notification and the message about it, inside the one card
    card.locator('[data-kind="message"]', has_text=f"Hold short of the east bank {tag}").wait_for(timeout=LIVE_S)
    assert card.locator('[data-kind="conflict.opened"]').count() == 1
    text = card.inner_text()
    assert f"Your operation In force {tag} (draft), unit Patrol {tag}" in text
    assert "with East Force" in text and "in force now" in text
    assert "2 notifications, 2 waiting for you" in text
    assert card.get_attribute("data-rank") == "in-force"
    # in force above what is due later; the cancelled one is not in the active list
    groups = north.locator("#notifications li.group")
    titles = [groups.nth(i).inner_text() for i in range(groups.count())]
    first_force = next(i for i, t in enumerate(titles) if f"In force {tag}" in t)
    first_later = next(i for i, t in enumerate(titles) if f"Later {tag}" in t)
    assert first_force < first_later
    assert all(g.get_attribute("data-rank") != "ended" for g in groups.all())
    assert group_of(north, f"Called off {tag}").count() == 0
    counts = north.locator("#inbox-counts").inner_text()
    assert "Conflicts in force now: " in counts and "Ended: " in counts
    ended_count = int(counts.split("Ended: ")[1].split()[0])
    assert ended_count >= 1
    shots.take(north, "north-active")

    # the filters, by the keyboard: Tab reaches the state filter, the arrow keys choose "ended"
    tab_to(north, "#inbox-state", "#tab-inbox")
    north.keyboard.press("ArrowDown")
    north.keyboard.press("ArrowDown")
    assert north.locator("#inbox-state").input_value() == "ended"
    gone_card = group_of(north, f"Called off {tag}")
    gone_card.wait_for(timeout=LIVE_S)
    assert "ended: " in gone_card.inner_text()
    assert "Your operation Called off" in gone_card.inner_text() and "(cancelled)" in gone_card.inner_text()
    assert north.locator("#notifications li.group").count() == ended_count
    expired = group_of(north, f"Last night {tag}")  # named once the expired conflicts are read
    expired.wait_for(timeout=LIVE_S)
    assert "ended: conflict expired" in expired.inner_text()
    shots.take(north, "north-ended")
    north.locator("#inbox-state").select_option("active")
    north.locator("#inbox-kind").select_option("message")
    north.locator("#notifications li.empty, #notifications li.group").first.wait_for(timeout=LIVE_S)
    assert group_of(north, f"In force {tag}").count() == 0  # a message about a conflict is with the conflict
    north.locator("#inbox-kind").select_option("conflict")
    group_of(north, f"In force {tag}").wait_for(timeout=LIVE_S)

    # East: an unknown track inside its zone is a live alert, listed above its conflict in force
    east = sized(open_page(browser, cell, "east", errors), screen)
    group_of(east, "Conflict with North Force").first.wait_for(timeout=LIVE_S)
    report = {"id": f"UNK-{tag}", "time": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}", "lat": 35.31, "lon": 40.3}
    report |= {"altitude_m": 250, "ground_speed_mps": 5, "track_deg": 90.0, "affiliation": "unknown"}
    r = cell.call("north", "POST", "/v1/tracks", json={"reports": [report]})
    assert r.status_code == 200, r.text
    alert = east.locator('#notifications li.group[data-rank="alert"]', has_text=f"UNK-{tag}")
    alert.wait_for(timeout=LIVE_S)
    first = east.locator("#notifications li.group").first
    assert first.get_attribute("data-rank") == "alert"
    ranks = [g.get_attribute("data-rank") for g in east.locator("#notifications li.group").all()]
    assert ranks.index("in-force") > ranks.index("alert")
    assert "Your zone" in east.locator('#notifications li.group[data-rank="in-force"]').first.inner_text()
    shots.take(east, "east-alert-on-top")
    assert not errors, errors


@pytest.mark.parametrize("screen", SCREENS)
def test_movement_drawn_revised_planned_and_activated_from_the_page(
    browser: Any, cell: Cell, shots: Shots, screen: tuple[int, int]
) -> None:
    tag = uuid.uuid4().hex[:6]
    title = f"Convoy {tag}"
    r = cell.call("north", "POST", "/v1/units", json={"name": f"Convoy team {tag}", "contacts": [{"name": "Lead"}]})
    assert r.status_code == 201, r.text
    unit = r.json()["unit"]
    errors: list[str] = []
    page = sized(open_page(browser, cell, "north", errors), screen)
    page.get_by_role("tab", name="Draw and upload").click()
    # the route: Tab reaches "Draw route", Enter starts it; three waypoints across East's zone
    tab_to(page, "#draw-route", "#draw-what")
    page.keyboard.press("Enter")
    box = page.locator("#map").bounding_box()
    for fx, fy in ((0.15, 0.5), (0.5, 0.62), (0.85, 0.5)):  # clear of the markers at the centre
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.locator("#map").press("Enter")
    route = json.loads(page.locator("#f-footprint").input_value())
    assert route["type"] == "LineString" and len(route["coordinates"]) == 3
    assert page.locator("#draw-what").input_value() == "movement"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Declared by").select_option(label=f"Convoy team {tag}")  # the movement is the unit's
    page.get_by_label("Corridor half-width", exact=False).fill("75")

    # a speed of zero: refused, the problem's detail next to the speed
    page.get_by_label("Speed (km/h)").fill("0")
    page.get_by_role("button", name="Submit").click()
    assert "movement.speed_m_s" in error_next_to(page, "#m-speed")
    shots.take(page, "speed-refused")

    # a time at every waypoint, the second before the first: refused next to the second time
    tab_to(page, "#m-by-speed", "#m-tolerance")  # Tab reaches the radio group, an arrow key chooses
    page.keyboard.press("ArrowDown")
    assert page.locator("#m-by-times").is_checked()
    assert page.locator("#m-times input").count() == 3
    first = page.locator("#m-time-0").input_value()
    page.locator("#m-time-1").fill(first[:11] + "00:00")
    page.locator("#m-time-0").fill(first[:11] + "01:00")
    page.get_by_role("button", name="Submit").click()
    assert "waypoint_times[1]" in error_next_to(page, "#m-time-1")
    shots.take(page, "times-refused")

    # back to a steady speed: stored, swept along the route, the conflict with East's zone told
    page.get_by_label("Departure and a steady speed").check()
    page.get_by_label("Speed (km/h)").fill("36")
    page.get_by_role("button", name="Submit").click()
    page.locator("#draw-result").get_by_text("Stored").wait_for(timeout=LIVE_S)
    assert "along the route" in page.locator("#draw-result").inner_text()
    op = next(o for o in cell.call("north", "GET", "/v1/operations").json()["items"] if o["title"] == title)
    movement = cell.call("north", "GET", f"/v1/movements/{op['id']}").json()["movement"]
    assert movement["half_width_m"] == 75 and movement["speed_m_s"] == pytest.approx(10)
    assert op["unit"] == unit["id"]
    assert movement["route"]["coordinates"] == route["coordinates"]
    shots.take(page, "movement-stored")

    # revise it from its card: Tab reaches "Revise", Enter opens it in the form
    page.get_by_role("tab", name="Inbox").click()
    own = page.locator("#own-operations")
    if own.get_attribute("open") is None:
        own.locator("summary").click()
    card = page.locator("#operations .card").filter(has_text=title)
    card.wait_for(timeout=LIVE_S)
    tab_to(
        page, f'#operations .card[data-id="{op["id"]}"] button[aria-label="Revise: {title}"]', "#own-operations summary"
    )
    page.keyboard.press("Enter")
    page.locator("#draw-revising").wait_for(timeout=LIVE_S)
    assert "Revising movement" in page.locator("#draw-revising").inner_text()
    assert page.get_by_label("Speed (km/h)").input_value() == "36"
    assert page.get_by_label("Declared by").input_value() == unit["id"]
    assert page.locator("#draw-what").is_disabled()
    page.get_by_label("Speed (km/h)").fill("54")
    page.get_by_role("button", name="Send revision").click()
    page.locator("#draw-result").get_by_text("Revised").wait_for(timeout=LIVE_S)
    movement = cell.call("north", "GET", f"/v1/movements/{op['id']}").json()["movement"]
    assert movement["speed_m_s"] == pytest.approx(15)
    assert cell.call("north", "GET", f"/v1/operations/{op['id']}").json()["unit"] == unit["id"]
    shots.take(page, "movement-revised")

    # revised meanwhile elsewhere: the page's revision is refused (If-Match), said in place
    page.get_by_role("tab", name="Inbox").click()
    page.locator("#operations .card").filter(has_text=title).get_by_role("button", name=f"Revise: {title}").click()
    page.locator("#draw-revising").wait_for(timeout=LIVE_S)
    current = cell.call("north", "GET", f"/v1/operations/{op['id']}").json()
    elsewhere = {"kind": "air", "title": title, "movement": {k: v for k, v in movement.items() if k in MOVEMENT_IN}}
    r = cell.call(
        "north", "PUT", f"/v1/movements/{op['id']}", json=elsewhere, headers={"If-Match": f'"{current["version"]}"'}
    )
    assert r.status_code == 200, r.text
    page.get_by_label("Speed (km/h)").fill("30")
    page.get_by_role("button", name="Send revision").click()
    stale = page.locator("#draw-form .field-error.generated")
    stale.first.wait_for(timeout=LIVE_S)
    assert cell.call("north", "GET", f"/v1/movements/{op['id']}").json()["movement"]["speed_m_s"] == pytest.approx(15)
    shots.take(page, "stale-revision-refused")
    page.get_by_role("button", name="Stop revising").click()
    assert page.locator("#draw-revising").is_hidden()

    # plan, then activate: East has not acknowledged, so an override with its reason
    page.get_by_role("tab", name="Inbox").click()
    page.locator("#operations .card").filter(has_text=title).get_by_role("button", name=f"Plan: {title}").click()
    planned = page.locator("#operations .card").filter(has_text=title).filter(has_text="(planned)")
    planned.wait_for(timeout=LIVE_S)
    planned.get_by_role("button", name=f"Activate: {title}").click()
    reason = page.locator("#operations .card").filter(has_text=title).locator("form.override textarea").first
    reason.wait_for(timeout=LIVE_S)
    reason.fill("Casualty evacuation cannot wait")
    page.get_by_role("button", name=f"Override and activate: {title}").click()
    page.locator("#operations .card").filter(has_text=title).filter(has_text="(active)").wait_for(timeout=LIVE_S)
    assert cell.call("north", "GET", f"/v1/operations/{op['id']}").json()["state"] == "active"
    shots.take(page, "movement-active")
    assert not errors, errors


MOVEMENT_IN = ("route", "departure", "speed_m_s", "waypoint_times", "half_width_m", "altitude", "tolerance_s")


@pytest.mark.parametrize("screen", SCREENS)
def test_an_operation_is_revised_from_its_card(browser: Any, cell: Cell, shots: Shots, screen: tuple[int, int]) -> None:
    """An operation of one volume opens in the draw form with its footprint and window; its new end is
    sent with If-Match and stored as a new version, the state kept. One of two volumes says why the form
    cannot hold it."""
    tag = uuid.uuid4().hex[:6]
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    one = across_zone(cell, "north", f"Resupply {tag}", start)["operation"]
    two = across_zone(cell, "north", f"Two legs {tag}", start)["operation"]
    legs = [
        two["volumes"][0],
        {
            **two["volumes"][0],
            "window": {"start": _t(start + timedelta(hours=3)), "end": _t(start + timedelta(hours=4))},
        },
    ]
    r = cell.call(
        "north",
        "PUT",
        f"/v1/operations/{two['id']}",
        json={"kind": "air", "title": f"Two legs {tag}", "volumes": legs},
        headers={"If-Match": f'"{two["version"]}"'},
    )
    assert r.status_code == 200, r.text
    errors: list[str] = []
    page = sized(open_page(browser, cell, "north", errors), screen)
    page.locator("#own-operations summary").click()
    page.locator("#operations .card").filter(has_text=f"Two legs {tag}").get_by_role(
        "button", name=f"Revise: Two legs {tag}"
    ).click()
    refusal = page.locator("#operations .card").filter(has_text=f"Two legs {tag}").locator(".field-error")
    refusal.wait_for(timeout=LIVE_S)
    assert "has 2 volumes" in refusal.inner_text()

    page.locator("#operations .card").filter(has_text=f"Resupply {tag}").get_by_role(
        "button", name=f"Revise: Resupply {tag}"
    ).press("Enter")
    page.locator("#draw-revising").wait_for(timeout=LIVE_S)
    assert "Revising operation" in page.locator("#draw-revising").inner_text()
    assert json.loads(page.locator("#f-footprint").input_value()) == ZONE
    assert page.get_by_label("Start (UTC)").input_value() == f"{start:%Y-%m-%dT%H:%M}"
    assert page.locator("#f-state-row").is_hidden()  # a revision keeps the state
    page.get_by_label("End (UTC)").fill(f"{start + timedelta(hours=5):%Y-%m-%dT%H:%M}")
    shots.take(page, "revising")
    page.get_by_role("button", name="Send revision").click()
    page.locator("#draw-result").get_by_text("Revised").wait_for(timeout=LIVE_S)
    now = cell.call("north", "GET", f"/v1/operations/{one['id']}").json()
    assert now["version"] == one["version"] + 1 and now["state"] == "draft"
    assert now["volumes"][0]["window"]["end"] == _t(start + timedelta(hours=5))
    assert page.locator("#draw-revising").is_hidden() and page.get_by_role("button", name="Submit").is_visible()
    shots.take(page, "revised")
    assert not errors, errors
