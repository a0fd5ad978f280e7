"""What the benchmarks share: a real ``deconflict serve`` process they start, measure and stop, and a
PostgreSQL database of their own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ADMIN_URL = os.environ.get("DECONFLICTION_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
"""Where a bench makes and drops its PostgreSQL database (DECONFLICTION_BENCH_POSTGRES_URL)."""


def postgres_database(prefix: str = "dc_bench") -> tuple[str, Callable[[], None]]:
    """A new database on ``ADMIN_URL`` (``prefix`` and a random suffix): its URL, and how to drop it."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


class Server:
    """``deconflict serve`` in its own session, on a free port, over one database."""

    def __init__(
        self,
        url: str,
        workdir: Path,
        workers: int = 1,
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.tls = bool((env or {}).get("DECONFLICTION_TLS_CERT_FILE"))
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        env = {**os.environ, "DECONFLICTION_DATABASE_URL": url, "COLUMNS": "200", **(env or {})}
        exe = Path(sys.executable).with_name("deconflict")
        cmd = [str(exe), "serve", "--port", str(self.port), "--workers", str(workers)]
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.command = f"DECONFLICTION_DATABASE_URL={url} {' '.join(cmd)}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw:
                s = _unverified_tls().wrap_socket(raw) if self.tls else raw
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /v1/health within {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its child processes (uvicorn workers), from /proc."""
        tick = os.sysconf("SC_CLK_TCK")
        pids = {self.proc.pid}
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    stat = (entry / "stat").read_text()
                    parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        grew = True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in pids and pid not in pids:
                    pids.add(pid)
                    grew = True
        total = 0.0
        for pid in pids:
            with contextlib.suppress(OSError, IndexError):
                fields_ = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields_[11]) + int(fields_[12])) / tick
        return total

    def log_tail(self) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        stop_session(self.proc)
        self.log.close()


def stop_session(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session: SIGTERM to its process group, SIGKILL after 15 s."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _unverified_tls() -> ssl.SSLContext:
    """Only to see that the server answers; the tests verify its certificate themselves."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def free_port(lo: int = 0, hi: int = 0) -> int:
    """A port nobody listens on: any (the default), or the first free one in [lo, hi]."""
    for port in range(lo, hi + 1) if lo else (0,):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError(f"no free port in {lo}-{hi}")


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """One request on a keep-alive connection; the status and the body of its response. The load generators
    write raw HTTP/1.1 on asyncio streams: an HTTP client library costs more CPU per request than the
    server's own work on a small request, and on a 2-core machine that CPU is taken from the server."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = -1
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(max(length, 0))
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        parts.append(await reader.readexactly(size + 2))
        if size == 0:
            return status, b"".join(p[:-2] for p in parts)
