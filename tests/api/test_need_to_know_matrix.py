"""Need-to-know as a matrix: every route of the OpenAPI document x every caller x every ownership case.

The scene: alpha's bar A crosses bravo's bar B (conflict AB); charlie's bar C crosses B far to the south
(conflict BC); the coordinator's circle D is alone; every footprint corner is tens of kilometres from
any other footprint, so no overlap region reaches one. Callers: the coordinator, the three parties
(each the owner of one operation, in conflict with another, and a stranger to the third), an observer,
an auditor and a caller without a key. Objects: each operation, each conflict, each party's signing key,
and an id that does not exist.

For every response the oracle says the status, and for every body and header (a 200, a 409 that lists
conflicts, a 404) it checks that nothing of an operation the caller does not own appears beyond the
overlap of a conflict the caller is a side of: not its id, title, priority, volumes, corners, own window
instants or altitude band, nor its token unless the caller is in conflict with it, nor another party's
signing keys. Every 404 for a real object reads exactly like the 404 for an id that does not exist.
tests/api/test_need_to_know.py reads the conflict views field by field; this file covers every route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from deconfliction.api.app import create_app
from deconfliction.domain.ledger import verify
from deconfliction.domain.party import Party, Role
from deconfliction.domain.signing import b64url, sign_request
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.settings import Settings
from tests.conftest import FakeClock

CALLERS = ("cell", "alpha", "bravo", "charlie", "watcher", "auditor", "anonymous")
DECLARERS = ("cell", "alpha", "bravo", "charlie")
OWNER = {"A": "alpha", "B": "bravo", "C": "charlie", "D": "cell"}
CONFLICTS = {"AB": ("A", "B"), "BC": ("B", "C")}
MISSING_OP = "op_" + "0" * 26
MISSING_CF = "cf_" + "0" * 26
MISSING_KEY = "k_" + "0" * 20
STALE = '"999"'


def polygon(*corners: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(c) for c in (*corners, corners[0])]]}


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return polygon((lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1))


def volume(footprint: dict[str, Any], lo: float, hi: float, start: str, end: str) -> dict[str, Any]:
    return {
        "footprint": footprint,
        "altitude": {"lower_m": lo, "upper_m": hi},
        "window": {"start": f"2026-11-23T{start}:00Z", "end": f"2026-11-23T{end}:00Z"},
    }


PLANS: dict[str, dict[str, Any]] = {
    "A": {
        "kind": "air",
        "priority": 11,
        "title": "A-SECRET-TITLE",
        "volumes": [volume(box(39.0, 35.0, 41.0, 35.1), 1000, 3000, "08:00", "11:00")],
    },
    "B": {
        "kind": "air",
        "priority": 22,
        "title": "B-SECRET-TITLE",
        "volumes": [
            volume({"type": "Circle", "center": [50.0, 30.0], "radius_m": 5000.0}, 0, 9000, "06:00", "20:00"),
            volume(box(40.0, 34.0, 40.1, 36.0), 2000, 4000, "09:00", "12:00"),
        ],
    },
    "C": {
        "kind": "air",
        "priority": 33,
        "title": "C-SECRET-TITLE",
        "volumes": [volume(box(39.2, 34.3, 40.9, 34.4), 2500, 3500, "09:30", "10:30")],
    },
    "D": {
        "kind": "ground",
        "priority": 44,
        "title": "D-SECRET-TITLE",
        "volumes": [volume({"type": "Circle", "center": [10.0, 50.0], "radius_m": 3000.0}, 0, 100, "07:00", "13:00")],
    },
}


def probe(start: str, end: str) -> dict[str, Any]:
    """An operation crossing B's bar (and C's), not A: each declarer's probe gets its own 5 minutes, so
    probes never conflict with each other."""
    return {
        "kind": "air",
        "title": "probe",
        "volumes": [
            volume(box(40.0, 34.65, 40.1, 34.75), 2600, 2900, start, end),
            volume(box(39.45, 34.32, 39.55, 34.38), 2600, 2900, start, end),
        ],
    }


PROBES = {"alpha": probe("09:40", "09:45"), "bravo": probe("09:50", "09:55"), "charlie": probe("10:00", "10:05")}
PROBES["cell"] = probe("10:10", "10:15")
PROBE_CONFLICTS = {"alpha": {"B", "C"}, "bravo": {"C"}, "charlie": {"B"}, "cell": {"B", "C"}}
ELSEWHERE = {
    "kind": "ground",
    "volumes": [volume({"type": "Circle", "center": [0.0, 0.0], "radius_m": 100.0}, 0, 10, "08:00", "09:00")],
}


# ------------------------------------------------------------------------------------ JSON walking


def walk(obj: Any) -> Iterator[Any]:
    yield obj
    if isinstance(obj, dict):
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


def positions(obj: Any) -> Iterator[tuple[float, float]]:
    for x in walk(obj):
        if (
            isinstance(x, list)
            and 2 <= len(x) <= 3
            and all(isinstance(n, int | float) and not isinstance(n, bool) for n in x)
        ):
            yield float(x[0]), float(x[1])


def footprint_points(footprint: dict[str, Any]) -> list[tuple[float, float]]:
    if footprint["type"] == "Circle":
        return [(float(footprint["center"][0]), float(footprint["center"][1]))]
    return [(float(p[0]), float(p[1])) for ring in footprint["coordinates"] for p in ring]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S")


Band = tuple[float, float]


def band_of(v: dict[str, Any]) -> Band:
    return float(v["altitude"]["lower_m"]), float(v["altitude"]["upper_m"])


def window_of(v: dict[str, Any]) -> tuple[datetime, datetime]:
    return instant(v["window"]["start"]), instant(v["window"]["end"])


# ---------------------------------------------------------------------------------------- the scene


@dataclass
class Scene:
    http: TestClient
    rt: Runtime
    keys: dict[str, str]
    ids: dict[str, str]
    """Operation name -> id."""
    cf: dict[str, str]
    """Conflict name -> id."""
    party_ids: dict[str, str]
    ovns: dict[str, set[str]] = field(default_factory=dict)
    """Every ovn each operation has had: its tokens, past and present."""
    own_plans: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """What each caller declared beyond the scene (its probe)."""
    own_ids: dict[str, set[str]] = field(default_factory=dict)
    """Ids of those operations."""
    conflicts_with: dict[str, set[str]] = field(default_factory=dict)
    """Caller -> scene operations it has a conflict with."""
    signing_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Caller -> (key id, public key) it registered."""
    private_keys: dict[str, list[Ed25519PrivateKey]] = field(default_factory=dict)
    """Caller -> its private keys, newest last: key changes are signed by the newest once one exists."""
    incidents: dict[str, str] = field(default_factory=dict)
    """Incident name -> id."""
    as_of: str | None = None
    """When set, every read of operations and conflicts asks for the view as of this time."""

    def headers(self, caller: str, **extra: str) -> dict[str, str]:
        h = dict(extra)
        if caller != "anonymous":
            h["Authorization"] = f"Bearer {self.keys[caller]}"
        return h

    def call(self, method: str, path: str, caller: str, **kw: Any) -> Any:
        headers = self.headers(caller, **kw.pop("headers", {}))
        if self.as_of is not None and method == "GET" and path.startswith(("/v1/operations", "/v1/conflicts")):
            kw["params"] = {**(kw.get("params") or {}), "as_of": self.as_of}
        return self.http.request(method, path, headers=headers, **kw)

    def op(self, name: str) -> dict[str, Any]:
        r = self.call("GET", f"/v1/operations/{self.ids[name]}", "cell")
        assert r.status_code == 200, r.text
        self.ovns[name].add(r.json()["ovn"])
        return dict(r.json())

    def obj_id(self, obj: str) -> str:
        if obj in self.ids:
            return self.ids[obj]
        if obj in self.cf:
            return self.cf[obj]
        if obj in self.signing_keys:
            return self.signing_keys[obj][0]
        if obj in self.incidents:
            return self.incidents[obj]
        return {
            "missing-op": MISSING_OP,
            "missing-cf": MISSING_CF,
            "missing-key": MISSING_KEY,
            "missing-inc": "in_" + "0" * 26,
        }[obj]

    def register_keys(self) -> None:
        for caller in CALLERS[:-1]:
            private = Ed25519PrivateKey.generate()
            public = b64url(
                private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            )
            r = self.call("POST", "/v1/keys", caller, json={"public_key": public})
            assert r.status_code == 201, r.text
            self.signing_keys[caller] = (r.json()["key"]["key_id"], public)
            self.private_keys[caller] = [private]

    def signed_post(self, path: str, caller: str, body: Any) -> Any:
        """A POST signed by the caller's newest key when it has one (unsigned otherwise)."""
        headers = {"Content-Type": "application/json"}
        if self.private_keys.get(caller):
            self.rt.clock.advance(seconds=1)  # type: ignore[attr-defined]
            headers |= sign_request(self.private_keys[caller][-1], "POST", path, body, self.rt.clock())
        content = b"" if body is None else orjson.dumps(body)
        return self.call("POST", path, caller, content=content, headers=headers)

    def new_key(self, caller: str) -> Any:
        private = Ed25519PrivateKey.generate()
        public = b64url(private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        r = self.signed_post("/v1/keys", caller, {"public_key": public})
        if r.status_code == 201:
            self.private_keys.setdefault(caller, []).append(private)
        return r

    def tokens(self, caller: str, op_id: str) -> list[str]:
        r = self.call("GET", "/v1/conflicts", caller, params={"operation": op_id, "state": "open"})
        assert r.status_code == 200, r.text
        return [c["token"] for c in r.json()["items"]]


@pytest.fixture
def scene(client: TestClient, rt: Runtime, parties: dict[str, tuple[Party, str]]) -> Scene:
    keys = {name: key for name, (_, key) in parties.items()}
    party_ids = {name: p.id for name, (p, _) in parties.items()}
    for name, role in (("charlie", Role.PARTY), ("auditor", Role.AUDITOR)):
        p, keys[name] = create_party(rt, None, name, role)
        party_ids[name] = p.id
    s = Scene(client, rt, keys, {}, {}, party_ids)
    for name in "ABCD":
        r = s.call("POST", "/v1/operations", OWNER[name], json=PLANS[name])
        assert r.status_code == 201, r.text
        s.ids[name] = r.json()["operation"]["id"]
        s.ovns[name] = {r.json()["operation"]["ovn"]}
    listed = s.call("GET", "/v1/conflicts", "cell").json()["items"]
    by_ops = {frozenset(side["operation"] for side in c["sides"]): c["id"] for c in listed}
    assert set(by_ops) == {frozenset({s.ids[a], s.ids[b]}) for a, b in CONFLICTS.values()}
    s.cf = {name: by_ops[frozenset({s.ids[a], s.ids[b]})] for name, (a, b) in CONFLICTS.items()}
    s.conflicts_with = {c: set() for c in CALLERS}
    for a, b in CONFLICTS.values():
        s.conflicts_with[OWNER[a]].add(b)
        s.conflicts_with[OWNER[b]].add(a)
    s.own_plans = {c: [] for c in CALLERS}
    s.own_ids = {c: set() for c in CALLERS}
    return s


# ------------------------------------------------------------------------------ the leak oracle


def sees_everything(caller: str, ledger: bool) -> bool:
    """The coordinator reads every object; an auditor reads every ledger entry (docs/ledger.md)."""
    return caller == "cell" or (ledger and caller == "auditor")


def leaks(
    s: Scene, caller: str, r: Any, *, ledger: bool = False, asked: str | None = None, audit: bool = False
) -> list[str]:
    """What of others' operations and keys this response shows beyond what ``caller`` may know; the
    id it ``asked`` about does not count (a 404 names it back)."""
    if sees_everything(caller, ledger or audit):
        return []
    own = [n for n in "ABCD" if OWNER[n] == caller]
    own_volumes = [v for n in own for v in PLANS[n]["volumes"]] + [
        v for plan in s.own_plans[caller] for v in plan["volumes"]
    ]
    others = [n for n in "ABCD" if n not in own]
    # what a conflict may show: the intersection of a caller's volume with the other side's
    allowed_bands = {band_of(v) for v in own_volumes}
    allowed_instants = {stamp(t) for v in own_volumes for t in window_of(v)}
    for n in s.conflicts_with[caller]:
        for theirs in PLANS[n]["volumes"]:
            for mine in own_volumes:
                (lo1, hi1), (lo2, hi2) = band_of(mine), band_of(theirs)
                allowed_bands.add((max(lo1, lo2), min(hi1, hi2)))
                (s1, e1), (s2, e2) = window_of(mine), window_of(theirs)
                allowed_instants |= {stamp(max(s1, s2)), stamp(min(e1, e2))}
    text = r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items())
    if asked is not None:
        text = text.replace(asked, "<asked>")
    found: list[str] = []
    for n in others:
        secrets = [s.ids[n], PLANS[n]["title"]]
        if n not in s.conflicts_with[caller]:
            secrets += sorted(s.ovns[n])  # a token shows only in a conflict with it
        for v in PLANS[n]["volumes"]:
            secrets += [t for t in map(stamp, window_of(v)) if t not in allowed_instants]
        found += [f"{n}: {x!r} in the text" for x in secrets if x in text]
    for other, (key_id, public) in s.signing_keys.items():
        if other != caller:
            found += [f"{other}'s key {x}" for x in (key_id, public) if x in text]
    is_json = "json" in r.headers.get("content-type", "")
    documents = (
        [orjson.loads(line) for line in r.content.splitlines()]
        if ledger
        else [r.json()]
        if r.content and is_json
        else []
    )
    corners = {n: [p for v in PLANS[n]["volumes"] for p in footprint_points(v["footprint"])] for n in others}
    visible_ops = {s.ids[n] for n in own} | s.own_ids[caller]
    for doc in documents:
        for p in positions(doc):
            for n, points in corners.items():
                found += [
                    f"{n}: corner {c} at {p}" for c in points if abs(p[0] - c[0]) < 1e-3 and abs(p[1] - c[1]) < 1e-3
                ]
        for x in walk(doc):
            if not isinstance(x, dict):
                continue
            if "lower_m" in x and (float(x["lower_m"]), float(x["upper_m"])) not in allowed_bands:
                found.append(f"altitude band {x}")
            if {"priority", "volumes", "ovn"} & set(x) and x.get("id") not in visible_ops:
                found.append(f"an operation record {x.get('id')}")
            if "sides" in x or "other_volume" in x:
                found.append("the coordinator's view of a conflict")
    return found


# ---------------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Case:
    """One route: the objects it is asked about, how to ask, and what the oracle expects."""

    objects: tuple[str | None, ...]
    send: Callable[[Scene, str, str | None], Any]
    expect: Callable[[Scene, str, str | None], int]
    ledger: bool = False
    audit: bool = False
    """Drawn from the ledger for an inquiry: an auditor reads it whole, as it reads every entry."""


def can_read_op(caller: str, obj: str | None) -> int:
    if caller == "anonymous":
        return 401
    if obj is None:
        return 200
    if obj not in OWNER:
        return 404
    return 200 if caller in ("cell", OWNER[obj]) else 404


def can_change_op(caller: str, obj: str | None) -> int:
    """Owners are sent a stale If-Match (412 shows they got past every other check), others the current
    version (so a missing check would let the change through)."""
    if caller == "anonymous":
        return 401
    if caller not in DECLARERS:
        return 403
    if obj not in OWNER:
        return 404
    if OWNER[obj] == caller:
        return 412
    return 403 if caller == "cell" else 404


def can_read_conflict(caller: str, obj: str | None) -> int:
    if caller == "anonymous":
        return 401
    if obj not in CONFLICTS:
        return 404
    return 200 if caller == "cell" or caller in {OWNER[o] for o in CONFLICTS[obj]} else 404


def any_key(caller: str) -> int:
    return 401 if caller == "anonymous" else 200


INCIDENT = {
    "place": {"type": "Point", "coordinates": [40.05, 35.05]},
    "at": "2026-11-23T09:31:00Z",
    "description": "something fell near the crossing",
    "radius_m": 20000,
}
INCIDENTS = ("by-alpha", "by-bravo", "missing-inc")


def can_read_incident(caller: str, obj: str | None) -> int:
    """The reporter, the coordinator and auditors read an incident's inquiry; others get a 404."""
    if caller == "anonymous":
        return 401
    if obj not in ("by-alpha", "by-bravo"):
        return 404
    return 200 if caller in ("cell", "auditor") or obj == f"by-{caller}" else 404


def change(verb: str) -> Case:
    def send(s: Scene, caller: str, obj: str | None) -> Any:
        op_id = s.obj_id(str(obj))
        current = s.op(str(obj))["version"] if obj in OWNER else 1
        if_match = STALE if obj in OWNER and OWNER[obj] == caller else f'"{current}"'
        headers = {"If-Match": if_match}
        if verb == "revise":
            return s.call("PUT", f"/v1/operations/{op_id}", caller, json=ELSEWHERE, headers=headers)
        body: dict[str, list[str]] | None = {"known_conflict_tokens": []} if verb in ("plan", "activate") else None
        return s.call("POST", f"/v1/operations/{op_id}/{verb}", caller, json=body, headers=headers)

    return Case(("A", "B", "C", "D", "missing-op"), send, lambda s, c, o: can_change_op(c, o))


OPS = ("A", "B", "C", "D", "missing-op")
MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/v1/health"): Case((None,), lambda s, c, o: s.call("GET", "/v1/health", c), lambda s, c, o: 200),
    ("POST", "/v1/parties"): Case(
        (None,),
        lambda s, c, o: s.call("POST", "/v1/parties", c, json={"name": f"made by {c}"}),
        lambda s, c, o: {"anonymous": 401, "cell": 201}.get(c, 403),
    ),
    ("GET", "/v1/parties"): Case((None,), lambda s, c, o: s.call("GET", "/v1/parties", c), lambda s, c, o: any_key(c)),
    ("GET", "/v1/parties/me"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/parties/me", c), lambda s, c, o: any_key(c)
    ),
    ("GET", "/v1/keys"): Case((None,), lambda s, c, o: s.call("GET", "/v1/keys", c), lambda s, c, o: any_key(c)),
    ("POST", "/v1/keys"): Case((None,), lambda s, c, o: s.new_key(c), lambda s, c, o: 401 if c == "anonymous" else 201),
    ("POST", "/v1/keys/{key_id}/revoke"): Case(
        (*CALLERS[:-1], "missing-key"),
        lambda s, c, o: s.signed_post(f"/v1/keys/{s.obj_id(str(o))}/revoke", c, None),
        lambda s, c, o: 401 if c == "anonymous" else 200 if o == c else 404,
    ),
    ("POST", "/v1/operations"): Case(
        (None,),
        lambda s, c, o: s.call("POST", "/v1/operations", c, json=PROBES.get(c, PROBES["alpha"])),
        lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 201),
    ),
    ("GET", "/v1/operations"): Case(
        (None, "draft"),
        lambda s, c, o: s.call("GET", "/v1/operations", c, params={"state": o} if o else None),
        lambda s, c, o: any_key(c),
    ),
    ("GET", "/v1/operations/{op_id}"): Case(
        OPS, lambda s, c, o: s.call("GET", f"/v1/operations/{s.obj_id(str(o))}", c), lambda s, c, o: can_read_op(c, o)
    ),
    ("PUT", "/v1/operations/{op_id}"): change("revise"),
    ("POST", "/v1/operations/{op_id}/plan"): change("plan"),
    ("POST", "/v1/operations/{op_id}/activate"): change("activate"),
    ("POST", "/v1/operations/{op_id}/end"): change("end"),
    ("POST", "/v1/operations/{op_id}/cancel"): change("cancel"),
    ("GET", "/v1/conflicts"): Case(
        (None, *OPS),
        lambda s, c, o: s.call("GET", "/v1/conflicts", c, params={"operation": s.obj_id(o)} if o else None),
        lambda s, c, o: can_read_op(c, o),
    ),
    ("GET", "/v1/conflicts/{conflict_id}"): Case(
        ("AB", "BC", "missing-cf"),
        lambda s, c, o: s.call("GET", f"/v1/conflicts/{s.obj_id(str(o))}", c),
        lambda s, c, o: can_read_conflict(c, o),
    ),
    ("POST", "/v1/incidents"): Case(
        (None,),
        lambda s, c, o: s.call("POST", "/v1/incidents", c, json=INCIDENT),
        lambda s, c, o: {"anonymous": 401, "watcher": 403}.get(c, 201),
    ),
    ("GET", "/v1/incidents"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/incidents", c), lambda s, c, o: any_key(c)
    ),
    ("GET", "/v1/incidents/{incident_id}"): Case(
        INCIDENTS,
        lambda s, c, o: s.call("GET", f"/v1/incidents/{s.obj_id(str(o))}", c),
        lambda s, c, o: can_read_incident(c, o),
        audit=True,
    ),
    ("GET", "/v1/incidents/{incident_id}/report"): Case(
        INCIDENTS,
        lambda s, c, o: s.call("GET", f"/v1/incidents/{s.obj_id(str(o))}/report", c),
        lambda s, c, o: can_read_incident(c, o),
        audit=True,
    ),
    ("GET", "/v1/ledger"): Case(
        (None, "page"),
        lambda s, c, o: s.call("GET", "/v1/ledger", c, params={"after": 2, "limit": 3} if o else None),
        lambda s, c, o: any_key(c),
        ledger=True,
    ),
    ("GET", "/v1/ledger/head"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/ledger/head", c), lambda s, c, o: any_key(c)
    ),
    ("GET", "/v1/ledger/service-key"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/ledger/service-key", c), lambda s, c, o: any_key(c)
    ),
}


def test_every_route_of_the_openapi_document_is_in_the_matrix() -> None:
    """A new endpoint fails here until its row says who may see what through it."""
    spec = create_app(Settings()).openapi()
    served = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert served == set(MATRIX), (
        f"not in the need-to-know matrix: {sorted(served - set(MATRIX))}; "
        f"in it but not served: {sorted(set(MATRIX) - served)}"
    )


def run(
    s: Scene, route: tuple[str, str], known_bugs: dict[tuple[str, str | None], int] | None = None
) -> dict[tuple[str, str | None], Any]:
    """Every caller x object of one route: statuses, leaks, and 404s like a missing id's.
    ``known_bugs``: statuses the service answers today instead of the oracle's (each has its xfail test)."""
    case = MATRIX[route]
    failures: list[str] = []
    answers: dict[tuple[str, str | None], Any] = {}
    for caller in CALLERS:
        for obj in case.objects:
            r = case.send(s, caller, obj)
            answers[(caller, obj)] = r
            expected = (known_bugs or {}).get((caller, obj)) or case.expect(s, caller, obj)
            where = f"{route[0]} {route[1]} by {caller} on {obj}"
            if r.status_code != expected:
                failures.append(f"{where}: {r.status_code}, expected {expected}: {r.text[:300]}")
                continue
            if r.status_code in (200, 201) and route == ("POST", "/v1/operations"):
                s.own_plans[caller].append(PROBES[caller])
                s.own_ids[caller].add(r.json()["operation"]["id"])
                s.conflicts_with[caller] |= PROBE_CONFLICTS[caller]
            named = obj in (*OWNER, *CONFLICTS, *s.signing_keys) or str(obj).startswith("missing")
            asked = s.obj_id(str(obj)) if named else None
            ledger = case.ledger and r.status_code == 200
            found = leaks(s, caller, r, ledger=ledger, asked=asked, audit=case.audit and r.status_code == 200)
            failures += [f"{where}: {x}" for x in found]
    for (caller, obj), r in answers.items():
        missing = next((o for o in case.objects if o is not None and o.startswith("missing")), None)
        if r.status_code == 404 and obj is not None and missing is not None and obj != missing:
            real, fake = s.obj_id(obj), s.obj_id(missing)
            other = answers[(caller, missing)]
            if r.text.replace(real, "ID") != other.text.replace(fake, "ID"):
                failures.append(f"{route} by {caller}: the 404 for {obj} differs from a missing id's: {r.text}")
    assert not failures, "\n".join(failures)
    return answers


def unchanged(s: Scene, before: dict[str, int]) -> None:
    assert {n: s.op(n)["version"] for n in "ABCD"} == before, "a refused change changed an operation"


# ------------------------------------------------------------------------------------ the routes


PUBLIC = [
    ("GET", "/v1/health"),
    ("POST", "/v1/parties"),
    ("GET", "/v1/parties"),
    ("GET", "/v1/parties/me"),
    ("GET", "/v1/ledger/head"),
    ("GET", "/v1/ledger/service-key"),
]


def test_what_is_public_within_the_cell(scene: Scene) -> None:
    """Who takes part and the chain's head are for every caller with a key; nothing of an operation."""
    answers = {route: run(scene, route) for route in PUBLIC}
    for caller in CALLERS[:-1]:
        assert answers[("GET", "/v1/parties/me")][(caller, None)].json()["id"] == scene.party_ids[caller]
        listed = {p["id"] for p in answers[("GET", "/v1/parties")][(caller, None)].json()["items"]}
        assert set(scene.party_ids.values()) <= listed


@pytest.mark.parametrize(
    "route",
    [r for r in MATRIX if r[1].startswith("/v1/operations/{op_id}") and r[0] != "GET"],
    ids=lambda r: f"{r[0]} {r[1]}",
)
def test_changing_an_operation(scene: Scene, route: tuple[str, str]) -> None:
    """Only the owner changes its operation (the coordinator is told 403, other parties 404, like a
    missing id); then the owner's own changes answer with its conflicts through need-to-know."""
    before = {n: scene.op(n)["version"] for n in "ABCD"}
    run(scene, route)
    unchanged(scene, before)
    verb = "revise" if route[0] == "PUT" else route[1].rsplit("/", 1)[-1]
    steps = {"activate": ["plan"], "end": ["plan", "activate"]}.get(verb, [])
    for name in "ABCD":
        owner, op_id = OWNER[name], scene.ids[name]
        for step in [*steps, verb]:
            current = scene.op(name)
            headers = {"If-Match": f'"{current["version"]}"'}
            if step == "revise":
                r = scene.call("PUT", f"/v1/operations/{op_id}", owner, json=PLANS[name], headers=headers)
            elif step in ("plan", "activate"):
                if step == verb and scene.conflicts_with[owner]:  # the refusal lists the conflicts
                    refused = scene.call("POST", f"/v1/operations/{op_id}/{step}", owner, json={}, headers=headers)
                    assert refused.status_code == 409 and refused.json()["missing"], refused.text
                    assert not leaks(scene, owner, refused), leaks(scene, owner, refused)
                body = {"known_conflict_tokens": scene.tokens(owner, op_id)}
                r = scene.call("POST", f"/v1/operations/{op_id}/{step}", owner, json=body, headers=headers)
            else:
                r = scene.call("POST", f"/v1/operations/{op_id}/{step}", owner, headers=headers)
            assert r.status_code == 200, (name, step, r.text)
            scene.ovns[name].add(r.json()["operation"]["ovn"])
            assert not leaks(scene, owner, r), (name, step, leaks(scene, owner, r))


def test_declaring_an_operation(scene: Scene) -> None:
    """A new operation's answer shows its conflicts through need-to-know, to whoever declares it."""
    answers = run(scene, ("POST", "/v1/operations"))
    for caller in DECLARERS:
        shown = {
            c["counterpart"]["party_name"] if "counterpart" in c else "both"
            for c in answers[(caller, None)].json()["conflicts"]
        }
        expected = {OWNER[n] for n in PROBE_CONFLICTS[caller]} if caller != "cell" else {"both"}
        assert shown == expected, (caller, shown)


def test_reading_operations(scene: Scene) -> None:
    run(scene, ("GET", "/v1/operations/{op_id}"))
    answers = run(scene, ("GET", "/v1/operations"))
    for caller in CALLERS[:-1]:
        listed = {o["id"] for o in answers[(caller, None)].json()["items"]}
        expected = {scene.ids[n] for n in "ABCD" if caller in ("cell", OWNER[n])}
        assert listed == expected, caller


def test_reading_conflicts(scene: Scene) -> None:
    run(scene, ("GET", "/v1/conflicts/{conflict_id}"))
    answers = run(scene, ("GET", "/v1/conflicts"))
    for caller in CALLERS[:-1]:
        for obj in (None, *"ABCD"):
            r = answers[(caller, obj)]
            if r.status_code != 200:
                continue
            listed = {c["id"] for c in r.json()["items"]}
            expected = {
                scene.cf[name]
                for name, ops in CONFLICTS.items()
                if (caller == "cell" or caller in {OWNER[o] for o in ops}) and (obj is None or obj in ops)
            }
            assert listed == expected, (caller, obj)


def test_signing_keys(scene: Scene) -> None:
    """A caller lists and revokes its own keys only; another's key is answered like a missing one."""
    scene.register_keys()
    answers = run(scene, ("GET", "/v1/keys"))
    for caller in CALLERS[:-1]:
        assert [k["key_id"] for k in answers[(caller, None)].json()["items"]] == [scene.signing_keys[caller][0]]
    run(scene, ("POST", "/v1/keys"))
    run(scene, ("POST", "/v1/keys/{key_id}/revoke"))


def test_incidents(scene: Scene) -> None:
    """An inquiry is read by its reporter (within its own need-to-know), the coordinator and auditors;
    for anyone else an incident is answered like a missing one, and no report leaks another's plan."""
    for who in ("alpha", "bravo"):
        r = scene.call("POST", "/v1/incidents", who, json=INCIDENT)
        assert r.status_code == 201, r.text
        scene.incidents[f"by-{who}"] = r.json()["incident"]["id"]
    run(scene, ("POST", "/v1/incidents"))
    listed = run(scene, ("GET", "/v1/incidents"))
    assert {i["id"] for i in listed[("alpha", None)].json()["items"]} >= {scene.incidents["by-alpha"]}
    assert scene.incidents["by-bravo"] not in listed[("alpha", None)].text
    answers = run(scene, ("GET", "/v1/incidents/{incident_id}"))
    own = answers[("alpha", "by-alpha")].json()
    assert {o["id"] for o in own["operations"]} == {scene.ids["A"]}  # near, and alpha's own only
    everything = answers[("cell", "by-alpha")].json()
    assert {o["id"] for o in everything["operations"]} == {scene.ids["A"], scene.ids["B"]}  # C is 70 km south
    run(scene, ("GET", "/v1/incidents/{incident_id}/report"))


def test_the_ledger_export(scene: Scene) -> None:
    """Each reader's export verifies; it holds whole the entries addressed to it (every entry for the
    coordinator and auditors), the others as hashes only, and leaks nothing through either."""
    scene.register_keys()
    answers = run(scene, ("GET", "/v1/ledger"))
    full = [orjson.loads(x) for x in answers[("cell", None)].content.splitlines()[1:]]
    audience = {e["seq"]: set(e["content"]["audience"]) for e in full}
    for caller in CALLERS[:-1]:
        for obj in (None, "page"):
            r = answers[(caller, obj)]
            report = verify(r.content.splitlines())
            assert report.ok, (caller, obj, [str(p) for p in report.problems])
            header, *entries = (orjson.loads(x) for x in r.content.splitlines())
            assert header["party"] == scene.party_ids[caller]
            assert [e["seq"] for e in entries] == list(range(header["after_seq"] + 1, header["until_seq"] + 1))
            for e in entries:
                readable = caller in ("cell", "auditor") or bool({"*", scene.party_ids[caller]} & audience[e["seq"]])
                assert ("content" in e) == readable and e.get("redacted", False) == (not readable), (caller, e)
    assert len(audience) > 10


def test_a_resolved_conflict_shows_nothing_of_where_the_other_side_went(scene: Scene) -> None:
    """bravo moves B far away: AB and BC resolve, and neither alpha nor charlie learns the new place,
    window or band (7100 to 7300 m: not a band the oracle allows), through the conflict or an export."""
    moved = {
        "kind": "air",
        "title": "B-MOVED",
        "volumes": [
            volume({"type": "Circle", "center": [60.5, 20.5], "radius_m": 1000.0}, 7100, 7300, "15:00", "16:00")
        ],
    }
    version = scene.op("B")["version"]
    r = scene.call("PUT", f"/v1/operations/{scene.ids['B']}", "bravo", json=moved, headers={"If-Match": f'"{version}"'})
    assert r.status_code == 200 and r.json()["conflicts"] == [], r.text
    for caller, name in (("alpha", "AB"), ("charlie", "BC")):
        seen = [
            scene.call("GET", f"/v1/conflicts/{scene.cf[name]}", caller),
            scene.call("GET", "/v1/conflicts", caller, params={"state": "resolved"}),
            scene.call("GET", "/v1/ledger", caller),
        ]
        assert seen[0].json()["state"] == "resolved"
        for answer in seen:
            assert answer.status_code == 200
            leaked = [x for x in ("B-MOVED", "T15:00:00", "T16:00:00") if x in answer.text]
            assert not leaked, (caller, leaked)
            docs = (
                [orjson.loads(x) for x in answer.content.splitlines()]
                if "jsonl" in answer.headers["content-type"]
                else [answer.json()]
            )
            assert all(abs(p[0] - 60.5) > 0.5 for d in docs for p in positions(d)), caller
            assert not leaks(scene, caller, answer, ledger="jsonl" in answer.headers["content-type"])


AS_OF_ROUTES = [
    ("GET", "/v1/operations"),
    ("GET", "/v1/operations/{op_id}"),
    ("GET", "/v1/conflicts"),
    ("GET", "/v1/conflicts/{conflict_id}"),
]


AS_OF_BUGS: dict[tuple[str, str], dict[tuple[str, str | None], int]] = {}
"""Statuses the service answers instead of the oracle's with as_of, each with a test of its own (none now:
test_as_of_conflicts_of_a_missing_operation_are_404_for_the_coordinator_too held the last one)."""


def test_as_of_conflicts_of_a_missing_operation_are_404_for_the_coordinator_too(scene: Scene) -> None:
    live = scene.call("GET", "/v1/conflicts", "cell", params={"operation": MISSING_OP})
    past = scene.call("GET", "/v1/conflicts", "cell", params={"operation": MISSING_OP, "as_of": "2030-01-01T00:00:00Z"})
    assert live.status_code == 404
    assert past.status_code == 404, past.text


def test_as_of_reads_keep_need_to_know(scene: Scene, clock: FakeClock) -> None:
    """The same matrix on the reads rebuilt from the ledger (``as_of``): as of a time when the scene
    stood, and as of after bravo moved B away, which nobody but bravo and the coordinator may see."""
    then = stamp(clock.now + timedelta(minutes=30)) + "Z"
    clock.advance(hours=1)
    moved = {
        "kind": "air",
        "title": "B-MOVED",
        "volumes": [volume({"type": "Circle", "center": [60.5, 20.5], "radius_m": 1000.0}, 0, 9000, "06:00", "20:00")],
    }
    version = scene.op("B")["version"]
    r = scene.call("PUT", f"/v1/operations/{scene.ids['B']}", "bravo", json=moved, headers={"If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    scene.ovns["B"].add(r.json()["operation"]["ovn"])
    scene.as_of = then
    for route in AS_OF_ROUTES:
        run(scene, route, AS_OF_BUGS.get(route))
    scene.as_of = stamp(clock.now + timedelta(minutes=1)) + "Z"
    for route in AS_OF_ROUTES:
        answers = run(scene, route, AS_OF_BUGS.get(route))
        for (caller, _), answer in answers.items():
            if caller in ("cell", "bravo") or answer.status_code != 200:
                continue
            assert "B-MOVED" not in answer.text
            assert all(abs(p[0] - 60.5) > 0.5 for p in positions(answer.json())), (route, caller)


def test_the_leak_oracle_catches_each_kind_of_leak(scene: Scene) -> None:
    """The oracle is not blind: what the coordinator may read, shown to alpha, is caught piece by piece."""
    whole_b = scene.call("GET", f"/v1/operations/{scene.ids['B']}", "cell")
    found = leaks(scene, "alpha", whole_b)
    for piece in (scene.ids["B"], "B-SECRET-TITLE", "corner (40.0, 34.0)", "altitude band", "operation record"):
        assert any(piece in x for x in found), (piece, found)
    both_sides = leaks(scene, "alpha", scene.call("GET", f"/v1/conflicts/{scene.cf['AB']}", "cell"))
    assert any("coordinator's view" in x for x in both_sides) and any(scene.ids["B"] in x for x in both_sides)
    # bravo's view of BC carries C's token: alpha is in no conflict with C
    token = scene.call("GET", f"/v1/conflicts/{scene.cf['BC']}", "bravo").json()["token"]
    assert any(token in x for x in leaks(scene, "alpha", scene.call("GET", f"/v1/conflicts/{scene.cf['BC']}", "bravo")))
    # the whole ledger, as alpha's
    assert leaks(scene, "alpha", scene.call("GET", "/v1/ledger", "cell"), ledger=True)
    assert not leaks(scene, "alpha", scene.call("GET", "/v1/ledger", "alpha"), ledger=True)
