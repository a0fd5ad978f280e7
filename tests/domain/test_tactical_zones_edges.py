"""Entries into zones (domain/tactical/zones.py) at two edges the oracle tests do not reach: a large
zone entered at its farthest corner near the end of the look-ahead (the cap that skips unreachable zones
must hold every vertex), and a report stamped after the prediction's time (moved back along its track,
still heading the way it flies)."""

from __future__ import annotations

import pytest
from pyproj import Geod

from deconfliction.domain.tactical.zones import TrackState, Zone, predict_entries

GEOD = Geod(ellps="WGS84")
H = 1.27
SQUARE = ((-H, -H), (H, -H), (H, H), (-H, H), (-H, -H))
"""About 280 km a side: its farthest corner is about 250 km from the centre of its bounding cap."""


def test_a_large_zone_entered_at_its_farthest_corner_at_the_end_of_the_look_ahead() -> None:
    zone = Zone("z1", "owner", (SQUARE,))
    v, horizon = 200.0, 300.0
    d0 = v * horizon - 700.0  # reaches the corner 3.5 s before the look-ahead ends
    toward_centre = GEOD.inv(H, H, 0.0, 0.0)[0]
    lon, lat, back = GEOD.fwd(H, H, toward_centre + 180.0, d0)
    track = TrackState(("other", "T1"), float(lat), float(lon), v, float(back) % 360.0, 0.0)
    (entry,) = predict_entries([track], [zone], [], 0.0, horizon)
    assert entry.target == "z1" and not entry.inside_now
    assert entry.t_s == pytest.approx(d0 / v, abs=0.05)
    assert (entry.lon, entry.lat) == pytest.approx((H, H), abs=1e-6)
    # its own zone is never entered
    own = TrackState(("owner", "T1"), track.lat, track.lon, v, track.track_deg, 0.0)
    assert predict_entries([own], [zone], [], 0.0, horizon) == []


def test_a_report_stamped_after_the_prediction_is_moved_back_and_keeps_its_heading() -> None:
    """Reported 10 s after t0 at the equator, flying east at 100 m/s; a zone begins 500 m east of the
    report. At t0 the track is 1 km west of the report: it enters after 15 s."""
    east = GEOD.fwd(0.0, 0.0, 90.0, 500.0)[0]
    ring = ((east, -0.1), (east + 0.2, -0.1), (east + 0.2, 0.1), (east, 0.1), (east, -0.1))
    zone = Zone("z2", "owner", (ring,))
    track = TrackState(("other", "T2"), 0.0, 0.0, 100.0, 90.0, 10.0)
    (entry,) = predict_entries([track], [zone], [], 0.0, 60.0)
    assert entry.t_s == pytest.approx(15.0, abs=0.01)
    assert entry.lon == pytest.approx(east, abs=1e-7) and entry.lat == pytest.approx(0.0, abs=1e-7)
