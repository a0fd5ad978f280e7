"""/v1/health: liveness and the backend in use (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from deconfliction import __version__, wire
from deconfliction.api.http import RuntimeDep, json_response
from deconfliction.service.health import check

router = APIRouter(prefix="/v1", tags=["health"])


@router.get(
    "/health",
    operation_id="getHealth",
    response_model=wire.Health,
    responses={503: {"model": wire.Health, "description": "Degraded: the database cannot be reached"}},
    summary="Is the service up, and can it reach its database?",
)
async def health(rt: RuntimeDep) -> Response:
    ok, detail = await run_in_threadpool(check, rt)
    return json_response(
        wire.Health(status="ok" if ok else "degraded", backend=rt.store.backend, version=__version__, database=detail),
        200 if ok else 503,
    )
