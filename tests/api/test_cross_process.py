"""Several API processes on one database: a notification created through process 1 reaches a stream
client connected to process 2 (the notifications table is the outbox every process reads)."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from tests.conftest import ahead, square, truncate, volume_json

BENCH = Path(__file__).resolve().parents[2] / "bench" / "servers.py"


def _server_class() -> Any:
    spec = importlib.util.spec_from_file_location("bench_servers", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_servers"] = module
    spec.loader.exec_module(module)
    return module.Server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/shared.db"
    shared: str = request.getfixturevalue("postgres_url")
    truncate(shared)
    return shared


@pytest.mark.slow
def test_a_notification_written_through_one_process_reaches_a_stream_on_another(url: str, tmp_path: Path) -> None:
    rt = Runtime(open_store(url))
    try:
        keys = {who: create_party(rt, None, who, Role.PARTY)[1] for who in ("alpha", "bravo")}
    finally:
        rt.store.close()
    server_class = _server_class()
    one, two = server_class(url, tmp_path), server_class(url, tmp_path)
    try:
        one.wait_ready()
        two.wait_ready()
        received: list[dict[str, Any]] = []
        opened = threading.Event()

        def listen() -> None:
            headers = {"Authorization": f"Bearer {keys['bravo']}"}
            with (
                httpx.Client(base_url=two.url, timeout=30) as c,
                c.stream("GET", "/v1/stream", params={"limit": 1, "idle_s": 20}, headers=headers) as r,
            ):
                for line in r.iter_lines():
                    if line.startswith(": connected"):
                        opened.set()
                    if line.startswith("data: "):
                        received.append(orjson.loads(line[6:]))

        t = threading.Thread(target=listen)
        t.start()
        assert opened.wait(20)
        soon = ahead()  # the servers run on the real clock
        with httpx.Client(base_url=one.url, timeout=30) as c:
            a = c.post(
                "/v1/operations",
                json={"kind": "air", "volumes": [volume_json(square(40, 35), start=soon)]},
                headers={"Authorization": f"Bearer {keys['alpha']}"},
            )
            began = time.perf_counter()
            b = c.post(
                "/v1/operations",
                json={"kind": "air", "volumes": [volume_json(square(40.05, 35.05), start=soon)]},
                headers={"Authorization": f"Bearer {keys['bravo']}"},
            )
        assert a.status_code == b.status_code == 201
        t.join(25)
        assert not t.is_alive()
        # bravo's own write created the conflict; its notification was written by process 1
        (n,) = received
        assert n["subject"] == b.json()["conflicts"][0]["id"] and n["kind"] == "conflict.opened"
        assert time.perf_counter() - began < 5
    finally:
        one.stop()
        two.stop()
