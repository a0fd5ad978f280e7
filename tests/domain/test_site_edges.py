"""Protected-site rules at their edges (domain/site.py): the site policy's settings on every branch, the
expiry instant on both sides, each refusal with its field, code and message, who may change a site and
the order sites are flagged in."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deconfliction.domain.limits import Limits
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.sanity import WindowInPast
from deconfliction.domain.site import (
    DEFAULT_SITE_DISTANCE_M,
    DUPLICATE_M,
    ProtectedSite,
    ProtectionDistance,
    SiteCategory,
    SitePoint,
    SitePolicy,
    SiteState,
    new_site,
    parse_category,
    parse_site_footprint,
    revalidate_site,
    revalidation_due,
    withdraw_site,
)
from deconfliction.errors import Forbidden, InvalidInput, InvalidTransition

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
L = Limits()


def test_defaults() -> None:
    assert dict(DEFAULT_SITE_DISTANCE_M) == {
        OperationKind.AIR: 1000.0,
        OperationKind.GROUND: 1000.0,
        OperationKind.MARITIME: 500.0,
    }
    assert DUPLICATE_M == 25.0
    p = SitePolicy()
    assert (p.distance(OperationKind.AIR), p.distance(OperationKind.MARITIME), p.duplicate_m) == (1000.0, 500.0, 25.0)


def test_a_policy_without_every_kind_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^site policy has no distance for ground, maritime$"):
        SitePolicy({OperationKind.AIR: 5.0})


def test_policy_from_settings() -> None:
    p = SitePolicy.from_mapping({"air": 1500, "maritime": 0, "duplicate_m": 10.5})
    assert dict(p.distance_m) == {OperationKind.AIR: 1500.0, OperationKind.GROUND: 1000.0, OperationKind.MARITIME: 0.0}
    assert p.duplicate_m == 10.5
    assert isinstance(p.distance(OperationKind.AIR), float)
    assert SitePolicy.from_mapping({}) == SitePolicy()


@pytest.mark.parametrize("value", [-0.001, math.inf, math.nan, True, "5", None])
def test_policy_settings_refuse_what_is_not_metres(value: Any) -> None:
    with pytest.raises(InvalidInput) as e:
        SitePolicy.from_mapping({"ground": value, "duplicate_m": 1})
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        ("ground", "invalid_number", "must be a number of metres >= 0")
    ]


def test_policy_settings_name_every_unknown_key() -> None:
    with pytest.raises(InvalidInput) as e:
        SitePolicy.from_mapping({"space": 1, "air": -1, "sea": 2})
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        ("space", "unknown_field", "expected one of air, ground, maritime, duplicate_m"),
        ("air", "invalid_number", "must be a number of metres >= 0"),
        ("sea", "unknown_field", "expected one of air, ground, maritime, duplicate_m"),
    ]


def test_protection_distance() -> None:
    d = ProtectionDistance(OperationKind.MARITIME, 100.0, 20.0, 500.0)
    assert d.total_m == 620.0
    assert (d.rule.name, d.rule.horizontal_m, d.rule.vertical_m, d.rule.time_s) == (
        "protected_site-maritime", 620.0, None, 0.0
    )  # fmt: skip
    assert d.as_dict() == {
        "kind": "maritime",
        "radius_m": 100.0,
        "accuracy_m": 20.0,
        "policy_m": 500.0,
        "total_m": 620.0,
    }


def site(**kw: Any) -> ProtectedSite:
    base: dict[str, Any] = {
        "site_id": "st_1",
        "owner_id": "pt_a",
        "name": " Al-Kindi hospital ",
        "category": SiteCategory.HOSPITAL,
        "footprint": SitePoint((40.14, 35.33)),
        "radius_m": 100,
        "accuracy_m": 20,
        "valid_until": T0 + timedelta(days=30),
        "now": T0,
    }
    base.update(kw)
    return new_site(**base)


def test_a_new_site() -> None:
    s = site()
    assert (s.id, s.owner_id, s.name, s.category, s.state, s.version) == (
        "st_1", "pt_a", "Al-Kindi hospital", SiteCategory.HOSPITAL, SiteState.ACTIVE, 1
    )  # fmt: skip
    assert (s.radius_m, s.accuracy_m, s.created_at, s.updated_at, s.unit_id) == (100.0, 20.0, T0, T0, None)
    assert isinstance(s.radius_m, float) and isinstance(s.accuracy_m, float)
    p = s.protection(OperationKind.AIR, SitePolicy())
    assert (p.radius_m, p.accuracy_m, p.policy_m, p.total_m) == (100.0, 20.0, 1000.0, 1120.0)
    assert s.protection_shape(OperationKind.AIR, SitePolicy()).radius_m == 1120.0
    assert s.shape.radius_m == 0.0


def test_zero_radius_and_accuracy_are_accepted() -> None:
    s = site(radius_m=0, accuracy_m=0.0)
    assert (s.radius_m, s.accuracy_m) == (0.0, 0.0)


def problems(**kw: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidInput) as e:
        site(**kw)
    return [(f.field, f.code, f.message) for f in e.value.errors]


def test_each_refusal_of_a_new_site() -> None:
    assert problems(name="  ") == [("name", "required", "a site needs a name")]
    for bad in (-1, math.nan, math.inf, True, "5"):
        assert problems(radius_m=bad) == [("radius_m", "out_of_range", "radius_m must be a number of metres >= 0")]
        assert problems(accuracy_m=bad) == [
            ("accuracy_m", "out_of_range", "accuracy_m must be a number of metres >= 0")
        ]
    assert problems(valid_until=T0) == [
        (
            "valid_until",
            "window_in_past",
            "valid_until 2026-11-23T08:00:00Z is not after now (2026-11-23T08:00:00Z)",
        )
    ]
    site(valid_until=T0 + timedelta(microseconds=1))


def test_only_a_past_valid_until_is_a_window_in_past() -> None:
    with pytest.raises(WindowInPast):
        site(valid_until=T0)
    with pytest.raises(InvalidInput) as e:
        site(valid_until=T0, name="")
    assert not isinstance(e.value, WindowInPast)
    assert [f.code for f in e.value.errors] == ["required", "window_in_past"]


def test_a_site_reaching_the_pole_cap_is_refused_and_one_short_of_it_accepted() -> None:
    # 1 degree of latitude on the mean sphere is 111.2 km; the reach counts 1 % more
    assert problems(footprint=SitePoint((0.0, 88.0)), radius_m=111_000, accuracy_m=0) == [
        ("radius_m", "near_pole", "the site reaches within 1.0 degree of a pole")
    ]
    site(footprint=SitePoint((0.0, 88.0)), radius_m=109_000, accuracy_m=0)
    assert problems(footprint=SitePoint((0.0, -88.0)), radius_m=100_000, accuracy_m=11_000)[0][1] == "near_pole"
    poly = parse_site_footprint({"type": "Polygon", "coordinates": [[[0, 87], [1, 87], [1, 88], [0, 87]]]}, L)
    assert problems(footprint=poly, radius_m=111_000, accuracy_m=0)[0][1] == "near_pole"
    site(footprint=poly, radius_m=109_000, accuracy_m=0)
    site(footprint=SitePoint((0.0, 84.0)), radius_m=100, limits=Limits(pole_margin_deg=5.0))
    with pytest.raises(InvalidInput):
        site(footprint=SitePoint((0.0, 84.0)), radius_m=200_000, limits=Limits(pole_margin_deg=5.0))


def test_expiry_at_the_instant_of_valid_until() -> None:
    s = site()
    edge = T0 + timedelta(days=30)
    assert not s.is_expired(edge - timedelta(microseconds=1))
    assert s.is_expired(edge)
    assert s.needs_revalidation(edge) and not s.needs_revalidation(edge - timedelta(microseconds=1))
    gone = withdraw_site(s, party_id="pt_a", now=T0)
    assert not gone.is_protected and not gone.needs_revalidation(edge)


def test_revalidation_and_withdrawal() -> None:
    s = site()
    later = T0 + timedelta(days=40)
    r = revalidate_site(s, party_id="pt_a", valid_until=later + timedelta(days=30), now=later)
    assert (r.valid_until, r.version, r.updated_at, r.created_at) == (later + timedelta(days=30), 2, later, T0)
    with pytest.raises(WindowInPast) as e:
        revalidate_site(s, party_id="pt_a", valid_until=later, now=later)
    assert [f.field for f in e.value.errors] == ["valid_until"]
    w = withdraw_site(r, party_id="pt_a", now=later)
    assert (w.state, w.version, w.updated_at) == (SiteState.WITHDRAWN, 3, later)


def change(action: str, s: ProtectedSite, party_id: str) -> ProtectedSite:
    if action == "revalidate":
        return revalidate_site(s, party_id=party_id, valid_until=T0 + timedelta(days=60), now=T0)
    return withdraw_site(s, party_id=party_id, now=T0)


@pytest.mark.parametrize("action", ["revalidate", "withdraw"])
def test_only_the_owner_changes_a_site(action: str) -> None:
    with pytest.raises(Forbidden) as e:
        change(action, site(), "pt_b")
    assert e.value.message == f"party pt_b cannot {action} site st_1: only its owner pt_a can"
    assert e.value.extra == {"party": "pt_b", "action": action}


@pytest.mark.parametrize("action", ["revalidate", "withdraw"])
def test_a_withdrawn_site_cannot_change(action: str) -> None:
    gone = withdraw_site(site(), party_id="pt_a", now=T0)
    with pytest.raises(InvalidTransition) as e:
        change(action, gone, "pt_a")
    assert e.value.message == f"site st_1 is withdrawn: it cannot {action} (allowed: none)"
    assert e.value.extra == {"state": "withdrawn", "action": action}


def test_revalidation_due_oldest_expiry_first_then_by_id() -> None:
    a = site(site_id="st_b", valid_until=T0 + timedelta(days=2))
    b = site(site_id="st_a", valid_until=T0 + timedelta(days=2))
    c = site(site_id="st_0", valid_until=T0 + timedelta(days=5))
    d = site(site_id="st_z", valid_until=T0 + timedelta(days=1))
    fresh = site(site_id="st_f", valid_until=T0 + timedelta(days=50))
    gone = withdraw_site(site(site_id="st_w", valid_until=T0 + timedelta(days=1)), party_id="pt_a", now=T0)
    due = revalidation_due([c, a, fresh, gone, b, d], T0 + timedelta(days=10))
    assert [s.id for s in due] == ["st_z", "st_a", "st_b", "st_0"]
    assert revalidation_due([], T0) == []


def test_every_point_within_25_m_is_a_likely_duplicate_nearest_first() -> None:
    from pyproj import Geod

    from deconfliction.domain.site import likely_duplicates

    geod = Geod(ellps="WGS84")
    new = site(site_id="new", footprint=SitePoint((40.14, 35.33)))
    near = {}
    for sid, az, dist in (("far", 10.0, 30.0), ("d20", 100.0, 20.0), ("d10", 200.0, 10.0), ("d25", 300.0, 24.9)):
        lon, lat, _ = geod.fwd(40.14, 35.33, az, dist)
        near[sid] = site(site_id=sid, footprint=SitePoint((lon, lat)))
    found = likely_duplicates(new, [near["far"], near["d20"], near["d10"], near["d25"]])
    assert [d.site.id for d in found] == ["d10", "d20", "d25"]
    assert [round(d.distance_m, 6) for d in found] == [10.0, 20.0, 24.9]


def test_parse_category() -> None:
    assert parse_category("school") is SiteCategory.SCHOOL
    with pytest.raises(InvalidInput) as e:
        parse_category("castle")
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        (
            "category",
            "unknown_category",
            "category must be one of hospital, school, shelter, warehouse, office, other; got 'castle'",
        )
    ]
    with pytest.raises(InvalidInput) as e:
        parse_category(None, "sites[3].category")
    assert e.value.errors[0].field == "sites[3].category"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ("type", "invalid_geojson", "a site is a Point, Polygon or MultiPolygon; got None")),
        (
            {"type": "LineString"},
            ("type", "invalid_geojson", "a site is a Point, Polygon or MultiPolygon; got 'LineString'"),
        ),
        (
            {"type": "Point", "coordinates": [1, 2], "radius_m": 5},
            ("radius_m", "unknown_field", "unknown field for a Point"),
        ),
        (
            {"type": "Point", "coordinates": [1]},
            ("coordinates", "invalid_geojson", "a position is [longitude, latitude]"),
        ),
        (
            {"type": "Point", "coordinates": "1,2"},
            ("coordinates", "invalid_geojson", "a position is [longitude, latitude]"),
        ),
        (
            {"type": "Point", "coordinates": [1, 2, 3, 4]},
            ("coordinates", "invalid_geojson", "a position is [longitude, latitude]"),
        ),
        (
            {"type": "Point", "coordinates": [1, math.nan]},
            ("coordinates[1]", "invalid_geojson", "not a finite number: nan"),
        ),
        (
            {"type": "Point", "coordinates": [True, 2]},
            ("coordinates[0]", "invalid_geojson", "not a finite number: True"),
        ),
        (
            {"type": "Point", "coordinates": [180.5, 2]},
            ("coordinates[0]", "out_of_range", "longitude 180.5 is outside [-180, 180]"),
        ),
        (
            {"type": "Point", "coordinates": [-180.5, 2]},
            ("coordinates[0]", "out_of_range", "longitude -180.5 is outside [-180, 180]"),
        ),
        (
            {"type": "Point", "coordinates": [0, 89.5]},
            ("coordinates[1]", "near_pole", "latitude 89.5 is within 1.0 degree of a pole"),
        ),
        (
            {"type": "Point", "coordinates": [0, -89.5]},
            ("coordinates[1]", "near_pole", "latitude -89.5 is within 1.0 degree of a pole"),
        ),
    ],
)
def test_site_footprint_refusals(raw: Any, expected: tuple[str, str, str]) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_site_footprint(raw, L)
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [expected]


def test_site_footprints_accepted() -> None:
    assert parse_site_footprint({"type": "Point", "coordinates": [180, 89], "bbox": []}, L) == SitePoint((180.0, 89.0))
    assert parse_site_footprint({"type": "Point", "coordinates": (-180, -89, 5)}, L) == SitePoint((-180.0, -89.0))
    multi = {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]}
    assert parse_site_footprint(multi, L).multi  # type: ignore[union-attr]
