"""Security headers on every answer (docs/security.md): the map's strict Content-Security-Policy with the
deployment's tile server, the incident report's policy (no script at all, its one style block by hash),
nosniff, no referrer and no framing everywhere, refusals included. The browser tests in
tests/web/test_security.py prove the page runs under its policy and cannot be framed."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from deconfliction.api.app import create_app
from deconfliction.api.security import map_csp, tile_source
from deconfliction.domain.party import Party
from deconfliction.report import _CSS
from deconfliction.service.runtime import Runtime
from deconfliction.settings import Settings
from tests.conftest import auth


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_common(headers: dict[str, str] | object) -> None:
    h = headers
    assert h["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert h["referrer-policy"] == "no-referrer"  # type: ignore[index]
    assert h["x-frame-options"] == "DENY"  # type: ignore[index]
    assert directives(h["content-security-policy"])["frame-ancestors"] == ["'none'"]  # type: ignore[index]
    assert "strict-transport-security" not in h  # type: ignore[operator]  # plain HTTP: HSTS would be a lie


def test_the_map_page_has_a_strict_policy_from_the_service_itself(rt: Runtime) -> None:
    with TestClient(create_app(runtime=rt)) as c:
        r = c.get("/")
    assert_common(r.headers)
    d = directives(r.headers["content-security-policy"])
    assert d["default-src"] == ["'none'"]
    for name in ("script-src", "style-src", "img-src", "connect-src"):
        assert d[name] == ["'self'"], name
    assert d["object-src"] == d["base-uri"] == ["'none'"]
    assert not any("unsafe" in w for words in d.values() for w in words)


def test_the_configured_tile_server_is_the_one_other_image_source(rt: Runtime) -> None:
    settings = Settings(tile_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    with TestClient(create_app(settings, runtime=rt)) as c:
        d = directives(c.get("/").headers["content-security-policy"])
    assert d["img-src"] == ["'self'", "https://*.tiles.example.org"]
    assert d["script-src"] == d["connect-src"] == ["'self'"]  # tiles are images, nothing more


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (None, None),
        ("/tiles/{z}/{x}/{y}.png", None),
        ("https://tiles.example.org:8443/{z}/{x}/{y}.png?k=1", "https://tiles.example.org:8443"),
        ("http://user:secret@tiles.example.org/{z}/{x}/{y}.png", "http://tiles.example.org"),
    ],
)
def test_tile_sources(url: str | None, source: str | None) -> None:
    assert tile_source(url) == source
    assert "secret" not in map_csp(url)


def test_a_tile_host_that_varies_otherwise_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="DECONFLICTION_TILE_URL"):
        tile_source("https://{z}.example.org/{x}/{y}.png")


def test_static_files_json_and_refusals_carry_the_headers(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    with TestClient(create_app(runtime=rt)) as c:
        answers = [
            c.get("/static/js/app.js"),
            c.get("/static/app.css"),
            c.get("/v1/health"),
            c.get("/v1/operations"),  # 401 problem
            c.get("/v1/operations", headers=auth(parties["alpha"][1])),
            c.get("/static/nothing-here.js"),  # 404
            c.post("/v1/operations", content=b"x" * 10_000_000, headers=auth(parties["alpha"][1])),  # 413
        ]
        docs = c.get("/v1/docs")
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 200, 404, 413]
    for a in answers:
        assert_common(a.headers)
        assert directives(a.headers["content-security-policy"])["default-src"] == ["'none'"]
    assert_common(docs.headers)  # Swagger UI runs its own scripts, but is never framed


def test_the_incident_report_allows_no_script_and_only_its_own_style(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    key = parties["cell"][1]
    r = client.post(
        "/v1/incidents",
        json={"place": {"type": "Point", "coordinates": [40, 35]}, "at": "2026-11-23T09:00:00Z", "description": "x"},
        headers=auth(key),
    )
    assert r.status_code == 201, r.text
    report = client.get(f"/v1/incidents/{r.json()['incident']['id']}/report", headers=auth(key))
    assert report.status_code == 200
    assert_common(report.headers)
    d = directives(report.headers["content-security-policy"])
    assert d["default-src"] == ["'none'"]
    assert "script-src" not in d  # default-src 'none': no script of any kind
    style_hash = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
    assert d["style-src"] == [f"'sha256-{style_hash}'"]
    assert "<script" not in report.text
    # the saved file carries the same policy (a meta element cannot forbid framing; the header does)
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', report.text)
    assert meta is not None
    assert directives(meta.group(1))["style-src"] == d["style-src"]
