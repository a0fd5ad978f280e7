"""The application factory: settings in, ASGI app out. No global state."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from deconfliction import __version__
from deconfliction.api import api_keys as api_keys_api
from deconfliction.api import certificates as certificates_api
from deconfliction.api import (
    conflicts,
    contract,
    delivery,
    health,
    hotline,
    incidents,
    keys,
    ledger,
    notifications,
    operations,
    packet,
    parties,
    problems,
    requests,
)
from deconfliction.api import dss as dss_api
from deconfliction.api import exercise as exercise_api
from deconfliction.api import lines as lines_api
from deconfliction.api import movements as movements_api
from deconfliction.api import ogc as ogc_api
from deconfliction.api import sites as sites_api
from deconfliction.api import tracks as tracks_api
from deconfliction.api import transfer as transfer_api
from deconfliction.api import units as units_api
from deconfliction.api import web as web_ui
from deconfliction.api import zones as zones_api
from deconfliction.api.access import Observe
from deconfliction.api.limits import BodyLimit
from deconfliction.api.probes import router as probes_router
from deconfliction.api.screen import screen
from deconfliction.api.security import SecurityHeaders
from deconfliction.domain.signing import SIGNATURE_HEADERS
from deconfliction.service.delivery import NetworkSender, Sender, run_deliveries
from deconfliction.service.exercise import open_deployment
from deconfliction.service.exercise import refresh as refresh_exercise_clock
from deconfliction.service.notifications import flag_expired_sites, run_escalations
from deconfliction.service.runtime import Runtime
from deconfliction.service.sanity import expire_conflicts
from deconfliction.service.signing import announce_service_key
from deconfliction.service.tactical.setup import build_tactical
from deconfliction.settings import Settings
from deconfliction.store import open_store

log = logging.getLogger(__name__)

API_DESCRIPTION = """\
Parties that share a space without sharing a command declare where and when they will be; the service
finds every conflict exactly and tells precisely the parties concerned.

Authentication: `Authorization: Bearer <API key>`. Errors: RFC 9457 problem documents with a stable
`code`. Updates need `If-Match: "<version>"`. Writes accept an `Idempotency-Key` and return a receipt
signed by the service; a party with a registered key signs its writes (docs/signing.md).
"""


ESCALATION_EVERY_S = 1.0
CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
    *SIGNATURE_HEADERS,
]


async def _rounds_forever(rt: Runtime, sender: Sender) -> None:
    """Escalations, deliveries, expired sites and conflicts whose window ended, once a second, in every
    server process (each step is taken once)."""
    while True:
        for name, job in (
            ("conflict expiry", lambda: expire_conflicts(rt)),  # first: nothing escalates once it ended
            ("escalation", lambda: run_escalations(rt)),
            ("delivery", lambda: run_deliveries(rt, sender)),
            ("site expiry", lambda: flag_expired_sites(rt)),
            ("exercise clock", lambda: refresh_exercise_clock(rt)),  # another process's jump
        ):
            try:
                await run_in_threadpool(job)
            except Exception:  # a database hiccup must not stop the ladder; the next round tries again
                log.exception("%s round failed", name)
        await asyncio.sleep(ESCALATION_EVERY_S)


SWITCH_INTERVAL_S = 0.0005
"""How long a thread may keep the interpreter while another waits for it (Python's default: 5 ms). The
detection cycle's thread hands it back at every NumPy call and database read, and under a full ingest waited
up to 5 ms each time to get it again: at 100,000 tracks its 1 s period stretched to 1.3-1.9 s. At 0.5 ms the
period holds (bench/ingest.py, docs/operations.md)."""


GC_THRESHOLDS = (50_000, 20, 100)
"""When Python's cyclic garbage collector runs (its defaults: 700, 10, 10). A batch of 5,000 position reports
is tens of thousands of objects alive for a few milliseconds: at the default they were promoted to the
oldest generation and set off two full passes a second over the whole process under a full ingest (85 ms
each, every thread stopped: measured with ``gc.callbacks``). The service makes little cyclic garbage; the
memory this keeps waiting is small."""


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """An app over ``runtime`` if given (tests), else over a store opened from ``settings``."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        if owned:  # a server process of its own (tests keep the interpreter's defaults)
            sys.setswitchinterval(SWITCH_INTERVAL_S)
            gc.set_threshold(*GC_THRESHOLDS)
        if runtime is None:
            store = open_store(
                settings.database_url,
                sqlite_synchronous=settings.sqlite_synchronous,
                safety_net_s=settings.stream_poll_s,
            )
            try:  # live or exercise: the database must hold the same kind of data (docs/exercise.md)
                scenario = open_deployment(store, settings.exercise_start, settings.exercise_speed)
            except Exception:
                store.close()
                raise
            rt = settings.runtime(store, scenario)
        else:
            rt = runtime
        app.state.runtime = rt
        try:
            announce_service_key(rt)  # before the first receipt it signs
        except Exception as exc:  # the service starts, and reports its database on /v1/health
            log.warning(
                "could not announce the receipt key yet (%s: %s); will on the first write", type(exc).__name__, exc
            )
        # deadlines live in the database: every server looks once a second, and each step is taken once
        sender = NetworkSender(settings.smtp_host, settings.smtp_port, settings.smtp_from)
        escalations = asyncio.create_task(_rounds_forever(rt, sender)) if owned else None
        # tracks, feeds and the detection cycle (tests drive the cycle themselves: docs/tactical.md)
        app.state.tactical = build_tactical(
            rt,
            cycle_s=settings.tactical_cycle_s,
            expiry_s=settings.track_expiry_s,
            policy_file=settings.tactical_policy_file,
            sbs_feeds=settings.sbs_feeds,
            cot_udp=settings.cot_udp,
            cot_tcp=settings.cot_tcp,
            earth_model=settings.tactical_earth_model,
        )
        await app.state.tactical.start(run_cycle=owned)
        try:
            yield
        finally:
            await app.state.tactical.stop()
            if escalations is not None:
                escalations.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await escalations
            if owned:
                rt.store.close()

    app = FastAPI(
        title="Deconfliction service",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,  # served by web_ui with bundled assets: /v1/docs works with no internet
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(screen)],  # control characters and out-of-range integers, for every route
    )
    if runtime is not None:
        app.state.runtime = runtime
    problems.install(app)
    app.include_router(probes_router)  # /v1/health/live, /v1/health/ready, /metrics
    contract.install(app)
    for module in (
        health,
        parties,
        keys,
        operations,
        conflicts,
        incidents,
        notifications,
        delivery,
        hotline,
        requests,
        ledger,
        packet,
    ):
        app.include_router(module.router)
    for areas_module in (sites_api, zones_api, lines_api, movements_api, transfer_api):
        app.include_router(areas_module.router)
    app.include_router(tracks_api.router)
    app.include_router(exercise_api.router)
    app.include_router(units_api.router)
    app.include_router(certificates_api.router)
    dss_api.install(app, settings)  # /dss/v1, only when DSS public keys are configured (docs/dss.md)
    app.include_router(api_keys_api.router)
    app.include_router(ogc_api.router)  # /ogc: OGC API - Features for GIS tools, its own OpenAPI 3.0 (docs/gis.md)
    web_ui.install(app, settings.tile_url, Path(settings.map_pmtiles) if settings.map_pmtiles else None)
    limits = runtime.limits if runtime is not None else settings.limits
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    app.add_middleware(exercise_api.ExerciseHeader)  # outermost: every answer, refusals included
    app.add_middleware(SecurityHeaders, tile_url=settings.tile_url)  # CSP, nosniff, framing, HSTS over TLS
    if settings.cors_origins:  # closed by default: only the origins a deployment names (docs/security.md)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_HEADERS,
            expose_headers=["ETag", "Location", "Retry-After", "Idempotent-Replayed", "Deconfliction-Exercise"],
        )
    app.add_middleware(Observe, access=settings.access_log)  # outermost: every answer is logged and counted
    return app
