"""The tactical storage contract (``store/tactical.py``): the same tests for the in-process track store and
alerts, and for the shared tables on SQLite and PostgreSQL; and the cycle's election on both backends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deconfliction.domain.tactical import (
    NO_PARTY,
    Affiliation,
    Alert,
    AlertChange,
    AlertKind,
    AlertState,
    PositionReport,
    Prediction,
    TacticalRule,
    alert_key,
)
from deconfliction.store import open_store
from deconfliction.store.election import lease_for
from deconfliction.store.tactical import (
    AlertStorage,
    MemoryAlerts,
    SqlAlerts,
    SqlCycleBeats,
    SqlTracks,
    TrackStorage,
    beat_fresh,
    open_tactical_db,
)
from deconfliction.store.tracks import TrackStore
from tests.conftest import truncate

T = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[TrackStorage, AlertStorage]]:
    if request.param == "memory":
        yield TrackStore(expiry_s=30.0, max_future_s=5.0), MemoryAlerts(kept=3)
        return
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path}/t.db")
    else:
        url = request.getfixturevalue("postgres_url")
        truncate(url)
        store = open_store(url)
    db = open_tactical_db(store)
    assert db is not None
    try:
        yield SqlTracks(db, expiry_s=30.0, max_future_s=5.0), SqlAlerts(db, kept=3)
    finally:
        db.close()
        store.close()


def rep(party: str, track: str, at: datetime, lat: float = 10.0, **kw: Any) -> PositionReport:
    return PositionReport(party, track, at, lat, 20.0, 3000.0, 100.0, 90.0, 0.0, **kw)


# ------------------------------------------------------------------------------------------------ tracks


def test_the_newest_report_of_each_track_is_kept_and_the_others_counted(
    backend: tuple[TrackStorage, AlertStorage],
) -> None:
    tracks, _ = backend
    r = tracks.ingest([rep("a", "1", T), rep("a", "2", T, callsign="ALPHA2"), rep("b", "1", T)], T)
    assert (r.accepted, len(tracks)) == (3, 3)
    r = tracks.ingest(
        [
            rep("a", "1", T - timedelta(seconds=1), 0.0),  # older: ignored
            rep("a", "1", T, 0.0),  # as old: ignored
            rep("a", "2", T + timedelta(seconds=1), 11.0),  # newer: kept
            rep("a", "2", T + timedelta(seconds=2), 11.5),  # newer still, in the same batch: kept
            rep("a", "2", T + timedelta(seconds=1), 0.0),  # older than the one before it: ignored
            rep("a", "3", T + timedelta(seconds=6)),  # 6 s in the future: refused
            rep("a", "4", T - timedelta(seconds=31)),  # older than the expiry: ignored
        ],
        T,
    )
    assert (r.accepted, r.ignored_older, r.refused_future, r.ignored_expired) == (2, 3, 1, 1)
    one, two = tracks.track(("a", "1")), tracks.track(("a", "2"))
    assert one is not None and two is not None and one["lat"] == 10.0 and two["lat"] == 11.5
    assert two["t"] == (T + timedelta(seconds=2) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
    assert tracks.track(("a", "9")) is None
    snap = tracks.snapshot(T)
    assert sorted(snap.keys) == [("a", "1"), ("a", "2"), ("b", "1")]
    assert [snap.parties[p] for p in snap.party] == [k[0] for k in snap.keys]
    i = snap.keys.index(("a", "2"))
    assert snap.callsigns[i] == "ALPHA2"  # a report without a callsign keeps the track's
    assert snap.columns["lat"][i] == 11.5 and snap.sources[i] == "api"


def test_tracks_past_the_expiry_are_gone_for_readers_and_dropped_by_expire(
    backend: tuple[TrackStorage, AlertStorage],
) -> None:
    tracks, _ = backend
    tracks.ingest([rep("a", "old", T), rep("a", "new", T + timedelta(seconds=20))], T + timedelta(seconds=20))
    later = T + timedelta(seconds=40)
    assert list(tracks.current(later).keys) == [("a", "new")]
    assert tracks.live(("a", "old"), later) is None
    assert tracks.live(("a", "new"), later) == (Affiliation.PARTY, None)
    assert len(tracks) == 2  # reading dropped nothing
    assert tracks.expire(later) == [("a", "old")]
    assert len(tracks) == 1 and tracks.snapshot(later).keys == [("a", "new")]


def test_a_narrowed_read_keeps_the_readers_own_its_reported_and_its_alerts_tracks(
    backend: tuple[TrackStorage, AlertStorage],
) -> None:
    tracks, _ = backend
    seen = PositionReport(NO_PARTY, "U1", T, 10.0, 20.0, 3e3, 100.0, 90.0, 0.0, None, "cot", Affiliation.HOSTILE, "a")
    other = replace(seen, track_id="U2", reporter="b")
    tracks.ingest([rep("a", "A1", T), rep("b", "B1", T), rep("b", "B2", T), rep("c", "A1", T), seen, other], T)
    full = set(tracks.current(T).keys)
    assert len(full) == 6
    narrowed = tracks.current(T, ("a", {("b", "B2"), ("z", "gone")}))
    keys = set(narrowed.keys)
    assert {("a", "A1"), (NO_PARTY, "U1"), ("b", "B2")} <= keys <= full  # more is allowed, never fewer
    i = narrowed.keys.index(("b", "B2"))
    assert narrowed.columns["lat"][i] == 10.0 and [narrowed.parties[p] for p in narrowed.party][i] == "b"
    later = T + timedelta(seconds=31)
    assert tracks.current(later, ("a", {("b", "B2")})).keys == []  # past the expiry: gone


def test_claims_and_disclaims_rekey_the_track_and_its_later_reports(
    backend: tuple[TrackStorage, AlertStorage],
) -> None:
    tracks, _ = backend
    seen = PositionReport(NO_PARTY, "U1", T, 10.0, 20.0, 3e3, 100.0, 90.0, 0.0, None, "cot", Affiliation.HOSTILE, "b")
    tracks.ingest([seen, rep("a", "A1", T)], T)
    assert tracks.live((NO_PARTY, "U1"), T) == (Affiliation.HOSTILE, "b")
    assert not tracks.live_of_a_party("U1", T) and tracks.live_of_a_party("A1", T)
    tracks.claim("U1", "a")
    assert tracks.live((NO_PARTY, "U1"), T) is None
    assert tracks.live(("a", "U1"), T) == (Affiliation.PARTY, None)
    # a later sensor report of U1 is the claimer's
    tracks.ingest([replace(seen, time=T + timedelta(seconds=1), lat=10.5)], T)
    after = tracks.track(("a", "U1"))
    assert after is not None and after["lat"] == 10.5 and tracks.track((NO_PARTY, "U1")) is None
    # a's own A1 disclaimed: of no party (unknown), reported by a, and so are its later reports
    tracks.disown(("a", "A1"))
    assert tracks.live(("a", "A1"), T) is None
    assert tracks.live((NO_PARTY, "A1"), T) == (Affiliation.UNKNOWN, "a")
    tracks.ingest([rep("a", "A1", T + timedelta(seconds=1), 12.0)], T)
    moved = tracks.track((NO_PARTY, "A1"))
    assert moved is not None and moved["lat"] == 12.0 and tracks.track(("a", "A1")) is None
    # claimed back by a: a's again
    tracks.claim("A1", "a")
    assert tracks.live(("a", "A1"), T) == (Affiliation.PARTY, None)


def test_a_claim_keeps_the_newer_of_two_reports_of_the_same_aircraft(
    backend: tuple[TrackStorage, AlertStorage],
) -> None:
    tracks, _ = backend
    seen = PositionReport(NO_PARTY, "X", T, 10.0, 20.0, 3000.0, 100.0, 90.0, 0.0, None, "cot", Affiliation.UNKNOWN)
    tracks.ingest([seen, rep("a", "X", T + timedelta(seconds=1), 11.0)], T)
    tracks.claim("X", "a")
    kept = tracks.track(("a", "X"))
    assert kept is not None and kept["lat"] == 11.0 and len(tracks) == 1


# ------------------------------------------------------------------------------------------------ alerts


def alert(n: int, kind: AlertKind, a: tuple[str, str], b: tuple[str, str], at: datetime) -> Alert:
    p = Prediction(at, at + timedelta(seconds=30), 1234.5, 100.0, False, TacticalRule(), (20.0, 10.0), None)
    return Alert(f"al_{n}", kind, (a, b), AlertState.NEW, p, at, at, at)


def test_alerts_kept_listed_by_party_and_state_and_found_by_track(
    backend: tuple[TrackStorage, AlertStorage],
) -> None:
    _, alerts = backend
    pair = alert(1, AlertKind.TRACKS, ("a", "A1"), ("b", "B1"), T)
    entry = replace(
        alert(2, AlertKind.SITE, ("c", "C1"), ("b", "st_1"), T + timedelta(seconds=1)),
        prediction=replace(pair.prediction, target="site", affiliation=Affiliation.PARTY, position=None, now=True),
    )
    active = {alert_key(x.kind, *x.subjects): x for x in (pair, entry)}
    alerts.save(active, [AlertChange("raised", pair), AlertChange("raised", entry)])
    assert alerts.active() == active  # every field comes back as it went in
    assert [a.id for a in alerts.listing(None, [AlertState.NEW])] == ["al_2", "al_1"]
    assert [a.id for a in alerts.listing("b", [AlertState.NEW, AlertState.ONGOING])] == ["al_2", "al_1"]
    assert [a.id for a in alerts.listing("a", [AlertState.NEW])] == ["al_1"]
    assert alerts.listing(NO_PARTY, [AlertState.NEW]) == []
    assert alerts.listing("a", [AlertState.RESOLVED]) == []
    assert [a.id for a in alerts.about(("b", "B1"))] == ["al_1"]
    assert alerts.about(("b", "st_1")) == []  # a site is not a track
    assert [a.id for a in alerts.about(("c", "C1"))] == ["al_2"]
    # the pair resolves; the entry goes on
    later = T + timedelta(seconds=20)
    gone = replace(pair, state=AlertState.RESOLVED, updated_at=later, resolved_at=later)
    going = replace(entry, state=AlertState.ONGOING, last_found_at=later)
    alerts.save({alert_key(going.kind, *going.subjects): going}, [AlertChange("resolved", gone)])
    assert list(alerts.active().values()) == [going]
    assert alerts.listing("a", [AlertState.RESOLVED]) == [gone]
    assert [a.id for a in alerts.about(("a", "A1"))] == ["al_1"]


def test_only_the_newest_resolved_alerts_are_kept(backend: tuple[TrackStorage, AlertStorage]) -> None:
    _, alerts = backend
    for n in range(5):
        at = T + timedelta(seconds=n)
        a = alert(n, AlertKind.TRACKS, ("a", f"A{n}"), ("b", "B"), at)
        alerts.save({}, [AlertChange("resolved", replace(a, state=AlertState.RESOLVED, updated_at=at, resolved_at=at))])
    assert [a.id for a in alerts.listing(None, [AlertState.RESOLVED])] == ["al_4", "al_3", "al_2"]  # kept=3


# ----------------------------------------------------------------------------------------- the election


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path}/t.db")
    else:
        url = request.getfixturevalue("postgres_url")
        truncate(url)
        s = open_store(url)
    yield s
    s.close()


def test_one_holder_at_a_time_and_the_next_takes_over_when_it_lets_go(store: Any) -> None:
    first, second = lease_for(store), lease_for(store)
    assert first is not None and second is not None
    try:
        assert first.hold() and first.hold()  # taken, then kept
        assert not second.hold()
        first.release()  # as a process's end does
        # the server ends the session (and frees the lock) just after the client hangs up: the next try
        # that finds it free takes it, as the processes try once per period
        deadline = time.monotonic() + 2.0
        while not second.hold():
            assert time.monotonic() < deadline, "the lock was not free 2 s after its holder let go"
            time.sleep(0.05)
        assert not first.hold()
    finally:
        first.release()
        second.release()


def test_the_heartbeat_says_whether_a_cycle_ran_lately(store: Any) -> None:
    db = open_tactical_db(store)
    assert db is not None
    try:
        beats = SqlCycleBeats(db)
        assert beats.last() is None and not beat_fresh(beats, 1000.0, 3.0)
        beats.beat("host:1", 1000.0)
        beats.beat("host:2", 1001.0)
        assert beats.last() == ("host:2", 1001.0)
        assert beat_fresh(beats, 1004.0, 3.0) and not beat_fresh(beats, 1004.5, 3.0)
    finally:
        db.close()
