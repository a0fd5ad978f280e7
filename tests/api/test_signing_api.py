"""Signed submissions and signed receipts over HTTP: a party with a key must sign; a signature is good
once, for that request, by an active key of the caller, near the service's time; receipts verify
offline with the service key the ledger announces."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from deconfliction.domain.ledger import verify
from deconfliction.domain.party import Party
from deconfliction.domain.signing import b64url, sign_request
from tests.conftest import FakeClock, auth, square, volume_json

BODY = {"kind": "air", "volumes": [volume_json(square(40, 35))]}


def public(k: Ed25519PrivateKey) -> str:
    return b64url(k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


JSON = {"Content-Type": "application/json"}


def post_signed(
    client: TestClient, api_key: str, k: Ed25519PrivateKey, clock: FakeClock, body: Any = BODY, **over: Any
) -> Any:
    headers = {**JSON, **sign_request(k, "POST", "/v1/operations", body, over.pop("at", clock.now))}
    headers.update(over.pop("headers", {}))
    return client.post("/v1/operations", content=orjson.dumps(over.pop("send", body)), headers=auth(api_key, **headers))


@pytest.fixture
def alpha(client: TestClient, parties: dict[str, tuple[Party, str]]) -> tuple[str, Ed25519PrivateKey]:
    key = parties["alpha"][1]
    k = Ed25519PrivateKey.generate()
    r = client.post("/v1/keys", json={"public_key": public(k)}, headers=auth(key))
    assert r.status_code == 201, r.text
    assert r.json()["key"]["revoked_at"] is None
    return key, k


def test_a_party_with_a_key_must_sign_and_a_good_signature_is_kept_in_the_ledger(
    client: TestClient, alpha: tuple[str, Ed25519PrivateKey], clock: FakeClock
) -> None:
    key, k = alpha
    r = client.post("/v1/operations", json=BODY, headers=auth(key))
    assert r.status_code == 401 and r.json()["code"] == "signature_required"
    r = post_signed(client, key, k, clock)
    assert r.status_code == 201, r.text
    # the party's own export holds the signed request, and the signature verifies offline
    export = client.get("/v1/ledger", headers=auth(key)).content.splitlines()
    report = verify(export, receipts=[r.json()["receipt"]])
    assert report.ok, [str(p) for p in report.problems]
    assert report.signatures_checked == 1 and report.receipts_signed == 1 and not report.unchecked
    entry = next(orjson.loads(x) for x in export[1:] if b'"operation.created"' in x)
    assert entry["content"]["signed"]["request"]["body"] == BODY


def test_bad_signatures_are_refused_and_nothing_is_stored(
    client: TestClient, alpha: tuple[str, Ed25519PrivateKey], clock: FakeClock, parties: dict[str, tuple[Party, str]]
) -> None:
    key, k = alpha
    ok = {**JSON, **sign_request(k, "POST", "/v1/operations", BODY, clock.now)}
    cases = {
        "replayed": None,
        "stale": post_signed(client, key, k, clock, at=clock.now - timedelta(seconds=301)),
        "future": post_signed(client, key, k, clock, at=clock.now + timedelta(seconds=301)),
        "other body": post_signed(client, key, k, clock, send={**BODY, "kind": "ground"}),
        "other key": post_signed(client, key, Ed25519PrivateKey.generate(), clock),
        "broken signature": post_signed(client, key, k, clock, headers={"Deconfliction-Signature": "AAAA"}),
        "half the headers": client.post(
            "/v1/operations", json=BODY, headers=auth(key, **{"Deconfliction-Signature": ok["Deconfliction-Signature"]})
        ),
    }
    first = client.post("/v1/operations", content=orjson.dumps(BODY), headers=auth(key, **ok))
    assert first.status_code == 201
    cases["replayed"] = client.post("/v1/operations", content=orjson.dumps(BODY), headers=auth(key, **ok))
    expected = {
        "replayed": (401, "signature_replayed"),
        "stale": (401, "signature_invalid"),
        "future": (401, "signature_invalid"),
        "other body": (401, "signature_invalid"),
        "other key": (401, "signature_invalid"),
        "broken signature": (422, "validation_failed"),
        "half the headers": (422, "validation_failed"),
    }
    for name, r in cases.items():
        assert (r.status_code, r.json()["code"]) == expected[name], (name, r.text)
    ops = client.get("/v1/operations", headers=auth(key)).json()["items"]
    assert len(ops) == 1
    # bravo cannot use alpha's key, even with a valid signature by it
    r = client.post(
        "/v1/operations",
        content=orjson.dumps(BODY),
        headers=auth(parties["bravo"][1], **JSON, **sign_request(k, "POST", "/v1/operations", BODY, clock.now)),
    )
    assert (r.status_code, r.json()["code"]) == (401, "signature_invalid")


OLD_NAMES = {
    "Deconfliction-Signature-Key-Id": "Signature-Key-Id",
    "Deconfliction-Signature-Timestamp": "Signature-Timestamp",
    "Deconfliction-Signature": "Signature",
}


@pytest.mark.parametrize("keyed", [True, False], ids=["party-with-key", "party-without-key"])
def test_a_write_signed_with_the_old_header_names_is_refused_loudly(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock, keyed: bool
) -> None:
    """An old client's signature (the former names, RFC 9421's ``Signature`` among them) is neither
    checked nor taken for unsigned: 400 old_signature_headers naming the new headers, nothing stored,
    also for a party without a key (whose unsigned write would otherwise go through)."""
    key = parties["alpha"][1]
    k = Ed25519PrivateKey.generate()
    if keyed:
        assert client.post("/v1/keys", json={"public_key": public(k)}, headers=auth(key)).status_code == 201
    new = sign_request(k, "POST", "/v1/operations", BODY, clock.now)
    old = {OLD_NAMES[name]: value for name, value in new.items()}
    for sent in (old, {"Signature": old["Signature"]}, {**new, "Signature-Key-Id": old["Signature-Key-Id"]}):
        r = client.post("/v1/operations", content=orjson.dumps(BODY), headers=auth(key, **JSON, **sent))
        assert (r.status_code, r.json()["code"]) == (400, "old_signature_headers"), (sent, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["headers"] == list(new)
        assert all(name in r.json()["detail"] for name in new)
    assert client.get("/v1/operations", headers=auth(key)).json()["items"] == []
    # reads ignore them, as they ignore any header they do not use
    assert client.get("/v1/operations", headers=auth(key, **old)).status_code == 200
    # RFC 9421's Signature (always with Signature-Input) belongs to someone else: not refused as ours
    rfc9421 = {"Signature-Input": 'sig1=("@method");created=1', "Signature": "sig1=:AAAA:"}
    r = client.post("/v1/operations", content=orjson.dumps(BODY), headers=auth(key, **JSON, **rfc9421))
    expected = (401, "signature_required") if keyed else (201, None)
    assert (r.status_code, r.json().get("code")) == expected, r.text


def test_rotation_then_revocation(client: TestClient, alpha: tuple[str, Ed25519PrivateKey], clock: FakeClock) -> None:
    key, old = alpha
    new = Ed25519PrivateKey.generate()

    def signed_by(k: Ed25519PrivateKey, path: str, body: Any) -> Any:
        content = b"" if body is None else orjson.dumps(body)
        headers = auth(key, **JSON, **sign_request(k, "POST", path, body, clock.now))
        return client.post(path, content=content, headers=headers)

    # once a party has a key, an API key alone changes nothing of its keys (a stolen one included)
    thief = client.post("/v1/keys", json={"public_key": public(new)}, headers=auth(key))
    assert (thief.status_code, thief.json()["code"]) == (401, "signature_required")
    by_new = signed_by(new, "/v1/keys", {"public_key": public(new)})  # only an active key signs it
    assert (by_new.status_code, by_new.json()["code"]) == (401, "signature_invalid")
    assert signed_by(old, "/v1/keys", {"public_key": public(new)}).status_code == 201
    clock.advance(seconds=1)  # a new signature: the same one again would be a replay
    again = signed_by(old, "/v1/keys", {"public_key": public(new)})
    assert (again.status_code, again.json()["code"]) == (409, "already_exists")
    items = client.get("/v1/keys", headers=auth(key)).json()["items"]
    assert len(items) == 2
    old_id = next(k["key_id"] for k in items if k["public_key"] == public(old))
    unsigned = client.post(f"/v1/keys/{old_id}/revoke", headers=auth(key))
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "signature_required")
    r = signed_by(new, f"/v1/keys/{old_id}/revoke", None)
    assert r.status_code == 200 and r.json()["key"]["revoked_at"] is not None
    refused = post_signed(client, key, old, clock)
    assert (refused.status_code, refused.json()["code"]) == (401, "signature_invalid")
    assert "revoked" in refused.json()["detail"]
    assert post_signed(client, key, new, clock).status_code == 201
    assert signed_by(new, "/v1/keys/k_nope/revoke", None).status_code == 404
    # the export shows both keys and the revocation, and every signature in it checks
    report = verify(client.get("/v1/ledger", headers=auth(key)).content.splitlines())
    assert report.ok and report.signatures_checked == 3  # the new key's registration, the revocation, the write


def test_parties_without_keys_need_no_signature_and_receipts_are_signed(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    key = parties["bravo"][1]
    r = client.post("/v1/operations", json=BODY, headers=auth(key))
    assert r.status_code == 201
    receipt = r.json()["receipt"]
    service = client.get("/v1/ledger/service-key", headers=auth(key)).json()
    assert receipt["key_id"] == service["key_id"]
    export = client.get("/v1/ledger", headers=auth(key)).content.splitlines()
    assert verify(export, receipts=[receipt]).receipts_signed == 1
    forged = {**receipt, "seq": receipt["seq"] - 1, "hash": verify(export).head_hash}
    report = verify(export, receipts=[forged])
    assert not report.ok
    tampered = {**receipt, "at": "2020-01-01T00:00:00.000000Z"}
    report = verify(export, receipts=[tampered])
    assert any("signature does not verify" in p.what for p in report.problems)


def test_a_key_revoked_with_its_own_signature_leaves_a_valid_export(
    client: TestClient, alpha: tuple[str, Ed25519PrivateKey], clock: FakeClock
) -> None:
    """docs/signing.md: a revocation is signed "with either" key, the one being revoked included; its
    entry was signed while the key was active, so the export verifies."""
    key, old = alpha
    assert post_signed(client, key, old, clock).status_code == 201
    old_id = client.get("/v1/keys", headers=auth(key)).json()["items"][0]["key_id"]
    path = f"/v1/keys/{old_id}/revoke"
    r = client.post(path, headers=auth(key, **JSON, **sign_request(old, "POST", path, None, clock.now)))
    assert r.status_code == 200, r.text
    report = verify(client.get("/v1/ledger", headers=auth(key)).content.splitlines(), receipts=[r.json()["receipt"]])
    assert report.ok, [str(p) for p in report.problems]
    assert report.signatures_checked == 2  # the write and the revocation
    # and a signature by it after the revocation is still a problem
    clock.advance(seconds=1)
    assert post_signed(client, key, old, clock).status_code == 401


WRITES = ("post", "put", "patch", "delete")


def test_every_write_route_needs_a_signature_once_a_party_has_a_key(
    client: TestClient, alpha: tuple[str, Ed25519PrivateKey]
) -> None:
    """From the OpenAPI document: every route that changes something in the caller's name answers an
    unsigned request of a party with a key with 401 signature_required, before its body or its ids are
    looked at, so a route added later cannot forget it."""
    key, _ = alpha
    checked = []
    for path, operations in client.get("/v1/openapi.json").json()["paths"].items():
        for method in operations:
            if method not in WRITES or not path.startswith("/v1/"):
                continue
            url = path.replace("{", "x").replace("}", "")
            r = client.request(method.upper(), url, json={}, headers=auth(key))
            assert (r.status_code, r.json().get("code")) == (401, "signature_required"), (method, path, r.text)
            checked.append((method, path))
    assert ("post", "/v1/endpoints") in checked and ("put", "/v1/contacts") in checked
    assert len(checked) >= 40


def test_an_api_key_alone_no_longer_acts_for_a_party_with_a_key(
    client: TestClient, alpha: tuple[str, Ed25519PrivateKey], clock: FakeClock, parties: dict[str, tuple[Party, str]]
) -> None:
    """The writes found open under attack: a webhook, the on-call ladder, an acknowledgement, tracks, an
    incident. Unsigned: refused and nothing stored. Signed by the party's key: done once; the same
    signature again is a replay."""
    key, k = alpha
    bravo = parties["bravo"][1]
    assert client.post("/v1/operations", json=BODY, headers=auth(bravo)).status_code == 201
    assert post_signed(client, key, k, clock).status_code == 201  # a conflict: alpha is told
    (note,) = client.get("/v1/notifications", headers=auth(key)).json()["items"]
    now = clock.now.isoformat().replace("+00:00", "Z")
    writes: list[tuple[str, str, Any]] = [
        ("POST", "/v1/endpoints", {"kind": "email", "address": "duty@alpha.example"}),
        ("PUT", "/v1/contacts", {"contacts": [{"name": "Thief", "channels": {"phone": "+1 555 0100"}}]}),
        ("POST", f"/v1/notifications/{note['id']}/ack", None),
        (
            "POST",
            "/v1/tracks",
            {
                "reports": [
                    {
                        "id": "A1",
                        "time": now,
                        "lat": 35.0,
                        "lon": 40.0,
                        "altitude_m": 1000.0,
                        "ground_speed_mps": 100.0,
                        "track_deg": 90.0,
                    }
                ]
            },
        ),
        (
            "POST",
            "/v1/incidents",
            {"place": {"type": "Point", "coordinates": [40.0, 35.0]}, "at": now, "description": "near miss"},
        ),
    ]
    head = client.get("/v1/ledger/head", headers=auth(key)).json()
    for method, path, body in writes:
        content = b"" if body is None else orjson.dumps(body)
        r = client.request(method, path, content=content, headers=auth(key, **JSON))
        assert (r.status_code, r.json()["code"]) == (401, "signature_required"), (path, r.text)
    assert client.get("/v1/ledger/head", headers=auth(key)).json() == head
    assert client.get("/v1/endpoints", headers=auth(key)).json()["items"] == []
    for method, path, body in writes:
        content = b"" if body is None else orjson.dumps(body)
        signed = auth(key, **JSON, **sign_request(k, method, path, body, clock.now))
        r = client.request(method, path, content=content, headers=signed)
        assert r.status_code in (200, 201), (path, r.text)
        again = client.request(method, path, content=content, headers=signed)
        assert (again.status_code, again.json()["code"]) == (401, "signature_replayed"), (path, again.text)
        other = auth(key, **JSON, **sign_request(Ed25519PrivateKey.generate(), method, path, body, clock.now))
        r = client.request(method, path, content=content, headers=other)
        assert (r.status_code, r.json()["code"]) == (401, "signature_invalid"), (path, r.text)
