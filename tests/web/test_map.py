"""The duty officer's path through the web map, in Debian's chromium against the real service.

North draws an operation across East's agreed zone; East sees the notification arrive live (no reload)
and acknowledges it; North sees the acknowledgement arrive. Then: errors appear next to what caused
them, uploads, and every control is reachable by keyboard and labelled."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.web.conftest import ZONE, Cell, Shots, open_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LIVE_S = 15_000  # ms: what "arrives live" may take at most here (the stream polls every 25 ms)


def cross_zone(cell: Cell, title: str, days: int) -> datetime:
    """North declares (through the API) a draft across East's zone, ``days`` ahead: East gets a notification
    with a 15-minute deadline. Returns the operation's start."""
    start = (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    window = {"start": f"{start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"}
    volume = {"footprint": ZONE, "altitude": {"lower_m": 0, "upper_m": 500}, "window": window}
    r = cell.call("north", "POST", "/v1/operations", json={"kind": "air", "title": title, "volumes": [volume]})
    assert r.status_code == 201, r.text
    return start


def draw_polygon(page: Any, fractions: list[tuple[float, float]]) -> None:
    """Click the corners on the map (as fractions of its box), then finish with Enter on the map."""
    page.get_by_role("tab", name="Draw and upload").click()
    page.get_by_role("button", name="Draw polygon").click()
    box = page.locator("#map").bounding_box()
    for fx, fy in fractions:
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.locator("#map").press("Enter")


def error_next_to(page: Any, selector: str) -> str:
    """The refusal placed right after the input of ``selector`` (waited for), which is marked invalid."""
    error = page.locator(f"{selector} + .field-error")
    error.wait_for(timeout=LIVE_S)
    assert page.locator(selector).get_attribute("aria-invalid") == "true"
    return str(error.inner_text())


def test_operation_across_a_zone_is_told_acknowledged_and_seen_acknowledged(
    browser: Any, cell: Cell, shots: Shots
) -> None:
    errors: list[str] = []
    east = open_page(browser, cell, "east", errors)
    north = open_page(browser, cell, "north", errors)
    shots.take(east, "east-signed-in")
    east_before = east.locator('#notifications [data-kind="conflict.opened"]').count()

    # North: a polygon over the middle of the map, where the page has fitted East's agreed zone
    draw_polygon(north, [(0.35, 0.35), (0.65, 0.35), (0.65, 0.65), (0.35, 0.65)])
    footprint = json.loads(north.get_by_label("Footprint (GeoJSON", exact=False).input_value())
    assert footprint["type"] == "Polygon" and len(footprint["coordinates"][0]) == 5
    north.get_by_label("Title").fill("Recce flight over the east bank")
    shots.take(north, "north-drawn")
    north.get_by_role("button", name="Submit").click()
    result = north.locator("#draw-result")
    result.get_by_text("Stored").wait_for(timeout=LIVE_S)
    assert "zone_entry" in result.inner_text(), result.inner_text()
    shots.take(north, "north-stored")

    # East: the notification arrives over the stream, without a reload
    card = east.locator('#notifications [data-kind="conflict.opened"]').filter(has_text="North Force")
    card.first.wait_for(timeout=LIVE_S)
    assert east.locator('#notifications [data-kind="conflict.opened"]').count() == east_before + 1
    assert "Acknowledge within" in card.first.inner_text()
    shots.take(east, "east-notified")
    card.first.get_by_role("button", name="Acknowledge", exact=False).click()
    east.locator("#notifications .card.done").filter(has_text="Acknowledged").first.wait_for(timeout=LIVE_S)
    shots.take(east, "east-acknowledged")

    # North: told that East received it
    north.get_by_role("tab", name="Inbox").click()
    told = north.locator('#notifications [data-kind="conflict.acknowledged"]').filter(has_text="East Force")
    told.first.wait_for(timeout=LIVE_S)
    shots.take(north, "north-sees-acknowledgement")

    # the conflict is on both maps, highlighted, once the time slider is at its window ("Show on map" moves
    # it there); East never sees North's operation itself
    for page in (north, east):
        assert page.locator(".conflict-icon").count() == 0  # it starts in an hour: not on the map of now
        page.locator('#notifications [data-kind="conflict.opened"]').first.get_by_role(
            "button", name="Show on map", exact=False
        ).click()
        page.locator(".conflict-icon").first.wait_for(timeout=LIVE_S)
        assert "(now + " in page.locator("#time-out").inner_text()
    shots.take(north, "north-conflict-on-map")
    shots.take(east, "east-conflict-on-map")
    r = cell.call("east", "GET", "/v1/operations")
    assert r.json()["items"] == []
    assert not errors, errors
    for page in (east, north):
        page.context.close()


def test_errors_appear_next_to_what_caused_them(browser: Any, cell: Cell, shots: Shots) -> None:
    errors: list[str] = []
    before = len(cell.call("north", "GET", "/v1/operations").json()["items"])
    page = open_page(browser, cell, "north", errors)
    # a bow-tie: its edges cross; and the altitude band upside down
    draw_polygon(page, [(0.3, 0.3), (0.6, 0.6), (0.6, 0.3), (0.3, 0.6)])
    page.get_by_label("Altitude from").fill("2000")
    page.get_by_label("Altitude to").fill("1000")
    page.get_by_role("button", name="Submit").click()
    assert "self-intersecting" in error_next_to(page, "#f-footprint")
    assert "lower_m" in page.locator("#f-lower + .field-error").inner_text()
    # the crossing is marked on the map with the reason
    assert page.locator(".leaflet-tooltip", has_text="self-intersecting").count() == 1
    shots.take(page, "errors-in-place")
    assert len(cell.call("north", "GET", "/v1/operations").json()["items"]) == before, "a refused draw stored something"
    assert not errors, errors
    page.context.close()


def upload(page: Any, path: Any) -> None:
    """Choose the file in the upload box and press Upload; the answer appears in #upload-result."""
    page.get_by_label("GeoJSON, KML or CSV").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()


def test_upload_geojson_and_csv(browser: Any, cell: Cell, shots: Shots, tmp_path: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, cell, "north", errors)
    page.get_by_role("tab", name="Draw and upload").click()
    bad = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [40.1, 35.1]},
                "properties": {"object": "site", "name": "Clinic", "category": "clinic", "radius_m": 50},
            }
        ],
    }
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps(bad))
    upload(page, path)
    result = page.locator("#upload-result")
    result.get_by_text("nothing stored").wait_for(timeout=LIVE_S)
    assert "features[0].properties" in result.inner_text()
    shots.take(page, "upload-refused")

    # a CSV row with a bad value: the row and column are named, nothing stored
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "name,category,lat,lon,radius_m,accuracy_m,valid_until\nDepot,hospital,95.0,40.05,80,10,2030-01-01T00:00:00Z\n"
    )
    upload(page, broken)
    result.get_by_text("row(s) refused").wait_for(timeout=LIVE_S)
    assert "row 2" in result.inner_text() and "lat" in result.inner_text(), result.inner_text()

    csv = tmp_path / "sites.csv"
    csv.write_text(
        "name,category,lat,lon,radius_m,accuracy_m,valid_until\n"
        "Field clinic,hospital,35.05,40.05,80,10,2030-01-01T00:00:00Z\n"
    )
    upload(page, csv)
    result.get_by_text("stored").wait_for(timeout=LIVE_S)
    shots.take(page, "upload-stored")
    names = [s["name"] for s in cell.call("north", "GET", "/v1/sites").json()["items"]]
    assert "Field clinic" in names
    assert not errors, errors
    page.context.close()


FOCUSED_JS = """
(() => {
  const e = document.activeElement;
  return (e.id || e.getAttribute('aria-label') || e.textContent || e.tagName).trim().slice(0, 60);
})()
"""

LABEL_JS = """
() => {
  const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const out = [];
  for (const e of document.querySelectorAll('button, input, select, textarea, [role=tab], a[href]')) {
    if (!visible(e) || e.type === 'hidden') continue;
    let name = e.getAttribute('aria-label') || '';
    if (!name && e.labels && e.labels.length) name = e.labels[0].textContent;
    const by = e.getAttribute('aria-labelledby');
    if (!name && by) name = document.getElementById(by).textContent;
    if (!name) name = e.textContent || e.getAttribute('title') || e.getAttribute('alt') || '';
    out.push({tag: e.tagName, id: e.id, name: name.trim()});
  }
  return out;
}
"""


def test_every_control_is_labelled_and_reachable_by_keyboard(browser: Any, cell: Cell, shots: Shots) -> None:
    cross_zone(cell, "Keyboard check", days=1)
    errors: list[str] = []
    page = open_page(browser, cell, "east", errors)  # signed in by keyboard already
    for tab in ("Inbox", "Draw and upload", "Layers"):
        page.get_by_role("tab", name=tab).click()
        unlabelled = [c for c in page.evaluate(LABEL_JS) if not c["name"]]
        assert not unlabelled, f"{tab}: controls without an accessible name: {unlabelled}"
    # from the top of the page, Tab alone reaches the tabs, the map, the time slider and the panel's controls
    page.get_by_role("tab", name="Inbox").click()
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    reached: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(FOCUSED_JS))
    for needed in ("tab-inbox", "map", "time", "time-now", "sign-out"):
        assert needed in reached, f"{needed} not reached by Tab: {reached}"
    assert any(r.startswith("Acknowledge") for r in reached), reached
    # the tab list answers the arrow keys, and the Draw panel's tools are reachable
    page.locator("#tab-inbox").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-draw"
    assert page.locator("#pane-draw").is_visible()
    # acknowledge by keyboard alone
    page.keyboard.press("ArrowLeft")
    assert page.locator("#pane-inbox").is_visible()
    done = page.locator("#notifications .card.done").count()
    page.locator("#notifications .card:not(.done):not(.info) button", has_text="Acknowledge").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => document.querySelectorAll('#notifications .card.done').length > {done}", timeout=LIVE_S
    )
    shots.take(page, "keyboard")
    assert not errors, errors
    page.context.close()


def test_deadlines_count_down_and_overdue_is_said_in_words(browser: Any, cell: Cell, shots: Shots) -> None:
    """The page's clock runs 16 minutes ahead: a 15-minute deadline shows as overdue, by text and icon."""
    start = cross_zone(cell, "Overdue check", days=2)
    errors: list[str] = []
    page = open_page(browser, cell, "east", errors, fake_clock=True)
    card = page.locator("#notifications .card", has_text=start.strftime("%Y-%m-%d %H:%MZ")).first
    assert "Acknowledge within 0:1" in card.inner_text()
    assert "OVERDUE" not in card.inner_text()
    page.clock.fast_forward("16:00")
    page.clock.run_for(2000)
    card.get_by_text("OVERDUE").wait_for(timeout=LIVE_S)
    assert "overdue" in (card.get_attribute("class") or "")
    assert "⚠" in card.inner_text()
    shots.take(page, "overdue")
    assert not errors, errors
    page.context.close()


def test_requests_proposals_and_the_hotline_are_answered_from_the_page(browser: Any, cell: Cell, shots: Shots) -> None:
    errors: list[str] = []
    east = open_page(browser, cell, "east", errors)
    # North asks (through its own system) to enter East's zone, and writes on the hotline
    r = cell.call(
        "north", "POST", "/v1/requests", json={"kind": "enter_zone", "about": cell.zone["id"], "text": "Medevac"}
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["request"]["id"]
    r = cell.call(
        "north",
        "POST",
        "/v1/threads",
        json={"participants": [cell.ids["east"]], "subject": "Bridge", "message": {"text": "Call us on ch 4"}},
    )
    assert r.status_code == 201, r.text
    thread_id = r.json()["thread"]

    # both arrive live; East denies with a reason and replies on the hotline
    asked = east.locator("#requests .card", has_text="Medevac")
    asked.wait_for(timeout=LIVE_S)
    asked.get_by_label("Answer text for", exact=False).fill("Not before 18:00")
    asked.get_by_role("button", name="Deny", exact=False).click()
    east.locator("#requests .card", has_text="denied").wait_for(timeout=LIVE_S)
    assert cell.call("north", "GET", f"/v1/requests/{request_id}").json()["state"] == "denied"

    thread = east.locator(f'#hotline details[data-id="{thread_id}"]')
    thread.wait_for(timeout=LIVE_S)
    thread.locator("summary").click()
    thread.get_by_text("Call us on ch 4").wait_for(timeout=LIVE_S)
    thread.get_by_label("Reply in", exact=False).fill("Channel 4 it is")
    thread.get_by_role("button", name="Send reply").click()
    thread.get_by_text("Channel 4 it is").wait_for(timeout=LIVE_S)
    texts = [m["text"] for m in cell.call("north", "GET", f"/v1/threads/{thread_id}").json()["messages"]]
    assert texts == ["Call us on ch 4", "Channel 4 it is"]
    shots.take(east, "east-answered")

    # East proposes a zone to North from the page; North accepts it from its inbox
    east.get_by_role("tab", name="Draw and upload").click()
    east.get_by_label("What to declare").select_option("zone")
    draw_polygon(east, [(0.1, 0.1), (0.25, 0.1), (0.25, 0.25), (0.1, 0.25)])
    east.get_by_label("Zone name").fill("Forward area")
    east.locator("#f-counterparties").get_by_label("North Force").check()
    east.get_by_role("button", name="Submit").click()
    east.locator("#draw-result").get_by_text("Stored").wait_for(timeout=LIVE_S)
    north = open_page(browser, cell, "north", errors)
    proposal = north.locator("#proposals .card", has_text="Forward area")
    proposal.get_by_role("button", name="Accept", exact=False).click()
    north.locator("#proposals").get_by_text("No zone proposals").wait_for(timeout=LIVE_S)
    zones = cell.call("east", "GET", "/v1/zones").json()["items"]
    assert any(z["name"] == "Forward area" and z["state"] == "agreed" for z in zones), zones

    # a protected site placed with one click
    north.get_by_role("tab", name="Draw and upload").click()
    north.get_by_label("What to declare").select_option("site")
    north.get_by_role("button", name="Place point").click()
    box = north.locator("#map").bounding_box()
    north.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.8 * box["height"])
    north.get_by_label("Site name").fill("Water point")
    north.get_by_label("Category").select_option("other")
    north.get_by_role("button", name="Submit").click()
    north.locator("#draw-result").get_by_text("Stored").wait_for(timeout=LIVE_S)
    shots.take(north, "north-site-placed")
    sites = cell.call("north", "GET", "/v1/sites").json()["items"]
    assert any(s["name"] == "Water point" and s["footprint"]["type"] == "Point" for s in sites)
    assert not errors, errors
    for page in (east, north):
        page.context.close()


def test_upload_kml(browser: Any, cell: Cell, shots: Shots, tmp_path: Any) -> None:
    """A placemark from another tool: what it lacks is named by its path, nothing is stored."""
    errors: list[str] = []
    page = open_page(browser, cell, "north", errors)
    page.get_by_role("tab", name="Draw and upload").click()
    kml = tmp_path / "plan.kml"
    kml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>Recce</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        "40.0,35.0 40.1,35.0 40.1,35.1 40.0,35.1 40.0,35.0</coordinates></LinearRing></outerBoundaryIs>"
        "</Polygon></Placemark></Document></kml>"
    )
    before = len(cell.call("north", "GET", "/v1/operations").json()["items"])
    upload(page, kml)
    result = page.locator("#upload-result")
    result.get_by_text("nothing stored").wait_for(timeout=LIVE_S)
    assert "features[0].properties" in result.inner_text()
    shots.take(page, "kml-refused")
    assert len(cell.call("north", "GET", "/v1/operations").json()["items"]) == before
    assert not errors, errors
    page.context.close()


def test_live_tracks_with_alert_halos(browser: Any, cell: Cell, shots: Shots) -> None:
    """Two aircraft of different parties head for each other: the detection cycle raises an alert, and
    North's map shows both tracks with halos and the predicted closest approach, within seconds."""
    errors: list[str] = []
    page = open_page(browser, cell, "north", errors)
    now = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"

    def report(who: str, ident: str, lon: float, track: float) -> None:
        r = cell.call(
            who,
            "POST",
            "/v1/tracks",
            json={
                "reports": [
                    {
                        "id": ident,
                        "time": now,
                        "lat": 35.3,
                        "lon": lon,
                        "altitude_m": 3000,
                        "ground_speed_mps": 200,
                        "track_deg": track,
                    }
                ]
            },
        )
        assert r.status_code == 200, r.text

    report("north", "N1", 40.25, 90.0)
    report("east", "E1", 40.35, 270.0)
    page.locator("path.halo").first.wait_for(timeout=LIVE_S)
    assert page.locator("path.halo").count() == 2  # North's own aircraft and East's, paired by the alert
    assert page.locator(".conflict-icon", has_text="✕").count() >= 1
    shots.take(page, "tracks-and-halos")
    assert not errors, errors
    page.context.close()


def test_a_superseded_notification_is_marked_and_the_new_one_counts_down(
    browser: Any, cell: Cell, shots: Shots
) -> None:
    """North moves its operation inside East's zone: what the conflict is changes, so East's new
    notification takes the chase over; the inbox marks the older one superseded (no Acknowledge) and
    counts the new one down to its own deadline."""
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    window = {"start": f"{start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"}
    errors: list[str] = []
    page = open_page(browser, cell, "east", errors)
    volume = {"footprint": ZONE, "altitude": {"lower_m": 0, "upper_m": 500}, "window": window}
    made = cell.call("north", "POST", "/v1/operations", json={"kind": "air", "title": "Moved", "volumes": [volume]})
    assert made.status_code == 201, made.text
    op, token = made.json()["operation"], made.json()["conflicts"][0]["token"]
    when = start.strftime("%Y-%m-%d %H:%MZ")
    first = page.locator('#notifications [data-kind="conflict.opened"]', has_text=when).first
    first.wait_for(timeout=LIVE_S)
    assert "Acknowledge within" in first.inner_text()
    smaller = {
        "type": "Polygon",
        "coordinates": [[[40.25, 35.25], [40.3, 35.25], [40.3, 35.3], [40.25, 35.3], [40.25, 35.25]]],
    }
    r = cell.call(
        "north",
        "PUT",
        f"/v1/operations/{op['id']}",
        json={
            "kind": "air",
            "title": "Moved",
            "volumes": [{"footprint": smaller, "altitude": {"lower_m": 0, "upper_m": 500}, "window": window}],
            "known_conflict_tokens": [token],
        },
        headers={"If-Match": f'"{op["version"]}"'},
    )
    assert r.status_code == 200, r.text
    new = page.locator('#notifications [data-kind="conflict.updated"]', has_text=when).first
    new.wait_for(timeout=LIVE_S)
    assert "Acknowledge within" in new.inner_text()
    old = page.locator("#notifications .card.superseded", has_text=when).first
    old.wait_for(timeout=LIVE_S)
    assert "Superseded" in old.inner_text() and old.get_by_role("button", name="Acknowledge", exact=False).count() == 0
    shots.take(page, "superseded")
    new.get_by_role("button", name="Acknowledge", exact=False).click()
    page.locator('#notifications .card.done[data-kind="conflict.updated"]', has_text=when).first.wait_for(
        timeout=LIVE_S
    )


def test_affiliation_is_shown_and_a_track_is_disclaimed_and_claimed_from_the_map(
    browser: Any, cell: Cell, shots: Shots
) -> None:
    """North's observation post reports a vehicle of unknown affiliation and one hostile inside East's
    zone: East's map shows them with their own symbols, never in a party's colour, beside East's own
    track. East selects the unknown one and says "not ours", then "ours": each is recorded and told, and
    the track turns into East's own."""
    errors: list[str] = []
    page = open_page(browser, cell, "east", errors)
    now = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"

    def report(who: str, ident: str, lon: float, affiliation: str) -> None:
        body = {"id": ident, "time": now, "lat": 35.31, "lon": lon, "altitude_m": 250, "ground_speed_mps": 5}
        body |= {"track_deg": 90.0, "affiliation": affiliation}
        r = cell.call(who, "POST", "/v1/tracks", json={"reports": [body]})
        assert r.status_code == 200, r.text

    report("north", "UNK-7", 40.30, "unknown")
    report("north", "HOS-1", 40.32, "hostile")
    report("east", "E-9", 40.36, "party")
    unknown = page.locator(".track-icon.affiliation-unknown[title='unknown track UNK-7']")
    unknown.wait_for(timeout=LIVE_S)  # East is alerted (its zone): it sees the tracks of no party
    assert page.locator(".leaflet-marker-pane .track-icon.affiliation-hostile").count() == 1
    assert page.locator("path.track-own").count() >= 1  # East's own, in East's colour
    # East's inbox says what it is: an unknown track, of no party, entering East's zone
    page.locator(
        "#notifications", has_text="Undeclared entry raised: unknown (no party) track UNK-7 entering your zone"
    ).wait_for(timeout=LIVE_S)
    shots.take(page, "affiliations")

    unknown.click()
    assert "unknown, of no party" in page.locator("#track-info").inner_text()
    page.get_by_label("Reason (optional)").fill("no unit of ours there")
    page.get_by_role("button", name="Not ours (disclaim)").click()
    page.locator("#track-result", has_text="Recorded: not ours").wait_for(timeout=LIVE_S)
    told = cell.call("coordinator", "GET", "/v1/notifications").json()["items"]
    said = [n["body"] for n in told if n["kind"] == "track.disclaimed"]
    assert said and said[-1]["track"] == "UNK-7" and said[-1]["reason"] == "no unit of ours there"

    page.get_by_role("button", name="Ours (claim)").click()
    page.locator("#track-result", has_text="Recorded: ours").wait_for(timeout=LIVE_S)
    mine = cell.call("east", "GET", "/v1/tracks").json()["items"]
    assert {(t["id"], t["affiliation"], t["own"]) for t in mine} >= {("UNK-7", "party", True)}
    unknown.wait_for(state="detached", timeout=LIVE_S)  # drawn as East's own now
    assert "yours" in page.locator("#track-info").inner_text()
    assert page.get_by_role("button", name="Ours (claim)").is_hidden()
    shots.take(page, "claimed")
    assert not errors, errors
    page.context.close()
