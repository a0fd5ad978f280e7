"""The demo scenario: the Euphrates near Deir ez-Zor (coordinates typed in, approximate).

Two forces fly operations that cross, an aid agency runs a convoy on the river road, and a low
helicopter resupply of one force crosses that road while the convoy is on it. Times are relative to the
moment the demo is loaded, so the situation is always in the near future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from deconfliction.domain.footprint import parse_footprint
from deconfliction.domain.operation import Operation
from deconfliction.domain.party import Party, Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.service.operations import OperationDraft, OperationResult, submit_operation
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime

PARTIES: tuple[tuple[str, Role], ...] = (
    ("Coordination Cell", Role.COORDINATOR),
    ("North Force", Role.PARTY),
    ("East Force", Role.PARTY),
    ("Aid Agency", Role.PARTY),
)

# (party, title, kind, footprint, lower_m, upper_m, start_h, end_h); altitudes above the WGS84 ellipsoid
# (the valley floor is about 200 m above it)
OPERATIONS: tuple[tuple[str, str, OperationKind, dict[str, Any], float, float, float, float], ...] = (
    (
        "North Force",
        "ISR orbit west of the river",
        OperationKind.AIR,
        {
            "type": "Polygon",
            "coordinates": [[[40.00, 35.30], [40.20, 35.30], [40.20, 35.45], [40.00, 35.45], [40.00, 35.30]]],
        },
        1500.0,
        4500.0,
        1.0,
        4.0,
    ),
    (
        "East Force",
        "Transit north-east to south-west",
        OperationKind.AIR,
        {"type": "Corridor", "path": [[40.35, 35.55], [40.05, 35.20]], "half_width_m": 2000.0},
        2000.0,
        3500.0,
        2.0,
        3.0,
    ),
    (
        "Aid Agency",
        "Convoy Deir ez-Zor to Mayadin",
        OperationKind.GROUND,
        {"type": "Corridor", "path": [[40.14, 35.33], [40.30, 35.20], [40.45, 35.02]], "half_width_m": 200.0},
        150.0,
        260.0,
        1.0,
        6.0,
    ),
    (
        "East Force",
        "Helicopter resupply",
        OperationKind.AIR,
        {
            "type": "Polygon",
            "coordinates": [[[40.25, 35.18], [40.33, 35.18], [40.33, 35.26], [40.25, 35.26], [40.25, 35.18]]],
        },
        200.0,
        800.0,
        2.5,
        3.5,
    ),
)


@dataclass(frozen=True)
class DemoLoad:
    parties: list[tuple[Party, str]]
    """Each party with its API key."""
    results: list[OperationResult]


def load_demo(rt: Runtime) -> DemoLoad:
    parties = [create_party(rt, None, name, role) for name, role in PARTIES]
    by_name = {p.name: p for p, _ in parties}
    now = rt.clock().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    results = []
    for party, title, kind, footprint, lo, hi, h0, h1 in OPERATIONS:
        volume = Volume4D.create(
            parse_footprint(footprint, rt.limits),
            AltitudeBand.of(lo, hi, rt.limits),
            TimeWindow.of(now + timedelta(hours=h0), now + timedelta(hours=h1), rt.limits),
        )
        # without an idempotency key the result is never a stored response
        out = cast(OperationResult, submit_operation(rt, by_name[party], OperationDraft(kind, (volume,), 0, title)))
        results.append(out)
    return DemoLoad(parties, results)


def operations_by_id(load: DemoLoad) -> dict[str, Operation]:
    return {r.operation.id: r.operation for r in load.results}
