"""The acknowledgement gate over HTTP: 409 awaiting_acknowledgement naming each conflict and who has not
acknowledged, overrides in the bodies of plan, activate and create-as-planned, 422s naming the field,
the override's ledger entry signed with the request, and the policy section read from the policy file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from deconfliction.domain.acknowledgement import AcknowledgementPolicy, Needed
from deconfliction.domain.ledger import verify
from deconfliction.domain.party import Party
from deconfliction.domain.signing import sign_request
from deconfliction.errors import InvalidInput
from deconfliction.settings import Settings
from tests.api.test_signing_api import public
from tests.api.test_sites_api import convoy, site_body
from tests.conftest import FakeClock, auth

Parties = dict[str, tuple[Party, str]]


def near_the_hospital(client: TestClient, parties: Parties) -> tuple[dict[str, Any], dict[str, Any]]:
    """Alpha protects a hospital; bravo drafts a convoy next to it and plans it with the site's token.
    Returns bravo's planned operation and the conflict as bravo sees it."""
    agency, force = parties["alpha"][1], parties["bravo"][1]
    assert client.post("/v1/sites", json=site_body(), headers=auth(agency)).status_code == 201
    r = client.post("/v1/operations", json=convoy(40.145, 35.33), headers=auth(force))
    [c] = r.json()["conflicts"]
    op = r.json()["operation"]
    r = client.post(
        f"/v1/operations/{op['id']}/plan",
        json={"known_conflict_tokens": [c["token"]]},
        headers=auth(force, **{"If-Match": f'"{op["version"]}"'}),
    )
    assert r.status_code == 200, r.text
    return r.json()["operation"], c


def activate(client: TestClient, key: str, op: dict[str, Any], body: dict[str, Any]) -> Any:
    return client.post(
        f"/v1/operations/{op['id']}/activate", json=body, headers=auth(key, **{"If-Match": f'"{op["version"]}"'})
    )


def test_activation_waits_then_passes_once_the_owner_acknowledged(client, parties):
    agency, force = parties["alpha"], parties["bravo"]
    op, c = near_the_hospital(client, parties)
    r = activate(client, force[1], op, {"known_conflict_tokens": [c["token"]]})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    stored = client.get(f"/v1/conflicts/{c['id']}", headers=auth(force[1])).json()
    assert problem["code"] == "awaiting_acknowledgement"
    assert problem["conflicts"] == [
        {
            "id": c["id"],
            "kind": "protected_site",
            "version": stored["version"],
            "content_version": 1,
            "awaiting": [{"party": agency[0].id, "party_name": "alpha"}],
        }
    ]
    # without tokens, the proof of knowledge is what is refused first
    assert activate(client, force[1], op, {}).json()["code"] == "missing_conflict_tokens"
    inbox = client.get("/v1/notifications?pending=true", headers=auth(agency[1])).json()["items"]
    opened = next(n for n in inbox if n["kind"] == "conflict.opened" and n["subject"] == c["id"])
    assert opened["body"]["content_version"] == 1
    assert client.post(f"/v1/notifications/{opened['id']}/ack", headers=auth(agency[1])).status_code == 200
    r = activate(client, force[1], op, {"known_conflict_tokens": [c["token"]]})
    assert r.status_code == 200, r.text
    assert r.json()["operation"]["state"] == "active"


def test_an_override_over_http_is_recorded_and_the_owner_and_coordinator_are_told(client, parties, clock):
    agency, force, cell = parties["alpha"], parties["bravo"], parties["cell"]
    op, c = near_the_hospital(client, parties)
    body = {"known_conflict_tokens": [c["token"]], "override": [{"conflict": c["id"], "reason": "Casualty evacuation"}]}
    r = activate(client, force[1], op, body)
    assert r.status_code == 200, r.text
    for who in (agency, cell):
        told = [
            n
            for n in client.get("/v1/notifications?pending=true", headers=auth(who[1])).json()["items"]
            if n["kind"] == "conflict.overridden"
        ]
        assert [(n["subject"], n["body"]["reason"], n["body"]["by_name"]) for n in told] == [
            (c["id"], "Casualty evacuation", "bravo")
        ]
        assert told[0]["deadline"] is not None
    # the owner's own ledger holds the override entry, with nothing of bravo's plan
    lines = client.get("/v1/ledger", headers=auth(agency[1])).content.splitlines()
    [entry] = [orjson.loads(x) for x in lines[1:] if b'"conflict.overridden"' in x]
    assert entry["content"]["payload"]["reason"] == "Casualty evacuation"
    assert op["id"] not in json.dumps(entry)
    # the override is a decision, not a view of the conflict: views rebuilt from the ledger are unchanged,
    # whatever the order of the entries of one write
    now = clock.now.isoformat().replace("+00:00", "Z")
    for who in (agency, force, cell):
        live = client.get(f"/v1/conflicts/{c['id']}", headers=auth(who[1])).json()
        past = client.get(f"/v1/conflicts/{c['id']}", params={"as_of": now}, headers=auth(who[1])).json()
        assert past == live


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ([{"conflict": "CF", "reason": ""}], "override[0].reason", "missing_reason"),
        ([{"conflict": "CF"}], "override[0].reason", "missing_field"),
        ([{"conflict": "cf_unknown", "reason": "r"}], "override[0].conflict", "not_open"),
        ([{"conflict": "CF", "reason": "r", "approved": True}], "override[0].approved", "unknown_field"),
        ([{"conflict": "CF", "reason": "x" * 1001}], "override[0].reason", "too_long"),
    ],
)
def test_a_bad_override_is_a_422_naming_the_field(client, parties, override, field, code):
    op, c = near_the_hospital(client, parties)
    for o in override:
        o["conflict"] = c["id"] if o["conflict"] == "CF" else o["conflict"]
    r = activate(client, parties["bravo"][1], op, {"known_conflict_tokens": [c["token"]], "override": override})
    assert r.status_code == 422, r.text
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [(field, code)]
    assert client.get(f"/v1/operations/{op['id']}", headers=auth(parties["bravo"][1])).json()["state"] == "planned"


def test_the_override_entry_carries_the_request_s_signature(client, parties, clock: FakeClock):
    force = parties["bravo"][1]
    op, c = near_the_hospital(client, parties)  # unsigned: bravo has no key yet
    k = Ed25519PrivateKey.generate()
    assert client.post("/v1/keys", json={"public_key": public(k)}, headers=auth(force)).status_code == 201
    body = {"known_conflict_tokens": [c["token"]], "override": [{"conflict": c["id"], "reason": "Signed decision"}]}
    path = f"/v1/operations/{op['id']}/activate"
    headers = {"Content-Type": "application/json", "If-Match": f'"{op["version"]}"'}
    headers.update(sign_request(k, "POST", path, body, clock.now))
    r = client.post(path, content=orjson.dumps(body), headers=auth(force, **headers))
    assert r.status_code == 200, r.text
    export = client.get("/v1/ledger", headers=auth(force)).content.splitlines()
    report = verify(export, receipts=[r.json()["receipt"]])
    assert report.ok, [str(p) for p in report.problems]
    entries = [e for e in (orjson.loads(x) for x in export[1:]) if "content" in e]  # visible to bravo
    [override] = [e for e in entries if e["content"]["type"] == "conflict.overridden"]
    [changed] = [e for e in entries if e["content"]["type"] == "operation.changed" and e["content"].get("signed")]
    assert override["content"]["signed"] == changed["content"]["signed"]
    assert override["content"]["signed"]["request"]["body"] == body
    assert report.signatures_checked == 2  # the override and the activation (the key was added unsigned)


def test_the_policy_section_is_read_from_the_policy_file_and_refused_by_name(tmp_path: Path):
    good = tmp_path / "policy.json"
    good.write_text(json.dumps({"air-air": {"horizontal_m": 5556}, "acknowledgement": {"protected_site": "plan"}}))
    settings = Settings(policy_file=str(good))
    assert settings.acknowledgement().needs["protected_site"] is Needed.PLAN
    assert settings.acknowledgement().needs["zone_entry"] is Needed.ACTIVATE
    assert settings.policy().rules["air-air"].horizontal_m == 5556
    assert Settings().acknowledgement() == AcknowledgementPolicy()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"acknowledgement": {"hospital": "plan"}}))
    with pytest.raises(InvalidInput) as refused:
        Settings(policy_file=str(bad)).acknowledgement()
    assert refused.value.errors[0].field == "acknowledgement.hospital"
