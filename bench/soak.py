"""bench/soak.py: three server processes on one PostgreSQL under strategic submissions, an SBS-1 feed of
10,000 aircraft at 1 Hz and 50 open streams, with a kill -9 of a random process every minute.

A benchmark, not a test. On a fresh PostgreSQL database it starts three ``deconflict serve`` processes
(each restarted at once on its port after it is killed) and, for ``--minutes``:

* **strategic submissions**: alpha and bravo in turn submit operations (``POST /v1/operations``) over a
  small area, so that many conflict, each to a random live process; a ``201`` is an acknowledged write;
* **an SBS-1 feed**: the bench is the SBS-1 server every process's feed connects to (as to a dump1090);
  it writes 10,000 aircraft's positions once a second (a velocity for each every 5 s) to one connected
  process at a time, and to another when that one dies;
* **50 open streams** (``GET /v1/stream``), 25 per party, spread over the processes; a stream whose
  process dies reconnects to another one with ``Last-Event-ID``;
* **a kill -9** of a random process every ``--kill-every`` seconds;
* the elected cycle's heartbeat (``tactical_cycle``) read every 50 ms.

Then it prints: acknowledged writes lost (every 201's operation read back; target 0), stream gaps and
repeats (each stream's notification numbers against the party's notifications since it opened; target 0
and 0), the longest gap between two tactical cycles (target <= 3 s), and ``deconflict ledger verify`` on
an export of the whole ledger.

    .venv/bin/python bench/soak.py                                  # a short try: 1 minute, a kill every 20 s
    .venv/bin/python bench/soak.py --minutes 5 --kill-every 60      # the issue's run

PostgreSQL: a database is made and dropped on DECONFLICTION_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from deconfliction.store.tactical import SqlCycleBeats, open_tactical_db
from servers import Server, postgres_database

AIRCRAFT = 10_000
STREAMS = 50
CYCLE_GAP_TARGET_S = 3.0
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)


class Fleet:
    """The three server processes, each restarted on its own port after a kill."""

    def __init__(self, url: str, tmp: Path, env: dict[str, str], ports: list[int]) -> None:
        self.url, self.tmp, self.env = url, tmp, env
        self.lock = threading.Lock()
        self.servers = [Server(url, tmp, env=env, port=p or None) for p in ports]
        self.kills = 0
        self.killed_at: list[float] = []
        try:
            for s in self.servers:
                s.wait_ready(180.0)
        except BaseException:
            self.stop()
            raise

    def bases(self) -> list[str]:
        with self.lock:
            return [s.url for s in self.servers if s.proc.poll() is None]

    def kill_one(self, rng: random.Random) -> str:
        with self.lock:
            n = rng.randrange(len(self.servers))
            victim = self.servers[n]
            self.killed_at.append(time.time())
            with contextlib.suppress(ProcessLookupError):
                os.killpg(victim.proc.pid, signal.SIGKILL)
            victim.proc.wait(10)
            victim.log.close()
            self.kills += 1
        fresh = Server(self.url, self.tmp, env=self.env, port=victim.port)
        fresh.wait_ready(180.0)
        with self.lock:
            self.servers[n] = fresh
        return victim.url

    def stop(self) -> None:
        for s in self.servers:
            s.stop()


# ------------------------------------------------------------------------------------------- the loads


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


class Submissions:
    """Alpha and bravo in turn submit operations to random live processes; every 201 is remembered."""

    def __init__(self, fleet: Fleet, keys: dict[str, str], stop: threading.Event, seed: int) -> None:
        self.fleet, self.keys, self.stop = fleet, keys, stop
        self.rng = random.Random(seed)
        self.acknowledged: list[tuple[str, str]] = []  # (party, operation id)
        self.failed = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        end = START + timedelta(hours=2)
        window = {"start": START.isoformat().replace("+00:00", "Z"), "end": end.isoformat().replace("+00:00", "Z")}
        for who in itertools.cycle(("alpha", "bravo")):
            if self.stop.is_set():
                return
            lon, lat = 40.0 + self.rng.uniform(0, 0.5), 35.0 + self.rng.uniform(0, 0.5)
            body = {
                "kind": "air",
                "volumes": [
                    {"footprint": square(lon, lat, 0.05), "altitude": {"lower_m": 0, "upper_m": 3000}, "window": window}
                ],
            }
            bases = self.fleet.bases()
            if not bases:
                time.sleep(0.1)
                continue
            try:
                r = httpx.post(
                    f"{self.rng.choice(bases)}/v1/operations",
                    json=body,
                    headers={"Authorization": f"Bearer {self.keys[who]}"},
                    timeout=30,
                )
            except httpx.HTTPError:
                self.failed += 1  # not acknowledged: the process died under it, or it was too slow
                continue
            if r.status_code == 201:
                self.acknowledged.append((who, r.json()["operation"]["id"]))
            else:
                self.failed += 1
            time.sleep(0.05)


class Stream:
    """One party's SSE stream, moved to another live process (with Last-Event-ID) when its process dies."""

    def __init__(self, fleet: Fleet, who: str, key: str, after: int, stop: threading.Event, n: int) -> None:
        self.fleet, self.who, self.key, self.stop = fleet, who, key, stop
        self.after = after
        self.seqs: list[int] = []
        self.reconnects = 0
        self.n = n
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        last = self.after
        k = self.n
        while not self.stop.is_set():
            bases = self.fleet.bases()
            if not bases:
                time.sleep(0.1)
                continue
            base = bases[k % len(bases)]
            k += 1
            headers = {"Authorization": f"Bearer {self.key}", "Last-Event-ID": str(last)}
            try:
                with httpx.stream(
                    "GET", f"{base}/v1/stream", headers=headers, timeout=httpx.Timeout(5.0, read=20.0)
                ) as r:
                    for line in r.iter_lines():
                        if self.stop.is_set():
                            return
                        if line.startswith("id: "):
                            last = int(line[4:])
                            self.seqs.append(last)
            except httpx.HTTPError:
                pass
            self.reconnects += 1
            time.sleep(0.2)


class SbsFeed:
    """The SBS-1 server every process's feed connects to: 10,000 aircraft at 1 Hz to one live connection."""

    def __init__(self, stop: threading.Event) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = stop
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.sent = 0
        self.late_seconds = 0
        self.switches = 0
        self.go = threading.Event()
        """Set once every process is up: the feed starts then."""
        threading.Thread(target=self._accept, daemon=True).start()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.5)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with self.lock:
                self.conns.append(conn)

    def _run(self) -> None:
        icao = [f"{0x400000 + i:06X}" for i in range(AIRCRAFT)]
        rng = random.Random(7)
        where = [(rng.uniform(30.0, 40.0), rng.uniform(35.0, 45.0)) for _ in range(AIRCRAFT)]
        tick = 0
        while not self.go.wait(0.1):
            if self.stop.is_set():
                return
        next_at = time.monotonic()
        while not self.stop.is_set():
            now = datetime.now(UTC)
            stamp = f"{now:%Y/%m/%d},{now:%H:%M:%S}.{now.microsecond // 1000:03d}"
            lines = []
            for i, a in enumerate(icao):
                if tick == 0 or i % 5 == tick % 5:
                    lines.append(f"MSG,4,1,1,{a},1,{stamp},{stamp},,,420,90,,,0,,,,,0\r\n")
                lat, lon = where[i]
                lines.append(
                    f"MSG,3,1,1,{a},1,{stamp},{stamp},,35000,,,{lat:.5f},{lon + tick * 0.01:.5f},,,0,0,0,0\r\n"
                )
            data = "".join(lines).encode()
            while not self.stop.is_set():
                with self.lock:
                    conn = self.conns[0] if self.conns else None
                if conn is None:
                    time.sleep(0.05)
                    continue
                try:
                    conn.sendall(data)
                    self.sent += AIRCRAFT
                    break
                except OSError:  # that process died: the next connected one takes the feed
                    with self.lock:
                        if self.conns and self.conns[0] is conn:
                            self.conns.pop(0)
                    conn.close()
                    self.switches += 1
            tick += 1
            next_at += 1.0
            delay = next_at - time.monotonic()
            if delay < 0:
                self.late_seconds += 1
                next_at = time.monotonic()
            else:
                time.sleep(delay)


class Beats:
    def __init__(self, beats: SqlCycleBeats, stop: threading.Event) -> None:
        self.beats, self.stop = beats, stop
        self.seen: list[tuple[str, float]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            try:
                last = self.beats.last()
            except Exception:
                continue
            if last is not None and (not self.seen or last[1] != self.seen[-1][1]):
                self.seen.append(last)


# ------------------------------------------------------------------------------------------------ checks


def party_seqs(base: str, key: str, after: int) -> list[int]:
    """The numbers of every notification of the caller above ``after``, read through the stream."""
    out: list[int] = []
    with httpx.stream(
        "GET",
        f"{base}/v1/stream",
        params={"after": after, "idle_s": 2},
        headers={"Authorization": f"Bearer {key}"},
        timeout=httpx.Timeout(10.0, read=60.0),
    ) as r:
        for line in r.iter_lines():
            if line.startswith("id: "):
                out.append(int(line[4:]))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=1.0)
    p.add_argument("--kill-every", type=float, default=20.0, help="seconds between two kill -9")
    p.add_argument("--port", type=int, default=0, help="the first server's port (the others follow); 0: free ports")
    p.add_argument("--seed", type=int, default=15)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        url, drop = postgres_database("dc_soak")
        try:
            return run(args, url, Path(tmp))
        finally:
            drop()


def run(args: argparse.Namespace, url: str, tmp: Path) -> int:
    store = open_store(url)
    rt = Runtime(store)
    keys = {who: create_party(rt, None, who, Role.PARTY)[1] for who in ("alpha", "bravo")}
    store.close()
    stop = threading.Event()
    feed = SbsFeed(stop)
    env = {"DECONFLICTION_TACTICAL_CYCLE_S": "1", "DECONFLICTION_SBS_FEEDS": f"127.0.0.1:{feed.port}=alpha"}
    ports = [args.port + k if args.port else 0 for k in range(3)]
    fleet = Fleet(url, tmp, env, ports)
    feed.go.set()
    watch = open_store(url)
    db = open_tactical_db(watch)
    assert db is not None
    beats = Beats(SqlCycleBeats(db), stop)
    rng = random.Random(args.seed)
    print(f"3 servers on {url.rsplit('/', 1)[1]}: {', '.join(fleet.bases())}; {args.minutes:g} min", flush=True)
    streams = [Stream(fleet, who, keys[who], 0, stop, n) for n, who in enumerate(("alpha", "bravo") * (STREAMS // 2))]
    subs = Submissions(fleet, keys, stop, args.seed)
    began = time.monotonic()
    end = began + args.minutes * 60
    next_kill = began + args.kill_every
    killed: list[str] = []
    try:
        while time.monotonic() < end:
            time.sleep(min(0.5, max(0.0, end - time.monotonic())))
            if time.monotonic() >= next_kill and time.monotonic() < end - 5:
                victim = fleet.kill_one(rng)
                killed.append(victim)
                print(f"  {time.monotonic() - began:5.0f} s: kill -9 {victim} (restarted)", flush=True)
                next_kill += args.kill_every
        stop.set()
        subs.thread.join(35)
        for s in streams:
            s.thread.join(25)
        beats.thread.join(5)
        # the checks, through a live process
        base = fleet.bases()[0]
        lost = []
        with httpx.Client(base_url=base, timeout=30) as http:
            for who, op in subs.acknowledged:
                r = http.get(f"/v1/operations/{op}", headers={"Authorization": f"Bearer {keys[who]}"})
                if r.status_code != 200:
                    lost.append((who, op, r.status_code))
        truth = {who: party_seqs(base, keys[who], 0) for who in ("alpha", "bravo")}
        gaps = repeats = 0
        for s in streams:
            got = s.seqs
            repeats += len(got) - len(set(got))
            last = max(got) if got else 0  # once: inside the comprehension it was read per number, n^2
            expected = [n for n in truth[s.who] if n <= last]
            gaps += len(set(expected) - set(got))
        out = tmp / "ledger.jsonl"
        exe = Path(sys.executable).with_name("deconflict")
        env = {**os.environ, "DECONFLICTION_DATABASE_URL": url}
        subprocess.run([str(exe), "ledger", "export", "--out", str(out)], env=env, check=True, capture_output=True)
        verify = subprocess.run([str(exe), "ledger", "verify", str(out)], env=env, capture_output=True, text=True)
    finally:
        stop.set()
        fleet.stop()
        db.close()
        watch.close()
    seen = [b for _, b in beats.seen]
    cycle_gaps = [b - a for a, b in itertools.pairwise(seen)]
    longest = max(cycle_gaps) if cycle_gaps else float("inf")
    # a gap that spans a kill includes a takeover when the victim held the election
    at_kill = [b - a for a, b in itertools.pairwise(seen) if any(a <= k <= b for k in fleet.killed_at)]
    steady = [b - a for a, b in itertools.pairwise(seen) if not any(a <= k <= b for k in fleet.killed_at)]
    holders = len({h for h, _ in beats.seen})
    load = os.getloadavg()
    delivered = sum(len(s.seqs) for s in streams)
    print(f"\nsoak: {args.minutes:g} min, 3 processes on PostgreSQL, {len(killed)} kill -9")
    print(
        f"(machine load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores: "
        "a shared, busy machine)"
    )
    print(f"submissions acknowledged {len(subs.acknowledged):,}, not acknowledged {subs.failed:,}")
    print(
        f"SBS-1: {feed.sent:,} positions written ({AIRCRAFT:,} aircraft), {feed.late_seconds} seconds behind 1 Hz, "
        f"{feed.switches} switches to another process"
    )
    print(
        f"streams: {len(streams)}, {delivered:,} events delivered, {sum(s.reconnects for s in streams)} reconnects; "
        f"notifications: alpha {len(truth['alpha']):,}, bravo {len(truth['bravo']):,}"
    )
    print(
        f"tactical cycles: {len(seen):,} beats from {holders} elected processes in turn; longest gap spanning a "
        f"kill {max(at_kill, default=0.0):.2f} s, otherwise {max(steady, default=0.0):.2f} s "
        f"(median {statistics.median(cycle_gaps) if cycle_gaps else float('nan'):.2f} s)"
    )
    ok_lost, ok_streams = not lost, gaps == 0 and repeats == 0
    ok_cycle, ok_ledger = longest <= CYCLE_GAP_TARGET_S, verify.returncode == 0
    print(f"acknowledged writes lost: {len(lost)} (target 0): {'PASS' if ok_lost else 'FAIL'}")
    print(f"stream gaps {gaps}, repeats {repeats} (target 0 and 0): {'PASS' if ok_streams else 'FAIL'}")
    print(
        f"longest gap between tactical cycles: {longest:.2f} s (target <= {CYCLE_GAP_TARGET_S:g} s): "
        f"{'PASS' if ok_cycle else 'FAIL'}"
    )
    print(
        f"ledger verify: {verify.stdout.strip().splitlines()[-1] if verify.stdout.strip() else verify.stderr.strip()}"
        f" ({'PASS' if ok_ledger else 'FAIL'})"
    )
    if lost:
        print(f"  lost: {lost[:5]}")
    return 0 if (ok_lost and ok_streams and ok_cycle and ok_ledger) else 1


if __name__ == "__main__":
    raise SystemExit(main())
