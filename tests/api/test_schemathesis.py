"""The OpenAPI document is the contract, checked from outside: schemathesis generates requests for every
operation from the document alone and sends them to a real ``deconflict serve`` process, on both
backends, with a party's key and with the coordinator's. Every answer must be no server error, carry a
status the document declares for that operation, in the media type it declares, with a body that
matches the declared schema (docs/api.md, The contract).

Bounded: a few examples per operation (``DECONFLICTION_SCHEMATHESIS_EXAMPLES``, default 4), no
shrinking; the failures of every operation are collected and reported together.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bench.servers import Server
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from schemathesis import openapi as st_openapi

from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.store import open_store
from tests.conftest import make_postgres_database, need_postgres, square, volume_json

pytestmark = [pytest.mark.slow]


EXAMPLES = int(os.environ.get("DECONFLICTION_SCHEMATHESIS_EXAMPLES", "4"))
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]
SKIP = {"streamEvents"}
"""A Server-Sent Events stream never ends by itself: its contract is tested in
tests/api/test_acknowledgement_stream.py."""


class Cell:
    def __init__(self, url: str, keys: dict[str, str]) -> None:
        self.url = url
        self.keys = keys


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], scope="module")
def cell(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cell]:
    workdir = tmp_path_factory.mktemp("schemathesis")
    if request.param == "sqlite":
        url, drop = f"sqlite:///{workdir / 'contract.db'}", None
    else:
        need_postgres()
        url, drop = make_postgres_database()
    from deconfliction.settings import Settings

    rt = Settings().runtime(open_store(url))
    try:
        keys = {
            who: create_party(rt, None, name, role)[1]
            for who, name, role in (
                ("coordinator", "Cell", Role.COORDINATOR),
                ("party", "Alpha", Role.PARTY),
                ("other", "Bravo", Role.PARTY),
            )
        }
    finally:
        rt.store.close()
    server = Server(url, workdir)
    try:
        server.wait_ready()
        # something to read: two crossing operations (a conflict for both), a site
        for who, lon in (("party", 40.0), ("other", 40.05)):
            r = httpx.post(
                f"{server.url}/v1/operations",
                json={
                    "kind": "air",
                    "volumes": [volume_json(square(lon, 35.0), start=datetime.now(UTC) + timedelta(hours=1))],
                },
                headers={"Authorization": f"Bearer {keys[who]}"},
                timeout=30,
            )
            assert r.status_code == 201, r.text
        yield Cell(server.url, keys)
    finally:
        server.stop()
        if drop is not None:
            drop()


def _run(operation: Any, mode: GenerationMode, base_url: str, key: str) -> tuple[list[str], int]:
    """The failures of a bounded run of one operation (empty: it kept the contract), and how many requests
    it sent: requests valid by the document (positive), or invalid (negative: they must be refused with a
    declared problem)."""
    failures: list[str] = []
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        try:
            case.call_and_validate(
                base_url=base_url, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS, timeout=30
            )
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup is a BaseExceptionGroup
            text = str(exc).strip().splitlines()
            failures.append(f"{operation.label} ({mode.value}): {' | '.join(text[:12])}")

    with contextlib.suppress(Unsatisfiable):
        run()
    return failures, sent


@pytest.mark.parametrize("who", ["party", "coordinator"])
def test_every_operation_keeps_the_contract(cell: Cell, who: str) -> None:
    schema = st_openapi.from_url(f"{cell.url}/v1/openapi.json")
    failures: list[str] = []
    ran = sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") in SKIP:
            continue
        ran += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            found, count = _run(operation, mode, cell.url, cell.keys[who])
            failures += found
            sent += count
    assert ran >= 80
    unique = sorted(set(failures))
    print(f"schemathesis, {who}'s key: {ran} operations, {sent} requests, {len(unique)} contract failures")
    assert not unique, f"{len(unique)} contract failures:\n" + "\n\n".join(unique)
