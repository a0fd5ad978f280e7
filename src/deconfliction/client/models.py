"""What the API answers, as small frozen dataclasses: typed values, not raw dicts.

Each class reads its own JSON (``from_json``) and, where a client sends it, writes it (``to_json``).
Times are timezone-aware ``datetime`` values in UTC; geometry stays GeoJSON (a mapping), as the API
sends it, so any GeoJSON library takes it as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar, cast

Kind = Literal["air", "ground", "maritime"]
OperationState = Literal["draft", "planned", "active", "ended", "cancelled"]
ConflictState = Literal["open", "resolved", "expired"]
Role = Literal["party", "coordinator", "observer", "auditor", "uss"]
GeoJSON = Mapping[str, Any]

T = TypeVar("T")


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as the service writes it (``...Z``), as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


Time = datetime | str
"""A time as the client takes it: an aware datetime, or an ISO 8601 / RFC 3339 string with an offset
(``2026-11-23T08:00:00Z``, ``2026-11-23T10:00:00+02:00``)."""


def as_time(at: Time) -> datetime:
    """``at`` as an aware UTC datetime; a time without an offset is refused rather than guessed (as the
    service does), and so is a string that is not ISO 8601, naming it."""
    if isinstance(at, str):
        try:
            parsed = datetime.fromisoformat(at.strip().replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{at!r} is not an ISO 8601 time (2026-11-23T08:00:00Z)") from None
        at = parsed
    elif not isinstance(at, datetime):
        raise TypeError(f"a time is a datetime or an ISO 8601 string, not {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone: give one (Z, +02:00, or datetime.UTC)")
    return at.astimezone(UTC)


def format_time(at: Time) -> str:
    """A time (``as_time``) as RFC 3339 in UTC."""
    return as_time(at).isoformat().replace("+00:00", "Z")


def _opt_time(value: Any) -> datetime | None:
    return None if value is None else parse_time(str(value))


@dataclass(frozen=True)
class Window:
    """A half-open time window [start, end); ``start`` and ``end`` may be given as ISO 8601 strings
    (``Window("2026-11-23T08:00:00Z", "2026-11-23T10:00:00Z")``) and are kept as aware UTC datetimes."""

    start: datetime
    end: datetime

    def __init__(self, start: Time, end: Time) -> None:
        object.__setattr__(self, "start", as_time(start))
        object.__setattr__(self, "end", as_time(end))

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Window:
        return cls(parse_time(d["start"]), parse_time(d["end"]))

    def to_json(self) -> dict[str, str]:
        return {"start": format_time(self.start), "end": format_time(self.end)}


@dataclass(frozen=True)
class Altitude:
    """An altitude band in metres above the WGS84 ellipsoid (``W84``)."""

    lower_m: float
    upper_m: float
    reference: str = "W84"

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Altitude:
        return cls(float(d["lower_m"]), float(d["upper_m"]), str(d.get("reference", "W84")))

    def to_json(self) -> dict[str, Any]:
        return {"lower_m": self.lower_m, "upper_m": self.upper_m, "reference": self.reference}


@dataclass(frozen=True)
class Volume:
    """A Volume4D: an RFC 7946 footprint (Polygon, MultiPolygon; a Point with ``radius_m`` is a circle, a
    LineString with ``half_width_m`` a corridor: docs/formats.md), an altitude band and a time window."""

    footprint: GeoJSON
    altitude: Altitude
    window: Window
    radius_m: float | None = None
    """With a Point footprint: the circle's radius in metres."""
    half_width_m: float | None = None
    """With a LineString footprint: the corridor's half-width in metres."""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Volume:
        return cls(
            d["footprint"],
            Altitude.from_json(d["altitude"]),
            Window.from_json(d["window"]),
            d.get("radius_m"),
            d.get("half_width_m"),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"footprint": dict(self.footprint)}
        if self.radius_m is not None:
            out["radius_m"] = self.radius_m
        if self.half_width_m is not None:
            out["half_width_m"] = self.half_width_m
        return out | {"altitude": self.altitude.to_json(), "window": self.window.to_json()}


@dataclass(frozen=True)
class Operation:
    """One of the caller's operations, whole (the coordinator reads every party's)."""

    id: str
    owner: str
    title: str
    kind: Kind
    priority: int
    state: OperationState
    version: int
    """The ETag: what the next change sends as If-Match."""
    ovn: str
    volumes: tuple[Volume, ...]
    created_at: datetime
    updated_at: datetime
    unit: str | None = None
    """The unit of the caller's party that declared it (None: the party as a whole)."""
    historical: bool = False
    """Filed as a historical record for an inquiry: never chased, never planned or activated."""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Operation:
        return cls(
            id=d["id"],
            owner=d["owner"],
            title=d["title"],
            kind=cast(Kind, d["kind"]),
            priority=int(d["priority"]),
            state=cast(OperationState, d["state"]),
            version=int(d["version"]),
            ovn=d["ovn"],
            volumes=tuple(Volume.from_json(v) for v in d["volumes"]),
            created_at=parse_time(d["created_at"]),
            updated_at=parse_time(d["updated_at"]),
            unit=d.get("unit"),
            historical=bool(d.get("historical", False)),
        )


@dataclass(frozen=True)
class Rule:
    """The separation rule that fired: minimum horizontal, vertical (None: any) and time distances."""

    name: str
    horizontal_m: float
    vertical_m: float | None
    time_s: float

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Rule:
        vertical = d.get("vertical_m")
        return cls(
            str(d["name"]), float(d["horizontal_m"]), None if vertical is None else float(vertical), float(d["time_s"])
        )


@dataclass(frozen=True)
class Encounter:
    """One pair of volumes that are too close. ``own_volume`` in a party's view; ``volume_a`` and
    ``volume_b`` in the coordinator's."""

    region: GeoJSON
    window: Window
    altitude: Altitude
    horizontal_m: float
    vertical_m: float
    time_s: float
    own_volume: int | None = None
    volume_a: int | None = None
    volume_b: int | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Encounter:
        return cls(
            region=d["region"],
            window=Window.from_json(d["window"]),
            altitude=Altitude.from_json(d["altitude"]),
            horizontal_m=float(d["horizontal_m"]),
            vertical_m=float(d["vertical_m"]),
            time_s=float(d["time_s"]),
            own_volume=d.get("own_volume"),
            volume_a=d.get("volume_a"),
            volume_b=d.get("volume_b"),
        )


@dataclass(frozen=True)
class Counterpart:
    """The other side of a conflict, in a party's view: whom to call, never their plan."""

    party: str
    party_name: str | None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Counterpart:
        return cls(d["party"], d.get("party_name"))


@dataclass(frozen=True)
class Side:
    """One side of a conflict, in the coordinator's view."""

    party: str
    party_name: str | None
    operation: str | None
    """None in a refusal for an operation that was never stored."""
    token: str

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Side:
        return cls(d["party"], d.get("party_name"), d.get("operation"), d["token"])


@dataclass(frozen=True)
class Conflict:
    """A conflict as the caller may see it. A party's view has ``operation`` (its own), ``token`` and
    ``counterpart``; the coordinator's has ``sides``. In a ``missing_conflict_tokens`` refusal a conflict
    that would be new has no ``id`` and ``version`` (nothing was stored)."""

    id: str | None
    kind: str
    state: ConflictState
    version: int | None
    rule: Rule
    region: GeoJSON
    window: Window
    altitude: Altitude
    min_horizontal_m: float
    min_vertical_m: float
    min_time_s: float
    created_at: datetime | None
    updated_at: datetime | None
    encounters: tuple[Encounter, ...]
    operation: str | None = None
    token: str | None = None
    counterpart: Counterpart | None = None
    sides: tuple[Side, ...] = ()
    historical: bool = False
    """One side is a historical record: recorded, never chased."""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Conflict:
        counterpart = d.get("counterpart")
        return cls(
            id=d.get("id"),
            kind=str(d["kind"]),
            state=cast(ConflictState, d["state"]),
            version=d.get("version"),
            rule=Rule.from_json(d["rule"]),
            region=d["region"],
            window=Window.from_json(d["window"]),
            altitude=Altitude.from_json(d["altitude"]),
            min_horizontal_m=float(d["min_horizontal_m"]),
            min_vertical_m=float(d["min_vertical_m"]),
            min_time_s=float(d["min_time_s"]),
            created_at=_opt_time(d.get("created_at")),
            updated_at=_opt_time(d.get("updated_at")),
            encounters=tuple(Encounter.from_json(e) for e in d.get("encounters", ())),
            operation=d.get("operation"),
            token=d.get("token"),
            counterpart=None if counterpart is None else Counterpart.from_json(counterpart),
            sides=tuple(Side.from_json(s) for s in d.get("sides", ())),
            historical=bool(d.get("historical", False)),
        )


def tokens_of(conflicts: Sequence[Conflict]) -> tuple[str, ...]:
    """The proof-of-knowledge tokens of conflicts in a party's view (what ``plan`` and ``activate``
    need)."""
    return tuple(c.token for c in conflicts if c.token is not None)


@dataclass(frozen=True)
class LedgerHead:
    seq: int
    hash: str

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> LedgerHead:
        return cls(int(d["seq"]), str(d["hash"]))

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}


@dataclass(frozen=True)
class Receipt:
    """The service's signed statement that a write is in the ledger: entry ``seq`` with chain ``hash``.
    ``to_json`` gives back exactly the members the service signed (unknown ones are kept in ``extra``),
    so the signature can be checked later against an export."""

    seq: int
    hash: str
    head: LedgerHead | None = None
    at: str | None = None
    """As sent: the signature covers these exact characters."""
    key_id: str | None = None
    signature: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Receipt:
        known = {"seq", "hash", "head", "at", "key_id", "signature"}
        head = d.get("head")
        return cls(
            seq=int(d["seq"]),
            hash=str(d["hash"]),
            head=None if head is None else LedgerHead.from_json(head),
            at=d.get("at"),
            key_id=d.get("key_id"),
            signature=d.get("signature"),
            extra={k: v for k, v in d.items() if k not in known},
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "hash": self.hash, **self.extra}
        if self.head is not None:
            out["head"] = self.head.to_json()
        for name in ("at", "key_id", "signature"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class DeclarationWarning:
    """A likely mistake in what was declared that is not an error (docs/api.md, Warnings): the write
    was applied as sent. ``code`` is ``coordinates_look_swapped`` or ``altitude_looks_like_feet``."""

    field: str
    code: str
    message: str

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> DeclarationWarning:
        return cls(str(d["field"]), str(d["code"]), str(d["message"]))


@dataclass(frozen=True)
class WriteResult:
    """The answer to a write on an operation: the operation after it, its open conflicts in the
    caller's view, the receipt, and whether the service replayed a stored answer (a retry)."""

    operation: Operation
    conflicts: tuple[Conflict, ...]
    receipt: Receipt
    replayed: bool = False
    warnings: tuple[DeclarationWarning, ...] = ()
    """Likely mistakes that are not errors, e.g. swapped coordinates (the write was applied)."""

    @property
    def tokens(self) -> tuple[str, ...]:
        """The tokens of every open conflict: what holding the operation planned or active needs."""
        return tokens_of(self.conflicts)

    @classmethod
    def from_json(cls, d: Mapping[str, Any], *, replayed: bool = False) -> WriteResult:
        return cls(
            Operation.from_json(d["operation"]),
            tuple(Conflict.from_json(c) for c in d["conflicts"]),
            Receipt.from_json(d["receipt"]),
            replayed,
            tuple(DeclarationWarning.from_json(w) for w in d.get("warnings", ())),
        )


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    role: Role
    created_at: datetime
    unit: str | None = None
    """``me()`` with a unit's key: that unit."""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Party:
        return cls(d["id"], d["name"], cast(Role, d["role"]), parse_time(d["created_at"]), d.get("unit"))


@dataclass(frozen=True)
class Contact:
    name: str
    channels: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "channels": dict(self.channels)}


@dataclass(frozen=True)
class Unit:
    """A unit of a party (a squadron, a convoy team): its own ladder, asked before the party's."""

    id: str
    party: str
    name: str
    contacts: tuple[Contact, ...]
    area: GeoJSON | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Unit:
        return cls(
            d["id"],
            d["party"],
            d["name"],
            tuple(Contact(c["name"], dict(c.get("channels") or {})) for c in d["contacts"]),
            d.get("area"),
            int(d["version"]),
            parse_time(d["created_at"]),
            parse_time(d["updated_at"]),
        )


@dataclass(frozen=True)
class UnitKey:
    id: str
    unit: str
    created_at: datetime
    revoked_at: datetime | None
    api_key: str | None = None
    """Only in the answer that issued it: shown this once."""

    @classmethod
    def from_json(cls, d: Mapping[str, Any], api_key: str | None = None) -> UnitKey:
        return cls(d["id"], d["unit"], parse_time(d["created_at"]), _opt_time(d.get("revoked_at")), api_key)


@dataclass(frozen=True)
class PartyCreated:
    party: Party
    api_key: str
    """Shown this once: hand it to the party."""


@dataclass(frozen=True)
class ApiKey:
    """One of the party's API keys, as ``GET /v1/api-keys`` lists it: never its secret."""

    id: str
    party: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool
    """Neither revoked nor expired when the service answered."""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ApiKey:
        return cls(
            d["id"],
            d["party"],
            d["label"],
            parse_time(d["created_at"]),
            _opt_time(d.get("expires_at")),
            _opt_time(d.get("revoked_at")),
            bool(d["active"]),
        )


@dataclass(frozen=True)
class ApiKeyChange:
    """A made or revoked API key, with the receipt of its ledger entry; ``secret`` only when made (shown
    this once)."""

    key: ApiKey
    receipt: Receipt
    secret: str | None = None


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    algorithm: str
    public_key: str
    """base64url of the 32 raw bytes."""
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SigningKey:
        return cls(
            d["key_id"], d["algorithm"], d["public_key"], parse_time(d["created_at"]), _opt_time(d.get("revoked_at"))
        )


@dataclass(frozen=True)
class KeyChange:
    """A registered or revoked key, with the receipt of its ledger entry."""

    key: SigningKey
    receipt: Receipt


@dataclass(frozen=True)
class Rotation:
    added: KeyChange
    revoked: KeyChange | None
    """None when the client had no key before."""


@dataclass(frozen=True)
class ServiceKey:
    """The key the service process signs receipts with (also announced in the ledger)."""

    algorithm: str
    key_id: str
    public_key: str

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ServiceKey:
        return cls(d["algorithm"], d["key_id"], d["public_key"])


@dataclass(frozen=True)
class ReadinessCheck:
    name: str
    """``database``, ``migrations`` or ``tactical_cycle``."""
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    """``GET /v1/health/ready`` (docs/operations.md, Probes)."""

    status: str
    """``ready``, or ``not_ready`` (answered 503): ``checks`` say which failed."""
    backend: str
    version: str
    checks: tuple[ReadinessCheck, ...]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Readiness:
        checks = tuple(ReadinessCheck(str(c["name"]), bool(c["ok"]), str(c["detail"])) for c in d["checks"])
        return cls(str(d["status"]), str(d["backend"]), str(d["version"]), checks)


@dataclass(frozen=True)
class Health:
    status: str
    """``ok``, or ``degraded`` when the database does not answer."""
    backend: str
    version: str
    database: str

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Health:
        return cls(str(d["status"]), str(d["backend"]), str(d["version"]), str(d["database"]))


@dataclass(frozen=True)
class Clock:
    """``GET /v1/clock``: the service's now, scenario time on an exercise server (docs/exercise.md)."""

    now: datetime
    exercise: bool
    speed: float
    """Scenario seconds per real second (1 on a live server)."""
    scenario_start: datetime | None = None
    advanced_s: float = 0.0
    """Scenario seconds the coordinator's jumps added, in total."""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Clock:
        return cls(
            parse_time(d["now"]),
            bool(d["exercise"]),
            float(d["speed"]),
            _opt_time(d.get("scenario_start")),
            float(d.get("advanced_s") or 0.0),
        )


@dataclass(frozen=True)
class ClockAdvanced:
    """An exercise clock's jump (``POST /v1/exercise/advance``), with the receipt of its ledger entry."""

    clock: Clock
    receipt: Receipt


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; pass ``next_cursor`` back as ``cursor`` (None: the last page)."""

    items: tuple[T, ...]
    next_cursor: str | None

    @classmethod
    def from_json(cls, d: Mapping[str, Any], item: Callable[[Mapping[str, Any]], T]) -> Page[T]:
        return cls(tuple(item(x) for x in d["items"]), d.get("next_cursor"))

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class AwaitingConflict:
    """In an ``awaiting_acknowledgement`` refusal: a conflict whose kind needs the other side's
    acknowledgement of its current content (``content_version``), and who has not given it. ``id`` is
    None for a conflict that this very request would have opened (never told, so never acknowledged)."""

    id: str | None
    kind: str
    version: int | None
    content_version: int | None
    awaiting: tuple[Counterpart, ...]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AwaitingConflict:
        return cls(
            d.get("id"),
            d["kind"],
            d.get("version"),
            d.get("content_version"),
            tuple(Counterpart.from_json(a) for a in d.get("awaiting", ())),
        )


@dataclass(frozen=True)
class TrackStatement:
    """The answer to a claim ("ours") or disclaim ("not ours") of a live track: its id, the statement,
    its party (None: of no party) and affiliation afterwards, the alerts it answered, how many parties
    were told, and the receipt."""

    track: str
    statement: str
    party: str | None
    affiliation: str
    alerts: tuple[str, ...]
    told: int
    receipt: Receipt

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TrackStatement:
        return cls(
            str(d["track"]),
            str(d["statement"]),
            d.get("party"),
            str(d["affiliation"]),
            tuple(d.get("alerts", ())),
            int(d["told"]),
            Receipt.from_json(d["receipt"]),
        )
