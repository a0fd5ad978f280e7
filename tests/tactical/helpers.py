"""Shared builders for the tactical tests: traffic around a point, and running the detector on it."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from pyproj import Geod

from deconfliction.domain.tactical import TacticalPolicy, TacticalRule
from deconfliction.domain.tactical_detect import Losses, PassStats, detect
from deconfliction.domain.tactical_motion import motion_from_reports
from tests.tactical.oracle import OTrack

RULES = st.sampled_from(
    [TacticalRule(1852.0, 150.0, 120.0), TacticalRule(9260.0, 304.8, 300.0), TacticalRule(20_000.0, 304.8, 180.0)]
)
"""The rules the property tests draw from: 1 NM / 500 ft / 2 min, 5 NM / 1,000 ft / 5 min, 20 km / 3 min."""

GEOD = Geod(ellps="WGS84")


def around(lat: float, lon: float, bearing: float, dist_m: float) -> tuple[float, float]:
    lo, la, _ = GEOD.fwd(lon, lat, bearing, dist_m)
    return float(la), float(lo)


def run(
    tracks: list[OTrack],
    t0: float,
    rule: TacticalRule,
    parties: list[str] | None = None,
    policy: TacticalPolicy | None = None,
) -> tuple[Losses, PassStats]:
    arr = {
        k: np.array([getattr(t, k) for t in tracks], dtype=np.float64)
        for k in ("lat", "lon", "alt", "gs", "trk", "vs", "t")
    }
    m = motion_from_reports(t0, arr["lat"], arr["lon"], arr["alt"], arr["gs"], arr["trk"], arr["vs"], arr["t"])
    names = parties or ["p"]
    pol = policy or TacticalPolicy(default=rule, same_party=True)
    party = np.array([t.party for t in tracks], dtype=np.int64)
    return detect(m, party, pol.table(names))


def found_pairs(losses: Losses) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in zip(losses.i, losses.j, strict=True)}
