"""Use cases of units: a party's squadrons, convoy teams, field offices, with their own ladders and keys.

* A party (or the coordinator, or the operator at the console) creates units; a unit's name is unique
  within its party. Every change is a ledger entry whose audience is the party.
* A key scoped to a unit authenticates as its party with ``Party.unit_id`` set: it declares for that
  unit, and reads that unit's items and its party's items of no unit, never a sibling unit's
  (``views.may_see_unit_item``). A party's own key reads all of its units.
* A conflict about something a unit declared is told to the party with the notification's ``unit`` set
  (the unit and the party's watch desk both read it; either may acknowledge) and escalates down the
  unit's ladder, then the party's, then to the coordinator (``ladder_for``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from deconfliction import wire
from deconfliction.domain.conflict import Conflict
from deconfliction.domain.notification import Contact, Notification, parse_contacts
from deconfliction.domain.party import DECLARING_ROLES, Party, Role
from deconfliction.domain.unit import Unit, escalation_ladder, parse_area, parse_unit_name
from deconfliction.domain.volume import format_time
from deconfliction.errors import AlreadyExists, Forbidden, InvalidInput, NotFound
from deconfliction.service.runtime import Runtime
from deconfliction.service.views import conflict_side, may_see_unit
from deconfliction.store.ports import Transaction, UnitKey

NO_CONTACT = Contact("(no contact registered)")


def _hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------- who may do it


def _reads_all(viewer: Party) -> bool:
    return viewer.sees_all or viewer.role is Role.AUDITOR


def _visible(tx: Transaction, viewer: Party | None, unit_id: str) -> Unit:
    unit = tx.units.get(unit_id)
    if unit is None or not may_see_unit(viewer, unit):
        raise NotFound(f"no unit {unit_id}", id=unit_id)
    return unit


def _managed(tx: Transaction, actor: Party | None, unit_id: str, *, own_key_may: bool = False) -> Unit:
    """A unit the actor may change: its party's key, the coordinator, the console (``own_key_may``: the
    unit's own key too)."""
    unit = _visible(tx, actor, unit_id)
    if actor is None or actor.sees_all:
        return unit
    if actor.role not in DECLARING_ROLES or unit.party_id != actor.id:
        raise Forbidden(f"only unit {unit_id}'s party or the coordinator changes it")
    if actor.unit_id is not None and not (own_key_may and actor.unit_id == unit.id):
        raise Forbidden("a unit's key cannot do this; use the party's key")
    return unit


def _party_of(tx: Transaction, actor: Party | None, party_id: str | None) -> Party:
    """The party a new unit belongs to: the caller's own, or (coordinator, console) the one named."""
    if actor is not None and actor.unit_id is not None:
        raise Forbidden("a unit's key cannot create units; use the party's key")
    if actor is not None and actor.role not in DECLARING_ROLES:
        raise Forbidden(f"a party with role {actor.role} has no units")
    wanted = party_id or (actor.id if actor is not None else None)
    if wanted is None:
        raise InvalidInput.one("party", "missing", "name the party the unit belongs to")
    if actor is not None and wanted != actor.id and not actor.sees_all:
        raise Forbidden("a party creates units for itself; only the coordinator creates them for another")
    party = tx.parties.get(wanted) or tx.parties.by_name(wanted)
    if party is None or party.role not in DECLARING_ROLES:
        raise InvalidInput.one("party", "unknown_party", f"no declaring party {wanted!r}")
    return party


# ---------------------------------------------------------------------------------------------- use cases


def create_unit(
    rt: Runtime,
    actor: Party | None,
    name: Any,
    *,
    party: str | None = None,
    contacts: Any = None,
    area: Any = None,
) -> tuple[Unit, tuple[int, str]]:
    """A new unit of the caller's party (the coordinator or the console: of ``party``, an id or a name).
    ``contacts`` (optional): its ladder, as PUT /v1/contacts; ``area`` (optional): a Polygon or
    MultiPolygon."""
    clean = parse_unit_name(name)
    ladder = () if contacts is None else parse_contacts(contacts)
    footprint = parse_area(area, rt.limits)
    with rt.store.write() as tx:
        owner = _party_of(tx, actor, party)
        if tx.units.by_name(owner.id, clean) is not None:
            raise AlreadyExists(f"{owner.name} already has a unit named {clean!r}", name=clean)
        now = rt.clock()
        unit = Unit(rt.ids.new_id("un"), owner.id, clean, ladder, footprint, 1, now, now)
        tx.units.add(unit)
        tx.events.append(
            at=now,
            actor_id=actor.id if actor else None,
            type="unit.created",
            subject_id=unit.id,
            payload={**unit.record(), "unit": unit.id},
            audience=[owner.id],
        )
        return unit, tx.events.head()


def list_units(
    rt: Runtime, viewer: Party | None, *, party: str | None = None, after: str | None = None, limit: int = 100
) -> list[Unit]:
    """A party's units (its unit's key: that unit alone); the coordinator, auditors and the console: every
    party's, or those of ``party`` (an id or a name)."""
    with rt.store.read() as tx:
        if viewer is None or _reads_all(viewer):
            owner = None
            if party is not None:
                found = tx.parties.get(party) or tx.parties.by_name(party)
                if found is None:
                    raise InvalidInput.one("party", "unknown_party", f"no party {party!r}")
                owner = found.id
            return tx.units.list(party_id=owner, after=after, limit=limit)
        units = tx.units.list(party_id=viewer.id, after=after, limit=limit)
    return [u for u in units if may_see_unit(viewer, u)]


def get_unit(rt: Runtime, viewer: Party | None, unit_id: str) -> Unit:
    with rt.store.read() as tx:
        return _visible(tx, viewer, unit_id)


def set_unit_contacts(rt: Runtime, actor: Party | None, unit_id: str, raw: Any) -> tuple[Unit, tuple[int, str]]:
    """Replace a unit's on-call ladder (primary first): its party's key, its own key or the coordinator."""
    ladder = parse_contacts(raw)
    with rt.store.write() as tx:
        unit = _managed(tx, actor, unit_id, own_key_may=True)
        now = rt.clock()
        new = unit.with_contacts(ladder, now)
        tx.units.save(new)
        tx.events.append(
            at=now,
            actor_id=actor.id if actor else None,
            type="unit.contacts_changed",
            subject_id=unit.id,
            payload={"unit": unit.id, "version": new.version, "contacts": [c.record() for c in ladder]},
            audience=[unit.party_id],
        )
        return new, tx.events.head()


def issue_unit_key(rt: Runtime, actor: Party | None, unit_id: str) -> tuple[UnitKey, str, tuple[int, str]]:
    """A new API key scoped to the unit (shown once; only its SHA-256 is kept): its party's key, the
    coordinator or the console issues it."""
    api_key = rt.ids.new_api_key()
    with rt.store.write() as tx:
        unit = _managed(tx, actor, unit_id)
        key = UnitKey(rt.ids.new_id("uk"), unit.id, rt.clock())
        tx.units.add_key(key, _hash(api_key))
        tx.events.append(
            at=key.created_at,
            actor_id=actor.id if actor else None,
            type="unit.key_issued",
            subject_id=unit.id,
            payload={"unit": unit.id, "key": key.id},
            audience=[unit.party_id],
        )
        return key, api_key, tx.events.head()


def list_unit_keys(rt: Runtime, actor: Party | None, unit_id: str) -> list[UnitKey]:
    with rt.store.read() as tx:
        _managed(tx, actor, unit_id, own_key_may=True)
        return tx.units.keys(unit_id)


def revoke_unit_key(rt: Runtime, actor: Party | None, unit_id: str, key_id: str) -> tuple[UnitKey, tuple[int, str]]:
    """The key stops working (within the key cache's lifetime in other processes; at once in this one)."""
    with rt.store.write() as tx:
        unit = _managed(tx, actor, unit_id)
        key = next((k for k in tx.units.keys(unit.id) if k.id == key_id), None)
        if key is None:
            raise NotFound(f"no key {key_id} of unit {unit_id}", id=key_id)
        if key.revoked_at is None:
            tx.units.revoke_key(key_id, rt.clock())
            tx.events.append(
                at=rt.clock(),
                actor_id=actor.id if actor else None,
                type="unit.key_revoked",
                subject_id=unit.id,
                payload={"unit": unit.id, "key": key_id},
                audience=[unit.party_id],
            )
        done = next(k for k in tx.units.keys(unit.id) if k.id == key_id)
        receipt = tx.events.head()
    rt.keys.clear()
    return done, receipt


def unit_key_view(key: UnitKey) -> wire.UnitKey:
    return wire.UnitKey(
        id=key.id,
        unit=key.unit_id,
        created_at=format_time(key.created_at),
        revoked_at=None if key.revoked_at is None else format_time(key.revoked_at),
        active=key.revoked_at is None,
    )


def unit_view(unit: Unit) -> wire.Unit:
    """A unit as its party (and the coordinator) reads it: its record, checked against the model."""
    return wire.Unit.model_validate(unit.record())


# ------------------------------------------------------------------------- used by the other use cases


def party_of_unit_key(tx: Transaction, key_hash: str) -> Party | None:
    """The party a unit's key acts for, with ``unit_id`` set; None when it is no active unit key."""
    unit = tx.units.by_key_hash(key_hash)
    if unit is None:
        return None
    party = tx.parties.get(unit.party_id)
    return None if party is None else replace(party, unit_id=unit.id)


def resolve_unit(tx: Transaction, actor: Party, given: str | None, field: str = "unit") -> str | None:
    """The unit a declaration is made for: ``given`` must be a unit of the caller's own party (else 422
    naming ``field``); a unit's key declares for its own unit (another one is refused, 422), and
    without ``given`` for its own unit."""
    if given is None:
        return actor.unit_id
    unit = tx.units.get(given)
    if unit is None or unit.party_id != actor.id:
        raise InvalidInput.one(field, "unknown_unit", f"{given!r} is not a unit of your party")
    if actor.unit_id is not None and actor.unit_id != unit.id:
        raise InvalidInput.one(
            field, "not_your_unit", f"this key belongs to unit {actor.unit_id}; it declares for it only"
        )
    return unit.id


def unit_of_side(tx: Transaction, c: Conflict, party_id: str) -> str | None:
    """The unit of ``party_id``'s own object in the conflict: its operation's, or (the owner's side of a
    ``protected_site`` conflict) its site's; zones and bands belong to the party as a whole."""
    side = c.side_of(party_id)
    if side is None:
        return None
    own = c.own_operation(party_id)
    if side == "b" and c.kind != "operation":
        if c.kind == "protected_site":
            site = tx.sites.get(own)
            return None if site is None else site.unit_id
        return None
    return tx.operations.unit_of(own)


def told_view(tx: Transaction, c: Conflict, party_id: str, names: Mapping[str, str]) -> wire.Conflict:
    """What one side of a conflict is told (its ledger entry keeps ``wire.to_record`` of it), with
    ``unit`` when its own object was declared by one of its units: the record says which unit was told,
    and when (the entry's time)."""
    view = conflict_side(c, party_id, names)
    unit = unit_of_side(tx, c, party_id)
    if unit is not None:
        view.unit = unit
    return view


def ladder_for(tx: Transaction, n: Notification) -> tuple[Contact, ...]:
    """Whom a notification's escalation asks, in order: the unit's ladder (when it concerns a unit), then
    the party's own ladder (its watch desk); past the last of them, the coordinator."""
    unit = tx.units.get(n.unit_id) if n.unit_id is not None else None
    return escalation_ladder(unit, tx.contacts.get(n.party_id)) or (NO_CONTACT,)
