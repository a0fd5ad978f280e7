"""/v1/units: a party's units (a squadron, a convoy team, a field office), their ladders and their keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import KeyDep, Limit, RuntimeDep, as_party, json_response, paged
from deconfliction.api.schemas import Strict
from deconfliction.domain.party import Party
from deconfliction.service import units
from deconfliction.service.signing import signed_receipt

router = APIRouter(prefix="/v1/units", tags=["units"])


class UnitIn(Strict):
    name: str = Field(description="Unique within the party, 1 to 80 characters")
    contacts: list[dict[str, Any]] | None = Field(
        None, description="The unit's on-call ladder, primary first (as PUT /v1/contacts); omitted: none yet"
    )
    area: dict[str, Any] | None = Field(None, description="Area of interest: a GeoJSON Polygon or MultiPolygon")
    party: str | None = Field(None, description="The coordinator only: the party (id or name) it belongs to")


class UnitContactsIn(Strict):
    contacts: list[dict[str, Any]] = Field(
        description='Primary first: [{"name": ..., "channels": {"phone": ..., "email": ...}}]'
    )


@router.post(
    "",
    operation_id="createUnit",
    response_model=wire.UnitWrite,
    responses=problems(409),
    status_code=201,
    summary="Create a unit of your party (the coordinator: of any party)",
)
async def create(body: UnitIn, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        unit, receipt = units.create_unit(
            rt, party, body.name, party=body.party, contacts=body.contacts, area=body.area
        )
        return json_response(
            wire.UnitWrite(unit=units.unit_view(unit), receipt=signed_receipt(rt, receipt)),
            201,
            {"Location": f"/v1/units/{unit.id}"},
        )

    return await as_party(rt, key, work)


@router.get(
    "",
    operation_id="listUnits",
    response_model=wire.UnitPage,
    summary="Your party's units (a unit's key: its own; the coordinator: every party's)",
)
async def list_(
    rt: RuntimeDep, key: KeyDep, party: str | None = None, cursor: str | None = None, limit: Limit = None
) -> Response:
    def work(viewer: Party) -> Response:
        return paged(
            rt,
            cursor,
            limit,
            lambda after, n: units.list_units(rt, viewer, party=party, after=after, limit=n),
            units.unit_view,
            lambda u: u.id,
            wire.UnitPage,
        )

    return await as_party(rt, key, work)


@router.get(
    "/{unit_id}",
    operation_id="getUnit",
    response_model=wire.Unit,
    summary="One unit: its name, ladder and area of interest",
)
async def get(unit_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(rt, key, lambda party: json_response(units.unit_view(units.get_unit(rt, party, unit_id))))


@router.put(
    "/{unit_id}/contacts",
    operation_id="replaceUnitContacts",
    response_model=wire.UnitWrite,
    summary="Replace a unit's on-call ladder (asked before the party's)",
)
async def put_contacts(unit_id: str, body: UnitContactsIn, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        unit, receipt = units.set_unit_contacts(rt, party, unit_id, body.contacts)
        return json_response(wire.UnitWrite(unit=units.unit_view(unit), receipt=signed_receipt(rt, receipt)))

    return await as_party(rt, key, work)


@router.post(
    "/{unit_id}/keys",
    operation_id="createUnitKey",
    response_model=wire.UnitKeyWrite,
    status_code=201,
    summary="Issue an API key scoped to the unit (shown once)",
)
async def issue_key(unit_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    """The key acts as the party for that unit: it declares for the unit, and reads the unit's items and
    the party's items of no unit, never a sibling unit's. Only the party's key or the coordinator issues."""

    def work(party: Party) -> Response:
        issued, api_key, receipt = units.issue_unit_key(rt, party, unit_id)
        return json_response(
            wire.UnitKeyWrite(key=units.unit_key_view(issued), api_key=api_key, receipt=signed_receipt(rt, receipt)),
            201,
        )

    return await as_party(rt, key, work)


@router.get(
    "/{unit_id}/keys",
    operation_id="listUnitKeys",
    response_model=wire.UnitKeyList,
    summary="The unit's API keys (never the keys themselves)",
)
async def list_keys(unit_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        return json_response(
            wire.UnitKeyList(items=[units.unit_key_view(k) for k in units.list_unit_keys(rt, party, unit_id)])
        )

    return await as_party(rt, key, work)


@router.post(
    "/{unit_id}/keys/{key_id}/revoke",
    operation_id="revokeUnitKey",
    response_model=wire.UnitKeyWrite,
    summary="Revoke a unit's API key",
)
async def revoke_key(unit_id: str, key_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        revoked, receipt = units.revoke_unit_key(rt, party, unit_id, key_id)
        return json_response(wire.UnitKeyWrite(key=units.unit_key_view(revoked), receipt=signed_receipt(rt, receipt)))

    return await as_party(rt, key, work)
