"""Geodesy primitives on the WGS84 ellipsoid, vectorised with NumPy.

Conventions used everywhere in the service:

* coordinates are (longitude, latitude) in degrees, GeoJSON order;
* a polygon edge between two vertices is the **geodesic** on the WGS84 ellipsoid (as in ASTM F3548 and
  S2-based services), never the straight line in longitude/latitude;
* a ring that crosses the antimeridian is *unwrapped*: consecutive longitudes never jump by more than
  180 degrees, so a ring may carry longitudes beyond +/-180.

Two local frames are offered; both are azimuthal equidistant (AEQD) projections centred on a point:

``EllipsoidalFrame``
    The ellipsoidal AEQD (GeographicLib geodesics, as in PROJ's ``aeqd``). Distances from the centre
    are exact geodesic distances. For two points within ``rho`` of the centre, the planar distance
    ``d'`` relates to the geodesic distance ``d`` by ``d <= d' <= d * (1 + rho**2 / (6 R**2))``
    (checked against GeographicLib in the test suite; at ``rho`` = 100 km the excess is 4e-5, 0.8 m
    on 20 km). This is the frame of the exact answer.

``SphericalFrame``
    The same projection on the mean sphere, in closed form with NumPy: 50-100 times faster than PROJ
    per point, and within ``SCREEN_REL_ERROR + (rho/R)**2 / 5`` of the geodesic distance. It is only
    ever used to *discard* pairs that are certainly far apart (screening), never to report a distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import Geod

FloatArray = npt.NDArray[np.float64]

MEAN_RADIUS_M = 6_371_008.8
"""IUGG mean Earth radius, the sphere of ``SphericalFrame``."""

SCREEN_REL_ERROR = 0.01
"""Relative error of the spherical frame against WGS84 geodesics at the centre (measured below 0.5 %)."""

MAX_EDGE_M = 10_000.0
"""Geodesic edges are densified to at most this length before projection: the chord then departs from
the projected geodesic by less than 0.05 m within 200 km of a frame's centre."""

_WGS84 = Geod(ellps="WGS84")


def unwrap_longitudes(lons: FloatArray) -> FloatArray:
    """Make a sequence of longitudes continuous: each step is the short way round (|step| <= 180)."""
    if lons.size < 2 or float(lons.max()) - float(lons.min()) < 180.0:
        return lons.astype(np.float64, copy=True)  # no step can be the long way round
    steps = np.diff(lons)
    # Shift every longitude by a whole number of turns rather than rebuilding it as a running sum of
    # steps: the running sum drifts by rounding, so a closed ring crossing the antimeridian would no
    # longer end exactly on its first value (GEOS then sees a sliver and calls the ring self-intersecting).
    turns = np.round(((steps + 180.0) % 360.0 - 180.0 - steps) / 360.0)
    out = lons.astype(np.float64, copy=True)
    out[1:] += 360.0 * np.cumsum(turns)
    return out


def wrap_longitude(lon: float) -> float:
    """The same meridian in [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0


def geodesic_distance(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    """Geodesic distance(s) in metres on WGS84 (GeographicLib through PROJ)."""
    _, _, dist = _WGS84.inv(lon1, lat1, lon2, lat2)
    return dist


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance on the mean sphere (within 0.5 % of the geodesic): for bounds, not answers."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2.0) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2.0) ** 2
    return 2.0 * MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def geodesic_forward(lon: Any, lat: Any, azimuth_deg: Any, distance_m: Any) -> tuple[Any, Any]:
    """The point(s) reached from (lon, lat) along ``azimuth_deg`` after ``distance_m``."""
    lon2, lat2, _ = _WGS84.fwd(lon, lat, azimuth_deg, distance_m)
    return lon2, lat2


def geodesic_area_m2(lons: FloatArray, lats: FloatArray) -> float:
    """Unsigned area of one ring with geodesic edges, in square metres."""
    area, _ = _WGS84.polygon_area_perimeter(lons, lats)
    return abs(float(area))


def densify_geodesic(
    lons: FloatArray, lats: FloatArray, max_edge_m: float = MAX_EDGE_M
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
    """Insert points along each geodesic edge so that no piece is longer than ``max_edge_m``.

    Returns the new longitudes (unwrapped, continuous with the input) and latitudes, and for every output
    point the index of the input edge it belongs to (so errors found on the dense ring can name the edge
    the user typed); the last point, which only ends the last edge, gets the index ``n - 1``. Input and
    output are open or closed alike: the last point is kept as given.
    """
    n = lons.size
    if n < 2:
        return lons.copy(), lats.copy(), np.zeros(n, dtype=np.int64)
    lat_lo, lat_hi = float(lats.min()), float(lats.max())
    if (
        haversine_m(float(lons.min()), lat_lo, float(lons.max()), lat_hi) * 1.01 < max_edge_m
        and max(abs(lat_lo), abs(lat_hi)) < 89.0
    ):
        # no edge can be longer than the box's diagonal: nothing to insert
        return lons.copy(), lats.copy(), np.arange(n, dtype=np.int64)
    az, _, dist = _WGS84.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    az = np.asarray(az, dtype=np.float64)
    dist = np.asarray(dist, dtype=np.float64)
    pieces = np.maximum(1, np.ceil(dist / max_edge_m)).astype(np.int64)
    total = int(pieces.sum()) + 1
    edge_of = np.repeat(np.arange(n - 1, dtype=np.int64), pieces)
    # fraction along each edge for every generated point
    starts = np.concatenate(([0], np.cumsum(pieces)[:-1]))
    step_in_edge = np.arange(total - 1, dtype=np.int64) - np.repeat(starts, pieces)
    frac = step_in_edge / np.repeat(pieces, pieces)
    out_lon = np.empty(total, dtype=np.float64)
    out_lat = np.empty(total, dtype=np.float64)
    needs = step_in_edge > 0
    out_lon[:-1] = lons[edge_of]
    out_lat[:-1] = lats[edge_of]
    if needs.any():
        e = edge_of[needs]
        flon, flat, _ = _WGS84.fwd(lons[e], lats[e], az[e], dist[e] * frac[needs])
        # the forward solution wraps longitudes to [-180, 180]: bring each back next to its edge start
        out_lon[:-1][needs] = lons[e] + (np.asarray(flon) - lons[e] + 180.0) % 360.0 - 180.0
        out_lat[:-1][needs] = flat
    out_lon[-1] = lons[-1]
    out_lat[-1] = lats[-1]
    return out_lon, out_lat, np.concatenate((edge_of, [n - 1]))


@dataclass(frozen=True)
class SphericalFrame:
    """AEQD on the mean sphere centred at (lon0, lat0); closed-form, for screening only."""

    lon0: float
    lat0: float
    _sin0: float = field(init=False, repr=False)
    _cos0: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        p0 = math.radians(self.lat0)
        object.__setattr__(self, "_sin0", math.sin(p0))
        object.__setattr__(self, "_cos0", math.cos(p0))

    def forward(self, lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
        p = np.radians(lats)
        dl = np.radians(lons - self.lon0)
        cosp = np.cos(p)
        cosp_cosdl = cosp * np.cos(dl)
        xs = cosp * np.sin(dl)
        ys = self._cos0 * np.sin(p) - self._sin0 * cosp_cosdl
        sinc = np.hypot(xs, ys)
        # central angle from its sine and cosine: accurate at every distance
        c = np.arctan2(sinc, self._sin0 * np.sin(p) + self._cos0 * cosp_cosdl)
        k = np.divide(c, sinc, out=np.ones_like(c), where=sinc > 0.0)
        k *= MEAN_RADIUS_M
        return k * xs, k * ys

    def inverse(self, xs: FloatArray, ys: FloatArray) -> tuple[FloatArray, FloatArray]:
        rho = np.hypot(xs, ys)
        c = rho / MEAN_RADIUS_M
        sinc, cosc = np.sin(c), np.cos(c)
        safe = np.where(rho == 0.0, 1.0, rho)
        lat = np.arcsin(np.clip(cosc * self._sin0 + ys * sinc * self._cos0 / safe, -1.0, 1.0))
        lon = np.arctan2(xs * sinc, rho * self._cos0 * cosc - ys * self._sin0 * sinc)
        lat = np.where(rho == 0.0, math.radians(self.lat0), lat)
        lon = np.where(rho == 0.0, 0.0, lon)
        return self.lon0 + np.degrees(lon), np.degrees(lat)

    @staticmethod
    def relative_error(rho_m: float) -> float:
        """Upper bound of |planar/geodesic - 1| for two points within ``rho_m`` of the centre."""
        return SCREEN_REL_ERROR + (rho_m / MEAN_RADIUS_M) ** 2 / 5.0


class EllipsoidalFrame:
    """The ellipsoidal AEQD centred at (lon0, lat0): the frame in which exact answers are computed.

    A point's planar position is its geodesic distance from the centre along its azimuth, computed by
    GeographicLib (the algorithm PROJ's own ``aeqd`` uses), so building a frame costs nothing and the
    projection is exact to GeographicLib's nanometres."""

    __slots__ = ("_lat0", "_lon0", "lat0", "lon0")

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0 = wrap_longitude(lon0)
        self.lat0 = lat0

    def forward(self, lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
        n = np.shape(lons)[0]
        az, _, dist = _WGS84.inv(np.full(n, self.lon0), np.full(n, self.lat0), lons, lats)
        a = np.radians(np.asarray(az, dtype=np.float64))
        d = np.asarray(dist, dtype=np.float64)
        return d * np.sin(a), d * np.cos(a)

    def inverse(self, xs: FloatArray, ys: FloatArray) -> tuple[FloatArray, FloatArray]:
        n = np.shape(xs)[0]
        az = np.degrees(np.arctan2(xs, ys))
        lon, lat, _ = _WGS84.fwd(np.full(n, self.lon0), np.full(n, self.lat0), az, np.hypot(xs, ys))
        lon = np.asarray(lon, dtype=np.float64)
        # back near the centre's meridian, so results stay continuous with the inputs
        lon = self.lon0 + (lon - self.lon0 + 180.0) % 360.0 - 180.0
        return lon, np.asarray(lat, dtype=np.float64)

    @staticmethod
    def excess(rho_m: float) -> float:
        """Upper bound of planar/geodesic - 1 for two points within ``rho_m`` of the centre."""
        return (rho_m / MEAN_RADIUS_M) ** 2 / 6.0 * 1.02
