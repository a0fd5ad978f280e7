"""/v1/operations: declare, revise, change state, read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import (
    PAGE_SIZE_HELP,
    AsOf,
    IdemKey,
    IfMatch,
    KeyDep,
    RawBody,
    Render,
    RuntimeDep,
    Signature,
    after_cursor,
    as_party,
    decode_cursor,
    etag,
    idempotency,
    if_match_version,
    json_response,
    page,
    page_size,
    respond,
    runtime,
    take_signature,
)
from deconfliction.api.schemas import OperationFields, OperationIn, TransitionIn, draft_from_wire, overrides_from_wire
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Party
from deconfliction.domain.volume import parse_time
from deconfliction.errors import NotFound
from deconfliction.service import operations as ops
from deconfliction.service.operations import OperationResult
from deconfliction.service.replay import replay
from deconfliction.service.runtime import Runtime
from deconfliction.service.signing import signed_receipt
from deconfliction.service.views import operation_view

router = APIRouter(prefix="/v1/operations", tags=["operations"])


def _render(rt: Runtime, actor: Party, status: int) -> Render:
    def render(r: OperationResult) -> tuple[int, dict[str, str], Any]:
        body = wire.OperationWrite(
            operation=operation_view(actor, r.operation),
            conflicts=r.conflict_views(actor),
            warnings=[wire.DeclarationWarning(**w.record()) for w in r.warnings],
            receipt=signed_receipt(rt, r.receipt),
        )
        headers = {"ETag": etag(r.operation.version), "Location": f"/v1/operations/{r.operation.id}"}
        return status, headers, body

    return render


@router.post(
    "",
    operation_id="createOperation",
    response_model=wire.OperationWrite,
    status_code=201,
    summary="Declare an operation",
)
async def submit(body: OperationIn, request: Request, key: KeyDep, idempotency_key: IdemKey = None) -> Response:
    """Declare an operation as a draft (conflicts are found and both sides told) or as planned (then
    `known_conflict_tokens` must hold the token of every conflict it would have; otherwise 409
    `missing_conflict_tokens`; where the policy makes planning wait for acknowledgements, 409
    `awaiting_acknowledgement`)."""
    # the hot path: the runtime and the raw body (already read and kept by the body's parsing) are taken
    # here rather than through two more dependencies for FastAPI to solve on every submission
    rt = await runtime(request)
    raw = await request.body()
    signed = take_signature(request, raw)

    def work(party: Party) -> Response:
        draft = draft_from_wire(body, rt.limits)
        render = _render(rt, party, 201)
        idem = idempotency(request, raw, idempotency_key, render)
        out = ops.submit_operation(
            rt,
            party,
            draft,
            state=OperationState(body.state),
            known_tokens=body.known_conflict_tokens,
            idempotency=idem,
            signature=signed,
            overrides=overrides_from_wire(body.override),
        )
        return respond(out, render)

    return await as_party(rt, key, work)


@router.get(
    "",
    operation_id="listOperations",
    response_model=wire.OperationPage,
    summary="List your operations (the coordinator: all)",
)
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    state: Annotated[list[OperationState] | None, Query()] = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, description=PAGE_SIZE_HELP)] = None,
    as_of: AsOf = None,
) -> Response:
    after = decode_cursor(cursor)
    size = page_size(limit, rt.limits)

    def work(party: Party) -> Response:
        if as_of is not None:
            past = replay(rt, party, parse_time(as_of, "as_of")).operation_list([s.value for s in state or ()])
            items, nxt = page(after_cursor(past, after)[: size + 1], size, lambda o: o["id"])
            return json_response(wire.OperationPage(items=items, next_cursor=nxt))
        found = ops.list_operations(rt, party, states=state, after=after, limit=size + 1)
        live, nxt = page(found, size, lambda o: o.id)
        return json_response(wire.OperationPage(items=[operation_view(party, o) for o in live], next_cursor=nxt))

    return await as_party(rt, key, work)


@router.get(
    "/{op_id}", operation_id="getOperation", response_model=wire.Operation, summary="Read one of your operations"
)
async def get(op_id: str, rt: RuntimeDep, key: KeyDep, as_of: AsOf = None) -> Response:
    def work(party: Party) -> Response:
        if as_of is not None:
            past = replay(rt, party, parse_time(as_of, "as_of")).operations.get(op_id)
            if past is None:
                raise NotFound(f"no operation {op_id} at {as_of}", id=op_id)
            return json_response(wire.Operation.model_validate(past), headers={"ETag": etag(past["version"])})
        op = ops.get_operation(rt, party, op_id)
        return json_response(operation_view(party, op), headers={"ETag": etag(op.version)})

    return await as_party(rt, key, work)


@router.put(
    "/{op_id}",
    operation_id="reviseOperation",
    response_model=wire.OperationWrite,
    summary="Revise an operation (If-Match required)",
)
async def revise(
    op_id: str,
    body: OperationFields,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    if_match: IfMatch = None,
    idempotency_key: IdemKey = None,
) -> Response:
    def work(party: Party) -> Response:
        version = if_match_version(if_match)
        draft = draft_from_wire(body, rt.limits)
        render = _render(rt, party, 200)
        idem = idempotency(request, raw, idempotency_key, render)
        out = ops.revise_operation(
            rt,
            party,
            op_id,
            draft,
            expected_version=version,
            known_tokens=body.known_conflict_tokens,
            idempotency=idem,
            signature=signed,
        )
        return respond(out, render)

    return await as_party(rt, key, work)


def _transition(to: OperationState, summary: str) -> Callable[..., Any]:
    async def handler(
        op_id: str,
        request: Request,
        raw: RawBody,
        signed: Signature,
        rt: RuntimeDep,
        key: KeyDep,
        body: TransitionIn | None = None,
        if_match: IfMatch = None,
        idempotency_key: IdemKey = None,
    ) -> Response:
        def work(party: Party) -> Response:
            version = if_match_version(if_match)
            render = _render(rt, party, 200)
            idem = idempotency(request, raw, idempotency_key, render)
            out = ops.change_state(
                rt,
                party,
                op_id,
                to,
                expected_version=version,
                known_tokens=body.known_conflict_tokens if body else (),
                idempotency=idem,
                signature=signed,
                overrides=overrides_from_wire(body.override) if body else (),
            )
            return respond(out, render)

        return await as_party(rt, key, work)

    handler.__doc__ = summary
    return handler


for _verb, _state, _summary in (
    (
        "plan",
        OperationState.PLANNED,
        "draft -> planned; needs the token of every conflict (and acknowledgements where the policy says so)",
    ),
    (
        "activate",
        OperationState.ACTIVE,
        "planned -> active; needs the token of every conflict, and the other side's acknowledgement (or an "
        "override) of each conflict whose kind needs it",
    ),
    ("end", OperationState.ENDED, "active -> ended; resolves its conflicts"),
    ("cancel", OperationState.CANCELLED, "draft, planned or active -> cancelled; resolves its conflicts"),
):
    router.add_api_route(
        f"/{{op_id}}/{_verb}",
        _transition(_state, _summary),
        methods=["POST"],
        summary=_summary,
        name=f"operation_{_verb}",
        operation_id=f"{_verb}Operation",
        response_model=wire.OperationWrite,
        responses=problems(409),
    )
