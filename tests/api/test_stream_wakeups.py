"""/v1/stream is woken by commits: an idle stream reads the database when it opens and then not again
until a notification of its party commits; without wake-ups (a setting) it polls, and still delivers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from deconfliction.api.app import create_app
from deconfliction.domain.party import Party
from deconfliction.service.runtime import Runtime
from deconfliction.settings import Settings
from deconfliction.store.ports import Store, Transaction
from tests.api.test_notifications_api import events
from tests.conftest import auth, square, volume_json


class CountingStore:
    """The store, with its read transactions counted (a stream's every look at the database is one)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.backend = inner.backend
        self.reads = 0

    @property
    def wakeups(self) -> Any:
        return self.inner.wakeups

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        self.reads += 1
        with self.inner.read() as tx:
            yield tx

    def glance(self) -> AbstractContextManager[Transaction]:
        return self.inner.glance()

    def write(self, *, bulk: bool = False) -> AbstractContextManager[Transaction]:
        return self.inner.write(bulk=bulk)

    def close(self) -> None:
        self.inner.close()


def _stream(client: TestClient, key: str, received: list[dict[str, Any]], **params: Any) -> threading.Thread:
    def listen() -> None:
        with client.stream("GET", "/v1/stream", params=params, headers=auth(key)) as r:
            received.extend(events(r))

    t = threading.Thread(target=listen)
    t.start()
    return t


def _cross(client: TestClient, keys: dict[str, str]) -> str:
    a = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(keys["alpha"])
    )
    b = client.post(
        "/v1/operations",
        json={"kind": "air", "volumes": [volume_json(square(40.05, 35.05))]},
        headers=auth(keys["bravo"]),
    )
    assert a.status_code == b.status_code == 201
    return str(b.json()["conflicts"][0]["id"])


def test_an_idle_stream_reads_once_then_waits_for_a_commit(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    counting = CountingStore(rt.store)
    with TestClient(create_app(runtime=replace(rt, store=counting))) as client:
        received: list[dict[str, Any]] = []
        t = _stream(client, keys["bravo"], received, limit=1, idle_s=30)
        deadline = time.monotonic() + 10
        while counting.reads < 2 and time.monotonic() < deadline:  # the key's, then the stream's first
            time.sleep(0.01)
        time.sleep(0.5)  # PostgreSQL: its listener comes up and wakes it once (one more read)
        settled = counting.reads
        time.sleep(2.0)  # idle: polling every 25 ms would have read 80 times
        assert counting.reads == settled
        subject = _cross(client, keys)  # the commit that adds bravo's notification wakes its stream
        t.join(10)
        assert not t.is_alive()
        assert rt.store.wakeups.subscribers() == 0  # type: ignore[attr-defined]  # the stream let go
    assert [orjson.loads(e["data"])["subject"] for e in received] == [subject]


def test_without_wakeups_a_stream_polls_and_still_delivers(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    counting = CountingStore(rt.store)
    polling = replace(rt, store=counting, stream_wakeups=False, stream_poll_s=0.05)
    with TestClient(create_app(runtime=polling)) as client:
        received: list[dict[str, Any]] = []
        t = _stream(client, keys["bravo"], received, limit=1, idle_s=30)
        deadline = time.monotonic() + 10
        while counting.reads < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = counting.reads
        time.sleep(1.0)
        assert counting.reads - before >= 5  # it polls (every 50 ms here: up to 20 on an idle machine)
        subject = _cross(client, keys)
        t.join(10)
        assert not t.is_alive()
    assert [orjson.loads(e["data"])["subject"] for e in received] == [subject]


def test_idle_s_still_closes_an_idle_stream(client: TestClient, parties: dict[str, tuple[Party, str]]) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    t0 = time.monotonic()
    with client.stream("GET", "/v1/stream", params={"idle_s": 0.5}, headers=auth(keys["bravo"])) as r:
        lines = [line for line in r.iter_lines() if line]
    assert lines == [": connected"]
    assert 0.4 < time.monotonic() - t0 < 5


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DECONFLICTION_STREAM_WAKEUPS": "sometimes"}, "DECONFLICTION_STREAM_WAKEUPS"),
        ({"DECONFLICTION_STREAM_POLL_S": "0"}, "DECONFLICTION_STREAM_POLL_S"),
        ({"DECONFLICTION_STREAM_POLL_S": "soon"}, "DECONFLICTION_STREAM_POLL_S"),
    ],
)
def test_a_bad_stream_setting_stops_the_start_naming_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Settings.from_env(env)


def test_the_stream_settings_reach_the_runtime(sqlite_store: Store) -> None:
    s = Settings.from_env({"DECONFLICTION_STREAM_WAKEUPS": "false", "DECONFLICTION_STREAM_POLL_S": "2.5"})
    rt = s.runtime(sqlite_store)
    assert (rt.stream_wakeups, rt.stream_poll_s) == (False, 2.5)
    assert Settings.from_env({}).runtime(sqlite_store).stream_wakeups is True
