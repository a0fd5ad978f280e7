"""The in-process track store: the newest report of every aircraft, as arrays the detection pass reads.

* A report older than (or as old as) the newest one of its track is ignored; so is one already past the
  expiry, or stamped more than ``max_future_s`` after the store's clock (a sender whose clock runs ahead
  would otherwise pin its track in the future).
* ``expire(now)`` drops tracks without a report for ``expiry_s``.
* Storage is a set of NumPy columns with one slot per track and a free list, so a detection cycle reads
  ``snapshot()`` (copies of the live rows) without rebuilding anything from Python objects.

Thread-safe: feeds (the event loop), the HTTP API (worker threads) and the cycle (a worker thread) share
one store behind one lock, held only for array copies and slot updates.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from deconfliction.domain.tactical import NO_PARTY, Affiliation, PositionReport

_COLUMNS = ("lat", "lon", "alt", "gs", "trk", "vs", "t")
Reader = tuple[str, Collection[tuple[str, str]]]
"""A reader of the tracks: its party id and the track keys of its alerts (``current``'s ``narrow_to``)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def seconds(t: datetime) -> float:
    return (t - EPOCH).total_seconds()


@dataclass(frozen=True)
class IngestResult:
    accepted: int = 0
    ignored_older: int = 0
    ignored_expired: int = 0
    refused_future: int = 0

    def __add__(self, other: IngestResult) -> IngestResult:
        return IngestResult(
            self.accepted + other.accepted,
            self.ignored_older + other.ignored_older,
            self.ignored_expired + other.ignored_expired,
            self.refused_future + other.refused_future,
        )


@dataclass(frozen=True)
class Snapshot:
    """The live tracks at ``at``: columns (one row per track), their keys, party numbers into ``parties``,
    callsigns and sources."""

    at: float
    keys: list[tuple[str, str]]
    parties: list[str]
    party: npt.NDArray[np.int64]
    columns: dict[str, npt.NDArray[np.float64]]
    callsigns: list[str | None]
    sources: list[str]
    affiliations: list[Affiliation]
    reporters: list[str | None]

    def __len__(self) -> int:
        return len(self.keys)

    def of_parties(self) -> Snapshot:
        """The tracks that belong to a party (those of no party left out)."""
        if NO_PARTY not in self.parties:
            return self
        rows = np.flatnonzero(self.party != self.parties.index(NO_PARTY))  # (a cycle's 120,000 keys: 6 ms)
        if len(rows) == len(self.keys):
            return self
        keep = rows.tolist()
        return Snapshot(
            self.at,
            [self.keys[i] for i in keep],
            self.parties,
            self.party[rows],
            {c: v[rows] for c, v in self.columns.items()},
            [self.callsigns[i] for i in keep],
            [self.sources[i] for i in keep],
            [self.affiliations[i] for i in keep],
            [self.reporters[i] for i in keep],
        )


class TrackStore:
    def __init__(self, expiry_s: float = 30.0, max_future_s: float = 5.0, capacity: int = 1024) -> None:
        self.expiry_s = expiry_s
        self.max_future_s = max_future_s
        self._lock = threading.Lock()
        self._cols = {c: np.zeros(capacity) for c in _COLUMNS}
        self._party = np.zeros(capacity, dtype=np.int64)
        self._live = np.zeros(capacity, dtype=bool)
        self._slot: dict[tuple[str, str], int] = {}
        self._key: list[tuple[str, str] | None] = [None] * capacity
        self._callsign: list[str | None] = [None] * capacity
        self._source: list[str] = [""] * capacity
        self._affiliation: list[Affiliation] = [Affiliation.PARTY] * capacity
        self._reporter: list[str | None] = [None] * capacity
        self.claims: dict[str, str] = {}
        """Track id of no party -> the party that claimed it: its later reports are that party's."""
        self.disowned: dict[tuple[str, str], Affiliation] = {}
        """A party's track it disclaimed -> the affiliation its later reports take (of no party)."""
        self._free: list[int] = list(range(capacity - 1, -1, -1))
        self._parties: list[str] = []
        self._party_no: dict[str, int] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._slot)

    def _grow(self) -> None:
        old = self._live.size
        new = old * 2
        for c in _COLUMNS:
            col = np.zeros(new)
            col[:old] = self._cols[c]
            self._cols[c] = col
        party = np.zeros(new, dtype=np.int64)
        party[:old] = self._party
        self._party = party
        live = np.zeros(new, dtype=bool)
        live[:old] = self._live
        self._live = live
        self._key.extend([None] * old)
        self._callsign.extend([None] * old)
        self._source.extend([""] * old)
        self._affiliation.extend([Affiliation.PARTY] * old)
        self._reporter.extend([None] * old)
        self._free.extend(range(new - 1, old - 1, -1))

    def ingest(self, reports: list[PositionReport], now: datetime) -> IngestResult:
        """Keep each report that is newer than its track's newest; count the others by reason."""
        t_now = seconds(now)
        accepted = older = expired = future = 0
        with self._lock:
            for r in reports:
                r = self._owned(r)
                t = seconds(r.time)
                if t > t_now + self.max_future_s:
                    future += 1
                    continue
                if t < t_now - self.expiry_s:
                    expired += 1
                    continue
                key = r.key
                slot = self._slot.get(key)
                if slot is not None and t <= self._cols["t"][slot]:
                    older += 1
                    continue
                if slot is None:
                    if not self._free:
                        self._grow()
                    slot = self._free.pop()
                    self._slot[key] = slot
                    self._key[slot] = key
                    self._live[slot] = True
                    self._party[slot] = self._party_number(r.party_id)
                for c, v in zip(
                    _COLUMNS,
                    (r.lat, r.lon, r.altitude_m, r.ground_speed_mps, r.track_deg, r.vertical_rate_mps, t),
                    strict=True,
                ):
                    self._cols[c][slot] = v
                if r.callsign:
                    self._callsign[slot] = r.callsign
                self._source[slot] = r.source
                self._affiliation[slot] = r.affiliation
                self._reporter[slot] = r.reporter
                accepted += 1
        return IngestResult(accepted, older, expired, future)

    def _owned(self, r: PositionReport) -> PositionReport:
        """A report as its track's claims and disclaims say: a claimed track of no party is its claimer's,
        a disclaimed track of a party belongs to no party."""
        if r.party_id == NO_PARTY and r.track_id in self.claims:
            return replace(r, party_id=self.claims[r.track_id], affiliation=Affiliation.PARTY, reporter=None)
        if r.party_id != NO_PARTY and r.key in self.disowned:
            return replace(r, party_id=NO_PARTY, affiliation=self.disowned[r.key], reporter=r.party_id)
        return r

    def _party_number(self, party_id: str) -> int:
        if party_id not in self._party_no:
            self._party_no[party_id] = len(self._parties)
            self._parties.append(party_id)
        return self._party_no[party_id]

    def live(self, key: tuple[str, str], now: datetime) -> tuple[Affiliation, str | None] | None:
        """A track not past the expiry at ``now``: its affiliation and reporter; None when there is none."""
        with self._lock:
            slot = self._slot.get(key)
            if slot is None or self._cols["t"][slot] < seconds(now) - self.expiry_s:
                return None
            return self._affiliation[slot], self._reporter[slot]

    def live_of_a_party(self, track_id: str, now: datetime) -> bool:
        """Whether some party has a live track ``track_id``."""
        cutoff = seconds(now) - self.expiry_s
        with self._lock:
            return any(
                k[1] == track_id and k[0] != NO_PARTY and self._cols["t"][s] >= cutoff for k, s in self._slot.items()
            )

    def claim(self, track_id: str, party_id: str) -> None:
        """Track ``track_id`` of no party is ``party_id``'s from now on (the live track and later reports)."""
        with self._lock:
            self.claims[track_id] = party_id
            self.disowned.pop((party_id, track_id), None)
            self._rekey((NO_PARTY, track_id), (party_id, track_id), Affiliation.PARTY, None)

    def disown(self, key: tuple[str, str], affiliation: Affiliation = Affiliation.UNKNOWN) -> None:
        """A party's track ``key`` belongs to no party from now on (``affiliation``), reported by it."""
        with self._lock:
            party_id, track_id = key
            if self.claims.get(track_id) == party_id:
                del self.claims[track_id]
            self.disowned[key] = affiliation
            self._rekey(key, (NO_PARTY, track_id), affiliation, party_id)

    def _rekey(
        self, old: tuple[str, str], new: tuple[str, str], affiliation: Affiliation, reporter: str | None
    ) -> None:
        slot = self._slot.pop(old, None)
        if slot is None:
            return
        taken = self._slot.get(new)
        if taken is not None:  # the new owner reports it already: keep the newer of the two
            if self._cols["t"][taken] >= self._cols["t"][slot]:
                self._key[slot] = None
                self._live[slot] = False
                self._free.append(slot)
                return
            self._key[taken] = None
            self._live[taken] = False
            self._free.append(taken)
        self._slot[new] = slot
        self._key[slot] = new
        self._party[slot] = self._party_number(new[0])
        self._affiliation[slot] = affiliation
        self._reporter[slot] = reporter

    def expire(self, now: datetime) -> list[tuple[str, str]]:
        """Drop tracks whose newest report is older than the expiry; their keys."""
        cutoff = seconds(now) - self.expiry_s
        gone: list[tuple[str, str]] = []
        with self._lock:
            stale = np.flatnonzero(self._live & (self._cols["t"] < cutoff))
            for slot in stale.tolist():
                key = self._key[slot]
                if key is None:  # cannot happen: a live slot has a key
                    continue
                del self._slot[key]
                self._key[slot] = None
                self._callsign[slot] = None
                self._live[slot] = False
                self._free.append(slot)
                gone.append(key)
        return gone

    def snapshot(self, now: datetime) -> Snapshot:
        """Every track the store holds (the cycle expires stale ones first)."""
        with self._lock:
            return self._rows(now, np.flatnonzero(self._live))

    def cycle_snapshot(self, now: datetime, fresh: bool = False) -> Snapshot:
        """``snapshot(now)``: in process the arrays are the picture already."""
        return self.snapshot(now)

    def current(self, now: datetime, narrow_to: Reader | None = None) -> Snapshot:
        """The tracks not past the expiry at ``now``, without dropping the others (a read: between two
        cycles a silent track is still held, but it is gone for readers as soon as it has expired).
        ``narrow_to`` is ignored: in process, filtering the arrays costs the caller no more."""
        with self._lock:
            return self._rows(now, np.flatnonzero(self._live & (self._cols["t"] >= seconds(now) - self.expiry_s)))

    def _rows(self, now: datetime, rows: npt.NDArray[np.intp]) -> Snapshot:
        slots = rows.tolist()
        return Snapshot(
            at=seconds(now),
            keys=[k for k in (self._key[s] for s in slots) if k is not None],
            parties=list(self._parties),
            party=self._party[rows].copy(),
            columns={c: self._cols[c][rows].copy() for c in _COLUMNS},
            callsigns=[self._callsign[s] for s in slots],
            sources=[self._source[s] for s in slots],
            affiliations=[self._affiliation[s] for s in slots],
            reporters=[self._reporter[s] for s in slots],
        )

    def track(self, key: tuple[str, str]) -> dict[str, float] | None:
        """The newest report of one track, as numbers (``t`` in seconds since the epoch)."""
        with self._lock:
            slot = self._slot.get(key)
            if slot is None:
                return None
            return {c: float(self._cols[c][slot]) for c in _COLUMNS}


BBox = tuple[float, float, float, float]
"""(min_lon, min_lat, max_lon, max_lat), degrees; ``min_lon > max_lon`` crosses the antimeridian."""


def in_bbox(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], bbox: BBox) -> npt.NDArray[np.bool_]:
    """Which points lie in the box, edges included. A box with ``min_lon > max_lon`` wraps across the
    antimeridian (170,..,-170 holds 175 and -175); longitudes -180 and 180 are the same meridian."""
    min_lon, min_lat, max_lon, max_lat = bbox

    def across(x: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        if min_lon <= max_lon:
            return (x >= min_lon) & (x <= max_lon)
        return (x >= min_lon) | (x <= max_lon)

    same = np.where(np.abs(lon) == 180.0, -lon, lon)
    return (lat >= min_lat) & (lat <= max_lat) & (across(lon) | across(same))
