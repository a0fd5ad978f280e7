"""Minima compared exactly as declared, through storage, on both backends: operations stored, then
others checked against them (the index query, the stored bands read back, the detector).

For every pair of adjacent flight levels FL000 to FL600, alpha declares an operation topped at FL n and
bravo one based at FL n+10 at the same place (each pair at its own place, far from the others): no
conflict, from either side's submission. Bravo's revision 1 cm lower conflicts with exactly alpha's
operation there. The levels are entered as metres written FL x 30.48 and as feet converted by the
client (the float product); random bands given to the millimetre follow."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.domain.limits import Limits
from deconfliction.domain.minima import ALLOWANCE_M
from deconfliction.domain.operation import OperationState
from deconfliction.domain.policy import OperationKind, SeparationPolicy
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.service import operations as ops
from tests.conftest import T0, square
from tests.minima_cases import (
    ADJACENT,
    CM,
    MILLIMETRES,
    MINIMA,
    MM,
    feet,
    feet_as_read,
    float_misjudged,
    metres_as_read,
    metres_text,
)
from tests.oracle import examples
from tests.shapes import parse_shape

L = Limits()
COLUMNS = 25
SPACING_DEG = 0.3
"""Places 0.3 degrees (over 25 km) apart, footprints 0.02 degrees wide: no pair is near another's place."""


def place(k: int) -> tuple[float, float]:
    return 20.0 + SPACING_DEG * (k % COLUMNS), 30.0 + SPACING_DEG * (k // COLUMNS)


def draft(k: int, lo: float, hi: float) -> ops.OperationDraft:
    footprint = parse_shape(square(*place(k), size_deg=0.02), L)
    v = Volume4D.create(footprint, AltitudeBand(lo, hi), TimeWindow(T0, T0 + timedelta(hours=2)))
    return ops.OperationDraft(OperationKind.AIR, (v,))


def test_every_adjacent_flight_level_pair_stored_then_checked(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    # half the pairs entered as metres (FL x 30.48 written out), half as feet converted by the client
    levels = [
        (metres_as_read(metres_text(lo)), metres_as_read(metres_text(hi)))
        if k % 2
        else (feet_as_read(feet(lo)), feet_as_read(feet(hi)))
        for k, (lo, hi) in enumerate(ADJACENT)
    ]
    assert float_misjudged(levels, 304.8) > 100  # the inputs reach the rounding edge
    stored = [ops.submit_operation(rt, alpha, draft(k, top - 100.0, top)) for k, (top, _) in enumerate(levels)]
    assert all(s.conflicts == [] for s in stored)
    theirs = [ops.submit_operation(rt, bravo, draft(k, base, base + 100.0)) for k, (_, base) in enumerate(levels)]
    assert [(k, s.conflicts) for k, s in enumerate(theirs) if s.conflicts] == []
    # alpha's side, checked again against bravo's stored operations: still none
    with rt.store.read() as tx:
        assert [k for k, s in enumerate(stored) if ops.find_conflicts(tx, rt.policy, s.operation)] == []
    # a centimetre lower: each conflicts with alpha's operation at its place, and only with it
    for k, ((_, base), mine) in enumerate(zip(levels, theirs, strict=True)):
        lower = base - float(CM)
        moved = ops.revise_operation(rt, bravo, mine.operation.id, draft(k, lower, lower + 100.0), expected_version=1)
        assert [c.operation_a if c.operation_b == mine.operation.id else c.operation_b for c in moved.conflicts] == [
            stored[k].operation.id
        ], k


@st.composite
def cases(draw: st.DrawFn) -> tuple[Decimal, Decimal, Decimal]:
    return draw(MILLIMETRES), draw(MINIMA), draw(st.sampled_from([Decimal(0), MM, CM]))


@settings(max_examples=examples(30), suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(cases(), min_size=1, max_size=12))
def test_decimal_bands_stored_then_checked(rt, parties, batch: list[tuple[Decimal, Decimal, Decimal]]) -> None:
    """Bands given to the millimetre under their own minimum (a policy per example): the operation stored
    first, the other checked against it; exactly the minimum apart is separated, 1 mm closer conflicts."""
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    for top, minimum, closer_by in batch:
        here = replace(rt, policy=SeparationPolicy.from_mapping({"air-air": {"vertical_m": float(minimum)}}))
        k = 600 + (hash((top, minimum, closer_by)) % 400)  # a place of its own, most likely
        a = ops.submit_operation(here, alpha, draft(k, metres_as_read(top - 50), metres_as_read(top)))
        base = top + minimum - closer_by
        b = ops.submit_operation(here, bravo, draft(k, metres_as_read(base), metres_as_read(base + 50)))
        mine = [c for c in b.conflicts if a.operation.id in (c.operation_a, c.operation_b)]
        assert bool(mine) is (closer_by > ALLOWANCE_M), (top, minimum, closer_by)
        # leave nothing behind for the next case at this place
        for done, who in ((a, alpha), (b, bravo)):
            ops.change_state(here, who, done.operation.id, OperationState.CANCELLED, expected_version=1)
