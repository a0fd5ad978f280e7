"""PostgreSQL backend, chosen by a ``postgresql://`` database URL; several API processes share it.

Every write transaction starts by locking the single ``store_head`` row (``SELECT ... FOR UPDATE``), so
writes are serialised across all processes: the second of two concurrent conflicting submissions waits
for the first to commit, then sees it. Reads run at REPEATABLE READ, one snapshot each. A write that woke
a channel (``tx.wake``) ends with ``pg_notify``, so the other processes' listeners hear it on commit; its
own process's readers are woken right after the commit (store/wakeup.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
    def write(self) -> Iterator[SqlTransaction]:
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT last_seq FROM store_head WHERE id = 1 FOR UPDATE")
            tx = SqlTransaction(cur, POSTGRES)
            yield tx
            if tx.woken:  # delivered by PostgreSQL when this commits, to the other processes' listeners
                cur.execute(
                    "SELECT pg_notify(%s, c) FROM unnest(%s::text[]) AS c",
                    (PG_CHANNEL, self.wakeups.payloads(tx.woken)),
                )
        if tx.woken:  # committed: this process's readers at once, without the round trip
            self.wakeups.fire(tx.woken)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield SqlTransaction(cur, POSTGRES)

    def close(self) -> None:
        self.wakeups.close()
        self._pool.close()
