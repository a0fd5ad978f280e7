"""Data steps of migrations: what a migration's SQL cannot do portably (a hash chain, JSON read into
columns), run by the runner right after the SQL of the migration named, in the same transaction.

A step is a function of the cursor and the dialect, registered with ``@after("NNNN_name")``; it sees the
schema of its migration's time (later migrations have not run yet), so it keeps working however the
tables change afterwards. Steps are for databases written before their migration: on a new database they
find nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from deconfliction.domain.cells import covering
from deconfliction.domain.ledger import Entry, seal
from deconfliction.store.sql.base import Dialect, from_us
from deconfliction.store.sql.index import hull

Step = Callable[[Any, Dialect], int]

STEPS: dict[str, Step] = {}
"""Migration name (the file name without ``.sql``) -> the step run right after its SQL."""


def after(migration: str) -> Callable[[Step], Step]:
    def register(step: Step) -> Step:
        if migration in STEPS:
            raise ValueError(f"migration {migration} has two data steps")
        STEPS[migration] = step
        return step

    return register


@after("0002_ledger_chain")
def seal_unsealed(cur: Any, dialect: Dialect) -> int:
    """Seal the events written before the chain existed (migration 2), in order; returns how many."""
    cur.execute(
        dialect.q("SELECT seq, at, actor_id, type, subject_id, payload FROM events WHERE hash IS NULL ORDER BY seq")
    )
    rows = cur.fetchall()
    if not rows:
        return 0
    cur.execute(dialect.q("SELECT last_hash FROM store_head WHERE id = 1"))
    previous = str(cur.fetchone()["last_hash"])
    for r in rows:
        sealed = seal(
            Entry(
                r["seq"], from_us(r["at"]), r["actor_id"], r["type"], r["subject_id"], (), orjson.loads(r["payload"])
            ),
            previous,
        )
        cur.execute(
            dialect.q("UPDATE events SET content_hash = ?, hash = ? WHERE seq = ?"),
            (sealed.content_hash, sealed.hash, r["seq"]),
        )
        previous = sealed.hash
    cur.execute(dialect.q("UPDATE store_head SET last_hash = ? WHERE id = 1"), (previous,))
    return len(rows)


@after("0010_volume_cell_boxes")
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


@after("0014_time_sanity")
def backfill_conflict_window_end(cur: Any, dialect: Dialect) -> int:
    """Give the conflict records written before migration 14 the end of their window (from their
    encounters), so the expiry round finds them; returns the number of records updated."""
    cur.execute("SELECT id, body FROM conflicts WHERE window_end IS NULL")
    rows = [(r["id"], max(e["w"][1] for e in orjson.loads(r["body"])["encounters"])) for r in cur.fetchall()]
    for conflict_id, end in rows:
        cur.execute(dialect.q("UPDATE conflicts SET window_end = ? WHERE id = ?"), (end, conflict_id))
    return len(rows)


@after("0027_tactical_ephemeral")
def ephemeral_positions(cur: Any, dialect: Dialect) -> int:
    """On PostgreSQL, the live position tables unlogged and without the indexes that an upsert changes
    (migration 0027 says why); nothing on SQLite. Returns the number of statements run."""
    if dialect.name != "postgresql":
        return 0
    statements = (
        "DROP INDEX IF EXISTS tactical_tracks_t",
        "DROP INDEX IF EXISTS tactical_tracks_seq",
        "ALTER TABLE tactical_tracks SET (fillfactor = 50)",
        "ALTER TABLE tactical_tracks SET UNLOGGED",
        "ALTER TABLE tactical_changes SET UNLOGGED",
    )
    for stmt in statements:
        cur.execute(stmt)
    return len(statements)


@after("0028_tactical_track_numbers")
def number_tracks(cur: Any, dialect: Dialect) -> int:
    """Each stored track row its own number, 1, 2, ... in key order (a batch's numbers start at 2^24:
    migration 0028); returns how many."""
    cur.execute("SELECT party_id, track_id FROM tactical_tracks ORDER BY party_id, track_id")
    keys = [(n + 1, r["party_id"], r["track_id"]) for n, r in enumerate(cur.fetchall())]
    if keys:
        cur.executemany(dialect.q("UPDATE tactical_tracks SET track_no = ? WHERE party_id = ? AND track_id = ?"), keys)
    return len(keys)


@after("0029_dss_cells")
def file_dss_cells(cur: Any, dialect: Dialect) -> int:
    """File the DSS references and subscriptions written before migration 29 in its cell index (their
    stored boxes, as a write files them); returns how many were filed."""
    box = "id, min_lon, min_lat, max_lon, max_lat"
    cur.execute(dialect.q(f"SELECT kind, {box} FROM dss_entities"))
    found = cur.fetchall()
    cur.execute(dialect.q(f"SELECT 'subscription' AS kind, {box} FROM dss_subscriptions WHERE footprint IS NOT NULL"))
    found += cur.fetchall()
    rows: list[tuple[str, int, str]] = []
    for r in found:
        filed = covering(((r["min_lon"], r["min_lat"], r["max_lon"], r["max_lat"]),))
        rows += [(r["kind"], cell, r["id"]) for _, cell in filed]
    if rows:
        cur.executemany(dialect.q("INSERT INTO dss_cells (kind, cell, id) VALUES (?, ?, ?)"), rows)
    return len(found)
