"""Use cases on protected sites: declare, list, read, revalidate, withdraw.

Need-to-know: every site, active or withdrawn, is visible to every party of the cell (docs/zones-and-
sites.md, "Who sees a site"; ``views.may_see_site``): protection only works when the parties that must
keep away know where the hospital is. What stays private is the operations that come near it: the
conflict tells the site's owner the operator's name and the overlap, never the plan.

Every write runs in one serialised transaction: decide (domain), store, log (``site.*`` entries readable
by everyone), and reconcile the site's conflict records with every live operation that may reach it
(``areas.reconcile_target``: one ledger entry per side per changed record, notified).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from deconfliction import wire
from deconfliction.domain.conflict import Conflict
from deconfliction.domain.footprint import footprint_to_geojson, shape_from_core
from deconfliction.domain.ledger import EVERYONE
from deconfliction.domain.party import Party
from deconfliction.domain.sanity import DeclarationWarning
from deconfliction.domain.signing import SignedRequest
from deconfliction.domain.site import (
    Duplicate,
    ProtectedSite,
    SiteCategory,
    SiteFootprint,
    SitePoint,
    likely_duplicates,
    new_site,
    revalidate_site,
    withdraw_site,
)
from deconfliction.domain.volume import format_time
from deconfliction.errors import Forbidden, NotFound, PreconditionFailed
from deconfliction.service import areas
from deconfliction.service.conflicts import party_names
from deconfliction.service.operations import Idempotency, require_declaring, write_change
from deconfliction.service.runtime import Runtime
from deconfliction.service.sanity import site_warnings
from deconfliction.service.units import resolve_unit
from deconfliction.service.views import unit_field
from deconfliction.store.ports import StoredResponse, Transaction


@dataclass(frozen=True)
class SiteDraft:
    """What a party declares; the footprint comes from ``parse_site_footprint`` or a parsed position."""

    name: str
    category: SiteCategory
    footprint: SiteFootprint
    radius_m: float
    accuracy_m: float
    valid_until: datetime
    unit_id: str | None = None
    """One of the owner's units declaring it (a unit's key: its own unit)."""


@dataclass(frozen=True)
class SiteResult:
    site: ProtectedSite
    duplicates: list[Duplicate]
    """For a new site: the owner's active sites within 25 m of it (likely duplicates; it is stored anyway)."""
    changed: list[Conflict]
    """The conflict records this write opened, updated or resolved."""
    names: dict[str, str]
    """Names of the parties in ``changed``, for rendering."""
    receipt: tuple[int, str]
    warnings: list[DeclarationWarning] = field(default_factory=list)
    """Likely mistakes that are not errors (``domain.sanity``): a new site's swapped coordinates."""


def site_model(site: ProtectedSite, now: datetime) -> wire.Site:
    """The site as every party sees it."""
    footprint = (
        {"type": "Point", "coordinates": list(site.footprint.position)}
        if isinstance(site.footprint, SitePoint)
        else footprint_to_geojson(site.footprint)
    )
    return wire.Site(
        id=site.id,
        owner=site.owner_id,
        name=site.name,
        category=site.category.value,
        footprint=footprint,
        radius_m=site.radius_m,
        accuracy_m=site.accuracy_m,
        valid_until=format_time(site.valid_until),
        state=site.state.value,
        needs_revalidation=site.needs_revalidation(now),
        version=site.version,
        created_at=format_time(site.created_at),
        updated_at=format_time(site.updated_at),
    )


def site_record(site: ProtectedSite, now: datetime) -> dict[str, Any]:
    """The site as its ledger entries (and the files) record it: ``site_model``'s members."""
    return wire.to_record(site_model(site, now))


def site_view(viewer: Party | None, site: ProtectedSite, now: datetime) -> wire.Site:
    """The site as ``viewer`` sees it: what every party sees, and for its owner, the unit that declared it."""
    view = site_model(site, now)
    if unit := unit_field(viewer, site.owner_id, site.unit_id):
        view.unit = unit["unit"]
    return view


def duplicate_view(d: Duplicate) -> dict[str, Any]:
    return {"site": d.site.id, "name": d.site.name, "distance_m": round(d.distance_m, 1)}


def reach_boxes(site: ProtectedSite) -> list[tuple[float, float, float, float]]:
    """Boxes every operation that may conflict with ``site`` meets: the site grown by its radius, its
    accuracy and the widest policy distance."""
    widest = max(areas.SITE_POLICY.distance_m.values())
    return areas.grow_boxes(shape_from_core(site.shape.core, site.radius_m + site.accuracy_m).boxes, widest)


def add_site(
    tx: Transaction, rt: Runtime, actor: Party, draft: SiteDraft, signed: Mapping[str, Any] | None
) -> SiteResult:
    """Inside a write: a new site of ``actor``, its likely duplicates, its conflicts (shared with the
    CSV import, which adds many in one transaction)."""
    now = rt.clock()
    site = new_site(
        site_id=rt.ids.new_id("st"),
        owner_id=actor.id,
        name=draft.name,
        category=draft.category,
        footprint=draft.footprint,
        radius_m=draft.radius_m,
        accuracy_m=draft.accuracy_m,
        valid_until=draft.valid_until,
        now=now,
        limits=rt.limits,
    )
    site = replace(site, unit_id=resolve_unit(tx, actor, draft.unit_id))
    nearby = [s for s, _ in tx.sites.near(areas.grow_boxes(site.shape.boxes, areas.SITE_POLICY.duplicate_m))]
    duplicates = likely_duplicates(site, nearby, areas.SITE_POLICY)
    tx.sites.add(site, rt.ids.new_token())
    tx.events.append(
        at=now,
        actor_id=actor.id,
        type="site.created",
        subject_id=site.id,
        payload={**site_record(site, now), "likely_duplicates": [duplicate_view(d) for d in duplicates]},
        audience=[EVERYONE],
        signed=signed,
    )
    if site.unit_id is not None:  # which unit declared it is for the owner only
        tx.events.append(
            at=now,
            actor_id=actor.id,
            type="site.unit",
            subject_id=site.id,
            payload={"site": site.id, "unit": site.unit_id},
            audience=[actor.id],
        )
    changed = areas.reconcile_target(tx, rt, actor.id, site.id, reach_boxes(site), now)
    return SiteResult(site, duplicates, changed, party_names(tx, changed), tx.events.head())


def create_site(
    rt: Runtime,
    actor: Party,
    draft: SiteDraft,
    *,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> SiteResult | StoredResponse:
    """Declare a protected site; every live operation of another party within its protection distance
    gets a ``protected_site`` conflict, told to both sides."""
    require_declaring(actor, "declare protected sites")

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> SiteResult:
        result = add_site(tx, rt, actor, draft, signed)
        site = result.site
        reach = site.shape.reach_m + site.radius_m
        return replace(result, warnings=site_warnings(tx, actor.id, site.shape.center, reach, exclude=site.id))

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def load_owned(tx: Transaction, actor: Party, site_id: str, expected_version: int | None) -> ProtectedSite:
    site = tx.sites.get(site_id)
    if site is None:
        raise NotFound(f"no site {site_id}", id=site_id)
    if site.owner_id != actor.id:
        raise Forbidden(f"site {site_id} belongs to another party; only its owner changes it")
    if actor.unit_id is not None and site.unit_id not in (None, actor.unit_id):
        raise Forbidden(f"site {site_id} was declared by another unit of your party; its key or yours changes it")
    if expected_version is not None and site.version != expected_version:
        raise PreconditionFailed(
            f"site {site_id} is at version {site.version}, not {expected_version}; read it again",
            current_version=site.version,
        )
    return site


def _change(
    rt: Runtime,
    actor: Party,
    site_id: str,
    expected_version: int | None,
    idempotency: Idempotency | None,
    signature: SignedRequest | None,
    event: str,
    decide: Any,
) -> SiteResult | StoredResponse:
    require_declaring(actor, "declare protected sites")

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> SiteResult:
        now = rt.clock()
        site = decide(load_owned(tx, actor, site_id, expected_version), now)
        tx.sites.replace(site)
        tx.events.append(
            at=now,
            actor_id=actor.id,
            type=event,
            subject_id=site.id,
            payload=site_record(site, now),
            audience=[EVERYONE],
            signed=signed,
        )
        changed = areas.reconcile_target(tx, rt, actor.id, site.id, reach_boxes(site), now)
        return SiteResult(site, [], changed, party_names(tx, changed), tx.events.head())

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def revalidate(
    rt: Runtime,
    actor: Party,
    site_id: str,
    valid_until: datetime,
    *,
    expected_version: int | None,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> SiteResult | StoredResponse:
    """The owner confirms the site until ``valid_until`` (in the future); it stays protected either way."""
    return _change(
        rt,
        actor,
        site_id,
        expected_version,
        idempotency,
        signature,
        "site.revalidated",
        lambda s, now: revalidate_site(s, party_id=actor.id, valid_until=valid_until, now=now),
    )


def withdraw(
    rt: Runtime,
    actor: Party,
    site_id: str,
    *,
    expected_version: int | None,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> SiteResult | StoredResponse:
    """The owner withdraws the site: it protects nothing from now on, and its open conflicts resolve."""
    return _change(
        rt,
        actor,
        site_id,
        expected_version,
        idempotency,
        signature,
        "site.withdrawn",
        lambda s, now: withdraw_site(s, party_id=actor.id, now=now),
    )


def get_site(rt: Runtime, actor: Party | None, site_id: str) -> ProtectedSite:
    with rt.store.read() as tx:
        site = tx.sites.get(site_id)
    if site is None:
        raise NotFound(f"no site {site_id}", id=site_id)
    return site


def list_sites(
    rt: Runtime,
    actor: Party | None,
    *,
    owner_id: str | None = None,
    active: bool | None = None,
    due: bool = False,
    after: str | None = None,
    limit: int = 100,
) -> list[ProtectedSite]:
    """Every site of the cell, for any party (``actor``; None: the console operator). Filters: owner,
    active, ``due`` (expired and still active: to revalidate)."""
    now = rt.clock()
    out: list[ProtectedSite] = []
    with rt.store.read() as tx:
        while len(out) < limit:
            page = tx.sites.list(owner_id=owner_id, active=True if due else active, after=after, limit=limit)
            out += [s for s in page if not due or s.needs_revalidation(now)]
            if len(page) < limit:
                break
            after = page[-1].id
    return out[:limit]
