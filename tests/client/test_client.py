"""The Python client against the real service: uvicorn serving the app on a free port in a thread, over
real HTTP, with the system clock (the service checks a signature's time against its own).

Transports wrapped around httpx's own simulate a lost answer (the service applied the write, the client
never heard) and a failing proxy, to show that a retried write is applied once.
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.api.app import create_app
from deconfliction.client import (
    AlreadyExists,
    Altitude,
    ApiError,
    AwaitingAcknowledgement,
    BodyTooLarge,
    Client,
    Forbidden,
    InvalidTransition,
    MissingConflictTokens,
    NotAuthenticated,
    NotFound,
    PreconditionRequired,
    ServerError,
    SignatureInvalid,
    SignatureReplayed,
    SignatureRequired,
    StaleVersion,
    StateConflict,
    TooManyFailures,
    ValidationFailed,
    Volume,
    Window,
    WindowInPast,
    key_id_of,
)
from deconfliction.client.errors import error_for
from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import Store
from tests.shapes import circle, members

ROOT = Path(__file__).resolve().parents[2]
T0 = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
"""Ahead of the real clock the served runtime has (a window that has wholly passed is refused)."""


def bar(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    corners = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [corners]}


def vol(footprint: dict[str, Any], lo: float = 1000, hi: float = 3000, hours: float = 2) -> Volume:
    m = members(footprint)
    window = Window(T0, T0 + timedelta(hours=hours))
    return Volume(m["footprint"], Altitude(lo, hi), window, m.get("radius_m"), m.get("half_width_m"))


EAST_WEST = vol(bar(39.0, 35.0, 41.0, 35.1))
NORTH_SOUTH = vol(bar(40.0, 34.0, 40.1, 36.0))
FAR_AWAY = vol(circle([10.0, 50.0], 2000))


@dataclass
class Served:
    url: str
    rt: Runtime
    keys: dict[str, str]

    def client(self, name: str, **kw: Any) -> Client:
        return Client(self.url, self.keys[name], retries=kw.pop("retries", 2), backoff=0.0, **kw)


@pytest.fixture
def served(sqlite_store: Store) -> Iterator[Served]:
    """The app over a fresh SQLite store, served by uvicorn on a free port; a coordinator, two parties
    and an observer."""
    rt = Runtime(sqlite_store)
    keys = {}
    for name, role in (("cell", Role.COORDINATOR), ("alpha", Role.PARTY), ("bravo", Role.PARTY)):
        keys[name] = create_party(rt, None, name, role)[1]
    keys["watcher"] = create_party(rt, None, "watcher", Role.OBSERVER)[1]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=rt), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{sock.getsockname()[1]}", rt, keys)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def ledger_types(lines: list[bytes]) -> list[str]:
    return [e["content"]["type"] for e in map(orjson.loads, lines[1:]) if "content" in e]


# ------------------------------------------------------------------------------------ the happy path


def test_submit_revise_plan_with_tokens_and_a_conflict_seen_by_both_sides(served: Served) -> None:
    with served.client("alpha") as alpha, served.client("bravo") as bravo, served.client("cell") as cell:
        assert alpha.health().status == "ok"
        ready = alpha.ready()  # this app's tactical cycle is driven by the tests: not ready, and why
        assert ready.status == "not_ready" and ready.backend == "sqlite"
        assert [(c.name, c.ok) for c in ready.checks] == [
            ("database", True),
            ("migrations", True),
            ("tactical_cycle", False),
        ]
        assert alpha.me().name == "alpha"
        mine = alpha.submit("air", [EAST_WEST], title="alpha patrol", priority=5)
        assert (mine.operation.state, mine.operation.version, mine.conflicts) == ("draft", 1, ())
        assert mine.operation.volumes == (EAST_WEST,)  # what was sent comes back, typed
        theirs = bravo.submit("air", [NORTH_SOUTH])
        [seen_by_bravo] = theirs.conflicts
        assert seen_by_bravo.counterpart is not None and seen_by_bravo.counterpart.party_name == "alpha"
        assert seen_by_bravo.operation == theirs.operation.id
        [seen_by_alpha] = alpha.list_conflicts(operation=mine.operation).items
        assert seen_by_alpha.id == seen_by_bravo.id
        assert seen_by_alpha.counterpart is not None and seen_by_alpha.counterpart.party_name == "bravo"
        assert seen_by_alpha.operation == mine.operation.id and seen_by_alpha.token == theirs.operation.ovn
        assert seen_by_alpha.window == Window(T0, T0 + timedelta(hours=2))
        assert seen_by_alpha.encounters[0].own_volume == 0 and seen_by_alpha.rule.name == "air-air"
        both = cell.get_conflict(str(seen_by_alpha.id))
        assert {s.party_name: s.operation for s in both.sides} == {
            "alpha": mine.operation.id,
            "bravo": theirs.operation.id,
        }

        # proof of knowledge: refused without the token, which the refusal carries
        with pytest.raises(MissingConflictTokens) as refused:
            alpha.plan(mine.operation)
        assert refused.value.tokens == (seen_by_alpha.token,) and refused.value.missing[0].id == seen_by_alpha.id
        planned = alpha.plan(mine.operation, known_conflict_tokens=refused.value.tokens)
        assert (planned.operation.state, planned.operation.version, planned.tokens) == (
            "planned",
            2,
            refused.value.tokens,
        )
        # a revision keeps what it is not given (title, priority) and needs the tokens to stay planned
        moved = alpha.revise(
            planned.operation, volumes=[vol(bar(39.0, 35.0, 41.0, 35.2))], known_conflict_tokens=planned.tokens
        )
        assert (moved.operation.version, moved.operation.title, moved.operation.priority) == (3, "alpha patrol", 5)
        assert moved.operation.volumes[0].footprint == bar(39.0, 35.0, 41.0, 35.2)
        # alpha's change renewed the token bravo holds: its old one no longer proves knowledge
        with pytest.raises(MissingConflictTokens):
            bravo.plan(theirs.operation, known_conflict_tokens=theirs.tokens)
        fresh = bravo.get_conflict(str(seen_by_bravo.id))
        assert fresh.token == moved.operation.ovn != seen_by_bravo.token
        assert bravo.plan(theirs.operation, known_conflict_tokens=[str(fresh.token)]).operation.state == "planned"

        # and bravo's change renewed alpha's: a client reads its conflicts again before activating
        with pytest.raises(MissingConflictTokens):
            alpha.activate(moved.operation, known_conflict_tokens=moved.tokens)
        now_known = [str(c.token) for c in alpha.iter_conflicts(operation=moved.operation, state="open")]
        active = alpha.activate(moved.operation, known_conflict_tokens=now_known)
        before_end = datetime.now(UTC)
        ended = alpha.end(active.operation)
        assert (ended.operation.state, ended.conflicts) == ("ended", ())
        assert bravo.get_conflict(str(seen_by_bravo.id)).state == "resolved"
        assert bravo.get_conflict(str(seen_by_bravo.id), as_of=before_end).state == "open"
        assert [c.id for c in bravo.iter_conflicts(state="open", as_of=before_end)] == [seen_by_bravo.id]
        assert list(bravo.iter_conflicts(state="open")) == []
        cancelled = bravo.cancel(bravo.get_operation(theirs.operation.id))
        assert cancelled.operation.state == "cancelled"
        assert [o.id for o in alpha.iter_operations()] == [mine.operation.id]
        assert {o.id for o in cell.iter_operations()} == {mine.operation.id, theirs.operation.id}
        assert len(list(alpha.iter_parties())) == 4


def test_listings_page_with_cursors(served: Served) -> None:
    with served.client("alpha") as alpha:
        made = [alpha.submit("ground", [FAR_AWAY], title=f"n{i}").operation.id for i in range(2)]
        between = datetime.now(UTC)
        made += [alpha.submit("ground", [FAR_AWAY], title=f"n{i}").operation.id for i in range(2, 5)]
        first = alpha.list_operations(limit=2)
        assert [o.id for o in first] == made[:2] and first.next_cursor is not None
        second = alpha.list_operations(limit=2, cursor=first.next_cursor)
        assert [o.id for o in second] == made[2:4]
        assert [o.id for o in alpha.iter_operations(state="draft")] == made
        alpha.cancel(alpha.get_operation(made[0]))
        assert [o.id for o in alpha.list_operations(state=["cancelled"])] == made[:1]
        assert [o.id for o in alpha.list_operations(state=["draft", "planned"])] == made[1:]
        # as of a past time: what the ledger says the caller had then
        assert [(o.id, o.state) for o in alpha.iter_operations(as_of=between)] == [(i, "draft") for i in made[:2]]
        assert alpha.get_operation(made[0], as_of=between).state == "draft"
        with pytest.raises(NotFound):
            alpha.get_operation(made[2], as_of=between)


# -------------------------------------------------------------------------------------- signatures


def test_signed_writes_once_a_key_is_registered(served: Served) -> None:
    key = Ed25519PrivateKey.generate()
    with served.client("alpha", signing_key=key) as signed, served.client("alpha") as unsigned:
        assert unsigned.submit("air", [EAST_WEST]).operation.version == 1  # no key registered yet
        change = signed.register_key()
        assert change.key.key_id == key_id_of(key) and change.key.active
        with pytest.raises(SignatureRequired) as refused:
            unsigned.submit("air", [EAST_WEST])
        assert (refused.value.status, refused.value.code) == (401, "signature_required")
        op = signed.submit("air", [EAST_WEST], title="signed").operation
        op = signed.plan(op).operation
        op = signed.revise(op, title="signed again").operation
        signed.cancel(op)
        report = signed.verify_receipts()
        assert report.ok, [str(p) for p in report.problems]
        # the key's own registration (signed by itself: proof of possession) and the four writes
        assert report.signatures_checked == 5 and not report.unchecked
        # the ledger keeps the exact request the client signed
        entries = [orjson.loads(x) for x in signed.export_ledger()[1:]]
        kept = [e["content"]["signed"]["request"] for e in entries if "signed" in e.get("content", {})]
        assert [(r["method"], r["path"]) for r in kept] == [
            ("POST", "/v1/keys"),
            ("POST", "/v1/operations"),
            ("POST", f"/v1/operations/{op.id}/plan"),
            ("PUT", f"/v1/operations/{op.id}"),
            ("POST", f"/v1/operations/{op.id}/cancel"),
        ]
        assert kept[1]["body"]["title"] == "signed" and kept[2]["body"] == {"known_conflict_tokens": []}
        assert kept[4]["body"] is None


def test_rotation_switches_keys_and_revokes_the_old_one(served: Served) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    with served.client("bravo", signing_key=old) as bravo, served.client("bravo", signing_key=old) as stale:
        bravo.register_key()
        bravo.submit("air", [NORTH_SOUTH])
        rotation = bravo.rotate(new)
        assert rotation.added.key.key_id == key_id_of(new) and bravo.signing_key is new
        assert rotation.revoked is not None and rotation.revoked.key.key_id == key_id_of(old)
        assert rotation.revoked.key.revoked_at is not None
        assert [(k.key_id, k.active) for k in bravo.list_keys()] == [(key_id_of(old), False), (key_id_of(new), True)]
        with pytest.raises(SignatureInvalid) as refused:
            stale.submit("air", [NORTH_SOUTH])
        assert "revoked" in refused.value.detail
        bravo.submit("air", [NORTH_SOUTH])
        report = bravo.verify_receipts()
        # every change was signed: the first key by itself, the new key and the revocation by a key then active
        assert report.ok and report.signatures_checked == 5
        assert len(bravo.receipts) == 5  # key added, operation, key added, key revoked, operation


def test_a_stolen_api_key_alone_cannot_enrol_a_signing_key(served: Served) -> None:
    with served.client("alpha", signing_key=Ed25519PrivateKey.generate()) as alpha:
        alpha.register_key()
    with served.client("alpha", signing_key=Ed25519PrivateKey.generate()) as thief:
        with pytest.raises(NotAuthenticated):  # a key change signed by no active key of the party
            thief.register_key()
        with pytest.raises(NotAuthenticated):
            thief.submit("air", [EAST_WEST], title="not alpha's plan")


# ----------------------------------------------------------------------------------------- receipts


def test_receipts_are_kept_and_verified_and_a_tampered_one_is_caught(served: Served) -> None:
    with served.client("alpha") as alpha, served.client("bravo") as bravo:
        a = alpha.submit("air", [EAST_WEST])
        bravo.submit("air", [NORTH_SOUTH])  # entries alpha's export shows (the conflict) or redacts
        b = alpha.plan(a.operation, known_conflict_tokens=[str(c.token) for c in alpha.list_conflicts()])
        alpha.cancel(b.operation)
        assert [r.seq for r in alpha.receipts] == sorted({r.seq for r in alpha.receipts})
        assert len(alpha.receipts) == 3 and all(r.signature for r in alpha.receipts)
        assert alpha.receipts[-1].head is not None and alpha.receipts[-1].head.seq == alpha.ledger_head().seq
        report = alpha.verify_receipts()
        assert report.ok, [str(p) for p in report.problems]
        assert report.receipts_signed == 3 and report.redacted > 0

        # paging: an export fetched 2 entries at a time is byte for byte the export fetched at once
        whole = alpha.export_ledger()
        assert alpha.export_ledger(page_size=2) == whole
        assert alpha.verify_receipts(alpha.export_ledger(page_size=2)).receipts_signed == 3
        assert alpha.service_key().key_id == alpha.receipts[0].key_id

        good = list(alpha.receipts)
        alpha.receipts[1] = replace(good[1], at="2020-01-01T00:00:00.000000Z")
        report = alpha.verify_receipts(whole)
        assert [p.what for p in report.problems] == [f"receipt {good[1].seq}: the service's signature does not verify"]
        alpha.receipts[1] = replace(good[1], hash=good[0].hash)
        [problem] = alpha.verify_receipts(whole).problems
        assert "not in this chain" in problem.what
        alpha.receipts[:] = good
        # a changed export is caught too, at its line
        changed = [*whole[:2], whole[2].replace(b'"alpha"', b'"alphA"'), *whole[3:]]
        assert changed != whole
        assert [p.line for p in alpha.verify_receipts(changed).problems][:1] == [3]


# ----------------------------------------------------------------------------------- error mapping


def test_problem_documents_map_to_the_error_tree(served: Served) -> None:
    with served.client("alpha") as alpha, served.client("bravo") as bravo, served.client("watcher") as watcher:
        op = alpha.submit("air", [EAST_WEST]).operation
        with pytest.raises(NotFound) as missing:
            alpha.get_operation("op_00000000000000000000000000")
        assert (missing.value.status, missing.value.code, missing.value.problem["id"]) == (
            404,
            "not_found",
            "op_00000000000000000000000000",
        )
        with pytest.raises(NotFound):
            bravo.get_operation(op.id)  # another party's operation reads as absent
        with pytest.raises(NotFound):
            bravo.cancel(op)
        bravo.submit("air", [NORTH_SOUTH])
        with pytest.raises(MissingConflictTokens) as refused:
            alpha.plan(op)
        assert refused.value.status == 409 and isinstance(refused.value, StateConflict)
        [conflict] = refused.value.missing
        assert conflict.counterpart is not None and conflict.counterpart.party_name == "bravo"
        with pytest.raises(StaleVersion) as stale:
            alpha.revise(op, version=7, title="late")
        assert (stale.value.status, stale.value.current_version) == (412, 1)
        with pytest.raises(InvalidTransition) as wrong:
            alpha.end(op)
        assert (wrong.value.state, wrong.value.requested) == ("draft", "ended")
        inverted = Volume(EAST_WEST.footprint, Altitude(500, 100), Window(T0, T0 - timedelta(hours=1)))
        with pytest.raises(ValidationFailed) as invalid:
            alpha.submit("air", [EAST_WEST, inverted])
        assert invalid.value.status == 422
        assert [(e.field, e.code) for e in invalid.value.errors] == [
            ("volumes[1].window.end", "window_inverted"),
            ("volumes[1].altitude.lower_m", "altitude_inverted"),
        ]
        with pytest.raises(Forbidden):
            watcher.submit("air", [FAR_AWAY])
        with pytest.raises(Forbidden):
            alpha.create_party("delta")
        with served.client("cell") as cell:
            with pytest.raises(AlreadyExists):
                cell.create_party("alpha")
            created = cell.create_party("delta", "auditor")
            assert (created.party.name, created.party.role, created.api_key[:3]) == ("delta", "auditor", "dk_")
        with Client(served.url, "dk_wrong") as nobody, pytest.raises(NotAuthenticated) as unknown:
            nobody.me()
        assert unknown.value.status == 401 and type(unknown.value) is NotAuthenticated
        with pytest.raises(ValueError, match="no time zone"):
            Window(datetime(2026, 11, 23, 8), datetime(2026, 11, 23, 9)).to_json()


def test_activation_over_a_site_awaits_acknowledgement_or_takes_an_override(served: Served) -> None:
    from deconfliction.domain.site import SiteCategory, SitePoint
    from deconfliction.service import sites

    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    with served.rt.store.read() as tx:
        agency = next(p for p in tx.parties.list(limit=100) if p.name == "alpha")
    sites.create_site(
        served.rt,
        agency,
        sites.SiteDraft("Clinic", SiteCategory.HOSPITAL, SitePoint((40.14, 35.33)), 80, 20, soon + timedelta(days=30)),
    )
    convoy = Volume(
        {"type": "Point", "coordinates": [40.145, 35.33]},
        Altitude(0, 10),
        Window(soon, soon + timedelta(hours=2)),
        radius_m=50,
    )
    with served.client("bravo") as bravo:
        draft = bravo.submit("ground", [convoy])
        planned = bravo.plan(draft.operation, known_conflict_tokens=draft.tokens)
        with pytest.raises(AwaitingAcknowledgement) as waiting:
            bravo.activate(planned.operation, known_conflict_tokens=planned.tokens)
        [c] = waiting.value.conflicts
        assert (c.id, c.kind, c.content_version) == (draft.conflicts[0].id, "protected_site", 1)
        assert [(a.party, a.party_name) for a in c.awaiting] == [(agency.id, "alpha")]
        assert isinstance(waiting.value, StateConflict) and waiting.value.status == 409
        with pytest.raises(ValidationFailed) as bad:
            bravo.activate(planned.operation, known_conflict_tokens=planned.tokens, override={c.id or "": " "})
        assert [e.field for e in bad.value.errors] == ["override[0].reason"]
        active = bravo.activate(
            planned.operation, known_conflict_tokens=planned.tokens, override={c.id or "": "Casualty evacuation"}
        )
        assert active.operation.state == "active"
        assert "conflict.overridden" in ledger_types(bravo.export_ledger())


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (502, b"<html>bad gateway</html>", ServerError, "http_error"),
        (500, b'{"code": "internal_error", "detail": "boom"}', ServerError, "internal_error"),
        (409, b'{"code": "brand_new_conflict_code"}', StateConflict, "brand_new_conflict_code"),
        (418, b'{"code": "teapot"}', ApiError, "teapot"),
        (401, b'{"code": "signature_replayed"}', SignatureReplayed, "signature_replayed"),
        (428, b'{"code": "precondition_required"}', PreconditionRequired, "precondition_required"),
        (413, b'{"code": "body_too_large", "limit": 10}', BodyTooLarge, "body_too_large"),
        (429, b'{"code": "too_many_failures", "retry_after_s": 7}', TooManyFailures, "too_many_failures"),
        (429, b"<html>slow down</html>", TooManyFailures, "http_error"),
    ],
)
def test_unknown_codes_and_foreign_answers_map_by_status(
    status: int, body: bytes, expected: type[ApiError], code: str
) -> None:
    error = error_for(httpx.Response(status, content=body))
    assert isinstance(error, expected) and (error.status, error.code) == (status, code)


# ------------------------------------------------------------------------------------------ retries


class Flaky(httpx.BaseTransport):
    """Real HTTP, with a failure injected into chosen attempts: ``lose`` sends the request and drops the
    answer (the service applied it, the client never heard), ``refuse`` fails before sending, ``gateway``
    answers 503 itself as a failing proxy would. Keeps every request it sent."""

    def __init__(self, faults: dict[int, str], only: Callable[[httpx.Request], bool]) -> None:
        self.inner = httpx.HTTPTransport()
        self.faults = faults
        self.only = only
        self.seen: list[httpx.Request] = []
        self.reached: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.only(request):
            return self.inner.handle_request(request)
        self.seen.append(request)
        fault = self.faults.get(len(self.seen))
        if fault == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        if fault == "gateway":
            return httpx.Response(503, content=b"upstream unavailable", request=request)
        response = self.inner.handle_request(request)
        self.reached.append(request)
        if fault == "lose":
            response.read()
            response.close()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def is_submit(r: httpx.Request) -> bool:
    return r.method == "POST" and r.url.path == "/v1/operations"


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_write_whose_answer_was_lost_is_retried_and_applied_once(served: Served, signed: bool) -> None:
    key = Ed25519PrivateKey.generate() if signed else None
    flaky = Flaky({1: "lose"}, is_submit)
    with served.client("alpha", signing_key=key, transport=flaky) as alpha:
        if key is not None:
            alpha.register_key()
        result = alpha.submit("air", [EAST_WEST], title="once")
        assert result.replayed  # the second attempt got the stored answer of the first
        first, second = flaky.seen
        assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
        assert first.content == second.content
        if signed:  # signed afresh, accepted because the key's stored answer comes first
            assert first.headers["Deconfliction-Signature"] != second.headers["Deconfliction-Signature"]
        else:
            assert "Deconfliction-Signature" not in second.headers
        assert [o.id for o in alpha.iter_operations()] == [result.operation.id]
        lines = alpha.export_ledger()
        assert ledger_types(lines).count("operation.created") == 1
        assert len(alpha.receipts) == (2 if signed else 1)
        report = alpha.verify_receipts(lines)
        assert report.ok and report.signatures_checked == (2 if signed else 0)  # + the key's registration


def test_a_5xx_or_a_refused_connection_is_retried_and_a_non_idempotent_write_is_not(served: Served) -> None:
    flaky = Flaky({1: "gateway", 2: "refuse"}, is_submit)
    with served.client("alpha", transport=flaky) as alpha:
        result = alpha.submit("air", [EAST_WEST])
        assert not result.replayed and len(flaky.seen) == 3 and len(flaky.reached) == 1
        assert len({r.headers["Idempotency-Key"] for r in flaky.seen}) == 1
    # with no retries left, the failure surfaces as it is
    flaky = Flaky({1: "gateway"}, is_submit)
    with served.client("alpha", transport=flaky, retries=0) as alpha, pytest.raises(ServerError) as failed:
        alpha.submit("air", [EAST_WEST])
    assert failed.value.status == 503 and failed.value.detail == "upstream unavailable"
    # registering a key has no Idempotency-Key: a lost answer is not repeated (it would answer 409)
    flaky = Flaky({1: "lose"}, lambda r: r.url.path == "/v1/keys" and r.method == "POST")
    key = Ed25519PrivateKey.generate()
    with served.client("bravo", transport=flaky) as bravo:
        with pytest.raises(httpx.ReadError):
            bravo.register_key(key)
        assert len(flaky.seen) == 1 and [k.key_id for k in bravo.list_keys()] == [key_id_of(key)]
    # but one that never left is sent again, whatever it is
    flaky = Flaky({1: "refuse"}, lambda r: r.url.path == "/v1/parties" and r.method == "POST")
    with served.client("cell", transport=flaky) as cell:
        assert cell.create_party("echo").party.name == "echo" and len(flaky.seen) == 2


def test_a_caller_chosen_idempotency_key_reused_for_another_request_is_refused(served: Served) -> None:
    with served.client("alpha") as alpha:
        first = alpha.submit("air", [EAST_WEST], idempotency_key="plan-42")
        again = alpha.submit("air", [EAST_WEST], idempotency_key="plan-42")
        assert again.replayed and again.operation.id == first.operation.id and len(alpha.receipts) == 1
        with pytest.raises(StateConflict) as reused:
            alpha.submit("air", [NORTH_SOUTH], idempotency_key="plan-42")
        assert reused.value.code == "idempotency_key_reused" and reused.value.problem["key"] == "plan-42"


# ------------------------------------------------------------------------------- the documented example


def test_the_example_in_docs_api_md_runs(served: Served) -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text[text.index("## Python client") :]
    [example] = re.findall(r"```python\n(.*?)```", section, flags=re.S)[:1]
    east = create_party(served.rt, None, "East Force", Role.PARTY)[1]
    start = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), clock_time(8), tzinfo=UTC)  # as the example
    disc = circle([40.0, 35.0], 5000)
    with Client(served.url, east) as other:
        other.submit(
            "air",
            [Volume(disc["footprint"], Altitude(0, 3000), Window(start, start + timedelta(hours=2)), disc["radius_m"])],
        )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "docs/api.md", "exec"), {"BASE_URL": served.url, "API_KEY": served.keys["alpha"]})
    assert out.getvalue().splitlines() == [f"East Force {start} 0.0", "True True"]
    with served.client("alpha") as alpha:
        [op] = alpha.iter_operations()
        assert (op.title, op.state) == ("ISR orbit", "planned")
        assert [k.active for k in alpha.list_keys()] == [True]


def test_units_their_keys_and_declaring_for_a_unit(served: Served) -> None:
    from deconfliction.client import Contact, Unit

    with served.client("alpha") as alpha, served.client("bravo") as bravo:
        convoy = alpha.create_unit(
            "Convoy team", contacts=[Contact("lead", {"radio": "ch 7"})], area=bar(40, 35, 41, 36)
        )
        assert isinstance(convoy, Unit) and convoy.contacts == (Contact("lead", {"radio": "ch 7"}),)
        assert convoy.area is not None and convoy.area["type"] == "Polygon"
        air = alpha.create_unit("Air wing")
        assert [u.id for u in alpha.iter_units()] == [convoy.id, air.id]
        assert alpha.set_unit_contacts(air, [{"name": "ops"}]).version == 2
        with pytest.raises(AlreadyExists):
            alpha.create_unit("Convoy team")
        with pytest.raises(ValidationFailed) as e:
            alpha.submit("air", [EAST_WEST], unit="un_nope")
        assert e.value.errors[0].field == "unit"
        issued = alpha.issue_unit_key(convoy)
        assert issued.api_key and issued.unit == convoy.id
        with Client(served.url, issued.api_key, backoff=0.0) as as_convoy:
            assert as_convoy.me().unit == convoy.id
            own = as_convoy.submit("air", [EAST_WEST])
            assert own.operation.unit == convoy.id
            sib = alpha.submit("air", [FAR_AWAY], unit=air)
            assert sib.operation.unit == air.id
            assert [o.id for o in as_convoy.iter_operations()] == [own.operation.id]
            with pytest.raises(NotFound):
                as_convoy.get_operation(sib.operation.id)
            assert [u.id for u in as_convoy.iter_units()] == [convoy.id]
            revised = alpha.revise(sib.operation, unit=convoy)
            assert revised.operation.unit == convoy.id
            bravo.submit("air", [NORTH_SOUTH])
            assert {o.id for o in as_convoy.iter_operations()} == {own.operation.id, sib.operation.id}
        (key,) = alpha.list_unit_keys(convoy)
        assert alpha.revoke_unit_key(convoy, key.id).revoked_at is not None
        assert bravo.list_units().items == ()


def test_tracks_are_claimed_and_disclaimed_and_the_receipts_kept(served: Served) -> None:
    from deconfliction.client import TrackNotClaimable

    now = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"
    seen = {"id": "UNK 7/a", "time": now, "lat": 35.3, "lon": 40.3, "altitude_m": 250.0}
    seen |= {"ground_speed_mps": 5.0, "track_deg": 90.0, "affiliation": "unknown"}
    r = httpx.post(
        served.url + "/v1/tracks", json={"reports": [seen]}, headers={"Authorization": f"Bearer {served.keys['alpha']}"}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1
    bravo, alpha = served.client("bravo"), served.client("alpha")
    claimed = bravo.claim_track("UNK 7/a", reason="our patrol")  # an id with a space and a slash, quoted
    assert (claimed.track, claimed.statement, claimed.party, claimed.affiliation) == (
        "UNK 7/a",
        "claimed",
        bravo.me().id,
        "party",
    )
    with pytest.raises(TrackNotClaimable) as refused:
        alpha.claim_track("UNK 7/a")
    assert refused.value.status == 409 and refused.value.track == "UNK 7/a"
    with pytest.raises(NotFound):
        alpha.disclaim_track("UNK 7/a")  # not alpha's, and no longer of no party
    gone = bravo.disclaim_track("UNK 7/a")
    assert (gone.statement, gone.party, gone.affiliation) == ("disclaimed", None, "unknown")
    assert bravo.receipts == [claimed.receipt, gone.receipt]
    report = bravo.verify_receipts()
    assert report.ok, [str(p) for p in report.problems]
    assert ledger_types(bravo.export_ledger())[-2:] == ["track.claimed", "track.disclaimed"]


def test_a_past_window_historical_records_expired_conflicts_and_warnings_typed(served: Served) -> None:
    from deconfliction.service.sanity import expire_conflicts

    yesterday = datetime.now(UTC) - timedelta(days=1)
    strike = Volume(bar(40.0, 35.0, 40.1, 35.1), Altitude(0, 3000), Window(yesterday, yesterday + timedelta(hours=1)))
    with served.client("alpha") as alpha, served.client("bravo") as bravo:
        with pytest.raises(WindowInPast) as refused:
            alpha.submit("air", [strike])
        assert isinstance(refused.value, ValidationFailed) and refused.value.status == 422
        assert [e.field for e in refused.value.errors] == ["volumes[0].window.end"]
        record = alpha.submit("air", [strike], historical=True, title="strike, for the inquiry")
        assert record.operation.historical and record.conflicts == () and record.warnings == ()
        # bravo, over the same place since the day before yesterday and until tomorrow
        since = Window(yesterday - timedelta(days=1), datetime.now(UTC) + timedelta(days=1))
        live = bravo.submit("air", [Volume(bar(40.05, 35.05, 40.15, 35.15), Altitude(0, 3000), since)])
        assert live.conflicts == () and not live.operation.historical
        assert len(bravo.list_conflicts().items) == 0
        [kept] = bravo.list_conflicts(state="expired").items
        assert kept.state == "expired" and kept.historical
        # the swapped twin of alpha's footprint, typed latitude first, at FL350 given as metres
        twin = Volume(bar(35.0, 40.0, 35.1, 40.1), Altitude(0, 35000), Window(T0, T0 + timedelta(hours=1)))
        warned = alpha.submit("air", [twin])
        assert [(w.field, w.code) for w in warned.warnings] == [
            ("volumes[0].footprint", "coordinates_look_swapped"),
            ("volumes[0].altitude", "altitude_looks_like_feet"),
        ]
    assert expire_conflicts(served.rt) == 0  # nothing open has ended


def test_times_may_be_iso_strings_and_a_time_without_an_offset_is_refused_by_name(served: Served) -> None:
    start = T0.isoformat().replace("+00:00", "Z")
    end = (T0 + timedelta(hours=2)).astimezone(timezone(timedelta(hours=2))).isoformat()  # another offset
    window = Window(start, end)
    assert (window.start, window.end) == (T0, T0 + timedelta(hours=2))
    with served.client("alpha") as alpha:
        made = alpha.submit("air", [Volume(bar(39.0, 35.0, 41.0, 35.1), Altitude(1000, 3000), window)], title="iso")
        op = made.operation
        assert op.volumes[0].window == window
        assert alpha.get_operation(op.id, as_of=datetime.now(UTC).isoformat()).id == op.id
    with pytest.raises(ValueError, match="no time zone"):
        Window("2026-11-23T08:00:00", end)
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        Window("tomorrow at eight", end)
    with pytest.raises(TypeError, match="not int"):
        Window(1_700_000_000, end)  # type: ignore[arg-type]


def test_api_keys_are_made_listed_and_revoked(served: Served) -> None:
    from datetime import UTC, datetime, timedelta

    from deconfliction.client import ApiKey, NotAuthenticated

    with served.client("alpha") as alpha:
        later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        made = alpha.create_api_key("gateway", expires_at=later)
        assert made.secret and made.key.expires_at == later and made.key.active
        assert made.receipt in alpha.receipts
        listed = alpha.list_api_keys()
        assert [k.label for k in listed] == ["first key", "gateway"] and all(isinstance(k, ApiKey) for k in listed)
        with Client(served.url, made.secret, backoff=0.0) as gateway:
            assert gateway.me().name == "alpha"
            revoked = alpha.revoke_api_key(made.key.id)
            assert revoked.key.revoked_at is not None and revoked.secret is None and not revoked.key.active
            with pytest.raises(NotAuthenticated):
                gateway.me()
