"""Exercises: a deployment that rehearses on a scenario clock, on a database of its own (docs/exercise.md).

``open_deployment`` runs when a server (or the CLI) opens its database: it marks a new database live or
exercise, refuses a database of the other kind, and returns the scenario clock of an exercise, anchored
in the database so that every process computes the same scenario time. ``ScenarioClock`` is what
``Runtime.clock`` is on an exercise deployment; tests build one in process with ``start_exercise``.
``advance`` is the coordinator's jump of the scenario clock, a ledger entry like every change.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from deconfliction.domain.exercise import MAX_ADVANCE_S, DeploymentMode, ScenarioAnchor
from deconfliction.domain.party import Party, Role
from deconfliction.domain.volume import format_time
from deconfliction.errors import Forbidden, InvalidInput, NotAnExercise
from deconfliction.service.runtime import Runtime, utcnow
from deconfliction.store.ports import Store

START_VAR = "DECONFLICTION_EXERCISE_START"
SPEED_VAR = "DECONFLICTION_EXERCISE_SPEED"
HEADER = "Deconfliction-Exercise"
"""Every HTTP answer of an exercise server carries ``Deconfliction-Exercise: 1``."""


class DeploymentMismatch(RuntimeError):
    """A server or command was started on a database of the other kind (live against exercise), or with
    an exercise setting that differs from the one the exercise database was started with. The message
    names the setting to change."""


class ScenarioClock:
    """``Runtime.clock`` of an exercise: the scenario time, computed from the anchor and the real time.

    ``real`` is the real clock (a test may pass its own). The anchor changes only by ``adopt``: a jump
    made here (``advance``) or read back from the database (``refresh``, once a second in a server), so
    processes on one database agree within that second after another process's jump."""

    def __init__(self, anchor: ScenarioAnchor, real: Callable[[], datetime] = utcnow) -> None:
        self._anchor = anchor
        self._real = real
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return self._anchor.at(self._real())

    def real(self) -> datetime:
        """The real time (what a signed request's timestamp is compared with)."""
        return self._real()

    @property
    def anchor(self) -> ScenarioAnchor:
        return self._anchor

    @property
    def speed(self) -> float:
        return self._anchor.speed

    def adopt(self, anchor: ScenarioAnchor) -> None:
        """Take the database's anchor; never one that would move the scenario time back."""
        with self._lock:
            if anchor.advanced_s >= self._anchor.advanced_s:
                self._anchor = anchor


def scenario_clock(rt: Runtime) -> ScenarioClock | None:
    """The runtime's scenario clock, None on a live deployment."""
    return rt.clock if isinstance(rt.clock, ScenarioClock) else None


def real_now(rt: Runtime) -> datetime:
    """The real time: the runtime's clock on a live deployment, the real one under a scenario clock."""
    clock = scenario_clock(rt)
    return clock.real() if clock is not None else rt.clock()


def _shown_speed(speed: float) -> str:
    return f"{speed:g}"


def open_deployment(
    store: Store,
    start: datetime | None,
    speed: float = 1.0,
    *,
    real: Callable[[], datetime] = utcnow,
) -> ScenarioClock | None:
    """Mark or check the database for a server (``start`` None: live; else an exercise whose scenario
    starts at ``start`` and runs at ``speed``). A new database is marked at once, and a new exercise's
    anchor written with an ``exercise.started`` entry; an existing exercise keeps its anchor, so a
    restarted server continues its scenario time. Raises ``DeploymentMismatch`` for a database of the
    other kind or an exercise started with other settings."""
    with store.write() as tx:
        mode = tx.deployment.mode()
        if mode is None and tx.events.head()[0] > 0:
            mode = DeploymentMode.LIVE  # entries from before databases were marked: live data
            tx.deployment.mark(mode)
        if start is None:
            if mode is DeploymentMode.EXERCISE:
                anchor = tx.deployment.anchor()
                hint = (
                    f" ({START_VAR}={format_time(anchor.scenario_start)} {SPEED_VAR}={_shown_speed(anchor.speed)})"
                    if anchor is not None
                    else ""
                )
                raise DeploymentMismatch(
                    f"this database holds an exercise, and {START_VAR} is not set: a live server refuses exercise "
                    f"data. Set {START_VAR} to rehearse on it{hint}, or point DECONFLICTION_DATABASE_URL at the "
                    "live database."
                )
            if mode is None:
                tx.deployment.mark(DeploymentMode.LIVE)
            return None
        if mode is DeploymentMode.LIVE:
            raise DeploymentMismatch(
                f"{START_VAR} is set, but this database holds live data: an exercise runs on a database of its "
                "own. Point DECONFLICTION_DATABASE_URL at a new database for the exercise, or unset "
                f"{START_VAR} to serve the live one."
            )
        if mode is None:
            anchor = ScenarioAnchor(start.astimezone(UTC), real(), speed)
            tx.deployment.mark(DeploymentMode.EXERCISE)
            tx.deployment.put_anchor(anchor)
            tx.events.append(
                at=anchor.scenario_start,
                actor_id=None,
                type="exercise.started",
                subject_id="exercise",
                payload=_anchor_record(anchor),
                audience=["*"],
            )
            return ScenarioClock(anchor, real)
        stored = tx.deployment.anchor()
        if stored is None:  # marked by a test or by hand without its anchor: anchor it now
            stored = ScenarioAnchor(start.astimezone(UTC), real(), speed)
            tx.deployment.put_anchor(stored)
        if stored.scenario_start != start:
            raise DeploymentMismatch(
                f"{START_VAR}={format_time(start)}, but this exercise database started its scenario at "
                f"{format_time(stored.scenario_start)}: set {START_VAR} to that, or use a new database for a new "
                "exercise."
            )
        if not math.isclose(stored.speed, speed, rel_tol=1e-12):
            raise DeploymentMismatch(
                f"{SPEED_VAR}={_shown_speed(speed)}, but this exercise database runs at speed "
                f"{_shown_speed(stored.speed)}: set {SPEED_VAR} to that, or use a new database for a new exercise."
            )
        return ScenarioClock(stored, real)


def start_exercise(
    store: Store, start: datetime, speed: float = 1.0, *, real: Callable[[], datetime] = utcnow
) -> ScenarioClock:
    """An exercise on ``store`` in process (tests, the demo): ``Runtime(store, clock=start_exercise(...))``."""
    clock = open_deployment(store, start, speed, real=real)
    if clock is None:  # cannot happen: a start time always makes an exercise
        raise DeploymentMismatch(f"no exercise started on this database at {format_time(start)}")
    return clock


def refresh(rt: Runtime) -> None:
    """Take the anchor another process may have moved (a server does this once a second)."""
    clock = scenario_clock(rt)
    if clock is None:
        return
    with rt.store.read() as tx:
        anchor = tx.deployment.anchor()
    if anchor is not None:
        clock.adopt(anchor)


def _anchor_record(anchor: ScenarioAnchor) -> dict[str, Any]:
    return {
        "scenario_start": format_time(anchor.scenario_start),
        "real_start": format_time(anchor.real_start),
        "speed": anchor.speed,
        "advanced_s": anchor.advanced_s,
    }


@dataclass(frozen=True)
class ClockView:
    """What ``GET /v1/clock`` answers."""

    now: datetime
    exercise: bool
    speed: float
    scenario_start: datetime | None = None
    advanced_s: float = 0.0

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"now": format_time(self.now), "exercise": self.exercise, "speed": self.speed}
        if self.exercise:
            out["scenario_start"] = None if self.scenario_start is None else format_time(self.scenario_start)
            out["advanced_s"] = self.advanced_s
        return out


def clock_view(rt: Runtime) -> ClockView:
    clock = scenario_clock(rt)
    if clock is None:
        return ClockView(rt.clock(), False, 1.0)
    anchor = clock.anchor
    return ClockView(anchor.at(clock.real()), True, anchor.speed, anchor.scenario_start, anchor.advanced_s)


def parse_advance(raw: Any) -> float:
    """The body of ``POST /v1/exercise/advance``: ``{"seconds": N}``, 0 < N <= 30 days."""
    if not isinstance(raw, dict):
        raise InvalidInput.one("", "invalid_value", 'expected a JSON object like {"seconds": 900}')
    extra = [k for k in raw if k != "seconds"]
    if extra:
        raise InvalidInput.one(extra[0], "unknown_field", f"unknown member {extra[0]!r}")
    if "seconds" not in raw:
        raise InvalidInput.one("seconds", "missing_field", "how many scenario seconds to move the clock forward")
    seconds = raw["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
        raise InvalidInput.one("seconds", "invalid_value", "a number of seconds")
    if not 0 < seconds <= MAX_ADVANCE_S:
        raise InvalidInput.one(
            "seconds",
            "out_of_range",
            f"{seconds:g} s: the scenario clock moves forward only, by more than 0 and at most "
            f"{MAX_ADVANCE_S:g} s (30 days) at a time",
        )
    return float(seconds)


def advance(rt: Runtime, actor: Party, seconds: float) -> tuple[ClockView, tuple[int, str]]:
    """The coordinator moves the scenario clock forward by ``seconds``: deadlines, escalations, expiries
    and the tactical picture then run as if that time had passed. Refused on a live deployment."""
    if actor.role is not Role.COORDINATOR:
        raise Forbidden("only a coordinator moves the exercise clock")
    clock = scenario_clock(rt)
    if clock is None:
        raise NotAnExercise("this server runs on real time: only an exercise server's clock can be advanced")
    with rt.store.write() as tx:
        current = tx.deployment.anchor() or clock.anchor
        before = current.at(clock.real())
        moved = current.advanced_by(seconds)
        tx.deployment.put_anchor(moved)
        after = before + timedelta(seconds=seconds)
        tx.events.append(
            at=after,
            actor_id=actor.id,
            type="exercise.advanced",
            subject_id="exercise",
            payload={"from": format_time(before), "to": format_time(after), "seconds": seconds},
            audience=["*"],
        )
        receipt = tx.events.head()
    clock.adopt(moved)
    return clock_view(rt), receipt
