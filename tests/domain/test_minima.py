"""Minima compared exactly as declared, strategic side: altitude bands exactly the vertical minimum apart
are separated whatever float rounding their subtraction leaves; half a millimetre or more closer
conflicts.

Every pair of adjacent flight levels FL000 to FL600 is checked, as feet (times 0.3048) and as metres
written FL x 30.48, through ``conflict.detect`` and against the oracle (tests/oracle.py, which compares
the declared decimals on its own); then random bands given to the millimetre under random minima."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain.conflict import close_in_altitude, detect, horizontal_limit, occupancies
from deconfliction.domain.limits import Limits
from deconfliction.domain.minima import ALLOWANCE_M, closer_than, threshold_m
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.policy import FT, OperationKind, SeparationPolicy, SeparationRule
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from tests import oracle
from tests.minima_cases import (
    ADJACENT,
    CM,
    MILLIMETRES,
    MINIMA,
    MM,
    VERTICAL_M,
    feet,
    feet_as_read,
    float_misjudged,
    metres_as_read,
    metres_text,
)
from tests.oracle import Verdict, circle_json, examples
from tests.shapes import parse_shape

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WINDOW = TimeWindow(T0, T0 + timedelta(hours=1))
FOOTPRINT = parse_shape(circle_json(10.0, 50.0, 2_000.0), Limits())
AIR_AIR = SeparationPolicy().rule(OperationKind.AIR, OperationKind.AIR)


def test_the_rule_in_numbers() -> None:
    v = 1000 * FT
    assert v == 304.8 and ALLOWANCE_M == 0.0005
    # the float subtractions of values declared exactly 1,000 ft apart land either side of 304.8 ...
    assert 1305.3 - 1000.5 < v < 2304.8 - 2000.0
    # ... and both are separated
    assert not closer_than(1305.3 - 1000.5, v) and not closer_than(2304.8 - 2000.0, v)
    assert not closer_than(v, v) and not closer_than(v - 0.0004, v)  # within half a millimetre: at the minimum
    assert closer_than(v - 0.0006, v) and closer_than(v - 0.001, v) and closer_than(v - 0.01, v)
    assert threshold_m(v) == v - 0.0005
    gaps = np.array([1305.3 - 1000.5, 2304.8 - 2000.0, v - 0.001, v - 0.01])
    assert closer_than(gaps, v).tolist() == [False, False, True, True]
    assert closer_than(gaps, np.full(4, v)).tolist() == [False, False, True, True]


def test_worked_bands() -> None:
    a, b = AltitudeBand(900.0, 1000.5), AltitudeBand(1305.3, 1400.0)
    assert a.gap_m(b) < AIR_AIR.vertical_m  # what used to decide: 304.79999999999995 < 304.8
    assert not close_in_altitude(a, b, AIR_AIR) and not close_in_altitude(b, a, AIR_AIR)
    assert not close_in_altitude(AltitudeBand(1900.0, 2000.0), AltitudeBand(2304.8, 2400.0), AIR_AIR)
    assert close_in_altitude(a, AltitudeBand(1305.29, 1400.0), AIR_AIR)  # a centimetre closer
    assert close_in_altitude(a, AltitudeBand(1000.5, 1000.5), SeparationRule("x", 0.0, 0.0, 0.0))  # touching


def test_horizontal_minima_as_declared() -> None:
    assert horizontal_limit(AIR_AIR) == AIR_AIR.horizontal_m - 0.0005
    assert horizontal_limit(SeparationRule("entry", 0.0, None, 0.0)) == 1e-6  # a touch still counts


def operation(op_id: str, owner: str, lo: float, hi: float) -> Operation:
    v = Volume4D.create(FOOTPRINT, AltitudeBand(lo, hi), WINDOW)
    return Operation(op_id, owner, OperationKind.AIR, 0, OperationState.PLANNED, 1, f"ovn-{op_id}", (v,), op_id, T0, T0)


def conflicts(lower: tuple[float, float], upper: tuple[float, float], policy: SeparationPolicy) -> bool:
    """Two operations of different parties over the same footprint and window, with these bands: does
    ``detect`` find a conflict (either way round), and does the oracle agree?"""
    a, b = operation("a", "alpha", *lower), operation("b", "bravo", *upper)
    ab = bool(detect(occupancies(a), occupancies(b), policy))
    ba = bool(detect(occupancies(b), occupancies(a), policy))
    assert ab == ba
    truth = oracle.conflict_verdicts([a, b], policy)[("a", 0, "b", 0)].verdict
    assert truth is (Verdict.CONFLICT if ab else Verdict.CLEAR), (lower, upper, truth)
    return ab


@pytest.mark.parametrize("unit", ["feet", "metres"])
def test_every_adjacent_flight_level_pair_is_separated(unit: str) -> None:
    """A band topped at FL n and one based at FL n+10, for every n: separated; 1 cm lower, conflicting."""

    def read(level: int, minus: Decimal = Decimal(0)) -> float:
        if unit == "feet":  # the band limit typed in feet, converted by the client: the float product
            return feet_as_read(feet(level)) - float(minus)
        return metres_as_read(Decimal(metres_text(level)) - minus)

    levels = [(read(lo), read(hi)) for lo, hi in ADJACENT]
    assert float_misjudged(levels, 1000 * FT) > 100  # the inputs do reach the rounding edge
    policy = SeparationPolicy()
    for (lo, hi), (top, base) in zip(ADJACENT, levels, strict=True):
        assert not conflicts((top - 50.0, top), (base, base + 50.0), policy), (lo, hi)
        assert conflicts((top - 50.0, top), (read(hi, CM), base + 50.0), policy), (lo, hi)


@st.composite
def banded(draw: st.DrawFn) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """A band's top, the vertical minimum, and the thicknesses of the two bands (all to the millimetre)."""
    return draw(MILLIMETRES), draw(MINIMA), draw(MILLIMETRES).copy_abs() / 10, draw(MILLIMETRES).copy_abs() / 10


@settings(max_examples=examples(200))
@given(banded(), st.sampled_from([Decimal(0), MM, CM, Decimal("0.0004"), Decimal("0.0006")]), st.booleans())
def test_decimal_bands_exactly_the_minimum_apart(
    case: tuple[Decimal, Decimal, Decimal, Decimal], closer_by: Decimal, below_first: bool
) -> None:
    """Bands given to the millimetre (and a few tenths of a millimetre off): exactly the minimum apart
    and up to half a millimetre closer are separated; half a millimetre or more closer conflicts."""
    top, minimum, thick_a, thick_b = case
    base = top + minimum - closer_by
    lower = (metres_as_read(top - thick_a.quantize(MM)), metres_as_read(top))
    upper = (metres_as_read(base), metres_as_read(base + thick_b.quantize(MM)))
    policy = SeparationPolicy.from_mapping({"air-air": {"vertical_m": float(minimum)}})
    expected = closer_by >= Decimal("0.0005")
    found = conflicts(lower, upper, policy) if below_first else conflicts(upper, lower, policy)
    assert found is expected, (lower, upper, minimum, closer_by)


def test_a_centimetre_closer_conflicts_at_the_default_minimum() -> None:
    assert conflicts((0.0, 1000.5), (metres_as_read(Decimal("1000.5") + VERTICAL_M - CM), 1500.0), SeparationPolicy())
