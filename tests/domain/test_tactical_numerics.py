"""The tactical layer's numerics against closed forms: the circle model's velocity and acceleration as
derivatives of its positions, BlueSky's flat move at high latitude, and the closest-approach search
(``detect._refine``, ``detect._golden``) on a head-on pair whose closest time and distance are known."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from deconfliction.domain.tactical.detect import _golden, _refine
from deconfliction.domain.tactical.flat import (
    BLUESKY_RE,
    CHUNK,
    LEVEL_VS,
    FlatTracks,
    _per_track,
    _verdict,
    _verdict_chunked,
)
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


def east_and_north(t0: float) -> FlatTracks:
    """One aircraft flying east at 60 N and one north from the equator, at 200 m/s, reported at 0 s and
    moved to ``t0``."""
    z = np.zeros(2)
    return FlatTracks.from_reports(
        t0, np.array([60.0, 0.0]), np.array([10.0, 10.0]), z, np.full(2, 200.0), np.array([90.0, 0.0]), z, z
    )


def test_bluesky_moves_east_by_the_cosine_of_the_latitude() -> None:
    t = east_and_north(0.0)
    rows = np.array([0, 1])
    lat, lon = t.position_at(np.array([100.0, 100.0]), rows)
    # 20 km east at 60 N is twice the longitude it is at the equator; 20 km north is the same latitude anywhere
    assert lat[0] == pytest.approx(60.0, abs=1e-12)
    assert lon[0] == pytest.approx(10.0 + math.degrees(20_000.0 / (BLUESKY_RE * 0.5)), rel=1e-12)
    assert lat[1] == pytest.approx(math.degrees(20_000.0 / BLUESKY_RE), rel=1e-12) and lon[1] == 10.0
    # the same move as from_reports makes over the same time
    moved = east_and_north(100.0)
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


# ----------------------------------------------------------------------------- BlueSky's verdict (flat model)


def flat(
    lat: list[float], lon: list[float], alt: list[float], gs: list[float], trk: list[float], vs: list[float]
) -> Any:
    n = len(lat)
    arrays = (np.array(x, dtype=np.float64) for x in (lat, lon, alt, gs, trk, vs))
    return _per_track(FlatTracks.from_reports(0.0, *arrays, np.zeros(n)))


def verdict(k: Any, rpz: float = 9260.0, hpz: float = 304.8, tla: float = 300.0) -> Any:
    one = np.ones(1)
    return _verdict(k, np.array([0]), np.array([1]), one * rpz, one * hpz, one * tla)


# head-on along the equator, 60 km apart at 200 m/s each (BlueSky's sphere): closest after 150 s
GAP = math.degrees(60_000.0 / BLUESKY_RE)


def test_the_vertical_distance_at_the_closest_approach_follows_both_rates() -> None:
    # ownship at 0 m climbing 5 m/s, intruder level at 500 m: 250 m apart at 150 s (ownship at 750 m)
    v = verdict(flat([0.0, 0.0], [0.0, GAP], [0.0, 500.0], [200.0, 200.0], [90.0, 270.0], [5.0, 0.0]))
    assert v.rows.tolist() == [0]
    assert float(v.t_cpa[0]) == pytest.approx(150.0, abs=1e-6)
    assert float(v.vertical[0]) == pytest.approx(250.0, abs=1e-6)
    # the same with the roles swapped
    w = verdict(flat([0.0, 0.0], [GAP, 0.0], [500.0, 0.0], [200.0, 200.0], [270.0, 90.0], [0.0, 5.0]))
    assert float(w.vertical[0]) == pytest.approx(250.0, abs=1e-6)


def test_exactly_the_vertical_minimum_apart_is_not_a_loss_and_just_under_is() -> None:
    # side by side 1 km apart, flying north (one 1 m/s faster: BlueSky finds no conflict between aircraft
    # flying exactly in step): horizontally lost, level
    side = [[0.0, 0.0], [0.0, math.degrees(1000.0 / BLUESKY_RE)]]
    apart = verdict(flat(*side, [0.0, 304.8], [200.0, 201.0], [0.0, 0.0], [0.0, 0.0]))
    assert apart.rows.tolist() == [] and apart.level_cleared == 1
    lost = verdict(flat(*side, [0.0, 304.7], [200.0, 201.0], [0.0, 0.0], [0.0, 0.0]))
    assert lost.rows.tolist() == [0] and lost.now.tolist() == [True] and lost.level_cleared == 0


def test_rates_differing_by_at_most_level_vs_are_level() -> None:
    """Exactly the vertical minimum apart, the ownship descending LEVEL_VS (1e-6 m/s) faster: level, so
    kept only if lost now, and it is not; a little faster, it is closing and found."""
    side = [[0.0, 0.0], [0.0, math.degrees(1000.0 / BLUESKY_RE)]]
    level = verdict(flat(*side, [304.8, 0.0], [200.0, 201.0], [0.0, 0.0], [-LEVEL_VS, 0.0]))
    assert level.rows.tolist() == [] and level.level_cleared == 1
    closing = verdict(flat(*side, [304.8, 0.0], [200.0, 201.0], [0.0, 0.0], [-2 * LEVEL_VS, 0.0]))
    assert closing.rows.tolist() == [0] and closing.level_cleared == 0


def test_more_pairs_than_a_chunk_give_what_one_pass_gives() -> None:
    rng = np.random.default_rng(7)
    n = 190  # 17,955 pairs: two chunks
    k = flat(
        rng.uniform(-1, 1, n).tolist(),
        rng.uniform(-1, 1, n).tolist(),
        rng.uniform(0, 2000, n).tolist(),
        rng.uniform(50, 250, n).tolist(),
        rng.uniform(0, 360, n).tolist(),
        rng.uniform(-5, 5, n).tolist(),
    )
    i, j = np.triu_indices(n, 1)
    assert i.size > CHUNK
    rpz, hpz, tla = np.full(i.size, 9260.0), np.full(i.size, 304.8), np.full(i.size, 300.0)
    whole, chunked = _verdict(k, i, j, rpz, hpz, tla), _verdict_chunked(k, i, j, rpz, hpz, tla)
    assert whole.rows.size > 100 and whole.rows.max() > CHUNK  # findings in both chunks
    for name in ("rows", "t_in", "t_cpa", "dist", "vertical", "now"):
        assert getattr(chunked, name).tolist() == getattr(whole, name).tolist(), name
    assert chunked.level_cleared == whole.level_cleared


def test_only_the_active_tracks_are_candidates_and_counted() -> None:
    """Two slow active aircraft at 60 N flying north side by side 20 km apart: the flat model's widening
    at 50 m/s (a few hundred metres) keeps them apart. An inactive 600 m/s aircraft 2 km from the first
    is no candidate and must not widen their reach (at its speed the widening is tens of kilometres),
    and the pass counts the active tracks only."""
    from deconfliction.domain.tactical import TacticalPolicy
    from deconfliction.domain.tactical.flat import detect_flat, flat_candidates

    apart = math.degrees(20_000.0 / (BLUESKY_RE * 0.5))
    tracks = FlatTracks.from_reports(
        0.0,
        np.array([60.0, 60.0, 60.0]),
        np.array([0.0, apart, apart / 10]),
        np.zeros(3),
        np.array([50.0, 50.0, 600.0]),
        np.array([0.0, 0.0, 90.0]),
        np.zeros(3),
        np.zeros(3),
    )
    active = np.array([True, True, False])
    ci, cj, _, _ = flat_candidates(tracks, 300.0, 9260.0, 304.8, active)
    assert ci.tolist() == [] and cj.tolist() == []
    # the fast one active: its speed bounds everybody's, and the slow pair becomes a candidate
    ci, cj, _, _ = flat_candidates(tracks, 300.0, 9260.0, 304.8)
    assert (0, 1) in set(zip(ci.tolist(), cj.tolist(), strict=True))
    rules = TacticalPolicy().table(["a", "b", "c"])
    party = np.array([0, 1, 2])
    losses, stats = detect_flat(tracks, party, rules, active)
    assert len(losses) == 0 and stats.tracks == 2 and stats.candidates == 0 and stats.measured == 0
    _, every = detect_flat(tracks, party, rules)
    assert every.tracks == 3 and every.candidates == ci.size >= 1
    assert every.measured == every.candidates - every.screened_clear and every.refined == 0


def test_the_flat_widening_is_its_stated_formula() -> None:
    """``2 e + (S + 2 e) D tan(lat)`` (capped by the great-circle bound), plus the margin, with
    ``D = (S/2 + 2 v t) / R`` and ``e = v t tan(lat) D``; at the pole the cap alone."""
    from deconfliction.domain.tactical.flat import BOUND_MARGIN_M, flat_widening_m

    s, v, t, lat = 9260.0, 250.0, 120.0, math.radians(30.0)
    d = (s / 2 + 2 * v * t) / BLUESKY_RE
    e = v * t * math.tan(lat) * d
    expected = 2 * e + (s + 2 * e) * d * math.tan(lat)
    got = flat_widening_m(np.array([t]), s, v, lat)
    assert float(got[0]) == pytest.approx(expected + BOUND_MARGIN_M, rel=1e-12)
    cap = 2 * BLUESKY_RE * math.asin((s + 2 * v * t) / (2 * BLUESKY_RE)) + 2 * v * t - s
    assert e > 0 and cap > expected
    pole = flat_widening_m(np.array([t]), s, v, math.pi / 2)
    assert float(pole[0]) == pytest.approx(cap + BOUND_MARGIN_M, rel=1e-12)
    # before the pass (a negative time) as at it
    assert flat_widening_m(np.array([-5.0]), s, v, lat).tolist() == flat_widening_m(np.array([0.0]), s, v, lat).tolist()


def test_near_the_pole_only_the_active_tracks_bound_the_latitude() -> None:
    """At 88 N two active aircraft 29 km apart fly north at 50 m/s: in 300 s they reach 88.13 N, where
    the widening is about 7 km, and stay candidates of nobody. An inactive 600 m/s aircraft (which could
    reach 89.6 N, where the widening is about 49 km) must not set the latitude bound."""
    from deconfliction.domain.tactical.flat import flat_candidates, flat_widening_m, lat_bound_rad

    apart = math.degrees(29_260.0 / (BLUESKY_RE * math.cos(math.radians(88.0))))
    tracks = FlatTracks.from_reports(
        0.0,
        np.array([88.0, 88.0, 80.0]),
        np.array([0.0, apart, 180.0]),
        np.zeros(3),
        np.array([50.0, 50.0, 600.0]),
        np.array([0.0, 0.0, 0.0]),
        np.zeros(3),
        np.zeros(3),
    )
    rows = np.array([0, 1])
    bound = lat_bound_rad(tracks, rows, 300.0)
    assert bound == pytest.approx(math.radians(88.0) + 50.0 * 300.0 / BLUESKY_RE, rel=1e-12)
    every = lat_bound_rad(tracks, None, 300.0)
    assert every == pytest.approx(math.radians(88.0) + 600.0 * 300.0 / BLUESKY_RE, rel=1e-12)
    assert float(flat_widening_m(np.array([300.0]), 9260.0, 50.0, bound)[0]) < 8_000.0
    assert float(flat_widening_m(np.array([300.0]), 9260.0, 50.0, every)[0]) > 40_000.0
    ci, _, _, _ = flat_candidates(tracks, 300.0, 9260.0, 304.8, np.array([True, True, False]))
    assert ci.tolist() == []
