"""/v1/incidents: report an incident; read the inquiry (JSON) and its self-contained HTML report."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse, Response

from deconfliction import wire
from deconfliction.api.http import KeyDep, Limit, RuntimeDep, as_party, json_response, paged
from deconfliction.api.schemas import IncidentIn
from deconfliction.domain.incident import parse_incident
from deconfliction.domain.party import Party
from deconfliction.report import REPORT_CSP, incident_html
from deconfliction.service import incidents
from deconfliction.service.signing import signed_receipt

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])


@router.post(
    "",
    operation_id="reportIncident",
    response_model=wire.IncidentWrite,
    status_code=201,
    summary="Report an incident (place, time, what happened)",
)
async def report(body: IncidentIn, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        incident, receipt = incidents.report_incident(rt, party, parse_incident(body.model_dump()))
        return json_response(
            wire.IncidentWrite(incident=incidents.incident_view(incident), receipt=signed_receipt(rt, receipt)),
            201,
            {"Location": f"/v1/incidents/{incident.id}"},
        )

    return await as_party(rt, key, work)


@router.get(
    "",
    operation_id="listIncidents",
    response_model=wire.IncidentPage,
    summary="Incidents you reported (the coordinator and auditors: all)",
)
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    cursor: str | None = None,
    limit: Limit = None,
) -> Response:
    def work(party: Party) -> Response:
        return paged(
            rt,
            cursor,
            limit,
            lambda after, n: incidents.list_incidents(rt, party, after=after, limit=n),
            incidents.incident_view,
            lambda i: i.id,
            wire.IncidentPage,
        )

    return await as_party(rt, key, work)


@router.get(
    "/{incident_id}",
    operation_id="getIncident",
    response_model=wire.Inquiry,
    summary="The inquiry: what was near, and who was told what, when",
)
async def get(incident_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(
        rt,
        key,
        lambda party: json_response(
            wire.Inquiry.model_validate(incidents.inquiry_json(incidents.inquire(rt, party, incident_id)))
        ),
    )


@router.get(
    "/{incident_id}/report",
    operation_id="getIncidentReport",
    summary="The inquiry as one self-contained HTML page",
    response_class=HTMLResponse,
)
async def report_html(incident_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        return HTMLResponse(
            incident_html(incidents.inquire(rt, party, incident_id)), headers={"Content-Security-Policy": REPORT_CSP}
        )

    return await as_party(rt, key, work)
