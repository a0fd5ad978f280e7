"""Shared fixtures: stores on both backends, a runtime, parties, an in-process API client.

PostgreSQL: tests make and drop their own database on DECONFLICTION_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres). When it is unreachable they skip with the reason, unless
DECONFLICTION_REQUIRE_POSTGRES=1 (set by .ci/run): then they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings

from deconfliction.domain.ledger import GENESIS
from deconfliction.domain.party import Party, Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from deconfliction.store.ports import Store
from tests.shapes import members

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile(
    "deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile(
    # `make mutation`: every mutant runs the same few examples, so a kill is reproducible (docs/testing.md)
    "mutation",
    max_examples=15,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: a failure is enough
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

warnings.filterwarnings("ignore", message=".*httpx2.*")

ADMIN_URL = os.environ.get("DECONFLICTION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("DECONFLICTION_REQUIRE_POSTGRES") == "1"

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def ahead(days: float = 1.0) -> datetime:
    """A whole hour ``days`` after the real clock: windows for tests whose runtime has the real clock
    (servers in other processes), where T0 may already have passed (docs/api.md, window_in_past)."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def _postgres_unavailable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:  # the reason is printed with the skip
        return f"PostgreSQL not reachable at {ADMIN_URL}: {type(exc).__name__}: {exc}"


def need(reason: str | None, required_by: str | None) -> None:
    """Go on when nothing is missing (``reason`` None); otherwise skip with the reason, or fail when the
    environment variable ``required_by`` (set by .ci/run) says this must be there."""
    if reason is None:
        return
    if required_by is not None:
        pytest.fail(f"{required_by}=1 but {reason}")
    pytest.skip(reason)


def need_postgres() -> None:
    need(_postgres_unavailable(), "DECONFLICTION_REQUIRE_POSTGRES" if REQUIRE_POSTGRES else None)


POPPLER = ("pdftoppm", "pdftotext", "pdfinfo")


def need_poppler() -> None:
    """Debian's poppler-utils, to render a PDF to images and read its text (the situation packet)."""
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    reason = f"{', '.join(missing)} not found (apt-get install poppler-utils)" if missing else None
    required = os.environ.get("DECONFLICTION_REQUIRE_POPPLER") == "1"
    need(reason, "DECONFLICTION_REQUIRE_POPPLER" if required else None)


def _db_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def make_postgres_database() -> tuple[str, Callable[[], None]]:
    """A fresh empty database: its URL and a function that drops it."""
    import psycopg

    need_postgres()
    name = f"dc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return _db_url(name), drop


S = TypeVar("S")


@contextlib.contextmanager
def served(
    backend: str, workdir: Path, setup: Callable[[Runtime], S], env: dict[str, str] | None = None
) -> Iterator[tuple[Any, S]]:
    """A real ``deconflict serve`` (bench/servers.py) over a fresh database of ``backend`` (sqlite or
    postgresql), after ``setup`` ran on it in this process (parties, keys); yields the server and what
    ``setup`` returned, then stops the server and drops the database."""
    from bench.servers import Server

    from deconfliction.settings import Settings

    url, drop = (f"sqlite:///{workdir / 'served.db'}", None) if backend == "sqlite" else make_postgres_database()
    try:
        rt = Settings().runtime(open_store(url))
        try:
            made = setup(rt)
        finally:
            rt.store.close()
        server = Server(url, workdir, env=env)
        try:
            server.wait_ready()
            yield server, made
        finally:
            server.stop()
    finally:
        if drop is not None:
            drop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One database per test session (per xdist worker); tests truncate what they use."""
    url, drop = make_postgres_database()
    yield url
    drop()


KEPT = ("schema_migrations", "store_head")
"""Tables a truncation keeps (reset, not emptied: the migrations' record and the one head row)."""


def truncate(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('public.parties')").fetchone()
        if exists and exists[0]:
            tables = [  # every table the migrations made, whoever added it
                r[0]
                for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                if r[0] not in KEPT
            ]
            conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
            conn.execute("UPDATE store_head SET last_seq = 0, last_notification = 0, last_hash = '" + GENESIS + "'")
            conn.execute("UPDATE store_head SET deployment = NULL")  # neither live nor exercise yet


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    """The same test on every backend."""
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path}/test.db")
    else:
        url = request.getfixturevalue("postgres_url")
        truncate(url)
        s = open_store(url)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Any) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/test.db")
    yield s
    s.close()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0 - timedelta(days=1)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rt(store: Store, clock: FakeClock) -> Runtime:
    return Runtime(store, clock=clock)


@pytest.fixture
def parties(rt: Runtime) -> dict[str, tuple[Party, str]]:
    """A coordinator, two parties and an observer, with their API keys."""
    out = {}
    for name, role in (
        ("cell", Role.COORDINATOR),
        ("alpha", Role.PARTY),
        ("bravo", Role.PARTY),
        ("watcher", Role.OBSERVER),
    ):
        out[name] = create_party(rt, None, name, role)
    return out


def square(lon: float, lat: float, size_deg: float = 0.1) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size_deg, lat], [lon + size_deg, lat + size_deg], [lon, lat + size_deg], [lon, lat]]
        ],
    }


def volume_json(
    footprint: dict[str, Any], lo: float = 0.0, hi: float = 3000.0, start: datetime = T0, hours: float = 2.0
) -> dict[str, Any]:
    return {
        **members(footprint),
        "altitude": {"lower_m": lo, "upper_m": hi},
        "window": {
            "start": start.isoformat().replace("+00:00", "Z"),
            "end": (start + timedelta(hours=hours)).isoformat().replace("+00:00", "Z"),
        },
    }


@pytest.fixture
def client(rt: Runtime) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from deconfliction.api.app import create_app
    from tests.api.contract_check import checked

    # every answer is checked against the OpenAPI document (tests/api/contract_check.py)
    with TestClient(checked(create_app(runtime=rt))) as c:
        yield c


def crossing_pair(client: Any, alpha_key: str, bravo_key: str) -> tuple[Any, Any]:
    """Alpha, then bravo, declare air operations over overlapping squares near 40 E 35 N: one conflict,
    told to both. Returns the two responses (bravo's lists the conflict)."""
    a = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40, 35))]}, headers=auth(alpha_key)
    )
    b = client.post(
        "/v1/operations", json={"kind": "air", "volumes": [volume_json(square(40.05, 35.05))]}, headers=auth(bravo_key)
    )
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    return a, b


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}
