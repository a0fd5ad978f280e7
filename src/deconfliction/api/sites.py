"""/v1/sites: declare, list, read, revalidate and withdraw protected sites; import a CSV of them."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ConfigDict, Field
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api import examples
from deconfliction.api.http import (
    PAGE_SIZE_HELP,
    AsOf,
    IdemKey,
    IfMatch,
    KeyDep,
    RawBody,
    Render,
    RuntimeDep,
    Signature,
    after_cursor,
    as_party,
    decode_cursor,
    etag,
    idempotency,
    if_match_version,
    json_response,
    page,
    page_size,
    respond,
)
from deconfliction.api.schemas import Strict as _Strict
from deconfliction.domain.coordinates import parse_position
from deconfliction.domain.limits import Limits
from deconfliction.domain.party import Party
from deconfliction.domain.site import SiteFootprint, SitePoint, parse_category, parse_site_footprint
from deconfliction.domain.volume import parse_time
from deconfliction.errors import FieldError, InvalidInput, NotFound
from deconfliction.service import sites, transfer
from deconfliction.service.replay import replay
from deconfliction.service.runtime import Runtime
from deconfliction.service.signing import signed_receipt
from deconfliction.service.views import conflict_view

router = APIRouter(prefix="/v1/sites", tags=["sites"])


class SiteIn(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.SITE]})
    name: str = Field(description="What the site is called")
    category: str = Field(description="hospital, school, shelter, warehouse, office or other")
    footprint: dict[str, Any] | None = Field(
        None, description="GeoJSON Point, Polygon or MultiPolygon (or give `position` instead)"
    )
    position: str | None = Field(
        None, description='A point as people write it: "35.336N 40.141E", DMS, or MGRS "37SDV1234567890"'
    )
    radius_m: float = Field(description="Protection radius, metres")
    accuracy_m: float = Field(description="How accurate the coordinates are, metres")
    valid_until: str = Field(description="RFC 3339; past it the owner is asked to revalidate (still protected)")
    unit: str | None = Field(None, description="One of your units declaring it (GET /v1/units)")


class RevalidateIn(_Strict):
    valid_until: str = Field(description="RFC 3339, in the future")


class ImportIn(_Strict):
    csv: str = Field(description="The CSV text (docs/formats.md, Protected sites as CSV)")
    dry_run: bool = Field(False, description="Check and report every row; store nothing")


def site_draft(body: SiteIn, limits: Limits) -> tuple[sites.SiteDraft, list[FieldError]]:
    """The wire body as a draft, and the warnings about it (a position written more coarsely than the
    stated accuracy); every field error at once, named by its path."""
    errors: list[FieldError] = []
    warnings: list[FieldError] = []
    footprint: SiteFootprint | None = None
    if (body.footprint is None) == (body.position is None):
        errors.append(FieldError("footprint", "footprint_or_position", "give either footprint or position"))
    elif body.footprint is not None:
        try:
            footprint = parse_site_footprint(body.footprint, limits)
        except InvalidInput as e:
            errors += e.at("footprint").errors
    else:
        accuracy = body.accuracy_m if math.isfinite(body.accuracy_m) and body.accuracy_m > 0 else None
        try:
            parsed = parse_position(str(body.position), accuracy_m=accuracy)
            footprint = SitePoint(parsed.position)
            warnings += [w.at("position") for w in parsed.warnings]
        except InvalidInput as e:
            errors += e.at("position").errors
    category = None
    try:
        category = parse_category(body.category)
    except InvalidInput as e:
        errors += e.errors
    valid_until = None
    try:
        valid_until = parse_time(body.valid_until, "valid_until")
    except InvalidInput as e:
        errors += e.errors
    if errors or footprint is None or category is None or valid_until is None:
        raise InvalidInput(errors)
    draft = sites.SiteDraft(body.name, category, footprint, body.radius_m, body.accuracy_m, valid_until, body.unit)
    return draft, warnings


def _render(
    rt: Runtime, actor: Party, status: int, warnings: list[FieldError] | None = None, position: bool = False
) -> Render:
    def render(r: sites.SiteResult) -> tuple[int, dict[str, str], Any]:
        told = [
            *(wire.DeclarationWarning(field=w.field, code=w.code, message=w.message) for w in warnings or ()),
            *(
                wire.DeclarationWarning(field="position" if position else w.field, code=w.code, message=w.message)
                for w in r.warnings
            ),
        ]
        body = wire.SiteWrite(
            site=sites.site_view(actor, r.site, rt.clock()),
            warnings=told,
            likely_duplicates=[sites.duplicate_view(d) for d in r.duplicates],
            conflicts=[conflict_view(actor, c, r.names) for c in r.changed],
            receipt=signed_receipt(rt, r.receipt),
        )
        return status, {"ETag": etag(r.site.version), "Location": f"/v1/sites/{r.site.id}"}, body

    return render


@router.post(
    "", operation_id="createSite", response_model=wire.SiteWrite, status_code=201, summary="Declare a protected site"
)
async def create(
    body: SiteIn,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    idempotency_key: IdemKey = None,
) -> Response:
    """Every live operation of another party within radius + accuracy + policy distance gets a
    `protected_site` conflict, told to both; the owner's active sites within 25 m are reported as
    likely duplicates (the site is stored anyway)."""

    def work(party: Party) -> Response:
        draft, warnings = site_draft(body, rt.limits)
        render = _render(rt, party, 201, warnings, position=body.position is not None)
        idem = idempotency(request, raw, idempotency_key, render)
        out = sites.create_site(rt, party, draft, idempotency=idem, signature=signed)
        return respond(out, render)

    return await as_party(rt, key, work)


@router.post(
    "/import",
    operation_id="importSites",
    response_model=wire.SiteImport,
    responses={201: {"model": wire.SiteImport, "description": "Stored (not a dry run)"}},
    summary="Import a CSV of your sites: all or nothing, with a dry run",
)
async def import_csv(
    body: ImportIn,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    idempotency_key: IdemKey = None,
) -> Response:
    """200 with the report of every row (a dry run, or an import refused because a row or the file
    is); 201 when every row was accepted and stored, with the site id of each row."""

    def work(party: Party) -> Response:
        def render(r: transfer.SitesImportResult) -> tuple[int, dict[str, str], Any]:
            out = r.as_dict()
            if r.stored:  # a dry run's: the conflicts the import would open
                out["conflicts"] = [conflict_view(party, c, party_names_of(r)) for c in r.changed]
            if r.receipt is not None:
                out["receipt"] = signed_receipt(rt, r.receipt)
            return (201 if r.kept else 200), {}, wire.SiteImport.model_validate(out)

        idem = idempotency(request, raw, idempotency_key, render)
        out = transfer.import_sites_csv(rt, party, body.csv, dry_run=body.dry_run, idempotency=idem, signature=signed)
        return respond(out, render)

    return await as_party(rt, key, work)


def party_names_of(r: transfer.SitesImportResult) -> dict[str, str]:
    names: dict[str, str] = {}
    for s in r.stored:
        names |= s.names
    return names


@router.get("", operation_id="listSites", response_model=wire.SitePage, summary="Every protected site of the cell")
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    owner: str | None = None,
    state: Annotated[str | None, Query(description="active or withdrawn")] = None,
    due: Annotated[bool, Query(description="Only active sites past valid_until (to revalidate)")] = False,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, description=PAGE_SIZE_HELP)] = None,
    as_of: AsOf = None,
) -> Response:
    def work(party: Party) -> Response:
        after = decode_cursor(cursor)
        size = page_size(limit, rt.limits)
        if state not in (None, "active", "withdrawn"):
            raise InvalidInput.one("state", "invalid_state", "state is active or withdrawn")
        if as_of is not None:
            past = [
                r
                for _, r in sorted(replay(rt, party, parse_time(as_of, "as_of")).sites.items())
                if (owner is None or r["owner"] == owner)
                and (state is None or r["state"] == state)
                and (not due or r["needs_revalidation"])
            ]
            then, nxt = page(after_cursor(past, after)[: size + 1], size, lambda r: r["id"])
            return json_response(wire.SitePage(items=then, next_cursor=nxt))
        active = None if state is None else state == "active"
        found = sites.list_sites(rt, party, owner_id=owner, active=active, due=due, after=after, limit=size + 1)
        items, nxt = page(found, size, lambda s: s.id)
        now = rt.clock()
        return json_response(wire.SitePage(items=[sites.site_view(party, s, now) for s in items], next_cursor=nxt))

    return await as_party(rt, key, work)


@router.get("/{site_id}", operation_id="getSite", response_model=wire.Site, summary="Read a protected site")
async def get(site_id: str, rt: RuntimeDep, key: KeyDep, as_of: AsOf = None) -> Response:
    def work(party: Party) -> Response:
        if as_of is not None:
            record = replay(rt, party, parse_time(as_of, "as_of")).sites.get(site_id)
            if record is None:
                raise NotFound(f"no site {site_id} at {as_of}", id=site_id)
            return json_response(wire.Site.model_validate(record), headers={"ETag": etag(record["version"])})
        s = sites.get_site(rt, party, site_id)
        return json_response(sites.site_view(party, s, rt.clock()), headers={"ETag": etag(s.version)})

    return await as_party(rt, key, work)


@router.post(
    "/{site_id}/revalidate",
    operation_id="revalidateSite",
    response_model=wire.SiteWrite,
    summary="Confirm your site until a new valid_until (If-Match required)",
)
async def revalidate(
    site_id: str,
    body: RevalidateIn,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    if_match: IfMatch = None,
    idempotency_key: IdemKey = None,
) -> Response:
    def work(party: Party) -> Response:
        version = if_match_version(if_match)
        valid_until = parse_time(body.valid_until, "valid_until")
        render = _render(rt, party, 200)
        idem = idempotency(request, raw, idempotency_key, render)
        out = sites.revalidate(
            rt,
            party,
            site_id,
            valid_until,
            expected_version=version,
            idempotency=idem,
            signature=signed,
        )
        return respond(out, render)

    return await as_party(rt, key, work)


@router.post(
    "/{site_id}/withdraw",
    operation_id="withdrawSite",
    response_model=wire.SiteWrite,
    summary="Withdraw your site: it protects nothing more (If-Match required)",
)
async def withdraw(
    site_id: str,
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    if_match: IfMatch = None,
    idempotency_key: IdemKey = None,
) -> Response:
    def work(party: Party) -> Response:
        version = if_match_version(if_match)
        render = _render(rt, party, 200)
        idem = idempotency(request, raw, idempotency_key, render)
        out = sites.withdraw(rt, party, site_id, expected_version=version, idempotency=idem, signature=signed)
        return respond(out, render)

    return await as_party(rt, key, work)
