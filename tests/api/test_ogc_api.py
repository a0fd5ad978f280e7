"""/ogc, OGC API - Features (docs/gis.md), in process on both backends: need-to-know equal to /v1 for every
layer and caller, the landing page, conformance, the OpenAPI 3.0 document, the real shapes of circles and
corridors, and the query parameters (bbox, datetime, limit and next links), bad ones refused with 400."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
import shapely
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV30SpecValidator

from deconfliction.api import ogc as ogc_routes
from deconfliction.api.app import create_app
from deconfliction.domain.geo import geodesic_distance
from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from tests.api import ogc_scene
from tests.api.contract_check import checked
from tests.api.ogc_scene import CALLERS, LAYERS, Scene, rfc3339
from tests.conftest import T0, FakeClock, make_postgres_database

ROUTES = (
    "/ogc",
    "/ogc/api",
    "/ogc/conformance",
    "/ogc/collections",
    "/ogc/collections/operations",
    "/ogc/collections/operations/items",
    "/ogc/collections/operations/items/op_x",
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cell(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Scene]]:
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('ogc') / 'ogc.db'}", None
    else:
        url, drop = make_postgres_database()
    store = open_store(url)
    try:
        rt = Runtime(store, clock=FakeClock())
        _, key = create_party(rt, None, "Coordination Cell", Role.COORDINATOR)
        with TestClient(checked(create_app(runtime=rt))) as client:
            yield client, ogc_scene.build(client, key, T0)
    finally:
        store.close()
        if drop is not None:
            drop()


def items(client: TestClient, scene: Scene, who: str, layer: str, **params: Any) -> dict[str, Any]:
    r = client.get(f"/ogc/collections/{layer}/items", params=params, headers=scene.auth(who))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    body: dict[str, Any] = r.json()
    return body


def ids(client: TestClient, scene: Scene, who: str, layer: str, **params: Any) -> set[str]:
    return {f["id"] for f in items(client, scene, who, layer, **params)["features"]}


def refused(client: TestClient, scene: Scene, path: str, parameter: str, **params: Any) -> None:
    r = client.get(path, params=params, headers=scene.auth("alpha"))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_query"
    assert r.json()["errors"][0]["field"] == parameter


# ------------------------------------------------------------------------------------------ need-to-know


@pytest.mark.parametrize("who", CALLERS)
def test_every_layer_holds_exactly_what_v1_lists_for_the_caller(cell: tuple[TestClient, Scene], who: str) -> None:
    client, scene = cell
    expected = ogc_scene.v1_ids(client, scene, who)
    for layer in LAYERS:
        assert ogc_scene.ogc_ids(client, scene, who, layer) == expected[layer], layer


def test_a_party_sees_its_own_plans_and_nothing_of_another_partys(cell: tuple[TestClient, Scene]) -> None:
    client, scene = cell
    i = scene.ids
    assert ids(client, scene, "alpha", "operations") == {i["A"], i["C"]}
    assert ids(client, scene, "bravo", "operations") == {i["B"], i["M"]}
    assert ids(client, scene, "cell", "operations") == {i["A"], i["B"], i["C"], i["M"], i["D"]}
    assert ids(client, scene, "charlie", "operations") == {i["D"]}
    assert ids(client, scene, "bravo", "movements") == ids(client, scene, "cell", "movements") == {i["M"]}
    for who in ("watcher", "auditor"):
        assert not ids(client, scene, who, "operations") | ids(client, scene, who, "conflicts")
        assert not ids(client, scene, who, "lines")
    assert ids(client, scene, "alpha", "zones") == {i["alpha-zone"]}  # bravo's proposal is not agreed
    # AB for alpha and bravo, MD for bravo and charlie; alpha is told its own operation and bravo's name
    (conflict,) = items(client, scene, "alpha", "conflicts")["features"]
    assert conflict["properties"]["operation"] == i["A"]
    assert conflict["properties"]["counterpart"] == "Bravo Force"
    (other,) = items(client, scene, "charlie", "conflicts")["features"]
    assert (other["properties"]["operation"], other["properties"]["counterpart"]) == (i["D"], "Bravo Force")
    assert (
        ids(client, scene, "bravo", "conflicts")
        == ids(client, scene, "cell", "conflicts")
        == {conflict["id"], other["id"]}
    )
    everything = b"".join(
        client.get(f"/ogc/collections/{layer}/items", headers=scene.auth("alpha")).content for layer in LAYERS
    )
    assert i["B"].encode() not in everything
    assert i["M"].encode() not in everything
    assert i["D"].encode() not in everything
    assert other["id"].encode() not in everything
    theirs = client.get(f"/ogc/collections/operations/items/{i['B']}", headers=scene.auth("alpha"))
    missing = client.get("/ogc/collections/operations/items/op_00000000000000000000000000", headers=scene.auth("alpha"))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["code"] == missing.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_needs_a_valid_key(cell: tuple[TestClient, Scene], path: str) -> None:
    client, _ = cell
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        r = client.get(path, headers=headers)
        assert r.status_code == 401, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"


# ------------------------------------------------------------------------------------ the API's documents


def test_the_landing_page_links_the_definition_conformance_and_data(cell: tuple[TestClient, Scene]) -> None:
    client, scene = cell
    for params in ({}, {"f": "json"}):
        r = client.get("/ogc", params=params, headers=scene.auth("alpha"))
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
    links = {x["rel"]: x for x in r.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    for rel in ("service-desc", "conformance", "data"):
        assert client.get(links[rel]["href"], headers=scene.auth("alpha")).status_code == 200
    conformance = client.get("/ogc/conformance", headers=scene.auth("alpha")).json()["conformsTo"]
    for cls in ("core", "geojson", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{cls}" in conformance
    refused(client, scene, "/ogc", "f", f="xml")
    refused(client, scene, "/ogc/collections", "f", f="html")


def test_the_api_definition_is_valid_openapi_3_0_and_states_the_page_sizes(cell: tuple[TestClient, Scene]) -> None:
    client, scene = cell
    r = client.get("/ogc/api", headers=scene.auth("alpha"))
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.0.")
    validate(doc, cls=OpenAPIV30SpecValidator)
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (100, 500)
    assert set(doc["paths"]["/collections/{collectionId}"]["get"]["parameters"][0]["schema"]["enum"]) == set(LAYERS)
    served = {route.path.removeprefix("/ogc") or "/" for route in ogc_routes.router.routes}  # type: ignore[attr-defined]
    assert set(doc["paths"]) == {
        p.replace("{collection_id}", "{collectionId}").replace("{feature_id}", "{featureId}") for p in served
    }
    v1 = client.get("/v1/openapi.json").json()
    assert not [p for p in v1["paths"] if p.startswith("/ogc")]


def test_collections_state_their_extent_as_the_caller_sees_it(cell: tuple[TestClient, Scene]) -> None:
    client, scene = cell
    body = client.get("/ogc/collections", headers=scene.auth("alpha")).json()
    found = {c["id"]: c for c in body["collections"]}
    assert list(found) == list(LAYERS)
    ops = found["operations"]
    lon0, lat0, lon1, lat1 = ops["extent"]["spatial"]["bbox"][0]
    assert (lon0, lat0) == (40.0, 35.0)  # A's corner
    assert 44.02 < lon1 < 44.03  # C: 2 km east of 44 E
    assert 36.01 < lat1 < 36.02  # and 2 km north of 36 N
    assert ops["extent"]["temporal"]["interval"] == [[rfc3339(T0), rfc3339(T0 + timedelta(hours=7))]]
    assert "extent" not in found["movements"]  # alpha has none
    assert ops["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    one = client.get("/ogc/collections/operations", headers=scene.auth("alpha")).json()
    assert one == ops
    assert {x["rel"] for x in one["links"]} == {"self", "items"}
    assert client.get("/ogc/collections/nothing", headers=scene.auth("alpha")).status_code == 404
    assert client.get("/ogc/collections/nothing/items", headers=scene.auth("alpha")).status_code == 404


# ------------------------------------------------------------------------------------------------ shapes


def _distances(geometry: dict[str, Any], lon: float, lat: float) -> list[float]:
    ring = geometry["coordinates"][0]
    return [float(geodesic_distance(lon, lat, p[0], p[1])) for p in ring]


def test_circles_and_corridors_are_served_as_the_polygons_they_cover(cell: tuple[TestClient, Scene]) -> None:
    client, scene = cell
    c = client.get(f"/ogc/collections/operations/items/{scene.ids['C']}", headers=scene.auth("alpha"))
    assert c.status_code == 200
    assert c.headers["content-type"] == "application/geo+json"
    circle = c.json()
    assert circle["geometry"]["type"] == "Polygon"
    assert all(abs(d - 2000) < 1 for d in _distances(circle["geometry"], 44.0, 36.0))
    assert (circle["properties"]["footprint"], circle["properties"]["radius_m"]) == ("circle", 2000)
    assert circle["properties"]["party"] == "Alpha Force"
    assert circle["properties"]["start"] == rfc3339(T0 + timedelta(hours=5))
    (movement,) = items(client, scene, "bravo", "movements")["features"]
    corridor = shapely.geometry.shape(movement["geometry"])
    assert movement["properties"]["half_width_m"] == 300
    assert corridor.contains(shapely.Point(45.1, 36.05))  # on the route
    assert not corridor.contains(shapely.Point(45.1, 36.08))  # 3 km off it
    (band,) = items(client, scene, "alpha", "bands")["features"]
    assert band["id"] == scene.ids["River"]
    assert shapely.geometry.shape(band["geometry"]).contains(shapely.Point(42.105, 36.1))  # 450 m east
    assert not shapely.geometry.shape(band["geometry"]).contains(shapely.Point(42.115, 36.1))  # 1,350 m
    sites = {f["id"]: f for f in items(client, scene, "alpha", "sites")["features"]}
    hospital = sites[scene.ids["hospital"]]
    assert all(abs(d - 500) < 1 for d in _distances(hospital["geometry"], 43.0, 36.0))
    assert sites[scene.ids["warehouse"]]["geometry"]["type"] == "Polygon"
    for layer in LAYERS:  # an attribute table: no nested objects
        for f in items(client, scene, "cell", layer)["features"]:
            assert all(not isinstance(v, dict | list) for v in f["properties"].values()), (layer, f["properties"])


# ----------------------------------------------------------------------------------------------- queries


def test_bbox_selects_what_meets_the_box(cell: tuple[TestClient, Scene]) -> None:
    client, scene = cell
    i = scene.ids
    assert ids(client, scene, "alpha", "operations", bbox="39.9,34.9,40.2,35.2") == {i["A"]}
    assert ids(client, scene, "alpha", "operations", bbox="44.01,35.99,45,37") == {i["C"]}  # inside the circle
    assert ids(client, scene, "alpha", "operations", bbox="44.03,35.9,45,37") == set()  # 2.7 km east of it
    assert ids(client, scene, "cell", "operations", bbox="39,34,46,37") == {i["A"], i["B"], i["C"], i["M"], i["D"]}
    assert ids(client, scene, "cell", "operations", bbox="170,-10,-170,10") == set()  # across the antimeridian
    path = "/ogc/collections/operations/items"
    refused(client, scene, path, "bbox", bbox="39,34,0,46,37,3000")
    refused(client, scene, path, "bbox", bbox="39,34,46")
    refused(client, scene, path, "bbox", bbox="39,west,46,37")
    refused(client, scene, path, "bbox", bbox="39,37,46,34")


def test_datetime_selects_what_meets_the_instant_or_interval(cell: tuple[TestClient, Scene]) -> None:
    client, scene = cell
    i = scene.ids

    def at(h: float) -> str:
        return rfc3339(T0 + timedelta(hours=h))

    assert ids(client, scene, "alpha", "operations", datetime=at(1)) == {i["A"]}
    assert ids(client, scene, "alpha", "operations", datetime=at(2)) == set()  # A's window is [0 h, 2 h)
    assert ids(client, scene, "alpha", "operations", datetime=at(6)) == {i["C"]}
    assert ids(client, scene, "alpha", "operations", datetime=f"{at(3)}/{at(4)}") == set()
    assert ids(client, scene, "alpha", "operations", datetime=f"{at(2)}/{at(5)}") == {i["C"]}  # closed
    assert ids(client, scene, "alpha", "operations", datetime=f"../{at(1)}") == {i["A"]}
    assert ids(client, scene, "alpha", "operations", datetime=f"{at(3)}/..") == {i["C"]}
    assert ids(client, scene, "alpha", "operations", datetime=f"{at(3)}/") == {i["C"]}
    assert len(ids(client, scene, "alpha", "sites", datetime=at(-1000))) == 2  # sites have no time
    path = "/ogc/collections/operations/items"
    refused(client, scene, path, "datetime", datetime="yesterday")
    refused(client, scene, path, "datetime", datetime=f"{at(4)}/{at(3)}")
    refused(client, scene, path, "datetime", datetime="../..")
    refused(client, scene, path, "datetime", datetime="2026-11-23T08:00:00")  # no offset


def test_limit_pages_with_next_links(cell: tuple[TestClient, Scene]) -> None:
    client, scene = cell
    seen: list[str] = []
    page = items(client, scene, "cell", "operations", limit=1)
    while True:
        assert (page["numberMatched"], page["numberReturned"]) == (5, len(page["features"])) == (5, 1)
        assert page["timeStamp"].endswith("Z")
        seen += [f["id"] for f in page["features"]]
        following = [x["href"] for x in page["links"] if x["rel"] == "next"]
        if not following:
            break
        r = client.get(following[0], headers=scene.auth("cell"))
        assert r.status_code == 200
        page = r.json()
    assert sorted(seen) == seen and len(set(seen)) == 5
    both = items(client, scene, "cell", "operations", limit=1, bbox="39.9,34.9,40.2,35.2")
    (nxt,) = [x["href"] for x in both["links"] if x["rel"] == "next"]
    assert "bbox=" in nxt  # the next page keeps the filter
    assert both["numberMatched"] == 2
    everything = items(client, scene, "cell", "operations", limit=100000)  # above the maximum: the maximum
    assert everything["numberReturned"] == 5
    assert not [x for x in everything["links"] if x["rel"] == "next"]
    path = "/ogc/collections/operations/items"
    refused(client, scene, path, "limit", limit=0)
    refused(client, scene, path, "limit", limit="ten")
    refused(client, scene, path, "offset", offset=-1)
    refused(client, scene, path, "color", color="red")


def test_an_item_reads_as_in_the_listing(cell: tuple[TestClient, Scene]) -> None:
    client, scene = cell
    for layer in LAYERS:
        for f in items(client, scene, "cell", layer)["features"]:
            r = client.get(
                f"/ogc/collections/{layer}/items/{f['id']}", params={"f": "json"}, headers=scene.auth("cell")
            )
            assert r.status_code == 200
            one = orjson.loads(r.content)
            assert {x["rel"] for x in one.pop("links")} == {"self", "collection"}
            assert one == f
