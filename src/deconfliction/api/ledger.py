"""/v1/ledger: the hash-chained record as the caller may see it, as JSON Lines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.http import SEQ_MAX, KeyDep, RuntimeDep, as_party, json_response
from deconfliction.domain.ledger import export_line
from deconfliction.domain.party import Party
from deconfliction.service.ledger import export_ledger, ledger_head

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])

JSONL = "application/jsonl"
MAX_PAGE = 10_000


@router.get(
    "",
    operation_id="exportLedger",
    summary="Export the ledger as the caller may see it (JSON Lines)",
    response_class=Response,
    responses={200: {"content": {JSONL: {}}, "description": "A header line, then one line per entry"}},
)
async def export(
    rt: RuntimeDep,
    key: KeyDep,
    after: Annotated[int, Query(ge=0, le=SEQ_MAX, description="Start after this entry number")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Entries at most (up to {MAX_PAGE})")] = 1000,
) -> Response:
    """Entries the caller may read are whole; the others keep only their hashes (`"redacted": true`),
    so the chain verifies offline with `deconflict ledger verify`. The header line says which entries
    the page holds (`after_seq` + 1 to `until_seq`) and the chain's head; ask again with
    `after=until_seq` for the next page."""

    def work(party: Party) -> bytes:
        return b"".join(export_line(line) for line in export_ledger(rt, party, after=after, limit=limit))

    return Response(await as_party(rt, key, work), media_type=JSONL)


@router.get(
    "/head",
    operation_id="getLedgerHead",
    response_model=wire.LedgerHead,
    summary="The chain's head: number and hash of the last entry",
)
async def head(rt: RuntimeDep, key: KeyDep) -> Response:
    """What a receipt is checked against: every receipt's entry is at or before the head, and an export
    up to the head ends on this hash."""
    seq, digest = await as_party(rt, key, lambda _party: ledger_head(rt))
    return json_response(wire.LedgerHead(seq=seq, hash=digest))


@router.get(
    "/service-key",
    operation_id="getServiceKey",
    response_model=wire.ServiceKey,
    summary="The key this service process signs receipts with",
)
async def service_key(rt: RuntimeDep, key: KeyDep) -> Response:
    """The same key is announced in the ledger (entry type `service.key`, readable by every party)
    before it signs anything, so an export alone checks every receipt; this endpoint is a shortcut."""
    await as_party(rt, key, lambda _party: None)
    return json_response(wire.ServiceKey(**rt.signer.announcement()))
