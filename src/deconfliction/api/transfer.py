"""/v1/export and /v1/import: GeoJSON FeatureCollections of operations, movements, zones and sites, and
KML out (docs/formats.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from deconfliction.api.http import (
    IdemKey,
    KeyDep,
    RawBody,
    RuntimeDep,
    as_party,
    idempotency,
    json_response,
    signed_request,
    stored,
)
from deconfliction.domain.party import Party
from deconfliction.errors import InvalidInput
from deconfliction.service import transfer
from deconfliction.service.signing import signed_receipt
from deconfliction.service.views import conflict_view
from deconfliction.store.ports import StoredResponse

router = APIRouter(prefix="/v1", tags=["import and export"])


@router.get("/export", summary="What you may see, as GeoJSON or KML")
async def export(
    rt: RuntimeDep, key: KeyDep, format: Annotated[Literal["geojson", "kml"], Query()] = "geojson"
) -> Response:
    """Your operations (a movement as one feature along its route), the zones you may see (in force or
    proposed), every active site; KML adds your lines and styles everything per party."""

    def work(party: Party) -> Response:
        if format == "kml":
            return Response(
                transfer.export_kml(rt, party),
                media_type="application/vnd.google-earth.kml+xml",
                headers={"Content-Disposition": 'attachment; filename="deconfliction.kml"'},
            )
        return Response(orjson.dumps(transfer.export_geojson(rt, party)), media_type="application/geo+json")

    return await as_party(rt, key, work)


@router.post("/import", summary="Declare a FeatureCollection of your objects, all or nothing")
async def import_(
    request: Request,
    raw: RawBody,
    rt: RuntimeDep,
    key: KeyDep,
    dry_run: Annotated[bool, Query(description="Check everything; store nothing")] = False,
    idempotency_key: IdemKey = None,
) -> Response:
    """The export's format: `properties.object` is `operation`, `movement`, `zone` or `site`; `id`,
    `version` and `state` are ignored (the service assigns them). Every bad feature is reported at once
    (`features[i]....`) and nothing is stored."""

    def work(party: Party) -> Response:
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise InvalidInput.one("", "invalid_json", f"the body is not JSON: {e}") from None

        def render(r: transfer.GeoJsonImport) -> tuple[int, dict[str, str], Any]:
            out: dict[str, Any] = {"dry_run": r.dry_run, "counts": r.counts, "stored": r.stored}
            if r.receipt is not None:
                out["conflicts"] = [
                    conflict_view(party, c, r.names)
                    for c in r.changed
                    if party.sees_all or party.id in (c.party_a, c.party_b)
                ]
                out["receipt"] = signed_receipt(rt, r.receipt)
            return (200 if r.dry_run else 201), {}, out

        idem = idempotency(request, raw, idempotency_key, render)
        result = transfer.import_geojson(
            rt, party, body, dry_run=dry_run, idempotency=idem, signature=signed_request(request, raw)
        )
        if isinstance(result, StoredResponse):
            return stored(result)
        status, headers, content = render(result)
        return json_response(content, status, headers)

    return await as_party(rt, key, work)
