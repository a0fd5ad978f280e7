"""The wgs84 detector's candidate search and pair decision (``tactical.detect``) against what they promise:
the box sweep finds every pair of overlapping boxes (at the edges of its grid cells too) once per slab,
deciding in chunks gives what one pass gives, the entry time is the first root of the screen's quadratic
inside the window, inactive tracks are left out, and the tolerance is its stated formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deconfliction.domain.minima import threshold_m
from deconfliction.domain.tactical import TacticalPolicy
from deconfliction.domain.tactical.detect import (
    CHUNK,
    RuleTable,
    _decide,
    _decide_chunked,
    _entry_time,
    _sweep,
    candidate_pairs,
    detect,
    tolerance_m,
)
from deconfliction.domain.tactical.motion import WGS84_A, Motion, circle_error_m, motion_from_reports

Boxes = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def motion(
    lat: list[float],
    lon: list[float],
    speed: list[float],
    track: list[float],
    alt: list[float] | None = None,
    vrate: list[float] | None = None,
) -> Motion:
    n = len(lat)
    z = np.zeros(n)
    return motion_from_reports(
        0.0,
        np.array(lat),
        np.array(lon),
        z if alt is None else np.array(alt),
        np.array(speed),
        np.array(track),
        z if vrate is None else np.array(vrate),
        z,
    )


# ------------------------------------------------------------------------------------------------ the sweep


def overlapping(boxes: Boxes, k: int, grow: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> set[tuple[int, int]]:
    """Every pair of boxes of slab k whose closed intervals meet in x, y and altitude (each box grown by
    ``grow`` on every side), by brute force."""
    xl, xh, yl, yh, zl, zh = (b[k] for b in boxes)
    gx, gy, gz = grow
    meet = (
        (xl[:, None] - gx <= xh[None, :] + gx)
        & (xl[None, :] - gx <= xh[:, None] + gx)
        & (yl[:, None] - gy <= yh[None, :] + gy)
        & (yl[None, :] - gy <= yh[:, None] + gy)
        & (zl[:, None] - gz <= zh[None, :] + gz)
        & (zl[None, :] - gz <= zh[:, None] + gz)
    )
    a, b = np.nonzero(np.triu(meet, 1))
    return set(zip(a.tolist(), b.tolist(), strict=True))


def swept(boxes: Boxes) -> list[tuple[int, int]]:
    a, b = _sweep(*boxes)
    assert a.dtype == np.int64 and b.dtype == np.int64
    return [(min(x, y), max(x, y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)]


def random_boxes(rng: np.random.Generator, k: int, m: int) -> Boxes:
    """Boxes of 1 to 12 units over a field of 100 in x, 60 in y and 40 in altitude: many cells in y and
    altitude, and cells crowded enough that an entry overlaps more than four following ones."""
    lo = [rng.uniform(0.0, size, (k, m)) for size in (100.0, 60.0, 40.0)]
    width = [rng.uniform(1.0, 12.0, (k, m)) for _ in range(3)]
    return lo[0], lo[0] + width[0], lo[1], lo[1] + width[1], lo[2], lo[2] + width[2]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_sweep_finds_each_overlapping_pair_once(seed: int) -> None:
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 1, 400)
    found = swept(boxes)
    exact = overlapping(boxes, 0)
    assert len(exact) > 300
    # once each: a pair is kept only in the cell holding the low corner of the two boxes' intersection
    assert len(found) == len(set(found))
    # every overlapping pair; outward rounding may add pairs that miss by less than a quantum (a cell
    # ten thousandth in y and altitude, a 65,535th of the extent in x), no others
    assert exact <= set(found) <= overlapping(boxes, 0, (0.01, 0.01, 0.01))


def test_the_sweep_goes_through_every_slab() -> None:
    rng = np.random.default_rng(3)
    boxes = random_boxes(rng, 3, 150)
    found = swept(boxes)
    per_slab = [overlapping(boxes, k) for k in range(3)]
    assert all(per_slab)
    assert set().union(*per_slab) <= set(found)
    assert len(found) <= sum(len(overlapping(boxes, k, (0.01, 0.01, 0.01))) for k in range(3))


def boxes_of(*spans: tuple[float, float, float, float, float, float]) -> Boxes:
    cols = list(zip(*spans, strict=True))
    return tuple(np.array([c], dtype=np.float64) for c in cols)  # type: ignore[return-value]


@pytest.mark.parametrize("axis", ["y", "altitude"])
def test_a_pair_at_the_top_of_a_box_as_tall_as_a_cell(axis: str) -> None:
    """Cells are as tall as the tallest box (here 1,000 km, plus a thousandth of a metre): a box that
    tall starting just below a cell's top edge reaches just below the top of the next cell, and a box
    starting there meets it in the cell above its own first one. With cells a millimetre shorter the
    tall box would reach a third cell it is not entered in, and the pair would be lost."""
    tall = 1_000_000.0
    low = tall - 0.0015  # within a millimetre and a half of the first cell's top
    other = 2 * tall - 0.0018  # below the tall box's top (2 * tall - 0.0015)

    def span(lo: float, hi: float) -> tuple[float, float, float, float, float, float]:
        return (0.0, 1.0, lo, hi, 0.0, 1.0) if axis == "y" else (0.0, 1.0, 0.0, 1.0, lo, hi)

    boxes = boxes_of(span(0.0, 1.0), span(low, low + tall), span(other, other + 5.0))
    assert swept(boxes) == [(1, 2)]


def test_boxes_apart_are_no_pairs() -> None:
    a, b = _sweep(*boxes_of((0.0, 1.0, 0.0, 1.0, 0.0, 1.0), (5.0, 6.0, 0.0, 1.0, 0.0, 1.0)))
    assert a.tolist() == [] and b.tolist() == [] and a.dtype == np.int64 and b.dtype == np.int64


def test_tracks_far_apart_are_no_candidates_and_no_losses() -> None:
    """200 km apart flying the same way: one frame, no pair (index arrays, even empty)."""
    m = motion([0.0, 0.0], [0.0, math.degrees(200_000.0 / WGS84_A)], [250.0, 250.0], [0.0, 0.0])
    ci, cj, _, _ = candidate_pairs(m, 300.0, 9260.0, 304.8)
    assert ci.tolist() == [] and cj.tolist() == [] and ci.dtype == np.int64 and cj.dtype == np.int64
    losses, stats = detect(m, np.array([0, 1]), TacticalPolicy().table(["a", "b"]))
    assert len(losses) == 0 and stats.candidates == 0


# ----------------------------------------------------------------------------------------- the decision


def dense(n: int, seed: int) -> Motion:
    rng = np.random.default_rng(seed)
    return motion(
        rng.uniform(-1, 1, n).tolist(),
        rng.uniform(-1, 1, n).tolist(),
        rng.uniform(50, 250, n).tolist(),
        rng.uniform(0, 360, n).tolist(),
        rng.uniform(0, 2000, n).tolist(),
        rng.uniform(-5, 5, n).tolist(),
    )


def test_more_pairs_than_a_chunk_give_what_one_pass_gives() -> None:
    n = 190  # 17,955 pairs: two chunks
    m = dense(n, 11)
    i, j = (x.astype(np.int64) for x in np.triu_indices(n, 1))
    assert i.size > CHUNK
    s, v, t = np.full(i.size, 9260.0), np.full(i.size, 304.8), np.full(i.size, 300.0)
    err = tolerance_m(m, 300.0)
    whole, chunked = _decide(m, i, j, s, v, t, err), _decide_chunked(m, i, j, s, v, t, err)
    assert whole.rows.size > 100 and whole.rows.max() > CHUNK  # losses in both chunks
    for name in ("i", "j", "t_cpa", "dist", "t_in", "vertical", "now", "rows"):
        assert getattr(chunked, name).tolist() == getattr(whole, name).tolist(), name
    for name in ("screened", "measured", "refined"):
        assert getattr(chunked, name) == getattr(whole, name), name
    assert whole.screened > whole.measured > 0


# two aircraft head-on along the equator, 60 km apart at 200 m/s each: the gap closes at 400 m/s, so it
# falls below 5 NM (9,260 m) after (60,000 - 9,260) / 400 = 126.85 s and vanishes after 150 s
GAP_DEG = math.degrees(60_000.0 / WGS84_A)


def test_the_entry_time_of_a_head_on_pair() -> None:
    m = motion([0.0, 0.0], [0.0, GAP_DEG], [200.0, 200.0], [90.0, 270.0])
    losses, _ = detect(m, np.array([0, 1]), TacticalPolicy().table(["a", "b"]))
    assert len(losses) == 1 and not losses.now[0]
    assert float(losses.t_in_s[0]) == pytest.approx((60_000.0 - 9260.0) / 400.0, abs=0.05)
    assert float(losses.t_cpa_s[0]) == pytest.approx(150.0, abs=0.01)


def test_the_entry_time_is_when_the_vertical_window_opens() -> None:
    """Side by side 2 km apart (too close horizontally all along), one 600 m above the other descending
    at 5 m/s: vertically too close (under 1,000 ft, less the half millimetre of the exactness rule) from
    (600 - 304.8) / 5 = 59.04 s on."""
    m = motion(
        [0.0, 0.0], [0.0, math.degrees(2_000.0 / WGS84_A)], [200.0, 200.0], [0.0, 0.0], [0.0, 600.0], [0.0, -5.0]
    )
    losses, _ = detect(m, np.array([0, 1]), TacticalPolicy().table(["a", "b"]))
    assert len(losses) == 1 and not losses.now[0]
    assert float(losses.t_in_s[0]) == pytest.approx((600.0 - threshold_m(304.8)) / 5.0, abs=1e-6)


def test_the_entry_time_is_the_first_root_inside_the_window() -> None:
    """t^2 a + 2 b t + c falls below S^2 at the first root of a t^2 + 2 b t + c - S^2, clipped to the
    window's start and the closest time; without a root (or a still pair) the window's start."""
    s = np.full(5, 10.0)
    # (t - 20)^2 a + 64 a: crosses 100 at t = 20 -+ 6 / 1 for a = 1
    # slow: a = 0.25 (0.5 m/s), a gap of 8 units at t = 20, crossing at 20 -+ 12
    # grazing: a = 1e-4 (1 cm/s), minimum 9.999 at t = 200: disc = a (S^2 - 9.999^2) < 1, root at ~186
    a = np.array([1.0, 0.25, 1e-4, 1.0, 0.0])
    b = np.array([-20.0, -5.0, -0.02, -20.0, 0.0])
    c = np.array([464.0, 164.0, 4.0 + 9.999**2, 464.0, 50.0])
    lo = np.array([0.0, 0.0, 0.0, 16.0, 3.0])
    t_cpa = np.array([20.0, 20.0, 200.0, 20.0, 3.0])
    disc = b * b - a * (c - s * s)
    assert 0.0 < disc[2] < 1.0
    got = _entry_time(a, b, c, s, lo, t_cpa)
    assert got.tolist() == pytest.approx([14.0, 8.0, 200.0 - math.sqrt(disc[2]) / 1e-4, 16.0, 3.0], abs=1e-9)


def test_only_active_tracks_are_judged() -> None:
    """The first and third aircraft are head-on; with the third inactive there is nothing to report and
    the pass counts two tracks."""
    m = motion([0.0, 5.0, 0.0], [0.0, 5.0, GAP_DEG], [200.0, 200.0, 200.0], [90.0, 90.0, 270.0])
    rules = TacticalPolicy().table(["a", "b", "c"])
    party = np.array([0, 1, 2])
    every, all_stats = detect(m, party, rules)
    assert list(zip(every.i.tolist(), every.j.tolist(), strict=True)) == [(0, 2)] and all_stats.tracks == 3
    losses, stats = detect(m, party, rules, np.array([True, True, False]))
    assert len(losses) == 0 and stats.tracks == 2 and stats.candidates == 0


def test_the_tolerance_is_twice_the_circle_error_over_the_longest_path_plus_a_millimetre() -> None:
    """0.1 m for 100 km of path (docs/tactical.md): 250 m/s over a 300 s look-ahead from reports 100 s
    old."""
    m = motion_from_reports(
        100.0,
        np.zeros(2),
        np.array([0.0, 1.0]),
        np.zeros(2),
        np.array([100.0, 250.0]),
        np.zeros(2),
        np.zeros(2),
        np.zeros(2),
    )
    assert tolerance_m(m, 300.0) == pytest.approx(2 * circle_error_m(100_000.0) + 1e-3, rel=1e-12)
    assert tolerance_m(m, 300.0) == pytest.approx(0.1012, rel=1e-9)


def test_one_box_is_no_pair() -> None:
    """Index arrays, even empty: a box of a micrometre is entered in its one cell only, so nothing is
    compared at all."""
    a, b = _sweep(*boxes_of((0.0, 1e-6, 0.0, 1e-6, 0.0, 1e-6)))
    assert a.tolist() == [] and b.tolist() == [] and a.dtype == np.int64 and b.dtype == np.int64


def test_aircraft_in_trail_farther_apart_than_their_boxes_reach_are_no_candidates() -> None:
    """Two aircraft flying south on one meridian at 250 m/s, 40 km apart: in each of the five slabs (60 s,
    15 km of flight) their boxes (the slab's path grown by 5 NM / 2 and a few metres each way) stay
    15.7 km apart. A box that kept the leader's starting point would reach the follower's path after the
    first slab."""
    m = motion([0.0, math.degrees(-40_000.0 / WGS84_A)], [0.0, 0.0], [250.0, 250.0], [180.0, 180.0])
    ci, _, _, slabs = candidate_pairs(m, 300.0, 9260.0, 304.8)
    assert slabs == 5 and ci.tolist() == []
    # 22 km apart they are (the boxes of one slab then overlap), though they never come within 5 NM
    near = motion([0.0, math.degrees(-22_000.0 / WGS84_A)], [0.0, 0.0], [250.0, 250.0], [180.0, 180.0])
    ci, cj, _, _ = candidate_pairs(near, 300.0, 9260.0, 304.8)
    assert (ci.tolist(), cj.tolist()) == ([0], [1])


def test_a_pair_the_core_rules_do_not_check_is_not_core() -> None:
    """``core`` (the narrower rules of alert hysteresis) may leave a pair unchecked that ``rules``
    checks: its loss is reported under ``rules`` and is not core."""
    m = motion([0.0, 0.0], [0.0, GAP_DEG], [200.0, 200.0], [90.0, 270.0])
    rules = TacticalPolicy().table(["a", "b"])
    core = RuleTable(rules.horizontal_m, rules.vertical_m, rules.lookahead_s, np.zeros_like(rules.checked))
    losses, _ = detect(m, np.array([0, 1]), rules, core=core)
    assert len(losses) == 1 and losses.core.tolist() == [False]
    both, _ = detect(m, np.array([0, 1]), rules, core=rules)
    assert both.core.tolist() == [True]
