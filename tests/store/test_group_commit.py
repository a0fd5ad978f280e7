"""Group commit, on both backends: a process's writers that queue up share one transaction and one
commit, yet each write stays atomic (a member that fails, in Python or on the database server, rolls back
alone) and is acknowledged only once it is committed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from deconfliction.domain.ledger import GENESIS, chain_hash
from deconfliction.store.postgres import PostgresStore
from deconfliction.store.sqlite import SQLiteStore
from tests.conftest import truncate
from tests.store.test_contract import NOW, operation, party


class CommitFailed(Exception):
    """A commit that failed (simulated: a disk error, a lost connection)."""


class Counting:
    """Counts the store's commits; fails the first ``fail_commits`` of them."""

    commits = 0
    fail_commits = 0

    def _commit(self, conn: Any) -> None:
        self.commits += 1
        if self.fail_commits:
            self.fail_commits -= 1
            raise CommitFailed("disk I/O error (simulated)")
        super()._commit(conn)  # type: ignore[misc]


class CountingSQLite(Counting, SQLiteStore):
    pass


class CountingPostgres(Counting, PostgresStore):
    pass


CountingStore = CountingSQLite | CountingPostgres


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
    while store._turns.waiting < len(workers) and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for t in threads:
        t.join(10)
    return outcome


def _add_party(name: str) -> Any:
    return lambda tx: tx.parties.add(party(name), f"h-{name}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def make(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    """Makes a counting store of the backend (a fresh file, or the session's database emptied)."""
    made: list[Any] = []

    def make(fail_commits: int = 0) -> Any:
        if request.param == "sqlite":
            s: Any = CountingSQLite(tmp_path / f"g{len(made)}.db")
        else:
            url = request.getfixturevalue("postgres_url")
            truncate(url)
            s = CountingPostgres(url)
        s.fail_commits = fail_commits
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def store(make: Any) -> Any:
    return make()


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


def test_a_member_refused_by_the_database_leaves_the_others_intact(store: CountingStore) -> None:
    """On PostgreSQL the write's statements are pipelined and an error comes back late: each member
    ends with a round trip that reports its own, and rolls back alone."""

    def duplicate(tx: Any) -> None:
        tx.parties.add(party("first"), "h-again")  # the id of the group's first member: refused

    outcome = _queue_behind_a_blocked_writer(store, [_add_party("a"), duplicate, _add_party("b")])
    assert outcome[2] is not None
    assert outcome[0] is None and outcome[1] is None and outcome[3] is None
    with store.read() as tx:
        assert sorted(p.name for p in tx.parties.list()) == ["a", "b", "first"]
        assert tx.events.head()[0] == 0


def test_members_after_the_first_continue_its_ledger(store: CountingStore) -> None:
    """The head row moves from member to member inside the group (PostgreSQL: without reading it again):
    entries are numbered and chained as if each write had committed alone, a failed member's entry
    leaving no gap."""

    def entry(name: str) -> Any:
        return lambda tx: tx.events.append(at=NOW, actor_id=None, type="t", subject_id=name, payload={})

    def fails(tx: Any) -> None:
        entry("doomed")(tx)
        raise ValueError("bad input")

    outcome = _queue_behind_a_blocked_writer(store, [entry("a"), fails, entry("b"), entry("c")])
    assert isinstance(outcome[2], ValueError)
    with store.read() as tx:
        events = tx.events.after(0)
        head = tx.events.head()
    assert [(e.seq, e.subject_id) for e in events] == [(1, "a"), (2, "b"), (3, "c")]
    previous = GENESIS
    for e in events:  # each links to the one before, as if each write had committed alone
        assert e.hash == chain_hash(previous, e.content_hash)
        previous = e.hash
    assert head == (3, previous)


def test_a_failed_commit_fails_every_member(make: Any) -> None:
    store = make(fail_commits=1)
    outcome = _queue_behind_a_blocked_writer(store, [_add_party("a"), _add_party("b")])
    assert all(isinstance(o, CommitFailed) for o in outcome)
    with store.read() as tx:
        assert tx.parties.list() == []
    with store.write() as tx:  # the store keeps working afterwards
        tx.operations  # noqa: B018
        tx.parties.add(party("later"), "h-later")
    with store.read() as tx:
        assert [p.name for p in tx.parties.list()] == ["later"]


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
