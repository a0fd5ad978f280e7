"""SQLite group commit: writers that queue up share one transaction and one fsync, yet each write stays
atomic and is acknowledged only once it is committed."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest

from deconfliction.store.sqlite import SQLiteStore
from tests.store.test_contract import NOW, operation, party


class CountingStore(SQLiteStore):
    def __init__(self, *a: Any, fail_commits: int = 0, **kw: Any) -> None:
        self.commits = 0
        self.fail_commits = fail_commits
        super().__init__(*a, **kw)

    def _commit(self, conn: sqlite3.Connection) -> None:
        self.commits += 1
        if self.fail_commits:
            self.fail_commits -= 1
            raise sqlite3.OperationalError("disk I/O error (simulated)")
        super()._commit(conn)


def _queue_behind_a_blocked_writer(store: CountingStore, workers: list[Any]) -> list[BaseException | None]:
    """Writer 0 holds the write lock until every other writer is waiting, so they all join its group."""
    release = threading.Event()
    outcome: list[BaseException | None] = [None] * (len(workers) + 1)

    def first() -> None:
        try:
            with store.write() as tx:
                tx.parties.add(party("first"), "h-first")
                release.wait(10)
        except BaseException as exc:
            outcome[0] = exc

    def run(i: int, work: Any) -> None:
        try:
            with store.write() as tx:
                work(tx)
        except BaseException as exc:
            outcome[i + 1] = exc

    threads = [threading.Thread(target=first)]
    threads[0].start()
    time.sleep(0.05)
    for i, w in enumerate(workers):
        threads.append(threading.Thread(target=run, args=(i, w)))
        threads[-1].start()
    deadline = time.monotonic() + 10
    while store._waiting < len(workers) and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for t in threads:
        t.join(10)
    return outcome


def _add_party(name: str) -> Any:
    return lambda tx: tx.parties.add(party(name), f"h-{name}")


@pytest.fixture
def store(tmp_path: Any) -> Any:
    s = CountingStore(tmp_path / "g.db")
    yield s
    s.close()


def test_queued_writers_share_one_commit(store: CountingStore) -> None:
    before = store.commits
    outcome = _queue_behind_a_blocked_writer(store, [_add_party(f"p{i}") for i in range(20)])
    assert outcome == [None] * 21
    assert store.commits - before == 1
    with store.read() as tx:
        assert len(tx.parties.list(limit=100)) == 21


def test_a_failing_member_leaves_the_others_intact(store: CountingStore) -> None:
    def fails(tx: Any) -> None:
        tx.parties.add(party("doomed"), "h-doomed")
        raise ValueError("bad input")

    outcome = _queue_behind_a_blocked_writer(store, [_add_party("a"), fails, _add_party("b")])
    assert isinstance(outcome[2], ValueError)
    assert outcome[1] is None and outcome[3] is None
    with store.read() as tx:
        assert sorted(p.name for p in tx.parties.list()) == ["a", "b", "first"]


def test_a_failed_commit_fails_every_member(tmp_path: Any) -> None:
    store = CountingStore(tmp_path / "f.db", fail_commits=1)
    try:
        outcome = _queue_behind_a_blocked_writer(store, [_add_party("a"), _add_party("b")])
        assert all(isinstance(o, sqlite3.OperationalError) for o in outcome)
        with store.read() as tx:
            assert tx.parties.list() == []
        with store.write() as tx:  # the store keeps working afterwards
            tx.operations  # noqa: B018
            tx.parties.add(party("later"), "h-later")
        with store.read() as tx:
            assert [p.name for p in tx.parties.list()] == ["later"]
    finally:
        store.close()


def test_many_concurrent_writers_all_commit_in_order(store: CountingStore) -> None:
    def worker(k: int) -> None:
        for i in range(25):
            with store.write() as tx:
                tx.events.append(at=NOW, actor_id=None, type="t", subject_id=f"{k}-{i}", payload={})

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with store.read() as tx:
        events = tx.events.after(0, limit=1000)
    assert [e.seq for e in events] == list(range(1, 201))
    assert len({e.subject_id for e in events}) == 200


def test_operations_round_trip_through_groups(store: CountingStore) -> None:
    with store.write() as tx:
        tx.parties.add(party("alpha"), "h-alpha")
    outcome = _queue_behind_a_blocked_writer(
        store, [lambda tx, i=i: tx.operations.add(operation(f"op_{i}", "pt_alpha")) for i in range(5)]
    )
    assert outcome == [None] * 6
    with store.read() as tx:
        assert len(tx.operations.list()) == 5
