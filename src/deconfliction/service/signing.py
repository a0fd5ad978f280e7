"""Use cases of signatures: a party registers, lists and revokes its Ed25519 keys; a signed write is
accepted once; the service announces its receipt key and signs receipts.

Once a party has an active key, every write in its name must be signed (the rule is enforced once, for
every write route, in api/http.py): a stolen API key alone then changes nothing. The signature is checked
inside the write's transaction (or, for a write whose use case does not take it, in one of its own just
before), with the replay record, so a request is accepted at most once even with several API processes.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta
from typing import Any

from deconfliction import wire
from deconfliction.domain.party import Party
from deconfliction.domain.signing import (
    MAX_SKEW_S,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignedRequest,
    b64url,
    fresh,
    from_b64url,
    key_id_for,
    parse_public_key,
    parse_signed_at,
    signature_valid,
)
from deconfliction.errors import AlreadyExists, NotFound, SignatureInvalid, SignatureReplayed, SignatureRequired
from deconfliction.service.exercise import real_now
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import PartyKey, Transaction

MAX_ACTIVE_KEYS = 10


def key_view(k: PartyKey) -> wire.SigningKey:
    return wire.SigningKey(
        key_id=k.key_id,
        algorithm="Ed25519",
        public_key=b64url(k.public_key),
        created_at=k.created_at.isoformat().replace("+00:00", "Z"),
        revoked_at=None if k.revoked_at is None else k.revoked_at.isoformat().replace("+00:00", "Z"),
    )


def register_key(
    rt: Runtime, actor: Party, public_key: str, signature: SignedRequest | None = None
) -> tuple[PartyKey, tuple[int, str]]:
    """Add a signing key (rotation: add the new one, then revoke the old one). Returns the key and the
    receipt (seq, hash) of its ledger entry. Once a party has an active key, changing its keys is a
    signed write like any other: an API key alone cannot take over a party's signing."""
    raw = parse_public_key(public_key)
    key_id = key_id_for(raw)
    with rt.store.write() as tx:
        # a party's first key may sign its own registration (proof that the party holds it)
        first = not any(k.active for k in tx.party_keys.for_party(actor.id))
        pending = PartyKey(key_id, actor.id, raw, rt.clock()) if first else None
        signed = accept_signature(tx, rt, actor, signature, pending=pending)
        if tx.party_keys.get(key_id) is not None:
            raise AlreadyExists(f"key {key_id} is already registered", key_id=key_id)
        if sum(k.active for k in tx.party_keys.for_party(actor.id)) >= MAX_ACTIVE_KEYS:
            raise AlreadyExists(f"a party has at most {MAX_ACTIVE_KEYS} active keys; revoke one first")
        key = PartyKey(key_id, actor.id, raw, rt.clock())
        tx.party_keys.add(key)
        tx.events.append(
            at=key.created_at,
            actor_id=actor.id,
            type="party.key_added",
            subject_id=actor.id,
            payload={"party": actor.id, "key_id": key_id, "algorithm": "Ed25519", "public_key": b64url(raw)},
            audience=[actor.id],
            signed=signed,
        )
        return key, tx.events.head()


def revoke_key(
    rt: Runtime, actor: Party, key_id: str, signature: SignedRequest | None = None
) -> tuple[PartyKey, tuple[int, str]]:
    """Retire a key: signatures made with it are refused from now on; entries it signed stay valid. A
    signed write (any active key of the party, the one being revoked included)."""
    with rt.store.write() as tx:
        signed = accept_signature(tx, rt, actor, signature)
        key = tx.party_keys.get(key_id)
        if key is None or key.party_id != actor.id:
            raise NotFound(f"no key {key_id} of yours", key_id=key_id)
        if key.revoked_at is not None:
            return key, tx.events.head()
        now = rt.clock()
        tx.party_keys.revoke(key_id, now)
        tx.events.append(
            at=now,
            actor_id=actor.id,
            type="party.key_revoked",
            subject_id=actor.id,
            payload={"party": actor.id, "key_id": key_id},
            audience=[actor.id],
            signed=signed,
        )
        return replace(key, revoked_at=now), tx.events.head()


def list_keys(rt: Runtime, actor: Party) -> list[PartyKey]:
    with rt.store.read() as tx:
        return tx.party_keys.for_party(actor.id)


def accept_signature(
    tx: Transaction, rt: Runtime, actor: Party, signed: SignedRequest | None, *, pending: PartyKey | None = None
) -> dict[str, Any] | None:
    """Inside a write: what the ledger keeps of the request's signature, or None for an unsigned write
    by a party without keys. Refuses a missing, unknown, revoked, stale, wrong or replayed signature.
    ``pending``: a key being registered, accepted as the signer of its own registration."""
    if signed is None:
        if any(k.active for k in tx.party_keys.for_party(actor.id)):
            raise SignatureRequired("this party has a signing key, so its writes must be signed")
        return None
    key = pending if pending is not None and signed.key_id == pending.key_id else tx.party_keys.get(signed.key_id)
    if key is None or key.party_id != actor.id:
        raise SignatureInvalid(f"no key {signed.key_id} of yours", key_id=signed.key_id)
    if not key.active:
        raise SignatureInvalid(f"key {signed.key_id} was revoked", key_id=signed.key_id)
    now = real_now(rt)  # a party signs with its real clock, also during an exercise (docs/exercise.md)
    signed_at = parse_signed_at(signed.timestamp)
    if not fresh(signed_at, now):
        raise SignatureInvalid(
            f"{TIMESTAMP_HEADER} {signed.timestamp} is more than {MAX_SKEW_S} s from the service's time "
            f"{now.isoformat()}; sign again",
        )
    raw = from_b64url(signed.signature, SIGNATURE_HEADER, 64)
    if not signature_valid(key.public_key, signed.message(), raw):
        raise SignatureInvalid("the signature does not match the request (method, path, timestamp, key, body)")
    digest = hashlib.sha256(raw).hexdigest()
    if not tx.party_keys.use_signature(digest, actor.id, signed_at + timedelta(seconds=MAX_SKEW_S), now):
        raise SignatureReplayed("this signature was accepted before; sign each request anew")
    return signed.evidence()


def require_signature(rt: Runtime, actor: Party) -> None:
    """An unsigned write: refused (401 ``signature_required``) when the party has an active key. Every
    write route passes here before its body is read (api/http.py): the one rule, in one place."""
    with rt.store.glance() as tx:
        require_signature_in(tx, actor)


def require_signature_in(tx: Transaction, actor: Party) -> None:
    """``require_signature`` inside a transaction the caller holds."""
    if any(k.active for k in tx.party_keys.for_party(actor.id)):
        raise SignatureRequired("this party has a signing key, so its writes must be signed")


def accept_signature_alone(rt: Runtime, actor: Party, signed: SignedRequest) -> None:
    """A signed write whose use case does not keep the signature in its own transaction: checked and
    recorded as used (once, also across processes) in a transaction of its own, before the write."""
    with rt.store.write() as tx:
        accept_signature(tx, rt, actor, signed)


def announce_service_key(rt: Runtime) -> int:
    """Put the receipt key in the ledger (readable by every party); returns the entry's number."""
    with rt.store.write() as tx:
        seq = tx.events.append(
            at=rt.clock(),
            actor_id=None,
            type="service.key",
            subject_id=rt.signer.key_id,
            payload=rt.signer.announcement(),
            audience=["*"],
        )
    rt.signer.announced = True
    return seq


def signed_receipt(rt: Runtime, receipt: tuple[int, str]) -> wire.Receipt:
    """The signed receipt of a committed write. The key is announced first if the start-up could not."""
    if not rt.signer.announced:
        announce_service_key(rt)
    return wire.Receipt.model_validate(rt.signer.receipt(receipt[0], receipt[1], rt.clock()))
