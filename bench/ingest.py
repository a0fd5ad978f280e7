"""bench/ingest.py: position reports per second sustained per path (HTTP batches, SBS-1 over TCP, CoT over
UDP) into a real server whose detection cycle runs over 100,000 tracks, and whether the cycle keeps its
period meanwhile.

A benchmark, not a test. It makes a fresh database (PostgreSQL by default: the deployment that several
processes share), starts ``--processes`` ``deconflict serve`` processes over it (default 2: one per core,
as a deployment on two cores runs; the first has an SBS-1 feed, the bench being the SBS-1 server the feed
connects to, and a CoT UDP listener; any of them may be elected to run the cycle), fills the picture with
``--tracks`` aircraft over HTTP, then for ``--seconds`` per path:

* **HTTP**: ``--clients`` threads post batches of ``--batch`` reports (``POST /v1/tracks``) as fast as the
  servers answer, the clients taking the processes in turn; the rate is the reports the servers answered
  as accepted, per second (each request's body is built once and its time put in before each post, so the
  bench's own CPU on the same cores stays small);
* **SBS-1**: one TCP connection written as fast as the server reads it (a velocity line for every ten
  position lines, 10,000 aircraft); the rate is the position lines the server consumed (written, minus
  those still queued in either socket at the end);
* **CoT UDP**: datagrams sent as fast as the socket takes them (10,000 aircraft); the rate is the datagrams
  the server received (sent minus the drops the kernel counted on its socket, /proc/net/udp).

Before the paths, **idle** (nothing sent, half of ``--seconds``, at least 5 s) measures what the cycle over
the picture costs on its own (server and PostgreSQL's backends); the summary subtracts it from the HTTP
path's CPU to print what one more report costs and how many per second the 2 cores left beside the cycle
would take: on a shared machine the rate reached says little, the CPU per report does.

Meanwhile the bench reads the elected cycle's heartbeat (``tactical_cycle``) every 50 ms: a beat holds the
start of the cycle that finished, so the gaps between beats are the cycle's real period, start to start
(``DECONFLICTION_TACTICAL_CYCLE_S`` = 1 s); a cycle longer than the period makes the next start late and its
gap longer. Around each path it reads the servers' ``/metrics``: the cycles' mean duration and overruns. The tracks stay
``--tracks`` (+ 20,000 of the feeds) throughout: the track expiry is set to 300 s so that no aircraft
drops out while another path runs (positions do not move between reports: the pass's work is the same).

Baseline, in the same run: the bench process itself writes ``--batch``-report batches into the same
tables through the same storage code (``SqlTracks.ingest``, no HTTP, no JSON) for ``--seconds`` while the
server's cycle runs; the HTTP rate is printed as a ratio of it.

CPU, not wall time, is the honest measure on a shared machine: next to each rate the bench prints the CPU
of the server process and, on PostgreSQL, of the database's backends serving the bench's database (from
/proc: every ``postgres:`` process whose title names it; the bench's own pools of connections stay open for
the whole path). PostgreSQL's shared background processes (WAL writer, checkpointer, background writer)
are printed apart: they serve every database of the cluster, so on a shared cluster they are an upper
bound. ``per CPU-s`` divides the rate by server + backends CPU: the reports one core sustains end to end.

Targets (issue 15): >= 50,000 reports/s over HTTP batches on 2 cores; the cycle keeps its 1 s period at
100,000 tracks (here: 95 % of the gaps between beats <= 1.1 s). PASS/FAIL next to each; exit status 0
unless a path lost reports it was answered for.

    .venv/bin/python bench/ingest.py                 # 100,000 tracks, 20 s per path, PostgreSQL
    .venv/bin/python bench/ingest.py --quick         # 10,000 tracks, 5 s per path
    .venv/bin/python bench/ingest.py --backend sqlite

PostgreSQL: a database is made and dropped on DECONFLICTION_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from deconfliction.domain.party import Role
from deconfliction.domain.tactical import PositionReport
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from deconfliction.store.tactical import SqlCycleBeats, SqlTracks, open_tactical_db
from servers import Server, postgres_database

FEED_AIRCRAFT = 10_000
HTTP_TARGET = 50_000.0
PERIOD_TARGET_S = 1.1


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ------------------------------------------------------------------------------------------- the traffic


_PLACEHOLDER = "1999-12-31T23:59:59.999Z"
"""As long as every time ``iso`` writes, and found nowhere else in a body."""


class Fleet:
    """``n`` aircraft over a 5,000 x 5,000 km box around 30 N 20 E, as bench/tactical.py's case (b)."""

    def __init__(self, n: int, seed: int) -> None:
        rng = random.Random(seed)
        self._bodies: dict[tuple[int, int], bytes] = {}
        self.rows = [
            (
                f"H{i:06d}",
                rng.uniform(7.5, 52.5),
                rng.uniform(-8.0, 48.0),
                rng.uniform(1_000.0, 12_000.0),
                rng.uniform(60.0, 250.0),
                rng.uniform(0.0, 359.9),
            )
            for i in range(n)
        ]

    def body(self, lo: int, hi: int, t: float) -> bytes:
        """The reports of aircraft ``lo`` to ``hi`` at time ``t``: each request's body is built once and its
        time put in afterwards, so that the bench's own CPU (on the same cores) stays small."""
        template = self._bodies.get((lo, hi))
        if template is None:
            template = self._bodies[(lo, hi)] = self._body(lo, hi, _PLACEHOLDER)
        return template.replace(_PLACEHOLDER.encode(), iso(t).encode())

    def _body(self, lo: int, hi: int, when: str) -> bytes:
        return orjson.dumps(
            {
                "reports": [
                    {
                        "id": i,
                        "time": when,
                        "lat": lat,
                        "lon": lon,
                        "altitude_m": alt,
                        "ground_speed_mps": gs,
                        "track_deg": trk,
                    }
                    for i, lat, lon, alt, gs, trk in self.rows[lo:hi]
                ]
            }
        )


class Beats:
    """The elected cycle's heartbeat, read every 50 ms: the distinct beat times seen."""

    def __init__(self, beats: SqlCycleBeats) -> None:
        self.beats = beats
        self.seen: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            try:
                last = self.beats.last()
            except Exception:
                continue
            if last is not None and (not self.seen or last[1] != self.seen[-1]):
                self.seen.append(last[1])

    def gaps(self, start: float, end: float) -> list[float]:
        inside = [b for b in self.seen if start <= b <= end]
        return [b - a for a, b in itertools.pairwise(inside)]


def cycle_metrics(urls: list[str]) -> tuple[float, float, float]:
    """The cycles run so far by the servers, their total duration (s) and their overruns (longer than the
    period), summed over the servers' ``/metrics`` (only the elected process runs cycles)."""
    count = total = overruns = 0.0
    for url in urls:
        text = httpx.get(f"{url}/metrics", timeout=30).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "deconfliction_tactical_cycle_duration_seconds_count":
                    count += sample.value
                elif sample.name == "deconfliction_tactical_cycle_duration_seconds_sum":
                    total += sample.value
                elif sample.name == "deconfliction_tactical_cycle_overruns_total":
                    overruns += sample.value
    return count, total, overruns


_TICK = os.sysconf("SC_CLK_TCK")
_BACKGROUND = ("walwriter", "checkpointer", "background writer", "autovacuum launcher")


def postgres_cpu(database: str | None) -> tuple[float, float]:
    """CPU seconds (user + system) so far of PostgreSQL's backends serving ``database`` and of its shared
    background processes (WAL writer, checkpointer, background writer, autovacuum launcher), from /proc;
    (0, 0) without a database name (SQLite)."""
    if database is None:
        return 0.0, 0.0
    backends = background = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
            if not title.startswith("postgres:"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        cpu = (int(fields[11]) + int(fields[12])) / _TICK
        if f" {database} " in f" {title} ":
            backends += cpu
        elif any(role in title for role in _BACKGROUND):
            background += cpu
    return backends, background


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


# ------------------------------------------------------------------------------------------------ paths


def http_path(bases: list[str], key: str, fleet: Fleet, clients: int, batch: int, seconds: float) -> dict[str, Any]:
    n = len(fleet.rows)
    accepted = [0] * clients
    posted = [0] * clients
    errors: list[str] = []
    until = time.monotonic() + seconds
    share = math.ceil(n / clients)

    def client(c: int) -> None:
        lo_all, hi_all = c * share, min(n, (c + 1) * share)
        with httpx.Client(base_url=bases[c % len(bases)], headers=headers(key), timeout=60) as http:
            lo = lo_all
            while time.monotonic() < until:
                hi = min(hi_all, lo + batch)
                r = http.post("/v1/tracks", content=fleet.body(lo, hi, time.time()))
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return
                accepted[c] += r.json()["accepted"]
                posted[c] += hi - lo
                lo = hi if hi < hi_all else lo_all

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    return {"rate": sum(accepted) / took, "posted": sum(posted), "accepted": sum(accepted), "errors": errors}


class SbsServer:
    """The SBS-1 (port 30003 style) server the service's feed connects to."""

    def __init__(self, port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        self.conn = conn

    def run(self, seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while self.conn is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.conn is None:
            return {"rate": 0.0, "error": "the server's SBS-1 feed never connected"}
        conn = self.conn
        icao = [f"{0x400000 + i:06X}" for i in range(FEED_AIRCRAFT)]
        positions = 0
        started = time.monotonic()
        until = started + seconds
        k = 0
        while time.monotonic() < until:
            now = datetime.now(UTC)
            stamp = f"{now:%Y/%m/%d},{now:%H:%M:%S}.{now.microsecond // 1000:03d}"
            lines = []
            for _ in range(100):
                a = icao[k % FEED_AIRCRAFT]
                if (k // FEED_AIRCRAFT) % 10 == 0 or k < FEED_AIRCRAFT:  # velocities keep up (10 s max age)
                    lines.append(f"MSG,4,1,1,{a},1,{stamp},{stamp},,,420,90,,,0,,,,,0\r\n")
                lines.append(f"MSG,3,1,1,{a},1,{stamp},{stamp},,35000,,,20.{k % 997:03d},30.5,,,0,0,0,0\r\n")
                positions += 1
                k += 1
            conn.sendall("".join(lines).encode())
        # what is still queued (ours to send, the server's to read) was not consumed yet: wait a little for it
        for _ in range(50):
            if _outq(conn) == 0:
                break
            time.sleep(0.1)
        took = time.monotonic() - started
        return {"rate": positions / took, "positions": positions}


def _outq(s: socket.socket) -> int:
    import fcntl
    import struct
    import termios

    return int(struct.unpack("i", fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0])


def udp_drops(port: int) -> tuple[int, int]:
    """(receive queue bytes, drops) of the UDP socket bound to ``port`` (/proc/net/udp)."""
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == port:
            return int(f[4].split(":")[1], 16), int(f[-1])
    return 0, 0


def cot_path(port: int, seconds: float) -> dict[str, Any]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    _, drops_before = udp_drops(port)
    sent = 0
    started = time.monotonic()
    until = started + seconds
    k = 0
    while time.monotonic() < until:
        t = time.time()
        when, stale = iso(t), iso(t + 30)
        for _ in range(200):
            uid = f"COT-{k % FEED_AIRCRAFT:05d}"
            sock.sendto(
                (
                    f'<event version="2.0" uid="{uid}" type="a-f-A-C-F" how="m-g" time="{when}" start="{when}" '
                    f'stale="{stale}"><point lat="25.{k % 997:03d}" lon="10.5" hae="9000" ce="10" le="20"/>'
                    '<detail><track course="90.0" speed="200.0"/></detail></event>'
                ).encode(),
                ("127.0.0.1", port),
            )
            sent += 1
            k += 1
    for _ in range(100):  # until the server has read what its socket holds
        if udp_drops(port)[0] == 0:
            break
        time.sleep(0.05)
    took = time.monotonic() - started
    _, drops_after = udp_drops(port)
    received = sent - (drops_after - drops_before)
    return {"rate": received / took, "sent": sent, "dropped": drops_after - drops_before}


IDLE = "idle: the cycle alone, no reports"


def idle(seconds: float) -> dict[str, Any]:
    """Nothing sent: what the server and PostgreSQL spend on the cycle over the picture alone."""
    time.sleep(seconds)
    return {"rate": 0.0}


def baseline(url: str, fleet: Fleet, party_id: str, batch: int, seconds: float) -> dict[str, float]:
    store = open_store(url)
    db = open_tactical_db(store)
    assert db is not None
    tracks = SqlTracks(db, expiry_s=300.0)
    n, done, lo = len(fleet.rows), 0, 0
    started, cpu = time.monotonic(), time.thread_time()
    try:
        while time.monotonic() - started < seconds:
            hi = min(n, lo + batch)
            now = datetime.now(UTC)
            reports = [
                PositionReport(party_id, i, now, lat, lon, alt, gs, trk, 0.0)
                for i, lat, lon, alt, gs, trk in fleet.rows[lo:hi]
            ]
            done += tracks.ingest(reports, now).accepted
            lo = hi if hi < n else 0
        return {"rate": done / (time.monotonic() - started), "cpu": time.thread_time() - cpu}
    finally:
        db.close()
        store.close()


# ------------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tracks", type=int, default=100_000)
    p.add_argument("--seconds", type=float, default=20.0, help="per path")
    p.add_argument("--batch", type=int, default=5_000, help="reports per HTTP request (at most 5,000)")
    p.add_argument("--clients", type=int, default=4, help="HTTP client threads")
    p.add_argument(
        "--processes",
        type=int,
        default=2,
        help="server processes over the one database (the first has the feeds; HTTP clients take turns)",
    )
    p.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument("--port", type=int, default=0, help="the server's port; the SBS-1 and CoT ports follow it")
    p.add_argument("--quick", action="store_true", help="10,000 tracks, 5 s per path")
    p.add_argument("--seed", type=int, default=15)
    args = p.parse_args(argv)
    if args.quick:
        args.tracks, args.seconds = 10_000, 5.0
    fleet = Fleet(args.tracks, args.seed)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        drop: Callable[[], None] | None = None
        if args.backend == "postgresql":
            url, drop = postgres_database()
        else:
            url = f"sqlite:///{tmp}/ingest.db"
        try:
            return run(args, fleet, url, Path(tmp))
        finally:
            if drop is not None:
                drop()


def run(args: argparse.Namespace, fleet: Fleet, url: str, tmp: Path) -> int:
    store = open_store(url)
    alpha, key = create_party(Runtime(store), None, "alpha", Role.PARTY)
    store.close()
    sbs = SbsServer(args.port + 1 if args.port else 0)
    cot_port = args.port + 2 if args.port else _free_udp_port()
    env = {
        "DECONFLICTION_TACTICAL_CYCLE_S": "1",
        "DECONFLICTION_TRACK_EXPIRY_S": "300",
        "DECONFLICTION_SBS_FEEDS": f"127.0.0.1:{sbs.port}=alpha",
        "DECONFLICTION_COT_UDP": f"127.0.0.1:{cot_port}=alpha",
    }
    server = Server(url, tmp, env=env, port=args.port or None)
    # more processes serve HTTP over the same database; every one may be elected to run the cycle
    plain = {k: v for k, v in env.items() if k.startswith(("DECONFLICTION_TACTICAL", "DECONFLICTION_TRACK"))}
    servers = [server, *(Server(url, tmp, env=plain) for _ in range(args.processes - 1))]
    database = url.rsplit("/", 1)[1] if args.backend == "postgresql" else None
    watch_store = open_store(url)
    db = open_tactical_db(watch_store)
    assert db is not None
    beats = Beats(SqlCycleBeats(db))
    results: dict[str, Any] = {}
    periods: dict[str, list[float]] = {}
    try:
        for one in servers:
            one.wait_ready()
            print(f"server: {one.command}", flush=True)
        print(f"filling {args.tracks:,} tracks over HTTP ...", flush=True)
        lo = 0
        with httpx.Client(base_url=server.url, headers=headers(key), timeout=120) as http:
            while lo < args.tracks:
                hi = min(args.tracks, lo + args.batch)
                r = http.post("/v1/tracks", content=fleet.body(lo, hi, time.time()))
                r.raise_for_status()
                lo = hi
        time.sleep(3.0)  # a few cycles over the full picture before measuring
        for name, path in (
            (IDLE, lambda: idle(max(5.0, args.seconds / 2))),
            (
                "HTTP batches",
                lambda: http_path([x.url for x in servers], key, fleet, args.clients, args.batch, args.seconds),
            ),
            ("SBS-1 (TCP)", lambda: sbs.run(args.seconds)),
            ("CoT (UDP)", lambda: cot_path(cot_port, args.seconds)),
            (
                "baseline: SqlTracks.ingest in process",
                lambda: baseline(url, fleet, alpha.id, args.batch, args.seconds),
            ),
        ):
            print(f"{name} for {args.seconds:g} s ...", flush=True)
            cycles0 = cycle_metrics([x.url for x in servers])
            cpu0, pg0, t0 = sum(x.cpu_seconds() for x in servers), postgres_cpu(database), time.time()
            results[name] = path()
            took = max(1e-9, time.time() - t0)
            pg1 = postgres_cpu(database)
            own = 0.0
            if name.startswith("baseline"):  # the bench process writes: its CPU stands for the server's
                own = results[name].pop("cpu")
            results[name]["server_cpu"] = (sum(x.cpu_seconds() for x in servers) - cpu0 + own) / took
            results[name]["pg_cpu"] = (pg1[0] - pg0[0]) / took
            results[name]["pg_shared_cpu"] = (pg1[1] - pg0[1]) / took
            periods[name] = beats.gaps(t0, time.time())
            cycles1 = cycle_metrics([x.url for x in servers])
            ran = cycles1[0] - cycles0[0]
            results[name]["cycle_mean"] = (cycles1[1] - cycles0[1]) / ran if ran else math.nan
            results[name]["overruns"] = cycles1[2] - cycles0[2]
        count = SqlTracks(db).__len__()
    finally:
        beats.stop.set()
        for one in servers:
            one.stop()
        db.close()
        watch_store.close()
    load = os.getloadavg()
    base = results["baseline: SqlTracks.ingest in process"]["rate"]
    print(
        f"\nreports/s sustained per path, {args.backend}, {args.processes} server process(es), "
        f"{count:,} tracks in the picture at the end"
    )
    print(
        f"(machine load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores: "
        "a shared, busy machine inflates every figure)"
    )
    print(
        f"{'path':<40} {'reports/s':>10} {'server CPU':>10} {'PG CPU':>7} {'PG shared':>9} {'per CPU-s':>10} "
        f"{'cycle gap p50':>13} {'p95':>6} {'max':>6} {'cycle mean':>10} {'overruns':>8}"
    )
    ok = True
    for name, r in results.items():
        g = periods[name]
        print(
            f"{name:<40} {r['rate']:>10,.0f} {r['server_cpu']:>9.2f}c {r['pg_cpu']:>6.2f}c {r['pg_shared_cpu']:>8.2f}c "
            f"{r['rate'] / max(r['server_cpu'] + r['pg_cpu'], 1e-9):>10,.0f} "
            f"{pct(g, 0.5):>12.2f}s {pct(g, 0.95):>5.2f}s {max(g) if g else math.nan:>5.2f}s "
            f"{r['cycle_mean']:>9.2f}s {r['overruns']:>8.0f}"
        )
        if r.get("errors"):
            ok = False
            print(f"  errors: {r['errors'][:3]}")
    http = results["HTTP batches"]
    print(f"\nHTTP / baseline (storage alone, same database, same run): {http['rate'] / base:.2f}")
    print(
        f"target >= {HTTP_TARGET:,.0f} reports/s over HTTP batches: {'PASS' if http['rate'] >= HTTP_TARGET else 'FAIL'}"
        f" ({http['rate']:,.0f})"
    )
    per_cpu = http["rate"] / max(http["server_cpu"] + http["pg_cpu"], 1e-9)
    print(
        f"CPU-time view (meaningful on a loaded machine): {per_cpu:,.0f} reports per CPU-second of the server "
        f"process (its cycle included)"
        + (" and PostgreSQL's backends" if args.backend == "postgresql" else "")
        + f" over HTTP; two cores for them alone: {2 * per_cpu:,.0f} reports/s, "
        f"{'PASS' if 2 * per_cpu >= HTTP_TARGET else 'FAIL'} against {HTTP_TARGET:,.0f}"
        + (" (PostgreSQL's shared background processes not counted)" if args.backend == "postgresql" else "")
    )
    fixed = results[IDLE]["server_cpu"] + results[IDLE]["pg_cpu"]
    marginal = (http["server_cpu"] + http["pg_cpu"] - fixed) / max(http["rate"], 1e-9)
    reach = (2.0 - fixed) / marginal if marginal > 0 else math.inf
    print(
        f"the cycle alone took {fixed:.2f} cores (server + PostgreSQL's backends, nothing sent); over it, a report "
        f"over HTTP costs {marginal * 1e6:.1f} us of CPU (server + backends): the 2 cores left beside the cycle "
        f"would take {reach:,.0f} reports/s, {'PASS' if reach >= HTTP_TARGET else 'FAIL'} against {HTTP_TARGET:,.0f}"
    )
    all_gaps = [x for g in periods.values() for x in g]
    p95 = pct(all_gaps, 0.95)
    print(
        f"target: the cycle keeps its 1 s period at {count:,} tracks (95 % of gaps <= {PERIOD_TARGET_S} s): "
        f"{'PASS' if p95 <= PERIOD_TARGET_S else 'FAIL'} (p50 {pct(all_gaps, 0.5):.2f} s, p95 {p95:.2f} s, "
        f"max {max(all_gaps) if all_gaps else math.nan:.2f} s, {len(all_gaps)} gaps; median "
        f"{statistics.median(all_gaps) if all_gaps else math.nan:.2f} s; "
        f"{sum(r['overruns'] for r in results.values()):.0f} cycles longer than the period)"
    )
    return 0 if ok else 1


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    raise SystemExit(main())
