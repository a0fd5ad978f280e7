"""The HTTP protocol of operations, in process: create, read, revise, change state, proof of knowledge,
Idempotency-Key, cursor pagination, the OpenAPI document and the health endpoint."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import deconfliction.api
from deconfliction.api.app import create_app
from deconfliction.domain.limits import Limits
from deconfliction.domain.party import Party
from deconfliction.service.runtime import Runtime
from tests.conftest import auth, square, volume_json
from tests.shapes import circle, corridor, members

PROBLEM = "application/problem+json"


def body(*volumes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"kind": "air", "volumes": list(volumes), **extra}


def created(r: Any) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def api_routes() -> list[APIRoute]:
    """Every route of every resource module of the API (each module has one ``router``)."""
    found = []
    for info in pkgutil.iter_modules(deconfliction.api.__path__):
        router = getattr(importlib.import_module(f"deconfliction.api.{info.name}"), "router", None)
        if router is not None:
            found += [r for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema]
    return found


@pytest.fixture
def keys(parties: dict[str, tuple[Party, str]]) -> dict[str, str]:
    return {name: key for name, (_, key) in parties.items()}


def event_count(rt: Runtime) -> int:
    with rt.store.read() as tx:
        return len(tx.events.after(0, 1_000_000))


# ------------------------------------------------------------------------------------------ the basics


def test_post_creates_and_get_reads_it_back(client: TestClient, keys: dict[str, str], parties: Any) -> None:
    sent = body(volume_json(square(40.0, 35.0), lo=100, hi=900), priority=7, title="ISR orbit")
    r = client.post("/v1/operations", json=sent, headers=auth(keys["alpha"]))
    out = created(r)
    op = out["operation"]
    assert out["conflicts"] == []
    assert r.headers["location"] == f"/v1/operations/{op['id']}"
    assert r.headers["etag"] == '"1"'
    assert r.headers["content-type"] == "application/json"
    assert op["id"].startswith("op_")
    assert op["owner"] == parties["alpha"][0].id
    assert (op["state"], op["version"], op["kind"], op["priority"], op["title"]) == ("draft", 1, "air", 7, "ISR orbit")
    assert op["volumes"] == [
        {
            "footprint": square(40.0, 35.0),
            "altitude": {"lower_m": 100.0, "upper_m": 900.0, "reference": "W84"},
            "window": {"start": "2026-11-23T08:00:00Z", "end": "2026-11-23T10:00:00Z"},
        }
    ]

    got = client.get(r.headers["location"], headers=auth(keys["alpha"]))
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json() == op


def test_times_with_offsets_are_stored_in_utc(client: TestClient, keys: dict[str, str]) -> None:
    v = volume_json(square(40.0, 35.0))
    v["window"] = {"start": "2026-11-23T11:00:00+03:00", "end": "2026-11-23T05:30:00-04:30"}
    op = created(client.post("/v1/operations", json=body(v), headers=auth(keys["alpha"])))["operation"]
    assert op["volumes"][0]["window"] == {"start": "2026-11-23T08:00:00Z", "end": "2026-11-23T10:00:00Z"}


def test_every_footprint_form_round_trips(client: TestClient, keys: dict[str, str]) -> None:
    forms = [
        square(40.0, 35.0),
        {"type": "MultiPolygon", "coordinates": [square(41.0, 35.0)["coordinates"], square(41.5, 35.0)["coordinates"]]},
        circle([42.0, 35.0], 500.0),
        corridor([[43.0, 35.0], [43.2, 35.1]], 200.0),
    ]
    op = created(
        client.post("/v1/operations", json=body(*[volume_json(f) for f in forms]), headers=auth(keys["alpha"]))
    )["operation"]
    got = [{k: v[k] for k in ("footprint", "radius_m", "half_width_m") if k in v} for v in op["volumes"]]
    assert got == [members(f) for f in forms]


def test_the_service_s_old_circle_and_corridor_types_are_refused_showing_the_rfc_7946_form(
    client: TestClient, keys: dict[str, str]
) -> None:
    for old, new in (
        ({"type": "Circle", "center": [42.0, 35.0], "radius_m": 500.0}, '"type": "Point"'),
        ({"type": "Corridor", "path": [[43.0, 35.0], [43.2, 35.1]], "half_width_m": 200.0}, '"type": "LineString"'),
    ):
        r = client.post("/v1/operations", json=body(volume_json(old)), headers=auth(keys["alpha"]))
        assert r.status_code == 422, r.text
        [error] = r.json()["errors"]
        assert (error["field"], error["code"]) == ("volumes[0].footprint.type", "not_rfc7946")
        assert new in error["message"]
    # the numbers go with their geometry only; a Point without its radius is refused by name
    for members_, field, code in (
        ({**members(square(40.0, 35.0)), "radius_m": 5.0}, "volumes[0].radius_m", "not_with_this_type"),
        ({"footprint": circle([42.0, 35.0], 5.0)["footprint"]}, "volumes[0].radius_m", "required"),
        ({**corridor([[43.0, 35.0], [43.2, 35.1]], 5.0), "radius_m": 5.0}, "volumes[0].radius_m", "not_with_this_type"),
    ):
        r = client.post("/v1/operations", json=body(volume_json(members_)), headers=auth(keys["alpha"]))
        assert r.status_code == 422, r.text
        assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [(field, code)]


def test_put_with_if_match_bumps_the_version(client: TestClient, keys: dict[str, str]) -> None:
    op = created(client.post("/v1/operations", json=body(volume_json(square(40, 35))), headers=auth(keys["alpha"])))
    url = f"/v1/operations/{op['operation']['id']}"
    r = client.put(
        url,
        json=body(volume_json(square(41, 35)), priority=3, title="moved", kind="ground"),
        headers=auth(keys["alpha"], **{"If-Match": '"1"'}),
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.headers["location"] == url
    new = r.json()["operation"]
    assert (new["version"], new["priority"], new["title"], new["kind"]) == (2, 3, "moved", "ground")
    assert new["volumes"][0]["footprint"] == square(41, 35)
    assert new["ovn"] != op["operation"]["ovn"]  # every version has a new token
    assert new["created_at"] == op["operation"]["created_at"]
    got = client.get(url, headers=auth(keys["alpha"]))
    assert got.headers["etag"] == '"2"'
    assert got.json() == new
    # weak and bare forms of the ETag are accepted too
    for n, if_match in ((2, 'W/"2"'), (3, "3")):
        r = client.put(
            url, json=body(volume_json(square(41, 35))), headers=auth(keys["alpha"], **{"If-Match": if_match})
        )
        assert r.status_code == 200, r.text
        assert r.json()["operation"]["version"] == n + 1


def test_transitions_with_if_match(client: TestClient, keys: dict[str, str]) -> None:
    op = created(client.post("/v1/operations", json=body(volume_json(square(40, 35))), headers=auth(keys["alpha"])))
    url = f"/v1/operations/{op['operation']['id']}"
    for version, (verb, state) in enumerate((("plan", "planned"), ("activate", "active"), ("end", "ended")), start=1):
        r = client.post(f"{url}/{verb}", headers=auth(keys["alpha"], **{"If-Match": f'"{version}"'}))
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == f'"{version + 1}"'
        assert (r.json()["operation"]["state"], r.json()["operation"]["version"]) == (state, version + 1)
    assert client.get(url, headers=auth(keys["alpha"])).json()["state"] == "ended"
    # an ended operation can change no more
    r = client.post(f"{url}/cancel", headers=auth(keys["alpha"], **{"If-Match": '"4"'}))
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    r = client.put(url, json=body(volume_json(square(40, 35))), headers=auth(keys["alpha"], **{"If-Match": '"4"'}))
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")

    other = created(client.post("/v1/operations", json=body(volume_json(square(45, 35))), headers=auth(keys["alpha"])))
    r = client.post(
        f"/v1/operations/{other['operation']['id']}/cancel",
        json={"known_conflict_tokens": []},
        headers=auth(keys["alpha"], **{"If-Match": '"1"'}),
    )
    assert r.status_code == 200, r.text
    assert r.json()["operation"]["state"] == "cancelled"


def test_only_the_owner_changes_an_operation(client: TestClient, keys: dict[str, str], rt: Runtime) -> None:
    op = created(client.post("/v1/operations", json=body(volume_json(square(40, 35))), headers=auth(keys["alpha"])))
    url = f"/v1/operations/{op['operation']['id']}"
    events = event_count(rt)
    # the coordinator sees it but does not change it: 403; another party does not even see it: 404
    for who, status in (("cell", 403), ("bravo", 404)):
        r = client.put(url, json=body(volume_json(square(41, 35))), headers=auth(keys[who], **{"If-Match": '"1"'}))
        assert r.status_code == status, r.text
        r = client.post(f"{url}/cancel", headers=auth(keys[who], **{"If-Match": '"1"'}))
        assert r.status_code == status, r.text
    assert client.get(url, headers=auth(keys["cell"])).json()["version"] == 1
    assert event_count(rt) == events


def test_list_filters_by_state(client: TestClient, keys: dict[str, str]) -> None:
    a = created(client.post("/v1/operations", json=body(volume_json(square(40, 35))), headers=auth(keys["alpha"])))
    b = created(client.post("/v1/operations", json=body(volume_json(square(45, 35))), headers=auth(keys["alpha"])))
    client.post(f"/v1/operations/{b['operation']['id']}/plan", headers=auth(keys["alpha"], **{"If-Match": '"1"'}))

    def ids(query: str) -> list[str]:
        return [o["id"] for o in client.get(f"/v1/operations{query}", headers=auth(keys["alpha"])).json()["items"]]

    assert ids("?state=draft") == [a["operation"]["id"]]
    assert ids("?state=planned") == [b["operation"]["id"]]
    assert sorted(ids("?state=draft&state=planned")) == sorted([a["operation"]["id"], b["operation"]["id"]])
    assert ids("?state=ended") == []


# --------------------------------------------------------------------------------- proof of knowledge


def test_proof_of_knowledge(client: TestClient, keys: dict[str, str], rt: Runtime, parties: Any) -> None:
    a = created(client.post("/v1/operations", json=body(volume_json(square(40, 35))), headers=auth(keys["alpha"])))
    a_op = a["operation"]
    planned = body(volume_json(square(40.05, 35.05)), state="planned")

    # bravo declares straight to planned over alpha's draft without knowing of it: refused, nothing stored
    events = event_count(rt)
    r = client.post("/v1/operations", json=planned, headers=auth(keys["bravo"]))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == PROBLEM
    doc = r.json()
    assert doc["code"] == "missing_conflict_tokens"
    assert "1 missing" in doc["detail"]
    [missing] = doc["missing"]
    # the conflict as bravo may see it: no id (nothing was stored), no trace of alpha's operation
    assert "id" not in missing
    assert "version" not in missing
    assert missing["counterpart"] == {"party": parties["alpha"][0].id, "party_name": "alpha"}
    assert missing["token"] == a_op["ovn"]
    assert a_op["id"] not in r.text
    assert "sides" not in missing
    assert "operation" not in missing  # bravo's refused operation was never stored: no id to point at
    assert event_count(rt) == events
    assert client.get("/v1/conflicts", headers=auth(keys["alpha"])).json()["items"] == []

    # a wrong token is not enough
    r = client.post("/v1/operations", json={**planned, "known_conflict_tokens": ["guess"]}, headers=auth(keys["bravo"]))
    assert r.status_code == 409
    assert event_count(rt) == events

    # with the token: created, planned, and both sides told
    r = client.post(
        "/v1/operations", json={**planned, "known_conflict_tokens": [missing["token"]]}, headers=auth(keys["bravo"])
    )
    b = created(r)
    assert b["operation"]["state"] == "planned"
    [conflict] = b["conflicts"]
    assert conflict["state"] == "open"
    assert conflict["operation"] == b["operation"]["id"]
    [alpha_view] = client.get("/v1/conflicts", headers=auth(keys["alpha"])).json()["items"]
    assert alpha_view["id"] == conflict["id"]
    assert alpha_view["operation"] == a_op["id"]

    # now alpha needs bravo's token to plan its own: refused without, accepted with
    url = f"/v1/operations/{a_op['id']}/plan"
    r = client.post(url, headers=auth(keys["alpha"], **{"If-Match": '"1"'}))
    assert (r.status_code, r.json()["code"]) == (409, "missing_conflict_tokens")
    assert r.json()["missing"][0]["id"] == conflict["id"]  # a stored conflict is named by its id
    r = client.post(
        url,
        json={"known_conflict_tokens": [alpha_view["token"]]},
        headers=auth(keys["alpha"], **{"If-Match": '"1"'}),
    )
    assert r.status_code == 200, r.text
    assert alpha_view["token"] == b["operation"]["ovn"]

    # alpha's new version changed the token bravo must show: bravo's activation with the old one fails
    url = f"/v1/operations/{b['operation']['id']}/activate"
    r = client.post(
        url, json={"known_conflict_tokens": [missing["token"]]}, headers=auth(keys["bravo"], **{"If-Match": '"1"'})
    )
    assert (r.status_code, r.json()["code"]) == (409, "missing_conflict_tokens")
    [fresh] = client.get("/v1/conflicts", headers=auth(keys["bravo"])).json()["items"]
    assert fresh["token"] != missing["token"]
    r = client.post(
        url, json={"known_conflict_tokens": [fresh["token"]]}, headers=auth(keys["bravo"], **{"If-Match": '"1"'})
    )
    assert r.status_code == 200, r.text
    assert r.json()["operation"]["state"] == "active"


def test_a_conflict_can_be_read_with_its_etag(client: TestClient, keys: dict[str, str]) -> None:
    created(client.post("/v1/operations", json=body(volume_json(square(40, 35))), headers=auth(keys["alpha"])))
    b = created(
        client.post("/v1/operations", json=body(volume_json(square(40.05, 35.05))), headers=auth(keys["bravo"]))
    )
    [c] = b["conflicts"]
    for who in ("alpha", "bravo", "cell"):
        r = client.get(f"/v1/conflicts/{c['id']}", headers=auth(keys[who]))
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == f'"{c["version"]}"'
        assert r.json()["id"] == c["id"]
    # ending one side resolves it
    op_url = f"/v1/operations/{b['operation']['id']}"
    r = client.post(f"{op_url}/cancel", headers=auth(keys["bravo"], **{"If-Match": '"1"'}))
    assert r.status_code == 200
    resolved = client.get(f"/v1/conflicts/{c['id']}", headers=auth(keys["alpha"]))
    assert resolved.json()["state"] == "resolved"
    assert resolved.headers["etag"] == f'"{c["version"] + 1}"'
    states = {
        s: client.get(f"/v1/conflicts?state={s}", headers=auth(keys["alpha"])).json()["items"]
        for s in ("open", "resolved")
    }
    assert states["open"] == []
    assert [x["id"] for x in states["resolved"]] == [c["id"]]


# ------------------------------------------------------------------------------------------ idempotency


def test_idempotency_key_replays_the_first_response(client: TestClient, keys: dict[str, str], rt: Runtime) -> None:
    sent = body(volume_json(square(40, 35)), title="once")
    headers = auth(keys["alpha"], **{"Idempotency-Key": "retry-1"})
    first = client.post("/v1/operations", json=sent, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    events = event_count(rt)
    second = client.post("/v1/operations", json=sent, headers=headers)
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    for h in ("etag", "location", "content-type"):
        assert second.headers[h] == first.headers[h]
    assert event_count(rt) == events
    listed = client.get("/v1/operations", headers=auth(keys["alpha"])).json()["items"]
    assert [o["id"] for o in listed] == [first.json()["operation"]["id"]]

    # the same key for another body is refused, and nothing happens
    r = client.post("/v1/operations", json={**sent, "title": "twice"}, headers=headers)
    assert r.status_code == 409
    assert r.headers["content-type"] == PROBLEM
    assert (r.json()["code"], r.json()["key"]) == ("idempotency_key_reused", "retry-1")
    assert event_count(rt) == events

    # keys belong to a party: bravo's "retry-1" is another key
    r = client.post(
        "/v1/operations",
        json=body(volume_json(square(45, 35))),
        headers=auth(keys["bravo"], **{"Idempotency-Key": "retry-1"}),
    )
    assert r.status_code == 201
    assert "idempotent-replayed" not in r.headers


def test_idempotency_key_on_updates(client: TestClient, keys: dict[str, str], rt: Runtime) -> None:
    op = created(client.post("/v1/operations", json=body(volume_json(square(40, 35))), headers=auth(keys["alpha"])))
    url = f"/v1/operations/{op['operation']['id']}"
    headers = auth(keys["alpha"], **{"If-Match": '"1"', "Idempotency-Key": "plan-it"})
    first = client.post(f"{url}/plan", headers=headers)
    assert first.status_code == 200
    # the retry is not a second transition (which would be 412 or 409): the first answer again
    again = client.post(f"{url}/plan", headers=headers)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (200, "true")
    assert again.content == first.content
    assert client.get(url, headers=auth(keys["alpha"])).json()["version"] == 2
    # the same key on another path is another request
    r = client.post(f"{url}/cancel", headers=auth(keys["alpha"], **{"If-Match": '"2"', "Idempotency-Key": "plan-it"}))
    assert (r.status_code, r.json()["code"]) == (409, "idempotency_key_reused")
    # a refused request stores nothing under its key: after fixing it, the same key works
    put_headers = auth(keys["alpha"], **{"If-Match": '"1"', "Idempotency-Key": "move"})
    r = client.put(url, json=body(volume_json(square(41, 35))), headers=put_headers)
    assert (r.status_code, r.json()["code"]) == (412, "stale_version")
    r = client.put(url, json=body(volume_json(square(41, 35))), headers={**put_headers, "If-Match": '"2"'})
    assert r.status_code == 200, r.text
    assert "idempotent-replayed" not in r.headers


# ------------------------------------------------------------------------------------------- pagination


def _walk(client: TestClient, path: str, key: str, limit: int | None) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {} if limit is None else {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        r = client.get(path, params=params, headers=auth(key))
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor does not advance"


def test_cursor_pagination_over_operations_and_conflicts(client: TestClient, keys: dict[str, str]) -> None:
    # alpha: seven operations side by side; bravo: one over all of them (seven conflicts)
    alpha_ops = [
        created(
            client.post("/v1/operations", json=body(volume_json(square(40 + 0.2 * i, 35))), headers=auth(keys["alpha"]))
        )["operation"]["id"]
        for i in range(7)
    ]
    long_bar = {
        "type": "Polygon",
        "coordinates": [[[40.0, 35.02], [41.5, 35.02], [41.5, 35.05], [40.0, 35.05], [40.0, 35.02]]],
    }
    b = created(client.post("/v1/operations", json=body(volume_json(long_bar)), headers=auth(keys["bravo"])))
    assert len(b["conflicts"]) == 7
    conflict_ids = sorted(c["id"] for c in b["conflicts"])

    for path, key, expected in (
        ("/v1/operations", keys["alpha"], sorted(alpha_ops)),
        ("/v1/conflicts", keys["alpha"], conflict_ids),
        ("/v1/conflicts", keys["bravo"], conflict_ids),
        ("/v1/conflicts", keys["cell"], conflict_ids),
        ("/v1/operations", keys["cell"], sorted([*alpha_ops, b["operation"]["id"]])),
    ):
        for limit in (3, 7, 100):
            pages = _walk(client, path, key, limit)
            flat = [i for page in pages for i in page]
            assert flat == expected, (path, limit)  # all of them, in id order: no gap, no duplicate
            assert all(len(page) == limit for page in pages[:-1])
            assert 1 <= len(pages[-1]) <= limit
    # exactly a page full is one page, without a cursor to an empty next page
    assert len(_walk(client, "/v1/operations", keys["alpha"], 7)) == 1
    # parties page the same way
    assert [i for p in _walk(client, "/v1/parties", keys["alpha"], 1) for i in p] == sorted(
        p["id"] for p in client.get("/v1/parties", headers=auth(keys["alpha"])).json()["items"]
    )


@pytest.fixture
def small_pages(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=replace(rt, limits=Limits(page_size_max=2)))) as c:
        yield c


def test_default_page_size_follows_the_setting(small_pages: TestClient, keys: dict[str, str]) -> None:
    for i in range(5):
        created(
            small_pages.post("/v1/operations", json=body(volume_json(square(40 + i, 35))), headers=auth(keys["alpha"]))
        )
    pages = _walk(small_pages, "/v1/operations", keys["alpha"], None)
    assert [len(p) for p in pages] == [2, 2, 1]


def test_a_new_item_behind_the_cursor_does_not_shift_pages(
    client: TestClient, keys: dict[str, str], rt: Runtime
) -> None:
    """Cursors are the last id seen, not offsets: items created while paging appear (ids grow with time)
    and nothing is repeated or skipped."""
    ids = [
        created(client.post("/v1/operations", json=body(volume_json(square(40 + i, 35))), headers=auth(keys["alpha"])))[
            "operation"
        ]["id"]
        for i in range(4)
    ]
    first = client.get("/v1/operations", params={"limit": 2}, headers=auth(keys["alpha"])).json()
    assert [o["id"] for o in first["items"]] == sorted(ids)[:2]
    late = created(client.post("/v1/operations", json=body(volume_json(square(46, 35))), headers=auth(keys["alpha"])))[
        "operation"
    ]["id"]
    rest: list[str] = []
    cursor = first["next_cursor"]
    while cursor:
        page = client.get("/v1/operations", params={"limit": 2, "cursor": cursor}, headers=auth(keys["alpha"])).json()
        rest += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
    assert [o["id"] for o in first["items"]] + rest == sorted([*ids, late])


# ------------------------------------------------------------------------------------- parties, openapi


def test_coordinator_creates_a_party_whose_key_works(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post("/v1/parties", json={"name": "Aid Agency", "role": "party"}, headers=auth(keys["cell"]))
    out = created(r)
    assert out["party"]["name"] == "Aid Agency"
    assert out["party"]["role"] == "party"
    assert out["api_key"].startswith("dk_")
    # a Location, if one is given, must lead somewhere
    if "location" in r.headers:
        assert client.get(r.headers["location"], headers=auth(keys["cell"])).status_code == 200
    me = client.get("/v1/parties/me", headers=auth(out["api_key"]))
    assert me.json() == out["party"]
    listed = client.get("/v1/parties", headers=auth(keys["alpha"])).json()["items"]
    assert out["party"] in listed
    assert all("api_key" not in p and "key_hash" not in p for p in listed)
    # the key works for declaring
    created(client.post("/v1/operations", json=body(volume_json(square(40, 35))), headers=auth(out["api_key"])))


def test_openapi_lists_every_route_and_the_footprint_schema(client: TestClient) -> None:
    r = client.get("/v1/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    # a path parameter's converter ({track_id:path}: ids may hold a slash) is not part of the documented path
    routes = {(re.sub(r":\w+}", "}", route.path), method) for route in api_routes() for method in route.methods}
    assert documented == routes
    assert {
        ("/v1/operations", "POST"),
        ("/v1/operations/{op_id}", "PUT"),
        ("/v1/operations/{op_id}/plan", "POST"),
        ("/v1/operations/{op_id}/activate", "POST"),
        ("/v1/operations/{op_id}/end", "POST"),
        ("/v1/operations/{op_id}/cancel", "POST"),
        ("/v1/conflicts/{conflict_id}", "GET"),
        ("/v1/health", "GET"),
    } <= documented
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (path, method)
    footprint = spec["components"]["schemas"]["VolumeIn"]["properties"]["footprint"]
    assert [f["title"] for f in footprint["oneOf"]] == ["Polygon", "MultiPolygon", "Point", "LineString"]
    assert "geodesic" in footprint["description"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/v1/docs" not in spec["paths"]
    assert client.get("/v1/docs").status_code == 200


def test_health(client: TestClient, rt: Runtime) -> None:
    r = client.get("/v1/health")  # no key needed
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "backend": rt.store.backend,
        "version": r.json()["version"],
        "database": "reachable",
    }
    assert rt.store.backend in ("sqlite", "postgresql")


def test_health_reports_a_database_it_cannot_read(client: TestClient, rt: Runtime) -> None:
    class Broken:
        backend = rt.store.backend

        def read(self) -> Any:
            raise ConnectionError("database gone")

    with TestClient(create_app(runtime=replace(rt, store=Broken()))) as c:
        r = c.get("/v1/health")
    assert r.status_code == 503
    assert r.json()["status"] == "degraded"
    assert r.json()["database"] == "ConnectionError: database gone"


def test_an_unsigned_write_checks_its_key_once(
    client: TestClient, parties: dict[str, tuple[Party, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edge looks the key up to tell an unsigned write of a party with a signing key apart; the write
    then runs as that party without checking the key again in the same request."""
    import deconfliction.api.http as http

    _, key = parties["alpha"]
    checks = []
    real, real_in = http.check_active, http.check_active_in
    monkeypatch.setattr(http, "check_active", lambda rt, digest: checks.append(digest) or real(rt, digest))
    monkeypatch.setattr(  # an unsigned write's recheck, in the read of its signature rule
        http, "check_active_in", lambda tx, rt, digest: checks.append(digest) or real_in(tx, rt, digest)
    )
    for n in range(3):
        r = client.post("/v1/operations", json=body(volume_json(square(10 + n, 10))), headers=auth(key))
        assert r.status_code == 201, r.text
    assert len(checks) == 2  # the first request looked the key up, the next two rechecked it once each
