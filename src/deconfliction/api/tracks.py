"""/v1/tracks and /v1/alerts: a party posts position reports of its own aircraft (and, as a sensor, of
tracks of no party it observes) and reads the live tracks it may see; it claims or disclaims a track;
parties read the tactical alerts that involve their tracks (the coordinator reads all)."""

from __future__ import annotations

import email.message
import json
import math
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, cast

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api import examples
from deconfliction.api.contract import problems
from deconfliction.api.http import KeyDep, RawBody, RuntimeDep, as_party, json_response
from deconfliction.domain.conflict import ConflictState
from deconfliction.domain.party import DECLARING_ROLES, Party, Role
from deconfliction.domain.policy import FT
from deconfliction.domain.tactical import (
    MAX_ALTITUDE_M,
    MIN_ALTITUDE_M,
    NO_PARTY,
    Affiliation,
    Alert,
    AlertKind,
    AlertState,
    PositionReport,
    validate_report,
)
from deconfliction.domain.volume import format_time, parse_time
from deconfliction.errors import FieldError, Forbidden, InvalidInput
from deconfliction.service.runtime import Runtime
from deconfliction.service.signing import signed_receipt
from deconfliction.service.tactical.cycle import TacticalService, VisibleTrack
from deconfliction.service.tracks import TrackStatement, claim_track, disclaim_track
from deconfliction.store.tracks import BBox

router = APIRouter(tags=["tactical"])

MAX_REPORTS = 5_000
"""Reports per request; the body limit (DECONFLICTION_MAX_BODY_BYTES) applies too."""
MAX_TRACKS = 10_000
"""Tracks per ``GET /v1/tracks`` answer (no pagination: one consistent picture); beyond it the answer says
``truncated`` and keeps the tracks with alerts first (a ``bbox`` narrows the picture)."""


async def tactical(request: Request) -> TacticalService:
    service: TacticalService = request.app.state.tactical
    return service


TacticalDep = Annotated[TacticalService, Depends(tactical)]


class ReportIn(BaseModel):
    """One position report of one of the caller's aircraft."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="The aircraft's identifier within the party (ICAO address, tail number, ...)")
    time: str = Field(description="RFC 3339 time of the observation, with an offset")
    lat: float = Field(description="WGS84 latitude, degrees")
    lon: float = Field(description="WGS84 longitude, degrees")
    altitude_m: float | None = Field(
        None, description="Altitude, metres (the same reference for all of a deployment's tracks); or altitude_ft"
    )
    altitude_ft: float | None = Field(
        None, description="Altitude, feet (1 ft = 0.3048 m), in place of altitude_m: a flight level times 100"
    )
    ground_speed_mps: float = Field(description="Ground speed, m/s")
    track_deg: float = Field(description="True track over the ground, degrees clockwise from north")
    vertical_rate_mps: float = Field(0.0, description="Climb (positive) or descent rate, m/s")
    callsign: str | None = Field(None, max_length=16)
    affiliation: Literal["party", "unknown", "hostile", "pending", "neutral"] = Field(
        "party",
        description="party (default): one of the caller's own aircraft; any other value: a track the caller "
        "observes (as a sensor) that belongs to no party",
    )


class TracksIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.TRACKS]})
    reports: list[ReportIn] = Field(max_length=MAX_REPORTS)


_REPORT_FIELDS = frozenset(ReportIn.model_fields)
_REQUIRED_FIELDS = frozenset(name for name, f in ReportIn.model_fields.items() if f.is_required())
_NUMBERS = ("lat", "lon", "ground_speed_mps", "track_deg")
_OPTIONAL_NUMBERS = ("altitude_m", "altitude_ft")
_AFFILIATIONS = {a.value: a for a in Affiliation}
_MAX_CALLSIGN = 16


def _number(v: object) -> bool:
    """What the model takes as a float without a second look: a JSON number (a bool is no number, an
    integer beyond 64 bits goes to the model)."""
    return type(v) is float or (type(v) is int and -(2**63) <= v < 2**63)


def _plain(item: object) -> bool:
    """Whether one report of a parsed body is what ``ReportIn`` takes as it is: known fields only, the
    required ones given, each of its JSON type; anything else goes to the model, which names the error."""
    if type(item) is not dict or not _REQUIRED_FIELDS <= item.keys() <= _REPORT_FIELDS:
        return False
    callsign = item.get("callsign")
    return (
        type(item["id"]) is str
        and type(item["time"]) is str
        and all(_number(item[n]) for n in _NUMBERS)
        and all(item.get(n) is None or _number(item[n]) for n in _OPTIONAL_NUMBERS)
        and _number(item.get("vertical_rate_mps", 0.0))
        and (callsign is None or (type(callsign) is str and len(callsign) <= _MAX_CALLSIGN))
        and item.get("affiliation", "party") in _AFFILIATIONS
    )


def _json_media_type(value: str | None) -> bool:
    """Whether FastAPI parses a body of this Content-Type as JSON (``application/json`` or
    ``application/*+json``; strictly: none given is not JSON)."""
    if not value:
        return False
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def parse_tracks(raw: bytes, content_type: str | None) -> list[dict[str, Any]]:
    """The reports of a ``POST /v1/tracks`` body, each a dict of ``ReportIn``'s fields (those left out
    absent), from one JSON parse. A body of plain reports (the common case) is checked field by field
    here, without building a model per report; any other goes through ``TracksIn``, which refuses it with
    the errors FastAPI's own parsing gave (the same fields and codes, a JSON syntax error at the same
    character)."""
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    parsed: Any = raw  # a body FastAPI would not parse (no JSON media type): the model refuses its bytes
    try:
        if _json_media_type(content_type):
            parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:  # what FastAPI's parser (the standard library's) says, NaN and Infinity included
            parsed = json.loads(raw)
        except UnicodeDecodeError:
            raise InvalidInput.one("", "invalid_json", "the body is not valid JSON in UTF-8") from None
        except json.JSONDecodeError as e:
            raise RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", e.pos),
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": e.msg},
                    }
                ]
            ) from None
    reports = parsed.get("reports") if type(parsed) is dict and len(parsed) == 1 else None
    if type(reports) is list and len(reports) <= MAX_REPORTS and all(_plain(r) for r in reports):
        return reports
    try:
        model = TracksIn.model_validate(parsed, from_attributes=True)  # as FastAPI validates a body
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in e.errors()]) from None
    return [r.model_dump(exclude_unset=True) for r in model.reports]


def reports_from_wire(
    reports: list[dict[str, Any]], party: Party, rt: Runtime, max_future_s: float
) -> list[PositionReport]:
    """Every report (``parse_tracks``'s) checked; one InvalidInput naming each bad field
    (``reports[3].lat``), nothing kept."""
    errors: list[FieldError] = []
    out: list[PositionReport] = []
    latest = rt.clock() + timedelta(seconds=max_future_s)
    times: dict[str, datetime] = {}  # the reports of a batch mostly share a few times: each parsed once
    for k, r in enumerate(reports):
        try:
            text = r["time"]
            when = times.get(text)
            if when is None:
                when = times[text] = parse_time(text, "time")
            if when > latest:
                raise InvalidInput.one(
                    "time",
                    "time_in_future",
                    f"{format_time(when)} is more than {max_future_s:g} s after the service's clock",
                )
            altitude_m = report_altitude_m(r)
            out.append(
                validate_report(
                    party.id,
                    r["id"],
                    when,
                    float(r["lat"]),
                    float(r["lon"]),
                    altitude_m,
                    float(r["ground_speed_mps"]),
                    float(r["track_deg"]),
                    float(r.get("vertical_rate_mps", 0.0)),
                    r.get("callsign"),
                    "api",
                    _AFFILIATIONS[r.get("affiliation", "party")],
                )
            )
        except InvalidInput as exc:
            errors.extend(in_feet(e, r).at(f"reports[{k}]") for e in exc.errors)
    if errors:
        raise InvalidInput(errors)
    return out


def report_altitude_m(r: dict[str, Any]) -> float:
    """The report's altitude in metres: ``altitude_m`` as given, or ``altitude_ft`` times 0.3048 (the
    same conversion as SBS-1's; the minima are compared so that its rounding never decides: minima.py)."""
    metres, feet = r.get("altitude_m"), r.get("altitude_ft")
    if metres is not None and feet is None:
        return float(metres)
    if feet is not None and metres is None:
        return float(feet) * FT
    raise InvalidInput.one("altitude_m", "altitude_m_or_ft", "give the altitude in altitude_m or in altitude_ft")


def in_feet(e: FieldError, r: dict[str, Any]) -> FieldError:
    """An error about the altitude of a report given in feet, said about ``altitude_ft`` (in feet)."""
    feet = r.get("altitude_ft")
    if e.field != "altitude_m" or feet is None or r.get("altitude_m") is not None:
        return e
    message = e.message
    if e.code == "out_of_range":
        lo, hi = MIN_ALTITUDE_M / FT, MAX_ALTITUDE_M / FT
        message = f"{float(feet):g} ft is outside [{lo:,.0f}, {hi:,.0f}] ft"
    return FieldError("altitude_ft", e.code, message, e.detail)


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` written in place (one level: ReportIn in TracksIn)."""
    defs = schema.pop("$defs", {})
    items = schema["properties"]["reports"]["items"]
    schema["properties"]["reports"]["items"] = defs[items["$ref"].rsplit("/", 1)[1]]
    return schema


_TRACKS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": _inline(TracksIn.model_json_schema()),
                "examples": {"batch": {"value": examples.TRACKS}},
            }
        },
    }
}
"""The request body as the document shows it: the route reads the body itself (``parse_tracks``)."""


@router.post(
    "/v1/tracks",
    operation_id="postTracks",
    response_model=wire.TracksAccepted,
    summary="Post position reports of your aircraft",
    openapi_extra=_TRACKS_BODY,
)
async def post_tracks(request: Request, body: RawBody, rt: RuntimeDep, key: KeyDep, service: TacticalDep) -> Response:
    """Reports of the caller's own aircraft (a batch; at most 5,000), and of tracks of no party it observes
    (``affiliation`` other than ``party``). A report older than the newest one of its track, or older than
    the track expiry, is ignored and counted; posting the same batch twice changes nothing."""
    reports_in = parse_tracks(body, request.headers.get("content-type"))

    def work(party: Party) -> Response:
        if party.role not in DECLARING_ROLES:
            raise Forbidden(f"a {party.role.value} does not report aircraft")
        reports = reports_from_wire(reports_in, party, rt, service.store.max_future_s)
        result = service.ingest(reports)
        return json_response(
            wire.TracksAccepted(
                accepted=result.accepted, ignored_older=result.ignored_older, ignored_expired=result.ignored_expired
            )
        )

    return await as_party(rt, key, work)


def alert_names(rt: Runtime, ids: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    with rt.store.read() as tx:
        for pid in ids:
            p = tx.parties.get(pid)
            out[pid] = p.name if p else pid
    return out


def alert_view(viewer: Party, a: Alert, names: dict[str, str]) -> wire.Alert:
    """An alert as ``viewer`` may see it: its own track(s) and, of the other side, the party and the
    aircraft's identifier (needed to coordinate), never more of the other party's traffic."""
    p = a.prediction
    out = wire.Alert(
        id=a.id,
        kind="tactical",
        type=a.kind.value,
        state=a.state.value,
        rule=wire.TacticalRule(**p.rule.as_dict()),
        loss_at=format_time(p.loss_at),
        closest_at=format_time(p.closest_at),
        min_horizontal_m=round(p.horizontal_m, 1),
        vertical_m=round(p.vertical_m, 1),
        now=p.now,
        position=list(p.position) if p.position else None,
        created_at=format_time(a.created_at),
        updated_at=format_time(a.updated_at),
        resolved_at=format_time(a.resolved_at) if a.resolved_at else None,
    )
    sides = [
        wire.AlertSide(party=pid or None, party_name=names.get(pid, pid) or None, track=tid) for pid, tid in a.subjects
    ]
    if a.kind is AlertKind.UNDECLARED:
        out.affiliation = p.affiliation.value
        # an undeclared-activity prediction always names what it entered (zone or site)
        out.target = wire.AlertTarget(kind=cast(str, p.target), id=a.subjects[1][1], owner=a.subjects[1][0])
    if viewer.sees_all:
        out.tracks = sides
        return out
    own = [s for s in sides if s.party == viewer.id]
    other = [s for s in sides if s.party != viewer.id]
    out.own_tracks = [s.track for s in own]
    out.counterpart = other[0] if other else None
    return out


@router.get(
    "/v1/alerts",
    operation_id="listAlerts",
    response_model=wire.AlertList,
    summary="Tactical alerts involving your tracks (the coordinator: all)",
)
async def list_alerts(
    rt: RuntimeDep,
    key: KeyDep,
    service: TacticalDep,
    state: Annotated[list[AlertState] | None, Query(description="default: new and ongoing")] = None,
) -> Response:
    def work(party: Party) -> Response:
        found = service.alerts(None if party.sees_all else party.id, state)
        names = alert_names(rt, {pid for a in found for pid, _ in a.subjects if pid != NO_PARTY})
        return json_response(wire.AlertList(items=[alert_view(party, a, names) for a in found]))

    return await as_party(rt, key, work)


def alert_states(state: ConflictState) -> list[AlertState]:
    """The alert states a conflict state filter means: open is new or ongoing; alerts never expire."""
    if state is ConflictState.EXPIRED:
        return []
    return [AlertState.RESOLVED] if state is ConflictState.RESOLVED else [AlertState.NEW, AlertState.ONGOING]


def parse_bbox(text: str) -> BBox:
    """``minLon,minLat,maxLon,maxLat`` in degrees; ``minLon > maxLon`` crosses the antimeridian."""
    parts = text.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput.one("bbox", "invalid_value", f"{text!r} is not four numbers minLon,minLat,maxLon,maxLat")
    min_lon, min_lat, max_lon, max_lat = numbers
    for name, value, limit in zip(("minLon", "minLat", "maxLon", "maxLat"), numbers, (180, 90, 180, 90), strict=True):
        if abs(value) > limit:
            raise InvalidInput.one("bbox", "out_of_range", f"{name} {value:g} is outside [-{limit}, {limit}]")
    if min_lat > max_lat:
        raise InvalidInput.one("bbox", "invalid_value", f"minLat {min_lat:g} is above maxLat {max_lat:g}")
    return min_lon, min_lat, max_lon, max_lat


def reads_all_tracks(viewer: Party) -> bool:
    """The coordinator and auditors see every track (and every active alert on it): auditors read every
    tactical ledger entry and notification already, which name both aircraft of each alert."""
    return viewer.sees_all or viewer.role is Role.AUDITOR


def track_view(viewer: Party, t: VisibleTrack, names: dict[str, str]) -> wire.Track:
    r = t.report
    out = wire.Track(
        party=r.party_id or None,
        party_name=names.get(r.party_id, r.party_id) if r.party_id != NO_PARTY else None,
        affiliation=r.affiliation.value,
        id=r.track_id,
        callsign=r.callsign,
        time=format_time(r.time),
        lat=r.lat,
        lon=r.lon,
        altitude_m=r.altitude_m,
        ground_speed_mps=r.ground_speed_mps,
        track_deg=r.track_deg,
        vertical_rate_mps=r.vertical_rate_mps,
        own=r.party_id == viewer.id,
        alerts=list(t.alerts),
    )
    if r.party_id == NO_PARTY and (reads_all_tracks(viewer) or r.reporter == viewer.id):
        out.reported_by = r.reporter
    return out


@router.get(
    "/v1/tracks",
    operation_id="listTracks",
    response_model=wire.Tracks,
    summary="Live tracks you may see: your own, and others' in an alert with yours",
)
async def list_tracks(
    rt: RuntimeDep,
    key: KeyDep,
    service: TacticalDep,
    bbox: Annotated[
        str | None,
        Query(description="minLon,minLat,maxLon,maxLat (degrees; minLon > maxLon crosses the antimeridian)"),
    ] = None,
) -> Response:
    """The newest report of every live track the caller may see, each with the ids of the caller's active
    alerts on it. At most 10,000 (``truncated`` says when more matched)."""

    def work(party: Party) -> Response:
        box = parse_bbox(bbox) if bbox is not None else None
        at, found = service.tracks(None if reads_all_tracks(party) else party.id, box)
        truncated = len(found) > MAX_TRACKS
        if truncated:
            kept = sorted(found, key=lambda t: not t.alerts)[:MAX_TRACKS]  # stable: (party, id) within each
            found = sorted(kept, key=lambda t: (t.report.party_id, t.report.track_id))
        names = alert_names(rt, {t.report.party_id for t in found if t.report.party_id != NO_PARTY})
        return json_response(
            wire.Tracks(items=[track_view(party, t, names) for t in found], at=format_time(at), truncated=truncated)
        )

    return await as_party(rt, key, work)


class TrackStatementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=500, description="Why (recorded and told with the statement)")


def statement_view(rt: Runtime, done: TrackStatement) -> wire.TrackStatement:
    return wire.TrackStatement(
        track=done.track_id,
        statement=done.statement,
        party=done.party,
        affiliation=done.affiliation.value,
        alerts=list(done.alerts),
        told=done.told,
        receipt=signed_receipt(rt, done.receipt),
    )


@router.post(
    "/v1/tracks/{track_id:path}/claim",
    operation_id="claimTrack",
    response_model=wire.TrackStatement,
    responses=problems(409),
    summary='Claim a track of no party: "ours"',
)
async def claim(
    track_id: str, rt: RuntimeDep, key: KeyDep, service: TacticalDep, body: TrackStatementIn | None = None
) -> Response:
    """The live track of no party ``track_id`` becomes the caller's (its later reports too), compared
    from then on with what the caller declared. A ledger entry ``track.claimed`` and a notification of that
    kind for every party alerted about the track. 404 when there is no such live track; 409
    ``track_not_claimable`` when it is already the caller's or another party's."""
    reason = body.reason if body else None
    return await as_party(
        rt, key, lambda party: json_response(statement_view(rt, claim_track(rt, service, party, track_id, reason)))
    )


@router.post(
    "/v1/tracks/{track_id:path}/disclaim",
    operation_id="disclaimTrack",
    response_model=wire.TrackStatement,
    responses=problems(409),
    summary='Disclaim a track: "not ours"',
)
async def disclaim(
    track_id: str, rt: RuntimeDep, key: KeyDep, service: TacticalDep, body: TrackStatementIn | None = None
) -> Response:
    """ "Not ours", of one of the caller's own live tracks (it becomes a track of no party, unknown, its
    later reports too) or of a live track of no party (recorded). A ledger entry ``track.disclaimed`` and a
    notification of that kind for every party alerted about the track. 404 when there is no such track."""
    reason = body.reason if body else None
    return await as_party(
        rt, key, lambda party: json_response(statement_view(rt, disclaim_track(rt, service, party, track_id, reason)))
    )
