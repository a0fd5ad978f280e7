"""/v1/certificates: client certificates bound to the caller, for mutual TLS (docs/security.md)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import KeyDep, RuntimeDep, as_party, json_response
from deconfliction.domain.party import Party
from deconfliction.domain.volume import format_time
from deconfliction.service import certificates
from deconfliction.store.ports import ClientCertificate

router = APIRouter(prefix="/v1/certificates", tags=["client certificates"])


class CertificateIn(BaseModel):
    fingerprint: str = Field(description="SHA-256 of the certificate's DER encoding, 64 hex digits (colons allowed)")
    label: str = Field(description="What presents it, e.g. 'north-c2 gateway'")


def view(c: ClientCertificate) -> wire.Certificate:
    return wire.Certificate(
        fingerprint=c.fingerprint,
        party=c.party_id,
        label=c.label,
        created_at=format_time(c.created_at),
        revoked_at=None if c.revoked_at is None else format_time(c.revoked_at),
    )


@router.post(
    "",
    operation_id="bindCertificate",
    response_model=wire.CertificateWrite,
    responses=problems(409),
    status_code=201,
    summary="Bind a client certificate: its holder then acts as you with no API key",
)
async def bind(body: CertificateIn, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        cert = certificates.bind_certificate(rt, party, body.fingerprint, body.label)
        return json_response(
            wire.CertificateWrite(certificate=view(cert)), 201, {"Location": f"/v1/certificates/{cert.fingerprint}"}
        )

    return await as_party(rt, key, work)


@router.get(
    "",
    operation_id="listCertificates",
    response_model=wire.CertificateList,
    summary="Your bound client certificates, revoked ones included",
)
async def list_(rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        return json_response(wire.CertificateList(items=[view(c) for c in certificates.list_certificates(rt, party)]))

    return await as_party(rt, key, work)


@router.post(
    "/{fingerprint}/revoke",
    operation_id="revokeCertificate",
    response_model=wire.CertificateWrite,
    summary="Revoke a bound client certificate (takes effect at once)",
)
async def revoke(fingerprint: str, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        return json_response(
            wire.CertificateWrite(certificate=view(certificates.revoke_certificate(rt, party, fingerprint)))
        )

    return await as_party(rt, key, work)
