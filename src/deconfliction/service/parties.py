"""Parties and their API keys.

API keys are 256-bit random strings shown once; the store keeps only their SHA-256. A fast hash is the
right tool for keys of this entropy (a password hash's slowness protects low-entropy secrets), and it
makes the per-request lookup an index probe.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from deconfliction.domain.ledger import EVERYONE
from deconfliction.domain.party import Party, Role
from deconfliction.errors import AlreadyExists, Forbidden, InvalidInput, NotAuthenticated
from deconfliction.service.api_keys import add_first_key
from deconfliction.service.exercise import real_now
from deconfliction.service.runtime import Runtime
from deconfliction.service.units import party_of_unit_key
from deconfliction.store.ports import Transaction

NAME_PATTERN = re.compile(r"^[\w][\w .,'()&/-]{0,79}$", re.UNICODE)


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def party_of_key(tx: Transaction, api_key: str, now: datetime) -> Party | None:
    """The party (or unit principal) an active API key belongs to, within a transaction: a party's key
    that expired or was revoked belongs to nobody."""
    digest = hash_key(api_key)
    key = tx.api_keys.by_hash(digest)
    if key is not None:
        return tx.parties.get(key.party_id) if key.active(now) else None
    return party_of_unit_key(tx, digest)


def authenticate(rt: Runtime, api_key: str | None) -> Party:
    if not api_key:
        raise NotAuthenticated("send your API key as 'Authorization: Bearer <key>'")
    with rt.store.read() as tx:
        party = party_of_key(tx, api_key, real_now(rt))
    if party is None:
        raise NotAuthenticated("this API key is not valid")
    return party


def create_party(rt: Runtime, actor: Party | None, name: str, role: Role) -> tuple[Party, str]:
    """A new party and its API key (returned once, never stored). ``actor`` None is the operator at
    the console (CLI), which may create the first coordinator."""
    if actor is not None and not actor.sees_all:
        raise Forbidden("only a coordinator creates parties")
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise InvalidInput.one(
            "name", "invalid_name", "a name is 1 to 80 letters, digits, spaces or . , ' ( ) & / - characters"
        )
    key = rt.ids.new_api_key()
    with rt.store.write() as tx:
        if tx.parties.by_name(name) is not None:
            raise AlreadyExists(f"a party named {name!r} already exists", name=name)
        party = Party(rt.ids.new_id("pt"), name, role, rt.clock())
        tx.parties.add(party, hash_key(key))
        add_first_key(tx, party, hash_key(key))
        tx.events.append(
            at=party.created_at,
            actor_id=actor.id if actor else None,
            type="party.created",
            subject_id=party.id,
            payload={"name": name, "role": role.value},
            audience=[EVERYONE],  # every party sees who takes part
        )
    return party, key


def list_parties(rt: Runtime, actor: Party, *, after: str | None = None, limit: int = 100) -> list[Party]:
    """Every party's name and role is public within the cell: parties must know whom to call."""
    with rt.store.read() as tx:
        return tx.parties.list(after=after, limit=limit)
