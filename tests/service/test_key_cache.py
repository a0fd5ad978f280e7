"""The cache of verified API keys (``runtime.KeyCache``) and its use by the HTTP layer.

A key found in the database is kept for ``ttl_s`` seconds, keyed by its SHA-256; a wrong key is never
kept (every attempt is refused again, by the database); an expired entry is looked up again.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from deconfliction.api.app import create_app
from deconfliction.domain.party import Party, Role
from deconfliction.errors import NotAuthenticated
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import KeyCache, Runtime
from deconfliction.store.sqlite import SQLiteStore

ALICE = Party("pt_alice", "alice", Role.PARTY, datetime(2026, 1, 1, tzinfo=UTC))


def test_a_verified_key_is_served_from_the_cache_until_it_expires() -> None:
    cache = KeyCache(ttl_s=3600.0)
    calls: list[str] = []

    def look_up() -> Party:
        calls.append("db")
        return ALICE

    assert cache.party("dk_secret", look_up) is ALICE
    assert cache.party("dk_secret", look_up) is ALICE
    assert calls == ["db"]
    assert hashlib.sha256(b"dk_secret").hexdigest() in cache._entries  # keyed by the hash, not the key
    assert "dk_secret" not in cache._entries
    cache.clear()
    assert cache.party("dk_secret", look_up) is ALICE
    assert calls == ["db", "db"]


def test_an_expired_entry_is_looked_up_again() -> None:
    cache = KeyCache(ttl_s=0.0)
    calls: list[str] = []

    def look_up() -> Party:
        calls.append("db")
        return ALICE

    cache.party("dk_secret", look_up)
    cache.party("dk_secret", look_up)
    assert calls == ["db", "db"]


def test_a_wrong_key_is_never_cached() -> None:
    cache = KeyCache()

    def refuse() -> Party:
        raise NotAuthenticated("this API key is not valid")

    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            cache.party("dk_wrong", refuse)
    assert not cache._entries


def test_the_cache_stays_bounded() -> None:
    cache = KeyCache(max_entries=3)
    for i in range(10):
        cache.party(f"dk_{i}", lambda: ALICE)
        assert len(cache._entries) <= 3


def test_the_api_reads_a_key_from_the_database_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = SQLiteStore(tmp_path / "keys.db")
    try:
        rt = Runtime(store)
        _, key = create_party(rt, None, "alpha", Role.PARTY)
        reads: list[str] = []
        original_read, original_glance = store.read, store.glance

        def counting_read():  # type: ignore[no-untyped-def]
            reads.append("read")
            return original_read()

        def counting_glance():  # type: ignore[no-untyped-def]
            reads.append("glance")
            return original_glance()

        store.read = counting_read  # type: ignore[method-assign]
        store.glance = counting_glance  # type: ignore[method-assign]
        with TestClient(create_app(runtime=rt)) as client:
            for _ in range(3):
                assert client.get("/v1/operations", headers={"Authorization": f"Bearer {key}"}).status_code == 200
            # the listing reads once per request; the key is looked up the first time only, and then only
            # checked for a revocation or expiry since (one glance: it ends at once in every process)
            assert (reads.count("read"), reads.count("glance")) == (3 + 1, 2)
            for _ in range(2):
                wrong = client.get("/v1/operations", headers={"Authorization": "Bearer dk_not_a_key"})
                assert wrong.status_code == 401
            assert (reads.count("read"), reads.count("glance")) == (3 + 1 + 2, 2)  # every wrong key: the database
    finally:
        store.close()
