"""The one mapping from errors to HTTP: RFC 9457 problem documents with a stable ``code``."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from deconfliction.errors import DeconflictionError, FieldError, InvalidInput

log = logging.getLogger("deconfliction.api")

PROBLEM_TYPE_BASE = "https://deconfliction.dev/problems/"
"""Problem ``type`` URIs; docs/api.md lists every code."""


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> bytes:
    """The RFC 9457 document of an error, as sent."""
    return orjson.dumps(
        {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail, "code": code, **extra}
    )


def problem_response(status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    body = problem_body(status, code, title, detail, **extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429 and "retry_after_s" in extra:
        headers = {"Retry-After": str(extra["retry_after_s"])}
    return Response(body, status_code=status, media_type="application/problem+json", headers=headers)


def _field_errors(errors: list[FieldError]) -> list[dict[str, Any]]:
    return [
        {"field": e.field, "code": e.code, "message": e.message, **({"detail": e.detail} if e.detail else {})}
        for e in errors
    ]


def error_response(exc: DeconflictionError) -> Response:
    fields: dict[str, Any] = {}
    if isinstance(exc, InvalidInput):
        fields["errors"] = _field_errors(exc.errors)
    else:
        fields.update(exc.extra)  # raisers put only JSON values here
    return problem_response(exc.status, exc.code, exc.title, exc.message, **fields)


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


FASTAPI_BODY_ERROR = "There was an error parsing the body"
"""FastAPI's 400 for a body it cannot decode; answered as the 422 ``invalid_json`` of any other bad JSON."""

_PYDANTIC_CODES = {
    "extra_forbidden": ("unknown_field", "unknown field"),
    "missing": ("missing_field", "this field is required"),
    "json_invalid": ("invalid_json", "the body is not valid JSON"),
}


def validation_errors(exc: RequestValidationError) -> InvalidInput:
    errors = []
    for err in exc.errors():
        code, message = _PYDANTIC_CODES.get(err["type"], ("invalid_value", err["msg"]))
        field = _loc_to_field(tuple(err["loc"]))
        if err["type"] == "json_invalid":
            # loc is ("body", character offset): the offset is no field, so name the body ("")
            reason = err.get("ctx", {}).get("error", "")
            loc = tuple(err["loc"])
            where = loc[-1] if loc and isinstance(loc[-1], int) else None
            message = f"the body is not valid JSON: {reason}".rstrip(": ")
            message += f" (at character {where})" if where is not None else ""
            field = ""
        errors.append(FieldError(field, code, message))
    return InvalidInput(errors or [FieldError("", "invalid_request", "the request is not valid")])


def install(app: FastAPI) -> None:
    @app.exception_handler(DeconflictionError)
    async def _domain(request: Request, exc: DeconflictionError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return error_response(validation_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == FASTAPI_BODY_ERROR:
            # a body FastAPI could not even decode (not UTF-8, say): bad input like any other, named
            return error_response(InvalidInput.one("", "invalid_json", "the body is not valid JSON in UTF-8"))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(
            500,
            "internal_error",
            "Internal error",
            "the service failed; nothing was changed unless a receipt says otherwise",
        )
