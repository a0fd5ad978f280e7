"""A party's API keys through the API (/v1/api-keys), on both backends: listed without secrets, made
with an optional expiry (the secret shown once), revoked by the party or the coordinator; each change a
ledger entry; an expired or revoked key is refused at once, also by a second server process."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from deconfliction.domain.party import Party, Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from tests.api.test_cross_process import _server_class, url  # noqa: F401 (the fixture)
from tests.conftest import FakeClock, auth


def rfc3339(clock: FakeClock, **delta: float) -> str:
    return (clock.now + timedelta(**delta)).isoformat().replace("+00:00", "Z")


def ledger_types(client: TestClient, key: str) -> list[str]:
    import orjson

    lines = [orjson.loads(x) for x in client.get("/v1/ledger", headers=auth(key)).content.splitlines()[1:]]
    return [x["content"]["type"] for x in lines if "content" in x]


def test_a_party_makes_lists_and_revokes_its_keys(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    first = parties["alpha"][1]
    (listed,) = client.get("/v1/api-keys", headers=auth(first)).json()["items"]
    assert listed["active"] and listed["label"] == "first key" and listed["party"] == parties["alpha"][0].id
    r = client.post(
        "/v1/api-keys", json={"label": "gateway", "expires_at": rfc3339(clock, hours=1)}, headers=auth(first)
    )
    assert r.status_code == 201, r.text
    made = r.json()
    second, second_id = made["api_key"], made["key"]["id"]
    assert r.headers["Location"] == f"/v1/api-keys/{second_id}" and made["receipt"]["seq"] > 0
    assert client.get("/v1/parties/me", headers=auth(second)).json()["id"] == parties["alpha"][0].id
    items = client.get("/v1/api-keys", headers=auth(second)).json()["items"]
    assert [k["label"] for k in items] == ["first key", "gateway"]
    assert not any(first in str(k) or second in str(k) for k in items)  # never a secret, nor its hash
    assert set(items[1]) == {"id", "party", "label", "created_at", "expires_at", "revoked_at", "active"}
    # the first key is revoked with the second: refused at once, though it was just used (and cached)
    r = client.post(f"/v1/api-keys/{listed['id']}/revoke", headers=auth(second))
    assert r.status_code == 200 and r.json()["key"]["revoked_at"] is not None and not r.json()["key"]["active"]
    refused = client.get("/v1/parties/me", headers=auth(first))
    assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated"
    again = client.post(f"/v1/api-keys/{listed['id']}/revoke", headers=auth(second))
    assert again.status_code == 200  # revoking a revoked key changes nothing
    assert ledger_types(client, second).count("party.api_key_created") == 1
    assert ledger_types(client, second).count("party.api_key_revoked") == 1
    # past its expiry the second key is refused too, at once
    clock.advance(seconds=3600)
    r = client.get("/v1/parties/me", headers=auth(second))
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_who_may_revoke_and_what_is_refused(
    client: TestClient, parties: dict[str, tuple[Party, str]], clock: FakeClock
) -> None:
    alpha, bravo, cell = parties["alpha"][1], parties["bravo"][1], parties["cell"][1]
    made = client.post("/v1/api-keys", json={"label": "spare"}, headers=auth(alpha)).json()
    spare_id = made["key"]["id"]
    assert made["key"]["expires_at"] is None
    r = client.post(f"/v1/api-keys/{spare_id}/revoke", headers=auth(bravo))
    assert (r.status_code, r.json()["code"]) == (404, "not_found")  # another party's key reads as missing
    assert client.get("/v1/parties/me", headers=auth(made["api_key"])).status_code == 200
    r = client.post(f"/v1/api-keys/{spare_id}/revoke", headers=auth(cell))
    assert r.status_code == 200, r.text
    assert client.get("/v1/parties/me", headers=auth(made["api_key"])).status_code == 401
    assert "party.api_key_revoked" in ledger_types(client, alpha)
    bad = [
        ({"label": ""}, "label"),
        ({"label": "x", "expires_at": rfc3339(clock, seconds=-1)}, "expires_at"),
        ({"label": "x", "expires_at": "tomorrow"}, "expires_at"),
        ({"label": "x", "secret": "mine"}, "secret"),
    ]
    for body, field in bad:
        r = client.post("/v1/api-keys", json=body, headers=auth(alpha))
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (body, r.text)
    assert client.get("/v1/api-keys", headers=auth("dk_nobody")).status_code == 401
    assert len(client.get("/v1/api-keys", headers=auth(alpha)).json()["items"]) == 2


def test_at_most_ten_active_keys(client: TestClient, parties: dict[str, tuple[Party, str]]) -> None:
    alpha = parties["alpha"][1]
    for n in range(9):
        assert client.post("/v1/api-keys", json={"label": f"k{n}"}, headers=auth(alpha)).status_code == 201
    r = client.post("/v1/api-keys", json={"label": "eleventh"}, headers=auth(alpha))
    assert (r.status_code, r.json()["errors"][0]["code"]) == (422, "too_many")


@pytest.mark.slow
def test_a_key_revoked_through_one_process_is_refused_by_another_at_once(
    url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    rt = Runtime(open_store(url))
    try:
        key = create_party(rt, None, "alpha", Role.PARTY)[1]
    finally:
        rt.store.close()
    server_class = _server_class()
    one, two = server_class(url, tmp_path), server_class(url, tmp_path)
    try:
        one.wait_ready()
        two.wait_ready()
        with httpx.Client(base_url=one.url, timeout=30) as a, httpx.Client(base_url=two.url, timeout=30) as b:
            made = a.post("/v1/api-keys", json={"label": "gateway"}, headers=auth(key)).json()
            spare = made["api_key"]
            assert b.get("/v1/parties/me", headers=auth(spare)).status_code == 200  # process two caches it
            assert a.post(f"/v1/api-keys/{made['key']['id']}/revoke", headers=auth(key)).status_code == 200
            r = b.get("/v1/parties/me", headers=auth(spare))
            assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")
            assert b.get("/v1/parties/me", headers=auth(key)).status_code == 200
    finally:
        one.stop()
        two.stop()
