"""KML out (``formats/kml.py``): parsed back with xml.etree, the document has the KML 2.2 structure, one
style per party with a stable colour, and the coordinates that went in (within 1e-7 degree), cut at the
antimeridian without losing area, densified along the geodesics. Reading KML back: test_kml_read.py."""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod

from deconfliction.errors import InvalidInput
from deconfliction.formats.kml import (
    KML_NS,
    PARTY_COLOURS,
    PARTY_DASHES,
    KmlPlacemark,
    kml_colour,
    party_colour,
    party_style,
    style_id,
    write_kml,
)
from tests.conftest import need

REQUIRED = os.environ.get("DECONFLICTION_REQUIRE_BROWSER") == "1"
REQUIRE_BROWSER_ENV = "DECONFLICTION_REQUIRE_BROWSER" if REQUIRED else None
COLOURS_JS = Path(__file__).resolve().parents[2] / "src" / "deconfliction" / "web" / "static" / "js" / "colours.js"

GEOD = Geod(ellps="WGS84")
NS = {"k": KML_NS}
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{{{KML_NS}}}kml"
    return root


def coords(el: ET.Element) -> list[tuple[float, float]]:
    text = el.findtext("k:coordinates", namespaces=NS) or ""
    out = []
    for item in text.split():
        lon, lat = item.split(",")
        out.append((float(lon), float(lat)))
    return out


def ring_of(poly: ET.Element, path: str = "k:outerBoundaryIs/k:LinearRing") -> list[tuple[float, float]]:
    ring = poly.find(path, NS)
    assert ring is not None
    return coords(ring)


def same_ring(got: list[tuple[float, float]], want: list[list[float]], tol: float = 1e-7) -> bool:
    """The same closed ring, in either direction (KML wants exterior rings counter-clockwise)."""
    if len(got) != len(want):
        return False
    for candidate in (want, want[::-1]):
        if all(abs(g[0] - w[0]) <= tol and abs(g[1] - w[1]) <= tol for g, w in zip(got, candidate, strict=True)):
            return True
    return False


def signed_area(ring: list[tuple[float, float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2.0


def square(lon: float, lat: float, d: float = 0.05) -> list[list[float]]:
    return [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]


PLACEMARKS = [
    KmlPlacemark(
        "Zone North",
        "North Force",
        "zone",
        {"type": "Polygon", "coordinates": [square(40.0, 35.0, 0.05), square(40.01, 35.01, 0.01)]},
        "agreed 2026-11-20",
        T0,
        datetime(2026, 12, 1, tzinfo=UTC),
    ),
    KmlPlacemark(
        "Al-Amal Hospital",
        "Ministry <Health> & Co",
        "site",
        {"type": "Point", "coordinates": [40.1, 35.1]},
        radius_m=500.0,
    ),
    KmlPlacemark(
        "Line A", "North Force", "line", {"type": "LineString", "coordinates": [[40.0, 35.0], [40.05, 35.04]]}
    ),
    KmlPlacemark(
        "Convoy 7",
        "Relief Agency",
        "operation",
        {"type": "Corridor", "path": [[40.0, 35.0], [40.05, 35.0]], "half_width_m": 100},
        start=T0,
    ),
    KmlPlacemark("Orbit", "Relief Agency", "operation", {"type": "Circle", "center": [40.2, 35.2], "radius_m": 2000}),
]


def test_structure_styles_and_folders() -> None:
    root = parse(write_kml(PLACEMARKS, name="Cell export"))
    doc = root.find("k:Document", NS)
    assert doc is not None and doc.findtext("k:name", namespaces=NS) == "Cell export"
    styles = doc.findall("k:Style", NS)
    parties = sorted({p.party for p in PLACEMARKS})
    assert [s.get("id") for s in styles] == [style_id(p) for p in parties]  # one per party
    for style, party in zip(styles, parties, strict=True):
        colour = kml_colour(party_colour(party))
        assert style.findtext("k:LineStyle/k:color", namespaces=NS) == colour
        assert style.findtext("k:IconStyle/k:color", namespaces=NS) == colour
        fill = style.findtext("k:PolyStyle/k:color", namespaces=NS)
        assert fill is not None and fill[2:] == colour[2:] and int(fill[:2], 16) < 0xFF  # translucent
    folders = doc.findall("k:Folder", NS)
    assert [f.findtext("k:name", namespaces=NS) for f in folders] == parties
    for folder in folders:
        party = folder.findtext("k:name", namespaces=NS)
        names = [pm.findtext("k:name", namespaces=NS) for pm in folder.findall("k:Placemark", NS)]
        assert names == [p.name for p in PLACEMARKS if p.party == party]
        for pm in folder.findall("k:Placemark", NS):
            assert pm.findtext("k:styleUrl", namespaces=NS) == "#" + style_id(party or "")
            data = {
                d.get("name"): d.findtext("k:value", namespaces=NS) for d in pm.findall("k:ExtendedData/k:Data", NS)
            }
            assert data["party"] == party


def find_placemark(root: ET.Element, name: str) -> ET.Element:
    for pm in root.iter(f"{{{KML_NS}}}Placemark"):
        if pm.findtext("k:name", namespaces=NS) == name:
            return pm
    raise AssertionError(f"no placemark {name}")


def test_zone_polygon_with_hole_round_trips() -> None:
    root = parse(write_kml(PLACEMARKS))
    zone = find_placemark(root, "Zone North")
    assert zone.findtext("k:description", namespaces=NS) == "agreed 2026-11-20"
    assert zone.findtext("k:TimeSpan/k:begin", namespaces=NS) == "2026-11-23T08:00:00Z"
    assert zone.findtext("k:TimeSpan/k:end", namespaces=NS) == "2026-12-01T00:00:00Z"
    poly = zone.find("k:Polygon", NS)
    assert poly is not None and poly.findtext("k:tessellate", namespaces=NS) == "1"
    outer, inner = ring_of(poly), ring_of(poly, "k:innerBoundaryIs/k:LinearRing")
    exterior, hole = PLACEMARKS[0].geometry["coordinates"]
    assert same_ring(outer, exterior) and same_ring(inner, hole)
    assert signed_area(outer) > 0 > signed_area(inner)  # counter-clockwise outside, clockwise holes


def test_site_is_a_point_and_its_radius() -> None:
    root = parse(write_kml(PLACEMARKS))
    site = find_placemark(root, "Al-Amal Hospital")
    point = site.find("k:MultiGeometry/k:Point", NS)
    circle = site.find("k:MultiGeometry/k:Polygon", NS)
    assert point is not None and circle is not None
    assert coords(point) == [(40.1, 35.1)]
    ring = ring_of(circle)
    assert len(ring) == 65 and ring[0] == ring[-1]
    for lon, lat in ring:
        assert GEOD.inv(40.1, 35.1, lon, lat)[2] == pytest.approx(500.0, abs=0.01)  # 8 decimals: ~1 mm
    data = {d.get("name"): d.findtext("k:value", namespaces=NS) for d in site.findall("k:ExtendedData/k:Data", NS)}
    assert data == {"party": "Ministry <Health> & Co", "object": "site", "radius_m": "500.0"}


def test_a_site_without_radius_is_its_point() -> None:
    pm = KmlPlacemark("depot", "p", "site", {"type": "Point", "coordinates": [40.1, 35.1]}, radius_m=0.0)
    site = find_placemark(parse(write_kml([pm])), "depot")
    point = site.find("k:Point", NS)
    assert point is not None and coords(point) == [(40.1, 35.1)] and site.find("k:MultiGeometry", NS) is None


def test_line_corridor_and_circle() -> None:
    root = parse(write_kml(PLACEMARKS))
    line = find_placemark(root, "Line A").find("k:LineString", NS)
    assert line is not None and coords(line) == [(40.0, 35.0), (40.05, 35.04)]
    convoy = find_placemark(root, "Convoy 7")
    path, corridor = convoy.find("k:MultiGeometry/k:LineString", NS), convoy.find("k:MultiGeometry/k:Polygon", NS)
    assert path is not None and coords(path) == [(40.0, 35.0), (40.05, 35.0)]
    assert corridor is not None
    for lon, lat in ring_of(corridor):  # the buffer's outline: 100 m from the path (within the drawing's chords)
        _, _, d = GEOD.inv(min(max(lon, 40.0), 40.05), 35.0, lon, lat)
        assert d == pytest.approx(100.0, abs=1.0)
    orbit = find_placemark(root, "Orbit")
    centre, outline = orbit.find("k:MultiGeometry/k:Point", NS), orbit.find("k:MultiGeometry/k:Polygon", NS)
    assert centre is not None and coords(centre) == [(40.2, 35.2)]
    assert outline is not None
    assert all(GEOD.inv(40.2, 35.2, x, y)[2] == pytest.approx(2000.0, abs=0.01) for x, y in ring_of(outline))
    sizes = {
        name: {d.get("name"): d.findtext("k:value", namespaces=NS) for d in pm.findall("k:ExtendedData/k:Data", NS)}
        for name, pm in (("Convoy 7", convoy), ("Orbit", orbit))
    }
    assert sizes["Convoy 7"]["half_width_m"] == "100" and sizes["Orbit"]["radius_m"] == "2000"


def test_colours_are_stable_colour_blind_safe_and_spread() -> None:
    assert party_style("pty_north") == party_style("pty_north")
    ids = [f"pty_{i:04d}" for i in range(400)]
    styles = [party_style(i) for i in ids]
    assert {s.colour for s in styles} == set(PARTY_COLOURS)  # every colour is used, none outside the palette
    assert {s.dash for s in styles} == set(PARTY_DASHES)
    assert len({(s.colour, s.dash) for s in styles}) == len(PARTY_COLOURS) * len(PARTY_DASHES)
    # a party's colour comes from its id, whoever else is in the document
    first = parse(write_kml(PLACEMARKS[:1]))
    again = parse(write_kml(PLACEMARKS))
    colour = "k:Document/k:Style/k:LineStyle/k:color"
    assert first.findtext(colour, namespaces=NS) == kml_colour(party_colour("North Force"))
    assert any(
        s.findtext("k:LineStyle/k:color", namespaces=NS) == first.findtext(colour, namespaces=NS)
        for s in again.iter(f"{{{KML_NS}}}Style")
    )


def test_the_colour_comes_from_the_party_id_when_given() -> None:
    ring = square(40.0, 35.0)
    pm = KmlPlacemark("z", "North Force", "zone", {"type": "Polygon", "coordinates": [ring]}, party_id="pty_7")
    assert party_colour("pty_7") != party_colour("North Force")  # else this test would prove nothing
    root = parse(write_kml([pm]))
    assert root.findtext("k:Document/k:Style/k:LineStyle/k:color", namespaces=NS) == kml_colour(party_colour("pty_7"))


def test_the_web_map_derives_the_same_style_as_kml() -> None:
    """js/colours.js and ``party_style``: the same colour and dash for ids of every sort (ASCII, accented,
    non-Latin, empty), run in node as the browser would run it."""
    node = shutil.which("node")
    need(None if node else "node is not installed (it builds the web map: make web)", REQUIRE_BROWSER_ENV)
    ids = ["", "a", "North Force", "pty_01JD3Q8K2M", "Ünïcødé party", "قوة الشرق", "x" * 300]
    script = (
        f"import {{ partyStyle }} from {json.dumps(COLOURS_JS.as_uri())};\n"
        f"console.log(JSON.stringify({json.dumps(ids)}.map(partyStyle)));"
    )
    out = subprocess.run([str(node), "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    js = json.loads(out.stdout)
    assert js == [{"colour": party_style(i).colour, "dash": party_style(i).dash} for i in ids]
    assert len({(s["colour"], s["dash"]) for s in js}) > 3


def test_text_that_xml_cannot_carry_is_dropped() -> None:
    pm = KmlPlacemark("a <b> & \x01c\x1f", "p\x00", "zone", {"type": "Point", "coordinates": [1, 2]}, "x\ud800y")
    root = parse(write_kml([pm]))
    placemark = find_placemark(root, "a <b> & c")
    assert placemark.findtext("k:description", namespaces=NS) == "xy"


def test_antimeridian_polygon_is_split_without_losing_area() -> None:
    ring = [[179.9, 10.0], [-179.9, 10.0], [-179.9, 10.1], [179.9, 10.1], [179.9, 10.0]]
    root = parse(
        write_kml([KmlPlacemark("AM", "p", "zone", {"type": "Polygon", "coordinates": [ring]})], densify_m=None)
    )
    polys = list(root.iter(f"{{{KML_NS}}}Polygon"))
    assert len(polys) == 2
    total = 0.0
    for poly in polys:
        pts = ring_of(poly)
        assert all(-180.0 <= x <= 180.0 for x, _ in pts)
        assert signed_area(pts) > 0
        total += abs(GEOD.polygon_area_perimeter([x for x, _ in pts], [y for _, y in pts])[0])
    unsplit = [[x if x > 0 else x + 360.0, y] for x, y in ring]
    expected = abs(GEOD.polygon_area_perimeter([p[0] for p in unsplit], [p[1] for p in unsplit])[0])
    assert total == pytest.approx(expected, rel=1e-7)  # 8 decimals: vertices within 0.8 mm


def test_antimeridian_line_is_split() -> None:
    root = parse(
        write_kml(
            [KmlPlacemark("L", "p", "line", {"type": "LineString", "coordinates": [[179.95, 5.0], [-179.95, 5.0]]})]
        )
    )
    lines = [coords(el) for el in root.iter(f"{{{KML_NS}}}LineString")]
    assert len(lines) == 2
    assert lines[0][0] == (179.95, 5.0) and lines[1][-1] == (-179.95, 5.0)
    assert {abs(lines[0][-1][0]), abs(lines[1][0][0])} == {180.0}


def test_long_edges_follow_the_geodesic() -> None:
    route = [[10.0, 50.0], [20.0, 55.0], [30.0, 50.0]]
    root = parse(write_kml([KmlPlacemark("long", "p", "line", {"type": "LineString", "coordinates": route})]))
    [line] = [coords(el) for el in root.iter(f"{{{KML_NS}}}LineString")]
    assert len(line) > 100
    # the vertices that went in are there, in order, and every point between lies on its edge's geodesic
    k = [line.index((x, y)) for x, y in route]
    assert k == sorted(k) and k[0] == 0 and k[-1] == len(line) - 1
    for (a, b), (i, j) in zip(itertools.pairwise(route), itertools.pairwise(k), strict=True):
        full = GEOD.inv(*a, *b)[2]
        for p in line[i + 1 : j]:
            assert GEOD.inv(*a, *p)[2] + GEOD.inv(*p, *b)[2] == pytest.approx(full, abs=0.01)
        steps = [GEOD.inv(*line[m], *line[m + 1])[2] for m in range(i, j)]
        assert max(steps) <= 10_000.0 + 1e-6


@pytest.mark.parametrize(
    ("placemark", "field"),
    [
        (
            KmlPlacemark("x", "p", "zone", {"type": "GeometryCollection", "geometries": []}),
            "placemarks[0].geometry.type",
        ),
        (KmlPlacemark("x", "p", "zone", {"type": "Polygon", "coordinates": "nope"}), "placemarks[0].geometry"),
        (KmlPlacemark("x", "p", "zone", {"type": "Point", "coordinates": [200.0, 0.0]}), "placemarks[0].geometry"),
        (KmlPlacemark("x", "p", "area", {"type": "Point", "coordinates": [0.0, 0.0]}), "placemarks[0].kind"),
    ],
)
def test_bad_geometry_is_refused_by_path(placemark: KmlPlacemark, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        write_kml([placemark])
    assert [e.field for e in info.value.errors] == [field]


# A property: random star-shaped polygons anywhere below 80 degrees (edges under 10 km, so nothing is
# inserted) come back vertex for vertex, or, across the antimeridian, as pieces within [-180, 180] whose
# vertices are the input's (shifted by 360) or points on the cut, and whose areas add up to the input's.


@st.composite
def polygons(draw: st.DrawFn) -> dict[str, Any]:
    lon = draw(st.one_of(st.floats(-180.0, 180.0), st.sampled_from([179.99, -179.99, 180.0])))
    lat = draw(st.floats(-80.0, 80.0))
    n = draw(st.integers(3, 12))
    # one vertex per sector of 360/n degrees: consecutive vertices less than 180 degrees apart around the
    # centre, so the ring is simple
    azimuths = [(i + draw(st.floats(0.1, 0.9))) * 360.0 / n for i in range(n)]
    radii = draw(st.lists(st.floats(50.0, 4_000.0), min_size=n, max_size=n))
    lons, lats, _ = GEOD.fwd([lon] * n, [lat] * n, azimuths, radii)
    ring = [[float(x), float(y)] for x, y in zip(lons, lats, strict=True)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@given(polygons())
def test_polygon_coordinates_round_trip(geometry: dict[str, Any]) -> None:
    root = parse(write_kml([KmlPlacemark("z", "party", "zone", geometry)]))
    polys = list(root.iter(f"{{{KML_NS}}}Polygon"))
    ring = geometry["coordinates"][0]
    lons = [p[0] for p in ring]
    crosses = max(lons) - min(lons) > 180.0
    if not crosses:
        assert len(polys) == 1 and same_ring(ring_of(polys[0]), ring)
        return
    assert polys  # one piece when the ring only touches the antimeridian, more when it bulges across twice
    unwrapped = [lons[0]]
    for x in lons[1:]:
        unwrapped.append(unwrapped[-1] + (x - unwrapped[-1] + 180.0) % 360.0 - 180.0)
    area, perimeter = GEOD.polygon_area_perimeter(unwrapped, [p[1] for p in ring])
    pieces = sum(abs(GEOD.polygon_area_perimeter(*zip(*ring_of(poly), strict=True))[0]) for poly in polys)
    # cut where the geodesic edges cross; 8 decimals move each vertex by at most 0.8 mm
    assert pieces == pytest.approx(abs(area), abs=perimeter * 1e-3)
    for poly in polys:
        for x, y in ring_of(poly):
            assert -180.0 <= x <= 180.0
            on_cut = math.isclose(abs(x), 180.0)
            near = min(
                max(abs((x - px + 180.0) % 360.0 - 180.0), abs(y - py)) for px, py in ring
            )  # an input vertex, allowing for a whole turn of longitude
            assert on_cut or near <= 1e-7, (x, y, near)
