"""Area rules over several things at once (domain/areas.py): every zone and every site is checked, whatever
comes before it in the list (one far away, one measured and found clear), and a volume whose core lies
inside a zone is at distance 0 from it. Distances from pyproj."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyproj import Geod

from deconfliction.domain.areas import site_conflicts, zone_entries
from deconfliction.domain.footprint import CircleFootprint, parse_footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import ProtectedSite, SiteCategory, SitePoint, SitePolicy, new_site
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.domain.zone import Zone, ZoneAnswer, answer_zone, propose_zone

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WINDOW = TimeWindow(T0, T0 + timedelta(days=30))
WGS84 = Geod(ellps="WGS84")


def zone(zone_id: str, lon: float, lat: float) -> Zone:
    ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
    footprint = parse_footprint({"type": "Polygon", "coordinates": [ring]}, Limits())
    z = propose_zone(
        zone_id=zone_id, owner_id="alpha", counterparties=["bravo"], footprint=footprint, validity=WINDOW, now=T0
    )
    return answer_zone(z, party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0).zone


def op(center: tuple[float, float], radius_m: float = 10.0) -> Operation:
    v = Volume4D.create(CircleFootprint(center, radius_m), AltitudeBand(0.0, 100.0), WINDOW)
    return Operation("op", "bravo", OperationKind.GROUND, 0, OperationState.PLANNED, 1, "o", (v,), "", T0, T0)


def site(site_id: str, lon: float, lat: float) -> ProtectedSite:
    return new_site(
        site_id=site_id,
        owner_id="ngo",
        name=site_id,
        category=SiteCategory.HOSPITAL,
        footprint=SitePoint((lon, lat)),
        radius_m=0.0,
        accuracy_m=0.0,
        valid_until=T0 + timedelta(days=1),
        now=T0,
    )


def test_every_zone_is_checked_after_one_far_away() -> None:
    inside = op((30.05, 10.05))
    found = zone_entries(inside, [zone("far", 40.0, 10.0), zone("z1", 30.0, 10.0)])
    assert [f.target_id for f in found] == ["z1"]
    # the operation's core lies inside the zone: distance 0
    assert found[0].min_horizontal_m == 0.0
    assert found[0].encounters[0].point_operation == found[0].encounters[0].point_target


def test_every_site_is_checked_after_one_measured_and_clear() -> None:
    # ground: 1,000 m of protection. A site 1,005 m from the volume's edge is measured (the screen cannot
    # clear it) and found clear; the next one, 500 m away, conflicts.
    lon_c, lat_c, _ = WGS84.fwd(36.0, 35.0, 90.0, 1_015.0)
    lon_n, lat_n, _ = WGS84.fwd(36.0, 35.0, 0.0, 510.0)
    found = site_conflicts(op((36.0, 35.0)), [site("clear", lon_c, lat_c), site("near", lon_n, lat_n)], SitePolicy())
    assert [f.target_id for f in found] == ["near"]
    assert found[0].min_horizontal_m == pytest.approx(500.0, abs=1.0)


def test_every_site_is_checked_after_one_far_away() -> None:
    lon_f, lat_f, _ = WGS84.fwd(36.0, 35.0, 90.0, 5_000.0)
    lon_n, lat_n, _ = WGS84.fwd(36.0, 35.0, 0.0, 510.0)
    found = site_conflicts(op((36.0, 35.0)), [site("far", lon_f, lat_f), site("near", lon_n, lat_n)], SitePolicy())
    assert [f.target_id for f in found] == ["near"]
