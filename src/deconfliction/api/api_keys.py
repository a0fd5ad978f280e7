"""/v1/api-keys: a party's own API keys (list without secrets, make with an optional expiry, revoke);
the coordinator revokes anyone's (docs/security.md, API keys)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import KeyDep, RuntimeDep, as_party, json_response
from deconfliction.domain.party import Party
from deconfliction.domain.volume import parse_time
from deconfliction.service import api_keys
from deconfliction.service.exercise import real_now
from deconfliction.service.signing import signed_receipt

router = APIRouter(prefix="/v1/api-keys", tags=["API keys"])


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(description="What uses it, e.g. 'north-c2 gateway' (1 to 200 characters)")
    expires_at: str | None = Field(None, description="RFC 3339 time after which the key is refused; none: never")


class ApiKeyList(BaseModel):
    items: list[wire.ApiKey]


class ApiKeyCreated(BaseModel):
    key: wire.ApiKey
    api_key: str = Field(description="The secret: shown this once, never stored (only its SHA-256 is)")
    receipt: wire.Receipt = Field(description="The signed receipt of the party.api_key_created ledger entry")


class ApiKeyRevoked(BaseModel):
    key: wire.ApiKey
    receipt: wire.Receipt = Field(description="The signed receipt of the party.api_key_revoked ledger entry")


@router.get(
    "",
    operation_id="listApiKeys",
    summary="Your API keys, without their secrets",
    response_model=ApiKeyList,
    responses=problems(),
)
async def list_(rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        now = real_now(rt)
        out = ApiKeyList(items=[api_keys.key_view(k, now) for k in api_keys.list_api_keys(rt, party)])
        return json_response(out)

    return await as_party(rt, key, work)


@router.post(
    "",
    operation_id="createApiKey",
    status_code=201,
    summary="Make an API key, with an optional expiry; its secret is shown once",
    response_model=ApiKeyCreated,
    responses=problems(),
)
async def create(body: ApiKeyIn, rt: RuntimeDep, key: KeyDep) -> Response:
    """At most 10 active keys a party. A ledger entry `party.api_key_created` (label and expiry, never
    the secret)."""
    expires = None if body.expires_at is None else parse_time(body.expires_at, "expires_at")

    def work(party: Party) -> Response:
        made, secret, receipt = api_keys.create_api_key(rt, party, body.label, expires)
        out = ApiKeyCreated(
            key=api_keys.key_view(made, real_now(rt)), api_key=secret, receipt=signed_receipt(rt, receipt)
        )
        return json_response(out, 201, {"Location": f"/v1/api-keys/{made.id}"})

    return await as_party(rt, key, work)


@router.post(
    "/{key_id}/revoke",
    operation_id="revokeApiKey",
    summary="Revoke an API key at once (yours; the coordinator: anyone's)",
    response_model=ApiKeyRevoked,
    responses=problems(),
)
async def revoke(key_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    """Every server process refuses it from the next request on (401). Revoking your own last key locks
    you out: the coordinator makes a party a new one only through the console (`deconflict`). A ledger
    entry `party.api_key_revoked` the key's party reads."""

    def work(party: Party) -> Response:
        revoked, receipt = api_keys.revoke_api_key(rt, party, key_id)
        out = ApiKeyRevoked(key=api_keys.key_view(revoked, real_now(rt)), receipt=signed_receipt(rt, receipt))
        return json_response(out)

    return await as_party(rt, key, work)
