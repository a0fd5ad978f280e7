"""PostgreSQL backend, chosen by a ``postgresql://`` database URL; several API processes share it.

Every write transaction starts by locking the single ``store_head`` row (``SELECT ... FOR UPDATE``), so
writes are serialised across all processes: the second of two concurrent conflicting submissions waits
for the first to commit, then sees it. Reads run at REPEATABLE READ, one snapshot each. A write that woke
a channel (``tx.wake``) ends with ``pg_notify``, so the other processes' listeners hear it on commit; its
own process's readers are woken right after the commit (store/wakeup.py).

Group commit, as on SQLite (store/sqlite.py): a process's writes take turns on one connection; when
others of the process are already waiting as one finishes, its transaction stays open (and the head row
locked) and passes to the next, and the last of the group commits once; every member returns only after
that commit. Each member runs inside a savepoint and ends with a round trip that tells whether its own
statements succeeded (pipelined statements report their errors late): a member that fails rolls back to
its savepoint without touching the others; a failed commit fails every member. The group's later members
take the head row as the one before left it (locked and in memory), without reading it again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from psycopg import Connection, Cursor, IsolationLevel, Pipeline
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from deconfliction.store.sql import POSTGRES, SqlTransaction, apply_migrations
from deconfliction.store.turns import Group, Turns
from deconfliction.store.wakeup import DEFAULT_SAFETY_NET_S, PG_CHANNEL, PostgresWakeups

_MIGRATION_LOCK = 4_206_553_001
"""Advisory lock key: processes starting together apply migrations one at a time."""


class _Group(Group):
    """A group (store/turns.py) on a connection of the pool, in pipeline mode."""

    def __init__(self, conn: Connection[Any], stack: ExitStack) -> None:
        super().__init__()
        self.conn, self.stack = conn, stack
        self.pipeline: Pipeline = stack.enter_context(conn.pipeline())
        self.head: dict[str, Any] | None = None
        """The head row as the last member that succeeded left it (the row stays locked until the commit)."""


class PostgresStore:
    backend = "postgresql"

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 8, safety_net_s: float = DEFAULT_SAFETY_NET_S
    ) -> None:
        self.url = url
        self.wakeups = PostgresWakeups(url, safety_net_s)
        self._pool = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=True, kwargs={"autocommit": False, "row_factory": dict_row}
        )
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            apply_migrations(cur, POSTGRES)
        self._turns: Turns[_Group] = Turns()

    @contextmanager
    def write(self, *, bulk: bool = False) -> Iterator[SqlTransaction]:
        if bulk:  # COPY cannot run in a pipeline: a bulk load has a connection and transaction of its own
            with self._alone() as tx:
                yield tx
            return
        group = self._turns.take()
        if group is None:
            try:
                group = self._turns.group = self._open_group()
            except BaseException:
                self._turns.end(None)
                raise
        conn, pipeline = group.conn, group.pipeline
        cur = _cursor(conn)
        failure: BaseException | None = None
        try:
            # pipelined: a statement whose result is not read (an INSERT, an UPDATE) is sent without
            # waiting for its answer, so a write waits on the server only where it reads and once at its end
            cur.execute("SAVEPOINT write")
            tx = SqlTransaction(_SplitCursor(cur, _cursor(conn, "reads")), POSTGRES)
            if group.head is None:
                tx.head.lock()  # the head row, locked FOR UPDATE: writes are serialised from here
            else:
                tx.head.row = dict(group.head)  # a copy: a member that fails leaves the group's as it was
            try:
                yield tx
                tx.flush()
                self._notify_listeners(cur, tx.woken)  # delivered by PostgreSQL when the group commits
                cur.execute("RELEASE SAVEPOINT write")
                pipeline.sync()  # this member's statements all succeeded, or the error is raised here
            except BaseException as exc:
                failure = exc
                self._roll_back_member(cur, pipeline)
            if failure is None:
                group.woken |= tx.woken
                if tx.head.row is not None:  # the member's own copy (taken below), which nothing moves now
                    group.head = tx.head.row
        except BaseException as exc:  # the shared transaction itself broke: the whole group fails
            group.error = group.error or exc
        finally:
            self._finish(group)
        if failure is not None:
            raise failure
        if group.error is not None:
            raise group.error

    def _open_group(self) -> _Group:
        conn = self._pool.getconn()
        try:
            conn.isolation_level, conn.read_only = None, None  # the server's default: READ COMMITTED
            return _Group(conn, ExitStack())
        except BaseException:
            self._pool.putconn(conn)
            raise

    @staticmethod
    def _roll_back_member(cur: Cursor[Any], pipeline: Pipeline) -> None:
        """Undo one member's statements: first the round trip that reports an error of its own still in
        flight (after an error the server skips everything up to the next sync, a rollback included)."""
        with contextlib.suppress(Exception):  # the member's own error, already being raised for it
            pipeline.sync()
        cur.execute("ROLLBACK TO SAVEPOINT write")
        cur.execute("RELEASE SAVEPOINT write")
        pipeline.sync()

    def _finish(self, group: _Group) -> None:
        """Pass the open transaction to a waiting writer, or end the group: commit, or roll back if it
        broke; then wake this process's readers of what committed."""
        if self._turns.hand_over(group):
            group.done.wait()
            return
        conn = group.conn
        try:
            group.stack.close()  # the pipeline's end: a last sync
            if group.error is None:
                self._commit(conn)
        except BaseException as exc:
            group.error = group.error or exc
        finally:
            if group.error is not None:
                with contextlib.suppress(Exception):  # a broken connection: the pool discards it
                    conn.rollback()
            self._pool.putconn(conn)
            self._turns.end(group)
        if group.error is None and group.woken:  # committed: this process's readers at once
            self.wakeups.fire(group.woken)

    def _notify_listeners(self, cur: Cursor[Any], woken: set[str]) -> None:
        """The other processes' listeners hear of ``woken`` when the transaction commits (and never if it
        rolls back, also to a savepoint)."""
        if woken:
            cur.execute(
                "SELECT pg_notify(%s, c) FROM unnest(%s::text[]) AS c", (PG_CHANNEL, self.wakeups.payloads(woken))
            )

    def _commit(self, conn: Connection[Any]) -> None:
        conn.commit()

    @contextmanager
    def _alone(self) -> Iterator[SqlTransaction]:
        with self._pool.connection() as conn:
            conn.isolation_level, conn.read_only = None, None
            tx = SqlTransaction(_cursor(conn), POSTGRES)
            tx.head.lock()
            yield tx
            tx.flush()
            self._notify_listeners(_cursor(conn), tx.woken)
        if tx.woken:
            self.wakeups.fire(tx.woken)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with self._pool.connection() as conn:
            # one snapshot, fixed by the first statement: psycopg begins with these settings in the BEGIN
            # itself, one round trip fewer than a SET TRANSACTION after it
            conn.isolation_level, conn.read_only = IsolationLevel.REPEATABLE_READ, True
            yield SqlTransaction(_cursor(conn), POSTGRES)

    @contextmanager
    def glance(self) -> Iterator[SqlTransaction]:
        with self._pool.connection() as conn:
            conn.autocommit = True  # each statement its own transaction: no BEGIN, no COMMIT
            try:
                yield SqlTransaction(_cursor(conn), POSTGRES)
            finally:
                try:
                    conn.autocommit = False  # as every other user of the pool expects it
                except Exception:
                    conn.close()  # never back to the pool in autocommit: it discards a closed connection
                    raise

    def close(self) -> None:
        self.wakeups.close()
        self._pool.close()


def _cursor(conn: Connection[Any], role: str = "statements") -> Cursor[Any]:
    """The connection's cursor for ``role``, made once and used by every transaction on it: a psycopg
    cursor is a small cycle of objects (its adapters refer back to it), so one per transaction is garbage
    for the cycle collector to find, thousands a second on a busy server."""
    attr = f"_deconfliction_{role}"
    cur = getattr(conn, attr, None)
    if cur is None or cur.closed:
        cur = conn.cursor()
        setattr(conn, attr, cur)
    return cur


class _SplitCursor:
    """A pipelined write's cursor: statements whose rows are read (``SELECT``) go to a cursor of their
    own, the rest (``INSERT``, ``UPDATE``, ``DELETE``) to another.

    In pipeline mode psycopg hands each result to the cursor that sent its statement whenever it arrives,
    also while that cursor sends a later one; so on one cursor, an ``INSERT``'s result read back while a
    ``SELECT`` is being sent becomes that cursor's result, and ``fetchone`` answers "the last operation
    didn't produce records (command status: INSERT 0 1)" (seen under Hypothesis, a write telling several
    conflicts' sides: two dozen pipelined inserts, then a read). The store's reads are fetched as soon as
    they are sent, so the reading cursor never has a result pending but its own."""

    __slots__ = ("_last", "_reads", "_writes")

    def __init__(self, writes: Cursor[Any], reads: Cursor[Any]) -> None:
        self._writes, self._reads = writes, reads
        self._last = writes

    def execute(self, query: Any, params: Any = None) -> _SplitCursor:
        self._last = self._reads if str(query).lstrip()[:6].upper() == "SELECT" else self._writes
        self._last.execute(query, params)
        return self

    def executemany(self, query: Any, params_seq: Any) -> None:
        self._writes.executemany(query, params_seq)

    def fetchone(self) -> Any:
        return self._last.fetchone()

    def fetchall(self) -> Any:
        return self._last.fetchall()

    @property
    def connection(self) -> Connection[Any]:
        return self._writes.connection
