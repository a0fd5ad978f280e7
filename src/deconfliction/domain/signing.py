"""Signatures: parties sign their submissions, the service signs its receipts (Ed25519, RFC 8032).

A party's signature covers the RFC 8785 canonical form of ``{"method", "path", "timestamp", "key_id",
"body"}``: the request as parsed, so neither whitespace nor key order nor the transport matters, and the
same bytes can be rebuilt from the ledger entry that keeps the signed request. The timestamp bounds a
signature's life (``MAX_SKEW_S`` either way); a signature is accepted once.

A receipt covers the canonical form of its own fields but ``signature``: the entry number and hash of
the write's last entry, the chain head when the write committed, the time and the service key's id.
The service's public keys are themselves ledger entries (``service.key``), so an export carries what is
needed to check every receipt offline.

Key ids are derived from the public key (``k_`` + 20 hex digits of its SHA-256), so nobody chooses them
and no two keys share one. Keys travel as base64url of the 32 raw bytes (RFC 8037's ``x``) or as PEM.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deconfliction.domain.canonical import canonical, format_at
from deconfliction.errors import InvalidInput

MAX_SKEW_S = 300
"""A signed request's timestamp may be this many seconds before or after the service's clock."""

ALGORITHM = "Ed25519"

KEY_ID_HEADER = "Deconfliction-Signature-Key-Id"
TIMESTAMP_HEADER = "Deconfliction-Signature-Timestamp"
SIGNATURE_HEADER = "Deconfliction-Signature"
SIGNATURE_HEADERS = (KEY_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
"""The three headers of a signed request. Named for this service, so that they never collide with
RFC 9421's ``Signature`` and ``Signature-Input`` (HTTP Message Signatures), which a gateway may add."""

OLD_SIGNATURE_HEADERS = ("Signature-Key-Id", "Signature-Timestamp", "Signature")
"""The names these headers had before: a request that still sends them is refused (docs/signing.md)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str, field: str, size: int) -> bytes:
    """Base64url or standard base64, padded or not, of exactly ``size`` bytes."""
    cleaned = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput.one(field, "invalid_base64", "not base64url") from None
    if len(raw) != size:
        raise InvalidInput.one(field, "invalid_length", f"{len(raw)} bytes; expected {size}")
    return raw


def key_id_for(public_key: bytes) -> str:
    return "k_" + hashlib.sha256(public_key).hexdigest()[:20]


def parse_public_key(text: str, field: str = "public_key") -> bytes:
    """The 32 raw bytes of an Ed25519 public key given as base64url (or base64) or as PEM."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, TypeError, UnicodeEncodeError):
            raise InvalidInput.one(field, "invalid_key", "not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise InvalidInput.one(field, "unsupported_key", f"not an {ALGORITHM} key: only {ALGORITHM} is accepted")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return from_b64url(text, field, 32)


def signature_valid(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# ------------------------------------------------------------------------------------- party signatures


@dataclass(frozen=True)
class SignedRequest:
    """What a party sent: the three signature headers and the request they cover."""

    key_id: str
    timestamp: str
    signature: str
    method: str
    path: str
    body: Any
    """The parsed JSON body (None for a request without one)."""

    def message(self) -> bytes:
        return request_message(self.method, self.path, self.timestamp, self.key_id, self.body)

    def evidence(self) -> dict[str, Any]:
        """What the ledger keeps of it: enough to check the signature again, offline."""
        return {
            "algorithm": ALGORITHM,
            "key_id": self.key_id,
            "timestamp": self.timestamp,
            "signature": self.signature,
            "request": {"method": self.method, "path": self.path, "body": self.body},
        }


def request_message(method: str, path: str, timestamp: str, key_id: str, body: Any) -> bytes:
    """The bytes a party signs."""
    return canonical({"method": method.upper(), "path": path, "timestamp": timestamp, "key_id": key_id, "body": body})


def sign_request(private_key: Ed25519PrivateKey, method: str, path: str, body: Any, at: datetime) -> dict[str, str]:
    """The three headers that sign a request (what a party's client does)."""
    public = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id, timestamp = key_id_for(public), format_at(at)
    signature = private_key.sign(request_message(method, path, timestamp, key_id, body))
    return {KEY_ID_HEADER: key_id, TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: b64url(signature)}


def parse_signed_at(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput.one(
            TIMESTAMP_HEADER, "invalid_time", "not an RFC 3339 time such as 2026-11-23T08:00:00Z"
        ) from None
    if at.tzinfo is None:
        raise InvalidInput.one(TIMESTAMP_HEADER, "invalid_time", "give a time zone (Z for UTC)")
    return at.astimezone(UTC)


def fresh(signed_at: datetime, now: datetime) -> bool:
    return abs(signed_at - now) <= timedelta(seconds=MAX_SKEW_S)


def evidence_valid(evidence: Mapping[str, Any], public_key: bytes) -> bool:
    """Check a signature kept in the ledger (``SignedRequest.evidence``) against ``public_key``."""
    try:
        request = evidence["request"]
        message = request_message(
            str(request["method"]),
            str(request["path"]),
            str(evidence["timestamp"]),
            str(evidence["key_id"]),
            request.get("body"),
        )
        signature = from_b64url(str(evidence["signature"]), "signature", 64)
    except (KeyError, TypeError, AttributeError, InvalidInput):
        return False
    return key_id_for(public_key) == evidence["key_id"] and signature_valid(public_key, message, signature)


# ------------------------------------------------------------------------------------- service receipts


def receipt_message(receipt: Mapping[str, Any]) -> bytes:
    return canonical({k: v for k, v in receipt.items() if k != "signature"})


class ServiceSigner:
    """The service's receipt key. Each process holds one (generated at start unless a key file is set)
    and announces its public key in the ledger before signing with it."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = key_id_for(self.public_key)
        self.announced = False
        """Set once the key's ``service.key`` entry is in the ledger."""

    @classmethod
    def from_pem(cls, pem: bytes) -> ServiceSigner:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInput.one("service_key_file", "unsupported_key", f"not an {ALGORITHM} private key")
        return cls(key)

    def announcement(self) -> dict[str, str]:
        """The payload of the ``service.key`` ledger entry."""
        return {"algorithm": ALGORITHM, "key_id": self.key_id, "public_key": b64url(self.public_key)}

    def receipt(self, seq: int, hash_: str, at: datetime) -> dict[str, Any]:
        """A signed receipt for a write whose last entry is ``seq`` with chain hash ``hash_``: since
        writes are serialised, that entry was the chain's head when the write committed."""
        body: dict[str, Any] = {
            "seq": seq,
            "hash": hash_,
            "head": {"seq": seq, "hash": hash_},
            "at": format_at(at),
            "key_id": self.key_id,
        }
        body["signature"] = b64url(self._key.sign(receipt_message(body)))
        return body


def receipt_signature_valid(receipt: Mapping[str, Any], public_keys: Mapping[str, bytes]) -> bool | None:
    """True or False when the receipt is signed by one of ``public_keys`` (key id -> raw key); None when
    it carries no signature or its key is not among them (it cannot be checked)."""
    signature, key_id = receipt.get("signature"), receipt.get("key_id")
    if not isinstance(signature, str) or not isinstance(key_id, str) or key_id not in public_keys:
        return None
    try:
        raw = from_b64url(signature, "signature", 64)
    except InvalidInput:
        return False
    return signature_valid(public_keys[key_id], receipt_message(receipt), raw)
