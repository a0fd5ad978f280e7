"""KML 2.2 out, for Google Earth and the other tools that read it, and back in.

``write_kml`` turns plain placemarks (a name, the party, a kind, a GeoJSON geometry, a description, an
optional time span, more properties) into one KML document: one ``Style`` per party, with the colour that
``party_style`` derives from the party's id (the same party always gets the same colour, in every export and
on the web map, whose js/colours.js runs the same algorithm), and one ``Folder`` per party. Each placemark's
``ExtendedData`` holds its ``party``, its ``object`` (the kind of placemark) and the extra properties, so
that ``read_kml`` can read the document back.

* zones and operations are translucent polygons with an opaque outline in the party's colour;
* a site is a point, and with a ``radius_m`` above 0 also the circle of its protection radius (64 points
  on the geodesic circle); a Circle footprint is its centre and its circle, a Corridor its path and its
  outline (``radius_m`` and ``half_width_m`` in ExtendedData);
* lines and movements are lines.

Exterior rings are written counter-clockwise and holes clockwise, as KML 2.2 asks.

Geometry is written as the service means it: every edge is a WGS84 geodesic, so edges longer than
``densify_m`` (10 km by default) get points along the geodesic, and what Google Earth draws between two
points no longer matters. Rings and lines that cross the antimeridian (consecutive longitudes 179.9, then
-179.9) are cut there into pieces within [-180, 180], as KML needs. Coordinates are ``lon,lat`` with 8
decimals (about 1 mm); altitudes are not written (shapes are clamped to the ground: KML's absolute
altitudes are above sea level, the service's above the ellipsoid). Besides GeoJSON's Point, LineString,
Polygon and their Multi forms, the service's own ``Circle`` and ``Corridor`` footprints are drawn.

``read_kml`` is the way back, pure (text in, a GeoJSON FeatureCollection in the import format out): it
undoes what the writer adds (the drawn circle or corridor outline, the points along long edges) and reads
the KML that other tools write (a Placemark with a name and a Polygon), refusing a DOCTYPE outright.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.parsers import expat

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from deconfliction.domain.footprint import circle_polygon, footprint_display_geojson, footprint_from_trusted
from deconfliction.domain.geo import MAX_EDGE_M, densify_geodesic, unwrap_longitudes
from deconfliction.domain.geojson import wrapped
from deconfliction.domain.volume import format_time
from deconfliction.errors import FieldError, InvalidInput

KML_NS = "http://www.opengis.net/kml/2.2"
PLACEMARK_KINDS = ("zone", "site", "operation", "movement", "line")
FILL_ALPHA = 0x59
"""Polygon fill opacity (35 %): zones stay see-through over the imagery."""
CIRCLE_SEGMENTS = 64
DECIMALS = 8


@dataclass(frozen=True)
class KmlPlacemark:
    name: str
    party: str
    kind: str
    """What it is: zone, site, operation, movement or line (``object`` in its ExtendedData)."""
    geometry: Mapping[str, Any]
    """GeoJSON geometry (lon/lat, WGS84), or the service's Circle / Corridor footprint."""
    description: str = ""
    start: datetime | None = None
    end: datetime | None = None
    radius_m: float | None = None
    """For a Point (a site): its protection radius, drawn as a circle around it when above 0."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """More name/value pairs for the placemark's ExtendedData (``data_value`` writes each value)."""
    party_id: str = ""
    """The party's id, from which its colour comes (as on the web map); empty: the colour comes from ``party``."""


PARTY_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#CC79A7")
"""Okabe and Ito's colour-blind-safe palette, less black (the deconfliction lines), yellow (unreadable as an
outline on a light map) and vermillion (too near the conflicts' red)."""
PARTY_DASHES = ("", "10 5", "3 5", "12 4 3 4")
"""Outline dash patterns (SVG ``stroke-dasharray``) that, with the colour, tell parties apart without hue."""


@dataclass(frozen=True)
class PartyStyle:
    colour: str
    """``#rrggbb``, one of ``PARTY_COLOURS``."""
    dash: str
    """One of ``PARTY_DASHES`` ("" is a solid line)."""


def party_hash(key: str) -> int:
    """32-bit FNV-1a of the key's UTF-8 bytes: a few lines in any language, so that js/colours.js matches."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def party_style(key: str) -> PartyStyle:
    """A party's colour and dash pattern, from its id alone: stable whoever else takes part."""
    h = party_hash(key)
    return PartyStyle(
        PARTY_COLOURS[h % len(PARTY_COLOURS)], PARTY_DASHES[(h // len(PARTY_COLOURS)) % len(PARTY_DASHES)]
    )


def party_colour(key: str) -> tuple[int, int, int]:
    """The RGB of ``party_style(key).colour``."""
    colour = party_style(key).colour
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def kml_colour(rgb: tuple[int, int, int], alpha: int = 0xFF) -> str:
    """KML's ``aabbggrr``."""
    r, g, b = rgb
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"


def style_id(party: str) -> str:
    return "party-" + hashlib.sha256(party.encode("utf-8")).hexdigest()[:16]


def write_kml(
    placemarks: Sequence[KmlPlacemark], *, name: str = "Deconfliction", densify_m: float | None = MAX_EDGE_M
) -> str:
    """One KML 2.2 document (UTF-8 text) with a style and a folder per party. Raises ``InvalidInput``
    (``placemarks[i].geometry...``) for a geometry it cannot draw."""
    errors: list[FieldError] = []
    geometries: list[ET.Element | None] = []
    for i, pm in enumerate(placemarks):
        try:
            if pm.kind not in PLACEMARK_KINDS:
                raise InvalidInput.one("kind", "invalid_kind", f"kind must be one of {', '.join(PLACEMARK_KINDS)}")
            geometries.append(_geometry(pm, densify_m))
        except InvalidInput as e:
            errors.extend(e.at(f"placemarks[{i}]").errors)
            geometries.append(None)
    if errors:
        raise InvalidInput(errors)
    root = ET.Element("kml", {"xmlns": KML_NS})
    doc = ET.SubElement(root, "Document")
    _text(doc, "name", name)
    parties = sorted({pm.party for pm in placemarks})
    colour_keys = {pm.party: pm.party_id or pm.party for pm in placemarks}
    for party in parties:
        doc.append(_style(party, colour_keys[party]))
    for party in parties:
        folder = ET.SubElement(doc, "Folder")
        _text(folder, "name", party)
        for pm, geom in zip(placemarks, geometries, strict=True):
            if pm.party == party and geom is not None:
                folder.append(_placemark(pm, geom))
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ------------------------------------------------------------------------------------------- elements

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    """A child with text, without the characters XML 1.0 cannot carry."""
    el = ET.SubElement(parent, tag)
    el.text = _NOT_XML.sub("", value)
    return el


def _style(party: str, colour_key: str) -> ET.Element:
    rgb = party_colour(colour_key)
    style = ET.Element("Style", {"id": style_id(party)})
    icon = ET.SubElement(style, "IconStyle")
    _text(icon, "color", kml_colour(rgb))
    _text(icon, "scale", "1.1")
    label = ET.SubElement(style, "LabelStyle")
    _text(label, "scale", "0.9")
    line = ET.SubElement(style, "LineStyle")
    _text(line, "color", kml_colour(rgb))
    _text(line, "width", "2.5")
    poly = ET.SubElement(style, "PolyStyle")
    _text(poly, "color", kml_colour(rgb, FILL_ALPHA))
    _text(poly, "fill", "1")
    _text(poly, "outline", "1")
    return style


def _placemark(pm: KmlPlacemark, geometry: ET.Element) -> ET.Element:
    el = ET.Element("Placemark")
    _text(el, "name", pm.name)
    if pm.description:
        _text(el, "description", pm.description)
    if pm.start is not None or pm.end is not None:
        span = ET.SubElement(el, "TimeSpan")
        if pm.start is not None:
            _text(span, "begin", format_time(pm.start))
        if pm.end is not None:
            _text(span, "end", format_time(pm.end))
    _text(el, "styleUrl", "#" + style_id(pm.party))
    data = ET.SubElement(el, "ExtendedData")
    values: dict[str, Any] = {"party": pm.party, "object": pm.kind}
    g = pm.geometry
    if pm.radius_m is not None:
        values["radius_m"] = pm.radius_m
    elif g.get("type") == "Circle":
        values["radius_m"] = g.get("radius_m")
    elif g.get("type") == "Corridor":
        values["half_width_m"] = g.get("half_width_m")
    values.update(pm.extra)
    for key, value in values.items():
        if value is not None:
            item = ET.SubElement(data, "Data", {"name": key})
            _text(item, "value", data_value(value))
    el.append(geometry)
    return el


def data_value(value: Any) -> str:
    """An ExtendedData value as text that ``read_kml`` reads back to the same value: text as it is,
    numbers as JSON writes them (``500.0`` stays a float, ``7`` an integer), lists and objects as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _coords(xy: Any) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in np.asarray(xy)[:, :2].tolist())


def _num(v: float) -> str:
    s = f"{v:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


# ------------------------------------------------------------------------------------------- geometry


def _geometry(pm: KmlPlacemark, densify_m: float | None) -> ET.Element:
    """The KML geometry of a placemark: one element, a MultiGeometry when there are several parts."""
    g = pm.geometry
    if not isinstance(g, Mapping):
        raise InvalidInput.one("geometry", "invalid_geojson", "the geometry is a GeoJSON object")
    kind = g.get("type")
    parts: list[ET.Element] = []
    try:
        if kind == "Point":
            parts.append(_point(_position(g.get("coordinates"))))
            if pm.radius_m is not None and not math.isfinite(pm.radius_m):
                raise ValueError("radius_m is not a finite number")
            if pm.radius_m is not None and pm.radius_m > 0:
                parts.extend(_circle(_position(g.get("coordinates")), pm.radius_m))
        elif kind == "MultiPoint":
            parts.extend(_point(_position(p)) for p in _list(g.get("coordinates")))
        elif kind == "LineString":
            parts.extend(_line(g.get("coordinates"), densify_m))
        elif kind == "MultiLineString":
            for line in _list(g.get("coordinates")):
                parts.extend(_line(line, densify_m))
        elif kind == "Polygon":
            parts.extend(_polygon(g.get("coordinates"), densify_m))
        elif kind == "MultiPolygon":
            for poly in _list(g.get("coordinates")):
                parts.extend(_polygon(poly, densify_m))
        elif kind == "Circle":  # its centre and its outline: read back as the Point and radius_m
            parts.append(_point(_position(g.get("center"))))
            parts.extend(_circle(_position(g.get("center")), float(g["radius_m"])))
        elif kind == "Corridor":  # its path and its outline: read back as the LineString and half_width_m
            parts.extend(_line(g.get("path"), densify_m))
            drawn = footprint_display_geojson(footprint_from_trusted(g))
            for poly in [drawn["coordinates"]] if drawn["type"] == "Polygon" else drawn["coordinates"]:
                parts.extend(_polygon(poly, None))
        else:
            raise InvalidInput.one("geometry.type", "invalid_geojson", f"cannot draw a {kind!r} geometry in KML")
    except (TypeError, KeyError, ValueError, IndexError):
        raise InvalidInput.one("geometry", "invalid_geojson", f"not a valid {kind} geometry") from None
    if len(parts) == 1:
        return parts[0]
    multi = ET.Element("MultiGeometry")
    multi.extend(parts)
    return multi


def _list(raw: Any) -> list[Any]:
    if not isinstance(raw, list | tuple):
        raise TypeError("expected a list")
    return list(raw)


def _position(raw: Any) -> tuple[float, float]:
    lon, lat = float(raw[0]), float(raw[1])
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError("position out of range")
    return lon, lat


def _point(p: tuple[float, float]) -> ET.Element:
    el = ET.Element("Point")
    _text(el, "coordinates", _coords([p]))
    return el


def _dense(raw: Any, densify_m: float | None) -> tuple[Any, Any]:
    """Longitudes unwrapped (continuous across the antimeridian) and latitudes, geodesic edges densified."""
    pts = [_position(p) for p in _list(raw)]
    lons = unwrap_longitudes(np.array([p[0] for p in pts], dtype=np.float64))
    lats = np.array([p[1] for p in pts], dtype=np.float64)
    if densify_m is not None and len(pts) > 1:
        lons, lats, _ = densify_geodesic(lons, lats, densify_m)
    return _with_antimeridian_points(lons, lats)


def _with_antimeridian_points(lons: Any, lats: Any) -> tuple[Any, Any]:
    """Insert, in every edge that crosses the antimeridian, the point where its *geodesic* crosses it, so
    that the cut (``geojson.wrapped`` cuts straight lines in lon/lat) passes through a true point of the
    edge rather than its lon/lat chord (metres apart for a 10 km edge at 79 degrees)."""
    turns = np.floor((lons + 180.0) / 360.0)
    crossing = np.flatnonzero(turns[1:] != turns[:-1])
    if crossing.size == 0:
        return lons, lats
    out_lon, out_lat = [float(lons[0])], [float(lats[0])]
    geod = Geod(ellps="WGS84")
    for i in range(1, lons.size):
        if i - 1 in crossing:
            target = 360.0 * max(turns[i - 1], turns[i]) - 180.0
            lon, lat = _meridian_crossing(
                geod, float(lons[i - 1]), float(lats[i - 1]), float(lons[i]), float(lats[i]), target
            )
            out_lon.append(lon)
            out_lat.append(lat)
        out_lon.append(float(lons[i]))
        out_lat.append(float(lats[i]))
    return np.array(out_lon), np.array(out_lat)


def _meridian_crossing(
    geod: Geod, lon0: float, lat0: float, lon1: float, lat1: float, target: float
) -> tuple[float, float]:
    """Where the geodesic from (lon0, lat0) to (lon1, lat1) (continuous longitudes) meets ``target``."""
    az, _, dist = geod.inv(lon0, lat0, lon1, lat1)
    lo, hi = 0.0, float(dist)
    lat = lat0
    for _ in range(60):
        mid = (lo + hi) / 2.0
        lon, lat, _ = geod.fwd(lon0, lat0, az, mid)
        lon = lon0 + (lon - lon0 + 180.0) % 360.0 - 180.0
        if (lon - target) * (lon1 - lon0) < 0.0:
            lo = mid
        else:
            hi = mid
    return target, float(lat)


def _pieces(geom: BaseGeometry) -> list[BaseGeometry]:
    out = wrapped(geom)
    return list(getattr(out, "geoms", [out]))


def _line(raw: Any, densify_m: float | None) -> list[ET.Element]:
    lons, lats = _dense(raw, densify_m)
    out = []
    for piece in _pieces(shapely.LineString(np.column_stack((lons, lats)))):
        if isinstance(piece, shapely.LineString) and not piece.is_empty:
            el = ET.Element("LineString")
            _text(el, "tessellate", "1")
            _text(el, "coordinates", _coords(shapely.get_coordinates(piece)))
            out.append(el)
    return out


def _polygon(raw: Any, densify_m: float | None) -> list[ET.Element]:
    rings = []
    ref: float | None = None
    for ring_raw in _list(raw):
        lons, lats = _dense(ring_raw, densify_m)
        mid = (float(lons.min()) + float(lons.max())) / 2.0
        if ref is None:
            ref = mid
        lons = lons + 360.0 * round((ref - mid) / 360.0)  # holes next to their exterior ring
        rings.append(np.column_stack((lons, lats)))
    polygon = shapely.Polygon(rings[0], rings[1:])
    return [_polygon_element(p) for p in _pieces(polygon) if isinstance(p, shapely.Polygon) and not p.is_empty]


def _polygon_element(p: shapely.Polygon) -> ET.Element:
    """KML 2.2 wants exterior rings counter-clockwise (holes the other way)."""
    p = orient(p, sign=1.0)
    el = ET.Element("Polygon")
    _text(el, "tessellate", "1")
    outer = ET.SubElement(ET.SubElement(el, "outerBoundaryIs"), "LinearRing")
    _text(outer, "coordinates", _coords(shapely.get_coordinates(p.exterior)))
    for hole in p.interiors:
        inner = ET.SubElement(ET.SubElement(el, "innerBoundaryIs"), "LinearRing")
        _text(inner, "coordinates", _coords(shapely.get_coordinates(hole)))
    return el


def _circle(center: tuple[float, float], radius_m: float) -> list[ET.Element]:
    if not radius_m > 0:
        raise ValueError("radius must be positive")
    ring = circle_polygon(center, radius_m, CIRCLE_SEGMENTS)
    return _polygon([[list(p) for p in ring]], None)


# ------------------------------------------------------------------------------------------- reading

NUMBER_FIELDS = frozenset(
    {"lower_m", "upper_m", "radius_m", "accuracy_m", "half_width_m", "speed_m_s", "tolerance_s", "priority", "version"}
)
"""ExtendedData members read as numbers (when they are one; otherwise the text goes on, for the import to name)."""
JSON_FIELDS = frozenset({"counterparties", "waypoint_times", "altitude"})
"""ExtendedData members written as JSON (``data_value``) and read back as JSON."""
GEOMETRY_TAGS = frozenset({"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"})
UNSUPPORTED_TAGS = frozenset({"Model", "Track", "MultiTrack"})
"""KML geometries that are no footprint: a 3D model, gx:Track and gx:MultiTrack (positions over time)."""
MAX_NESTING = 16
"""MultiGeometry inside MultiGeometry, at most this deep."""
SAME_POINT_DEG = 1e-7
"""Within this (about 1 cm), a point read back is where ``write_kml`` put a point along an edge."""

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_AROUND_COMMAS = re.compile(r"\s*,\s*")
_GEOD = Geod(ellps="WGS84")


class _Declaration(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def read_kml(data: str | bytes, *, densify_m: float | None = MAX_EDGE_M) -> dict[str, Any]:
    """The Placemarks of a KML document as a GeoJSON FeatureCollection in the import format
    (docs/formats.md, Import and export): what ``write_kml`` wrote comes back as the same features.

    Properties come from ``ExtendedData`` (``Data`` and ``SchemaData``, numbers and JSON values typed
    back), ``start`` and ``end`` from the ``TimeSpan``, and the placemark's ``name`` becomes ``name``
    (zones, sites) or ``title`` (operations, movements, and a placemark that says nothing), unless
    ExtendedData gives them. ``object`` is ExtendedData's ``object`` (or ``kind``, when it is one of
    ``PLACEMARK_KINDS``, as older exports wrote it); a ``line`` is skipped (lines are not imported).
    Geometry: Point, LineString, Polygon (holes too; an open ring is closed), a LinearRing as a polygon,
    MultiGeometry as MultiPolygon (MultiLineString, MultiPoint); a Point among polygons with ``radius_m``
    is the Point (the drawn circle is ignored), a LineString among polygons with ``half_width_m`` is the
    LineString (the drawn corridor). Points ``write_kml`` inserted along long edges (equally spaced on
    the geodesic, ``densify_m`` apart at most) are dropped again. Altitudes are ignored.

    Bad KML raises ``InvalidInput``: ``kml`` (``invalid_xml`` with the line and column,
    ``doctype_not_allowed``, ``not_kml``) or, for every bad placemark, ``placemarks[i].geometry...``
    (``unsupported_geometry``, ``invalid_coordinates``, ``out_of_range``). A DOCTYPE is refused before
    anything it declares is read: no entity is ever expanded and nothing outside the text is fetched."""
    root = _parse(data)
    if root.tag != "kml":
        raise InvalidInput.one("kml", "not_kml", f"the document's root element is <{root.tag}>, not <kml>")
    features: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for i, placemark in enumerate(root.iter("Placemark")):
        try:
            feature = _feature(placemark, densify_m)
        except InvalidInput as e:
            errors += e.at(f"placemarks[{i}]").errors
            continue
        if feature is not None:
            features.append(feature)
    if errors:
        raise InvalidInput(errors)
    return {"type": "FeatureCollection", "features": features}


def _local(name: str) -> str:
    """``gx:Track`` -> ``Track``: KML's versions and extensions differ by namespace only."""
    return name.rpartition(":")[2]


def _parse(data: str | bytes) -> ET.Element:
    """The document as a tree of local names, through expat with every DOCTYPE refused (no entity can be
    declared without one: no billion laughs, no external entity)."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()

    def refuse(*_: Any) -> None:
        raise _Declaration(parser.CurrentLineNumber)

    def start(name: str, attrs: dict[str, str]) -> None:
        builder.start(_local(name), {_local(k): v for k, v in attrs.items()})

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(_local(name))
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except _Declaration as e:
        raise InvalidInput.one(
            "kml",
            "doctype_not_allowed",
            f"line {e.line}: a DOCTYPE is not read (KML has none, and its entities could expand without end)",
            line=e.line,
        ) from None
    except expat.ExpatError as e:
        line, column = e.lineno, e.offset + 1
        raise InvalidInput.one(
            "kml",
            "invalid_xml",
            f"not well-formed XML at line {line}, column {column}: {expat.ErrorString(e.code)}",
            line=line,
            column=column,
        ) from None
    return builder.close()


def _child(el: ET.Element, tag: str) -> ET.Element | None:
    return next((c for c in el if c.tag == tag), None)


def _child_text(el: ET.Element, tag: str) -> str:
    child = _child(el, tag)
    return (child.text or "").strip() if child is not None else ""


def _feature(placemark: ET.Element, densify_m: float | None) -> dict[str, Any] | None:
    data = _extended_data(placemark)
    obj = data.pop("object", None)
    if obj is None and data.get("kind") in PLACEMARK_KINDS:
        obj = data.pop("kind")
    if obj == "line":
        return None
    props: dict[str, Any] = {} if obj is None else {"object": obj}
    props.update(data)
    span = _child(placemark, "TimeSpan")
    if span is not None:
        for tag, key in (("begin", "start"), ("end", "end")):
            if key not in props and _child_text(span, tag):
                props[key] = _child_text(span, tag)
    name_key = "name" if obj in ("zone", "site") else "title"
    if name_key not in props and _child_text(placemark, "name"):
        props[name_key] = _child_text(placemark, "name")
    geometry = next((c for c in placemark if c.tag in GEOMETRY_TAGS | UNSUPPORTED_TAGS), None)
    shape = None if geometry is None else _shape(geometry, props, densify_m)
    return {"type": "Feature", "geometry": shape, "properties": props}


def _extended_data(placemark: ET.Element) -> dict[str, Any]:
    """``<Data name="k"><value>v</value></Data>`` and ``<SimpleData name="k">v</SimpleData>``, typed."""
    out: dict[str, Any] = {}
    extended = _child(placemark, "ExtendedData")
    for el in () if extended is None else extended.iter():
        if el.tag == "Data":
            text = _child_text(el, "value")
        elif el.tag == "SimpleData":
            text = (el.text or "").strip()
        else:
            continue
        key = el.get("name")
        if key:
            out[key] = _typed(key, text)
    return out


def _typed(key: str, text: str) -> Any:
    if key in NUMBER_FIELDS and _NUMBER.fullmatch(text):
        number = int(text) if _INTEGER.fullmatch(text) else float(text)
        return number if math.isfinite(number) else text
    if key in JSON_FIELDS:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if key == "counterparties" and not isinstance(value, list):
            return [n.strip() for n in text.split(",") if n.strip()]  # written by hand: "bravo, charlie"
        return text if value is None else value
    return text


def _shape(el: ET.Element, props: Mapping[str, Any], densify_m: float | None) -> dict[str, Any]:
    """The placemark's geometry element as one GeoJSON geometry (paths relative to ``geometry``)."""
    parts: list[tuple[str, Any]] = []
    errors: list[FieldError] = []
    todo: list[tuple[ET.Element, str, int]] = [(el, "geometry", 0)]
    while todo:
        node, where, depth = todo.pop(0)
        try:
            if node.tag in UNSUPPORTED_TAGS:
                raise InvalidInput.one(
                    where, "unsupported_geometry", f"a {node.tag} is not a footprint: use Polygon, Point or LineString"
                )
            if node.tag == "MultiGeometry":
                if depth >= MAX_NESTING:
                    raise InvalidInput.one(where, "unsupported_geometry", "MultiGeometry nested too deeply")
                children = [c for c in node if c.tag in GEOMETRY_TAGS | UNSUPPORTED_TAGS]
                todo[:0] = [(c, f"{where}.geometries[{k}]", depth + 1) for k, c in enumerate(children)]
            elif node.tag == "Point":
                point = _coordinates(node, where)
                if len(point) != 1:
                    raise InvalidInput.one(f"{where}.coordinates", "invalid_coordinates", "a Point has one position")
                parts.append(("Point", point[0]))
            elif node.tag == "LineString":
                parts.append(("LineString", _undensify(_coordinates(node, where), densify_m)))
            elif node.tag == "LinearRing":
                parts.append(("Polygon", [_ring(node, where, densify_m)]))
            else:
                parts.append(("Polygon", _polygon_rings(node, where, densify_m)))
        except InvalidInput as e:
            errors += e.errors
    if errors:
        raise InvalidInput(errors)
    return _assemble(parts, props)


def _polygon_rings(el: ET.Element, where: str, densify_m: float | None) -> list[list[list[float]]]:
    outer = _child(el, "outerBoundaryIs")
    ring = None if outer is None else _child(outer, "LinearRing")
    if ring is None:
        raise InvalidInput.one(
            f"{where}.outerBoundaryIs", "invalid_coordinates", "a Polygon needs an outerBoundaryIs with a LinearRing"
        )
    errors: list[FieldError] = []
    rings = []
    holes = [r for inner in el if inner.tag == "innerBoundaryIs" for r in inner if r.tag == "LinearRing"]
    for path, r in [(f"{where}.outerBoundaryIs", ring)] + [
        (f"{where}.innerBoundaryIs[{k}]", h) for k, h in enumerate(holes)
    ]:
        try:
            rings.append(_ring(r, path, densify_m))
        except InvalidInput as e:
            errors += e.errors
    if errors:
        raise InvalidInput(errors)
    return rings


def _ring(el: ET.Element, where: str, densify_m: float | None) -> list[list[float]]:
    points = _coordinates(el, where)
    if points[0] != points[-1]:
        points.append(points[0])  # KML asks for closed rings; some tools leave them open
    return _undensify(points, densify_m)


def _coordinates(el: ET.Element, where: str) -> list[list[float]]:
    """``lon,lat[,alt]`` tuples separated by white space; the altitude is dropped (KML's are above sea
    level, the service's above the ellipsoid)."""
    text = _child_text(el, "coordinates")
    if not text:
        raise InvalidInput.one(f"{where}.coordinates", "invalid_coordinates", "no coordinates")
    out = []
    for n, item in enumerate(_AROUND_COMMAS.sub(",", text).split()):
        values = item.split(",")
        path = f"{where}.coordinates[{n}]"
        if len(values) not in (2, 3) or not all(_NUMBER.fullmatch(v) for v in values):
            raise InvalidInput.one(path, "invalid_coordinates", f"{item!r} is not lon,lat or lon,lat,altitude")
        lon, lat = float(values[0]), float(values[1])
        if not -180.0 <= lon <= 180.0:
            raise InvalidInput.one(path, "out_of_range", f"longitude {values[0]} is outside [-180, 180]")
        if not -90.0 <= lat <= 90.0:
            raise InvalidInput.one(path, "out_of_range", f"latitude {values[1]} is outside [-90, 90]")
        out.append([lon, lat])
    return out


def _assemble(parts: list[tuple[str, Any]], props: Mapping[str, Any]) -> dict[str, Any]:
    if not parts:
        raise InvalidInput.one("geometry", "unsupported_geometry", "an empty MultiGeometry is no footprint")
    if len(parts) == 1:
        return {"type": parts[0][0], "coordinates": parts[0][1]}
    by_type: dict[str, list[Any]] = {}
    for kind, coords in parts:
        by_type.setdefault(kind, []).append(coords)
    polygons = by_type.get("Polygon", [])
    for centre, size in (("Point", "radius_m"), ("LineString", "half_width_m")):
        # what write_kml draws for a site, a circle or a corridor: the shape, and its outline
        if size in props and len(by_type.get(centre, [])) == 1 and len(polygons) == len(parts) - 1:
            return {"type": centre, "coordinates": by_type[centre][0]}
    if len(by_type) == 1:
        kind, coords = next(iter(by_type.items()))
        return {"type": "Multi" + kind, "coordinates": coords}
    raise InvalidInput.one(
        "geometry",
        "unsupported_geometry",
        f"a MultiGeometry of {' and '.join(sorted(by_type))} is not one footprint",
    )


def _undensify(points: list[list[float]], densify_m: float | None) -> list[list[float]]:
    """The points without those ``write_kml`` inserted along long edges: a run of points equally spaced
    (within 1 cm) along the geodesic between two others, in as few pieces of at most ``densify_m`` as
    that geodesic needs. A point of the original shape lying just there too would go as well, which
    changes no shape."""
    n = len(points)
    if densify_m is None or n < 3:
        return points
    xy = np.asarray(points, dtype=np.float64)
    lon, lat = xy[:, 0], xy[:, 1]
    step = np.asarray(_GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2])
    az, _, span = _GEOD.inv(lon[:-2], lat[:-2], lon[2:], lat[2:])
    mid_lon, mid_lat, _ = _GEOD.fwd(lon[:-2], lat[:-2], az, np.asarray(span) / 2.0)
    between = (  # point m + 1 is the midpoint of its neighbours, pieces as long as densify makes them
        (np.abs(step[:-1] - step[1:]) <= 0.01)
        & (step[1:] > densify_m / 2.0)
        & (step[1:] <= densify_m + 0.01)
        & (_deg_apart(np.asarray(mid_lon), lon[1:-1]) <= SAME_POINT_DEG)
        & (np.abs(np.asarray(mid_lat) - lat[1:-1]) <= SAME_POINT_DEG)
    )
    keep = np.ones(n, dtype=bool)
    m = 1
    while m <= n - 2:
        if not between[m - 1]:
            m += 1
            continue
        last = m
        while last + 1 <= n - 2 and between[last]:
            last += 1
        if _inserted(lon, lat, m - 1, last + 1, densify_m):
            keep[m : last + 1] = False
        m = last + 1
    return [points[k] for k in np.flatnonzero(keep)]


def _inserted(lon: Any, lat: Any, a: int, b: int, densify_m: float) -> bool:
    """Are the points strictly between ``a`` and ``b`` what densify puts on the geodesic from a to b?"""
    pieces = b - a
    az, _, dist = _GEOD.inv(lon[a], lat[a], lon[b], lat[b])
    if not (pieces - 1) * densify_m < dist + 0.01 or dist > pieces * densify_m + 0.01:
        return False
    k = pieces - 1
    flon, flat, _ = _GEOD.fwd(
        np.full(k, lon[a]), np.full(k, lat[a]), np.full(k, az), dist * np.arange(1, pieces) / pieces
    )
    return bool(
        np.all(_deg_apart(np.asarray(flon), lon[a + 1 : b]) <= SAME_POINT_DEG)
        and np.all(np.abs(np.asarray(flat) - lat[a + 1 : b]) <= SAME_POINT_DEG)
    )


def _deg_apart(a: Any, b: Any) -> Any:
    return np.abs((a - b + 180.0) % 360.0 - 180.0)
