"""The flat earth model (``tactical.flat``) against BlueSky's detector written out per pair
(tests/tactical/flat_oracle.py): the same pair set on random traffic anywhere (near the poles, across the
antimeridian, level and climbing, aircraft at rest), on dense traffic (every pair checked by the oracle), and
the bound that widens the candidate stage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pyproj import Geod

from deconfliction.domain.tactical import TacticalPolicy, TacticalRule
from deconfliction.domain.tactical.detect import Losses
from deconfliction.domain.tactical.flat import (
    BLUESKY_RE,
    BOUND_MARGIN_M,
    DEG2RAD,
    FlatTracks,
    detect_flat,
    flat_candidates,
    flat_widening_m,
    lat_bound_rad,
)
from tests.tactical.flat_oracle import Aircraft, conflict_pairs, los_pairs
from tests.tactical.helpers import RULES, around, found_pairs

SPHERE = Geod(a=BLUESKY_RE, b=BLUESKY_RE)

places = st.one_of(
    st.tuples(st.floats(-85.0, 85.0), st.floats(-180.0, 180.0)),
    st.tuples(st.one_of(st.floats(70.0, 89.9), st.floats(-89.9, -70.0)), st.floats(-180.0, 180.0)),
    st.tuples(st.floats(-80.0, 80.0), st.one_of(st.floats(179.0, 180.0), st.floats(-180.0, -179.0))),
)
vertical_rates = st.one_of(
    st.just(0.0),
    st.floats(-2e-6, 2e-6),  # about BlueSky's level threshold (1e-6 m/s of difference)
    st.floats(-20.0, 20.0),
)


def tracks_of(aircraft: list[Aircraft]) -> FlatTracks:
    def col(name: str) -> np.ndarray:
        return np.array([getattr(a, name) for a in aircraft], dtype=np.float64)

    return FlatTracks(col("lat"), col("lon"), col("alt"), col("gs"), col("trk"), col("vs"))


def run_flat(aircraft: list[Aircraft], rule: TacticalRule, policy: TacticalPolicy | None = None) -> Losses:
    pol = policy or TacticalPolicy(default=rule, same_party=True)
    names = [f"p{k}" for k in range(max(a.party for a in aircraft) + 1)]
    party = np.array([a.party for a in aircraft], dtype=np.int64)
    losses, _ = detect_flat(tracks_of(aircraft), party, pol.table(names))
    return losses


@st.composite
def cluster(draw: st.DrawFn) -> tuple[list[Aircraft], TacticalRule]:
    lat0, lon0 = draw(places)
    rule = draw(RULES)
    n = draw(st.integers(2, 10))
    spread = draw(st.sampled_from([rule.horizontal_m * 2, 30_000.0, 90_000.0]))
    base_alt = draw(st.floats(0.0, 12_000.0))
    shared_speed = draw(st.floats(0.0, 300.0))
    out = []
    for _ in range(n):
        lat, lon = around(lat0, lon0, draw(st.floats(0, 360)), draw(st.floats(0, spread)))
        out.append(
            Aircraft(
                lat=lat,
                lon=lon,
                alt=base_alt + draw(st.floats(-700.0, 700.0)),
                # at rest, a speed shared with others (same velocity: BlueSky's 0 / 0), or any
                gs=draw(st.one_of(st.just(0.0), st.just(shared_speed), st.floats(0.01, 300.0))),
                trk=draw(st.one_of(st.just(90.0), st.floats(0.0, 359.999))),
                vs=draw(vertical_rates),
            )
        )
    return out, rule


def ill_conditioned(aircraft: list[Aircraft]) -> set[tuple[int, int]]:
    """Pairs whose relative speed is not zero but below 1 mm/s. BlueSky divides by its square: a
    rounding difference of 1e-12 m in the relative position then moves its window by seconds, and its
    answer is rounding noise (Hypothesis found a pair at 3e-156 m/s). Such pairs are left out of the
    comparison; pairs at exactly the same velocity are not (both sides make 0 / 0)."""
    out = set()
    for i in range(len(aircraft)):
        for j in range(i + 1, len(aircraft)):
            a, b = aircraft[i], aircraft[j]
            du = a.gs * math.sin(a.trk * DEG2RAD) - b.gs * math.sin(b.trk * DEG2RAD)
            dv = a.gs * math.cos(a.trk * DEG2RAD) - b.gs * math.cos(b.trk * DEG2RAD)
            if 0.0 < math.hypot(du, dv) < 1e-3:
                out.add((i, j))
    return out


@given(cluster())
def test_flat_pass_equals_bluesky_written_out(case: tuple[list[Aircraft], TacticalRule]) -> None:
    aircraft, rule = case
    losses = run_flat(aircraft, rule)
    args = (rule.horizontal_m, rule.vertical_m, rule.lookahead_s)
    noise = ill_conditioned(aircraft)
    assert found_pairs(losses) - noise == conflict_pairs(aircraft, *args) - noise
    now = {p for k, p in enumerate(zip(losses.i.tolist(), losses.j.tolist(), strict=True)) if losses.now[k]}
    assert now - noise == los_pairs(aircraft, *args) - noise
    # the reported closest approach lies in the conflict window, inside the look-ahead
    assert ((losses.t_in_s >= 0.0) & (losses.t_in_s <= losses.t_cpa_s) & (losses.t_cpa_s <= rule.lookahead_s)).all()


def placed(lat_i: float, lon_i: float, x0: float, y0: float) -> tuple[float, float]:
    """The point whose position relative to (lat_i, lon_i) is (x0, y0) metres east and north for BlueSky
    (its equirectangular approximation, inverted)."""
    lat_j = lat_i + math.degrees(y0 / BLUESKY_RE)
    cav = math.cos(0.5 * (lat_i + lat_j) * DEG2RAD)
    return lat_j, lon_i + math.degrees(x0 / (BLUESKY_RE * cav))


@st.composite
def grazing_pair(draw: st.DrawFn) -> tuple[list[Aircraft], TacticalRule]:
    """Two aircraft whose closest approach for BlueSky is 1 mm to 60 m from S (either side) at a chosen
    time, up to 84 degrees of latitude, where BlueSky's distance and the sphere's differ by up to
    kilometres."""
    rule = draw(RULES)
    lat_i = draw(st.floats(-84.0, 84.0))
    lon_i = draw(st.floats(-180.0, 180.0))
    gs_i, gs_j = draw(st.floats(50.0, 300.0)), draw(st.floats(50.0, 300.0))
    trk_i, trk_j = draw(st.floats(0.0, 359.999)), draw(st.floats(0.0, 359.999))
    t_c = draw(st.floats(0.0, rule.lookahead_s))
    du = gs_j * math.sin(trk_j * DEG2RAD) - gs_i * math.sin(trk_i * DEG2RAD)
    dv = gs_j * math.cos(trk_j * DEG2RAD) - gs_i * math.cos(trk_i * DEG2RAD)
    speed = math.hypot(du, dv)
    if speed < 1.0:
        du, dv, speed = 0.0, 1.0, 1.0  # (then not in conflict: BlueSky's relative velocity is the real one)
    # not within a millimetre: at S exactly, BlueSky's two orders of the pair can disagree (rounding)
    r = rule.horizontal_m + draw(st.one_of(st.floats(-60.0, -1e-3), st.floats(1e-3, 60.0)))
    side = draw(st.sampled_from([-1.0, 1.0]))
    fx, fy = side * r * dv / speed, -side * r * du / speed  # perpendicular to the relative velocity
    lat_j, lon_j = placed(lat_i, lon_i, fx - du * t_c, fy - dv * t_c)
    assume(abs(lat_j) < 89.0)
    alt = draw(st.floats(0.0, 12_000.0))
    return [Aircraft(lat_i, lon_i, alt, gs_i, trk_i, 0.0), Aircraft(lat_j, lon_j, alt, gs_j, trk_j, 0.0)], rule


@given(grazing_pair())
def test_pairs_within_metres_of_the_threshold_far_from_the_equator(case: tuple[list[Aircraft], TacticalRule]) -> None:
    aircraft, rule = case
    truth = conflict_pairs(aircraft, rule.horizontal_m, rule.vertical_m, rule.lookahead_s)
    assert found_pairs(run_flat(aircraft, rule)) - ill_conditioned(aircraft) == truth - ill_conditioned(aircraft)


def dense(lat0: float, lon0: float, n: int, side_m: float, seed: int) -> list[Aircraft]:
    """The benchmark's traffic at its density (0.04 aircraft per km2): uniform in a square, random tracks,
    100-250 m/s, 300-12,500 m, a third climbing or descending at 2.5-15 m/s."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x, y = rng.uniform(-side_m / 2, side_m / 2, 2)
        lat, lon = around(lat0, lon0, math.degrees(math.atan2(x, y)), math.hypot(x, y))
        climbing = rng.random() < 1 / 3
        vs = float(rng.uniform(2.5, 15.0) * rng.choice([-1.0, 1.0])) if climbing else 0.0
        out.append(
            Aircraft(
                lat, lon, rng.uniform(300, 12_500), rng.uniform(100, 250), rng.uniform(0, 360), vs, rng.integers(4)
            )
        )
    return out


@pytest.mark.parametrize(("lat0", "lon0"), [(0.0, 0.0), (52.0, 4.5), (78.0, 179.7)])
def test_dense_traffic_equals_bluesky_on_every_pair(lat0: float, lon0: float) -> None:
    """400 aircraft at the benchmark's density, at the equator, at mid latitude and far north across the
    antimeridian: every one of the 159,600 ordered pairs is checked by the oracle, so a pair the candidate
    stage missed would show."""
    aircraft = dense(lat0, lon0, 400, 100_000.0, seed=int(lat0))
    rule = TacticalRule(9260.0, 304.8, 300.0)
    found = found_pairs(run_flat(aircraft, rule))
    truth = conflict_pairs(aircraft, rule.horizontal_m, rule.vertical_m, rule.lookahead_s)
    assert len(truth) > 300
    assert found == truth


def test_widening_bound_holds_and_is_needed() -> None:
    """Pairs built so that BlueSky's flat distance at a time t is at most S (anywhere up to 85 degrees of
    latitude, both aircraft flying great circles on BlueSky's sphere): their great-circle distance then
    exceeds S by at most ``flat_widening_m``; it does exceed S (the widening is needed), and the bound is
    within a factor of 10 of the largest excess sampled (about 5 over 200,000 samples: docs/tactical.md)."""
    rng = np.random.default_rng(17)
    s = 9260.0
    worst_share = 0.0
    over = 0
    for _ in range(3000):
        lat_i = float(rng.uniform(-85.0, 85.0))
        lon_i = float(rng.uniform(-180.0, 180.0))
        t = float(rng.uniform(0.0, 300.0))
        gs_i, gs_j = rng.uniform(0.0, 250.0, 2)
        trk_i, trk_j = rng.uniform(0.0, 360.0, 2)
        # BlueSky's relative position at t: within S; at 0: that minus the relative velocity times t
        r, a = s * (1.0 - 0.02 * rng.uniform()), rng.uniform(0.0, 2.0 * math.pi)
        fx, fy = r * math.sin(a), r * math.cos(a)
        dux = gs_j * math.sin(trk_j * DEG2RAD) - gs_i * math.sin(trk_i * DEG2RAD)
        duy = gs_j * math.cos(trk_j * DEG2RAD) - gs_i * math.cos(trk_i * DEG2RAD)
        lat_j, lon_j = placed(lat_i, lon_i, fx - dux * t, fy - duy * t)
        if abs(lat_j) >= 89.0:
            continue
        tracks = FlatTracks(
            np.array([lat_i, lat_j]),
            np.array([lon_i, lon_j]),
            np.zeros(2),
            np.array([gs_i, gs_j]),
            np.array([trk_i, trk_j]),
            np.zeros(2),
        )
        lo, la, _ = SPHERE.fwd([lon_i, lon_j], [lat_i, lat_j], [trk_i, trk_j], [gs_i * t, gs_j * t])
        _, _, g = SPHERE.inv(lo[0], la[0], lo[1], la[1])
        bound = float(flat_widening_m(np.array([t]), s, float(max(gs_i, gs_j)), lat_bound_rad(tracks, None, t))[0])
        assert g <= s + bound, (lat_i, t, g - s, bound)
        if g > s:
            over += 1
            worst_share = max(worst_share, (g - s) / (bound - BOUND_MARGIN_M))
    assert over > 100
    assert worst_share > 0.1, worst_share


def test_candidates_cover_bluesky_where_the_flat_model_is_far_off() -> None:
    """Near the pole BlueSky's meridians are parallel while the real ones meet: two aircraft either side
    of the pole flying "east" fly parallel on the Earth yet converge for BlueSky. The candidate stage
    (widened to its fallback there) still keeps the pair, and the pass reports what BlueSky reports."""
    a = Aircraft(89.9, 0.0, 3000.0, 250.0, 90.0, 0.0)
    b = Aircraft(89.9, 180.0, 3000.0, 250.0, 270.0, 0.0)
    rule = TacticalRule(9260.0, 304.8, 300.0)
    truth = conflict_pairs([a, b], rule.horizontal_m, rule.vertical_m, rule.lookahead_s)
    assert truth == {(0, 1)}
    _, _, d_now = SPHERE.inv(0.0, 89.9, 180.0, 89.9)
    assert d_now > rule.horizontal_m + 10_000.0  # far apart on the sphere, and they stay so
    ci, cj, _, _ = flat_candidates(tracks_of([a, b]), rule.lookahead_s, rule.horizontal_m, rule.vertical_m)
    assert (0, 1) in set(zip(ci.tolist(), cj.tolist(), strict=True))
    assert found_pairs(run_flat([a, b], rule)) == truth


def test_bluesky_quirks_are_kept() -> None:
    """What BlueSky does and the exact model does not: two aircraft either side of the antimeridian are a
    whole turn apart (no conflict); two with bitwise the same velocity make 0 / 0 and are never reported,
    even when already too close; a vertical-rate difference of 1e-6 m/s or less is level."""
    rule = TacticalRule(9260.0, 304.8, 300.0)
    east, west = Aircraft(0.0, 179.99, 3000.0, 200.0, 90.0, 0.0), Aircraft(0.0, -179.99, 3000.0, 200.0, 270.0, 0.0)
    assert found_pairs(run_flat([east, west], rule)) == set()
    same_a = Aircraft(10.0, 20.0, 3000.0, 200.0, 45.0, 0.0)
    same_b = Aircraft(10.0, 20.01, 3000.0, 200.0, 45.0, 0.0)  # 1.1 km apart, same velocity
    assert found_pairs(run_flat([same_a, same_b], rule)) == set()
    assert conflict_pairs([same_a, same_b], 9260.0, 304.8, 300.0) == set()
    # 400 m apart vertically, closing at 1e-6 m/s (level for BlueSky) or 2 m/s (within V from 47.6 s,
    # while still within S horizontally: until 92.6 s)
    for dvs, expected in ((1e-6, set()), (2.0, {(0, 1)})):
        low = Aircraft(0.0, 0.0, 3000.0, 100.0, 0.0, dvs)
        high = Aircraft(0.0, 0.001, 3400.0, 0.0, 0.0, 0.0)
        assert found_pairs(run_flat([low, high], rule)) == expected
        assert conflict_pairs([low, high], 9260.0, 304.8, 300.0) == expected


def test_rules_per_pair_of_parties_and_hysteresis_core() -> None:
    """Party rules apply per pair, own aircraft are skipped unless the policy checks them, and the core
    (narrower) rules mark which pairs are conflicts under the policy's own minima."""
    # slow, and each at its own speed (BlueSky never reports two aircraft with the same velocity)
    a = Aircraft(10.0, 20.0, 1000.0, 1.0, 0.0, 0.0, party=0)
    b = Aircraft(*around(10.0, 20.0, 90.0, 5000.0), 1000.0, 2.0, 0.0, 0.0, party=1)
    c = Aircraft(*around(10.0, 20.0, 0.0, 5000.0), 1000.0, 3.0, 0.0, 0.0, party=2)
    d = Aircraft(*around(10.0, 20.0, 180.0, 3000.0), 1000.0, 4.0, 0.0, 0.0, party=0)
    policy = TacticalPolicy(
        default=TacticalRule(10_000.0, 300.0, 60.0), pairs={("p2", "p0"): TacticalRule(2000.0, 300.0, 60.0)}
    )
    aircraft = [a, b, c, d]
    assert found_pairs(run_flat(aircraft, TacticalRule(), policy)) == {(0, 1), (1, 3), (1, 2)}
    same = TacticalPolicy(default=TacticalRule(10_000.0, 300.0, 60.0), same_party=True)
    assert {(0, 3), (0, 2)} <= found_pairs(run_flat(aircraft, TacticalRule(), same))
    # hysteresis: found with 10 km, core with 6 km: only the pairs within 6 km are core
    wide = TacticalPolicy(default=TacticalRule(10_000.0, 300.0, 60.0), same_party=True)
    core = TacticalPolicy(default=TacticalRule(6000.0, 300.0, 60.0), same_party=True)
    names = ["p0", "p1", "p2"]
    party = np.array([x.party for x in aircraft], dtype=np.int64)
    losses, stats = detect_flat(tracks_of(aircraft), party, wide.table(names), core=core.table(names))
    core_pairs = {p for k, p in enumerate(zip(losses.i.tolist(), losses.j.tolist(), strict=True)) if losses.core[k]}
    assert core_pairs == conflict_pairs(aircraft, 6000.0, 300.0, 60.0)
    assert found_pairs(losses) == conflict_pairs(aircraft, 10_000.0, 300.0, 60.0)
    assert set(losses.rule_horizontal_m[losses.core].tolist()) == {6000.0}
    assert stats.losses == len(losses)


def test_reports_are_moved_as_bluesky_moves_its_traffic() -> None:
    """A report of age 0 is taken bit for bit; an older one moves north, then east at the new latitude
    (BlueSky's Traffic.update_pos), and climbs at its vertical rate."""
    lat, lon = np.array([51.5, -33.9]), np.array([-0.12, 151.2])
    alt, gs, trk, vs = np.array([3000.0, 9000.0]), np.array([230.0, 180.0]), np.array([37.0, 251.0]), np.array([5, 0.0])
    now = FlatTracks.from_reports(100.0, lat, lon, alt, gs, trk, vs, np.full(2, 100.0))
    for got, want in ((now.lat, lat), (now.lon, lon), (now.alt, alt)):
        assert np.array_equal(got, want)
    old = FlatTracks.from_reports(100.0, lat, lon, alt, gs, trk, vs, np.array([90.0, 88.0]))
    for k, age in enumerate((10.0, 12.0)):
        a = math.radians(trk[k])
        lat1 = lat[k] + math.degrees(age * gs[k] * math.cos(a) / BLUESKY_RE)
        lon1 = lon[k] + math.degrees(age * gs[k] * math.sin(a) / math.cos(math.radians(lat1)) / BLUESKY_RE)
        assert old.lat[k] == pytest.approx(lat1, abs=1e-12)
        assert old.lon[k] == pytest.approx(lon1, abs=1e-12)
        assert old.alt[k] == pytest.approx(alt[k] + vs[k] * age)
    # where an alert is placed: halfway in BlueSky's chart, the longitude in [-180, 180)
    east = FlatTracks(
        np.array([0.0, 0.0]),
        np.array([179.9, 179.95]),
        np.zeros(2),
        np.array([250.0, 250.0]),
        np.array([90.0, 90.0]),
        np.zeros(2),
    )
    mid_lat, mid_lon = east.midpoint_at(np.array([120.0]), np.array([0]), np.array([1]))
    moved = math.degrees(120.0 * 250.0 / BLUESKY_RE)
    assert mid_lat[0] == pytest.approx(0.0, abs=1e-12)
    assert mid_lon[0] == pytest.approx(179.925 + moved - 360.0, abs=1e-9)


def test_no_pair_when_nothing_is_checked_or_one_aircraft() -> None:
    rule = TacticalRule()
    a, b = Aircraft(0.0, 0.0, 1000.0, 100.0, 0.0, 0.0), Aircraft(0.0, 0.01, 1000.0, 100.0, 10.0, 0.0)
    assert len(run_flat([a], rule)) == 0
    assert found_pairs(run_flat([a, b], rule)) == {(0, 1)}
    losses, stats = detect_flat(
        tracks_of([a, b]), np.zeros(2, dtype=np.int64), TacticalPolicy(default=rule).table(["p"])
    )
    assert len(losses) == 0 and stats.candidates == 0
