"""``deconflict serve --workers N`` (api/workers.py): a socket per process, connections spread by the kernel,
a process that dies started again. Which process holds a connection is read from /proc: the inode of
the server's end of each connection (/proc/net/tcp) among each process's open sockets."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from bench.servers import Server

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreading is Linux's")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _sockets_of(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _server_ends(port: int) -> dict[int, int]:
    """Client port -> inode of the server's end of that connection."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            local, remote = int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16)
            if local == port and int(f[9]):
                out[remote] = int(f[9])
    return out


def _served_by(server: Server, clients: list[socket.socket]) -> dict[int, int]:
    """Client port -> the pid of the server process that holds its connection."""
    ends = _server_ends(server.port)
    holders = {inode: pid for pid in _children(server.proc.pid) for inode in _sockets_of(pid)}
    return {c.getsockname()[1]: holders[ends[c.getsockname()[1]]] for c in clients}


def _open(server: Server, n: int) -> list[socket.socket]:
    """``n`` connections opened at once, each answered once (so each is accepted)."""
    clients = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(n)]
    for c in clients:
        c.sendall(b"GET /v1/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
    for c in clients:
        assert c.recv(64).startswith(b"HTTP/1.1 200")
    return clients


def test_connections_opened_at_once_reach_every_process(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, workers=2)
    try:
        server.wait_ready()
        clients = _open(server, 32)
        served = list(_served_by(server, clients).values())
        # one socket per process: the kernel spreads connections by their addresses (fewer than 6 of 32 on
        # one of two processes: about 1 in 9,000). On one shared socket, the first process to wake took
        # all or most of them.
        counts = sorted(served.count(pid) for pid in set(served))
        assert len(counts) == 2 and counts[0] >= 6, counts
        for c in clients:
            c.close()
    finally:
        server.stop()


def test_a_process_that_dies_is_started_again_on_its_socket(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, workers=2)
    try:
        server.wait_ready()
        clients = _open(server, 16)
        victim = next(iter(_served_by(server, clients).values()))
        for c in clients:
            c.close()
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            served = set(_served_by(server, (clients := _open(server, 16))).values())
            for c in clients:
                c.close()
            if len(served) == 2 and victim not in served:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"no second process took connections after {victim} was killed:\n{server.log_tail()}")
        assert "exited (status -9): starting another" in server.log_tail()
    finally:
        server.stop()
    assert server.proc.returncode == 0


def test_a_port_already_taken_is_refused_not_shared(tmp_path: Path) -> None:
    """Sockets that share a port would share it with another server started the same way: refused."""
    import subprocess

    holder = socket.socket()  # as a server started the same way holds it: a socket that shares its port
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        exe = Path(sys.executable).with_name("deconflict")
        env = {**os.environ, "DECONFLICTION_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "COLUMNS": "200"}
        cmd = [str(exe), "serve", "--port", str(port), "--workers", "2"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
    finally:
        holder.close()
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stdout + done.stderr


def test_the_processes_stop_when_their_supervisor_is_killed_outright(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, workers=2)
    try:
        server.wait_ready()
        children = _children(server.proc.pid)
        assert len(children) >= 2
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in children):
            time.sleep(0.2)
        alive = [
            pid
            for pid in children
            if Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()
        ]
        assert alive == [], f"still running after their supervisor was killed: {alive}"
    finally:
        server.stop()
