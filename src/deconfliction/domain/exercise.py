"""The exercise clock: a deployment that rehearses runs on scenario time instead of real time.

A scenario clock is anchored once, when an exercise database is first opened: the scenario time at which
the exercise starts, the real time at that moment, and a speed (scenario seconds per real second). Every
process sharing the database reads the same anchor, so they agree on the scenario time:

    now = scenario_start + advanced + (real_now - real_start) * speed

``advanced`` is the sum of the jumps the coordinator made (``POST /v1/exercise/advance``): only forward.

Pure: no clock is read here, the real time is passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class DeploymentMode(StrEnum):
    """What a database holds, fixed when it is first opened or written: live data or an exercise's."""

    LIVE = "live"
    EXERCISE = "exercise"


MAX_ADVANCE_S = 30 * 86_400.0
"""One jump of the scenario clock moves it forward by at most this much (30 days)."""


@dataclass(frozen=True)
class ScenarioAnchor:
    scenario_start: datetime
    """The scenario time at which the exercise started (DECONFLICTION_EXERCISE_START)."""
    real_start: datetime
    """The real time at which the exercise database was first opened."""
    speed: float = 1.0
    """Scenario seconds per real second (DECONFLICTION_EXERCISE_SPEED): 60 runs a scenario minute a second."""
    advanced_s: float = 0.0
    """Scenario seconds added by the coordinator's jumps, in total."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ValueError(f"the exercise speed must be a finite number above 0, not {self.speed!r}")
        if not (math.isfinite(self.advanced_s) and self.advanced_s >= 0):
            raise ValueError(f"the scenario clock only moves forward, not by {self.advanced_s!r} s")

    def at(self, real_now: datetime) -> datetime:
        """The scenario time at the real time ``real_now``."""
        elapsed = (real_now - self.real_start).total_seconds()
        return self.scenario_start + timedelta(seconds=self.advanced_s + elapsed * self.speed)

    def advanced_by(self, seconds: float) -> ScenarioAnchor:
        return replace(self, advanced_s=self.advanced_s + seconds)
