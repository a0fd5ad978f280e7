"""/v1/lines: split an area of interest by a line into two proposed zones (and a band); read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api import examples
from deconfliction.api.contract import problems
from deconfliction.api.http import (
    PAGE_SIZE_HELP,
    IdemKey,
    KeyDep,
    RawBody,
    RuntimeDep,
    Signature,
    as_party,
    decode_cursor,
    idempotency,
    json_response,
    page,
    page_size,
    respond,
)
from deconfliction.api.zones import ValidityIn, parse_area, parse_validity
from deconfliction.domain.line import parse_line
from deconfliction.domain.party import Party
from deconfliction.errors import FieldError, InvalidInput
from deconfliction.service import lines, zones
from deconfliction.service.runtime import Runtime
from deconfliction.service.signing import signed_receipt
from deconfliction.service.views import conflict_view

router = APIRouter(prefix="/v1/lines", tags=["zones"])


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.LINE]})
    name: str = Field("", description="What the line is (a river, a road)")
    area: dict[str, Any] = Field(description="The area of interest: GeoJSON Polygon or MultiPolygon")
    line: dict[str, Any] | list[Any] = Field(description="GeoJSON LineString (or its coordinates), end to end across")
    party_left: str = Field(description="Party id for the side on the left of the line's direction")
    party_right: str = Field(description="Party id for the side on its right")
    validity: ValidityIn = Field(description="Of the two zones and the band")
    band_half_width_m: float | None = Field(None, description="A band this wide on both sides of the line")


def line_draft(body: LineIn, rt: Runtime) -> lines.LineDraft:
    errors: list[FieldError] = []
    area = validity = None
    path: tuple[tuple[float, float], ...] | None = None
    try:
        area = parse_area(body.area, rt.limits, "area")
    except InvalidInput as e:
        errors += e.errors
    raw = body.line
    if isinstance(raw, dict):
        if raw.get("type") != "LineString":
            errors.append(FieldError("line.type", "invalid_geojson", "the line is a GeoJSON LineString"))
        raw = raw.get("coordinates")  # type: ignore[assignment]
    try:
        path = parse_line(raw, rt.limits)
    except InvalidInput as e:
        errors += e.errors
    try:
        validity = parse_validity(body.validity)
    except InvalidInput as e:
        errors += e.errors
    if errors or area is None or validity is None or path is None:
        raise InvalidInput(errors)
    return lines.LineDraft(
        body.name, area, body.area, path, body.party_left, body.party_right, validity, body.band_half_width_m
    )


def _render(rt: Runtime, actor: Party) -> Callable[[Any], tuple[int, dict[str, str], Any]]:
    def render(r: lines.LineResult) -> tuple[int, dict[str, str], Any]:
        body = wire.LineWrite(
            line=lines.line_view(r.line),
            zones=[zones.zone_view(z) for z in r.zones],
            conflicts=[
                conflict_view(actor, c, r.names)
                for c in r.changed
                if actor.sees_all or actor.id in (c.party_a, c.party_b)
            ],
            receipt=signed_receipt(rt, r.receipt),
        )
        return 201, {"Location": f"/v1/lines/{r.line.id}"}, body

    return render


@router.post(
    "",
    operation_id="createLine",
    response_model=wire.LineWrite,
    status_code=201,
    summary="Split an area by a line into two proposed zones (and a band)",
)
async def create(
    body: LineIn,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    idempotency_key: IdemKey = None,
) -> Response:
    def work(party: Party) -> Response:
        draft = line_draft(body, rt)
        render = _render(rt, party)
        idem = idempotency(request, raw, idempotency_key, render)
        out = lines.create_line(rt, party, draft, idempotency=idem, signature=signed)
        return respond(out, render)

    return await as_party(rt, key, work)


@router.post(
    "/{line_id}/withdraw",
    operation_id="withdrawLine",
    response_model=wire.LineWrite,
    responses=problems(409),
    summary="Withdraw a line's band (either party or the coordinator)",
)
async def withdraw(
    line_id: str,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    idempotency_key: IdemKey = None,
) -> Response:
    """The band stops counting and its open `band_entry` conflicts resolve; the zones keep their states."""

    def work(party: Party) -> Response:
        base = _render(rt, party)

        def render(r: lines.LineResult) -> tuple[int, dict[str, str], Any]:
            _, _, body = base(r)
            return 200, {}, body

        idem = idempotency(request, raw, idempotency_key, render)
        out = lines.withdraw_line(rt, party, line_id, idempotency=idem, signature=signed)
        return respond(out, render)

    return await as_party(rt, key, work)


@router.get(
    "",
    operation_id="listLines",
    response_model=wire.LinePage,
    summary="Lines you take part in (the coordinator: all)",
)
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, description=PAGE_SIZE_HELP)] = None,
) -> Response:
    after = decode_cursor(cursor)
    size = page_size(limit, rt.limits)

    def work(party: Party) -> Response:
        found = lines.list_lines(rt, party, after=after, limit=size + 1)
        items, nxt = page(found, size, lambda x: x.id)
        return json_response(wire.LinePage(items=[lines.line_view(x) for x in items], next_cursor=nxt))

    return await as_party(rt, key, work)


@router.get("/{line_id}", operation_id="getLine", response_model=wire.Line, summary="A line you take part in")
async def get(line_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(rt, key, lambda party: json_response(lines.line_view(lines.get_line(rt, party, line_id))))
