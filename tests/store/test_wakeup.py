"""The wake-up contract (store/wakeup.py), one abstract suite subclassed per backend: a commit that woke a
channel wakes its readers (in this process and in another store on the same database), a rollback or an
open transaction wakes nobody, and the safety net finds a commit that announced nothing."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from deconfliction.domain.notification import Notification, NotificationState
from deconfliction.store import open_store
from deconfliction.store.ports import Store
from deconfliction.store.wakeup import LISTENER_NAME, WAKE_FILE_MAX, SQLiteWakeups, notifications_channel
from tests.conftest import truncate
from tests.store.test_contract import NOW, party

SOON = 3.0
"""Seconds a wake-up may take here (a busy shared machine); the safety net is set far above it."""


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())  # type: ignore[arg-type]


def notification(seq: int, party_id: str) -> Notification:
    return Notification(
        f"nt_{seq}", seq, party_id, "conflict", "cf_1", 1, {}, NOW, None, NotificationState.PENDING, None, None
    )


def add_notification(store: Store, party_id: str) -> None:
    with store.write() as tx:
        tx.notifications.add(notification(tx.notifications.next_seq(), party_id))


class WakeupContract:
    url: str

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        raise NotImplementedError

    def other(self, safety_net_s: float = 60.0) -> Store:
        """Another store on the same database: another process, as far as the store can tell."""
        return open_store(self.url, safety_net_s=safety_net_s)

    def setup_parties(self, store: Store) -> None:
        with store.write() as tx:
            for name in ("a", "b"):
                tx.parties.add(party(name), f"h-{name}")

    def test_a_committed_wake_wakes_its_channel_only(self, store: Store) -> None:
        async def test() -> None:
            with store.wakeups.subscribe("ch.one") as one, store.wakeups.subscribe("ch.two") as two:
                await asyncio.sleep(0.2)  # the listener is up (it wakes everyone once when it is)
                await one.wait(0.5)
                await two.wait(0.5)
                t0 = time.monotonic()
                await asyncio.to_thread(self._write_waking, store, "ch.one")
                assert await one.wait(SOON)
                assert time.monotonic() - t0 < SOON
                assert not await two.wait(0.3)

        run(test)

    @staticmethod
    def _write_waking(store: Store, *channels: str) -> None:
        with store.write() as tx:
            tx.events.append(at=NOW, actor_id=None, type="test.woke", subject_id="x", payload={})
            for c in channels:
                tx.wake(c)

    def test_nothing_is_told_before_the_commit_or_after_a_rollback(self, store: Store) -> None:
        async def test() -> None:
            with store.wakeups.subscribe("ch") as sub:
                await asyncio.sleep(0.2)
                await sub.wait(0.5)
                inside, release = threading.Event(), threading.Event()

                def slow_write() -> None:
                    with store.write() as tx:
                        tx.wake("ch")
                        inside.set()
                        release.wait(10)

                def failed_write() -> None:
                    with store.write() as tx:
                        tx.wake("ch")
                        raise RuntimeError("rolled back")

                with pytest.raises(RuntimeError):
                    await asyncio.to_thread(failed_write)
                assert not await sub.wait(0.5)
                writer = asyncio.ensure_future(asyncio.to_thread(slow_write))
                assert await asyncio.to_thread(inside.wait, 10)
                assert not await sub.wait(0.5)  # open: not yet
                release.set()
                await writer
                assert await sub.wait(SOON)

        run(test)

    def test_a_notification_wakes_its_party_stream(self, store: Store) -> None:
        self.setup_parties(store)

        async def test() -> None:
            with (
                store.wakeups.subscribe(notifications_channel("pt_b")) as b,
                store.wakeups.subscribe(notifications_channel("pt_a")) as a,
            ):
                await asyncio.sleep(0.2)
                await a.wait(0.5)
                await b.wait(0.5)
                await asyncio.to_thread(add_notification, store, "pt_b")
                assert await b.wait(SOON)
                assert not await a.wait(0.3)
                assert not await b.wait(0.3)  # once (PostgreSQL: the writer's own listener skips it)

        run(test)

    def test_a_commit_through_another_store_wakes_this_one(self, store: Store) -> None:
        self.setup_parties(store)
        other = self.other()
        try:

            async def test() -> None:
                with store.wakeups.subscribe(notifications_channel("pt_a")) as sub:
                    await asyncio.sleep(0.2)
                    await sub.wait(0.5)
                    for _ in range(3):  # each time, not only the first
                        t0 = time.monotonic()
                        await asyncio.to_thread(add_notification, other, "pt_a")
                        assert await sub.wait(SOON)
                        assert time.monotonic() - t0 < SOON
                    assert not await sub.wait(0.3)  # told once per commit, not again and again

            run(test)
        finally:
            other.close()

    def test_the_safety_net_finds_a_commit_nobody_announced(self, store: Store) -> None:
        self.setup_parties(store)
        watched = self.other(safety_net_s=0.3)
        try:

            async def test() -> None:
                with watched.wakeups.subscribe("ch") as sub:
                    await asyncio.sleep(0.5)
                    await sub.wait(0.1)
                    assert not await sub.wait(1.0)  # idle: the net looks, sees no change, wakes nobody
                    await asyncio.to_thread(self._write_waking, store)  # a ledger entry, no wake-up
                    t0 = time.monotonic()
                    assert await sub.wait(SOON)
                    assert time.monotonic() - t0 < SOON

            run(test)
        finally:
            watched.close()

    def test_a_subscription_whose_loop_is_gone_is_dropped(self, store: Store) -> None:
        async def subscribe() -> None:
            store.wakeups.subscribe("ch")  # never closed: its loop ends with this asyncio.run

        asyncio.run(subscribe())
        assert store.wakeups.subscribers() == 1  # type: ignore[attr-defined]
        self._write_waking(store, "ch")
        deadline = time.monotonic() + SOON
        while store.wakeups.subscribers() and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.05)
        assert store.wakeups.subscribers() == 0  # type: ignore[attr-defined]


class TestSQLiteWakeups(WakeupContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        self.url = f"sqlite:///{tmp_path}/wake.db"
        s = open_store(self.url, safety_net_s=60.0)
        yield s
        s.close()

    def test_a_replaced_wake_file_wakes_everyone(self, store: Store, monkeypatch: Any) -> None:
        self.setup_parties(store)
        other = self.other()
        monkeypatch.setattr("deconfliction.store.wakeup.WAKE_FILE_MAX", 64)
        try:

            async def test() -> None:
                with store.wakeups.subscribe(notifications_channel("pt_a")) as sub:
                    await asyncio.sleep(0.2)
                    for _ in range(5):  # past 64 bytes the writer starts a fresh file
                        await asyncio.to_thread(add_notification, other, "pt_b")
                        await asyncio.to_thread(add_notification, other, "pt_a")
                        assert await sub.wait(SOON)

            run(test)
            wakeups = store.wakeups
            assert isinstance(wakeups, SQLiteWakeups)
            assert wakeups.path.stat().st_size < 64 * 3
        finally:
            other.close()
        assert WAKE_FILE_MAX > 64

    def test_a_wake_file_replaced_twice_between_two_looks_is_seen_replaced(
        self, store: Store, monkeypatch: Any
    ) -> None:
        """Replaced twice while the watcher did not look, the file can come back with the inode and the size
        it last saw (file systems reuse a freed inode at once): it must still see a new file."""
        self.setup_parties(store)
        other = self.other()
        wakeups = store.wakeups
        assert isinstance(wakeups, SQLiteWakeups)
        monkeypatch.setattr("deconfliction.store.wakeup.WAKE_FILE_MAX", 64)
        stat, looking = wakeups._stat, threading.Event()
        looking.set()

        def held_stat() -> tuple[int | None, int]:
            looking.wait()
            return stat()

        monkeypatch.setattr(wakeups, "_stat", held_stat)

        def replace_and_append() -> None:  # two lines: past 64 bytes, the next line starts a fresh file
            add_notification(other, "pt_b")
            add_notification(other, "pt_a")

        try:

            async def test() -> None:
                with wakeups.subscribe(notifications_channel("pt_a")) as sub:
                    await asyncio.sleep(0.2)
                    await sub.wait(0.1)
                    for _ in range(2):
                        await asyncio.to_thread(replace_and_append)
                        assert await sub.wait(SOON)
                    await asyncio.sleep(0.2)  # the watcher has read every line
                    await sub.wait(0.1)
                    size = wakeups.path.stat().st_size
                    looking.clear()
                    await asyncio.sleep(0.1)  # the watcher is held before its next look
                    await asyncio.to_thread(replace_and_append)
                    await asyncio.to_thread(replace_and_append)
                    assert wakeups.path.stat().st_size == size
                    looking.set()
                    assert await sub.wait(SOON)

            run(test)
        finally:
            looking.set()
            other.close()

    def test_a_watcher_that_fails_starts_again(self, store: Store, monkeypatch: Any) -> None:
        self.setup_parties(store)
        other = self.other()
        wakeups = store.wakeups
        assert isinstance(wakeups, SQLiteWakeups)
        stat, failures = wakeups._stat, [1]

        def broken_once() -> tuple[int | None, int]:
            if failures and wakeups.subscribers():
                failures.pop()
                raise RuntimeError("a bug")
            return stat()

        monkeypatch.setattr(wakeups, "_stat", broken_once)
        try:

            async def test() -> None:
                with wakeups.subscribe(notifications_channel("pt_a")) as sub:
                    await asyncio.sleep(1.5)  # failed, said so, woke everyone, started again
                    assert not failures
                    assert await sub.wait(0.1)
                    await asyncio.to_thread(add_notification, other, "pt_a")
                    assert await sub.wait(SOON)

            run(test)
        finally:
            other.close()


@pytest.mark.postgres
class TestPostgresWakeups(WakeupContract):
    @pytest.fixture
    def store(self, postgres_url: str) -> Iterator[Store]:
        truncate(postgres_url)
        self.url = postgres_url
        s = open_store(postgres_url, safety_net_s=60.0)
        yield s
        s.close()

    def test_a_lost_listener_connection_wakes_everyone_and_listens_again(self, store: Store) -> None:
        import psycopg

        self.setup_parties(store)

        async def test() -> None:
            with store.wakeups.subscribe(notifications_channel("pt_a")) as sub:
                await asyncio.sleep(0.3)
                await sub.wait(0.5)
                listeners = (
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s"
                )
                with psycopg.connect(self.url, autocommit=True) as admin:
                    (pid,) = admin.execute(listeners, (LISTENER_NAME,)).fetchone() or (None,)
                    assert pid is not None
                    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                    assert await sub.wait(SOON)  # everyone, once: whatever committed meanwhile is read
                    deadline = time.monotonic() + 15
                    while time.monotonic() < deadline:
                        back = admin.execute(listeners, (LISTENER_NAME,)).fetchone()
                        if back is not None and back[0] != pid:
                            break
                        await asyncio.sleep(0.1)
                    else:
                        pytest.fail("the listener did not come back")
                await asyncio.sleep(0.2)
                await sub.wait(0.5)  # the wake-up of the reconnection
                await asyncio.to_thread(add_notification, other, "pt_a")  # listening again: told
                assert await sub.wait(SOON)

        other = self.other()
        try:
            run(test)
        finally:
            other.close()
