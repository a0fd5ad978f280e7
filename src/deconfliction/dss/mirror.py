"""One model underneath the DSS interface (docs/dss.md, "One model").

Each USS (a token's subject) is a party of role ``uss``, created on its first write; each operational
intent it declares is also an ordinary operation of that party, kept in step in the same transaction, so
the service's exact detection finds the sites, zones and other parties' operations it enters and tells
their owners (need-to-know, ledger, notifications as for any operation). The mirror is a *draft*
operation: drafts are detected and told, and never held by the service's proof-of-knowledge or
acknowledgement gates, so no F3548 answer depends on it. An intent the service's own limits refuse
(altitude, window, size) is served by the DSS but not mirrored.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from deconfliction.domain.footprint import parse_footprint
from deconfliction.domain.ledger import EVERYONE
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import SiteCategory, SiteState, withdraw_site
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.dss.extents import Extent, parts
from deconfliction.dss.records import INTENT, Reference
from deconfliction.errors import InvalidInput
from deconfliction.service import areas
from deconfliction.service.operations import Prefound, apply_change, prefind_in
from deconfliction.service.parties import hash_key
from deconfliction.service.runtime import Runtime
from deconfliction.service.sites import SiteDraft, add_site, reach_boxes, site_record
from deconfliction.store.ports import Transaction

log = logging.getLogger(__name__)

_NOT_A_NAME = re.compile(r"[^A-Za-z0-9 .,'()&/-]+")


def _uss_party(tx: Transaction, subject: str) -> tuple[str, Party | None]:
    """The name of the party of the USS ``subject``, and that party if it exists."""
    name = f"USS {_NOT_A_NAME.sub('-', subject)}"[:70]
    party = tx.parties.by_name(name)
    if party is not None and party.role is not Role.USS:
        name = f"{name} (F3548)"
        party = tx.parties.by_name(name)
    return name, party


def uss_party(tx: Transaction, rt: Runtime, subject: str) -> Party:
    """The party of the USS ``subject``, created (role ``uss``, no API key) on first use; a name already
    taken by a party of another role gets the suffix " (F3548)"."""
    name, party = _uss_party(tx, subject)
    if party is not None:
        return party
    party = Party(rt.ids.new_id("pt"), name, Role.USS, rt.clock())
    tx.parties.add(party, hash_key(rt.ids.new_api_key()))  # a key nobody holds: the USS signs in with JWTs
    tx.events.append(
        at=party.created_at,
        actor_id=None,
        type="party.created",
        subject_id=party.id,
        payload={"name": name, "role": Role.USS.value, "dss_subject": subject},
        audience=[EVERYONE],
    )
    return party


def _volumes(rt: Runtime, ref_id: str, e: Extent) -> tuple[Volume4D, ...] | None:
    if e.footprint is None or e.start is None or e.end is None or e.alt_lo is None or e.alt_hi is None:
        return None
    try:
        band = AltitudeBand.of(e.alt_lo, e.alt_hi, rt.limits)
        window = TimeWindow.of(e.start, e.end, rt.limits)
        out = []
        for part in parts(e.footprint):
            ring = [[float(x), float(y)] for x, y in part.exterior.coords]  # type: ignore[attr-defined]
            footprint = parse_footprint({"type": "Polygon", "coordinates": [ring]}, rt.limits)
            out.append(Volume4D.create(footprint, band, window))
        return tuple(out)
    except InvalidInput as exc:
        log.info("intent %s is not mirrored: %s", ref_id, exc)
        return None


@dataclass(frozen=True)
class MirrorPlan:
    """What the mirror of an intent's write can be given before the serialised write: its volumes, the id
    of the operation it will create (when none is live) and its conflicts in a read snapshot, which the
    write brings up to date (``refind``) when its subject is still the one found for."""

    volumes: tuple[Volume4D, ...] | None
    new_id: str
    prefound: Prefound | None
    party: Party | None = None
    """The USS's party, when the snapshot held it (a party is never removed: the write can take it as is)."""


def plan_mirror(rt: Runtime, subject: str, intent_id: str, extent: Extent) -> MirrorPlan:
    """Outside the serialised write: the mirror's volumes and its conflicts against a snapshot."""
    volumes = _volumes(rt, intent_id, extent)
    new_id = rt.ids.new_id("op")
    if volumes is None:
        return MirrorPlan(None, new_id, None)
    with rt.store.read() as snapshot:
        seq = snapshot.events.head()[0]
        _, party = _uss_party(snapshot, subject)
        if party is None:  # its first write creates the party: found in the write
            return MirrorPlan(volumes, new_id, None)
        ref = snapshot.dss.reference(INTENT, intent_id)
        old = snapshot.operations.get(ref.mirror_id) if ref is not None and ref.mirror_id else None
        op_id = old.id if old is not None and old.is_live else new_id
        now = rt.clock()
        subject_op = Operation(
            op_id, party.id, OperationKind.AIR, 0, OperationState.DRAFT, 1, "", volumes, "", now, now
        )
        return MirrorPlan(volumes, new_id, prefind_in(snapshot, rt.policy, seq, subject_op), party)


def mirror_intent(
    tx: Transaction,
    rt: Runtime,
    ref: Reference,
    previous: str | None,
    plan: MirrorPlan | None = None,
    party: Party | None = None,
) -> str | None:
    """Create or revise the operation that mirrors ``ref``; its id (None when not mirrored). ``plan``:
    made by ``plan_mirror`` for this very intent and extent before the write; ``party``: the party of
    ``ref``'s manager, when the caller holds it."""
    volumes = plan.volumes if plan is not None else _volumes(rt, ref.id, ref.extent)
    if volumes is None:
        if previous is not None:
            cancel_mirror(tx, rt, ref.manager, previous)
        return None
    party = party or uss_party(tx, rt, ref.manager)
    now = rt.clock()
    title = f"F3548 operational intent {ref.id} ({ref.state})"
    old = tx.operations.get(previous) if previous is not None else None
    if old is not None and old.is_live:
        new = old.revise(
            volumes=volumes, kind=OperationKind.AIR, priority=0, title=title, now=now, ovn=rt.ids.new_token()
        )
        created = False
    else:
        new = Operation(
            plan.new_id if plan is not None else rt.ids.new_id("op"),
            party.id,
            OperationKind.AIR,
            0,
            OperationState.DRAFT,
            1,
            rt.ids.new_token(),
            volumes,
            title,
            now,
            now,
        )
        created = True
    prefound = plan.prefound if plan is not None else None
    apply_change(tx, rt, party, new, detect_again=True, known=(), created=created, signed=None, prefound=prefound)
    return new.id


def cancel_mirror(tx: Transaction, rt: Runtime, subject: str, mirror_id: str) -> None:
    op = tx.operations.get(mirror_id)
    if op is None or not op.is_live:
        return
    party = uss_party(tx, rt, subject)
    new = op.transition(OperationState.CANCELLED, now=rt.clock(), ovn=rt.ids.new_token())
    apply_change(tx, rt, party, new, detect_again=False, known=(), created=False, signed=None)


def mirror_constraint(tx: Transaction, rt: Runtime, ref: Reference, previous: str | None) -> str | None:
    """Create (or replace) the protected site, of category ``other``, that mirrors the constraint ``ref``
    until its end; its id (None when the service's limits refuse the shape). Sites are static places: the
    constraint's start is not kept, it protects from its declaration on."""
    if previous is not None:
        withdraw_mirror_site(tx, rt, ref.manager, previous)
    e = ref.extent
    if e.footprint is None or e.end is None:
        return None
    rings = [[[[float(x), float(y)] for x, y in p.exterior.coords]] for p in parts(e.footprint)]  # type: ignore[attr-defined]
    geojson = (
        {"type": "Polygon", "coordinates": rings[0]}
        if len(rings) == 1
        else {"type": "MultiPolygon", "coordinates": rings}
    )
    party = uss_party(tx, rt, ref.manager)
    try:
        footprint = parse_footprint(geojson, rt.limits)
        draft = SiteDraft(f"F3548 constraint {ref.id}", SiteCategory.OTHER, footprint, 0.0, 0.0, e.end)  # type: ignore[arg-type]
        return add_site(tx, rt, party, draft, None).site.id
    except InvalidInput as exc:
        log.info("constraint %s is not mirrored: %s", ref.id, exc)
        return None


def withdraw_mirror_site(tx: Transaction, rt: Runtime, subject: str, site_id: str) -> None:
    site = tx.sites.get(site_id)
    if site is None or site.state is not SiteState.ACTIVE:
        return
    party = uss_party(tx, rt, subject)
    now = rt.clock()
    site = withdraw_site(site, party_id=party.id, now=now)
    tx.sites.replace(site)
    tx.events.append(
        at=now,
        actor_id=party.id,
        type="site.withdrawn",
        subject_id=site.id,
        payload=site_record(site, now),
        audience=[EVERYONE],
    )
    areas.reconcile_target(tx, rt, party.id, site.id, reach_boxes(site), now)


def record(
    tx: Transaction,
    rt: Runtime,
    subject: str,
    kind: str,
    entity_id: str,
    payload: dict[str, Any],
    party: Party | None = None,
) -> None:
    """A ledger entry for a DSS write (``dss.<kind>``), seen by the USS that made it (and the coordinator);
    ``party``: the USS's party, when the caller holds it."""
    party = party or uss_party(tx, rt, subject)
    tx.events.append(
        at=rt.clock(),
        actor_id=party.id,
        type=f"dss.{kind}",
        subject_id=entity_id,
        payload=payload,
        audience=[party.id],
    )
