"""The web map is served by the service itself, references nothing outside it, and carries the
deployment's tile server when one is set (the browser tests in tests/web drive the page itself)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deconfliction.api.app import create_app
from deconfliction.api.web import STATIC, VENDOR_BUILT
from deconfliction.service.runtime import Runtime
from deconfliction.settings import Settings

OWN_FILES = [STATIC / "index.html", STATIC / "app.css", *sorted((STATIC / "js").glob("*.js"))]


def test_the_page_is_at_the_root_with_no_tile_server_by_default(rt: Runtime) -> None:
    with TestClient(create_app(runtime=rt)) as c:
        r = c.get("/")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert '<meta name="tile-url" content="">' in r.text
        assert c.get("/static/js/app.js").status_code == 200
        assert c.get("/static/app.css").status_code == 200
        # not part of the API document
        assert "/" not in c.get("/v1/openapi.json").json()["paths"]


def test_a_deployment_tile_server_is_passed_to_the_page_escaped(rt: Runtime) -> None:
    url = 'https://tiles.example.org/{z}/{x}/{y}.png?a=1&b="x"'
    with TestClient(create_app(Settings(tile_url=url), runtime=rt)) as c:
        page = c.get("/").text
    assert '<meta name="tile-url" content="https://tiles.example.org/{z}/{x}/{y}.png?a=1&amp;b=&quot;x&quot;">' in page


def test_the_tile_setting_is_read_from_the_environment() -> None:
    assert (
        Settings.from_env({"DECONFLICTION_TILE_URL": "http://t/{z}/{x}/{y}.png"}).tile_url == "http://t/{z}/{x}/{y}.png"
    )
    assert Settings.from_env({"DECONFLICTION_TILE_URL": ""}).tile_url is None


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: p.name)
def test_the_page_loads_nothing_from_outside(path: Path) -> None:
    """No CDN, no web font, no external script: every reference is to the service itself."""
    text = path.read_text(encoding="utf-8")
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text), path
    assert not re.findall(r"""(?:fetch|import)\s*\(?\s*["'`](?:https?:)?//""", text), path
    assert "@import" not in text


def test_built_assets_are_served(rt: Runtime) -> None:
    if not VENDOR_BUILT.exists():
        pytest.skip("the web map's assets are not built (make web)")
    with TestClient(create_app(runtime=rt)) as c:
        assert c.get("/static/vendor/leaflet/leaflet.js").status_code == 200
        world = c.get("/static/vendor/countries.geojson").json()
    assert world["type"] == "FeatureCollection" and len(world["features"]) > 200
