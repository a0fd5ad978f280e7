"""The exercise clock (domain/exercise.py): scenario time from real time, speed and jumps, and the
refusal of a speed or a jump that would stop or reverse it."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from deconfliction.domain.exercise import ScenarioAnchor

SCENARIO = datetime(2019, 2, 7, 20, 0, tzinfo=UTC)
REAL = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_at_the_anchor_the_scenario_starts() -> None:
    assert ScenarioAnchor(SCENARIO, REAL).at(REAL) == SCENARIO


def test_scenario_time_runs_at_its_speed_plus_the_jumps() -> None:
    a = ScenarioAnchor(SCENARIO, REAL, speed=60.0, advanced_s=90.0)
    # 10 real seconds at 60x are 10 scenario minutes, plus the 90 s jumped
    assert a.at(REAL + timedelta(seconds=10)) == SCENARIO + timedelta(seconds=690)
    assert ScenarioAnchor(SCENARIO, REAL).at(REAL + timedelta(seconds=10)) == SCENARIO + timedelta(seconds=10)


def test_a_jump_adds_to_the_jumps_before_it() -> None:
    a = ScenarioAnchor(SCENARIO, REAL, speed=2.0).advanced_by(30.0).advanced_by(15.5)
    assert a.advanced_s == 45.5
    assert (a.speed, a.scenario_start, a.real_start) == (2.0, SCENARIO, REAL)
    assert a.at(REAL) == SCENARIO + timedelta(seconds=45.5)


@pytest.mark.parametrize("speed", [0.0, -1.0, math.nan, math.inf])
def test_a_speed_that_is_not_a_finite_number_above_zero_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="the exercise speed must be a finite number above 0"):
        ScenarioAnchor(SCENARIO, REAL, speed=speed)


def test_the_smallest_speeds_are_accepted() -> None:
    assert ScenarioAnchor(SCENARIO, REAL, speed=1e-9).speed == 1e-9


@pytest.mark.parametrize("advanced", [-1e-9, -60.0, math.nan, math.inf])
def test_the_clock_never_moves_back_nor_without_bound(advanced: float) -> None:
    with pytest.raises(ValueError, match="the scenario clock only moves forward"):
        ScenarioAnchor(SCENARIO, REAL, advanced_s=advanced)


def test_no_jump_at_all_is_accepted() -> None:
    assert ScenarioAnchor(SCENARIO, REAL, advanced_s=0.0).advanced_s == 0.0
    with pytest.raises(ValueError, match="only moves forward"):
        ScenarioAnchor(SCENARIO, REAL).advanced_by(-1.0)
