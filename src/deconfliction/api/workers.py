"""``deconflict serve --workers N``: N server processes on one port, each listening on a socket of its own.

Uvicorn's own workers share one listening socket, and the process that wakes first accepts every
connection then pending: sixteen keep-alive clients connecting at once were served 15 to 1 or 12 to 4
(bench/dss.py), one process saturated while the other idled. Here each process has its own socket on the
same port (``SO_REUSEPORT``, Linux), and the kernel spreads new connections over them by their addresses.

The supervisor is small: it binds the sockets, starts one process per socket, starts again a process that
dies (on the same socket: connections wait in its queue meanwhile), and on SIGINT, SIGTERM or SIGHUP stops them
(each finishes the requests it holds, as uvicorn does) and returns; a process whose supervisor is gone
(killed outright) stops within a second. A process that cannot start (the
application, the database, TLS) stops them all, with uvicorn's status for it (3). Elsewhere than Linux,
and for one process, uvicorn serves as it is.
"""

from __future__ import annotations

import logging
import logging.config
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

log = logging.getLogger("deconfliction.serve")

STARTUP_FAILURE = 3
"""The exit status of a process that could not start serving (uvicorn's)."""

BACKLOG = 2048
"""Connections a socket keeps waiting to be accepted (uvicorn's default)."""


def spread_by_kernel(workers: int) -> bool:
    """Whether ``workers`` processes get a socket each (Linux's ``SO_REUSEPORT`` balances connections)."""
    return workers > 1 and sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def refuse_if_taken(host: str, port: int) -> None:
    """``OSError`` when something already listens on (host, port). Sockets that share a port would
    silently share it with another server started the same way; a plain bind is refused instead."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections closing are no owner
        probe.bind((host, port))


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on (host, port) that other sockets may listen on too."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def _serve(options: dict[str, Any], sock: socket.socket) -> None:
    """A server process: uvicorn on ``sock``."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(**options))
    supervisor = os.getppid()

    def watch() -> None:  # a supervisor killed outright (kill -9) leaves no process serving on its own
        while not server.should_exit:
            if os.getppid() != supervisor:
                log.warning("the supervising process is gone: stopping")
                server.should_exit = True
                return
            time.sleep(1.0)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()
    try:
        server.run(sockets=[sock])
    except BaseException:
        if not server.started:
            log.exception("the server process could not start")
            sys.exit(STARTUP_FAILURE)
        raise
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def run_workers(options: dict[str, Any], host: str, port: int, workers: int) -> int:
    """Serve with ``workers`` processes until SIGINT, SIGTERM or SIGHUP; the exit status (0, or 3 when a
    process could not start). ``options``: ``uvicorn.Config``'s arguments, except where it listens.
    ``OSError`` when the port cannot be listened on (taken by another program, not allowed)."""
    if options.get("log_config"):
        logging.config.dictConfig(options["log_config"])  # the supervisor's own lines, as the processes'
    context = multiprocessing.get_context("spawn")
    refuse_if_taken(host, port)
    sockets = [listening_socket(host, port) for _ in range(workers)]
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a hang-up too: never leave them orphaned
        signal.signal(sig, lambda *_: stop.set())

    def start(i: int) -> Any:
        process = context.Process(target=_serve, args=(options, sockets[i]), name=f"server-{i}")
        process.start()
        return process

    processes = [start(i) for i in range(workers)]
    log.info("started %d server processes on port %d, one socket each", workers, port)
    status = 0
    while not stop.wait(0.5):
        for i, process in enumerate(processes):
            if process.is_alive():
                continue
            if process.exitcode == STARTUP_FAILURE:
                log.error("server process %s could not start: stopping", process.pid)
                status = STARTUP_FAILURE
                stop.set()
                break
            log.warning("server process %s exited (status %s): starting another", process.pid, process.exitcode)
            processes[i] = start(i)
    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
    for process in processes:
        process.join()
    for sock in sockets:
        sock.close()
    return status
