"""bench/streams.py: what open streams cost the database, and how soon a notification reaches one, with
streams woken by commits against the former polling every 25 ms, measured in the same run.

A benchmark, not a test. Two parts, on SQLite and on PostgreSQL:

1. **Idle streams.** A server (this script with ``--serve``: the real application, with every SQL
   statement the process sends counted, SQLite through a trace callback on every connection, PostgreSQL
   by wrapping psycopg's cursor) over a fresh database with 100 parties; 100 streams, one per party, are
   opened and left idle; the statements of the next ``--seconds`` are counted. Three runs: no stream at
   all (what the server's once-a-second rounds cost: escalations, deliveries, expiries; not the
   streams'), 100 streams woken by commits (the default), and 100 streams polling every 25 ms
   (``DECONFLICTION_STREAM_WAKEUPS=false``, ``DECONFLICTION_STREAM_POLL_S=0.025``: what every stream did
   before). Printed per run: statements per second in all, the streams' own reads (the notifications
   query of ``/v1/stream``) and the safety net's (the head query), and on PostgreSQL the transactions
   per second that the server itself counted (``pg_stat_database``). Target: the streams' queries (their
   reads and the safety net's) under 1 per second; the difference of all statements with and without
   streams is printed beside, as a cross-check (noisy: the once-a-second rounds vary with their timing).
2. **Submission to the other party's stream**: ``bench/notify.py``'s path (alpha submits, each
   submission one conflict, bravo's stream receives it; latency from the start of alpha's request to
   the event on bravo's stream), with wake-ups and with the former 25 ms polling. Target: p99 < 20 ms.

    .venv/bin/python bench/streams.py                 # 100 streams, 20 s idle, 500 conflicts per run
    .venv/bin/python bench/streams.py --quick         # 10 s idle, 150 conflicts
    .venv/bin/python bench/streams.py --backends sqlite

Servers listen on the first free ports from ``--ports`` (default 18800-18899). PostgreSQL: a database is
made and dropped per run on DECONFLICTION_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres); when it is unreachable that backend is reported as not run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from notify import ADMIN_URL, TARGET_P99_MS, postgres_database, run_backend
from servers import free_port, stop_session

TARGET_QPS = 1.0
SETTLE_S = 12.0
"""Wait this long after the streams opened before counting: PostgreSQL's statistics of an idle backend
(pg_stat_database) arrive up to 10 s late, and the streams' first reads must not land in the window."""
STREAM_QUERY = "FROM notifications WHERE party_id"
HEAD_QUERY = "SELECT last_seq, last_notification FROM store_head"
MODES: dict[str, dict[str, str]] = {
    "no streams": {},
    "woken by commits": {},
    "polling 25 ms": {"DECONFLICTION_STREAM_WAKEUPS": "false", "DECONFLICTION_STREAM_POLL_S": "0.025"},
}


# ------------------------------------------------------------------------------------------ the server


def serve(port: int, counts_path: Path) -> None:
    """The application with every SQL statement of this process counted, written to ``counts_path``."""
    import sqlite3

    import psycopg
    import uvicorn

    from deconfliction.api.app import create_app
    from deconfliction.settings import Settings

    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def count(sql: Any) -> None:
        text = " ".join((sql if isinstance(sql, str) else repr(sql)).split())
        if STREAM_QUERY in text:
            key = "stream read: SELECT ... FROM notifications WHERE party_id = ? AND seq > ?"
        elif HEAD_QUERY in text:
            key = f"safety net: {HEAD_QUERY}"
        else:
            key = text[:60]
        with lock:
            counts[key] += 1

    connect = sqlite3.connect

    def counted_connect(*a: Any, **kw: Any) -> sqlite3.Connection:
        conn = connect(*a, **kw)
        conn.set_trace_callback(count)
        return conn

    sqlite3.connect = counted_connect  # type: ignore[assignment]
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def counted_execute(self: Any, query: Any, *a: Any, **kw: Any) -> Any:
        count(query)
        return execute(self, query, *a, **kw)

    def counted_executemany(self: Any, query: Any, rows: Any, *a: Any, **kw: Any) -> Any:
        rows = list(rows)
        for _ in rows:
            count(query)
        return executemany(self, query, rows, *a, **kw)

    psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]
    psycopg.Cursor.executemany = counted_executemany  # type: ignore[method-assign]

    def dump() -> None:
        while True:
            with lock:
                data = json.dumps(dict(counts))
            tmp = counts_path.with_suffix(".tmp")
            tmp.write_text(data)
            tmp.replace(counts_path)
            time.sleep(0.2)

    threading.Thread(target=dump, daemon=True).start()
    uvicorn.run(create_app(Settings.from_env()), host="127.0.0.1", port=port, log_level="warning", access_log=False)


class CountedServer:
    def __init__(self, url: str, workdir: Path, port: int, env: dict[str, str]) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.counts_path = workdir / f"counts-{port}.json"
        self.counts_path.unlink(missing_ok=True)
        self.log = (workdir / f"server-{port}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), str(self.counts_path)],
            env={**os.environ, "DECONFLICTION_DATABASE_URL": url, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200 and self.counts_path.exists():
                    return
            time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def counts(self) -> dict[str, int]:
        for _ in range(20):
            with contextlib.suppress(ValueError, OSError):
                return dict(json.loads(self.counts_path.read_text()))
            time.sleep(0.05)
        raise RuntimeError("no counts from the server")

    def stop(self) -> None:
        stop_session(self.proc)
        self.log.close()


# ------------------------------------------------------------------------------------- idle streams


async def hold_streams(base: str, keys: list[str], warmup: float, seconds: float, measure: Any) -> Any:
    """Open a stream per key, wait until all are connected and ``warmup`` passed, then ``measure``."""
    connected = [asyncio.Event() for _ in keys]
    limits = httpx.Limits(max_connections=len(keys) + 10, max_keepalive_connections=len(keys) + 10)

    async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as client:

        async def hold(key: str, ready: asyncio.Event) -> None:
            headers = {"Authorization": f"Bearer {key}"}
            async with client.stream("GET", "/v1/stream", headers=headers) as r:
                async for line in r.aiter_lines():
                    if line.startswith(": connected"):
                        ready.set()

        tasks = [asyncio.create_task(hold(k, e)) for k, e in zip(keys, connected, strict=True)]
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in connected)), 60)
            await asyncio.sleep(warmup)
            return await asyncio.to_thread(measure, seconds)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def pg_transactions(url: str) -> int:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def idle_run(backend: str, url: str, workdir: Path, port: int, mode: str, n_streams: int, seconds: float) -> dict:
    rt = Runtime(open_store(url))
    try:
        keys = [create_party(rt, None, f"party {i}", Role.PARTY)[1] for i in range(max(n_streams, 1))]
    finally:
        rt.store.close()
    server = CountedServer(url, workdir, port, MODES[mode])
    try:
        server.wait_ready()

        def measure(window: float) -> dict[str, Any]:
            c0, x0, t0 = server.counts(), pg_transactions(url) if backend == "postgresql" else 0, time.monotonic()
            time.sleep(window)
            c1, x1, t1 = server.counts(), pg_transactions(url) if backend == "postgresql" else 0, time.monotonic()
            delta = {k: v - c0.get(k, 0) for k, v in c1.items() if v - c0.get(k, 0)}
            elapsed = t1 - t0
            return {
                "statements_per_s": sum(delta.values()) / elapsed,
                "stream_reads_per_s": sum(v for k, v in delta.items() if k.startswith("stream read")) / elapsed,
                "safety_net_per_s": sum(v for k, v in delta.items() if k.startswith("safety net")) / elapsed,
                "pg_xacts_per_s": (x1 - x0) / elapsed if backend == "postgresql" else None,
                "top": sorted(delta.items(), key=lambda kv: -kv[1])[:4],
            }

        streams = 0 if mode == "no streams" else n_streams
        if streams:
            out = asyncio.run(hold_streams(server.url, keys[:streams], SETTLE_S, seconds, measure))
        else:
            time.sleep(SETTLE_S)
            out = measure(seconds)
    finally:
        server.stop()
    return {"backend": backend, "mode": mode, "streams": streams, **out}


# -------------------------------------------------------------------------------------------- the run


class Ports:
    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi

    def next(self) -> int:
        port = free_port(self.lo, self.hi)
        self.lo = port + 1 if port < self.hi else self.lo
        return port


def databases(backend: str, tmp: Path) -> Any:
    """A fresh database per run: (url, drop) or None when the backend is not reachable."""
    counter = [0]

    def make() -> tuple[str, Any] | None:
        counter[0] += 1
        if backend == "sqlite":
            return f"sqlite:///{tmp}/streams-{counter[0]}.db", lambda: None
        return postgres_database()

    return make


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), Path(sys.argv[3]))
        return 0
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--streams", type=int, default=100)
    p.add_argument("--seconds", type=float, default=20.0, help="idle window measured per run")
    p.add_argument("--conflicts", type=int, default=500, help="per latency run")
    p.add_argument("--quick", action="store_true", help="10 s idle windows, 150 conflicts")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--parts", default="idle,latency")
    p.add_argument("--ports", default="18800-18899")
    args = p.parse_args(argv)
    seconds = 10.0 if args.quick else args.seconds
    conflicts = 150 if args.quick else args.conflicts
    lo, hi = (int(x) for x in args.ports.split("-"))
    ports = Ports(lo, hi)
    parts = args.parts.split(",")
    idle: list[dict[str, Any]] = []
    latency: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="streams-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for backend in args.backends.split(","):
            make = databases(backend, tmp)
            for part, modes in (("idle", list(MODES)), ("latency", ["woken by commits", "polling 25 ms"])):
                if part not in parts:
                    continue
                for mode in modes:
                    made = make()
                    if made is None:
                        break
                    url, drop = made
                    print(f"  {backend}: {part}, {mode} ...", file=sys.stderr)
                    try:
                        if part == "idle":
                            idle.append(idle_run(backend, url, tmp, ports.next(), mode, args.streams, seconds))
                        else:
                            r = run_backend(backend, url, conflicts, tmp, env=MODES[mode], port=ports.next())
                            latency.append({**r, "mode": mode})
                    finally:
                        drop()
    ok = report(idle, latency, args.streams, seconds, conflicts)
    return 0 if ok else 1


def report(idle: list[dict[str, Any]], latency: list[dict[str, Any]], streams: int, seconds: float, n: int) -> bool:
    ok = True
    if idle:
        print(f"\n1. {streams} idle streams, statements the server sent in {seconds:.0f} s (per second)")
        print(f"{'backend':<11} {'mode':<17} {'all':>9} {'stream reads':>13} {'safety net':>11} {'PG xacts':>9}")
        for r in idle:
            xacts = "" if r["pg_xacts_per_s"] is None else f"{r['pg_xacts_per_s']:>9.1f}"
            print(
                f"{r['backend']:<11} {r['mode']:<17} {r['statements_per_s']:>9.1f} {r['stream_reads_per_s']:>13.2f} "
                f"{r['safety_net_per_s']:>11.2f} {xacts}"
            )
        for backend in dict.fromkeys(r["backend"] for r in idle):
            by = {r["mode"]: r for r in idle if r["backend"] == backend}
            if not {"no streams", "woken by commits"} <= set(by):
                continue
            base = by["no streams"]["statements_per_s"]
            w = by["woken by commits"]
            woken = w["stream_reads_per_s"] + w["safety_net_per_s"]
            line = f"  {backend}: the streams' queries (their reads + the safety net's): {woken:.2f}/s"
            line += f" (all statements, 100 streams minus none: {w['statements_per_s'] - base:+.2f}/s, noisy:"
            line += " the rounds' count varies with their timing)"
            target = "PASS" if woken < TARGET_QPS else "FAIL"
            if "polling 25 ms" in by:
                p = by["polling 25 ms"]
                polled = p["stream_reads_per_s"] + p["safety_net_per_s"]
                extra = p["statements_per_s"] - base
                line += f"\n  polling 25 ms: {polled:,.1f} stream reads/s (all statements {extra:+,.1f}/s)"
                line += f", ratio {polled / max(woken, 1 / seconds):,.0f}x"
            print(line)
            print(f"  target < {TARGET_QPS:g} query/s with {streams} idle streams: {target}")
            print(f"  the rounds' (no stream): {', '.join(f'{v} x {k[:60]!r}' for k, v in by['no streams']['top'])}")
            ok &= woken < TARGET_QPS
    if latency:
        print(f"\n2. submission -> notification on the other party's stream, {n:,} conflicts per run")
        print("(after answer: from alpha's answer, the write committed, to the event; negative: the event came first)")
        print(
            f"{'backend':<11} {'mode':<17} {'p50':>8} {'p99':>8} {'max':>8}  subm/s  lost"
            f"  {'after answer p50':>16} {'p99':>8}"
        )
        for r in latency:
            lost = r["missing_on_stream"] + r["errors"]
            print(
                f"{r['backend']:<11} {r['mode']:<17} {r['stream_p50_ms']:>6.1f}ms {r['stream_p99_ms']:>6.1f}ms "
                f"{r['stream_max_ms']:>6.1f}ms  {r['submissions_per_s']:>6.0f}  {lost:>4}"
                f"  {r['after_answer_p50_ms']:>14.1f}ms {r['after_answer_p99_ms']:>6.1f}ms"
            )
            ok &= lost == 0
        for backend in dict.fromkeys(r["backend"] for r in latency):
            by = {r["mode"]: r for r in latency if r["backend"] == backend}
            if "woken by commits" not in by:
                continue
            p99 = by["woken by commits"]["stream_p99_ms"]
            line = f"  {backend}: woken p99 {p99:.1f} ms"
            if "polling 25 ms" in by:
                old = by["polling 25 ms"]
                line += (
                    f"; polling 25 ms p99 {old['stream_p99_ms']:.1f} ms (ratio p99 {old['stream_p99_ms'] / p99:.2f}x, "
                    f"p50 {old['stream_p50_ms'] / by['woken by commits']['stream_p50_ms']:.2f}x)"
                )
            print(line)
            print(f"  target p99 < {TARGET_P99_MS:.0f} ms: {'PASS' if p99 < TARGET_P99_MS else 'FAIL'}")
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
