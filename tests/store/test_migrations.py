"""The migration runner on both backends: databases made by the runner before checksums upgrade in place,
a changed applied migration is refused, statements are split properly, data steps run with their
migration, and processes starting together apply each migration once."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from deconfliction.store import open_store
from deconfliction.store.ports import CandidateQuery
from deconfliction.store.sql import POSTGRES, SQLITE, Dialect, MigrationError, apply_migrations
from deconfliction.store.sql.migrate import Migration, checksum, load, shipped, split, statements
from tests.conftest import make_postgres_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class Database:
    """A fresh empty database of one backend: its URL, and raw connections that read rows by name."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.dialect: Dialect = SQLITE if backend == "sqlite" else POSTGRES
        self.drop: Callable[[], None] = lambda: None
        if backend == "sqlite":
            self.path = tmp_path / "m.db"
            self.url = f"sqlite:///{self.path}"
        else:
            self.url, self.drop = make_postgres_database()

    def connect(self) -> Any:
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("BEGIN")
            return conn
        import psycopg
        from psycopg.rows import dict_row

        return psycopg.connect(self.url, row_factory=dict_row)

    def run(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(cursor)`` in one transaction, committed when it returns."""
        conn = self.connect()
        try:
            out = fn(conn.cursor())
            conn.commit() if self.backend != "sqlite" else conn.execute("COMMIT")
            return out
        finally:
            conn.close()

    def rows(self, sql: str) -> list[dict[str, Any]]:
        def read(cur: Any) -> list[dict[str, Any]]:
            cur.execute(sql)
            return [dict(r) for r in cur.fetchall()]

        return self.run(read)  # type: ignore[no-any-return]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    d = Database(request.param, tmp_path)
    yield d
    d.drop()


def write_migrations(folder: Path, files: dict[str, str]) -> tuple[Migration, ...]:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return load(folder)


def old_runner(cur: Any, dialect: Dialect, upto: int | None = None) -> None:
    """What the runner before checksums left: its table without a checksum column, every migration (up
    to ``upto``) applied (the same statements: the old runner's split gives the same ones for the shipped
    files), and one party."""
    cur.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
    )
    for m in shipped():
        if upto is not None and m.version > upto:
            break
        for stmt in statements(m.text, dialect):
            cur.execute(stmt)
        cur.execute(
            dialect.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
            (m.version, m.name, 1_700_000_000_000_000),
        )
    cur.execute(
        dialect.q("INSERT INTO parties (id, name, role, key_hash, created_at) VALUES (?, ?, ?, ?, ?)"),
        ("pt_old", "Old", "party", "h" * 64, 1_700_000_000_000_000),
    )


def test_a_database_of_the_runner_before_checksums_upgrades_in_place(db: Database) -> None:
    db.run(lambda cur: old_runner(cur, db.dialect))
    store = open_store(db.url)
    try:
        with store.read() as tx:
            party = tx.parties.get("pt_old")
            assert party is not None and party.name == "Old"
        with store.write() as tx:  # and it takes writes
            assert tx.events.append(at=party.created_at, actor_id=None, type="x", subject_id="y", payload={}) == 1
    finally:
        store.close()
    recorded = db.rows("SELECT version, name, applied_at, checksum FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"], r["checksum"]) for r in recorded] == [
        (m.version, m.name, m.checksum) for m in shipped()
    ]
    assert {r["applied_at"] for r in recorded} == {1_700_000_000_000_000}  # nothing applied twice
    open_store(db.url).close()  # and the next start finds it current


def test_a_new_database_records_every_migration_with_its_checksum(db: Database) -> None:
    open_store(db.url).close()
    recorded = db.rows("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"], r["checksum"]) for r in recorded] == [
        (m.version, m.name, m.checksum) for m in shipped()
    ]
    assert all(len(r["checksum"]) == 64 for r in recorded)


def test_a_changed_applied_migration_is_refused_and_nothing_changes(db: Database) -> None:
    open_store(db.url).close()
    db.run(lambda cur: cur.execute("UPDATE schema_migrations SET checksum = 'f00d' WHERE version = 5"))
    with pytest.raises(MigrationError, match=r"migration 0005_zones_sites\.sql was changed after it was applied"):
        open_store(db.url)
    assert db.rows("SELECT checksum FROM schema_migrations WHERE version = 5") == [{"checksum": "f00d"}]


def test_a_database_of_a_newer_version_is_refused(db: Database) -> None:
    open_store(db.url).close()
    db.run(
        lambda cur: cur.execute(
            "INSERT INTO schema_migrations (version, name, applied_at, checksum) "
            "VALUES (9999, '9999_from_the_future.sql', 0, 'x')"
        )
    )
    with pytest.raises(MigrationError, match=r"9999_from_the_future\.sql, which this version .* does not ship"):
        open_store(db.url)


FIRST = """-- a comment; with a semicolon
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT 'a; b', data {blob});
INSERT INTO notes (id, body) VALUES (1, 'semi;colon -- not a comment'); -- a trailing comment
INSERT INTO notes (id) VALUES (2)
"""


def test_statements_are_split_by_the_sql_not_by_every_semicolon(db: Database, tmp_path: Path) -> None:
    assert split(FIRST) == [
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT 'a; b', data {blob})",
        "INSERT INTO notes (id, body) VALUES (1, 'semi;colon -- not a comment')",
        "INSERT INTO notes (id) VALUES (2)",
    ]
    migrations = write_migrations(tmp_path / "m", {"0001_notes.sql": FIRST})
    assert db.run(lambda cur: apply_migrations(cur, db.dialect, migrations)) == [1]
    assert db.rows("SELECT id, body FROM notes ORDER BY id") == [
        {"id": 1, "body": "semi;colon -- not a comment"},
        {"id": 2, "body": "a; b"},
    ]


def test_comments_may_change_statements_may_not(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    migrations = write_migrations(folder, {"0001_notes.sql": FIRST})
    db.run(lambda cur: apply_migrations(cur, db.dialect, migrations))
    reworded = FIRST.replace("-- a comment; with a semicolon", "-- the notes table\n\n").replace("(2)\n", "(2);\n\n")
    assert checksum(reworded) == checksum(FIRST)
    migrations = write_migrations(
        folder, {"0001_notes.sql": reworded, "0002_more.sql": "INSERT INTO notes (id) VALUES (3)"}
    )
    assert db.run(lambda cur: apply_migrations(cur, db.dialect, migrations)) == [2]
    changed = FIRST.replace("VALUES (2)", "VALUES (4)")
    assert checksum(changed) != checksum(FIRST)
    migrations = write_migrations(folder, {"0001_notes.sql": changed})
    with pytest.raises(MigrationError, match=r"0001_notes\.sql was changed .* Restore 0001_notes\.sql as it was"):
        db.run(lambda cur: apply_migrations(cur, db.dialect, migrations))


def test_a_new_migration_with_a_number_below_the_last_applied_is_applied(db: Database, tmp_path: Path) -> None:
    """Migrations written on parallel branches land in any order: each is applied once, whenever it comes."""
    folder = tmp_path / "m"
    migrations = write_migrations(
        folder, {"0001_notes.sql": FIRST, "0003_three.sql": "INSERT INTO notes (id) VALUES (3)"}
    )
    assert db.run(lambda cur: apply_migrations(cur, db.dialect, migrations)) == [1, 3]
    migrations = write_migrations(folder, {"0002_two.sql": "INSERT INTO notes (id) VALUES (22)"})
    assert db.run(lambda cur: apply_migrations(cur, db.dialect, migrations)) == [2]
    assert [r["id"] for r in db.rows("SELECT id FROM notes ORDER BY id")] == [1, 2, 3, 22]


def test_a_failing_migration_leaves_nothing(db: Database, tmp_path: Path) -> None:
    migrations = write_migrations(
        tmp_path / "m",
        {"0001_notes.sql": FIRST, "0002_bad.sql": "INSERT INTO notes (id) VALUES (9);\nSELECT * FROM nowhere"},
    )
    with pytest.raises(Exception, match="nowhere"):
        db.run(lambda cur: apply_migrations(cur, db.dialect, migrations))
    db.run(lambda cur: cur.execute("CREATE TABLE probe (x INTEGER)"))  # the database is usable, and empty:
    tables = (
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if db.backend == "sqlite"
        else "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    )
    assert {r["name"] for r in db.rows(tables)} == {"probe"}


def test_two_files_with_one_number_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match=r"0007_a\.sql and 0007_b\.sql share the number 7"):
        write_migrations(tmp_path / "m", {"0007_a.sql": "SELECT 1", "0007_b.sql": "SELECT 2"})
    with pytest.raises(MigrationError, match=r"seven\.sql: the name must be NNNN_name\.sql"):
        write_migrations(tmp_path / "n", {"seven.sql": "SELECT 1"})


def test_the_shipped_migrations_and_their_data_steps_agree() -> None:
    from deconfliction.store.sql.backfills import STEPS

    names = [m.stem for m in shipped()]
    assert len(names) == len({m.version for m in shipped()})
    assert set(STEPS) <= set(names)
    assert {"0002_ledger_chain", "0010_volume_cell_boxes", "0014_time_sanity"} <= set(STEPS)


def test_processes_starting_together_apply_each_migration_once(db: Database) -> None:
    """Six stores opened at the same moment on one empty database (each with its own connections, as
    separate processes would): every one starts, and each migration is recorded once."""
    n = 6
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []
    stores: list[Any] = []

    def start() -> None:
        try:
            barrier.wait()
            stores.append(open_store(db.url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for s in stores:
        s.close()
    assert errors == []
    assert len(stores) == n
    recorded = db.rows("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in recorded] == [m.version for m in shipped()]


def test_an_early_database_upgrades_through_the_data_steps_of_its_migrations(db: Database) -> None:
    """A database at migration 1 with rows of that time: events before the hash chain (step of 2), index
    rows without boxes (step of 10), conflicts without the end of their window (step of 14)."""
    from datetime import timedelta

    import orjson
    import shapely

    from deconfliction.domain.ledger import GENESIS, seal
    from deconfliction.store.sql import from_us, to_us

    boxes = [[40.0, 35.0, 40.5, 35.25], [41.0, 34.5, 41.25, 35.0]]
    t0 = 1_800_000_000_000_000
    encounter = {"a": 0, "b": 0, "h": 1.0, "v": 0.0, "t": 0.0, "w": [t0, t0 + 3_600_000_000], "alt": [0, 100]}
    encounter |= {"region": shapely.to_wkb(shapely.Point(40.2, 35.1), hex=True), "pa": [40.2, 35.1], "pb": [40.2, 35.1]}
    rule = {"name": "air-air", "horizontal_m": 9260.0, "vertical_m": 304.8, "time_s": 0.0}

    def early(cur: Any) -> None:
        old_runner(cur, db.dialect, upto=1)
        q = db.dialect.q
        for seq, kind in ((1, "party.created"), (2, "operation.submitted")):
            cur.execute(q("INSERT INTO events VALUES (?, ?, NULL, ?, 'pt_old', '{}')"), (seq, t0 + seq, kind))
        cur.execute("UPDATE store_head SET last_seq = 2")
        cur.execute(
            q("INSERT INTO operations VALUES ('op_1', 'pt_old', 'air', 3, 'planned', 1, 'ovn', 't', ?, ?)"), (t0, t0)
        )
        cur.execute(
            q("INSERT INTO volumes VALUES ('op_1', 0, '{}', ?, 0, 40.5, 35, 1000, ?, ?, ?, 0, 100)"),
            (shapely.to_wkb(shapely.Point(40.5, 35.0)), orjson.dumps(boxes).decode(), t0, t0 + 3_600_000_000),
        )
        cur.execute(q("INSERT INTO volume_cells VALUES (7, 'op_1', 0, ?, ?, 0, 100)"), (t0, t0 + 3_600_000_000))
        cur.execute(
            q(
                "INSERT INTO conflicts VALUES "
                "('cf_1', 'op-op', 'open', 1, 'op_1', 'pt_old', 'op_2', 'pt_b', 'ta', 'tb', ?, ?, ?)"
            ),
            (orjson.dumps({"rule": rule, "encounters": [encounter]}).decode(), t0, t0),
        )

    db.run(early)
    store = open_store(db.url)
    try:
        with store.read() as tx:
            events = tx.events.after(0)
            previous = GENESIS
            for e in events:  # sealed in order, and the head is the last of them
                sealed = seal(e.sealed().entry, previous)
                assert (sealed.content_hash, sealed.hash) == (e.content_hash, e.hash)
                previous = e.hash
            assert [e.seq for e in events] == [1, 2] and tx.events.head() == (2, previous)
            ended = tx.conflicts.ended(from_us(t0) + timedelta(hours=1))
            assert [c.id for c in ended] == ["cf_1"]
            assert to_us(ended[0].window.end) == t0 + 3_600_000_000
            # the index row knows its owner (migration 30): found for another party, left out for its own
            query = CandidateQuery(((-180.0, -90.0, 180.0, 90.0),), from_us(t0), from_us(t0 + 1), None, None, "pt_b")
            assert [c.operation_id for c in tx.operations.candidates(query)] == ["op_1"]
            assert tx.operations.candidates(replace(query, exclude_owner="pt_old")) == []
    finally:
        store.close()
    cells = db.rows("SELECT lon_lo, lat_lo, lon_hi, lat_hi, owner_id FROM volume_cells")
    assert cells == [{"lon_lo": 40.0, "lat_lo": 34.5, "lon_hi": 41.25, "lat_hi": 35.25, "owner_id": "pt_old"}]


def test_tracks_stored_before_their_numbers_are_numbered_and_read_by_the_cycle(db: Database) -> None:
    """A database at migration 27 with live tracks: migration 28 numbers each of them (data step), so that
    the elected cycle's picture, read by numbers, holds exactly what a full read returns, before and after
    newer reports; the epoch moved, so a picture of before is read whole again."""
    from datetime import UTC, datetime, timedelta

    from deconfliction.domain.tactical import PositionReport
    from deconfliction.store.tactical import SqlTracks, open_tactical_db

    t0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

    def early(cur: Any) -> None:
        old_runner(cur, db.dialect, upto=27)
        for k in range(30):
            cur.execute(
                db.dialect.q(
                    "INSERT INTO tactical_tracks (party_id, track_id, t, lat, lon, alt, gs, trk, vs, callsign, "
                    "source, affiliation, reporter, seq) VALUES (?, ?, ?, 45, 7, 3000, 100, 90, 0, ?, 'api', "
                    "'party', NULL, 1)"
                ),
                ("pt_old", f"T{k}", t0.timestamp() - k * 0.1, f"CS{k}"),
            )
        cur.execute("UPDATE tactical_changes SET seq = 1, epoch = 5 WHERE id = 1")

    db.run(early)
    store = open_store(db.url)
    tdb = open_tactical_db(store)
    assert tdb is not None
    try:
        numbers = db.rows("SELECT track_no FROM tactical_tracks")
        assert sorted(r["track_no"] for r in numbers) == list(range(1, 31))
        assert db.rows("SELECT epoch FROM tactical_changes") == [{"epoch": 6}]
        tracks = SqlTracks(tdb)
        assert len(tracks.cycle_snapshot(t0)) == 30
        later = t0 + timedelta(seconds=1)
        moved = [PositionReport("pt_old", f"T{k}", later, 46.0, 7.0, 3000.0, 100.0, 90.0) for k in range(0, 40, 2)]
        tracks.ingest(moved, later)
        picture, full = tracks.cycle_snapshot(later), tracks.snapshot(later)
        assert len(picture) == 35  # five of them new
        assert sorted(zip(picture.keys, picture.columns["lat"].tolist(), picture.callsigns, strict=True)) == sorted(
            zip(full.keys, full.columns["lat"].tolist(), full.callsigns, strict=True)
        )
        new_numbers = db.rows("SELECT track_no FROM tactical_tracks WHERE track_id IN ('T30', 'T32')")
        assert all(r["track_no"] >= 2**24 for r in new_numbers)  # a batch's own numbers, above the data step's
    finally:
        tdb.close()
        store.close()
