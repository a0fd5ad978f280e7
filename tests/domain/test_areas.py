"""``areas.zone_entries``, ``band_entries`` and ``site_conflicts`` against the brute-force oracle.

For random scenarios (operations of several parties with 1-2 volumes of every footprint kind; zones in
every state with validity windows; line bands; point and polygon sites, active or withdrawn, expired or
not; random site policies; anywhere on Earth, the antimeridian included), every (operation, volume,
thing) triple is judged by brute force with the oracle's geodesic distance (tests/oracle.py):

* zone entry: the zone is agreed, owned by another party, its validity meets the volume's window, and
  the oracle distance between the footprints is 0;
* band entry: the operation's party is one of the line's two, the band is valid during the volume's
  window, and the footprints meet;
* protected site: the site is active and owned by another party, and the oracle distance from the
  volume's footprint to the site's own point or polygon is below radius + accuracy + policy distance.

The functions must report exactly those triples, except within 1 m of the threshold (either answer is
right there), with the distance within 1 m of the oracle's, the right window, rule, parties and
version; and the region they draw must lie in the volume's footprint and within the thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from deconfliction.domain.areas import (
    BAND_ENTRY_RULE,
    ZONE_ENTRY_RULE,
    AreaConflictKind,
    AreaFinding,
    band_entries,
    site_conflicts,
    zone_entries,
)
from deconfliction.domain.footprint import (
    CircleFootprint,
    CorridorFootprint,
    Footprint,
    PolygonFootprint,
)
from deconfliction.domain.limits import Limits
from deconfliction.domain.line import Band
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import ProtectedSite, SiteCategory, SitePoint, SitePolicy, SiteState, new_site
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.domain.zone import Zone, ZoneAnswer, ZoneState, answer_zone, propose_zone
from tests import oracle
from tests.oracle import destination, examples, polygon_json, polygon_spec, ring_around, specs
from tests.shapes import circle, parse_shape

LIMITS = Limits()
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TOL = oracle.TOLERANCE_M
PARTIES = ["alpha", "bravo", "charlie"]


def fp(obj: dict[str, Any]) -> Footprint:
    return parse_shape(obj, LIMITS)


def operation(op_id: str, owner: str, kind: OperationKind, volumes: Sequence[Volume4D]) -> Operation:
    return Operation(op_id, owner, kind, 0, OperationState.PLANNED, 1, f"ovn-{op_id}", tuple(volumes), "", T0, T0)


def agreed_zone(zone_id: str, owner: str, footprint: Footprint, validity: TimeWindow) -> Zone:
    other = next(p for p in PARTIES if p != owner)
    zone = propose_zone(
        zone_id=zone_id, owner_id=owner, counterparties=[other], footprint=footprint, validity=validity, now=T0
    )
    return answer_zone(zone, party_id=other, answer=ZoneAnswer.ACCEPTED, now=T0).zone


def site_fp(s: ProtectedSite) -> Footprint:
    """The oracle's view of a site: a point is a circle of radius 0 (the oracle then measures to it)."""
    return CircleFootprint(s.footprint.position, 0.0) if isinstance(s.footprint, SitePoint) else s.footprint


# ------------------------------------------------------------------------------------------ the oracle

Key = tuple[str, str, int]
"""(operation, thing, volume index)"""


def expected(
    ops: Sequence[Operation],
    zones: Sequence[Zone],
    bands: Sequence[Band],
    sites: Sequence[ProtectedSite],
    policy: SitePolicy,
) -> dict[AreaConflictKind, dict[Key, tuple[oracle.Verdict, float]]]:
    """Every triple the rules concern, with the oracle's verdict and distance."""
    out: dict[AreaConflictKind, dict[Key, tuple[oracle.Verdict, float]]] = {k: {} for k in AreaConflictKind}

    def judge(d: float, threshold: float) -> oracle.Verdict:
        if threshold == 0.0:
            return oracle.Verdict.CONFLICT if d == 0.0 else oracle.Verdict.CLEAR if d > TOL else oracle.Verdict.EITHER
        if d < threshold - TOL:
            return oracle.Verdict.CONFLICT
        return oracle.Verdict.CLEAR if d > threshold + TOL else oracle.Verdict.EITHER

    for op in ops:
        for i, v in enumerate(op.volumes):
            w = (v.window.start, v.window.end)
            for z in zones:
                concerned = z.state is ZoneState.AGREED and z.owner_id != op.owner_id
                if concerned and oracle.windows_intersect(*w, z.validity.start, z.validity.end):
                    d = oracle.distance(v.footprint, z.footprint, upto=2.0 * TOL)
                    out[AreaConflictKind.ZONE_ENTRY][(op.id, z.id, i)] = (judge(d, 0.0), d)
            for b in bands:
                concerned = op.owner_id in (b.party_left, b.party_right)
                if concerned and oracle.windows_intersect(*w, b.validity.start, b.validity.end):
                    d = oracle.distance(v.footprint, b.footprint, upto=2.0 * TOL)
                    out[AreaConflictKind.BAND_ENTRY][(op.id, b.id, i)] = (judge(d, 0.0), d)
            for s in sites:
                if s.state is SiteState.ACTIVE and s.owner_id != op.owner_id:
                    total = s.radius_m + s.accuracy_m + policy.distance_m[op.kind]
                    d = oracle.distance(v.footprint, site_fp(s), upto=total + 2.0 * TOL)
                    out[AreaConflictKind.PROTECTED_SITE][(op.id, s.id, i)] = (judge(d, total), d)
    return out


def check(
    ops: Sequence[Operation],
    zones: Sequence[Zone],
    bands: Sequence[Band],
    sites: Sequence[ProtectedSite],
    policy: SitePolicy,
    regions: bool = True,
) -> dict[AreaConflictKind, int]:
    want = expected(ops, zones, bands, sites, policy)
    by_id: dict[str, Any] = {z.id: z for z in zones} | {b.id: b for b in bands} | {s.id: s for s in sites}
    counts = dict.fromkeys(AreaConflictKind, 0)
    for op in ops:
        for kind, findings in (
            (AreaConflictKind.ZONE_ENTRY, zone_entries(op, zones)),
            (AreaConflictKind.BAND_ENTRY, band_entries(op, bands)),
            (AreaConflictKind.PROTECTED_SITE, site_conflicts(op, sites, policy)),
        ):
            got: dict[Key, tuple[AreaFinding, Any]] = {}
            for f in findings:
                assert (f.kind, f.operation_id, f.operator_id, f.ovn) == (kind, op.id, op.owner_id, op.ovn)
                assert f.encounters
                for e in f.encounters:
                    got[(op.id, f.target_id, e.index)] = (f, e)
            for key, (verdict, d) in want[kind].items():
                if key[0] != op.id:
                    continue
                if verdict is oracle.Verdict.CONFLICT:
                    assert key in got, f"{kind}: missed {key} at {d:.3f} m"
                elif verdict is oracle.Verdict.CLEAR:
                    assert key not in got, f"{kind}: false {key} at {d:.3f} m"
            for key, (f, e) in got.items():
                assert key in want[kind], f"{kind}: {key} reported but the rule does not concern it"
                d = want[kind][key][1]
                assert abs(e.horizontal_m - d) <= TOL, (kind, key, e.horizontal_m, d)
                oracle.record(f"{kind} distance", abs(e.horizontal_m - d))
                thing = by_id[f.target_id]
                vol = op.volumes[e.index]
                assert e.altitude == vol.altitude
                _check_finding(kind, op, f, e, thing, vol, policy)
                if regions and e is f.encounters[0]:
                    _check_region(kind, e, vol, thing, policy, op.kind)
                counts[kind] += 1
    return counts


def _check_finding(
    kind: AreaConflictKind, op: Operation, f: AreaFinding, e: Any, thing: Any, vol: Volume4D, policy: SitePolicy
) -> None:
    if kind is AreaConflictKind.ZONE_ENTRY:
        assert (f.rule, f.target_version, f.target_owner_id) == (ZONE_ENTRY_RULE, thing.version, thing.owner_id)
        assert e.window == vol.window.meeting(thing.validity)
    elif kind is AreaConflictKind.BAND_ENTRY:
        other = thing.party_right if op.owner_id == thing.party_left else thing.party_left
        assert (f.rule, f.target_owner_id, f.parties) == (BAND_ENTRY_RULE, other, (op.owner_id, other))
        assert e.window == vol.window.meeting(thing.validity)
    else:
        total = thing.radius_m + thing.accuracy_m + policy.distance_m[op.kind]
        assert f.protection is not None and f.protection.total_m == total
        assert (f.rule.horizontal_m, f.rule.vertical_m, f.target_owner_id) == (total, None, thing.owner_id)
        assert (f.target_version, e.window) == (thing.version, vol.window)


def _check_region(
    kind: AreaConflictKind, e: Any, vol: Volume4D, thing: Any, policy: SitePolicy, op_kind: OperationKind
) -> None:
    """The region's representative point lies in the volume's footprint and within the thing (oracle)."""
    region = e.region
    if region.is_empty or region.area == 0.0:
        return
    p = region.representative_point()
    here = CircleFootprint(((p.x + 180.0) % 360.0 - 180.0, p.y), 0.0)
    # the region is drawn with polygonal buffers in a local frame: allow 1 % of the radii on top of 1 m
    slack = TOL + 0.01 * (getattr(vol.footprint, "radius_m", 0.0) + getattr(vol.footprint, "half_width_m", 0.0))
    assert oracle.distance(here, vol.footprint) <= slack
    if kind is AreaConflictKind.PROTECTED_SITE:
        total = thing.radius_m + thing.accuracy_m + policy.distance_m[op_kind]
        assert oracle.distance(here, site_fp(thing)) <= total * 1.01 + TOL
    else:
        assert oracle.distance(here, thing.footprint) <= slack + 0.01 * getattr(thing.footprint, "half_width_m", 0.0)


# ------------------------------------------------------------------------------------------ scenarios

HOURS = st.integers(0, 4).map(lambda k: T0 + timedelta(minutes=30 * k))
LENGTHS = st.sampled_from([0, 30, 60, 120, 240]).map(lambda m: timedelta(minutes=m))


@st.composite
def windows(draw: st.DrawFn, allow_instant: bool = True) -> TimeWindow:
    start = draw(HOURS)
    length = draw(LENGTHS)
    if not allow_instant and not length:
        length = timedelta(minutes=30)
    return TimeWindow(start, start + length)


@st.composite
def near(draw: st.DrawFn, lon: float, lat: float, spread: float) -> tuple[float, float]:
    az = draw(st.floats(0.0, 360.0))
    return destination(lon, lat, az if abs(lat) < 84.0 else 180.0 - az, draw(st.floats(0.0, spread)))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Operation], list[Zone], list[Band], list[ProtectedSite], SitePolicy]:
    lon = draw(st.one_of(st.floats(-180.0, 180.0), st.sampled_from([180.0, -179.99, 179.95, 0.0])))
    lat = draw(st.one_of(st.floats(-84.0, 84.0), st.sampled_from([0.0, 84.0, -84.0])))
    ops = []
    for i in range(draw(st.integers(1, 2))):
        vols = []
        for _ in range(draw(st.integers(1, 2))):
            spec = draw(specs(max_radius=6_000.0))
            vols.append(
                Volume4D.create(fp(spec.at(*draw(near(lon, lat, 10_000.0)))), AltitudeBand(0.0, 500.0), draw(windows()))
            )
        ops.append(
            operation(f"op{i}", draw(st.sampled_from(PARTIES)), draw(st.sampled_from(list(OperationKind))), vols)
        )
    zones = []
    for i in range(draw(st.integers(1, 2))):
        azimuths, radii = draw(polygon_spec(max_radius=10_000.0))
        zone_fp = fp(polygon_json(ring_around(*draw(near(lon, lat, 10_000.0)), azimuths, radii)))
        zone = agreed_zone(f"z{i}", draw(st.sampled_from(PARTIES)), zone_fp, draw(windows(allow_instant=False)))
        state = draw(st.sampled_from([ZoneState.AGREED] * 3 + [ZoneState.PROPOSED, ZoneState.SUPERSEDED]))
        zones.append(replace(zone, state=state, version=draw(st.integers(1, 3))))
    bands = []
    for i in range(draw(st.integers(0, 1))):
        path = [draw(near(lon, lat, 20_000.0)) for _ in range(draw(st.integers(2, 4)))]
        if len(set(path)) < 2:
            continue
        left, right = draw(st.permutations(PARTIES))[:2]
        width = draw(st.floats(10.0, 3_000.0))
        bands.append(
            Band(f"b{i}", left, right, CorridorFootprint(tuple(path), width), draw(windows(allow_instant=False)))
        )
    sites = []
    for i in range(draw(st.integers(1, 3))):
        centre = draw(near(lon, lat, 10_000.0))
        site_footprint: SitePoint | PolygonFootprint
        if draw(st.booleans()):
            site_footprint = SitePoint(centre)
        else:
            f = fp(polygon_json(ring_around(*centre, *draw(polygon_spec(max_radius=2_000.0)))))
            assert isinstance(f, PolygonFootprint)
            site_footprint = f
        s = new_site(
            site_id=f"s{i}",
            owner_id=draw(st.sampled_from(PARTIES)),
            name="site",
            category=draw(st.sampled_from(list(SiteCategory))),
            footprint=site_footprint,
            radius_m=draw(st.sampled_from([0.0, 50.0, 500.0, 2_000.0])),
            accuracy_m=draw(st.sampled_from([0.0, 10.0, 100.0])),
            valid_until=T0 + timedelta(hours=draw(st.sampled_from([1, 48]))),  # some expire mid-scenario
            now=T0,
        )
        if draw(st.integers(0, 4)) == 0:
            s = replace(s, state=SiteState.WITHDRAWN)
        sites.append(s)
    policy = draw(
        st.sampled_from(
            [
                SitePolicy(),
                SitePolicy.from_mapping({"air": 3_000, "ground": 0, "maritime": 250}),
                SitePolicy.from_mapping({"air": 0}),
            ]
        )
    )
    return ops, zones, bands, sites, policy


@settings(max_examples=examples(200), deadline=None)
@given(scenarios())
def test_rules_equal_the_oracle(scenario: Any) -> None:
    ops, zones, bands, sites, policy = scenario
    note(repr(scenario))
    counts = check(ops, zones, bands, sites, policy)
    for kind, n in counts.items():
        event(f"{kind}: {'found' if n else 'none'}")


# ------------------------------------------------------------------------------------------- examples


def test_zone_entry_for_both_and_not_for_the_owner() -> None:
    zone_fp = fp(polygon_json([[30.0, 10.0], [30.1, 10.0], [30.1, 10.1], [30.0, 10.1], [30.0, 10.0]]))
    zone = agreed_zone("z1", "alpha", zone_fp, TimeWindow(T0, T0 + timedelta(days=30)))
    inside = fp(circle([30.1, 10.05], 2_000.0))  # half in, half out
    vol = Volume4D.create(
        inside, AltitudeBand(0.0, 10_000.0), TimeWindow(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    )
    convoy = operation("op1", "bravo", OperationKind.GROUND, [vol])
    (f,) = zone_entries(convoy, [zone])
    assert (f.kind, f.parties, f.target_id, f.min_horizontal_m) == ("zone_entry", ("bravo", "alpha"), "z1", 0.0)
    assert f.window == TimeWindow(T0, T0 + timedelta(hours=1))  # within the zone's validity
    # the region: the part of the circle inside the zone, about half of it (pi * 2 km^2 / 2)
    region = f.region
    assert region.bounds[2] <= 30.1 + 1e-6 and region.bounds[0] == pytest.approx(30.1 - 2_000.0 / 109_600.0, rel=1e-2)
    assert zone_entries(replace(convoy, owner_id="alpha"), [zone]) == []  # the owner's own operation
    proposal = replace(zone, state=ZoneState.PROPOSED)
    assert zone_entries(convoy, [proposal]) == []  # only agreed zones count
    before = replace(vol, window=TimeWindow(T0 - timedelta(hours=2), T0))
    assert zone_entries(replace(convoy, volumes=(before,)), [zone]) == []  # before the validity: half-open


def test_band_concerns_only_the_lines_parties() -> None:
    band = Band(
        "b1",
        "north",
        "south",
        CorridorFootprint(((30.0, 10.0), (30.2, 10.0)), 1_000.0),
        TimeWindow(T0, T0 + timedelta(days=1)),
    )
    vol = Volume4D.create(fp(circle([30.1, 10.005], 10.0)), AltitudeBand(0, 1), TimeWindow(T0, T0))
    for owner, other in (("north", "south"), ("south", "north")):
        (f,) = band_entries(operation("op", owner, OperationKind.GROUND, [vol]), [band])
        assert (f.kind, f.parties) == ("band_entry", (owner, other))
    assert band_entries(operation("op", "ngo", OperationKind.GROUND, [vol]), [band]) == []


@pytest.mark.parametrize(("gap", "found"), [(1_108.0, True), (1_112.0, False)])
def test_site_protection_distance_exact_to_a_metre(gap: float, found: bool) -> None:
    """radius 80 + accuracy 20 + ground 1,000 = 1,100 m from the point; the operation is a circle of 10 m
    whose centre is ``gap`` from the site: its edge is gap - 10 m away."""
    s = new_site(
        site_id="h",
        owner_id="ngo",
        name="Hospital",
        category=SiteCategory.HOSPITAL,
        footprint=SitePoint((179.999, -33.0)),
        radius_m=80.0,
        accuracy_m=20.0,
        valid_until=T0 + timedelta(days=1),
        now=T0,
    )
    centre = destination(179.999, -33.0, 80.0, gap)  # across the antimeridian
    op = operation(
        "op",
        "army",
        OperationKind.GROUND,
        [
            Volume4D.create(
                fp(circle(list(centre), 10.0)),
                AltitudeBand(5_000.0, 6_000.0),
                TimeWindow(T0, T0),
            )
        ],
    )
    got = site_conflicts(op, [s], SitePolicy())
    assert bool(got) is found
    if got:
        assert got[0].min_horizontal_m == pytest.approx(gap - 10.0, abs=0.01)
        assert got[0].rule.horizontal_m == 1_100.0 and got[0].parties == ("army", "ngo")
        assert not got[0].region.is_empty
    assert site_conflicts(replace(op, owner_id="ngo"), [s], SitePolicy()) == []  # the owner's own
