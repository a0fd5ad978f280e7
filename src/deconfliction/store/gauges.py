"""What an operator watches, read from the database: one small query each, cheap enough to run on every
scrape of ``/metrics`` and every readiness probe (docs/operations.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from deconfliction.domain.conflict import ConflictState
from deconfliction.domain.notification import NotificationState


class Gauges(Protocol):
    def open_conflicts(self) -> int:
        """Conflict records in state ``open``."""

    def overdue_notifications(self, now: datetime) -> int:
        """Notifications still chased that missed a deadline (the current one, at or before ``now``, or an
        earlier one: they were escalated), as ``Notifications.list(overdue_at=now)`` selects them."""

    def migrations(self) -> set[int]:
        """The versions of the migrations applied to this database."""


class SqlGauges:
    """Statements are written with ``?``; ``q`` gives them the backend's placeholders."""

    def __init__(self, cur: Any, q: Any, to_us: Any) -> None:
        self._cur, self._q, self._to_us = cur, q, to_us

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        self._cur.execute(self._q(sql), params)
        return int(self._cur.fetchone()["n"])

    def open_conflicts(self) -> int:
        return self._one("SELECT COUNT(*) AS n FROM conflicts WHERE state = ?", (ConflictState.OPEN.value,))

    def overdue_notifications(self, now: datetime) -> int:
        return self._one(
            "SELECT COUNT(*) AS n FROM notifications "
            "WHERE state = ? AND deadline IS NOT NULL AND (deadline <= ? OR step > 0)",
            (NotificationState.PENDING.value, self._to_us(now)),
        )

    def migrations(self) -> set[int]:
        self._cur.execute("SELECT version FROM schema_migrations")
        return {int(r["version"]) for r in self._cur.fetchall()}
