"""bench/notify.py: from a submission that creates a conflict to its notification on the other party's
stream, end to end through a real server, on SQLite and on PostgreSQL.

A benchmark, not a test. For each backend it starts ``deconflict serve`` on a fresh database, opens
bravo's Server-Sent Events stream (``/v1/stream``), and has alpha submit operations one after another,
each crossing bravo's long bar once (so each creates exactly one conflict). The latency of a conflict is
the time from alpha starting its request to the notification arriving on bravo's stream. The first 50
submissions warm the fresh server up (it prepares its statements, fills its caches and opens its
connections) and are not measured. Then, in the same run, a baseline client polls
``GET /v1/notifications`` once a second (what a party without a stream would do) while alpha files a
fifth as many more; the ratio baseline / stream is printed. The baseline has a phase of its own: it reads
all of bravo's notifications again every second, 100 a page, by the end of a 1,000-conflict run ten
requests a second, a load that the stream's figures carried when the two ran together (``--poll-during``
measures that way). Target: stream p99 < 20 ms (issue 15; bench/streams.py also measures the former 25 ms
polling in the same run).

    .venv/bin/python bench/notify.py            # 1,000 conflicts per backend
    .venv/bin/python bench/notify.py --quick    # 100
    .venv/bin/python bench/notify.py --backends sqlite
    .venv/bin/python bench/notify.py --poll-during  # the baseline polls while the stream is measured

PostgreSQL: a database is made and dropped on DECONFLICTION_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres); when it is unreachable that backend is reported as not run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from servers import Server

ADMIN_URL = os.environ.get("DECONFLICTION_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=1)
"""Tomorrow 08:00 UTC: the servers run on the real clock and refuse a window that has wholly passed."""
POLL_BASELINE_S = 1.0
WARMUP = 50
"""Conflicting submissions made first and not measured: a freshly started server prepares its statements,
fills its caches and opens its database connections in its first requests."""
TARGET_P99_MS = 20.0


def volume(footprint: dict[str, Any]) -> dict[str, Any]:
    end = START + timedelta(hours=2)
    return {
        "footprint": footprint,
        "altitude": {"lower_m": 0, "upper_m": 3000},
        "window": {"start": START.isoformat().replace("+00:00", "Z"), "end": end.isoformat().replace("+00:00", "Z")},
    }


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Arrivals:
    """When each conflict's notification was first seen, by the stream and by the polling baseline."""

    stream: dict[str, float] = field(default_factory=dict)
    polled: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


def listen(base: str, key: str, n: int, out: Arrivals, ready: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with (
        httpx.Client(base_url=base, timeout=None) as c,
        c.stream("GET", "/v1/stream", params={"limit": n}, headers=headers) as r,
    ):
        for line in r.iter_lines():
            if line.startswith(": connected"):
                ready.set()
            if line.startswith("data: "):
                subject = orjson.loads(line[6:])["subject"]
                with out.lock:
                    out.stream.setdefault(subject, time.perf_counter())


def poll(base: str, key: str, out: Arrivals) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=30) as c:
        while not out.stop.is_set():
            cursor = None
            while True:
                params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
                r = c.get("/v1/notifications", params=params, headers=headers)
                r.raise_for_status()
                body = r.json()
                now = time.perf_counter()
                with out.lock:
                    for item in body["items"]:
                        out.polled.setdefault(item["subject"], now)
                cursor = body["next_cursor"]
                if not cursor:
                    break
            out.stop.wait(POLL_BASELINE_S)


def baseline_conflicts(n: int) -> int:
    """How many conflicts the polling baseline is measured on, after the stream's ``n``."""
    return max(20, n // 5)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run_backend(
    name: str,
    url: str,
    n: int,
    workdir: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
    poll_during: bool = False,
) -> dict[str, Any]:
    # bravo's listener and alpha's submissions are two threads of this one interpreter: at the default 5 ms
    # switch interval the listener could wait that long for the submitting thread to give the interpreter
    # up, and the latency measured would carry the wait (a party's stream reader is a process of its own)
    sys.setswitchinterval(0.0005)
    rt = Runtime(open_store(url))
    try:
        keys = {who: create_party(rt, None, who, Role.PARTY)[1] for who in ("alpha", "bravo")}
    finally:
        rt.store.close()
    server = Server(url, workdir, env=env, port=port)
    try:
        server.wait_ready()
        base = server.url
        with httpx.Client(base_url=base, timeout=30) as c:
            step = 0.009
            m = baseline_conflicts(n)
            bar = [
                [40.0, 35.0],
                [40.01, 35.0],
                [40.01, 35.0 + step * (WARMUP + n + m) + 0.02],
                [40.0, 35.0 + step * (WARMUP + n + m) + 0.02],
                [40.0, 35.0],
            ]
            r = c.post(
                "/v1/operations",
                json={"kind": "air", "volumes": [volume({"type": "Polygon", "coordinates": [bar]})]},
                headers={"Authorization": f"Bearer {keys['bravo']}"},
            )
            r.raise_for_status()
            arrivals, ready = Arrivals(), threading.Event()
            listener = threading.Thread(
                target=listen, args=(base, keys["bravo"], WARMUP + n + m, arrivals, ready), daemon=True
            )
            poller = threading.Thread(target=poll, args=(base, keys["bravo"], arrivals), daemon=True)
            listener.start()
            if not ready.wait(30):
                raise RuntimeError("the stream did not open")

            def submit(i: int, sent: dict[str, float], answered: dict[str, float] | None = None) -> bool:
                body = {"kind": "air", "volumes": [volume(square(39.995, 35.0 + step * i, 0.02))]}
                t0 = time.perf_counter()
                r = c.post("/v1/operations", json=body, headers={"Authorization": f"Bearer {keys['alpha']}"})
                if r.status_code != 201 or len(r.json()["conflicts"]) != 1:
                    return False
                sent[r.json()["conflicts"][0]["id"]] = t0
                if answered is not None:
                    answered[r.json()["conflicts"][0]["id"]] = time.perf_counter()
                return True

            # the stream alone: what is measured against the target
            sent: dict[str, float] = {}
            answered: dict[str, float] = {}  # when alpha had its answer: the write had committed
            errors = 0
            began = time.perf_counter()
            if poll_during:  # the former way: the baseline polls while the stream is measured
                poller.start()
            for i in range(n, n + WARMUP):  # not measured: a fresh server prepares its statements, fills its
                submit(i, {})  # caches and connection pool in its first requests
            for i in range(n):
                errors += not submit(i, sent, answered)
                if (i + 1) % max(1, n // 10) == 0:
                    print(f"  {name}: {i + 1:,} / {n:,} submitted", file=sys.stderr)
            elapsed = time.perf_counter() - began
            # then the baseline: a client polling every second, on the next ``m`` conflicts (in a phase of
            # its own: it re-reads every notification each second, a load the stream's figures must not carry)
            if not poll_during:
                poller.start()
            polled_sent: dict[str, float] = {}
            for i in range(n + WARMUP, n + WARMUP + m):
                errors += not submit(i, polled_sent)
                time.sleep(1.0 / 64)  # the first phase's pace, or near it: the baseline is about when, not how fast
            listener.join(30)
            time.sleep(POLL_BASELINE_S * 1.5)
            arrivals.stop.set()
            poller.join(30)
    finally:
        server.stop()
    stream = [(arrivals.stream[k] - t) * 1000 for k, t in sent.items() if k in arrivals.stream]
    polled = [(arrivals.polled[k] - t) * 1000 for k, t in polled_sent.items() if k in arrivals.polled]
    after = [(arrivals.stream[k] - t) * 1000 for k, t in answered.items() if k in arrivals.stream]
    return {
        "backend": name,
        "conflicts": len(sent),
        "errors": errors,
        "missing_on_stream": len(sent) - len(stream) + sum(k not in arrivals.stream for k in polled_sent),
        "submissions_per_s": n / elapsed,
        "stream_p50_ms": pct(stream, 50),
        "stream_p99_ms": pct(stream, 99),
        "stream_max_ms": max(stream),
        "after_answer_p50_ms": pct(after, 50),
        "after_answer_p99_ms": pct(after, 99),
        "request_p50_ms": pct([(answered[k] - t) * 1000 for k, t in sent.items()], 50),
        "request_p99_ms": pct([(answered[k] - t) * 1000 for k, t in sent.items()], 99),
        "poll_p50_ms": pct(polled, 50) if polled else float("nan"),
        "poll_p99_ms": pct(polled, 99) if polled else float("nan"),
        "ratio_p50": (statistics.median(polled) / statistics.median(stream)) if polled else float("nan"),
    }


def postgres_database() -> tuple[str, Any] | None:
    try:
        import psycopg

        name = f"dc_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # reported, the other backend still runs
        print(f"PostgreSQL not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None

    def drop() -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--conflicts", type=int, default=1000)
    p.add_argument("--quick", action="store_true", help="100 conflicts per backend")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument(
        "--poll-during",
        action="store_true",
        help="run the polling baseline during the stream's measurement too (how the bench measured before)",
    )
    args = p.parse_args(argv)
    n = 100 if args.quick else args.conflicts
    results = []
    with tempfile.TemporaryDirectory(prefix="notify-bench-") as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results.append(
                    run_backend("sqlite", f"sqlite:///{tmp}/notify.db", n, Path(tmp), poll_during=args.poll_during)
                )
            elif backend == "postgresql":
                made = postgres_database()
                if made is None:
                    continue
                url, drop = made
                try:
                    results.append(run_backend("postgresql", url, n, Path(tmp), poll_during=args.poll_during))
                finally:
                    drop()
    ok = True
    print(f"\nsubmission -> notification on the other party's stream, {n:,} conflicts per backend")
    head = f"{'backend':<11} {'stream p50':>10} {'p99':>8} {'max':>8}   {'1 s poll p50':>12} {'p99':>8}"
    print(head + f"  {'ratio p50':>9}  subm/s  lost")
    for r in results:
        stream = f"{r['stream_p50_ms']:>8.1f}ms {r['stream_p99_ms']:>6.1f}ms {r['stream_max_ms']:>6.1f}ms"
        polled = f"{r['poll_p50_ms']:>10.1f}ms {r['poll_p99_ms']:>6.1f}ms"
        lost = r["missing_on_stream"] + r["errors"]
        print(
            f"{r['backend']:<11} {stream}   {polled}  {r['ratio_p50']:>8.1f}x  {r['submissions_per_s']:>6.0f}  {lost}"
        )
        print(
            f"  where it goes: alpha's request until its answer (the write committed) p50 "
            f"{r['request_p50_ms']:.1f} ms, p99 {r['request_p99_ms']:.1f} ms; from the answer to bravo's stream "
            f"p50 {r['after_answer_p50_ms']:.1f} ms, p99 {r['after_answer_p99_ms']:.1f} ms (negative: the stream "
            "had it before alpha had its answer)"
        )
        target = "PASS" if r["stream_p99_ms"] < TARGET_P99_MS else "FAIL"
        print(f"  target stream p99 < {TARGET_P99_MS:.0f} ms: {target}")
        ok &= r["missing_on_stream"] == 0 and r["errors"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
