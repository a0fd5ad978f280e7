"""Need-to-know over HTTP.

alpha flies an east-west bar, bravo a north-south bar and, far away, a second volume; the bars cross.
Each party reads its own operations only. In the conflict each sees of the other side only the overlap
region (around the crossing), the common window, the common altitude band and the separations: never the
other operation's id, footprint, other volumes, window, altitude band, priority or title. Every response
that carries the conflict is checked, on the serialised JSON. The coordinator sees both sides; a party
that is not involved, an observer and an auditor see nothing of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deconfliction.domain.party import Party, Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from tests.conftest import auth
from tests.shapes import circle, members

PROBLEM = "application/problem+json"


def polygon(*corners: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(c) for c in (*corners, corners[0])]]}


def volume(footprint: dict[str, Any], lo: float, hi: float, start: str, end: str) -> dict[str, Any]:
    return {
        **members(footprint),
        "altitude": {"lower_m": lo, "upper_m": hi},
        "window": {"start": f"2026-11-23T{start}:00Z", "end": f"2026-11-23T{end}:00Z"},
    }


# the bars cross over 40.0-40.1 E, 35.0-35.1 N; every corner is 90 km or more from the crossing
ALPHA_BAR = polygon((39.0, 35.0), (41.0, 35.0), (41.0, 35.1), (39.0, 35.1))
BRAVO_BAR = polygon((40.0, 34.0), (40.1, 34.0), (40.1, 36.0), (40.0, 36.0))
BRAVO_ELSEWHERE = circle([50.0, 30.0], 5000.0)

PLANS: dict[str, dict[str, Any]] = {
    "alpha": {
        "kind": "air",
        "priority": 10,
        "title": "ALPHA-SECRET-TITLE",
        "volumes": [volume(ALPHA_BAR, 1000, 3000, "08:00", "11:00")],
    },
    "bravo": {
        "kind": "air",
        "priority": 77,
        "title": "BRAVO-SECRET-TITLE",
        "volumes": [
            volume(BRAVO_ELSEWHERE, 0, 9000, "06:00", "20:00"),
            volume(BRAVO_BAR, 2000, 4000, "09:00", "12:00"),
        ],
    },
}
OVERLAP_WINDOW = {"start": "2026-11-23T09:00:00Z", "end": "2026-11-23T11:00:00Z"}
OVERLAP_ALTITUDE = {"lower_m": 2000.0, "upper_m": 3000.0}
# what each side may see of the other's windows: only the common part; these instants are the other's own
PRIVATE_TIMES = {
    "alpha": ["2026-11-23T08:00:00Z"],
    "bravo": ["2026-11-23T06:00:00Z", "2026-11-23T12:00:00Z", "2026-11-23T20:00:00Z"],
}
PARTY_VIEW_KEYS = {
    "id",
    "kind",
    "state",
    "version",
    "rule",
    "region",
    "window",
    "altitude",
    "min_horizontal_m",
    "min_vertical_m",
    "min_time_s",
    "created_at",
    "updated_at",
    "operation",
    "token",
    "counterpart",
    "encounters",
}
ENCOUNTER_KEYS = {"region", "window", "altitude", "horizontal_m", "vertical_m", "time_s", "own_volume"}


def other(name: str) -> str:
    return "bravo" if name == "alpha" else "alpha"


def positions(obj: Any) -> Iterator[tuple[float, float]]:
    """Every [lon, lat(, alt)] position anywhere in a JSON value."""
    if isinstance(obj, list):
        if 2 <= len(obj) <= 3 and all(isinstance(x, int | float) and not isinstance(x, bool) for x in obj):
            yield (float(obj[0]), float(obj[1]))
        else:
            for x in obj:
                yield from positions(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from positions(x)


def all_keys(obj: Any) -> set[str]:
    if isinstance(obj, list):
        return set().union(*(all_keys(x) for x in obj)) if obj else set()
    if isinstance(obj, dict):
        return set(obj).union(*(all_keys(x) for x in obj.values()))
    return set()


def bands(obj: Any) -> list[dict[str, Any]]:
    """Every altitude band anywhere in a JSON value."""
    if isinstance(obj, list):
        return [b for x in obj for b in bands(x)]
    if isinstance(obj, dict):
        own = [obj] if "lower_m" in obj or "upper_m" in obj else []
        return own + [b for x in obj.values() for b in bands(x)]
    return []


def corners(footprint: dict[str, Any]) -> list[tuple[float, float]]:
    if footprint["type"] == "Point":
        return [tuple(footprint["coordinates"])]  # type: ignore[list-item]
    return [tuple(p) for ring in footprint["coordinates"] for p in ring]  # type: ignore[misc]


@pytest.fixture
def scene(client: TestClient, rt: Runtime, parties: dict[str, tuple[Party, str]]) -> dict[str, Any]:
    """alpha declares, then bravo; every response that shows the conflict to either side is kept."""
    keys = {name: key for name, (_, key) in parties.items()}
    a = client.post("/v1/operations", json=PLANS["alpha"], headers=auth(keys["alpha"]))
    assert a.status_code == 201, a.text
    b = client.post("/v1/operations", json=PLANS["bravo"], headers=auth(keys["bravo"]))
    assert b.status_code == 201, b.text
    ops = {"alpha": a.json()["operation"], "bravo": b.json()["operation"]}
    [conflict] = b.json()["conflicts"]
    views: dict[str, list[tuple[str, Any]]] = {"alpha": [], "bravo": []}
    views["bravo"].append(("POST response", b))
    for name in ("alpha", "bravo"):
        key = auth(keys[name])
        views[name].append(("list", client.get("/v1/conflicts", headers=key)))
        views[name].append(("list by operation", client.get(f"/v1/conflicts?operation={ops[name]['id']}", headers=key)))
        views[name].append(("get", client.get(f"/v1/conflicts/{conflict['id']}", headers=key)))
        # a revision answers with the conflicts (the conflict's version moves: read before each change)
        revised = client.put(
            f"/v1/operations/{ops[name]['id']}",
            json=PLANS[name],
            headers=auth(keys[name], **{"If-Match": f'"{ops[name]["version"]}"'}),
        )
        views[name].append(("PUT response", revised))
        ops[name] = revised.json()["operation"]
        # planning without the token: the refusal shows the conflict too
        refusal = client.post(
            f"/v1/operations/{ops[name]['id']}/plan",
            headers=auth(keys[name], **{"If-Match": f'"{ops[name]["version"]}"'}),
        )
        assert refusal.status_code == 409
        views[name].append(("409 missing tokens", refusal))
    for label, responses in views.items():
        for what, r in responses:
            assert r.status_code in (200, 201, 409), (label, what, r.text)
    return {"keys": keys, "ops": ops, "conflict": conflict, "views": views, "parties": parties}


def conflict_views(what: str, r: Any) -> list[dict[str, Any]]:
    doc = r.json()
    if what in ("list", "list by operation"):
        return list(doc["items"])
    if what == "get":
        return [doc]
    if what == "409 missing tokens":
        return list(doc["missing"])
    return list(doc["conflicts"])


@pytest.mark.parametrize("viewer", ["alpha", "bravo"])
def test_a_party_sees_only_the_overlap_of_the_other_side(scene: dict[str, Any], viewer: str) -> None:
    them = other(viewer)
    their_op = scene["ops"][them]
    their_party = scene["parties"][them][0]
    their_corners = [c for v in PLANS[them]["volumes"] for c in corners(v["footprint"])]
    assert len(scene["views"][viewer]) >= 5
    for what, r in scene["views"][viewer]:
        text = r.text
        where = f"{viewer}: {what}"
        # nothing that names or describes the other operation
        assert their_op["id"] not in text, where
        assert PLANS[them]["title"] not in text, where
        for instant in PRIVATE_TIMES[them]:
            assert instant not in text, where
        for p in positions(r.json()):
            for c in their_corners:
                assert abs(p[0] - c[0]) > 1e-3 or abs(p[1] - c[1]) > 1e-3, (where, p, c)
        # (a write response also carries the viewer's own operation, whole)
        [view] = conflict_views(what, r)
        assert not {"priority", "title", "sides", "volumes", "footprint", "other_volume"} & all_keys(view), where
        assert set(view) == PARTY_VIEW_KEYS, where
        assert view["operation"] == scene["ops"][viewer]["id"], where
        assert view["counterpart"] == {"party": their_party.id, "party_name": them}, where
        assert view["window"] == OVERLAP_WINDOW, where
        assert view["altitude"] == OVERLAP_ALTITUDE, where
        assert all({k: b[k] for k in ("lower_m", "upper_m")} == OVERLAP_ALTITUDE for b in bands(view)), where
        [encounter] = view["encounters"]
        assert set(encounter) == ENCOUNTER_KEYS, where
        assert encounter["own_volume"] == (0 if viewer == "alpha" else 1), where
        # the region is the neighbourhood of the crossing, not either bar
        lons = [p[0] for p in positions(view["region"])]
        lats = [p[1] for p in positions(view["region"])]
        assert min(lons) > 39.8 and max(lons) < 40.3, where
        assert min(lats) > 34.85 and max(lats) < 35.25, where
        # separations: the bars cross
        assert (view["min_horizontal_m"], view["min_vertical_m"], view["min_time_s"]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("viewer", ["alpha", "bravo"])
def test_a_party_never_reads_the_other_partys_operation(client: TestClient, scene: dict[str, Any], viewer: str) -> None:
    key = auth(scene["keys"][viewer])
    theirs = scene["ops"][other(viewer)]["id"]
    mine = scene["ops"][viewer]["id"]
    r = client.get(f"/v1/operations/{theirs}", headers=key)
    assert (r.status_code, r.headers["content-type"], r.json()["code"]) == (404, PROBLEM, "not_found")
    listed = client.get("/v1/operations", headers=key).json()
    assert [o["id"] for o in listed["items"]] == [mine]
    assert theirs not in client.get("/v1/operations?state=draft&state=planned", headers=key).text
    own = client.get(f"/v1/operations/{mine}", headers=key).json()
    assert own["title"] == PLANS[viewer]["title"]  # its own operation, whole


def test_the_coordinator_sees_both_sides(client: TestClient, scene: dict[str, Any]) -> None:
    key = auth(scene["keys"]["cell"])
    c = client.get(f"/v1/conflicts/{scene['conflict']['id']}", headers=key).json()
    sides = {s["party_name"]: s for s in c["sides"]}
    assert set(sides) == {"alpha", "bravo"}
    for name in ("alpha", "bravo"):
        assert sides[name]["operation"] == scene["ops"][name]["id"]
        assert sides[name]["party"] == scene["parties"][name][0].id
        assert sides[name]["token"]
    assert "counterpart" not in c
    [e] = c["encounters"]
    by_side = {c["sides"][0]["party_name"]: e["volume_a"], c["sides"][1]["party_name"]: e["volume_b"]}
    assert by_side == {"alpha": 0, "bravo": 1}
    listed = client.get("/v1/conflicts", headers=key).json()["items"]
    assert [x["id"] for x in listed] == [scene["conflict"]["id"]]
    # and both operations, whole
    for name in ("alpha", "bravo"):
        op = client.get(f"/v1/operations/{scene['ops'][name]['id']}", headers=key).json()
        assert (op["title"], op["priority"]) == (PLANS[name]["title"], PLANS[name]["priority"])
    assert {o["id"] for o in client.get("/v1/operations", headers=key).json()["items"]} == {
        scene["ops"]["alpha"]["id"],
        scene["ops"]["bravo"]["id"],
    }


@pytest.mark.parametrize("role", [Role.PARTY, Role.OBSERVER, Role.AUDITOR])
def test_others_see_nothing_of_the_conflict(client: TestClient, rt: Runtime, scene: dict[str, Any], role: Role) -> None:
    """A party not involved, an observer and an auditor: no conflict, no operation, and a 404 for either
    that reads exactly like the 404 for an id that does not exist."""
    _, key = create_party(rt, None, f"bystander {role.value}", role)
    headers = auth(key)
    cid = scene["conflict"]["id"]
    assert client.get("/v1/conflicts", headers=headers).json() == {"items": [], "next_cursor": None}
    assert client.get("/v1/operations", headers=headers).json() == {"items": [], "next_cursor": None}

    def same_as_missing(path: str, real: str) -> None:
        fake = real[:3] + "0" * (len(real) - 3)
        r_real = client.get(path.format(real), headers=headers)
        r_fake = client.get(path.format(fake), headers=headers)
        assert r_real.status_code == r_fake.status_code == 404
        assert r_real.text.replace(real, "ID") == r_fake.text.replace(fake, "ID")

    same_as_missing("/v1/conflicts/{}", cid)
    for name in ("alpha", "bravo"):
        same_as_missing("/v1/operations/{}", scene["ops"][name]["id"])
        same_as_missing("/v1/conflicts?operation={}", scene["ops"][name]["id"])
    # the watcher fixture party, too
    watcher = auth(scene["keys"]["watcher"])
    assert client.get("/v1/conflicts", headers=watcher).json()["items"] == []


def test_conflict_filters_do_not_widen_the_view(client: TestClient, scene: dict[str, Any]) -> None:
    """Filtering by state never shows another pair's conflicts: charlie's conflict with bravo stays out of
    alpha's lists, whatever the query."""
    keys = scene["keys"]
    cell = auth(keys["cell"])
    made = client.post("/v1/parties", json={"name": "charlie"}, headers=cell).json()
    charlie = auth(made["api_key"])
    far_south = {
        "kind": "air",
        "volumes": [
            volume(polygon((40.0, 34.1), (40.1, 34.1), (40.1, 34.2), (40.0, 34.2)), 2000, 2500, "09:00", "10:00")
        ],
    }
    r = client.post("/v1/operations", json=far_south, headers=charlie)
    assert r.status_code == 201, r.text
    [theirs] = r.json()["conflicts"]  # with bravo's bar
    assert theirs["counterpart"]["party_name"] == "bravo"
    for query in ("", "?state=open", "?state=resolved", "?limit=1"):
        items = client.get(f"/v1/conflicts{query}", headers=auth(keys["alpha"])).json()["items"]
        assert theirs["id"] not in {c["id"] for c in items}, query
    bravo_items = client.get("/v1/conflicts", headers=auth(keys["bravo"])).json()["items"]
    assert {c["counterpart"]["party_name"] for c in bravo_items} == {"alpha", "charlie"}
    assert len(client.get("/v1/conflicts", headers=cell).json()["items"]) == 2
