"""Storage ports: what the service needs of a database, and nothing more.

Every backend passes the same contract suite (tests/store/test_contract.py). A ``Store`` hands out
transactions: ``read()`` sees one consistent snapshot; ``write()`` is serialised with every other write,
on every backend and across processes, so that a conflict check sees every operation committed before it
and the event log's order is the commit order.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from deconfliction.domain.cells import Box
from deconfliction.domain.conflict import Conflict, ConflictState, Occupancy
from deconfliction.domain.delivery import Delivery, DeliveryState, Endpoint
from deconfliction.domain.exercise import DeploymentMode, ScenarioAnchor
from deconfliction.domain.hotline import Message, Thread
from deconfliction.domain.incident import Incident
from deconfliction.domain.ledger import Entry, Sealed
from deconfliction.domain.line import Band
from deconfliction.domain.notification import Contact, Notification, NotificationState
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.party import Party
from deconfliction.domain.request import Request, RequestState
from deconfliction.domain.site import ProtectedSite
from deconfliction.domain.unit import Unit
from deconfliction.domain.zone import Zone
from deconfliction.dss.extents import Extent
from deconfliction.dss.records import Reference, Subscription
from deconfliction.store.gauges import Gauges
from deconfliction.store.wakeup import Wakeups


@dataclass(frozen=True)
class CandidateQuery:
    """Everything that may come within reach of a volume: boxes already grown by the widest horizontal
    separation, times and altitudes by the widest margins (``None``: any altitude)."""

    boxes: tuple[Box, ...]
    start: datetime
    end: datetime
    alt_lo: float | None
    alt_hi: float | None
    exclude_owner: str = ""
    """Leave out this party's volumes (a party's operations never conflict with each other: detection
    asks without them, so the store neither sends nor parses them). Empty: every party's."""


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
    exercise: bool = False
    """Written into an exercise database (docs/exercise.md)."""

    def sealed(self) -> Sealed:
        entry = Entry(
            self.seq,
            self.at,
            self.actor_id,
            self.type,
            self.subject_id,
            self.audience,
            self.payload,
            self.signed,
            self.exercise,
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
    def get_many(self, party_ids: Collection[str]) -> dict[str, Party]:
        """The parties with these ids (those that exist), by id."""

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


@dataclass(frozen=True)
class ApiKey:
    """One of a party's API keys: only its SHA-256 is stored; shown once when made."""

    id: str
    party_id: str
    label: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class ApiKeys(Protocol):
    def add(self, key: ApiKey, key_hash: str) -> None: ...
    def get(self, key_id: str) -> ApiKey | None: ...
    def by_hash(self, key_hash: str) -> ApiKey | None:
        """The key with this SHA-256, active or not."""

    def for_party(self, party_id: str) -> builtins.list[ApiKey]:
        """Every key of the party, revoked and expired ones too, oldest first."""

    def revoke(self, key_id: str, at: datetime) -> None:
        """Mark revoked at ``at``; a key revoked before keeps its first revocation."""


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate bound to a party: the SHA-256 of its DER encoding (lower-case hex)."""

    fingerprint: str
    party_id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ClientCertificates(Protocol):
    def add(self, cert: ClientCertificate) -> None: ...
    def get(self, fingerprint: str) -> ClientCertificate | None: ...
    def for_party(self, party_id: str) -> builtins.list[ClientCertificate]:
        """Every certificate bound to the party, revoked ones too, oldest first."""

    def revoke(self, fingerprint: str, at: datetime) -> None: ...


class AuthFailures(Protocol):
    """Failed authentications by scope (``address:<ip>``, ``party:<id>``), over a sliding window."""

    def record(self, scope: str, at: datetime, since: datetime) -> int:
        """Count one failure at ``at``; forget the scope's failures before ``since``; the count since then."""

    def window(self, scope: str, since: datetime) -> tuple[int, datetime | None]:
        """The scope's failures at or after ``since``: how many, and the oldest of them."""


@dataclass(frozen=True)
class UnitKey:
    """An API key scoped to one unit (its hash is stored, never the key)."""

    id: str
    unit_id: str
    created_at: datetime
    revoked_at: datetime | None = None


class Units(Protocol):
    """A party's units, and the API keys scoped to them."""

    def add(self, unit: Unit) -> None: ...
    def save(self, unit: Unit) -> None:
        """Store the new version of an existing unit."""

    def get(self, unit_id: str) -> Unit | None: ...
    def by_name(self, party_id: str, name: str) -> Unit | None: ...
    def list(self, *, party_id: str | None = None, after: str | None = None, limit: int = 100) -> builtins.list[Unit]:
        """By id; ``party_id`` None: every party's."""

    def add_key(self, key: UnitKey, key_hash: str) -> None: ...
    def keys(self, unit_id: str) -> builtins.list[UnitKey]:
        """Every key of the unit, revoked ones too, oldest first."""

    def revoke_key(self, key_id: str, at: datetime) -> None: ...
    def by_key_hash(self, key_hash: str) -> Unit | None:
        """The unit of an active (not revoked) key."""


class Incidents(Protocol):
    def add(self, incident: Incident) -> None: ...
    def get(self, incident_id: str) -> Incident | None: ...
    def list(
        self, *, reporter_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Incident]: ...


class Notifications(Protocol):
    def next_seq(self) -> int:
        """The next number of the service-wide notification order (inside the serialised write)."""

    def add(self, n: Notification) -> None: ...
    def save(self, n: Notification) -> None:
        """Store the new state of an existing notification (acknowledgement, escalation step)."""

    def get(self, notification_id: str) -> Notification | None: ...
    def for_party(
        self, party_id: str, *, after_seq: int = 0, limit: int = 100, unit_id: str | None = None
    ) -> builtins.list[Notification]:
        """A party's notifications in order, after a number (its stream). ``unit_id``: only those of
        that unit and those of no unit (what a unit's key reads)."""

    def list(
        self,
        *,
        party_id: str | None = None,
        pending: bool | None = None,
        overdue_at: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
        state: NotificationState | None = None,
        unit_id: str | None = None,
    ) -> builtins.list[Notification]:
        """By id. ``overdue_at``: only those pending, still chased (a deadline), that missed a deadline:
        it is at or before ``overdue_at``, or they were escalated (step > 0). ``state``: only those in that
        state. ``unit_id``: only those of that unit and those of no unit."""

    def about(self, party_id: str, kind: str, subject_id: str) -> builtins.list[Notification]:
        """A party's notifications of one kind about one thing, oldest first."""

    def for_subject(self, party_id: str, subject_id: str) -> builtins.list[Notification]:
        """A party's notifications of any kind about one thing, oldest first."""

    def escalations_due(self, now: datetime, limit: int = 100) -> builtins.list[Notification]:
        """Pending, deadline passed, not yet with the coordinator; oldest deadline first."""

    def last_seq(self) -> int: ...


class Endpoints(Protocol):
    def add(self, endpoint: Endpoint) -> None: ...
    def get(self, endpoint_id: str) -> Endpoint | None: ...
    def for_party(self, party_id: str, *, active_only: bool = True) -> builtins.list[Endpoint]: ...
    def prefetch(self, party_ids: Collection[str]) -> None:
        """Read the active endpoints of ``party_ids`` in one go: ``for_party`` answers them without
        another read for the rest of the transaction."""

    def deactivate(self, endpoint_id: str) -> None: ...


class Deliveries(Protocol):
    def add(self, delivery: Delivery) -> None: ...
    def save(self, delivery: Delivery) -> None: ...
    def get(self, delivery_id: str) -> Delivery | None: ...
    def due(self, now: datetime, limit: int = 50) -> builtins.list[Delivery]:
        """Pending deliveries whose next attempt is due, oldest first."""

    def list(
        self, *, party_id: str, state: DeliveryState | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Delivery]: ...


class Hotline(Protocol):
    def add_thread(self, thread: Thread) -> None: ...
    def thread(self, thread_id: str) -> Thread | None: ...
    def threads_of(self, party_id: str | None, *, after: str | None = None, limit: int = 100) -> builtins.list[Thread]:
        """The threads a party takes part in (None: all), by id."""

    def add_message(self, message: Message) -> None: ...
    def messages(self, thread_id: str) -> builtins.list[Message]: ...
    def language(self, party_id: str) -> str: ...
    def set_language(self, party_id: str, language: str) -> None: ...


class Requests(Protocol):
    def add(self, request: Request) -> None: ...
    def save(self, request: Request) -> None: ...
    def get(self, request_id: str) -> Request | None: ...
    def list(
        self, *, party_id: str | None, state: RequestState | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Request]:
        """Requests the party made or was asked (None: all), by id."""


class Contacts(Protocol):
    def get(self, party_id: str) -> tuple[Contact, ...]: ...
    def prefetch(self, party_ids: Collection[str]) -> None:
        """Read the ladders of ``party_ids`` in one go: ``get`` answers them without another read for the
        rest of the transaction."""

    def put(self, party_id: str, ladder: Sequence[Contact], at: datetime) -> None: ...


class Sites(Protocol):
    """Protected sites. Active sites are filed in the bounding-box index (their boxes grown by radius and
    accuracy); a withdrawn one leaves it."""

    def add(self, site: ProtectedSite, token: str) -> None: ...
    def replace(self, site: ProtectedSite) -> None:
        """Store a new version of an existing site (revalidated or withdrawn)."""

    def get(self, site_id: str) -> ProtectedSite | None: ...
    def list(
        self, *, owner_id: str | None = None, active: bool | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[ProtectedSite]: ...
    def near(self, boxes: Sequence[Box]) -> builtins.list[tuple[ProtectedSite, str]]:
        """Active sites whose grown boxes meet any of ``boxes``, with their tokens. Never misses one."""

    def filed(self, keys: Sequence[str]) -> builtins.list[tuple[ProtectedSite, str]]:
        """The sites filed under these index keys (``AreaIndex.near``'s ``site``), with their tokens."""


class Zones(Protocol):
    """Zones of responsibility, one record per version. Agreed versions are filed in the bounding-box
    index; any other state leaves it."""

    def add(self, zone: Zone, token: str) -> None:
        """A new version (or a new zone's version 1)."""

    def replace(self, zone: Zone) -> None:
        """The new state of an existing version (answered, superseded, withdrawn)."""

    def get(self, zone_id: str, version: int | None = None) -> Zone | None:
        """One version; the latest when ``version`` is None."""

    def versions(self, zone_id: str) -> builtins.list[Zone]:
        """Every version of a zone, oldest first."""

    def list(self, *, after: str | None = None, limit: int = 100) -> builtins.list[Zone]:
        """Every version of up to ``limit`` zones with an id after ``after``, by id then version."""

    def near(self, boxes: Sequence[Box]) -> builtins.list[tuple[Zone, str]]:
        """Agreed versions whose boxes meet any of ``boxes``, with their tokens. Never misses one."""

    def filed(self, keys: Sequence[str]) -> builtins.list[tuple[Zone, str]]:
        """The versions filed under these index keys (``AreaIndex.near``'s ``zone``), with their tokens."""


@dataclass(frozen=True)
class LineRecord:
    """A deconfliction line as stored: what was split, by whom, the zones it proposed and its band."""

    id: str
    creator_id: str
    name: str
    area: Mapping[str, Any]
    """The area of interest, GeoJSON as given."""
    line: tuple[tuple[float, float], ...]
    party_left: str
    party_right: str
    zone_left: str
    zone_right: str
    band: Band | None
    created_at: datetime
    withdrawn_at: datetime | None = None
    """When its band stopped counting (the zones it proposed have their own states)."""


class Lines(Protocol):
    """Deconfliction lines; the bands of lines not withdrawn are filed in the bounding-box index."""

    def add(self, line: LineRecord, token: str) -> None: ...
    def replace(self, line: LineRecord) -> None:
        """Store a line's new state (withdrawn: its band leaves the index)."""

    def get(self, line_id: str) -> LineRecord | None: ...
    def list(self, *, after: str | None = None, limit: int = 100) -> builtins.list[LineRecord]: ...
    def bands_near(self, boxes: Sequence[Box]) -> builtins.list[tuple[Band, str]]:
        """Bands whose boxes meet any of ``boxes``, with their line's token. Never misses one."""

    def bands_filed(self, keys: Sequence[str]) -> builtins.list[tuple[Band, str]]:
        """The bands filed under these index keys (``AreaIndex.near``'s ``band``), with their line's token."""


class AreaIndex(Protocol):
    """The bounding-box index that ``Sites``, ``Zones`` and ``Lines`` file into, asked for all three at once."""

    def near(self, boxes: Mapping[str, Sequence[Box]]) -> dict[str, builtins.list[str]]:
        """For each kind asked (``zone``, ``band``, ``site``), the index keys filed under it whose boxes meet
        any of that kind's ``boxes``, in one statement: what each repository's ``near`` finds, before the
        records are read (``filed``)."""


class Movements(Protocol):
    """The route and schedule of operations declared as movements (their volumes are stored as any
    operation's)."""

    def put(self, op_id: str, op_version: int, movement: Mapping[str, Any], at: datetime) -> None:
        """Insert, or replace the movement of ``op_id`` (a new version of the operation)."""

    def get(self, op_id: str) -> tuple[int, Mapping[str, Any]] | None:
        """The operation version the movement was swept for, and the movement as declared."""


class Operations(Protocol):
    def add(self, op: Operation) -> None: ...
    def add_many(self, ops: Sequence[Operation]) -> None:
        """Store new operations in one go (what ``add`` stores for each, index rows included): for
        loading many at once (COPY on PostgreSQL, one executemany per table on SQLite)."""

    def replace(self, op: Operation) -> None:
        """Store a new version of an existing operation (the index follows: a live operation is
        indexed, an ended or cancelled one is not)."""

    def get(self, op_id: str) -> Operation | None: ...
    def get_many(self, op_ids: Collection[str]) -> builtins.list[Operation]:
        """The operations with these ids (those that exist), by id."""

    def list(
        self,
        *,
        owner_id: str | None = None,
        states: Sequence[OperationState] | None = None,
        after: str | None = None,
        limit: int = 100,
        unit_id: str | None = None,
    ) -> builtins.list[Operation]:
        """By id. ``unit_id``: only the operations of that unit and those of no unit."""

    def unit_of(self, op_id: str) -> str | None:
        """The unit that declared an operation (None: none, or no such operation)."""

    def historical(self, op_ids: Collection[str]) -> set[str]:
        """Which of these operations are historical records (read without their volumes)."""

    def places(
        self, owner_id: str, *, exclude: str = "", limit: int = 500
    ) -> builtins.list[tuple[float, float, float]]:
        """(centre longitude, centre latitude, reach in metres) of the volumes of ``owner_id``'s most
        recently declared operations but ``exclude`` (at most ``limit`` volumes, any state): where it
        declared things."""

    def candidates(self, query: CandidateQuery) -> builtins.list[Occupancy]:
        """Volumes of live operations that the index cannot rule out (but ``query.exclude_owner``'s).
        Never misses one that meets the query; may return more."""

    def live_occupancies(
        self, op_ids: Collection[str], *, exclude_owner: str = "", near: Sequence[CandidateQuery] = ()
    ) -> builtins.list[Occupancy]:
        """The volumes of those of these operations that are live and not ``exclude_owner``'s, as
        ``candidates`` returns them (what detection reads, not the whole operation): every one, or with
        ``near`` only those that some of its queries cannot rule out by the index's own tests (windows,
        altitude bands and boxes meet). Never misses one that ``candidates`` would return."""


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
        states: Sequence[ConflictState] | None = None,
    ) -> builtins.list[Conflict]:
        """``states``: only records in one of these states (with ``state``: in both)."""

    def ended(self, now: datetime, limit: int = 100) -> builtins.list[Conflict]:
        """Open records whose window ended at or before ``now``, earliest end first (the expiry round)."""


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

    def changes_since(self, seq: int) -> set[tuple[str, str]]:
        """The (type, subject) of every event after ``seq``: what changed since a snapshot taken at head
        ``seq`` (``service.operations.prefind``)."""

    def hash_at(self, seq: int) -> str | None:
        """The chain hash of event ``seq`` (GENESIS for 0), None when there is no such event."""


class Deployment(Protocol):
    """What the database holds, live or exercise data, and the exercise clock's anchor (docs/exercise.md)."""

    def mode(self) -> DeploymentMode | None:
        """None until the database is first opened by a server or first written."""

    def mark(self, mode: DeploymentMode) -> None: ...
    def anchor(self) -> ScenarioAnchor | None:
        """The scenario clock every process of an exercise computes from; None on a live database."""

    def put_anchor(self, anchor: ScenarioAnchor) -> None: ...


class Schema(Protocol):
    """The database's migrations (docs/storage.md), as a readiness probe reads them."""

    def pending(self) -> builtins.list[str]:
        """The migrations shipped with this version that the database has not applied, by file name in
        order: empty when the schema is current. Reads only."""


class Transaction(Protocol):
    def wake(self, channel: str) -> None:
        """Wake the readers of ``channel`` (``Store.wakeups``) once this transaction commits; nothing when
        it rolls back. Repositories call it for what they add (a notification wakes its party's stream)."""

    @property
    def parties(self) -> Parties: ...
    @property
    def party_keys(self) -> PartyKeys: ...
    @property
    def api_keys(self) -> ApiKeys: ...
    @property
    def units(self) -> Units: ...
    @property
    def client_certificates(self) -> ClientCertificates: ...
    @property
    def auth_failures(self) -> AuthFailures: ...
    @property
    def incidents(self) -> Incidents: ...
    @property
    def notifications(self) -> Notifications: ...
    @property
    def contacts(self) -> Contacts: ...
    @property
    def hotline(self) -> Hotline: ...
    @property
    def requests(self) -> Requests: ...
    @property
    def endpoints(self) -> Endpoints: ...
    @property
    def deliveries(self) -> Deliveries: ...
    @property
    def sites(self) -> Sites: ...
    @property
    def zones(self) -> Zones: ...
    @property
    def lines(self) -> Lines: ...
    @property
    def area_index(self) -> AreaIndex: ...
    @property
    def movements(self) -> Movements: ...
    @property
    def operations(self) -> Operations: ...
    @property
    def conflicts(self) -> Conflicts: ...
    @property
    def idempotency(self) -> Idempotency: ...
    @property
    def events(self) -> Events: ...
    @property
    def deployment(self) -> Deployment: ...
    @property
    def gauges(self) -> Gauges: ...
    @property
    def dss(self) -> DssRecords: ...
    @property
    def schema(self) -> Schema: ...


class DssRecords(Protocol):
    """What the ASTM F3548 DSS interface keeps (store/dss.py, docs/dss.md)."""

    def reference(self, kind: str | None, ref_id: str) -> Reference | None:
        """The reference ``ref_id`` of ``kind`` (None: of either kind; an id names one entity)."""
        ...

    def put_reference(self, ref: Reference, *, new: bool = False) -> None:
        """Store ``ref`` in place of the one of its id (``new``: the caller knows there is none)."""
        ...

    def delete_reference(self, ref_id: str) -> None: ...
    def search_references(self, kind: str, extent: Extent) -> builtins.list[Reference]: ...
    def dependents(self, subscription_id: str) -> builtins.list[str]: ...
    def subscription(self, sub_id: str) -> Subscription | None: ...
    def put_subscription(self, sub: Subscription, *, new: bool = False) -> None:
        """Store ``sub`` in place of the one of its id (``new``: the caller knows there is none)."""
        ...

    def delete_subscription(self, sub_id: str) -> None: ...
    def search_subscriptions(self, extent: Extent, *, flag: str | None = None) -> builtins.list[Subscription]: ...
    def increment(self, sub_ids: Sequence[str]) -> None: ...
    def availability(self, uss_id: str) -> tuple[str, str] | None: ...
    def put_availability(self, uss_id: str, availability: str, version: str) -> None: ...
    def add_report(self, report_id: str, reporter: str, at: datetime, body: str) -> None: ...


class Store(Protocol):
    backend: str
    """'sqlite' or 'postgresql'."""

    @property
    def wakeups(self) -> Wakeups:
        """Readers wait here for commits that ``Transaction.wake`` announced (store/wakeup.py)."""

    def read(self) -> AbstractContextManager[Transaction]:
        """A read-only transaction: every statement in it sees the same snapshot."""

    def glance(self) -> AbstractContextManager[Transaction]:
        """A read whose statements each see what had committed when it ran, not one snapshot shared
        between them: for a read of one statement, or of a few that need not agree with each other (the
        checks every request makes before its work: a lockout, a key still valid). No transaction is
        begun or ended around them (on PostgreSQL two round trips fewer than ``read``)."""

    def write(self, *, bulk: bool = False) -> AbstractContextManager[Transaction]:
        """A serialised read-write transaction; commits on normal exit, rolls back on an exception.
        ``bulk``: a load of many rows (``operations.add_many``), which PostgreSQL then copies in (COPY)
        rather than sending its statements in a pipeline, as it does otherwise."""

    def close(self) -> None: ...


def every_event(events: Events, page: int = 1000) -> Iterator[Event]:
    """The whole ledger in order, read a page at a time (inside one transaction: one snapshot)."""
    seq = 0
    while batch := events.after(seq, page):
        yield from batch
        seq = batch[-1].seq


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
