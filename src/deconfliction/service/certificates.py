"""Client certificates bound to parties (docs/security.md, Mutual TLS).

A party binds the fingerprint (SHA-256 of the DER encoding) of a certificate its systems present; a
caller whose verified client certificate is bound acts as that party with no API key. A party's API key
keeps working alongside: the certificate is another way in, not a replacement. Binding and revoking are
ledger entries the party and the coordinator see. The service never stores or logs the certificate
itself, only its fingerprint.
"""

from __future__ import annotations

import re
from dataclasses import replace

from deconfliction.domain.party import Party
from deconfliction.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import ClientCertificate, Transaction

FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
MAX_ACTIVE = 10


def normalise_fingerprint(raw: str) -> str:
    """Lower-case hex; colons (as openssl prints them) and spaces are dropped."""
    text = raw.strip().lower().replace(":", "").replace(" ", "")
    if not FINGERPRINT.match(text):
        raise InvalidInput.one(
            "fingerprint", "invalid_fingerprint", "a certificate fingerprint is the SHA-256 of its DER: 64 hex digits"
        )
    return text


def bind_certificate(rt: Runtime, actor: Party, fingerprint: str, label: str) -> ClientCertificate:
    fp = normalise_fingerprint(fingerprint)
    label = label.strip()
    if not 1 <= len(label) <= 200:
        raise InvalidInput.one("label", "invalid_label", "a label is 1 to 200 characters")
    with rt.store.write() as tx:
        if tx.client_certificates.get(fp) is not None:
            raise AlreadyExists("this certificate is already bound", fingerprint=fp)
        if sum(c.active for c in tx.client_certificates.for_party(actor.id)) >= MAX_ACTIVE:
            raise AlreadyExists(f"a party has at most {MAX_ACTIVE} bound certificates; revoke one first")
        cert = ClientCertificate(fp, actor.id, label, rt.clock())
        tx.client_certificates.add(cert)
        tx.events.append(
            at=cert.created_at,
            actor_id=actor.id,
            type="party.certificate_bound",
            subject_id=actor.id,
            payload={"party": actor.id, "fingerprint": fp, "label": label},
            audience=[actor.id],
        )
        return cert


def revoke_certificate(rt: Runtime, actor: Party, fingerprint: str) -> ClientCertificate:
    fp = normalise_fingerprint(fingerprint)
    with rt.store.write() as tx:
        cert = tx.client_certificates.get(fp)
        if cert is None or cert.party_id != actor.id:
            raise NotFound("no certificate of yours with this fingerprint", fingerprint=fp)
        if cert.revoked_at is not None:
            return cert
        now = rt.clock()
        tx.client_certificates.revoke(fp, now)
        tx.events.append(
            at=now,
            actor_id=actor.id,
            type="party.certificate_revoked",
            subject_id=actor.id,
            payload={"party": actor.id, "fingerprint": fp},
            audience=[actor.id],
        )
        return replace(cert, revoked_at=now)


def list_certificates(rt: Runtime, actor: Party) -> list[ClientCertificate]:
    with rt.store.read() as tx:
        return tx.client_certificates.for_party(actor.id)


NOT_BOUND = "this client certificate is not bound to a party; send your API key"


def party_of_certificate(tx: Transaction, fingerprint: str) -> Party | None:
    """The party a verified client certificate is bound to (an active binding), within a transaction."""
    cert = tx.client_certificates.get(fingerprint)
    return tx.parties.get(cert.party_id) if cert is not None and cert.active else None


def authenticate_certificate(rt: Runtime, fingerprint: str) -> Party:
    """The party a verified client certificate is bound to (active binding); 401 otherwise."""
    with rt.store.read() as tx:
        party = party_of_certificate(tx, fingerprint)
    if party is None:
        raise NotAuthenticated(NOT_BOUND)
    return party
