"""Two server processes on one database, two USSs writing the same place at the same moment, no keys:
whichever commits first, the other must be refused with 409 naming it, never both accepted. Both
backends (SQLite writers take turns on the file's lock; PostgreSQL writers on the store's head row)."""

from __future__ import annotations

import importlib.util
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import make_postgres_database
from tests.dss.conftest import bearer, intent_body, new_id, square_volume

ROOT = Path(__file__).resolve().parents[2]
PAIRS = 12

pytestmark = [pytest.mark.xdist_group("dss-servers")]


def _server_class() -> Any:
    spec = importlib.util.spec_from_file_location("bench_servers", ROOT / "bench" / "servers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_servers"] = module
    spec.loader.exec_module(module)
    return module.Server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/dss.db"
        return
    url, drop = make_postgres_database()
    yield url
    drop()


def test_two_processes_never_both_accept_conflicting_intents(
    database_url: str, tmp_path: Path, private_key: rsa.RSAPrivateKey, public_key_file: Path
) -> None:
    import jwt

    def token(sub: str) -> str:
        exp = int(datetime.now(UTC).timestamp()) + 600
        claims = {"sub": sub, "scope": "utm.strategic_coordination", "aud": "127.0.0.1", "exp": exp}
        return jwt.encode(claims, private_key, algorithm="RS256")

    env = {"DECONFLICTION_DSS_PUBLIC_KEYS": str(public_key_file), "DECONFLICTION_DSS_AUDIENCES": "127.0.0.1"}
    server = _server_class()
    one, two = server(database_url, tmp_path, env=env), server(database_url, tmp_path, env=env)
    try:
        one.wait_ready()
        two.wait_ready()
        start = datetime.now(UTC) + timedelta(minutes=10)
        headers = {"a": bearer(token("uss-a")), "b": bearer(token("uss-b"))}

        def put(args: tuple[str, str, int]) -> tuple[int, int, str, Any]:
            base, uss, i = args
            body = intent_body(square_volume(10 + i * 0.1, 10, start))
            entity = new_id()
            with httpx.Client(base_url=base, timeout=30) as c:
                r = c.put(f"/dss/v1/operational_intent_references/{entity}", json=body, headers=headers[uss])
            return i, r.status_code, entity, r.json()

        jobs = [(one.url, "a", i) for i in range(PAIRS)] + [(two.url, "b", i) for i in range(PAIRS)]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(put, jobs))
        for i in range(PAIRS):
            pair = [a for a in answers if a[0] == i]
            statuses = sorted(a[1] for a in pair)
            assert statuses == [201, 409], (i, pair)
            winner = next(a for a in pair if a[1] == 201)
            loser = next(a for a in pair if a[1] == 409)
            assert [m["id"] for m in loser[3]["missing_operational_intents"]] == [winner[2]]
    finally:
        one.stop()
        two.stop()
