"""KML in (``formats/kml.py: read_kml``): what ``write_kml`` writes comes back as the same features (the
drawn circles and corridors and the points along long edges undone); KML as Google Earth and other tools
write it is read; bad KML is refused by place, a DOCTYPE before anything it declares is read."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from deconfliction.errors import InvalidInput
from deconfliction.formats.kml import KmlPlacemark, read_kml, write_kml

GEOD = Geod(ellps="WGS84")
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def square(lon: float, lat: float, d: float) -> list[list[float]]:
    """Counter-clockwise, as KML writes exterior rings."""
    return [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]


def refused(text: str | bytes) -> set[tuple[str, str]]:
    with pytest.raises(InvalidInput) as info:
        read_kml(text)
    return {(e.field, e.code) for e in info.value.errors}


def kml(*placemarks: str, head: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{head}<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + "".join(placemarks)
        + "</Document></kml>"
    )


def polygon(coordinates: str) -> str:
    ring = f"<LinearRing><coordinates>{coordinates}</coordinates></LinearRing>"
    return f"<Polygon><outerBoundaryIs>{ring}</outerBoundaryIs></Polygon>"


# ------------------------------------------------------------------------------ what write_kml writes


def test_every_kind_of_placemark_comes_back() -> None:
    hole = [[40.1, 35.1], [40.1, 35.2], [40.2, 35.2], [40.2, 35.1], [40.1, 35.1]]  # clockwise, as KML's
    zone = {"type": "Polygon", "coordinates": [square(40.0, 35.0, 0.5), hole]}  # 45 km edges: densified
    placemarks = [
        KmlPlacemark("north", "alpha", "zone", zone, "agreed", T0, T1, extra={"counterparties": ["bravo", "c, d"]}),
        KmlPlacemark("clinic", "alpha", "site", {"type": "Point", "coordinates": [40.1, 35.1]}, radius_m=80.0),
        KmlPlacemark(
            "orbit [0]",
            "alpha",
            "operation",
            {"type": "Circle", "center": [40.2, 35.2], "radius_m": 2000.0},
            start=T0,
            end=T1,
            extra={"operation": "op1", "kind": "air", "lower_m": 0.0, "upper_m": 120, "priority": 7, "title": "orbit"},
        ),
        KmlPlacemark(
            "road [1]",
            "alpha",
            "operation",
            {"type": "Corridor", "path": [[40.0, 35.0], [40.5, 35.1], [40.5, 35.4]], "half_width_m": 150.5},
            extra={"title": "road"},
        ),
        KmlPlacemark("the line", "alpha", "line", {"type": "LineString", "coordinates": [[40.0, 35.0], [41.0, 35.0]]}),
        KmlPlacemark(
            "convoy",
            "alpha",
            "movement",
            {"type": "LineString", "coordinates": [[40.0, 35.0], [40.3, 35.0], [40.3, 35.0], [40.3, 35.3]]},
            extra={"altitude": {"lower_m": 0, "upper_m": 10}, "waypoint_times": ["a", "b", "c", "d"]},
        ),
    ]
    fc = read_kml(write_kml(placemarks))
    assert fc["type"] == "FeatureCollection"
    got = {f["properties"].get("name") or f["properties"]["title"]: f for f in fc["features"]}
    assert list(got) == ["north", "clinic", "orbit", "road", "convoy"]  # the line is not an importable object
    assert got["north"] == {
        "type": "Feature",
        "geometry": zone,  # the points along its 45 km edges are gone again; the hole stays clockwise
        "properties": {
            "object": "zone",
            "party": "alpha",
            "counterparties": ["bravo", "c, d"],
            "start": "2026-11-23T08:00:00Z",
            "end": "2026-11-23T10:00:00Z",
            "name": "north",
        },
    }
    assert got["clinic"]["geometry"] == {"type": "Point", "coordinates": [40.1, 35.1]}  # not the drawn circle
    assert got["clinic"]["properties"] == {"object": "site", "party": "alpha", "radius_m": 80.0, "name": "clinic"}
    assert got["orbit"]["geometry"] == {"type": "Point", "coordinates": [40.2, 35.2]}
    assert got["orbit"]["properties"] == {
        "object": "operation",
        "party": "alpha",
        "radius_m": 2000.0,
        "operation": "op1",
        "kind": "air",
        "lower_m": 0.0,
        "upper_m": 120,
        "priority": 7,
        "title": "orbit",
        "start": "2026-11-23T08:00:00Z",
        "end": "2026-11-23T10:00:00Z",
    }
    assert got["road"]["geometry"] == {"type": "LineString", "coordinates": [[40.0, 35.0], [40.5, 35.1], [40.5, 35.4]]}
    assert got["road"]["properties"]["half_width_m"] == 150.5
    # a halt (a waypoint repeated) stays, and so does every waypoint of the 27 km legs
    assert got["convoy"]["geometry"]["coordinates"] == [[40.0, 35.0], [40.3, 35.0], [40.3, 35.0], [40.3, 35.3]]
    assert got["convoy"]["properties"]["altitude"] == {"lower_m": 0, "upper_m": 10}
    assert got["convoy"]["properties"]["waypoint_times"] == ["a", "b", "c", "d"]


def test_values_keep_their_type() -> None:
    extra: dict[str, Any] = {
        "lower_m": 100,
        "upper_m": 100.0,
        "priority": 0,
        "accuracy_m": 1e-05,
        "title": "42",
        "speed_m_s": 12.345678901234567,
    }
    fc = read_kml(
        write_kml([KmlPlacemark("x", "p", "operation", {"type": "Point", "coordinates": [1, 2]}, extra=extra)])
    )
    props = fc["features"][0]["properties"]
    for key, value in extra.items():
        assert props[key] == value and type(props[key]) is type(value), key


# A property: any polygon with edges up to 300 km (so write_kml inserts points along most of them) comes
# back vertex for vertex, within the 8 decimals KML is written with.


@st.composite
def rings(draw: st.DrawFn) -> list[list[float]]:
    lon = draw(st.floats(-170.0, 170.0))
    lat = draw(st.floats(-70.0, 70.0))
    n = draw(st.integers(3, 10))
    # counter-clockwise about the centre, every gap under 180 degrees (so the ring is counter-clockwise as
    # RFC 7946 and write_kml want it; a wider gap turns a triangle round and write_kml rightly reverses it)
    azimuths = [360.0 - (i + draw(st.floats(0.3, 0.7))) * 360.0 / n for i in range(n)]
    radii = draw(st.lists(st.floats(1_000.0, 150_000.0), min_size=n, max_size=n))
    lons, lats, _ = GEOD.fwd([lon] * n, [lat] * n, azimuths, radii)
    ring = [[round(float(x), 8), round(float(y), 8)] for x, y in zip(lons, lats, strict=True)]
    return [*ring, ring[0]]


@settings(deadline=None)
@given(rings())
def test_densified_polygons_come_back_vertex_for_vertex(ring: list[list[float]]) -> None:
    text = write_kml([KmlPlacemark("z", "p", "zone", {"type": "Polygon", "coordinates": [ring]})])
    [feature] = read_kml(text)["features"]
    got = feature["geometry"]["coordinates"][0]
    assert len(got) == len(ring)
    assert all(abs(g[0] - w[0]) <= 1e-8 and abs(g[1] - w[1]) <= 1e-8 for g, w in zip(got, ring, strict=True))


def test_points_that_densify_would_not_make_stay() -> None:
    # on one geodesic, equally spaced, but 1 km apart (write_kml splits a 2 km edge into nothing): a
    # route someone drew, kept point for point
    lons, lats, _ = GEOD.fwd([40.0] * 5, [35.0] * 5, [60.0] * 5, [0.0, 1000.0, 2000.0, 3000.0, 4000.0])
    route = [[round(float(x), 8), round(float(y), 8)] for x, y in zip(lons, lats, strict=True)]
    line = "<LineString><coordinates>" + " ".join(f"{x},{y}" for x, y in route) + "</coordinates></LineString>"
    assert read_kml(kml(f"<Placemark>{line}</Placemark>"))["features"][0]["geometry"]["coordinates"] == route
    # and without densify_m nothing is dropped at all
    long = [[40.0, 35.0], [40.1, 35.00004119], [40.2, 35.0]]  # what write_kml makes of a 18 km edge
    text = kml(
        "<Placemark><LineString><coordinates>40,35 40.1,35.00004119 40.2,35</coordinates></LineString></Placemark>"
    )
    assert read_kml(text)["features"][0]["geometry"]["coordinates"] == [long[0], long[2]]
    assert read_kml(text, densify_m=None)["features"][0]["geometry"]["coordinates"] == long


# ------------------------------------------------------------------------------ KML from other tools


GOOGLE_EARTH = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"
     xmlns:kml="http://www.opengis.net/kml/2.2" xmlns:atom="http://www.w3.org/2005/Atom">
<Document>
  <name>Plans.kml</name>
  <Style id="s_ylw-pushpin"><IconStyle><scale>1.1</scale></IconStyle></Style>
  <Schema name="plans" id="plans"><SimpleField name="upper_m" type="float"/></Schema>
  <Folder>
    <name>My Places</name>
    <Placemark>
      <name>Survey north</name>
      <description><![CDATA[<b>drone</b> survey <!DOCTYPE is only text here> & more]]></description>
      <styleUrl>#s_ylw-pushpin</styleUrl>
      <TimeSpan><begin>2026-11-23T08:00:00Z</begin><end>2026-11-23T10:00:00+00:00</end></TimeSpan>
      <ExtendedData>
        <Data name="lower_m"><displayName>Lower</displayName><value> 0 </value></Data>
        <SchemaData schemaUrl="#plans"><SimpleData name="upper_m">120.5</SimpleData></SchemaData>
      </ExtendedData>
      <Polygon>
        <extrude>1</extrude>
        <altitudeMode>relativeToGround</altitudeMode>
        <outerBoundaryIs>
          <LinearRing>
            <coordinates>
              40.0,35.0,120 40.05,35.0,120
              40.05, 35.05, 120
              40.0,35.05,120
            </coordinates>
          </LinearRing>
        </outerBoundaryIs>
      </Polygon>
    </Placemark>
    <Placemark>
      <name>Field hospital</name>
      <ExtendedData>
        <Data name="kind"><value>site</value></Data>
        <Data name="counterparties"><value>bravo, charlie</value></Data>
        <Data name="radius_m"><value>about 300</value></Data>
      </ExtendedData>
      <Point><gx:drawOrder>1</gx:drawOrder><coordinates>40.1,35.1,0</coordinates></Point>
    </Placemark>
    <GroundOverlay><name>map</name></GroundOverlay>
  </Folder>
</Document>
</kml>
"""


def test_a_google_earth_document() -> None:
    survey, hospital = read_kml(GOOGLE_EARTH)["features"]
    assert survey == {
        "type": "Feature",
        "geometry": {  # altitudes dropped, the open ring closed
            "type": "Polygon",
            "coordinates": [[[40.0, 35.0], [40.05, 35.0], [40.05, 35.05], [40.0, 35.05], [40.0, 35.0]]],
        },
        "properties": {
            "lower_m": 0,
            "upper_m": 120.5,
            "start": "2026-11-23T08:00:00Z",
            "end": "2026-11-23T10:00:00+00:00",
            "title": "Survey north",
        },
    }
    # ``kind`` naming a kind of object (as exports before ``object`` wrote it); a number that is not one
    # goes on as text, for the import to name
    assert hospital["properties"] == {
        "object": "site",
        "counterparties": ["bravo", "charlie"],
        "radius_m": "about 300",
        "name": "Field hospital",
    }


def test_a_placemark_with_a_name_and_a_polygon_only() -> None:
    [f] = read_kml(kml(f"<Placemark><name>Area 5</name>{polygon('1,1 2,1 2,2 1,1')}</Placemark>"))["features"]
    assert f["properties"] == {"title": "Area 5"}
    assert f["geometry"] == {"type": "Polygon", "coordinates": [[[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 1.0]]]}
    [empty] = read_kml(kml("<Placemark/>"))["features"]  # no geometry: the import says what is missing
    assert empty == {"type": "Feature", "geometry": None, "properties": {}}


def test_multigeometry_and_other_shapes() -> None:
    nested = f"<MultiGeometry>{polygon('3,1 4,1 4,2 3,1')}</MultiGeometry>"
    two = f"<MultiGeometry>{polygon('1,1 2,1 2,2 1,1')}{nested}</MultiGeometry>"
    ring = "<LinearRing><coordinates>1,1 2,1 2,2 1,1</coordinates></LinearRing>"
    line = "<LineString><coordinates>{}</coordinates></LineString>"
    lines = f"<MultiGeometry>{line.format('1,1 2,2')}{line.format('3,3 4,4')}</MultiGeometry>"
    fc = read_kml(kml(*(f"<Placemark>{g}</Placemark>" for g in (two, ring, lines))))
    assert [f["geometry"]["type"] for f in fc["features"]] == ["MultiPolygon", "Polygon", "MultiLineString"]
    assert fc["features"][0]["geometry"]["coordinates"][1] == [[[3.0, 1.0], [4.0, 1.0], [4.0, 2.0], [3.0, 1.0]]]


def test_bytes_in_their_declared_encoding() -> None:
    text = kml("<Placemark><name>Hôpital</name><Point><coordinates>1,2</coordinates></Point></Placemark>")
    data = text.replace("UTF-8", "ISO-8859-1").encode("latin-1")
    assert read_kml(data)["features"][0]["properties"] == {"title": "Hôpital"}


# ------------------------------------------------------------------------------ refused, by place


def test_malformed_xml_names_the_line() -> None:
    with pytest.raises(InvalidInput) as info:
        read_kml(kml("<Placemark>\n<name>x</Placemark>"))
    [e] = info.value.errors
    assert (e.field, e.code) == ("kml", "invalid_xml") and e.detail["line"] == 3 and "line 3" in e.message
    assert refused("") == {("kml", "invalid_xml")}
    assert refused(kml("<Placemark><name>&nbsp;</name></Placemark>")) == {("kml", "invalid_xml")}  # undefined


BILLION_LAUGHS = (
    '<!DOCTYPE kml [\n <!ENTITY a "ha">\n'
    + "".join(f' <!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(9))
    + "]>\n"
)


@pytest.mark.parametrize(
    "head",
    [
        BILLION_LAUGHS,
        '<!DOCTYPE kml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n',
        '<!DOCTYPE kml SYSTEM "http://example.invalid/kml.dtd">\n',
        "<!DOCTYPE kml>\n",
    ],
)
def test_a_doctype_is_refused_before_it_is_read(head: str) -> None:
    text = kml("<Placemark><name>&j;&secret;</name></Placemark>", head=head)
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as info:
        read_kml(text)
    assert time.perf_counter() - started < 0.5
    [e] = info.value.errors
    assert (e.field, e.code, e.detail) == ("kml", "doctype_not_allowed", {"line": 2})


def test_not_kml() -> None:
    assert refused('<?xml version="1.0"?><gpx><trk/></gpx>') == {("kml", "not_kml")}


def test_every_bad_placemark_by_place() -> None:
    text = kml(
        "<Placemark><Point><coordinates>1,2</coordinates></Point></Placemark>",
        "<Placemark><Model><Link><href>tank.dae</href></Link></Model></Placemark>",
        "<Placemark><gx:Track xmlns:gx='http://www.google.com/kml/ext/2.2'><when>2026-11-23T08:00:00Z</when></gx:Track></Placemark>",
        f"<Placemark>{polygon('1,1 200,1 2,2 1,1')}</Placemark>",
        "<Placemark><MultiGeometry><Point><coordinates>1,2</coordinates></Point>"
        "<LineString><coordinates>1,2 x,3</coordinates></LineString><Model/></MultiGeometry></Placemark>",
        "<Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>1,1 2,1 2,2 1,1</coordinates></LinearRing>"
        "</outerBoundaryIs><innerBoundaryIs><LinearRing><coordinates>1.1,1.1 1.2,95 1.1,1.2</coordinates>"
        "</LinearRing></innerBoundaryIs></Polygon></Placemark>",
        "<Placemark><MultiGeometry><Point><coordinates>1,2</coordinates></Point>"
        "<LineString><coordinates>1,2 2,3</coordinates></LineString></MultiGeometry></Placemark>",
        "<Placemark><Point><coordinates>1,2 3,4</coordinates></Point></Placemark>",
        "<Placemark><LineString><coordinates> </coordinates></LineString></Placemark>",
        "<Placemark><Polygon/></Placemark>",
        "<Placemark><MultiGeometry/></Placemark>",
    )
    assert refused(text) == {
        ("placemarks[1].geometry", "unsupported_geometry"),
        ("placemarks[2].geometry", "unsupported_geometry"),
        ("placemarks[3].geometry.outerBoundaryIs.coordinates[1]", "out_of_range"),
        ("placemarks[4].geometry.geometries[1].coordinates[1]", "invalid_coordinates"),
        ("placemarks[4].geometry.geometries[2]", "unsupported_geometry"),
        ("placemarks[5].geometry.innerBoundaryIs[0].coordinates[1]", "out_of_range"),
        ("placemarks[6].geometry", "unsupported_geometry"),  # a point and a line are no one footprint
        ("placemarks[7].geometry.coordinates", "invalid_coordinates"),
        ("placemarks[8].geometry.coordinates", "invalid_coordinates"),
        ("placemarks[9].geometry.outerBoundaryIs", "invalid_coordinates"),
        ("placemarks[10].geometry", "unsupported_geometry"),
    }


def test_deep_nesting_is_refused_not_recursed() -> None:
    deep = "<MultiGeometry>" * 5000 + "</MultiGeometry>" * 5000
    assert refused(kml(f"<Placemark>{deep}</Placemark>")) == {
        ("placemarks[0].geometry" + ".geometries[0]" * 16, "unsupported_geometry")
    }
