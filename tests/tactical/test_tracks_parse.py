"""``POST /v1/tracks`` reads its body itself (``parse_tracks``: one JSON parse, the common report checked
field by field, no model per report); it must answer every body as FastAPI's parsing into ``TracksIn``
did: the same status, the same problem (fields, codes, messages), the same reports kept. Two small apps
side by side, the route's way and FastAPI's, over a corpus of plain and awkward bodies."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from deconfliction.api import problems
from deconfliction.api.http import RawBody
from deconfliction.api.tracks import TracksIn, parse_tracks, reports_from_wire

NOW = datetime(2030, 6, 1, 9, 0, 5, tzinfo=UTC)


class Caller:
    id = "pt_alpha"


class Clock:
    @staticmethod
    def clock() -> datetime:
        return NOW


def kept(reports: list[dict[str, Any]]) -> list[list[Any]]:
    out = reports_from_wire(reports, Caller(), Clock(), 5.0)  # type: ignore[arg-type]
    return [[str(v) for v in vars(r).values()] for r in out]


def apps() -> tuple[TestClient, TestClient]:
    ours, fastapis = FastAPI(), FastAPI()
    problems.install(ours)
    problems.install(fastapis)

    @ours.post("/t")
    async def read_itself(request: Request, body: RawBody) -> list[list[Any]]:
        return kept(parse_tracks(body, request.headers.get("content-type")))

    @fastapis.post("/t")
    def parsed_by_fastapi(body: TracksIn) -> list[list[Any]]:
        return kept([r.model_dump(exclude_unset=True) for r in body.reports])

    return TestClient(ours), TestClient(fastapis)


def report(**kw: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "id": "4CA2D1",
        "time": "2030-06-01T09:00:00Z",
        "lat": 35.05,
        "lon": 40.05,
        "altitude_m": 1500.0,
        "ground_speed_mps": 60.0,
        "track_deg": 90.0,
    }
    r.update(kw)
    return {k: v for k, v in r.items() if v is not DROP}


DROP = object()
JSON = {"Content-Type": "application/json"}
AWKWARD: list[tuple[bytes, dict[str, str]]] = [
    (b"", JSON),
    (b"{", JSON),
    (b'{"reports": [', JSON),
    (b"\xff\xfe", JSON),
    (b'{"reports": [{"id": "A", "lat": NaN}]}', JSON),
    (
        b'{"reports": [{"id": "A", "time": "2030-06-01T09:00:00Z", "lat": NaN, "lon": Infinity, '
        b'"altitude_m": 1, "ground_speed_mps": 1, "track_deg": 1}]}',
        JSON,
    ),
    (orjson.dumps({"reports": [report()]}), {}),
    (orjson.dumps({"reports": [report()]}), {"Content-Type": "text/plain"}),
    (orjson.dumps({"reports": [report()]}), {"Content-Type": "application/geo+json"}),
    (orjson.dumps({"reports": [report()]}), {"Content-Type": "application/json; charset=utf-8"}),
    (b"[]", JSON),
    (b"null", JSON),
    (b'{"reports": null}', JSON),
    (b'{"reports": {}}', JSON),
    (b'{"reports": [], "extra": 1}', JSON),
    (b'{"reports": [1, "x", null, []]}', JSON),
    (orjson.dumps({"reports": [report()] * 5001}), JSON),
    (b'{"reports": [{"id": "A", "time": "2030-06-01T09:00:00Z", "lat": 1e400}]}', JSON),
    (
        b'{"reports": [{"id": "A", "time": "2030-06-01T09:00:00Z", "lat": 100000000000000000000000000000, '
        b'"lon": 1, "altitude_m": 1, "ground_speed_mps": 1, "track_deg": 1}]}',
        JSON,
    ),
]
VARIANTS: list[dict[str, Any]] = [
    {},
    {"lat": 35},
    {"lat": True},
    {"lat": "35.5"},
    {"lat": "north"},
    {"lat": None},
    {"lat": 91.0},
    {"lon": -180.5},
    {"lat": DROP},
    {"id": DROP},
    {"id": 7},
    {"id": ""},
    {"id": "a\nb"},
    {"id": "x" * 200},
    {"time": DROP},
    {"time": 5},
    {"time": "2030-06-01T09:00:00"},
    {"time": "2030-06-01T09:00:30Z"},
    {"time": "yesterday"},
    {"altitude_m": DROP},
    {"altitude_m": DROP, "altitude_ft": 35000},
    {"altitude_m": DROP, "altitude_ft": 3500000.0},
    {"altitude_m": 1000.0, "altitude_ft": 3000.0},
    {"altitude_m": None, "altitude_ft": None},
    {"altitude_m": "1500"},
    {"ground_speed_mps": -1.0},
    {"track_deg": 360.0},
    {"track_deg": 725},
    {"vertical_rate_mps": 5},
    {"vertical_rate_mps": None},
    {"vertical_rate_mps": 1e9},
    {"callsign": "SWR123"},
    {"callsign": "X" * 16},
    {"callsign": "X" * 17},
    {"callsign": 12},
    {"callsign": None},
    {"affiliation": "hostile"},
    {"affiliation": "friend"},
    {"affiliation": None},
    {"color": "red"},
]


def same(ours: TestClient, fastapis: TestClient, body: bytes, headers: dict[str, str]) -> None:
    a, b = ours.post("/t", content=body, headers=headers), fastapis.post("/t", content=body, headers=headers)
    assert (a.status_code, a.headers.get("content-type"), a.json()) == (
        b.status_code,
        b.headers.get("content-type"),
        b.json(),
    ), body[:300]


@pytest.mark.parametrize("case", range(len(AWKWARD)))
def test_an_awkward_body_is_answered_as_fastapi_answered_it(case: int) -> None:
    ours, fastapis = apps()
    same(ours, fastapis, *AWKWARD[case])


@pytest.mark.parametrize("seed", range(4))
def test_batches_of_plain_and_bad_reports_are_answered_as_fastapi_answered_them(seed: int) -> None:
    rng = random.Random(seed)
    ours, fastapis = apps()
    for variant in VARIANTS:  # each variant alone, then mixed in batches
        same(ours, fastapis, orjson.dumps({"reports": [report(), report(**variant)]}), JSON)
    for _ in range(40):
        batch = [report(**{"id": f"T{k}", **rng.choice(VARIANTS)}) for k in range(rng.randrange(1, 30))]
        same(ours, fastapis, orjson.dumps({"reports": batch}), JSON)


def test_a_plain_body_is_read_without_a_model_per_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """The common body (plain reports) never reaches the model: its reports come back as parsed."""

    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError("a plain body went through TracksIn")

    monkeypatch.setattr(TracksIn, "model_validate", refuse)
    body = {"reports": [report(id=f"T{k}", lat=float(k % 90)) for k in range(5000)]}
    got = parse_tracks(orjson.dumps(body), "application/json")
    assert got == body["reports"]
