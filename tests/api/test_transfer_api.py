"""/v1/export and /v1/import over HTTP: GeoJSON out and back in, dry run, KML out."""

from __future__ import annotations

from tests.api.test_sites_api import site_body
from tests.conftest import auth


def test_export_import_and_kml(client, parties):
    akey = parties["alpha"][1]
    assert client.post("/v1/sites", json=site_body(), headers=auth(akey)).status_code == 201
    r = client.get("/v1/export", headers=auth(akey))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    fc = r.json()
    [site] = fc["features"]
    assert site["properties"]["object"] == "site" and site["properties"]["party"] == "alpha"
    again = client.post("/v1/import", json=fc, headers=auth(akey))  # its own export: nothing new, nothing written
    assert again.status_code == 200 and again.json()["counts"]["site"] == 0 and "receipt" not in again.json()
    assert [n["code"] for n in again.json()["skipped"]] == ["already_stored"]
    del site["properties"]["id"]  # the same feature without its id: a new site
    dry = client.post("/v1/import", params={"dry_run": "true"}, json=fc, headers=auth(akey))
    assert dry.status_code == 200 and dry.json() == {
        "dry_run": True,
        "counts": {"operation": 0, "movement": 0, "zone": 0, "site": 1},
        "stored": {"operation": [], "movement": [], "zone": [], "site": [dry.json()["stored"]["site"][0]]},
        "skipped": [],
        "conflicts": [],
    }
    assert len(client.get("/v1/sites", headers=auth(akey)).json()["items"]) == 1  # the dry run kept nothing
    done = client.post("/v1/import", json=fc, headers=auth(akey))
    assert done.status_code == 201 and len(done.json()["stored"]["site"]) == 1 and done.json()["receipt"]["signature"]
    assert len(client.get("/v1/sites", headers=auth(akey)).json()["items"]) == 2
    kml = client.get("/v1/export", params={"format": "kml"}, headers=auth(akey))
    assert kml.status_code == 200 and kml.headers["content-type"].startswith("application/vnd.google-earth.kml+xml")
    assert kml.text.count("<Placemark>") == 2
    bad = client.post("/v1/import", content=b"{not json", headers=auth(akey, **{"Content-Type": "application/json"}))
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "invalid_json"
    wrong = client.get("/v1/export", params={"format": "shp"}, headers=auth(akey))
    assert wrong.status_code == 422
