"""/v1/movements: declare an operation along a route with a schedule; read the movement back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api import examples
from deconfliction.api.http import (
    IdemKey,
    KeyDep,
    RawBody,
    RuntimeDep,
    Signature,
    as_party,
    etag,
    idempotency,
    if_match_version,
    json_response,
    respond,
)
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Party
from deconfliction.domain.policy import OperationKind
from deconfliction.service import movements
from deconfliction.service.runtime import Runtime
from deconfliction.service.signing import signed_receipt
from deconfliction.service.views import conflict_view, operation_view

router = APIRouter(prefix="/v1/movements", tags=["operations"])


class MovementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.MOVEMENT]})
    kind: OperationKind
    movement: dict[str, Any] = Field(
        description="route (GeoJSON LineString), departure + speed_m_s or waypoint_times, half_width_m, "
        "altitude {lower_m, upper_m}, tolerance_s (docs/formats.md, Movements)"
    )
    priority: int = Field(0, ge=0, le=100)
    title: str = Field("", max_length=200)
    state: Literal["draft", "planned"] = "draft"
    known_conflict_tokens: list[str] = Field(default_factory=list)
    unit: str | None = Field(None, description="One of your units declaring it (GET /v1/units)")
    historical: bool = Field(False, description="A historical record for an inquiry (as for operations)")


def _render(rt: Runtime, actor: Party, status: int = 201) -> Any:
    def render(r: movements.MovementResult) -> tuple[int, dict[str, str], Any]:
        op = r.result.operation
        body = wire.MovementWrite(
            operation=operation_view(actor, op),
            movement=wire.Movement.model_validate(r.movement),  # as stored with it
            conflicts=[conflict_view(actor, c, r.result.names) for c in r.result.conflicts],
            warnings=[wire.DeclarationWarning(**w.record()) for w in r.warnings],
            receipt=signed_receipt(rt, r.result.receipt),
        )
        return status, {"ETag": etag(op.version), "Location": f"/v1/movements/{op.id}"}, body

    return render


@router.post(
    "",
    operation_id="createMovement",
    response_model=wire.MovementWrite,
    status_code=201,
    summary="Declare a movement: an operation swept along its route",
)
async def submit(
    body: MovementIn,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    idempotency_key: IdemKey = None,
) -> Response:
    """The route is swept into corridor segments, each over the window the schedule (with its tolerance)
    puts the movement there; they are declared as one operation, so it conflicts only where and when it
    really is. The operation is read, revised and changed like any other under /v1/operations."""

    def work(party: Party) -> Response:
        render = _render(rt, party)
        idem = idempotency(request, raw, idempotency_key, render)
        out = movements.submit_movement(
            rt,
            party,
            body.kind,
            body.movement,
            priority=body.priority,
            title=body.title,
            state=OperationState(body.state),
            known_tokens=body.known_conflict_tokens,
            idempotency=idem,
            signature=signed,
            unit=body.unit,
            historical=body.historical,
        )
        return respond(out, render)

    return await as_party(rt, key, work)


class MovementRevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: OperationKind
    movement: dict[str, Any]
    priority: int = Field(0, ge=0, le=100)
    title: str = Field("", max_length=200)
    known_conflict_tokens: list[str] = Field(default_factory=list)
    unit: str | None = Field(None, description="Now declared for this unit of yours; omitted: unchanged")


@router.put(
    "/{op_id}",
    operation_id="reviseMovement",
    response_model=wire.MovementWrite,
    summary="A new route or schedule for your movement (If-Match required)",
)
async def revise(
    op_id: str,
    body: MovementRevisionIn,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    idempotency_key: IdemKey = None,
) -> Response:
    """Swept again into a new version of the same operation (its state is kept)."""

    def work(party: Party) -> Response:
        version = if_match_version(if_match)
        render = _render(rt, party, 200)
        idem = idempotency(request, raw, idempotency_key, render)
        out = movements.revise_movement(
            rt,
            party,
            op_id,
            body.kind,
            body.movement,
            expected_version=version,
            priority=body.priority,
            title=body.title,
            known_tokens=body.known_conflict_tokens,
            idempotency=idem,
            signature=signed,
            unit=body.unit,
        )
        return respond(out, render)

    return await as_party(rt, key, work)


@router.get(
    "/{op_id}",
    operation_id="getMovement",
    response_model=wire.MovementRead,
    summary="The movement of one of your operations (route and schedule)",
)
async def get(op_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        op, movement = movements.get_movement(rt, party, op_id)
        return json_response(
            wire.MovementRead(operation=op.id, movement=wire.Movement.model_validate(movement)),
            headers={"ETag": etag(op.version)},
        )

    return await as_party(rt, key, work)
