"""The tactical service: the track store, the detection cycle, the alerts, and the feeds that fill it.

Every ``cycle_s`` (default 1 s) the cycle expires stale tracks, takes a snapshot of the store, runs one
detection pass (``domain.tactical.detect.detect``, in a worker thread so the event loop keeps reading
feeds) with the policy's minima widened by the hysteresis margins, and advances the alerts
(``domain.tactical.advance_alerts``): a pair losing separation under the policy's own minima raises an
alert; one found only within the margins keeps an existing alert; an alert unseen for ``clear_after_s``
resolves. Each change goes to the listeners (logging by default; notification channels subscribe here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from deconfliction.domain.tactical import (
    NO_PARTY,
    Affiliation,
    Alert,
    AlertChange,
    AlertKey,
    AlertKind,
    AlertState,
    Finding,
    PositionReport,
    Prediction,
    TacticalPolicy,
    TacticalRule,
    advance_alerts,
    alert_key,
)
from deconfliction.domain.tactical.declared import DeclaredVolume, Observed, declaring_operation
from deconfliction.domain.tactical.detect import PassStats, detect
from deconfliction.domain.tactical.flat import EarthModel, FlatTracks, detect_flat
from deconfliction.domain.tactical.motion import geodetic_from_ecef, motion_from_reports
from deconfliction.domain.tactical.zones import Site as AreaSite
from deconfliction.domain.tactical.zones import TrackState, predict_entries
from deconfliction.domain.tactical.zones import Zone as AreaZone
from deconfliction.service.tactical.feeds import CotTcpListener, CotUdpListener, FeedCounters, SbsClient
from deconfliction.store.election import CycleLease
from deconfliction.store.tactical import (
    AlertStorage,
    CycleBeats,
    MemoryAlerts,
    TacticalDb,
    TrackStorage,
    alert_tracks,
    beat_fresh,
)
from deconfliction.store.tracks import EPOCH, BBox, IngestResult, Snapshot, TrackStore, in_bbox

log = logging.getLogger("deconfliction.tactical")

FEED_FLUSH_S = 0.2
"""Reports read from the feeds are written to the track storage in one batch this often (``ingest_soon``):
one transaction per batch, off the event loop, rather than one per report on it."""

ELECTED_WITHIN_S = 3.0
"""A cycle finished within this long (wall clock) means a detection cycle is elected somewhere."""

Listener = Callable[[AlertChange], None]
BatchListener = Callable[[Sequence[AlertChange]], None]


@dataclass(frozen=True)
class CycleReport:
    at: datetime
    tracks: int
    expired: int
    stats: PassStats | None
    changes: list[AlertChange]
    seconds: float


@dataclass(frozen=True)
class VisibleTrack:
    """A track as one reader may see it: its newest report and the ids of the active alerts, among those
    the reader may see, that involve it."""

    report: PositionReport
    alerts: tuple[str, ...]


@dataclass
class TacticalService:
    """One per server process. Thread-safe: feeds, API requests and the cycle share it.

    With the database's storage (``build_tactical``) every process ingests into and reads from the same
    tracks and alerts, and only the process that holds ``lease`` runs the periodic cycle; without
    (``store`` and ``alert_store`` in process, no lease) the process is the whole picture."""

    policy: TacticalPolicy
    clock: Callable[[], datetime]
    new_id: Callable[[], str]
    store: TrackStorage = field(default_factory=TrackStore)
    cycle_s: float = 1.0
    listeners: list[Listener] = field(default_factory=list)
    batch_listeners: list[BatchListener] = field(default_factory=list)
    """Told a cycle's changes at once, after ``listeners`` (the notifications: a newly elected cycle's
    thousands of raised alerts are written a few hundred to a transaction)."""
    areas: Callable[[], tuple[list[AreaZone], list[AreaSite]]] | None = None
    earth_model: EarthModel = "wgs84"
    """The pair pass's model: "wgs84" (exact, the default) or "flat" (BlueSky's, for identical answers to
    BlueSky-based tools; docs/tactical.md). Zone and site entries are exact under either."""
    """Other parties' agreed zones and protected sites in force now (entries are predicted into them)."""
    declared: Callable[[], Mapping[str, Sequence[DeclaredVolume]]] | None = None
    """The volumes of every party's active operations and movements, by party id: a party's track outside
    all of its own (within the policy's ``declared`` tolerance) is undeclared. None: every party's track
    counts as declared (only tracks of no party are undeclared)."""
    on_ingest: Callable[[str, IngestResult], None] | None = None
    """Told of every accepted batch with its path (http, sbs, cot_udp, cot_tcp): the metrics."""
    on_cycle: Callable[[CycleReport, float], None] | None = None
    """Told of every cycle with the period it should keep (``cycle_s``): duration, overruns, tracks."""
    alert_store: AlertStorage = field(default_factory=MemoryAlerts)
    lease: CycleLease | None = None
    """The election of the periodic cycle (None: this process always runs it)."""
    beats: CycleBeats | None = None
    """Where the elected cycle says it ran (None: nowhere but in ``last``)."""
    db: TacticalDb | None = None
    """The connections ``store``, ``alert_store`` and ``beats`` use (closed by ``stop``)."""
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    elected: bool = field(default=False, init=False)
    """Whether this process held the election at its last try."""
    _cycle_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _feeds: list[SbsClient | CotUdpListener | CotTcpListener] = field(default_factory=list, init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    last: CycleReport | None = field(default=None, init=False)
    _pending: dict[str, list[PositionReport]] = field(default_factory=dict, init=False)
    _pending_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _last_wall: float = field(default=0.0, init=False)
    _fresh: bool = field(default=True, init=False)
    """The next cycle reads the whole picture and the stored alerts again (newly elected: another process
    may have written alerts, and the track store's kept picture may be stale)."""
    _active: dict[AlertKey, Alert] | None = field(default=None, init=False)
    """The active alerts as this process's cycle last saved them."""

    # ------------------------------------------------------------------------------------------ ingest

    def ingest(self, reports: list[PositionReport], path: str = "http") -> IngestResult:
        result = self.store.ingest(reports, self.clock())
        if self.on_ingest is not None:
            self.on_ingest(path, result)
        return result

    @property
    def runs_cycle(self) -> bool:
        """This process runs the periodic detection cycle (started, and not stopped)."""
        return any(t.get_name() == "tactical cycle" and not t.done() for t in self._tasks)

    def ingest_soon(self, reports: list[PositionReport], path: str = "http") -> None:
        """Keep reports for the next batch of their path (the feeds' sink; ``start`` flushes every
        ``FEED_FLUSH_S``)."""
        with self._pending_lock:
            self._pending.setdefault(path, []).extend(reports)

    def flush(self) -> IngestResult:
        """Ingest the reports kept by ``ingest_soon``: one batch per path (the metrics count per path)."""
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        total = IngestResult()
        for path, batch in pending.items():
            if batch:
                total = total + self.ingest(batch, path)
        return total

    async def _run_flushes(self) -> None:
        while True:
            await asyncio.sleep(FEED_FLUSH_S)
            try:
                await asyncio.to_thread(self.flush)
            except Exception:  # a failed batch is logged (its reports are lost: newer ones follow)
                log.exception("writing the feeds' reports failed")

    # ------------------------------------------------------------------------------------------ cycle

    def cycle(self) -> CycleReport:
        """One detection cycle at the clock's time (serialised: a slow cycle is never overlapped)."""
        with self._cycle_lock:
            started = time.perf_counter()
            now = self.clock()
            fresh, self._fresh = self._fresh, False
            expired = self.store.expire(now)
            snap = self.store.cycle_snapshot(now, fresh=fresh)
            findings, stats = self._findings(snap.of_parties(), now)
            findings += self._entry_findings(snap, now)
            # only the elected cycle writes the alerts: while it stays elected, the active set it saved
            # last is the stored one (read again when newly elected: another process may have written)
            current = self.alert_store.active() if fresh or self._active is None else self._active
            active, changes = advance_alerts(current, findings, now, self.policy.clear_after_s, self.new_id)
            self._active = None  # until saved: a failed save is read back next time
            self.alert_store.save(active, changes)
            self._active = active
            report = CycleReport(now, len(snap), len(expired), stats, changes, time.perf_counter() - started)
            self.last = report
        if self.on_cycle is not None:
            self.on_cycle(report, self.cycle_s)
        for ch in changes:
            for listener in self.listeners:
                try:
                    listener(ch)
                except Exception:  # one listener's failure must not stop the others or the cycle
                    log.exception("alert listener failed on %s %s", ch.change, ch.alert.id)
        if changes:
            for batch_listener in self.batch_listeners:
                try:
                    batch_listener(changes)
                except Exception:
                    log.exception("alert listener failed on %d changes", len(changes))
        return report

    def _findings(self, snap: Snapshot, now: datetime) -> tuple[list[Finding], PassStats | None]:
        if len(snap) < 2:
            return [], None
        c = snap.columns
        columns = (c["lat"], c["lon"], c["alt"], c["gs"], c["trk"], c["vs"], c["t"])
        widened = self.policy.table(snap.parties, widen=True)
        core = self.policy.table(snap.parties)
        if self.earth_model == "flat":
            flat = FlatTracks.from_reports(snap.at, *columns)
            losses, stats = detect_flat(flat, snap.party, widened, core=core)
            if not len(losses):
                return [], stats
            mid_lat, mid_lon = flat.midpoint_at(losses.t_cpa_s, losses.i, losses.j)
        else:
            motion = motion_from_reports(snap.at, *columns)
            losses, stats = detect(motion, snap.party, widened, core=core)
            if not len(losses):
                return [], stats
            mid = 0.5 * (motion.at(losses.t_cpa_s, losses.i) + motion.at(losses.t_cpa_s, losses.j))
            mid_lat, mid_lon = geodetic_from_ecef(mid)
        out: list[Finding] = []
        for k in range(len(losses)):
            a, b = snap.keys[int(losses.i[k])], snap.keys[int(losses.j[k])]
            rule = self.policy.rule(a[0], b[0]) or TacticalRule()
            pred = Prediction(
                loss_at=now + timedelta(seconds=float(losses.t_in_s[k])),
                closest_at=now + timedelta(seconds=float(losses.t_cpa_s[k])),
                horizontal_m=float(losses.horizontal_m[k]),
                vertical_m=float(losses.vertical_m[k]),
                now=bool(losses.now[k]),
                rule=rule,
                position=(float(mid_lon[k]), float(mid_lat[k])),
            )
            out.append(Finding(alert_key(AlertKind.TRACKS, a, b), bool(losses.core[k]), pred))
        return out, stats

    def _entry_findings(self, snap: Snapshot, now: datetime) -> list[Finding]:
        """Tracks predicted to enter another party's zone or a site's radius within the look-ahead."""
        if self.areas is None or not len(snap):
            return []
        zones, sites = self.areas()
        if not zones and not sites:
            return []
        c = snap.columns
        tracks = [
            TrackState(
                key, float(c["lat"][i]), float(c["lon"][i]), float(c["gs"][i]), float(c["trk"][i]), float(c["t"][i])
            )
            for i, key in enumerate(snap.keys)
        ]
        rule = TacticalRule()
        out = []
        volumes = self.declared() if self.declared is not None else None
        undeclared: dict[int, bool] = {}  # decided only for the tracks that enter something

        def is_undeclared(i: int) -> bool:
            if i not in undeclared:
                party = snap.keys[i][0]
                if party == NO_PARTY:
                    undeclared[i] = True
                elif volumes is None:
                    undeclared[i] = False
                else:
                    seen = Observed(party, float(c["lon"][i]), float(c["lat"][i]), float(c["alt"][i]), float(c["t"][i]))
                    undeclared[i] = declaring_operation(seen, volumes.get(party, ()), self.policy.declared) is None
            return undeclared[i]

        for e in predict_entries(tracks, zones, sites, snap.at, rule.lookahead_s):
            at = now + timedelta(seconds=e.t_s)
            if is_undeclared(e.track):
                kind = AlertKind.UNDECLARED
                pred = Prediction(
                    at, at, 0.0, 0.0, e.inside_now, rule, (e.lon, e.lat), e.kind, snap.affiliations[e.track]
                )
            elif e.kind == "band":  # a declared track in a band: the operation's band conflict says it already
                continue
            else:
                kind = AlertKind.ZONE if e.kind == "zone" else AlertKind.SITE
                pred = Prediction(at, at, 0.0, 0.0, e.inside_now, rule, (e.lon, e.lat), e.kind)
            out.append(Finding(alert_key(kind, snap.keys[e.track], (e.owner, e.target)), True, pred))
        return out

    # ------------------------------------------------------------------------------------------ reading

    def alerts(self, party_id: str | None, states: Iterable[AlertState] | None = None) -> list[Alert]:
        """Alerts involving ``party_id`` (None: all), newest first, in the given states (default: the
        active ones, new and ongoing)."""
        wanted = set(states) if states else {AlertState.NEW, AlertState.ONGOING}
        return self.alert_store.listing(party_id, wanted)

    def alerted_about(self, key: tuple[str, str]) -> list[Alert]:
        """Every alert kept (active or among the newest resolved) whose track is ``key``."""
        return self.alert_store.about(key)

    def claim(self, track_id: str, party_id: str) -> None:
        """The live track of no party ``track_id`` (and its later reports) is ``party_id``'s from now on."""
        self.store.claim(track_id, party_id)

    def disown(self, key: tuple[str, str]) -> None:
        """A party's track ``key`` (and its later reports) belongs to no party from now on (unknown)."""
        self.store.disown(key, Affiliation.UNKNOWN)

    def tracks(self, party_id: str | None, bbox: BBox | None = None) -> tuple[datetime, list[VisibleTrack]]:
        """The live tracks ``party_id`` may see (None: all), in (party, id) order, and the service time.

        Need-to-know, decided here alone and from the same alerts ``alerts(party_id)`` returns: a party sees
        its own tracks, and another party's track only while a new or ongoing alert of the reader involves it
        (paired with one of its aircraft, or entering its zone or site: the alert already names the aircraft).
        A track of no party is seen by the party that reported it and, like another party's, while an alert
        of the reader involves it.
        A track's ``alerts`` are those of the reader's alerts that involve it. Tracks past the expiry are
        gone, even before the next cycle drops them. ``bbox`` keeps the tracks inside it (see ``in_bbox``)."""
        now = self.clock()
        visible = self.alerts(party_id)
        halos: dict[tuple[str, str], list[str]] = {}
        shown: set[tuple[str, str]] = set()  # the tracks of the reader's alerts (every one of them involves it)
        for a in visible:
            for key in alert_tracks(a):
                halos.setdefault(key, []).append(a.id)
            shown.update(alert_tracks(a))
        # the storage may leave out what the reader cannot see (a pre-filter); the rule is applied below
        snap = self.store.current(now, None if party_id is None else (party_id, shown))
        c = snap.columns
        mask = in_bbox(c["lon"], c["lat"], bbox) if bbox is not None else np.ones(len(snap), dtype=bool)
        out: list[VisibleTrack] = []
        for i in np.flatnonzero(mask).tolist():
            key = snap.keys[i]
            reported = key[0] == NO_PARTY and snap.reporters[i] == party_id
            if not (party_id is None or key[0] == party_id or key in shown or reported):
                continue
            out.append(
                VisibleTrack(
                    PositionReport(
                        party_id=key[0],
                        track_id=key[1],
                        time=EPOCH + timedelta(seconds=float(c["t"][i])),
                        lat=float(c["lat"][i]),
                        lon=float(c["lon"][i]),
                        altitude_m=float(c["alt"][i]),
                        ground_speed_mps=float(c["gs"][i]),
                        track_deg=float(c["trk"][i]),
                        vertical_rate_mps=float(c["vs"][i]),
                        callsign=snap.callsigns[i],
                        source=snap.sources[i],
                        affiliation=snap.affiliations[i],
                        reporter=snap.reporters[i],
                    ),
                    tuple(halos.get(key, ())),
                )
            )
        out.sort(key=lambda t: (t.report.party_id, t.report.track_id))
        return now, out

    def feed_counters(self) -> list[FeedCounters]:
        return [f.counters for f in self._feeds]

    # ------------------------------------------------------------------------------------------ running

    def add_feed(self, feed: SbsClient | CotUdpListener | CotTcpListener) -> None:
        self._feeds.append(feed)

    async def start(self, run_cycle: bool = True) -> None:
        """Open the listeners, start the SBS clients, the feeds' batches and (unless told not to) the
        periodic cycle."""
        for feed in self._feeds:
            if isinstance(feed, SbsClient):
                self._tasks.append(asyncio.create_task(feed.run(), name=feed.name))
            else:
                await feed.start()
        if self._feeds:
            self._tasks.append(asyncio.create_task(self._run_flushes(), name="tactical feeds' batches"))
        if run_cycle and self.cycle_s > 0:
            self._tasks.append(asyncio.create_task(self._run_cycles(), name="tactical cycle"))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()
        for feed in self._feeds:
            if isinstance(feed, CotUdpListener | CotTcpListener):
                feed.close()
        with contextlib.suppress(Exception):  # the last batch, if the database still answers
            await asyncio.to_thread(self.flush)
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Give up the election and close the database connections (``stop`` does it too)."""
        if self.lease is not None:
            self.lease.release()
        self.elected = False
        if self.db is not None:
            self.db.close()

    def cycle_elected(self, max_age_s: float = ELECTED_WITHIN_S) -> bool:
        """Whether a detection cycle is elected somewhere: some process (this one or another on the same
        database) finished a cycle within ``max_age_s`` (wall clock). For the readiness probe."""
        if self.beats is not None:
            return beat_fresh(self.beats, time.time(), max_age_s)
        return self.last is not None and bool(self._tasks) and time.time() - self._last_wall <= max_age_s

    def _elect(self) -> bool:
        held = True if self.lease is None else self.lease.hold()
        if held != self.elected:
            log.info("tactical cycle %s in %s", "elected" if held else "not elected", self.holder)
            self.elected = held
            self._fresh = True  # newly elected (or not: then the next election starts afresh)
        return held

    def _run_elected(self) -> CycleReport | None:
        """One period: take or keep the election; if held, one cycle and its heartbeat."""
        if not self._elect():
            return None
        started = time.time()
        report = self.cycle()
        self._last_wall = time.time()
        if self.beats is not None:  # the start of the cycle that finished: beats are as far apart as cycles' starts
            self.beats.beat(self.holder, started)
        return report

    async def _run_cycles(self) -> None:
        """The periodic cycle, timed by a thread of its own rather than by the event loop: a feed's
        reader or a burst of requests holds the loop for tens to hundreds of milliseconds (the SBS-1
        path of bench/ingest.py started cycles 150-300 ms late when the loop timed them), and the
        shared executor's threads may all be busy with writes."""
        loop = asyncio.get_running_loop()
        stop, ended = threading.Event(), loop.create_future()

        def end() -> None:
            if not ended.done():
                ended.set_result(None)

        def run() -> None:
            try:
                self._cycle_loop(stop)
            finally:
                with contextlib.suppress(RuntimeError):  # (the loop closed first)
                    loop.call_soon_threadsafe(end)

        # a daemon thread: a process that exits without stopping the service does not wait for it
        threading.Thread(target=run, name="tactical cycle", daemon=True).start()
        try:
            await asyncio.shield(ended)
        finally:  # cancelled by ``stop``: the cycle under way ends, no other starts
            stop.set()
            await ended

    def _cycle_loop(self, stop: threading.Event) -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                self._run_elected()  # an overrun is told to ``on_cycle``
            except Exception:  # a failed cycle is logged; the next one runs
                log.exception("tactical cycle failed")
            next_at = max(next_at + self.cycle_s, time.monotonic())
            stop.wait(max(0.0, next_at - time.monotonic()))


def log_changes(change: AlertChange) -> None:
    """The default listener: one log line per raised, updated or resolved alert."""
    a = change.alert
    (pa, ta), (pb, tb) = a.subjects
    p = a.prediction
    log.info(
        "alert %s %s: %s/%s and %s/%s, loss at %s, closest %.0f m / %.0f m%s",
        a.id,
        change.change,
        pa,
        ta,
        pb,
        tb,
        p.loss_at.isoformat(),
        p.horizontal_m,
        p.vertical_m,
        " (now)" if p.now else "",
    )
