"""How a track moves between reports: straight ahead on the WGS84 ellipsoid, in Earth-centred coordinates.

A track's report gives a position, a ground speed ``v``, a true track angle ``a`` and a vertical rate ``w``.
"Straight-line extrapolation" on the Earth means the **geodesic** through the reported position with
initial azimuth ``a``, flown at constant ground speed (the aircraft's straight line; a rhumb line would
spiral into the pole), with the altitude changing linearly at ``w``.

The service computes that path in Earth-centred, Earth-fixed (ECEF) Cartesian coordinates, where the
antimeridian and the poles are ordinary points, with the **osculating circle** of the geodesic: the
circle through the reported position, tangent to the track, of radius ``1 / k`` where
``k = cos(a)^2 / M + sin(a)^2 / N`` is the normal curvature of the ellipsoid along the track (``M``, ``N``:
meridional and prime-vertical radii). Circle and geodesic share position, velocity and acceleration; the
first difference is in the third derivative, from the change of ``k`` along the path and from the
ellipsoid's geodesic torsion ``(1/M - 1/N) sin(a) cos(a)``, so they part as the cube of the path length
``s`` (``s^3 / 6 * (|dk/ds| + k |torsion|)`` with ``|dk/ds| <= 2.5e-16 / m^2`` and
``k |torsion| <= 8.4e-17 / m^2`` on WGS84). Measured against GeographicLib's direct geodesic problem
(``pyproj.Geod.fwd``) over 20,000 random latitudes (to 89.9 degrees), azimuths and lengths:
0.005 m at 50 km, 0.040 m at 100 km, 0.14 m at 150 km, 0.33 m at 200 km. ``circle_error_m`` bounds it by
``0.05 m * (s / 100 km)^3`` (``tests/tactical/test_motion.py`` checks the bound), and no path is longer
than ``MAX_PATH_M`` = 200 km.

Everything here is vectorised over tracks (NumPy arrays) and pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

WGS84_A = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
WGS84_B = WGS84_A * (1.0 - WGS84_F)

KAPPA_MAX = 1.0 / (WGS84_A * (1.0 - WGS84_E2))
"""The largest normal curvature of the WGS84 surface (along a meridian at the equator), 1 / 6,335,439 m."""

MAX_PATH_M = 200_000.0
"""The longest path (report age plus look-ahead, times ground speed) the detector extrapolates; longer
ones are refused (``TacticalPolicy`` limits look-ahead, report age and speed so they cannot occur)."""


def circle_error_m(path_m: float) -> float:
    """Bound on the distance between the osculating circle and the geodesic after ``path_m`` metres."""
    return 0.05 * (max(path_m, 0.0) / 100_000.0) ** 3 + 1e-4


@dataclass(frozen=True)
class Motion:
    """Every track's osculating circle, anchored at the position the track has at time ``t0``.

    Vectors are stored component-major, shape (3, n), so that one component of many tracks is contiguous.
    ``p``: position on the ellipsoid at ``t0`` (ECEF, m); ``tangent``: unit direction of travel there;
    ``normal``: the circle's outward unit normal there (the surface normal at the report, carried along the
    circle); ``velocity``: ``speed * tangent`` (m/s); ``kappa``: the circle's curvature (1/m); ``speed``:
    ground speed (m/s); ``alt``: altitude at ``t0`` (m); ``vrate``: vertical rate (m/s).
    """

    t0: float
    p: FloatArray
    tangent: FloatArray
    normal: FloatArray
    velocity: FloatArray
    kappa: FloatArray
    speed: FloatArray
    alt: FloatArray
    vrate: FloatArray
    age: FloatArray
    """Seconds from each report to ``t0`` (the path already flown from the report)."""

    @property
    def size(self) -> int:
        return int(self.speed.shape[0])

    def at(self, dt: FloatArray | float, rows: npt.NDArray[np.int64] | None = None) -> FloatArray:
        """ECEF positions ``dt`` seconds after ``t0`` (of ``rows``, or of every track): shape (3, m)."""
        if rows is None:
            k, v = self.kappa, self.speed
            along, drop = _circle_terms(k * v * dt, k)
            whole: FloatArray = self.p + along * self.tangent - drop * self.normal
            return whole
        k, v = self.kappa[rows], self.speed[rows]
        along, drop = _circle_terms(k * v * dt, k)
        p, t, n = self.p, self.tangent, self.normal
        out: FloatArray = np.empty((3, rows.size))
        for c in range(3):
            out[c] = p[c][rows] + along * t[c][rows] - drop * n[c][rows]
        return out

    def velocity_at(self, dt: FloatArray | float, rows: npt.NDArray[np.int64]) -> FloatArray:
        """ECEF velocities (m/s) ``dt`` seconds after ``t0``: shape (3, m)."""
        v = self.speed[rows]
        theta = self.kappa[rows] * v * dt
        out: FloatArray = (v * np.cos(theta)) * self.tangent[:, rows] - (v * np.sin(theta)) * self.normal[:, rows]
        return out

    def acceleration_at(self, dt: FloatArray | float, rows: npt.NDArray[np.int64]) -> FloatArray:
        """ECEF accelerations (m/s^2): ``-k v^2`` times the circle's outward normal at the time."""
        k, v = self.kappa[rows], self.speed[rows]
        theta = k * v * dt
        normal_t = np.sin(theta) * self.tangent[:, rows] + np.cos(theta) * self.normal[:, rows]
        out: FloatArray = -(k * v * v) * normal_t
        return out


def _circle_terms(theta: FloatArray, kappa: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``sin(theta) / k`` and ``(1 - cos(theta)) / k`` without cancellation (theta is below 0.04 rad)."""
    t2 = theta * theta
    along = theta * (1.0 - t2 / 6.0 * (1.0 - t2 / 20.0)) / kappa
    drop = theta * theta * (0.5 - t2 / 24.0 * (1.0 - t2 / 30.0)) / kappa
    return along, drop


def ecef_surface(lat_deg: FloatArray, lon_deg: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Surface point, outward normal, east and north unit vectors (each shape (3, n)) at geodetic lat/lon."""
    phi = np.radians(lat_deg)
    lam = np.radians(lon_deg)
    sp, cp = np.sin(phi), np.cos(phi)
    sl, cl = np.sin(lam), np.cos(lam)
    n_rad = WGS84_A / np.sqrt(1.0 - WGS84_E2 * sp * sp)
    p = np.stack((n_rad * cp * cl, n_rad * cp * sl, n_rad * (1.0 - WGS84_E2) * sp))
    normal = np.stack((cp * cl, cp * sl, sp))
    east = np.stack((-sl, cl, np.zeros_like(sl)))
    north = np.stack((-sp * cl, -sp * sl, cp))
    return p, normal, east, north


def normal_curvature(lat_deg: FloatArray, azimuth_deg: FloatArray) -> FloatArray:
    """Curvature (1/m) of the WGS84 surface along the azimuth (Euler: cos^2/M + sin^2/N)."""
    sp = np.sin(np.radians(lat_deg))
    w2 = 1.0 - WGS84_E2 * sp * sp
    m_rad = WGS84_A * (1.0 - WGS84_E2) / (w2 * np.sqrt(w2))
    n_rad = WGS84_A / np.sqrt(w2)
    a = np.radians(azimuth_deg)
    out: FloatArray = np.cos(a) ** 2 / m_rad + np.sin(a) ** 2 / n_rad
    return out


def motion_from_reports(
    t0: float,
    lat: FloatArray,
    lon: FloatArray,
    alt: FloatArray,
    speed: FloatArray,
    track_deg: FloatArray,
    vrate: FloatArray,
    t_report: FloatArray,
) -> Motion:
    """Each report's osculating circle, advanced from its report time to ``t0`` (an age may be negative:
    a report stamped slightly after ``t0`` is moved back along its path)."""
    p, normal, east, north = ecef_surface(lat, lon)
    a = np.radians(track_deg)
    tangent = np.sin(a) * east + np.cos(a) * north
    kappa = normal_curvature(lat, track_deg)
    speed = np.asarray(speed, dtype=np.float64)
    age = t0 - np.asarray(t_report, dtype=np.float64)
    theta = kappa * speed * age
    along, drop = _circle_terms(theta, kappa)
    c, s = np.cos(theta), np.sin(theta)
    tangent0 = c * tangent - s * normal
    return Motion(
        t0=t0,
        p=np.ascontiguousarray(p + along * tangent - drop * normal),
        tangent=np.ascontiguousarray(tangent0),
        normal=np.ascontiguousarray(s * tangent + c * normal),
        velocity=np.ascontiguousarray(speed * tangent0),
        kappa=kappa,
        speed=speed,
        alt=np.asarray(alt, dtype=np.float64) + np.asarray(vrate, dtype=np.float64) * age,
        vrate=np.asarray(vrate, dtype=np.float64),
        age=age,
    )


def geodetic_from_ecef(p: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Latitude and longitude (degrees) of ECEF points (shape (3, n)) on or near the ellipsoid (Bowring,
    one step: exact to micrometres for points within a few metres of the surface)."""
    x, y, z = p[0], p[1], p[2]
    r = np.hypot(x, y)
    ep2 = WGS84_E2 / (1.0 - WGS84_E2)
    beta = np.arctan2(z * WGS84_A, r * WGS84_B)
    phi = np.arctan2(z + ep2 * WGS84_B * np.sin(beta) ** 3, r - WGS84_E2 * WGS84_A * np.cos(beta) ** 3)
    return np.degrees(phi), np.degrees(np.arctan2(y, x))


def chord_to_geodesic(chord: FloatArray) -> FloatArray:
    """An upper bound of the geodesic length between two surface points ``chord`` apart (a curve of
    curvature at most ``KAPPA_MAX`` is at most ``chord^3 k^2 / 24`` longer than its chord, to first
    order; the factor 1.001 covers the rest below 200 km)."""
    out: FloatArray = chord * (1.0 + 1.001 * (KAPPA_MAX * chord) ** 2 / 24.0)
    return out


def norm3(v: FloatArray) -> FloatArray:
    """Lengths of component-major vectors (3, ...)."""
    out: FloatArray = np.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return out
