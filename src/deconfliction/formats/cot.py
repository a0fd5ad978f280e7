"""Cursor-on-Target (CoT) events, as TAK and many military and civil systems send them over UDP and TCP.

One event per datagram (UDP), or events one after the other on a stream (TCP)::

    <event version="2.0" uid="ICAO-4CA2D6" type="a-f-A-C-F" how="m-g"
           time="2026-11-23T08:00:00Z" start="2026-11-23T08:00:00Z" stale="2026-11-23T08:00:30Z">
      <point lat="51.45735" lon="-1.02826" hae="11277.6" ce="10" le="20"/>
      <detail>
        <track course="271.0" speed="236.1" slope="-0.8"/>
        <contact callsign="RYR7NK"/>
      </detail>
    </event>

Only atoms (``type`` starting with ``a-``) with a track are positions; the atom's affiliation (``a-f``
friend, ``a-u`` unknown, ``a-h`` hostile, ``a-p`` pending, ...) says whose it is (``affiliation_of``);
``hae`` is the height above the WGS84 ellipsoid in metres (CoT's "unknown" value 9999999 is refused),
``course`` the true track in degrees, ``speed`` metres per second, ``slope`` the climb angle in degrees
(vertical rate = speed x tan(slope); absent: 0). The event's ``time`` is the report's time; an event
already past its ``stale`` time is ignored.

``parse_cot`` is pure: text in, a report or a ``CotError`` (with the reason) out; it never raises on bad
input. Documents with a DOCTYPE or entity declarations are refused (CoT needs none; it keeps entity
expansion out of reach).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from deconfliction.domain.tactical import NO_PARTY, Affiliation, PositionReport, validate_report
from deconfliction.domain.volume import parse_time
from deconfliction.errors import InvalidInput

MAX_EVENT_BYTES = 65_536
UNKNOWN_HAE = 9_999_999.0


@dataclass(frozen=True)
class CotError:
    text: str
    reason: str


@dataclass(frozen=True)
class CotIgnored:
    """A well-formed event that is not a position (not an atom, no track, stale)."""

    uid: str
    reason: str


def _attr_float(el: ET.Element, name: str, where: str) -> float:
    raw = el.get(name)
    if raw is None:
        raise ValueError(f"{where} has no {name}")
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(f"{where} {name}={raw} is not finite")
    return value


AFFILIATIONS: dict[str, Affiliation] = {
    "f": Affiliation.PARTY,
    "a": Affiliation.PARTY,
    "u": Affiliation.UNKNOWN,
    "o": Affiliation.UNKNOWN,
    "p": Affiliation.PENDING,
    "h": Affiliation.HOSTILE,
    "s": Affiliation.HOSTILE,
    "j": Affiliation.HOSTILE,
    "k": Affiliation.HOSTILE,
    "n": Affiliation.NEUTRAL,
}
"""CoT's affiliation (the second field of an atom's type, ``a-f-G``) as the service keeps it: friend and
assumed friend are the feed's party's own; unknown, none, pending, neutral and the hostile family
(hostile, suspect, joker, faker) belong to no party."""


def affiliation_of(kind: str, party_id: str) -> Affiliation:
    """The affiliation of an atom of type ``kind`` from a feed of ``party_id`` (``NO_PARTY``: a sensor,
    whose friends are nobody's: unknown). An unreadable affiliation field counts as unknown."""
    parts = kind.split("-")
    found = AFFILIATIONS.get(parts[1], Affiliation.UNKNOWN) if len(parts) > 1 else Affiliation.UNKNOWN
    if found is Affiliation.PARTY and party_id == NO_PARTY:
        return Affiliation.UNKNOWN
    return found


def parse_cot(text: str | bytes, party_id: str, now: datetime) -> PositionReport | CotIgnored | CotError:
    """One CoT event (a document whose root is ``<event>``) of ``party_id``'s, read at ``now``. An atom
    that is not friendly (``a-u-*``, ``a-h-*``, ``a-p-*``, ...) keeps its affiliation and belongs to no
    party; ``party_id`` is kept as its reporter."""
    if isinstance(text, bytes):
        raw = text
        if len(raw) > MAX_EVENT_BYTES:
            return CotError(raw[:80].decode("utf-8", "replace"), f"event larger than {MAX_EVENT_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return CotError(raw[:80].decode("utf-8", "replace"), "not UTF-8")
    if len(text) > MAX_EVENT_BYTES:
        return CotError(text[:80], f"event larger than {MAX_EVENT_BYTES} bytes")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return CotError(text[:80], "DOCTYPE and entity declarations are not accepted")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return CotError(text[:80], f"not well-formed XML: {exc}")
    if root.tag != "event":
        return CotError(text[:80], f"root element is <{root.tag}>, expected <event>")
    uid = root.get("uid", "").strip()
    kind = root.get("type", "")
    try:
        if not uid:
            raise ValueError("event has no uid")
        if not kind.startswith("a-"):
            return CotIgnored(uid, f"type {kind!r} is not an atom (a-...)")
        when = parse_time(root.get("time", ""), "time")
        stale_raw = root.get("stale")
        if stale_raw is not None and parse_time(stale_raw, "stale") <= now:
            return CotIgnored(uid, "stale")
        point = root.find("point")
        if point is None:
            raise ValueError("event has no <point>")
        lat = _attr_float(point, "lat", "<point>")
        lon = _attr_float(point, "lon", "<point>")
        hae = _attr_float(point, "hae", "<point>")
        if hae >= UNKNOWN_HAE:
            raise ValueError("<point> hae is CoT's 'unknown' (9999999): an altitude is needed")
        track = root.find("detail/track")
        if track is None:
            return CotIgnored(uid, "no <detail><track>: no velocity")
        course = _attr_float(track, "course", "<track>")
        speed = _attr_float(track, "speed", "<track>")
        slope = float(track.get("slope", "0") or 0.0)
        if not -90.0 < slope < 90.0:
            raise ValueError(f"<track> slope={slope} is not between -90 and 90 degrees")
        contact = root.find("detail/contact")
        callsign = contact.get("callsign") if contact is not None else None
        return validate_report(
            party_id,
            uid,
            when,
            lat,
            lon,
            hae,
            speed,
            course % 360.0,
            speed * math.tan(math.radians(slope)),
            callsign,
            "cot",
            affiliation_of(kind, party_id),
        )
    except InvalidInput as exc:
        return CotError(text[:80], "; ".join(f"{e.field}: {e.message}" for e in exc.errors))
    except ValueError as exc:
        return CotError(text[:80], str(exc))


def split_stream(buffer: bytes) -> tuple[list[bytes], list[bytes], bytes]:
    """Complete events at the front of a TCP stream buffer, the junk found between them (to be counted as
    malformed: anything but whitespace and XML declarations), and the rest (an event still arriving).
    An event ends with ``</event>`` and starts at the last ``<event`` before it."""
    events: list[bytes] = []
    junk: list[bytes] = []
    while True:
        end = buffer.find(b"</event>")
        if end < 0:
            return events, junk, buffer
        cut = end + len(b"</event>")
        chunk = buffer[:cut]
        start = chunk.rfind(b"<event")
        if start < 0:
            junk.append(chunk)
        else:
            events.append(chunk[start:])
            before = _XML_DECL.sub(b"", chunk[:start]).strip()
            if before:
                junk.append(before)
        buffer = buffer[cut:]


_XML_DECL = re.compile(rb"<\?xml[^>]*\?>")
