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

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import ip_network
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
from deconfliction.store.ports import Store
from tests import pdf
from tests.conftest import FakeClock
from tests.shapes import circle, members

CALLERS = ("cell", "alpha", "bravo", "charlie", "watcher", "auditor", "anonymous")
DECLARERS = ("cell", "alpha", "bravo", "charlie")
OWNER = {"A": "alpha", "B": "bravo", "C": "charlie", "D": "cell"}
CONFLICTS = {"AB": ("A", "B"), "BC": ("B", "C")}
MISSING_OP = "op_" + "0" * 26
MISSING_CF = "cf_" + "0" * 26
MISSING_KEY = "k_" + "0" * 20
STALE = '"999"'
MISSING_SITE = "st_" + "0" * 26
MISSING_ZONE = "zn_" + "0" * 26
MISSING_LINE = "ln_" + "0" * 26


def polygon(*corners: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(c) for c in (*corners, corners[0])]]}


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return polygon((lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1))


def volume(footprint: dict[str, Any], lo: float, hi: float, start: str, end: str) -> dict[str, Any]:
    return {
        **members(footprint),
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
            volume(circle([50.0, 30.0], 5000.0), 0, 9000, "06:00", "20:00"),
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
        "volumes": [volume(circle([10.0, 50.0], 3000.0), 0, 100, "07:00", "13:00")],
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
    "volumes": [volume(circle([0.0, 0.0], 100.0), 0, 10, "08:00", "09:00")],
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
    if footprint["type"] == "Point":
        return [(float(footprint["coordinates"][0]), float(footprint["coordinates"][1]))]
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
    certificates: dict[str, str] = field(default_factory=dict)
    """Caller (or "missing-key") -> the client certificate fingerprint it binds."""
    """Caller -> (key id, public key) it registered."""
    private_keys: dict[str, list[Ed25519PrivateKey]] = field(default_factory=dict)
    """Caller -> its private keys, newest last: key changes are signed by the newest once one exists."""
    incidents: dict[str, str] = field(default_factory=dict)
    """Incident name -> id."""
    sites: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Site name -> (id, version)."""
    zones: dict[str, str] = field(default_factory=dict)
    """Zone name -> id."""
    lines: dict[str, str] = field(default_factory=dict)
    """Line name -> id."""
    movements: dict[str, str] = field(default_factory=dict)
    """Movement name -> its operation's id."""
    notes: dict[str, str] = field(default_factory=dict)
    """Notification name -> id."""
    endpoints: dict[str, str] = field(default_factory=dict)
    """Endpoint or delivery name -> id."""
    units: dict[str, str] = field(default_factory=dict)
    """Unit name (or unit key name) -> id."""
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
        if obj in self.certificates:
            return self.certificates[obj]
        if obj in self.incidents:
            return self.incidents[obj]
        if obj in self.sites:
            return self.sites[obj][0]
        if obj in self.zones:
            return self.zones[obj]
        if obj in self.lines:
            return self.lines[obj]
        if obj in self.movements:
            return self.movements[obj]
        if obj in self.notes:
            return self.notes[obj]
        if obj in self.endpoints:
            return self.endpoints[obj]
        if obj in self.units:
            return self.units[obj]
        return {
            "missing-op": MISSING_OP,
            "missing-cf": MISSING_CF,
            "missing-key": MISSING_KEY,
            "missing-inc": "in_" + "0" * 26,
            "missing-site": MISSING_SITE,
            "missing-zone": MISSING_ZONE,
            "missing-line": MISSING_LINE,
            "missing-nt": "nt_" + "0" * 26,
            "missing-rq": "rq_" + "0" * 26,
            "missing-th": "th_" + "0" * 26,
            "missing-ep": "ep_" + "0" * 26,
            "missing-dl": "dl_" + "0" * 26,
            "missing-un": "un_" + "0" * 26,
            "missing-uk": "uk_" + "0" * 26,
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

    def rt_party(self, caller: str) -> Party:
        with self.rt.store.read() as tx:
            found = tx.parties.get(self.party_ids[caller])
        assert found is not None
        return found

    def tokens(self, caller: str, op_id: str) -> list[str]:
        r = self.call("GET", "/v1/conflicts", caller, params={"operation": op_id, "state": "open"})
        assert r.status_code == 200, r.text
        return [c["token"] for c in r.json()["items"]]


@pytest.fixture
def rt(store: Store, clock: FakeClock) -> Runtime:
    """Webhooks here point at loopback, which a deployment must allow (docs/security.md)."""
    return Runtime(store, clock=clock, webhook_allow=(ip_network("127.0.0.0/8"),))


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


NOTES = ("n-alpha", "n-bravo", "missing-nt")


def track_report(s: Scene, caller: str) -> dict[str, Any]:
    """A position report of the caller's own aircraft, at the service's current time."""
    return {
        "id": f"{caller}-1",
        "time": stamp(s.rt.clock()) + "Z",
        "lat": 35.0,
        "lon": 40.0 + 0.01 * CALLERS.index(caller),
        "altitude_m": 3000.0,
        "ground_speed_mps": 150.0,
        "track_deg": 90.0,
        "vertical_rate_mps": 0.0,
    }


def request_status(caller: str, obj: str | None, verb: str | None) -> int:
    """alpha asked bravo (about their conflict AB). Both sides and the coordinator and auditors read it;
    only bravo approves or denies, either side comments, only alpha withdraws; others: 404."""
    if caller == "anonymous":
        return 401
    if obj == "missing-rq" or caller not in ("alpha", "bravo", "cell", "auditor"):
        return 404
    if verb is None:
        return 200
    may = {"approve": {"bravo"}, "deny": {"bravo"}, "comment": {"alpha", "bravo"}, "withdraw": {"alpha"}}[verb]
    return 200 if caller in may else 403


THREADS = ("th-alpha-bravo", "missing-th")


def can_read_thread(caller: str, obj: str | None) -> int:
    """Participants read and post; the coordinator and auditors read (and may not post); others: 404."""
    if caller == "anonymous":
        return 401
    if obj != "th-alpha-bravo":
        return 404
    return 200 if caller in ("alpha", "bravo", "cell", "auditor") else 404


ENDPOINTS = ("ep-alpha", "ep-bravo", "missing-ep")
DELIVERIES = ("dl-alpha", "dl-bravo", "missing-dl")


def can_read_note(caller: str, obj: str | None, *, ack: bool) -> int:
    """A party reads and acknowledges its own notifications; the coordinator and auditors read all."""
    if caller == "anonymous":
        return 401
    if obj not in ("n-alpha", "n-bravo"):
        return 404
    if obj == f"n-{caller}":
        return 200
    return 200 if caller in ("cell", "auditor") and not ack else 404


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
    ("GET", "/v1/health/live"): Case((None,), lambda s, c, o: s.call("GET", "/v1/health/live", c), lambda s, c, o: 200),
    # the same answer whoever asks: here 503, the tests drive the tactical cycle (tests/api/test_observability.py)
    ("GET", "/v1/health/ready"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/health/ready", c), lambda s, c, o: 503
    ),
    ("GET", "/v1/clock"): Case((None,), lambda s, c, o: s.call("GET", "/v1/clock", c), lambda s, c, o: 200),
    # a live server: the coordinator is told 409 not_an_exercise (tests/api/test_exercise_api.py)
    ("POST", "/v1/exercise/advance"): Case(
        (None,),
        lambda s, c, o: s.call("POST", "/v1/exercise/advance", c, json={"seconds": 60}),
        lambda s, c, o: {"anonymous": 401, "cell": 409}.get(c, 403),
    ),
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
    ("GET", "/v1/api-keys"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/api-keys", c), lambda s, c, o: any_key(c)
    ),
    ("POST", "/v1/api-keys"): Case(
        (None,),
        lambda s, c, o: s.call("POST", "/v1/api-keys", c, json={"label": f"spare of {c}"}),
        lambda s, c, o: 401 if c == "anonymous" else 201,
    ),
    ("POST", "/v1/api-keys/{key_id}/revoke"): Case(
        (*(f"ak-{c}" for c in CALLERS[:-1]), "ak-missing"),
        lambda s, c, o: s.call("POST", f"/v1/api-keys/{s.obj_id(str(o))}/revoke", c),
        lambda s, c, o: (
            401 if c == "anonymous" else 404 if o == "ak-missing" else 200 if c == "cell" or o == f"ak-{c}" else 404
        ),
    ),
    ("GET", "/v1/certificates"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/certificates", c), lambda s, c, o: any_key(c)
    ),
    ("POST", "/v1/certificates"): Case(
        (None,),
        lambda s, c, o: s.call("POST", "/v1/certificates", c, json={"fingerprint": cert_of(c), "label": c}),
        lambda s, c, o: 401 if c == "anonymous" else 201,
    ),
    ("POST", "/v1/certificates/{fingerprint}/revoke"): Case(
        (*CALLERS[:-1], "missing-key"),
        lambda s, c, o: s.call("POST", f"/v1/certificates/{cert_of(str(o))}/revoke", c),
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
    ("GET", "/v1/notifications"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/notifications", c), lambda s, c, o: any_key(c)
    ),
    ("GET", "/v1/notifications/overdue"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/notifications/overdue", c), lambda s, c, o: any_key(c), audit=True
    ),
    ("GET", "/v1/notifications/{notification_id}"): Case(
        NOTES,
        lambda s, c, o: s.call("GET", f"/v1/notifications/{s.obj_id(str(o))}", c),
        lambda s, c, o: can_read_note(c, o, ack=False),
        audit=True,
    ),
    ("POST", "/v1/notifications/{notification_id}/ack"): Case(
        NOTES,
        lambda s, c, o: s.call("POST", f"/v1/notifications/{s.obj_id(str(o))}/ack", c),
        lambda s, c, o: can_read_note(c, o, ack=True),
    ),
    ("GET", "/v1/contacts"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/contacts", c), lambda s, c, o: any_key(c)
    ),
    ("PUT", "/v1/contacts"): Case(
        (None,),
        lambda s, c, o: s.call("PUT", "/v1/contacts", c, json={"contacts": [{"name": f"duty of {c}"}]}),
        lambda s, c, o: {"anonymous": 401, "watcher": 403}.get(c, 200),
    ),
    ("GET", "/v1/stream"): Case(
        (None,),
        lambda s, c, o: s.call("GET", "/v1/stream", c, params={"limit": 20, "idle_s": 0.3}),
        lambda s, c, o: any_key(c),
    ),
    ("POST", "/v1/endpoints"): Case(
        (None,),
        lambda s, c, o: s.call("POST", "/v1/endpoints", c, json={"kind": "email", "address": f"{c}@example.org"}),
        lambda s, c, o: {"anonymous": 401, "watcher": 403}.get(c, 201),
    ),
    ("GET", "/v1/endpoints"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/endpoints", c), lambda s, c, o: any_key(c)
    ),
    ("DELETE", "/v1/endpoints/{endpoint_id}"): Case(
        ENDPOINTS,
        lambda s, c, o: s.call("DELETE", f"/v1/endpoints/{s.obj_id(str(o))}", c),
        lambda s, c, o: 401 if c == "anonymous" else 200 if o == f"ep-{c}" else 404,
    ),
    ("GET", "/v1/deliveries"): Case(
        (None, "dead"),
        lambda s, c, o: s.call("GET", "/v1/deliveries", c, params={"state": o} if o else None),
        lambda s, c, o: any_key(c),
    ),
    ("POST", "/v1/deliveries/{delivery_id}/replay"): Case(
        DELIVERIES,
        lambda s, c, o: s.call("POST", f"/v1/deliveries/{s.obj_id(str(o))}/replay", c),
        lambda s, c, o: 401 if c == "anonymous" else 409 if o == f"dl-{c}" else 404,
    ),
    ("POST", "/v1/threads"): Case(
        (None,),
        lambda s, c, o: s.call(
            "POST",
            "/v1/threads",
            c,
            json={"participants": [s.party_ids["charlie"]], "subject": f"from {c}", "message": {"text": "hello"}},
        ),
        lambda s, c, o: {"anonymous": 401, "watcher": 403, "charlie": 422}.get(c, 201),
    ),
    ("GET", "/v1/threads"): Case((None,), lambda s, c, o: s.call("GET", "/v1/threads", c), lambda s, c, o: any_key(c)),
    ("GET", "/v1/threads/{thread_id}"): Case(
        THREADS,
        lambda s, c, o: s.call("GET", f"/v1/threads/{s.obj_id(str(o))}", c),
        lambda s, c, o: can_read_thread(c, o),
    ),
    ("POST", "/v1/threads/{thread_id}/messages"): Case(
        THREADS,
        lambda s, c, o: s.call("POST", f"/v1/threads/{s.obj_id(str(o))}/messages", c, json={"text": "ok"}),
        lambda s, c, o: (
            {200: 201, 404: 404, 401: 401}.get(can_read_thread(c, o), 0)
            if c not in ("cell", "auditor") or o == "missing-th"
            else 403
        ),
    ),
    ("GET", "/v1/templates"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/templates", c), lambda s, c, o: any_key(c)
    ),
    ("GET", "/v1/preferences"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/preferences", c), lambda s, c, o: any_key(c)
    ),
    ("PUT", "/v1/preferences"): Case(
        (None,),
        lambda s, c, o: s.call("PUT", "/v1/preferences", c, json={"language": "ru"}),
        lambda s, c, o: any_key(c),
    ),
    ("POST", "/v1/requests"): Case(
        (None,),
        lambda s, c, o: s.call("POST", "/v1/requests", c, json={"kind": "other", "about": s.cf["AB"], "text": "t"}),
        lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403, "cell": 422, "charlie": 422}.get(c, 201),
    ),
    ("GET", "/v1/requests"): Case(
        (None,), lambda s, c, o: s.call("GET", "/v1/requests", c), lambda s, c, o: any_key(c)
    ),
    ("GET", "/v1/requests/{request_id}"): Case(
        ("rq-approve", "missing-rq"),
        lambda s, c, o: s.call("GET", f"/v1/requests/{s.obj_id(str(o))}", c),
        lambda s, c, o: request_status(c, o, None),
        audit=True,
    ),
    **{
        ("POST", f"/v1/requests/{{request_id}}/{verb}"): Case(
            (f"rq-{verb}", "missing-rq"),
            lambda s, c, o, verb=verb: s.call(
                "POST", f"/v1/requests/{s.obj_id(str(o))}/{verb}", c, json={"text": "noted"}
            ),
            lambda s, c, o, verb=verb: request_status(c, o, verb),
        )
        for verb in ("approve", "deny", "comment", "withdraw")
    },
    ("POST", "/v1/tracks"): Case(
        (None,),
        lambda s, c, o: s.call("POST", "/v1/tracks", c, json={"reports": [track_report(s, c)]}),
        lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 200),
    ),
    **{
        ("POST", f"/v1/tracks/{{track_id}}/{verb}"): Case(
            (None,),
            lambda s, c, o, verb=verb: s.call("POST", f"/v1/tracks/no-such-track/{verb}", c, json={"reason": "r"}),
            lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 404),
        )
        for verb in ("claim", "disclaim")
    },
    ("GET", "/v1/alerts"): Case((None,), lambda s, c, o: s.call("GET", "/v1/alerts", c), lambda s, c, o: any_key(c)),
    ("GET", "/v1/tracks"): Case((None,), lambda s, c, o: s.call("GET", "/v1/tracks", c), lambda s, c, o: any_key(c)),
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


# Protected sites are public within the cell (docs/zones-and-sites.md): every caller with a key reads
# every site; only declaring parties declare, and only the owner revalidates or withdraws. The scene's
# sites lie far from every operation, so no conflict of theirs changes what the leak oracle allows.
SITES = ("site-alpha", "site-bravo", "missing-site")
SITE_UNTIL = "2026-12-31T00:00:00Z"
SITES_CSV = "name,category,lat,lon,radius_m,accuracy_m,valid_until\nDepot,warehouse,0.7,0.7,50,10,2026-12-31\n"


def site_of(s: Scene, obj: str) -> tuple[str, int]:
    """The scene's site ``obj`` (made by its owner on first use), or the missing id."""
    if obj == "missing-site":
        return MISSING_SITE, 1
    if obj not in s.sites:
        owner = obj.removeprefix("site-")
        body = {
            "name": f"clinic of {owner}",
            "category": "hospital",
            "position": "0.5N 0.5E" if owner == "alpha" else "0.6N 0.6E",
            "radius_m": 50,
            "accuracy_m": 10,
            "valid_until": SITE_UNTIL,
        }
        r = s.call("POST", "/v1/sites", owner, json=body)
        assert r.status_code == 201, r.text
        s.sites[obj] = (r.json()["site"]["id"], 1)
    return s.sites[obj]


def can_change_site(caller: str, obj: str | None) -> int:
    """Owners are sent a stale If-Match (412: past every other check), others the current version."""
    if caller == "anonymous":
        return 401
    if caller not in DECLARERS:
        return 403
    if obj == "missing-site":
        return 404
    return 412 if obj == f"site-{caller}" else 403


def change_site(verb: str) -> Case:
    def send(s: Scene, caller: str, obj: str | None) -> Any:
        site_id, version = site_of(s, str(obj))
        if_match = STALE if obj == f"site-{caller}" else f'"{version}"'
        body = {"valid_until": "2027-01-31T00:00:00Z"} if verb == "revalidate" else None
        return s.call("POST", f"/v1/sites/{site_id}/{verb}", caller, json=body, headers={"If-Match": if_match})

    return Case(SITES, send, lambda s, c, o: can_change_site(c, o))


def declare_site(s: Scene, caller: str, obj: str | None) -> Any:
    body = {
        "name": f"made by {caller}",
        "category": "school",
        "footprint": {"type": "Point", "coordinates": [1.0, 1.0 + CALLERS.index(caller) * 0.01]},
        "radius_m": 50,
        "accuracy_m": 10,
        "valid_until": SITE_UNTIL,
    }
    return s.call("POST", "/v1/sites", caller, json=body)


MATRIX.update(
    {
        ("POST", "/v1/sites"): Case(
            (None,), declare_site, lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 201)
        ),
        ("POST", "/v1/sites/import"): Case(
            (None,),
            lambda s, c, o: s.call("POST", "/v1/sites/import", c, json={"csv": SITES_CSV, "dry_run": True}),
            lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 200),
        ),
        ("GET", "/v1/sites"): Case((None,), lambda s, c, o: s.call("GET", "/v1/sites", c), lambda s, c, o: any_key(c)),
        ("GET", "/v1/sites/{site_id}"): Case(
            SITES,
            lambda s, c, o: s.call("GET", f"/v1/sites/{site_of(s, str(o))[0]}", c),
            lambda s, c, o: 401 if c == "anonymous" else 404 if o == "missing-site" else 200,
        ),
        ("POST", "/v1/sites/{site_id}/revalidate"): change_site("revalidate"),
        ("POST", "/v1/sites/{site_id}/withdraw"): change_site("withdraw"),
    }
)


# Zones: "zone-agreed" is alpha's zone agreed by bravo (visible to every caller); "zone-proposed" is
# bravo's proposal to charlie (visible to bravo, charlie and the coordinator only: for anyone else it
# reads exactly like a missing id). Both lie far from every operation.
ZONES = ("zone-agreed", "zone-proposed", "missing-zone")
ZONE_VALIDITY = {"start": "2026-12-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"}


def zone_of(s: Scene, obj: str) -> str:
    if obj == "missing-zone":
        return MISSING_ZONE
    if obj not in s.zones:
        owner, other = ("alpha", "bravo") if obj == "zone-agreed" else ("bravo", "charlie")
        body = {"counterparties": [s.party_ids[other]], "footprint": box(2.0, 2.0, 2.1, 2.1), "validity": ZONE_VALIDITY}
        r = s.call("POST", "/v1/zones", owner, json=body)
        assert r.status_code == 201, r.text
        s.zones[obj] = r.json()["zone"]["id"]
        if obj == "zone-agreed":
            r = s.call("POST", f"/v1/zones/{s.zones[obj]}/answer", other, json={"answer": "accepted"})
            assert r.status_code == 200, r.text
    return s.zones[obj]


def sees_zone(caller: str, obj: str | None) -> bool:
    return obj == "zone-agreed" or (obj == "zone-proposed" and caller in ("cell", "bravo", "charlie"))


def can_read_zone(caller: str, obj: str | None) -> int:
    if caller == "anonymous":
        return 401
    return 200 if sees_zone(caller, obj) else 404


def can_change_zone(caller: str, obj: str | None) -> int:
    """Owners get a stale If-Match (412); others the current version."""
    if caller == "anonymous":
        return 401
    if caller not in DECLARERS:
        return 403
    if not sees_zone(caller, obj):
        return 404
    owner = "alpha" if obj == "zone-agreed" else "bravo"
    return 412 if caller == owner else 403


def can_answer_zone(caller: str, obj: str | None) -> int:
    """Only a counter-party answers a proposal; an agreed zone has nothing pending."""
    if caller == "anonymous":
        return 401
    if caller not in DECLARERS:
        return 403
    if not sees_zone(caller, obj):
        return 404
    if obj == "zone-proposed":
        return 200 if caller == "charlie" else 403
    return 403 if caller != "bravo" else 409


def change_zone(verb: str) -> Case:
    def send(s: Scene, caller: str, obj: str | None) -> Any:
        zone_id = zone_of(s, str(obj))
        owner = {"zone-agreed": "alpha", "zone-proposed": "bravo"}.get(str(obj))
        headers = {"If-Match": STALE if caller == owner else '"1"'}
        body = {"name": "renamed"} if verb == "revise" else None
        return s.call("POST", f"/v1/zones/{zone_id}/{verb}", caller, json=body, headers=headers)

    return Case(ZONES, send, lambda s, c, o: can_change_zone(c, o))


def answer_zone(s: Scene, caller: str, obj: str | None) -> Any:
    zone_id = zone_of(s, str(obj))
    # charlie rejects (an answer is final, so every later caller sees the same state)
    return s.call("POST", f"/v1/zones/{zone_id}/answer", caller, json={"answer": "rejected"})


MATRIX.update(
    {
        ("POST", "/v1/zones"): Case(
            (None,),
            lambda s, c, o: s.call(
                "POST",
                "/v1/zones",
                c,
                json={
                    "counterparties": [s.party_ids["alpha" if c != "alpha" else "bravo"]],
                    "footprint": box(3.0, 3.0 + CALLERS.index(c) * 0.2, 3.1, 3.1 + CALLERS.index(c) * 0.2),
                    "validity": ZONE_VALIDITY,
                },
            ),
            lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 201),
        ),
        ("GET", "/v1/zones"): Case((None,), lambda s, c, o: s.call("GET", "/v1/zones", c), lambda s, c, o: any_key(c)),
        ("GET", "/v1/zones/{zone_id}"): Case(
            ZONES,
            lambda s, c, o: s.call("GET", f"/v1/zones/{zone_of(s, str(o))}", c),
            lambda s, c, o: can_read_zone(c, o),
        ),
        ("POST", "/v1/zones/{zone_id}/answer"): Case(ZONES, answer_zone, lambda s, c, o: can_answer_zone(c, o)),
        ("POST", "/v1/zones/{zone_id}/revise"): change_zone("revise"),
        ("POST", "/v1/zones/{zone_id}/withdraw"): change_zone("withdraw"),
    }
)


# Lines: visible to their two parties, their author and the coordinator ("line-ab": alpha's line between
# alpha and bravo, far from every operation); a 404 like a missing id for anyone else.
LINES = ("line-ab", "missing-line")


def line_body(s: Scene, left: str, right: str, lat: float) -> dict[str, Any]:
    return {
        "area": box(6.0, lat, 6.2, lat + 0.1),
        "line": {"type": "LineString", "coordinates": [[5.9, lat + 0.05], [6.3, lat + 0.05]]},
        "party_left": s.party_ids[left],
        "party_right": s.party_ids[right],
        "validity": ZONE_VALIDITY,
        "band_half_width_m": 200,
    }


def line_of(s: Scene, obj: str) -> str:
    if obj == "missing-line":
        return MISSING_LINE
    if obj not in s.lines:
        r = s.call("POST", "/v1/lines", "alpha", json=line_body(s, "alpha", "bravo", 6.0))
        assert r.status_code == 201, r.text
        s.lines[obj] = r.json()["line"]["id"]
    return s.lines[obj]


MATRIX.update(
    {
        ("POST", "/v1/lines"): Case(
            (None,),
            lambda s, c, o: s.call(
                "POST",
                "/v1/lines",
                c,
                json=line_body(
                    s,
                    c if c in DECLARERS else "alpha",
                    "bravo" if c != "bravo" else "alpha",
                    7.0 + CALLERS.index(c) * 0.2,
                ),
            ),
            lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 201),
        ),
        ("GET", "/v1/lines"): Case((None,), lambda s, c, o: s.call("GET", "/v1/lines", c), lambda s, c, o: any_key(c)),
        ("POST", "/v1/lines/{line_id}/withdraw"): Case(
            LINES,
            lambda s, c, o: s.call("POST", f"/v1/lines/{line_of(s, str(o))}/withdraw", c),
            lambda s, c, o: (
                401
                if c == "anonymous"
                else 403
                if c not in DECLARERS
                else 404
                if o != "line-ab" or c not in ("cell", "alpha", "bravo")
                else {"cell": 200}.get(c, 409)
            ),
        ),
        ("GET", "/v1/lines/{line_id}"): Case(
            LINES,
            lambda s, c, o: s.call("GET", f"/v1/lines/{line_of(s, str(o))}", c),
            lambda s, c, o: (
                401 if c == "anonymous" else 200 if o == "line-ab" and c in ("cell", "alpha", "bravo") else 404
            ),
        ),
    }
)


# Movements: an operation like any other, so only its owner and the coordinator read its route; each
# caller's movement runs far from everything (its own latitude), so none conflicts with another.
MOVEMENTS = ("mv-alpha", "missing-op")


def declare_movement(s: Scene, caller: str, lat: float) -> Any:
    body = {
        "kind": "ground",
        "movement": {
            "route": {"type": "LineString", "coordinates": [[20.0, lat], [20.05, lat]]},
            "departure": "2026-12-05T08:00:00Z",
            "speed_m_s": 10,
            "half_width_m": 20,
            "altitude": {"lower_m": 0, "upper_m": 5},
        },
    }
    r = s.call("POST", "/v1/movements", caller, json=body)
    if r.status_code == 201:  # the caller's own operation, like a probe
        s.own_ids[caller].add(r.json()["operation"]["id"])
        s.own_plans[caller].append(r.json()["operation"])
    return r


MOVEMENT_ELSEWHERE = {
    "route": {"type": "LineString", "coordinates": [[25.0, 25.0], [25.05, 25.0]]},
    "departure": "2026-12-06T08:00:00Z",
    "speed_m_s": 10,
    "half_width_m": 20,
    "altitude": {"lower_m": 0, "upper_m": 5},
}


def movement_of(s: Scene, obj: str) -> str:
    if obj not in s.movements:
        r = declare_movement(s, "alpha", 30.0)
        assert r.status_code == 201, r.text
        s.movements[obj] = r.json()["operation"]["id"]
    return s.movements[obj]


MATRIX.update(
    {
        ("POST", "/v1/movements"): Case(
            (None,),
            lambda s, c, o: declare_movement(s, c, 20.0 + CALLERS.index(c)),
            lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 201),
        ),
        ("PUT", "/v1/movements/{op_id}"): Case(
            MOVEMENTS,
            lambda s, c, o: s.call(
                "PUT",
                f"/v1/movements/{movement_of(s, str(o)) if o != 'missing-op' else MISSING_OP}",
                c,
                json={"kind": "ground", "movement": MOVEMENT_ELSEWHERE},
                headers={"If-Match": STALE if c == "alpha" and o == "mv-alpha" else '"1"'},
            ),
            lambda s, c, o: (
                401
                if c == "anonymous"
                else 403
                if c not in DECLARERS
                else 404
                if o != "mv-alpha"
                else {"alpha": 412, "cell": 403}.get(c, 404)
            ),
        ),
        ("GET", "/v1/movements/{op_id}"): Case(
            MOVEMENTS,
            lambda s, c, o: s.call(
                "GET", f"/v1/movements/{movement_of(s, str(o)) if o != 'missing-op' else MISSING_OP}", c
            ),
            lambda s, c, o: 401 if c == "anonymous" else 200 if o == "mv-alpha" and c in ("cell", "alpha") else 404,
        ),
    }
)


def import_body(caller: str) -> dict[str, Any]:
    site = {
        "object": "site",
        "party": caller,
        "name": "clinic",
        "category": "hospital",
        "radius_m": 50,
        "accuracy_m": 5,
        "valid_until": SITE_UNTIL,
    }
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [8.0, 8.0]}, "properties": site}],
    }


MATRIX.update(
    {
        ("GET", "/v1/export"): Case(
            (None, "kml"),
            lambda s, c, o: s.call("GET", "/v1/export", c, params={"format": o} if o else None),
            lambda s, c, o: any_key(c),
        ),
        ("POST", "/v1/import"): Case(
            (None,),
            lambda s, c, o: s.call("POST", "/v1/import", c, params={"dry_run": "true"}, json=import_body(c)),
            lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 200),
        ),
    }
)


UNITS = ("un-alpha", "un-bravo", "missing-un")


def unit_of(s: Scene, obj: str) -> str:
    """alpha's and bravo's units (made by their own keys on first use); a missing id otherwise."""
    if obj.startswith("missing"):
        return s.obj_id(obj)
    if obj not in s.units:
        owner = obj.removeprefix("un-")
        r = s.call("POST", "/v1/units", owner, json={"name": f"{owner} convoy team"})
        assert r.status_code == 201, r.text
        s.units[obj] = r.json()["unit"]["id"]
    return s.units[obj]


def unit_key_of(s: Scene, obj: str) -> str:
    if obj.startswith("missing"):
        return s.obj_id(obj)
    if obj not in s.units:
        r = s.call("POST", f"/v1/units/{unit_of(s, 'un-alpha')}/keys", "alpha")
        assert r.status_code == 201, r.text
        s.units[obj] = r.json()["key"]["id"]
    return s.units[obj]


def reads_unit(caller: str, obj: str | None) -> int:
    """A party's units are for the party, the coordinator and auditors; others get a 404."""
    if caller == "anonymous":
        return 401
    if obj is None or obj.startswith("missing"):
        return 404
    return 200 if caller in ("cell", "auditor", str(obj).removeprefix("un-")) else 404


def manages_unit(caller: str, obj: str | None, ok: int = 200) -> int:
    """The unit's party and the coordinator change it; an auditor (who reads it) may not: 403."""
    read = reads_unit(caller, obj)
    if read != 200:
        return read
    return 403 if caller == "auditor" else ok


MATRIX.update(
    {
        ("POST", "/v1/units"): Case(
            (None,),
            lambda s, c, o: s.call("POST", "/v1/units", c, json={"name": f"team of {c}"}),
            lambda s, c, o: {"anonymous": 401, "watcher": 403, "auditor": 403}.get(c, 201),
        ),
        ("GET", "/v1/units"): Case((None,), lambda s, c, o: s.call("GET", "/v1/units", c), lambda s, c, o: any_key(c)),
        ("GET", "/v1/units/{unit_id}"): Case(
            UNITS,
            lambda s, c, o: s.call("GET", f"/v1/units/{unit_of(s, str(o))}", c),
            lambda s, c, o: reads_unit(c, o),
        ),
        ("PUT", "/v1/units/{unit_id}/contacts"): Case(
            UNITS,
            lambda s, c, o: s.call(
                "PUT", f"/v1/units/{unit_of(s, str(o))}/contacts", c, json={"contacts": [{"name": f"duty of {c}"}]}
            ),
            lambda s, c, o: manages_unit(c, o),
        ),
        ("POST", "/v1/units/{unit_id}/keys"): Case(
            UNITS,
            lambda s, c, o: s.call("POST", f"/v1/units/{unit_of(s, str(o))}/keys", c),
            lambda s, c, o: manages_unit(c, o, 201),
        ),
        ("GET", "/v1/units/{unit_id}/keys"): Case(
            UNITS,
            lambda s, c, o: s.call("GET", f"/v1/units/{unit_of(s, str(o))}/keys", c),
            lambda s, c, o: manages_unit(c, o),
        ),
        ("POST", "/v1/units/{unit_id}/keys/{key_id}/revoke"): Case(
            ("uk-alpha", "missing-uk"),
            lambda s, c, o: s.call(
                "POST", f"/v1/units/{unit_of(s, 'un-alpha')}/keys/{unit_key_of(s, str(o))}/revoke", c
            ),
            lambda s, c, o: 404 if o == "missing-uk" and c in ("alpha", "cell") else manages_unit(c, "un-alpha"),
        ),
    }
)


@dataclass
class ReadAloud:
    """A PDF answer as its words (pdftotext), so that ``leaks`` reads what a person reads on the paper;
    its times as RFC 3339 again ("2026-11-23 08:00Z" -> "2026-11-23T08:00:00Z")."""

    status_code: int
    text: str
    headers: Any
    content: bytes = b""


def read_packet(r: Any) -> Any:
    if r.status_code != 200:
        return r
    words = re.sub(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d)Z", r"\1T\2:00Z", pdf.words(r.content))
    return ReadAloud(r.status_code, words, {k: v for k, v in r.headers.items() if k != "content-type"})


MATRIX[("GET", "/v1/packet")] = Case(
    (None,),
    lambda s, c, o: read_packet(s.call("GET", "/v1/packet", c, params={"at": "2026-11-23T09:07:00Z"})),
    lambda s, c, o: any_key(c),
)


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
    ("GET", "/v1/health/live"),
    ("GET", "/v1/health/ready"),
    ("GET", "/v1/clock"),
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


def cert_of(owner: str) -> str:
    """The fingerprint a caller binds in the matrix (a made-up certificate's SHA-256)."""
    return hashlib.sha256(f"client certificate of {owner}".encode()).hexdigest()


def test_client_certificates(scene: Scene) -> None:
    """A caller binds, lists and revokes its own client certificates only; another's is answered like a
    missing one."""
    scene.certificates = {c: cert_of(c) for c in (*CALLERS[:-1], "missing-key")}
    run(scene, ("POST", "/v1/certificates"))
    answers = run(scene, ("GET", "/v1/certificates"))
    for caller in CALLERS[:-1]:
        assert [c["fingerprint"] for c in answers[(caller, None)].json()["items"]] == [cert_of(caller)]
    run(scene, ("POST", "/v1/certificates/{fingerprint}/revoke"))


def test_api_keys(scene: Scene) -> None:
    """A caller lists, makes and revokes its own API keys only (the coordinator revokes anyone's); another's
    key is answered like a missing one, and no listing shows another party's keys."""
    made = run(scene, ("POST", "/v1/api-keys"))
    for caller in CALLERS[:-1]:
        scene.ids[f"ak-{caller}"] = made[(caller, None)].json()["key"]["id"]
    scene.ids["ak-missing"] = "ak_" + "0" * 26
    answers = run(scene, ("GET", "/v1/api-keys"))
    for caller in CALLERS[:-1]:
        items = answers[(caller, None)].json()["items"]
        assert {k["party"] for k in items} == {scene.party_ids[caller]}
        assert [k["label"] for k in items] == ["first key", f"spare of {caller}"]
    run(scene, ("POST", "/v1/api-keys/{key_id}/revoke"))


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


def test_notifications(scene: Scene) -> None:
    """Each party is told of its own conflicts only; it reads and acknowledges its own notifications, the
    coordinator and auditors read all; the stream carries the caller's own and nothing else."""
    for who in ("alpha", "bravo"):
        mine = scene.call("GET", "/v1/notifications", who).json()["items"]
        assert mine and {n["party"] for n in mine} == {scene.party_ids[who]}
        scene.notes[f"n-{who}"] = mine[0]["id"]
    for route in (
        ("GET", "/v1/notifications"),
        ("GET", "/v1/notifications/overdue"),
        ("GET", "/v1/notifications/{notification_id}"),
        ("POST", "/v1/notifications/{notification_id}/ack"),
        ("GET", "/v1/contacts"),
        ("PUT", "/v1/contacts"),
    ):
        run(scene, route)
    streams = run(scene, ("GET", "/v1/stream"))
    for caller in ("alpha", "bravo", "charlie"):
        text = streams[(caller, None)].text
        assert text.count("event: notification") >= 1
        for other in ("alpha", "bravo", "charlie"):
            if other != caller:
                assert f'"party":"{scene.party_ids[other]}"' not in text


def test_delivery_endpoints_and_dead_letters(scene: Scene) -> None:
    """A party manages only its own endpoints and deliveries; another's are answered like missing ones.
    A pending delivery cannot be replayed (409): only a dead letter can."""
    from deconfliction.service import delivery

    for who in ("alpha", "bravo"):
        r = scene.call("POST", "/v1/endpoints", who, json={"kind": "webhook", "address": "http://127.0.0.1:9/x"})
        assert r.status_code == 201 and r.json()["endpoint"]["secret"]
        scene.endpoints[f"ep-{who}"] = r.json()["endpoint"]["id"]
    # a new conflict between alpha and bravo queues one delivery for each
    for who, plan in (("alpha", PROBES["alpha"]), ("bravo", PROBES["bravo"])):
        assert scene.call("POST", "/v1/operations", who, json=plan).status_code == 201
        scene.own_plans[who].append(plan)
    for who in ("alpha", "bravo"):
        (d, *_) = delivery.list_deliveries(scene.rt, scene.rt_party(who))
        scene.endpoints[f"dl-{who}"] = d.id
    for route in (
        ("GET", "/v1/endpoints"),
        ("GET", "/v1/deliveries"),
        ("POST", "/v1/deliveries/{delivery_id}/replay"),
        ("POST", "/v1/endpoints"),
        ("DELETE", "/v1/endpoints/{endpoint_id}"),
    ):
        answers = run(scene, route)
        if route == ("GET", "/v1/deliveries"):
            for who in ("alpha", "bravo"):
                ids = {d["id"] for d in answers[(who, None)].json()["items"]}
                assert scene.endpoints[f"dl-{who}"] in ids
                other = "bravo" if who == "alpha" else "alpha"
                assert scene.endpoints[f"dl-{other}"] not in ids


def test_hotline(scene: Scene) -> None:
    """A thread is its participants' (and readable by the coordinator and auditors); messages name only what
    their sender may see."""
    r = scene.call(
        "POST",
        "/v1/threads",
        "alpha",
        json={"participants": [scene.party_ids["bravo"]], "subject": "crossing", "message": {"text": "call us"}},
    )
    assert r.status_code == 201, r.text
    scene.endpoints["th-alpha-bravo"] = r.json()["thread"]
    for route in (
        ("GET", "/v1/threads"),
        ("GET", "/v1/threads/{thread_id}"),
        ("POST", "/v1/threads/{thread_id}/messages"),
        ("POST", "/v1/threads"),
        ("GET", "/v1/templates"),
        ("GET", "/v1/preferences"),
        ("PUT", "/v1/preferences"),
    ):
        run(scene, route)


def test_requests(scene: Scene) -> None:
    """A request is its two sides' (and readable by the coordinator and auditors); each action is allowed to
    the side it belongs to; another party is answered as if it did not exist."""
    for name in ("rq-approve", "rq-deny", "rq-comment", "rq-withdraw"):
        r = scene.call("POST", "/v1/requests", "alpha", json={"kind": "other", "about": scene.cf["AB"], "text": name})
        assert r.status_code == 201, r.text
        scene.endpoints[name] = r.json()["request"]["id"]
    for route in [("GET", "/v1/requests"), ("GET", "/v1/requests/{request_id}"), ("POST", "/v1/requests")] + [
        ("POST", f"/v1/requests/{{request_id}}/{verb}") for verb in ("approve", "deny", "comment", "withdraw")
    ]:
        run(scene, route)


def test_tracks_and_alerts(scene: Scene) -> None:
    """A party reports its own aircraft only; alerts show a party those involving its own tracks."""
    run(scene, ("POST", "/v1/tracks"))
    answers = run(scene, ("GET", "/v1/alerts"))
    for caller in ("alpha", "bravo", "charlie"):
        for alert in answers[(caller, None)].json()["items"]:
            assert alert["own_tracks"], (caller, alert)


def test_the_situation_packet(scene: Scene) -> None:
    """Each caller's packet (read as text) names its own operations and its side of its conflicts, and
    nothing of another party's plan: the same need-to-know as the JSON reads."""
    answers = run(scene, ("GET", "/v1/packet"))
    assert PLANS["A"]["title"] in answers[("alpha", None)].text
    assert all(PLANS[n]["title"] in answers[("cell", None)].text for n in "AB")


def test_the_exercise_clock(scene: Scene) -> None:
    """A live server's clock is for everyone; its jump is refused to all (only a coordinator is told why)."""
    answers = run(scene, ("POST", "/v1/exercise/advance"))
    assert answers[("cell", None)].json()["code"] == "not_an_exercise"


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
        "volumes": [volume(circle([60.5, 20.5], 1000.0), 7100, 7300, "15:00", "16:00")],
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
        "volumes": [volume(circle([60.5, 20.5], 1000.0), 0, 9000, "06:00", "20:00")],
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


def test_protected_sites(scene: Scene) -> None:
    """Sites are public within the cell; only their owner changes them; nothing of an operation shows."""
    for route in [r for r in MATRIX if r[1].startswith("/v1/sites")]:
        run(scene, route)
    listed = scene.call("GET", "/v1/sites", "watcher").json()["items"]
    assert {scene.sites["site-alpha"][0], scene.sites["site-bravo"][0]} <= {x["id"] for x in listed}
    for obj in ("site-alpha", "site-bravo"):
        assert scene.call("GET", f"/v1/sites/{scene.sites[obj][0]}", "cell").json()["state"] == "active"


def test_zones(scene: Scene) -> None:
    """Agreed zones are for everyone; a proposal only for its owner, its counter-parties and the
    coordinator (a 404 like a missing id for anyone else); only the owner changes a zone."""
    for route in [r for r in MATRIX if r[1].startswith("/v1/zones") and r != ("POST", "/v1/zones/{zone_id}/answer")]:
        run(scene, route)
    listed = {
        c: {z["id"] for z in scene.call("GET", "/v1/zones", c).json()["items"]} for c in ("alpha", "charlie", "watcher")
    }
    assert scene.zones["zone-agreed"] in listed["watcher"] and scene.zones["zone-proposed"] not in listed["watcher"]
    assert scene.zones["zone-proposed"] in listed["charlie"] and scene.zones["zone-proposed"] not in listed["alpha"]
    run(scene, ("POST", "/v1/zones/{zone_id}/answer"))


def test_lines(scene: Scene) -> None:
    """A line is for its two parties, its author and the coordinator; its proposed zones likewise."""
    for route in [r for r in MATRIX if r[1].startswith("/v1/lines")]:
        run(scene, route)
    for caller, sees in (("alpha", True), ("bravo", True), ("charlie", False), ("watcher", False)):
        listed = {x["id"] for x in scene.call("GET", "/v1/lines", caller).json()["items"]}
        assert (scene.lines["line-ab"] in listed) is sees, caller


def test_movements(scene: Scene) -> None:
    """A movement's route is its owner's plan: only the owner and the coordinator read it."""
    for route in [r for r in MATRIX if r[1].startswith("/v1/movements")]:
        run(scene, route)


def test_export_and_import(scene: Scene) -> None:
    """An export holds the caller's own operations and nothing of another's; an import is checked."""
    zone_of(scene, "zone-agreed")
    site_of(scene, "site-bravo")
    answers = run(scene, ("GET", "/v1/export"))
    run(scene, ("POST", "/v1/import"))
    for caller in ("alpha", "bravo", "charlie"):
        features = answers[(caller, None)].json()["features"]
        ops_seen = {f["properties"]["id"] for f in features if f["properties"]["object"] == "operation"}
        assert ops_seen == {scene.ids[n] for n in "ABCD" if OWNER[n] == caller}, caller
        assert scene.zones["zone-agreed"] in {f["properties"]["id"] for f in features}


def test_units(scene: Scene) -> None:
    """A party's units, their ladders and their keys are its own business: another party gets a 404 as
    for a missing unit; the coordinator manages them, an auditor reads them."""
    for route in [r for r in MATRIX if r[1].startswith("/v1/units")]:
        run(scene, route)
    for caller in ("bravo", "charlie", "watcher"):
        listed = scene.call("GET", "/v1/units", caller).json()["items"]
        assert scene.units["un-alpha"] not in {u["id"] for u in listed}
    everyone = {u["id"] for u in scene.call("GET", "/v1/units", "cell").json()["items"]}
    assert {scene.units["un-alpha"], scene.units["un-bravo"]} <= everyone
