"""The Khasham case (7 February 2018), on every backend.

A river is the deconfliction line: the east bank is East Force's zone, the west bank West Force's, with a
500 m band along it; a coordination cell runs the line. At night a column of unknown affiliation (a
sensor's Cursor-on-Target atoms typed ``a-u-G``) crosses the river eastwards. Its entry into East Force's
zone is alerted to East Force and the cell as unknown, never as anybody's own traffic. Asked on the
hotline, West Force answers in Russian with the "not our unit" template and disclaims the column's lead
vehicle; East Force reads the answer in English, with the time and place in its own format; both sides'
ledger exports verify.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import orjson
from fastapi.testclient import TestClient

from deconfliction.domain.ledger import export_line, verify
from deconfliction.domain.line import parse_line
from deconfliction.domain.party import Role
from deconfliction.domain.tactical import NO_PARTY, PositionReport
from deconfliction.domain.volume import TimeWindow, format_time
from deconfliction.domain.zone import ZoneAnswer
from deconfliction.formats.cot import parse_cot
from deconfliction.service import lines, zones
from deconfliction.service.ledger import export_ledger
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.service.tactical.cycle import TacticalService
from tests.conftest import FakeClock, auth
from tests.shapes import parse_shape
from tests.tactical.helpers import around

AREA = {
    "type": "Polygon",
    "coordinates": [[[40.10, 35.20], [40.45, 35.20], [40.45, 35.45], [40.10, 35.45], [40.10, 35.20]]],
}
RIVER = [[40.22, 35.50], [40.25, 35.33], [40.29, 35.15]]
"""Downstream, north to south: walking it, the east bank is on the left."""
COLUMN = ("UNK-1", "UNK-2", "UNK-3")


def sensor_atom(uid: str, lat: float, lon: float, clock: FakeClock) -> str:
    """What an observation post's sensor sends for a ground vehicle of unknown affiliation."""
    t = format_time(clock())
    stale = format_time(clock() + timedelta(seconds=60))
    return (
        f'<event version="2.0" uid="{uid}" type="a-u-G" how="m-r" time="{t}" start="{t}" stale="{stale}">'
        f'<point lat="{lat}" lon="{lon}" hae="230" ce="25" le="15"/>'
        '<detail><track course="95" speed="8"/></detail></event>'
    )


def test_khasham_an_unknown_column_crosses_the_line_and_the_other_side_says_not_ours(
    client: TestClient, rt: Runtime, clock: FakeClock
) -> None:
    cell, cell_key = create_party(rt, None, "Coordination Cell", Role.COORDINATOR)
    east, east_key = create_party(rt, None, "East Force", Role.PARTY)
    west, west_key = create_party(rt, None, "West Force", Role.PARTY)
    assert client.put("/v1/preferences", json={"language": "ru"}, headers=auth(west_key)).status_code == 200
    # the river splits the area; each side agrees the other's bank
    done = lines.create_line(
        rt,
        cell,
        lines.LineDraft(
            "Euphrates",
            parse_shape(AREA, rt.limits),
            AREA,
            parse_line(RIVER, rt.limits),
            east.id,
            west.id,
            TimeWindow(clock(), clock() + timedelta(days=30)),
            500.0,
        ),
    )
    assert isinstance(done, lines.LineResult)
    east_zone, west_zone = done.zones
    assert (east_zone.owner_id, west_zone.owner_id) == (east.id, west.id)
    zones.answer(rt, west, east_zone.id, ZoneAnswer.ACCEPTED)
    zones.answer(rt, east, west_zone.id, ZoneAnswer.ACCEPTED)

    # the column: three vehicles 150 m apart, 1.5 km west of the river, heading east at 8 m/s; a sensor
    # (no party's) reports them as CoT atoms of unknown affiliation; nobody declared anything
    tactical = cast(TacticalService, client.app.state.tactical)  # type: ignore[attr-defined]
    head = around(35.33, 40.25, 275.0, 1500.0)
    column = [around(*head, 275.0, 150.0 * k) for k in range(3)]
    crossed_at = None
    for step in range(80):
        reports = [parse_cot(sensor_atom(uid, *column[k], clock), NO_PARTY, clock()) for k, uid in enumerate(COLUMN)]
        assert all(isinstance(r, PositionReport) and r.party_id == NO_PARTY for r in reports), reports
        tactical.ingest(cast(list[PositionReport], reports))
        tactical.cycle()
        entries = [
            a
            for a in client.get("/v1/alerts", headers=auth(east_key)).json()["items"]
            if a["target"] == {"kind": "zone", "id": east_zone.id, "owner": east.id} and a["now"]
        ]
        if entries and crossed_at is None:
            crossed_at = step
            break
        clock.advance(seconds=5)
        column = [around(lat, lon, 95.0, 40.0) for lat, lon in column]
    assert crossed_at is not None and 25 < crossed_at < 60, crossed_at  # about 1.5 km at 8 m/s
    lead = next(a for a in entries if a["counterpart"]["track"] == "UNK-1")

    # East Force (the zone's owner) and the cell are told, as unknown: never "your own" or a party's track
    assert lead["type"] == "undeclared_entry" and lead["affiliation"] == "unknown"
    assert lead["counterpart"] == {"party": None, "party_name": None, "track": "UNK-1"}
    for key, role in ((east_key, "owner"), (cell_key, "coordinator")):
        notes = client.get("/v1/notifications", headers=auth(key)).json()["items"]
        (note,) = [n for n in notes if n["body"].get("alert") == lead["id"]]
        assert note["kind"] == "tactical.raised" and note["deadline"]
        body = note["body"]
        assert (body["type"], body["affiliation"], body["told_as"]) == ("undeclared_entry", "unknown", role)
        assert body["track"] == {"party": None, "id": "UNK-1", "affiliation": "unknown"}
        assert body["target"] == {"kind": "zone", "id": east_zone.id, "owner": east.id}
    west_notes = client.get("/v1/notifications", headers=auth(west_key)).json()["items"]
    assert lead["id"] not in {n["body"].get("alert") for n in west_notes}  # not West's zone: not West's alert
    # the picture: East sees the column as unknown, of no party
    seen = client.get("/v1/tracks", headers=auth(east_key)).json()["items"]
    assert {(t["id"], t["party"], t["affiliation"]) for t in seen} >= {("UNK-1", None, "unknown")}

    # the hotline: East asks; West answers in Russian with the "not our unit" template, then in free text
    lat, lon = lead["position"][1], lead["position"][0]
    asked = client.post(
        "/v1/threads",
        json={
            "participants": [west.id],
            "subject": "Column crossing the Euphrates",
            "message": {"template": "request_call", "params": {"subject": "UNK-1"}},
        },
        headers=auth(east_key),
    )
    assert asked.status_code == 201, asked.text
    thread = asked.json()["thread"]
    where = f"{lat:.4f}, {lon:.4f}"
    seen_at = clock().replace(second=0, microsecond=0)  # to the minute, as people say it
    local_time = (seen_at + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+03:00")  # Moscow time, as sent
    answer = client.post(
        f"/v1/threads/{thread}/messages",
        json={"template": "not_our_unit", "params": {"subject": "UNK-1", "position": where, "time": local_time}},
        headers=auth(west_key),
    )
    assert answer.status_code == 201, answer.text
    reply = client.post(f"/v1/threads/{thread}/messages", json={"text": "Это не наши люди."}, headers=auth(west_key))
    assert reply.status_code == 201
    # and on the record, for everyone alerted about the lead vehicle
    disclaimed = client.post(
        "/v1/tracks/UNK-1/disclaim", json={"reason": "не наше подразделение"}, headers=auth(west_key)
    )
    assert disclaimed.status_code == 200, disclaimed.text
    assert disclaimed.json()["statement"] == "disclaimed" and lead["id"] in disclaimed.json()["alerts"]

    # East Force reads it in English, with the time in UTC and the position in its own format
    utc = seen_at.strftime("%H:%M")
    day = f"{seen_at.day} {seen_at.strftime('%B')} {seen_at.year}"
    en_lat, en_lon = f"{lat:.4f}", f"{lon:.4f}"
    english = f"UNK-1, seen at {en_lat}° N, {en_lon}° E at {utc} UTC on {day}, is not our unit. We have no one there."
    east_view = client.get(f"/v1/threads/{thread}", headers=auth(east_key)).json()["messages"]
    assert [(m["text"], m["language"]) for m in east_view[1:]] == [(english, "en"), ("Это не наши люди.", "ru")]
    east_told = [
        n for n in client.get("/v1/notifications", headers=auth(east_key)).json()["items"] if n["kind"] == "message"
    ]
    assert [n["body"]["text"] for n in east_told] == [english, "Это не наши люди."]
    assert [n["body"]["language"] for n in east_told] == ["en", "ru"]
    # West Force reads its own message in Russian: decimal commas, the Russian date
    west_view = client.get(f"/v1/threads/{thread}", headers=auth(west_key)).json()["messages"]
    russian = west_view[1]["text"]
    assert west_view[1]["language"] == "ru" and russian.startswith("UNK-1, обнаруженный в точке")
    assert f"{en_lat.replace('.', ',')}° с. ш., {en_lon.replace('.', ',')}° в. д." in russian
    assert f"в {utc} UTC {seen_at.day} " in russian and " г.," in russian
    # the disclaim is told to East Force and the cell (both alerted about the lead vehicle)
    for key in (east_key, cell_key):
        kinds = [n["kind"] for n in client.get("/v1/notifications", headers=auth(key)).json()["items"]]
        assert "track.disclaimed" in kinds

    # both sides' ledger exports verify, with the receipts they were given, through the API and the service
    receipts = {
        "east": [asked.json()["receipt"]],
        "west": [answer.json()["receipt"], reply.json()["receipt"], disclaimed.json()["receipt"]],
    }
    for name, party, key in (("east", east, east_key), ("west", west, west_key)):
        exported = client.get("/v1/ledger", headers=auth(key))
        report = verify(exported.content.splitlines(), receipts=receipts[name])
        assert report.ok, (name, [str(p) for p in report.problems])
        offline = [export_line(x) for x in export_ledger(rt, party)]
        assert verify(offline, receipts=receipts[name]).ok
    entries: dict[str, Any] = {}
    for line in client.get("/v1/ledger", headers=auth(east_key)).content.splitlines()[1:]:
        e = orjson.loads(line)
        if "content" in e:
            entries.setdefault(e["content"]["type"], []).append(e["content"]["payload"])
    assert any(p["alert"] == lead["id"] and p["affiliation"] == "unknown" for p in entries["tactical.raised"])
    assert [p["by"] for p in entries["track.disclaimed"]] == [west.id]
