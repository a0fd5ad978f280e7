"""Ed25519 signatures of requests and receipts, and their offline check in a ledger export."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain.ledger import GENESIS, Entry, Sealed, export_line, header, seal, verify
from deconfliction.domain.signing import (
    SIGNATURE_HEADERS,
    ServiceSigner,
    SignedRequest,
    b64url,
    evidence_valid,
    key_id_for,
    parse_public_key,
    receipt_signature_valid,
    sign_request,
)
from deconfliction.errors import InvalidInput

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def raw_public(k: Ed25519PrivateKey) -> bytes:
    return k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signed(k: Ed25519PrivateKey, body: object, path: str = "/v1/operations") -> SignedRequest:
    h = sign_request(k, "POST", path, body, T0)
    return SignedRequest(*(h[name] for name in SIGNATURE_HEADERS), "POST", path, body)


def test_a_signature_covers_method_path_time_key_and_the_parsed_body() -> None:
    k = Ed25519PrivateKey.generate()
    body = {"kind": "air", "volumes": [{"x": 1.5}]}
    s = signed(k, body)
    assert evidence_valid(s.evidence(), raw_public(k))
    # the same body written otherwise is the same request
    assert evidence_valid(
        {**s.evidence(), "request": {"method": "post", "path": s.path, "body": {**body}}}, raw_public(k)
    )
    for changed in (
        {"request": {"method": "PUT", "path": s.path, "body": body}},
        {"request": {"method": "POST", "path": "/v1/operations/x", "body": body}},
        {"request": {"method": "POST", "path": s.path, "body": {**body, "kind": "ground"}}},
        {"timestamp": "2026-11-23T08:00:01.000000Z"},
    ):
        assert not evidence_valid({**s.evidence(), **changed}, raw_public(k)), changed
    other = Ed25519PrivateKey.generate()
    assert not evidence_valid(s.evidence(), raw_public(other))


def test_public_keys_as_base64url_base64_or_pem_and_bad_ones_named() -> None:
    k = Ed25519PrivateKey.generate()
    raw = raw_public(k)
    pem = k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    import base64

    assert parse_public_key(b64url(raw)) == parse_public_key(base64.b64encode(raw).decode()) == raw
    assert parse_public_key(pem.decode()) == raw
    assert key_id_for(raw).startswith("k_") and len(key_id_for(raw)) == 22
    with pytest.raises(InvalidInput) as e:
        parse_public_key(b64url(raw[:31]))
    assert e.value.errors[0].field == "public_key" and "31 bytes" in e.value.errors[0].message
    with pytest.raises(InvalidInput):
        parse_public_key("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----")


def test_receipts_verify_with_the_service_key_and_not_once_changed() -> None:
    signer = ServiceSigner(Ed25519PrivateKey.generate())
    r = signer.receipt(42, "ab" * 32, T0)
    keys = {signer.key_id: signer.public_key}
    assert receipt_signature_valid(r, keys) is True
    assert receipt_signature_valid({**r, "seq": 43}, keys) is False
    assert receipt_signature_valid({**r, "hash": "cd" * 32}, keys) is False
    assert receipt_signature_valid(r, {}) is None
    assert receipt_signature_valid({"seq": 42, "hash": "ab" * 32}, keys) is None


def _chain(entries: list[Entry]) -> list[Sealed]:
    out, previous = [], GENESIS
    for e in entries:
        s = seal(e, previous)
        out.append(s)
        previous = s.hash
    return out


def _export(chain: list[Sealed]) -> list[bytes]:
    h = header(
        after_seq=0, previous=GENESIS, until_seq=len(chain), party=None, head_seq=len(chain), head_hash=chain[-1].hash
    )
    return [export_line(h), *(export_line(s.line()) for s in chain)]


def _key_added(seq: int, party: str, k: Ed25519PrivateKey) -> Entry:
    raw = raw_public(k)
    payload = {"party": party, "key_id": key_id_for(raw), "algorithm": "Ed25519", "public_key": b64url(raw)}
    return Entry(seq, T0, party, "party.key_added", party, (party,), payload)


def test_an_export_checks_each_signed_entry_against_the_key_the_chain_announced() -> None:
    k, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    body = {"kind": "air"}
    good = signed(k, body).evidence()
    chain = _chain(
        [
            _key_added(1, "pt_a", k),
            _key_added(2, "pt_b", other),
            Entry(3, T0, "pt_a", "operation.created", "op_1", ("pt_a",), {"id": "op_1"}, good),
        ]
    )
    report = verify(_export(chain))
    assert report.ok and report.signatures_checked == 1 and not report.unchecked

    # an operator who rewrites the chain cannot sign for the party: a forged request is found
    forged = {**good, "request": {**good["request"], "body": {"kind": "ground"}}}
    bad = _chain(
        [*(s.entry for s in chain[:2]), Entry(3, T0, "pt_a", "operation.created", "op_1", ("pt_a",), {}, forged)]
    )
    assert any("does not verify" in p.what for p in verify(_export(bad)).problems)
    # signed with another party's key
    theirs = signed(other, body).evidence()
    bad = _chain(
        [*(s.entry for s in chain[:2]), Entry(3, T0, "pt_a", "operation.created", "op_1", ("pt_a",), {}, theirs)]
    )
    assert any("not of the actor" in p.what for p in verify(_export(bad)).problems)
    # signed after the key was revoked
    revoked = Entry(3, T0, "pt_a", "party.key_revoked", "pt_a", ("pt_a",), {"party": "pt_a", "key_id": good["key_id"]})
    bad = _chain(
        [*(s.entry for s in chain[:2]), revoked, Entry(4, T0, "pt_a", "operation.created", "op_1", (), {}, good)]
    )
    assert any("revoked" in p.what for p in verify(_export(bad)).problems)
    # a key the export does not hold is reported as unchecked, never as checked
    partial = _chain([Entry(1, T0, "pt_a", "operation.created", "op_1", ("pt_a",), {}, good)])
    report = verify(_export(partial))
    assert report.ok and report.signatures_checked == 0 and len(report.unchecked) == 1


@given(st.binary(min_size=1, max_size=64), st.integers(0, 63))
@settings(max_examples=40)
def test_any_changed_byte_of_a_signature_is_refused(junk: bytes, pos: int) -> None:
    k = Ed25519PrivateKey.generate()
    s = signed(k, {"n": 1})
    import base64

    raw = bytearray(base64.urlsafe_b64decode(s.signature + "=="))
    raw[pos] ^= junk[0] or 1
    assert not evidence_valid({**s.evidence(), "signature": b64url(bytes(raw))}, raw_public(k))
