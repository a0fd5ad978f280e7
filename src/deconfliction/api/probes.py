"""``/metrics`` and the liveness and readiness probes (docs/operations.md)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from deconfliction import __version__
from deconfliction.api.http import RuntimeDep
from deconfliction.service import health as health_service
from deconfliction.service.metrics import CONTENT_TYPE, scrape

router = APIRouter(tags=["health"])


class Live(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class Check(BaseModel):
    name: str
    """database, migrations or tactical_cycle"""
    ok: bool
    detail: str


class Ready(BaseModel):
    status: Literal["ready", "not_ready"]
    backend: str
    version: str
    checks: list[Check]


@router.get(
    "/v1/health/live", operation_id="getLiveness", summary="Liveness: is this process serving?", response_model=Live
)
async def live() -> Live:
    """200 while the process answers at all: no database, nothing that can be slow. Restart the process
    when it fails."""
    return Live(version=__version__)


@router.get(
    "/v1/health/ready",
    operation_id="getReadiness",
    summary="Readiness: may this process take traffic?",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "Not ready: the failing checks say why"}},
)
async def ready(request: Request, rt: RuntimeDep) -> Response:
    """200 when the database answers, its migrations are exactly those this version ships, and the
    tactical detection cycle runs somewhere; 503 with the failing checks otherwise."""
    tactical = getattr(request.app.state, "tactical", None)
    checks = await run_in_threadpool(health_service.readiness, rt, tactical)
    ok = all(c.ok for c in checks)
    body = Ready(
        status="ready" if ok else "not_ready",
        backend=rt.store.backend,
        version=__version__,
        checks=[Check(name=c.name, ok=c.ok, detail=c.detail) for c in checks],
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(rt: RuntimeDep) -> Response:
    """Prometheus text exposition (docs/operations.md)."""
    return Response(await run_in_threadpool(scrape, rt), media_type=CONTENT_TYPE)
