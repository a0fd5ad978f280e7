"""Storage ports: what the service needs of a database, and nothing more.

Every backend passes the same contract suite (tests/store/test_contract.py). A ``Store`` hands out
transactions: ``read()`` sees one consistent snapshot; ``write()`` is serialised with every other write,
on every backend and across processes, so that a conflict check sees every operation committed before it
and the event log's order is the commit order.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from deconfliction.domain.cells import Box
from deconfliction.domain.conflict import Conflict, ConflictState, Occupancy
from deconfliction.domain.incident import Incident
from deconfliction.domain.ledger import Entry, Sealed
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.party import Party


@dataclass(frozen=True)
class CandidateQuery:
    """Everything that may come within reach of a volume: boxes already grown by the widest horizontal
    separation, times and altitudes by the widest margins (``None``: any altitude)."""

    boxes: tuple[Box, ...]
    start: datetime
    end: datetime
    alt_lo: float | None
    alt_hi: float | None


@dataclass(frozen=True)
class StoredResponse:
    """The response given to a request with an Idempotency-Key, replayed verbatim on a retry."""

    fingerprint: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    replayed: bool = False
    """True when this is the stored response given again (not a column: set by the service)."""


@dataclass(frozen=True)
class Event:
    """One ledger entry as stored, with its chain hashes (see ``deconfliction.domain.ledger``)."""

    seq: int
    at: datetime
    actor_id: str | None
    type: str
    subject_id: str
    payload: Mapping[str, Any]
    audience: tuple[str, ...]
    content_hash: str
    hash: str
    signed: Mapping[str, Any] | None = None

    def sealed(self) -> Sealed:
        entry = Entry(
            self.seq, self.at, self.actor_id, self.type, self.subject_id, self.audience, self.payload, self.signed
        )
        return Sealed(entry, self.content_hash, self.hash)


@dataclass(frozen=True)
class PartyKey:
    """A party's Ed25519 public key for signed submissions."""

    key_id: str
    party_id: str
    public_key: bytes
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Parties(Protocol):
    def add(self, party: Party, key_hash: str) -> None: ...
    def get(self, party_id: str) -> Party | None: ...
    def by_name(self, name: str) -> Party | None: ...
    def by_key_hash(self, key_hash: str) -> Party | None: ...
    def list(self, *, after: str | None = None, limit: int = 100) -> builtins.list[Party]: ...


class PartyKeys(Protocol):
    def add(self, key: PartyKey) -> None: ...
    def get(self, key_id: str) -> PartyKey | None: ...
    def for_party(self, party_id: str) -> builtins.list[PartyKey]:
        """Every key of the party, revoked ones too, oldest first."""

    def revoke(self, key_id: str, at: datetime) -> None: ...
    def use_signature(self, digest: str, party_id: str, expires_at: datetime, now: datetime) -> bool:
        """Record a signature as used; False when it was used before. Forgets those expired at ``now``."""


class Incidents(Protocol):
    def add(self, incident: Incident) -> None: ...
    def get(self, incident_id: str) -> Incident | None: ...
    def list(
        self, *, reporter_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Incident]: ...


class Operations(Protocol):
    def add(self, op: Operation) -> None: ...
    def replace(self, op: Operation) -> None:
        """Store a new version of an existing operation (the index follows: a live operation is
        indexed, an ended or cancelled one is not)."""

    def get(self, op_id: str) -> Operation | None: ...
    def list(
        self,
        *,
        owner_id: str | None = None,
        states: Sequence[OperationState] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Operation]: ...
    def candidates(self, query: CandidateQuery) -> builtins.list[Occupancy]:
        """Volumes of live operations that the index cannot rule out. Never misses one that meets the
        query; may return more."""


class Conflicts(Protocol):
    def save(self, conflict: Conflict) -> None:
        """Insert, or replace the record with the same id."""

    def get(self, conflict_id: str) -> Conflict | None: ...
    def for_operation(self, op_id: str) -> dict[str, Conflict]:
        """Every record involving ``op_id``, open or resolved, keyed by the other operation's id."""

    def list(
        self,
        *,
        party_id: str | None = None,
        state: ConflictState | None = None,
        operation_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Conflict]: ...


class Idempotency(Protocol):
    def get(self, party_id: str, key: str) -> StoredResponse | None: ...
    def put(self, party_id: str, key: str, response: StoredResponse, at: datetime) -> None: ...


class Events(Protocol):
    def append(
        self,
        *,
        at: datetime,
        actor_id: str | None,
        type: str,
        subject_id: str,
        payload: Mapping[str, Any],
        audience: Sequence[str] = (),
        signed: Mapping[str, Any] | None = None,
    ) -> int:
        """Append one event to the hash chain; returns its sequence number (1, 2, 3, ... in commit order:
        writes are serialised, so the chain's order is the order in which they committed)."""

    def after(self, seq: int, limit: int = 1000) -> builtins.list[Event]: ...

    def head(self) -> tuple[int, str]:
        """The last event's number and chain hash (0 and GENESIS before the first)."""

    def hash_at(self, seq: int) -> str | None:
        """The chain hash of event ``seq`` (GENESIS for 0), None when there is no such event."""


class Transaction(Protocol):
    @property
    def parties(self) -> Parties: ...
    @property
    def party_keys(self) -> PartyKeys: ...
    @property
    def incidents(self) -> Incidents: ...
    @property
    def operations(self) -> Operations: ...
    @property
    def conflicts(self) -> Conflicts: ...
    @property
    def idempotency(self) -> Idempotency: ...
    @property
    def events(self) -> Events: ...


class Store(Protocol):
    backend: str
    """'sqlite' or 'postgresql'."""

    def read(self) -> AbstractContextManager[Transaction]: ...
    def write(self) -> AbstractContextManager[Transaction]:
        """A serialised read-write transaction; commits on normal exit, rolls back on an exception."""

    def close(self) -> None: ...


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
