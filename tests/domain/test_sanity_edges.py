"""The sanity rules at their thresholds (domain/sanity.py), each on both sides: the 300 km and 100 km
distances (great circle on the mean sphere, computed here by the spherical law of cosines), the 90 degree
longitude, the 15,000 m and 66,000 m bounds and whole hundreds; and the exact messages."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from deconfliction.domain.footprint import CircleFootprint
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.sanity import (
    FAR_M,
    FEET_CEILING_M,
    FEET_MAX,
    NEAR_M,
    ROUND_M,
    Place,
    WindowInPast,
    all_near,
    feet_as_metres,
    require_not_past,
    swapped_footprint,
    warnings_for,
    within,
)
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
R = 6_371_008.8  # IUGG mean radius


def sphere_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    (l1, p1), (l2, p2) = (tuple(map(math.radians, a)), tuple(map(math.radians, b)))
    return R * math.acos(math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(l2 - l1))


def test_the_thresholds() -> None:
    assert (FAR_M, NEAR_M, FEET_CEILING_M, FEET_MAX, ROUND_M) == (300_000.0, 100_000.0, 15_000.0, 66_000.0, 100.0)


def test_within_at_the_distance_less_both_reaches_on_both_sides() -> None:
    a, b = (36.0, 35.0), (38.5, 36.2)
    d = sphere_m(a, b)
    place = Place(b[0], b[1], 2_000.0)
    edge = d - 1_000.0 - 2_000.0
    assert within([a], [1_000.0], [place], edge + 0.01)[0]
    assert not within([a], [1_000.0], [place], edge - 0.01)[0]
    # without reaches the centres decide; the reaches count on both sides
    assert within([a], [0.0], [Place(b[0], b[1], 0.0)], d + 0.01)[0]
    assert not within([a], [0.0], [Place(b[0], b[1], 0.0)], d - 0.01)[0]
    assert not within([a], [0.0], [place], edge + 999.0)[0]
    assert not within([a], [1_000.0], [Place(b[0], b[1], 0.0)], edge + 1_999.0)[0]


def test_within_includes_the_distance_itself() -> None:
    # the same place, no reach: a distance of exactly 0, within 0 m
    assert within([(36.0, 35.0)], [0.0], [Place(36.0, 35.0, 0.0)], 0.0)[0]
    assert within([(36.0, 35.0)], [5.0], [Place(36.0, 35.0, 5.0)], -10.0)[0]
    assert not within([(36.0, 35.0)], [5.0], [Place(36.0, 35.0, 5.0)], -10.001)[0]


def test_within_for_many_at_once_and_for_none() -> None:
    centers = [(36.0, 35.0), (100.0, -20.0), (36.1, 35.0)]
    got = within(centers, [0.0, 0.0, 0.0], [Place(36.0, 35.0, 0.0), Place(101.0, -20.0, 0.0)], 50_000.0)
    assert got.tolist() == [True, False, True]  # (100, -20) is 104 km from (101, -20)
    assert within([], [], [Place(0.0, 0.0, 0.0)], 1.0).tolist() == []
    none = within(centers, [0.0, 0.0, 0.0], [], 1e9)
    assert none.dtype == np.bool_ and none.tolist() == [False, False, False]
    # antipodes: the great circle is half the circumference
    assert within([(0.0, 0.0)], [0.0], [Place(180.0, 0.0, 0.0)], math.pi * R + 1.0)[0]
    assert not within([(0.0, 0.0)], [0.0], [Place(180.0, 0.0, 0.0)], math.pi * R - 1.0)[0]


HOME = [Place(40.14, 35.33, 0.0)]


def test_swapped_message() -> None:
    (w,) = swapped_footprint("f", (35.33, 40.14), 0.0, HOME)
    assert w.message == (
        "this footprint is more than 300 km from everything you declared, but within 100 km of it with "
        "longitude and latitude exchanged (centre [40.1400, 35.3300]); GeoJSON order is [longitude, latitude]"
    )


def test_a_longitude_of_90_may_be_a_latitude_and_beyond_it_cannot() -> None:
    home = [Place(10.0, 90.0, 0.0)]  # what (90, 10) means with the two exchanged (the pole, any longitude)
    assert swapped_footprint("f", (90.0, 10.0), 0.0, home) != []
    assert swapped_footprint("f", (-90.0, 10.0), 0.0, [Place(10.0, -90.0, 0.0)]) != []
    assert swapped_footprint("f", (90.0001, 10.0), 0.0, home) == []
    assert swapped_footprint("f", (-90.0001, 10.0), 0.0, [Place(10.0, -90.0, 0.0)]) == []


def test_the_far_threshold_on_both_sides() -> None:
    # home at the swapped place; a second place at just under or over 300 km from the footprint itself
    center = (35.33, 40.14)
    home = Place(40.14, 35.33, 0.0)
    d = sphere_m(center, (30.0, 45.0))
    assert d > FAR_M + 100_000.0
    inside = Place(30.0, 45.0, d - FAR_M + 10.0)  # its reach brings its edge 10 m inside 300 km
    outside = Place(30.0, 45.0, d - FAR_M - 10.0)  # 10 m outside
    assert swapped_footprint("f", center, 0.0, [home, inside]) == []
    assert swapped_footprint("f", center, 0.0, [home, outside]) != []


def test_the_near_threshold_on_both_sides() -> None:
    center = (35.33, 40.14)
    target = (40.5, 35.0)  # a place near where the swapped footprint lands
    d = sphere_m((center[1], center[0]), target)
    assert swapped_footprint("f", center, 0.0, [Place(*target, d - NEAR_M + 10.0)]) != []
    assert swapped_footprint("f", center, 0.0, [Place(*target, d - NEAR_M - 10.0)]) == []


@pytest.mark.parametrize(
    ("lower", "upper", "flagged"),
    [
        (0.0, 15_000.0, False),
        (0.0, 15_100.0, True),
        (0.0, 66_000.0, True),
        (0.0, 66_100.0, False),
        (50.0, 35_000.0, False),  # the lower bound not whole hundreds
        (-100.0, 35_000.0, True),
        (100.0, 35_000.0, True),
        (0.0, 35_000.5, False),
        (0.0, 34_999.0, False),
    ],
)
def test_feet_bounds(lower: float, upper: float, flagged: bool) -> None:
    assert bool(feet_as_metres("a", OperationKind.AIR, AltitudeBand(lower, upper))) is flagged


def test_feet_message() -> None:
    (w,) = feet_as_metres("volumes[3].altitude", OperationKind.AIR, AltitudeBand(1000.0, 35000.0))
    assert (w.field, w.code) == ("volumes[3].altitude", "altitude_looks_like_feet")
    assert w.message == (
        "upper_m 35000 m is above almost every aircraft's ceiling; 1000-35000 look like feet (305-10,668 m). "
        "Altitudes are metres above the WGS84 ellipsoid"
    )


def vol(center: tuple[float, float], upper: float = 100.0) -> Volume4D:
    window = TimeWindow(NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    return Volume4D.create(CircleFootprint(center, 10.0), AltitudeBand(0.0, upper), window)


def test_warnings_for_names_fields_under_the_prefix() -> None:
    found = warnings_for(OperationKind.AIR, [vol((35.33, 40.14), 35_000.0)], HOME, prefix="movement.volumes")
    assert [(x.field, x.code) for x in found] == [
        ("movement.volumes[0].footprint", "coordinates_look_swapped"),
        ("movement.volumes[0].altitude", "altitude_looks_like_feet"),
    ]
    assert warnings_for(OperationKind.AIR, [vol((40.14, 35.33))], HOME) == []
    assert warnings_for(OperationKind.AIR, [], HOME) == []


def test_all_near() -> None:
    assert all_near([vol((40.14, 35.33)), vol((41.0, 35.5))], HOME)
    assert not all_near([vol((40.14, 35.33)), vol((35.33, 40.14))], HOME)
    assert not all_near([vol((40.14, 35.33))], [])
    assert all_near([], HOME)


def test_the_window_in_past_message_and_an_empty_declaration() -> None:
    window = TimeWindow(NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    with pytest.raises(WindowInPast) as e:
        require_not_past([("volumes[0].window.end", window)], NOW, historical=False)
    assert e.value.code == "window_in_past"
    assert e.value.errors[0].message == (
        "ends at 2026-11-23T07:00:00Z, not after now (2026-11-23T08:00:00Z); to file it as a record for an "
        'inquiry, send "historical": true'
    )
    require_not_past([], NOW, historical=False)
