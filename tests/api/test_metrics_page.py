"""A real ``deconflict serve`` on each backend: ``/metrics`` passes ``promtool check metrics`` (Debian's
``prometheus`` package; .ci/run installs it and sets DECONFLICTION_REQUIRE_PROMTOOL=1, elsewhere the
check skips with the reason), the probes answer as a deployment sees them, and the logs come out in the
configured format with the access log and the domain's events."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from bench.servers import Server

from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.settings import Settings
from deconfliction.store import open_store
from tests.conftest import ahead, auth, make_postgres_database, need, square, volume_json

REQUIRE_PROMTOOL = os.environ.get("DECONFLICTION_REQUIRE_PROMTOOL") == "1"


def promtool() -> str:
    found = shutil.which("promtool")
    need(
        None if found else "promtool not found (Debian package 'prometheus')",
        "DECONFLICTION_REQUIRE_PROMTOOL" if REQUIRE_PROMTOOL else None,
    )
    assert found is not None
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, dict[str, str], str]]:
    """A server with two parties; text logs on SQLite, JSON logs on PostgreSQL (both formats, once each)."""
    if request.param == "sqlite":
        url, drop, log_format = f"sqlite:///{tmp_path / 'metrics.db'}", None, "text"
    else:
        (url, drop), log_format = make_postgres_database(), "json"
    rt = Settings().runtime(open_store(url))
    try:
        keys = {name: create_party(rt, None, name, Role.PARTY)[1] for name in ("alpha", "bravo")}
    finally:
        rt.store.close()
    server = Server(url, tmp_path, env={"DECONFLICTION_LOG_FORMAT": log_format, "DECONFLICTION_LOG_LEVEL": "info"})
    try:
        server.wait_ready()
        yield server, keys, log_format
    finally:
        server.stop()
        if drop is not None:
            drop()


def test_a_served_deployment_is_observable(served: tuple[Server, dict[str, str], str]) -> None:
    server, keys, log_format = served
    with httpx.Client(base_url=server.url, timeout=30) as c:
        for who, lon in (("alpha", 40.0), ("bravo", 40.05)):
            body = {"kind": "air", "volumes": [volume_json(square(lon, 35.0), start=ahead())]}
            assert c.post("/v1/operations", json=body, headers=auth(keys[who])).status_code == 201
        assert c.get("/v1/operations", headers=auth("wrong-" + "w" * 40)).status_code == 401
        assert c.get("/v1/health/live").status_code == 200
        ready = c.get("/v1/health/ready")
        assert ready.status_code == 200, ready.text  # this process runs its cycle, the schema is current
        assert {ch["name"] for ch in ready.json()["checks"]} == {"database", "migrations", "tactical_cycle"}
        page = c.get("/metrics")
    assert page.status_code == 200
    text = page.text
    for name in (
        'deconfliction_http_request_duration_seconds_bucket{le="0.001",method="POST",route="/v1/operations"}',
        "deconfliction_open_conflicts 1.0",
        "deconfliction_overdue_notifications 0.0",
        "deconfliction_conflicts_opened_total 1.0",
        'deconfliction_auth_failures_total{kind="api_key"} 1.0',
        "deconfliction_tactical_cycle_duration_seconds_count",
        'deconfliction_position_reports_ingested_total{path="sbs"} 0.0',
        "process_cpu_seconds_total",
    ):
        assert name in text, name

    checked = subprocess.run([promtool(), "check", "metrics"], input=page.content, capture_output=True, timeout=60)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()

    log = server.log_path.read_text(errors="replace")
    assert "w" * 40 not in log and keys["alpha"] not in log  # no key ever, tried or good
    if log_format == "json":
        records = [orjson.loads(line) for line in log.splitlines() if line.startswith("{")]
        access = [r for r in records if r["logger"] == "deconfliction.access"]
        assert {(r["method"], r["route"], r["status"]) for r in access} >= {
            ("POST", "/v1/operations", 201),
            ("GET", "/v1/operations", 401),
        }
        assert any(r.get("event") == "conflict.opened" for r in records)
        assert any(r.get("event") == "auth.failed" and r["level"] == "WARNING" for r in records)
    else:
        assert "deconfliction.access: POST /v1/operations 201" in log
        assert "event=conflict.opened" in log and "event=auth.failed" in log


def test_promtool_finds_a_bad_page() -> None:
    """The check itself can fail: a counter without its _total suffix is refused."""
    bad = b"# HELP x_requests requests\n# TYPE x_requests counter\nx_requests 1\n"
    assert subprocess.run([promtool(), "check", "metrics"], input=bad, capture_output=True).returncode != 0
