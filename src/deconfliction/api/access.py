"""The access log and the request metrics (docs/operations.md).

``Observe`` is a pure ASGI middleware, outermost, so it sees every answer, refusals included: one access
log record per request (method, route template, status, duration, party; never a header, so never the
``Authorization`` key) on the ``deconfliction.access`` logger, and the request counted and timed by route
template (never the raw path: ids would make a series per object).
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deconfliction.service.runtime import Runtime

access_log = logging.getLogger("deconfliction.access")

QUIET_ROUTES = frozenset({"/metrics", "/v1/health", "/v1/health/live", "/v1/health/ready"})
"""Scrapes and probes, asked every few seconds: their access records are DEBUG, not INFO."""

UNMATCHED = "(unmatched)"
"""The route label of a request no route took (404s, the web map's static files)."""

_request: ContextVar[dict[str, str] | None] = ContextVar("deconfliction_request", default=None)


def note_party(party_id: str) -> None:
    """The authenticated party of the current request, for its access log record (called where the
    caller is authenticated; the worker thread shares the request's record through the context)."""
    info = _request.get()
    if info is not None:
        info["party"] = party_id


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class Observe:
    def __init__(self, app: ASGIApp, access: bool = True) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        info: dict[str, str] = {}
        token = _request.set(info)
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            _request.reset(token)
            seconds = time.perf_counter() - started
            method, route = scope["method"], route_template(scope)
            app = scope.get("app")
            rt: Runtime | None = getattr(getattr(app, "state", None), "runtime", None)
            if rt is not None and route != "/metrics":
                rt.metrics.requests.labels(method, route, str(status)).inc()
                rt.metrics.request_seconds.labels(method, route).observe(seconds)
            if self.access:
                party = info.get("party")
                access_log.log(
                    logging.DEBUG if route in QUIET_ROUTES and status < 500 else logging.INFO,
                    "%s %s %d %.1f ms%s",
                    method,
                    route,
                    status,
                    seconds * 1000,
                    f" party {party}" if party else "",
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "party": party,
                        "client": scope["client"][0] if scope.get("client") else None,
                    },
                )
