"""PostgreSQL backend, chosen by a ``postgresql://`` database URL; several API processes share it.

Every write transaction starts by locking the single ``store_head`` row (``SELECT ... FOR UPDATE``), so
writes are serialised across all processes: the second of two concurrent conflicting submissions waits
for the first to commit, then sees it. Reads run at REPEATABLE READ, one snapshot each. A write that woke
a channel (``tx.wake``) ends with ``pg_notify``, so the other processes' listeners hear it on commit; its
own process's readers are woken right after the commit (store/wakeup.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from psycopg import Connection, Cursor, IsolationLevel
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from deconfliction.store.sql import POSTGRES, SqlTransaction, apply_migrations
from deconfliction.store.wakeup import DEFAULT_SAFETY_NET_S, PG_CHANNEL, PostgresWakeups

_MIGRATION_LOCK = 4_206_553_001
"""Advisory lock key: processes starting together apply migrations one at a time."""


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

    @contextmanager
    def write(self, *, bulk: bool = False) -> Iterator[SqlTransaction]:
        with self._pool.connection() as conn:
            conn.isolation_level, conn.read_only = None, None  # the server's default: READ COMMITTED
            cur = _cursor(conn)
            # pipelined: a statement whose result is not read (an INSERT, an UPDATE) is sent without
            # waiting for its answer, so a write waits on the server only where it reads; an error surfaces
            # at the next read or at the end, and rolls the whole write back as before. Not for a bulk load:
            # COPY cannot run in a pipeline.
            with nullcontext() if bulk else conn.pipeline():
                tx = SqlTransaction(cur if bulk else _SplitCursor(cur, _cursor(conn, "reads")), POSTGRES)
                tx.head.lock()  # the head row, locked FOR UPDATE: writes are serialised from here
                yield tx
                tx.flush()
                if tx.woken:  # delivered by PostgreSQL when this commits, to the other processes' listeners
                    cur.execute(
                        "SELECT pg_notify(%s, c) FROM unnest(%s::text[]) AS c",
                        (PG_CHANNEL, self.wakeups.payloads(tx.woken)),
                    )
        if tx.woken:  # committed: this process's readers at once, without the round trip
            self.wakeups.fire(tx.woken)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with self._pool.connection() as conn:
            # one snapshot, fixed by the first statement: psycopg begins with these settings in the BEGIN
            # itself, one round trip fewer than a SET TRANSACTION after it
            conn.isolation_level, conn.read_only = IsolationLevel.REPEATABLE_READ, True
            yield SqlTransaction(_cursor(conn), POSTGRES)

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
