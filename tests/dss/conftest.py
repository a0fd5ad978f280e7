"""Fixtures of the DSS interface's own tests: an RSA key pair, tokens signed with it, an app with the
DSS on over the ``rt`` runtime (both backends), and F3548 request bodies."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from deconfliction.service.runtime import Runtime
from deconfliction.settings import Settings

AUDIENCE = "dss.example"
SC = "utm.strategic_coordination"
CM = "utm.constraint_management"
CP = "utm.constraint_processing"
AA = "utm.availability_arbitration"


@pytest.fixture(scope="session")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def public_key_file(private_key: rsa.RSAPrivateKey, tmp_path: Path) -> Path:
    path = tmp_path / "uss-auth.pem"
    path.write_bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


TokenMaker = Callable[..., str]


@pytest.fixture
def token(private_key: rsa.RSAPrivateKey) -> TokenMaker:
    def make(sub: str = "uss1", scopes: tuple[str, ...] = (SC,), **claims: Any) -> str:
        now = int(time.time())
        body = {"sub": sub, "scope": " ".join(scopes), "aud": AUDIENCE, "iss": "test", "exp": now + 600, **claims}
        return jwt.encode({k: v for k, v in body.items() if v is not None}, private_key, algorithm="RS256")

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dss_settings(public_key_file: Path, **extra: Any) -> Settings:
    return Settings(dss_public_keys=(str(public_key_file),), dss_audiences=(AUDIENCE,), **extra)


@pytest.fixture
def dss_client(rt: Runtime, public_key_file: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from deconfliction.api.app import create_app

    with TestClient(create_app(dss_settings(public_key_file), runtime=rt)) as c:
        yield c


def rfc3339(t: datetime) -> dict[str, str]:
    return {"value": t.isoformat().replace("+00:00", "Z"), "format": "RFC3339"}


def square_volume(
    lon: float, lat: float, start: datetime, *, size: float = 0.01, minutes: float = 60, lo: float = 0, hi: float = 120
) -> dict[str, Any]:
    vertices = [
        {"lng": lon, "lat": lat},
        {"lng": lon + size, "lat": lat},
        {"lng": lon + size, "lat": lat + size},
        {"lng": lon, "lat": lat + size},
    ]
    return {
        "volume": {
            "outline_polygon": {"vertices": vertices},
            "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": hi, "reference": "W84", "units": "M"},
        },
        "time_start": rfc3339(start),
        "time_end": rfc3339(start + timedelta(minutes=minutes)),
    }


def intent_body(volume: dict[str, Any], key: list[str] | None = None) -> dict[str, Any]:
    return {
        "extents": [volume],
        "key": key or [],
        "state": "Accepted",
        "uss_base_url": "https://uss.example/dss-client",
        "new_subscription": {"uss_base_url": "https://uss.example/dss-client"},
    }


def new_id() -> str:
    return str(uuid.uuid4())
