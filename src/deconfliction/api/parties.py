"""/v1/parties: the coordinator creates parties; everyone can see who takes part."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import KeyDep, Limit, RuntimeDep, as_party, json_response, paged
from deconfliction.api.schemas import PartyIn
from deconfliction.domain.party import Party, Role
from deconfliction.service import parties
from deconfliction.service.views import party_view

router = APIRouter(prefix="/v1/parties", tags=["parties"])


@router.post(
    "",
    operation_id="createParty",
    response_model=wire.PartyCreated,
    responses=problems(409),
    status_code=201,
    summary="Create a party (coordinator only); its API key is shown once",
)
async def create(body: PartyIn, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        created, api_key = parties.create_party(rt, party, body.name, Role(body.role))
        # no Location header: there is no GET /v1/parties/{id} to point at
        return json_response(wire.PartyCreated(party=party_view(created), api_key=api_key), 201)

    return await as_party(rt, key, work)


@router.get("", operation_id="listParties", response_model=wire.PartyPage, summary="List parties (names and roles)")
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    cursor: str | None = None,
    limit: Limit = None,
) -> Response:
    def work(party: Party) -> Response:
        return paged(
            rt,
            cursor,
            limit,
            lambda after, n: parties.list_parties(rt, party, after=after, limit=n),
            party_view,
            lambda p: p.id,
            wire.PartyPage,
        )

    return await as_party(rt, key, work)


@router.get(
    "/me", operation_id="getCurrentParty", response_model=wire.Party, summary="The party this API key belongs to"
)
async def me(rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(rt, key, lambda party: json_response(party_view(party)))
