"""The elected cycle's incremental picture (``SqlTracks.cycle_snapshot``, migration 0024) against a full
re-read, on both backends: random sequences of batches from two processes (new tracks, newer and older
reports, several reports of one track in a batch, callsigns given or not), claims and disclaims (which
re-key rows), expiry by the cycle's process or by another, and newly elected cycles. The picture must hold
exactly the rows a full read returns, and a cycle over it must raise, update and resolve the same alerts
as a cycle that reads everything every time."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deconfliction.domain.tactical import NO_PARTY, Affiliation, Alert, AlertKey, PositionReport, TacticalPolicy
from deconfliction.service.tactical.cycle import TacticalService
from deconfliction.store import Store
from deconfliction.store.tactical import MemoryAlerts, SqlTracks, TacticalDb, open_tactical_db
from deconfliction.store.tracks import Snapshot
from tests.conftest import FakeClock

T = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PARTIES = ("alpha", "bravo", "charlie")


@pytest.fixture
def dbs(store: Store) -> Iterator[tuple[TacticalDb, TacticalDb]]:
    """Two processes' connections to one database: the cycle's, and another that ingests too."""
    a, b = open_tactical_db(store), open_tactical_db(store)
    assert a is not None and b is not None
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def rows(snap: Snapshot) -> dict[tuple[str, str], tuple[Any, ...]]:
    """A snapshot as its rows by key, every column (order of rows is free)."""
    out = {}
    for i, key in enumerate(snap.keys):
        assert snap.parties[int(snap.party[i])] == key[0]
        numbers = tuple(float(snap.columns[c][i]) for c in ("t", "lat", "lon", "alt", "gs", "trk", "vs"))
        out[key] = (*numbers, snap.callsigns[i], snap.sources[i], snap.affiliations[i], snap.reporters[i])
    assert len(out) == len(snap)
    return out


def batch(rng: random.Random, now: datetime, n_tracks: int, size: int) -> list[PositionReport]:
    """Reports of random tracks around one point (so that pairs come close), some stale, some repeated."""
    out = []
    for _ in range(size):
        k = rng.randrange(n_tracks)
        party = NO_PARTY if k % 7 == 0 else PARTIES[k % 3]
        age = rng.choice([0.0, 0.0, 0.5, 2.0, 10.0, 40.0])  # 40 s: past the expiry
        out.append(
            PositionReport(
                party,
                f"T{k}",
                now - timedelta(seconds=age),
                45.0 + rng.uniform(-0.15, 0.15),
                7.0 + rng.uniform(-0.15, 0.15),
                rng.choice([3000.0, 3100.0, 3300.0, 3304.8]),
                rng.uniform(0.0, 200.0),
                rng.uniform(0.0, 360.0),
                rng.choice([0.0, 0.0, 5.0, -5.0]),
                rng.choice([None, f"CS{k}"]),
                rng.choice(["api", "sbs"]),
                Affiliation.PARTY if party != NO_PARTY else rng.choice([Affiliation.UNKNOWN, Affiliation.HOSTILE]),
                None if party != NO_PARTY else rng.choice(PARTIES),
            )
        )
    return out


def churn(rng: random.Random, now: datetime, cycle: SqlTracks, other: SqlTracks, n_tracks: int) -> None:
    """One random step of the database's life between two cycles."""
    for _ in range(rng.randint(1, 3)):
        writer = rng.choice([cycle, other])
        writer.ingest(batch(rng, now, n_tracks, rng.randint(1, 25)), now)
    roll = rng.random()
    k = rng.randrange(n_tracks)
    if roll < 0.1:
        rng.choice([cycle, other]).claim(f"T{k}", rng.choice(PARTIES))
    elif roll < 0.2:
        rng.choice([cycle, other]).disown((PARTIES[k % 3], f"T{k}"), Affiliation.UNKNOWN)
    elif roll < 0.3:
        other.expire(now)  # another process (a former holder) expired tracks: the cycle's picture still has them


@pytest.mark.parametrize("seed", range(4))
def test_the_picture_holds_exactly_what_a_full_read_returns(dbs: tuple[TacticalDb, TacticalDb], seed: int) -> None:
    rng = random.Random(seed)
    cycle, other = SqlTracks(dbs[0]), SqlTracks(dbs[1])
    now = T
    read_changes = 0
    for step in range(60):
        now += timedelta(seconds=rng.choice([0.5, 1.0, 1.0, 3.0, 12.0]))
        churn(rng, now, cycle, other, 40)
        cycle.expire(now)  # as the cycle does, then its snapshot
        before = cycle.picture.seq
        fresh = step % 23 == 22  # now and then newly elected
        picture = cycle.cycle_snapshot(now, fresh=fresh)
        assert rows(picture) == rows(cycle.snapshot(now)), step
        read_changes += cycle.picture.seq > before
    assert read_changes > 30  # the picture was brought up to date from changes, not only rebuilt


def test_a_changed_row_alone_is_read(dbs: tuple[TacticalDb, TacticalDb]) -> None:
    """After the first read, a cycle reads the rows written since, not the table."""
    cycle, other = SqlTracks(dbs[0]), SqlTracks(dbs[1])
    rng = random.Random(7)
    other.ingest([replace_time(r, T) for r in batch(rng, T, 200, 400)], T)
    first = cycle.cycle_snapshot(T)
    assert len(first) > 100
    now = T + timedelta(seconds=1)
    other.ingest([PositionReport("alpha", "T1", now, 45.0, 7.0, 3000.0, 100.0, 90.0, callsign="OLD1")], now)
    cycle.cycle_snapshot(now)  # (its source or callsign may have changed: read with its text)
    now += timedelta(seconds=1)
    moved = PositionReport("alpha", "T1", now, 45.1, 7.0, 3000.0, 100.0, 90.0)  # the same text (callsign kept)
    other.ingest([moved], now)
    numbers: list[int] = []
    texts: list[int] = []
    apply_numbers, apply_texts = cycle.picture.apply_numbers, cycle.picture.apply_texts
    cycle.picture.apply_numbers = lambda nos, got, seq: (numbers.append(len(nos)), apply_numbers(nos, got, seq))[1]  # type: ignore[method-assign]
    cycle.picture.apply_texts = lambda got: (texts.append(len(got)), apply_texts(got))[1]  # type: ignore[method-assign]
    second = cycle.cycle_snapshot(now)
    assert numbers == [1] and texts == []  # its numbers alone: its callsign, source... did not change
    assert rows(second) == rows(cycle.snapshot(now))
    renamed = PositionReport("alpha", "T1", now + timedelta(seconds=1), 45.0, 7.0, 3000.0, 100.0, 90.0, callsign="NEW1")
    other.ingest([renamed], now + timedelta(seconds=1))
    third = cycle.cycle_snapshot(now + timedelta(seconds=1))
    assert numbers == [1, 1] and texts == [1]  # a changed callsign: its text too
    assert rows(third) == rows(cycle.snapshot(now + timedelta(seconds=1)))
    assert third.callsigns[third.keys.index(("alpha", "T1"))] == "NEW1"


def replace_time(r: PositionReport, t: datetime) -> PositionReport:
    from dataclasses import replace

    return replace(r, time=t)


class FullRead(SqlTracks):
    """The cycle as it was: every cycle reads the whole table."""

    def cycle_snapshot(self, now: datetime, fresh: bool = False) -> Snapshot:
        return self.snapshot(now)


def comparable(alerts: dict[AlertKey, Alert]) -> dict[AlertKey, tuple[Any, ...]]:
    """Alerts by key, without their ids (raised in the order pairs are found, which may differ), with the
    predictions to 1 mm and 1 ms (the rows' order may change the pass's last float digits)."""
    out = {}
    for key, a in alerts.items():
        p = a.prediction
        out[key] = (
            a.state,
            a.created_at,
            a.updated_at,
            a.last_found_at,
            round(p.horizontal_m, 3),
            round(p.vertical_m, 3),
            p.now,
            round(p.loss_at.timestamp(), 3),
        )
    return out


@pytest.mark.parametrize("seed", range(3))
def test_a_cycle_over_the_picture_finds_the_alerts_a_full_read_finds(
    dbs: tuple[TacticalDb, TacticalDb], seed: int
) -> None:
    rng = random.Random(100 + seed)
    clock = FakeClock(T)
    ids_a, ids_b = itertools.count(), itertools.count()
    incremental = TacticalService(TacticalPolicy(), clock, lambda: f"a{next(ids_a)}", SqlTracks(dbs[0]))
    full = TacticalService(
        TacticalPolicy(), clock, lambda: f"b{next(ids_b)}", FullRead(dbs[1]), alert_store=MemoryAlerts()
    )
    other = SqlTracks(dbs[1])
    raised = resolved = 0
    for step in range(40):
        clock.advance(seconds=1)
        churn(rng, clock(), incremental.store, other, 30)  # type: ignore[arg-type]
        order = [incremental, full] if step % 2 else [full, incremental]  # either expires first
        full._fresh = True  # the oracle reads the stored alerts every time too
        reports = {id(s): s.cycle() for s in order}
        changes = [sorted((ch.change, ch.alert.subjects) for ch in reports[id(s)].changes) for s in (incremental, full)]
        assert changes[0] == changes[1], step
        assert comparable(incremental.alert_store.active()) == comparable(full.alert_store.active()), step
        raised += sum(ch[0] == "raised" for ch in changes[0])
        resolved += sum(ch[0] == "resolved" for ch in changes[0])
    assert raised > 5 and resolved > 0  # the sequences exercised the alerts' whole life
