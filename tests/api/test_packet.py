"""GET /v1/packet: the situation packet as a PDF, on both backends, read back as a person would (its text
with pdftotext, its pages rendered with pdftoppm, its page size with pdfinfo): the caller's conflicts,
acknowledgements, contacts and the ledger head are on it; another party's plan and contacts are not
(need-to-know exactly as /v1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import mgrs
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from shapely.geometry import Point, shape

from deconfliction.api.app import create_app
from deconfliction.domain.party import Party, Role
from deconfliction.service.exercise import start_exercise
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import Store
from tests import pdf
from tests.conftest import T0, FakeClock, auth, square, volume_json

AT = (T0 + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")

LADDERS = {
    "alpha": [{"name": "Alpha duty officer", "channels": {"phone": "+1 555 0101", "radio": "ALPHA OPS ch 7"}}],
    "bravo": [
        {"name": "Bravo watch", "channels": {"phone": "+1 555 0202"}},
        {"name": "Bravo chief", "channels": {"email": "chief@bravo.example"}},
    ],
}


def _scene(client: TestClient, keys: dict[str, str]) -> dict[str, Any]:
    """Alpha and Bravo declare crossing air operations (one conflict), each with its ladder; Alpha
    acknowledges the conflict, Bravo does not."""
    for who, ladder in LADDERS.items():
        assert client.put("/v1/contacts", json={"contacts": ladder}, headers=auth(keys[who])).status_code == 200
    a = client.post(
        "/v1/operations",
        json={"kind": "air", "title": "Alpha secret sortie", "volumes": [volume_json(square(40, 35))]},
        headers=auth(keys["alpha"]),
    )
    b = client.post(
        "/v1/operations",
        json={"kind": "air", "title": "Bravo patrol", "volumes": [volume_json(square(40.05, 35.05))]},
        headers=auth(keys["bravo"]),
    )
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    (conflict,) = client.get("/v1/conflicts", headers=auth(keys["bravo"])).json()["items"]
    (told,) = client.get("/v1/notifications", params={"state": "pending"}, headers=auth(keys["alpha"])).json()["items"]
    assert client.post(f"/v1/notifications/{told['id']}/ack", headers=auth(keys["alpha"])).status_code == 200
    return conflict


def _packet(client: TestClient, key: str, **params: str) -> bytes:
    r = client.get("/v1/packet", params={"at": AT, **params}, headers=auth(key))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith('attachment; filename="packet-')
    assert r.content.startswith(b"%PDF-")
    return r.content


def _red_pixels(path: Any) -> int:
    """Pixels of the conflicts' red (176, 0, 32), give or take the rendering's smoothing."""
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 120) & (rgb[..., 1] < 60) & (rgb[..., 2] < 80)).sum())


def test_a_partys_packet_has_its_conflict_contacts_and_the_ledger_head_and_nothing_of_the_other_side(
    client: TestClient, parties: dict[str, tuple[Party, str]], request: pytest.FixtureRequest
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    conflict = _scene(client, keys)
    body = _packet(client, keys["bravo"])
    head = client.get("/v1/ledger/head", headers=auth(keys["bravo"])).json()
    said = pdf.words(body)
    # the conflict, its window, its other party, and both acknowledgements as Bravo may know them
    assert "Open conflicts (1)" in said and "C1" in said
    assert "Bravo patrol" in said and "2026-11-23 08:00Z –" in said and "10:00Z" in said and "in force" in said
    assert "you: not yet acknowledged" in said and "alpha: acknowledged" in said
    # Bravo's own ladder, and the ledger head to check the paper against later (on every page)
    for contact in LADDERS["bravo"]:
        assert contact["name"] in said and next(iter(contact["channels"].values())) in said
    assert f"ledger head {head['seq']} {head['hash']}" in said and f"Ledger head {head['seq']} {head['hash']}" in said
    # never Alpha's plan or Alpha's contacts
    for secret in ("Alpha secret sortie", "Alpha duty officer", "+1 555 0101", "ALPHA OPS", conflict["operation"]):
        assert secret not in said
    # the grid reference of the conflict is where the conflict is (within its 100 m precision)
    row = said.rsplit(" C1 ", 1)[1].split()  # the table's row (the map's label comes first)
    at = next(i for i, w in enumerate(row) if w == "37S")  # the zone at 40 E 35 N
    lat, lon = mgrs.MGRS().toLatLon("".join(row[at : at + 4]))
    region = shape(conflict["region"])
    assert region.buffer(0.002).contains(Point(lon, lat)), (row[at : at + 4], lat, lon)
    # the map is drawn: the conflict in red on the first page
    pages = pdf.render(body, request.node.name)
    assert pages and _red_pixels(pages[0]) > 200


def test_the_coordinator_sees_both_sides_and_their_acknowledgements(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    _scene(client, keys)
    said = pdf.words(_packet(client, keys["cell"]))
    assert "Sides" in said and "Alpha secret sortie" in said and "Bravo patrol" in said
    assert "alpha: acknowledged" in said and "bravo: not yet acknowledged" in said


def test_what_is_overdue_is_flagged(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    _scene(client, keys)
    clock.advance(minutes=16)  # past the first deadline: Bravo's notification escalated or late
    said = pdf.words(_packet(client, keys["bravo"]))
    assert "you: OVERDUE since" in said
    assert "OVERDUE" not in pdf.words(_packet(client, keys["alpha"]))  # Alpha acknowledged in time


def test_a4_and_letter(client: TestClient, parties: dict[str, tuple[Party, str]]) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    _scene(client, keys)
    a4 = pdf.page_sizes(_packet(client, keys["bravo"], paper="a4"))
    letter = pdf.page_sizes(_packet(client, keys["bravo"], paper="letter"))
    assert a4 and all(abs(w - 595.28) < 0.5 and abs(h - 841.89) < 0.5 for w, h in a4)
    assert letter and all((w, h) == (612.0, 792.0) for w, h in letter)


def test_later_conflicts_are_listed_ended_ones_are_not(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    _scene(client, keys)
    before = (T0 - timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    said = pdf.words(_packet(client, keys["bravo"], at=before))
    assert "Open conflicts (1)" in said and "starts in 3 h" in said
    after = (T0 + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    assert "Open conflicts (0)" in pdf.words(_packet(client, keys["bravo"], at=after))


def test_bad_time_paper_or_key_is_refused(client: TestClient, parties: dict[str, tuple[Party, str]]) -> None:
    key = parties["alpha"][1]
    for params, field in (
        ({"at": "tomorrow"}, "at"),
        ({"at": "2026-11-23T08:00:00"}, "at"),
        ({"at": "0001-01-01T00:00:00+01:00"}, "at"),
        ({"paper": "a3"}, "paper"),
    ):
        r = client.get("/v1/packet", params=params, headers=auth(key))
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
        assert field in str(r.json()["errors"])
    assert client.get("/v1/packet").status_code == 401


def test_an_exercise_packet_is_marked_on_every_page(store: Store) -> None:
    rt = Runtime(store, clock=start_exercise(store, T0 - timedelta(hours=1), 1.0))
    _, key = create_party(rt, None, "alpha", Role.PARTY)
    with TestClient(create_app(runtime=rt)) as client:
        r = client.post(
            "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(key)
        )
        assert r.status_code == 201, r.text
        body = _packet(client, key)
    pages = pdf.text(body).split("\f")
    assert "EXERCISE" in pages[0] and all("EXERCISE" in p for p in pages if p.strip())


def test_a_units_packet_has_its_unit_and_nothing_of_a_sibling_unit(
    client: TestClient, parties: dict[str, tuple[Party, str]]
) -> None:
    keys = {n: k for n, (_, k) in parties.items()}
    units = {}
    for name, lon in (("Convoy team", 40.0), ("Air wing", 41.0)):
        body = {"name": name, "contacts": [{"name": f"{name} lead", "channels": {"radio": f"{name} net"}}]}
        r = client.post("/v1/units", json=body, headers=auth(keys["alpha"]))
        assert r.status_code == 201, r.text
        unit = r.json()["unit"]["id"]
        op = {"kind": "air", "title": f"{name} task", "unit": unit, "volumes": [volume_json(square(lon, 35))]}
        assert client.post("/v1/operations", json=op, headers=auth(keys["alpha"])).status_code == 201
        crossing = {"kind": "air", "volumes": [volume_json(square(lon + 0.05, 35.05))]}
        assert client.post("/v1/operations", json=crossing, headers=auth(keys["bravo"])).status_code == 201
        r = client.post(f"/v1/units/{unit}/keys", headers=auth(keys["alpha"]))
        assert r.status_code == 201, r.text
        units[name] = r.json()["api_key"]
    said = pdf.words(_packet(client, units["Convoy team"]))
    assert "Situation packet: alpha (unit Convoy team)" in said and "Open conflicts (1)" in said
    assert "Convoy team task" in said and "Convoy team lead" in said
    assert "Air wing" not in said  # a sibling unit's operation, conflict and ladder are not the unit's to see
    whole = pdf.words(_packet(client, keys["alpha"]))  # the party's own key: both units
    assert "Open conflicts (2)" in whole and "Air wing lead" in whole and "Convoy team lead" in whole


def _across_antimeridian(lon: float, lat: float, size: float = 0.1) -> dict[str, Any]:
    """A square from ``lon`` east across 180, split there as RFC 7946 says: two parts, one each side."""
    east, west = [lon, 180.0], [-180.0, lon + size - 360.0]
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [[[x0, lat], [x1, lat], [x1, lat + size], [x0, lat + size], [x0, lat]]] for x0, x1 in (east, west)
        ],
    }


def test_a_theatre_across_the_antimeridian_is_drawn_where_it_is(
    client: TestClient, parties: dict[str, tuple[Party, str]], request: pytest.FixtureRequest
) -> None:
    """Fiji: the map is centred on 180, not on the middle of the longitudes' range (0, the Sahara)."""
    keys = {n: k for n, (_, k) in parties.items()}
    for who, lon in (("alpha", 179.93), ("bravo", 179.96)):
        r = client.post(
            "/v1/operations",
            json={
                "kind": "air",
                "title": f"{who} over Fiji",
                "volumes": [volume_json(_across_antimeridian(lon, -17.0))],
            },
            headers=auth(keys[who]),
        )
        assert r.status_code == 201, r.text
    body = _packet(client, keys["bravo"])
    said = pdf.words(body)
    assert "Open conflicts (1)" in said and "middle of a wider area" not in said
    assert "60K" in said or "1K" in said  # the grid's zone at 180 E 17 S
    pages = pdf.render(body, request.node.name)
    assert pages and _red_pixels(pages[0]) > 200  # the conflict, on the map
