"""/v1/export and /v1/import: GeoJSON FeatureCollections of operations, movements, zones and sites, and
KML, both ways (docs/formats.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response

from deconfliction import wire
from deconfliction.api.http import (
    IdemKey,
    KeyDep,
    RawBody,
    RuntimeDep,
    Signature,
    as_party,
    idempotency,
    respond,
)
from deconfliction.domain.party import Party
from deconfliction.errors import FieldError, InvalidInput
from deconfliction.formats.kml import read_kml
from deconfliction.service import transfer
from deconfliction.service.signing import signed_receipt
from deconfliction.service.views import conflict_view

router = APIRouter(prefix="/v1", tags=["import and export"])

KML = "application/vnd.google-earth.kml+xml"


class GeoJSONResponse(JSONResponse):
    """For the document only (the handler sends its bytes as they are): JSON, as application/geo+json."""

    media_type = "application/geo+json"


@router.get(
    "/export",
    operation_id="exportObjects",
    summary="What you may see, as GeoJSON or KML",
    response_class=GeoJSONResponse,
    response_model=wire.FeatureCollection,
    responses={200: {"content": {KML: {"schema": {"type": "string"}}}, "description": "GeoJSON, or KML"}},
)
async def export(
    rt: RuntimeDep, key: KeyDep, format: Annotated[Literal["geojson", "kml"], Query()] = "geojson"
) -> Response:
    """Your operations (a movement as one feature along its route), the zones you may see (in force or
    proposed), every active site; KML adds your lines and styles everything per party."""

    def work(party: Party) -> Response:
        if format == "kml":
            return Response(
                transfer.export_kml(rt, party),
                media_type=KML,
                headers={"Content-Disposition": 'attachment; filename="deconfliction.kml"'},
            )
        return Response(orjson.dumps(transfer.export_geojson(rt, party)), media_type=GeoJSONResponse.media_type)

    return await as_party(rt, key, work)


@router.post(
    "/import",
    operation_id="importObjects",
    response_model=wire.ImportReport,
    responses={201: {"model": wire.ImportReport, "description": "Stored (not a dry run)"}},
    summary="Declare a FeatureCollection (or a KML document) of your objects, all or nothing",
)
async def import_(
    request: Request,
    raw: RawBody,
    signed: Signature,
    rt: RuntimeDep,
    key: KeyDep,
    dry_run: Annotated[bool, Query(description="Check everything; store nothing")] = False,
    idempotency_key: IdemKey = None,
) -> Response:
    """The export's format: `properties.object` is `operation`, `movement`, `zone` or `site`; `id`,
    `version` and `state` are ignored (the service assigns them). Or `{"kml": "<text>", "dry_run": bool}`:
    the KML's placemarks, read as that FeatureCollection (docs/formats.md, KML). Every bad feature is
    reported at once (`features[i]....`, `placemarks[i]....`) and nothing is stored."""

    def work(party: Party) -> Response:
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise InvalidInput.one("", "invalid_json", f"the body is not JSON: {e}") from None
        dry = dry_run
        if isinstance(body, dict) and "kml" in body:
            body, dry = from_kml(body, dry_run)

        def render(r: transfer.GeoJsonImport) -> tuple[int, dict[str, str], Any]:
            out: dict[str, Any] = r.as_dict()
            out["conflicts"] = [  # a dry run's: the conflicts the import would open
                conflict_view(party, c, r.names)
                for c in r.changed
                if party.sees_all or party.id in (c.party_a, c.party_b)
            ]
            if r.receipt is not None:
                out["receipt"] = signed_receipt(rt, r.receipt)
            status = 201 if r.receipt is not None else 200  # 200: a dry run, or nothing new
            return status, {}, wire.ImportReport.model_validate(out)

        idem = idempotency(request, raw, idempotency_key, render)
        result = transfer.import_geojson(rt, party, body, dry_run=dry, idempotency=idem, signature=signed)
        return respond(result, render)

    return await as_party(rt, key, work)


KML_BODY = ("kml", "dry_run")


def from_kml(body: dict[str, Any], dry_run: bool) -> tuple[dict[str, Any], bool]:
    """A ``{"kml": "<text>", "dry_run": bool}`` body as the FeatureCollection its placemarks make
    (``read_kml``) and whether it is a dry run (the body's ``dry_run`` or the query's)."""
    errors = [
        FieldError(k, "unknown_field", f"a KML import has the members {', '.join(KML_BODY)}")
        for k in body
        if k not in KML_BODY
    ]
    if not isinstance(body["kml"], str):
        errors.append(FieldError("kml", "invalid_value", "kml is the KML document, as text"))
    flag = body.get("dry_run", False)
    if not isinstance(flag, bool):
        errors.append(FieldError("dry_run", "invalid_value", "dry_run is true or false"))
    if errors:
        raise InvalidInput(errors)
    return read_kml(body["kml"]), dry_run or flag
