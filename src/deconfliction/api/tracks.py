"""/v1/tracks and /v1/alerts: a party posts position reports of its own aircraft (and, as a sensor, of
tracks of no party it observes) and reads the live tracks it may see; it claims or disclaims a track;
parties read the tactical alerts that involve their tracks (the coordinator reads all)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api import examples
from deconfliction.api.contract import problems
from deconfliction.api.http import KeyDep, RuntimeDep, as_party, json_response
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


def reports_from_wire(body: TracksIn, party: Party, rt: Runtime, max_future_s: float) -> list[PositionReport]:
    """Every report checked; one InvalidInput naming each bad field (``reports[3].lat``), nothing kept."""
    errors: list[FieldError] = []
    out: list[PositionReport] = []
    latest = rt.clock() + timedelta(seconds=max_future_s)
    times: dict[str, datetime] = {}  # the reports of a batch mostly share a few times: each parsed once
    for k, r in enumerate(body.reports):
        try:
            when = times.get(r.time)
            if when is None:
                when = times[r.time] = parse_time(r.time, "time")
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
                    r.id,
                    when,
                    r.lat,
                    r.lon,
                    altitude_m,
                    r.ground_speed_mps,
                    r.track_deg,
                    r.vertical_rate_mps,
                    r.callsign,
                    "api",
                    Affiliation(r.affiliation),
                )
            )
        except InvalidInput as exc:
            errors.extend(in_feet(e, r).at(f"reports[{k}]") for e in exc.errors)
    if errors:
        raise InvalidInput(errors)
    return out


def report_altitude_m(r: ReportIn) -> float:
    """The report's altitude in metres: ``altitude_m`` as given, or ``altitude_ft`` times 0.3048 (the
    same conversion as SBS-1's; the minima are compared so that its rounding never decides: minima.py)."""
    metres, feet = r.altitude_m, r.altitude_ft
    if metres is not None and feet is None:
        return metres
    if feet is not None and metres is None:
        return feet * FT
    raise InvalidInput.one("altitude_m", "altitude_m_or_ft", "give the altitude in altitude_m or in altitude_ft")


def in_feet(e: FieldError, r: ReportIn) -> FieldError:
    """An error about the altitude of a report given in feet, said about ``altitude_ft`` (in feet)."""
    if e.field != "altitude_m" or r.altitude_ft is None or r.altitude_m is not None:
        return e
    message = e.message
    if e.code == "out_of_range":
        lo, hi = MIN_ALTITUDE_M / FT, MAX_ALTITUDE_M / FT
        message = f"{r.altitude_ft:g} ft is outside [{lo:,.0f}, {hi:,.0f}] ft"
    return FieldError("altitude_ft", e.code, message, e.detail)


@router.post(
    "/v1/tracks",
    operation_id="postTracks",
    response_model=wire.TracksAccepted,
    summary="Post position reports of your aircraft",
)
async def post_tracks(body: TracksIn, rt: RuntimeDep, key: KeyDep, service: TacticalDep) -> Response:
    """Reports of the caller's own aircraft (a batch; at most 5,000), and of tracks of no party it observes
    (``affiliation`` other than ``party``). A report older than the newest one of its track, or older than
    the track expiry, is ignored and counted; posting the same batch twice changes nothing."""

    def work(party: Party) -> Response:
        if party.role not in DECLARING_ROLES:
            raise Forbidden(f"a {party.role.value} does not report aircraft")
        reports = reports_from_wire(body, party, rt, service.store.max_future_s)
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
