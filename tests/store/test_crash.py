"""A write the service acknowledged is never lost, also when the process is killed right after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from deconfliction.store import open_store
from tests.conftest import make_postgres_database

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from deconfliction.store import open_store
    store = open_store(sys.argv[1])
    i = 0
    while True:
        with store.write() as tx:
            tx.events.append(at=datetime.now(UTC), actor_id=None, type="t", subject_id=f"e{i}", payload={})
        print(f"acked e{i}", flush=True)  # acknowledged only after the commit returned
        i += 1
    """
)


def _kill_after_acks(url: str, acks: int) -> set[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acked = set()
    assert proc.stdout is not None
    for line in proc.stdout:
        acked.add(line.split()[1])
        if len(acked) >= acks:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(10)
    return acked


def _stored(url: str) -> set[str]:
    store = open_store(url)
    try:
        with store.read() as tx:
            return {e.subject_id for e in tx.events.after(0, limit=100_000)}
    finally:
        store.close()


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_sqlite(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/crash.db"
    acked = _kill_after_acks(url, 200)
    assert acked <= _stored(url)


@pytest.mark.slow
@pytest.mark.postgres
def test_acknowledged_writes_survive_kill_postgres() -> None:
    url, drop = make_postgres_database()
    try:
        acked = _kill_after_acks(url, 200)
        assert acked <= _stored(url)
    finally:
        drop()
