"""The request screen (api/screen.py), on both backends: control characters anywhere in a request and
integers past the signed 64-bit range are a 422 naming the field, where one database would store them
and the other answer 500 or drop the connection."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from deconfliction.api.screen import INT64_MAX
from deconfliction.domain.party import Party
from deconfliction.service.runtime import Runtime
from tests.conftest import auth, square, volume_json

TOO_BIG = str(INT64_MAX + 1)


def refused(r: Any, field: str, code: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert (field, code) in [(e["field"], e["code"]) for e in r.json()["errors"]], r.json()


def events(rt: Runtime) -> int:
    with rt.store.read() as tx:
        return tx.events.head()[0]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b"])
def test_control_characters_in_text_are_refused_naming_the_field(
    client: TestClient, parties: dict[str, tuple[Party, str]], rt: Runtime, char: str
) -> None:
    key = parties["alpha"][1]
    before = events(rt)
    op = {"kind": "air", "title": f"Sortie{char}1", "volumes": [volume_json(square(40, 35))]}
    refused(client.post("/v1/operations", json=op, headers=auth(key)), "title", "control_character")
    thread = {"participants": [parties["bravo"][0].id], "subject": f"Ford{char}", "message": {"text": "hello"}}
    refused(client.post("/v1/threads", json=thread, headers=auth(key)), "subject", "control_character")
    hook = {"kind": "webhook", "address": f"https://hooks.example.org/a{char}b"}
    refused(client.post("/v1/endpoints", json=hook, headers=auth(key)), "address", "control_character")
    nested = {**op, "title": "ok", "volumes": [{**volume_json(square(40, 35)), "name": f"v{char}"}]}
    refused(client.post("/v1/operations", json=nested, headers=auth(key)), "volumes[0].name", "control_character")
    key_in_object = {**op, "title": "ok", f"x{char}": 1}
    refused(client.post("/v1/operations", json=key_in_object, headers=auth(key)), f"x{char}", "control_character")
    r = client.get("/v1/operations", params={"cursor": f"a{char}"}, headers=auth(key))
    refused(r, "cursor", "control_character")
    path = f"/v1/operations/op{quote(char)}"
    refused(client.get(path, headers=auth(key)), "op_id", "control_character")
    assert events(rt) == before


def test_tab_newline_and_carriage_return_stay_allowed_in_text(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    key = parties["alpha"][1]
    thread = {"participants": [parties["bravo"][0].id], "subject": "Ford", "message": {"text": "one\ttwo\r\nthree"}}
    assert client.post("/v1/threads", json=thread, headers=auth(key)).status_code == 201


def test_integers_past_64_bits_are_refused_on_both_backends(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    key = parties["alpha"][1]
    refused(client.get(f"/v1/ledger?after={TOO_BIG}", headers=auth(key)), "after", "out_of_range")
    refused(client.get(f"/v1/stream?after={TOO_BIG}", headers=auth(key)), "after", "out_of_range")
    r = client.get("/v1/stream", headers=auth(key, **{"Last-Event-ID": TOO_BIG}))
    refused(r, "Last-Event-ID", "out_of_range")
    refused(client.get("/v1/stream", headers=auth(key, **{"Last-Event-ID": "x"})), "Last-Event-ID", "invalid_value")
    # the largest one is a number like any other: the ledger's own answer (past its head)
    r = client.get(f"/v1/ledger?after={INT64_MAX}", headers=auth(key))
    refused(r, "after", "out_of_range")
    assert "is past it" in r.json()["detail"]
    r = client.get(f"/v1/stream?after={INT64_MAX}&idle_s=0.05", headers=auth(key))
    assert r.status_code == 200 and r.text.startswith(": connected")


def _integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(_integer(s) for s in schema.get("anyOf", []))


def test_every_integer_parameter_of_every_route_is_bounded(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    """From the OpenAPI document (the contract): a route added later with an integer parameter is
    covered too."""
    key = parties["alpha"][1]
    checked = set()
    for path, operations in client.get("/v1/openapi.json").json()["paths"].items():
        url = path.replace("{", "").replace("}", "")  # any value: the screen answers first
        for method, spec in operations.items():
            for param in spec.get("parameters", []):
                if param["in"] not in ("query", "header") or not _integer(param["schema"]):
                    continue
                name = param["name"]
                for value in (TOO_BIG, str(-(2**63) - 1)):
                    if param["in"] == "query":
                        r = client.request(method, url, params={name: value}, headers=auth(key))
                    else:
                        r = client.request(method, url, headers=auth(key, **{name: value}))
                    refused(r, name, "out_of_range")
                checked.add((method, path, name))
    assert {("get", "/v1/ledger", "after"), ("get", "/v1/stream", "Last-Event-ID")} <= checked
    assert len(checked) >= 10  # every list's limit too
