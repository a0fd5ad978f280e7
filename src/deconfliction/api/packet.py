"""/v1/packet: the caller's situation at a time as a printable PDF, for degraded communications
(docs/packet.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from deconfliction.api.http import KeyDep, RuntimeDep, as_party
from deconfliction.domain.party import Party
from deconfliction.domain.volume import parse_time
from deconfliction.service.packet import situation_packet

router = APIRouter(prefix="/v1/packet", tags=["packet"])

PDF = "application/pdf"


@router.get(
    "",
    operation_id="getPacket",
    summary="Your situation at a time as a printable PDF (map, conflicts, contacts, ledger head)",
    response_class=Response,
    responses={200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}, "description": "The PDF"}},
)
async def get(
    rt: RuntimeDep,
    key: KeyDep,
    at: Annotated[
        str | None,
        Query(
            description="RFC 3339 time of the situation (default: the service's now)", examples=["2026-11-23T08:00:00Z"]
        ),
    ] = None,
    paper: Annotated[Literal["a4", "letter"], Query(description="Paper size")] = "a4",
) -> Response:
    """A PDF of what the caller may see, as ``/v1`` shows it: the map around its area of interest
    (objects in force at ``at``, open conflicts not ended by then), the open conflicts with their
    windows, acknowledgements and what is overdue, the contacts it may call, and the ledger head
    (sequence and hash) so the paper can be checked against the record later. An exercise server marks
    every page EXERCISE."""

    def work(party: Party) -> Response:
        when = parse_time(at, "at") if at is not None else None
        pdf = situation_packet(rt, party, when, paper)
        stamp = (when or rt.clock()).strftime("%Y%m%dT%H%MZ")
        return Response(
            pdf,
            media_type=PDF,
            headers={"Content-Disposition": f'attachment; filename="packet-{stamp}.pdf"', "Cache-Control": "no-store"},
        )

    return await as_party(rt, key, work)
