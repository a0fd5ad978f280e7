"""/v1/zones: propose a zone of responsibility, answer, revise, withdraw, read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import ConfigDict, Field
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api import examples
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
    as_party,
    decode_cursor,
    encode_cursor,
    etag,
    idempotency,
    if_match_version,
    json_response,
    page_size,
    respond,
)
from deconfliction.api.schemas import Strict as _Strict
from deconfliction.domain.footprint import PolygonFootprint, parse_polygon_footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.party import Party
from deconfliction.domain.volume import TimeWindow, parse_time
from deconfliction.domain.zone import ZoneAnswer, ZoneState
from deconfliction.errors import FieldError, InvalidInput, NotFound
from deconfliction.service import zones
from deconfliction.service.replay import replay
from deconfliction.service.runtime import Runtime
from deconfliction.service.signing import signed_receipt
from deconfliction.service.views import conflict_view, may_see_zone

router = APIRouter(prefix="/v1/zones", tags=["zones"])


class ValidityIn(_Strict):
    start: str
    end: str


class ZoneIn(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.ZONE]})
    name: str = Field("", description="What the zone is called")
    counterparties: list[str] = Field(description="Party ids that must accept it")
    footprint: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon (geodesic edges)")
    validity: ValidityIn = Field(description="RFC 3339 [start, end) during which it is in force once agreed")


class ZoneRevisionIn(_Strict):
    name: str | None = None
    counterparties: list[str] | None = None
    footprint: dict[str, Any] | None = None
    validity: ValidityIn | None = None


class ZoneAnswerIn(_Strict):
    answer: Literal["accepted", "rejected"]


def parse_validity(raw: ValidityIn, field: str = "validity") -> TimeWindow:
    errors: list[FieldError] = []
    start = end = None
    try:
        start = parse_time(raw.start, f"{field}.start")
    except InvalidInput as e:
        errors += e.errors
    try:
        end = parse_time(raw.end, f"{field}.end")
    except InvalidInput as e:
        errors += e.errors
    if errors or start is None or end is None:
        raise InvalidInput(errors)
    return TimeWindow(start, end)


def parse_area(raw: dict[str, Any], limits: Limits, field: str = "footprint") -> PolygonFootprint:
    """A zone's footprint or a line's area: a Polygon or MultiPolygon (``not_a_polygon`` otherwise)."""
    try:
        return parse_polygon_footprint(raw, limits, "an area")
    except InvalidInput as e:
        raise e.at(field) from None


def _render(rt: Runtime, actor: Party, status: int) -> Render:
    def render(r: zones.ZoneResult) -> tuple[int, dict[str, str], Any]:
        body = wire.ZoneWrite(
            zone=zones.zone_view(r.zone),
            versions=[zones.zone_view(v) for v in r.versions if may_see_zone(actor, v)],
            conflicts=[
                conflict_view(actor, c, r.names)
                for c in r.changed
                if actor.sees_all or actor.id in (c.party_a, c.party_b)
            ],
            receipt=signed_receipt(rt, r.receipt),
        )
        latest = r.versions[-1].version
        return status, {"ETag": etag(latest), "Location": f"/v1/zones/{r.zone.id}"}, body

    return render


@router.post(
    "",
    operation_id="createZone",
    response_model=wire.ZoneWrite,
    status_code=201,
    summary="Propose a zone of responsibility to counter-parties",
)
async def propose(
    body: ZoneIn,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    idempotency_key: IdemKey = None,
) -> Response:
    def work(party: Party) -> Response:
        errors: list[FieldError] = []
        footprint = validity = None
        try:
            footprint = parse_area(body.footprint, rt.limits)
        except InvalidInput as e:
            errors += e.errors
        try:
            validity = parse_validity(body.validity)
        except InvalidInput as e:
            errors += e.errors
        if errors or footprint is None or validity is None:
            raise InvalidInput(errors)
        render = _render(rt, party, 201)
        idem = idempotency(request, raw, idempotency_key, render)
        draft = zones.ZoneDraft(body.name, body.counterparties, footprint, validity)
        out = zones.propose(rt, party, draft, idempotency=idem, signature=signed)
        return respond(out, render)

    return await as_party(rt, key, work)


@router.get(
    "",
    operation_id="listZones",
    response_model=wire.ZoneVersionPage,
    summary="Zones you may see: every agreed one, and the proposals you take part in",
)
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    state: Annotated[ZoneState | None, Query()] = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, description=PAGE_SIZE_HELP + " (zones, each with its versions)")] = None,
    as_of: AsOf = None,
) -> Response:
    after = decode_cursor(cursor)
    size = page_size(limit, rt.limits)

    def work(party: Party) -> Response:
        if as_of is not None:
            by_zone = replay(rt, party, parse_time(as_of, "as_of")).zone_versions()
            ids = [z for z in by_zone if after is None or z > after]
            then = [v for z in ids[:size] for v in by_zone[z] if state is None or v["state"] == state.value]
            return json_response(
                wire.ZoneVersionPage(
                    items=[wire.ZoneVersion.model_validate(v) for v in then],
                    next_cursor=encode_cursor(ids[size - 1]) if len(ids) > size else None,
                )
            )
        found = zones.list_zones(rt, party, state=state, after=after, limit=size + 1)
        ids = list(dict.fromkeys(z.id for z in found))
        nxt = encode_cursor(ids[size - 1]) if len(ids) > size else None
        keep = set(ids[:size])
        return json_response(
            wire.ZoneVersionPage(items=[zones.zone_view(z) for z in found if z.id in keep], next_cursor=nxt)
        )

    return await as_party(rt, key, work)


@router.get("/{zone_id}", operation_id="getZone", response_model=wire.Zone, summary="A zone: the versions you may see")
async def get(zone_id: str, rt: RuntimeDep, key: KeyDep, as_of: AsOf = None) -> Response:
    def work(party: Party) -> Response:
        if as_of is not None:
            then = replay(rt, party, parse_time(as_of, "as_of")).zone_versions().get(zone_id)
            if not then:
                raise NotFound(f"no zone {zone_id} at {as_of}", id=zone_id)
            return json_response(
                wire.Zone.model_validate({"id": zone_id, "versions": then}), headers={"ETag": etag(then[-1]["version"])}
            )
        versions = zones.get_zone(rt, party, zone_id)
        body = wire.Zone(id=zone_id, versions=[zones.zone_view(v) for v in versions])
        return json_response(body, headers={"ETag": etag(versions[-1].version)})

    return await as_party(rt, key, work)


@router.post(
    "/{zone_id}/answer",
    operation_id="answerZone",
    response_model=wire.ZoneWrite,
    summary="Accept or reject the pending version (counter-parties)",
)
async def answer(
    zone_id: str,
    body: ZoneAnswerIn,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    idempotency_key: IdemKey = None,
) -> Response:
    def work(party: Party) -> Response:
        render = _render(rt, party, 200)
        idem = idempotency(request, raw, idempotency_key, render)
        out = zones.answer(rt, party, zone_id, ZoneAnswer(body.answer), idempotency=idem, signature=signed)
        return respond(out, render)

    return await as_party(rt, key, work)


@router.post(
    "/{zone_id}/revise",
    operation_id="reviseZone",
    response_model=wire.ZoneWrite,
    summary="Propose a new version (owner; If-Match: the latest version)",
)
async def revise(
    zone_id: str,
    body: ZoneRevisionIn,
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
        errors: list[FieldError] = []
        footprint = validity = None
        if body.footprint is not None:
            try:
                footprint = parse_area(body.footprint, rt.limits)
            except InvalidInput as e:
                errors += e.errors
        if body.validity is not None:
            try:
                validity = parse_validity(body.validity)
            except InvalidInput as e:
                errors += e.errors
        if errors:
            raise InvalidInput(errors)
        render = _render(rt, party, 200)
        idem = idempotency(request, raw, idempotency_key, render)
        out = zones.revise(
            rt,
            party,
            zone_id,
            expected_version=version,
            footprint=footprint,
            validity=validity,
            counterparties=body.counterparties,
            name=body.name,
            idempotency=idem,
            signature=signed,
        )
        return respond(out, render)

    return await as_party(rt, key, work)


@router.post(
    "/{zone_id}/withdraw",
    operation_id="withdrawZone",
    response_model=wire.ZoneWrite,
    summary="Withdraw the zone (owner; If-Match: the latest version)",
)
async def withdraw(
    zone_id: str,
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
        render = _render(rt, party, 200)
        idem = idempotency(request, raw, idempotency_key, render)
        out = zones.withdraw(rt, party, zone_id, expected_version=version, idempotency=idem, signature=signed)
        return respond(out, render)

    return await as_party(rt, key, work)
