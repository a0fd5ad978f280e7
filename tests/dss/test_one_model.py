"""Point 4 of the DSS issue: one model underneath. A USS is a party of role ``uss`` created on first use;
its intent is also an operation of that party, so the owner of a protected site it enters is told, and
the F3548 answer is the same as anywhere else. Both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from deconfliction.domain.conflict import ConflictState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.site import SiteCategory, SitePoint
from deconfliction.service import sites
from deconfliction.service.conflicts import list_conflicts
from deconfliction.service.runtime import Runtime
from deconfliction.wire import to_record
from tests.conftest import T0, FakeClock
from tests.dss.conftest import TokenMaker, bearer, intent_body, new_id, square_volume

OIR = "/dss/v1/operational_intent_references"
HOSPITAL = (36.2105, 33.5125)


def _shape(body: Any) -> Any:
    """The answer's structure: keys all the way down, values left out."""
    if isinstance(body, dict):
        return {k: _shape(v) for k, v in body.items() if k not in ("subscribers",)}
    if isinstance(body, list):
        return [_shape(v) for v in body[:1]]
    return type(body).__name__


def test_an_intent_over_a_protected_site_tells_its_owner_and_answers_as_anywhere(
    dss_client: Any, rt: Runtime, clock: FakeClock, parties: dict[str, tuple[Party, str]], token: TokenMaker
) -> None:
    agency = parties["alpha"][0]
    site = sites.create_site(
        rt,
        agency,
        sites.SiteDraft(
            "Al-Noor hospital", SiteCategory.HOSPITAL, SitePoint(HOSPITAL), 80.0, 20.0, T0 + timedelta(days=30)
        ),
    )
    start = clock() + timedelta(hours=1)
    over = dss_client.put(
        f"{OIR}/{new_id()}",
        json=intent_body(square_volume(HOSPITAL[0] - 0.005, HOSPITAL[1] - 0.005, start)),
        headers=bearer(token("wing")),
    )
    elsewhere = dss_client.put(
        f"{OIR}/{new_id()}",
        json=intent_body(square_volume(HOSPITAL[0] + 1, HOSPITAL[1], start)),
        headers=bearer(token("wing")),
    )
    assert over.status_code == elsewhere.status_code == 201, (over.text, elsewhere.text)
    assert _shape(over.json()) == _shape(elsewhere.json())

    with rt.store.read() as tx:
        uss = tx.parties.by_name("USS wing")
    assert uss is not None and uss.role is Role.USS

    told = [to_record(c) for c in list_conflicts(rt, agency, state=ConflictState.OPEN)]
    assert len(told) == 1
    conflict = told[0]
    assert conflict["kind"] == "protected_site"
    assert conflict["operation"] == site.site.id
    assert conflict["counterpart"]["party"] == uss.id

    # deleting the intent cancels its operation: the site's owner sees the conflict closed
    ref = over.json()["operational_intent_reference"]
    gone = dss_client.delete(f"{OIR}/{ref['id']}/{ref['ovn']}", headers=bearer(token("wing")))
    assert gone.status_code == 200
    assert list_conflicts(rt, agency, state=ConflictState.OPEN) == []


def test_every_uss_write_is_in_the_ledger(dss_client: Any, rt: Runtime, clock: FakeClock, token: TokenMaker) -> None:
    start = clock() + timedelta(hours=1)
    with rt.store.read() as tx:
        before = tx.events.head()
    made = dss_client.put(f"{OIR}/{new_id()}", json=intent_body(square_volume(5, 5, start)), headers=bearer(token()))
    assert made.status_code == 201
    with rt.store.read() as tx:
        after = tx.events.head()
        types = [e.type for e in tx.events.after(before[0], 100)]
    assert after != before
    assert "party.created" in types and "operation.created" in types and "dss.intent.put" in types
    ref = made.json()["operational_intent_reference"]
    gone = dss_client.delete(f"{OIR}/{ref['id']}/{ref['ovn']}", headers=bearer(token()))
    assert gone.status_code == 200
    with rt.store.read() as tx:
        later = [e.type for e in tx.events.after(after[0], 100)]
    assert later[0] == "dss.intent.deleted" and "operation.changed" in later


def test_a_constraint_is_a_site_of_its_uss_that_other_parties_operations_are_told_about(
    dss_client: Any, rt: Runtime, clock: FakeClock, parties: dict[str, tuple[Party, str]], token: TokenMaker
) -> None:
    from deconfliction.domain.footprint import CircleFootprint
    from deconfliction.domain.policy import OperationKind
    from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
    from deconfliction.service import operations as ops

    force = parties["bravo"][0]
    start = clock() + timedelta(hours=1)
    window = TimeWindow(start, start + timedelta(hours=2))
    volume = Volume4D.create(CircleFootprint((50.005, 20.005), 50.0), AltitudeBand(0, 100), window)
    op = ops.submit_operation(rt, force, ops.OperationDraft(OperationKind.AIR, (volume,)))
    body = {"extents": [square_volume(50, 20, start)], "uss_base_url": "https://uss.example/c"}
    cm = ("utm.constraint_management",)
    made = dss_client.put(f"/dss/v1/constraint_references/{new_id()}", json=body, headers=bearer(token("cm", cm)))
    assert made.status_code == 201, made.text
    told = list_conflicts(rt, force, state=ConflictState.OPEN)
    assert [(c.kind, c.operation) for c in told] == [("protected_site", op.operation.id)]

    ref = made.json()["constraint_reference"]
    gone = dss_client.delete(f"/dss/v1/constraint_references/{ref['id']}/{ref['ovn']}", headers=bearer(token("cm", cm)))
    assert gone.status_code == 200
    assert list_conflicts(rt, force, state=ConflictState.OPEN) == []


def test_an_operation_committed_between_the_mirrors_snapshot_and_its_write_is_still_found(
    dss_client: Any,
    rt: Runtime,
    clock: FakeClock,
    parties: dict[str, tuple[Party, str]],
    token: TokenMaker,
    monkeypatch: Any,
) -> None:
    """The mirror's conflicts are found in a snapshot before the serialised write (``plan_mirror``); the
    write checks again what committed since. Here an ordinary operation of another party commits right
    after the snapshot, where the intent goes: the write must find it, as a snapshot alone would not."""
    from deconfliction.domain.footprint import parse_footprint
    from deconfliction.domain.policy import OperationKind
    from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
    from deconfliction.dss import service as dss_service
    from deconfliction.service.operations import OperationDraft, submit_operation

    agency = parties["alpha"][0]
    start = clock() + timedelta(hours=1)
    first = dss_client.put(f"{OIR}/{new_id()}", json=intent_body(square_volume(20, 20, start)), headers=bearer(token()))
    assert first.status_code == 201  # the USS's party exists now: its next write plans in a snapshot

    real = dss_service.plan_mirror
    plans: list[Any] = []

    def plan_then_commit(*args: Any) -> Any:
        plan = real(*args)
        plans.append(plan)
        ring = [[30.002, 30.002], [30.008, 30.002], [30.008, 30.008], [30.002, 30.008], [30.002, 30.002]]
        footprint = parse_footprint({"type": "Polygon", "coordinates": [ring]}, rt.limits)
        band = AltitudeBand.of(0.0, 120.0, rt.limits)
        window = TimeWindow.of(start, start + timedelta(minutes=30), rt.limits)
        draft = OperationDraft(OperationKind.AIR, (Volume4D.create(footprint, band, window),), title="crossing")
        submit_operation(rt, agency, draft)
        return plan

    monkeypatch.setattr(dss_service, "plan_mirror", plan_then_commit)
    second = dss_client.put(
        f"{OIR}/{new_id()}", json=intent_body(square_volume(30, 30, start)), headers=bearer(token())
    )
    assert second.status_code == 201, second.text
    assert plans and plans[0].prefound is not None and plans[0].prefound.findings == ()

    told = [to_record(c) for c in list_conflicts(rt, agency, state=ConflictState.OPEN)]
    assert [c["kind"] for c in told] == ["operation"]
    with rt.store.read() as tx:
        uss = tx.parties.by_name("USS uss1")
    assert uss is not None and told[0]["counterpart"]["party"] == uss.id
