"""Inputs for the exactness tests (minima compared exactly as declared), shared by the strategic and the
tactical ones: every pair of adjacent flight levels FL000 to FL600, as a party would enter them (feet,
or metres written as FL x 30.48), and decimal metre values given to the millimetre.

The values are built with ``Decimal`` from what a party types, then read as a float the way the service
reads the text; nothing here uses the service's comparison.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

LEVELS = range(601)
"""Flight levels FL000 to FL600, in hundreds of feet."""
ADJACENT = [(n, n + 10) for n in LEVELS if n + 10 in LEVELS]
"""Every pair of flight levels 1,000 ft apart: (FL000, FL010), (FL001, FL011), ..., (FL590, FL600)."""
VERTICAL_M = Decimal("304.8")
"""1,000 ft."""
CM = Decimal("0.01")
MM = Decimal("0.001")


def feet(level: int) -> Decimal:
    """A flight level in feet, as SBS-1 or a party's HTTP client gives it."""
    return Decimal(level * 100)


def metres_text(level: int) -> str:
    """A flight level in metres as a party writes it (FL x 30.48, exact in decimal): '10668.00'."""
    return str(Decimal(level) * Decimal("30.48"))


def feet_as_read(value: Decimal) -> float:
    """Feet to metres as the service converts them: the float of the text times 0.3048."""
    return float(str(value)) * 0.3048


def metres_as_read(value: Decimal | str) -> float:
    """A decimal number of metres as the service reads its text."""
    return float(str(value))


def float_misjudged(pairs: list[tuple[float, float]], minimum_m: float) -> int:
    """How many pairs ``(lo, hi)`` declared exactly ``minimum_m`` apart a plain float comparison calls
    closer than the minimum: the inputs reach the rounding edge the rule is about (a test that this
    count is not 0 shows it can fail)."""
    return sum(1 for lo, hi in pairs if hi - lo < minimum_m)


MILLIMETRES = st.integers(-500_000, 20_000_000).map(lambda mm: Decimal(mm) / 1000)
"""An altitude in metres given to the millimetre (-500 m to 20 km)."""
MINIMA = st.one_of(
    st.sampled_from([Decimal("304.8"), Decimal("152.4"), Decimal("300"), Decimal("609.6"), Decimal("1000.5")]),
    st.integers(1_000, 2_000_000).map(lambda mm: Decimal(mm) / 1000),
)
"""A vertical minimum in metres given to the millimetre (the default 1,000 ft among them)."""
