"""JWT edge cases of the DSS interface: 401 for a missing or bad token, 403 for a wrong scope."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from deconfliction.dss.auth import AuthError, TokenVerifier
from tests.dss.conftest import AUDIENCE, CM, SC, TokenMaker, bearer

QUERY = "/dss/v1/operational_intent_references/query"


@pytest.fixture
def verifier(public_key_file: Path) -> TokenVerifier:
    return TokenVerifier([public_key_file.read_bytes()], [AUDIENCE])


def _refused(verifier: TokenVerifier, token: str | None, scopes: tuple[str, ...] = (SC,)) -> AuthError:
    with pytest.raises(AuthError) as caught:
        verifier.verify(None if token is None else f"Bearer {token}", scopes)
    return caught.value


def test_a_good_token_names_its_subject_and_scopes(verifier: TokenVerifier, token: TokenMaker) -> None:
    caller = verifier.verify(f"Bearer {token('uss7', (SC, CM))}", (SC,))
    assert caller.subject == "uss7"
    assert caller.scopes == {SC, CM}


def test_missing_token_is_401(verifier: TokenVerifier) -> None:
    assert _refused(verifier, None).status == 401


def test_expired_token_is_401(verifier: TokenVerifier, token: TokenMaker) -> None:
    error = _refused(verifier, token(exp=int(time.time()) - 60))
    assert error.status == 401
    assert "expired" in error.message


def test_token_without_expiry_is_401(verifier: TokenVerifier, token: TokenMaker) -> None:
    assert _refused(verifier, token(exp=None)).status == 401


def test_wrong_audience_is_401(verifier: TokenVerifier, token: TokenMaker) -> None:
    error = _refused(verifier, token(aud="another.example"))
    assert error.status == 401
    assert "audience" in error.message.lower()


def test_token_signed_by_another_key_is_401(verifier: TokenVerifier) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"sub": "uss1", "scope": SC, "aud": AUDIENCE, "exp": int(time.time()) + 60}, other, algorithm="RS256"
    )
    assert _refused(verifier, forged).status == 401


def test_hs256_signed_with_the_public_key_is_401(verifier: TokenVerifier, public_key_file: Path) -> None:
    """The classic algorithm confusion: an HMAC token keyed with the (public) PEM bytes."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(b"=")
    claims = {"sub": "uss1", "scope": SC, "aud": AUDIENCE, "exp": int(time.time()) + 60}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signature = hmac.new(public_key_file.read_bytes(), header + b"." + payload, hashlib.sha256).digest()
    forged = b".".join([header, payload, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()
    assert _refused(verifier, forged).status == 401


def test_alg_none_is_401(verifier: TokenVerifier) -> None:
    claims = {"sub": "uss1", "scope": SC, "aud": AUDIENCE, "exp": int(time.time()) + 60}
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert _refused(verifier, unsigned).status == 401


def test_garbage_is_401(verifier: TokenVerifier) -> None:
    assert _refused(verifier, "not-a-jwt").status == 401


def test_wrong_scope_is_403(verifier: TokenVerifier, token: TokenMaker) -> None:
    error = _refused(verifier, token(scopes=(CM,)), (SC,))
    assert error.status == 403
    assert SC in error.message


def test_over_http_missing_bad_and_wrong_scope(dss_client: Any, token: TokenMaker) -> None:
    body = {"area_of_interest": None}
    assert dss_client.post(QUERY, json=body).status_code == 401
    assert dss_client.post(QUERY, json=body, headers=bearer(token(aud="x"))).status_code == 401
    wrong = dss_client.post(QUERY, json=body, headers=bearer(token(scopes=(CM,))))
    assert wrong.status_code == 403
    assert set(wrong.json()) == {"message"}
    # the right scope gets past authentication to the body check
    assert dss_client.post(QUERY, json=body, headers=bearer(token())).status_code == 400


def test_dss_is_off_without_public_keys(client: Any, token: TokenMaker) -> None:
    assert client.post(QUERY, json={}, headers=bearer(token())).status_code == 404


def test_guessed_tokens_are_limited_per_address_and_counted(rt: Any, public_key_file: Path, token: TokenMaker) -> None:
    """A bad token is a failed authentication like a bad API key (docs/security.md): counted in the
    metrics (kind jwt), and past the limit the address gets 429 with Retry-After, even with a good token."""
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from deconfliction.api.app import create_app
    from deconfliction.domain.limits import Limits
    from tests.dss.conftest import dss_settings

    strict = replace(rt, limits=Limits(auth_failures_max=3, auth_failures_window_s=60))
    with TestClient(create_app(dss_settings(public_key_file), runtime=strict)) as client:
        assert client.post(QUERY, json={}, headers=bearer(token(scopes=(CM,)))).status_code == 403  # not a guess
        for _ in range(3):
            assert client.post(QUERY, json={}, headers=bearer("not.a.token")).status_code == 401
        locked = client.post(QUERY, json={}, headers=bearer(token()))
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        assert set(locked.json()) == {"message"}  # the standard's error body
        page = client.get("/metrics").text
    assert 'deconfliction_auth_failures_total{kind="jwt"} 3.0' in page
    with strict.store.read() as tx:
        locks = [e for e in tx.events.after(0) if e.type == "auth.locked_out"]
    assert [(e.payload["kind"], e.payload["scope"]) for e in locks] == [("jwt", "address:testclient")]


def test_a_token_is_verified_once_then_remembered(
    public_key_file: Path, token: TokenMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A USS sends the same token with every request: its signature is checked the first time only."""
    verifier = TokenVerifier([public_key_file.read_bytes()], [AUDIENCE])
    decoded = []
    real = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: decoded.append(1) or real(*a, **k))
    good = token("uss3", (SC, CM))
    for _ in range(3):
        caller = verifier.verify(f"Bearer {good}", (SC,))
        assert (caller.subject, caller.scopes) == ("uss3", {SC, CM})
    assert len(decoded) == 1
    # a remembered token is still held to the endpoint's scopes
    assert _refused(verifier, good, ("utm.availability_arbitration",)).status == 403
    # a refused token is not remembered: refused again, checked again
    for _ in range(2):
        assert _refused(verifier, token(aud="another.example")).status == 401
    assert len(decoded) == 3


def test_a_remembered_token_expires_at_its_exp(public_key_file: Path, token: TokenMaker) -> None:
    now = [time.time()]
    verifier = TokenVerifier([public_key_file.read_bytes()], [AUDIENCE], clock=lambda: now[0])
    exp = int(now[0]) + 60
    good = token(exp=exp)
    assert verifier.verify(f"Bearer {good}", (SC,)).subject == "uss1"
    now[0] = exp - 0.5
    assert verifier.verify(f"Bearer {good}", (SC,)).subject == "uss1"
    now[0] = exp
    error = _refused(verifier, good)
    assert error.status == 401 and "expired" in error.message
    now[0] = exp - 1  # forgotten when it expired, so a clock set back re-checks the token itself
    assert verifier.verify(f"Bearer {good}", (SC,)).subject == "uss1"


def test_the_cache_is_bounded(public_key_file: Path, token: TokenMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier([public_key_file.read_bytes()], [AUDIENCE])
    monkeypatch.setattr(TokenVerifier, "CACHE_SIZE", 3)
    for n in range(10):
        verifier.verify(f"Bearer {token(f'uss{n}')}", (SC,))
        assert len(verifier._verified) <= 3
