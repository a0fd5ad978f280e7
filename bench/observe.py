"""bench/observe.py: what logs and metrics cost (docs/operations.md).

A benchmark, not a test. Three figures, each next to its target, with the baseline measured in the
same run:

1. Request latency through a real ``deconflict serve`` with the default logs (INFO, access log on, text
   to a file) and with JSON logs, against the same server with the access log off at WARNING (what
   `serve` did before it logged anything). The three servers run at once on one SQLite database and
   are asked in turn, one request each, so the machine's other load falls on all alike; each answers the
   same ``GET /v1/operations/{id}``. Target: p50 ratio <= 1.10.
2. The CPU cost of the request instruments (one counter and one histogram per request), in process,
   against an empty call. Target: < 10 µs per request.
3. One scrape of ``/metrics`` (this process's instruments and the two database gauges) over a database
   with many open conflicts and pending notifications, on SQLite and PostgreSQL, against a scrape with
   no database gauges. Target: p99 < 50 ms.

    .venv/bin/python bench/observe.py            # 2,000 requests, 1,000 conflicts
    .venv/bin/python bench/observe.py --quick    # 500 requests, 200 conflicts
    .venv/bin/python bench/observe.py --backends sqlite

Servers listen on ports from DECONFLICTION_BENCH_PORTS (default 18200-18299). PostgreSQL: a database is
made and dropped on DECONFLICTION_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
when it is unreachable that backend is reported as not run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import generate_latest

import servers
from deconfliction.domain.footprint import parse_footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import OperationKind, OperationState
from deconfliction.domain.party import Role
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.service import operations as ops
from deconfliction.service.metrics import Metrics, scrape
from deconfliction.service.operations import OperationDraft
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store

ADMIN_URL = os.environ.get("DECONFLICTION_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=1)


def _ports() -> Iterator[int]:
    lo, _, hi = os.environ.get("DECONFLICTION_BENCH_PORTS", "18200-18299").partition("-")
    yield from range(int(lo), int(hi) + 1)


_PORTS = _ports()
servers.free_port = lambda: next(_PORTS)  # the servers this bench starts stay in its own port range


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def square(lon: float, lat: float, size: float = 0.1) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def volume(lon: float, lat: float) -> dict[str, Any]:
    end = START + timedelta(hours=2)
    return {
        "footprint": square(lon, lat),
        "altitude": {"lower_m": 0, "upper_m": 3000},
        "window": {"start": START.isoformat().replace("+00:00", "Z"), "end": end.isoformat().replace("+00:00", "Z")},
    }


def draft(lon: float, lat: float) -> OperationDraft:
    footprint = parse_footprint(square(lon, lat), Limits())
    window = TimeWindow(START, START + timedelta(hours=2))
    return OperationDraft(OperationKind.AIR, (Volume4D.create(footprint, AltitudeBand(0, 3000), window),))


# ------------------------------------------------------------------------------------- 1: the access log


def request_latency(n: int, workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'requests.db'}"
    rt = Runtime(open_store(url))
    try:
        alpha, key = create_party(rt, None, "alpha", Role.PARTY)
        op = ops.submit_operation(rt, alpha, draft(40.0, 35.0))
        op_id = op.operation.id  # type: ignore[union-attr]
    finally:
        rt.store.close()
    configs = {
        "baseline: WARNING, no access log": {"DECONFLICTION_LOG_LEVEL": "WARNING", "DECONFLICTION_ACCESS_LOG": "false"},
        "default: INFO, access log (text)": {},
        "INFO, access log (json)": {"DECONFLICTION_LOG_FORMAT": "json"},
    }
    started = {
        name: servers.Server(url, workdir, env={"DECONFLICTION_TACTICAL_CYCLE_S": "0", **env})
        for name, env in configs.items()
    }
    runs: dict[str, list[float]] = {name: [] for name in configs}
    try:
        for server in started.values():
            server.wait_ready()
        clients = {
            name: httpx.Client(base_url=s.url, headers={"Authorization": f"Bearer {key}"})
            for name, s in started.items()
        }
        for i in range(n + 200):  # round robin, so that the machine's other load falls on every server alike
            for name, c in clients.items():
                t0 = time.perf_counter()
                r = c.get(f"/v1/operations/{op_id}")
                took = time.perf_counter() - t0
                assert r.status_code == 200
                if i >= 200:  # the first 200 warm up
                    runs[name].append(took)
        for c in clients.values():
            c.close()
    finally:
        for server in started.values():
            server.stop()
    for name, took in runs.items():
        lines = started[name].log_path.read_text(errors="replace").count("deconfliction.access")
        print(f"  {name:36s} p50 {pct(took, 0.5) * 1e3:6.2f} ms  p99 {pct(took, 0.99) * 1e3:6.2f} ms  ({lines} lines)")
    base = statistics.median(next(iter(runs.values())))
    for name, took in list(runs.items())[1:]:
        ratio = statistics.median(took) / base
        print(f"  {name}: p50 ratio to baseline {ratio:.3f} (target <= 1.10) {'MET' if ratio <= 1.10 else 'NOT MET'}")


# ------------------------------------------------------------------------------------ 2: the instruments


def instruments(n: int) -> None:
    m = Metrics()

    def counted() -> None:
        m.requests.labels("GET", "/v1/operations/{op_id}", "200").inc()
        m.request_seconds.labels("GET", "/v1/operations/{op_id}").observe(0.0042)

    def empty() -> None:
        pass

    def per_call(f: Callable[[], None]) -> float:
        """CPU time of this process per call: on a shared machine wall time also counts the waits for a core."""
        t0 = time.process_time()
        for _ in range(n):
            f()
        return (time.process_time() - t0) / n

    base, cost = per_call(empty), per_call(counted)
    print(
        f"  per request: {cost * 1e6:.2f} µs (an empty call: {base * 1e6:.3f} µs, ratio {cost / base:.0f}); "
        f"target < 10 µs {'MET' if cost < 10e-6 else 'NOT MET'}"
    )


# ------------------------------------------------------------------------------------------ 3: scraping


def _postgres_url() -> tuple[str, Callable[[], None]] | None:
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            name = f"dc_bench_{uuid.uuid4().hex[:10]}"
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"  postgresql: not run ({type(exc).__name__}: {exc})")
        return None

    def drop() -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{ADMIN_URL.rpartition('/')[0]}/{name}", drop


def scraping(conflicts: int, backends: list[str], workdir: Path) -> None:
    for backend in backends:
        drop = None
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'scrape.db'}"
        else:
            made = _postgres_url()
            if made is None:
                continue
            url, drop = made
        rt = Runtime(open_store(url))
        try:
            alpha, _ = create_party(rt, None, "alpha", Role.PARTY)
            bravo, _ = create_party(rt, None, "bravo", Role.PARTY)
            t0 = time.perf_counter()
            for i in range(conflicts):  # each pair of squares is one conflict, told to both sides
                lon, lat = -170 + (i % 300) * 1.0, -60 + (i // 300) * 1.0
                ops.submit_operation(rt, alpha, draft(lon, lat), state=OperationState.DRAFT)
                ops.submit_operation(rt, bravo, draft(lon + 0.05, lat + 0.05))
            made_s = time.perf_counter() - t0
            with rt.store.read() as tx:
                open_now = tx.gauges.open_conflicts()
                overdue = tx.gauges.overdue_notifications(START)
            full, bare = [], []
            for _ in range(50):
                t1 = time.perf_counter()
                scrape(rt)
                t2 = time.perf_counter()
                generate_latest(rt.metrics.registry)
                t3 = time.perf_counter()
                full.append(t2 - t1)
                bare.append(t3 - t2)
            p99 = pct(full, 0.99)
            print(
                f"  {backend}: {open_now} open conflicts, {overdue} notifications overdue at the window start "
                f"(made in {made_s:.0f} s)\n"
                f"    scrape p50 {pct(full, 0.5) * 1e3:.2f} ms p99 {p99 * 1e3:.2f} ms; without the database gauges "
                f"p50 {pct(bare, 0.5) * 1e3:.2f} ms (ratio {statistics.median(full) / statistics.median(bare):.2f}); "
                f"target p99 < 50 ms {'MET' if p99 < 0.05 else 'NOT MET'}"
            )
        finally:
            rt.store.close()
            if drop is not None:
                drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    n, conflicts = (500, 200) if args.quick else (2000, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"1. request latency, {n} sequential GET /v1/operations/{{id}} per server")
        request_latency(n, workdir)
        print("2. request instruments, in process (CPU time)")
        instruments(200_000)
        print(f"3. one scrape of /metrics over {conflicts} open conflicts")
        scraping(conflicts, args.backends.split(","), workdir)


if __name__ == "__main__":
    sys.exit(main())
