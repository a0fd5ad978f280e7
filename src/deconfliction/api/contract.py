"""The OpenAPI document as the contract (docs/api.md, The contract): every /v1 route declares its
response model, a stable operationId and every error status it can answer, each as an RFC 9457 problem.

A route declares what only it knows, with one helper::

    @router.post("", status_code=201, operation_id="createSite", response_model=SiteWrite,
                 responses=problems(409))

and :func:`openapi` adds what follows from the route's own parameters, so no route can forget them:

- a Bearer key (``KeyDep``): 401 (missing or wrong key, bad signature), 403 (the role may not), 429
  (too many failed attempts from this address); on a write also 400 (signed with the signature
  headers' former names);
- any request: 422 (the field and the reason; a NUL character even in an unknown parameter) and 500;
  a body: 413 (larger than the limit);
- a path parameter: 404 (absent, or not the caller's to see: the same answer);
- ``If-Match``: 412 (stale version) and 428 (missing); ``Idempotency-Key``: 409 (reused for another
  request).

Every status from 400 up is documented as ``application/problem+json`` with the :class:`Problem` schema;
FastAPI's own ``HTTPValidationError`` (a body the service never sends) is not in the document.
``tests/api/test_contract.py`` walks every /v1 route and fails when one breaks these rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_TEXT = {
    400: "`old_signature_headers`: a write signed with the signature headers' former names",
    401: "Missing or invalid API key, or a write's signature is missing or not valid",
    403: "Authenticated, but this role may not do this",
    404: "Absent, or not visible to the caller (the same answer)",
    409: "The current state refuses it (the problem's `code` says why)",
    412: "`stale_version`: If-Match does not match the current version",
    413: "`body_too_large`: the body is larger than DECONFLICTION_MAX_BODY_BYTES",
    422: "`validation_failed`: `errors` names each field and the reason",
    428: "`precondition_required`: send If-Match with the ETag you last read",
    429: "`too_many_failures`: too many failed attempts; wait Retry-After seconds",
    500: "`internal_error`: nothing was changed unless a receipt says otherwise",
    503: "The service cannot reach its database",
}


class FieldProblem(BaseModel):
    """One reason a request was refused."""

    model_config = ConfigDict(title="FieldProblem")

    field: str = Field(description="A JSON path such as `volumes[0].footprint.coordinates[0][3]`; '' for the body")
    code: str = Field(description="A stable code (docs/api.md lists them)")
    message: str = Field(description="A sentence for people")
    detail: dict[str, Any] | None = Field(None, description="Where it helps: the numbers behind the reason")


class Problem(BaseModel):
    """An RFC 9457 problem document with the service's stable ``code`` (docs/api.md, Errors). Some codes
    add members of their own (``retry_after_s``, ``conflicts``, ``id``, ...)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="https://deconfliction.dev/problems/<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable: clients switch on it (docs/api.md lists every code)")
    errors: list[FieldProblem] | None = Field(None, description="validation_failed: each field and its reason")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error statuses a route answers beyond those its parameters imply (see the module's doc):
    ``responses=problems(409)``. Each is documented as a problem+json :class:`Problem`."""
    return {status: {"description": STATUS_TEXT.get(status, "A problem")} for status in statuses}


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every API route of ``app`` with its full path (routers' prefixes included)."""
    contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI before included routers kept their own tree
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path_format, route
        return
    for context in contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield context.path_format or route.path_format, route


def _implied(route: APIRoute) -> set[int]:
    """The error statuses that follow from a route's parameters."""
    out = {422, 500}  # 422: any request, for a control character in its path, query or headers (api/screen.py)
    flat = route.dependant
    calls = set()
    stack = [flat]
    headers: set[str] = set()
    params = False
    while stack:
        d = stack.pop()
        calls.add(getattr(d.call, "__name__", ""))
        headers |= {(p.alias or p.name).lower() for p in d.header_params}
        params = params or bool(d.path_params or d.query_params or d.header_params or d.body_params)
        stack.extend(d.dependencies)
    if "bearer_key" in calls:
        out |= {401, 403, 429}
        if (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
            out.add(400)  # signed with the former header names (api/http.py refuse_old_signature_headers)
    if flat.body_params or "raw_body" in calls:
        out |= {413, 422}
    if (route.methods or set()) & {"POST", "PUT", "PATCH"}:
        out.add(413)
    if flat.path_params:
        out.add(404)
    if "if-match" in headers:
        out |= {412, 428}
    if "idempotency-key" in headers:
        out.add(409)
    return out


def _not_declared(response: dict[str, Any]) -> bool:
    """An error response whose body the route did not declare itself (a model of its own, as the 503 of
    /v1/health), or declared as FastAPI's validation error, which the service never sends."""
    content = response.get("content")
    return not content or "HTTPValidationError" in str(content)


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def build(app: FastAPI) -> dict[str, Any]:
    """The document of ``app``: FastAPI's, with each route's implied problems added, every error as
    problem+json, and FastAPI's validation schemas gone."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, FieldProblem):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        schemas[model.__name__] = schema
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, route in api_routes(app):
        if not route.include_in_schema or not path.startswith("/v1/"):
            continue  # other interfaces (the DSS at /dss/v1) keep the error format of their standard
        for method in route.methods or ():
            op = doc["paths"].get(path, {}).get(method.lower())
            if op is None:
                continue
            responses = op.setdefault("responses", {})
            for status in _implied(route):
                responses.setdefault(str(status), {"description": STATUS_TEXT.get(status, "A problem")})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400 and _not_declared(response):
                    response["content"] = _problem_content()
    return doc


def install(app: FastAPI) -> None:
    """Serve :func:`build`'s document at the app's ``openapi_url`` (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
