"""What every use case needs, passed in explicitly (no module-level state)."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.domain.acknowledgement import AcknowledgementPolicy
from deconfliction.domain.limits import Limits
from deconfliction.domain.notification import EscalationPolicy
from deconfliction.domain.party import Party
from deconfliction.domain.policy import SeparationPolicy
from deconfliction.domain.signing import ServiceSigner
from deconfliction.service.egress import Network
from deconfliction.store.ports import Store

if TYPE_CHECKING:
    from deconfliction.service.metrics import Metrics

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _metrics() -> Metrics:
    from deconfliction.service.metrics import Metrics

    return Metrics()


def utcnow() -> datetime:
    return datetime.now(UTC)


class Ids:
    """Identifiers that sort by creation time (48-bit milliseconds + 80 random bits, Crockford base32,
    as ULIDs), opaque tokens and API keys. Within one process the identifiers only grow, as in the ULID
    specification's monotonic mode: one made in the same millisecond as the previous one (or while the
    clock stepped back) is the previous one plus one, so that lists ordered by id keep creation order."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def new_id(self, prefix: str) -> str:
        fresh = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
        with self._lock:
            value = fresh if fresh >> 80 > self._last >> 80 else self._last + 1
            self._last = value
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return f"{prefix}_{''.join(reversed(chars))}"

    def new_token(self) -> str:
        return secrets.token_urlsafe(12)

    def new_api_key(self) -> str:
        return "dk_" + secrets.token_urlsafe(32)


class KeyCache:
    """API keys this process verified recently, by the SHA-256 of the key, for ``ttl_s`` seconds: a
    request with a known key skips the full look-up (and the lock-out check of its address). Only
    successful look-ups are kept. A party's key can expire or be revoked (service/api_keys.py), which must
    take effect at once in every process: a hit is confirmed by ``recheck`` (one small read). A unit's
    key can be revoked too, which takes effect within ``ttl_s`` in every process, and at once in the
    revoking one (it calls ``clear``)."""

    def __init__(self, ttl_s: float = 30.0, max_entries: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Party]] = {}

    def party(
        self, api_key: str, look_up: Callable[[], Party], recheck: Callable[[str, Party], None] | None = None
    ) -> Party:
        """The party of ``api_key``: from the cache while fresh (after ``recheck(sha256 hex, party)``,
        which raises for a key no longer valid), else ``look_up()`` (which raises for a wrong key; nothing
        is cached then)."""
        digest = hashlib.sha256(api_key.encode("utf-8")).hexdigest()
        now = time.monotonic()
        hit = self._entries.get(digest)
        if hit is not None and now - hit[0] < self.ttl_s:
            if recheck is not None:
                try:
                    recheck(digest, hit[1])
                except Exception:
                    with self._lock:
                        self._entries.pop(digest, None)
                    raise
            return hit[1]
        party = look_up()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest] = (now, party)
        return party

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


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
    keys: KeyCache = field(default_factory=KeyCache, compare=False, repr=False)
    """API keys verified recently (see ``KeyCache``): the HTTP layer's authentication reads it."""
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)
    """How long each step of an on-call ladder has (the policy file's ``escalation`` section)."""
    acknowledgement: AcknowledgementPolicy = field(default_factory=AcknowledgementPolicy)
    """Which conflicts need the other side's acknowledgement before an operation commits (the policy
    file's ``acknowledgement`` section)."""
    secrets_key: bytes | None = field(default=None, repr=False)
    """Seals webhook secrets in the database (DECONFLICTION_SECRETS_KEY_FILE, service/sealed.py)."""
    metrics: Metrics = field(default_factory=lambda: _metrics(), compare=False, repr=False)
    """This process's Prometheus instruments (service/metrics.py)."""
    webhook_allow: tuple[Network, ...] = ()
    """Networks a webhook may point into besides the public internet (DECONFLICTION_WEBHOOK_ALLOW_NETWORKS,
    service/egress.py)."""
    stream_poll_s: float = 10.0
    """Without wake-ups, how often a stream reads (DECONFLICTION_STREAM_POLL_S)."""
    stream_wakeups: bool = True
    """Streams wait for ``store.wakeups`` rather than poll (DECONFLICTION_STREAM_WAKEUPS)."""
