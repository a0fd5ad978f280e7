"""Use cases on deconfliction lines: split an area of interest by a line into two proposed zones, with an
optional band along the line; read them.

``create_line`` cuts the area (``domain.line.split_area``: left of the line's direction for
``party_left``, right for ``party_right``) and proposes the two sides as zones in the same transaction:
the left side owned by ``party_left`` and proposed to ``party_right``, the right side the other way
round; each becomes agreed when the other party accepts it (``POST /v1/zones/{id}/answer``), like any
zone. The author is one of the two parties or the coordinator.

The band, when asked for, counts at once during its validity: an operation of either party inside it is
a ``band_entry`` conflict for both (reconciled here with every live operation already inside it, and
with every later change of an operation). A band is a safety margin along a line both parties can see,
not a claim over an area, so it needs no agreement.

Either party (or the coordinator) withdraws the band (``withdraw_line``): its records resolve; the zones
keep their own states. Need-to-know: a line (its area, its line, its band) is visible to its two parties,
its author and the coordinator; its zones follow the zones' rule (private while proposed, public once
agreed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from deconfliction import wire
from deconfliction.domain.conflict import Conflict
from deconfliction.domain.footprint import Footprint, PolygonFootprint, footprint_to_geojson
from deconfliction.domain.line import band_along, propose_split_zones, split_area
from deconfliction.domain.party import DECLARING_ROLES, Party
from deconfliction.domain.signing import SignedRequest
from deconfliction.domain.volume import TimeWindow, format_time
from deconfliction.domain.zone import Zone
from deconfliction.errors import FieldError, Forbidden, InvalidInput, InvalidTransition, NotFound
from deconfliction.service import areas, views, zones
from deconfliction.service.conflicts import party_names
from deconfliction.service.operations import Idempotency, write_change
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import LineRecord, StoredResponse, Transaction


@dataclass(frozen=True)
class LineDraft:
    name: str
    area: Footprint
    area_geojson: Mapping[str, Any]
    line: Sequence[tuple[float, float]]
    party_left: str
    party_right: str
    validity: TimeWindow
    """Of the two zones and of the band."""
    band_half_width_m: float | None = None


@dataclass(frozen=True)
class LineResult:
    line: LineRecord
    zones: tuple[Zone, ...]
    """Left, right (those the caller may see, after a withdrawal)."""
    changed: list[Conflict]
    names: dict[str, str]
    receipt: tuple[int, str]


def may_see_line(viewer: Party | None, line: LineRecord) -> bool:
    return views.may_see_line(viewer, line.creator_id, line.party_left, line.party_right)


def line_view(line: LineRecord) -> wire.Line:
    """A deconfliction line, as those who may see it see it."""
    band = line.band
    return wire.Line(
        id=line.id,
        name=line.name,
        author=line.creator_id,
        party_left=line.party_left,
        party_right=line.party_right,
        area=dict(line.area),
        line={"type": "LineString", "coordinates": [list(p) for p in line.line]},
        zones={"left": line.zone_left, "right": line.zone_right},
        band=None
        if band is None
        else {
            "half_width_m": band.half_width_m,
            "path": footprint_to_geojson(band.footprint)["path"],
            "validity": {"start": format_time(band.validity.start), "end": format_time(band.validity.end)},
        },
        created_at=format_time(line.created_at),
        withdrawn_at=None if line.withdrawn_at is None else format_time(line.withdrawn_at),
    )


def line_record(line: LineRecord) -> dict[str, Any]:
    """The line as its ledger entries record it: ``line_view``'s members."""
    return wire.to_record(line_view(line))


def create_line(
    rt: Runtime,
    actor: Party,
    draft: LineDraft,
    *,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> LineResult | StoredResponse:
    """Split the area, propose both sides as zones, lay the band (if any) and find its conflicts."""
    if actor.role not in DECLARING_ROLES or (
        not actor.sees_all and actor.id not in (draft.party_left, draft.party_right)
    ):
        raise Forbidden("a deconfliction line is drawn by one of its two parties or by the coordinator")
    if not isinstance(draft.area, PolygonFootprint):
        raise InvalidInput.one("area.type", "not_a_polygon", "the area of interest is a Polygon or MultiPolygon")
    area = draft.area
    split = split_area(area, draft.line, draft.party_left, draft.party_right, limits=rt.limits)
    if draft.validity.end <= draft.validity.start:
        raise InvalidInput.one("validity.end", "window_empty", "the validity must not be empty")

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> LineResult:
        unknown = [
            FieldError(f, "unknown_party", f"no party {p}")
            for f, p in (("party_left", draft.party_left), ("party_right", draft.party_right))
            if tx.parties.get(p) is None
        ]
        if unknown:
            raise InvalidInput(unknown)
        now = rt.clock()
        line_id = rt.ids.new_id("ln")
        band = (
            None
            if draft.band_half_width_m is None
            else band_along(split, band_id=line_id, half_width_m=draft.band_half_width_m, validity=draft.validity)
        )
        name = draft.name or "line"
        left, right = propose_split_zones(
            split,
            zone_ids=(rt.ids.new_id("zn"), rt.ids.new_id("zn")),
            validity=draft.validity,
            now=now,
            names=(f"{name}: left side", f"{name}: right side"),
        )
        for z in (left, right):
            zones.store_proposal(tx, rt, actor, z, None)
        record = LineRecord(
            line_id,
            actor.id,
            draft.name,
            dict(draft.area_geojson),
            tuple(draft.line),
            draft.party_left,
            draft.party_right,
            left.id,
            right.id,
            band,
            now,
        )
        tx.lines.add(record, rt.ids.new_token())
        tx.events.append(
            at=now,
            actor_id=actor.id,
            type="line.created",
            subject_id=line_id,
            payload=line_record(record),
            audience=sorted({actor.id, draft.party_left, draft.party_right}),
            signed=signed,
        )
        changed: list[Conflict] = []
        if band is not None:
            changed = areas.reconcile_target(tx, rt, actor.id, line_id, areas.grow_boxes(band.shape.boxes, 0.0), now)
        return LineResult(record, (left, right), changed, party_names(tx, changed), tx.events.head())

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def withdraw_line(
    rt: Runtime,
    actor: Party,
    line_id: str,
    *,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> LineResult | StoredResponse:
    """Either of the line's parties, or the coordinator, withdraws its band: it stops counting at once and
    its open ``band_entry`` conflicts resolve. The zones it proposed keep their own states (each owner
    withdraws its own, ``POST /v1/zones/{id}/withdraw``)."""
    if actor.role not in DECLARING_ROLES:
        raise Forbidden(f"a party with role {actor.role} cannot withdraw a line")

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> LineResult:
        line = tx.lines.get(line_id)
        if line is None or not may_see_line(actor, line):
            raise NotFound(f"no line {line_id}", id=line_id)
        if not actor.sees_all and actor.id not in (line.party_left, line.party_right):
            raise Forbidden(f"only the parties of line {line_id} or the coordinator withdraw it")
        if line.withdrawn_at is not None:
            raise InvalidTransition(f"line {line_id} is withdrawn already", state="withdrawn", action="withdraw")
        now = rt.clock()
        gone = replace(line, withdrawn_at=now)
        tx.lines.replace(gone)
        tx.events.append(
            at=now,
            actor_id=actor.id,
            type="line.withdrawn",
            subject_id=line_id,
            payload=line_record(gone),
            audience=sorted({line.creator_id, line.party_left, line.party_right}),
            signed=signed,
        )
        changed: list[Conflict] = []
        if line.band is not None:
            boxes = areas.grow_boxes(line.band.shape.boxes, 0.0)
            changed = areas.reconcile_target(tx, rt, actor.id, line_id, boxes, now)
        versions = (tx.zones.get(line.zone_left), tx.zones.get(line.zone_right))
        shown = tuple(z for z in versions if z is not None and views.may_see_zone(actor, z))
        return LineResult(gone, shown, changed, party_names(tx, changed), tx.events.head())

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def get_line(rt: Runtime, viewer: Party | None, line_id: str) -> LineRecord:
    with rt.store.read() as tx:
        found = tx.lines.get(line_id)
    if found is None or not may_see_line(viewer, found):
        raise NotFound(f"no line {line_id}", id=line_id)
    return found


def list_lines(rt: Runtime, viewer: Party | None, *, after: str | None = None, limit: int = 100) -> list[LineRecord]:
    out: list[LineRecord] = []
    with rt.store.read() as tx:
        while len(out) < limit:
            page = tx.lines.list(after=after, limit=limit)
            out += [x for x in page if may_see_line(viewer, x)]
            if len(page) < limit:
                break
            after = page[-1].id
    return out[:limit]
