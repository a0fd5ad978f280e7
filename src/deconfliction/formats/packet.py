"""The situation packet as a PDF, for degraded communications: a vector map of what a party may see around
its area of interest (UTM/MGRS grid, scale bar, north arrow, legend, basemap), the open conflicts with
their windows and acknowledgements, the contacts to call, and the ledger head the paper can be checked
against later (docs/packet.md).

Pure: :func:`render_packet` takes a :class:`Packet` of plain data (GeoJSON geometries in WGS84 lon/lat,
strings, numbers) and returns the PDF's bytes; it reads no file and asks no service. Drawn with
reportlab (vector paths, a platypus story that splits long tables over pages); the map is projected to
the UTM zone of its centre (pyproj), so MGRS grid lines are straight and the scale bar is true there.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mgrs  # type: ignore[import-untyped]
import numpy as np
import shapely
import shapely.affinity
from pyproj import Transformer
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

PAPER = {"a4": A4, "letter": LETTER}
"""Paper sizes in points (portrait)."""

RGB = tuple[int, int, int]
CONFLICT_RED: RGB = (176, 0, 32)


@dataclass(frozen=True)
class MapShape:
    """One object on the map. ``kind``: operation, conflict, zone, site, line. ``now``: in force at the
    packet's time (drawn solid); otherwise later (drawn as an outline)."""

    kind: str
    geometry: Mapping[str, Any]
    label: str
    colour: RGB = (68, 68, 68)
    now: bool = True
    dashed: bool = False


@dataclass(frozen=True)
class BasemapFeature:
    """A basemap feature: ``layer`` is countries, lakes, rivers, roads, places or other."""

    layer: str
    geometry: Mapping[str, Any]
    name: str | None = None


@dataclass(frozen=True)
class ConflictRow:
    number: str
    window: str
    when: str
    """"in force" or "starts in 2 h 15 min" at the packet's time."""
    mine: str
    other: str
    what: str
    where: str
    state: str
    acknowledged: str
    overdue: str = ""


@dataclass(frozen=True)
class ContactRow:
    ladder: str
    rank: int
    name: str
    channels: Mapping[str, str]


@dataclass(frozen=True)
class Packet:
    party: str
    role: str
    at: str
    generated_at: str
    ledger_seq: int
    ledger_hash: str
    paper: str = "a4"
    exercise: str | None = None
    """None on a live server; otherwise the marking printed on every page (e.g. "EXERCISE")."""
    shapes: Sequence[MapShape] = ()
    basemap: Sequence[BasemapFeature] = ()
    area: tuple[float, float, float, float] | None = None
    """The map's extent (min lon, min lat, max lon, max lat); None: no map (nothing to show)."""
    conflicts: Sequence[ConflictRow] = ()
    contacts: Sequence[ContactRow] = ()
    notes: Sequence[str] = ()
    parties: Sequence[tuple[str, RGB]] = ()
    """The parties on the map, for the legend."""
    basemap_source: str = ""
    mine_header: str = "Mine"
    """The conflicts table's column of the caller's side ("Sides" for the coordinator: both)."""


# ----------------------------------------------------------------------------------------------- the map


@dataclass
class _Frame:
    """The map's projection (UTM zone of its centre) and its extent in that projection's metres."""

    epsg: int
    zone: int
    x0: float
    y0: float
    x1: float
    y1: float
    forward: Transformer = field(repr=False)
    lonlat: BaseGeometry = field(default_factory=lambda: box(-180, -90, 180, 90), repr=False)

    @classmethod
    def around(cls, area: tuple[float, float, float, float], aspect: float) -> _Frame:
        lon0, lat0, lon1, lat1 = area
        clon, clat = (lon0 + lon1) / 2, (lat0 + lat1) / 2
        zone = min(int((wrap_lon(clon) + 180) // 6) + 1, 60)
        epsg = (32600 if clat >= 0 else 32700) + zone
        fwd = Transformer.from_crs(4326, epsg, always_xy=True)
        lons = np.array([lon0, lon1, lon0, lon1, clon, clon])
        lats = np.array([lat0, lat0, lat1, lat1, lat0, lat1])
        xs, ys = fwd.transform(lons, lats)
        x0, x1, y0, y1 = float(min(xs)), float(max(xs)), float(min(ys)), float(max(ys))
        # at least 10 km across; then widened to the paper's aspect (width / height)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        w, h = max(x1 - x0, 10_000.0), max(y1 - y0, 10_000.0)
        if w / h < aspect:
            w = h * aspect
        else:
            h = w / aspect
        frame = cls(epsg, zone, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, fwd)
        # the frame in lon/lat (its edges sampled), a little larger: geometries are cut to it before they
        # are projected, so that a country far outside the zone never meets the projection's edge
        inv = Transformer.from_crs(epsg, 4326, always_xy=True)
        t = np.linspace(0.0, 1.0, 9)
        ex = np.concatenate([frame.x0 + t * w, frame.x0 + t * w, np.full(9, frame.x0), np.full(9, frame.x1)])
        ey = np.concatenate([np.full(9, frame.y0), np.full(9, frame.y1), frame.y0 + t * h, frame.y0 + t * h])
        lons_e, lats_e = inv.transform(ex, ey)
        lons_e = clon + (lons_e - clon + 180.0) % 360.0 - 180.0  # across the antimeridian: past 180, not -180
        pad_lon = (lons_e.max() - lons_e.min()) * 0.1
        pad_lat = (lats_e.max() - lats_e.min()) * 0.1
        frame.lonlat = box(
            lons_e.min() - pad_lon,
            max(lats_e.min() - pad_lat, -90),
            lons_e.max() + pad_lon,
            min(lats_e.max() + pad_lat, 90),
        )
        return frame

    @property
    def width_m(self) -> float:
        return self.x1 - self.x0

    def project(self, geometry: Mapping[str, Any]) -> BaseGeometry | None:
        """A GeoJSON geometry in this frame's metres, clipped to the frame (None: outside or invalid)."""
        try:
            geom = shape(dict(geometry))
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            return None
        try:
            if geom.is_empty:
                return None
            if not geom.is_valid:
                geom = shapely.make_valid(geom)
            # a frame across the antimeridian runs past 180 (or below -180): the shapes there, given in
            # [-180, 180], are met one turn of the earth away
            west, _, east, _ = self.lonlat.bounds
            turns = [0.0] + ([360.0] if east > 180 else []) + ([-360.0] if west < -180 else [])
            pieces = [
                moved.intersection(self.lonlat)
                for moved in (shapely.affinity.translate(geom, xoff=t) if t else geom for t in turns)
                if moved.intersects(self.lonlat)
            ]
            if not pieces:
                return None
            geom = pieces[0] if len(pieces) == 1 else shapely.union_all(pieces)
        except shapely.errors.GEOSException:
            return None
        if geom.is_empty:
            return None

        def fwd(coords: Any) -> Any:
            x, y = self.forward.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        try:
            projected = shapely.transform(geom, fwd)
            if not np.isfinite(shapely.get_coordinates(projected)).all():
                return None  # beyond where the projection holds: not drawn
            if not projected.is_valid:
                projected = shapely.make_valid(projected)
            clipped = projected.intersection(box(self.x0, self.y0, self.x1, self.y1))
        except shapely.errors.GEOSException:  # a degenerate shape: left off the map, still in the tables
            return None
        return None if clipped.is_empty else clipped


def wrap_lon(lon: float) -> float:
    """``lon`` in [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0


def covering_lons(spans: Iterable[tuple[float, float]]) -> tuple[float, float] | None:
    """The shortest run of longitudes (west, east) that holds every (west, east) span of ``spans`` (each in
    [-180, 180], west <= east): the side of the earth they are on. Across the antimeridian, east is past
    180 (178 to 182, not -178 to 178, which would be most of the earth)."""
    merged: list[list[float]] = []
    for w, e in sorted(spans):
        if merged and w <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([w, e])
    if not merged:
        return None
    last = len(merged) - 1
    # the widest gap between the spans, the one from the easternmost round to the westernmost included
    # (it wins a tie: the map stays in [-180, 180] when it can)
    gaps = [(merged[0][0] + 360.0 - merged[last][1], True, last)]
    gaps += [(merged[i + 1][0] - merged[i][1], False, i) for i in range(last)]
    _, around, i = max(gaps)
    if around:
        return merged[0][0], merged[last][1]
    return merged[i + 1][0], merged[i][1] + 360.0


MAX_SPAN_DEG = (24.0, 16.0)
"""The widest map (degrees of longitude, latitude): theatre scale, where a UTM grid is true enough."""


def map_area(area: tuple[float, float, float, float]) -> tuple[tuple[float, float, float, float], bool]:
    """The part of ``area`` the map shows, and whether it was cut: at most ``MAX_SPAN_DEG`` around its
    centre, within UTM's latitudes (80 S to 84 N)."""
    lon0, lat0, lon1, lat1 = area
    clon, clat = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    half_w = min((lon1 - lon0) / 2, MAX_SPAN_DEG[0] / 2)
    half_h = min((lat1 - lat0) / 2, MAX_SPAN_DEG[1] / 2)
    clat = max(min(clat, 84.0 - half_h), -80.0 + half_h)
    shown = (clon - half_w, clat - half_h, clon + half_w, clat + half_h)
    return shown, any(abs(a - b) > 1e-9 for a, b in zip(shown, area, strict=True))


def _parts(geom: Any) -> Iterator[Any]:
    if hasattr(geom, "geoms"):
        for g in geom.geoms:
            yield from _parts(g)
    else:
        yield geom


def _anchor(geom: BaseGeometry) -> Any:
    """Where a shape's label goes: inside an area, halfway along a line, on a point."""
    if geom.area > 0:
        return geom.representative_point()
    if geom.length > 0:
        return max(_parts(geom), key=lambda g: g.length).interpolate(0.5, normalized=True)
    return geom.centroid


def _nice(value: float) -> float:
    """The largest 1, 2 or 5 x 10^k at or below ``value``."""
    k = 10 ** math.floor(math.log10(value))
    return float(next(m * k for m in (5, 2, 1) if m * k <= value))


class MapFlowable(Flowable):
    """The map: basemap, objects, grid with MGRS labels, scale bar, north arrow."""

    MARGIN = 16.0  # points around the map for the grid labels

    def __init__(self, packet: Packet, width: float, height: float) -> None:
        super().__init__()
        self.packet = packet
        self.width = width
        self.height = height
        if packet.area is None:
            raise ValueError("a map needs an area")
        inner_w, inner_h = width - 2 * self.MARGIN, height - 2 * self.MARGIN
        self.frame = _Frame.around(map_area(packet.area)[0], inner_w / inner_h)
        self.k = inner_w / self.frame.width_m  # points per metre
        self.placed: list[tuple[float, float, float, float]] = []

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def _xy(self, x: float, y: float) -> tuple[float, float]:
        return self.MARGIN + (x - self.frame.x0) * self.k, self.MARGIN + (y - self.frame.y0) * self.k

    def _path(self, c: Canvas, geom: BaseGeometry) -> Any:
        p = c.beginPath()
        for part in _parts(geom):
            if part.geom_type == "Polygon":
                for ring in (part.exterior, *part.interiors):
                    self._ring(p, ring.coords, close=True)
            elif part.geom_type == "LineString":
                self._ring(p, part.coords, close=False)
        return p

    def _ring(self, p: Any, coords: Iterable[Sequence[float]], *, close: bool) -> None:
        for i, (x, y, *_) in enumerate(coords):
            px, py = self._xy(x, y)
            if i == 0:
                p.moveTo(px, py)
            else:
                p.lineTo(px, py)
        if close:
            p.close()

    def draw(self) -> None:
        c: Canvas = self.canv
        m = self.MARGIN
        inner_w, inner_h = self.width - 2 * m, self.height - 2 * m
        c.saveState()
        c.setFillColor(colors.Color(0.86, 0.91, 0.95))  # sea, or outside every country
        c.rect(m, m, inner_w, inner_h, stroke=0, fill=1)
        clip = c.beginPath()
        clip.rect(m, m, inner_w, inner_h)
        c.clipPath(clip, stroke=0, fill=0)
        later = self._basemap(c)
        self._objects(c)
        for args, kw in later:  # names of the basemap where the objects' labels left room
            self._label(c, *args, **kw)
        c.restoreState()
        self._grid(c)
        c.setStrokeColor(colors.black)
        c.setLineWidth(1)
        c.rect(m, m, inner_w, inner_h, stroke=1, fill=0)
        self._scale_bar(c)
        self._north_arrow(c)

    # ---- layers

    def _basemap(self, c: Canvas) -> list[tuple[tuple[float, float, str], dict[str, Any]]]:
        """Draws the basemap; returns its labels, placed after the objects' own."""
        styles = {
            "countries": ((0.94, 0.93, 0.89), (0.55, 0.55, 0.55), 0.6),
            "lakes": ((0.70, 0.82, 0.93), (0.35, 0.55, 0.75), 0.4),
            "other": ((0.90, 0.90, 0.86), (0.6, 0.6, 0.6), 0.4),
        }
        places: list[tuple[float, float, str]] = []
        labels: list[tuple[tuple[float, float, str], dict[str, Any]]] = []
        order = {"countries": 0, "other": 1, "lakes": 2, "roads": 3, "rivers": 4, "places": 5}
        for f in sorted(self.packet.basemap, key=lambda f: order.get(f.layer, 1)):
            geom = self.frame.project(f.geometry)
            if geom is None:
                continue
            if geom.geom_type in ("Point", "MultiPoint"):
                for pt in _parts(geom):
                    if pt.geom_type == "Point" and f.name:
                        places.append((pt.x, pt.y, f.name))
                continue
            if geom.area > 0:
                fill, stroke, width = styles.get(f.layer, styles["other"])
                c.setFillColorRGB(*fill)
                c.setStrokeColorRGB(*stroke)
                c.setLineWidth(width)
                c.drawPath(self._path(c, geom), stroke=1, fill=1)
            else:
                if f.layer == "rivers":
                    c.setStrokeColorRGB(0.25, 0.5, 0.8)
                    c.setLineWidth(1.4)
                else:
                    c.setStrokeColorRGB(0.75, 0.45, 0.2)
                    c.setLineWidth(0.9)
                c.drawPath(self._path(c, geom), stroke=1, fill=0)
                if f.layer == "rivers" and f.name:
                    mid = _anchor(geom)
                    labels.append(((mid.x, mid.y, f.name), {"size": 6.5, "colour": (0.2, 0.4, 0.7), "italic": True}))
        for x, y, name in places:
            px, py = self._xy(x, y)
            c.setFillColor(colors.black)
            c.circle(px, py, 1.6, stroke=0, fill=1)
            labels.insert(0, ((x, y, name), {"size": 7, "dx": 3}))
        return labels

    def _objects(self, c: Canvas) -> None:
        order = {"zone": 0, "operation": 1, "conflict": 2, "line": 3, "site": 4}
        labels: list[tuple[float, float, str, RGB]] = []
        for s in sorted(self.packet.shapes, key=lambda s: (order.get(s.kind, 5), s.now)):
            geom = self.frame.project(s.geometry)
            if geom is None:
                continue
            r, g, b = (v / 255 for v in s.colour)
            c.saveState()
            c.setStrokeColorRGB(r, g, b)
            if s.kind == "conflict":
                self._conflict(c, geom, s.now)
            elif geom.geom_type in ("Point", "MultiPoint"):
                for pt in _parts(geom):
                    px, py = self._xy(pt.x, pt.y)
                    c.setFillColorRGB(r, g, b)
                    c.setStrokeColor(colors.white)
                    c.circle(px, py, 3, stroke=1, fill=1)
            elif geom.area > 0:
                c.setLineWidth(1.2 if s.kind != "site" else 1.0)
                if s.dashed or not s.now:
                    c.setDash(4, 3)
                c.setFillColorRGB(r, g, b, alpha=0.28 if s.kind == "operation" and s.now else 0.1)
                c.drawPath(self._path(c, geom), stroke=1, fill=1)
            else:
                c.setStrokeColor(colors.black)
                c.setLineWidth(2.2)
                c.drawPath(self._path(c, geom), stroke=1, fill=0)
            c.restoreState()
            if s.label:
                point = _anchor(geom)
                labels.append((point.x, point.y, s.label, CONFLICT_RED if s.kind == "conflict" else s.colour))
        for x, y, text, colour in labels[::-1]:  # conflicts' and sites' first, zones' last
            # the party's hue, darkened: a yellow or cyan party's names stay readable on paper
            self._label(c, x, y, text, size=7.5, colour=tuple(v / 255 * 0.55 for v in colour), bold=True, halo=True)

    def _conflict(self, c: Canvas, geom: BaseGeometry, now: bool) -> None:
        """Red, outlined and hatched (readable without colour): solid when in force, dashed when later."""
        path = self._path(c, geom)
        r, g, b = (v / 255 for v in CONFLICT_RED)
        c.saveState()
        c.clipPath(path, stroke=0, fill=0)
        c.setStrokeColorRGB(r, g, b)
        c.setLineWidth(0.8 if now else 0.4)
        x0, y0, x1, y1 = geom.bounds
        (px0, py0), (px1, py1) = self._xy(x0, y0), self._xy(x1, y1)
        step = 4.0 if now else 7.0
        span = (px1 - px0) + (py1 - py0)
        t = -(py1 - py0)
        while t < span:
            c.line(px0 + t, py0, px0 + t + (py1 - py0), py1)
            t += step
        c.restoreState()
        c.setStrokeColorRGB(r, g, b)
        c.setLineWidth(1.6)
        if not now:
            c.setDash(5, 3)
        c.drawPath(self._path(c, geom), stroke=1, fill=0)

    def _label(
        self,
        c: Canvas,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        dx: float = 0,
        colour: Sequence[float] = (0, 0, 0),
        bold: bool = False,
        italic: bool = False,
        halo: bool = False,
    ) -> bool:
        """A label at map point (x, y) unless it would overlap one already placed (decluttering)."""
        font = "Helvetica-Bold" if bold else "Helvetica-Oblique" if italic else "Helvetica"
        text = text if len(text) <= 40 else text[:39] + "…"
        px, py = self._xy(x, y)
        w = c.stringWidth(text, font, size)
        lx = px + dx if dx else px - w / 2
        ly = py - size / 3
        rect = (lx - 1, ly - 1, lx + w + 1, ly + size)
        if any(not (rect[2] < a or b < rect[0] or rect[3] < cc or d < rect[1]) for a, cc, b, d in self.placed):
            return False
        self.placed.append(rect)
        c.saveState()
        if halo:
            c.setFillColor(colors.Color(1, 1, 1, alpha=0.8))
            c.rect(rect[0], rect[1], rect[2] - rect[0], rect[3] - rect[1], stroke=0, fill=1)
        c.setFillColorRGB(*colour)
        c.setFont(font, size)
        c.drawString(lx, ly, text)
        c.restoreState()
        return True

    # ---- furniture

    def _grid(self, c: Canvas) -> None:
        """UTM grid lines every 1, 2, 5, 10... km (at most about 8 across), labelled with the MGRS
        easting and northing in km (the two principal digits); each 100 km square's letters in it."""
        f = self.frame
        step = max(_nice(f.width_m / 6), 1000.0)
        m = self.MARGIN
        c.saveState()
        c.setStrokeColor(colors.Color(0.1, 0.1, 0.1, alpha=0.55))
        c.setLineWidth(0.35)
        c.setFont("Helvetica", 6.5)
        c.setFillColor(colors.black)
        x = math.ceil(f.x0 / step) * step
        while x < f.x1:
            px, _ = self._xy(x, f.y0)
            c.line(px, m, px, self.height - m)
            label = f"{int(x // 1000) % 100:02d}"
            c.drawCentredString(px, m - 8, label)
            c.drawCentredString(px, self.height - m + 3, label)
            x += step
        y = math.ceil(f.y0 / step) * step
        while y < f.y1:
            _, py = self._xy(f.x0, y)
            c.line(m, py, self.width - m, py)
            label = f"{int(y // 1000) % 100:02d}"
            c.drawRightString(m - 2, py - 2, label)
            c.drawString(self.width - m + 2, py - 2, label)
            y += step
        c.restoreState()
        # the 100 km squares' letters (what a grid reference starts with), once in each square shown
        inverse = Transformer.from_crs(f.epsg, 4326, always_xy=True)
        converter = mgrs.MGRS()
        e = math.floor(f.x0 / 100_000) * 100_000
        while e < f.x1:
            n = math.floor(f.y0 / 100_000) * 100_000
            while n < f.y1:
                cx, cy = max(e, f.x0) + 3 / self.k, max(n, f.y0) + 3 / self.k
                lon, lat = inverse.transform(cx, cy)
                try:
                    found = str(converter.toMGRS(lat, lon, MGRSPrecision=0))
                    square = f"{found[:-2]} {found[-2:]}"
                except Exception:  # outside MGRS (a pole): no letters
                    square = ""
                if square and cx < f.x1 and cy < f.y1:
                    px, py = self._xy(cx, cy)
                    c.saveState()
                    c.setFillColor(colors.Color(1, 1, 1, alpha=0.85))
                    c.setFont("Helvetica-Bold", 8)
                    w = c.stringWidth(square, "Helvetica-Bold", 8)
                    c.rect(px, py, w + 4, 11, stroke=0, fill=1)
                    c.setFillColor(colors.black)
                    c.drawString(px + 2, py + 2.5, square)
                    c.restoreState()
                n += 100_000
            e += 100_000

    def _scale_bar(self, c: Canvas) -> None:
        f = self.frame
        length_m = _nice(f.width_m / 4)
        length_pt = length_m * self.k
        x, y = self.width - self.MARGIN - length_pt - 12, self.MARGIN + 10
        c.saveState()
        c.setFillColor(colors.Color(1, 1, 1, alpha=0.85))
        c.rect(x - 6, y - 8, length_pt + 14, 26, stroke=0, fill=1)
        c.setLineWidth(0.6)
        for i in range(4):
            c.setFillColor(colors.black if i % 2 == 0 else colors.white)
            c.rect(x + i * length_pt / 4, y, length_pt / 4, 4, stroke=1, fill=1)
        c.setFillColor(colors.black)
        c.setFont("Helvetica", 7)
        text = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
        c.drawString(x, y + 7, "0")
        c.drawRightString(x + length_pt, y + 7, text)
        c.setFont("Helvetica", 6)
        c.drawCentredString(x + length_pt / 2, y - 5.5, f"1:{round(1000 * mm / self.k, -2):,.0f}")
        c.restoreState()

    def _north_arrow(self, c: Canvas) -> None:
        """True north at the map's centre (grid north is up; they differ by the convergence)."""
        f = self.frame
        inverse = Transformer.from_crs(f.epsg, 4326, always_xy=True)
        cx, cy = (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2
        lon, lat = inverse.transform(cx, cy)
        nx, ny = f.forward.transform(lon, min(lat + 0.05, 89.9))
        angle = math.atan2(nx - cx, ny - cy)
        x, y = self.MARGIN + 22, self.height - self.MARGIN - 30
        c.saveState()
        c.setFillColor(colors.Color(1, 1, 1, alpha=0.85))
        c.circle(x, y, 17, stroke=0, fill=1)
        c.translate(x, y)
        c.rotate(-math.degrees(angle))
        p = c.beginPath()
        p.moveTo(0, 13)
        p.lineTo(6, -9)
        p.lineTo(0, -4)
        p.lineTo(-6, -9)
        p.close()
        c.setFillColor(colors.black)
        c.drawPath(p, stroke=0, fill=1)
        c.restoreState()
        c.setFont("Helvetica-Bold", 8)
        c.drawCentredString(x, y + 19, "N")


# ---------------------------------------------------------------------------------------------- the pages


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=15, leading=18, spaceAfter=2, alignment=0),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=11.5, leading=14, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontSize=8.5, leading=10.5),
        "cell": ParagraphStyle("cell", parent=base["BodyText"], fontSize=7.5, leading=9),
        "mono": ParagraphStyle("mono", parent=base["BodyText"], fontName="Courier", fontSize=7.5, leading=9),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return t


def _legend(packet: Packet, styles: dict[str, ParagraphStyle], width: float) -> Table:
    def swatch(kind: str, colour: RGB, *, now: bool = True) -> Flowable:
        return _Swatch(kind, colour, now)

    cells: list[tuple[Flowable, str]] = [
        (swatch("operation", (90, 90, 90)), "own operation in force (party colour)"),
        (swatch("conflict", CONFLICT_RED), "conflict in force (hatched, red)"),
        (swatch("conflict", CONFLICT_RED, now=False), "conflict later (dashed)"),
        (swatch("zone", (90, 90, 90)), "zone (dashed: proposed)"),
        (swatch("site", (90, 90, 90)), "protected site and radius"),
        (swatch("line", (0, 0, 0)), "deconfliction line"),
    ]
    cells += [(swatch("operation", rgb), name) for name, rgb in packet.parties]
    rows: list[list[Any]] = []
    per_row = 3
    for i in range(0, len(cells), per_row):
        row: list[Any] = []
        for sw, text in cells[i : i + per_row]:
            row += [sw, Paragraph(_esc(text), styles["cell"])]
        row += [""] * (2 * per_row - len(row))
        rows.append(row)
    col = width / per_row
    t = Table(rows, colWidths=[16, col - 16] * per_row)
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 2)]))
    return t


class _Swatch(Flowable):
    def __init__(self, kind: str, colour: RGB, now: bool) -> None:
        super().__init__()
        self.kind, self.colour, self.now = kind, colour, now

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return 12, 9

    def draw(self) -> None:
        c: Canvas = self.canv
        r, g, b = (v / 255 for v in self.colour)
        c.setStrokeColorRGB(r, g, b)
        if self.kind == "line":
            c.setLineWidth(2)
            c.line(0, 4.5, 12, 4.5)
            return
        if self.kind == "site":
            c.setDash(2, 1.5)
            c.circle(6, 4.5, 4.5, stroke=1, fill=0)
            c.setDash()
            c.setFillColorRGB(r, g, b)
            c.circle(6, 4.5, 1.6, stroke=0, fill=1)
            return
        if self.kind == "zone" or not self.now:
            c.setDash(3, 2)
        if self.kind == "conflict":
            c.setLineWidth(0.6)
            for x in range(-9, 12, 3 if self.now else 5):
                c.line(max(x, 0), max(-x, 0), min(x + 9, 12), min(9, 12 - x))
        else:
            c.setFillColorRGB(r, g, b, alpha=0.3 if self.kind == "operation" else 0.1)
        c.setLineWidth(1.2)
        c.rect(0, 0, 12, 9, stroke=1, fill=0 if self.kind == "conflict" else 1)


def render_packet(packet: Packet) -> bytes:
    """The packet as a PDF document (bytes)."""
    page_w, page_h = PAPER[packet.paper]
    margin = 14 * mm
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=(page_w, page_h),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin + 10,
        bottomMargin=margin + 14,
        title=f"Situation packet: {packet.party} at {packet.at}",
        author="Deconfliction service",
        subject=f"Ledger head {packet.ledger_seq} {packet.ledger_hash}",
        creator="deconfliction",
    )
    styles = _styles()
    width = page_w - 2 * margin
    marking = f"{packet.exercise} — " if packet.exercise else ""
    story: list[Flowable] = [
        Paragraph(_esc(f"{marking}Situation packet: {packet.party}"), styles["title"]),
        Paragraph(
            _esc(
                f"Situation at {packet.at} · generated {packet.generated_at} · "
                f"ledger head {packet.ledger_seq} {packet.ledger_hash}"
            ),
            styles["body"],
        ),
        Spacer(1, 4),
    ]
    if packet.area is not None:
        story.append(MapFlowable(packet, width, min(width * 0.86, page_h * 0.56)))
        shown, cut = map_area(packet.area)
        grid = (
            f"Grid: UTM zone {_zone_of(shown)} (WGS84); lines labelled with the MGRS easting/northing in km, "
            "100 km squares by their letters; true north by the arrow."
            + (" The map shows the middle of a wider area; the tables list everything." if cut else "")
        )
        story += [Paragraph(_esc(grid + " " + packet.basemap_source), styles["cell"]), Spacer(1, 3)]
        story.append(_legend(packet, styles, width))
    else:
        story.append(Paragraph("No map: nothing of yours to show around this time.", styles["body"]))
    story.append(Paragraph(f"Open conflicts ({len(packet.conflicts)})", styles["h2"]))
    if packet.conflicts:
        head = [
            "#",
            "Window (UTC)",
            "At this time",
            packet.mine_header,
            "Other party",
            "What",
            "Where (MGRS)",
            "Acknowledged",
        ]
        rows: list[list[Any]] = [[Paragraph(f"<b>{h}</b>", styles["cell"]) for h in head]]
        for r in packet.conflicts:
            ack = _esc(r.acknowledged) + (
                f"<br/><font color='#b00020'><b>{_esc(r.overdue)}</b></font>" if r.overdue else ""
            )
            rows.append(
                [
                    Paragraph(f"<b>{_esc(r.number)}</b>", styles["cell"]),
                    Paragraph(_esc(r.window), styles["cell"]),
                    Paragraph(_esc(r.when), styles["cell"]),
                    Paragraph(_esc(r.mine), styles["cell"]),
                    Paragraph(_esc(r.other), styles["cell"]),
                    Paragraph(_esc(f"{r.what}; {r.state}"), styles["cell"]),
                    Paragraph(_esc(r.where), styles["mono"]),
                    Paragraph(ack, styles["cell"]),
                ]
            )
        fractions = [0.04, 0.15, 0.1, 0.15, 0.12, 0.13, 0.12, 0.19]
        story.append(_table(rows, [f * width for f in fractions]))
    else:
        story.append(Paragraph("None.", styles["body"]))
    story.append(Paragraph("Contacts to call", styles["h2"]))
    if packet.contacts:
        rows = [[Paragraph(f"<b>{h}</b>", styles["cell"]) for h in ("Ladder", "#", "Name", "Channels")]]
        for ct in packet.contacts:
            channels = "<br/>".join(f"{_esc(k)}: {_esc(v)}" for k, v in ct.channels.items())
            rows.append(
                [
                    Paragraph(_esc(ct.ladder), styles["cell"]),
                    Paragraph(str(ct.rank), styles["cell"]),
                    Paragraph(_esc(ct.name), styles["cell"]),
                    Paragraph(channels, styles["cell"]),
                ]
            )
        story.append(_table(rows, [0.25 * width, 0.05 * width, 0.25 * width, 0.45 * width]))
    else:
        story.append(Paragraph("No contacts on record.", styles["body"]))
    for note in packet.notes:
        story.append(Paragraph(_esc(note), styles["body"]))

    def furniture(c: Canvas, d: Any) -> None:
        c.saveState()
        c.setFont("Helvetica", 7)
        c.setFillColor(colors.Color(0.25, 0.25, 0.25))
        c.drawString(margin, margin, f"Ledger head {packet.ledger_seq} {packet.ledger_hash}")
        c.drawString(
            margin, margin - 9, f"Generated {packet.generated_at} for {packet.party} · situation at {packet.at}"
        )
        c.drawRightString(page_w - margin, margin - 9, f"Page {d.page}")
        if packet.exercise:
            c.setFillColor(colors.Color(*(v / 255 for v in CONFLICT_RED)))
            c.setFont("Helvetica-Bold", 11)
            text = f"{packet.exercise} · {packet.exercise} · {packet.exercise}"
            c.drawCentredString(page_w / 2, page_h - margin + 2, text)
            c.drawCentredString(page_w / 2, margin - 22, text)
        c.restoreState()

    doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return out.getvalue()


def _zone_of(area: tuple[float, float, float, float]) -> str:
    lon = (area[0] + area[2]) / 2
    lat = (area[1] + area[3]) / 2
    return f"{min(int((lon + 180) // 6) + 1, 60)}{'N' if lat >= 0 else 'S'}"
