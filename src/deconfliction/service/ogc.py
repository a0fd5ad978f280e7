"""OGC API - Features collections (docs/gis.md): what each layer holds for a caller.

Every layer is read through the same use cases as ``/v1`` lists, so need-to-know is decided where it
always is (``service.views``): agreed zones the caller may see, the lines it takes part in and their
bands, every protected site, its own operations and movements (the coordinator: all), and the overlap
regions of the conflicts it is a side of. Features are drawn by ``formats.ogc``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deconfliction import wire
from deconfliction.domain.party import Party
from deconfliction.domain.zone import ZoneState
from deconfliction.errors import NotFound
from deconfliction.formats import ogc
from deconfliction.formats.ogc import GisFeature, ItemsQuery
from deconfliction.service import conflicts, lines, movements, sites, zones
from deconfliction.service import operations as ops
from deconfliction.service.runtime import Runtime

ALL = 1_000_000
"""Every object a list use case holds for the caller: a layer is filtered and paged after drawing."""


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str


COLLECTIONS = (
    Collection("zones", "Agreed zones of responsibility", "Zone versions in force (state agreed) you may see."),
    Collection("lines", "Deconfliction lines", "The lines you take part in or drew (the coordinator: all)."),
    Collection(
        "bands",
        "Deconfliction line bands",
        "The buffer band of each line you see, drawn as its polygon; half_width_m beside it.",
    ),
    Collection(
        "sites",
        "Protected sites",
        "Every protected site of the cell; a point site is drawn as the circle of its radius_m.",
    ),
    Collection(
        "operations",
        "Operations",
        "Your own operations (the coordinator: every party's), one feature each: the union of its volumes.",
    ),
    Collection(
        "movements",
        "Movements",
        "Your own operations declared as movements (the coordinator: all): the corridor the route sweeps.",
    ),
    Collection(
        "conflicts",
        "Conflict regions",
        "The overlap region and window of each open or resolved conflict you are a side of (the coordinator: all).",
    ),
)
BY_ID = {c.id: c for c in COLLECTIONS}


def collection(collection_id: str) -> Collection:
    found = BY_ID.get(collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id}", id=collection_id)
    return found


def _names(rt: Runtime) -> dict[str, str]:
    with rt.store.read() as tx:
        return {p.id: p.name for p in tx.parties.list(limit=ALL)}


def _zones(rt: Runtime, viewer: Party) -> list[GisFeature]:
    names = _names(rt)
    latest = {z.id: z for z in zones.list_zones(rt, viewer, state=ZoneState.AGREED, limit=ALL)}
    return [ogc.zone_feature(z, names) for z in latest.values()]


def _lines(rt: Runtime, viewer: Party) -> list[GisFeature]:
    names = _names(rt)
    return [
        ogc.line_feature(
            x.id,
            x.name,
            x.line,
            x.creator_id,
            (x.party_left, x.party_right),
            (x.zone_left, x.zone_right),
            x.created_at,
            x.withdrawn_at,
            names,
        )
        for x in lines.list_lines(rt, viewer, limit=ALL)
    ]


def _bands(rt: Runtime, viewer: Party) -> list[GisFeature]:
    names = _names(rt)
    return [
        ogc.band_feature(
            x.id,
            x.name,
            x.band.footprint,
            (x.party_left, x.party_right),
            (x.band.validity.start, x.band.validity.end),
            x.withdrawn_at,
            names,
        )
        for x in lines.list_lines(rt, viewer, limit=ALL)
        if x.band is not None
    ]


def _sites(rt: Runtime, viewer: Party) -> list[GisFeature]:
    names, now = _names(rt), rt.clock()
    return [ogc.site_feature(s, names, now) for s in sites.list_sites(rt, viewer, limit=ALL)]


def _operations(rt: Runtime, viewer: Party) -> list[GisFeature]:
    names = _names(rt)
    return [ogc.operation_feature(op, names) for op in ops.list_operations(rt, viewer, limit=ALL)]


def _movements(rt: Runtime, viewer: Party) -> list[GisFeature]:
    names = _names(rt)
    out = []
    for listed in ops.list_operations(rt, viewer, limit=ALL):
        try:  # the same read as GET /v1/movements/{id}: a movement still describing its operation
            op, movement = movements.get_movement(rt, viewer, listed.id)
        except NotFound:
            continue
        out.append(ogc.movement_feature(op, movement, names))
    return out


def _conflicts(rt: Runtime, viewer: Party) -> list[GisFeature]:
    return [ogc.conflict_feature(wire.to_record(view)) for view in conflicts.list_conflicts(rt, viewer, limit=ALL)]


LAYERS: dict[str, Callable[[Runtime, Party], list[GisFeature]]] = {
    "zones": _zones,
    "lines": _lines,
    "bands": _bands,
    "sites": _sites,
    "operations": _operations,
    "movements": _movements,
    "conflicts": _conflicts,
}


def features(rt: Runtime, viewer: Party, collection_id: str) -> list[GisFeature]:
    """Every feature of a collection the viewer may see, by id."""
    collection(collection_id)
    return sorted(LAYERS[collection_id](rt, viewer), key=lambda f: f.id)


def items(rt: Runtime, viewer: Party, collection_id: str, query: ItemsQuery) -> tuple[list[GisFeature], int]:
    """One page of the features that the query selects, and how many it selects in all."""
    selected = [f for f in features(rt, viewer, collection_id) if query.selects(f)]
    return selected[query.offset : query.offset + query.limit], len(selected)


def item(rt: Runtime, viewer: Party, collection_id: str, feature_id: str) -> GisFeature:
    for f in features(rt, viewer, collection_id):
        if f.id == feature_id:
            return f
    raise NotFound(f"no feature {feature_id} in {collection_id}", id=feature_id)
