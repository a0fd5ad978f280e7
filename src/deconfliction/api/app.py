"""The application factory: settings in, ASGI app out. No global state."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from deconfliction import __version__
from deconfliction.api import conflicts, health, incidents, keys, ledger, operations, parties, problems
from deconfliction.api.limits import BodyLimit
from deconfliction.service.runtime import Runtime
from deconfliction.service.signing import announce_service_key
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


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """An app over ``runtime`` if given (tests), else over a store opened from ``settings``."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or Runtime(
            open_store(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous),
            settings.policy(),
            settings.limits,
        )
        app.state.runtime = rt
        try:
            announce_service_key(rt)  # before the first receipt it signs
        except Exception as exc:  # the service starts, and reports its database on /v1/health
            log.warning(
                "could not announce the receipt key yet (%s: %s); will on the first write", type(exc).__name__, exc
            )
        try:
            yield
        finally:
            if owned:
                rt.store.close()

    app = FastAPI(
        title="Deconfliction service",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    if runtime is not None:
        app.state.runtime = runtime
    problems.install(app)
    for module in (health, parties, keys, operations, conflicts, incidents, ledger):
        app.include_router(module.router)
    limits = runtime.limits if runtime is not None else settings.limits
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    return app
