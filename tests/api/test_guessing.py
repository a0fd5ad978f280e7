"""Limits on guessing (docs/security.md): failed authentications counted per source address and per
claimed party in the database; past the limit 429 with Retry-After; the lockout a ledger entry the
coordinator reads; each failure logged without the secret; a valid caller from another address is not
slowed; the window slides; and the count holds across two server processes on one database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from bench.servers import Server
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from deconfliction.api.app import create_app
from deconfliction.client.errors import TooManyFailures, error_for
from deconfliction.domain.party import Party, Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.settings import Settings
from deconfliction.store import open_store
from tests.conftest import FakeClock, auth, make_postgres_database

LIMIT = 3
WINDOW_S = 60


@pytest.fixture
def guarded_rt(rt: Runtime) -> Runtime:
    return replace(rt, limits=replace(rt.limits, auth_failures_max=LIMIT, auth_failures_window_s=WINDOW_S))


def ledger(c: TestClient, key: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in c.get("/v1/ledger", headers=auth(key)).content.splitlines()[1:]]


def test_guessing_keys_locks_the_address_out_and_not_a_caller_elsewhere(
    guarded_rt: Runtime,
    parties: dict[str, tuple[Party, str]],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alpha_key, cell_key = parties["alpha"][1], parties["cell"][1]
    app = create_app(runtime=guarded_rt)
    with (
        TestClient(app, client=("203.0.113.7", 40000)) as attacker,
        TestClient(app, client=("198.51.100.2", 40000)) as elsewhere,
        caplog.at_level(logging.WARNING, logger="deconfliction.events"),
    ):
        guesses = [f"guess-{i}-{'x' * 40}" for i in range(LIMIT + 1)]
        answers = [attacker.get("/v1/operations", headers=auth(g)) for g in guesses]
        assert [a.status_code for a in answers] == [401] * LIMIT + [429]
        refused = answers[-1]
        assert refused.json()["code"] == "too_many_failures"
        assert 1 <= int(refused.headers["Retry-After"]) <= WINDOW_S
        assert refused.json()["retry_after_s"] == int(refused.headers["Retry-After"])
        error = error_for(refused)  # what the Python client raises
        assert isinstance(error, TooManyFailures) and error.retry_after_s == int(refused.headers["Retry-After"])
        # the address is locked even for a right key it has not used before: guessing stops here
        assert attacker.get("/v1/operations", headers=auth(alpha_key)).status_code == 429

        # a valid caller from another address is not slowed, nor is a wrong key from there locked yet
        assert elsewhere.get("/v1/operations", headers=auth(alpha_key)).status_code == 200
        assert elsewhere.get("/v1/operations", headers=auth("wrong-" + "y" * 40)).status_code == 401

        # the lockout is one ledger entry the coordinator reads; a party reads it redacted
        locks = [
            e["content"] for e in ledger(elsewhere, cell_key) if e.get("content", {}).get("type") == "auth.locked_out"
        ]
        assert len(locks) == 1
        assert locks[0]["payload"]["address"] == "203.0.113.7" and locks[0]["payload"]["failures"] == LIMIT
        seen_by_alpha = ledger(elsewhere, alpha_key)
        assert not any(e.get("content", {}).get("type") == "auth.locked_out" for e in seen_by_alpha)

        # each failure is logged with its kind and address, never with the key that was tried
        failures = [r.getMessage() for r in caplog.records if "authentication failed" in r.getMessage()]
        assert len(failures) == LIMIT + 1  # the attacker's three and the one from elsewhere
        assert all("api_key" in m for m in failures) and "203.0.113.7" in failures[0]
        assert not any(g in m for g in guesses for m in failures)

        # the window slides: once the failures are old enough the address may try again
        clock.advance(seconds=WINDOW_S + 1)
        assert attacker.get("/v1/operations", headers=auth(alpha_key)).status_code == 200


def test_a_verified_key_is_not_slowed_on_a_locked_address(
    guarded_rt: Runtime, parties: dict[str, tuple[Party, str]]
) -> None:
    """A key this process verified before is served from its cache: a lock on the address is for
    guesses, not for the party that already proved who it is."""
    alpha_key = parties["alpha"][1]
    with TestClient(create_app(runtime=guarded_rt), client=("203.0.113.8", 40000)) as c:
        assert c.get("/v1/operations", headers=auth(alpha_key)).status_code == 200
        for i in range(LIMIT):
            assert c.get("/v1/operations", headers=auth(f"bad-{i}-" + "z" * 40)).status_code == 401
        assert c.get("/v1/operations", headers=auth("bad-last-" + "z" * 40)).status_code == 429
        assert c.get("/v1/operations", headers=auth(alpha_key)).status_code == 200


@pytest.fixture(params=["sqlite", "postgresql"])
def two_servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Server, str]]:
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'guess.db'}", None
    else:
        url, drop = make_postgres_database()
    rt = Settings().runtime(open_store(url))
    try:
        _, key = create_party(rt, None, "North", Role.PARTY)
    finally:
        rt.store.close()
    env = {"DECONFLICTION_AUTH_FAILURES_MAX": "4", "DECONFLICTION_AUTH_FAILURES_WINDOW_S": "600"}
    servers = [Server(url, tmp_path, env=env), Server(url, tmp_path, env=env)]
    try:
        for s in servers:
            s.wait_ready()
        yield servers[0], servers[1], key
    finally:
        for s in servers:
            s.stop()
        if drop is not None:
            drop()


def test_the_limit_holds_across_two_server_processes(two_servers: tuple[Server, Server, str]) -> None:
    a, b, key = two_servers
    statuses = []
    for i in range(4):  # the guesses alternate between the two processes
        server = (a, b)[i % 2]
        statuses.append(httpx.get(server.url + "/v1/operations", headers=auth(f"guess-{i}-" + "q" * 40)).status_code)
    assert statuses == [401, 401, 401, 401]
    for server in (a, b):  # both processes now refuse this address
        r = httpx.get(server.url + "/v1/operations", headers=auth("guess-again-" + "q" * 40))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # a valid caller from another address (127.0.0.2 is loopback too) is served by both
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=other) as c:
        for server in (a, b):
            assert c.get(server.url + "/v1/operations", headers=auth(key)).status_code == 200
    for server in (a, b):  # the failures are logged, the keys tried are not
        text = server.log_path.read_text(errors="replace")
        assert "authentication failed" in text and "q" * 40 not in text


def test_guessing_signatures_locks_the_claimed_party_from_every_address(
    guarded_rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    """Signatures are checked after the API key, so whoever guesses them holds the party's key: the
    failures count against the party, and its signed writes stop from any address until the window
    passes; the party is told by the ledger entry."""
    from tests.api.test_signing_api import BODY, post_signed, public

    alpha_key = parties["alpha"][1]
    k, wrong = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    app = create_app(runtime=guarded_rt)
    addresses = [("192.0.2.1", 1), ("192.0.2.2", 1), ("192.0.2.3", 1), ("192.0.2.4", 1)]
    clients = [TestClient(app, client=a) for a in addresses]
    with clients[0] as c0, clients[1] as c1, clients[2] as c2, clients[3] as c3:
        assert c0.post("/v1/keys", json={"public_key": public(k)}, headers=auth(alpha_key)).status_code == 201
        answers = [post_signed(c, alpha_key, wrong, clock) for c in (c0, c1, c2)]  # one address each
        assert [a.json()["code"] for a in answers] == ["signature_invalid"] * LIMIT
        # the party is locked: even a good signature from a fourth address waits
        refused = post_signed(c3, alpha_key, k, clock)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        # reading needs no signature and is not what was guessed
        assert c3.get("/v1/operations", headers=auth(alpha_key)).status_code == 200
        locks = [e["content"] for e in ledger(c3, alpha_key) if e.get("content", {}).get("type") == "auth.locked_out"]
        assert [lock["payload"]["scope"] for lock in locks] == [f"party:{parties['alpha'][0].id}"]
        clock.advance(seconds=WINDOW_S + 1)
        assert post_signed(c3, alpha_key, k, clock, body=BODY).status_code == 201
