"""Health: can the service read its database, is its schema the one this version ships, does the
tactical cycle run (docs/operations.md, Probes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deconfliction.service.runtime import Runtime
from deconfliction.store.sql import migration_scripts


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def check(rt: Runtime) -> tuple[bool, str]:
    try:
        with rt.store.read() as tx:
            tx.parties.list(limit=1)
    except Exception as exc:  # any failure to read is what health reports
        return False, f"{type(exc).__name__}: {exc}"
    return True, "reachable"


def migrations_current(applied: set[int]) -> CheckResult:
    """The database has every migration this version ships and none it does not know (a newer version
    migrated it: this process would misread it)."""
    shipped = {version for version, _, _ in migration_scripts()}
    missing, unknown = sorted(shipped - applied), sorted(applied - shipped)
    if missing:
        return CheckResult("migrations", False, f"not applied: {', '.join(map(str, missing))}")
    if unknown:
        return CheckResult(
            "migrations",
            False,
            f"the database has migrations this version does not know: {', '.join(map(str, unknown))}",
        )
    return CheckResult("migrations", True, f"current ({max(shipped)})")


def tactical_cycle_elected(tactical: Any) -> CheckResult:
    """Whether the tactical detection cycle runs somewhere in the deployment: some process on this
    database (this one or another) holds the election and finished a cycle within 3 s
    (``TacticalService.cycle_elected``); or the deployment runs none (DECONFLICTION_TACTICAL_CYCLE_S=0)."""
    if tactical is None:
        return CheckResult("tactical_cycle", False, "the tactical layer has not started")
    if tactical.cycle_s <= 0:
        return CheckResult("tactical_cycle", True, "no cycle configured (DECONFLICTION_TACTICAL_CYCLE_S=0)")
    if tactical.cycle_elected():
        where = "this process" if tactical.elected else "another process on the same database"
        return CheckResult("tactical_cycle", True, f"elected: {where} ran a cycle within the last 3 s")
    return CheckResult("tactical_cycle", False, "no process has run a cycle within the last 3 s")


def readiness(rt: Runtime, tactical: Any) -> list[CheckResult]:
    """Every readiness check, each with what it found."""
    try:
        with rt.store.read() as tx:
            applied = tx.gauges.migrations()
    except Exception as exc:  # an unreachable database is the answer, not an error
        database = CheckResult("database", False, f"{type(exc).__name__}: {exc}")
        return [database, CheckResult("migrations", False, "unknown: no database"), tactical_cycle_elected(tactical)]
    return [CheckResult("database", True, "reachable"), migrations_current(applied), tactical_cycle_elected(tactical)]
