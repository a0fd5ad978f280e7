"""The rules of the contract (docs/api.md, The contract), enforced on every /v1 route the app has, so a
route added later is held to them too: a stable camelCase operationId, a declared response model (or
a declared non-JSON media type), every error status as an RFC 9457 problem, no FastAPI validation
schema, no duplicated schema names, examples on the main requests.

The document is built from an app that is never started; only the examples are sent, on both backends."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI

from deconfliction.api import contract, examples
from deconfliction.api.app import create_app
from deconfliction.domain.party import Party
from deconfliction.settings import Settings
from tests.conftest import auth

NON_JSON = {"text/event-stream", "application/jsonl", "text/html", "application/pdf"}
"""Success media types that are not one JSON document: the stream, the ledger export, the HTML report,
the situation packet."""

MAIN_REQUESTS = {
    "createOperation",
    "createMovement",
    "createSite",
    "createZone",
    "createLine",
    "createParty",
    "reportIncident",
    "postTracks",
}
"""The requests a party's own system sends most: each shows an example body."""


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings())


@pytest.fixture(scope="module")
def doc(app: FastAPI) -> dict[str, Any]:
    built: dict[str, Any] = app.openapi()
    return built


def _v1_routes(app: FastAPI) -> list[tuple[str, Any]]:
    routes = [(path, r) for path, r in contract.api_routes(app) if path.startswith("/v1") and r.include_in_schema]
    assert len(routes) >= 80
    return routes


def test_every_route_has_a_stable_camel_case_operation_id(app: FastAPI, doc: dict[str, Any]) -> None:
    seen: dict[str, str] = {}
    for path, route in _v1_routes(app):
        where = f"{sorted(route.methods)} {path}"
        assert route.operation_id, f"{where}: no operation_id= (FastAPI's default would change with the code)"
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", route.operation_id), f"{where}: {route.operation_id}"
        assert route.operation_id not in seen, f"{route.operation_id}: {where} and {seen[route.operation_id]}"
        seen[route.operation_id] = where
    assert {"createOperation", "listConflicts", "acknowledgeNotification"} <= set(seen)
    in_doc = {op["operationId"] for ops in doc["paths"].values() for op in ops.values()}
    assert set(seen) <= in_doc


def _success(op: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(s, r) for s, r in op["responses"].items() if s.startswith("2")]


def test_every_route_declares_its_response_body(app: FastAPI, doc: dict[str, Any]) -> None:
    for path, route in _v1_routes(app):
        for method in route.methods:
            op = doc["paths"][path][method.lower()]
            success = _success(op)
            assert success, f"{route.operation_id}: no success response"
            for status, response in success:
                content = response.get("content", {})
                assert content, f"{route.operation_id} {status}: no content declared"
                for media, body in content.items():
                    if media in NON_JSON:
                        continue
                    schema = body.get("schema", {})
                    assert (schema and schema != {"type": "string"}) or "xml" in media, (
                        f"{route.operation_id} {status} {media}: no response model (response_model=...)"
                    )
            if route.response_model is None:
                media = {m for _, r in success for m in r.get("content", {})}
                assert media <= NON_JSON, f"{route.operation_id}: answers JSON without a response_model"


def test_every_error_is_a_problem_document(app: FastAPI, doc: dict[str, Any]) -> None:
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, route in _v1_routes(app):
        for method in route.methods:
            op = doc["paths"][path][method.lower()]
            statuses = {int(s) for s in op["responses"] if s.isdigit()}
            assert 500 in statuses, route.operation_id
            for status, response in op["responses"].items():
                if int(status) < 400 or (path, status) in (("/v1/health", "503"), ("/v1/health/ready", "503")):
                    # degraded or not ready: the health body, with its checks
                    continue
                assert response["content"] == {contract.PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}, (
                    f"{route.operation_id} {status}: {response.get('content')}"
                )
            if op.get("security"):
                assert {401, 403, 429} <= statuses, route.operation_id
            if op.get("parameters") or op.get("requestBody"):
                assert 422 in statuses, route.operation_id
            if "{" in path:
                assert 404 in statuses, route.operation_id


def test_the_document_has_no_fastapi_validation_error_and_no_duplicated_names(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert "HTTPValidationError" not in str(doc["paths"])
    # FastAPI names a schema after its module when two models share a name: that is a duplicate
    assert not [name for name in schemas if "__" in name], sorted(schemas)
    # and every schema has a class name a generated client can use (no Page_Operation_)
    assert not [name for name in schemas if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name)], sorted(schemas)
    problem = schemas["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])


def test_the_main_requests_show_an_example(doc: dict[str, Any]) -> None:
    ops = {op["operationId"]: op for ops in doc["paths"].values() for op in ops.values()}
    schemas = doc["components"]["schemas"]
    for name in MAIN_REQUESTS:
        body = ops[name]["requestBody"]["content"]["application/json"]
        schema = body.get("schema", {})
        ref = schema.get("$ref", "").rsplit("/", 1)[-1]
        examples = body.get("examples") or body.get("example") or schemas.get(ref, {}).get("examples")
        assert examples, f"{name}: no example request"


def test_implied_statuses_follow_the_route() -> None:
    """The helper documents what a route's own parameters imply, and no more."""
    app = create_app(Settings())
    by_id = {r.operation_id: r for _, r in contract.api_routes(app)}
    assert contract._implied(by_id["getHealth"]) == {422, 500}
    assert contract._implied(by_id["getCurrentParty"]) == {401, 403, 422, 429, 500}
    assert contract._implied(by_id["reviseOperation"]) >= {404, 409, 412, 413, 422, 428}
    assert contract.problems(409) == {409: {"description": contract.STATUS_TEXT[409]}}


@pytest.mark.parametrize(
    ("path", "body", "who"),
    [
        ("/v1/operations", examples.OPERATION, "alpha"),
        ("/v1/movements", examples.MOVEMENT, "alpha"),
        ("/v1/sites", examples.SITE, "alpha"),
        ("/v1/incidents", examples.INCIDENT, "alpha"),
        ("/v1/parties", examples.PARTY, "cell"),
    ],
)
def test_the_examples_are_accepted(
    client: Any, parties: dict[str, tuple[Party, str]], path: str, body: dict[str, Any], who: str
) -> None:
    """The examples the document shows are requests the service accepts (those that name no other
    object; the zone's and line's name party ids of their own deployment)."""
    r = client.post(path, json=body, headers=auth(parties[who][1]))
    assert r.status_code == 201, r.text
