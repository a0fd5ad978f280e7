"""bench/dss.py: creates of operational intent references per second through the ASTM F3548 DSS API.

A benchmark, not a test. It starts ``deconflict serve --workers 2`` with the DSS interface on (a key pair
made for the run), on a fresh SQLite or PostgreSQL database, and measures, with N concurrent clients (each a
keep-alive connection written raw HTTP/1.1, bench/servers.py ``exchange``: an HTTP client library would
cost more CPU per request than the server's own GET, on the same two cores):

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
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import Server, exchange, postgres_database

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


def _request(method: str, path: str, auth: str, body: dict[str, Any] | None = None) -> bytes:
    payload = orjson.dumps(body) if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return (head + "\r\n").encode() + payload


_INTENTS = "/dss/v1/operational_intent_references"


async def _run(port: int, clients: int, each: Callable[[Any, Any, int], Awaitable[None]]) -> tuple[float, float]:
    """``each(reader, writer, k)`` on ``clients`` keep-alive connections at once: (wall s, client CPU s)."""
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]
    cpu0, t0 = time.process_time(), time.perf_counter()
    try:
        await asyncio.gather(*(each(r, w, k) for k, (r, w) in enumerate(conns)))
    finally:
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        for _, w in conns:
            w.close()
    return wall, cpu


def _expect(status: int, body: bytes, want: int) -> None:
    if status != want:
        raise RuntimeError(f"expected {want}, got {status}: {body[:300].decode(errors='replace')}")


async def _baseline(port: int, auth: str, clients: int, n: int) -> tuple[float, float]:
    requests = [_request("GET", f"{_INTENTS}/{uuid.uuid4()}", auth) for _ in range(n * clients)]

    async def one(r: Any, w: Any, k: int) -> None:
        for i in range(n):
            _expect(*await exchange(r, w, requests[k * n + i]), 404)

    return await _run(port, clients, one)


async def _disjoint(port: int, auth: str, clients: int, n: int, start: datetime) -> tuple[float, float]:
    requests = []  # built before the clock starts
    for cell in range(n * clients):
        vol = _volume(-20 + (cell % 400) * 0.01, -20 + (cell // 400) * 0.01, start)
        requests.append(_request("PUT", f"{_INTENTS}/{uuid.uuid4()}", auth, _body(vol, [])))

    async def one(r: Any, w: Any, k: int) -> None:
        for i in range(n):
            _expect(*await exchange(r, w, requests[k * n + i]), 201)

    return await _run(port, clients, one)


async def _overlapping(port: int, auth: str, clients: int, n: int, start: datetime) -> tuple[float, float]:
    async def stack(r: Any, w: Any, k: int) -> None:
        key: list[str] = []  # each body needs the OVNs of the answers before it: built as it goes
        for i in range(n):
            vol = _volume(30 + k * 0.1 + i * 1e-5, 30, start)  # each overlaps every earlier one of its stack
            status, body = await exchange(r, w, _request("PUT", f"{_INTENTS}/{uuid.uuid4()}", auth, _body(vol, key)))
            _expect(status, body, 201)
            key.append(orjson.loads(body)["operational_intent_reference"]["ovn"])

    return await _run(port, clients, stack)


def _loop(run: Coroutine[Any, Any, tuple[float, float]]) -> tuple[float, float]:
    try:
        import uvloop

        return uvloop.run(run)  # type: ignore[no-any-return]
    except ImportError:
        return asyncio.run(run)


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
        auth = f"Bearer {jwt.encode(claims, key, algorithm='RS256')}"
        url, drop = (
            (f"sqlite:///{workdir}/bench.db", lambda: None)
            if args.backend == "sqlite"
            else postgres_database("dc_bench_dss")
        )
        env = {"DECONFLICTION_DSS_PUBLIC_KEYS": str(pem), "DECONFLICTION_DSS_AUDIENCES": "127.0.0.1"}
        server = Server(url, workdir, workers=args.workers, env=env)
        try:
            server.wait_ready()
            start = datetime.now(UTC) + timedelta(minutes=30)
            clients = args.clients
            gets = max(400, args.creates // 2) // clients
            cpu: dict[str, tuple[float, float]] = {}  # (server, load generator) CPU per request, ms

            def phase(name: str, requests: int, run: Coroutine[Any, Any, tuple[float, float]]) -> float:
                server0 = server.cpu_seconds()
                wall, client = _loop(run)
                cpu[name] = ((server.cpu_seconds() - server0) / requests * 1000, client / requests * 1000)
                return requests / wall

            base = phase("base", gets * clients, _baseline(server.port, auth, clients, gets))
            n = args.creates // clients
            disjoint = phase("disjoint", n * clients, _disjoint(server.port, auth, clients, n, start))
            n = args.overlapping // clients
            overlapping = phase("overlapping", n * clients, _overlapping(server.port, auth, clients, n, start))
        finally:
            server.stop()
            drop()
    print(f"DSS creates through /dss/v1 ({args.backend}, {args.workers} server workers, {args.clients} clients)")
    print(
        f"  baseline: authenticated GET (404)      {base:8.1f} /s  server CPU {cpu['base'][0]:5.2f} ms/request  "
        f"(load generator {cpu['base'][1]:.2f} ms)"
    )
    rows = (
        ("non-overlapping creates", disjoint, cpu["disjoint"], TARGET_DISJOINT, INTERUSS_DISJOINT),
        ("overlapping creates", overlapping, cpu["overlapping"], TARGET_OVERLAPPING, INTERUSS_OVERLAPPING),
    )
    for name, rate, (ms, client_ms), target, interuss in rows:
        verdict = "PASS" if rate >= target else "FAIL"
        print(
            f"  {name:<24} {rate:8.1f} /s  server CPU {ms:5.2f} ms/request  target >= {target:.0f}  {verdict}  "
            f"(InterUSS DSS: {interuss} /s; x{rate / base:.2f} of the baseline; load generator {client_ms:.2f} ms)"
        )
    print(
        "  server CPU: user + system time of the server's processes (/proc), the database's own excluded; "
        f"{args.workers} workers can spend at most {args.workers * 1000:.0f} ms of it per second; the load "
        "generator (raw HTTP/1.1 on keep-alive connections, one per client) shares the same cores"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
