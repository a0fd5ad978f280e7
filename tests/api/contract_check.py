"""Every answer the in-process test client receives is checked against the OpenAPI document (the
contract, docs/api.md): its status must be declared for the operation, an error must be a problem+json,
and a JSON body must match the declared schema. ``tests/conftest.py``'s ``client`` fixture installs it,
so every API test checks the document too, on both backends (schemathesis explores from outside;
these are the answers the suite's own scenarios reach: coordinator views, tactical alerts, ...)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import orjson
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ContractViolation(AssertionError):
    pass


class _Operations:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.routes: list[tuple[str, re.Pattern[str], dict[str, Any]]] = []
        for path, ops in doc["paths"].items():
            # a path parameter is one segment, but a track id may hold slashes ({track_id:path})
            pattern = re.sub(r"\{[^}]+\}", ".+" if "{track_id}" in path else "[^/]+", path)
            for method, op in ops.items():
                self.routes.append((method.upper(), re.compile(f"^{pattern}$"), op))
        self.routes.sort(key=lambda r: -len(r[1].pattern.replace("[^/]+", "")))  # /overdue before /{id}
        self.validators: dict[int, Any] = {}

    def find(self, method: str, path: str) -> dict[str, Any] | None:
        for m, rx, op in self.routes:
            if m == method and rx.match(path):
                return op
        return None

    def validator(self, schema: dict[str, Any]) -> Any:
        key = id(schema)
        if key not in self.validators:
            self.validators[key] = jsonschema_rs.validator_for(
                {"allOf": [schema], "components": self.doc["components"]}
            )
        return self.validators[key]


def check(doc_ops: _Operations, method: str, path: str, status: int, media: str, body: bytes) -> None:
    op = doc_ops.find(method, path)
    if op is None:
        return  # not an API route (the map, static files, /v1/docs) or not routed (a 404 or 405)
    where = f"{method} {path} ({op['operationId']}) answered {status}"
    responses = op["responses"]
    declared = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if declared is None:
        raise ContractViolation(f"{where}: the document declares {sorted(responses)}")
    content = declared.get("content", {})
    media = media.split(";")[0].strip()
    if media not in content:
        raise ContractViolation(f"{where} as {media}: the document declares {sorted(content)}")
    schema = content[media].get("schema")
    if not schema or not (media.endswith("json") and body):
        return
    errors = [str(e).splitlines()[0] for e in doc_ops.validator(schema).iter_errors(orjson.loads(body))]
    if errors:
        raise ContractViolation(f"{where}: the body is off its schema: {errors[:5]}; body {body[:500]!r}")


class CheckedAnswers:
    """ASGI middleware: raises :class:`ContractViolation` (and so fails the test) for an answer that
    breaks the document."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.ops: _Operations | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started: dict[str, Any] = {}
        chunks: list[bytes] = []
        streaming = False

        async def watch(message: Message) -> None:
            nonlocal streaming
            if message["type"] == "http.response.start":
                started["status"] = message["status"]
                headers = dict(message.get("headers", []))
                started["media"] = headers.get(b"content-type", b"").decode()
                streaming = started["media"].startswith("text/event-stream")
            elif message["type"] == "http.response.body" and not streaming:
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, watch)
        if "status" not in started or streaming:
            return
        if self.ops is None:
            self.ops = _Operations(self.fastapi_app.openapi())
        check(self.ops, scope["method"], scope["path"], started["status"], started["media"], b"".join(chunks))


def checked(app: FastAPI) -> FastAPI:
    """``app``, its answers checked against its own document."""
    app.add_middleware(CheckedAnswers, fastapi_app=app)
    return app
