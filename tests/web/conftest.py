"""The web map in a real browser: Debian's chromium driven by Playwright for Python, against a real
``deconflict serve`` process over a real database: SQLite (the page does not depend on the backend; the API
tests run on both), and PostgreSQL too for the warning chain
(test_units_map.py: declared, warned, acknowledged in the inbox).

No browser is ever downloaded: the tests use the system's chromium (``DECONFLICTION_CHROMIUM``, default
/usr/bin/chromium). Without it, or without Playwright, they skip with the reason, unless
DECONFLICTION_REQUIRE_BROWSER=1 (set by .ci/run, which installs Debian's chromium): then they fail.
Screenshots of each step go to test-artifacts/web/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deconfliction.domain.party import Party, Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from tests.conftest import need, served

REQUIRE_BROWSER = os.environ.get("DECONFLICTION_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("DECONFLICTION_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
WEB_BUILT = Path(__file__).resolve().parents[2] / "src" / "deconfliction" / "web" / "static" / "vendor" / "README"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"Playwright for Python is not installed ({exc})"
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium chromium-driver)"
    if not WEB_BUILT.exists():
        return "the web map's assets are not built (make web)"
    return None


def need_browser() -> None:
    need(_missing(), "DECONFLICTION_REQUIRE_BROWSER" if REQUIRE_BROWSER else None)


@dataclass
class Cell:
    """A running service with a coordinator and two parties; North agreed East's zone."""

    url: str
    keys: dict[str, str]
    ids: dict[str, str]
    zone: dict[str, Any]

    def call(self, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[who]}", **kw.pop("headers", {})}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kw)


ZONE = {"type": "Polygon", "coordinates": [[[40.2, 35.2], [40.4, 35.2], [40.4, 35.4], [40.2, 35.4], [40.2, 35.2]]]}


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def open_cell(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cell]:
    """A served cell on ``backend``: a coordinator, North and East, and East's zone that North accepted."""
    need_browser()
    workdir = tmp_path_factory.mktemp("web")

    def coordinator(rt: Runtime) -> tuple[Party, str]:
        return create_party(rt, None, "Coordination Cell", Role.COORDINATOR)

    with served(backend, workdir, coordinator) as (server, (coordinator_party, ckey)):
        keys, ids = {"coordinator": ckey}, {"coordinator": coordinator_party.id}
        for who, name in (("north", "North Force"), ("east", "East Force")):
            r = httpx.post(
                f"{server.url}/v1/parties",
                json={"name": name, "role": "party"},
                headers={"Authorization": f"Bearer {ckey}"},
                timeout=30,
            )
            r.raise_for_status()
            keys[who], ids[who] = r.json()["api_key"], r.json()["party"]["id"]
        c = Cell(server.url, keys, ids, {})
        now = datetime.now(UTC)
        r = c.call(
            "east",
            "POST",
            "/v1/zones",
            json={
                "name": "East bank",
                "counterparties": [ids["north"]],
                "footprint": ZONE,
                "validity": {"start": _rfc3339(now - timedelta(hours=1)), "end": _rfc3339(now + timedelta(days=3))},
            },
        )
        assert r.status_code == 201, r.text
        zone = r.json()["zone"]
        r = c.call("north", "POST", f"/v1/zones/{zone['id']}/answer", json={"answer": "accepted"})
        assert r.status_code == 200, r.text
        c.zone = zone
        yield c


@pytest.fixture(params=["sqlite"], scope="module")
def cell(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cell]:
    """The page does not depend on the backend (the API tests run on both): SQLite. test_units_map.py, the
    warning chain from the page, runs on PostgreSQL too (its own ``cell``)."""
    with open_cell(request.param, tmp_path_factory) as c:
        yield c


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, launched for one module's tests (every ``browser`` fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def browser(cell: Cell) -> Iterator[Any]:
    with chromium() as b:
        yield b


class Shots:
    """Screenshots of a test's steps, named after the test: test-artifacts/web/<test>-<n>-<step>.png."""

    def __init__(self, name: str) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        self.n = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, step: str) -> Path:
        self.n += 1
        path = ARTIFACTS / f"{self.prefix}-{self.n:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


_OPENED: list[Any] = []
"""The browser contexts ``open_page`` made during the current test."""


@pytest.fixture(autouse=True)
def _close_pages() -> Iterator[None]:
    """Each test's pages are closed when it ends: a page left open keeps its stream and its track polling
    running against the module's server, and a dozen of them slow every later first load."""
    yield
    while _OPENED:
        with contextlib.suppress(Exception):
            _OPENED.pop().close()


READY_MS = 40_000
"""How long the first load of the map may take before a test fails."""


def open_page(browser: Any, cell: Cell, who: str, errors: list[str], fake_clock: bool = False) -> Any:
    """A new browser context signed in as ``who``, by the keyboard: the key typed, Enter pressed.

    Every request must go to the service itself (the map works with no internet): any other is refused
    and reported in ``errors``, as are the page's uncaught errors. ``fake_clock``: the page's clock is
    Playwright's, to be moved forward by the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    _OPENED.append(context)

    def only_the_service(route: Any) -> None:
        if route.request.url.startswith(cell.url + "/"):
            route.continue_()
        else:
            errors.append(f"{who}: request outside the service: {route.request.url}")
            route.abort()

    context.route("**/*", only_the_service)
    page = context.new_page()
    if fake_clock:
        page.clock.install()
    page.on("pageerror", lambda e: errors.append(f"{who}: {e}"))
    pending: dict[int, str] = {}  # requests not answered yet, reported when the first load stalls
    console: list[str] = []
    page.on("request", lambda r: pending.__setitem__(id(r), f"{r.method} {r.url}"))
    page.on("requestfinished", lambda r: pending.pop(id(r), None))
    page.on("requestfailed", lambda r: pending.pop(id(r), None) and console.append(f"failed: {r.url} {r.failure}"))
    page.on("console", lambda m: m.type == "error" and console.append(m.text))
    page.goto(cell.url + "/")
    stalls = []
    for _attempt in range(2):
        # the sign-in dialog opens only once the page has read the service's clock (GET /v1/clock): wait for
        # it (or for the load a stored key starts), else a key typed too early is never typed at all
        with contextlib.suppress(Exception):
            page.wait_for_function(
                "() => document.body.dataset.ready === 'true' || document.getElementById('sign-in').open",
                timeout=READY_MS,
            )
        key = page.get_by_label("Party API key")
        if key.is_visible():
            key.focus()
            page.keyboard.type(cell.keys[who])
            page.keyboard.press("Enter")
        try:  # the first load: a generous bound, the suite runs browsers and servers side by side on 2 cores
            page.wait_for_selector("body[data-ready=true]", timeout=READY_MS)
            if stalls:  # recovered by the reload: still said, so that how often it happens is known
                warnings.warn(f"{who}: the map's first load stalled, the reload worked: {stalls}", stacklevel=2)
            return page
        except Exception:
            waiting = sorted(v for v in pending.values() if "/v1/stream" not in v)
            stalls.append(f"waiting on {waiting}, console {console[-5:]}")
            # a first load that stalls (seen now and then on PostgreSQL under the full suite, cause not
            # found yet): load the page once more, as a person would, and say so if that stalls too
            page.reload()
            page.wait_for_load_state()
    raise AssertionError(f"{who}: the map was not ready within {READY_MS / 1000:.0f} s, twice: {stalls}; {errors}")
