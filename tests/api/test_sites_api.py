"""/v1/sites over HTTP: declare (GeoJSON or a position as people write it), bad input by field, versions,
idempotency, the conflicts both sides see, and the CSV import: dry run, a report for every bad row,
all or nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from deconfliction.domain.coordinates import parse_position
from deconfliction.domain.geo import geodesic_distance
from tests.conftest import T0, auth, volume_json
from tests.shapes import circle

UNTIL = (T0 + timedelta(days=30)).isoformat().replace("+00:00", "Z")


def site_body(**over: Any) -> dict[str, Any]:
    body = {
        "name": "Al-Noor hospital",
        "category": "hospital",
        "footprint": {"type": "Point", "coordinates": [40.14, 35.33]},
        "radius_m": 80,
        "accuracy_m": 20,
        "valid_until": UNTIL,
    }
    return {**body, **over}


def convoy(lon: float = 40.14, lat: float = 35.33) -> dict[str, Any]:
    return {"kind": "ground", "volumes": [volume_json(circle([lon, lat], 50), 0, 10)]}


def test_declare_read_list_and_the_conflict_both_sides_see(client, parties):
    agency, force = parties["alpha"][1], parties["bravo"][1]
    op = client.post("/v1/operations", json=convoy(), headers=auth(force)).json()["operation"]
    r = client.post("/v1/sites", json=site_body(), headers=auth(agency))
    assert r.status_code == 201, r.text
    body = r.json()
    site = body["site"]
    assert r.headers["ETag"] == '"1"' and r.headers["Location"] == f"/v1/sites/{site['id']}"
    assert site["footprint"] == {"type": "Point", "coordinates": [40.14, 35.33]}
    assert body["receipt"]["seq"] >= 1 and body["receipt"]["signature"]
    [c] = body["conflicts"]
    assert c["kind"] == "protected_site" and c["operation"] == site["id"]
    assert c["counterpart"]["party_name"] == "bravo" and op["id"] not in r.text
    assert c["rule"]["horizontal_m"] == 1100.0
    theirs = client.get("/v1/conflicts", headers=auth(force)).json()["items"]
    assert [(x["id"], x["operation"]) for x in theirs] == [(c["id"], op["id"])]
    # every party of the cell reads every site (docs/zones-and-sites.md)
    for who in ("alpha", "bravo", "watcher", "cell"):
        listed = client.get("/v1/sites", headers=auth(parties[who][1])).json()["items"]
        assert [s["id"] for s in listed] == [site["id"]]
        assert client.get(f"/v1/sites/{site['id']}", headers=auth(parties[who][1])).json() == site
    cell = client.get(f"/v1/conflicts/{c['id']}", headers=auth(parties["cell"][1])).json()
    assert [s["operation"] for s in cell["sides"]] == [op["id"], site["id"]]


def test_a_position_as_people_write_it(client, parties):
    agency = parties["alpha"][1]
    text = "35°19'48\"N 40°08'24\"E"
    r = client.post("/v1/sites", json=site_body(footprint=None, position=text), headers=auth(agency))
    assert r.status_code == 201, r.text
    lon, lat = r.json()["site"]["footprint"]["coordinates"]
    assert (lon, lat) == parse_position(text).position
    assert r.json()["warnings"] == []
    coarse = client.post("/v1/sites", json=site_body(footprint=None, position="35.3N 40.1E"), headers=auth(agency))
    assert [(w["field"], w["code"]) for w in coarse.json()["warnings"]] == [
        ("position", "precision_coarser_than_accuracy")
    ]
    assert (lon, lat) == pytest.approx((40.14, 35.33), abs=1e-12)


def field_errors(r: Any) -> dict[str, str]:
    assert r.status_code == 422, r.text
    return {e["field"]: e["code"] for e in r.json()["errors"]}


def test_bad_input_names_each_field_and_changes_nothing(client, parties):
    agency = parties["alpha"][1]
    assert field_errors(client.post("/v1/sites", json=site_body(category="castle"), headers=auth(agency))) == {
        "category": "unknown_category"
    }
    both = site_body(position="35.33N 40.14E")
    assert field_errors(client.post("/v1/sites", json=both, headers=auth(agency))) == {
        "footprint": "footprint_or_position"
    }
    bad = site_body(footprint=None, position="99N 40E", valid_until="tomorrow")
    errs = field_errors(client.post("/v1/sites", json=bad, headers=auth(agency)))
    assert set(errs) == {"position.latitude", "valid_until"}
    line = site_body(footprint={"type": "LineString", "coordinates": [[40, 35], [41, 35]]})
    assert field_errors(client.post("/v1/sites", json=line, headers=auth(agency))) == {
        "footprint.type": "invalid_geojson"
    }
    past = site_body(valid_until="2020-01-01T00:00:00Z", radius_m=-1)
    assert field_errors(client.post("/v1/sites", json=past, headers=auth(agency))) == {
        "valid_until": "window_in_past",
        "radius_m": "out_of_range",
    }
    assert client.get("/v1/sites", headers=auth(agency)).json()["items"] == []
    assert field_errors(client.get("/v1/sites", params={"state": "gone"}, headers=auth(agency))) == {
        "state": "invalid_state"
    }
    r = client.post("/v1/sites", json=site_body(), headers=auth(parties["watcher"][1]))
    assert r.status_code == 403


def test_revalidate_and_withdraw_need_the_version_and_the_owner(client, parties, clock):
    agency, force = parties["alpha"][1], parties["bravo"][1]
    site = client.post("/v1/sites", json=site_body(), headers=auth(agency)).json()["site"]
    client.post("/v1/operations", json=convoy(), headers=auth(force))
    path = f"/v1/sites/{site['id']}"
    later = (T0 + timedelta(days=60)).isoformat().replace("+00:00", "Z")
    assert client.post(f"{path}/revalidate", json={"valid_until": later}, headers=auth(agency)).status_code == 428
    r = client.post(f"{path}/revalidate", json={"valid_until": later}, headers=auth(agency, **{"If-Match": '"9"'}))
    assert r.status_code == 412
    r = client.post(f"{path}/withdraw", headers=auth(force, **{"If-Match": '"1"'}))
    assert r.status_code == 403
    r = client.post(f"{path}/revalidate", json={"valid_until": later}, headers=auth(agency, **{"If-Match": '"1"'}))
    assert r.status_code == 200 and r.json()["site"]["valid_until"] == later and r.headers["ETag"] == '"2"'
    clock.advance(days=61)
    due = client.get("/v1/sites", params={"due": "true"}, headers=auth(agency)).json()["items"]
    assert [s["id"] for s in due] == [site["id"]] and due[0]["needs_revalidation"] is True
    r = client.post(f"{path}/withdraw", headers=auth(agency, **{"If-Match": '"2"'}, **{"Idempotency-Key": "w1"}))
    assert r.status_code == 200 and r.json()["site"]["state"] == "withdrawn"
    assert [c["state"] for c in r.json()["conflicts"]] == ["resolved"]
    again = client.post(f"{path}/withdraw", headers=auth(agency, **{"If-Match": '"2"'}, **{"Idempotency-Key": "w1"}))
    assert again.headers.get("Idempotent-Replayed") == "true" and again.content == r.content
    r = client.post(f"{path}/withdraw", headers=auth(agency, **{"If-Match": '"3"'}))
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert client.get("/v1/sites/st_nope", headers=auth(agency)).status_code == 404


def test_likely_duplicates_are_reported(client, parties):
    agency = parties["alpha"][1]
    first = client.post("/v1/sites", json=site_body(), headers=auth(agency)).json()["site"]
    moved = site_body(footprint={"type": "Point", "coordinates": [40.1402, 35.3301]})
    r = client.post("/v1/sites", json=moved, headers=auth(agency))
    d = geodesic_distance(40.14, 35.33, 40.1402, 35.3301)
    assert [(x["site"], x["distance_m"]) for x in r.json()["likely_duplicates"]] == [(first["id"], round(float(d), 1))]


# ------------------------------------------------------------------------------------------- CSV import

GOOD = """name,category,lat,lon,mgrs,radius_m,accuracy_m,valid_until,owner
Al-Noor hospital,hospital,35.33,40.14,,80,20,2027-01-31,alpha
Depot,warehouse,,,37SEV 12345 67890,50,10,2027-01-31,
"""

BAD = """name,category,lat,lon,mgrs,radius_m,accuracy_m,valid_until,owner
Al-Noor hospital,hospital,35.33,40.14,,80,20,2027-01-31,alpha
School,castle,35.40,40.20,,60,10,2027-01-31,
Clinic,hospital,95,40.2,,60,10,2027-01-31,
Shelter,shelter,35.41,40.21,,60,10,2027-01-31,bravo
Old,other,35.42,40.22,,60,10,2020-01-31,
"""


def test_import_dry_run_then_for_real(client, parties):
    agency, force = parties["alpha"][1], parties["bravo"][1]
    client.post("/v1/operations", json=convoy(), headers=auth(force))
    r = client.post("/v1/sites/import", json={"csv": GOOD, "dry_run": True}, headers=auth(agency))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["ok"] is True and report["dry_run"] is True and report["stored"] is False
    assert [row["row"] for row in report["accepted"]] == [2, 3]
    assert client.get("/v1/sites", headers=auth(agency)).json()["items"] == []
    r = client.post("/v1/sites/import", json={"csv": GOOD}, headers=auth(agency))
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["stored"] is True and report["receipt"]["signature"]
    ids = [row["site"] for row in report["accepted"]]
    listed = client.get("/v1/sites", headers=auth(agency)).json()["items"]
    assert sorted(s["id"] for s in listed) == sorted(ids)
    assert [c["kind"] for c in report["conflicts"]] == ["protected_site"]
    assert [c["operation"] for c in report["conflicts"]] == [ids[0]]


def test_every_bad_row_is_reported_and_nothing_is_stored(client, parties):
    agency = parties["alpha"][1]
    r = client.post("/v1/sites/import", json={"csv": BAD}, headers=auth(agency))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["ok"] is False and report["stored"] is False
    refused = {row["row"]: {(e["field"], e["code"]) for e in row["errors"]} for row in report["refused"]}
    assert refused == {
        3: {("category", "unknown_category")},
        4: {("lat", "out_of_range")},
        5: {("owner", "not_the_importer")},
        6: {("valid_until", "expired")},
    }
    assert [row["row"] for row in report["accepted"]] == [2]
    assert client.get("/v1/sites", headers=auth(agency)).json()["items"] == []
    r = client.post("/v1/sites/import", json={"csv": "name,category\n"}, headers=auth(agency))
    assert r.json()["ok"] is False and r.json()["file_errors"]
