"""The wgs84 detector's candidate search keeps the circle error of its motion model as a margin: two
tracks already inside the minimum are a candidate pair even when their reports are old and fast enough
for that error to reach a metre (docs/tactical.md: each box grown by
r = sigma (S/2 + k_max L^2 / 8 + circle_error) + 1 cm)."""

from __future__ import annotations

import numpy as np

from deconfliction.domain.tactical.detect import candidate_pairs
from deconfliction.domain.tactical.motion import Motion, circle_error_m, motion_from_reports

HORIZONTAL_M = 1000.0
HORIZON_S = 300.0
AGE_S = 600.0
SPEED = 300.0


def abreast(dlon: float) -> Motion:
    """Two aircraft at 60° N flying south on meridians ``dlon`` degrees apart at 300 m/s, reported 600 s
    ago at the same latitude (so they diverge: they are closest now)."""
    z = np.zeros(2)
    return motion_from_reports(
        AGE_S, np.array([60.0, 60.0]), np.array([0.0, dlon]), z, np.full(2, SPEED), np.full(2, 180.0), z, z
    )


def apart_now(m: Motion) -> float:
    return float(np.linalg.norm(m.p[:, 0] - m.p[:, 1]))


def at_distance(target_m: float) -> Motion:
    dlon = 0.02
    for _ in range(4):  # the distance is proportional to dlon at this scale: a few steps converge
        dlon *= target_m / apart_now(abreast(dlon))
    return abreast(dlon)


def test_a_pair_a_few_decimetres_inside_the_minimum_is_a_candidate_despite_the_circle_error() -> None:
    # 300 m/s over the 300 s look-ahead from reports 600 s old: 270 km of path, a circle error near 1 m
    assert circle_error_m(SPEED * (HORIZON_S + AGE_S)) > 0.9
    for inside in (0.25, 0.1, 0.0):
        m = at_distance(HORIZONTAL_M - inside)
        assert abs(apart_now(m) - (HORIZONTAL_M - inside)) < 1e-6
        ci, cj, _, _ = candidate_pairs(m, HORIZON_S, HORIZONTAL_M, 300.0)
        assert (ci.tolist(), cj.tolist()) == ([0], [1]), inside
