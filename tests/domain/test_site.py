"""Protected sites: the protection distance, expiry, duplicates, changes and bad input.

* the protection distance is radius + accuracy + the policy's distance for the operation's kind;
* an expired site is flagged for revalidation and still protected (``areas.site_conflicts`` still
  reports it) until its owner withdraws it;
* duplicates: at 24 m a site of the same owner is a likely duplicate, at 26 m it is not (points: exact
  geodesic; polygons: ``measure``, within 1 m), also across the antimeridian; and on random pairs the
  answer equals the brute-force oracle's (tests/oracle.py) away from the 1 m band around 25 m;
* only the owner revalidates or withdraws; a withdrawn site changes no more;
* bad input names the field and the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from deconfliction.domain.areas import site_conflicts
from deconfliction.domain.footprint import CircleFootprint, Footprint, PolygonFootprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import (
    DEFAULT_SITE_DISTANCE_M,
    ProtectedSite,
    SiteCategory,
    SitePoint,
    SitePolicy,
    SiteState,
    likely_duplicates,
    new_site,
    parse_category,
    parse_site_footprint,
    revalidate_site,
    revalidation_due,
    withdraw_site,
)
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.errors import Forbidden, InvalidInput, InvalidTransition
from tests import oracle
from tests.oracle import GEOD, destination, examples, polygon_json, polygon_spec, ring_around
from tests.shapes import circle, parse_shape

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LIMITS = Limits()


def site(
    footprint: Any,
    *,
    site_id: str = "s1",
    owner: str = "ngo",
    radius: float = 100.0,
    accuracy: float = 10.0,
    valid_until: datetime = T0 + timedelta(days=30),
) -> ProtectedSite:
    fp = footprint if isinstance(footprint, SitePoint | PolygonFootprint) else parse_site_footprint(footprint, LIMITS)
    return new_site(
        site_id=site_id,
        owner_id=owner,
        name="Clinic",
        category=SiteCategory.HOSPITAL,
        footprint=fp,
        radius_m=radius,
        accuracy_m=accuracy,
        valid_until=valid_until,
        now=T0,
    )


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


# ------------------------------------------------------------------------------------ protection


def test_protection_distance_is_radius_plus_accuracy_plus_policy() -> None:
    s = site(point(30.0, 10.0), radius=150.0, accuracy=35.0)
    policy = SitePolicy.from_mapping({"air": 2_000, "ground": 250})
    for kind, extra in ((OperationKind.AIR, 2_000.0), (OperationKind.GROUND, 250.0), (OperationKind.MARITIME, 500.0)):
        p = s.protection(kind, policy)
        assert p.total_m == 150.0 + 35.0 + extra
        assert p.rule.name == f"protected_site-{kind.value}"
        assert (p.rule.horizontal_m, p.rule.vertical_m, p.rule.time_s) == (p.total_m, None, 0.0)
        assert p.as_dict() == {
            "kind": kind.value,
            "radius_m": 150.0,
            "accuracy_m": 35.0,
            "policy_m": extra,
            "total_m": p.total_m,
        }
        assert s.protection_shape(kind, policy).radius_m == p.total_m
    assert dict(SitePolicy().distance_m) == dict(DEFAULT_SITE_DISTANCE_M)
    assert SitePolicy().duplicate_m == 25.0


def test_site_policy_refuses_unknown_keys_and_bad_numbers() -> None:
    with pytest.raises(InvalidInput) as e:
        SitePolicy.from_mapping({"spaceship": 5, "air": -1, "duplicate_m": "25"})
    assert {(x.field, x.code) for x in e.value.errors} == {
        ("spaceship", "unknown_field"),
        ("air", "invalid_number"),
        ("duplicate_m", "invalid_number"),
    }
    assert SitePolicy.from_mapping({"duplicate_m": 40}).duplicate_m == 40.0


def operation(footprint: Footprint, owner: str = "army", kind: OperationKind = OperationKind.GROUND) -> Operation:
    vol = Volume4D.create(footprint, AltitudeBand(0.0, 100.0), TimeWindow(T0, T0 + timedelta(hours=1)))
    return Operation("op1", owner, kind, 0, OperationState.PLANNED, 1, "ovn", (vol,), "", T0, T0)


def test_expired_site_is_flagged_and_still_protected() -> None:
    s = site(point(30.0, 10.0), valid_until=T0 + timedelta(days=1))
    later = T0 + timedelta(days=2)
    assert s.is_expired(later) and s.needs_revalidation(later) and s.is_protected
    assert revalidation_due([s], later) == [s]
    assert revalidation_due([s], T0) == []
    convoy = operation(parse_shape(circle([30.001, 10.0], 10.0), LIMITS))
    found = site_conflicts(convoy, [s], SitePolicy())
    assert [f.target_id for f in found] == ["s1"]  # expiry does not unprotect
    renewed = revalidate_site(s, party_id="ngo", valid_until=later + timedelta(days=30), now=later)
    assert (renewed.valid_until, renewed.version, renewed.updated_at) == (later + timedelta(days=30), 2, later)
    assert not renewed.needs_revalidation(later)
    gone = withdraw_site(s, party_id="ngo", now=later)
    assert gone.state is SiteState.WITHDRAWN and not gone.is_protected and not gone.needs_revalidation(later)
    assert site_conflicts(convoy, [gone], SitePolicy()) == []
    assert revalidation_due([gone, renewed, s], later) == [s]


def test_only_the_owner_changes_a_site_and_withdrawn_is_final() -> None:
    s = site(point(30.0, 10.0))
    with pytest.raises(Forbidden, match="only its owner ngo"):
        revalidate_site(s, party_id="army", valid_until=T0 + timedelta(days=60), now=T0)
    with pytest.raises(Forbidden, match="only its owner ngo"):
        withdraw_site(s, party_id="army", now=T0)
    gone = withdraw_site(s, party_id="ngo", now=T0)
    for change in (
        lambda: withdraw_site(gone, party_id="ngo", now=T0),
        lambda: revalidate_site(gone, party_id="ngo", valid_until=T0 + timedelta(days=60), now=T0),
    ):
        with pytest.raises(InvalidTransition, match="site s1 is withdrawn"):
            change()
    with pytest.raises(InvalidInput) as e:
        revalidate_site(s, party_id="ngo", valid_until=T0 - timedelta(seconds=1), now=T0)
    assert (e.value.errors[0].field, e.value.errors[0].code) == ("valid_until", "window_in_past")


# ------------------------------------------------------------------------------------ duplicates


@pytest.mark.parametrize("lon", [30.0, 179.99995, -180.0])
@pytest.mark.parametrize("form", ["point", "polygon"])
def test_duplicates_at_24_m_and_not_at_26_m(lon: float, form: str) -> None:
    existing = site(point(lon, 10.0), site_id="old")
    for dist, expected in ((24.0, True), (26.0, False)):
        lon2, lat2 = destination(lon, 10.0, 70.0, dist)
        if form == "point":
            fp: Any = point(lon2, lat2)
        else:  # a 40 m triangle whose nearest vertex is ``dist`` from the point
            far = [destination(lon, 10.0, 70.0 + da, dist + 40.0) for da in (-0.5, 0.5)]
            fp = polygon_json([[lon2, lat2], list(far[0]), list(far[1]), [lon2, lat2]])
        new = site(fp, site_id="new")
        found = likely_duplicates(new, [existing])
        assert bool(found) is expected, (dist, found)
        if found:
            assert found[0].site is existing
            assert found[0].distance_m == pytest.approx(dist, abs=1e-6 if form == "point" else 1.0)


def test_duplicates_only_among_the_owners_active_sites() -> None:
    new = site(point(30.0, 10.0), site_id="new")
    near = destination(30.0, 10.0, 0.0, 10.0)
    others = [
        site(point(*near), site_id="other-owner", owner="army"),
        withdraw_site(site(point(*near), site_id="withdrawn"), party_id="ngo", now=T0),
        site(point(30.0, 10.0), site_id="new"),  # itself
        site(point(*destination(30.0, 10.0, 0.0, 5.0)), site_id="b"),
        site(point(*near), site_id="a"),
    ]
    assert [(d.site.id, round(d.distance_m, 6)) for d in likely_duplicates(new, others)] == [("b", 5.0), ("a", 10.0)]
    assert likely_duplicates(new, others, SitePolicy(duplicate_m=7.0))[0].site.id == "b"
    assert len(likely_duplicates(new, others, SitePolicy(duplicate_m=7.0))) == 1


def _oracle_fp(s: ProtectedSite) -> Footprint:
    if isinstance(s.footprint, SitePoint):
        return CircleFootprint(s.footprint.position, 0.0)
    return s.footprint


lons = st.one_of(st.floats(-180.0, 180.0), st.sampled_from([180.0, -179.9999, 0.0]))


@settings(max_examples=examples(60))
@given(lons, st.floats(-85.0, 85.0), st.floats(0.0, 360.0), st.floats(0.0, 60.0), st.booleans(), st.data())
def test_duplicates_match_the_oracle(
    lon: float, lat: float, az: float, gap: float, polygons: bool, data: st.DataObject
) -> None:
    """Two sites ``gap`` metres apart (a point, or a small star polygon around it): a duplicate exactly
    when the oracle's distance between the footprints is within 25 m (points: exactly; polygons: outside
    the 1 m band around 25 m)."""
    a = site(point(lon, lat), site_id="a")
    lon2, lat2 = destination(lon, lat, az, gap)
    if polygons:
        spec = data.draw(polygon_spec(max_radius=30.0))
        b = site(polygon_json(ring_around(lon2, lat2, *spec)), site_id="b")
    else:
        b = site(point(lon2, lat2), site_id="b")
    truth = oracle.distance(_oracle_fp(a), _oracle_fp(b))
    found = likely_duplicates(a, [b])
    event("duplicate" if found else "distinct")
    if not polygons:
        truth = float(GEOD.inv(lon, lat, lon2, lat2)[2])
        assert bool(found) is (truth <= 25.0)
    elif truth < 24.0:
        assert found
    elif truth > 26.0:
        assert not found
    if found:
        assert abs(found[0].distance_m - truth) <= oracle.TOLERANCE_M


# ------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": "  "}, "name", "required"),
        ({"radius_m": -1.0}, "radius_m", "out_of_range"),
        ({"accuracy_m": float("nan")}, "accuracy_m", "out_of_range"),
        ({"valid_until": T0}, "valid_until", "window_in_past"),
        ({"footprint": SitePoint((0.0, 88.9)), "radius_m": 50_000.0}, "radius_m", "near_pole"),
    ],
)
def test_bad_sites_name_the_field(changes: dict[str, Any], field: str, code: str) -> None:
    args: dict[str, Any] = {
        "site_id": "s1",
        "owner_id": "ngo",
        "name": "School",
        "category": SiteCategory.SCHOOL,
        "footprint": SitePoint((30.0, 10.0)),
        "radius_m": 0.0,
        "accuracy_m": 0.0,
        "valid_until": T0 + timedelta(days=1),
        "now": T0,
    }
    with pytest.raises(InvalidInput) as e:
        new_site(**(args | changes))
    assert (e.value.errors[0].field, e.value.errors[0].code) == (field, code)


def test_parse_site_footprint_and_category() -> None:
    assert parse_site_footprint(point(30.5, -10.25), LIMITS) == SitePoint((30.5, -10.25))
    square = [[30, 10], [30.01, 10], [30.01, 10.01], [30, 10.01], [30, 10]]
    assert isinstance(parse_site_footprint(polygon_json(square), LIMITS), PolygonFootprint)
    for bad, field, code in (
        (circle([30, 10], 5), "type", "invalid_geojson"),
        (point(200.0, 10.0), "coordinates[0]", "out_of_range"),
        (point(30.0, 89.5), "coordinates[1]", "near_pole"),
        ({"type": "Point", "coordinates": [30.0, "x"]}, "coordinates[1]", "invalid_geojson"),
        ({"type": "Point", "coordinates": [30.0, 10.0], "radius_m": 3}, "radius_m", "unknown_field"),
        ([1, 2], "type", "invalid_geojson"),
    ):
        with pytest.raises(InvalidInput) as e:
            parse_site_footprint(bad, LIMITS)
        assert (e.value.errors[0].field, e.value.errors[0].code) == (field, code), bad
    assert parse_category("shelter") is SiteCategory.SHELTER
    with pytest.raises(InvalidInput, match="category must be one of hospital, school, shelter"):
        parse_category("bunker")
