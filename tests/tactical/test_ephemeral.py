"""Live positions are ephemeral (migration 0027; docs/tactical.md, What a crash loses): on PostgreSQL their
tables are unlogged and an upsert rewrites a track's row in place, touching no index; a crash of the
database empties those tables (crash recovery truncates unlogged tables), and the elected cycle's picture
must then follow the refilled table, not keep what it held before. Durable tables stay logged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from deconfliction.domain.tactical import PositionReport
from deconfliction.store import Store
from deconfliction.store.tactical import SqlTracks, TacticalDb, open_tactical_db
from tests.tactical.test_incremental import rows

T = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def db(store: Store) -> Iterator[TacticalDb]:
    d = open_tactical_db(store)
    assert d is not None
    try:
        yield d
    finally:
        d.close()


def reports(prefix: str, n: int, at: datetime, lat: float = 45.0) -> list[PositionReport]:
    return [PositionReport("alpha", f"{prefix}{k}", at, lat + k * 0.01, 7.0, 3000.0, 100.0, 90.0) for k in range(n)]


def test_the_cycle_follows_a_position_table_emptied_by_a_database_crash(db: TacticalDb) -> None:
    """Recovery empties the unlogged tables, counter included; the feeds then write new batches, as many as
    before the crash or more, before the cycle reads: it must see exactly the new rows."""
    tracks = SqlTracks(db)
    for k in range(3):
        tracks.ingest(reports("OLD", 5, T + timedelta(seconds=k)), T + timedelta(seconds=k))
    now = T + timedelta(seconds=3)
    assert len(tracks.cycle_snapshot(now)) == 5
    with db.write() as cur:  # what crash recovery does to an unlogged table (and a restore to any)
        cur.execute("DELETE FROM tactical_tracks")
        cur.execute("DELETE FROM tactical_changes")
    for k in range(6):  # the counter starts again and passes where the picture stood
        at = now + timedelta(seconds=k)
        tracks.ingest(reports(f"NEW{k}-", 2, at), at)
    now += timedelta(seconds=6)
    picture = tracks.cycle_snapshot(now)
    assert rows(picture) == rows(tracks.snapshot(now))
    assert sorted(k for _, k in picture.keys) == sorted(f"NEW{k}-{j}" for k in range(6) for j in range(2))


@pytest.mark.postgres
def test_positions_are_unlogged_and_rewritten_in_place_on_postgresql(postgres_url: str) -> None:
    from deconfliction.store import open_store

    store = open_store(postgres_url)
    d = open_tactical_db(store)
    assert d is not None
    try:
        with d.read() as cur:
            cur.execute(
                "SELECT relname, relpersistence FROM pg_class WHERE relkind = 'r' AND relname IN "
                "('tactical_tracks', 'tactical_changes', 'tactical_alerts', 'tactical_claims', 'tactical_disowned', "
                "'tactical_cycle', 'events')"
            )
            persistence = dict(cur.fetchall())
        assert persistence == {
            "tactical_tracks": "u",
            "tactical_changes": "u",
            "tactical_alerts": "p",
            "tactical_claims": "p",
            "tactical_disowned": "p",
            "tactical_cycle": "p",
            "events": "p",
        }
        tracks = SqlTracks(d)
        with d.write() as cur:
            cur.execute("DELETE FROM tactical_tracks")
        tracks.ingest(reports("HOT", 50, T), T)
        later = T + timedelta(seconds=1)
        moved = reports("HOT", 50, later, lat=46.0)
        with d.write() as cur:  # the upsert of newer reports, and what it did, in one transaction
            written = tracks._upsert(cur, [(*tracks_row(r), 10**9, n) for n, r in enumerate(moved)])
            cur.execute(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'tactical_tracks'"
            )
            updated, hot = cur.fetchone()
        assert len(written) == 50
        assert (updated, hot) == (50, 50)  # every row rewritten in place: no index touched
    finally:
        d.close()
        store.close()


def tracks_row(r: PositionReport) -> tuple[object, ...]:
    return (
        r.party_id,
        r.track_id,
        r.time.timestamp(),
        r.lat,
        r.lon,
        r.altitude_m,
        r.ground_speed_mps,
        r.track_deg,
        r.vertical_rate_mps,
        r.callsign,
        r.source,
        r.affiliation.value,
        r.reporter,
    )
