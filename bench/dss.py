"""bench/dss.py: creates of operational intent references per second through the ASTM F3548 DSS API.

A benchmark, not a test. It starts ``deconflict serve --workers 2`` with the DSS interface on (a key pair
made for the run), on a fresh SQLite or PostgreSQL database, and measures, with N concurrent clients:

* **non-overlapping** creates: every intent in its own place, with an empty key;
* **overlapping** creates: N stacks (one client each); each new intent of a stack overlaps every earlier
  one of that stack, and its key lists all their OVNs (what a USS learns from the 409 / its queries);
* a **baseline** in the same run: authenticated GETs of an unknown intent (404) with the same clients,
  the floor of a DSS request on this machine; each figure is printed as a ratio of it.

Beside each rate, the server's CPU time per request (its processes' user + system time from /proc, the
database server's not included): the figure that does not depend on what else the machine is doing.

Published figures of the InterUSS DSS (CockroachDB): 120-150 non-overlapping and 5-25 overlapping
creates per second. Targets here, 2 cores, two server workers: >= 500 and >= 150 per second.

    .venv/bin/python bench/dss.py                     # SQLite, 2,000 + 600 creates
    .venv/bin/python bench/dss.py --quick
    .venv/bin/python bench/dss.py --backend postgresql  # on DECONFLICTION_BENCH_POSTGRES_URL
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import Server

TARGET_DISJOINT = 500.0
TARGET_OVERLAPPING = 150.0
INTERUSS_DISJOINT = "120-150"
INTERUSS_OVERLAPPING = "5-25"
URL = "https://uss.example/bench"


def _volume(lon: float, lat: float, start: datetime, size: float = 0.002) -> dict[str, Any]:
    vertices = [
        {"lng": lon, "lat": lat},
        {"lng": lon + size, "lat": lat},
        {"lng": lon + size, "lat": lat + size},
        {"lng": lon, "lat": lat + size},
    ]

    def t(x: datetime) -> dict[str, str]:
        return {"value": x.isoformat().replace("+00:00", "Z"), "format": "RFC3339"}

    return {
        "volume": {
            "outline_polygon": {"vertices": vertices},
            "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 120, "reference": "W84", "units": "M"},
        },
        "time_start": t(start),
        "time_end": t(start + timedelta(hours=1)),
    }


def _body(volume: dict[str, Any], key: list[str]) -> dict[str, Any]:
    return {
        "extents": [volume],
        "key": key,
        "state": "Accepted",
        "uss_base_url": URL,
        "new_subscription": {"uss_base_url": URL},
    }


async def _baseline(base: str, headers: dict[str, str], clients: int, requests: int) -> float:
    async def one(c: httpx.AsyncClient, n: int) -> None:
        for _ in range(n):
            r = await c.get(f"/dss/v1/operational_intent_references/{uuid.uuid4()}", headers=headers)
            assert r.status_code == 404, r.text

    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*(one(c, requests // clients) for _ in range(clients)))
        return (requests // clients * clients) / (time.perf_counter() - t0)


async def _disjoint(base: str, headers: dict[str, str], clients: int, creates: int, start: datetime) -> float:
    async def one(c: httpx.AsyncClient, k: int, n: int) -> None:
        for i in range(n):
            cell = k * n + i
            vol = _volume(-20 + (cell % 400) * 0.01, -20 + (cell // 400) * 0.01, start)
            r = await c.put(
                f"/dss/v1/operational_intent_references/{uuid.uuid4()}", json=_body(vol, []), headers=headers
            )
            assert r.status_code == 201, r.text

    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*(one(c, k, creates // clients) for k in range(clients)))
        return (creates // clients * clients) / (time.perf_counter() - t0)


async def _overlapping(base: str, headers: dict[str, str], clients: int, creates: int, start: datetime) -> float:
    async def stack(c: httpx.AsyncClient, k: int, n: int) -> None:
        key: list[str] = []
        for i in range(n):
            vol = _volume(30 + k * 0.1 + i * 1e-5, 30, start)  # each overlaps every earlier one of its stack
            r = await c.put(
                f"/dss/v1/operational_intent_references/{uuid.uuid4()}", json=_body(vol, key), headers=headers
            )
            assert r.status_code == 201, r.text
            key.append(r.json()["operational_intent_reference"]["ovn"])

    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*(stack(c, k, creates // clients) for k in range(clients)))
        return (creates // clients * clients) / (time.perf_counter() - t0)


def _database(backend: str, workdir: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        return f"sqlite:///{workdir}/bench.db", lambda: None
    import psycopg

    admin = os.environ.get("DECONFLICTION_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"dc_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{admin.rpartition('/')[0]}/{name}", drop


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--creates", type=int, default=2000, help="non-overlapping creates")
    p.add_argument("--overlapping", type=int, default=600, help="overlapping creates (all stacks)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (and overlapping stacks)")
    p.add_argument("--workers", type=int, default=2, help="deconflict serve --workers")
    p.add_argument("--quick", action="store_true", help="400 + 160 creates")
    args = p.parse_args()
    if args.quick:
        args.creates, args.overlapping = 400, 160

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with tempfile.TemporaryDirectory(prefix="dss-bench-") as tmp:
        workdir = Path(tmp)
        pem = workdir / "uss.pem"
        pem.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        claims = {
            "sub": "bench-uss",
            "scope": "utm.strategic_coordination",
            "aud": "127.0.0.1",
            "exp": int(time.time()) + 3600,
        }
        headers = {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='RS256')}"}
        url, drop = _database(args.backend, workdir)
        env = {"DECONFLICTION_DSS_PUBLIC_KEYS": str(pem), "DECONFLICTION_DSS_AUDIENCES": "127.0.0.1"}
        server = Server(url, workdir, workers=args.workers, env=env)
        try:
            server.wait_ready()
            start = datetime.now(UTC) + timedelta(minutes=30)
            gets = max(400, args.creates // 2) // args.clients * args.clients
            cpu: dict[str, float] = {}  # server CPU (all its processes) per request, ms

            def phase(name: str, requests: int, run: Any) -> float:
                cpu0 = server.cpu_seconds()
                rate = float(asyncio.run(run))
                cpu[name] = (server.cpu_seconds() - cpu0) / requests * 1000
                return rate

            base = phase("base", gets, _baseline(server.url, headers, args.clients, gets))
            disjoint = phase(
                "disjoint",
                args.creates // args.clients * args.clients,
                _disjoint(server.url, headers, args.clients, args.creates, start),
            )
            overlapping = phase(
                "overlapping",
                args.overlapping // args.clients * args.clients,
                _overlapping(server.url, headers, args.clients, args.overlapping, start),
            )
        finally:
            server.stop()
            drop()
    print(f"DSS creates through /dss/v1 ({args.backend}, {args.workers} server workers, {args.clients} clients)")
    print(f"  baseline: authenticated GET (404)      {base:8.1f} /s  server CPU {cpu['base']:5.2f} ms/request")
    rows = (
        ("non-overlapping creates", disjoint, cpu["disjoint"], TARGET_DISJOINT, INTERUSS_DISJOINT),
        ("overlapping creates", overlapping, cpu["overlapping"], TARGET_OVERLAPPING, INTERUSS_OVERLAPPING),
    )
    for name, rate, ms, target, interuss in rows:
        verdict = "PASS" if rate >= target else "FAIL"
        print(
            f"  {name:<24} {rate:8.1f} /s  server CPU {ms:5.2f} ms/request  target >= {target:.0f}  {verdict}  "
            f"(InterUSS DSS: {interuss} /s; x{rate / base:.2f} of the baseline)"
        )
    print(
        "  server CPU: user + system time of the server's processes (/proc), the database's own excluded; "
        f"{args.workers} workers can spend at most {args.workers * 1000:.0f} ms of it per second"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
