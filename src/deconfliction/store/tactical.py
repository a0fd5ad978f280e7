"""The tactical picture in the database: tracks (the newest report of each), claims and disclaims, alerts,
and the elected cycle's heartbeat (migration 0023; docs/tactical.md, Several processes).

Three small ports, each with an in-process implementation (one process, the unit tests) and a SQL one
that both backends run (``tests/store/test_tactical_contract.py`` holds them to the same contract):

* ``TrackStorage``: ingest a batch of reports (a report older than, or as old as, its track's newest is
  ignored; so is one past the expiry or too far in the future), read the live tracks, claim and disclaim,
  expire. ``deconfliction.store.tracks.TrackStore`` is the in-process one, ``SqlTracks`` the shared one.
* ``AlertStorage``: the active alerts and the newest resolved ones; only the elected cycle writes them.
* ``CycleBeats``: when the elected cycle last finished (wall clock), for the readiness probe.

The tactical tables are written apart from the store's serialised write path (``TacticalDb``): a batch
of position reports takes no ledger lock and waits for no strategic write on PostgreSQL; on SQLite, which
has one writer per file, it takes its turn on the same lock file as every other writer, committed without
an fsync of its own (a track is replaced within seconds; nothing acknowledged to a party depends on it).
"""

from __future__ import annotations

import builtins
import fcntl
import gc
import logging
import math
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import orjson
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format

from deconfliction.domain.tactical import (
    NO_PARTY,
    Affiliation,
    Alert,
    AlertChange,
    AlertKey,
    AlertKind,
    AlertState,
    PositionReport,
    Prediction,
    TacticalRule,
    alert_key,
)
from deconfliction.store.sql import POSTGRES, SQLITE, Dialect, from_us, to_us
from deconfliction.store.tracks import _COLUMNS, IngestResult, Reader, Snapshot, seconds

log = logging.getLogger("deconfliction.tactical")

RESOLVED_KEPT = 1000
"""Resolved alerts kept for ``GET /v1/alerts?state=resolved`` (the newest ones)."""

ACTIVE = (AlertState.NEW.value, AlertState.ONGOING.value)

# ---------------------------------------------------------------------------------------------- the ports


class TrackStorage(Protocol):
    expiry_s: float
    max_future_s: float

    def __len__(self) -> int: ...
    def ingest(self, reports: list[PositionReport], now: datetime) -> IngestResult:
        """Keep each report newer than its track's newest; count the others by reason."""
        ...

    def live(self, key: tuple[str, str], now: datetime) -> tuple[Affiliation, str | None] | None:
        """A track not past the expiry: its affiliation and reporter; None when there is none."""
        ...

    def live_of_a_party(self, track_id: str, now: datetime) -> bool: ...
    def claim(self, track_id: str, party_id: str) -> None:
        """Track ``track_id`` of no party is ``party_id``'s from now on (the live track and later reports)."""
        ...

    def disown(self, key: tuple[str, str], affiliation: Affiliation = Affiliation.UNKNOWN) -> None:
        """A party's track ``key`` belongs to no party from now on (``affiliation``), reported by it."""
        ...

    def expire(self, now: datetime) -> builtins.list[tuple[str, str]]:
        """Drop tracks past the expiry; their keys."""
        ...

    def snapshot(self, now: datetime) -> Snapshot:
        """Every track held (the cycle expires stale ones first)."""
        ...

    def cycle_snapshot(self, now: datetime, fresh: bool = False) -> Snapshot:
        """What ``snapshot(now)`` returns, for the detection cycle right after its ``expire(now)``: an
        implementation may keep the tracks between calls and read only those changed since (``fresh``:
        read them all again, as a newly elected cycle must)."""
        ...

    def current(self, now: datetime, narrow_to: Reader | None = None) -> Snapshot:
        """The tracks not past the expiry, without dropping the others. ``narrow_to`` (a party and the track
        keys of its alerts) may leave out tracks that party cannot see: an implementation may return more
        (the need-to-know rule is the caller's), never fewer than its own, those of no party it reported,
        and those keys."""
        ...

    def track(self, key: tuple[str, str]) -> dict[str, float] | None:
        """The newest report of one track as numbers (``t`` in seconds since the epoch)."""
        ...


class AlertStorage(Protocol):
    def active(self) -> dict[AlertKey, Alert]:
        """The new and ongoing alerts, by key."""
        ...

    def save(self, active: dict[AlertKey, Alert], changes: Sequence[AlertChange]) -> None:
        """A cycle's outcome: ``active`` is the whole active set now; the resolved ones are in ``changes``."""
        ...

    def listing(self, party_id: str | None, states: Iterable[AlertState]) -> builtins.list[Alert]:
        """Alerts involving ``party_id`` (None: all) in ``states``, newest first."""
        ...

    def about(self, key: tuple[str, str]) -> builtins.list[Alert]:
        """Every alert kept (active or among the newest resolved) whose track is ``key``."""
        ...


class CycleBeats(Protocol):
    def beat(self, holder: str, at_s: float) -> None:
        """The elected cycle ``holder`` finished a cycle that started at ``at_s`` (wall clock, seconds since the
        epoch): the gaps between beats are the cycle's period, whatever each cycle's duration."""
        ...

    def last(self) -> tuple[str, float] | None:
        """The holder and time of the newest beat, or None."""
        ...


def alert_tracks(a: Alert) -> tuple[tuple[str, str], ...]:
    """The track keys of an alert: both subjects of a pair, the first of a zone or site entry (the second
    is the zone's or site's owner and id)."""
    return a.subjects if a.kind is AlertKind.TRACKS else (a.subjects[0],)


def _involves(a: Alert, party_id: str | None) -> bool:
    return party_id is None or a.involves(party_id)


def _newest_first(alerts: Iterable[Alert]) -> builtins.list[Alert]:
    return sorted(alerts, key=lambda a: (a.created_at, a.id), reverse=True)


class MemoryAlerts:
    """The alerts of one process (no database: one process, the unit tests)."""

    def __init__(self, kept: int = RESOLVED_KEPT) -> None:
        self._lock = threading.Lock()
        self._active: dict[AlertKey, Alert] = {}
        self._resolved: deque[Alert] = deque(maxlen=kept)

    def active(self) -> dict[AlertKey, Alert]:
        with self._lock:
            return dict(self._active)

    def save(self, active: dict[AlertKey, Alert], changes: Sequence[AlertChange]) -> None:
        with self._lock:
            self._active = dict(active)
            for ch in changes:
                if ch.change == "resolved":
                    self._resolved.appendleft(ch.alert)

    def _pool(self) -> builtins.list[Alert]:
        with self._lock:
            return [*self._active.values(), *self._resolved]

    def listing(self, party_id: str | None, states: Iterable[AlertState]) -> builtins.list[Alert]:
        wanted = set(states)
        return _newest_first(a for a in self._pool() if a.state in wanted and _involves(a, party_id))

    def about(self, key: tuple[str, str]) -> builtins.list[Alert]:
        return [a for a in self._pool() if key in alert_tracks(a)]


# -------------------------------------------------------------------------------------------- connections


class TacticalDb(Protocol):
    """Transactions on the tactical tables, apart from the store's write path (module docstring)."""

    dialect: Dialect
    backend: str

    def read(self) -> Any: ...
    def write(self) -> Any: ...
    def close(self) -> None: ...


class SqliteTacticalDb:
    """The tactical tables of a SQLite file. Writes take the file's writer lock (``<file>.lock``, the one
    ``SQLiteStore`` takes) then ``BEGIN IMMEDIATE``, and commit with ``synchronous=NORMAL``; reads use one
    connection per thread (WAL: they never wait for a writer)."""

    dialect = SQLITE
    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[Any]:
        with self._write_lock:
            if self._writer is None:
                self._writer = self._connect()
                self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            conn, fd = self._writer, self._lock_fd
            assert fd is not None
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn.cursor()
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def read(self) -> Iterator[Any]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        conn.execute("BEGIN")
        try:
            yield conn.cursor()
        finally:
            conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._writer = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


class PostgresTacticalDb:
    """The tactical tables of a PostgreSQL database, through a small pool of its own (opened on first use):
    no write here takes the store's ledger lock."""

    dialect = POSTGRES
    backend = "postgresql"

    def __init__(self, url: str, max_size: int = 4) -> None:
        self.url = url
        self._max_size = max_size
        self._pool: Any = None
        self._lock = threading.Lock()

    def _connections(self) -> Any:
        with self._lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self.url, min_size=1, max_size=self._max_size, open=True, kwargs={"autocommit": False}
                )
            return self._pool

    @contextmanager
    def write(self) -> Iterator[Any]:
        with self._connections().connection() as conn, conn.cursor() as cur:
            yield cur

    @contextmanager
    def read(self) -> Iterator[Any]:
        with self._connections().connection() as conn, conn.cursor() as cur:
            yield cur

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def open_tactical_db(store: Any) -> TacticalDb | None:
    """The tactical tables of ``store``'s database (a ``SQLiteStore`` or a ``PostgresStore``); None for a
    store that names no database file or URL (a test's stand-in): the picture is then held in process."""
    backend = getattr(store, "backend", None)
    if backend == "sqlite" and hasattr(store, "path"):
        return SqliteTacticalDb(store.path)
    if backend == "postgresql" and hasattr(store, "url"):
        return PostgresTacticalDb(store.url)
    return None


def _q(db: TacticalDb, sql: str) -> str:
    return db.dialect.q(sql)


# ------------------------------------------------------------------------------------------------ tracks

_TRACK_COLS = "party_id, track_id, t, lat, lon, alt, gs, trk, vs, callsign, source, affiliation, reporter"
_NEWER = (
    "ON CONFLICT (party_id, track_id) DO UPDATE SET t = excluded.t, lat = excluded.lat, lon = excluded.lon, "
    "alt = excluded.alt, gs = excluded.gs, trk = excluded.trk, vs = excluded.vs, "
    "callsign = COALESCE(excluded.callsign, tactical_tracks.callsign), source = excluded.source, "
    "affiliation = excluded.affiliation, reporter = excluded.reporter, seq = excluded.seq, "
    # the text is unchanged (a report without a callsign keeps the stored one; source and affiliation are
    # never NULL): then meta_seq stays; a comparison with NULL is not true, and moves it
    "meta_seq = CASE WHEN (excluded.callsign IS NULL OR excluded.callsign = tactical_tracks.callsign) "
    "AND excluded.source = tactical_tracks.source AND excluded.affiliation = tactical_tracks.affiliation "
    "AND (excluded.reporter = tactical_tracks.reporter "
    "OR (excluded.reporter IS NULL AND tactical_tracks.reporter IS NULL)) "
    "THEN tactical_tracks.meta_seq ELSE excluded.seq END "
    "WHERE excluded.t > tactical_tracks.t"
)
"""A report replaces its track's only when it is newer (two processes ingesting one aircraft keep the newest).
The track's number stays; ``meta_seq`` moves only when a text column changes (migration 0028)."""
_UPSERT = (
    f"INSERT INTO tactical_tracks ({_TRACK_COLS}, seq, track_no, meta_seq) "
    f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) {_NEWER}"
)
_PG_BATCH_TABLE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS tactical_batch "
    "(LIKE tactical_tracks INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
"""A session's table for the batch being written (emptied at each commit; psycopg packs binary COPY rows
in C, where binding 14 arrays of 5,000 values cost ten times the CPU in Python)."""
_PG_UPSERT = (
    f"INSERT INTO tactical_tracks ({_TRACK_COLS}, seq, track_no, meta_seq) "
    f"SELECT {_TRACK_COLS}, seq, track_no, seq FROM tactical_batch "
    f"ORDER BY party_id, track_id {_NEWER} RETURNING party_id, track_id"
)
_PG_BATCH_TYPES = ["text", "text", *["float8"] * 7, "text", "text", "text", "text", "int8", "int8"]
"""The batch's columns (``_TRACK_COLS``, then ``seq`` and ``track_no``) for a binary ``COPY``: each row's values are
packed by type in C, a fifth of the CPU of the text format's per-value formatting (0.45 against 2.2 µs
a row)."""
_IN_CHUNK = 500
_BATCH_BITS = 24
"""A track new to the table is numbered ``seq << 24`` plus its place in its batch (migration 0028): a
batch holds one row per track, fewer than 2^24 of them (an HTTP request at most 5,000 reports; a feed's
batch the reports of ``FEED_FLUSH_S``)."""
_NUMBERS = "track_no, lat, lon, alt, gs, trk, vs, t"
"""What the cycle reads of every changed row: the track's number, then ``_COLUMNS``."""
_PG_ARRAY_OIDS = (1016, 1022)
"""bigint[] and double precision[]: read as they come (``_RawBinary``)."""
_PG_ELEMENTS = {20: ">i8", 701: ">f8"}
"""bigint and double precision, by type OID: their values in the binary format (big-endian)."""
_TEXTS = "track_no, party_id, track_id, callsign, source, affiliation, reporter"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for k in range(0, len(items), size):
        yield items[k : k + size]


class SqlTracks:
    """``TrackStorage`` in the ``tactical_tracks`` table: every process ingests into it and reads from it."""

    def __init__(self, db: TacticalDb, expiry_s: float = 30.0, max_future_s: float = 5.0) -> None:
        self.db = db
        self.expiry_s = expiry_s
        self.max_future_s = max_future_s
        self.picture = TrackPicture()
        """The cycle's copy of the table (``cycle_snapshot``), brought up to date from the changed rows."""

    def __len__(self) -> int:
        with self.db.read() as cur:
            cur.execute("SELECT COUNT(*) FROM tactical_tracks")
            return int(cur.fetchone()[0])

    # ------------------------------------------------------------------------------------------ writes

    def ingest(self, reports: list[PositionReport], now: datetime) -> IngestResult:
        t_now = seconds(now)
        latest, earliest = t_now + self.max_future_s, t_now - self.expiry_s
        expired = future = older = accepted = 0
        fresh: list[tuple[PositionReport, float]] = []
        for r in reports:
            t = r.time.timestamp()  # seconds(r.time), in C
            if t > latest:
                future += 1
            elif t < earliest:
                expired += 1
            else:
                fresh.append((r, t))
        if not fresh:
            return IngestResult(0, 0, expired, future)
        with self.db.write() as cur:
            claims, disowned = self._statements(cur)
            seq = self._next_seq(cur)
            first = seq << _BATCH_BITS
            # the newest of each track's reports in the batch (each later one newer than those before it
            # is taken, as one at a time would be); then the database keeps it only over an older one
            batch: dict[tuple[str, str], list[Any]] = {}  # key -> [its row, reports taken]
            for raw, t in fresh:
                r = _owned(raw, claims, disowned) if claims or disowned else raw
                key = (r.party_id, r.track_id)
                got = batch.get(key)
                if got is not None and t <= got[0][2]:
                    older += 1
                    continue
                row = (
                    key[0],
                    key[1],
                    t,
                    r.lat,
                    r.lon,
                    r.altitude_m,
                    r.ground_speed_mps,
                    r.track_deg,
                    r.vertical_rate_mps,
                    r.callsign or (got[0][9] if got is not None else None),
                    r.source,
                    _AFFILIATION_VALUE[r.affiliation],
                    r.reporter,
                    seq,
                    # the track's number, if it is new to the table: its place in the batch (migration 0028)
                    got[0][14] if got is not None else first + len(batch),
                )
                if got is None:
                    batch[key] = [row, 1]
                else:
                    got[0], got[1] = row, got[1] + 1
            if len(batch) >= 1 << _BATCH_BITS:
                raise ValueError(f"a batch holds at most {(1 << _BATCH_BITS) - 1:,} tracks")
            written = self._upsert(cur, [batch[k][0] for k in sorted(batch)])  # one lock order: no deadlock
        for key, (_, n) in batch.items():
            if key in written:
                accepted += n
            else:
                older += n
        return IngestResult(accepted, older, expired, future)

    def _next_seq(self, cur: Any, epoch: bool = False) -> int:
        """The change number of this transaction (migration 0024): the counter's row lock, held to the
        commit, hands the numbers out in commit order. ``epoch``: the change deletes rows (a re-key), which
        numbers cannot tell a reader: readers of the changes read everything again."""
        bump = ", epoch = tactical_changes.epoch + 1" if epoch else ""
        # an upsert: a table emptied since the migration made its row (on PostgreSQL an unlogged table,
        # emptied by a crash of the database: migration 0027) starts again, in an epoch of its own (the
        # clock's microseconds), so that a cycle's picture of the tables before never passes for current
        cur.execute(
            f"INSERT INTO tactical_changes (id, seq, epoch) VALUES (1, 1, {time.time_ns() // 1000}) "
            f"ON CONFLICT (id) DO UPDATE SET seq = tactical_changes.seq + 1{bump}"
        )
        cur.execute("SELECT seq FROM tactical_changes WHERE id = 1")
        return int(cur.fetchone()[0])

    def _upsert(self, cur: Any, rows: list[tuple[Any, ...]]) -> set[tuple[str, str]]:
        """Write each row (``_TRACK_COLS``, its change number, its track's number if new) over an older one
        of its track, never over a newer one; the keys written. One statement for the batch on PostgreSQL
        (its rows copied into a batch table); on SQLite, whose writers are serialised, the stored times
        read in this transaction decide."""
        if not rows:
            return set()
        if self.db.backend == "postgresql":  # COPY into a batch table (rows formatted in C), one upsert
            cur.execute(_PG_BATCH_TABLE)
            with cur.copy(f"COPY tactical_batch ({_TRACK_COLS}, seq, track_no) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_PG_BATCH_TYPES)
                for r in rows:
                    copy.write_row(r)
            cur.execute(_PG_UPSERT)
            return {(str(p), str(i)) for p, i in cur.fetchall()}
        stored = self._stored_times(cur, [r[1] for r in rows])
        fresh = [r for r in rows if r[2] > stored.get((r[0], r[1]), -math.inf)]
        cur.executemany(_q(self.db, _UPSERT), [(*r, r[13]) for r in fresh])  # meta_seq: the change number
        return {(r[0], r[1]) for r in fresh}

    def _statements(self, cur: Any) -> tuple[dict[str, str], dict[tuple[str, str], Affiliation]]:
        cur.execute("SELECT track_id, party_id FROM tactical_claims")
        claims = {str(t): str(p) for t, p in cur.fetchall()}
        cur.execute("SELECT party_id, track_id, affiliation FROM tactical_disowned")
        disowned = {(str(p), str(t)): Affiliation(a) for p, t, a in cur.fetchall()}
        return claims, disowned

    def _stored_times(self, cur: Any, track_ids: Iterable[str]) -> dict[tuple[str, str], float]:
        """The stored time of every track with one of these ids (of any party)."""
        out: dict[tuple[str, str], float] = {}
        ids = sorted(set(track_ids))
        for part in _chunks(ids, _IN_CHUNK):
            marks = ", ".join("?" * len(part))
            cur.execute(
                _q(self.db, f"SELECT party_id, track_id, t FROM tactical_tracks WHERE track_id IN ({marks})"),
                list(part),
            )
            out.update(((p, i), t) for p, i, t in cur.fetchall())
        return out

    def claim(self, track_id: str, party_id: str) -> None:
        with self.db.write() as cur:
            cur.execute(_q(self.db, "DELETE FROM tactical_claims WHERE track_id = ?"), (track_id,))
            cur.execute(
                _q(self.db, "INSERT INTO tactical_claims (track_id, party_id) VALUES (?, ?)"), (track_id, party_id)
            )
            cur.execute(
                _q(self.db, "DELETE FROM tactical_disowned WHERE party_id = ? AND track_id = ?"), (party_id, track_id)
            )
            self._rekey(cur, (NO_PARTY, track_id), (party_id, track_id), Affiliation.PARTY, None)

    def disown(self, key: tuple[str, str], affiliation: Affiliation = Affiliation.UNKNOWN) -> None:
        party_id, track_id = key
        with self.db.write() as cur:
            cur.execute(
                _q(self.db, "DELETE FROM tactical_claims WHERE track_id = ? AND party_id = ?"), (track_id, party_id)
            )
            cur.execute(
                _q(self.db, "DELETE FROM tactical_disowned WHERE party_id = ? AND track_id = ?"), (party_id, track_id)
            )
            cur.execute(
                _q(self.db, "INSERT INTO tactical_disowned (party_id, track_id, affiliation) VALUES (?, ?, ?)"),
                (party_id, track_id, affiliation.value),
            )
            self._rekey(cur, key, (NO_PARTY, track_id), affiliation, party_id)

    def _rekey(
        self, cur: Any, old: tuple[str, str], new: tuple[str, str], affiliation: Affiliation, reporter: str | None
    ) -> None:
        def stored(key: tuple[str, str]) -> float | None:
            cur.execute(_q(self.db, "SELECT t FROM tactical_tracks WHERE party_id = ? AND track_id = ?"), key)
            row = cur.fetchone()
            return None if row is None else float(row[0])

        def drop(key: tuple[str, str]) -> None:
            cur.execute(_q(self.db, "DELETE FROM tactical_tracks WHERE party_id = ? AND track_id = ?"), key)

        t_old = stored(old)
        if t_old is None:
            return
        seq = self._next_seq(cur, epoch=True)
        t_new = stored(new)
        if t_new is not None:  # the new owner reports it already: keep the newer of the two
            if t_new >= t_old:
                drop(old)
                return
            drop(new)
        cur.execute(
            _q(
                self.db,
                "UPDATE tactical_tracks SET party_id = ?, affiliation = ?, reporter = ?, seq = ?, meta_seq = ? "
                "WHERE party_id = ? AND track_id = ?",
            ),
            (new[0], affiliation.value, reporter, seq, seq, *old),
        )

    def expire(self, now: datetime) -> list[tuple[str, str]]:
        cutoff = seconds(now) - self.expiry_s
        if self.picture.none_older(cutoff):  # (a track it has not read yet was written since: it is newer)
            return []
        with self.db.read() as cur:  # most cycles expire nothing: no write then
            cur.execute(_q(self.db, "SELECT 1 FROM tactical_tracks WHERE t < ? LIMIT 1"), (cutoff,))
            if cur.fetchone() is None:
                return []
        with self.db.write() as cur:
            # the rows deleted, as deleted (a row updated meanwhile by another process is neither)
            cur.execute(_q(self.db, "DELETE FROM tactical_tracks WHERE t < ? RETURNING party_id, track_id"), (cutoff,))
            gone = [(str(p), str(i)) for p, i in cur.fetchall()]
        self.picture.drop(gone)
        return gone

    # ------------------------------------------------------------------------------------------- reads

    def live(self, key: tuple[str, str], now: datetime) -> tuple[Affiliation, str | None] | None:
        with self.db.read() as cur:
            cur.execute(
                _q(
                    self.db,
                    "SELECT affiliation, reporter FROM tactical_tracks WHERE party_id = ? AND track_id = ? AND t >= ?",
                ),
                (*key, seconds(now) - self.expiry_s),
            )
            row = cur.fetchone()
        return None if row is None else (Affiliation(row[0]), row[1])

    def live_of_a_party(self, track_id: str, now: datetime) -> bool:
        with self.db.read() as cur:
            cur.execute(
                _q(self.db, "SELECT 1 FROM tactical_tracks WHERE track_id = ? AND party_id <> ? AND t >= ? LIMIT 1"),
                (track_id, NO_PARTY, seconds(now) - self.expiry_s),
            )
            return cur.fetchone() is not None

    def snapshot(self, now: datetime) -> Snapshot:
        return self._rows(now, None)

    def cycle_snapshot(self, now: datetime, fresh: bool = False) -> Snapshot:
        """The picture brought up to date: the rows stamped after the newest change number it has seen
        (all of them when ``fresh``, the first time, or when a re-key advanced the epoch; migration 0024).
        Tracks past the expiry are left out, as ``expire(now)`` just deleted them (here or, after a change
        of holder, in another process)."""
        pic = self.picture
        with _no_collection(), self.db.read() as cur:
            if self.db.backend == "postgresql":  # the reads below see one snapshot of the database
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # the counter first: every change numbered up to it has committed, so the rows read next hold it
            cur.execute("SELECT seq, epoch FROM tactical_changes WHERE id = 1")
            seq, epoch = (int(v) for v in (cur.fetchone() or (0, 0)))
            if fresh or epoch != pic.epoch or seq < pic.seq:  # (a counter behind the picture: table emptied)
                pic.reset(epoch)
            nos, numbers, texts = self._changed_numbers(cur, pic.seq)
            if texts:  # new tracks, or a changed callsign, source...: their text (most cycles have none)
                cur.execute(_q(self.db, f"SELECT {_TEXTS} FROM tactical_tracks WHERE meta_seq > ?"), (pic.seq,))
                pic.apply_texts(cur.fetchall())
            if not pic.apply_numbers(nos, numbers, seq):  # a number the texts did not bring: never expected
                log.warning("the track picture missed a track's number; reading it whole again")
                pic.reset(epoch)
                nos, numbers, _ = self._changed_numbers(cur, pic.seq)
                cur.execute(_q(self.db, f"SELECT {_TEXTS} FROM tactical_tracks"))
                pic.apply_texts(cur.fetchall())
                pic.apply_numbers(nos, numbers, seq)
        return pic.snapshot(seconds(now), seconds(now) - self.expiry_s)

    def _changed_numbers(self, cur: Any, after: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], bool]:
        """The numbers of the rows changed after change ``after``: each track's number, ``_COLUMNS`` as
        rows of an array, and whether the text of any of them changed too (``meta_seq``).

        On PostgreSQL each column comes as one array (``array_agg``) whose binary form is read straight
        into NumPy. Rows (or a binary ``COPY``, whose rows psycopg hands over one at a time) cost the
        cycle's process 2.5-4.5 µs of CPU a row, with the interpreter's lock held, and under a full
        ingest tens of thousands of rows change between two cycles; this way 0.1 µs (50,000 changed rows
        of 120,000: 230 ms of the process's CPU before, 47 ms now, the snapshot's 33 ms included; the
        database's backend does the rest, on another core)."""
        if self.db.backend != "postgresql":
            cur.execute(_q(self.db, f"SELECT {_NUMBERS}, meta_seq FROM tactical_tracks WHERE seq > ?"), (after,))
            cols = list(zip(*cur.fetchall(), strict=True)) or [()] * 9
            numbers = np.array(cols[1:8], dtype=np.float64).reshape(7, -1)
            return np.array(cols[0], dtype=np.int64), numbers, any(m > after for m in cols[8])
        for oid in _PG_ARRAY_OIDS:
            cur.adapters.register_loader(oid, _RawBinary)
        aggregates = ", ".join(f"array_agg({c})" for c in _NUMBERS.split(", "))
        cur.execute(
            f"SELECT {aggregates}, count(*) FILTER (WHERE meta_seq > %s) FROM tactical_tracks WHERE seq > %s",
            (after, after),
            binary=True,
        )
        *raw, texts = cur.fetchone()
        arrays = [_pg_array(r) for r in raw]
        if len({len(a) for a in arrays}) != 1:
            raise RuntimeError("the changed tracks' columns came back of different lengths")
        return arrays[0].astype(np.int64), np.array(arrays[1:], dtype=np.float64).reshape(7, -1), texts > 0

    def current(self, now: datetime, narrow_to: Reader | None = None) -> Snapshot:
        if narrow_to is None:
            return self._rows(now, seconds(now) - self.expiry_s)
        party_id, shown = narrow_to
        cutoff = seconds(now) - self.expiry_s
        sql = f"SELECT {_TRACK_COLS} FROM tactical_tracks WHERE t >= ?"
        with self.db.read() as cur:
            cur.execute(
                _q(self.db, sql + " AND (party_id = ? OR (party_id = ? AND reporter = ?))"),
                (cutoff, party_id, NO_PARTY, party_id),
            )
            rows = {(r[0], r[1]): r for r in cur.fetchall()}
            wanted = set(shown)
            for part in _chunks(sorted({k[1] for k in wanted}), _IN_CHUNK):
                cur.execute(_q(self.db, sql + f" AND track_id IN ({', '.join('?' * len(part))})"), (cutoff, *part))
                rows.update(((r[0], r[1]), r) for r in cur.fetchall() if (r[0], r[1]) in wanted)
        return snapshot_of_rows(seconds(now), list(rows.values()))

    def _rows(self, now: datetime, cutoff: float | None) -> Snapshot:
        sql = f"SELECT {_TRACK_COLS} FROM tactical_tracks"
        with self.db.read() as cur:
            if cutoff is None:
                cur.execute(sql)
            else:
                cur.execute(_q(self.db, sql + " WHERE t >= ?"), (cutoff,))
            rows = cur.fetchall()
        return snapshot_of_rows(seconds(now), rows)

    def track(self, key: tuple[str, str]) -> dict[str, float] | None:
        with self.db.read() as cur:
            cur.execute(
                _q(
                    self.db,
                    "SELECT t, lat, lon, alt, gs, trk, vs FROM tactical_tracks WHERE party_id = ? AND track_id = ?",
                ),
                key,
            )
            row = cur.fetchone()
        if row is None:
            return None
        t, lat, lon, alt, gs, trk, vs = (float(v) for v in row)
        return {"lat": lat, "lon": lon, "alt": alt, "gs": gs, "trk": trk, "vs": vs, "t": t}


@contextmanager
def _no_collection() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a cycle reads and applies the changed rows: tens
    of thousands of row tuples (no cycles among them: freed by their counts when the read ends; on
    SQLite every changed row, on PostgreSQL the text of new tracks: all of them after an election) would
    otherwise be promoted to the oldest generation and set off full passes over the whole process
    (measured when every changed row came as a tuple: 65,000 changed rows of 120,000 read and applied in
    140 ms of CPU instead of 250). It runs again when they are gone."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class TrackPicture:
    """The elected cycle's copy of ``tactical_tracks`` as NumPy columns with one slot per track (a free
    list reuses the slots of dropped tracks), brought up to date with the rows changed since: reading
    100,000 rows and building their arrays every second is what kept the cycle from its period. A track
    is known by its key and by its number (migration 0028): the changed rows' numbers are read apart from
    their text, which only new or changed tracks bring (``apply_texts`` before ``apply_numbers``)."""

    def __init__(self) -> None:
        self.reset(None)

    def reset(self, epoch: int | None) -> None:
        """Forget every track: the next reads bring them all."""
        self.epoch = epoch
        self.seq = -1
        """The newest change number applied: rows stamped after it are read next."""
        self._slot: dict[tuple[str, str], int] = {}
        self._slot_of_no: dict[int, int] = {}
        self._keys: list[tuple[str, str] | None] = []
        self._nos: list[int | None] = []
        self._numbers = np.zeros((len(_COLUMNS), 0))
        self._party = np.zeros(0, dtype=np.int64)
        self._live = np.zeros(0, dtype=bool)
        # the text columns as arrays of objects, so that a snapshot takes the live slots' in one step each
        self._callsign = _filled(0, None)
        self._source = _filled(0, "")
        self._affiliation = _filled(0, Affiliation.PARTY)
        self._reporter = _filled(0, None)
        self._free: list[int] = []
        self._parties: list[str] = []
        self._party_no: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._slot)

    def _grow(self, wanted: int) -> None:
        old = len(self._keys)
        new = max(1024, 2 * old, old + wanted)
        numbers = np.zeros((len(_COLUMNS), new))
        numbers[:, :old] = self._numbers
        self._numbers = numbers
        self._party = np.concatenate([self._party, np.zeros(new - old, dtype=np.int64)])
        self._live = np.concatenate([self._live, np.zeros(new - old, dtype=bool)])
        self._callsign = np.concatenate([self._callsign, _filled(new - old, None)])
        self._source = np.concatenate([self._source, _filled(new - old, "")])
        self._affiliation = np.concatenate([self._affiliation, _filled(new - old, Affiliation.PARTY)])
        self._reporter = np.concatenate([self._reporter, _filled(new - old, None)])
        self._keys.extend([None] * (new - old))
        self._nos.extend([None] * (new - old))
        self._free.extend(range(new - 1, old - 1, -1))

    def apply_texts(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of ``_TEXTS`` (track number, key, callsign, source, affiliation, reporter) of tracks new
        to the table or whose text changed."""
        if not rows:
            return
        if len(self._free) < len(rows):
            self._grow(len(rows))
        for no, party_id, track_id, callsign, source, affiliation, reporter in rows:
            key = (str(party_id), str(track_id))
            slot = self._slot_of_no.get(no)
            if slot is None:  # a number new to the picture: its key's slot (an expired track back), or a new one
                slot = self._slot.get(key)
                if slot is None:
                    slot = self._free.pop()
                else:
                    del self._slot_of_no[self._nos[slot]]  # type: ignore[arg-type]
                self._slot_of_no[no] = slot
                self._nos[slot] = no
            held = self._keys[slot]
            if held != key:  # new, or a number whose key changed (a re-key advances the epoch first)
                if held is not None:
                    del self._slot[held]
                self._slot[key] = slot
                self._keys[slot] = key
                number = self._party_no.get(key[0])
                if number is None:
                    number = self._party_no[key[0]] = len(self._parties)
                    self._parties.append(key[0])
                self._party[slot] = number
            self._live[slot] = True
            self._callsign[slot] = callsign
            self._source[slot] = source
            self._affiliation[slot] = _AFFILIATION[affiliation]
            self._reporter[slot] = reporter

    def apply_numbers(self, nos: npt.NDArray[np.int64], numbers: npt.NDArray[np.float64], seq: int) -> bool:
        """The changed rows' numbers (``_COLUMNS`` as rows of ``numbers``, a column per row read) by track
        number; ``seq``: the change number they were read at. False, and nothing applied, if a number is
        unknown (its text was not read: the caller reads the picture whole again)."""
        if len(nos):
            slots = list(map(self._slot_of_no.get, nos.tolist()))
            if None in slots:
                return False
            self._numbers[:, np.array(slots, dtype=np.intp)] = numbers
        self.seq = max(self.seq, seq)
        return True

    def none_older(self, cutoff: float) -> bool:
        """Whether the picture has been read and holds no track whose newest report is older than
        ``cutoff``. The table then holds none either: a stored report is never older than the picture's
        (the picture is the table as of its last read), and a track written since was accepted within the
        expiry of its time (at most a cycle's period ago: a report that was nearly expired when it came
        is deleted a cycle later, and no reader shows it meanwhile). The cycle's expiry then reads nothing
        (on PostgreSQL that read scanned the whole table: the position tables have no index on the time,
        migration 0027)."""
        if self.seq < 0:
            return False
        t = self._numbers[len(_COLUMNS) - 1]
        return not bool((self._live & (t < cutoff)).any())

    def drop(self, keys: Iterable[tuple[str, str]]) -> None:
        """Forget tracks deleted from the table."""
        for key in keys:
            slot = self._slot.pop(key, None)
            if slot is not None:
                self._live[slot] = False
                self._keys[slot] = None
                self._slot_of_no.pop(self._nos[slot], None)  # type: ignore[arg-type]
                self._nos[slot] = None
                self._free.append(slot)

    def snapshot(self, at: float, cutoff: float) -> Snapshot:
        """The tracks with a report at ``cutoff`` or later, as the detection pass reads them."""
        t = self._numbers[len(_COLUMNS) - 1]
        rows = np.flatnonzero(self._live & (t >= cutoff))
        keys = self._keys
        return Snapshot(
            at=at,
            keys=[keys[i] for i in rows.tolist()],  # type: ignore[misc]
            parties=list(self._parties),
            party=self._party[rows],
            columns={c: self._numbers[k, rows] for k, c in enumerate(_COLUMNS)},
            callsigns=self._callsign[rows].tolist(),
            sources=self._source[rows].tolist(),
            affiliations=self._affiliation[rows].tolist(),
            reporters=self._reporter[rows].tolist(),
        )


def _filled(n: int, value: Any) -> np.ndarray[Any, np.dtype[np.object_]]:
    """``n`` times ``value`` as an array of objects (``np.full`` would turn a str enum into a plain str)."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


class _RawBinary(Loader):
    """A value in PostgreSQL's binary format as it came (``_pg_array`` reads it)."""

    format = Format.BINARY

    def load(self, data: Buffer) -> Buffer:
        return data


def _pg_array(raw: Buffer | None) -> npt.NDArray[Any]:
    """A one-dimensional ``bigint[]`` or ``double precision[]`` without NULLs in PostgreSQL's binary array
    format (5 big-endian int32: dimensions, has-nulls, element type, length, lower bound; then each
    element's int32 length and value) as a NumPy array; NULL (an aggregate of no rows): empty."""
    if raw is None:
        return np.zeros(0)
    header = np.frombuffer(raw, dtype=">i4", count=3)
    if int(header[0]) == 0:
        return np.zeros(0)
    element = _PG_ELEMENTS.get(int(header[2]))
    if int(header[0]) != 1 or int(header[1]) != 0 or element is None:
        raise RuntimeError(f"unexpected binary array: {header.tolist()}")
    n = int(np.frombuffer(raw, dtype=">i4", count=1, offset=12)[0])
    items = np.frombuffer(raw, dtype=np.dtype([("len", ">i4"), ("value", element)]), count=n, offset=20)
    if len(raw) != 20 + 12 * n or (items["len"] != 8).any():
        raise RuntimeError("unexpected element widths in a binary array")
    return items["value"]


def _owned(r: PositionReport, claims: dict[str, str], disowned: dict[tuple[str, str], Affiliation]) -> PositionReport:
    """A report as its track's claims and disclaims say (as ``TrackStore._owned``)."""
    if r.party_id == NO_PARTY and r.track_id in claims:
        return replace(r, party_id=claims[r.track_id], affiliation=Affiliation.PARTY, reporter=None)
    if r.party_id != NO_PARTY and r.key in disowned:
        return replace(r, party_id=NO_PARTY, affiliation=disowned[r.key], reporter=r.party_id)
    return r


_AFFILIATION = {a.value: a for a in Affiliation}
_AFFILIATION_VALUE = {a: a.value for a in Affiliation}


def snapshot_of_rows(at: float, rows: Sequence[Sequence[Any]]) -> Snapshot:
    """Rows of ``tactical_tracks`` (``_TRACK_COLS`` order) as the arrays the detection pass reads."""
    if not rows:
        empty = np.zeros(0)
        return Snapshot(at, [], [], np.zeros(0, dtype=np.int64), {c: empty.copy() for c in _COLUMNS}, [], [], [], [])
    cols = list(zip(*rows, strict=True))
    parties = list(dict.fromkeys(cols[0]))
    number = {p: n for n, p in enumerate(parties)}
    numeric = dict(zip(("t", "lat", "lon", "alt", "gs", "trk", "vs"), cols[2:9], strict=True))
    return Snapshot(
        at=at,
        keys=list(zip(cols[0], cols[1], strict=True)),
        parties=parties,
        party=np.fromiter((number[p] for p in cols[0]), dtype=np.int64, count=len(rows)),
        columns={c: np.array(numeric[c], dtype=np.float64) for c in _COLUMNS},
        callsigns=list(cols[9]),
        sources=list(cols[10]),
        affiliations=[_AFFILIATION[a] for a in cols[11]],
        reporters=list(cols[12]),
    )


# ------------------------------------------------------------------------------------------------ alerts

_ALERT_COLS = (
    "id, kind, a_party, a_id, b_party, b_id, state, created_at, updated_at, last_found_at, resolved_at, prediction"
)


def _prediction_json(p: Prediction) -> str:
    return orjson.dumps(
        {
            "loss_at": to_us(p.loss_at),
            "closest_at": to_us(p.closest_at),
            "horizontal_m": p.horizontal_m,
            "vertical_m": p.vertical_m,
            "now": p.now,
            "rule": p.rule.as_dict(),
            "position": list(p.position) if p.position is not None else None,
            "target": p.target,
            "affiliation": p.affiliation.value,
        }
    ).decode()


def _prediction(raw: str) -> Prediction:
    d = orjson.loads(raw)
    pos = d["position"]
    return Prediction(
        loss_at=from_us(d["loss_at"]),
        closest_at=from_us(d["closest_at"]),
        horizontal_m=float(d["horizontal_m"]),
        vertical_m=float(d["vertical_m"]),
        now=bool(d["now"]),
        rule=TacticalRule(**d["rule"]),
        position=(float(pos[0]), float(pos[1])) if pos is not None else None,
        target=d["target"],
        affiliation=Affiliation(d["affiliation"]),
    )


def alert_row(a: Alert) -> tuple[Any, ...]:
    (ap, ai), (bp, bi) = a.subjects
    return (
        a.id,
        a.kind.value,
        ap,
        ai,
        bp,
        bi,
        a.state.value,
        to_us(a.created_at),
        to_us(a.updated_at),
        to_us(a.last_found_at),
        to_us(a.resolved_at) if a.resolved_at is not None else None,
        _prediction_json(a.prediction),
    )


def alert_of_row(r: Sequence[Any]) -> Alert:
    return Alert(
        id=r[0],
        kind=AlertKind(r[1]),
        subjects=((r[2], r[3]), (r[4], r[5])),
        state=AlertState(r[6]),
        prediction=_prediction(r[11]),
        created_at=from_us(r[7]),
        updated_at=from_us(r[8]),
        last_found_at=from_us(r[9]),
        resolved_at=from_us(r[10]) if r[10] is not None else None,
    )


_ALERT_UPSERT = (
    f"INSERT INTO tactical_alerts ({_ALERT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, "
    "last_found_at = excluded.last_found_at, resolved_at = excluded.resolved_at, prediction = excluded.prediction"
)


_PG_ALERT_BATCH_TABLE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS tactical_alert_batch "
    "(LIKE tactical_alerts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_PG_ALERT_UPSERT = (
    f"INSERT INTO tactical_alerts ({_ALERT_COLS}) SELECT {_ALERT_COLS} FROM tactical_alert_batch ORDER BY id "
    + _ALERT_UPSERT[_ALERT_UPSERT.index("ON CONFLICT") :]
)


class SqlAlerts:
    """``AlertStorage`` in the ``tactical_alerts`` table: the elected cycle writes, every process reads."""

    def __init__(self, db: TacticalDb, kept: int = RESOLVED_KEPT) -> None:
        self.db = db
        self.kept = kept

    def active(self) -> dict[AlertKey, Alert]:
        with self.db.read() as cur:
            cur.execute(_q(self.db, f"SELECT {_ALERT_COLS} FROM tactical_alerts WHERE state IN (?, ?)"), ACTIVE)
            alerts = [alert_of_row(r) for r in cur.fetchall()]
        return {alert_key(a.kind, *a.subjects): a for a in alerts}

    def save(self, active: dict[AlertKey, Alert], changes: Sequence[AlertChange]) -> None:
        resolved = [ch.alert for ch in changes if ch.change == "resolved"]
        rows = [alert_row(a) for a in [*active.values(), *resolved]]
        keep = {a.id for a in active.values()}
        if not rows:  # a quiet cycle writes nothing, unless alerts were left active by another holder
            with self.db.read() as cur:
                cur.execute(_q(self.db, "SELECT 1 FROM tactical_alerts WHERE state IN (?, ?) LIMIT 1"), ACTIVE)
                if cur.fetchone() is None:
                    return
        with self.db.write() as cur:
            # an alert no longer in the active set and not resolved by this cycle (left by a cycle that
            # lost the election midway) is resolved now, so that no process shows it forever
            cur.execute(_q(self.db, "SELECT id FROM tactical_alerts WHERE state IN (?, ?)"), ACTIVE)
            stale = [str(r[0]) for r in cur.fetchall() if r[0] not in keep and r[0] not in {a.id for a in resolved}]
            if rows and self.db.backend == "postgresql":  # every found alert changes each cycle: see _upsert
                cur.execute(_PG_ALERT_BATCH_TABLE)
                with cur.copy(f"COPY tactical_alert_batch ({_ALERT_COLS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cur.execute(_PG_ALERT_UPSERT)
            elif rows:
                cur.executemany(_q(self.db, _ALERT_UPSERT), rows)
            for part in _chunks(stale, _IN_CHUNK):
                marks = ", ".join("?" * len(part))
                cur.execute(
                    _q(self.db, f"UPDATE tactical_alerts SET state = ? WHERE id IN ({marks})"),
                    (AlertState.RESOLVED.value, *part),
                )
            if resolved or stale:
                cur.execute(
                    _q(
                        self.db,
                        "DELETE FROM tactical_alerts WHERE state = ? AND id NOT IN (SELECT id FROM tactical_alerts "
                        "WHERE state = ? ORDER BY updated_at DESC, id DESC LIMIT ?)",
                    ),
                    (AlertState.RESOLVED.value, AlertState.RESOLVED.value, self.kept),
                )

    def listing(self, party_id: str | None, states: Iterable[AlertState]) -> builtins.list[Alert]:
        wanted = sorted({s.value for s in states})
        if not wanted or party_id == NO_PARTY:
            return []
        marks = ", ".join("?" * len(wanted))
        sql = f"SELECT {_ALERT_COLS} FROM tactical_alerts WHERE state IN ({marks})"
        params: list[Any] = list(wanted)
        if party_id is not None:
            sql += " AND (a_party = ? OR b_party = ?)"
            params += [party_id, party_id]
        with self.db.read() as cur:
            cur.execute(_q(self.db, sql + " ORDER BY created_at DESC, id DESC"), params)
            return [alert_of_row(r) for r in cur.fetchall()]

    def about(self, key: tuple[str, str]) -> builtins.list[Alert]:
        with self.db.read() as cur:
            cur.execute(
                _q(
                    self.db,
                    f"SELECT {_ALERT_COLS} FROM tactical_alerts WHERE (a_party = ? AND a_id = ?) "
                    "OR (kind = ? AND b_party = ? AND b_id = ?) ORDER BY created_at, id",
                ),
                (*key, AlertKind.TRACKS.value, *key),
            )
            return [alert_of_row(r) for r in cur.fetchall()]


# ------------------------------------------------------------------------------------------------- beats


class SqlCycleBeats:
    """``CycleBeats`` in the one-row ``tactical_cycle`` table."""

    def __init__(self, db: TacticalDb) -> None:
        self.db = db

    def beat(self, holder: str, at_s: float) -> None:
        with self.db.write() as cur:
            cur.execute(
                _q(
                    self.db,
                    "INSERT INTO tactical_cycle (id, holder, beat_at) VALUES (1, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, beat_at = excluded.beat_at",
                ),
                (holder, at_s),
            )

    def last(self) -> tuple[str, float] | None:
        with self.db.read() as cur:
            cur.execute("SELECT holder, beat_at FROM tactical_cycle WHERE id = 1")
            row = cur.fetchone()
        return None if row is None else (str(row[0]), float(row[1]))


def beat_fresh(beats: CycleBeats, now_s: float, max_age_s: float) -> bool:
    """Whether some process finished a detection cycle that started within ``max_age_s`` of ``now_s`` (wall
    clock)."""
    last = beats.last()
    return last is not None and now_s - last[1] <= max_age_s
