"""A conflict's region is converted to GeoJSON once per record, and every view shows that same GeoJSON."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import shapely

from deconfliction.domain.conflict import Conflict, ConflictState, Encounter
from deconfliction.domain.geojson import to_geojson
from deconfliction.domain.policy import SeparationRule
from deconfliction.domain.volume import AltitudeBand, TimeWindow
from deconfliction.service.views import conflict_side, conflict_side_view, coordinator_view

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)


def _conflict(draws: list[int]) -> Conflict:
    def draw(poly: shapely.Polygon) -> shapely.Polygon:
        draws.append(1)
        return poly

    encounters = tuple(
        Encounter(
            0,
            k,
            0.0,
            0.0,
            0.0,
            TimeWindow(T0, T0.replace(hour=11 + k)),
            AltitudeBand(1000.0, 2000.0),
            lambda p=shapely.box(43.0 + k * 0.05, 33.0, 43.1 + k * 0.05, 33.1): draw(p),
            (43.0, 33.0),
            (43.0, 33.0),
        )
        for k in range(2)
    )
    rule = SeparationRule("air-air", 9260.0, 305.0, 0.0)
    return Conflict(
        "cf1", "operation", ConflictState.OPEN, 1, "op1", "pa", "op2", "pb", "ta", "tb", rule, encounters, T0, T0
    )


def test_each_region_is_drawn_and_converted_once_and_views_are_unchanged() -> None:
    draws: list[int] = []
    c = _conflict(draws)
    names = {"pa": "A", "pb": "B"}
    view_a = conflict_side_view(c, "pa", names)
    view_b = conflict_side_view(c, "pb", names)
    assert len(draws) == 2  # one drawing per encounter, whatever the number of views
    # what is shown is what to_geojson of the region gives, on both sides and for the coordinator
    assert view_a["region"] == view_b["region"] == to_geojson(c.region)
    # the views share the record's one conversion (their own dict around the same coordinates)
    coordinates = c.region_geojson["coordinates"]
    assert conflict_side(c, "pa", names).region["coordinates"] is coordinates
    assert conflict_side(c, "pb", names).region["coordinates"] is coordinates
    assert len(draws) == 2
    for k, e in enumerate(c.encounters):
        assert view_a["encounters"][k]["region"] == view_b["encounters"][k]["region"] == to_geojson(e.region)
    both = coordinator_view(view_a, view_b)
    assert both.region == to_geojson(c.region)
    assert [e.region for e in both.encounters] == [to_geojson(e.region) for e in c.encounters]
    # a new version of the record (another state) is a new object and converts its own region
    resolved = replace(c, state=ConflictState.RESOLVED, version=2)
    assert conflict_side_view(resolved, "pa", names)["region"] == view_a["region"]
