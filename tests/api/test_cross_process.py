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


SAFETY_NET_S = 60.0
"""The servers' DECONFLICTION_STREAM_POLL_S here: far above what a wake-up may take, so a notification that
arrives in time was woken by the commit, not found by the safety net."""


@pytest.mark.slow
def test_a_notification_written_through_one_process_reaches_a_stream_on_another(url: str, tmp_path: Path) -> None:
    """PostgreSQL: NOTIFY on commit to the other process's listener; SQLite: the wake-up file."""
    rt = Runtime(open_store(url))
    try:
        keys = {who: create_party(rt, None, who, Role.PARTY)[1] for who in ("alpha", "bravo")}
    finally:
        rt.store.close()
    server_class = _server_class()
    env = {"DECONFLICTION_STREAM_POLL_S": str(SAFETY_NET_S)}
    one, two = server_class(url, tmp_path, env=env), server_class(url, tmp_path, env=env)
    n = 5
    try:
        one.wait_ready()
        two.wait_ready()
        received: list[tuple[float, dict[str, Any]]] = []
        opened = threading.Event()

        def listen() -> None:
            headers = {"Authorization": f"Bearer {keys['bravo']}"}
            with (
                httpx.Client(base_url=two.url, timeout=30) as c,
                c.stream("GET", "/v1/stream", params={"limit": n, "idle_s": 20}, headers=headers) as r,
            ):
                for line in r.iter_lines():
                    if line.startswith(": connected"):
                        opened.set()
                    if line.startswith("data: "):
                        received.append((time.perf_counter(), orjson.loads(line[6:])))

        t = threading.Thread(target=listen)
        t.start()
        assert opened.wait(20)
        time.sleep(1.0)  # the second process's listener is up (opened with its first stream)
        soon = ahead()  # the servers run on the real clock
        sent: dict[str, float] = {}
        with httpx.Client(base_url=one.url, timeout=30) as c:
            bar = {"type": "Polygon", "coordinates": [[[40, 35], [40.01, 35], [40.01, 36], [40, 36], [40, 35]]]}
            a = c.post(
                "/v1/operations",
                json={"kind": "air", "volumes": [volume_json(bar, start=soon)]},
                headers={"Authorization": f"Bearer {keys['alpha']}"},
            )
            assert a.status_code == 201
            for i in range(n):  # one at a time: each arrives before the next is written
                b = c.post(
                    "/v1/operations",
                    json={"kind": "air", "volumes": [volume_json(square(39.995, 35 + 0.1 * i, 0.02), start=soon)]},
                    headers={"Authorization": f"Bearer {keys['bravo']}"},
                )
                assert b.status_code == 201
                sent[b.json()["conflicts"][0]["id"]] = time.perf_counter()
                deadline = time.perf_counter() + SAFETY_NET_S / 6
                while len(received) <= i and time.perf_counter() < deadline:
                    time.sleep(0.005)
        t.join(25)
        assert not t.is_alive()
        # bravo's own writes created the conflicts; their notifications were written by process 1
        assert [m["subject"] for _, m in received] == list(sent)
        assert {m["kind"] for _, m in received} == {"conflict.opened"}
        latency = [arrived - sent[m["subject"]] for arrived, m in received]
        assert max(latency) < 2.0, latency  # woken by the commit: well under the 60 s safety net
    finally:
        one.stop()
        two.stop()
