"""The domain's events as an operator sees them: one log record each on the ``deconfliction.events``
logger, with the event's name and its fields as structured data (docs/operations.md lists them), and
the matching metric counted.

Emitted by the service layer where the thing happens. Inside ``after_commit`` (every write through
``operations.write_change``, the escalation and delivery rounds) they wait for the transaction to
commit, so that a write rolled back is never logged or counted as done.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from deconfliction.service.runtime import Runtime

if TYPE_CHECKING:
    from deconfliction.domain.conflict import Conflict
    from deconfliction.domain.tactical import AlertChange
    from deconfliction.service.tactical.cycle import CycleReport

log = logging.getLogger("deconfliction.events")

WARNINGS = frozenset({"delivery.failed", "tactical.cycle_overrun", "auth.failed", "auth.locked_out"})
"""Events that ask for an operator's attention are logged at WARNING; the others at INFO."""

_pending: ContextVar[list[tuple[Runtime, str, str, dict[str, Any]]] | None] = ContextVar(
    "deconfliction_pending_events", default=None
)


def emit(rt: Runtime, event: str, message: str, **fields: Any) -> None:
    """Log ``event`` (a dotted name, e.g. ``conflict.opened``) with ``fields`` and count it; after the
    commit when inside ``after_commit``."""
    pending = _pending.get()
    if pending is not None:
        pending.append((rt, event, message, fields))
    else:
        _publish(rt, event, message, fields)


@contextmanager
def after_commit() -> Iterator[None]:
    """Hold the events emitted inside until the block ends without an exception (put it outside the
    ``store.write()`` block, so it ends after the commit); drop them when it raises."""
    outer = _pending.get()
    if outer is not None:  # nested: the outermost block publishes
        yield
        return
    held: list[tuple[Runtime, str, str, dict[str, Any]]] = []
    token = _pending.set(held)
    try:
        yield
    finally:
        _pending.reset(token)
    for rt, event, message, fields in held:
        _publish(rt, event, message, fields)


def _publish(rt: Runtime, event: str, message: str, fields: dict[str, Any]) -> None:
    level = logging.WARNING if event in WARNINGS else logging.INFO
    log.log(level, message, extra={"event": event, **fields})
    _count(rt, event, fields)


def _count(rt: Runtime, event: str, fields: dict[str, Any]) -> None:
    m = rt.metrics
    if event == "conflict.opened":
        m.conflicts_opened.inc()
    elif event == "notification.acknowledged":
        m.acknowledgements.inc()
    elif event == "notification.escalated":
        m.escalations.labels("coordinator" if fields.get("to_coordinator") else "contact").inc()
    elif event == "delivery.failed":
        m.deliveries_failed.labels(str(fields.get("channel", "unknown"))).inc()
    elif event in ("alert.raised", "alert.resolved"):
        m.alerts.labels(event.removeprefix("alert."), str(fields.get("kind", "unknown"))).inc()
    elif event == "tactical.cycle_overrun":
        m.cycle_overruns.inc()
    elif event == "auth.failed":
        m.auth_failures.labels(str(fields.get("kind", "unknown"))).inc()
    elif event == "auth.locked_out":
        m.lockouts.labels(str(fields.get("scope_kind", "unknown"))).inc()


# ------------------------------------------------------------------------------------- the tactical layer


def alert_changed(rt: Runtime, change: AlertChange) -> None:
    """A tactical alert raised or resolved (an ``updated`` prediction is logged at DEBUG, not counted)."""
    a = change.alert
    p = a.prediction
    subjects = [f"{party}/{track}" for party, track in a.subjects]
    fields = {
        "alert": a.id,
        "kind": a.kind.value,
        "subjects": subjects,
        "loss_at": p.loss_at.isoformat(),
        "horizontal_m": round(p.horizontal_m, 1),
        "vertical_m": round(p.vertical_m, 1),
    }
    text = f"alert {a.id} {change.change}: {a.kind.value} {' and '.join(subjects)}"
    if change.change in ("raised", "resolved"):
        emit(rt, f"alert.{change.change}", text, **fields)
    else:
        log.debug(text, extra={"event": f"alert.{change.change}", **fields})


def cycled(rt: Runtime, report: CycleReport, period_s: float) -> None:
    """One tactical cycle done: its duration and the live tracks; an overrun when it took longer than the
    period it must keep."""
    rt.metrics.cycle_seconds.observe(report.seconds)
    rt.metrics.tracks.set(report.tracks)
    if period_s > 0 and report.seconds > period_s:
        emit(
            rt,
            "tactical.cycle_overrun",
            f"tactical cycle took {report.seconds:.2f} s, longer than its period of {period_s:g} s",
            seconds=round(report.seconds, 3),
            period_s=period_s,
            tracks=report.tracks,
        )


def ingested(rt: Runtime, path: str, accepted: int) -> None:
    """Position reports accepted through ``path`` (http, sbs, cot_udp, cot_tcp): counted, not logged (a
    feed sends thousands a second)."""
    if accepted:
        rt.metrics.reports.labels(path).inc(accepted)


# ------------------------------------------------------------------------------------------ strategic


def conflict_changed(rt: Runtime, c: Conflict, change: str) -> None:
    """A conflict record opened or resolved (``updated`` is logged at DEBUG, not counted)."""
    fields = {
        "conflict": c.id,
        "kind": c.kind,
        "operations": [c.operation_a, c.operation_b],
        "parties": [c.party_a, c.party_b],
        "rule": c.rule.name,
    }
    text = f"conflict {c.id} {change}: {fields['kind']} between {c.party_a} and {c.party_b}"
    if change in ("opened", "resolved"):
        emit(rt, f"conflict.{change}", text, **fields)
    else:
        log.debug(text, extra={"event": f"conflict.{change}", **fields})
