"""Which process runs the detection cycle: one at a time per database, elected through the database.

* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on a connection of its own. The
  server releases it as soon as that session ends: a process that dies (even by ``kill -9``) closes its
  socket, and the next process to try takes the lock.
* SQLite: an exclusive ``flock`` of ``<database file>.cycle`` (every process serving the file runs on one
  machine); the kernel releases it when the holder's process ends, however it ends.

Every process calls ``hold()`` once per cycle period: the holder confirms that it still holds the
election (on PostgreSQL: its session is alive), the others try to take it. So a dead holder is replaced
within one period (1 s by default), and a holder that lost its database session stops running cycles.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("deconfliction.tactical")

CYCLE_LOCK_KEY = 4_206_553_015
"""The advisory lock key of the detection cycle's election (the migration lock is another key)."""


KEEPALIVES: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 1, "keepalives_count": 2}
"""A holder whose network to the server died is noticed (and its lock released) within about 7 s."""


class CycleLease(Protocol):
    def hold(self) -> bool:
        """Take the election or confirm it is still held; whether this process holds it now."""
        ...

    def release(self) -> None: ...


class PostgresLease:
    """The election as a session advisory lock on a dedicated connection (module docstring)."""

    def __init__(self, url: str, key: int = CYCLE_LOCK_KEY) -> None:
        self.url = url
        self.key = key
        self._conn: Any = None
        self._held = False

    def hold(self) -> bool:
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self._held = False
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2, **KEEPALIVES)
            if self._held:
                self._conn.execute("SELECT 1")  # the session, and so the lock, is still there
            else:
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
                self._held = bool(row and row[0])
        except psycopg.Error as exc:
            if self._held:
                log.warning("lost the tactical cycle's election: %s", exc)
            self._drop()
        return self._held

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def release(self) -> None:
        self._drop()  # ending the session releases the lock


class FileLease:
    """The election as an exclusive ``flock`` of a file beside the SQLite database (module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def hold(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the lock
            self._fd = None


def lease_for(store: Any) -> CycleLease | None:
    """The election of ``store``'s database (a ``SQLiteStore`` or a ``PostgresStore``); None for a store
    that names no database file or URL (a test's stand-in: one process, no election)."""
    backend = getattr(store, "backend", None)
    if backend == "sqlite" and hasattr(store, "path"):
        return FileLease(f"{store.path}.cycle")
    if backend == "postgresql" and hasattr(store, "url"):
        return PostgresLease(store.url)
    return None
