"""Storage: ports (``ports``) and their SQLite and PostgreSQL implementations."""

from __future__ import annotations

from deconfliction.store.ports import Store
from deconfliction.store.wakeup import DEFAULT_SAFETY_NET_S


def open_store(url: str, *, sqlite_synchronous: str = "FULL", safety_net_s: float = DEFAULT_SAFETY_NET_S) -> Store:
    """A store for a database URL: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
    ``postgresql://user@host:port/dbname``. Migrations are applied before it is returned.
    ``safety_net_s``: how often the process checks for commits no wake-up announced (store/wakeup.py)."""
    if url.startswith("sqlite:///"):
        from deconfliction.store.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"), synchronous=sqlite_synchronous, safety_net_s=safety_net_s)
    if url.startswith(("postgresql://", "postgres://")):
        from deconfliction.store.postgres import PostgresStore

        return PostgresStore(url, safety_net_s=safety_net_s)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path.db or postgresql://...")
