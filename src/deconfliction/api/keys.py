"""/v1/keys: the caller's Ed25519 keys for signed submissions (docs/signing.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import KeyDep, RawBody, RuntimeDep, Signature, as_party, json_response
from deconfliction.api.schemas import KeyIn
from deconfliction.domain.party import Party
from deconfliction.service import signing
from deconfliction.service.signing import key_view, signed_receipt

router = APIRouter(prefix="/v1/keys", tags=["signing keys"])


@router.post(
    "",
    operation_id="registerSigningKey",
    response_model=wire.SigningKeyWrite,
    responses=problems(409),
    status_code=201,
    summary="Register a signing key; from now on your writes must be signed",
)
async def register(
    body: KeyIn, request: Request, raw: RawBody, signed: Signature, rt: RuntimeDep, key: KeyDep
) -> Response:
    """Rotation: register the new key, sign with it, then revoke the old one. A party has at most 10
    active keys. Once it has one, registering and revoking are signed writes (by an active key)."""

    def work(party: Party) -> Response:
        added, receipt = signing.register_key(rt, party, body.public_key, signed)
        return json_response(
            wire.SigningKeyWrite(key=key_view(added), receipt=signed_receipt(rt, receipt)),
            201,
            {"Location": f"/v1/keys/{added.key_id}"},
        )

    return await as_party(rt, key, work)


@router.get(
    "",
    operation_id="listSigningKeys",
    response_model=wire.SigningKeyList,
    summary="Your signing keys, revoked ones included",
)
async def list_(rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        return json_response(wire.SigningKeyList(items=[key_view(k) for k in signing.list_keys(rt, party)]))

    return await as_party(rt, key, work)


@router.post(
    "/{key_id}/revoke",
    operation_id="revokeSigningKey",
    response_model=wire.SigningKeyWrite,
    summary="Revoke a signing key (entries it signed stay valid)",
)
async def revoke(
    key_id: str, request: Request, raw: RawBody, signed: Signature, rt: RuntimeDep, key: KeyDep
) -> Response:
    def work(party: Party) -> Response:
        revoked, receipt = signing.revoke_key(rt, party, key_id, signed)
        return json_response(wire.SigningKeyWrite(key=key_view(revoked), receipt=signed_receipt(rt, receipt)))

    return await as_party(rt, key, work)
