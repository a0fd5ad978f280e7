"""Units over HTTP, on both backends: the routes and their refusals; `unit` when declaring an operation,
a movement or a site (422 naming the field for anything but a unit of the caller's own party); a unit's
key signs in as its party with its unit, sees its unit's and its party's items, not a sibling's; the
unit is shown to its own party only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from fastapi.testclient import TestClient

from deconfliction.domain.party import Party
from tests.conftest import T0, auth, square, volume_json

SITE = {
    "name": "field hospital",
    "category": "hospital",
    "footprint": {"type": "Point", "coordinates": [40.07, 35.07]},
    "radius_m": 200,
    "accuracy_m": 10,
    "valid_until": (T0 + timedelta(days=30)).isoformat().replace("+00:00", "Z"),
}


def movement(lat: float = 35.05) -> dict[str, Any]:
    return {
        "kind": "ground",
        "movement": {
            "route": {"type": "LineString", "coordinates": [[40.0, lat], [40.2, lat]]},
            "departure": T0.isoformat().replace("+00:00", "Z"),
            "speed_m_s": 10,
            "half_width_m": 50,
            "altitude": {"lower_m": 0, "upper_m": 5},
        },
    }


def keys_of(parties: dict[str, tuple[Party, str]]) -> dict[str, str]:
    return {n: k for n, (_, k) in parties.items()}


def make_unit(client: TestClient, key: str, name: str, **body: Any) -> dict[str, Any]:
    r = client.post("/v1/units", json={"name": name, **body}, headers=auth(key))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/v1/units/{r.json()['unit']['id']}"
    return dict(r.json()["unit"])


def unit_api_key(client: TestClient, key: str, unit_id: str) -> str:
    r = client.post(f"/v1/units/{unit_id}/keys", headers=auth(key))
    assert r.status_code == 201, r.text
    assert r.json()["key"]["unit"] == unit_id and r.json()["api_key"].startswith("dk_")
    return str(r.json()["api_key"])


def test_unit_routes_and_their_refusals(client: TestClient, parties: dict[str, tuple[Party, str]]) -> None:
    k = keys_of(parties)
    convoy = make_unit(
        client,
        k["alpha"],
        "Convoy team",
        contacts=[{"name": "lead", "channels": {"radio": "ch 7"}}],
        area=square(40, 35),
    )
    assert convoy["contacts"] == [{"name": "lead", "channels": {"radio": "ch 7"}}]
    assert convoy["area"]["type"] == "Polygon" and convoy["version"] == 1
    r = client.post("/v1/units", json={"name": "Convoy team"}, headers=auth(k["alpha"]))
    assert r.status_code == 409 and r.json()["code"] == "already_exists"
    r = client.post("/v1/units", json={"name": "Team", "area": {"type": "Point"}}, headers=auth(k["alpha"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("area")
    r = client.post("/v1/units", json={"name": "Team", "colour": "red"}, headers=auth(k["alpha"]))
    assert r.status_code == 422
    r = client.put(f"/v1/units/{convoy['id']}/contacts", json={"contacts": []}, headers=auth(k["alpha"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "contacts"
    r = client.put(
        f"/v1/units/{convoy['id']}/contacts", json={"contacts": [{"name": "night lead"}]}, headers=auth(k["alpha"])
    )
    assert r.status_code == 200 and r.json()["unit"]["version"] == 2 and r.json()["receipt"]
    assert client.get(f"/v1/units/{convoy['id']}", headers=auth(k["bravo"])).status_code == 404
    listed = client.get("/v1/units", headers=auth(k["alpha"])).json()
    assert [u["id"] for u in listed["items"]] == [convoy["id"]] and listed["next_cursor"] is None
    assert client.get("/v1/units", headers=auth(k["bravo"])).json()["items"] == []
    made = client.post("/v1/units", json={"name": "Cell-made", "party": "bravo"}, headers=auth(k["cell"]))
    assert made.status_code == 201 and made.json()["unit"]["party"] == parties["bravo"][0].id
    unit_key = unit_api_key(client, k["alpha"], convoy["id"])
    me = client.get("/v1/parties/me", headers=auth(unit_key)).json()
    assert (me["id"], me["unit"]) == (parties["alpha"][0].id, convoy["id"])
    assert "unit" not in client.get("/v1/parties/me", headers=auth(k["alpha"])).json()
    assert client.post(f"/v1/units/{convoy['id']}/keys", headers=auth(unit_key)).status_code == 403
    (listed_key,) = client.get(f"/v1/units/{convoy['id']}/keys", headers=auth(k["alpha"])).json()["items"]
    assert listed_key["active"] and "api_key" not in listed_key
    r = client.post(f"/v1/units/{convoy['id']}/keys/{listed_key['id']}/revoke", headers=auth(k["alpha"]))
    assert r.status_code == 200 and not r.json()["key"]["active"]
    assert client.get("/v1/parties/me", headers=auth(unit_key)).status_code == 401


def test_declaring_for_a_unit_and_who_sees_it(client: TestClient, parties: dict[str, tuple[Party, str]]) -> None:
    k = keys_of(parties)
    convoy = make_unit(client, k["alpha"], "Convoy team")
    air = make_unit(client, k["alpha"], "Air wing")
    theirs = make_unit(client, k["bravo"], "Bravo team")
    as_convoy = unit_api_key(client, k["alpha"], convoy["id"])
    op = {"kind": "air", "volumes": [volume_json(square(40, 35))]}
    for path, body in (("/v1/operations", op), ("/v1/movements", movement()), ("/v1/sites", SITE)):
        for wrong in (theirs["id"], "un_missing"):
            r = client.post(path, json={**body, "unit": wrong}, headers=auth(k["alpha"]))
            assert r.status_code == 422, (path, r.text)
            assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["code"]) == ("unit", "unknown_unit")
        r = client.post(path, json={**body, "unit": air["id"]}, headers=auth(as_convoy))
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "not_your_unit"
    assert client.get("/v1/operations", headers=auth(k["alpha"])).json()["items"] == []
    # the convoy's key declares for the convoy without saying so; the party's key names the air wing
    mine = client.post("/v1/movements", json=movement(), headers=auth(as_convoy))
    assert mine.status_code == 201 and mine.json()["operation"]["unit"] == convoy["id"]
    sib = client.post("/v1/operations", json={**op, "unit": air["id"]}, headers=auth(k["alpha"]))
    assert sib.status_code == 201 and sib.json()["operation"]["unit"] == air["id"]
    site = client.post("/v1/sites", json={**SITE, "unit": convoy["id"]}, headers=auth(k["alpha"]))
    assert site.status_code == 201 and site.json()["site"]["unit"] == convoy["id"]
    # bravo crosses both operations (and comes near the site)
    crossing = {"kind": "air", "volumes": [volume_json(square(40.05, 35.0))]}
    b = client.post("/v1/operations", json=crossing, headers=auth(k["bravo"]))
    assert b.status_code == 201 and len(b.json()["conflicts"]) == 3, b.text
    assert "Convoy" not in b.text and convoy["id"] not in b.text and air["id"] not in b.text
    # another party never sees a unit: not on the site, not in its notifications or its ledger
    seen = client.get(f"/v1/sites/{site.json()['site']['id']}", headers=auth(k["bravo"])).json()
    assert "unit" not in seen
    for path in ("/v1/notifications", "/v1/ledger", "/v1/conflicts"):
        text = client.get(path, headers=auth(k["bravo"])).text
        assert convoy["id"] not in text and air["id"] not in text, path
    # the convoy's key: its own movement, the site of its unit, not the air wing's operation
    ops_seen = {o["id"] for o in client.get("/v1/operations", headers=auth(as_convoy)).json()["items"]}
    assert ops_seen == {mine.json()["operation"]["id"]}
    assert client.get(f"/v1/operations/{sib.json()['operation']['id']}", headers=auth(as_convoy)).status_code == 404
    party_ops = {o["id"] for o in client.get("/v1/operations", headers=auth(k["alpha"])).json()["items"]}
    assert party_ops == {mine.json()["operation"]["id"], sib.json()["operation"]["id"]}
    notes = client.get("/v1/notifications", headers=auth(as_convoy)).json()["items"]
    assert notes and {n["unit"] for n in notes} == {convoy["id"]}
    all_notes = client.get("/v1/notifications", headers=auth(k["alpha"])).json()["items"]
    assert {n["unit"] for n in all_notes} == {convoy["id"], air["id"]}
    conflicts = client.get("/v1/conflicts", headers=auth(as_convoy)).json()["items"]
    assert {c["operation"] for c in conflicts} == {mine.json()["operation"]["id"], site.json()["site"]["id"]}
    with client.stream("GET", "/v1/stream", params={"idle_s": 0.3}, headers=auth(as_convoy)) as r:
        events = [orjson.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert events and {e["unit"] for e in events} == {convoy["id"]}
    # either key acknowledges the convoy's notification; the sibling's key cannot
    as_air = unit_api_key(client, k["alpha"], air["id"])
    first = notes[0]["id"]
    assert client.post(f"/v1/notifications/{first}/ack", headers=auth(as_air)).status_code == 404
    r = client.post(f"/v1/notifications/{first}/ack", headers=auth(as_convoy))
    assert r.status_code == 200 and r.json()["notification"]["state"] == "acknowledged"
    second = next(n["id"] for n in all_notes if n["unit"] == convoy["id"] and n["id"] != first)
    assert client.post(f"/v1/notifications/{second}/ack", headers=auth(k["alpha"])).status_code == 200


def test_units_round_trip_through_a_geojson_export(client: TestClient, parties: dict[str, tuple[Party, str]]) -> None:
    k = keys_of(parties)
    convoy = make_unit(client, k["alpha"], "Convoy team")
    op = {"kind": "air", "volumes": [volume_json(square(40, 35))], "unit": convoy["id"]}
    assert client.post("/v1/operations", json=op, headers=auth(k["alpha"])).status_code == 201
    assert (
        client.post("/v1/movements", json={**movement(), "unit": convoy["id"]}, headers=auth(k["alpha"])).status_code
        == 201
    )
    assert client.post("/v1/sites", json={**SITE, "unit": convoy["id"]}, headers=auth(k["alpha"])).status_code == 201
    exported = client.get("/v1/export", headers=auth(k["alpha"])).json()
    mine = [f for f in exported["features"] if f["properties"].get("party") == "alpha"]
    assert {f["properties"]["object"] for f in mine} == {"operation", "movement", "site"}
    assert {f["properties"].get("unit") for f in mine} == {"Convoy team"}
    theirs = client.get("/v1/export", headers=auth(k["bravo"])).json()
    assert all("unit" not in f["properties"] for f in theirs["features"])  # bravo sees alpha's site, not its unit
    # its own export changes nothing; read back without the ids (new objects): the same unit on every object
    r = client.post("/v1/import", json=exported, headers=auth(k["alpha"]))
    assert r.status_code == 200 and not any(r.json()["counts"].values()), r.text
    for f in exported["features"]:
        f["properties"].pop("id", None)
    r = client.post("/v1/import", json=exported, headers=auth(k["alpha"]))
    assert r.status_code in (200, 201), r.text
    ops_now = client.get("/v1/operations", headers=auth(k["alpha"])).json()["items"]
    assert len(ops_now) == 4 and {o["unit"] for o in ops_now} == {convoy["id"]}
    sites_now = client.get("/v1/sites", params={"owner": parties["alpha"][0].id}, headers=auth(k["alpha"])).json()
    assert len(sites_now["items"]) == 2 and {s["unit"] for s in sites_now["items"]} == {convoy["id"]}
    # a unit the importer does not have is refused by feature, and nothing is stored
    renamed = {
        **exported,
        "features": [{**f, "properties": {**f["properties"], "unit": "Ghost team"}} for f in mine],
    }
    r = client.post("/v1/import", json=renamed, headers=auth(k["alpha"]))
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {f"features[{i}].properties.unit" for i in range(len(mine))}
    assert len(client.get("/v1/operations", headers=auth(k["alpha"])).json()["items"]) == 4


def test_a_unit_key_reads_no_sibling_unit_in_the_ledger_nor_in_as_of_views(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    k = keys_of(parties)
    convoy = make_unit(client, k["alpha"], "Convoy team")
    air = make_unit(client, k["alpha"], "Air wing")
    as_convoy = unit_api_key(client, k["alpha"], convoy["id"])
    own = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(as_convoy)
    )
    sib = client.post(
        "/v1/operations",
        json={"kind": "air", "volumes": [volume_json(square(50, 35))], "unit": air["id"]},
        headers=auth(k["alpha"]),
    )
    assert own.status_code == sib.status_code == 201
    for lon in (40.05, 50.05):  # bravo crosses both: conflict entries for each of alpha's units
        crossing = {"kind": "air", "volumes": [volume_json(square(lon, 35.05))]}
        assert client.post("/v1/operations", json=crossing, headers=auth(k["bravo"])).status_code == 201
    sib_id, own_id = sib.json()["operation"]["id"], own.json()["operation"]["id"]
    as_unit = client.get("/v1/ledger", headers=auth(as_convoy)).text
    as_party = client.get("/v1/ledger", headers=auth(k["alpha"])).text
    assert sib_id in as_party and air["id"] in as_party
    assert sib_id not in as_unit and own_id in as_unit  # the sibling's entries are exported redacted
    assert len(as_unit.splitlines()) == len(as_party.splitlines())  # the chain is whole: nothing is dropped
    later = "2100-01-01T00:00:00Z"
    past_ops = client.get("/v1/operations", params={"as_of": later}, headers=auth(as_convoy)).json()["items"]
    assert [o["id"] for o in past_ops] == [own_id]
    past_conflicts = client.get("/v1/conflicts", params={"as_of": later}, headers=auth(as_convoy)).json()["items"]
    assert [c["operation"] for c in past_conflicts] == [own_id]
    all_past = client.get("/v1/operations", params={"as_of": later}, headers=auth(k["alpha"])).json()["items"]
    assert {o["id"] for o in all_past} == {own_id, sib_id}


def test_the_conflict_view_names_the_unit_to_its_own_party_only(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    k = keys_of(parties)
    convoy = make_unit(client, k["alpha"], "Convoy team")
    op = {"kind": "air", "volumes": [volume_json(square(40, 35))], "unit": convoy["id"]}
    assert client.post("/v1/operations", json=op, headers=auth(k["alpha"])).status_code == 201
    crossing = {"kind": "air", "volumes": [volume_json(square(40.05, 35.05))]}
    told = client.post("/v1/operations", json=crossing, headers=auth(k["bravo"])).json()["conflicts"]
    assert len(told) == 1 and "unit" not in told[0]
    cid = told[0]["id"]
    mine = client.get(f"/v1/conflicts/{cid}", headers=auth(k["alpha"])).json()
    assert mine["unit"] == convoy["id"]
    (listed,) = client.get("/v1/conflicts", headers=auth(k["alpha"])).json()["items"]
    assert listed == mine
    assert "unit" not in client.get(f"/v1/conflicts/{cid}", headers=auth(k["bravo"])).json()
    sides = client.get(f"/v1/conflicts/{cid}", headers=auth(k["cell"])).json()["sides"]
    assert [s.get("unit") for s in sides if s["party"] == parties["alpha"][0].id] == [convoy["id"]]
    assert [s.get("unit") for s in sides if s["party"] == parties["bravo"][0].id] == [None]
    # what the ledger recorded for alpha's side is what alpha reads now
    entries = [
        orjson.loads(line) for line in client.get("/v1/ledger", headers=auth(k["alpha"])).content.splitlines()[1:]
    ]
    recorded = [e["content"]["payload"] for e in entries if e.get("content", {}).get("type") == "conflict.opened"]
    assert recorded[-1]["unit"] == convoy["id"] == mine["unit"]
