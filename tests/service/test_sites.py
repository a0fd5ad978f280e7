"""Protected sites in the service: conflicts found through the store's box index equal the pure rule over
every site (the oracle), on both backends; both sides told, in the ledger; proof of knowledge; withdrawal
and revalidation; duplicates; expiry."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain.areas import site_conflicts
from deconfliction.domain.footprint import CircleFootprint
from deconfliction.domain.geo import geodesic_forward
from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import SiteCategory, SitePoint
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.errors import Forbidden, InvalidTransition, MissingConflictTokens, PreconditionFailed
from deconfliction.service import operations as ops
from deconfliction.service import sites
from deconfliction.service.conflicts import list_conflicts
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from deconfliction.wire import to_record
from tests.conftest import T0, FakeClock, square
from tests.shapes import parse_shape

L = Limits()
HOSPITAL = (40.14, 35.33)


def site_draft(
    pos: tuple[float, float] = HOSPITAL, radius: float = 80.0, accuracy: float = 20.0, days: float = 30
) -> sites.SiteDraft:
    return sites.SiteDraft(
        "Al-Noor hospital", SiteCategory.HOSPITAL, SitePoint(pos), radius, accuracy, T0 + timedelta(days=days)
    )


def circle_op(
    center: tuple[float, float], radius: float = 10.0, kind: OperationKind = OperationKind.GROUND, start: datetime = T0
) -> ops.OperationDraft:
    window = TimeWindow(start, start + timedelta(hours=2))
    v = Volume4D.create(CircleFootprint(center, radius), AltitudeBand(0, 10), window)
    return ops.OperationDraft(kind, (v,))


def towards(pos: tuple[float, float], azimuth: float, metres: float) -> tuple[float, float]:
    lon, lat = geodesic_forward(pos[0], pos[1], azimuth, metres)
    return (float(lon), float(lat))


def east_of(pos: tuple[float, float], metres: float) -> tuple[float, float]:
    return towards(pos, 90.0, metres)


def test_an_operation_near_a_site_conflicts_for_both_and_the_edge_is_exact(rt, parties):
    """Radius 80 + accuracy 20 + ground 1,000 = 1,100 m: a 10 m circle at 1,108 m (edge 1,098 m)
    conflicts, one at 1,112 m (edge 1,102 m) does not; declared before or after the site."""
    agency, force = parties["alpha"][0], parties["bravo"][0]
    near = ops.submit_operation(rt, force, circle_op(east_of(HOSPITAL, 1108.0)))
    far = ops.submit_operation(rt, force, circle_op(east_of(HOSPITAL, 1112.0)))
    made = sites.create_site(rt, agency, site_draft())
    assert [(c.operation_a, c.kind) for c in made.changed] == [(near.operation.id, "protected_site")]
    c = made.changed[0]
    assert (c.party_a, c.party_b, c.operation_b) == (force.id, agency.id, made.site.id)
    assert c.min_horizontal_m == pytest.approx(1098.0, abs=1.0)
    assert c.rule.name == "protected_site-ground" and c.rule.horizontal_m == 1100.0
    # declared after the site: the same answer through _apply
    late_near = ops.submit_operation(rt, force, circle_op(east_of(HOSPITAL, 1108.0)))
    late_far = ops.submit_operation(rt, force, circle_op(east_of(HOSPITAL, 1112.0)))
    assert [x.kind for x in late_near.conflicts] == ["protected_site"]
    assert late_far.conflicts == [] and far.conflicts == []
    # what each side is told
    told = {v["id"]: v for v in map(to_record, list_conflicts(rt, agency))}
    assert set(told) == {c.id, late_near.conflicts[0].id}
    view = told[c.id]
    assert view["counterpart"] == {"party": force.id, "party_name": "bravo"}
    assert view["operation"] == made.site.id  # its own site, never the operation's id
    assert near.operation.id not in str(view)
    assert all("own_volume" not in e for e in view["encounters"])
    mine = next(v for v in map(to_record, list_conflicts(rt, force)) if v["id"] == c.id)
    assert mine["operation"] == near.operation.id and mine["token"] == c.token_a
    # the ledger: one entry per side, each what that side is told
    with rt.store.read() as tx:
        entries = [e for e in tx.events.after(0, 10_000) if e.subject_id == c.id]
    assert sorted(e.audience[0] for e in entries) == sorted([force.id, agency.id])


def test_planning_next_to_a_site_needs_its_token(rt, parties):
    agency, force = parties["alpha"][0], parties["bravo"][0]
    sites.create_site(rt, agency, site_draft())
    with pytest.raises(MissingConflictTokens) as refused:
        ops.submit_operation(rt, force, circle_op(HOSPITAL), state=OperationState.PLANNED)
    token = refused.value.extra["missing"][0]["token"]
    planned = ops.submit_operation(rt, force, circle_op(HOSPITAL), state=OperationState.PLANNED, known_tokens=[token])
    assert planned.operation.state is OperationState.PLANNED
    assert [c.token_a for c in planned.conflicts] == [token]


def test_the_owner_never_conflicts_with_its_own_site(rt, parties):
    agency = parties["alpha"][0]
    sites.create_site(rt, agency, site_draft())
    assert ops.submit_operation(rt, agency, circle_op(HOSPITAL)).conflicts == []


def test_withdrawing_resolves_and_revalidating_keeps(rt, parties, clock):
    agency, force = parties["alpha"][0], parties["bravo"][0]
    made = sites.create_site(rt, agency, site_draft(days=1))
    op = ops.submit_operation(rt, force, circle_op(HOSPITAL))
    clock.advance(days=3)  # expired: flagged to its owner, still protected
    assert [s.id for s in sites.list_sites(rt, agency, due=True)] == [made.site.id]
    later = circle_op(HOSPITAL, 20.0, start=clock())
    assert ops.revise_operation(rt, force, op.operation.id, later, expected_version=1).conflicts
    with pytest.raises(Forbidden):
        sites.withdraw(rt, force, made.site.id, expected_version=1)
    with pytest.raises(PreconditionFailed):
        sites.withdraw(rt, agency, made.site.id, expected_version=7)
    again = sites.revalidate(rt, agency, made.site.id, clock() + timedelta(days=30), expected_version=1)
    assert again.site.version == 2 and again.changed == []
    assert sites.list_sites(rt, agency, due=True) == []
    gone = sites.withdraw(rt, agency, made.site.id, expected_version=2)
    assert [(c.state.value, c.operation_a) for c in gone.changed] == [("resolved", op.operation.id)]
    assert list_conflicts(rt, force)[0].state == "resolved"
    with pytest.raises(InvalidTransition):
        sites.withdraw(rt, agency, made.site.id, expected_version=3)
    assert ops.submit_operation(rt, force, circle_op(HOSPITAL, start=clock())).conflicts == []


def test_likely_duplicates_of_the_same_owner_within_25_m(rt, parties):
    agency, other = parties["alpha"][0], parties["bravo"][0]
    first = sites.create_site(rt, agency, site_draft())
    assert first.duplicates == []
    theirs = sites.create_site(rt, other, site_draft(east_of(HOSPITAL, 10.0)))
    assert theirs.duplicates == []  # another owner's site is not a duplicate
    at24 = sites.create_site(rt, agency, site_draft(east_of(HOSPITAL, 24.0)))
    assert [(d.site.id, round(d.distance_m)) for d in at24.duplicates] == [(first.site.id, 24)]
    at26 = sites.create_site(rt, agency, site_draft(towards(HOSPITAL, 0.0, 26.0)))
    assert [d.site.id for d in at26.duplicates] == []


def test_an_observer_cannot_declare_a_site(rt, parties):
    with pytest.raises(Forbidden):
        sites.create_site(rt, parties["watcher"][0], site_draft())


# ------------------------------------------------------------------------------------- the oracle

ANCHORS = [(40.0, 35.0), (179.995, 35.0), (-179.995, 35.0)]


@st.composite
def place(draw: Any, anchor: tuple[float, float]) -> tuple[float, float]:
    """Within a few kilometres of the anchor, so that most pairs are near the protection distance."""
    lon = anchor[0] + draw(st.floats(-0.04, 0.04))
    lon = lon - 360.0 if lon > 180.0 else lon + 360.0 if lon < -180.0 else lon
    return (lon, anchor[1] + draw(st.floats(-0.03, 0.03)))


@st.composite
def scenario(
    draw: Any,
) -> tuple[list[tuple[tuple[float, float], float, float]], list[tuple[tuple[float, float], float, str]]]:
    anchor = draw(st.sampled_from(ANCHORS))
    site_list = [
        (draw(place(anchor)), draw(st.floats(0, 500)), draw(st.floats(0, 100))) for _ in range(draw(st.integers(1, 6)))
    ]
    op_list = [
        (draw(place(anchor)), draw(st.floats(10, 1500)), draw(st.sampled_from(["air", "ground", "maritime"])))
        for _ in range(draw(st.integers(1, 5)))
    ]
    return site_list, op_list


@settings(max_examples=30)
@given(scenario(), st.booleans())
def test_conflicts_through_the_index_equal_the_rule_over_every_site(case, sites_first):
    """Random sites and operations, across the antimeridian too, declared in either order: the open
    ``protected_site`` records are exactly the pairs the pure rule finds over every site (no index)."""
    site_list, op_list = case
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/oracle.db")
        try:
            rt = Runtime(store, clock=FakeClock())
            owner, _ = create_party(rt, None, "owner", Role.PARTY)
            operator, _ = create_party(rt, None, "operator", Role.PARTY)

            def add_sites() -> list[Any]:
                return [sites.create_site(rt, owner, site_draft(p, r, a)).site for p, r, a in site_list]

            def add_ops() -> list[Any]:
                return [
                    ops.submit_operation(rt, operator, circle_op(c, r, OperationKind(k))).operation
                    for c, r, k in op_list
                ]

            if sites_first:
                made_sites, made_ops = add_sites(), add_ops()
            else:
                made_ops = add_ops()
                made_sites = add_sites()
            expected = {(op.id, f.target_id) for op in made_ops for f in site_conflicts(op, made_sites)}
            with store.read() as tx:
                found = {
                    (c.operation_a, c.operation_b)
                    for c in tx.conflicts.list(limit=10_000)
                    if c.kind == "protected_site" and c.state.value == "open"
                }
            assert found == expected
        finally:
            store.close()


def test_a_polygon_site(rt, parties):
    agency, force = parties["alpha"][0], parties["bravo"][0]
    fp = parse_shape(square(40.0, 35.0, 0.01), L)
    draft = sites.SiteDraft("Warehouse 4", SiteCategory.WAREHOUSE, fp, 0.0, 5.0, T0 + timedelta(days=9))  # type: ignore[arg-type]
    made = sites.create_site(rt, agency, draft)
    assert ops.submit_operation(rt, force, circle_op((40.005, 35.005))).conflicts[0].operation_b == made.site.id
