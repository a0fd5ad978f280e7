"""A submission leaves no reference cycles behind, on either backend.

Objects in a reference cycle are freed only by the cyclic garbage collector, which stops every thread of
the process while it looks. Each conflicting submission used to leave about 140 such objects (a psycopg
cursor per transaction, its adapters referring back to it; the transaction's repositories referring back
to the transaction), and a server collecting them every few thousand requests paused for 13-33 ms each
time: the longest waits of the PostgreSQL stream's 99th percentile (docs/operations.md). Here the
collector is held off while submissions run, and what it then finds must be nothing.
"""

from __future__ import annotations

import gc
from collections import Counter
from datetime import timedelta

from deconfliction.domain.limits import Limits
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.service import operations as ops
from tests.conftest import T0, square
from tests.shapes import parse_shape

L = Limits()


def draft(lon: float, lat: float) -> ops.OperationDraft:
    v = Volume4D.create(
        parse_shape(square(lon, lat), L), AltitudeBand(0, 3000), TimeWindow(T0, T0 + timedelta(hours=2))
    )
    return ops.OperationDraft(OperationKind.AIR, (v,))


def test_conflicting_submissions_leave_no_cyclic_garbage(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    ops.submit_operation(rt, bravo, draft(40.0, 35.0))
    for i in range(3):  # warm: psycopg prepares a statement on its fifth run, caches fill
        ops.submit_operation(rt, alpha, draft(40.0 + 0.001 * i, 35.0))
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds is kept in gc.garbage, to be named
    try:
        gc.collect()
        gc.garbage.clear()
        for i in range(10):
            result = ops.submit_operation(rt, alpha, draft(40.01 + 0.001 * i, 35.0))
            assert len(result.conflicts) == 1  # each one a conflict: the full path, ledger and notices
        ops.list_operations(rt, bravo)  # and a read
        gc.collect()
        found = Counter(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert found == Counter(), f"objects in reference cycles after 10 submissions: {found.most_common(10)}"
