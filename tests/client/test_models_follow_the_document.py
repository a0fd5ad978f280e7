"""The Python client's models follow the OpenAPI document (the contract, docs/api.md): each dataclass
that reads an answer is compared with the schema the server declares for it, member by member and type
by type, so a change on either side that the other does not follow fails here.

A member the client adds from elsewhere (a header), or that it deliberately does not read, is listed
below with the reason; anything else must match."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import pytest

from deconfliction.api.app import create_app
from deconfliction.client import models as m
from deconfliction.settings import Settings

PAIRS: dict[type, str] = {
    m.Window: "WindowOut",
    m.Altitude: "AltitudeOut",
    m.Volume: "VolumeOut",
    m.Operation: "Operation",
    m.Rule: "Rule",
    m.Encounter: "Encounter",
    m.Counterpart: "Counterpart",
    m.Side: "Side",
    m.Conflict: "Conflict",
    m.LedgerHead: "LedgerHead",
    m.Receipt: "Receipt",
    m.DeclarationWarning: "DeclarationWarning",
    m.WriteResult: "OperationWrite",
    m.Party: "Party",
    m.Contact: "Contact",
    m.Unit: "Unit",
    m.UnitKey: "UnitKey",
    m.PartyCreated: "PartyCreated",
    m.ApiKey: "ApiKey",
    m.ApiKeyChange: "ApiKeyRevoked",
    m.SigningKey: "SigningKey",
    m.KeyChange: "SigningKeyWrite",
    m.ServiceKey: "ServiceKey",
    m.Health: "Health",
    m.Clock: "ClockOut",
    m.ClockAdvanced: "AdvanceOut",
    m.TrackStatement: "TrackStatement",
}

CLIENT_ONLY = {
    ("WriteResult", "replayed"): "from the Idempotent-Replayed header",
    ("Receipt", "extra"): "members a newer server may add, kept as they came",
    ("UnitKey", "api_key"): "from the api_key beside the key in POST /v1/units/{id}/keys",
    ("ApiKeyChange", "secret"): "the api_key of POST /v1/api-keys (ApiKeyCreated), absent when revoked",
}
NOT_READ = {
    ("UnitKey", "active"): "the client tells an active key by revoked_at",
    ("Encounter", "other_volume"): "never sent in a view a client reads (the ledger's side record only)",
    ("Side", "unit"): "the unit of a side: the coordinator's console shows it, the client does not",
    ("Conflict", "unit"): "the unit of the caller's side, only in the ledger",
}


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    doc: dict[str, Any] = create_app(Settings()).openapi()
    found: dict[str, Any] = doc["components"]["schemas"]
    COMPONENTS.update(found)
    return found


COMPONENTS: dict[str, Any] = {}
"""The document's schemas (set by the fixture): an enum's $ref reads as the enum itself."""


def _variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for v in schema.get("anyOf") or schema.get("oneOf") or [schema]:
        target = COMPONENTS.get(v.get("$ref", "").rsplit("/", 1)[-1], {})
        out.append(target if "enum" in target else v)
    return out


def _kinds(schema: dict[str, Any]) -> set[str]:
    """The JSON kinds a schema allows: string, integer, number, boolean, array, object, null, or a
    component's name."""
    out = set()
    for v in _variants(schema):
        if "$ref" in v:
            out.add(v["$ref"].rsplit("/", 1)[-1])
        elif "const" in v or "enum" in v:
            out.add(v.get("type", "string"))
        elif "type" in v:
            out.add(v["type"])
        else:
            out.add("any")
    return out


def _client_kinds(annotation: Any) -> set[str]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_client_kinds(a) for a in typing.get_args(annotation)))
    if annotation is type(None):
        return {"null"}
    if origin is Literal:
        return {"string"}
    if annotation in PAIRS:
        return {PAIRS[annotation]}
    if annotation in (str, datetime):
        return {"string"}
    if annotation is bool:
        return {"boolean"}
    if annotation is int:
        return {"integer"}
    if annotation is float:
        return {"number", "integer"}
    if origin in (tuple, list):
        return {"array"}
    if origin in (dict, Mapping) or annotation is Mapping:
        return {"object"}
    if origin is not None and issubclass(origin, Mapping):
        return {"object"}
    return {"any"}


def _literal_values(annotation: Any) -> set[Any]:
    if typing.get_origin(annotation) is Literal:
        return set(typing.get_args(annotation))
    return (
        set().union(*(_literal_values(a) for a in typing.get_args(annotation)))
        if typing.get_args(annotation)
        else set()
    )


@pytest.mark.parametrize("cls", list(PAIRS), ids=lambda c: c.__name__)
def test_the_client_model_follows_the_document(cls: type, schemas: dict[str, Any]) -> None:
    name = PAIRS[cls]
    assert name in schemas, f"{name} is not in the OpenAPI document"
    schema = schemas[name]
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for field, f in fields.items():
        if (cls.__name__, field) in CLIENT_ONLY:
            continue
        assert field in properties, f"client {cls.__name__}.{field}: {name} has no such member"
        declared, read = _kinds(properties[field]), _client_kinds(hints[field])
        if "any" not in declared and "any" not in read:
            assert declared - {"null"} <= read, (
                f"{cls.__name__}.{field}: the document says {declared}, the client {read}"
            )
        optional_on_wire = field not in required or "null" in declared
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if optional_on_wire and "null" not in read:
            assert has_default, f"{cls.__name__}.{field}: may be absent or null on the wire; the client needs a default"
        values = _literal_values(hints[field])
        wire_values = {v.get("const") for v in _variants(properties[field]) if "const" in v} | {
            e for v in _variants(properties[field]) for e in v.get("enum", ())
        }
        if values and wire_values:
            assert wire_values <= values, f"{cls.__name__}.{field}: the server may send {wire_values - values}"
    for member in properties:
        if member in fields or (cls.__name__, member) in NOT_READ:
            continue
        raise AssertionError(f"{name}.{member} is in the document, but client {cls.__name__} does not read it")


def test_the_exceptions_are_real() -> None:
    """Every listed exception names a member that exists, on the side it says."""
    for cls_name, field in CLIENT_ONLY:
        cls = getattr(m, cls_name)
        assert field in {f.name for f in dataclasses.fields(cls)}, (cls_name, field)
    for cls_name, field in NOT_READ:
        cls = getattr(m, cls_name)
        assert field not in {f.name for f in dataclasses.fields(cls)}, (cls_name, field)
