"""/v1/conflicts: a party's conflicts, seen through need-to-know."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import (
    PAGE_SIZE_HELP,
    AsOf,
    KeyDep,
    RuntimeDep,
    after_cursor,
    as_party,
    decode_cursor,
    json_response,
    page,
    page_size,
)
from deconfliction.api.tracks import TacticalDep, alert_names, alert_states, alert_view
from deconfliction.domain.conflict import ConflictState
from deconfliction.domain.party import Party
from deconfliction.domain.volume import parse_time
from deconfliction.errors import NotFound
from deconfliction.service import conflicts
from deconfliction.service.replay import replay

router = APIRouter(prefix="/v1/conflicts", tags=["conflicts"])


@router.get(
    "",
    operation_id="listConflicts",
    response_model=wire.ConflictPage,
    responses=problems(404),
    summary="Your conflicts (the coordinator: all)",
)
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    state: Annotated[
        ConflictState | None,
        Query(description="open, resolved or expired; without it every conflict but the expired ones"),
    ] = None,
    operation: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, description=PAGE_SIZE_HELP)] = None,
    as_of: AsOf = None,
    kind: Annotated[
        Literal["tactical"] | None,
        Query(description="tactical: the live alerts of the tactical layer (docs/tactical.md), as GET /v1/alerts"),
    ] = None,
    service: TacticalDep = None,  # type: ignore[assignment]  # always given by the dependency
) -> Response:
    after = decode_cursor(cursor)
    size = page_size(limit, rt.limits)

    def work(party: Party) -> Response:
        if kind == "tactical":
            wanted = None if state is None else alert_states(state)
            alerts = [] if wanted == [] else service.alerts(None if party.sees_all else party.id, wanted)
            names = alert_names(rt, {pid for a in alerts for pid, _ in a.subjects})
            views = sorted((alert_view(party, a, names) for a in alerts), key=lambda v: v.id)
            items, nxt = page([v for v in views if after is None or v.id > after][: size + 1], size, lambda c: c.id)
            return json_response(wire.ConflictPage(items=items, next_cursor=nxt))
        if as_of is not None:
            past = replay(rt, party, parse_time(as_of, "as_of"))
            if operation is not None and operation not in past.operations:  # as the live read: 404
                raise NotFound(f"no operation {operation} at {as_of}", id=operation)
            listed = past.conflict_list(state.value if state else None, operation)
            if state is None:  # as the live read: expired ones only when asked for
                listed = [c for c in listed if c.get("state") != ConflictState.EXPIRED.value]
            found = [wire.Conflict.model_validate(c) for c in after_cursor(listed, after)[: size + 1]]
        else:
            found = conflicts.list_conflicts(
                rt, party, state=state, operation_id=operation, after=after, limit=size + 1
            )
        items, nxt = page(found, size, lambda c: c.id)
        return json_response(wire.ConflictPage(items=items, next_cursor=nxt))

    return await as_party(rt, key, work)


@router.get("/{conflict_id}", operation_id="getConflict", response_model=wire.Conflict, summary="One conflict")
async def get(conflict_id: str, rt: RuntimeDep, key: KeyDep, as_of: AsOf = None) -> Response:
    def work(party: Party) -> Response:
        if as_of is not None:
            past = replay(rt, party, parse_time(as_of, "as_of")).conflicts.get(conflict_id)
            if past is None:
                raise NotFound(f"no conflict {conflict_id} at {as_of}", id=conflict_id)
            view = wire.Conflict.model_validate(past)  # as that reader was told it, from the ledger
        else:
            view = conflicts.get_conflict(rt, party, conflict_id)
        return json_response(view, headers={"ETag": f'"{view.version}"'})

    return await as_party(rt, key, work)
