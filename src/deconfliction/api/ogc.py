"""/ogc: OGC API - Features, Part 1 (Core, GeoJSON, OpenAPI 3.0), read-only, for GIS tools (docs/gis.md).

The same key (``Authorization: Bearer``), the same need-to-know and the same problem documents as /v1;
its own OpenAPI 3.0 document at /ogc/api, and no route in the /v1 document.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from deconfliction import __version__
from deconfliction.api.http import DEFAULT_PAGE_SIZE, KeyDep, RuntimeDep, as_party
from deconfliction.domain.party import Party
from deconfliction.domain.volume import format_time
from deconfliction.formats import ogc
from deconfliction.service import ogc as layers

router = APIRouter(prefix="/ogc", include_in_schema=False)


def _answer(body: Any, media_type: str = ogc.JSON) -> Response:
    return Response(orjson.dumps(body), media_type=media_type)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def _collection(base: str, c: layers.Collection, found: list[ogc.GisFeature]) -> dict[str, Any]:
    here = f"{base}/collections/{c.id}"
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [ogc.CRS84],
        **ogc.extent(found),
        "links": [
            _link(here, "self", ogc.JSON, c.title),
            _link(f"{here}/items", "items", ogc.GEOJSON, f"{c.title}: the features"),
        ],
    }


@router.get("")
async def landing(request: Request, rt: RuntimeDep, key: KeyDep) -> Response:
    base = _base(request)

    def work(party: Party) -> Response:
        ogc.check_format(_params(request))
        return _answer(
            {
                "title": "Deconfliction service: OGC API - Features",
                "description": "Zones, lines, sites, your operations, movements and conflict regions, as GIS layers.",
                "links": [
                    _link(base, "self", ogc.JSON, "This document"),
                    _link(f"{base}/api", "service-desc", ogc.OPENAPI, "The API definition (OpenAPI 3.0)"),
                    _link(f"{base}/conformance", "conformance", ogc.JSON, "Conformance classes"),
                    _link(f"{base}/collections", "data", ogc.JSON, "The collections"),
                ],
            }
        )

    return await as_party(rt, key, work)


@router.get("/api")
async def api_definition(request: Request, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        return _answer(
            ogc.openapi_document(
                _base(request),
                __version__,
                [c.id for c in layers.COLLECTIONS],
                DEFAULT_PAGE_SIZE,
                rt.limits.page_size_max,
            ),
            ogc.OPENAPI,
        )

    return await as_party(rt, key, work)


@router.get("/conformance")
async def conformance(request: Request, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        ogc.check_format(_params(request))
        return _answer({"conformsTo": list(ogc.CONFORMANCE)})

    return await as_party(rt, key, work)


@router.get("/collections")
async def collections(request: Request, rt: RuntimeDep, key: KeyDep) -> Response:
    base = _base(request)

    def work(party: Party) -> Response:
        ogc.check_format(_params(request))
        return _answer(
            {
                "links": [_link(f"{base}/collections", "self", ogc.JSON, "The collections")],
                "collections": [_collection(base, c, layers.features(rt, party, c.id)) for c in layers.COLLECTIONS],
            }
        )

    return await as_party(rt, key, work)


@router.get("/collections/{collection_id}")
async def collection(collection_id: str, request: Request, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        ogc.check_format(_params(request))
        c = layers.collection(collection_id)
        return _answer(_collection(_base(request), c, layers.features(rt, party, c.id)))

    return await as_party(rt, key, work)


@router.get("/collections/{collection_id}/items")
async def items(collection_id: str, request: Request, rt: RuntimeDep, key: KeyDep) -> Response:
    here = f"{_base(request)}/collections/{collection_id}"

    def work(party: Party) -> Response:
        layers.collection(collection_id)
        query = ogc.parse_items_query(
            _params(request), default_limit=DEFAULT_PAGE_SIZE, max_limit=rt.limits.page_size_max
        )
        found, matched = layers.items(rt, party, collection_id, query)
        links = [
            _link(str(request.url), "self", ogc.GEOJSON, "This page"),
            _link(here, "collection", ogc.JSON, "The collection"),
        ]
        if query.offset + len(found) < matched:
            links.append(_link(f"{here}/items?{ogc.next_page(query)}", "next", ogc.GEOJSON, "The next page"))
        return _answer(
            {
                "type": "FeatureCollection",
                "features": [f.geojson() for f in found],
                "links": links,
                "numberMatched": matched,
                "numberReturned": len(found),
                "timeStamp": format_time(rt.clock()),
            },
            ogc.GEOJSON,
        )

    return await as_party(rt, key, work)


@router.get("/collections/{collection_id}/items/{feature_id}")
async def item(collection_id: str, feature_id: str, request: Request, rt: RuntimeDep, key: KeyDep) -> Response:
    here = f"{_base(request)}/collections/{collection_id}"

    def work(party: Party) -> Response:
        ogc.check_format(_params(request))
        layers.collection(collection_id)
        body = layers.item(rt, party, collection_id, feature_id).geojson()
        body["links"] = [
            _link(f"{here}/items/{feature_id}", "self", ogc.GEOJSON, "This feature"),
            _link(here, "collection", ogc.JSON, "The collection"),
        ]
        return _answer(body, ogc.GEOJSON)

    return await as_party(rt, key, work)
