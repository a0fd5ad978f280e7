"""What the database holds (live or exercise) and the exercise clock's anchor."""

from __future__ import annotations

from deconfliction.domain.exercise import DeploymentMode, ScenarioAnchor
from deconfliction.store.sql.base import Repo, from_us, to_us


class SqlDeployment(Repo):
    """What the database holds (``store_head.deployment``) and the exercise clock's anchor (migration 15)."""

    def mode(self) -> DeploymentMode | None:
        mode = self._exec("SELECT deployment FROM store_head WHERE id = 1").fetchone()["deployment"]
        return None if mode is None else DeploymentMode(mode)

    def mark(self, mode: DeploymentMode) -> None:
        self._exec("UPDATE store_head SET deployment = ? WHERE id = 1", (mode.value,))

    def anchor(self) -> ScenarioAnchor | None:
        r = self._exec(
            "SELECT scenario_start, real_start, speed, advanced_us FROM exercise_clock WHERE id = 1"
        ).fetchone()
        if r is None:
            return None
        return ScenarioAnchor(
            from_us(r["scenario_start"]), from_us(r["real_start"]), float(r["speed"]), int(r["advanced_us"]) / 1_000_000
        )

    def put_anchor(self, anchor: ScenarioAnchor) -> None:
        self._exec(
            "INSERT INTO exercise_clock (id, scenario_start, real_start, speed, advanced_us) VALUES (1, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET scenario_start = excluded.scenario_start, "
            "real_start = excluded.real_start, speed = excluded.speed, advanced_us = excluded.advanced_us",
            (
                to_us(anchor.scenario_start),
                to_us(anchor.real_start),
                anchor.speed,
                round(anchor.advanced_s * 1_000_000),
            ),
        )
