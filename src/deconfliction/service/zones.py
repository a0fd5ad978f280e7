"""Use cases on zones of responsibility: propose, answer, revise, withdraw, read.

Need-to-know (docs/zones-and-sites.md, "Who sees a zone"): a version that was ever agreed (agreed,
superseded, or withdrawn after agreement) is visible to every party, as design.md says of agreed zones;
a version that never was (proposed, rejected, withdrawn before agreement) only to its owner, its
counter-parties and the coordinator (``views.may_see_zone``). Anything else reads as missing.

Every write runs in one serialised transaction: decide (``domain.zone``), store, log one ``zone.*``
entry (audience: everyone once agreed, otherwise the owner and counter-parties), and, when what counts
in detection changed (a version agreed, superseding another, or withdrawn), reconcile the zone's
``zone_entry`` records with every live operation that may enter it (``areas.reconcile_target``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deconfliction import wire
from deconfliction.domain.conflict import Conflict
from deconfliction.domain.footprint import Footprint, footprint_to_geojson
from deconfliction.domain.ledger import EVERYONE
from deconfliction.domain.party import Party
from deconfliction.domain.sanity import require_not_past
from deconfliction.domain.signing import SignedRequest
from deconfliction.domain.volume import TimeWindow, format_time
from deconfliction.domain.zone import (
    Zone,
    ZoneAnswer,
    ZoneState,
    answer_zone,
    propose_zone,
    revise_zone,
    withdraw_zone,
)
from deconfliction.errors import FieldError, Forbidden, InvalidInput, NotFound, PreconditionFailed
from deconfliction.service import areas
from deconfliction.service.conflicts import party_names
from deconfliction.service.operations import Idempotency, require_declaring, write_change
from deconfliction.service.runtime import Runtime
from deconfliction.service.views import may_see_zone, zone_was_agreed
from deconfliction.store.ports import StoredResponse, Transaction


@dataclass(frozen=True)
class ZoneDraft:
    name: str
    counterparties: Sequence[str]
    """Party ids."""
    footprint: Footprint
    validity: TimeWindow


@dataclass(frozen=True)
class ZoneResult:
    zone: Zone
    """The version the write made or changed (for an answer: the answered one)."""
    versions: list[Zone]
    """Every version of the zone after the write, oldest first."""
    changed: list[Conflict]
    names: dict[str, str]
    receipt: tuple[int, str]


def zone_view(z: Zone) -> wire.ZoneVersion:
    """One version of a zone, as whoever may see it sees it."""
    return wire.ZoneVersion(
        id=z.id,
        version=z.version,
        owner=z.owner_id,
        counterparties=list(z.counterparties),
        name=z.name,
        footprint=footprint_to_geojson(z.footprint),
        validity=wire.WindowOut(start=format_time(z.validity.start), end=format_time(z.validity.end)),
        state=z.state.value,
        answers=[{"party": p, "answer": a.value} for p, a in z.answers],
        pending=list(z.pending),
        revision=z.revision,
        created_at=format_time(z.created_at),
        updated_at=format_time(z.updated_at),
    )


def zone_record(z: Zone) -> dict[str, Any]:
    """The version as its ledger entries (and the files) record it: ``zone_view``'s members."""
    return wire.to_record(zone_view(z))


def _audience(z: Zone) -> list[str]:
    return [EVERYONE] if zone_was_agreed(z) else [z.owner_id, *z.counterparties]


def _check_parties(tx: Transaction, ids: Sequence[str], field: str = "counterparties") -> None:
    errors = [
        FieldError(f"{field}[{i}]", "unknown_party", f"no party {p}")
        for i, p in enumerate(ids)
        if isinstance(p, str) and p and tx.parties.get(p) is None
    ]
    if errors:
        raise InvalidInput(errors)


def _visible_versions(tx: Transaction, viewer: Party | None, zone_id: str) -> list[Zone]:
    found = [z for z in tx.zones.versions(zone_id) if may_see_zone(viewer, z)]
    if not found:
        raise NotFound(f"no zone {zone_id}", id=zone_id)
    return found


def _log(tx: Transaction, rt: Runtime, actor: Party, z: Zone, event: str, signed: Mapping[str, Any] | None) -> None:
    tx.events.append(
        at=z.updated_at,
        actor_id=actor.id,
        type=event,
        subject_id=z.id,
        payload=zone_record(z),
        audience=_audience(z),
        signed=signed,
    )


def _result(tx: Transaction, z: Zone, changed: list[Conflict]) -> ZoneResult:
    return ZoneResult(z, tx.zones.versions(z.id), changed, party_names(tx, changed), tx.events.head())


def propose(
    rt: Runtime,
    actor: Party,
    draft: ZoneDraft,
    *,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> ZoneResult | StoredResponse:
    """Version 1 of a new zone owned by ``actor``, proposed to ``draft.counterparties``. A validity that
    has wholly passed is refused (``window_in_past``)."""
    require_declaring(actor, "propose or answer zones")
    if draft.validity.end > draft.validity.start:  # an empty validity is refused as such by the domain
        require_not_past([("validity.end", draft.validity)], rt.clock(), historical=False)

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> ZoneResult:
        z = add_proposal(tx, rt, actor, draft, signed)
        return _result(tx, z, [])

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def add_proposal(
    tx: Transaction, rt: Runtime, actor: Party, draft: ZoneDraft, signed: Mapping[str, Any] | None
) -> Zone:
    """Inside a write: store and log a new zone's version 1 owned by ``actor``."""
    z = propose_zone(
        zone_id=rt.ids.new_id("zn"),
        owner_id=actor.id,
        counterparties=draft.counterparties,
        footprint=draft.footprint,
        validity=draft.validity,
        now=rt.clock(),
        name=draft.name,
    )
    store_proposal(tx, rt, actor, z, signed)
    return z


def store_proposal(tx: Transaction, rt: Runtime, actor: Party, z: Zone, signed: Mapping[str, Any] | None) -> None:
    """Inside a write: check the counter-parties exist, store the proposed version with a new token, log it."""
    _check_parties(tx, z.counterparties)
    tx.zones.add(z, rt.ids.new_token())
    _log(tx, rt, actor, z, "zone.proposed", signed)


def _agreed(versions: Sequence[Zone]) -> Zone | None:
    return next((v for v in versions if v.state is ZoneState.AGREED), None)


def answer(
    rt: Runtime,
    actor: Party,
    zone_id: str,
    reply: ZoneAnswer,
    *,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> ZoneResult | StoredResponse:
    """A counter-party accepts or rejects the zone's pending version. When the last one accepts, it is
    agreed (superseding the version in force) and every live operation of another party in it gets a
    ``zone_entry`` conflict."""
    require_declaring(actor, "propose or answer zones")

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> ZoneResult:
        versions = _visible_versions(tx, actor, zone_id)
        latest = versions[-1]
        change = answer_zone(
            latest, party_id=actor.id, answer=reply, now=rt.clock(), current_agreed=_agreed(versions[:-1])
        )
        for z in change.changed:
            tx.zones.replace(z)
        z = change.zone
        event = {ZoneState.AGREED: "zone.agreed", ZoneState.REJECTED: "zone.rejected"}.get(z.state, "zone.answered")
        _log(tx, rt, actor, z, event, signed)
        changed: list[Conflict] = []
        if z.state is ZoneState.AGREED:
            if change.superseded is not None:
                _log(tx, rt, actor, change.superseded, "zone.superseded", None)
            boxes = [*z.shape.boxes, *(change.superseded.shape.boxes if change.superseded else ())]
            changed = areas.reconcile_target(tx, rt, actor.id, z.id, areas.grow_boxes(boxes, 0.0), z.updated_at)
        return _result(tx, z, changed)

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def _owned_latest(tx: Transaction, actor: Party, zone_id: str, expected_version: int | None) -> list[Zone]:
    versions = _visible_versions(tx, actor, zone_id)
    latest = versions[-1]
    if latest.owner_id != actor.id:
        raise Forbidden(f"zone {zone_id} belongs to another party; only its owner changes it")
    if expected_version is not None and latest.version != expected_version:
        raise PreconditionFailed(
            f"zone {zone_id} is at version {latest.version}, not {expected_version}; read it again",
            current_version=latest.version,
        )
    return versions


def revise(
    rt: Runtime,
    actor: Party,
    zone_id: str,
    *,
    expected_version: int | None,
    footprint: Footprint | None = None,
    validity: TimeWindow | None = None,
    counterparties: Sequence[str] | None = None,
    name: str | None = None,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> ZoneResult | StoredResponse:
    """The owner proposes a new version (what is not given is carried over); the agreed version stays in
    force until the new one is agreed."""
    require_declaring(actor, "propose or answer zones")
    if validity is not None and validity.end > validity.start:
        require_not_past([("validity.end", validity)], rt.clock(), historical=False)

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> ZoneResult:
        latest = _owned_latest(tx, actor, zone_id, expected_version)[-1]
        z = revise_zone(
            latest,
            party_id=actor.id,
            now=rt.clock(),
            footprint=footprint,
            validity=validity,
            counterparties=counterparties,
            name=name,
        )
        _check_parties(tx, z.counterparties)
        tx.zones.add(z, rt.ids.new_token())
        _log(tx, rt, actor, z, "zone.proposed", signed)
        return _result(tx, z, [])

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def withdraw(
    rt: Runtime,
    actor: Party,
    zone_id: str,
    *,
    expected_version: int | None,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> ZoneResult | StoredResponse:
    """The owner withdraws the zone: its agreed version and any pending proposal. It stops counting at
    once: its open ``zone_entry`` conflicts resolve."""
    require_declaring(actor, "propose or answer zones")

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> ZoneResult:
        versions = _owned_latest(tx, actor, zone_id, expected_version)
        now = rt.clock()
        live = [v for v in versions if v.state in (ZoneState.PROPOSED, ZoneState.AGREED)]
        if not live:  # let the domain refuse it, naming the state
            withdraw_zone(versions[-1], party_id=actor.id, now=now)
        done = [withdraw_zone(v, party_id=actor.id, now=now) for v in live]
        for z in done:
            tx.zones.replace(z)
            _log(tx, rt, actor, z, "zone.withdrawn", signed if z is done[-1] else None)
        changed: list[Conflict] = []
        if any(v.state is ZoneState.AGREED for v in live):
            boxes = [b for v in live for b in v.shape.boxes]
            changed = areas.reconcile_target(tx, rt, actor.id, zone_id, areas.grow_boxes(boxes, 0.0), now)
        return _result(tx, done[-1], changed)

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def get_zone(rt: Runtime, viewer: Party | None, zone_id: str) -> list[Zone]:
    """The versions of a zone the viewer may see, oldest first (NotFound when none)."""
    with rt.store.read() as tx:
        return _visible_versions(tx, viewer, zone_id)


def list_zones(
    rt: Runtime,
    viewer: Party | None,
    *,
    state: ZoneState | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[Zone]:
    """The versions the viewer may see, by zone id then version; at most ``limit`` zones (zones are few:
    the visibility filter runs here)."""
    out: list[Zone] = []
    with rt.store.read() as tx:
        while True:
            page = tx.zones.list(after=after, limit=limit)
            out += [z for z in page if may_see_zone(viewer, z) and (state is None or z.state is state)]
            zone_ids = {z.id for z in page}
            if len({z.id for z in out}) >= limit or len(zone_ids) < limit:
                break
            after = max(zone_ids)
    kept: list[Zone] = []
    seen: list[str] = []
    for z in out:
        if z.id not in seen:
            if len(seen) == limit:
                break
            seen.append(z.id)
        kept.append(z)
    return kept
