"""Shared builders for the tactical tests: traffic around a point, and running the detector on it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from hypothesis import strategies as st
from pyproj import Geod

from deconfliction.domain.party import Party
from deconfliction.domain.tactical import TacticalPolicy, TacticalRule
from deconfliction.domain.tactical.detect import Losses, PassStats, detect
from deconfliction.domain.tactical.motion import motion_from_reports
from deconfliction.service.runtime import Runtime
from tests.shapes import parse_shape
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


def acknowledged_by_the_other_sides(rt: Runtime, party: Party, conflicts: Any) -> None:
    """Each other side of ``conflicts`` acknowledges what it was told about them, as a party that read them."""
    from deconfliction.service.notifications import acknowledge_notification

    with rt.store.read() as tx:
        told = [
            (other, n.id)
            for c in conflicts
            if (other := tx.parties.get(c.party_b if c.party_a == party.id else c.party_a)) is not None
            for n in tx.notifications.for_subject(other.id, c.id)
            if n.kind in ("conflict.opened", "conflict.updated") and n.state.value == "pending" and n.deadline
        ]
    for other, notification_id in told:
        acknowledge_notification(rt, other, notification_id)


def declare_active(
    rt: Runtime,
    party: Party,
    footprint: dict[str, object],
    lower_m: float,
    upper_m: float,
    start: datetime,
    end: datetime,
    kind: str = "air",
) -> str:
    """Declare an operation of ``party`` and take it to active (presenting every conflict's token, as a
    party that has read them would); its id."""
    from deconfliction.domain.operation import OperationState
    from deconfliction.domain.policy import OperationKind
    from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
    from deconfliction.service.operations import OperationDraft, OperationResult, change_state, submit_operation

    volume = Volume4D.create(
        parse_shape(footprint, rt.limits),
        AltitudeBand.of(lower_m, upper_m, rt.limits),
        TimeWindow.of(start, end, rt.limits),
    )
    done = submit_operation(rt, party, OperationDraft(OperationKind(kind), (volume,), 0, "declared"))
    assert isinstance(done, OperationResult)
    op = done.operation
    tokens = [c.token_for(party.id) for c in done.conflicts]
    acknowledged_by_the_other_sides(rt, party, done.conflicts)  # what the gate waits for (zones, bands, sites)
    for version, to in enumerate((OperationState.PLANNED, OperationState.ACTIVE), start=1):
        moved = change_state(rt, party, op.id, to, expected_version=version, known_tokens=tokens)
        assert isinstance(moved, OperationResult)
        tokens = [c.token_for(party.id) for c in moved.conflicts]
    return op.id
