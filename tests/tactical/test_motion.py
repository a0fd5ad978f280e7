"""The motion model against GeographicLib: the osculating circle stays within ``circle_error_m`` of the
geodesic at every latitude (to 89.99 degrees), azimuth and path length up to 200 km; chord and geodesic
bounds; positions at a report's own time are the reported ones."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod

from deconfliction.domain.tactical.motion import (
    MAX_PATH_M,
    chord_to_geodesic,
    circle_error_m,
    ecef_surface,
    geodetic_from_ecef,
    motion_from_reports,
)

GEOD = Geod(ellps="WGS84")


def test_circle_follows_the_geodesic_within_its_bound() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    lat = rng.uniform(-89.99, 89.99, n)
    lon = rng.uniform(-180, 180, n)
    az = rng.uniform(0, 360, n)
    v = rng.uniform(20, 600, n)
    path = rng.uniform(0, MAX_PATH_M, n)
    m = motion_from_reports(0.0, lat, lon, np.zeros(n), v, az, np.zeros(n), -path / v)
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, path)
    p2, _, _, _ = ecef_surface(np.asarray(lat2), np.asarray(lon2))
    err = np.linalg.norm(m.p - p2, axis=0)
    bound = np.array([circle_error_m(x) for x in path])
    assert (err <= bound).all(), float((err - bound).max())
    # the bound is not loose by more than a factor 1.5 at its top
    top = path > 0.9 * MAX_PATH_M
    assert err[top].max() > bound[top].max() / 1.5


@given(st.floats(-89.99, 89.99), st.floats(-180, 180), st.floats(0, 360), st.floats(1.0, 30_000.0))
def test_chord_to_geodesic_is_an_upper_bound_within_a_millimetre(lat: float, lon: float, az: float, d: float) -> None:
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, d)
    p1, _, _, _ = ecef_surface(np.array([lat]), np.array([lon]))
    p2, _, _, _ = ecef_surface(np.array([lat2]), np.array([lon2]))
    chord = np.linalg.norm(p1 - p2, axis=0)
    up = float(chord_to_geodesic(chord)[0])
    assert float(chord[0]) <= d + 1e-6
    assert d <= up + 1e-6
    assert up - d < 1e-3 + 1e-8 * d


def test_positions_velocities_and_geodetic_round_trip() -> None:
    lat = np.array([0.0, 45.0, 89.999, -70.0, 10.0])
    lon = np.array([179.999, -180.0, 0.0, 33.0, -0.5])
    m = motion_from_reports(
        5.0, lat, lon, np.full(5, 100.0), np.full(5, 200.0), np.full(5, 90.0), np.full(5, 2.0), np.full(5, 5.0)
    )
    back_lat, back_lon = geodetic_from_ecef(m.p)
    assert np.allclose(back_lat, lat, atol=1e-9)
    assert np.allclose(((back_lon - lon + 180) % 360) - 180, 0.0, atol=1e-9)
    assert np.allclose(m.alt, 100.0)
    # an older report is carried forward: 10 s at 200 m/s east, 2 m/s up
    old = motion_from_reports(
        15.0, lat, lon, np.full(5, 100.0), np.full(5, 200.0), np.full(5, 90.0), np.full(5, 2.0), np.full(5, 5.0)
    )
    assert np.allclose(np.linalg.norm(old.p - m.p, axis=0), 2000.0, atol=1e-3)
    assert np.allclose(old.alt, 120.0)
    # velocity and tangent agree with a finite difference of positions
    dt = 1e-3
    fd = (m.at(dt) - m.at(0.0)) / dt
    assert np.allclose(fd, m.velocity_at(0.0, np.arange(5)), atol=1e-3)
