"""Edges of the exact separation (domain/separation.py) that the oracle tests do not reach."""

from __future__ import annotations

import math

import pytest

from deconfliction.domain.geo import MEAN_RADIUS_M
from deconfliction.domain.separation import MEASURE_ERROR_M, rho_ok


def test_rho_ok_is_the_radius_where_the_frame_s_excess_reaches_half_a_metre() -> None:
    # threshold * rho^2 / (6 R^2) * 1.02 = 0.5 m
    for within in (9260.0, 100_000.0):
        rho = rho_ok(within)
        assert within * 1.02 * rho * rho / (6.0 * MEAN_RADIUS_M**2) == pytest.approx(MEASURE_ERROR_M, rel=1e-12)
    # capped at 1,000 km, which a threshold under about 120 m reaches
    assert rho_ok(1.0) == 1_000_000.0
    assert rho_ok(0.5) == 1_000_000.0
    assert rho_ok(120.0) < 1_000_000.0 == rho_ok(119.0)
    assert rho_ok(1000.0) == pytest.approx(MEAN_RADIUS_M * math.sqrt(3.0 / 1020.0), rel=1e-12)


@pytest.mark.parametrize("within", [0.0, -1.0])
def test_rho_ok_without_a_threshold_is_the_cap(within: float) -> None:
    """A zero threshold (two footprints that must not touch) has no excess to bound: the cap, no division."""
    assert rho_ok(within) == 1_000_000.0


def test_screening_nothing_gives_no_bound() -> None:
    from deconfliction.domain.footprint import CircleFootprint, footprint_shape
    from deconfliction.domain.separation import Screen

    screen = Screen(footprint_shape(CircleFootprint((36.0, 35.0), 500.0)))
    got = screen.screen([])
    assert got.bounds.shape == (0,) and got.meeting == []
    assert screen.lower_bounds([]).tolist() == []
