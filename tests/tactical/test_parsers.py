"""SBS-1 and Cursor-on-Target parsers: exact values from good input, a counted reason for every bad one."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from deconfliction.domain.tactical import PositionReport
from deconfliction.formats.cot import CotError, CotIgnored, parse_cot, split_stream
from deconfliction.formats.sbs import SbsAssembler, SbsError, SbsMessage, parse_sbs_line

POS = "MSG,3,1,1,4CA2D6,1,2026/11/23,08:00:00.000,2026/11/23,08:00:00.000,,37000,,,51.45735,-1.02826,,,0,0,0,0"
VEL = "MSG,4,1,1,4ca2d6,1,2026/11/23,08:00:00.100,2026/11/23,08:00:00.100,,,459,271,,,-64,,,,,0"
IDENT = "MSG,1,1,1,4CA2D6,1,2026/11/23,07:59:59.000,2026/11/23,07:59:59.000,RYR7NK  ,,,,,,,,,,,0"
T = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_sbs_position_line() -> None:
    msg = parse_sbs_line(POS + "\r\n")
    assert msg == SbsMessage(
        kind="MSG",
        transmission=3,
        icao="4CA2D6",
        time=T,
        altitude_m=37000 * 0.3048,
        lat=51.45735,
        lon=-1.02826,
        on_ground=False,
    )


def test_sbs_velocity_line() -> None:
    msg = parse_sbs_line(VEL)
    assert isinstance(msg, SbsMessage)
    assert msg.icao == "4CA2D6"
    assert msg.ground_speed_mps == pytest.approx(459 * 1852 / 3600)
    assert msg.track_deg == 271.0
    assert msg.vertical_rate_mps == pytest.approx(-64 * 0.3048 / 60)
    assert msg.time == T + timedelta(milliseconds=100)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "not an SBS-1 message type"),
        ("hello world", "not an SBS-1 message type"),
        ("MSG,3,1,1,4CA2D6,1,2026/11/23,08:00:00.000", "has 8 fields, expected 22"),
        (POS.replace("4CA2D6", "4CA2Z6"), "hex ident '4CA2Z6' is not 6 hex digits"),
        (POS.replace(",37000,", ",37k,"), "could not convert string to float"),
        (POS.replace("51.45735", "91.5"), "latitude 91.5 is out of range"),
        (POS.replace("MSG,3,", "MSG,9,"), "transmission type 9 is not 1-8"),
        (POS.replace("2026/11/23,08:00:00.000,2026", "23/11/2026,08:00:00.000,2026"), "is not YYYY/MM/DD"),
        ("MSG," + "x" * 600, "line longer than 512"),
    ],
)
def test_sbs_malformed_lines_say_why(line: str, reason: str) -> None:
    out = parse_sbs_line(line)
    assert isinstance(out, SbsError)
    assert reason in out.reason


def test_sbs_other_types_are_not_errors() -> None:
    out = parse_sbs_line("STA,,5,179,400AE7,10103,2008/11/28,14:58:51.153,2008/11/28,14:58:51.153,RM")
    assert isinstance(out, SbsMessage) and out.kind == "STA" and out.transmission == 0


def test_assembler_joins_velocity_position_and_callsign() -> None:
    asm = SbsAssembler("pt_north")
    got = []
    for line, at in ((POS, T), (IDENT, T), (VEL, T + timedelta(seconds=1)), (POS, T + timedelta(seconds=2))):
        msg = parse_sbs_line(line)
        assert isinstance(msg, SbsMessage)
        got.append(asm.feed(msg, at))
    # no velocity yet for the first position; the velocity line itself is no report
    assert got[:3] == [None, None, None]
    assert got[3] == PositionReport(
        party_id="pt_north",
        track_id="4CA2D6",
        time=T + timedelta(seconds=2),
        lat=51.45735,
        lon=-1.02826,
        altitude_m=37000 * 0.3048,
        ground_speed_mps=pytest.approx(459 * 1852 / 3600),
        track_deg=271.0,
        vertical_rate_mps=pytest.approx(-64 * 0.3048 / 60),
        callsign="RYR7NK",
        source="sbs",
    )
    # a velocity older than 10 s is not used
    later = parse_sbs_line(POS)
    assert isinstance(later, SbsMessage)
    assert asm.feed(later, T + timedelta(seconds=12)) is None


def test_assembler_can_use_the_message_time() -> None:
    asm = SbsAssembler("p", use_message_time=True)
    for line in (VEL, POS):
        msg = parse_sbs_line(line)
        assert isinstance(msg, SbsMessage)
        out = asm.feed(msg, T + timedelta(hours=3))
    assert isinstance(out, PositionReport) and out.time == T


COT = """<?xml version="1.0" encoding="UTF-8"?>
<event version="2.0" uid="ICAO-4CA2D6" type="a-f-A-C-F" how="m-g"
       time="2026-11-23T08:00:00Z" start="2026-11-23T08:00:00Z" stale="2026-11-23T08:00:30Z">
  <point lat="51.45735" lon="-1.02826" hae="11277.6" ce="10" le="20"/>
  <detail>
    <track course="271.0" speed="236.1" slope="-0.8"/>
    <contact callsign="RYR7NK"/>
  </detail>
</event>"""


def test_cot_event() -> None:
    out = parse_cot(COT.encode(), "pt_north", T)
    assert out == PositionReport(
        party_id="pt_north",
        track_id="ICAO-4CA2D6",
        time=T,
        lat=51.45735,
        lon=-1.02826,
        altitude_m=11277.6,
        ground_speed_mps=236.1,
        track_deg=271.0,
        vertical_rate_mps=pytest.approx(236.1 * math.tan(math.radians(-0.8))),
        callsign="RYR7NK",
        source="cot",
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<event", "not well-formed XML"),
        ("<message/>", "root element is <message>"),
        (COT.replace('hae="11277.6"', 'hae="9999999.0"'), "CoT's 'unknown'"),
        (COT.replace('lat="51.45735"', 'lat="95"'), "lat: 95.0 is outside [-90, 90]"),
        (COT.replace('<point lat="51.45735" lon="-1.02826" hae="11277.6" ce="10" le="20"/>', ""), "no <point>"),
        (COT.replace('speed="236.1"', 'speed="fast"'), "could not convert string to float"),
        (
            COT.replace('time="2026-11-23T08:00:00Z"', 'time="2026-11-23 08:00"'),
            "time: 2026-11-23 08:00 has no UTC offset",
        ),
        (COT.replace('time="2026-11-23T08:00:00Z"', 'time="yesterday"'), "not an RFC 3339 time"),
        (COT.replace('uid="ICAO-4CA2D6"', 'uid=""'), "event has no uid"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><event/>', "DOCTYPE and entity declarations"),
        (b"\xff\xfe<event/>", "not UTF-8"),
        ("<event>" + " " * 70_000 + "</event>", "larger than 65536 bytes"),
    ],
)
def test_cot_errors_say_why(text: str | bytes, reason: str) -> None:
    out = parse_cot(text, "p", T)
    assert isinstance(out, CotError), out
    assert reason in out.reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (COT.replace('type="a-f-A-C-F"', 'type="b-m-p-s-p-i"'), "is not an atom"),
        (COT.replace('<track course="271.0" speed="236.1" slope="-0.8"/>', ""), "no velocity"),
        (COT, "stale"),
    ],
)
def test_cot_events_that_are_no_positions_are_ignored(text: str, reason: str) -> None:
    now = T + timedelta(minutes=1) if reason == "stale" else T
    out = parse_cot(text, "p", now)
    assert isinstance(out, CotIgnored) and reason in out.reason and out.uid


def test_cot_stream_splitting() -> None:
    one = COT.encode()
    event = one[one.index(b"<event") :]
    events, junk, rest = split_stream(one + b"\n" + one[:100])
    assert events == [event] and junk == []
    assert rest == b"\n" + one[:100]
    events, junk, rest = split_stream(rest + one[100:] + b"<event broken>" + one + b"garbage</event>")
    assert events == [event, event] and rest == b""
    assert junk == [b"<event broken>", b"garbage</event>"]
