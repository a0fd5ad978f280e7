"""A cell with something in every OGC layer, declared through /v1 (in process or against a real server),
and what /v1 lists for each caller: the oracle of need-to-know for /ogc.

Places (lon, lat), each far from the others so that only A and B conflict:
* zone ``alpha-zone``: alpha's, accepted by bravo (agreed), 41.0-41.2 E 36.0-36.2 N; ``bravo-zone``: bravo's,
  proposed to alpha and never answered (not in the layer), 41.3-41.5 E;
* line ``River`` drawn by alpha between alpha (left) and bravo (right) at 42.1 E, band 1,000 m;
* sites: bravo's hospital, a point at 43.0 E 36.0 N with radius 500 m; alpha's warehouse, a polygon;
* operations: alpha's A (40.0-40.1 E 35.0-35.1 N) and bravo's B (40.05-40.15 E 35.05-35.15 N) cross: one
  conflict; alpha's C, a circle of 2,000 m at 44 E 36 N, later; bravo's movement M along 45.0-45.2 E, and
  charlie's D on M's road while M passes: a second conflict, which alpha is no side of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

CALLERS = ("cell", "alpha", "bravo", "charlie", "watcher", "auditor")
LAYERS = ("zones", "lines", "bands", "sites", "operations", "movements", "conflicts")


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Scene:
    t0: datetime
    keys: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    """Party ids by caller, and object ids by name (A, B, C, M, alpha-zone, River, hospital, ...)."""

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


def _ok(r: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    body: dict[str, Any] = r.json()
    return body


def build(client: httpx.Client, coordinator_key: str, t0: datetime) -> Scene:
    """Declare the scene through /v1 with ``client`` (a TestClient or an httpx.Client on a server)."""
    s = Scene(t0, {"cell": coordinator_key})
    parties = (
        ("alpha", "party"),
        ("bravo", "party"),
        ("charlie", "party"),
        ("watcher", "observer"),
        ("auditor", "auditor"),
    )
    for who, role in parties:
        made = _ok(
            client.post("/v1/parties", json={"name": f"{who.title()} Force", "role": role}, headers=s.auth("cell"))
        )
        s.keys[who], s.ids[who] = made["api_key"], made["party"]["id"]
    validity = {"start": rfc3339(t0 - timedelta(hours=1)), "end": rfc3339(t0 + timedelta(days=3))}

    def zone(owner: str, other: str, name: str, lon: float) -> str:
        body = {"name": name, "counterparties": [s.ids[other]], "footprint": box(lon, 36.0, lon + 0.2, 36.2)}
        return str(
            _ok(client.post("/v1/zones", json={**body, "validity": validity}, headers=s.auth(owner)))["zone"]["id"]
        )

    s.ids["alpha-zone"] = zone("alpha", "bravo", "Alpha sector", 41.0)
    _ok(
        client.post(f"/v1/zones/{s.ids['alpha-zone']}/answer", json={"answer": "accepted"}, headers=s.auth("bravo")),
        200,
    )
    s.ids["bravo-zone"] = zone("bravo", "alpha", "Bravo sector", 41.3)
    line = {
        "name": "River",
        "area": box(42.0, 36.0, 42.2, 36.2),
        "line": {"type": "LineString", "coordinates": [[42.1, 35.99], [42.1, 36.21]]},
        "party_left": s.ids["alpha"],
        "party_right": s.ids["bravo"],
        "validity": validity,
        "band_half_width_m": 1000,
    }
    s.ids["River"] = _ok(client.post("/v1/lines", json=line, headers=s.auth("alpha")))["line"]["id"]
    site = {"radius_m": 500, "accuracy_m": 10, "valid_until": rfc3339(t0 + timedelta(days=30))}
    hospital = {**site, "name": "District hospital", "category": "hospital"}
    hospital["footprint"] = {"type": "Point", "coordinates": [43.0, 36.0]}
    s.ids["hospital"] = _ok(client.post("/v1/sites", json=hospital, headers=s.auth("bravo")))["site"]["id"]
    warehouse = {**site, "radius_m": 0, "name": "Depot", "category": "warehouse"}
    warehouse["footprint"] = box(43.2, 36.0, 43.25, 36.05)
    s.ids["warehouse"] = _ok(client.post("/v1/sites", json=warehouse, headers=s.auth("alpha")))["site"]["id"]

    def window(start_h: float, hours: float) -> dict[str, str]:
        return {"start": rfc3339(t0 + timedelta(hours=start_h)), "end": rfc3339(t0 + timedelta(hours=start_h + hours))}

    def operation(
        owner: str, name: str, kind: str, footprint: dict[str, Any], start_h: float, **numbers: float
    ) -> None:
        volume = {"footprint": footprint, **numbers, "altitude": {"lower_m": 0, "upper_m": 3000}}
        body = {"kind": kind, "title": name, "volumes": [{**volume, "window": window(start_h, 2)}]}
        s.ids[name] = _ok(client.post("/v1/operations", json=body, headers=s.auth(owner)))["operation"]["id"]

    operation("alpha", "A", "air", box(40.0, 35.0, 40.1, 35.1), 0)
    operation("bravo", "B", "air", box(40.05, 35.05, 40.15, 35.15), 0)
    operation("alpha", "C", "ground", {"type": "Point", "coordinates": [44.0, 36.0]}, 5, radius_m=2000)
    movement = {
        "route": {"type": "LineString", "coordinates": [[45.0, 36.0], [45.2, 36.1]]},
        "departure": rfc3339(t0 + timedelta(hours=1)),
        "speed_m_s": 10,
        "half_width_m": 300,
        "altitude": {"lower_m": 0, "upper_m": 50},
        "tolerance_s": 600,
    }
    made = _ok(
        client.post(
            "/v1/movements", json={"kind": "ground", "title": "M", "movement": movement}, headers=s.auth("bravo")
        )
    )
    s.ids["M"] = made["operation"]["id"]
    operation("charlie", "D", "ground", box(45.09, 36.04, 45.11, 36.06), 1)
    return s


def v1_ids(client: httpx.Client, scene: Scene, who: str) -> dict[str, set[str]]:
    """What /v1 lists for ``who``, layer by layer: the ids /ogc must give it, no more, no fewer."""

    def items(path: str, **params: Any) -> list[dict[str, Any]]:
        r = client.get(path, params={"limit": 500, **params}, headers=scene.auth(who))
        return list(_ok(r, 200)["items"])

    lines = items("/v1/lines")
    operations = {o["id"] for o in items("/v1/operations")}
    return {
        "zones": {z["id"] for z in items("/v1/zones", state="agreed")},
        "lines": {x["id"] for x in lines},
        "bands": {x["id"] for x in lines if x["band"] is not None},
        "sites": {x["id"] for x in items("/v1/sites")},
        "operations": operations,
        "movements": {
            o for o in operations if client.get(f"/v1/movements/{o}", headers=scene.auth(who)).status_code == 200
        },
        "conflicts": {c["id"] for c in items("/v1/conflicts")},
    }


def ogc_ids(client: httpx.Client, scene: Scene, who: str, layer: str) -> set[str]:
    r = client.get(f"/ogc/collections/{layer}/items", params={"limit": 500}, headers=scene.auth(who))
    body = _ok(r, 200)
    assert body["numberReturned"] == body["numberMatched"] == len(body["features"])
    return {f["id"] for f in body["features"]}
