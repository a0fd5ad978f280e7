"""The demo scenario: the Euphrates near Deir ez-Zor (coordinates typed in, approximate).

The case the service exists for. The river, drawn as a deconfliction line across an area of interest,
splits it into two zones of responsibility: the north-east bank for East Force, the south-west bank (the
city side) for North Force, each agreed by the other, with a 500 m band along the river. An aid agency
declares a hospital in the city (its position typed in DMS, as people give it) and a warehouse on the
Mayadin road, and a convoy route that crosses the river by the bridge. Then the operations: two forces
fly operations that cross each other; the agency's convoy runs on the river road; a low helicopter
resupply of East Force crosses that road while the convoy is on it and passes the warehouse; East
Force's transit crosses into North Force's zone; North Force patrols the river bank inside the band; its
surveillance orbit covers the hospital. Every kind of conflict appears: operation, zone_entry,
band_entry and protected_site. The convoy is declared by the agency's convoy team (a unit with its own
ladder): its warnings reach the team first, and the agency's watch desk with it. North Force then plans
the orbit and activates it: East Force has acknowledged the orbit's entry into its zone and the band,
the Aid Agency has not answered about the hospital, so North Force overrides that one conflict with a
reason (recorded, and told at once to the agency and the coordination cell). Times are relative to the
moment the demo is loaded, so the situation is always in the near future.

Then declared against observed: an observation post (a sensor of no party) reports a column of three
vehicles of unknown affiliation on the city bank, driving north-east towards the river and across it into
East Force's zone. Nobody declared it: one tactical cycle raises ``undeclared_entry`` alerts, told to
each zone's and the band's owner and to the cell as unknown (their notifications and ledger entries stay
in the database; the tracks themselves live in the process that loaded them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from deconfliction.domain.acknowledgement import Override
from deconfliction.domain.conflict import Conflict, ConflictState
from deconfliction.domain.coordinates import parse_position
from deconfliction.domain.footprint import parse_footprint
from deconfliction.domain.line import parse_line
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import SiteCategory, SitePoint, parse_site_footprint
from deconfliction.domain.tactical import Affiliation, Alert, TacticalPolicy, validate_report
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D, format_time
from deconfliction.domain.zone import ZoneAnswer
from deconfliction.service import lines, movements, notifications, sites, units, zones
from deconfliction.service.notifications import acknowledge_notification
from deconfliction.service.operations import OperationDraft, OperationResult, change_state, submit_operation
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
Footprint = dict[str, Any] | tuple[dict[str, Any], dict[str, float]]
"""A geometry, or a geometry and the number beside it (``half_width_m`` of a LineString)."""
OPERATIONS: tuple[tuple[str, str, OperationKind, Footprint, float, float, float, float], ...] = (
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
        ({"type": "LineString", "coordinates": [[40.35, 35.55], [40.05, 35.20]]}, {"half_width_m": 2000.0}),
        2000.0,
        3500.0,
        2.0,
        3.0,
    ),
    (
        "Aid Agency",
        "Convoy Deir ez-Zor to Mayadin",
        OperationKind.GROUND,
        (
            {"type": "LineString", "coordinates": [[40.14, 35.33], [40.30, 35.20], [40.45, 35.02]]},
            {"half_width_m": 200.0},
        ),
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


AREA = {  # the area of interest around the river, the city and the road to Mayadin
    "type": "Polygon",
    "coordinates": [[[39.95, 35.12], [40.48, 35.12], [40.48, 35.50], [39.95, 35.50], [39.95, 35.12]]],
}
RIVER = [[39.90, 35.45], [40.05, 35.38], [40.14, 35.342], [40.25, 35.27], [40.36, 35.19], [40.52, 35.08]]
"""The Euphrates, upstream to downstream (north-west to south-east): the north-east bank is on its left."""
BAND_M = 500.0

HOSPITAL = ("Al-Noor Hospital", "35°20'10\"N 40°08'28\"E", 150.0, 25.0)
"""Name, position as typed, protection radius, stated accuracy (metres)."""
WAREHOUSE = {  # on the Mayadin road
    "type": "Polygon",
    "coordinates": [[[40.292, 35.222], [40.298, 35.222], [40.298, 35.227], [40.292, 35.227], [40.292, 35.222]]],
}
CONVOY_ROUTE = [[40.12, 35.32], [40.16, 35.33], [40.19, 35.35], [40.24, 35.36]]
"""From the agency's warehouse district in the city, over the bridge, to the villages on the far bank."""

# More operations, each producing an area conflict: (party, title, kind, footprint, lower, upper, h0, h1)
AREA_OPERATIONS: tuple[tuple[str, str, OperationKind, Footprint, float, float, float, float], ...] = (
    (
        "North Force",
        "River bank patrol",
        OperationKind.GROUND,
        ({"type": "LineString", "coordinates": [[40.05, 35.375], [40.10, 35.355]]}, {"half_width_m": 100.0}),
        150.0,
        260.0,
        1.0,
        5.0,
    ),
)


@dataclass(frozen=True)
class DemoLoad:
    parties: list[tuple[Party, str]]
    """Each party with its API key."""
    results: list[OperationResult]
    conflicts: list[Conflict]
    """Every open conflict once everything is loaded."""
    labels: dict[str, str]
    """A readable name for every operation, zone, site and line id."""
    unit_keys: list[tuple[str, str]] = field(default_factory=list)
    """(a unit's readable name, an API key scoped to it): sign in as the unit."""
    undeclared: list[Alert] = field(default_factory=list)
    """The undeclared entries of the unknown column (one tactical cycle after loading)."""
    story: list[str] = field(default_factory=list)
    """The warning chain in the demo, in words: who declared for a unit, what was overridden and why."""


COLUMN_START = (40.182, 35.3067)
"""The column's lead vehicle (lon, lat), on the city (south-west) bank, about 680 m from the river."""
COLUMN_TRACK_DEG = 40.0
COLUMN_SPEED_MPS = 8.0


def unknown_column(rt: Runtime) -> list[Alert]:
    """A sensor's reports of three vehicles of unknown affiliation (10 s apart, 100 m between vehicles)
    crossing the river north-eastwards, and one tactical cycle over them: the undeclared entries."""
    from pyproj import Geod

    from deconfliction.service.notifications import notify_alert
    from deconfliction.service.tactical.cycle import TacticalService
    from deconfliction.service.tactical.setup import AreasInForce, DeclaredInForce

    service = TacticalService(
        policy=TacticalPolicy(),
        clock=rt.clock,
        new_id=lambda: rt.ids.new_id("al"),
        areas=AreasInForce(rt),
        declared=DeclaredInForce(rt),
        listeners=[lambda change: notify_alert(rt, change)],
    )
    geod = Geod(ellps="WGS84")
    now = rt.clock()
    for ago in (20.0, 10.0, 0.0):
        reports = []
        for k in range(3):
            back = 100.0 * k + COLUMN_SPEED_MPS * ago
            lon, lat, _ = geod.fwd(*COLUMN_START, COLUMN_TRACK_DEG + 180.0, back)
            reports.append(
                validate_report(
                    "",
                    f"UNK-{k + 1}",
                    now - timedelta(seconds=ago),
                    float(lat),
                    float(lon),
                    210.0,
                    COLUMN_SPEED_MPS,
                    COLUMN_TRACK_DEG,
                    source="sensor",
                    affiliation=Affiliation.UNKNOWN,
                )
            )
        service.ingest(reports)
    service.cycle()
    return service.alerts(None)


def _submit(
    rt: Runtime,
    party: Party,
    title: str,
    kind: OperationKind,
    footprint: Footprint,
    lo: float,
    hi: float,
    start: Any,
    end: Any,
) -> OperationResult:
    geometry, numbers = footprint if isinstance(footprint, tuple) else (footprint, {})
    volume = Volume4D.create(
        parse_footprint(geometry, rt.limits, **numbers),
        AltitudeBand.of(lo, hi, rt.limits),
        TimeWindow.of(start, end, rt.limits),
    )
    # without an idempotency key the result is never a stored response
    return cast(OperationResult, submit_operation(rt, party, OperationDraft(kind, (volume,), 0, title)))


def load_demo(rt: Runtime) -> DemoLoad:
    parties = [create_party(rt, None, name, role) for name, role in PARTIES]
    by_name = {p.name: p for p, _ in parties}
    north, east, agency = by_name["North Force"], by_name["East Force"], by_name["Aid Agency"]
    now = rt.clock().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    labels: dict[str, str] = {}
    # the river splits the area: the north-east bank (left) for East Force, the south-west one for North Force
    validity = TimeWindow(now - timedelta(hours=1), now + timedelta(days=30))
    line = cast(
        lines.LineResult,
        lines.create_line(
            rt,
            by_name["Coordination Cell"],
            lines.LineDraft(
                "Euphrates",
                parse_footprint(AREA, rt.limits),
                AREA,
                parse_line(RIVER, rt.limits),
                east.id,
                north.id,
                validity,
                BAND_M,
            ),
        ),
    )
    labels[line.line.id] = "Euphrates band"
    left, right = line.zones
    zones.answer(rt, north, left.id, ZoneAnswer.ACCEPTED)  # each accepts the other's bank
    zones.answer(rt, east, right.id, ZoneAnswer.ACCEPTED)
    labels[left.id], labels[right.id] = "East Force zone (north-east bank)", "North Force zone (south-west bank)"
    name, text, radius, accuracy = HOSPITAL
    hospital = cast(
        sites.SiteResult,
        sites.create_site(
            rt,
            agency,
            sites.SiteDraft(
                name,
                SiteCategory.HOSPITAL,
                SitePoint(parse_position(text).position),
                radius,
                accuracy,
                now + timedelta(days=90),
            ),
        ),
    ).site
    warehouse_fp = parse_site_footprint(WAREHOUSE, rt.limits)
    warehouse = cast(
        sites.SiteResult,
        sites.create_site(
            rt,
            agency,
            sites.SiteDraft(
                "WFP warehouse", SiteCategory.WAREHOUSE, warehouse_fp, 50.0, 10.0, now + timedelta(days=90)
            ),
        ),
    ).site
    labels[hospital.id], labels[warehouse.id] = f"Aid Agency: {hospital.name}", f"Aid Agency: {warehouse.name}"
    results = []
    for party, title, kind, footprint, lo, hi, h0, h1 in (*OPERATIONS, *AREA_OPERATIONS):
        results.append(
            _submit(
                rt, by_name[party], title, kind, footprint, lo, hi, now + timedelta(hours=h0), now + timedelta(hours=h1)
            )
        )
    # the convoy team answers for its convoy first; the agency's watch desk backs it up
    notifications.set_contacts(
        rt, agency, [{"name": "Watch desk", "channels": {"phone": "+963 11 000 0100"}}, {"name": "Head of security"}]
    )
    convoy_team, _ = units.create_unit(
        rt,
        agency,
        "Convoy team",
        contacts=[{"name": "Convoy lead", "channels": {"radio": "VHF ch 7"}}, {"name": "Convoy deputy"}],
    )
    convoy = cast(
        movements.MovementResult,
        movements.submit_movement(
            rt,
            agency,
            OperationKind.GROUND,
            {
                "route": {"type": "LineString", "coordinates": CONVOY_ROUTE},
                "departure": format_time(now + timedelta(hours=2)),
                "speed_m_s": 8.0,
                "half_width_m": 30,
                "altitude": {"lower_m": 150, "upper_m": 260},
                "tolerance_s": 900,
            },
            title="Convoy over the bridge",
            unit=convoy_team.id,
        ),
    )
    results.append(convoy.result)
    results[0] = _activate_with_override(rt, north, east, results[0].operation)
    labels[convoy_team.id] = "Aid Agency: Convoy team"
    for r in results:
        labels[r.operation.id] = f"{r.operation.owner_id}: {r.operation.title}"
    names = {p.id: p.name for p, _ in parties}
    labels = {k: _named(v, names) for k, v in labels.items()}
    with rt.store.read() as tx:
        open_conflicts = tx.conflicts.list(state=ConflictState.OPEN, limit=10_000)
    _, team_key, _ = units.issue_unit_key(rt, agency, convoy_team.id)
    story = [
        'The Aid Agency\'s convoy is declared by its unit "Convoy team": its warnings go to the team '
        "(ladder: Convoy lead, Convoy deputy), then the agency's watch desk (Watch desk, Head of security); "
        "sign in with the unit's key above.",
        f'North Force activated "ISR orbit west of the river" over the Al-Noor Hospital with an override: '
        f'"{OVERRIDE_REASON}" It is in the ledger and was told at once to the Aid Agency and the cell.',
    ]
    return DemoLoad(
        parties,
        results,
        open_conflicts,
        labels,
        [("Aid Agency / Convoy team", team_key)],
        unknown_column(rt),
        story,
    )


OVERRIDE_REASON = (
    "Surveillance only, no effects on the ground. The Aid Agency's duty officer has not answered; "
    "the cell is told and the orbit stays above 1,500 m."
)


def _activate_with_override(rt: Runtime, north: Party, east: Party, orbit: Operation) -> OperationResult:
    """The acknowledgement gate in the demo: East Force acknowledges what it was told about the orbit (its
    zone, the band), the Aid Agency does not; North Force plans, then activates with an override of the
    hospital conflict."""
    with rt.store.read() as tx:
        mine = [c for c in tx.conflicts.for_operation(orbit.id).values() if c.state is ConflictState.OPEN]
        told = [n for c in mine for n in tx.notifications.about(east.id, "conflict.opened", c.id)]
    for n in told:
        acknowledge_notification(rt, east, n.id)
    tokens = [c.token_for(north.id) for c in mine]
    planned = cast(
        OperationResult,
        change_state(rt, north, orbit.id, OperationState.PLANNED, expected_version=orbit.version, known_tokens=tokens),
    )
    hospital = [Override(c.id, OVERRIDE_REASON) for c in mine if c.kind == "protected_site"]
    return cast(
        OperationResult,
        change_state(
            rt,
            north,
            orbit.id,
            OperationState.ACTIVE,
            expected_version=planned.operation.version,
            known_tokens=tokens,
            overrides=hospital,
        ),
    )


def _named(label: str, names: dict[str, str]) -> str:
    for pid, n in names.items():
        label = label.replace(pid, n)
    return label


def operations_by_id(load: DemoLoad) -> dict[str, Operation]:
    return {r.operation.id: r.operation for r in load.results}
