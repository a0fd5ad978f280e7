"""Bad input over HTTP: one test per kind of refusal.

Each asserts the status, the problem document (``application/problem+json``, the stable ``code`` and, for
422, every ``errors[]`` entry's field path and reason) and that nothing was stored: the event log, the
operations and the conflicts are the same before and after. Every bad request below aims at the place
where alpha already has an operation, so a request that slipped through would also open a conflict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from deconfliction.api.app import create_app
from deconfliction.domain.limits import Limits
from deconfliction.domain.party import Party, Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from tests.conftest import auth, square, volume_json
from tests.shapes import circle

PROBLEM = "application/problem+json"
Snapshot = tuple[list[int], list[tuple[str, int, str]], list[tuple[str, int, str]]]


# ------------------------------------------------------------------------------------------------ helpers


def snapshot(rt: Runtime) -> Snapshot:
    """Everything a request could have written: the event log, every operation, every conflict."""
    with rt.store.read() as tx:
        return (
            [e.seq for e in tx.events.after(0, 1_000_000)],
            [(o.id, o.version, o.state.value) for o in tx.operations.list(limit=100_000)],
            [(c.id, c.version, c.state.value) for c in tx.conflicts.list(limit=100_000)],
        )


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    """The RFC 9457 document of a refusal, after checking its envelope."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    doc: dict[str, Any] = r.json()
    assert doc["status"] == status
    assert doc["code"] == code
    assert doc["type"].endswith("/" + code)
    assert doc["title"]
    assert doc["detail"]
    return doc


def fields(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in doc["errors"]]


def body(*volumes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"kind": "air", "volumes": list(volumes), **extra}


def near_alpha(**kw: Any) -> dict[str, Any]:
    """A good volume right over alpha's operation."""
    return volume_json(square(40.05, 35.05), **kw)


@pytest.fixture
def world(rt: Runtime, parties: dict[str, tuple[Party, str]], client: TestClient) -> dict[str, Any]:
    """alpha's draft operation at (40, 35), and the keys. Bad requests come from bravo, over it."""
    r = client.post("/v1/operations", json=body(volume_json(square(40.0, 35.0))), headers=auth(parties["alpha"][1]))
    assert r.status_code == 201, r.text
    return {"op": r.json()["operation"], **{name: key for name, (_, key) in parties.items()}}


@pytest.fixture
def refused(rt: Runtime, world: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """Send a request; check the refusal and that the store did not change."""

    def check(send: Callable[[], Any], status: int, code: str) -> dict[str, Any]:
        before = snapshot(rt)
        doc = problem(send(), status, code)
        assert snapshot(rt) == before
        return doc

    return check


@pytest.fixture
def limited_client(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> Iterator[Callable[..., TestClient]]:
    """An app over the same store with low limits (settings), so that limit tests stay small and fast."""
    with ExitStack() as stack:

        def make(**limits: Any) -> TestClient:
            runtime = replace(rt, limits=Limits(**limits))
            return stack.enter_context(TestClient(create_app(runtime=runtime)))

        yield make


# ----------------------------------------------------------------------------------------------- GeoJSON


@pytest.mark.parametrize(
    ("footprint", "field", "code", "words"),
    [
        pytest.param(
            {"type": "MultiPoint", "coordinates": [[40.05, 35.05]]},
            "volumes[0].footprint.type",
            "invalid_geojson",
            "'MultiPoint'",
            id="wrong-type",
        ),
        pytest.param(
            # a Polygon's coordinates one level too shallow: a ring where a list of rings belongs
            {"type": "Polygon", "coordinates": [[40.0, 35.0], [40.1, 35.0], [40.1, 35.1], [40.0, 35.0]]},
            "volumes[0].footprint.coordinates[0][0]",
            "invalid_geojson",
            "[longitude, latitude]",
            id="bad-nesting",
        ),
        pytest.param(
            {"type": "Polygon", "coordinates": [[[40.0, 35.0], [40.1, "35.0"], [40.1, 35.1], [40.0, 35.0]]]},
            "volumes[0].footprint.coordinates[0][1][1]",
            "invalid_geojson",
            "not a finite number: '35.0'",
            id="non-numeric-coordinate",
        ),
        pytest.param(
            {"type": "Polygon", "coordinates": [[[40.0, 35.0], [40.1, 35.0], [40.1, 35.1], [40.0, 35.1]]]},
            "volumes[0].footprint.coordinates[0]",
            "ring_not_closed",
            "not closed: first [40.0, 35.0] != last [40.0, 35.1]",
            id="ring-not-closed",
        ),
        pytest.param(
            {"type": "Polygon", "coordinates": [[[40.0, 35.0], [40.1, 35.0], [40.0, 35.0]]]},
            "volumes[0].footprint.coordinates[0]",
            "invalid_geojson",
            "at least 4 positions, got 3",
            id="fewer-than-4-positions",
        ),
        pytest.param(
            {"type": "Polygon", "coordinates": [[[40.0, 35.0], [190.0, 35.0], [40.1, 35.1], [40.0, 35.0]]]},
            "volumes[0].footprint.coordinates[0][1][0]",
            "out_of_range",
            "longitude 190.0",
            id="longitude-out-of-range",
        ),
    ],
)
def test_invalid_geojson_names_the_position_and_the_reason(
    client: TestClient, world: dict[str, Any], refused: Any, footprint: Any, field: str, code: str, words: str
) -> None:
    doc = refused(
        lambda: client.post("/v1/operations", json=body(volume_json(footprint)), headers=auth(world["bravo"])),
        422,
        "validation_failed",
    )
    assert fields(doc) == [(field, code)]
    assert words in doc["errors"][0]["message"]
    assert doc["detail"].startswith(field + ": ")


def test_a_body_that_is_not_json_is_refused_as_a_whole(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    for content, content_type, code in (
        (b'{"kind": "air", "volumes": [', "application/json", "invalid_json"),
        (b"{'kind': 'air'}", "application/json", "invalid_json"),
        (b"kind=air", "text/plain", "invalid_value"),
    ):
        doc = refused(
            lambda content=content, content_type=content_type: client.post(
                "/v1/operations", content=content, headers=auth(world["bravo"], **{"Content-Type": content_type})
            ),
            422,
            "validation_failed",
        )
        # the error is about the body itself (field ""), not about a field of it
        assert fields(doc) == [("", code)], content
        if code == "invalid_json":
            assert doc["errors"][0]["message"].startswith("the body is not valid JSON")
            assert "at character" in doc["errors"][0]["message"]


def test_a_body_that_is_not_utf8_is_a_named_422_not_a_400(
    client: TestClient, world: dict[str, Any], refused: Any
) -> None:
    """Found by schemathesis: FastAPI answered a body it could not decode with its own 400, a status the
    document does not declare; it is bad input like any other."""
    for content in (b'{"kind": "\xff"}', b"\xfe\xff\x00{"):
        doc = refused(
            lambda content=content: client.post(
                "/v1/operations", content=content, headers=auth(world["bravo"], **{"Content-Type": "application/json"})
            ),
            422,
            "validation_failed",
        )
        assert fields(doc) == [("", "invalid_json")], content


def test_a_cursor_number_past_any_database_integer_is_refused_not_a_500(
    client: TestClient, world: dict[str, Any], refused: Any
) -> None:
    """Found by schemathesis: ``GET /v1/ledger?after=<above 2**63>`` reached the database and failed with
    a 500; it is refused by field now, on both backends."""
    for path in ("/v1/ledger?after=22788295612339324977152", "/v1/stream?after=9223372036854775808"):
        doc = refused(lambda path=path: client.get(path, headers=auth(world["bravo"])), 422, "validation_failed")
        assert fields(doc)[0][0] == "after", path


def _great_circle_crossing(a0: list[float], a1: list[float], b0: list[float], b1: list[float]) -> tuple[float, float]:
    """Where the great circles through a0-a1 and b0-b1 meet (the one near the segments)."""

    def unit(p: list[float]) -> Any:
        lon, lat = math.radians(p[0]), math.radians(p[1])
        return np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])

    x = np.cross(np.cross(unit(a0), unit(a1)), np.cross(unit(b0), unit(b1)))
    x /= np.linalg.norm(x)
    if np.dot(x, unit(a0)) < 0:
        x = -x
    return math.degrees(math.atan2(x[1], x[0])), math.degrees(math.asin(x[2]))


def test_self_intersecting_polygon_names_both_edges_and_the_crossing_point(
    client: TestClient, world: dict[str, Any], refused: Any
) -> None:
    # a lopsided bow-tie: edge 0 (positions 0 to 1) crosses edge 2 (positions 2 to 3) near (40.2, 35.067),
    # away from the middle of its bounding box (40.15, 35.1)
    ring = [[40.0, 35.0], [40.3, 35.1], [40.3, 35.0], [40.0, 35.2], [40.0, 35.0]]
    doc = refused(
        lambda: client.post(
            "/v1/operations",
            json=body(volume_json({"type": "Polygon", "coordinates": [ring]})),
            headers=auth(world["bravo"]),
        ),
        422,
        "validation_failed",
    )
    assert fields(doc) == [("volumes[0].footprint.coordinates[0]", "self_intersection")]
    error = doc["errors"][0]
    assert error["detail"]["ring"] == error["detail"]["other_ring"] == 0
    assert (error["detail"]["edge"], error["detail"]["other_edge"]) == (0, 2)
    assert "edge 0 (positions 0 to 1) crosses edge 2 (positions 2 to 3)" in error["message"]
    lon, lat = error["detail"]["point"]
    assert f"[{lon}, {lat}]" in error["message"]
    expected = _great_circle_crossing(ring[0], ring[1], ring[2], ring[3])
    assert lon == pytest.approx(expected[0], abs=2e-5)  # about 2 m
    assert lat == pytest.approx(expected[1], abs=2e-5)


def test_too_many_vertices_against_the_configured_limit(
    world: dict[str, Any], limited_client: Any, rt: Runtime, refused: Any
) -> None:
    client = limited_client(max_vertices=8)

    def polygon(n: int) -> dict[str, Any]:
        ring = [
            [40.05 + 0.04 * math.cos(2 * math.pi * i / n), 35.05 + 0.04 * math.sin(2 * math.pi * i / n)]
            for i in range(n)
        ]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}

    doc = refused(
        lambda: client.post("/v1/operations", json=body(volume_json(polygon(9))), headers=auth(world["bravo"])),
        422,
        "validation_failed",
    )
    assert fields(doc) == [("volumes[0].footprint.coordinates", "too_many_vertices")]
    assert doc["errors"][0]["detail"] == {"count": 9, "limit": 8}
    assert "9 vertices; at most 8" in doc["errors"][0]["message"]
    # at the limit it is accepted
    ok = client.post("/v1/operations", json=body(volume_json(polygon(8))), headers=auth(world["bravo"]))
    assert ok.status_code == 201, ok.text


def test_area_over_the_configured_limit(world: dict[str, Any], limited_client: Any, refused: Any) -> None:
    client = limited_client(max_area_km2=50.0)
    # 0.1 x 0.1 degree at 35 N is about 101 km2; 0.05 x 0.05 about 25 km2
    doc = refused(
        lambda: client.post(
            "/v1/operations", json=body(volume_json(square(40.0, 35.0, 0.1))), headers=auth(world["bravo"])
        ),
        422,
        "validation_failed",
    )
    assert fields(doc) == [("volumes[0].footprint", "area_too_large")]
    detail = doc["errors"][0]["detail"]
    assert detail["limit_km2"] == 50.0
    assert 95.0 < detail["area_km2"] < 105.0
    assert "exceeds the limit of 50 km2" in doc["errors"][0]["message"]
    ok = client.post("/v1/operations", json=body(volume_json(square(40.0, 35.0, 0.05))), headers=auth(world["bravo"]))
    assert ok.status_code == 201, ok.text


def test_area_over_the_default_limit(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    doc = refused(
        lambda: client.post(
            "/v1/operations", json=body(volume_json(square(30.0, 30.0, 10.0))), headers=auth(world["bravo"])
        ),
        422,
        "validation_failed",
    )
    assert fields(doc) == [("volumes[0].footprint", "area_too_large")]
    assert doc["errors"][0]["detail"]["limit_km2"] == Limits().max_area_km2


NEAR_POLE = [
    # (footprint, field of the refusal)
    (square(10.0, 89.2, 0.5), "volumes[0].footprint.coordinates[0][2]"),  # a vertex inside the 1-degree cap
    (
        # every vertex at 88.5 N or lower, outside the cap, but the geodesic edge between the two 150 degrees
        # apart climbs to about 89.6 N
        {"type": "Polygon", "coordinates": [[[0.0, 88.5], [150.0, 88.5], [150.0, 88.0], [0.0, 88.0], [0.0, 88.5]]]},
        "volumes[0].footprint.coordinates[0][0]",
    ),
    (circle([20.0, 88.5], 80_000.0), "volumes[0].footprint.coordinates"),
    (square(10.0, -89.5, 0.3), "volumes[0].footprint.coordinates[0][0]"),  # the south pole too
]


def test_near_pole_footprints_are_refused(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    for footprint, field in NEAR_POLE:
        doc = refused(
            lambda footprint=footprint: client.post(
                "/v1/operations", json=body(volume_json(footprint)), headers=auth(world["bravo"])
            ),
            422,
            "validation_failed",
        )
        assert fields(doc) == [(field, "near_pole")], footprint
        assert "of a pole" in doc["errors"][0]["message"]
    # the same circle 40 km further south is fine
    ok = client.post(
        "/v1/operations",
        json=body(volume_json(circle([20.0, 88.1], 80_000.0))),
        headers=auth(world["bravo"]),
    )
    assert ok.status_code == 201, ok.text


# --------------------------------------------------------------------------------- windows and altitudes


def test_window_end_before_start(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    v = near_alpha()
    v["window"] = {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T09:59:59Z"}
    doc = refused(
        lambda: client.post("/v1/operations", json=body(v), headers=auth(world["bravo"])), 422, "validation_failed"
    )
    assert fields(doc) == [("volumes[0].window.end", "window_inverted")]
    assert doc["errors"][0]["message"] == "end 2026-11-23T09:59:59Z is before start 2026-11-23T10:00:00Z"


def test_window_over_the_maximum_length(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    too_long = Limits().max_window_s / 3600 + 1
    doc = refused(
        lambda: client.post("/v1/operations", json=body(near_alpha(hours=too_long)), headers=auth(world["bravo"])),
        422,
        "validation_failed",
    )
    assert fields(doc) == [("volumes[0].window.end", "window_too_long")]
    assert "at most 336.0 h are allowed" in doc["errors"][0]["message"]


def test_window_length_follows_the_setting(world: dict[str, Any], limited_client: Any, refused: Any) -> None:
    client = limited_client(max_window_s=3600)
    doc = refused(
        lambda: client.post("/v1/operations", json=body(near_alpha(hours=1.5)), headers=auth(world["bravo"])),
        422,
        "validation_failed",
    )
    assert fields(doc) == [("volumes[0].window.end", "window_too_long")]
    ok = client.post("/v1/operations", json=body(near_alpha(hours=1.0)), headers=auth(world["bravo"]))
    assert ok.status_code == 201, ok.text


def test_lower_altitude_above_upper(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    doc = refused(
        lambda: client.post("/v1/operations", json=body(near_alpha(lo=1200, hi=1100)), headers=auth(world["bravo"])),
        422,
        "validation_failed",
    )
    assert fields(doc) == [("volumes[0].altitude.lower_m", "altitude_inverted")]
    assert doc["errors"][0]["message"] == "lower_m 1200 is above upper_m 1100"


def test_altitude_outside_the_limits(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    doc = refused(
        lambda: client.post(
            "/v1/operations", json=body(near_alpha(lo=-1001, hi=100_001)), headers=auth(world["bravo"])
        ),
        422,
        "validation_failed",
    )
    assert fields(doc) == [
        ("volumes[0].altitude.lower_m", "out_of_range"),
        ("volumes[0].altitude.upper_m", "out_of_range"),
    ]
    assert "outside [-1000, 100000] m" in doc["errors"][0]["message"]


def test_unsupported_altitude_reference(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    v = near_alpha()
    v["altitude"]["reference"] = "AMSL"
    doc = refused(
        lambda: client.post("/v1/operations", json=body(v), headers=auth(world["bravo"])), 422, "validation_failed"
    )
    assert fields(doc) == [("volumes[0].altitude.reference", "unsupported_reference")]
    assert "'AMSL'" in doc["errors"][0]["message"]
    assert "W84" in doc["errors"][0]["message"]


def test_naive_time_without_offset(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    v = near_alpha()
    v["window"]["start"] = v["window"]["start"].removesuffix("Z")
    doc = refused(
        lambda: client.post("/v1/operations", json=body(v), headers=auth(world["bravo"])), 422, "validation_failed"
    )
    assert fields(doc) == [("volumes[0].window.start", "time_without_offset")]
    assert "2026-11-23T08:00:00 has no UTC offset" in doc["errors"][0]["message"]


def test_time_that_is_not_rfc3339(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    v = near_alpha()
    v["window"]["end"] = "next tuesday"
    doc = refused(
        lambda: client.post("/v1/operations", json=body(v), headers=auth(world["bravo"])), 422, "validation_failed"
    )
    assert fields(doc) == [("volumes[0].window.end", "invalid_time")]


# --------------------------------------------------------------------------------------- unknown fields


@pytest.mark.parametrize(
    ("where", "field"),
    [("top", "colour"), ("volume", "volumes[0].colour"), ("footprint", "volumes[0].footprint.colour")],
)
def test_unknown_fields_are_refused_by_path(
    client: TestClient, world: dict[str, Any], refused: Any, where: str, field: str
) -> None:
    v = near_alpha()
    b = body(v)
    {"top": b, "volume": v, "footprint": v["footprint"]}[where]["colour"] = "red"
    doc = refused(lambda: client.post("/v1/operations", json=b, headers=auth(world["bravo"])), 422, "validation_failed")
    assert fields(doc) == [(field, "unknown_field")]
    assert "unknown" in doc["errors"][0]["message"]


def test_several_unknown_fields_are_all_reported(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    v = near_alpha()
    v["colour"] = "red"
    b = body(v, near_alpha(), shape="round")
    b["volumes"][1]["altitude"]["datum"] = "x"
    b["volumes"][1]["window"]["zone"] = "Z"
    doc = refused(lambda: client.post("/v1/operations", json=b, headers=auth(world["bravo"])), 422, "validation_failed")
    assert sorted(fields(doc)) == [
        ("shape", "unknown_field"),
        ("volumes[0].colour", "unknown_field"),
        ("volumes[1].altitude.datum", "unknown_field"),
        ("volumes[1].window.zone", "unknown_field"),
    ]


def test_several_errors_in_one_body_are_all_reported(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    inverted = near_alpha()
    inverted["window"]["end"] = "2026-11-23T07:00:00Z"
    good = near_alpha()
    bad_altitude = near_alpha(lo=-5000.0)
    bad_altitude["altitude"]["reference"] = "AGL"
    not_closed = near_alpha()
    not_closed["footprint"]["coordinates"][0].pop()
    doc = refused(
        lambda: client.post(
            "/v1/operations", json=body(inverted, bad_altitude, good, not_closed), headers=auth(world["bravo"])
        ),
        422,
        "validation_failed",
    )
    assert fields(doc) == [
        ("volumes[0].window.end", "window_inverted"),
        ("volumes[1].altitude.reference", "unsupported_reference"),
        ("volumes[1].altitude.lower_m", "out_of_range"),
        ("volumes[3].footprint.coordinates[0]", "ring_not_closed"),
    ]
    assert doc["detail"] == "volumes[0].window.end: " + doc["errors"][0]["message"]


def test_bad_operation_fields(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    for change, field, code in (
        ({"kind": "spaceship"}, "kind", "invalid_value"),
        ({"kind": None}, "kind", "invalid_value"),
        ({"state": "active"}, "state", "invalid_value"),
        ({"priority": 101}, "priority", "invalid_value"),
        ({"title": "t" * 201}, "title", "invalid_value"),
        ({"volumes": []}, "volumes", "no_volumes"),
        ({"volumes": {"footprint": {}}}, "volumes", "invalid_value"),
    ):
        b = {**body(near_alpha()), **change}
        doc = refused(
            lambda b=b: client.post("/v1/operations", json=b, headers=auth(world["bravo"])), 422, "validation_failed"
        )
        assert fields(doc) == [(field, code)], change


def test_missing_fields_are_named(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    v = near_alpha()
    del v["window"]["end"]
    doc = refused(
        lambda: client.post("/v1/operations", json={"volumes": [v]}, headers=auth(world["bravo"])),
        422,
        "validation_failed",
    )
    assert sorted(fields(doc)) == [("kind", "missing_field"), ("volumes[0].window.end", "missing_field")]


def test_too_many_volumes(world: dict[str, Any], limited_client: Any, refused: Any) -> None:
    client = limited_client(max_volumes=2)
    doc = refused(
        lambda: client.post(
            "/v1/operations", json=body(near_alpha(), near_alpha(), near_alpha()), headers=auth(world["bravo"])
        ),
        422,
        "validation_failed",
    )
    assert fields(doc) == [("volumes", "too_many_volumes")]
    assert "at most 2" in doc["errors"][0]["message"]


# -------------------------------------------------------------------------------------------- body size


def _padded(limit: int, extra: int) -> bytes:
    """A valid operation, padded with whitespace to ``limit + extra`` bytes."""
    raw = json.dumps(body(near_alpha())).encode()
    assert len(raw) < limit
    return raw + b" " * (limit + extra - len(raw))


def test_body_too_large_with_content_length(world: dict[str, Any], limited_client: Any, refused: Any) -> None:
    client = limited_client(max_body_bytes=4096)
    headers = auth(world["bravo"], **{"Content-Type": "application/json"})
    doc = refused(
        lambda: client.post("/v1/operations", content=_padded(4096, 1), headers=headers), 413, "body_too_large"
    )
    assert doc["limit"] == 4096
    assert "4097 bytes" in doc["detail"]
    # an update is limited the same way
    refused(
        lambda: client.put(
            f"/v1/operations/{world['op']['id']}",
            content=_padded(4096, 10),
            headers=auth(world["alpha"], **{"Content-Type": "application/json", "If-Match": '"1"'}),
        ),
        413,
        "body_too_large",
    )
    ok = client.post("/v1/operations", content=_padded(4096, 0), headers=headers)
    assert ok.status_code == 201, ok.text


def test_body_too_large_without_content_length(world: dict[str, Any], limited_client: Any, rt: Runtime) -> None:
    """A chunked body has no Content-Length: it is counted as it arrives."""
    client = limited_client(max_body_bytes=4096)
    data = _padded(4096, 3000)
    before = snapshot(rt)
    r = client.post(
        "/v1/operations",
        content=iter([data[i : i + 1000] for i in range(0, len(data), 1000)]),
        headers=auth(world["bravo"], **{"Content-Type": "application/json"}),
    )
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    doc = problem(r, 413, "body_too_large")
    assert doc["limit"] == 4096
    assert snapshot(rt) == before


# ------------------------------------------------------------------------------------------- versions


def test_stale_version_is_412(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    op_id, alpha = world["op"]["id"], world["alpha"]
    moved = client.put(
        f"/v1/operations/{op_id}",
        json=body(volume_json(square(40.0, 35.0, 0.05))),
        headers=auth(alpha, **{"If-Match": '"1"'}),
    )
    assert moved.status_code == 200, moved.text
    doc = refused(
        lambda: client.put(
            f"/v1/operations/{op_id}",
            json=body(volume_json(square(40.5, 35.0))),
            headers=auth(alpha, **{"If-Match": '"1"'}),
        ),
        412,
        "stale_version",
    )
    assert doc["current_version"] == 2
    # the same for a state change
    refused(
        lambda: client.post(f"/v1/operations/{op_id}/plan", headers=auth(alpha, **{"If-Match": '"1"'})),
        412,
        "stale_version",
    )


def test_update_without_if_match_is_428(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    url = f"/v1/operations/{world['op']['id']}"
    key = world["alpha"]
    refused(lambda: client.put(url, json=body(near_alpha()), headers=auth(key)), 428, "precondition_required")
    refused(
        lambda: client.put(url, json=body(near_alpha()), headers=auth(key, **{"If-Match": ""})),
        428,
        "precondition_required",
    )
    for verb in ("plan", "activate", "end", "cancel"):
        refused(lambda verb=verb: client.post(f"{url}/{verb}", headers=auth(key)), 428, "precondition_required")


def test_if_match_that_is_not_a_version(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    for value in ("*", "abc", '"v1"'):
        doc = refused(
            lambda value=value: client.post(
                f"/v1/operations/{world['op']['id']}/plan", headers=auth(world["alpha"], **{"If-Match": value})
            ),
            422,
            "validation_failed",
        )
        assert fields(doc) == [("If-Match", "invalid_header")], value


def test_invalid_transition_is_409(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    doc = refused(
        lambda: client.post(
            f"/v1/operations/{world['op']['id']}/activate", headers=auth(world["alpha"], **{"If-Match": '"1"'})
        ),
        409,
        "invalid_transition",
    )
    assert (doc["state"], doc["requested"]) == ("draft", "active")


# ------------------------------------------------------------------------------------- authentication

ENDPOINTS = [
    ("GET", "/v1/operations"),
    ("POST", "/v1/operations"),
    ("GET", "/v1/operations/{op}"),
    ("PUT", "/v1/operations/{op}"),
    ("POST", "/v1/operations/{op}/cancel"),
    ("GET", "/v1/conflicts"),
    ("GET", "/v1/conflicts/cf_01M82XEJXZPV5HKZKRF4XTC8PP"),
    ("GET", "/v1/parties"),
    ("GET", "/v1/parties/me"),
    ("POST", "/v1/parties"),
]


def _each_endpoint(client: TestClient, world: dict[str, Any], refused: Any, headers: dict[str, str]) -> None:
    for method, path in ENDPOINTS:
        # a well-formed body: a wrong key is found with the request's work, after the body's structure
        payload = {"name": "mallory"} if path == "/v1/parties" else body(near_alpha())
        doc = refused(
            lambda method=method, path=path, payload=payload: client.request(
                method,
                path.format(op=world["op"]["id"]),
                json=payload if method in ("POST", "PUT") and not path.endswith("cancel") else None,
                headers={**headers, "If-Match": '"1"'},
            ),
            401,
            "not_authenticated",
        )
        assert set(doc) == {"type", "title", "status", "detail", "code"}, (method, path)


def test_missing_api_key_is_401(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic YWxwaGE6c2VjcmV0"}):
        _each_endpoint(client, world, refused, headers)
    r = client.get("/v1/operations")
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["detail"] == "send your API key as 'Authorization: Bearer <key>'"


def test_wrong_api_key_is_401(rt: Runtime, world: dict[str, Any], refused: Any) -> None:
    key = world["alpha"]
    # every endpoint is tried with each wrong key: more failures than the guessing limit allows one
    # address (tests/api/test_guessing.py), so this client is given room
    lenient = replace(rt, limits=replace(rt.limits, auth_failures_max=100_000))
    with TestClient(create_app(runtime=lenient)) as client:
        # a key is matched whole: a prefix or a variant of a valid key is someone else's, i.e. nobody's
        for wrong in ("dk_not-a-key", key[:-1], key + "x", key.upper()):
            _each_endpoint(client, world, refused, auth(wrong))
        r = client.get("/v1/operations", headers=auth("dk_not-a-key"))
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["detail"] == "this API key is not valid"


# --------------------------------------------------------------------------- another party's operation


def _same_refusal(r_other: Any, other_id: str, r_missing: Any, missing_id: str) -> None:
    """Both 404s are the same document, up to the id the caller sent."""
    assert r_other.status_code == r_missing.status_code == 404
    assert r_other.headers["content-type"] == r_missing.headers["content-type"] == PROBLEM
    assert r_other.text.replace(other_id, "ID") == r_missing.text.replace(missing_id, "ID")
    assert r_other.json()["code"] == "not_found"


def test_another_partys_operation_is_not_found_like_a_missing_one(
    client: TestClient, world: dict[str, Any], rt: Runtime
) -> None:
    """bravo asks for alpha's operation, with alpha's exact version in If-Match: the answer is the one for
    an id that does not exist (same status, same document), and alpha's operation is untouched."""
    other_id = world["op"]["id"]
    missing_id = other_id[:-4] + ("0000" if not other_id.endswith("0000") else "1111")
    headers = auth(world["bravo"], **{"If-Match": '"1"'})

    def send(verb: str, op_id: str) -> Any:
        if verb == "GET":
            return client.get(f"/v1/operations/{op_id}", headers=headers)
        if verb == "PUT":
            return client.put(f"/v1/operations/{op_id}", json=body(near_alpha()), headers=headers)
        return client.post(f"/v1/operations/{op_id}/{verb}", headers=headers)

    before = snapshot(rt)
    for verb in ("GET", "PUT", "plan", "activate", "end", "cancel"):
        _same_refusal(send(verb, other_id), other_id, send(verb, missing_id), missing_id)
    assert snapshot(rt) == before
    mine = client.get(f"/v1/operations/{other_id}", headers=auth(world["alpha"]))
    assert (mine.json()["version"], mine.json()["state"]) == (1, "draft")
    # the list does not show it either
    listed = client.get("/v1/operations", headers=auth(world["bravo"])).json()
    assert listed == {"items": [], "next_cursor": None}


def test_conflicts_of_another_partys_operation_are_not_found(client: TestClient, world: dict[str, Any]) -> None:
    other_id = world["op"]["id"]
    missing_id = "op_" + "0" * 26
    r_other = client.get("/v1/conflicts", params={"operation": other_id}, headers=auth(world["bravo"]))
    r_missing = client.get("/v1/conflicts", params={"operation": missing_id}, headers=auth(world["bravo"]))
    _same_refusal(r_other, other_id, r_missing, missing_id)


# -------------------------------------------------------------------------------------------------- roles


def test_observer_and_auditor_cannot_declare(
    client: TestClient, world: dict[str, Any], refused: Any, rt: Runtime
) -> None:
    auditor = create_party(rt, None, "books", Role.AUDITOR)[1]
    for role, key in (("observer", world["watcher"]), ("auditor", auditor)):
        doc = refused(
            lambda key=key: client.post("/v1/operations", json=body(near_alpha()), headers=auth(key)), 403, "forbidden"
        )
        assert f"a party with role {role} cannot declare operations" == doc["detail"]


def test_only_the_coordinator_creates_parties(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    def names() -> list[str]:
        return [p["name"] for p in client.get("/v1/parties", headers=auth(world["cell"])).json()["items"]]

    before = names()
    for who in ("alpha", "watcher"):
        doc = refused(
            lambda who=who: client.post(
                "/v1/parties", json={"name": "mallory", "role": "coordinator"}, headers=auth(world[who])
            ),
            403,
            "forbidden",
        )
        assert doc["detail"] == "only a coordinator creates parties"
    assert names() == before
    assert "mallory" not in before


def test_bad_party_creation(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    for payload, status, code, field in (
        ({"name": "alpha"}, 409, "already_exists", None),
        ({"name": "<script>"}, 422, "validation_failed", ("name", "invalid_name")),
        ({"name": ""}, 422, "validation_failed", ("name", "invalid_value")),
        ({"name": "x", "role": "king"}, 422, "validation_failed", ("role", "invalid_value")),
        ({"name": "x", "key": "mine"}, 422, "validation_failed", ("key", "unknown_field")),
    ):
        doc = refused(
            lambda payload=payload: client.post("/v1/parties", json=payload, headers=auth(world["cell"])), status, code
        )
        if field is not None:
            assert fields(doc) == [field], payload


# ---------------------------------------------------------------------------- headers and query strings


def test_idempotency_key_length(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    for key in ("", "k" * 201):
        doc = refused(
            lambda key=key: client.post(
                "/v1/operations", json=body(near_alpha()), headers=auth(world["bravo"], **{"Idempotency-Key": key})
            ),
            422,
            "validation_failed",
        )
        assert fields(doc) == [("Idempotency-Key", "invalid_header")]


def test_bad_paging_parameters(client: TestClient, world: dict[str, Any]) -> None:
    for path in ("/v1/operations", "/v1/conflicts", "/v1/parties"):
        for query, field, code in (
            ({"cursor": "!!!"}, "cursor", "invalid_cursor"),
            ({"cursor": "%%"}, "cursor", "invalid_cursor"),
            ({"cursor": "b3Bf!!!!"}, "cursor", "invalid_cursor"),  # "op_" and noise: refused, not trimmed
            ({"cursor": "_w"}, "cursor", "invalid_cursor"),  # decodes to a byte that is not UTF-8
            ({"limit": "0"}, "limit", "invalid_value"),
            ({"limit": "ten"}, "limit", "invalid_value"),
            ({"limit": str(Limits().page_size_max + 1)}, "limit", "out_of_range"),
        ):
            r = client.get(path, params=query, headers=auth(world["alpha"]))
            assert fields(problem(r, 422, "validation_failed")) == [(field, code)], (path, query)


def test_page_size_limit_follows_the_setting(world: dict[str, Any], limited_client: Any) -> None:
    client = limited_client(page_size_max=3)
    r = client.get("/v1/parties", params={"limit": 4}, headers=auth(world["alpha"]))
    doc = problem(r, 422, "validation_failed")
    assert fields(doc) == [("limit", "out_of_range")]
    assert "maximum page size 3" in doc["errors"][0]["message"]


def test_bad_filters(client: TestClient, world: dict[str, Any]) -> None:
    r = client.get("/v1/operations", params={"state": "flying"}, headers=auth(world["alpha"]))
    assert fields(problem(r, 422, "validation_failed")) == [("state[0]", "invalid_value")]
    r = client.get("/v1/conflicts", params={"state": "closed"}, headers=auth(world["alpha"]))
    assert fields(problem(r, 422, "validation_failed")) == [("state", "invalid_value")]


def test_unknown_route_and_method_are_problems(client: TestClient, world: dict[str, Any], refused: Any) -> None:
    refused(lambda: client.get("/v1/nothing-here", headers=auth(world["alpha"])), 404, "not_found")
    refused(
        lambda: client.delete(f"/v1/operations/{world['op']['id']}", headers=auth(world["alpha"])),
        405,
        "method_not_allowed",
    )


def test_a_nul_character_is_refused_by_field_on_every_backend(
    client: TestClient, world: dict[str, Any], refused: Any
) -> None:
    """Found by schemathesis on PostgreSQL: a unit named with a NUL character (U+0000) was a 500 there
    (PostgreSQL text cannot hold it) and stored on SQLite; it is a named 422 on both, wherever it is."""
    key = world["bravo"]
    doc = refused(
        lambda: client.post("/v1/units", json={"name": "North\u0000"}, headers=auth(key)), 422, "validation_failed"
    )
    assert fields(doc) == [("name", "control_character")]
    op = body(volume_json(square(40, 35)))
    op["title"] = "x"
    op["volumes"][0]["footprint"]["x\u0000"] = 1
    doc = refused(lambda: client.post("/v1/operations", json=op, headers=auth(key)), 422, "validation_failed")
    assert fields(doc) == [("volumes[0].footprint.x\u0000", "control_character")]  # the key, as sent
    doc = refused(lambda: client.get("/v1/operations/op_%00", headers=auth(key)), 422, "validation_failed")
    assert fields(doc) == [("op_id", "control_character")]  # the path parameter, by name
    doc = refused(lambda: client.get("/v1/operations?cursor=a%00", headers=auth(key)), 422, "validation_failed")
    assert fields(doc) == [("cursor", "control_character")]
    # an escaped backslash before "u0000" is text, not a NUL
    r = client.post("/v1/units", json={"name": "North \\u0000 team"}, headers=auth(key))
    assert r.status_code == 201, r.text
