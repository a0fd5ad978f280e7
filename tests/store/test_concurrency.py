"""Two concurrent submissions that conflict are both told, whichever commits first, on every backend.

Several OS processes, each with its own connections, released together by a barrier, submit operations
that all overlap. Afterwards every pair of operations of different parties must have exactly one open
conflict, visible to both parties. Without serialised writes (for example with the PostgreSQL row lock
removed) the later-committing of two simultaneous submissions misses the earlier one and this fails.
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

import pytest

from deconfliction.domain.limits import Limits
from deconfliction.domain.party import Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.service.conflicts import list_conflicts
from deconfliction.service.operations import OperationDraft, submit_operation
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from tests.conftest import make_postgres_database, square
from tests.shapes import parse_shape

PROCESSES = 4
PER_PROCESS = 5


def _submit_all(url: str, party_id: str, barrier: Any, results: Any, index: int, start: datetime) -> None:
    store = open_store(url)
    try:
        rt = Runtime(store)
        with store.read() as tx:
            me = tx.parties.get(party_id)
        assert me is not None
        limits = Limits()
        drafts = []
        for k in range(PER_PROCESS):
            # all overlap each other: small offsets inside one 0.1 degree square, same band and window
            v = Volume4D.create(
                parse_shape(square(40.0 + 0.002 * k, 35.0 + 0.001 * index), limits),
                AltitudeBand(0, 1000),
                TimeWindow(start, start + timedelta(hours=1)),
            )
            drafts.append(OperationDraft(OperationKind.AIR, (v,), title=f"p{index}-{k}"))
        barrier.wait(30)
        ids = [submit_operation(rt, me, d).operation.id for d in drafts]  # type: ignore[union-attr]
        results.put((party_id, ids))
    finally:
        store.close()


def _race(url: str) -> None:
    store = open_store(url)
    rt = Runtime(store)
    parties = [create_party(rt, None, f"party-{i}", Role.PARTY)[0] for i in range(PROCESSES)]
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    start = datetime.now(UTC) + timedelta(days=1)  # ahead of the real clock these runtimes use: open conflicts
    procs = [
        ctx.Process(target=_submit_all, args=(url, p.id, barrier, results, i, start)) for i, p in enumerate(parties)
    ]
    for p in procs:
        p.start()
    owned = dict(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    owner_of = {op: party for party, ops in owned.items() for op in ops}
    try:
        with store.read() as tx:
            for a, b in combinations(sorted(owner_of), 2):
                if owner_of[a] == owner_of[b]:
                    continue
                pair = tx.conflicts.for_operation(a)
                assert b in pair, f"{a} and {b} overlap but no conflict was recorded"
                assert pair[b].state.value == "open"
        expected = sum(PER_PROCESS * PER_PROCESS for _ in combinations(range(PROCESSES), 2))
        for party in parties:
            seen = list_conflicts(rt, party, limit=1000)
            mine = set(owned[party.id])
            assert len(seen) == (PROCESSES - 1) * PER_PROCESS * PER_PROCESS
            assert all(v.operation in mine for v in seen)
        coordinator_view = create_party(rt, None, "cell", Role.COORDINATOR)[0]
        assert len(list_conflicts(rt, coordinator_view, limit=1000)) == expected
    finally:
        store.close()


@pytest.mark.slow
def test_concurrent_conflicting_submissions_sqlite(tmp_path: Any) -> None:
    _race(f"sqlite:///{tmp_path}/race.db")


@pytest.mark.slow
@pytest.mark.postgres
def test_concurrent_conflicting_submissions_postgres() -> None:
    url, drop = make_postgres_database()
    try:
        _race(url)
    finally:
        drop()
