"""The application factory: settings in, ASGI app out. No global state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from deconfliction import __version__
from deconfliction.api import conflicts, health, ledger, operations, parties, problems
from deconfliction.api.limits import BodyLimit
from deconfliction.service.runtime import Runtime
from deconfliction.settings import Settings
from deconfliction.store import open_store

API_DESCRIPTION = """\
Parties that share a space without sharing a command declare where and when they will be; the service
finds every conflict exactly and tells precisely the parties concerned.

Authentication: `Authorization: Bearer <API key>`. Errors: RFC 9457 problem documents with a stable
`code`. Updates need `If-Match: "<version>"`. Writes accept an `Idempotency-Key`.
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
    for module in (health, parties, operations, conflicts, ledger):
        app.include_router(module.router)
    limits = runtime.limits if runtime is not None else settings.limits
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    return app
