"""What every use case needs, passed in explicitly (no module-level state)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.domain.limits import Limits
from deconfliction.domain.policy import SeparationPolicy
from deconfliction.domain.signing import ServiceSigner
from deconfliction.store.ports import Store

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Ids:
    """Identifiers that sort by creation time (48-bit milliseconds + 80 random bits, Crockford base32,
    as ULIDs), opaque tokens and API keys."""

    def new_id(self, prefix: str) -> str:
        value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return f"{prefix}_{''.join(reversed(chars))}"

    def new_token(self) -> str:
        return secrets.token_urlsafe(12)

    def new_api_key(self) -> str:
        return "dk_" + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Runtime:
    store: Store
    policy: SeparationPolicy = field(default_factory=SeparationPolicy)
    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], datetime] = utcnow
    ids: Ids = field(default_factory=Ids)
    signer: ServiceSigner = field(default_factory=lambda: ServiceSigner(Ed25519PrivateKey.generate()))
    """Signs receipts. A fresh key per process unless a key file is configured; every key is announced
    in the ledger (``service.key``) before it signs, so exports carry what checks the receipts."""
