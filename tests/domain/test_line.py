"""``line.split_area``: the two sides of a line partition the area, and each is on the side it is named for.

The partition property, for random star-shaped areas (convex or not, with or without a hole, 1-60 km,
anywhere on Earth including across the antimeridian, unsplit or as an RFC 7946 split MultiPolygon) and
random lines crossing them (2-9 vertices, meandering so that they may leave and re-enter the area):

* areas add up: |area(left) + area(right) - area| <= AREA_TOL_M2 + AREA_TOL_REL * area, geodesic areas
  on WGS84 (GeographicLib through pyproj, as the footprints' own area);
* no overlap, no gap: the sides and the area are densified every 50 m along their geodesic edges by the
  oracle (tests/oracle.py, not the production path), mapped to the plane tangent at their middle
  (orthographic, a linear map of ECEF, so chords stay straight): the intersection of the sides has an
  area below OVERLAP_TOL_M2 + the chord allowance, and the union differs from the area by no more;
* sides: the line is closed, in the same plane, by a large detour on its left; the left side's pieces are
  inside that loop, the right side's outside;
* the crossing points lie on both geodesics (the area's edge and the line's) within 1 mm (oracle);
* both sides are valid footprints (``validate_footprint``).
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from deconfliction.domain.footprint import (
    CircleFootprint,
    CorridorFootprint,
    PolygonFootprint,
    polygon_area_m2,
    validate_footprint,
)
from deconfliction.domain.limits import Limits
from deconfliction.domain.line import (
    band_along,
    band_outline,
    geodesic_crossing,
    parse_line,
    propose_split_zones,
    split_area,
)
from deconfliction.domain.volume import TimeWindow
from deconfliction.domain.zone import ZoneState
from deconfliction.errors import InvalidInput
from tests import oracle
from tests.oracle import GEOD, destination, examples, polygon_spec, split_at_antimeridian, star
from tests.shapes import parse_shape

LIMITS = Limits()
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WINDOW = TimeWindow(T0, T0.replace(year=2027))

AREA_TOL_M2 = 0.01
AREA_TOL_REL = 1e-9
"""Areas add up within 0.01 m2 + 1e-9 of the area. Measured over 2,000 examples (HYPOTHESIS_PROFILE=deep,
ORACLE_REPORT=1): at most 0.0003 m2 on areas up to 2,800 km2; overlap 0.0000 m2; union against the area
in the oracle's plane 0.0071 m2 (the 50 m chords of the oracle's own densification)."""
OVERLAP_TOL_M2 = 0.01
CHORD_ALLOWANCE = 1e-4
"""m2 per metre of boundary: 50 m chords of the same geodesic, cut at different points, differ by at most
their sagitta (0.05 mm), so the planar pictures of equal regions differ by less than this per metre."""


def fp(obj: dict[str, Any]) -> PolygonFootprint:
    f = parse_shape(obj, LIMITS)
    assert isinstance(f, PolygonFootprint)
    return f


# ------------------------------------------------------------------------------------ the oracle's plane


class Plane:
    """Orthographic projection onto the plane tangent to the ellipsoid's normal at a point: a linear map
    of ECEF, so the densified chords stay straight and regions keep their topology."""

    def __init__(self, lon: float, lat: float) -> None:
        self.origin = oracle.to_ecef(np.array([lon]), np.array([lat]))[0]
        up = self.origin / np.linalg.norm(self.origin)
        helper = np.array([0.0, 0.0, 1.0]) if abs(up[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        self.east = np.cross(helper, up)
        self.east /= np.linalg.norm(self.east)
        self.north = np.cross(up, self.east)

    def xy(self, lons: Any, lats: Any) -> Any:
        # one longitude for one meridian: 180 and -180 would differ by 1e-9 m through sin(pi)
        lons = (np.asarray(lons, dtype=float) + 180.0) % 360.0 - 180.0
        d = oracle.to_ecef(lons, np.asarray(lats, dtype=float)) - self.origin
        return np.column_stack((d @ self.east, d @ self.north))

    def curve(self, positions: Any) -> Any:
        lons, lats = oracle.densify([p[0] for p in positions], [p[1] for p in positions])
        lons[0], lats[0] = positions[0]  # as given (the forward problem at distance 0 may move it by 1e-19)
        return self.xy(lons, lats)

    def region(self, f: PolygonFootprint) -> shapely.MultiPolygon:
        polys = [shapely.Polygon(self.curve(rings[0]), [self.curve(h) for h in rings[1:]]) for rings in f.polygons]
        return shapely.MultiPolygon(polys)


def perimeter_m(f: PolygonFootprint) -> float:
    total = 0.0
    for rings in f.polygons:
        for ring in rings:
            lons, lats = [p[0] for p in ring], [p[1] for p in ring]
            total += float(np.sum(GEOD.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])[2]))
    return total


def on_geodesic_m(point: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return oracle.distance(CircleFootprint(point, 0.0), CorridorFootprint((a, b), 0.0))


def check_partition(area: PolygonFootprint, line: list[tuple[float, float]], left_of: Any) -> tuple[int, int]:
    """The properties of the module docstring; ``left_of`` maps plane coordinates to "is on the left"."""
    split = split_area(area, line, "west", "east")
    a, left, right = polygon_area_m2(area), split.left_area_m2, split.right_area_m2
    assert left > 0.0 and right > 0.0
    assert abs(left + right - a) <= AREA_TOL_M2 + AREA_TOL_REL * a, (left, right, a)
    oracle.record("split: |left + right - area| m2", abs(left + right - a))

    validate_footprint(split.left, LIMITS)
    validate_footprint(split.right, LIMITS)

    centre = split.crossings[0]
    plane = Plane(*centre)
    ra, rl, rr = plane.region(area), plane.region(split.left), plane.region(split.right)
    allowance = CHORD_ALLOWANCE * (perimeter_m(split.left) + perimeter_m(split.right))
    overlap = shapely.intersection(rl, rr).area
    assert overlap <= OVERLAP_TOL_M2 + allowance, f"the sides overlap by {overlap} m2"
    gap = shapely.symmetric_difference(shapely.union(rl, rr), ra).area
    assert gap <= OVERLAP_TOL_M2 + allowance, f"the union differs from the area by {gap} m2"
    oracle.record("split: overlap m2", overlap)
    oracle.record("split: |union - area| m2", gap)

    for pieces, want in ((rl, True), (rr, False)):
        for piece in pieces.geoms:
            p = piece.representative_point()
            assert left_of(plane, p.x, p.y) is want, f"a piece of the {'left' if want else 'right'} side is misplaced"

    # crossings: on a line edge and on an area edge, within 1 mm of both geodesics
    edges = [e for rings in area.polygons for r in rings for e in itertools.pairwise(r)]
    line_edges = list(itertools.pairwise(line))
    for c in split.crossings:
        assert min(on_geodesic_m(c, *e) for e in line_edges) <= 1e-3
        assert min(on_geodesic_m(c, *e) for e in edges) <= 1e-3
    return len(split.left.polygons), len(split.right.polygons)


def left_loop(plane: Plane, line: list[tuple[float, float]], along_az: float) -> shapely.Polygon:
    """The line closed by a detour far on its left: a point in the plane is left of the line iff inside."""
    xy = plane.curve(line)
    u = xy[-1] - xy[0]
    u /= np.linalg.norm(u)
    n = np.array([-u[1], u[0]])  # u turned a quarter to the left
    big = 1e7
    detour = [xy[-1] + big * u, xy[-1] + big * u + big * n, xy[0] - big * u + big * n, xy[0] - big * u]
    return shapely.Polygon(np.vstack((xy, detour)))


# ------------------------------------------------------------------------------------------ strategies

lons = st.one_of(st.floats(-180.0, 180.0), st.sampled_from([180.0, -180.0, 179.99, -179.99, 179.9, 0.0]))
lats = st.one_of(st.floats(-80.0, 80.0), st.sampled_from([0.0, 60.0, -75.0]))


@st.composite
def crossing_line(draw: st.DrawFn, lon: float, lat: float, r_min: float, r_max: float, hole: bool) -> Any:
    """A simple line from well outside the area to well outside on the other side: vertices at increasing
    distances along a random azimuth, with random sideways offsets (meanders that may leave the area and
    come back); the vertex in the middle is inside the area's solid part (the star's inner disc, or the
    ring between the hole and it), so the line certainly divides the area."""
    az = draw(st.floats(0.0, 360.0))
    zigzag = draw(st.booleans())
    n_side = draw(st.integers(1, 4) if zigzag else st.integers(0, 4))
    reach = 1.3 * r_max + 1_000.0
    fractions = sorted(draw(st.lists(st.floats(0.05, 0.95), min_size=n_side, max_size=n_side, unique=True)))
    if zigzag:  # in and out of the area: several pieces on each side
        amplitude = draw(st.floats(0.6, 1.5)) * r_max
        offsets = [amplitude * draw(st.floats(0.5, 1.0)) * (-1.0) ** k for k in range(2 * n_side + 2)]
    else:
        wiggle = draw(st.floats(0.0, 1.2)) * r_max
        offsets = [draw(st.floats(-1.0, 1.0)) * wiggle for _ in range(2 * n_side + 2)]
    mid = r_min * (draw(st.floats(0.42, 0.48)) if hole else draw(st.floats(0.0, 0.48)))
    mid *= draw(st.sampled_from([-1.0, 1.0]))
    alongs = [-reach, *(-reach * f for f in reversed(fractions)), 0.0, *(reach * f for f in fractions), reach]
    sides = [offsets[0], *offsets[1 : n_side + 1], mid, *offsets[n_side + 1 : 2 * n_side + 1], offsets[-1]]
    out = []
    for along, side in zip(alongs, sides, strict=True):
        bearing = az + math.degrees(math.atan2(side, along)) if (along or side) else az
        out.append(destination(lon, lat, bearing, math.hypot(along, side)))
    return out, az


@settings(max_examples=examples(60), deadline=None)
@given(st.data(), lons, lats, st.booleans())
def test_split_is_a_partition(data: st.DataObject, lon: float, lat: float, hole: bool) -> None:
    spec = data.draw(polygon_spec(max_radius=30_000.0))
    area_obj = star(lon, lat, spec, hole=hole)
    line, az = data.draw(crossing_line(lon, lat, min(spec[1]), max(spec[1]), hole))
    forms = [area_obj]
    ring = area_obj["coordinates"][0]
    if any((p[0] > 0) != (ring[0][0] > 0) for p in ring) and abs(lon) > 90.0:
        forms.append(split_at_antimeridian(area_obj))  # the same region as an RFC 7946 MultiPolygon
        event("antimeridian: unsplit and split")
    for obj in forms:

        def left_of(plane: Plane, x: float, y: float) -> bool:
            return bool(left_loop(plane, line, az).contains(shapely.Point(x, y)))

        note(f"area = {obj!r}\nline = {line!r}")
        n_left, n_right = check_partition(fp(obj), line, left_of)
        event(f"pieces: {min(n_left + n_right, 4)}{'+' if n_left + n_right >= 4 else ''}")


# -------------------------------------------------------------------------------------------- examples


def square(lon: float, lat: float, size: float = 0.2) -> dict[str, Any]:
    pts = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [[[x if x <= 180.0 else x - 360.0, y] for x, y in pts]]}


def test_left_is_left_of_travel_and_reversing_swaps() -> None:
    area = fp(square(10.0, 45.0))
    line = [(9.9, 45.1), (10.3, 45.1)]  # eastward through the middle: north is on the left
    split = split_area(area, line, "north", "south")
    assert (split.party_left, split.party_right) == ("north", "south")
    assert all(p[1] >= 45.1 - 1e-3 for p in split.left.polygons[0][0])
    assert all(p[1] <= 45.1 + 1e-3 for p in split.right.polygons[0][0])
    back = split_area(area, list(reversed(line)), "north", "south")
    assert polygon_area_m2(back.left) == pytest.approx(split.right_area_m2, abs=1e-3)
    assert polygon_area_m2(back.right) == pytest.approx(split.left_area_m2, abs=1e-3)
    # the crossings are on the square's meridian edges, exactly
    assert [round(c[0], 9) for c in split.crossings] == [10.0, 10.2]


def test_sides_keep_the_vertices_people_gave() -> None:
    area = fp(square(10.0, 45.0))
    line = [(9.9, 45.05), (10.1, 45.12), (10.3, 45.1)]
    split = split_area(area, line, "a", "b")
    left = set(split.left.polygons[0][0])
    assert (10.1, 45.12) in left and (10.0, 45.2) in left and (10.2, 45.2) in left
    assert len(left) == 5  # two corners, two crossings, one line vertex: nothing inserted
    assert split.band_path == (split.crossings[0], (10.1, 45.12), split.crossings[1])


def test_meandering_line_gives_each_party_every_piece_on_its_side() -> None:
    area = fp(square(10.0, 45.0))
    # enters from the west, leaves north, comes back in, leaves east
    line = [(9.9, 45.1), (10.05, 45.1), (10.08, 45.25), (10.12, 45.25), (10.15, 45.1), (10.3, 45.1)]
    split = split_area(area, line, "left", "right")
    assert len(split.left.polygons) == 2 and split.left.multi
    assert len(split.right.polygons) == 1
    assert len(split.crossings) == 4
    a = polygon_area_m2(area)
    assert split.left_area_m2 + split.right_area_m2 == pytest.approx(a, rel=1e-12)


def test_hole_is_kept_on_its_side() -> None:
    spec = ([0.0, 90.0, 180.0, 270.0], [20_000.0] * 4)
    area = fp(star(30.0, 10.0, spec, hole=True))
    north_of_hole = [destination(30.0, 10.0, az, 25_000.0) for az in (300.0, 60.0)]
    split = split_area(area, [north_of_hole[0], destination(30.0, 10.0, 0.0, 15_000.0), north_of_hole[1]], "n", "s")
    # the hole is south of the line: the right (south) side keeps it
    assert len(split.right.polygons[0]) == 2 and len(split.left.polygons[0]) == 1
    assert split.left_area_m2 + split.right_area_m2 == pytest.approx(polygon_area_m2(area), rel=1e-12)


@pytest.mark.parametrize(
    ("line", "field", "code"),
    [
        ([(9.9, 45.1), (10.1, 45.1)], "line[1]", "line_ends_inside"),
        ([(10.1, 45.1), (10.3, 45.1)], "line[0]", "line_ends_inside"),
        ([(9.9, 45.3), (10.3, 45.3)], "line", "line_misses_area"),
        ([(9.9, 45.2), (10.3, 45.2)], "line", "line_misses_area"),  # along the northern edge only
        ([(9.9, 45.1), (10.3, 45.1), (10.3, 45.15), (9.9, 45.05)], "line", "line_self_intersects"),
        ([(9.9, 45.1)], "line", "invalid_geojson"),
        ([(9.9, 45.1), (9.9, 45.1)], "line", "degenerate_path"),
        ([(9.9, 45.1), (190.0, 45.1)], "line[1][0]", "out_of_range"),
    ],
)
def test_refusals_name_the_reason(line: list[tuple[float, float]], field: str, code: str) -> None:
    with pytest.raises(InvalidInput) as e:
        split_area(fp(square(10.0, 45.0)), line, "a", "b")
    assert (e.value.errors[0].field, e.value.errors[0].code) == (field, code)


def test_self_crossing_names_the_edges() -> None:
    with pytest.raises(InvalidInput, match=r"edge 0 \(positions 0 to 1\) meets edge 2"):
        split_area(fp(square(10.0, 45.0)), [(9.9, 45.1), (10.3, 45.1), (10.3, 45.15), (9.9, 45.05)], "a", "b")


def test_line_from_a_hole_does_not_separate() -> None:
    spec = ([0.0, 90.0, 180.0, 270.0], [20_000.0] * 4)
    area = fp(star(30.0, 10.0, spec, hole=True))
    with pytest.raises(InvalidInput) as e:
        split_area(area, [(30.0, 10.0), destination(30.0, 10.0, 10.0, 30_000.0)], "a", "b")
    assert e.value.errors[0].code == "line_does_not_separate"


def test_part_not_crossed_is_refused() -> None:
    two = {
        "type": "MultiPolygon",
        "coordinates": [square(10.0, 45.0)["coordinates"], square(11.0, 45.0)["coordinates"]],
    }
    with pytest.raises(InvalidInput) as e:
        split_area(fp(two), [(9.9, 45.1), (10.3, 45.1)], "a", "b")
    assert (e.value.errors[0].field, e.value.errors[0].code) == ("area", "part_not_divided")
    both = split_area(fp(two), [(9.9, 45.1), (11.3, 45.1)], "a", "b")
    assert len(both.left.polygons) == 2 and len(both.right.polygons) == 2


def test_same_party_is_refused() -> None:
    with pytest.raises(InvalidInput) as e:
        split_area(fp(square(10.0, 45.0)), [(9.9, 45.1), (10.3, 45.1)], "a", "a")
    assert (e.value.errors[0].field, e.value.errors[0].code) == ("party_right", "same_party")


def test_line_across_the_antimeridian() -> None:
    area = fp(square(179.9, -20.0))  # 179.9 .. -179.9
    split = split_area(area, [(179.8, -19.9), (-179.8, -19.88)], "a", "b")
    assert split.left_area_m2 + split.right_area_m2 == pytest.approx(polygon_area_m2(area), rel=1e-12)
    assert all(-180.0 <= p[0] <= 180.0 for rings in split.left.polygons for r in rings for p in r)


@settings(max_examples=examples(40), deadline=None)
@given(lons, st.floats(-80.0, 80.0), st.floats(0.0, 360.0), st.floats(20.0, 160.0), st.floats(0.1, 0.9))
def test_geodesic_crossing_is_on_both_geodesics(lon: float, lat: float, az: float, angle: float, f: float) -> None:
    """Two geodesic edges 5-50 km long crossing at a random angle: the point found lies on both within
    1e-6 m (oracle distance to each geodesic)."""
    length = 5_000.0 + 45_000.0 * f
    a0, a1 = destination(lon, lat, az + 180.0, length * f), destination(lon, lat, az, length * (1.0 - f))
    b0, b1 = destination(lon, lat, az + angle + 180.0, length / 2), destination(lon, lat, az + angle, length / 2)
    guess = destination(lon, lat, az + 90.0, 30.0)
    c = geodesic_crossing(a0, a1, b0, b1, guess)
    assert on_geodesic_m(c, a0, a1) <= 1e-6
    assert on_geodesic_m(c, b0, b1) <= 1e-6
    assert float(GEOD.inv(lon, lat, c[0], c[1])[2]) <= 1e-5


# ----------------------------------------------------------------------------------------- zones, band


def test_sides_are_proposed_as_zones_for_the_named_parties() -> None:
    split = split_area(fp(square(10.0, 45.0)), [(9.9, 45.1), (10.3, 45.1)], "north", "south")
    left, right = propose_split_zones(split, zone_ids=("z-n", "z-s"), validity=WINDOW, now=T0)
    assert (left.id, left.owner_id, left.counterparties, left.footprint) == ("z-n", "north", ("south",), split.left)
    assert (right.id, right.owner_id, right.counterparties, right.footprint) == (
        "z-s",
        "south",
        ("north",),
        split.right,
    )
    assert left.state is ZoneState.PROPOSED and right.state is ZoneState.PROPOSED


def test_band_runs_from_first_to_last_crossing() -> None:
    split = split_area(fp(square(10.0, 45.0)), [(9.9, 45.05), (10.1, 45.12), (10.3, 45.1)], "a", "b")
    band = band_along(split, band_id="b1", half_width_m=500.0, validity=WINDOW)
    assert band.footprint.path == split.band_path and band.half_width_m == 500.0
    assert band.parties == ("a", "b")
    outline = band_outline(band)
    # across the band from the middle of its first edge: 499 m inside, 501 m outside (geodesic offsets)
    (lon0, lat0), (lon1, lat1) = band.footprint.path[0], band.footprint.path[1]
    az, _, length = GEOD.inv(lon0, lat0, lon1, lat1)
    mid = destination(lon0, lat0, az, length / 2.0)
    az_mid = GEOD.inv(*mid, lon1, lat1)[0]
    for side in (90.0, -90.0):
        inside = destination(*mid, az_mid + side, 499.0)
        outside = destination(*mid, az_mid + side, 501.0)
        assert outline.contains(shapely.Point(inside)) and not outline.contains(shapely.Point(outside))
    for bad in (0.0, -5.0, math.nan):
        with pytest.raises(InvalidInput) as e:
            band_along(split, band_id="b1", half_width_m=bad, validity=WINDOW)
        assert e.value.errors[0].field == "half_width_m"


def test_parse_line() -> None:
    assert parse_line([[1, 2], [3.5, 4, 100]], LIMITS) == ((1.0, 2.0), (3.5, 4.0))
    with pytest.raises(InvalidInput) as e:
        parse_line([[1, 2], [3, 89.5]], LIMITS)
    assert (e.value.errors[0].field, e.value.errors[0].code) == ("line[1][1]", "near_pole")
    with pytest.raises(InvalidInput) as e:
        parse_line([[1, 2], [3, True]], LIMITS)
    assert e.value.errors[0].field == "line[1][1]"
