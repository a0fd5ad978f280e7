"""KML 2.2 out, for Google Earth and the other tools that read it.

``write_kml`` turns plain placemarks (a name, the party, a kind, a GeoJSON geometry, a description, an
optional time span) into one KML document: one ``Style`` per party, with a colour derived from the party's
name (the same name always gets the same colour, in every export), and one ``Folder`` per party.

* zones and operations are translucent polygons with an opaque outline in the party's colour;
* a site is a point, and with its ``radius_m`` also the circle of its protection radius (64 points on the
  geodesic circle);
* lines are lines.

Exterior rings are written counter-clockwise and holes clockwise, as KML 2.2 asks.

Geometry is written as the service means it: every edge is a WGS84 geodesic, so edges longer than
``densify_m`` (10 km by default) get points along the geodesic, and what Google Earth draws between two
points no longer matters. Rings and lines that cross the antimeridian (consecutive longitudes 179.9, then
-179.9) are cut there into pieces within [-180, 180], as KML needs. Coordinates are ``lon,lat`` with 8
decimals (about 1 mm); altitudes are not written (shapes are clamped to the ground: KML's absolute
altitudes are above sea level, the service's above the ellipsoid). Besides GeoJSON's Point, LineString,
Polygon and their Multi forms, the service's own ``Circle`` and ``Corridor`` footprints are drawn.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
PLACEMARK_KINDS = ("zone", "site", "operation", "line")
FILL_ALPHA = 0x59
"""Polygon fill opacity (35 %): zones stay see-through over the imagery."""
CIRCLE_SEGMENTS = 64
DECIMALS = 8


@dataclass(frozen=True)
class KmlPlacemark:
    name: str
    party: str
    kind: str
    """zone, site, operation or line."""
    geometry: Mapping[str, Any]
    """GeoJSON geometry (lon/lat, WGS84), or the service's Circle / Corridor footprint."""
    description: str = ""
    start: datetime | None = None
    end: datetime | None = None
    radius_m: float | None = None
    """For a site given as a Point: its protection radius, drawn as a circle."""
    extra: Mapping[str, str] = field(default_factory=dict)
    """More name/value pairs for the placemark's ExtendedData."""


def party_colour(party: str) -> tuple[int, int, int]:
    """A stable, saturated RGB colour for a party: the hue comes from a hash of its name."""
    hue = int.from_bytes(hashlib.sha256(party.encode("utf-8")).digest()[:4], "big") / 2**32
    r, g, b = colorsys.hsv_to_rgb(hue, 0.8, 0.95)
    return round(r * 255), round(g * 255), round(b * 255)


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
    for party in parties:
        doc.append(_style(party))
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


def _style(party: str) -> ET.Element:
    rgb = party_colour(party)
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
    values = {"party": pm.party, "kind": pm.kind, **dict(pm.extra)}
    if pm.radius_m is not None:
        values["radius_m"] = f"{pm.radius_m:g}"
    for key, value in values.items():
        item = ET.SubElement(data, "Data", {"name": key})
        _text(item, "value", value)
    el.append(geometry)
    return el


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
            if pm.radius_m is not None:
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
        elif kind == "Circle":
            parts.extend(_circle(_position(g.get("center")), float(g["radius_m"])))
        elif kind == "Corridor":
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
