"""Signature rules at their edges (domain/signing.py): RFC 8032's first Ed25519 test vector, key ids,
keys as base64url, base64 or PEM and each refusal, the timestamp's freshness at 300 s on both sides,
the ledger's evidence and the receipts in every malformed shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.domain.canonical import canonical
from deconfliction.domain.signing import (
    ALGORITHM,
    MAX_SKEW_S,
    SIGNATURE_HEADERS,
    ServiceSigner,
    SignedRequest,
    b64url,
    evidence_valid,
    fresh,
    from_b64url,
    key_id_for,
    parse_public_key,
    parse_signed_at,
    receipt_message,
    receipt_signature_valid,
    request_message,
    sign_request,
    signature_valid,
)
from deconfliction.errors import InvalidInput

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

# RFC 8032 section 7.1, TEST 1: the empty message
SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
SIG = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
# sha256sum of PUBLIC's bytes: 21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9
KEY_ID = "k_21fe31dfa154a261626b"
# base64 of PUBLIC (coreutils base64): 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
STD_B64 = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
URL_B64 = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
PRIVATE = Ed25519PrivateKey.from_private_bytes(SECRET)


def test_rfc_8032_test_1() -> None:
    assert signature_valid(PUBLIC, b"", SIG)
    assert not signature_valid(PUBLIC, b"x", SIG)
    assert not signature_valid(PUBLIC, b"", SIG[:-1] + bytes([SIG[-1] ^ 1]))
    assert not signature_valid(PUBLIC, b"", SIG[:63])  # a signature of the wrong length
    assert not signature_valid(PUBLIC[:31], b"", SIG)  # a key of the wrong length


def test_key_ids_and_base64url() -> None:
    assert key_id_for(PUBLIC) == KEY_ID
    assert b64url(PUBLIC) == URL_B64
    assert b64url(b"") == ""


@pytest.mark.parametrize("text", [URL_B64, STD_B64, URL_B64 + "=", f"  {STD_B64}\n", STD_B64.rstrip("=")])
def test_a_key_as_base64url_or_base64_padded_or_not(text: str) -> None:
    assert from_b64url(text, "k", 32) == PUBLIC
    assert parse_public_key(text) == PUBLIC


@pytest.mark.parametrize(
    ("text", "code"),
    [("abcde", "invalid_base64"), ("a", "invalid_base64"), ("!!!!", "invalid_length"), ("", "invalid_length")],
)
def test_not_base64_or_empty_is_named(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as e:
        from_b64url(text, "signature", 64)
    assert [(f.field, f.code) for f in e.value.errors] == [("signature", code)]


def test_a_key_ending_in_the_letter_x() -> None:
    # the last six bits 010111 are the letter X: only the padding is taken off, both ways
    assert b64url(b"\x00\x00\x17") == "AAAX"
    assert from_b64url("AAAX", "k", 3) == b"\x00\x00\x17"
    assert from_b64url("AAAX==", "k", 3) == b"\x00\x00\x17"
    assert b64url(b"\x00\x17") == "ABc"


def test_not_base64_says_so() -> None:
    with pytest.raises(InvalidInput) as e:
        from_b64url("abcde", "signature", 64)
    assert e.value.errors[0].message == "not base64url"


def test_the_wrong_number_of_bytes_is_named_with_both_numbers() -> None:
    with pytest.raises(InvalidInput) as e:
        from_b64url(b64url(bytes(33)), "public_key", 32)
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        ("public_key", "invalid_length", "33 bytes; expected 32")
    ]


def test_a_pem_key_and_the_refusals_of_pem() -> None:
    pem = PRIVATE.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert parse_public_key("\n " + pem.decode() + " \n") == PUBLIC
    ec = generate_private_key(SECP256R1()).public_key()
    ec_pem = ec.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(InvalidInput) as e:
        parse_public_key(ec_pem, "key")
    assert [(f.field, f.code) for f in e.value.errors] == [("key", "unsupported_key")]
    assert e.value.errors[0].message == "not an Ed25519 key: only Ed25519 is accepted"
    for bad in ("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----é"):
        with pytest.raises(InvalidInput) as e:
            parse_public_key(bad, "key")
        assert [(f.field, f.code) for f in e.value.errors] == [("key", "invalid_key")]


def test_the_signed_message_is_the_canonical_request() -> None:
    msg = request_message("post", "/v1/x", "2026-11-23T08:00:00.000000Z", KEY_ID, {"b": 1, "a": [1.5]})
    assert msg == (
        b'{"body":{"a":[1.5],"b":1},"key_id":"k_21fe31dfa154a261626b","method":"POST",'
        b'"path":"/v1/x","timestamp":"2026-11-23T08:00:00.000000Z"}'
    )


def test_sign_request_gives_the_three_headers() -> None:
    h = sign_request(PRIVATE, "post", "/v1/x", None, T0 + timedelta(hours=1, microseconds=5))
    assert h["Deconfliction-Signature-Key-Id"] == KEY_ID
    assert h["Deconfliction-Signature-Timestamp"] == "2026-11-23T09:00:00.000005Z"
    msg = request_message("POST", "/v1/x", h["Deconfliction-Signature-Timestamp"], KEY_ID, None)
    assert signature_valid(PUBLIC, msg, from_b64url(h["Deconfliction-Signature"], "s", 64))
    assert set(h) == {"Deconfliction-Signature-Key-Id", "Deconfliction-Signature-Timestamp", "Deconfliction-Signature"}


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("2026-11-23T08:00:00Z", T0),
        ("2026-11-23T10:00:00+02:00", T0),
        ("2026-11-23T08:00:00.000001Z", T0 + timedelta(microseconds=1)),
    ],
)
def test_signed_at_in_utc(text: str, at: datetime) -> None:
    got = parse_signed_at(text)
    assert got == at and got.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "reason"), [("yesterday", "not an RFC 3339"), ("2026-11-23T08:00:00", "give a time zone")]
)
def test_a_bad_signed_at_is_named(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_signed_at(text)
    assert [(f.field, f.code) for f in e.value.errors] == [("Deconfliction-Signature-Timestamp", "invalid_time")]
    assert e.value.errors[0].message.startswith(reason)


def test_fresh_within_300_seconds_either_way() -> None:
    assert MAX_SKEW_S == 300
    edge = timedelta(seconds=300)
    tick = timedelta(microseconds=1)
    assert fresh(T0 - edge, T0) and fresh(T0 + edge, T0) and fresh(T0, T0)
    assert not fresh(T0 - edge - tick, T0)
    assert not fresh(T0 + edge + tick, T0)
    assert fresh(T0.astimezone(timezone(timedelta(hours=3))), T0)


def evidence() -> dict[str, object]:
    h = sign_request(PRIVATE, "POST", "/v1/x", {"a": 1}, T0)
    s = SignedRequest(*(h[name] for name in SIGNATURE_HEADERS), "POST", "/v1/x", {"a": 1})
    assert s.message() == request_message("POST", "/v1/x", h["Deconfliction-Signature-Timestamp"], KEY_ID, {"a": 1})
    return s.evidence()


def test_the_evidence_kept_in_the_ledger() -> None:
    e = evidence()
    assert e == {
        "algorithm": "Ed25519",
        "key_id": KEY_ID,
        "timestamp": "2026-11-23T08:00:00.000000Z",
        "signature": e["signature"],
        "request": {"method": "POST", "path": "/v1/x", "body": {"a": 1}},
    }
    assert evidence_valid(e, PUBLIC)


def test_evidence_without_a_body_is_a_request_without_one() -> None:
    e = evidence()
    h = sign_request(PRIVATE, "DELETE", "/v1/x", None, T0)
    nobody = {**e, "signature": h["Deconfliction-Signature"], "request": {"method": "DELETE", "path": "/v1/x"}}
    assert evidence_valid(nobody, PUBLIC)


@pytest.mark.parametrize(
    "change",
    [
        {"request": None},
        {"request": "POST /v1/x"},
        {"timestamp": None},
        {"signature": "!!"},
        {"signature": b64url(bytes(63))},
        {"key_id": "k_00000000000000000000"},
    ],
)
def test_malformed_evidence_is_not_valid(change: dict[str, object]) -> None:
    assert not evidence_valid({**evidence(), **change}, PUBLIC)


@pytest.mark.parametrize("missing", ["request", "timestamp", "signature", "key_id"])
def test_evidence_missing_a_member_is_not_valid(missing: str) -> None:
    e = evidence()
    del e[missing]
    assert not evidence_valid(e, PUBLIC)


def test_the_service_signer_and_its_receipts() -> None:
    signer = ServiceSigner(PRIVATE)
    assert (signer.public_key, signer.key_id, signer.announced) == (PUBLIC, KEY_ID, False)
    assert signer.announcement() == {"algorithm": ALGORITHM, "key_id": KEY_ID, "public_key": URL_B64}
    r = signer.receipt(7, "ab" * 32, T0)
    assert {k: v for k, v in r.items() if k != "signature"} == {
        "seq": 7,
        "hash": "ab" * 32,
        "head": {"seq": 7, "hash": "ab" * 32},
        "at": "2026-11-23T08:00:00.000000Z",
        "key_id": KEY_ID,
    }
    assert receipt_message(r) == canonical({k: v for k, v in r.items() if k != "signature"})
    assert signature_valid(PUBLIC, receipt_message(r), from_b64url(r["signature"], "s", 64))
    keys = {KEY_ID: PUBLIC}
    assert receipt_signature_valid(r, keys) is True
    assert receipt_signature_valid({**r, "seq": 8}, keys) is False
    assert receipt_signature_valid({**r, "signature": "!!"}, keys) is False
    assert receipt_signature_valid({**r, "signature": b64url(bytes(64))}, keys) is False
    # what cannot be checked: no signature, no key id, or a key not given
    assert receipt_signature_valid({k: v for k, v in r.items() if k != "signature"}, keys) is None
    assert receipt_signature_valid({**r, "signature": 12}, keys) is None
    assert receipt_signature_valid({k: v for k, v in r.items() if k != "key_id"}, keys) is None
    assert receipt_signature_valid({**r, "key_id": 5}, keys) is None
    assert receipt_signature_valid(r, {}) is None


def test_a_service_key_from_pem() -> None:
    pem = PRIVATE.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert ServiceSigner.from_pem(pem).key_id == KEY_ID
    ec = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InvalidInput) as e:
        ServiceSigner.from_pem(ec)
    assert [(f.field, f.code) for f in e.value.errors] == [("service_key_file", "unsupported_key")]
