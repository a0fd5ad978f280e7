"""Need-to-know: the one place that decides what a party may see, and renders it.

* A party sees its own operations whole, and of another party's operation only what conflicts with its
  own: the overlap region, window, altitude overlap and separations of each encounter, never the other
  operation's id, footprint, window or priority. It sees the counterpart party's name, so they can talk.
* The coordinator sees everything.
* Zones, lines and sites (docs/zones-and-sites.md): a zone version ever agreed is for everyone, a
  proposal for its owner, counter-parties and the coordinator; a line for its two parties, its author and
  the coordinator; every site for every party. A conflict with one of them shows its owner the operator's
  name and the overlap, never the operation.
* Units (docs/notifications.md, Units): a party's units are its own business; a key scoped to a unit sees
  its unit's objects and its party's of no unit, never a sibling unit's; another party never sees a unit.
* Anything a viewer may not see is reported exactly like something that does not exist.

Every read and write response of the service is rendered here, as the response models of
``deconfliction.wire`` (what the OpenAPI document declares); a ledger entry that keeps a view keeps its
model's members (``wire.to_record``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from deconfliction import wire
from deconfliction.domain.conflict import Conflict, Encounter
from deconfliction.domain.footprint import footprint_wire
from deconfliction.domain.ledger import Entry
from deconfliction.domain.notification import Notification
from deconfliction.domain.operation import Operation
from deconfliction.domain.party import Party, Role
from deconfliction.domain.unit import Unit
from deconfliction.domain.volume import AltitudeBand, format_time
from deconfliction.domain.zone import Zone, ZoneAnswer, ZoneState
from deconfliction.errors import NotFound

HISTORICAL_MARK: dict[bool, dict[str, Any]] = {True: {"historical": True}, False: {}}
"""A historical record (and a conflict with one) is marked ``"historical": true`` in every view and
ledger entry; others carry no mark, so their views and entries are as before."""


def may_see_unit_item(viewer: Party, owner_id: str, unit_id: str | None) -> bool:
    """Within a party: its own key reads every unit's items; a unit's key reads its own unit's items and
    the party's items of no unit, never a sibling unit's. Between parties nothing changes."""
    return viewer.sees_all or (owner_id == viewer.id and (viewer.unit_id is None or unit_id in (None, viewer.unit_id)))


def may_see_unit(viewer: Party | None, unit: Unit) -> bool:
    """A unit (its name, ladder, area): the console, the coordinator and auditors see every party's; a
    party its own; a unit's key its own unit only. Another party never learns how a party is organised."""
    if viewer is None or viewer.sees_all or viewer.role is Role.AUDITOR:
        return True
    return unit.party_id == viewer.id and viewer.unit_id in (None, unit.id)


def may_see_operation(viewer: Party, op: Operation) -> bool:
    return may_see_unit_item(viewer, op.owner_id, op.unit_id)


def may_read_entry(viewer: Party | None, entry: Entry) -> bool:
    """A ledger entry: the console operator (None), the coordinator and auditors read every entry; a
    party the entries whose audience names it (or everyone). Others are exported redacted."""
    if viewer is None or viewer.sees_all or viewer.role is Role.AUDITOR:
        return True
    return entry.readable_by(viewer.id) and may_read_unit_payload(viewer, entry.payload)


def may_read_unit_payload(viewer: Party | None, payload: Mapping[str, Any]) -> bool:
    """A unit's key does not read what a ledger entry records about a sibling unit's objects (the entry
    names the unit in ``unit``); a party's own key reads all of its units'."""
    return viewer is None or viewer.unit_id is None or payload.get("unit") in (None, viewer.unit_id)


def may_read_notification(viewer: Party, n: Notification) -> bool:
    """A notification: its party's (a unit's key: its unit's and those of no unit); the coordinator and
    auditors read any (GET /v1/notifications/{id})."""
    return viewer.sees_all or viewer.role is Role.AUDITOR or may_see_unit_item(viewer, n.party_id, n.unit_id)


def may_see_conflict(viewer: Party, c: Conflict) -> bool:
    return viewer.sees_all or viewer.id in (c.party_a, c.party_b)


def zone_was_agreed(z: Zone) -> bool:
    """Agreed now or once (superseded, or withdrawn after every counter-party accepted)."""
    if z.state in (ZoneState.AGREED, ZoneState.SUPERSEDED):
        return True
    return (
        z.state is ZoneState.WITHDRAWN
        and len(z.answers) == len(z.counterparties)
        and all(a is ZoneAnswer.ACCEPTED for _, a in z.answers)
    )


def may_see_zone(viewer: Party | None, z: Zone) -> bool:
    """A zone version that was ever agreed is for everyone; one that never was, for its owner, its
    counter-parties and the coordinator (None: the console operator)."""
    if viewer is None or viewer.sees_all or zone_was_agreed(z):
        return True
    return viewer.id == z.owner_id or viewer.id in z.counterparties


def may_see_line(viewer: Party | None, author_id: str, party_left: str, party_right: str) -> bool:
    """A deconfliction line (its area and band) is for its two parties, its author and the coordinator."""
    return viewer is None or viewer.sees_all or viewer.id in (author_id, party_left, party_right)


def may_see_site(viewer: Party | None) -> bool:
    """Every party of the cell sees every protected site: protection works only if those who must keep
    away know where the site is (docs/zones-and-sites.md). Operations near it stay private."""
    return True


def visible_operation(viewer: Party, op: Operation | None, op_id: str) -> Operation:
    if op is None or not may_see_operation(viewer, op):
        raise NotFound(f"no operation {op_id}", id=op_id)
    return op


def visible_conflict(viewer: Party, c: Conflict | None, conflict_id: str) -> Conflict:
    if c is None or not may_see_conflict(viewer, c):
        raise NotFound(f"no conflict {conflict_id}", id=conflict_id)
    return c


def party_view(p: Party) -> wire.Party:
    view = wire.Party(id=p.id, name=p.name, role=p.role, created_at=format_time(p.created_at))
    if p.unit_id is not None:  # the caller signed in with a unit's key (GET /v1/parties/me)
        view.unit = p.unit_id
    return view


def unit_field(viewer: Party | None, owner_id: str, unit_id: str | None) -> dict[str, Any]:
    """``{"unit": ...}`` for the owner's own party (and the coordinator) when a unit declared it; nothing
    otherwise, so an object of no unit reads the same for everyone, and another party never learns how a
    party is organised."""
    if unit_id is not None and (viewer is None or viewer.sees_all or viewer.id == owner_id):
        return {"unit": unit_id}
    return {}


def operation_view(viewer: Party, op: Operation) -> wire.Operation:
    visible_operation(viewer, op, op.id)
    return operation_model(op)


def operation_model(op: Operation) -> wire.Operation:
    """The whole operation, for its owner (and the coordinator)."""
    return wire.Operation(
        id=op.id,
        owner=op.owner_id,
        title=op.title,
        kind=op.kind.value,
        priority=op.priority,
        state=op.state.value,
        version=op.version,
        ovn=op.ovn,
        volumes=[
            wire.VolumeOut(
                **footprint_wire(v.footprint),  # the geometry, and radius_m / half_width_m beside it
                altitude=wire.AltitudeOut(lower_m=v.altitude.lower_m, upper_m=v.altitude.upper_m, reference="W84"),
                window=_window(v.window.start, v.window.end),
            )
            for v in op.volumes
        ],
        created_at=format_time(op.created_at),
        updated_at=format_time(op.updated_at),
        unit=op.unit_id,
        **HISTORICAL_MARK[op.historical],
    )


def operation_record(op: Operation) -> dict[str, Any]:
    """The whole operation as the ledger entry only its owner may read keeps it: its view's members."""
    return wire.to_record(operation_model(op))


def _window(start: datetime, end: datetime) -> wire.WindowOut:
    return wire.WindowOut(start=format_time(start), end=format_time(end))


def _band(altitude: AltitudeBand) -> wire.AltitudeOut:
    """An overlap's altitude band (no reference: it is the overlap of two declared bands)."""
    return wire.AltitudeOut(lower_m=altitude.lower_m, upper_m=altitude.upper_m)


def _encounter(e: Encounter, own_index: int | None) -> wire.Encounter:
    out = wire.Encounter(
        region=e.region_geojson,
        window=_window(e.window.start, e.window.end),
        altitude=_band(e.altitude),
        horizontal_m=round(e.horizontal_m, 1),
        vertical_m=round(e.vertical_m, 1),
        time_s=e.time_s,
    )
    if own_index is not None:
        out.own_volume = own_index
    return out


def conflict_view(viewer: Party, c: Conflict, names: Mapping[str, str]) -> wire.Conflict:
    """``names`` maps party ids to names (for the counterpart)."""
    visible_conflict(viewer, c, c.id)
    if viewer.sees_all:
        return coordinator_view(conflict_side_view(c, c.party_a, names), conflict_side_view(c, c.party_b, names))
    return conflict_side(c, viewer.id, names)


def conflict_side(c: Conflict, party_id: str, names: Mapping[str, str]) -> wire.Conflict:
    """What one side of a conflict is told: the shared facts, its own operation, its token and the
    counterpart's name, and nothing of the other side's plan."""
    side = c.side_of(party_id)
    if side is None:
        raise ValueError(f"{party_id} is not a side of conflict {c.id}")
    other = c.party_b if side == "a" else c.party_a
    return wire.Conflict(
        id=c.id,
        kind=c.kind,
        state=c.state.value,
        version=c.version,
        rule=wire.Rule(**c.rule.as_dict()),
        region=c.region_geojson,
        window=_window(c.window.start, c.window.end),
        altitude=_band(c.altitude),
        min_horizontal_m=round(c.min_horizontal_m, 1),
        min_vertical_m=round(c.min_vertical_m, 1),
        min_time_s=c.min_time_s,
        created_at=format_time(c.created_at),
        updated_at=format_time(c.updated_at),
        operation=c.operation_a if side == "a" else c.operation_b,
        token=c.token_a if side == "a" else c.token_b,
        counterpart=wire.Counterpart(party=other, party_name=names.get(other)),
        encounters=[_encounter(e, _own_index(c, e, side)) for e in c.encounters],
        **HISTORICAL_MARK[c.historical],
    )


def conflict_side_view(c: Conflict, party_id: str, names: Mapping[str, str]) -> dict[str, Any]:
    """``conflict_side`` as the ledger entry of the change for that side keeps it, so the record holds
    exactly what each side was told."""
    return wire.to_record(conflict_side(c, party_id, names))


def _own_index(c: Conflict, e: Encounter, side: str) -> int | None:
    """The side's volume index; none for the zone, band or site side of an area conflict (it has none)."""
    if side == "a":
        return e.index_a
    return e.index_b if c.kind == "operation" else None


_SIDE_ONLY = ("operation", "token", "counterpart", "encounters", "unit")


def coordinator_view(view_a: Mapping[str, Any], view_b: Mapping[str, Any]) -> wire.Conflict:
    """The coordinator's view of a conflict, from what its two sides were told (side ``a`` is the one
    whose operation id sorts first; each as its ledger entry keeps it): both operations, both tokens,
    both volume indexes."""
    return wire.Conflict(
        **_without(view_a, *_SIDE_ONLY),
        sides=[_side(view_a, view_b["counterpart"]), _side(view_b, view_a["counterpart"])],
        encounters=[
            wire.Encounter(**_without(ea, "own_volume"), volume_a=ea["own_volume"], volume_b=eb.get("own_volume"))
            for ea, eb in zip(view_a["encounters"], view_b["encounters"], strict=True)
        ],
    )


def _side(view: Mapping[str, Any], told_to_other: Mapping[str, Any]) -> wire.Side:
    """One side in the coordinator's view: who it is (as the other side was told), its operation and
    token (as it was told)."""
    side = wire.Side(
        party=told_to_other["party"],
        party_name=told_to_other["party_name"],
        operation=view["operation"],
        token=view["token"],
    )
    if "unit" in view:
        side.unit = view["unit"]
    return side


def _without(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}
