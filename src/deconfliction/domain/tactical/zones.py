"""Which tracks are predicted to enter another party's zone, or a protected site's radius, within the
look-ahead. A pure function over plain inputs, so that zones and sites can be wired in from wherever
they are stored.

* A **zone** is a polygon (lon/lat rings, the first the exterior, the others holes; edges are geodesics, as
  everywhere in the service) with an owner. A track of another party enters it when its extrapolated
  path (the geodesic along its track, ``tactical.motion``) is inside the polygon at some time in
  [0, T]; the entry time is the first such time (0 when already inside).
* A **site** is a point with a radius (metres; add the stated coordinate accuracy before calling) and an
  owner. A track of another party enters it when its geodesic distance to the point falls below the
  radius within [0, T].

Method. Zones: the track's path is a straight radial segment in the ellipsoidal azimuthal equidistant
frame centred on the track's position (radial lines from the centre are geodesics, and radial distance
is geodesic distance, exactly); the polygon's geodesic edges are densified every 1 km and projected into
that frame, where a 1 km chord leaves its projected geodesic by under 1 mm within 300 km of the centre.
GEOS intersects the segment with the polygon; the entry time is the distance along the segment to the
first point inside, divided by the ground speed. Sites: the distance from the site to the path is
minimised by golden section on GeographicLib geodesics (the distance from a point to a geodesic arc
shorter than 1,000 km has one minimum), and the entry found by bisection before it.
``tests/tactical/test_zones.py`` checks both against a sampling oracle (PROJ's aeqd, 50 m edges).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod

from deconfliction.domain.geo import FloatArray, densify_geodesic, haversine_m, unwrap_longitudes

_GEOD = Geod(ellps="WGS84")
EDGE_M = 1_000.0
ENTRY_TIME_TOL_S = 1e-3


@dataclass(frozen=True)
class TrackState:
    """A track as the prediction needs it: its party, newest report and report time (seconds)."""

    key: tuple[str, str]
    lat: float
    lon: float
    ground_speed_mps: float
    track_deg: float
    t: float

    @property
    def party(self) -> str:
        return self.key[0]


@dataclass(frozen=True)
class Zone:
    id: str
    owner: str
    rings: tuple[tuple[tuple[float, float], ...], ...]
    """Exterior ring then holes, each a closed sequence of (lon, lat)."""
    kind: str = "zone"
    """``zone`` (a zone of responsibility) or ``band`` (a deconfliction line's band, one per side's party)."""


@dataclass(frozen=True)
class Site:
    id: str
    owner: str
    lon: float
    lat: float
    radius_m: float


@dataclass(frozen=True)
class Entry:
    """Track ``track`` (an index into the tracks given) enters ``target`` (``kind`` zone or site) after
    ``t_s`` seconds at (lon, lat); ``inside_now`` when it is already inside at the prediction's time."""

    track: int
    kind: str
    target: str
    owner: str
    t_s: float
    inside_now: bool
    lon: float
    lat: float


def _advance(tr: TrackState, t0: float) -> tuple[float, float, float]:
    """Position at t0 and the track's azimuth there."""
    dist = tr.ground_speed_mps * (t0 - tr.t)
    az = tr.track_deg if dist >= 0 else tr.track_deg + 180.0
    lon, lat, back = _GEOD.fwd(tr.lon, tr.lat, az, abs(dist))
    heading = (back + 180.0) % 360.0 if dist >= 0 else back % 360.0
    return float(lon), float(lat), float(heading)


def _project(lon0: float, lat0: float, lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
    n = lons.size
    az, _, dist = _GEOD.inv(np.full(n, lon0), np.full(n, lat0), lons, lats)
    a = np.radians(np.asarray(az, dtype=np.float64))
    d = np.asarray(dist, dtype=np.float64)
    return d * np.sin(a), d * np.cos(a)


def _zone_in_frame(zone: Zone, lon0: float, lat0: float) -> shapely.Polygon:
    rings = []
    for ring in zone.rings:
        lons = unwrap_longitudes(np.array([p[0] for p in ring], dtype=np.float64))
        lats = np.array([p[1] for p in ring], dtype=np.float64)
        dl, dt, _ = densify_geodesic(lons, lats, EDGE_M)
        x, y = _project(lon0, lat0, dl, dt)
        rings.append(np.column_stack((x, y)))
    return shapely.Polygon(rings[0], rings[1:])


def _cap(zone: Zone) -> tuple[float, float, float]:
    """A spherical cap (centre lon, lat; radius in metres) holding the zone: the mean direction of its
    exterior ring's vertices and the farthest vertex, grown by 1 % and 1 km (the ellipsoid against the
    sphere; a geodesic edge between two points of a cap smaller than a hemisphere stays in it). Infinite
    for a ring too wide to bound this way."""
    ring = zone.rings[0]
    lon = np.radians(np.array([p[0] for p in ring], dtype=np.float64))
    lat = np.radians(np.array([p[1] for p in ring], dtype=np.float64))
    v = np.array([(np.cos(lat) * np.cos(lon)).sum(), (np.cos(lat) * np.sin(lon)).sum(), np.sin(lat).sum()])
    norm = float(np.linalg.norm(v))
    if norm < 1e-9:
        return 0.0, 0.0, math.inf
    c_lat = math.degrees(math.asin(max(-1.0, min(1.0, float(v[2]) / norm))))
    c_lon = math.degrees(math.atan2(float(v[1]), float(v[0])))
    radius = max(haversine_m(c_lon, c_lat, p[0], p[1]) for p in ring)
    if radius > 5_000_000.0:
        return c_lon, c_lat, math.inf
    return c_lon, c_lat, radius * 1.01 + 1_000.0


def _zone_entries(tracks: Sequence[TrackState], zones: Sequence[Zone], t0: float, horizon_s: float) -> list[Entry]:
    out: list[Entry] = []
    caps = [_cap(z) for z in zones]
    for k, tr in enumerate(tracks):
        lon0, lat0, heading = _advance(tr, t0)
        reach = tr.ground_speed_mps * horizon_s
        a = math.radians(heading)
        path = shapely.LineString([(0.0, 0.0), (reach * math.sin(a), reach * math.cos(a))])
        origin = shapely.Point(0.0, 0.0)
        for zone, (c_lon, c_lat, cap_m) in zip(zones, caps, strict=True):
            if zone.owner == tr.party:
                continue
            if haversine_m(lon0, lat0, c_lon, c_lat) - cap_m > reach + 1.0:  # cannot reach the zone: skip it
                continue
            poly = _zone_in_frame(zone, lon0, lat0)
            if poly.distance(origin) > reach + 1.0:
                continue
            if poly.covers(origin):
                out.append(Entry(k, zone.kind, zone.id, zone.owner, 0.0, True, lon0, lat0))
                continue
            hit = path.intersection(poly)
            if hit.is_empty or tr.ground_speed_mps <= 0.0:
                continue
            # the first point of the path inside the polygon is the nearest vertex of the intersection
            first = float(shapely.line_locate_point(path, shapely.points(shapely.get_coordinates(hit))).min())
            lon, lat, _ = _GEOD.fwd(lon0, lat0, heading, first)
            out.append(
                Entry(k, zone.kind, zone.id, zone.owner, first / tr.ground_speed_mps, False, float(lon), float(lat))
            )
    return out


def _first_within(lon0: float, lat0: float, heading: float, v: float, site: Site, horizon_s: float) -> float | None:
    """The first time in [0, horizon] at which the path is within the site's radius, or None."""

    def dist(t: float) -> float:
        lon, lat, _ = _GEOD.fwd(lon0, lat0, heading, v * t)
        return float(_GEOD.inv(lon, lat, site.lon, site.lat)[2])

    if dist(0.0) < site.radius_m:
        return 0.0
    if v <= 0.0 or dist(0.0) - v * horizon_s >= site.radius_m:
        return None
    # the smallest distance along the path (golden section), then the entry before it (bisection)
    lo, hi = 0.0, horizon_s
    r = (math.sqrt(5.0) - 1.0) / 2.0
    c, e = hi - r * (hi - lo), lo + r * (hi - lo)
    fc, fe = dist(c), dist(e)
    while hi - lo > ENTRY_TIME_TOL_S:
        if fc < fe:
            hi, e, fe = e, c, fc
            c = hi - r * (hi - lo)
            fc = dist(c)
        else:
            lo, c, fc = c, e, fe
            e = lo + r * (hi - lo)
            fe = dist(e)
    t_min = min((0.5 * (lo + hi), horizon_s), key=dist)
    if dist(t_min) >= site.radius_m:
        return None
    a, b = 0.0, t_min
    while b - a > ENTRY_TIME_TOL_S:
        mid = 0.5 * (a + b)
        if dist(mid) < site.radius_m:
            b = mid
        else:
            a = mid
    return b


def _site_entries(tracks: Sequence[TrackState], sites: Sequence[Site], t0: float, horizon_s: float) -> list[Entry]:
    out: list[Entry] = []
    for k, tr in enumerate(tracks):
        lon0, lat0, heading = _advance(tr, t0)
        for site in sites:
            if site.owner == tr.party:
                continue
            t = _first_within(lon0, lat0, heading, tr.ground_speed_mps, site, horizon_s)
            if t is None:
                continue
            lon, lat, _ = _GEOD.fwd(lon0, lat0, heading, tr.ground_speed_mps * t)
            out.append(Entry(k, "site", site.id, site.owner, t, t == 0.0, float(lon), float(lat)))
    return out


def predict_entries(
    tracks: Sequence[TrackState],
    zones: Sequence[Zone],
    sites: Sequence[Site],
    t0: float,
    horizon_s: float,
) -> list[Entry]:
    """Every (track, zone) and (track, site) entry within ``horizon_s`` after ``t0``, for tracks of
    another party than the zone's or site's owner."""
    return _zone_entries(tracks, zones, t0, horizon_s) + _site_entries(tracks, sites, t0, horizon_s)
