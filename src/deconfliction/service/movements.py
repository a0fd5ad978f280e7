"""Use cases on movements: an operation along a route with a schedule (``domain.movement``).

``submit_movement`` sweeps the route into Volume4D segments (``sweep_movement``) and declares them as an
ordinary operation in the same transaction as it keeps the movement itself (route, departure, speed or
waypoint times, half-width, altitude band, tolerance), so that the operation conflicts only where and
when the movement really is, and the movement reads and exports back as it was declared.
``revise_movement`` sweeps a new route or schedule into a new version of the same operation. Only the
owner (and the coordinator) read a movement: it is the operation's plan.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from deconfliction.domain.movement import MovementDraft, SweptMovement, parse_movement, sweep_movement
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.party import Party
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.sanity import DeclarationWarning, require_not_past
from deconfliction.domain.signing import SignedRequest
from deconfliction.domain.volume import TimeWindow, format_time
from deconfliction.errors import InvalidInput, NotFound
from deconfliction.service import operations as ops
from deconfliction.service.runtime import Runtime
from deconfliction.service.sanity import movement_warnings
from deconfliction.service.units import resolve_unit
from deconfliction.service.views import visible_operation
from deconfliction.store.ports import StoredResponse, Transaction


@dataclass(frozen=True)
class MovementResult:
    result: ops.OperationResult
    movement: dict[str, Any]
    warnings: list[DeclarationWarning] = field(default_factory=list)
    """Likely mistakes that are not errors (``domain.sanity``), on the movement's fields."""


def movement_record(draft: MovementDraft, swept: SweptMovement) -> dict[str, Any]:
    """The movement as declared, normalised, with what the sweep made of it."""
    out: dict[str, Any] = {
        "route": {"type": "LineString", "coordinates": [list(p) for p in draft.route]},
        "half_width_m": float(draft.half_width_m),
        "altitude": {"lower_m": draft.altitude.lower_m, "upper_m": draft.altitude.upper_m, "reference": "W84"},
        "tolerance_s": float(draft.tolerance_s),
    }
    if draft.speed_m_s is not None:
        out["departure"] = format_time(swept.departure)
        out["speed_m_s"] = float(draft.speed_m_s)
    else:
        out["waypoint_times"] = [format_time(t) for t in draft.waypoint_times or ()]
    out["sweep"] = {
        "departure": format_time(swept.departure),
        "arrival": format_time(swept.arrival),
        "length_m": round(swept.length_m, 1),
        "slack_m": round(swept.slack_m, 1),
        "segments": len(swept.volumes),
    }
    return out


def sweep(rt: Runtime, raw: Any) -> tuple[MovementDraft, SweptMovement]:
    """Parse and sweep a movement from JSON; field errors are prefixed with ``movement``."""
    try:
        draft = parse_movement(raw, rt.limits)
        return draft, sweep_movement(draft, limits=rt.limits)
    except InvalidInput as e:
        raise e.at("movement") from None


def submit_movement(
    rt: Runtime,
    actor: Party,
    kind: OperationKind,
    raw: Any,
    *,
    priority: int = 0,
    title: str = "",
    state: OperationState = OperationState.DRAFT,
    known_tokens: Collection[str] = (),
    idempotency: ops.Idempotency | None = None,
    signature: SignedRequest | None = None,
    unit: str | None = None,
    historical: bool = False,
) -> MovementResult | StoredResponse:
    """Declare a movement as a new operation (draft or planned, as ``submit_operation``; a historical
    record as a draft); ``unit``: one of the caller's units it is declared for."""
    draft, swept = sweep(rt, raw)
    record = movement_record(draft, swept)
    op_draft = ops.OperationDraft(kind, swept.volumes, priority, title, historical=historical)

    ops.require_declaring(actor)
    if state not in (OperationState.DRAFT, OperationState.PLANNED):
        raise InvalidInput.one("state", "invalid_state", "a new operation is 'draft' or 'planned'")
    ops.require_historical_draft(state, historical=historical)
    ops.check_draft(rt, op_draft)
    require_not_past(movement_window(draft, swept), rt.clock(), historical=historical)

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> MovementResult:
        now = rt.clock()
        warnings = movement_warnings(tx, actor.id, kind, swept.volumes)
        op = Operation(
            rt.ids.new_id("op"),
            actor.id,
            kind,
            priority,
            state,
            1,
            rt.ids.new_token(),
            swept.volumes,
            title,
            now,
            now,
            resolve_unit(tx, actor, unit),
            historical,
        )
        result = ops.apply_change(
            tx, rt, actor, op, detect_again=True, known=known_tokens, created=True, signed=signed, gate=True
        )
        tx.movements.put(op.id, op.version, record, now)
        return MovementResult(result, record, warnings)

    return ops.write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def revise_movement(
    rt: Runtime,
    actor: Party,
    op_id: str,
    kind: OperationKind,
    raw: Any,
    *,
    expected_version: int | None,
    priority: int = 0,
    title: str = "",
    known_tokens: Collection[str] = (),
    idempotency: ops.Idempotency | None = None,
    signature: SignedRequest | None = None,
    unit: str | None = None,
) -> MovementResult | StoredResponse:
    """A new route or schedule for the owner's live operation: swept again into a new version of it
    (``unit`` given: now declared for that unit; omitted: unchanged)."""
    draft, swept = sweep(rt, raw)
    record = movement_record(draft, swept)
    ops.require_declaring(actor)
    ops.check_draft(rt, ops.OperationDraft(kind, swept.volumes, priority, title))

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> MovementResult:
        op = ops.load_owned(tx, actor, op_id, expected_version)
        require_not_past(movement_window(draft, swept), rt.clock(), historical=op.historical)
        warnings = movement_warnings(tx, actor.id, kind, swept.volumes, exclude=op.id)
        new = op.revise(
            volumes=swept.volumes, kind=kind, priority=priority, title=title, now=rt.clock(), ovn=rt.ids.new_token()
        )
        if unit is not None:
            new = replace(new, unit_id=resolve_unit(tx, actor, unit))
        result = ops.apply_change(
            tx, rt, actor, new, detect_again=True, known=known_tokens, created=False, signed=signed
        )
        tx.movements.put(new.id, new.version, record, new.updated_at)
        return MovementResult(result, record, warnings)

    return ops.write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def movement_window(draft: MovementDraft, swept: SweptMovement) -> list[tuple[str, TimeWindow]]:
    """The movement's whole window (departure to arrival, with the tolerance the sweep added), named by
    the field that sets its end: the last waypoint time, or the departure (with the speed)."""
    end = max(v.window.end for v in swept.volumes)
    start = min(v.window.start for v in swept.volumes)
    times = draft.waypoint_times or ()
    field_ = f"movement.waypoint_times[{len(times) - 1}]" if times else "movement.departure"
    return [(field_, TimeWindow(start, end))]


def get_movement(rt: Runtime, actor: Party, op_id: str) -> tuple[Operation, dict[str, Any]]:
    """The operation and its movement, for its owner and the coordinator. NotFound when the operation was
    not declared as a movement, or was revised since with volumes the movement no longer describes."""
    with rt.store.read() as tx:
        op = visible_operation(actor, tx.operations.get(op_id), op_id)
        found = tx.movements.get(op_id)
    if found is None or not describes(rt, found[1], op):
        raise NotFound(f"no movement {op_id}", id=op_id)
    return op, dict(found[1])


def describes(rt: Runtime, movement: Mapping[str, Any], op: Operation) -> bool:
    """Whether sweeping the stored movement again gives exactly the operation's volumes (the sweep is
    deterministic; a state change keeps the volumes, a revision with other volumes does not)."""
    _, swept = sweep(rt, {k: v for k, v in movement.items() if k != "sweep"})
    return [(v.footprint, v.altitude, v.window) for v in swept.volumes] == [
        (v.footprint, v.altitude, v.window) for v in op.volumes
    ]
