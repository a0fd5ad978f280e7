"""The tactical layer's numerics against closed forms: the circle model's velocity and acceleration as
derivatives of its positions, BlueSky's flat move at high latitude, and the closest-approach search
(``detect._refine``, ``detect._golden``) on a head-on pair whose closest time and distance are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deconfliction.domain.tactical.detect import _golden, _refine
from deconfliction.domain.tactical.flat import BLUESKY_RE, FlatTracks
from deconfliction.domain.tactical.motion import WGS84_A, Motion, motion_from_reports


def motion(lat: list[float], lon: list[float], speed: list[float], track: list[float]) -> Motion:
    n = len(lat)
    z = np.zeros(n)
    return motion_from_reports(0.0, np.array(lat), np.array(lon), z, np.array(speed), np.array(track), z, z)


def test_velocity_and_acceleration_are_the_derivatives_of_the_positions() -> None:
    m = motion(
        [0.0, 45.0, -60.0, 80.0], [10.0, -30.0, 120.0, 0.0], [200.0, 250.0, 90.0, 300.0], [90.0, 30.0, 200.0, 0.0]
    )
    rows = np.array([3, 1, 2])
    h = 0.5
    for dt in (0.0, 30.0, 120.0):
        fd_v = (m.at(dt + h, rows) - m.at(dt - h, rows)) / (2 * h)
        assert np.allclose(m.velocity_at(dt, rows), fd_v, rtol=0, atol=1e-6)
        fd_a = (m.velocity_at(dt + h, rows) - m.velocity_at(dt - h, rows)) / (2 * h)
        acc = m.acceleration_at(dt, rows)
        assert np.allclose(acc, fd_a, rtol=0, atol=1e-9)
        # towards the centre of the circle: -k v^2 along its outward normal, k v^2 in size
        k, v = m.kappa[rows], m.speed[rows]
        assert np.allclose(np.linalg.norm(acc, axis=0), k * v * v, rtol=1e-12)


def test_bluesky_moves_east_by_the_cosine_of_the_latitude() -> None:
    t = FlatTracks.from_reports(
        0.0,
        np.array([60.0, 0.0]),
        np.array([10.0, 10.0]),
        np.zeros(2),
        np.full(2, 200.0),
        np.array([90.0, 0.0]),
        np.zeros(2),
        np.zeros(2),
    )
    rows = np.array([0, 1])
    lat, lon = t.position_at(np.array([100.0, 100.0]), rows)
    # 20 km east at 60 N is twice the longitude it is at the equator; 20 km north is the same latitude anywhere
    assert lat[0] == pytest.approx(60.0, abs=1e-12)
    assert lon[0] == pytest.approx(10.0 + math.degrees(20_000.0 / (BLUESKY_RE * 0.5)), rel=1e-12)
    assert lat[1] == pytest.approx(math.degrees(20_000.0 / BLUESKY_RE), rel=1e-12) and lon[1] == 10.0
    # the same move as from_reports makes over the same time
    moved = FlatTracks.from_reports(
        100.0,
        np.array([60.0, 0.0]),
        np.array([10.0, 10.0]),
        np.zeros(2),
        np.full(2, 200.0),
        np.array([90.0, 0.0]),
        np.zeros(2),
        np.zeros(2),
    )
    assert lat.tolist() == moved.lat.tolist() and lon.tolist() == moved.lon.tolist()


# two aircraft head-on along the equator (a geodesic and its own osculating circle), 60 km apart at 200 m/s
# each: they meet after 150 s exactly, halfway
GAP_DEG = math.degrees(60_000.0 / WGS84_A)
HEAD_ON = motion([0.0, 0.0], [0.0, GAP_DEG], [200.0, 200.0], [90.0, 270.0])
A, B = np.array([0]), np.array([1])
LO, HI = np.array([0.0]), np.array([300.0])


@pytest.mark.parametrize("start", [0.0, 100.0, 150.0, 299.0, 300.0])
def test_the_closest_approach_of_a_head_on_pair_from_any_start(start: float) -> None:
    t, best = _refine(HEAD_ON, A, B, LO, HI, np.array([start]))
    assert abs(float(t[0]) - 150.0) < 1e-3 and float(best[0]) < 0.5


def test_golden_section_finds_the_same_time() -> None:
    assert abs(float(_golden(HEAD_ON, A, B, LO, HI)[0]) - 150.0) < 1e-3
    # and inside a window that ends before the meeting, its end
    assert abs(float(_golden(HEAD_ON, A, B, LO, np.array([100.0]))[0]) - 100.0) < 1e-3


def test_a_window_that_ends_before_the_meeting_is_settled_at_its_end() -> None:
    t, best = _refine(HEAD_ON, A, B, LO, np.array([100.0]), np.array([0.0]))
    assert float(t[0]) == 100.0 and float(best[0]) == pytest.approx(20_000.0, abs=1.0)


def test_two_aircraft_in_the_same_place_flying_together_are_closest_at_once() -> None:
    """Zero slope and zero curvature at the window's start: settled there, not searched."""
    same = motion([10.0, 10.0], [20.0, 20.0], [150.0, 150.0], [45.0, 45.0])
    t, best = _refine(same, A, B, LO, HI, np.array([0.0]))
    assert float(t[0]) == 0.0 and float(best[0]) == 0.0
