"""``validate_report``'s quick path for the common report (finite floats in range, a plain id) answers as its
full path does: random and boundary reports against the stated rules, written here on their own."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from deconfliction.domain.tactical import (
    MAX_ALTITUDE_M,
    MAX_GROUND_SPEED_MPS,
    MAX_VERTICAL_RATE_MPS,
    MIN_ALTITUDE_M,
    NO_PARTY,
    TRACK_ID_PATTERN_MAX,
    Affiliation,
    validate_report,
)
from deconfliction.errors import InvalidInput

RANGES = {
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
    "altitude_m": (MIN_ALTITUDE_M, MAX_ALTITUDE_M),
    "ground_speed_mps": (0.0, MAX_GROUND_SPEED_MPS),
    "track_deg": (0.0, 360.0),
    "vertical_rate_mps": (-MAX_VERTICAL_RATE_MPS, MAX_VERTICAL_RATE_MPS),
}


def value(rng: random.Random, lo: float, hi: float) -> object:
    return rng.choice(
        [
            rng.uniform(lo, hi),
            lo,
            hi,
            -0.0,
            math.nextafter(hi, math.inf),
            math.nextafter(lo, -math.inf),
            float("nan"),
            float("inf"),
            -float("inf"),
            int(rng.uniform(lo, hi)),
            True,
            None,
            "1.0",
        ]
    )


def expected_errors(fields: dict[str, object], track_id: object, time: datetime) -> set[tuple[str, str]]:
    out = set()
    if not isinstance(track_id, str) or not 1 <= len(track_id) <= TRACK_ID_PATTERN_MAX or not track_id.isprintable():
        out.add(("id", "invalid_id"))
    for name, (lo, hi) in RANGES.items():
        v = fields[name]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            out.add((name, "invalid_number"))
        elif not lo <= v <= hi:
            out.add((name, "out_of_range"))
    if time.tzinfo is None:
        out.add(("time", "time_without_offset"))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_reports_are_taken_or_refused_as_the_rules_say(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(3000):
        fields = {
            name: (rng.uniform(lo, hi) if rng.random() < 0.6 else value(rng, lo, hi))
            for name, (lo, hi) in RANGES.items()
        }
        track_id = rng.choice(["A1", "x" * TRACK_ID_PATTERN_MAX, "x" * (TRACK_ID_PATTERN_MAX + 1), "", "a\nb", 7])
        time = rng.choice(
            [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2)))]
            + ([datetime(2026, 1, 1)] if rng.random() < 0.05 else [])
        )
        affiliation = rng.choice([Affiliation.PARTY, Affiliation.UNKNOWN])
        callsign = rng.choice([None, "CS1"])
        wanted = expected_errors(fields, track_id, time)
        args = ("pt_a", track_id, time, *(fields[name] for name in RANGES), callsign, "api", affiliation)
        if wanted:
            with pytest.raises(InvalidInput) as refused:
                validate_report(*args)  # type: ignore[arg-type]
            assert {(e.field, e.code) for e in refused.value.errors} == wanted
            continue
        r = validate_report(*args)  # type: ignore[arg-type]
        for name, got in zip(
            RANGES,
            (r.lat, r.lon, r.altitude_m, r.ground_speed_mps, r.track_deg, r.vertical_rate_mps),
            strict=True,
        ):
            want = float(fields[name]) % 360.0 if name == "track_deg" else float(fields[name])  # type: ignore[arg-type]
            assert type(got) is float and got == want and math.copysign(1, got) == math.copysign(1, want), name
        own = affiliation is Affiliation.PARTY
        assert (r.party_id, r.reporter, r.affiliation) == (
            ("pt_a", None, affiliation) if own else (NO_PARTY, "pt_a", affiliation)
        )
        assert (r.track_id, r.time, r.callsign, r.source) == (track_id, time, callsign, "api")
