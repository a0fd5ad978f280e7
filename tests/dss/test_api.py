"""What the prober does not check: bad input names the field and stores nothing, the key check withholds
other managers' OVNs, and plain-http base URLs are refused by default. Every test runs on both backends."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from deconfliction.service.runtime import Runtime
from tests.conftest import FakeClock
from tests.dss.conftest import TokenMaker, bearer, intent_body, new_id, square_volume

OIR = "/dss/v1/operational_intent_references"


def _count(rt: Runtime) -> int:
    with rt.store.read() as tx:
        return len(tx.dss.search_references("intent", _world(rt)))


def _world(rt: Runtime) -> Any:
    import shapely

    from deconfliction.dss.extents import Extent

    return Extent(shapely.box(-180, -90, 180, 90), None, None, None, None)


def test_bad_input_names_the_field_and_stores_nothing(
    dss_client: Any, rt: Runtime, clock: FakeClock, token: TokenMaker
) -> None:
    start = clock() + timedelta(minutes=5)
    cases = {
        "extents[0].volume.altitude_lower.units": ("altitude_lower", {"units": "FT"}),
        "extents[0].volume.outline_polygon.vertices[1].lat": ("lat", 95.0),
        "extents[0].volume.outline_polygon": ("bowtie", None),
        "extents[0].time_start.value": ("time_start", "yesterday"),
    }
    for field, (what, value) in cases.items():
        body = intent_body(square_volume(10, 10, start))
        volume = body["extents"][0]
        if what == "altitude_lower":
            volume["volume"]["altitude_lower"].update(value)
        elif what == "lat":
            volume["volume"]["outline_polygon"]["vertices"][1]["lat"] = value
        elif what == "bowtie":
            v = volume["volume"]["outline_polygon"]["vertices"]
            v[1], v[2] = v[2], v[1]
        else:
            volume["time_start"]["value"] = value
        answer = dss_client.put(f"{OIR}/{new_id()}", json=body, headers=bearer(token()))
        assert answer.status_code == 400, (field, answer.text)
        assert set(answer.json()) == {"message"}
        assert field in answer.json()["message"], (field, answer.json())
    assert _count(rt) == 0


def test_plain_http_base_url_is_refused_by_default(dss_client: Any, clock: FakeClock, token: TokenMaker) -> None:
    body = intent_body(square_volume(10, 10, clock() + timedelta(minutes=5)))
    body["uss_base_url"] = "http://uss.example"
    answer = dss_client.put(f"{OIR}/{new_id()}", json=body, headers=bearer(token()))
    assert answer.status_code == 400
    assert "uss_base_url" in answer.json()["message"]


def test_key_check_lists_what_is_missing_and_withholds_other_managers_ovns(
    dss_client: Any, clock: FakeClock, token: TokenMaker
) -> None:
    start = clock() + timedelta(minutes=5)
    first_id = new_id()
    first = dss_client.put(f"{OIR}/{first_id}", json=intent_body(square_volume(10, 10, start)), headers=bearer(token()))
    assert first.status_code == 201, first.text
    ovn = first.json()["operational_intent_reference"]["ovn"]
    overlapping = intent_body(square_volume(10.005, 10.005, start))
    refused = dss_client.put(f"{OIR}/{new_id()}", json=overlapping, headers=bearer(token("uss2")))
    assert refused.status_code == 409
    missing = refused.json()["missing_operational_intents"]
    assert [m["id"] for m in missing] == [first_id]
    assert missing[0]["ovn"] != ovn
    overlapping["key"] = [ovn]
    accepted = dss_client.put(f"{OIR}/{new_id()}", json=overlapping, headers=bearer(token("uss2")))
    assert accepted.status_code == 201, accepted.text
    # the first USS's implicit subscription covers the second intent: it is told, with its next index (the
    # refused attempt changed nothing)
    first_sub = first.json()["operational_intent_reference"]["subscription_id"]
    before, after = (
        {s["subscription_id"]: s["notification_index"] for u in a.json()["subscribers"] for s in u["subscriptions"]}
        for a in (first, accepted)
    )
    assert after[first_sub] == before[first_sub] + 1


def test_exactly_touching_footprints_meet_and_apart_ones_do_not(
    dss_client: Any, clock: FakeClock, token: TokenMaker
) -> None:
    """Exact shapes: a square that shares an edge needs the key, one 100 m away does not (the reference
    DSS's 1 km cells would have asked for it)."""
    start = clock() + timedelta(minutes=5)
    first = dss_client.put(f"{OIR}/{new_id()}", json=intent_body(square_volume(20, 0, start)), headers=bearer(token()))
    assert first.status_code == 201
    touching = dss_client.put(
        f"{OIR}/{new_id()}", json=intent_body(square_volume(20.01, 0, start)), headers=bearer(token("uss2"))
    )
    assert touching.status_code == 409
    apart = dss_client.put(
        f"{OIR}/{new_id()}", json=intent_body(square_volume(20.011, 0, start)), headers=bearer(token("uss2"))
    )
    assert apart.status_code == 201, apart.text


def test_footprints_around_a_pole_and_across_the_antimeridian_meet(
    dss_client: Any, clock: FakeClock, token: TokenMaker, tmp_path: Path
) -> None:
    start = clock() + timedelta(minutes=5)
    west = dss_client.put(
        f"{OIR}/{new_id()}", json=intent_body(square_volume(179.989, 5, start)), headers=bearer(token())
    )
    assert west.status_code == 201
    across = intent_body(square_volume(179.995, 5, start))
    across["extents"][0]["volume"]["outline_polygon"]["vertices"] = [
        {"lng": 179.999, "lat": 5.001},
        {"lng": -179.99, "lat": 5.001},
        {"lng": -179.99, "lat": 5.002},
        {"lng": 179.999, "lat": 5.002},
    ]
    assert dss_client.put(f"{OIR}/{new_id()}", json=across, headers=bearer(token("uss2"))).status_code == 409


def test_dss_requests_skip_the_v1_routes_and_keep_the_edges(
    dss_client: Any, token: TokenMaker, monkeypatch: Any
) -> None:
    """/dss/v1 is one route group looked at first and served without FastAPI's dependency solving (the
    lean path of docs/dss.md), yet with everything every request gets: the screen's 422 for a control
    character, the route template as the metrics' label, 404 and 405 as problems."""
    import fastapi.routing

    solved = []
    real = fastapi.routing.solve_dependencies

    async def counted(*args: Any, **kwargs: Any) -> Any:
        solved.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    headers = bearer(token())
    assert dss_client.get(f"{OIR}/{new_id()}", headers=headers).status_code == 404
    assert solved == []
    refused = dss_client.get(f"{OIR}/{new_id()}", headers={**headers, "X-Note": "a\x01b"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "x-note"
    assert dss_client.request("PATCH", f"{OIR}/{new_id()}", headers=headers).status_code == 405
    assert dss_client.head(f"{OIR}/{new_id()}", headers=headers).status_code == 405
    assert dss_client.get("/dss/v1/no_such_thing", headers=headers).status_code == 404
    metrics = dss_client.get("/metrics").text
    assert 'method="GET",route="/dss/v1/operational_intent_references/{entityid}",status="404"' in metrics
    # the group in front of the others answers for names too, and the /v1 document is unchanged by it
    app = dss_client.app
    assert app.url_path_for("get_intent", entityid="x") == f"{OIR}/x"
    assert app.url_path_for("submit") == "/v1/operations"
    assert not [p for p in dss_client.get("/v1/openapi.json").json()["paths"] if p.startswith("/dss")]
