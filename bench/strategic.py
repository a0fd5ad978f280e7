"""Strategic deconfliction benchmark (a benchmark, not a test).

For each size (default 10,000 and 100,000 stored operations) it builds a fresh database (``--backend
sqlite``: a file in a temporary directory; ``postgresql``: a database of its own on 127.0.0.1:5432, dropped
afterwards), loads random operations over a theatre through the store API (``add_many``), prints the load
time and the database size per operation, and then:

(a) the latency of the conflict check for a new operation: ``service.operations.find_conflicts`` inside
    a read transaction (index query plus the exact geometry), p50/p90/p99/max wall and the checking
    thread's CPU time, with the mean number of index candidates and of conflicts found;
(c) the same new operations checked by a brute-force baseline in the same run (NumPy time/altitude
    filter over every stored operation, then vectorised shapely distances in a local frame), the ratio
    brute/indexed, and whether the two agree on which operations conflict;
(b) submissions per second end to end: a real server (``deconflict serve``) on that database, driven
    over HTTP/1.1 keep-alive connections by a load generator in another process, for non-overlapping
    and for fully overlapping traffic.

A summary table puts every number next to its target. ``bench/README.md`` explains the workload, the
baseline and how to read the output. Run ``.venv/bin/python bench/strategic.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import multiprocessing as mp
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deconfliction.domain.conflict import detect, occupancies
from deconfliction.domain.footprint import PolygonFootprint, validate_footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.party import Role
from deconfliction.domain.policy import OperationKind, SeparationPolicy
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D, format_time
from deconfliction.service.operations import candidate_query, find_conflicts
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Ids, Runtime
from deconfliction.store import open_store
from deconfliction.store.ports import Store
from servers import ADMIN_URL, Server, exchange, postgres_database

# ---------------------------------------------------------------------------------------------- targets

TARGET_CHECK_P99_MS = {100_000: 0.5, 1_000_000: 1.0}
"""Check latency p99 (ms) by number of stored operations."""
TARGET_LOAD_S = 120.0
TARGET_LOAD_SIZE = 1_000_000
"""1,000,000 operations loaded through the store API within two minutes."""
TARGET_NON_OVERLAPPING_PER_S = 1_000.0
TARGET_OVERLAPPING_PER_S = 300.0
INTERUSS_NON_OVERLAPPING = (120.0, 150.0)
INTERUSS_OVERLAPPING = (5.0, 25.0)
"""Requests per second the InterUSS DSS publishes on one machine (for comparison only)."""

# --------------------------------------------------------------------------------------------- workload

DAY0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
"""Stored operations and the checked ones start on this day (UTC): tomorrow, since the servers run on
the real clock and refuse a window that has wholly passed (window_in_past)."""
NON_OVERLAP_DAY = DAY0 + timedelta(days=2)
"""Non-overlapping HTTP traffic starts here: after every stored window has ended (they end by day 1)."""
OVERLAP_DAY = DAY0 + timedelta(days=30)
"""Overlapping HTTP traffic starts here, well after the non-overlapping slots."""

SIZE_KM = (1.0, 50.0)
"""Footprint diameters, log-uniform: many small operations, some large ones."""
VERTICES = (6, 12)
DURATION_MIN = (15, 240)
AIR_BAND_LO_M = (0.0, 12_000.0)
AIR_BAND_THICKNESS_M = (300.0, 3_000.0)
GROUND_BAND_M = (0.0, 100.0)
GROUND_SHARE = 0.2
"""The rest is air. Rules from the default policy: air-air 5 NM / 1,000 ft, ground-ground 1 km (no
vertical test), air-ground 1 km / 1,000 ft."""
OWNERS = 24
"""Parties that own the stored operations; the checked operations belong to another one."""

TRAFFIC_DIAMETER_KM = 20.0
GRID_KM = 40.0
"""Non-overlapping traffic: one 20 km polygon per 40 km grid cell (20 km apart at the closest, more than
5 NM), one slot of an hour per place (windows of 50 min, 10 min apart)."""
OVERLAP_STEP_S = 60
"""Overlapping traffic: submission i starts at OVERLAP_DAY + i * OVERLAP_STEP_S."""

BATCH = 10_000
"""Operations per write transaction (one ``add_many``) while loading."""
TOLERANCE_M = 2.0
"""Band either side of a threshold inside which the baseline and the service may disagree (the service
is exact within 1 m; the baseline's frame within about 1 m for pairs within 60 km of its centre)."""

WGS84_A = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
MEAN_RADIUS_M = 6_371_008.8

KINDS = (OperationKind.AIR, OperationKind.GROUND)


@dataclass(frozen=True)
class Region:
    lon: float
    lat: float
    width_km: float
    height_km: float

    @classmethod
    def parse(cls, text: str) -> Region:
        try:
            lon, lat, w, h = (float(p) for p in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"--region wants LON,LAT,WIDTH_KM,HEIGHT_KM, not {text!r}") from None
        if not (-180 <= lon <= 180 and -80 <= lat <= 80 and 50 <= w <= 5_000 and 50 <= h <= 5_000):
            raise argparse.ArgumentTypeError(f"--region {text!r} is out of range")
        return cls(lon, lat, w, h)

    @property
    def area_km2(self) -> float:
        return self.width_km * self.height_km

    def describe(self) -> str:
        ns = "N" if self.lat >= 0 else "S"
        ew = "E" if self.lon >= 0 else "W"
        return (
            f"{self.width_km:,.0f} x {self.height_km:,.0f} km box centred on {abs(self.lat):.2f}{ns} "
            f"{abs(self.lon):.2f}{ew}"
        )


DEFAULT_REGION = Region(43.0, 33.0, 1_500.0, 1_500.0)
REGION_NAME = "Levant and Mesopotamia: Syria, Iraq, Jordan, edges of Turkey, Iran and Saudi Arabia"


# ---------------------------------------------------------------------------------------- local frames


def aeqd_inverse(lon0: float, lat0: float, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spherical azimuthal equidistant, inverse: metres around (lon0, lat0) to degrees (for placing)."""
    s0, c0 = math.sin(math.radians(lat0)), math.cos(math.radians(lat0))
    rho = np.hypot(x_m, y_m)
    c = rho / MEAN_RADIUS_M
    sinc, cosc = np.sin(c), np.cos(c)
    safe = np.where(rho == 0.0, 1.0, rho)
    lat = np.arcsin(np.clip(cosc * s0 + y_m * sinc * c0 / safe, -1.0, 1.0))
    lon = np.arctan2(x_m * sinc, rho * c0 * cosc - y_m * s0 * sinc)
    return lon0 + np.degrees(lon), np.degrees(lat)


def local_frame(lon0: float, lat0: float) -> Callable[[np.ndarray], np.ndarray]:
    """The baseline's frame: azimuthal equidistant on the unit sphere around (lon0, lat0), x scaled by
    WGS84's prime-vertical radius and y by its meridional radius at lat0. It matches the ellipsoid's
    metric at the centre; within 60 km of it distances are within about 1e-4 (under 1 m at 9 km)."""
    s0, c0 = math.sin(math.radians(lat0)), math.cos(math.radians(lat0))
    w = math.sqrt(1.0 - WGS84_E2 * s0 * s0)
    n_radius = WGS84_A / w
    m_radius = WGS84_A * (1.0 - WGS84_E2) / w**3

    def forward(coords: np.ndarray) -> np.ndarray:
        lam = np.radians(coords[:, 0] - lon0)
        phi = np.radians(coords[:, 1])
        cp, sp, cl = np.cos(phi), np.sin(phi), np.cos(lam)
        x = cp * np.sin(lam)
        y = c0 * sp - s0 * cp * cl
        sinc = np.hypot(x, y)
        c = np.arctan2(sinc, s0 * sp + c0 * cp * cl)
        k = np.divide(c, sinc, out=np.ones_like(c), where=sinc > 0.0)
        return np.column_stack((n_radius * k * x, m_radius * k * y))

    return forward


# ------------------------------------------------------------------------------------------- workload


@dataclass(frozen=True)
class Plan:
    """One operation's declaration in plain values (what both the store loader and the wire need)."""

    kind: OperationKind
    ring: tuple[tuple[float, float], ...]
    alt_lo: float
    alt_hi: float
    start: datetime
    end: datetime


def polygon_ring(
    rng: np.random.Generator, lon: float, lat: float, diameter_km: float
) -> tuple[tuple[float, float], ...]:
    """A random star-shaped polygon (6-12 vertices, angles sorted, each gap below 180 degrees, so it is
    simple) of about ``diameter_km`` across, closed, coordinates rounded to 1e-6 degree (0.1 m)."""
    m = int(rng.integers(VERTICES[0], VERTICES[1] + 1))
    step = 2.0 * math.pi / m
    angles = rng.uniform(0, 2 * math.pi) + step * (np.arange(m) + rng.uniform(-0.35, 0.35, m))
    radii = diameter_km * 500.0 * rng.uniform(0.55, 1.0, m)
    dy = radii * np.sin(angles)
    dx = radii * np.cos(angles)
    lats = lat + np.degrees(dy / MEAN_RADIUS_M)
    lons = lon + np.degrees(dx / (MEAN_RADIUS_M * math.cos(math.radians(lat))))
    ring = [(round(float(a), 6), round(float(b), 6)) for a, b in zip(lons, lats, strict=True)]
    return (*ring, ring[0])


class Theatre:
    """Random operations over the region: centres uniform in the box (in a local AEQD frame), diameters
    log-uniform 1-50 km, 80 % air in bands between 0 and 15 km, 20 % ground (0-100 m), windows starting
    uniformly over DAY0 and lasting 15 min to 4 h."""

    def __init__(self, region: Region, rng: np.random.Generator) -> None:
        self.region = region
        self.rng = rng

    def centres(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        r = self.region
        x = self.rng.uniform(-r.width_km / 2, r.width_km / 2, n) * 1000.0
        y = self.rng.uniform(-r.height_km / 2, r.height_km / 2, n) * 1000.0
        return aeqd_inverse(r.lon, r.lat, x, y)

    def plans(self, n: int) -> Iterator[Plan]:
        rng = self.rng
        lons, lats = self.centres(n)
        diameters = np.exp(rng.uniform(math.log(SIZE_KM[0]), math.log(SIZE_KM[1]), n))
        ground = rng.random(n) < GROUND_SHARE
        lo = np.round(rng.uniform(*AIR_BAND_LO_M, n) / 50.0) * 50.0
        thick = np.round(rng.uniform(*AIR_BAND_THICKNESS_M, n) / 50.0) * 50.0
        start_min = rng.integers(0, 24 * 60, n)
        duration_min = rng.integers(DURATION_MIN[0], DURATION_MIN[1] + 1, n)
        for i in range(n):
            start = DAY0 + timedelta(minutes=int(start_min[i]))
            if ground[i]:
                kind, a_lo, a_hi = OperationKind.GROUND, GROUND_BAND_M[0], GROUND_BAND_M[1]
            else:
                kind, a_lo, a_hi = OperationKind.AIR, float(lo[i]), float(lo[i] + thick[i])
            yield Plan(
                kind,
                polygon_ring(rng, float(lons[i]), float(lats[i]), float(diameters[i])),
                a_lo,
                a_hi,
                start,
                start + timedelta(minutes=int(duration_min[i])),
            )


def to_operation(plan: Plan, ids: Ids, owner_id: str, now: datetime) -> Operation:
    volume = Volume4D.create(
        PolygonFootprint(((plan.ring,),)),
        AltitudeBand(plan.alt_lo, plan.alt_hi),
        TimeWindow(plan.start, plan.end),
    )
    return Operation(
        ids.new_id("op"), owner_id, plan.kind, 0, OperationState.PLANNED, 1, ids.new_token(), (volume,), "", now, now
    )


def to_wire(plan: Plan, title: str) -> dict[str, Any]:
    return {
        "kind": plan.kind.value,
        "title": title,
        "volumes": [
            {
                "footprint": {"type": "Polygon", "coordinates": [[list(p) for p in plan.ring]]},
                "altitude": {"lower_m": plan.alt_lo, "upper_m": plan.alt_hi},
                "window": {"start": format_time(plan.start), "end": format_time(plan.end)},
            }
        ],
    }


# ----------------------------------------------------------------------------------------------- output


class Out:
    """Console output: rich tables, and progress as a bar on a terminal or as periodic lines in a log."""

    def __init__(self) -> None:
        self.console = Console(highlight=False)
        if not self.console.is_terminal:
            self.console = Console(highlight=False, width=120)

    def line(self, text: str = "") -> None:
        self.console.print(text)

    def header(self, text: str) -> None:
        self.console.print()
        self.console.rule(f"[bold]{text}")

    def table(self, table: Table) -> None:
        self.console.print(table)

    @contextlib.contextmanager
    def progress(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        started = time.perf_counter()
        if self.console.is_terminal:
            bar = Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            with bar:
                task = bar.add_task(label, total=total)
                yield lambda done: bar.update(task, completed=done)
        else:
            shown = 0

            def update(done: int) -> None:
                nonlocal shown
                tenth = done * 10 // total
                if tenth > shown:
                    shown = tenth
                    self.line(
                        f"  {label}: {done:,} / {total:,} ({done / total:.0%}) {time.perf_counter() - started:.1f} s"
                    )

            yield update
        self.line(f"  {label}: {total:,} in {time.perf_counter() - started:.1f} s")


def pct(values: Sequence[float] | np.ndarray, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


def verdict(ok: bool) -> str:
    return "[green]PASS[/]" if ok else "[bold red]FAIL[/]"


# ------------------------------------------------------------------------------------------- the store


@dataclass
class Stored:
    """What the baseline keeps of every stored operation: columns for NumPy, cores for shapely."""

    ids: list[str] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    t0: list[int] = field(default_factory=list)
    t1: list[int] = field(default_factory=list)
    alt_lo: list[float] = field(default_factory=list)
    alt_hi: list[float] = field(default_factory=list)
    radius: list[float] = field(default_factory=list)
    centre: list[tuple[float, float]] = field(default_factory=list)
    reach: list[float] = field(default_factory=list)
    cores: list[Any] = field(default_factory=list)

    def add(self, op: Operation, owner_code: int) -> None:
        v = op.volumes[0]
        self.ids.append(op.id)
        self.owner.append(owner_code)
        self.kind.append(KINDS.index(op.kind))
        self.t0.append(_us(v.window.start))
        self.t1.append(_us(v.window.end))
        self.alt_lo.append(v.altitude.lower_m)
        self.alt_hi.append(v.altitude.upper_m)
        self.radius.append(v.shape.radius_m)
        self.centre.append(v.shape.center)
        self.reach.append(v.shape.reach_m)
        self.cores.append(v.shape.core)


def _us(t: datetime) -> int:
    return int((t - DAY0).total_seconds() * 1_000_000)


@dataclass
class Loaded:
    stored: Stored
    store_s: float
    """Wall time inside the store's write transactions (``add_many`` and the commits)."""
    store_cpu_s: float
    """This process's CPU time in them (on PostgreSQL the server's own CPU is not in it)."""
    make_s: float
    """Wall time building the operations (the geodesic shapes), the client's side of the work."""
    db_bytes: int


def load(out: Out, store: Store, url: str, theatre: Theatre, n: int, owners: list[str]) -> Loaded:
    """``n`` operations stored through the store API: BATCH per write transaction, one ``add_many`` each
    (the operations, their volumes and their index rows, as ``add`` stores them; the loader writes no
    ledger events and runs no detection, which the index and the checks do not read)."""
    ids = Ids()
    stored = Stored()
    owner_codes = theatre.rng.integers(0, len(owners), n)
    now = datetime.now(UTC)
    plans = theatre.plans(n)
    limits = Limits()
    store_s = store_cpu = make_s = 0.0
    with out.progress(f"loading {n:,} operations", n) as update:
        done = 0
        while done < n:
            t0 = time.perf_counter()
            batch = []
            for _ in range(min(BATCH, n - done)):
                code = int(owner_codes[done])
                op = to_operation(next(plans), ids, owners[code], now)
                if done < 200:  # the generator makes valid polygons; prove it on a sample
                    validate_footprint(op.volumes[0].footprint, limits)
                batch.append(op)
                stored.add(op, code)
                done += 1
            t1, c1 = time.perf_counter(), time.process_time()
            with store.write(bulk=True) as tx:
                tx.operations.add_many(batch)
            store_s += time.perf_counter() - t1
            store_cpu += time.process_time() - c1
            make_s += t1 - t0
            update(done)
    size = database_bytes(url)
    out.line(
        f"  load through the store API: {store_s:.1f} s wall, {store_cpu:.1f} s CPU in this process "
        f"({n / store_s:,.0f} operations/s); building the operations (geodesic shapes): {make_s:.1f} s; "
        f"database {size / 1e6:,.1f} MB, {size / n:,.0f} bytes per operation"
    )
    return Loaded(stored, store_s, store_cpu, make_s, size)


def database_bytes(url: str) -> int:
    """The database's size on disk: the SQLite file and its WAL; pg_database_size on PostgreSQL."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        return sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists())
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0


def analyze(url: str) -> None:
    """PostgreSQL: refresh the planner's statistics after the bulk load (autovacuum would, a little later)."""
    if not url.startswith("sqlite"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")


def count(url: str, sql: str, params: Sequence[Any]) -> int:
    """One ``SELECT COUNT(*)`` (``?`` placeholders) on the bench's database, read-only on SQLite."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return int(conn.execute(sql, params).fetchone()[0])
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(sql.replace("?", "%s"), params).fetchone()
        return int(row[0]) if row else 0


# ------------------------------------------------------------------------------------ (a) indexed check


@dataclass
class CheckRun:
    latency_ms: np.ndarray
    cpu_ms: np.ndarray
    """The checking thread's CPU time per check (on PostgreSQL the server's work is not in it)."""
    found: list[set[str]]
    candidates: np.ndarray
    index_ms: np.ndarray
    exact_ms: np.ndarray


def run_checks(store: Store, policy: SeparationPolicy, warmup: list[Operation], probes: list[Operation]) -> CheckRun:
    """Time ``find_conflicts`` for every probe inside one read transaction each (after the ``warmup``
    ones, not reported); then, in a second pass, count its index candidates and time the two halves
    (index query, exact detection) separately."""
    with store.read() as tx:
        for op in warmup:
            find_conflicts(tx, policy, op)
    latency = np.empty(len(probes))
    cpu = np.empty(len(probes))
    found: list[set[str]] = []
    clock, thread_clock = time.perf_counter_ns, time.thread_time_ns
    for i, op in enumerate(probes):
        with store.read() as tx:
            c0 = thread_clock()
            t0 = clock()
            findings = find_conflicts(tx, policy, op)
            latency[i] = (clock() - t0) / 1e6
            cpu[i] = (thread_clock() - c0) / 1e6
        found.append({f.operation_b for f in findings})
    candidates = np.empty(len(probes))
    index_ms = np.empty(len(probes))
    exact_ms = np.empty(len(probes))
    for i, op in enumerate(probes):
        with store.read() as tx:
            t0 = clock()
            subject = occupancies(op)
            seen = {}
            for o in subject:
                for c in tx.operations.candidates(candidate_query(o, policy)):
                    seen[(c.operation_id, c.index)] = c
            t1 = clock()
            detect(subject, list(seen.values()), policy)
            t2 = clock()
        candidates[i] = len(seen)
        index_ms[i] = (t1 - t0) / 1e6
        exact_ms[i] = (t2 - t1) / 1e6
    return CheckRun(latency, cpu, found, candidates, index_ms, exact_ms)


# ------------------------------------------------------------------------------- (c) brute-force check


class BruteForce:
    """The baseline: no index, every stored operation considered for every check.

    1. NumPy over all N stored operations: another owner, the rule of the pair of kinds (lookup
       tables), windows within the rule's time margin (half-open), bands within its vertical margin.
    2. The survivors' cores (the same densified geodesic rings the service stores) and the new one are
       projected with ``local_frame`` around the new footprint, in one vectorised ``shapely.transform``.
    3. One vectorised ``shapely.distance`` (GEOS) of the new core against all survivors; minus the buffer
       radii; a conflict when below the rule's horizontal minimum.
    """

    def __init__(self, stored: Stored, policy: SeparationPolicy) -> None:
        self.ids = np.array(stored.ids, dtype=object)
        self.owner = np.array(stored.owner, dtype=np.int32)
        self.kind = np.array(stored.kind, dtype=np.int8)
        self.t0 = np.array(stored.t0, dtype=np.int64)
        self.t1 = np.array(stored.t1, dtype=np.int64)
        self.alt_lo = np.array(stored.alt_lo)
        self.alt_hi = np.array(stored.alt_hi)
        self.radius = np.array(stored.radius)
        self.cores = np.array(stored.cores, dtype=object)
        self.centre = np.radians(np.array(stored.centre))
        self.reach = np.array(stored.reach)
        # per kind of the new operation: per kind of the stored one, the rule's minima
        self.h: dict[OperationKind, np.ndarray] = {}
        self.v: dict[OperationKind, np.ndarray] = {}
        self.t_us: dict[OperationKind, np.ndarray] = {}
        for k in KINDS:
            rules = [policy.rule(k, other) for other in KINDS]
            self.h[k] = np.array([max(r.horizontal_m, 1e-6) for r in rules])
            self.v[k] = np.array([np.nan if r.vertical_m is None else r.vertical_m for r in rules])
            self.t_us[k] = np.array([r.time_s * 1e6 for r in rules])

    def check(self, op: Operation, owner_code: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indices of the survivors of the filters, their distances in metres, their thresholds)."""
        v = op.volumes[0]
        s0, s1 = _us(v.window.start), _us(v.window.end)
        k = self.kind
        gap_t = np.maximum(np.maximum(self.t0 - s1, s0 - self.t1), 0)
        close_t = ((s0 < self.t1) & (self.t0 < s1)) | (gap_t < self.t_us[op.kind][k])
        gap_a = np.maximum(np.maximum(self.alt_lo - v.altitude.upper_m, v.altitude.lower_m - self.alt_hi), 0.0)
        vmin = self.v[op.kind][k]
        # the exactness rule (docs/policy.md): closer than the minimum by more than half a millimetre
        close_a = np.isnan(vmin) | (gap_a == 0.0) | (gap_a < vmin - 0.0005)
        idx = np.flatnonzero(close_t & close_a & (self.owner != owner_code))
        frame = local_frame(*v.shape.center)
        projected = shapely.transform(np.concatenate(([v.shape.core], self.cores[idx])), frame)
        d = shapely.distance(projected[0], projected[1:]) - self.radius[idx] - v.shape.radius_m
        return idx, np.maximum(d, 0.0), self.h[op.kind][k[idx]]

    def spatial_neighbours(self, op: Operation, horizontal_m: float) -> int:
        """Stored footprints within ``horizontal_m`` of the new one at any time and altitude (untimed;
        for the density statement): centre distances prune, shapely decides."""
        v = op.volumes[0]
        lon0, lat0 = np.radians(v.shape.center)
        lon, lat = self.centre[:, 0], self.centre[:, 1]
        h = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2
        dist = 2 * MEAN_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
        idx = np.flatnonzero(dist < (self.reach + v.shape.reach_m + horizontal_m) * 1.02)
        frame = local_frame(*v.shape.center)
        projected = shapely.transform(np.concatenate(([v.shape.core], self.cores[idx])), frame)
        d = shapely.distance(projected[0], projected[1:]) - self.radius[idx] - v.shape.radius_m
        return int(np.count_nonzero(d < horizontal_m))


@dataclass
class BruteRun:
    latency_ms: np.ndarray
    survivors: float
    """Mean number of stored operations left after the NumPy filters, measured with shapely."""
    agree: int
    disagree: int
    near_agree: int
    near_disagree: int
    examples: list[str]


def run_brute(
    brute: BruteForce, warmup: list[Operation], probes: list[Operation], owner_code: int, run: CheckRun
) -> BruteRun:
    for op in warmup:
        brute.check(op, owner_code)
    latency = np.empty(len(probes))
    survivors = 0
    agree = disagree = near_agree = near_disagree = 0
    examples: list[str] = []
    clock = time.perf_counter_ns
    for i, op in enumerate(probes):
        t0 = clock()
        idx, d, h = brute.check(op, owner_code)
        latency[i] = (clock() - t0) / 1e6
        survivors += len(idx)
        mine = {str(x) for x in brute.ids[idx[d < h]]}
        near = {str(x) for x in brute.ids[idx[np.abs(d - h) <= TOLERANCE_M]]}
        theirs = run.found[i]
        for op_id in mine | theirs:
            same = (op_id in mine) == (op_id in theirs)
            if op_id in near:
                near_agree += same
                near_disagree += not same
            elif same:
                agree += 1
            else:
                disagree += 1
                if len(examples) < 5:
                    side = "baseline only" if op_id in mine else "service only"
                    examples.append(f"check {i}: {op.id} x {op_id} ({side})")
    return BruteRun(latency, survivors / len(probes), agree, disagree, near_agree, near_disagree, examples)


# ------------------------------------------------------------------------------- (b) HTTP end to end


@dataclass(frozen=True)
class MixSpec:
    """What the load generator needs to build and send one traffic mix."""

    name: str
    port: int
    keys: tuple[str, ...]
    region: Region
    seed: int
    connections: int
    seconds: float
    max_requests: int
    overlap_k: int


def mix_plans(spec: MixSpec) -> list[tuple[Plan, int]]:
    """(plan, index of the party's key) for every submission the mix may send, in sending order.

    non-overlapping: 20 km polygons on a 40 km grid over the region, one place after the other, then the
    next hour; nothing comes within 5 NM of anything else in space and time, stored operations included.
    overlapping: 20 km polygons all within 1 km of the region's centre, the same band, submission i in
    [OVERLAP_DAY + i s, + (2k + 0.5) s) with s = OVERLAP_STEP_S, parties alternating: each overlaps the
    2k before it and the 2k after it, k of each of the other party, so each conflicts with k earlier ones.
    """
    rng = np.random.default_rng(spec.seed)
    r = spec.region
    out: list[tuple[Plan, int]] = []
    if spec.name == "non-overlapping":
        nx, ny = int(r.width_km // GRID_KM), int(r.height_km // GRID_KM)
        xs = (np.arange(nx) - (nx - 1) / 2) * GRID_KM * 1000.0
        ys = (np.arange(ny) - (ny - 1) / 2) * GRID_KM * 1000.0
        gx, gy = np.meshgrid(xs, ys)
        lons, lats = aeqd_inverse(r.lon, r.lat, gx.ravel(), gy.ravel())
        places = len(lons)
        for i in range(spec.max_requests):
            p, slot = i % places, i // places
            start = NON_OVERLAP_DAY + timedelta(hours=slot, minutes=5)
            ring = polygon_ring(rng, float(lons[p]), float(lats[p]), TRAFFIC_DIAMETER_KM)
            out.append((Plan(OperationKind.AIR, ring, 1000.0, 2000.0, start, start + timedelta(minutes=50)), i))
        assert NON_OVERLAP_DAY + timedelta(hours=spec.max_requests // places + 1) < OVERLAP_DAY
    else:
        length = timedelta(seconds=(2 * spec.overlap_k + 0.5) * OVERLAP_STEP_S)
        jitter = rng.uniform(-1000.0, 1000.0, (spec.max_requests, 2))
        lons, lats = aeqd_inverse(r.lon, r.lat, jitter[:, 0], jitter[:, 1])
        for i in range(spec.max_requests):
            start = OVERLAP_DAY + timedelta(seconds=i * OVERLAP_STEP_S)
            ring = polygon_ring(rng, float(lons[i]), float(lats[i]), TRAFFIC_DIAMETER_KM)
            out.append((Plan(OperationKind.AIR, ring, 1000.0, 2000.0, start, start + length), i))
    return [(plan, i % len(spec.keys)) for plan, i in out]


def _requests(spec: MixSpec) -> list[bytes]:
    out = []
    for i, (plan, key) in enumerate(mix_plans(spec)):
        body = orjson.dumps(to_wire(plan, f"{spec.name} {i}"))
        head = (
            f"POST /v1/operations HTTP/1.1\r\nHost: 127.0.0.1:{spec.port}\r\n"
            f"Authorization: Bearer {spec.keys[key]}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def _drive(spec: MixSpec, requests: list[bytes]) -> dict[str, Any]:
    conns = [await asyncio.open_connection("127.0.0.1", spec.port) for _ in range(spec.connections)]
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    latencies: list[float] = []
    finished: list[float] = []
    conflicts: list[int] = []
    nxt = 0

    def record(status: int, body: bytes, timed: tuple[float, float] | None) -> None:
        statuses[status] += 1
        if status != 201:
            if len(errors) < 5:
                errors.append(f"{status}: {body[:300].decode(errors='replace')}")
            return
        conflicts.append(len(orjson.loads(body)["conflicts"]))
        if timed is not None:
            latencies.append(timed[1] - timed[0])
            finished.append(timed[1])

    async def warm(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal nxt
        i, nxt = nxt, nxt + 1
        status, body = await exchange(reader, writer, requests[i])
        record(status, body, None)

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, deadline: float) -> None:
        nonlocal nxt
        clock = time.perf_counter
        while nxt < len(requests) and clock() < deadline:
            i, nxt = nxt, nxt + 1
            t0 = clock()
            try:
                status, body = await exchange(reader, writer, requests[i])
            except (OSError, asyncio.IncompleteReadError) as exc:
                statuses[-1] += 1
                if len(errors) < 5:
                    errors.append(f"connection: {type(exc).__name__}: {exc}")
                return
            record(status, body, (t0, clock()))

    # the first request of each connection is not timed (connection set-up, first compile of statements)
    await asyncio.gather(*(warm(r, w) for r, w in conns))
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(r, w, t0 + spec.seconds) for r, w in conns))
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    for _, w in conns:
        w.close()
    return {
        "sent": nxt,
        "statuses": dict(statuses),
        "errors": errors,
        "latencies": latencies,
        "finished": [f - t0 for f in finished],
        "conflicts": conflicts,
        "elapsed": elapsed,
        "cpu": cpu,
        "exhausted": nxt >= len(requests),
        "warmup": spec.connections,
    }


def loadgen_main(spec: MixSpec, conn: Any) -> None:
    """Entry point of the load generator process: build every request first, then drive the server."""
    try:
        t0 = time.perf_counter()
        requests = _requests(spec)
        built = time.perf_counter() - t0
        try:
            import uvloop

            runner: Callable[[Any], dict[str, Any]] = uvloop.run
        except ImportError:
            runner = asyncio.run
        result = runner(_drive(spec, requests))
        result["build_s"] = built
        result["loop"] = "uvloop" if runner is not asyncio.run else "asyncio"
        conn.send(result)
    except KeyboardInterrupt:
        pass
    except BaseException as exc:
        conn.send({"failure": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


@dataclass
class MixRun:
    name: str
    created: int
    timed: int
    per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    error_examples: list[str]
    stored: int
    conflicts_mean: float
    conflicts_max: int
    conflict_rows: int
    conflicts_reported: int
    client_cpu_s: float
    server_cpu_s: float
    elapsed_s: float
    thirds: list[float]
    exhausted: bool
    loop: str

    @property
    def count_ok(self) -> bool:
        return self.stored == self.created


def run_mix(spec: MixSpec, server: Server, url: str, party_ids: list[str]) -> MixRun:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=loadgen_main, args=(spec, child), name=f"loadgen-{spec.name}")
    server_cpu0 = server.cpu_seconds()
    proc.start()
    child.close()
    try:
        while not parent.poll(1.0):
            if not proc.is_alive():
                raise RuntimeError(f"the load generator exited with {proc.exitcode} and no result")
            if server.proc.poll() is not None:
                raise RuntimeError(f"the server died during the run:\n{server.log_tail()}")
        try:
            result = parent.recv()
        except EOFError:
            raise RuntimeError(f"the load generator exited with {proc.exitcode} and no result") from None
        proc.join(30)
    finally:
        if proc.is_alive():
            proc.terminate()
            proc.join(10)
        parent.close()
    server_cpu = server.cpu_seconds() - server_cpu0
    if "failure" in result:
        raise RuntimeError(f"load generator failed: {result['failure']}")
    statuses: dict[int, int] = result["statuses"]
    created = statuses.get(201, 0)
    lat = np.array(result["latencies"]) * 1000.0
    marks = ",".join("?" for _ in party_ids)
    stored = count(url, f"SELECT COUNT(*) FROM operations WHERE owner_id IN ({marks})", party_ids)
    rows = count(url, f"SELECT COUNT(*) FROM conflicts WHERE party_a IN ({marks})", party_ids)
    finished = np.array(result["finished"])
    elapsed = float(result["elapsed"])
    thirds = [
        float(np.count_nonzero((finished >= elapsed * j / 3) & (finished < elapsed * (j + 1) / 3))) / (elapsed / 3)
        for j in range(3)
    ]
    conflicts = result["conflicts"]
    return MixRun(
        spec.name,
        created,
        len(lat),
        len(lat) / elapsed if elapsed else 0.0,
        pct(lat, 50),
        pct(lat, 99),
        sum(n for s, n in statuses.items() if s != 201),
        result["errors"],
        int(stored),
        float(np.mean(conflicts)) if conflicts else 0.0,
        max(conflicts, default=0),
        int(rows),
        int(sum(conflicts)),
        float(result["cpu"]),
        server_cpu,
        elapsed,
        thirds,
        bool(result["exhausted"]),
        str(result["loop"]),
    )


# --------------------------------------------------------------------------------------------- one size


@dataclass
class SizeResult:
    size: int
    load: Loaded
    checks: CheckRun
    brute: BruteRun
    neighbours: float
    mixes: list[MixRun]


def bench_size(out: Out, args: argparse.Namespace, size: int, workdir: Path) -> SizeResult:
    out.header(f"{size:,} stored operations")
    db = workdir / f"strategic-{size}.db"
    drop: Callable[[], None] | None = None
    if args.backend == "postgresql":
        url, drop = postgres_database("dc_strategic")
    else:
        url = f"sqlite:///{db}"  # sqlite_synchronous FULL, the default
    try:
        return _bench_size(out, args, size, url, workdir)
    finally:
        if drop is not None:
            drop()
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def _bench_size(out: Out, args: argparse.Namespace, size: int, url: str, workdir: Path) -> SizeResult:
    rng = np.random.default_rng([args.seed, size])
    theatre = Theatre(args.region, rng)
    policy = SeparationPolicy()
    store = open_store(url)
    try:
        rt = Runtime(store, policy)
        owners = [create_party(rt, None, f"theatre-{i:02d}", Role.PARTY)[0].id for i in range(OWNERS)]
        probe_party = create_party(rt, None, "probe", Role.PARTY)[0]
        traffic = {
            "non-overlapping": [create_party(rt, None, f"flow-{i}", Role.PARTY) for i in range(4)],
            "overlapping": [create_party(rt, None, f"stack-{c}", Role.PARTY) for c in "ab"],
        }
        loaded = load(out, store, url, theatre, size, owners)
        analyze(url)
        brute = BruteForce(loaded.stored, policy)
        loaded.stored = Stored()
        ids = Ids()
        now = datetime.now(UTC)
        probes = [to_operation(p, ids, probe_party.id, now) for p in theatre.plans(args.checks + args.warmup)]
        gc.collect()
        gc.freeze()  # the bench's own bookkeeping (100k cores) is not the server's: keep it out of GC passes
        out.line(f"  checking {args.checks:,} new operations (+{args.warmup} warm-up), indexed then brute force")
        warmup, probes = probes[: args.warmup], probes[args.warmup :]
        checks = run_checks(store, policy, warmup, probes)
        brute_run = run_brute(brute, warmup, probes, -1, checks)
        widest = policy.rule(OperationKind.AIR, OperationKind.AIR).horizontal_m
        sample = probes[: min(args.checks, 300)]
        neighbours = float(np.mean([brute.spatial_neighbours(op, widest) for op in sample]))
        gc.unfreeze()
        del brute, probes, warmup
        gc.collect()
    finally:
        store.close()
    print_checks(out, size, checks, brute_run, neighbours, args.region)

    mixes: list[MixRun] = []
    if not args.no_http:
        server = Server(url, workdir, args.server_workers)
        try:
            server.wait_ready()
            out.line(f"  server: {server.command}")
            for name in ("non-overlapping", "overlapping"):
                keys = tuple(k for _, k in traffic[name])
                spec = MixSpec(
                    name,
                    server.port,
                    keys,
                    args.region,
                    args.seed + size,
                    args.connections,
                    args.http_seconds,
                    args.http_max,
                    args.overlap_k,
                )
                out.line(f"  {name}: {args.connections} connections for {args.http_seconds:g} s ...")
                mixes.append(run_mix(spec, server, url, [p.id for p, _ in traffic[name]]))
        finally:
            server.stop()
        print_mixes(out, size, mixes, args)
    return SizeResult(size, loaded, checks, brute_run, neighbours, mixes)


# ---------------------------------------------------------------------------------------------- reports


def print_checks(out: Out, size: int, c: CheckRun, b: BruteRun, neighbours: float, region: Region) -> None:
    density = size / region.area_km2
    found = np.array([len(s) for s in c.found])
    out.line(
        f"  density: {density:.4f} operations/km2; per new operation {neighbours:.1f} stored footprints within "
        f"5 NM at any time/altitude (spatial neighbours), {c.candidates.mean():.1f} index candidates, "
        f"{found.mean():.2f} conflicts (4D)"
    )
    t = Table(title=f"(a) check latency and (c) brute-force baseline, {size:,} stored, {len(c.latency_ms):,} checks")
    for col in ("ms", "p50", "p90", "p99", "max", "mean"):
        t.add_column(col, justify="right")
    rows = (
        ("find_conflicts (indexed)", c.latency_ms),
        ("  its thread's CPU", c.cpu_ms),
        ("  index query only*", c.index_ms),
        ("  exact detection only*", c.exact_ms),
        ("brute force", b.latency_ms),
    )
    for name, v in rows:
        t.add_row(name, *(f"{x:.3f}" for x in (pct(v, 50), pct(v, 90), pct(v, 99), float(v.max()), float(v.mean()))))
    out.table(t)
    out.line("  * a second pass over the same checks, timing the index query and the exact detection apart")
    out.line(
        f"  brute force: NumPy owner/time/altitude filter over all {size:,} stored, then one vectorised "
        f"shapely.distance in a local frame against the {b.survivors:,.0f} survivors (mean)"
    )
    out.line(
        f"  ratio brute/indexed: p50 {pct(b.latency_ms, 50) / pct(c.latency_ms, 50):.1f}x, "
        f"mean {b.latency_ms.mean() / c.latency_ms.mean():.1f}x"
    )
    out.line(
        f"  agreement: {b.agree:,} conflicting pairs agree, {b.disagree} disagree outside the "
        f"+/-{TOLERANCE_M:g} m band; inside the band {b.near_agree} agree, {b.near_disagree} differ "
        "(both answers accepted there)"
    )
    for e in b.examples:
        out.line(f"    disagreement {e}")
    t = Table(title="indexed check latency by conflicts found")
    for col in ("conflicts", "checks", "p50 ms", "p99 ms", "mean candidates"):
        t.add_column(col, justify="right")
    for lo, hi, label in ((0, 0, "0"), (1, 1, "1"), (2, 3, "2-3"), (4, 7, "4-7"), (8, 10**9, "8+")):
        sel = (found >= lo) & (found <= hi)
        if sel.any():
            t.add_row(
                label,
                f"{int(sel.sum()):,}",
                f"{pct(c.latency_ms[sel], 50):.3f}",
                f"{pct(c.latency_ms[sel], 99):.3f}",
                f"{c.candidates[sel].mean():.1f}",
            )
    out.table(t)


def print_mixes(out: Out, size: int, mixes: list[MixRun], args: argparse.Namespace) -> None:
    where = "SQLite (synchronous=FULL)" if args.backend == "sqlite" else "PostgreSQL"
    t = Table(title=f"(b) end to end over HTTP on {where}, {size:,} stored before")
    for col in (
        "traffic",
        "201s",
        "subm/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "stored",
        "conflicts",
        "server CPU/subm",
        "client CPU/subm",
    ):
        t.add_column(col, justify="right")
    for m in mixes:
        t.add_row(
            m.name,
            f"{m.created:,}",
            f"{m.per_s:,.0f}",
            f"{m.p50_ms:.1f}",
            f"{m.p99_ms:.1f}",
            str(m.errors),
            f"{m.stored:,} {'=' if m.count_ok else '!='}",
            f"{m.conflicts_mean:.2f} max {m.conflicts_max}",
            f"{m.server_cpu_s / max(m.timed, 1) * 1e6:,.0f} us ({m.server_cpu_s / m.elapsed_s:.0%})",
            f"{m.client_cpu_s / max(m.timed, 1) * 1e6:,.0f} us ({m.client_cpu_s / m.elapsed_s:.0%})",
        )
    out.table(t)
    out.line(
        "  stored: operations of the mix's parties in the database afterwards ('=': equal to the 201s); conflicts: "
        "per 201 response, mean and max; CPU: per timed submission, in brackets the share of one core over the run "
        "(server: the server's processes; client: the load generator process)"
    )
    for m in mixes:
        out.line(
            f"  {m.name}: {m.timed:,} timed in {m.elapsed_s:.1f} s (+{m.created - m.timed:,} untimed warm-up); "
            f"rate by thirds of the run {' / '.join(f'{x:,.0f}' for x in m.thirds)} per s; CPU seconds: server "
            f"{m.server_cpu_s:.1f}, client {m.client_cpu_s:.2f} ({m.loop})"
            + ("; ran out of prepared requests (raise --http-max)" if m.exhausted else "")
        )
        if m.name == "overlapping":
            out.line(
                f"  overlapping: k = {args.overlap_k} (each submission overlaps the {2 * args.overlap_k} before it, "
                f"{args.overlap_k} of them of the other party); conflict records stored {m.conflict_rows:,}, "
                f"reported in responses {m.conflicts_reported:,}"
            )
        for e in m.error_examples:
            out.line(f"    error {e}")


def summary(out: Out, results: list[SizeResult], args: argparse.Namespace) -> bool:
    """The final table; returns whether every correctness check held (targets are reported, not enforced)."""
    t = Table(title="Summary")
    for col in ("measure", "stored", "value", "target", "result"):
        t.add_column(col, justify="right")
    correct = True
    for r in results:
        p99 = pct(r.checks.latency_ms, 99)
        target = TARGET_CHECK_P99_MS.get(r.size)
        if target is not None:
            t.add_row("check p99", f"{r.size:,}", f"{p99:.3f} ms", f"<= {target:g} ms", verdict(p99 <= target))
        else:
            t.add_row("check p99", f"{r.size:,}", f"{p99:.3f} ms", "(targets at 100,000 and 1,000,000)", "info")
        t.add_row("check p99 thread CPU", f"{r.size:,}", f"{pct(r.checks.cpu_ms, 99):.3f} ms", "", "info")
        t.add_row("check p50", f"{r.size:,}", f"{pct(r.checks.latency_ms, 50):.3f} ms", "", "info")
        load_s = r.load.store_s
        if r.size == TARGET_LOAD_SIZE:
            t.add_row(
                "load (store API)",
                f"{r.size:,}",
                f"{load_s:.1f} s",
                f"<= {TARGET_LOAD_S:g} s",
                verdict(load_s <= TARGET_LOAD_S),
            )
        else:
            t.add_row("load (store API)", f"{r.size:,}", f"{load_s:.1f} s", f"(target at {TARGET_LOAD_SIZE:,})", "info")
        t.add_row("database per operation", f"{r.size:,}", f"{r.load.db_bytes / r.size:,.0f} B", "", "info")
        ratio = pct(r.brute.latency_ms, 50) / pct(r.checks.latency_ms, 50)
        t.add_row("brute/indexed p50", f"{r.size:,}", f"{ratio:.1f}x", "same run", "info")
        t.add_row("disagreements", f"{r.size:,}", str(r.brute.disagree), "0", verdict(r.brute.disagree == 0))
        correct &= r.brute.disagree == 0
        for m in r.mixes:
            target = TARGET_NON_OVERLAPPING_PER_S if m.name == "non-overlapping" else TARGET_OVERLAPPING_PER_S
            t.add_row(
                f"subm/s {m.name}", f"{r.size:,}", f"{m.per_s:,.0f}", f">= {target:,.0f}", verdict(m.per_s >= target)
            )
            t.add_row(f"errors {m.name}", f"{r.size:,}", str(m.errors), "0", verdict(m.errors == 0))
            t.add_row(
                f"stored = 201s {m.name}", f"{r.size:,}", f"{m.stored:,} / {m.created:,}", "equal", verdict(m.count_ok)
            )
            correct &= m.errors == 0 and m.count_ok
    for size, target in TARGET_CHECK_P99_MS.items():
        if all(r.size != size for r in results):
            t.add_row("check p99", f"{size:,}", "not run", f"<= {target:g} ms", "n/a")
    out.table(t)

    t = Table(title="For comparison: the InterUSS DSS (published, one machine)")
    for col in ("traffic", "InterUSS DSS req/s", "this run subm/s", "stored", "ratio"):
        t.add_column(col, justify="right")
    for r in results:
        for m in r.mixes:
            lo, hi = INTERUSS_NON_OVERLAPPING if m.name == "non-overlapping" else INTERUSS_OVERLAPPING
            t.add_row(
                m.name, f"{lo:g}-{hi:g}", f"{m.per_s:,.0f}", f"{r.size:,}", f"{m.per_s / hi:.1f}-{m.per_s / lo:.1f}x"
            )
    if any(r.mixes for r in results):
        out.table(t)
    return correct


def environment(out: Out, args: argparse.Namespace, workdir: Path) -> None:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    fs = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        fs = subprocess.run(
            ["findmnt", "-no", "FSTYPE", "-T", str(workdir)], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    out.line(
        f"machine: {os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"GEOS {shapely.geos_version_string}, NumPy {np.__version__}"
    )
    if args.backend == "sqlite":
        out.line(f"backend: SQLite, database files in {workdir} ({fs}), synchronous=FULL, WAL")
    else:
        out.line(f"backend: PostgreSQL {postgres_version()} at {ADMIN_URL.rsplit('/', 1)[0]}, a database per size")
    out.line(f"region: {args.region.describe()} ({REGION_NAME})")
    out.line(
        f"stored operations: polygons of {SIZE_KM[0]:g}-{SIZE_KM[1]:g} km (log-uniform diameter, {VERTICES[0]}-"
        f"{VERTICES[1]} vertices), {1 - GROUND_SHARE:.0%} air in bands of {AIR_BAND_THICKNESS_M[0]:g}-"
        f"{AIR_BAND_THICKNESS_M[1]:g} m between {AIR_BAND_LO_M[0]:g} and "
        f"{AIR_BAND_LO_M[1] + AIR_BAND_THICKNESS_M[1]:g} m, {GROUND_SHARE:.0%} ground at "
        f"{GROUND_BAND_M[0]:g}-{GROUND_BAND_M[1]:g} m, windows of {DURATION_MIN[0]}-{DURATION_MIN[1]} min starting "
        f"over {DAY0:%Y-%m-%d} UTC, {OWNERS} owning parties; default separation policy"
    )
    out.line(
        f"checks: {args.checks:,} new operations of the same distribution owned by another party; seed {args.seed}"
    )


# ------------------------------------------------------------------------------------------------- main


def postgres_version() -> str:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--sizes", default="10000,100000", help="stored operations, comma-separated (up to 1000000)")
    p.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="where the operations are stored and the server runs (postgresql: DECONFLICTION_BENCH_POSTGRES_URL)",
    )
    p.add_argument("--checks", type=int, default=2_000, help="new operations checked per size (indexed and brute)")
    p.add_argument("--warmup", type=int, default=50, help="checks run first and not reported")
    p.add_argument("--http-seconds", type=float, default=15.0, help="duration of each HTTP traffic mix")
    p.add_argument("--http-max", type=int, default=40_000, help="requests prepared per mix (a cap on the count)")
    p.add_argument("--connections", type=int, default=64, help="concurrent keep-alive connections")
    p.add_argument("--overlap-k", type=int, default=4, help="earlier submissions each overlapping one conflicts with")
    p.add_argument("--server-workers", type=int, default=1, help="server processes (deconflict serve --workers)")
    p.add_argument("--no-http", action="store_true", help="skip (b), the HTTP runs")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument(
        "--region",
        type=Region.parse,
        default=DEFAULT_REGION,
        metavar="LON,LAT,WIDTH_KM,HEIGHT_KM",
        help=f"centre and size of the theatre (default {DEFAULT_REGION.lon:g},{DEFAULT_REGION.lat:g},"
        f"{DEFAULT_REGION.width_km:g},{DEFAULT_REGION.height_km:g})",
    )
    p.add_argument("--tmpdir", default=None, help="where the temporary database files go (default: system temp)")
    p.add_argument("--quick", action="store_true", help="smoke run: 1,000 stored, 200 checks, 3 s per mix")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.checks, args.warmup, args.http_seconds, args.connections = "1000", 200, 20, 3.0, 32
        args.http_max = min(args.http_max, 10_000)
    try:
        args.size_list = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes wants integers separated by commas, not {args.sizes!r}")
    if not args.size_list or min(args.size_list) < 1 or args.checks < 1 or args.warmup < 0:
        p.error("sizes and --checks must be positive, --warmup at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = Out()
    workdir = Path(tempfile.mkdtemp(prefix="strategic-bench-", dir=args.tmpdir))
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill too
    started = time.perf_counter()
    try:
        out.header("strategic deconfliction benchmark")
        given = " ".join(sys.argv[1:] if argv is None else argv)
        out.line(f"command: {Path(sys.executable).name} bench/strategic.py {given}")
        environment(out, args, workdir)
        results = [bench_size(out, args, size, workdir) for size in args.size_list]
        out.header("summary")
        correct = summary(out, results, args)
        out.line(f"total time {time.perf_counter() - started:.0f} s")
        return 0 if correct else 1
    except KeyboardInterrupt:
        out.line("interrupted: cleaning up")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
