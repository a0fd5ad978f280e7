"""Response models: the JSON the API answers, as the OpenAPI document declares it (docs/api.md).

Each /v1 route names one of these as its ``response_model``: the document shows it, the Python client is
checked against it (tests/client/test_models_follow_the_document.py), and the test suite checks answers
against it (schemathesis: tests/api/test_schemathesis.py). The views of ``service/views.py`` build these
models, so an answer cannot leave its declared shape; ``to_json`` serialises one (pydantic's own
serializer, no second validation), and the hot paths keep their answers that cheap.

Here rather than in ``api/``: the service layer builds them, and it imports no web framework (this
module needs only pydantic). ``domain/`` does not import them: domain types are not wire types.

Members that a view leaves out when they do not apply (``historical``, ``unit``, ``own_volume``) are
optional here, and left out of the JSON when the view did not set them (``to_json``). Objects whose
members are open-ended by design (a ledger entry's payload, a notification's body, GeoJSON) are ``dict``.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from deconfliction.domain.party import Role

T = TypeVar("T")

GeoJSON = dict[str, Any]


def to_json(answer: BaseModel) -> bytes:
    """An answer's JSON: the members its view set, and only those (one left out stays out; one set to
    None is null), by pydantic's serializer without validating again."""
    return answer.__pydantic_serializer__.to_json(answer, exclude_unset=True)


def to_record(answer: BaseModel) -> dict[str, Any]:
    """The same members as plain JSON values, where a dict is kept (a ledger payload, a stored view)."""
    record: dict[str, Any] = answer.__pydantic_serializer__.to_python(answer, mode="json", exclude_unset=True)
    return record


class Out(BaseModel):
    """Answers carry exactly the members their model declares."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """An answer with documented members and, by design, others beside them."""

    model_config = ConfigDict(extra="allow")


class Page(Out, Generic[T]):
    """One page of a listing; ``next_cursor`` (null on the last page) asks for the next one."""

    items: list[T]
    next_cursor: str | None = Field(description="Send as ?cursor= for the next page; null on the last page")


class LedgerHead(Out):
    seq: int
    hash: str


class Receipt(Out):
    """The signed receipt of a committed write: the ledger entry that recorded it (docs/signing.md)."""

    seq: int = Field(description="The ledger entry's number")
    hash: str = Field(description="The chain hash of that entry")
    head: LedgerHead
    at: str = Field(description="RFC 3339")
    key_id: str = Field(description="The service key that signed it (GET /v1/ledger/service-key)")
    signature: str = Field(description="Ed25519, base64url, over the other members (RFC 8785 canonical JSON)")


class WindowOut(Out):
    start: str = Field(description="RFC 3339, UTC")
    end: str = Field(description="RFC 3339, UTC; the window is [start, end)")


class AltitudeOut(Out):
    lower_m: float
    upper_m: float
    reference: Literal["W84"] | None = None


class VolumeOut(Out):
    footprint: GeoJSON = Field(description="An RFC 7946 geometry, as declared (docs/formats.md)")
    radius_m: float | None = Field(default=None, description="Beside a Point footprint: the circle's radius, metres")
    half_width_m: float | None = Field(
        None, description="Beside a LineString footprint: the corridor's half-width, metres"
    )
    altitude: AltitudeOut
    window: WindowOut


class Operation(Out):
    """One of the caller's operations, whole (the coordinator reads every party's)."""

    id: str
    owner: str = Field(description="The owning party's id")
    title: str
    kind: Literal["air", "ground", "maritime"]
    priority: int
    state: Literal["draft", "planned", "active", "ended", "cancelled"]
    version: int = Field(description="The ETag: what the next change sends as If-Match")
    ovn: str
    volumes: list[VolumeOut]
    created_at: str
    updated_at: str
    unit: str | None = Field(default=None, description="The unit of the owner's party that declared it")
    historical: bool | None = Field(default=None, description="Present (true) on a historical record only")


class Rule(Out):
    name: str
    horizontal_m: float
    vertical_m: float | None
    time_s: float


class Encounter(Out):
    region: GeoJSON
    window: WindowOut
    altitude: AltitudeOut
    horizontal_m: float
    vertical_m: float
    time_s: float
    own_volume: int | None = Field(default=None, description="A party's view: its own volume's index")
    other_volume: int | None = None
    volume_a: int | None = Field(default=None, description="The coordinator's view: side a's volume index")
    volume_b: int | None = None


class Counterpart(Out):
    party: str
    party_name: str | None


class Side(Out):
    party: str
    party_name: str | None
    operation: str | None
    token: str
    unit: str | None = None


class Conflict(Out):
    """A conflict as the caller may see it: a party's view has ``operation``, ``token`` and
    ``counterpart`` (never the other side's plan); the coordinator's has both ``sides``."""

    id: str
    kind: str = Field(description="operation, zone, band or site")
    state: Literal["open", "resolved", "expired"]
    version: int
    rule: Rule
    region: GeoJSON
    window: WindowOut
    altitude: AltitudeOut
    min_horizontal_m: float
    min_vertical_m: float
    min_time_s: float
    created_at: str
    updated_at: str
    encounters: list[Encounter]
    operation: str | None = None
    token: str | None = Field(default=None, description="Send it in known_conflict_tokens to plan or activate")
    counterpart: Counterpart | None = None
    sides: list[Side] | None = None
    unit: str | None = None
    historical: bool | None = None


class DeclarationWarning(Out):
    field: str
    code: str
    message: str


class OperationWrite(Out):
    """The answer to a declaration, revision or state change of an operation."""

    operation: Operation
    conflicts: list[Conflict]
    warnings: list[DeclarationWarning]
    receipt: Receipt


class Party(Out):
    id: str
    name: str
    role: Role
    created_at: str
    unit: str | None = Field(default=None, description="GET /v1/parties/me with a unit's key: that unit")


class Health(Out):
    status: Literal["ok", "degraded"]
    backend: str
    version: str
    database: str


class PartyCreated(Out):
    party: Party
    api_key: str = Field(description="Shown once: the service keeps only its hash")


class ApiKey(Out):
    """A party's API key as its owner and the console list it: never its secret."""

    id: str
    party: str
    label: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    active: bool = Field(description="Neither revoked nor expired")


class SigningKey(Out):
    key_id: str
    algorithm: str
    public_key: str
    created_at: str
    revoked_at: str | None


class SigningKeyWrite(Out):
    key: SigningKey
    receipt: Receipt


class Items(Out, Generic[T]):
    """A whole listing (short by nature: no pages)."""

    items: list[T]


class Certificate(Out):
    fingerprint: str
    party: str
    label: str
    created_at: str
    revoked_at: str | None


class CertificateWrite(Out):
    certificate: Certificate


class Notification(Out):
    id: str
    seq: int
    party: str
    kind: str
    subject: str = Field(description="The id of what it is about (a conflict, a zone, a request, ...)")
    entry: int = Field(description="The ledger entry that caused it")
    body: dict[str, Any] = Field(description="What the party is told (depends on the kind)")
    created_at: str
    deadline: str | None
    state: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    step: int
    escalations: list[dict[str, Any]]
    at_coordinator: bool
    starts_at: str | None
    superseded_by: str | None
    unit: str | None


class OverdueNotification(Notification):
    overdue: bool
    overdue_since: str | None = Field(description="The first deadline it missed")


class NotificationWrite(Out):
    notification: Notification
    receipt: Receipt


class Contact(Out):
    """One rung of an on-call ladder."""

    name: str
    channels: dict[str, str] = Field(description='Channel -> address: {"email": "ops@example.org", ...}')


class Contacts(Out):
    contacts: list[Contact]


class ContactsWrite(Out):
    contacts: list[Contact]
    receipt: Receipt


class Endpoint(Out):
    id: str
    kind: Literal["webhook", "email"]
    address: str
    active: bool
    created_at: str
    secret: str | None = Field(default=None, description="A webhook's signing secret: shown once, when it is added")


class EndpointWrite(Out):
    endpoint: Endpoint
    receipt: Receipt


class EndpointRemoved(Out):
    removed: str
    receipt: Receipt


class Delivery(Out):
    id: str
    endpoint: str
    notification: str
    state: str
    attempts: int
    created_at: str
    next_attempt_at: str | None
    delivered_at: str | None
    last_error: str | None


class ThreadSummary(Open):
    id: str
    subject: str
    created_by: str
    created_at: str
    participants: list[Any]


class Thread(ThreadSummary):
    messages: list[dict[str, Any]]


class ThreadWrite(Out):
    thread: str
    message: str
    receipt: Receipt


class MessageWrite(Out):
    message: str
    receipt: Receipt


class Templates(Out):
    languages: list[str]
    templates: dict[str, dict[str, Any]]


class Preferences(Out):
    language: str


class Request(Out):
    id: str
    kind: str
    about: dict[str, str] = Field(description='{"type": "zone|line|site|conflict|...", "id": "..."}')
    requester: str
    owner: str = Field(description="The party asked")
    text: str
    window: WindowOut | None
    state: str
    answer: str | None
    answered_at: str | None
    comments: list[dict[str, Any]]
    created_at: str


class RequestWrite(Out):
    request: Request
    receipt: Receipt


class ServiceKey(Out):
    key_id: str
    algorithm: str
    public_key: str


class Site(Out):
    id: str
    owner: str
    name: str
    category: str
    footprint: GeoJSON
    radius_m: float
    accuracy_m: float
    valid_until: str
    state: str
    needs_revalidation: bool
    version: int = Field(description="The ETag")
    created_at: str
    updated_at: str
    unit: str | None = None


class SiteWrite(Out):
    site: Site
    conflicts: list[Conflict]
    likely_duplicates: list[dict[str, Any]]
    warnings: list[DeclarationWarning]
    receipt: Receipt


class SiteImport(Out):
    """The report of a CSV import (all or nothing); ``receipt`` and ``conflicts`` once stored."""

    ok: bool
    dry_run: bool
    stored: bool
    accepted: list[dict[str, Any]]
    refused: list[dict[str, Any]]
    file_errors: list[dict[str, Any]]
    conflicts: list[Conflict] | None = None
    receipt: Receipt | None = None


class ZoneVersion(Out):
    id: str
    name: str
    owner: str
    revision: int
    version: int = Field(description="The ETag")
    state: str
    footprint: GeoJSON
    validity: WindowOut
    counterparties: list[str]
    answers: list[dict[str, Any]]
    pending: list[str]
    created_at: str
    updated_at: str
    line: str | None = None
    unit: str | None = None


class Zone(Out):
    id: str
    versions: list[ZoneVersion]


class ZoneWrite(Out):
    zone: ZoneVersion
    versions: list[ZoneVersion]
    conflicts: list[Conflict]
    receipt: Receipt


class Line(Out):
    id: str
    name: str
    author: str
    party_left: str
    party_right: str
    line: GeoJSON
    area: GeoJSON
    band: dict[str, Any] | None
    zones: dict[str, str]
    created_at: str
    withdrawn_at: str | None


class LineWrite(Out):
    line: Line
    zones: list[ZoneVersion]
    conflicts: list[Conflict]
    receipt: Receipt


class Movement(Open):
    """A movement as declared: timed by ``departure`` and ``speed_m_s``, or by ``waypoint_times`` (one per
    position of the route); ``sweep`` is what the service made of it."""

    route: GeoJSON
    departure: str | None = Field(default=None, description="With speed_m_s: when it leaves the first position")
    speed_m_s: float | None = Field(default=None, description="With departure: its speed along the route")
    waypoint_times: list[str] | None = Field(default=None, description="Else: RFC 3339 time at each position")
    half_width_m: float
    tolerance_s: float
    altitude: dict[str, Any]
    sweep: dict[str, Any]


class MovementWrite(Out):
    operation: Operation
    movement: Movement
    conflicts: list[Conflict]
    warnings: list[DeclarationWarning]
    receipt: Receipt


class MovementRead(Out):
    operation: str
    movement: Movement


class Incident(Out):
    id: str
    reporter: str
    place: GeoJSON
    at: str
    description: str
    radius_m: float
    before_s: int
    after_s: int
    created_at: str


class IncidentWrite(Out):
    incident: Incident
    receipt: Receipt


class Inquiry(Open):
    """What was near an incident, and who was told what, when."""

    incident: Incident
    reporter_name: str | None
    operations: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    zones: list[dict[str, Any]]
    sites: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    not_recorded: list[str]
    ledger_head: LedgerHead


class FeatureCollection(Open):
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


class ImportReport(Open):
    dry_run: bool
    counts: dict[str, int]
    stored: dict[str, Any]
    conflicts: list[Conflict] | None = None
    receipt: Receipt | None = None


class TracksAccepted(Out):
    accepted: int
    ignored_older: int
    ignored_expired: int


class TacticalRule(Out):
    horizontal_m: float
    vertical_m: float
    lookahead_s: float


class AlertSide(Out):
    party: str | None
    party_name: str | None
    track: str


class AlertTarget(Out):
    kind: str = Field(description="What an undeclared track entered: zone or site")
    id: str
    owner: str | None


class Alert(Out):
    """A tactical alert as the caller may see it (docs/tactical.md): the coordinator's has both
    ``tracks``; a party's its ``own_tracks`` and the ``counterpart`` (party and aircraft only)."""

    id: str
    kind: Literal["tactical"]
    type: str
    state: str
    rule: TacticalRule
    loss_at: str
    closest_at: str
    min_horizontal_m: float
    vertical_m: float
    now: bool = Field(description="Separation is lost now (not only predicted)")
    position: list[float] | None
    created_at: str
    updated_at: str
    resolved_at: str | None
    affiliation: str | None = Field(default=None, description="Undeclared activity: the track's affiliation")
    target: AlertTarget | None = None
    tracks: list[AlertSide] | None = None
    own_tracks: list[str] | None = None
    counterpart: AlertSide | None = None


class Track(Out):
    id: str
    party: str | None
    party_name: str | None
    affiliation: str
    callsign: str | None
    time: str
    lat: float
    lon: float
    altitude_m: float | None
    ground_speed_mps: float | None
    track_deg: float | None
    vertical_rate_mps: float | None
    own: bool
    alerts: list[str]
    reported_by: str | None = Field(default=None, description="A sensor track: the party whose feed reported it")


class Tracks(Out):
    items: list[Track]
    at: str
    truncated: bool


class TrackStatement(Out):
    track: str
    statement: str
    party: str | None
    affiliation: str
    alerts: list[str]
    told: int = Field(description="How many parties were told")
    receipt: Receipt


class Unit(Out):
    id: str
    party: str
    name: str
    contacts: list[Contact]
    area: GeoJSON | None
    version: int
    created_at: str
    updated_at: str


class UnitWrite(Out):
    unit: Unit
    receipt: Receipt


class UnitKey(Out):
    id: str
    unit: str
    active: bool
    created_at: str
    revoked_at: str | None


class UnitKeyWrite(Out):
    key: UnitKey
    receipt: Receipt
    api_key: str | None = Field(default=None, description="Shown once, when it is issued")


class ConflictPage(Page[Conflict | Alert]):
    """GET /v1/conflicts: conflicts, or with ``kind=tactical`` the live alerts."""


# Named listings: a generated client gets a class name, not Page_Operation_.


class AlertList(Items[Alert]):
    pass


class CertificateList(Items[Certificate]):
    pass


class DeliveryPage(Page[Delivery]):
    pass


class EndpointList(Items[Endpoint]):
    pass


class IncidentPage(Page[Incident]):
    pass


class LinePage(Page[Line]):
    pass


class NotificationPage(Page[Notification]):
    pass


class OperationPage(Page[Operation]):
    pass


class OverdueNotificationPage(Page[OverdueNotification]):
    pass


class PartyPage(Page[Party]):
    pass


class RequestPage(Page[Request]):
    pass


class SigningKeyList(Items[SigningKey]):
    pass


class SitePage(Page[Site]):
    pass


class ThreadSummaryPage(Page[ThreadSummary]):
    pass


class UnitKeyList(Items[UnitKey]):
    pass


class UnitPage(Page[Unit]):
    pass


class ZoneVersionPage(Page[ZoneVersion]):
    pass
