"""Closed by default (docs/security.md): no cross-origin reads unless a deployment names the origin, and a
slow client cannot hold the service: headers and bodies that do not arrive in time close the connection,
and many slow connections at once do not stop the service from answering."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.servers import Server
from fastapi.testclient import TestClient

from deconfliction.api.app import create_app
from deconfliction.domain.party import Party
from deconfliction.service.runtime import Runtime
from deconfliction.settings import Settings
from tests.conftest import auth

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


def test_no_origin_may_read_the_api_unless_configured(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    key = parties["alpha"][1]
    with TestClient(create_app(runtime=rt)) as c:
        pre = c.options("/v1/operations", headers={"Origin": "https://c2.example", **PREFLIGHT})
        get = c.get("/v1/operations", headers={"Origin": "https://c2.example", **auth(key)})
    assert "access-control-allow-origin" not in pre.headers
    assert get.status_code == 200 and "access-control-allow-origin" not in get.headers


def test_a_configured_origin_may_and_no_other(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    key = parties["alpha"][1]
    settings = Settings.from_env({"DECONFLICTION_CORS_ORIGINS": "https://c2.example https://ops.example:8443"})
    assert settings.cors_origins == ("https://c2.example", "https://ops.example:8443")
    with TestClient(create_app(settings, runtime=rt)) as c:
        pre = c.options("/v1/operations", headers={"Origin": "https://c2.example", **PREFLIGHT})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://c2.example"
        assert "authorization" in pre.headers["access-control-allow-headers"].lower()
        get = c.get("/v1/operations", headers={"Origin": "https://c2.example", **auth(key)})
        assert get.headers["access-control-allow-origin"] == "https://c2.example"
        other = c.options("/v1/operations", headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert "access-control-allow-origin" not in other.headers
        other_get = c.get("/v1/operations", headers={"Origin": "https://evil.example", **auth(key)})
        assert "access-control-allow-origin" not in other_get.headers


@pytest.mark.parametrize("value", ["*", "c2.example", "https://c2.example/path", "https://*.example"])
def test_a_cors_setting_that_is_not_an_origin_is_refused_by_name(value: str) -> None:
    with pytest.raises(ValueError, match="DECONFLICTION_CORS_ORIGINS"):
        Settings.from_env({"DECONFLICTION_CORS_ORIGINS": value})


@pytest.mark.parametrize("name", ["DECONFLICTION_HEADER_TIMEOUT_S", "DECONFLICTION_BODY_TIMEOUT_S"])
@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_a_timeout_that_is_not_positive_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = {"DECONFLICTION_HEADER_TIMEOUT_S": "1.5", "DECONFLICTION_BODY_TIMEOUT_S": "2"}
    s = Server(f"sqlite:///{tmp_path / 'slow.db'}", tmp_path, env=env)
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()


def _closed_by_server(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_many_slow_clients_do_not_stop_the_service_and_are_cut_off(server: Server) -> None:
    slow_headers, slow_bodies = [], []
    try:
        for _ in range(150):  # headers that never end
            s = socket.create_connection(("127.0.0.1", server.port))
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow_headers.append(s)
        for _ in range(20):  # connections that never send a byte
            slow_bodies.append(socket.create_connection(("127.0.0.1", server.port)))
        for _ in range(50):  # a body that never comes
            s = socket.create_connection(("127.0.0.1", server.port))
            s.sendall(b"POST /v1/operations HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
            slow_bodies.append(s)
        # meanwhile the service answers a normal caller at once
        started = time.monotonic()
        r = httpx.get(server.url + "/v1/health", timeout=5)
        assert r.status_code == 200 and time.monotonic() - started < 1.0
        # and cuts the slow ones off: headers after ~1.5 s, bodies and silent connections after ~2 s
        time.sleep(2.5)
        assert all(_closed_by_server(s, 2.0) for s in slow_headers + slow_bodies)
        # a client that keeps trickling header bytes is cut off too: the deadline is for the whole header
        trickle = socket.create_connection(("127.0.0.1", server.port))
        trickle.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 5:
            try:
                trickle.sendall(b"X-A: b\r\n")
            except OSError:
                closed = True
                break
            if _closed_by_server(trickle, 0.3):
                closed = True
                break
        assert closed and time.monotonic() - started < 3.5
        trickle.close()
        assert httpx.get(server.url + "/v1/health", timeout=5).status_code == 200
    finally:
        for s in slow_headers + slow_bodies:
            with contextlib.suppress(OSError):
                s.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /v1/health HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\x01b\r\n\r\n",  # a control character
        b"POST /v1/deliveries/d 1/replay HTTP/1.1\r\nHost: x\r\n\r\n",  # a space in the path
        b"NOT HTTP AT ALL\r\n\r\n",
    ],
)
def test_bytes_that_are_not_http_get_a_problem_document(server: Server, raw: bytes) -> None:
    """Refused by the HTTP parser before the application sees them, and answered as every other error
    (schemathesis found uvicorn's plain-text answer: the document declares problem+json)."""
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.settimeout(10)
        s.sendall(raw)
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0] == "HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["content-length"]) == len(body)
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (400, "malformed_request")
    assert problem["type"].endswith("/malformed_request")
    assert httpx.get(f"{server.url}/v1/health/live", timeout=10).status_code == 200  # and it serves on


@pytest.mark.parametrize("workers", [1, 2])
def test_the_deadlines_are_on_by_default_and_serve_always_keeps_them(
    workers: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed by default: with no setting a request's headers have 10 s and its body 120 s, and `deconflict
    serve` always runs the protocol that keeps them (api/tls.py), with one process or several; the
    slow-client test above measures them."""
    import uvicorn
    from typer.testing import CliRunner

    from deconfliction.api import workers as supervisor
    from deconfliction.api.tls import HardenedHttpTools
    from deconfliction.cli import app

    settings = Settings.from_env({})
    assert (settings.header_timeout_s, settings.body_timeout_s) == (10.0, 120.0)
    served: list[dict[str, Any]] = []

    def supervise(options: dict[str, Any], host: str, port: int, n: int) -> int:
        served.append(options)
        return 0

    monkeypatch.setattr(uvicorn, "run", lambda **options: served.append(options))
    monkeypatch.setattr(supervisor, "run_workers", supervise)
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    result = CliRunner().invoke(app, ["serve", "--workers", str(workers)])
    assert result.exit_code == 0, result.output
    assert len(served) == 1 and served[0]["http"] is HardenedHttpTools
