"""Delivery of notifications beyond the stream: webhooks (signed, retried) and e-mail, with dead letters.

A webhook request is signed as the Standard Webhooks specification says (standardwebhooks.com), so a
receiver checks it with that project's libraries (Python, JavaScript, Go, Java, ...): ``webhook-id`` (the
delivery, the same on every retry), ``webhook-timestamp`` (Unix seconds) and ``webhook-signature: v1,<base64
HMAC-SHA256 of "<id>.<timestamp>.<body>">`` under the endpoint's secret ``whsec_<base64 key>``; a receiver
checks origin and freshness and deduplicates by the id. A delivery that fails is tried again
after 5 s, then twice as long each time up to one hour between attempts; one still failing 26 hours after
it was created is a dead letter, which the party can read and replay. Everything here is pure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

FIRST_RETRY_S = 5.0
MAX_RETRY_S = 3600.0
GIVE_UP_AFTER = timedelta(hours=26)
"""At least 24 hours of retries, as the promise to receivers says; 26 leaves room for a long outage."""
LEASE = timedelta(seconds=60)
"""A claimed delivery is not claimed again for this long (another process may be sending it)."""


class EndpointKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


SECRET_PREFIX = "whsec_"


def new_secret(key: bytes) -> str:
    """An endpoint's secret as Standard Webhooks writes it: ``whsec_`` and the base64 of the key."""
    return SECRET_PREFIX + base64.b64encode(key).decode("ascii")


def _key(secret: str) -> bytes:
    """The HMAC key of a secret: the base64 after ``whsec_``; a secret of an endpoint registered before the
    service signed as Standard Webhooks (no prefix) is its UTF-8 bytes, as it was then."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            pass
    return secret.encode("utf-8")


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,`` and the base64 HMAC-SHA256 of ``<id>.<timestamp>.<body>``."""
    mac = hmac.new(_key(secret), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def signature_valid(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """What a receiver runs without a library: any of the header's space-separated signatures matches
    (constant-time comparison)."""
    expected = signature(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in header.split())


def retry_after(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1, 2, ...): 5 s, 10 s, 20 s, ... up to 1 h."""
    return timedelta(seconds=min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Endpoint:
    id: str
    party_id: str
    kind: EndpointKind
    address: str
    """The URL of a webhook, the address of an e-mail."""
    secret: str
    """HMAC key of a webhook (shown once when created); empty for e-mail."""
    created_at: datetime
    active: bool = True


@dataclass(frozen=True)
class Delivery:
    id: str
    endpoint_id: str
    party_id: str
    notification_id: str
    body: bytes
    """The notification as sent: the same bytes on every attempt."""
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    state: DeliveryState = DeliveryState.PENDING
    last_error: str | None = None
    delivered_at: datetime | None = None

    def claimed(self, now: datetime) -> Delivery:
        return replace(self, next_attempt_at=now + LEASE)

    def succeeded(self, now: datetime) -> Delivery:
        return replace(self, attempts=self.attempts + 1, state=DeliveryState.DELIVERED, delivered_at=now)

    def failed(self, now: datetime, error: str) -> Delivery:
        attempts = self.attempts + 1
        if now - self.created_at >= GIVE_UP_AFTER:
            return replace(self, attempts=attempts, state=DeliveryState.DEAD, last_error=error)
        return replace(self, attempts=attempts, next_attempt_at=now + retry_after(attempts), last_error=error[:500])

    def replayed(self, now: datetime) -> Delivery:
        """A dead letter sent again: a fresh 26 hours of retries."""
        return replace(self, state=DeliveryState.PENDING, created_at=now, next_attempt_at=now, last_error=None)
