"""Wire models: the JSON the API accepts, and their conversion to domain values.

Pydantic checks structure and types (and refuses unknown fields); the domain checks meaning (geometry,
windows, altitudes), so the same rules hold for the CLI and the API alike.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deconfliction.api import examples
from deconfliction.domain.acknowledgement import Override
from deconfliction.domain.footprint import located, parse_footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D, parse_time
from deconfliction.errors import FieldError, InvalidInput
from deconfliction.service.operations import OperationDraft

_POSITION = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}
FOOTPRINT_SCHEMA: dict[str, Any] = {
    "description": "An RFC 7946 geometry, WGS84 longitude/latitude degrees, GeoJSON order; polygon edges are "
    "geodesics. A Point is a circle (radius_m beside it), a LineString a corridor (half_width_m beside it).",
    "oneOf": [
        {
            "type": "object",
            "title": "Polygon",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"const": "Polygon"},
                "coordinates": {"type": "array", "items": {"type": "array", "items": _POSITION}},
            },
        },
        {
            "type": "object",
            "title": "MultiPolygon",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"const": "MultiPolygon"},
                "coordinates": {
                    "type": "array",
                    "items": {"type": "array", "items": {"type": "array", "items": _POSITION}},
                },
            },
        },
        {
            "type": "object",
            "title": "Point",
            "description": "A circle: the centre, with radius_m beside the geometry",
            "required": ["type", "coordinates"],
            "properties": {"type": {"const": "Point"}, "coordinates": _POSITION},
        },
        {
            "type": "object",
            "title": "LineString",
            "description": "A corridor: the centre line, with half_width_m beside the geometry",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"const": "LineString"},
                "coordinates": {"type": "array", "items": _POSITION, "minItems": 2},
            },
        },
    ],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Strict = _Strict
"""Request bodies refuse unknown members (every router's models derive from it)."""


class AltitudeIn(_Strict):
    lower_m: float = Field(description="Metres above the WGS84 ellipsoid")
    upper_m: float = Field(description="Metres above the WGS84 ellipsoid")
    reference: str = Field("W84", description="Only 'W84' is accepted")


class WindowIn(_Strict):
    start: str = Field(description="RFC 3339 with an offset, e.g. 2026-11-23T08:00:00Z")
    end: str = Field(description="RFC 3339; the window is [start, end)")


class VolumeIn(_Strict):
    footprint: dict[str, Any] = Field(json_schema_extra=FOOTPRINT_SCHEMA)
    radius_m: float | None = Field(None, description="With a Point footprint: the circle's radius, metres")
    half_width_m: float | None = Field(
        None, description="With a LineString footprint: the corridor's half-width, metres"
    )
    altitude: AltitudeIn
    window: WindowIn


class OperationFields(_Strict):
    kind: OperationKind
    volumes: list[VolumeIn]
    priority: int = Field(0, ge=0, le=100)
    title: str = Field("", max_length=200)
    known_conflict_tokens: list[str] = Field(
        default_factory=list,
        description="Proof of knowledge: the current token of every conflict (needed to "
        "hold the planned or active state)",
    )
    unit: str | None = Field(
        None,
        description="One of your units (GET /v1/units) declaring it; omitted: a unit's key declares for its "
        "unit, a party's key for the party as a whole (on a revision: unchanged)",
    )


class OverrideIn(_Strict):
    conflict: str = Field(description="The id of an open conflict of this operation that needs acknowledgement")
    reason: str = Field(description="Why the operation goes ahead without it (1 to 1,000 characters)")


_OVERRIDE_HELP = (
    "Go ahead without the other side's acknowledgement of these conflicts, each named with a reason: "
    "recorded in the ledger and told at once to the other side and the coordinators"
)


class OperationIn(OperationFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.OPERATION]})
    state: Literal["draft", "planned"] = "draft"
    override: list[OverrideIn] = Field(default_factory=list, description=_OVERRIDE_HELP)
    historical: bool = Field(
        False,
        description="File it as a historical record for an inquiry: its window may have wholly passed; its "
        "conflicts are recorded (expired) but never chased; it stays a draft (docs/api.md)",
    )


class TransitionIn(_Strict):
    known_conflict_tokens: list[str] = Field(default_factory=list)
    override: list[OverrideIn] = Field(default_factory=list, description=_OVERRIDE_HELP)


def overrides_from_wire(items: list[OverrideIn]) -> tuple[Override, ...]:
    return tuple(Override(o.conflict, o.reason) for o in items)


class PartyIn(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.PARTY]})
    name: str = Field(min_length=1, max_length=80)
    role: Literal["party", "coordinator", "observer", "auditor"] = "party"


class IncidentIn(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.INCIDENT]})
    place: dict[str, Any] = Field(description='GeoJSON Point: {"type": "Point", "coordinates": [lon, lat]}')
    at: str = Field(description="RFC 3339 time of the incident")
    description: str = Field(description="What happened (up to 4,000 characters)")
    radius_m: float = Field(5000.0, description="Search radius around the place, metres (up to 100,000)")
    before_s: int = Field(3600, description="Search from this many seconds before the time (up to 7 days)")
    after_s: int = Field(3600, description="... to this many seconds after it")


class EndpointIn(_Strict):
    kind: Literal["webhook", "email"]
    address: str = Field(min_length=3, max_length=2000, description="The webhook's URL or the e-mail address")


class MessageIn(_Strict):
    text: str | None = Field(None, description="Free text (up to 4,000 characters), or:")
    template: str | None = Field(None, description="A template key (GET /v1/templates), with its params")
    params: dict[str, str] | None = None
    refs: list[dict[str, str]] | None = Field(
        None, description='What it is about: [{"type": "operation|conflict|zone|site|line", "id": "..."}]'
    )
    language: str | None = Field(
        None, description="Of a free text: the language it is written in (en, ru, ar; default: from its script)"
    )


class ThreadIn(_Strict):
    participants: list[str] = Field(description="Party ids of the others in the thread")
    subject: str
    message: dict[str, Any] = Field(description="The first message: as in POST /v1/threads/{id}/messages")


class PreferencesIn(_Strict):
    language: str = Field(description="en, ru or ar")


class RequestIn(_Strict):
    kind: str = Field(description="enter_zone, cross_line, pass_site or other (about a conflict)")
    about: str = Field(description="The id of the zone, line, site or conflict")
    text: str = Field(description="What you ask, up to 4,000 characters")
    window: dict[str, str] | None = Field(None, description="When: {start, end} (RFC 3339)")


class AnswerIn(_Strict):
    text: str | None = None


class KeyIn(_Strict):
    public_key: str = Field(
        min_length=1,
        max_length=2000,
        description="Ed25519 public key: base64url of its 32 raw bytes, or PEM (SubjectPublicKeyInfo)",
    )


def volume_from_wire(v: VolumeIn, limits: Limits, where: str) -> Volume4D:
    errors: list[FieldError] = []
    footprint = window = altitude = None
    try:
        footprint = parse_footprint(v.footprint, limits, radius_m=v.radius_m, half_width_m=v.half_width_m)
    except InvalidInput as e:
        errors += located(e, f"{where}.footprint", where).errors
    try:
        start = parse_time(v.window.start, "start")
        end = parse_time(v.window.end, "end")
        window = TimeWindow.of(start, end, limits)
    except InvalidInput as e:
        errors += e.at(f"{where}.window").errors
    try:
        altitude = AltitudeBand.of(v.altitude.lower_m, v.altitude.upper_m, limits, v.altitude.reference)
    except InvalidInput as e:
        errors += e.at(f"{where}.altitude").errors
    if errors or footprint is None or window is None or altitude is None:
        raise InvalidInput(errors)
    return Volume4D.create(footprint, altitude, window)


def draft_from_wire(body: OperationFields, limits: Limits) -> OperationDraft:
    if len(body.volumes) > limits.max_volumes:
        raise InvalidInput.one(
            "volumes",
            "too_many_volumes",
            f"{len(body.volumes)} volumes; at most {limits.max_volumes} are allowed",
        )
    errors: list[FieldError] = []
    volumes = []
    for i, v in enumerate(body.volumes):
        try:
            volumes.append(volume_from_wire(v, limits, f"volumes[{i}]"))
        except InvalidInput as e:
            errors += e.errors
    if errors:
        raise InvalidInput(errors)
    return OperationDraft(
        body.kind, tuple(volumes), body.priority, body.title, body.unit, getattr(body, "historical", False)
    )
