"""The pure rules of time and place sanity (domain.sanity): what has wholly passed, when coordinates look
swapped, when an altitude looks like feet; with the cases that must not be flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deconfliction.domain.footprint import CircleFootprint, footprint_shape
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.sanity import (
    FAR_M,
    NEAR_M,
    Place,
    WindowInPast,
    feet_as_metres,
    has_passed,
    require_not_past,
    swapped_footprint,
    warnings_for,
)
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DEIR_EZ_ZOR = (40.14, 35.33)
HOME = [Place(40.14, 35.33, 5_000.0)]


def w(start_h: float, end_h: float) -> TimeWindow:
    return TimeWindow(NOW + timedelta(hours=start_h), NOW + timedelta(hours=end_h))


@pytest.mark.parametrize(
    ("window", "passed"),
    [
        (w(-2, -1), True),
        (w(-2, 0), True),  # half-open: ending now, it has passed
        (w(-2, 0.001), False),
        (w(0, 0), False),  # an instant now is not before now
        (w(-0.001, -0.001), True),
        (w(1, 2), False),
    ],
)
def test_has_passed(window: TimeWindow, passed: bool) -> None:
    assert has_passed(window, NOW) is passed


def test_refused_only_when_every_window_has_passed_and_not_historical() -> None:
    windows = [("volumes[0].window.end", w(-5, -4)), ("volumes[1].window.end", w(-3, -1))]
    with pytest.raises(WindowInPast) as e:
        require_not_past(windows, NOW, historical=False)
    assert [f.field for f in e.value.errors] == ["volumes[0].window.end", "volumes[1].window.end"]
    assert {f.code for f in e.value.errors} == {"window_in_past"}
    assert "historical" in e.value.errors[0].message
    require_not_past(windows, NOW, historical=True)
    require_not_past([*windows, ("volumes[2].window.end", w(-1, 1))], NOW, historical=False)


def test_deir_ez_zor_typed_latitude_first_looks_swapped() -> None:
    lon, lat = DEIR_EZ_ZOR
    (warning,) = swapped_footprint("volumes[0].footprint", (lat, lon), 1_000.0, HOME)
    assert warning.code == "coordinates_look_swapped" and warning.field == "volumes[0].footprint"
    assert "[40.1400, 35.3300]" in warning.message  # the footprint it probably meant


@pytest.mark.parametrize(
    ("center", "declared", "why"),
    [
        ((35.33, 40.14), [], "the party declared nothing yet"),
        ((40.5, 35.5), HOME, "near what the party declared"),
        ((36.5, 40.14), HOME, "far, but the swapped one is not near anything either"),
        ((120.0, 35.0), HOME, "a longitude that cannot be a latitude"),
        ((35.33, 40.14), [Place(35.0, 38.0, 0.0)], "within 300 km of something as sent"),
    ],
)
def test_not_swapped(center: tuple[float, float], declared: list[Place], why: str) -> None:
    assert swapped_footprint("footprint", center, 1_000.0, declared) == [], why


def test_the_reach_of_large_things_counts() -> None:
    # a zone 250 km across centred 450 km from the footprint: within the far threshold of its edge
    big = [Place(40.14, 35.33, 250_000.0), Place(35.0, 44.4, 250_000.0)]
    assert swapped_footprint("footprint", (35.33, 40.14), 1_000.0, big) == []
    assert FAR_M > NEAR_M


@pytest.mark.parametrize(
    ("kind", "lower", "upper", "flagged"),
    [
        (OperationKind.AIR, 0, 35000, True),  # FL350 sent as metres
        (OperationKind.AIR, 33000, 37000, True),
        (OperationKind.AIR, 0, 66000, True),
        (OperationKind.AIR, 0, 15000, False),  # a high but possible ceiling in metres
        (OperationKind.AIR, 0, 12497.3, False),
        (OperationKind.AIR, 0, 35050.5, False),  # not whole hundreds: deliberate metres
        (OperationKind.AIR, 0, 70000, False),  # beyond FL660 even as feet
        (OperationKind.AIR, 150, 3000, False),
        (OperationKind.GROUND, 0, 35000, False),
        (OperationKind.MARITIME, 0, 35000, False),
    ],
)
def test_altitude_looks_like_feet(kind: OperationKind, lower: float, upper: float, flagged: bool) -> None:
    found = feet_as_metres("volumes[0].altitude", kind, AltitudeBand(lower, upper))
    assert bool(found) is flagged
    if flagged:
        assert found[0].code == "altitude_looks_like_feet" and "look like feet" in found[0].message


def test_warnings_for_every_volume_in_order() -> None:
    lon, lat = DEIR_EZ_ZOR

    def volume(center: tuple[float, float], upper: float) -> Volume4D:
        fp = CircleFootprint(center, 500.0)
        assert footprint_shape(fp).reach_m >= 500.0
        return Volume4D.create(fp, AltitudeBand(0, upper), w(1, 2))

    found = warnings_for(OperationKind.AIR, [volume((lon, lat), 3000), volume((lat, lon), 35000)], HOME)
    assert [(x.field, x.code) for x in found] == [
        ("volumes[1].footprint", "coordinates_look_swapped"),
        ("volumes[1].altitude", "altitude_looks_like_feet"),
    ]
    assert found[0].record() == {"field": found[0].field, "code": found[0].code, "message": found[0].message}
