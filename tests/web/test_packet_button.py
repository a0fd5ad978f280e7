"""The map's Print packet button, in Debian's chromium against the real service: it downloads the
signed-in party's situation packet (a PDF) at the time the slider shows, on the paper chosen, with no
request off the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import pdf
from tests.conftest import square, volume_json
from tests.web.conftest import Cell, Shots, open_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-2")]


SIZES = [
    pytest.param(1366, 768, "a4", (595.0, 842.0), id="1366x768"),
    pytest.param(1024, 768, "letter", (612.0, 792.0), id="1024x768"),
]


@pytest.mark.parametrize(("width", "height", "paper", "points"), SIZES)
def test_print_packet_downloads_the_partys_pdf_at_the_sliders_time(
    browser: Any,
    cell: Cell,
    shots: Shots,
    tmp_path: Any,
    width: int,
    height: int,
    paper: str,
    points: tuple[float, float],
) -> None:
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    for who, title, lon in (("north", "North packet sortie", 40.25), ("east", "East packet patrol", 40.27)):
        body = {"kind": "air", "title": title, "volumes": [volume_json(square(lon, 35.25, 0.05), start=start)]}
        r = cell.call(who, "POST", "/v1/operations", json=body)
        assert r.status_code == 201, r.text
    errors: list[str] = []
    page = open_page(browser, cell, "north", errors)
    page.set_viewport_size({"width": width, "height": height})
    button = page.get_by_role("button", name="Print packet")
    box = button.bounding_box()
    assert (
        button.is_visible()
        and box is not None
        and box["y"] + box["height"] <= height
        and box["x"] + box["width"] <= width
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing runs off a small screen
    # by the keyboard alone: the slider three hours ahead (inside the window), then the paper, then the button
    page.get_by_label("Situation at").focus()
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")  # Now
    page.keyboard.press("Tab")  # the paper
    assert page.evaluate("document.activeElement.id") == "packet-paper"
    page.get_by_label("Paper").select_option(paper)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "print-packet"
    with page.expect_download(timeout=60_000) as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename.startswith("packet-") and download.suggested_filename.endswith(".pdf")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    page.locator("#packet-status").get_by_text("Packet downloaded").wait_for(timeout=10_000)
    shots.take(page, "packet-downloaded")
    body = saved.read_bytes()
    said = pdf.words(body)
    assert "Situation packet: North Force" in said and "North packet sortie" in said
    assert "in force" in said and "East packet patrol" not in said  # the slider's time; never East's plan
    assert tuple(round(x) for x in pdf.page_sizes(body)[0]) == tuple(round(x) for x in points)
    pdf.render(body, shots.prefix)
    assert not errors, errors
