"""The prober's request bodies written here (tests/dss/prober_requests.py) exercise what they say: each error
case is refused for its own fault (the message names it), each valid one is taken, and the missing-operation
scenario plays out as the prober plays it. Without this, a body refused for a typo would pass the prober's
"400" as well as the fault it was written for. Both backends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.conftest import FakeClock
from tests.dss import prober_requests as pr
from tests.dss.conftest import TokenMaker, bearer, new_id

OIR = "/dss/v1/operational_intent_references"

REFUSED = {
    "op_ref_area_too_large.json": "area_of_interest.volume.outline_polygon: area too large",
    "op_ref_incorrect_units.json": "altitude_lower.units: only M",
    "op_ref_incorrect_altitude_ref.json": "altitude_lower.reference: only W84",
    "op_request_3.json": "outline_polygon: Self-intersection",  # the ring goes out along the line and back
    "op_big_operation.json": "outline_polygon: Self-intersection",
    "op_uss_base_url_non_tls.json": "uss_base_url must use TLS",
    "op_bad_subscription.json": "Invalid Subscription ID",
    "op_new_and_existing_subscription.json": "both a Subscription ID and request an implicit subscription",
    "op_end_time_past.json": "time_end may not be in the past",
    "op_400_version1.json": "an outline_polygon or outline_circle is required",
    "op_bad_state_version0.json": "Invalid OperationalIntent state: Approved",
    "op_bad_lat_lon_range.json": "vertices[2].lat: 91.0 is outside",
    "op_area_too_large_put.json": "extents[0].volume.outline_polygon: area too large",
    "op_request_2.json": "extents[0].volume.outline_polygon: area too large",
    "op_bad_time_format.json": "extents[0].time_end.format: only RFC3339",
    "op_bad_volume.json": "extents[2].volume: both outline_circle and outline_polygon",
}
TAKEN = {"op_request_1.json": 201, "op_ref_start_end_times_past.json": 200, "op_request_4.json": 200}
SCENARIO = (
    "op_missing_initial.yaml",
    "op_missing_preexisting_unknown.yaml",
    "op_missing_update.json",
    "op_missing_query.json",
)


def send(client: Any, token: str, body: dict[str, Any], op_id: str | None = None, ovn: str = "") -> Any:
    if "area_of_interest" in body:
        return client.post(f"{OIR}/query", json=body, headers=bearer(token))
    path = f"{OIR}/{op_id or new_id()}" + (f"/{ovn}" if ovn else "")
    return client.put(path, json=body, headers=bearer(token))


def test_every_file_is_described_once() -> None:
    assert set(pr.FILES) == set(REFUSED) | set(TAKEN) | set(SCENARIO)
    assert all(pr.FILES.values())


def test_each_error_body_is_refused_for_its_own_fault(dss_client: Any, clock: FakeClock, token: TokenMaker) -> None:
    for name, fault in REFUSED.items():
        answer = send(dss_client, token(), pr.body(name, clock()))
        assert answer.status_code == 400, (name, answer.text)
        assert fault in answer.json()["message"], (name, answer.json())


def test_each_valid_body_is_taken(dss_client: Any, clock: FakeClock, token: TokenMaker) -> None:
    for name, status in TAKEN.items():
        answer = send(dss_client, token(), pr.body(name, clock()))
        assert answer.status_code == status, (name, answer.text)


def shifted(body: Any, now: datetime) -> Any:
    """The body with its times moved so that the scenario's T0 is ``now`` (what the prober does)."""
    if isinstance(body, dict):
        if body.get("format") == "RFC3339":
            t = datetime.fromisoformat(body["value"].replace("Z", "+00:00"))
            return {**body, "value": (t - pr.T0 + now).isoformat().replace("+00:00", "Z")}
        return {k: shifted(v, now) for k, v in body.items()}
    if isinstance(body, list):
        return [shifted(v, now) for v in body]
    return body


def test_the_missing_operation_scenario(dss_client: Any, clock: FakeClock, token: TokenMaker) -> None:
    now = clock()
    first, second = new_id(), new_id()
    initial, preexisting, update, query = (shifted(pr.body(name, now), now) for name in SCENARIO)
    a = send(dss_client, token(), initial, first)
    assert a.status_code == 201, a.text
    ovn1 = a.json()["operational_intent_reference"]["ovn"]
    b = send(dss_client, token(), {**preexisting, "key": [ovn1]}, second)
    assert b.status_code == 201, b.text
    sub = a.json()["operational_intent_reference"]["subscription_id"]
    c = send(dss_client, token(), {**update, "key": [ovn1], "subscription_id": sub}, first, ovn1)
    assert c.status_code == 409, c.text
    assert [m["id"] for m in c.json()["missing_operational_intents"]] == [second]
    d = send(dss_client, token(), query)
    assert d.status_code == 200, d.text
    assert [r["id"] for r in d.json()["operational_intent_references"]] == [first]  # the second is below it
