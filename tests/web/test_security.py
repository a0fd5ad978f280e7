"""The web map and the incident report under their Content-Security-Policy in a real browser: the page
runs with no violation (every panel opened, the legend drawn), an injected script or foreign image is
refused and reported (so the listener is proven to hear), the report renders its styles with no script,
and a page of another origin cannot frame the map."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tests.web.conftest import Cell, Shots

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""

ATTACKER = "http://attacker.example"


def _context(browser: Any, cell: Cell, console: list[str], **kw: Any) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, **kw)
    context.add_init_script(LISTEN)  # before any of the page's own scripts
    return context


def _watch(page: Any, console: list[str]) -> None:
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))


def test_the_map_runs_with_no_policy_violation(browser: Any, cell: Cell, shots: Shots) -> None:
    console: list[str] = []
    context = _context(browser, cell, console)
    context.route(f"{ATTACKER}/**", lambda route: route.fulfill(status=200, body=b"", content_type="image/png"))
    page = context.new_page()
    _watch(page, console)
    try:
        r = page.goto(cell.url + "/")
        assert r is not None and "frame-ancestors 'none'" in r.headers["content-security-policy"]
        page.get_by_label("Party API key").fill(cell.keys["north"])
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-ready=true]", timeout=20_000)
        for tab in ("Draw and upload", "Layers", "Inbox"):
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(200)
        page.get_by_role("tab", name="Layers").click()
        swatch = page.locator("#legend .swatch").first
        swatch.wait_for()
        # the party colours are drawn through the CSSOM, which the policy allows
        assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
        page.wait_for_timeout(500)
        shots.take(page, "map-under-csp")
        assert page.evaluate("window.__violations") == []
        assert not [m for m in console if "Content Security Policy" in m], console

        # the listener hears a violation, and the policy refuses what an injection would try
        page.evaluate(
            """() => {
              const s = document.createElement("script"); s.textContent = "window.__ran = true";
              document.body.append(s);
              const i = document.createElement("img"); i.src = "http://attacker.example/pixel.png";
              document.body.append(i);
              document.body.insertAdjacentHTML("beforeend", '<b id="styled" style="color: rgb(255, 0, 0)">x</b>');
            }"""
        )
        page.wait_for_timeout(500)
        seen = " ".join(page.evaluate("window.__violations"))
        assert "script-src" in seen and "img-src" in seen and "style-src" in seen, seen
        assert page.evaluate("window.__ran === undefined")
        assert page.locator("#styled").evaluate("e => getComputedStyle(e).color") != "rgb(255, 0, 0)"
    finally:
        context.close()


class _Attacker(BaseHTTPRequestHandler):
    """Another origin's pages: one frames the map, one frames a page of its own (the control)."""

    pages: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path, "").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def attacker(cell: Cell) -> Iterator[str]:
    """A real server of another origin (localhost on another port; the service is 127.0.0.1)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    origin = f"http://localhost:{server.server_address[1]}"
    _Attacker.pages = {
        "/": f'<h1>Win a prize</h1><iframe id="map" src="{cell.url}/" width="900" height="600"></iframe>'
        f'<iframe id="own" src="{origin}/inner" width="200" height="100"></iframe>',
        "/inner": '<p id="inner">framed fine</p>',
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_of_another_origin_cannot_frame_the_map(browser: Any, cell: Cell, attacker: str, shots: Shots) -> None:
    console: list[str] = []
    context = _context(browser, cell, console)
    page = context.new_page()
    _watch(page, console)
    try:
        page.goto(f"{attacker}/")
        page.wait_for_timeout(1500)
        shots.take(page, "framing-refused")
        # the control: a frame of the attacker's own loads
        assert page.frame_locator("#own").locator("#inner").inner_text() == "framed fine"
        # the map does not: no sign-in form, no page of the service inside the frame
        framed = page.frame_locator("#map")
        assert framed.locator("#api-key").count() == 0
        assert framed.locator("#sign-in-form").count() == 0
        frame = page.locator("#map").element_handle().content_frame()
        assert frame is not None and not frame.url.startswith(cell.url), frame.url  # Chrome's error page
    finally:
        context.close()


def test_the_incident_report_renders_its_styles_and_runs_nothing(browser: Any, cell: Cell, shots: Shots) -> None:
    r = cell.call(
        "north",
        "POST",
        "/v1/incidents",
        json={
            "place": {"type": "Point", "coordinates": [40.3, 35.3]},
            "at": "2026-11-23T09:00:00Z",
            "description": "a",
        },
    )
    assert r.status_code == 201, r.text
    console: list[str] = []
    context = _context(browser, cell, console, extra_http_headers={"Authorization": f"Bearer {cell.keys['north']}"})
    page = context.new_page()
    _watch(page, console)
    try:
        answer = page.goto(f"{cell.url}/v1/incidents/{r.json()['incident']['id']}/report")
        assert answer is not None and answer.status == 200
        page.wait_for_selector("h1")
        shots.take(page, "report-under-csp")
        # its one style block is allowed by hash: the table headers are shaded as the style says
        assert page.locator("th").first.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(238, 238, 238)"
        assert page.evaluate("window.__violations") == []
        page.evaluate(
            """() => { const s = document.createElement("script"); s.textContent = "window.__ran = true";
                       document.body.append(s); }"""
        )
        page.wait_for_timeout(300)
        assert page.evaluate("window.__ran === undefined")
        assert any("script-src" in v for v in page.evaluate("window.__violations"))
    finally:
        context.close()


HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def test_markup_from_another_party_is_shown_as_text_and_never_runs(browser: Any, cell: Cell, shots: Shots) -> None:
    """East names a zone proposal with markup; North's page shows the characters, runs nothing, and
    the policy never had to step in (nothing was parsed as markup)."""
    from datetime import UTC, datetime, timedelta

    from tests.web.conftest import ZONE, _rfc3339

    now = datetime.now(UTC)
    r = cell.call(
        "east",
        "POST",
        "/v1/zones",
        json={
            "name": HOSTILE,
            "counterparties": [cell.ids["north"]],
            "footprint": ZONE,
            "validity": {"start": _rfc3339(now + timedelta(days=1)), "end": _rfc3339(now + timedelta(days=2))},
        },
    )
    assert r.status_code == 201, r.text
    console: list[str] = []
    context = _context(browser, cell, console)
    page = context.new_page()
    _watch(page, console)
    try:
        page.goto(cell.url + "/")
        page.get_by_label("Party API key").fill(cell.keys["north"])
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-ready=true]", timeout=20_000)
        proposal = page.locator("#proposals").get_by_text("window.__pwned=2", exact=False)
        proposal.first.wait_for(timeout=20_000)
        shots.take(page, "markup-as-text")
        assert HOSTILE in page.locator("#proposals").inner_text()
        assert page.locator('#proposals img, #proposals script, img[src="x"]').count() == 0
        assert page.evaluate("window.__pwned === undefined")
        assert page.evaluate("window.__violations") == []
    finally:
        context.close()
