"""Example request bodies shown in the OpenAPI document (and sent by schemathesis's explicit phase; the
ones that need no other object are also sent in tests/api/test_contract.py, so they stay valid)."""

from __future__ import annotations

from typing import Any

SQUARE: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [[[40.0, 35.0], [40.1, 35.0], [40.1, 35.1], [40.0, 35.1], [40.0, 35.0]]],
}
WINDOW = {"start": "2030-06-01T08:00:00Z", "end": "2030-06-01T10:00:00Z"}

OPERATION: dict[str, Any] = {
    "kind": "air",
    "title": "Supply flight",
    "priority": 10,
    "volumes": [{"footprint": SQUARE, "altitude": {"lower_m": 0, "upper_m": 3000}, "window": WINDOW}],
}
MOVEMENT: dict[str, Any] = {
    "kind": "ground",
    "title": "Convoy 7",
    "movement": {
        "route": {"type": "LineString", "coordinates": [[40.0, 35.0], [40.2, 35.1]]},
        "departure": "2030-06-01T08:00:00Z",
        "speed_m_s": 12.5,
        "half_width_m": 200,
        "altitude": {"lower_m": 0, "upper_m": 50},
        "tolerance_s": 900,
    },
}
SITE: dict[str, Any] = {
    "name": "District hospital",
    "category": "hospital",
    "position": "35.336N 40.141E",
    "radius_m": 500,
    "accuracy_m": 50,
    "valid_until": "2030-12-31T00:00:00Z",
}
ZONE: dict[str, Any] = {
    "name": "East bank",
    "counterparties": ["pty_01JD0000000000000000000000"],
    "footprint": SQUARE,
    "validity": {"start": "2030-06-01T00:00:00Z", "end": "2030-07-01T00:00:00Z"},
}
LINE: dict[str, Any] = {
    "name": "River",
    "area": SQUARE,
    "line": {"type": "LineString", "coordinates": [[40.05, 34.99], [40.05, 35.11]]},
    "party_left": "pty_01JD0000000000000000000000",
    "party_right": "pty_01JD0000000000000000000001",
    "validity": {"start": "2030-06-01T00:00:00Z", "end": "2030-07-01T00:00:00Z"},
    "band_half_width_m": 1000,
}
PARTY: dict[str, Any] = {"name": "North Force", "role": "party"}
INCIDENT: dict[str, Any] = {
    "place": {"type": "Point", "coordinates": [40.05, 35.05]},
    "at": "2030-06-01T09:00:00Z",
    "description": "Shelling reported near the district hospital",
}
TRACKS: dict[str, Any] = {
    "reports": [
        {
            "id": "4CA2D1",
            "time": "2030-06-01T09:00:00Z",
            "lat": 35.05,
            "lon": 40.05,
            "altitude_m": 1500,
            "ground_speed_mps": 60,
            "track_deg": 90,
        }
    ]
}
