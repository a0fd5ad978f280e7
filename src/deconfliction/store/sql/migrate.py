"""The migration runner."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from deconfliction.store.sql.base import Dialect, to_us
from deconfliction.store.sql.conflicts import backfill_conflict_window_end
from deconfliction.store.sql.index import hull
from deconfliction.store.sql.ledger import seal_unsealed


@lru_cache(maxsize=1)
def migration_scripts() -> list[tuple[int, str, str]]:
    """(version, name, text) of every migration shipped with the package, in order."""
    from importlib import resources

    folder = resources.files("deconfliction.store") / "migrations"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            out.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return out


def statements(script: str, dialect: Dialect) -> list[str]:
    """Split a migration into statements, with the backend's type names filled in."""
    text = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    text = text.replace("{blob}", dialect.blob).replace("{without_rowid}", dialect.without_rowid)
    return [s.strip() for s in text.split(";") if s.strip()]


def apply_migrations(cur: Any, dialect: Dialect) -> list[int]:
    """Apply the missing migrations through ``cur`` (inside the caller's transaction)."""
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at BIGINT NOT NULL)"
    )
    cur.execute("SELECT version FROM schema_migrations")
    done = {r["version"] for r in cur.fetchall()}
    applied = []
    for version, name, script in migration_scripts():
        if version in done:
            continue
        for stmt in statements(script, dialect):
            cur.execute(stmt)
        cur.execute(
            dialect.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
            (version, name, to_us(datetime.now(UTC))),
        )
        applied.append(version)
    if 2 in applied:
        seal_unsealed(cur, dialect)
    if 10 in applied:
        backfill_cell_boxes(cur, dialect)
    if 14 in applied:
        backfill_conflict_window_end(cur, dialect)
    return applied


def backfill_cell_boxes(cur: Any, dialect: Dialect) -> int:
    """Give the index rows written before migration 10 their volume's box (they carry the whole world
    until then, which is correct, only slower); returns the number of volumes updated."""
    cur.execute(
        dialect.q(
            "SELECT DISTINCT c.op_id, c.vol_idx, v.boxes FROM volume_cells c JOIN volumes v "
            "ON v.op_id = c.op_id AND v.vol_idx = c.vol_idx"
        )
    )
    rows = [(*hull(orjson.loads(r["boxes"])), r["op_id"], r["vol_idx"]) for r in cur.fetchall()]
    if rows:
        cur.executemany(
            dialect.q(
                "UPDATE volume_cells SET lon_lo = ?, lat_lo = ?, lon_hi = ?, lat_hi = ? WHERE op_id = ? AND vol_idx = ?"
            ),
            rows,
        )
    return len(rows)
