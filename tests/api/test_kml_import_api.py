"""POST /v1/import with {"kml": "<text>", "dry_run": bool}: a KML export read back into another cell is
the same objects as its GeoJSON; a Google Earth document imports; bad KML is a 422 naming the place, and
nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from tests.api.test_sites_api import convoy, site_body
from tests.conftest import T0, FakeClock, auth, square

UNTIL = (T0 + timedelta(days=5)).isoformat().replace("+00:00", "Z")


def content(fc: dict[str, Any]) -> list[str]:
    """The features without what the service assigns."""
    out = []
    for f in fc["features"]:
        props = {k: v for k, v in f["properties"].items() if k not in ("id", "version", "state", "operation")}
        out.append(json.dumps({**f, "properties": props}, sort_keys=True))
    return sorted(out)


@contextmanager
def other_cell(tmp: Path) -> Iterator[tuple[Any, str]]:
    """A client of a new, empty cell with a party alpha (and bravo), and alpha's key."""
    from fastapi.testclient import TestClient

    from deconfliction.api.app import create_app

    rt = Runtime(open_store(f"sqlite:///{tmp}/cell.db"), clock=FakeClock())
    try:
        key = create_party(rt, None, "alpha", Role.PARTY)[1]
        create_party(rt, None, "bravo", Role.PARTY)
        with TestClient(create_app(runtime=rt)) as c:
            yield c, key
    finally:
        rt.store.close()


def test_a_kml_export_imports_as_its_geojson_does(client, parties, tmp_path):
    alpha, bravo = parties["alpha"][1], parties["bravo"][0]
    zone = {
        "name": "north bank",
        "counterparties": [bravo.id],
        "footprint": square(40.0, 35.0, 0.3),  # 27 km edges: the KML has points along them
        "validity": {"start": T0.isoformat().replace("+00:00", "Z"), "end": UNTIL},
    }
    assert client.post("/v1/zones", json=zone, headers=auth(alpha)).status_code == 201
    assert client.post("/v1/sites", json=site_body(), headers=auth(alpha)).status_code == 201
    assert client.post("/v1/operations", json=convoy(41.0, 35.0), headers=auth(alpha)).status_code == 201
    geojson = client.get("/v1/export", headers=auth(alpha)).json()
    kml = client.get("/v1/export", params={"format": "kml"}, headers=auth(alpha)).text
    counts = {"operation": 1, "movement": 0, "zone": 1, "site": 1}

    (tmp_path / "g").mkdir()
    (tmp_path / "k").mkdir()
    with other_cell(tmp_path / "g") as (by_geojson, gkey), other_cell(tmp_path / "k") as (by_kml, kkey):
        dry = by_kml.post("/v1/import", json={"kml": kml, "dry_run": True}, headers=auth(kkey))
        assert dry.status_code == 200, dry.text
        assert (dry.json()["dry_run"], dry.json()["counts"], dry.json()["skipped"]) == (True, counts, [])
        assert {k: len(v) for k, v in dry.json()["stored"].items()} == counts  # what the import would make
        by_query = by_kml.post("/v1/import", params={"dry_run": "true"}, json={"kml": kml}, headers=auth(kkey))
        assert by_query.status_code == 200 and by_query.json()["counts"] == counts
        assert by_kml.get("/v1/export", headers=auth(kkey)).json()["features"] == []

        once = auth(kkey, **{"Idempotency-Key": "kml-1"})
        done = by_kml.post("/v1/import", json={"kml": kml}, headers=once)
        assert done.status_code == 201, done.text
        assert {k: len(v) for k, v in done.json()["stored"].items()} == counts and done.json()["receipt"]["signature"]
        again = by_kml.post("/v1/import", json={"kml": kml}, headers=once)
        assert again.json() == done.json() and again.headers["Idempotent-Replayed"] == "true"

        assert by_geojson.post("/v1/import", json=geojson, headers=auth(gkey)).status_code == 201
        from_kml = content(by_kml.get("/v1/export", headers=auth(kkey)).json())
        assert from_kml == content(by_geojson.get("/v1/export", headers=auth(gkey)).json()) == content(geojson)


GOOGLE_EARTH = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document><name>drone survey.kml</name>
 <Placemark>
  <name>Survey</name>
  <description><![CDATA[<p>Mapping flight</p>]]></description>
  <TimeSpan><begin>2026-11-23T08:00:00Z</begin><end>2026-11-23T10:00:00Z</end></TimeSpan>
  <ExtendedData>
   <Data name="kind"><value>air</value></Data>
   <Data name="lower_m"><value>0</value></Data>
   <Data name="upper_m"><value>120</value></Data>
  </ExtendedData>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>
   40.0,35.0,0 40.05,35.0,0 40.05,35.05,0 40.0,35.05,0 40.0,35.0,0
  </coordinates></LinearRing></outerBoundaryIs></Polygon>
 </Placemark>
</Document></kml>
"""


def test_a_google_earth_document_imports(client, parties):
    alpha = parties["alpha"][1]
    r = client.post("/v1/import", json={"kml": GOOGLE_EARTH}, headers=auth(alpha))
    assert r.status_code == 201, r.text
    [op_id] = r.json()["stored"]["operation"]
    op = client.get(f"/v1/operations/{op_id}", headers=auth(alpha)).json()
    assert op["title"] == "Survey" and op["kind"] == "air"
    [v] = op["volumes"]
    assert v["altitude"]["upper_m"] == 120 and v["window"]["start"] == "2026-11-23T08:00:00Z"
    assert v["footprint"]["coordinates"][0][2] == [40.05, 35.05]


def bad_bodies() -> list[tuple[Any, set[tuple[str, str]]]]:
    """Bad KML, and good KML of a bad import; the good placemark next to a bad one is not stored either."""
    bare = GOOGLE_EARTH.replace("<TimeSpan>", "<!-- <TimeSpan>").replace("</TimeSpan>", "</TimeSpan> -->")
    placemark = GOOGLE_EARTH[GOOGLE_EARTH.index("<Placemark>") : GOOGLE_EARTH.index("</Placemark>") + 12]

    def and_then(other: str) -> str:
        return GOOGLE_EARTH.replace("</Document>", other + "</Document>")

    return [
        (
            and_then(placemark.replace("<Polygon>", "<Model/><Polygon>")),
            {("placemarks[1].geometry", "unsupported_geometry")},
        ),
        (
            and_then("<Placemark><name>Area 5</name><Point><coordinates>40,35</coordinates></Point></Placemark>"),
            {
                ("features[1].properties.start", "invalid_time"),
                ("features[1].properties.lower_m", "invalid_number"),
                ("features[1].properties.radius_m", "required"),  # a bare Point names its missing radius
            },
        ),
        (GOOGLE_EARTH.replace("</Placemark>", ""), {("kml", "invalid_xml")}),
        (
            GOOGLE_EARTH.replace("<kml ", '<!DOCTYPE kml [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;">]>\n<kml ', 1),
            {("kml", "doctype_not_allowed")},
        ),
        (
            GOOGLE_EARTH.replace("<Polygon>", "<gx:Track><when>2026-11-23T08:00:00Z</when></gx:Track><Polygon>"),
            {("placemarks[0].geometry", "unsupported_geometry")},
        ),
        (
            GOOGLE_EARTH.replace("40.05,35.05,0", "40.05,95.05,0"),
            {("placemarks[0].geometry.outerBoundaryIs.coordinates[2]", "out_of_range")},
        ),
        (bare, {("features[0].properties.start", "invalid_time")}),
        ("<gpx/>", {("kml", "not_kml")}),
    ]


@pytest.mark.parametrize(("text", "errors"), bad_bodies())
def test_bad_kml_is_a_422_by_place_and_stores_nothing(client, parties, text, errors):
    alpha = parties["alpha"][1]
    r = client.post("/v1/import", json={"kml": text}, headers=auth(alpha))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_failed"
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} == errors
    assert client.get("/v1/export", headers=auth(alpha)).json()["features"] == []


def test_the_kml_body_is_checked(client, parties):
    alpha = parties["alpha"][1]
    r = client.post("/v1/import", json={"kml": 5, "dry_run": "yes", "type": "x"}, headers=auth(alpha))
    assert r.status_code == 422
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} == {
        ("kml", "invalid_value"),
        ("dry_run", "invalid_value"),
        ("type", "unknown_field"),
    }
    line = client.post("/v1/import", json={"kml": "<kml>\n<Document>\n</kml>"}, headers=auth(alpha)).json()
    [e] = line["errors"]
    assert e["code"] == "invalid_xml" and "line 3" in e["message"]
    observer = client.post("/v1/import", json={"kml": GOOGLE_EARTH}, headers=auth(parties["watcher"][1]))
    assert observer.status_code == 403
