"""SBS-1 / BaseStation text, as dump1090 serves it on TCP port 30003.

One message per line, 22 comma-separated fields::

    MSG,3,1,1,4CA2D6,1,2026/11/23,08:00:00.000,2026/11/23,08:00:00.000,,37000,,,51.45735,-1.02826,,,0,0,0,0
    MSG,4,1,1,4CA2D6,1,2026/11/23,08:00:00.100,2026/11/23,08:00:00.100,,,459,271,,,-64,,,,,0

Field 1 is the message type (``MSG``; ``STA``, ``ID``, ``AIR``, ``SEL``, ``CLK`` carry no position), field 2
the transmission type (``MSG,3`` airborne position: altitude in feet, latitude, longitude; ``MSG,4``
airborne velocity: ground speed in knots, track in degrees, vertical rate in feet per minute; ``MSG,1``
callsign), field 5 the aircraft's ICAO 24-bit address in hex, fields 7-8 the date and time generated.
A position report needs both a position and a velocity, so ``SbsAssembler`` keeps the newest velocity of
each aircraft and emits a report with every airborne position that has a velocity at most
``velocity_max_age_s`` old.

``parse_sbs_line`` is pure: a line in, a message or an ``SbsError`` (with the reason) out; it never raises
on bad input. The altitude is barometric (pressure altitude, as the aircraft reports it): see
docs/tactical.md on mixing altitude references.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from deconfliction.domain.tactical import NO_PARTY, Affiliation, PositionReport, validate_report
from deconfliction.errors import InvalidInput

FT_M = 0.3048
KT_MS = 1852.0 / 3600.0
FPM_MS = FT_M / 60.0
SBS_FIELDS = 22
MAX_LINE = 512


@dataclass(frozen=True)
class SbsMessage:
    """The fields of one SBS-1 line that matter here, in SI units (None when empty)."""

    kind: str
    transmission: int
    icao: str
    time: datetime | None
    callsign: str | None = None
    altitude_m: float | None = None
    ground_speed_mps: float | None = None
    track_deg: float | None = None
    lat: float | None = None
    lon: float | None = None
    vertical_rate_mps: float | None = None
    on_ground: bool | None = None


@dataclass(frozen=True)
class SbsError:
    """A line that could not be read, and why."""

    line: str
    reason: str


def _float(text: str, name: str, lo: float, hi: float) -> float | None:
    text = text.strip()
    if not text:
        return None
    value = float(text)  # ValueError is reported by the caller with the field's name
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ValueError(f"{name} {text} is out of range")
    return value


def _time(date: str, clock: str) -> datetime | None:
    date, clock = date.strip(), clock.strip()
    if not date or not clock:
        return None
    return datetime.strptime(f"{date} {clock}", "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=UTC)


def parse_sbs_line(line: str) -> SbsMessage | SbsError:
    """One line of an SBS-1 feed. Times are read as UTC (dump1090 and most decoders stamp UTC; a feed
    whose clock is local time is configured to use the receive time instead: docs/tactical.md)."""
    raw = line.rstrip("\r\n")
    if len(raw) > MAX_LINE:
        return SbsError(raw[:80], f"line longer than {MAX_LINE} characters")
    parts = raw.split(",")
    if not parts or parts[0] not in ("MSG", "STA", "ID", "AIR", "SEL", "CLK"):
        return SbsError(raw, "not an SBS-1 message type (MSG, STA, ID, AIR, SEL, CLK)")
    if parts[0] != "MSG":
        return SbsMessage(
            kind=parts[0], transmission=0, icao=parts[4].strip().upper() if len(parts) > 4 else "", time=None
        )
    if len(parts) < SBS_FIELDS:
        return SbsError(raw, f"MSG line has {len(parts)} fields, expected {SBS_FIELDS}")
    try:
        transmission = int(parts[1])
        if not 1 <= transmission <= 8:
            raise ValueError(f"transmission type {transmission} is not 1-8")
        icao = parts[4].strip().upper()
        if len(icao) != 6 or any(c not in "0123456789ABCDEF" for c in icao):
            raise ValueError(f"hex ident {parts[4]!r} is not 6 hex digits")
        try:
            when = _time(parts[6], parts[7])
        except ValueError:
            raise ValueError(f"date/time {parts[6]!r} {parts[7]!r} is not YYYY/MM/DD HH:MM:SS.sss") from None
        alt_ft = _float(parts[11], "altitude", -2000.0, 200_000.0)
        gs_kt = _float(parts[12], "ground speed", 0.0, 2000.0)
        trk = _float(parts[13], "track", 0.0, 360.0)
        lat = _float(parts[14], "latitude", -90.0, 90.0)
        lon = _float(parts[15], "longitude", -180.0, 180.0)
        vr = _float(parts[16], "vertical rate", -30_000.0, 30_000.0)
    except ValueError as exc:
        return SbsError(raw, str(exc))
    callsign = parts[10].strip() or None
    ground = parts[21].strip()
    return SbsMessage(
        kind="MSG",
        transmission=transmission,
        icao=icao,
        time=when,
        callsign=callsign,
        altitude_m=None if alt_ft is None else alt_ft * FT_M,
        ground_speed_mps=None if gs_kt is None else gs_kt * KT_MS,
        track_deg=trk,
        lat=lat,
        lon=lon,
        vertical_rate_mps=None if vr is None else vr * FPM_MS,
        on_ground=None if not ground else ground not in ("0", "false", "False"),
    )


@dataclass
class _Aircraft:
    velocity: tuple[datetime, float, float, float] | None = None
    callsign: str | None = None


@dataclass
class SbsAssembler:
    """Turns a feed's messages into position reports for ``party_id``: remembers each aircraft's newest
    velocity (MSG,4) and callsign (MSG,1) and completes every airborne position (MSG,3) with them.

    ``received`` is the time the line arrived; with ``use_message_time`` false (the default) it is the
    report's time, which is immune to a decoder stamping local time; with true the line's own time is."""

    party_id: str
    velocity_max_age_s: float = 10.0
    use_message_time: bool = False
    _aircraft: dict[str, _Aircraft] = field(default_factory=dict)

    def feed(self, msg: SbsMessage, received: datetime) -> PositionReport | None:
        if msg.kind != "MSG":
            return None
        when = msg.time if (self.use_message_time and msg.time is not None) else received
        ac = self._aircraft.setdefault(msg.icao, _Aircraft())
        if msg.callsign:
            ac.callsign = msg.callsign
        if msg.transmission == 4 and msg.ground_speed_mps is not None and msg.track_deg is not None:
            ac.velocity = (when, msg.ground_speed_mps, msg.track_deg, msg.vertical_rate_mps or 0.0)
            return None
        if msg.transmission != 3 or msg.lat is None or msg.lon is None or msg.altitude_m is None:
            return None
        if ac.velocity is None or abs((when - ac.velocity[0]).total_seconds()) > self.velocity_max_age_s:
            return None
        _, gs, trk, vr = ac.velocity
        try:
            # a sensor's feed (no party) reports aircraft of unknown affiliation
            affiliation = Affiliation.PARTY if self.party_id != NO_PARTY else Affiliation.UNKNOWN
            return validate_report(
                self.party_id,
                msg.icao,
                when,
                msg.lat,
                msg.lon,
                msg.altitude_m,
                gs,
                trk,
                vr,
                ac.callsign,
                "sbs",
                affiliation,
            )
        except InvalidInput:
            return None

    def forget_before(self, when: datetime) -> None:
        """Drop aircraft whose newest velocity is older than ``when`` (bounded memory on a long feed)."""
        stale = [k for k, a in self._aircraft.items() if a.velocity is None or a.velocity[0] < when]
        for k in stale:
            del self._aircraft[k]
