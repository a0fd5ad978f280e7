"""OGC API - Features, Part 1 (Core, GeoJSON, OpenAPI 3.0): the pure half (docs/gis.md).

What a GIS reads: one flat Feature per object (an attribute table of names, ids, states, RFC 3339 times
and numbers; no nested objects), with the real shape of the area: a circle (a Point with ``radius_m``)
or a corridor (a LineString with ``half_width_m``) is drawn as its polygon, the numbers kept beside it.
The query parameters ``bbox``, ``datetime``, ``limit`` and ``offset`` are parsed here, and a 400
(``invalid_query``) names the parameter. Which objects a caller may see is decided before anything
reaches this module (``service.ogc``, through ``service.views``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import shapely
from shapely.geometry.base import BaseGeometry

from deconfliction.domain.footprint import (
    CircleFootprint,
    CorridorFootprint,
    Footprint,
    PolygonFootprint,
    footprint_display_geojson,
)
from deconfliction.domain.geo import unwrap_longitudes
from deconfliction.domain.geojson import to_geojson, wrapped
from deconfliction.domain.operation import Operation
from deconfliction.domain.site import ProtectedSite, SitePoint
from deconfliction.domain.volume import format_time, parse_time
from deconfliction.domain.zone import Zone
from deconfliction.errors import FieldError, InvalidInput, InvalidQuery

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)
GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
ITEMS_PARAMETERS = frozenset({"bbox", "datetime", "limit", "offset", "f"})
"""Every query parameter ``/items`` knows: any other is refused (OGC: /req/core/query-param-unknown)."""
FORMATS = frozenset({"json", "geojson"})


@dataclass(frozen=True)
class GisFeature:
    """One object as a GIS layer shows it: a shape in lon/lat, flat properties, and the time it covers
    (None for an object with no time: it matches every ``datetime``)."""

    id: str
    shape: BaseGeometry
    properties: dict[str, Any]
    start: datetime | None = None
    end: datetime | None = None

    def geojson(self) -> dict[str, Any]:
        return {"type": "Feature", "id": self.id, "geometry": to_geojson(self.shape), "properties": self.properties}


# ---------------------------------------------------------------------------------------------- shapes


def drawn(fp: Footprint) -> BaseGeometry:
    """The area a footprint covers as a GIS draws it: a circle or a corridor as its polygon (the same
    drawing as the KML export's), a polygon as it is; cut at the antimeridian (RFC 7946 3.1.9)."""
    shape = shapely.geometry.shape(footprint_display_geojson(fp))
    if isinstance(fp, CircleFootprint):  # its ring's longitudes jump at +/-180: made continuous, then cut
        ring = shapely.get_coordinates(shape)
        ring[:, 0] = unwrap_longitudes(ring[:, 0])
        shape = shapely.Polygon(ring)
    return wrapped(shape)


def _site_shape(site: ProtectedSite) -> BaseGeometry:
    """A point site with a radius is the circle it protects (at least); a polygon site is its polygon."""
    if isinstance(site.footprint, SitePoint):
        if site.radius_m > 0:
            return drawn(CircleFootprint(site.footprint.position, site.radius_m))
        return shapely.Point(site.footprint.position)
    return drawn(site.footprint)


def footprint_numbers(footprints: Sequence[Footprint]) -> dict[str, Any]:
    """``footprint`` (polygon, circle, corridor or mixed) and the radius or half-width when every part
    has the same one: the attribute table keeps the declared numbers beside the drawn polygon."""
    kinds = {_kind(fp) for fp in footprints}
    kind = kinds.pop() if len(kinds) == 1 else "mixed"
    radii = {fp.radius_m for fp in footprints if isinstance(fp, CircleFootprint)}
    widths = {fp.half_width_m for fp in footprints if isinstance(fp, CorridorFootprint)}
    return {
        "footprint": kind,
        "radius_m": radii.pop() if kind == "circle" and len(radii) == 1 else None,
        "half_width_m": widths.pop() if kind == "corridor" and len(widths) == 1 else None,
    }


def _kind(fp: Footprint) -> str:
    if isinstance(fp, PolygonFootprint):
        return "polygon"
    return "circle" if isinstance(fp, CircleFootprint) else "corridor"


def _union(shapes: Iterable[BaseGeometry]) -> BaseGeometry:
    return shapely.union_all(list(shapes))


# -------------------------------------------------------------------------------------------- features


def zone_feature(z: Zone, names: Mapping[str, str]) -> GisFeature:
    return GisFeature(
        z.id,
        drawn(z.footprint),
        {
            "name": z.name,
            "version": z.version,
            "state": z.state.value,
            "owner": z.owner_id,
            "party": names.get(z.owner_id, z.owner_id),
            "counterparties": "; ".join(names.get(p, p) for p in z.counterparties),
            "start": format_time(z.validity.start),
            "end": format_time(z.validity.end),
        },
        z.validity.start,
        z.validity.end,
    )


def line_feature(
    line_id: str,
    name: str,
    path: Sequence[tuple[float, float]],
    author: str,
    sides: tuple[str, str],
    zones: tuple[str, str],
    created_at: datetime,
    withdrawn_at: datetime | None,
    names: Mapping[str, str],
) -> GisFeature:
    """A deconfliction line as drawn (a LineString); it has no time of its own (its band has)."""
    return GisFeature(
        line_id,
        shapely.LineString(path),
        {
            "name": name,
            "state": "active" if withdrawn_at is None else "withdrawn",
            "author": names.get(author, author),
            "party_left": names.get(sides[0], sides[0]),
            "party_right": names.get(sides[1], sides[1]),
            "zone_left": zones[0],
            "zone_right": zones[1],
            "created_at": format_time(created_at),
            "withdrawn_at": None if withdrawn_at is None else format_time(withdrawn_at),
        },
    )


def band_feature(
    line_id: str,
    line_name: str,
    corridor: CorridorFootprint,
    sides: tuple[str, str],
    validity: tuple[datetime, datetime],
    withdrawn_at: datetime | None,
    names: Mapping[str, str],
) -> GisFeature:
    """A line's buffer band, drawn as its polygon, ``half_width_m`` beside it; its id is its line's (a
    line has at most one band)."""
    return GisFeature(
        line_id,
        drawn(corridor),
        {
            "line_name": line_name,
            "state": "active" if withdrawn_at is None else "withdrawn",
            "party_left": names.get(sides[0], sides[0]),
            "party_right": names.get(sides[1], sides[1]),
            "half_width_m": corridor.half_width_m,
            "start": format_time(validity[0]),
            "end": format_time(validity[1]),
        },
        validity[0],
        validity[1],
    )


def site_feature(site: ProtectedSite, names: Mapping[str, str], now: datetime) -> GisFeature:
    """A protected site. It has no time: it stays protected past ``valid_until`` (flagged for
    revalidation) until it is withdrawn, so every ``datetime`` matches it."""
    return GisFeature(
        site.id,
        _site_shape(site),
        {
            "name": site.name,
            "category": site.category.value,
            "state": site.state.value,
            "owner": site.owner_id,
            "party": names.get(site.owner_id, site.owner_id),
            "footprint": "point" if isinstance(site.footprint, SitePoint) else "polygon",
            "radius_m": site.radius_m,
            "accuracy_m": site.accuracy_m,
            "valid_until": format_time(site.valid_until),
            "needs_revalidation": site.needs_revalidation(now),
            "version": site.version,
        },
    )


def _operation_properties(op: Operation, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "title": op.title,
        "kind": op.kind.value,
        "state": op.state.value,
        "priority": op.priority,
        "version": op.version,
        "owner": op.owner_id,
        "party": names.get(op.owner_id, op.owner_id),
        "start": format_time(min(v.window.start for v in op.volumes)),
        "end": format_time(max(v.window.end for v in op.volumes)),
        "lower_m": min(v.altitude.lower_m for v in op.volumes),
        "upper_m": max(v.altitude.upper_m for v in op.volumes),
    }


def operation_feature(op: Operation, names: Mapping[str, str]) -> GisFeature:
    """One row per operation: the union of its volumes' areas, its whole window and altitude band."""
    return GisFeature(
        op.id,
        _union(drawn(v.footprint) for v in op.volumes),
        {
            **_operation_properties(op, names),
            "volumes": len(op.volumes),
            **footprint_numbers([v.footprint for v in op.volumes]),
        },
        min(v.window.start for v in op.volumes),
        max(v.window.end for v in op.volumes),
    )


def movement_feature(op: Operation, movement: Mapping[str, Any], names: Mapping[str, str]) -> GisFeature:
    """A movement: the corridor its route sweeps (``half_width_m`` either side), as a polygon."""
    route = tuple((float(p[0]), float(p[1])) for p in movement["route"]["coordinates"])
    sweep = movement.get("sweep", {})
    return GisFeature(
        op.id,
        drawn(CorridorFootprint(route, float(movement["half_width_m"]))),
        {
            **_operation_properties(op, names),
            "half_width_m": float(movement["half_width_m"]),
            "speed_m_s": movement.get("speed_m_s"),
            "departure": sweep.get("departure"),
            "arrival": sweep.get("arrival"),
            "length_m": sweep.get("length_m"),
            "segments": sweep.get("segments"),
        },
        min(v.window.start for v in op.volumes),
        max(v.window.end for v in op.volumes),
    )


def conflict_feature(view: Mapping[str, Any]) -> GisFeature:
    """A conflict's overlap region and window, from the view need-to-know gave the caller: a party's
    (its own operation and the counterpart's name) or the coordinator's (both sides)."""
    sides = view.get("sides") or [{}, {}]
    counterpart = view.get("counterpart") or {}
    start, end = parse_time(view["window"]["start"], "start"), parse_time(view["window"]["end"], "end")
    return GisFeature(
        view["id"],
        shapely.geometry.shape(view["region"]),
        {
            "kind": view["kind"],
            "state": view["state"],
            "rule": view["rule"]["name"],
            "start": view["window"]["start"],
            "end": view["window"]["end"],
            "lower_m": view["altitude"]["lower_m"],
            "upper_m": view["altitude"]["upper_m"],
            "min_horizontal_m": view["min_horizontal_m"],
            "min_vertical_m": view["min_vertical_m"],
            "min_time_s": view["min_time_s"],
            "operation": view.get("operation"),
            "counterpart": counterpart.get("party_name"),
            "party_a": sides[0].get("party_name"),
            "operation_a": sides[0].get("operation"),
            "party_b": sides[1].get("party_name"),
            "operation_b": sides[1].get("operation"),
        },
        start,
        end,
    )


# ------------------------------------------------------------------------------------------- the query

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ItemsQuery:
    """``bbox`` as boxes within [-180, 180] (two when it crosses the antimeridian), ``datetime`` as a
    closed interval (either end open: None), the page."""

    boxes: tuple[Box, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    timed: bool = False
    limit: int = 10
    offset: int = 0
    raw: dict[str, str] = field(default_factory=dict)
    """The parameters as given (for the ``next`` link)."""

    def selects(self, f: GisFeature) -> bool:
        if self.boxes and not any(f.shape.intersects(shapely.box(*b)) for b in self.boxes):
            return False
        if not self.timed:
            return True
        # the feature's [start, end) meets the closed [self.start, self.end] (an instant: [t, t]); a
        # zero-length window is the instant it starts
        if self.end is not None and f.start is not None and f.start > self.end:
            return False
        if self.start is not None and f.end is not None:
            return f.end >= self.start if f.start == f.end else f.end > self.start
        return True


def _bad(parameter: str, code: str, message: str) -> InvalidQuery:
    return InvalidQuery([FieldError(parameter, code, message)])


def parse_bbox(raw: str) -> tuple[Box, ...]:
    """``minLon,minLat,maxLon,maxLat`` in CRS84; a box whose minLon is east of its maxLon crosses the
    antimeridian. Six numbers (with heights) are refused: the layers have no common height axis."""
    parts = raw.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise _bad("bbox", "invalid_bbox", f"bbox {raw!r} is not a list of numbers") from None
    if len(numbers) == 6:
        raise _bad("bbox", "invalid_bbox", "bbox with heights (6 numbers) is not supported: give 4")
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise _bad("bbox", "invalid_bbox", "bbox is minLon,minLat,maxLon,maxLat: 4 finite numbers")
    lon0, lat0, lon1, lat1 = numbers
    if not (-180 <= lon0 <= 180 and -180 <= lon1 <= 180 and -90 <= lat0 <= lat1 <= 90):
        raise _bad("bbox", "invalid_bbox", "bbox longitudes in [-180, 180], latitudes in [-90, 90], minLat <= maxLat")
    if lon0 > lon1:
        return ((lon0, lat0, 180.0, lat1), (-180.0, lat0, lon1, lat1))
    return ((lon0, lat0, lon1, lat1),)


def parse_datetime(raw: str) -> tuple[datetime | None, datetime | None]:
    """An RFC 3339 instant, or an interval ``start/end`` where either end may be ``..`` (or empty): open."""
    text = raw.strip()
    try:
        if "/" not in text:
            t = parse_time(text, "datetime")
            return t, t
        a, _, b = text.partition("/")
        start = None if a in ("", "..") else parse_time(a, "datetime")
        end = None if b in ("", "..") else parse_time(b, "datetime")
    except InvalidInput as e:
        raise _bad("datetime", "invalid_datetime", f"datetime {raw!r}: {e.errors[0].message}") from None
    if start is None and end is None:
        raise _bad("datetime", "invalid_datetime", "datetime '../..' is open at both ends: give one time")
    if start is not None and end is not None and start > end:
        raise _bad("datetime", "invalid_datetime", f"datetime {raw!r} ends before it starts")
    return start, end


def _count(params: Mapping[str, str], name: str, default: int, lowest: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, "invalid_number", f"{name} {raw!r} is not a whole number") from None
    if value < lowest:
        raise _bad(name, "out_of_range", f"{name} {value} is below {lowest}")
    return value


def parse_items_query(params: Mapping[str, str], *, default_limit: int, max_limit: int) -> ItemsQuery:
    """The parameters of ``/items``. A ``limit`` above the maximum is served as the maximum (OGC: not an
    error); an unknown parameter is refused (OGC: 400)."""
    unknown = sorted(set(params) - ITEMS_PARAMETERS)
    if unknown:
        raise _bad(unknown[0], "unknown_parameter", f"unknown query parameter {unknown[0]!r}")
    check_format(params)
    limit = min(_count(params, "limit", default_limit, 1), max_limit)
    offset = _count(params, "offset", 0, 0)
    boxes = parse_bbox(params["bbox"]) if "bbox" in params else ()
    start = end = None
    if "datetime" in params:
        start, end = parse_datetime(params["datetime"])
    return ItemsQuery(boxes, start, end, "datetime" in params, limit, offset, dict(params))


def check_format(params: Mapping[str, str]) -> None:
    """``f=json`` (or ``geojson``) is the only encoding; none given is the same."""
    f = params.get("f")
    if f is not None and f not in FORMATS:
        raise _bad("f", "unsupported_format", f"f={f!r}: this service speaks json only")


def extent(features: Sequence[GisFeature]) -> dict[str, Any]:
    """The spatial and temporal extent of a collection as the caller sees it; none when it sees nothing
    (the extent is optional, and a world-sized one would mislead). A temporal bound is open (null) when
    some feature has no time."""
    if not features:
        return {}
    lon0, lat0, lon1, lat1 = shapely.union_all([f.shape.envelope for f in features]).bounds
    starts = [f.start for f in features if f.start is not None]
    ends = [f.end for f in features if f.end is not None]
    interval = [
        format_time(min(starts)) if starts and len(starts) == len(features) else None,
        format_time(max(ends)) if ends and len(ends) == len(features) else None,
    ]
    return {
        "extent": {
            "spatial": {"bbox": [[round(lon0, 7), round(lat0, 7), round(lon1, 7), round(lat1, 7)]], "crs": CRS84},
            "temporal": {"interval": [interval], "trs": GREGORIAN},
        }
    }


def next_page(query: ItemsQuery) -> str:
    """The query string of the page after ``query`` (the same filters, the offset moved on)."""
    return urlencode({**query.raw, "limit": str(query.limit), "offset": str(query.offset + query.limit)})


# ------------------------------------------------------------------------------- the API's definition


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _ok(description: str, media_type: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "invalid_query: a query parameter is not valid (`errors` names it)",
        401: "not_authenticated: missing or unknown API key",
        404: "not_found: no such collection or feature, or not yours to see (the same answer)",
        429: "too_many_failures: too many failed attempts; wait Retry-After seconds",
        500: "internal_error",
    }
    return {str(s): _problem(text[s]) for s in (*statuses, 401, 429, 500)}


def _get(operation_id: str, summary: str, ok: dict[str, Any], parameters: list[Any], *statuses: int) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["OGC API - Features"],
            "parameters": parameters,
            "responses": {"200": ok, **_errors(*statuses)},
        }
    }


def openapi_document(
    server: str, version: str, collections: Sequence[str], default_limit: int, max_limit: int
) -> dict[str, Any]:
    """The OpenAPI 3.0 definition of /ogc (the ``oas30`` conformance class), ``server`` its base URL."""
    f = {"$ref": "#/components/parameters/f"}
    collection_id = {
        "name": "collectionId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(collections)},
    }
    feature_id = {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}}
    link = {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")},
    }
    links = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}
    feature = {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"type": "object", "nullable": True, "description": "An RFC 7946 geometry in CRS84"},
            "properties": {"type": "object", "nullable": True, "description": "Flat: strings, numbers, booleans"},
            "links": links,
        },
    }
    extent = {
        "type": "object",
        "properties": {
            "spatial": {"type": "object", "properties": {"bbox": {"type": "array"}, "crs": {"type": "string"}}},
            "temporal": {"type": "object", "properties": {"interval": {"type": "array"}, "trs": {"type": "string"}}},
        },
    }
    collection = {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "itemType": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "extent": extent,
            "links": links,
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Deconfliction service: OGC API - Features",
            "version": version,
            "description": "Read-only layers for GIS tools, over the same need-to-know as /v1 (docs/gis.md). "
            "Send your party's API key as `Authorization: Bearer <key>`.",
        },
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "paths": {
            "/": _get("getLandingPage", "The landing page", _ok("Links to the API", JSON, "LandingPage"), [f]),
            "/api": _get("getApiDefinition", "This document", {"description": "The OpenAPI 3.0 document"}, []),
            "/conformance": _get("getConformance", "Conformance classes", _ok("The classes", JSON, "Conformance"), [f]),
            "/collections": _get(
                "getCollections", "The layers", _ok("The layers you may read", JSON, "Collections"), [f]
            ),
            "/collections/{collectionId}": _get(
                "describeCollection", "One layer", _ok("The layer", JSON, "Collection"), [collection_id, f], 404
            ),
            "/collections/{collectionId}/items": _get(
                "getFeatures",
                "The features of a layer you may see, filtered and paged",
                _ok("A page of features", GEOJSON, "FeatureCollection"),
                [
                    collection_id,
                    {"$ref": "#/components/parameters/limit"},
                    {"$ref": "#/components/parameters/offset"},
                    {"$ref": "#/components/parameters/bbox"},
                    {"$ref": "#/components/parameters/datetime"},
                    f,
                ],
                400,
                404,
            ),
            "/collections/{collectionId}/items/{featureId}": _get(
                "getFeature", "One feature", _ok("The feature", GEOJSON, "Feature"), [collection_id, feature_id, f], 404
            ),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "Your party's API key"}},
            "parameters": {
                "f": {
                    "name": "f",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": sorted(FORMATS)},
                    "description": "The encoding: JSON (GeoJSON for features), the only one",
                },
                "limit": {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
                    "description": f"Features per page: default {default_limit}, at most {max_limit} "
                    "(DECONFLICTION_PAGE_SIZE_MAX); a larger value is served as the maximum",
                },
                "offset": {
                    "name": "offset",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0, "default": 0},
                    "description": "Features to skip (the `next` link carries it)",
                },
                "bbox": {
                    "name": "bbox",
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                    "description": "minLon,minLat,maxLon,maxLat in CRS84 (minLon > maxLon crosses the antimeridian); "
                    "features whose area meets the box. Six numbers (with heights) are refused with 400",
                },
                "datetime": {
                    "name": "datetime",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "An RFC 3339 instant, or an interval start/end with `..` for an open end: "
                    "features whose window meets it (lines and sites have none and always match)",
                },
            },
            "schemas": {
                "Link": link,
                "LandingPage": {
                    "type": "object",
                    "required": ["links"],
                    "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": links},
                },
                "Conformance": {
                    "type": "object",
                    "required": ["conformsTo"],
                    "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
                },
                "Collection": collection,
                "Collections": {
                    "type": "object",
                    "required": ["links", "collections"],
                    "properties": {"links": links, "collections": {"type": "array", "items": collection}},
                },
                "Feature": feature,
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
                        "links": links,
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                        "timeStamp": {"type": "string", "format": "date-time"},
                    },
                },
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail", "code"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "code": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    }
