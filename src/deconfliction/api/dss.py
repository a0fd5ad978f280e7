"""HTTP adapter of the ASTM F3548-21 DSS interface at /dss/v1 (docs/dss.md): parse, check the token and
its scope, call one ``deconfliction.dss.service.Dss`` method, serialise. Wire bodies are the
``uas_standards`` types; errors are the standard's ``ErrorResponse`` (``{"message": ...}``), not problem+json.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope
from uas_standards.astm.f3548.v21.constants import Scope

from deconfliction.api.screen import screen
from deconfliction.dss.auth import AuthError, Caller, TokenVerifier
from deconfliction.dss.service import Dss, DssError
from deconfliction.errors import TooManyFailures
from deconfliction.service.guard import address_scope, record_failure, refuse_if_locked
from deconfliction.settings import Settings

SC = Scope.StrategicCoordination.value
CM = Scope.ConstraintManagement.value
CP = Scope.ConstraintProcessing.value
CMSA = Scope.ConformanceMonitoringForSituationalAwareness.value
AA = Scope.AvailabilityArbitration.value

INTENTS = (SC, CMSA)
CONSTRAINTS_READ = (CM, CP)
CONSTRAINTS_WRITE = (CM,)
SUBSCRIPTIONS = (SC, CP)
REPORTS = (SC, CM, CP, CMSA, AA)
AVAILABILITY_READ = (SC, CMSA, AA)
AVAILABILITY_WRITE = (AA,)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise DssError(400, f"Malformed params: {exc}") from None


PREFIX = "/dss/v1"

Handler = Callable[..., Awaitable[Response]]


class DssRoutes(BaseRoute):
    """The /dss/v1 routes as one plain Starlette route group, looked at first: a DSS request is matched by
    its prefix and one of these routes, not after every /v1 route, and its handler is called without
    FastAPI's dependency solving (the handlers parse their bodies themselves, and there is nothing for
    FastAPI to document: the contract of these routes is the standard's own OpenAPI document,
    astm-utm/Protocol, not /v1's). The application-wide screen (api/screen.py) is called by each route,
    before anything else, as FastAPI calls it for the others; a route's template labels its requests in
    the access log and the metrics as before."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def _add(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                await screen(request)
                return await handler(request, **request.path_params)

            route = Route(PREFIX + path, endpoint, methods=[method], name=handler.__name__)
            route.methods = {method}  # Starlette adds HEAD to a GET; FastAPI's routes did not
            self.routes.append(route)
            return handler

        return add

    def get(self, path: str, summary: str) -> Callable[[Handler], Handler]:
        return self._add("GET", path)

    def post(self, path: str, summary: str) -> Callable[[Handler], Handler]:
        return self._add("POST", path)

    def put(self, path: str, summary: str) -> Callable[[Handler], Handler]:
        return self._add("PUT", path)

    def delete(self, path: str, summary: str) -> Callable[[Handler], Handler]:
        return self._add("DELETE", path)

    def matches(self, scope: AsgiScope) -> tuple[Match, AsgiScope]:
        # a quick no for every other request (the path holds a root path, if any, before the prefix);
        # the routes themselves decide the rest
        if scope["type"] != "http" or PREFIX + "/" not in scope["path"]:
            return Match.NONE, {}
        partial: AsgiScope | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            if match == Match.FULL:
                return match, {**child, "route": route}
            if match == Match.PARTIAL and partial is None:
                partial = {**child, "route": route}
        return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, {})

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        await scope["route"].handle(scope, receive, send)


def build_router(verifier: TokenVerifier, allow_http: bool) -> DssRoutes:
    router = DssRoutes()

    def dss(request: Request) -> Dss:
        rt = request.app.state.runtime
        return Dss(rt.store, rt.clock, allow_http=allow_http, runtime=rt)

    async def call(
        request: Request, scopes: tuple[str, ...], work: Callable[[Dss, Caller], Any], ok: int = 200
    ) -> Response:
        rt = request.app.state.runtime
        address = request.client.host if request.client else None
        authorization = request.headers.get("authorization")
        service = dss(request)

        def job() -> Any:
            # one worker-thread hop per request: the lockout read, the token (its signature is checked
            # once, then remembered), the work
            if address:  # guessing tokens is limited as guessing keys is (docs/security.md)
                refuse_if_locked(rt, [address_scope(address)])
            return work(service, verifier.verify(authorization, scopes))

        try:
            result = await run_in_threadpool(job)
        except TooManyFailures as exc:
            retry = str(exc.extra.get("retry_after_s", 1))
            return _json(429, {"message": str(exc)}, headers={"Retry-After": retry})
        except AuthError as exc:
            if exc.status == 401:  # no or a bad token (a good token short of a scope is not a guess)
                await run_in_threadpool(record_failure, rt, "jwt", address)
            return _json(exc.status, {"message": exc.message})
        except DssError as exc:
            return _json(exc.status, exc.body)
        return _json(ok, result)

    @router.post("/operational_intent_references/query", summary="Query operational intent references")
    async def query_intents(request: Request) -> Response:
        body = await _safe_body(request)
        return await call(request, INTENTS, lambda d, c: d.query_intents(c.subject, body))

    @router.get("/operational_intent_references/{entityid}", summary="Get an operational intent reference")
    async def get_intent(request: Request, entityid: str) -> Response:
        return await call(request, INTENTS, lambda d, c: d.get_intent(c.subject, entityid))

    @router.put("/operational_intent_references/{entityid}", summary="Create an operational intent reference")
    async def create_intent(request: Request, entityid: str) -> Response:
        body = await _safe_body(request)
        return await call(request, INTENTS, lambda d, c: d.put_intent(c.subject, c.scopes, entityid, "", body), 201)

    @router.put("/operational_intent_references/{entityid}/{ovn}", summary="Update an operational intent reference")
    async def update_intent(request: Request, entityid: str, ovn: str) -> Response:
        body = await _safe_body(request)
        return await call(request, INTENTS, lambda d, c: d.put_intent(c.subject, c.scopes, entityid, ovn, body))

    @router.delete("/operational_intent_references/{entityid}/{ovn}", summary="Delete an operational intent reference")
    async def delete_intent(request: Request, entityid: str, ovn: str) -> Response:
        return await call(request, INTENTS, lambda d, c: d.delete_intent(c.subject, entityid, ovn))

    @router.post("/constraint_references/query", summary="Query constraint references")
    async def query_constraints(request: Request) -> Response:
        body = await _safe_body(request)
        return await call(request, CONSTRAINTS_READ, lambda d, c: d.query_constraints(c.subject, body))

    @router.get("/constraint_references/{entityid}", summary="Get a constraint reference")
    async def get_constraint(request: Request, entityid: str) -> Response:
        return await call(request, CONSTRAINTS_READ, lambda d, c: d.get_constraint(c.subject, entityid))

    @router.put("/constraint_references/{entityid}", summary="Create a constraint reference")
    async def create_constraint(request: Request, entityid: str) -> Response:
        body = await _safe_body(request)
        return await call(request, CONSTRAINTS_WRITE, lambda d, c: d.put_constraint(c.subject, entityid, "", body), 201)

    @router.put("/constraint_references/{entityid}/{ovn}", summary="Update a constraint reference")
    async def update_constraint(request: Request, entityid: str, ovn: str) -> Response:
        body = await _safe_body(request)
        return await call(request, CONSTRAINTS_WRITE, lambda d, c: d.put_constraint(c.subject, entityid, ovn, body))

    @router.delete("/constraint_references/{entityid}/{ovn}", summary="Delete a constraint reference")
    async def delete_constraint(request: Request, entityid: str, ovn: str) -> Response:
        return await call(request, CONSTRAINTS_WRITE, lambda d, c: d.delete_constraint(c.subject, entityid, ovn))

    @router.post("/subscriptions/query", summary="Query subscriptions")
    async def query_subscriptions(request: Request) -> Response:
        body = await _safe_body(request)
        return await call(request, SUBSCRIPTIONS, lambda d, c: d.query_subscriptions(c.subject, body))

    @router.get("/subscriptions/{subscriptionid}", summary="Get a subscription")
    async def get_subscription(request: Request, subscriptionid: str) -> Response:
        return await call(request, SUBSCRIPTIONS, lambda d, c: d.get_subscription(c.subject, subscriptionid))

    @router.put("/subscriptions/{subscriptionid}", summary="Create a subscription")
    async def create_subscription(request: Request, subscriptionid: str) -> Response:
        body = await _safe_body(request)
        return await call(
            request, SUBSCRIPTIONS, lambda d, c: d.put_subscription(c.subject, c.scopes, subscriptionid, "", body)
        )

    @router.put("/subscriptions/{subscriptionid}/{version}", summary="Update a subscription")
    async def update_subscription(request: Request, subscriptionid: str, version: str) -> Response:
        body = await _safe_body(request)
        return await call(
            request, SUBSCRIPTIONS, lambda d, c: d.put_subscription(c.subject, c.scopes, subscriptionid, version, body)
        )

    @router.delete("/subscriptions/{subscriptionid}/{version}", summary="Delete a subscription")
    async def delete_subscription(request: Request, subscriptionid: str, version: str) -> Response:
        return await call(
            request, SUBSCRIPTIONS, lambda d, c: d.delete_subscription(c.subject, subscriptionid, version)
        )

    @router.post("/reports", summary="Report a communication issue with a DSS")
    async def make_report(request: Request) -> Response:
        body = await _safe_body(request)
        return await call(request, REPORTS, lambda d, c: d.make_report(c.subject, body), 201)

    @router.get("/uss_availability/{uss_id}", summary="Get a USS's availability")
    async def get_availability(request: Request, uss_id: str) -> Response:
        return await call(request, AVAILABILITY_READ, lambda d, c: d.get_availability(uss_id))

    @router.put("/uss_availability/{uss_id}", summary="Set a USS's availability")
    async def set_availability(request: Request, uss_id: str) -> Response:
        body = await _safe_body(request)
        return await call(request, AVAILABILITY_WRITE, lambda d, c: d.set_availability(c.subject, uss_id, body))

    return router


async def _safe_body(request: Request) -> Any:
    try:
        return await _body(request)
    except DssError:
        return _MALFORMED


_MALFORMED = object()
"""A body that is not JSON: the service refuses it as a non-object (400) once the token is checked."""


def install(app: FastAPI, settings: Settings) -> None:
    """Mount /dss/v1 when public keys are configured (the interface is off otherwise)."""
    if not settings.dss_public_keys:
        return
    if not settings.dss_audiences:
        raise ValueError("DECONFLICTION_DSS_AUDIENCES is required with DECONFLICTION_DSS_PUBLIC_KEYS")
    keys = []
    for path in settings.dss_public_keys:
        try:
            keys.append(Path(path).read_bytes())
        except OSError as exc:
            raise ValueError(f"DECONFLICTION_DSS_PUBLIC_KEYS: cannot read {path}: {exc.strerror}") from None
    verifier = TokenVerifier(keys, settings.dss_audiences)
    app.router.routes.insert(0, build_router(verifier, settings.dss_allow_http_base_urls))
