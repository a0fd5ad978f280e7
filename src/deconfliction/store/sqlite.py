"""SQLite backend: one file, WAL, one writer at a time, group commit.

Writes go through a single connection per process; processes sharing the file take turns on an
exclusive lock of ``<file>.lock`` (so several API processes can serve one SQLite file). Each write runs
inside a savepoint of a transaction opened with ``BEGIN IMMEDIATE``. When other writers of the process
are already waiting as one finishes, the transaction stays open and passes to the next; the last of the
group commits once and every member returns only after that commit. A member whose own work fails rolls
back to its savepoint without touching the others; a failed commit fails every member of the group. So
each write is serialised and atomic, and under load many share one fsync.

``synchronous=FULL`` by default: a write that was acknowledged survives a crash of the process *and* of
the machine. Reads use one connection per thread and see the last committed state. The writer never
checkpoints the WAL; a background thread does. The channels a group's writes woke (``tx.wake``) are
announced after its commit, still under the file lock (store/wakeup.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deconfliction.store.sql import SQLITE, SqlTransaction, apply_migrations
from deconfliction.store.turns import Group, Turns
from deconfliction.store.wakeup import DEFAULT_SAFETY_NET_S, SQLiteWakeups

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 0.5
"""How often the background checkpointer copies committed WAL pages into the database file."""

MMAP_BYTES = 1 << 30
"""Reads of the database file go through a memory map of up to this size (address space, not memory):
a page is read without a system call and a copy (the conflict check at 100,000 operations: about 10 %
faster). Writes are unchanged (WAL), so durability is the same."""


class SQLiteStore:
    backend = "sqlite"

    def __init__(
        self, path: str | Path, *, synchronous: str = "FULL", safety_net_s: float = DEFAULT_SAFETY_NET_S
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.wakeups = SQLiteWakeups(self.path, safety_net_s)
        if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
        self._synchronous = synchronous.upper()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._stop = threading.Event()
        self._turns: Turns[Group] = Turns()
        # Processes starting together take turns from the first statement: turning a new file to WAL
        # needs it alone, and SQLite answers "database is locked" there without waiting.
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            self._writer = self._connect()
            # The writer never checkpoints (an automatic checkpoint stalls the commit that triggers it for
            # 10-20 ms); a background thread with its own connection does, without blocking writers.
            self._writer.execute("PRAGMA wal_autocheckpoint=0")
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                apply_migrations(self._writer.cursor(), SQLITE)
                self._writer.execute("COMMIT")
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="sqlite-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        try:
            while not self._stop.wait(CHECKPOINT_EVERY_S):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.row_factory = sqlite3.Row  # rows are read by column name (store/sql/base.py, Row)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _commit(self, conn: sqlite3.Connection) -> None:
        conn.execute("COMMIT")

    @contextmanager
    def write(self, *, bulk: bool = False) -> Iterator[SqlTransaction]:
        conn = self._writer
        group = self._turns.take()
        if group is None:
            try:
                # other processes on this file queue on the lock file (the kernel wakes the next one at
                # once); BEGIN IMMEDIATE alone would make them poll with SQLite's 1, 2, 5, 10 ms sleeps
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
                try:
                    conn.execute("BEGIN IMMEDIATE")
                except BaseException:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                    raise
            except BaseException:
                self._turns.end(None)
                raise
            group = self._turns.group = Group()
        failure: BaseException | None = None
        try:
            conn.execute("SAVEPOINT write")
            tx = SqlTransaction(conn.cursor(), SQLITE)
            try:
                yield tx
                tx.flush()
            except BaseException as exc:
                failure = exc
                conn.execute("ROLLBACK TO write")
            conn.execute("RELEASE write")
            if failure is None:
                group.woken |= tx.woken
        except BaseException as exc:  # the shared transaction itself broke: the whole group fails
            group.error = group.error or exc
        finally:
            self._finish(conn, group)
        if failure is not None:
            raise failure
        if group.error is not None:
            raise group.error

    def _finish(self, conn: sqlite3.Connection, group: Group) -> None:
        """Pass the open transaction to a waiting writer, or end the group: commit, or roll back if it
        broke."""
        if self._turns.hand_over(group):
            group.done.wait()
            return
        try:
            if group.error is None:
                self._commit(conn)
        except BaseException as exc:
            group.error = exc
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if group.error is None and group.woken:  # under the file lock: wake-file appends never interleave
                try:
                    self.wakeups.announce(group.woken)
                except Exception:  # committed all the same; readers catch up through the safety net
                    log.exception("wake-up after commit failed")
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            self._turns.end(group)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield SqlTransaction(conn.cursor(), SQLITE)
        finally:
            conn.execute("ROLLBACK")

    @contextmanager
    def glance(self) -> Iterator[SqlTransaction]:
        # autocommit: each statement is a read transaction of its own
        yield SqlTransaction(self._reader().cursor(), SQLITE)

    def _reader(self) -> sqlite3.Connection:
        """This thread's connection for reading."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Idempotent: closing a closed store does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.wakeups.close()
        self._checkpointer.join(10)
        with contextlib.suppress(sqlite3.Error):  # a reader still open elsewhere: the next start checkpoints
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        os.close(self._lock_fd)
