"""Use cases of API keys: a party lists, makes (with an optional expiry) and revokes its own keys; the
coordinator revokes anyone's. Each change is a ledger entry the key's party reads (the coordinator reads
everything). An expired or revoked key is refused at once, in every server process: ``check_active``
runs on every request, also for a key the process verified recently (api/http.py).

A key is 256 random bits shown once; only its SHA-256 is stored (service/parties.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from deconfliction import wire
from deconfliction.domain.party import Party
from deconfliction.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from deconfliction.service.exercise import real_now
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import ApiKey, Transaction

MAX_ACTIVE = 10
MAX_LABEL = 200


def format_time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def key_view(k: ApiKey, now: datetime) -> wire.ApiKey:
    """The wire view of a key at ``now`` (real time): what /v1/api-keys answers and `party keys --json`
    prints."""
    return wire.ApiKey(
        id=k.id,
        party=k.party_id,
        label=k.label,
        created_at=str(format_time(k.created_at)),
        expires_at=format_time(k.expires_at),
        revoked_at=format_time(k.revoked_at),
        active=k.active(now),
    )


def _owner(actor: Party | None, party_id: str | None) -> str:
    """Whose keys: the caller's own; ``actor`` None is the operator at the console, naming the party."""
    if actor is None:
        if party_id is None:
            raise ValueError("the console names the party")
        return party_id
    if actor.unit_id is not None:
        raise Forbidden("a unit's key does not manage its party's API keys")
    return actor.id


def list_api_keys(rt: Runtime, actor: Party | None, party_id: str | None = None) -> list[ApiKey]:
    owner = _owner(actor, party_id)
    with rt.store.read() as tx:
        return tx.api_keys.for_party(owner)


def add_first_key(tx: Transaction, party: Party, key_hash: str) -> None:
    """Inside the write that creates a party: its first key."""
    tx.api_keys.add(ApiKey("ak_" + party.id.removeprefix("pt_"), party.id, "first key", party.created_at), key_hash)


def create_api_key(
    rt: Runtime, actor: Party | None, label: str, expires_at: datetime | None, party_id: str | None = None
) -> tuple[ApiKey, str, tuple[int, str]]:
    """A new key of the caller's party (the secret is returned once), with the receipt of its entry.
    ``actor`` None: the operator at the console makes one for ``party_id``."""
    from deconfliction.service.parties import hash_key  # parties reads keys through this module

    owner = _owner(actor, party_id)
    label = label.strip()
    if not 1 <= len(label) <= MAX_LABEL:
        raise InvalidInput.one("label", "invalid_label", f"a label is 1 to {MAX_LABEL} characters")
    now = real_now(rt)  # keys expire in real time, also during an exercise
    if expires_at is not None and expires_at <= now:
        raise InvalidInput.one(
            "expires_at", "out_of_range", f"expires_at {format_time(expires_at)} is not in the future"
        )
    secret = rt.ids.new_api_key()
    with rt.store.write() as tx:
        if tx.parties.get(owner) is None:
            raise NotFound(f"no party {owner}", id=owner)
        if sum(k.active(now) for k in tx.api_keys.for_party(owner)) >= MAX_ACTIVE:
            raise InvalidInput.one("label", "too_many", f"a party has at most {MAX_ACTIVE} active API keys")
        key = ApiKey(rt.ids.new_id("ak"), owner, label, now, expires_at)
        tx.api_keys.add(key, hash_key(secret))
        tx.events.append(
            at=rt.clock(),
            actor_id=None if actor is None else actor.id,
            type="party.api_key_created",
            subject_id=owner,
            payload={"party": owner, "key_id": key.id, "label": label, "expires_at": format_time(expires_at)},
            audience=[owner],
        )
        return key, secret, tx.events.head()


def revoke_api_key(rt: Runtime, actor: Party | None, key_id: str) -> tuple[ApiKey, tuple[int, str]]:
    """Revoke one of the caller's keys (the coordinator and the operator at the console, ``actor``
    None: anyone's); refused at once everywhere. Revoking a revoked key changes nothing."""
    if actor is not None:
        _owner(actor, None)
    with rt.store.write() as tx:
        key = tx.api_keys.get(key_id)
        if key is None or (actor is not None and key.party_id != actor.id and not actor.sees_all):
            raise NotFound(f"no API key {key_id}", key_id=key_id)
        if key.revoked_at is not None:
            return key, tx.events.head()
        now = real_now(rt)
        tx.api_keys.revoke(key_id, now)
        tx.events.append(
            at=rt.clock(),
            actor_id=None if actor is None else actor.id,
            type="party.api_key_revoked",
            subject_id=key.party_id,
            payload={"party": key.party_id, "key_id": key_id},
            audience=[key.party_id],
        )
        head = tx.events.head()
    rt.keys.clear()  # this process at once; every other one checks each request (check_active)
    return replace(key, revoked_at=now), head


def check_active(rt: Runtime, key_hash: str) -> None:
    """On every request, also for a key verified recently: a party's key that was revoked or expired
    since is refused (401). A unit's key is not a party's key (units have their own, service/units.py)."""
    with rt.store.glance() as tx:
        check_active_in(tx, rt, key_hash)


def check_active_in(tx: Transaction, rt: Runtime, key_hash: str) -> None:
    """``check_active`` inside a transaction the caller holds."""
    key = tx.api_keys.by_hash(key_hash)
    if key is None:
        return
    if key.revoked_at is not None:
        raise NotAuthenticated("this API key was revoked")
    if key.expires_at is not None and real_now(rt) >= key.expires_at:
        raise NotAuthenticated("this API key has expired")
