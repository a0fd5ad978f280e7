"""The web map is served by the service itself, references nothing outside it, and carries the
deployment's tile server when one is set (the browser tests in tests/web drive the page itself)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

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
        world = c.get("/static/vendor/basemap/countries.geojson").json()
    assert world["type"] == "FeatureCollection" and len(world["features"]) > 200


def raw_get(c: TestClient, path: str, **headers: str) -> tuple[Any, bytes]:
    """The answer's headers and its body as sent (not decoded)."""
    with c.stream("GET", path, headers=headers) as r:
        return r, b"".join(r.iter_raw())


def test_text_assets_go_out_compressed_as_the_browser_accepts(rt: Runtime) -> None:
    """The first load over a slow link: the build's brotli or gzip sibling of a vendor file, gzip made in
    memory for the page's own files and the page itself, the plain file to a client that accepts neither."""
    if not VENDOR_BUILT.exists():
        pytest.skip("the web map's assets are not built (make web)")
    places = STATIC / "vendor" / "basemap" / "places.geojson"
    with TestClient(create_app(runtime=rt)) as c:
        r, body = raw_get(c, "/static/vendor/basemap/places.geojson", **{"Accept-Encoding": "gzip, br;q=1"})
        assert r.headers["content-encoding"] == "br" and r.headers["vary"] == "Accept-Encoding"
        assert r.headers["content-type"] == "application/geo+json"
        assert body == places.with_name("places.geojson.br").read_bytes() and len(body) < places.stat().st_size / 4
        r, body = raw_get(c, "/static/vendor/basemap/places.geojson", **{"Accept-Encoding": "gzip, br;q=0"})
        assert r.headers["content-encoding"] == "gzip" and gzip.decompress(body) == places.read_bytes()
        etag = r.headers["etag"]
        conditional = {"Accept-Encoding": "gzip", "If-None-Match": etag}
        again = c.get("/static/vendor/basemap/places.geojson", headers=conditional)
        assert again.status_code == 304
        r, body = raw_get(c, "/static/vendor/basemap/places.geojson", **{"Accept-Encoding": "identity"})
        assert "content-encoding" not in r.headers and body == places.read_bytes()
        r, body = raw_get(c, "/static/js/app.js", **{"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["content-type"].startswith("text/javascript")
        assert gzip.decompress(body) == (STATIC / "js" / "app.js").read_bytes()
        r, body = raw_get(c, "/", **{"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip" and b'name="pmtiles-url" content=""' in gzip.decompress(body)
        # a file that is not text is sent as it is
        r, body = raw_get(c, "/static/vendor/leaflet/images/marker-icon.png", **{"Accept-Encoding": "gzip, br"})
        assert "content-encoding" not in r.headers and body[:4] == b"\x89PNG"


def test_a_pmtiles_extract_is_served_with_range_requests(rt: Runtime, tmp_path: Path) -> None:
    """The vector-tile reader asks for byte ranges of the archive: 206 with those bytes, never the whole."""
    archive = tmp_path / "area.pmtiles"
    data = bytes(range(256)) * 64
    archive.write_bytes(data)
    settings = Settings.from_env({"DECONFLICTION_MAP_PMTILES": str(archive)})
    with TestClient(create_app(settings, runtime=rt)) as c:
        assert '<meta name="pmtiles-url" content="/map/tiles.pmtiles">' in c.get("/").text
        r = c.get("/map/tiles.pmtiles", headers={"Range": "bytes=127-8000"})
        assert r.status_code == 206 and r.content == data[127:8001]
        assert r.headers["content-range"] == f"bytes 127-8000/{len(data)}"
        assert "content-encoding" not in r.headers
    with TestClient(create_app(Settings(), runtime=rt)) as c:
        assert c.get("/map/tiles.pmtiles").status_code == 404
        assert '<meta name="pmtiles-url" content="">' in c.get("/").text
