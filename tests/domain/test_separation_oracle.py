"""``separation.measure`` against the brute-force geodesic oracle (tests/oracle.py).

The property, for every pair of footprints and threshold ``within``:

* oracle distance < within - 1 m  =>  ``measure`` returns a Measurement within 1 m of the oracle;
* oracle distance > within + 1 m  =>  ``measure`` returns None;
* in between, either answer, but a Measurement must still be within 1 m of the oracle.

Both argument orders are measured (the first shape's centre is where ``measure`` starts its frame).
Inputs: random convex and star polygons of 1-50 km, holes, a polygon nested in another's hole,
MultiPolygons, shared edges and vertices, equal bounds, circles, corridors, the antimeridian (unsplit
rings and RFC 7946 split MultiPolygons), latitudes up to 88 degrees, long thin parallel corridors and
strips (the re-centring and chunking path), thresholds of 1,000 m, 9,260 m (5 NM) and 20,000 m.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from deconfliction.domain.footprint import Footprint, footprint_shape
from deconfliction.domain.limits import Limits
from deconfliction.domain.separation import Screen, measure
from deconfliction.errors import InvalidInput
from tests import oracle
from tests.oracle import (
    GEOD,
    Spec,
    circle_json,
    corridor_json,
    destination,
    examples,
    polygon_json,
    polygon_spec,
    ring_around,
    specs,
    split_at_antimeridian,
    star,
)
from tests.shapes import parse_shape

LIMITS = Limits()
THRESHOLDS = (1_000.0, 9_260.0, 20_000.0)
TOL = oracle.TOLERANCE_M


def fp(obj: dict[str, Any]) -> Footprint:
    return parse_shape(obj, LIMITS)


def check_shape_bounds(f: Footprint) -> None:
    """The shape's ``reach_m`` and ``boxes`` hold every point of the buffered footprint: the oracle's
    dense core points, and (for circles and corridors) those points moved by the radius in 8 directions."""
    shape = footprint_shape(f)
    core = oracle.core_of(f)
    lon, lat = oracle.to_geodetic(core.starts[:: max(1, core.starts.shape[0] // 400)])
    if core.radius_m > 0.0:
        n = lon.size
        az = np.repeat(np.arange(0.0, 360.0, 45.0), n)
        lon, lat, _ = GEOD.fwd(np.tile(lon, 8), np.tile(lat, 8), az, np.full(8 * n, core.radius_m))
    _, _, dist = GEOD.inv(np.full(lon.size, shape.center[0]), np.full(lon.size, shape.center[1]), lon, lat)
    assert float(np.max(dist)) <= shape.reach_m
    lon = (np.asarray(lon) + 180.0) % 360.0 - 180.0
    inside = np.zeros(lon.size, dtype=bool)
    for x0, y0, x1, y1 in shape.boxes:
        inside |= (lon >= x0 - 1e-9) & (lon <= x1 + 1e-9) & (lat >= y0) & (lat <= y1)
        inside |= (lon == -180.0) & (x1 >= 180.0) & (lat >= y0) & (lat <= y1)  # the same meridian
    assert inside.all(), f"{int((~inside).sum())} points of the footprint outside its boxes {shape.boxes}"


def check(a: Footprint, b: Footprint, within: float, label: str) -> float:
    """Assert the property in both orders; returns the oracle distance."""
    check_shape_bounds(a)
    check_shape_bounds(b)
    truth = oracle.distance(a, b, upto=within + 2.0 * TOL)
    if currently_in_test_context():
        event("oracle: overlap" if truth == 0.0 else "oracle: near" if truth < within else "oracle: clear")
    for x, y in ((a, b), (b, a)):
        sx, sy = footprint_shape(x), footprint_shape(y)
        # the screening bound (which lets detect skip a pair) must never exceed the truth
        screening = Screen(sx).screen([sy])
        bound = float(screening.bounds[0])
        assert bound <= truth + TOL, f"screening bound {bound:.3f} m above the oracle's {truth:.3f} m"
        # a pair the screen calls meeting (then detect measures nothing and reports 0 m) truly meets
        if screening.meeting[0] is not None:
            assert truth <= TOL, f"screen says the cores meet but the oracle finds {truth:.3f} m"
            if currently_in_test_context():
                event("screen: cores meet")
        m = measure(sx, sy, within)
        if truth < within - TOL:
            assert m is not None, f"missed: oracle {truth:.3f} m < {within} m but measure says clear"
        elif truth > within + TOL:
            assert m is None, f"false alarm: oracle {truth:.3f} m > {within} m but measure {m.distance_m:.3f} m"
        if m is not None:
            err = abs(m.distance_m - truth)
            assert err <= TOL, f"measure {m.distance_m:.3f} m vs oracle {truth:.3f} m (error {err:.3f} m)"
            assert m.distance_m < within
            oracle.record(f"{label} within={within:g}" if within in THRESHOLDS else label, err)
    return truth


# ------------------------------------------------------------------------------------------ strategies

lons = st.one_of(st.floats(-180.0, 180.0), st.sampled_from([-180.0, 180.0, 179.97, -179.97, 0.0]))
lats = st.one_of(st.floats(-86.5, 86.5), st.sampled_from([0.0, 60.0, -60.0, 86.5, -86.5]))


@st.composite
def placed_pair(
    draw: st.DrawFn, lon: float, lat: float, within: float, max_radius: float = 25_000.0, a_spec: Spec | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two footprints, the second placed so that the gap between them is drawn from overlap to 1.5 times
    the threshold, most often within 50 m of it: B is first put where it cannot overlap A, measured by the
    oracle, then moved along the same azimuth by the difference."""
    sa = a_spec if a_spec is not None else draw(specs(max_radius))
    sb = draw(specs(max_radius))
    a_obj = sa.at(lon, lat)
    az = equatorward(lat, draw(st.floats(0.0, 360.0)))
    target = draw(
        st.one_of(st.floats(-5_000.0, 0.0), st.floats(0.0, 1.5 * within), st.floats(within - 50.0, within + 50.0))
    )
    start = sa.reach_m + sb.reach_m + 1_000.0
    first = oracle.distance(fp(a_obj), fp(sb.at(*destination(lon, lat, az, start))))
    return a_obj, sb.at(*destination(lon, lat, az, max(0.0, start - (first - target))))


def equatorward(lat: float, az: float) -> float:
    """Keep a second footprint placed from a high latitude away from the pole cap."""
    return 180.0 - az if abs(lat) > 84.0 else az


# ------------------------------------------------------------------------------------- oracle self-check


def _golden(f: Any, lo: float, hi: float) -> float:
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    for _ in range(200):
        c, d = b - g * (b - a), a + g * (b - a)
        if f(c) < f(d):
            b = d
        else:
            a = c
    return float(f((a + b) / 2.0))


def test_oracle_point_to_point_is_the_geodesic() -> None:
    a, b = fp(circle_json(179.9, 60.0, 500.0)), fp(circle_json(-179.95, 60.02, 700.0))
    _, _, d = GEOD.inv(179.9, 60.0, -179.95, 60.02)
    assert oracle.distance(a, b) == pytest.approx(d - 1_200.0, abs=1e-6)


@pytest.mark.parametrize("lat", [0.0, 45.0, 88.0])
def test_oracle_point_to_meridian_matches_a_direct_minimisation(lat: float) -> None:
    """Independent check of the chord search and the geodesic step: the distance from a point to a
    meridian segment (a geodesic), found by golden-section search on Geod.inv."""
    path = [[10.0, lat - 0.5], [10.0, lat + 0.5]]
    px = 10.0 + 0.05 / math.cos(math.radians(lat))
    truth = _golden(lambda t: GEOD.inv(px, lat + 0.1, 10.0, t)[2], lat - 0.5, lat + 0.5)
    got = oracle.distance(fp(corridor_json(path, 100.0)), fp(circle_json(px, lat + 0.1, 50.0)))
    assert got == pytest.approx(truth - 150.0, abs=0.01)


def test_oracle_sees_holes_and_containment() -> None:
    outer = ring_around(30.0, 10.0, [0, 90, 180, 270], [20_000.0] * 4)
    hole = ring_around(30.0, 10.0, [45, 135, 225, 315], [8_000.0] * 4)
    holed = fp(polygon_json(outer, hole))
    inside_hole = fp(circle_json(30.0, 10.0, 1_000.0))
    # truth: point to each hole edge by golden-section search along the edge's geodesic
    best = math.inf
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(hole):
        az, _, length = GEOD.inv(lon1, lat1, lon2, lat2)

        def along(s: float, lon1: float = lon1, lat1: float = lat1, az: float = az) -> float:
            lo, la, _ = GEOD.fwd(lon1, lat1, az, s)
            return float(GEOD.inv(30.0, 10.0, lo, la)[2])

        best = min(best, _golden(along, 0.0, float(length)))
    assert oracle.distance(holed, inside_hole) == pytest.approx(best - 1_000.0, abs=0.01)
    assert oracle.distance(holed, fp(circle_json(30.0, 10.15, 10.0))) == 0.0  # in the solid part
    assert oracle.distance(fp(polygon_json(outer)), inside_hole) == 0.0  # no hole: contained


# ------------------------------------------------------------------------------------------ properties


@settings(max_examples=examples(120))
@given(st.data(), lons, lats, st.sampled_from(THRESHOLDS))
def test_random_footprints(data: st.DataObject, lon: float, lat: float, within: float) -> None:
    """Random convex/star polygons (with holes, MultiPolygons), circles and corridors, 1-50 km, placed
    anywhere from overlapping to well beyond the threshold."""
    a_obj, b_obj = data.draw(placed_pair(lon, lat, within))
    check(fp(a_obj), fp(b_obj), within, "random")


@settings(max_examples=examples(50))
@given(st.data(), lons, lats, st.sampled_from(THRESHOLDS))
def test_nested_in_hole(data: st.DataObject, lon: float, lat: float, within: float) -> None:
    """A polygon inside another's hole: not touching, distance from its edge to the hole's edge."""
    spec = data.draw(polygon_spec())
    outer = star(lon, lat, spec, hole=True)
    r_hole = 0.4 * min(spec[1])
    inner_spec = data.draw(polygon_spec(max_radius=r_hole * 0.8))
    # the hexagonal hole's inscribed radius is 0.866 r_hole: a star of radius < 0.8 r_hole fits
    inner = star(lon, lat, (inner_spec[0], [min(r, r_hole * 0.8) for r in inner_spec[1]]))
    truth = check(fp(outer), fp(inner), within, "nested in hole")
    assert truth > 0.0


@settings(max_examples=examples(60))
@given(lons, lats, st.floats(1_000.0, 25_000.0), st.floats(0.0, 360.0), st.sampled_from(THRESHOLDS), st.integers(0, 4))
def test_touching(lon: float, lat: float, size: float, az: float, within: float, case: int) -> None:
    """Shared edge, shared vertex, equal bounds, identical footprints, a vertex on the middle of the other's
    (geodesic) edge: the oracle says 0; measure must report a conflict at (almost) no distance."""
    c = ring_around(lon, lat, [az + 45.0, az + 135.0, az + 225.0, az + 315.0], [size] * 4)
    p0, p1, p2, p3 = c[0], c[1], c[2], c[3]
    a = polygon_json([p0, p1, p2, p3, p0])
    if case == 0:  # shared edge p1-p2, the second square on the other side
        q1 = destination(*p1, GEOD.inv(*p0, *p1)[0], GEOD.inv(*p0, *p1)[2])
        q2 = destination(*p2, GEOD.inv(*p3, *p2)[0], GEOD.inv(*p3, *p2)[2])
        b = polygon_json([p1, list(q1), list(q2), p2, p1])
    elif case == 1:  # shared vertex p1 only
        far = destination(*p1, GEOD.inv(*p3, *p1)[0], size)
        side = destination(*p1, GEOD.inv(*p3, *p1)[0] + 40.0, size)
        b = polygon_json([p1, list(far), list(side), p1])
    elif case == 2:  # equal bounds: the two triangles of the square's two diagonals
        b = polygon_json([p1, p2, p3, p1])
        a = polygon_json([p0, p1, p3, p0])
    elif case == 3:  # identical
        b = a
    else:  # T-junction: B's vertex on the geodesic midpoint of A's edge p1-p2, B outside A
        az12, _, d12 = GEOD.inv(*p1, *p2)
        mid = destination(*p1, float(az12), float(d12) / 2.0)
        out = float(GEOD.inv(*mid, *p2)[0]) + 90.0  # square to the edge at mid; turned round if it points in
        if GEOD.inv(*destination(*mid, out, 10.0), lon, lat)[2] < GEOD.inv(*mid, lon, lat)[2]:
            out += 180.0
        b = polygon_json(
            [list(mid), list(destination(*mid, out - 30.0, size)), list(destination(*mid, out + 30.0, size)), list(mid)]
        )
    truth = check(fp(a), fp(b), within, "touching")
    assert truth < 0.01


@settings(max_examples=examples(80))
@given(st.data(), st.sampled_from([179.99, -179.99, 180.0, 179.5, -179.7]), lats, st.sampled_from(THRESHOLDS))
def test_antimeridian(data: st.DataObject, lon: float, lat: float, within: float) -> None:
    """Footprints straddling the antimeridian as unsplit rings (179.9 -> -179.9) and as RFC 7946 split
    MultiPolygons; the split form is the same region, so the oracle gives the same distance."""
    azimuths, radii = data.draw(polygon_spec())
    a_spec = Spec(data.draw(st.sampled_from(["polygon", "holed"])), tuple(azimuths), tuple(radii))
    a_obj, b_obj = data.draw(placed_pair(lon, lat, within, a_spec=a_spec))
    truth = check(fp(a_obj), fp(b_obj), within, "antimeridian unsplit")
    ring = a_obj["coordinates"][0]
    if any((p[0] > 0) != (ring[0][0] > 0) for p in ring):
        split_obj = split_at_antimeridian(a_obj)
        assert all(-180.0 <= p[0] <= 180.0 for part in split_obj["coordinates"] for r in part for p in r)
        split_truth = check(fp(split_obj), fp(b_obj), within, "antimeridian split")
        if truth < within + TOL:
            assert split_truth == pytest.approx(truth, abs=0.02)


@settings(max_examples=examples(80))
@given(st.data(), lons, st.floats(80.0, 88.0), st.booleans(), st.sampled_from(THRESHOLDS))
def test_high_latitudes(data: st.DataObject, lon: float, lat: float, south: bool, within: float) -> None:
    """Up to 88 degrees: longitudes converge, a 50 km polygon spans many degrees of longitude."""
    lat = -lat if south else lat
    a_obj, b_obj = data.draw(placed_pair(lon, lat, within))
    check(fp(a_obj), fp(b_obj), within, "high latitude")


def _heading(path: list[tuple[float, float]], k: int) -> float:
    """Azimuth of the path at vertex ``k`` (towards the next vertex; at the last, away from the previous)."""
    if k + 1 < len(path):
        return float(GEOD.inv(*path[k], *path[k + 1])[0])
    return float(GEOD.inv(*path[k], *path[k - 1])[0]) + 180.0


@st.composite
def long_band(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[float, float]], float]:
    """A corridor, or the same band as a thin polygon strip, 150-600 km long: (GeoJSON, path, half-width)."""
    lon = draw(lons)
    lat = draw(st.floats(-82.0, 82.0))
    az = draw(st.floats(0.0, 360.0))
    length = draw(st.floats(150_000.0, 600_000.0))
    n = draw(st.integers(2, 8))
    wa = draw(st.floats(20.0, 2_000.0))
    jitter = draw(st.lists(st.floats(-300.0, 300.0), min_size=n, max_size=n))
    lon0, lat0 = destination(lon, lat, az + 180.0, length / 2.0)
    path = []
    for k in range(n):
        p = destination(lon0, lat0, az, length * k / (n - 1))
        fwd = GEOD.inv(lon0, lat0, *p)[0] if k else az
        path.append(destination(*p, float(fwd) + 90.0, jitter[k]))
    if draw(st.booleans()):
        return corridor_json(path, wa), path, wa
    left = [destination(*p, _heading(path, k) - 90.0, wa) for k, p in enumerate(path)]
    right = [destination(*p, _heading(path, k) + 90.0, wa) for k, p in enumerate(path)]
    ring = [list(p) for p in left] + [list(p) for p in reversed(right)]
    return polygon_json([*ring, ring[0]]), path, wa


@st.composite
def parallel_pair(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], float]:
    """Two long thin footprints side by side: a corridor or strip hundreds of km long and a corridor a few
    km away along it (or along part of it), offset vertex by vertex."""
    a_obj, path, wa = draw(long_band())
    within = draw(st.sampled_from(THRESHOLDS))
    wb = draw(st.floats(20.0, 2_000.0))
    gap = draw(st.floats(0.0, 1.6 * within))
    side = [destination(*p, _heading(path, k) + 90.0, gap + wa + wb) for k, p in enumerate(path)]
    side = side[: max(2, round(len(path) * draw(st.floats(0.5, 1.0))))]
    return a_obj, corridor_json(side, wb), within


@settings(max_examples=examples(40))
@given(long_band(), st.data(), st.sampled_from(THRESHOLDS))
def test_compact_encounter_far_from_centre(
    band: tuple[dict[str, Any], list[tuple[float, float]], float], data: st.DataObject, within: float
) -> None:
    """A small footprint near one end of a footprint hundreds of km long: the encounter is far from the
    first frame's centre, so measure must re-centre on it."""
    a_obj, path, wa = band
    k = data.draw(st.one_of(st.sampled_from([0, len(path) - 2]), st.integers(0, len(path) - 2)))  # often an end
    az, _, length = GEOD.inv(*path[k], *path[k + 1])
    at = destination(*path[k], float(az), float(length) * data.draw(st.floats(0.0, 1.0)))
    side = float(GEOD.inv(*at, *path[k + 1])[0]) + data.draw(st.sampled_from([90.0, -90.0]))
    spec = data.draw(specs(max_radius=5_000.0))
    target = data.draw(st.one_of(st.floats(0.0, 1.5 * within), st.floats(within - 30.0, within + 30.0)))
    start = wa + spec.reach_m + 1_000.0
    first = oracle.distance(fp(a_obj), fp(spec.at(*destination(*at, side, start))))
    b_obj = spec.at(*destination(*at, side, max(0.0, start - (first - target))))
    check(fp(a_obj), fp(b_obj), within, "compact far from centre")


@settings(max_examples=examples(60))
@given(parallel_pair())
@example(
    (
        corridor_json([[0.0, 45.0], [4.0, 45.0]], 500.0),
        corridor_json([[0.0, 45.1], [4.0, 45.1]], 500.0),
        20_000.0,
    )
)
def test_long_parallel_corridors(pair: tuple[dict[str, Any], dict[str, Any], float]) -> None:
    """Near regions hundreds of km long: measure must re-centre and cut them into chunks."""
    a_obj, b_obj, within = pair
    truth = check(fp(a_obj), fp(b_obj), within, "long parallel")
    if a_obj.get("type") == "Polygon" and len({p[0] > 0 for p in a_obj["coordinates"][0]}) == 2:
        lons_a = [p[0] for p in a_obj["coordinates"][0]]
        if max(lons_a) - min(lons_a) > 180.0:  # it crosses the antimeridian: the split strip too
            event("long strip split at the antimeridian")
            split_truth = check(fp(split_at_antimeridian(a_obj)), fp(b_obj), within, "long parallel split")
            if truth < within + TOL:
                assert split_truth == pytest.approx(truth, abs=0.02)


@settings(max_examples=examples(80))
@given(st.data(), lons, lats, st.sampled_from(THRESHOLDS), st.sampled_from([1.5, 3.0, 20.0]), st.booleans())
def test_threshold_edge(data: st.DataObject, lon: float, lat: float, near: float, margin: float, above: bool) -> None:
    """A threshold just above or just below the true distance: the answer must flip with it."""
    a_obj, b_obj = data.draw(placed_pair(lon, lat, near))
    a, b = fp(a_obj), fp(b_obj)
    truth = oracle.distance(a, b)
    if truth < 3.0 * margin:
        return  # touching or overlapping: no threshold below the distance
    check(a, b, truth + margin if above else truth - margin, "threshold edge")


# -------------------------------------------------------------------------------------------- the poles


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (polygon_json([[10.0, 88.0], [20.0, 88.0], [15.0, 89.2], [10.0, 88.0]]), "coordinates[0][2]"),
        (polygon_json([[10.0, -88.0], [15.0, -89.5], [20.0, -88.0], [10.0, -88.0]]), "coordinates[0][1]"),
        (circle_json(0.0, 88.9, 20_000.0), "coordinates"),
        (circle_json(0.0, 89.5, 10.0), "coordinates"),
        (circle_json(0.0, -88.95, 10_000.0), "coordinates"),
        (corridor_json([[0.0, 87.0], [0.0, 89.3]], 100.0), "coordinates[1]"),
        (corridor_json([[0.0, 88.95], [0.0, 88.5]], 10_000.0), "coordinates[0]"),
    ],
)
def test_near_pole_is_refused(obj: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        fp(obj)
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, "near_pole")]


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (polygon_json([[0.0, 88.5], [150.0, 88.5], [75.0, 88.0], [0.0, 88.5]]), "coordinates[0][0]"),
        (polygon_json([[0.0, -88.0], [-85.0, -87.0], [-170.0, -88.0], [0.0, -88.0]]), "coordinates[0][2]"),
        (corridor_json([[0.0, 88.4], [160.0, 88.4]], 500.0), "coordinates[0]"),
    ],
)
def test_edges_passing_near_the_pole_are_refused(obj: dict[str, Any], field: str) -> None:
    """Vertices at 88 degrees, but a geodesic edge between them climbs past 89: the footprint reaches
    within 1 degree of the pole and must be refused like a vertex there, naming the edge."""
    geometry = obj.get("footprint", obj)
    vertices = geometry["coordinates"] if geometry["type"] == "LineString" else geometry["coordinates"][0]
    _, lats_ = oracle.densify([p[0] for p in vertices], [p[1] for p in vertices])
    assert float(np.max(np.abs(lats_))) > 89.5  # the premise: the edge does climb past 89
    with pytest.raises(InvalidInput) as refused:
        fp(obj)
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, "near_pole")]


@pytest.mark.parametrize("lat", [88.0, -88.0])
def test_up_to_88_degrees_is_accepted_and_exact(lat: float) -> None:
    a = fp(polygon_json(ring_around(0.0, lat, [0, 120, 240], [20_000.0] * 3)))
    b = fp(circle_json(*destination(0.0, lat, 180.0 if lat > 0 else 0.0, 30_000.0), 1_000.0))
    truth = check(a, b, 20_000.0, "high latitude")
    assert 0.0 < truth < 20_000.0
