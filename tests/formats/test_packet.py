"""The packet's layout (formats/packet.py) and its basemap (service/packet.py's reading of the web map's
vendor files): drawn whatever basemap files are installed, their names on the paper, read back with
poppler."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from deconfliction.formats.packet import ConflictRow, ContactRow, MapShape, Packet, covering_lons, render_packet
from deconfliction.service.packet import basemap_around
from tests import pdf
from tests.conftest import square

AREA = (39.9, 35.0, 40.5, 35.6)


def _collection(*features: tuple[dict[str, Any], str | None]) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": g, "properties": {"name": n}} for g, n in features],
        }
    )


@pytest.fixture
def vendor(tmp_path: Path) -> Path:
    (tmp_path / "countries.geojson").write_text(
        _collection((square(35.0, 32.0, 8.0), "Syria"), (square(-80.0, 30.0, 5.0), "Far away"))
    )
    return tmp_path


def _packet(basemap: Any, source: str, **kw: Any) -> Packet:
    return Packet(
        party="North Force",
        role="party",
        at="2026-11-23T08:30:00Z",
        generated_at="2026-11-23T07:00:00Z",
        ledger_seq=7,
        ledger_hash="ab" * 32,
        shapes=[MapShape("operation", square(40.1, 35.2, 0.1), "Dawn patrol", (31, 119, 180))],
        basemap=basemap,
        area=AREA,
        basemap_source=source,
        conflicts=[
            ConflictRow(
                "C1", "2026-11-23 08:00Z – 10:00Z", "in force", "Dawn patrol", "East", "air-air", "-", "open", "you: no"
            )
        ],
        contacts=[ContactRow("North Force (watch desk)", 1, "Duty officer", {"radio": "NORTH OPS ch 7"})],
        **kw,
    )


def test_without_basemap_files_only_the_borders_near_the_area(vendor: Path) -> None:
    features, source = basemap_around(AREA, vendor)
    assert [f.name for f in features] == ["Syria"] and source == "Basemap: Natural Earth borders."
    said = pdf.words(render_packet(_packet(features, source)))
    assert "Basemap: Natural Earth borders." in said and "Dawn patrol" in said and "NORTH OPS ch 7" in said


def test_installed_basemap_files_are_drawn_with_their_names(vendor: Path, request: pytest.FixtureRequest) -> None:
    folder = vendor / "basemap"
    folder.mkdir()
    river = {"type": "LineString", "coordinates": [[39.8, 35.7], [40.2, 35.3], [40.6, 34.9]]}
    (folder / "rivers.geojson").write_text(_collection((river, "Euphrates")))
    (folder / "lakes.geojson").write_text(_collection((square(40.35, 35.45, 0.05), "Lake Assad")))
    town = {"type": "Point", "coordinates": [40.14, 35.33]}
    (folder / "places.geojson").write_text(
        _collection((town, "Deir ez-Zor"), ({"type": "Point", "coordinates": [10, 10]}, "Far"))
    )
    (folder / "broken.geojson").write_text("{ not json")
    features, source = basemap_around(AREA, vendor)
    assert {(f.layer, f.name) for f in features} == {
        ("countries", "Syria"),
        ("rivers", "Euphrates"),
        ("lakes", "Lake Assad"),
        ("places", "Deir ez-Zor"),
    }
    assert source == "Basemap: Natural Earth borders, lakes, places, rivers."
    body = render_packet(_packet(features, source))
    said = pdf.words(body)
    assert "Deir ez-Zor" in said and "Euphrates" in said and source in said
    pdf.render(body, request.node.name)


def test_no_basemap_installed_is_said(tmp_path: Path) -> None:
    assert basemap_around(AREA, tmp_path) == ([], "Basemap: not installed (make web).")


def test_a_packet_without_an_area_has_no_map_but_everything_else() -> None:
    said = pdf.words(render_packet(replace(_packet([], ""), area=None, exercise="EXERCISE")))
    assert "No map" in said and "Open conflicts (1)" in said and "Ledger head 7 " + "ab" * 32 in said
    assert said.count("EXERCISE") >= 4


@pytest.mark.parametrize("area", [(-170.0, -60.0, 170.0, 70.0), (10.0, 80.0, 30.0, 85.0), (-179.9, -85.0, 179.9, 85.0)])
def test_a_world_wide_or_polar_area_is_cut_to_a_theatre_around_its_middle(
    vendor: Path, area: tuple[float, float, float, float]
) -> None:
    """The UTM grid holds at theatre scale: a wider area (a coordinator's cell on several continents) or
    one beyond UTM's latitudes is drawn around its middle, and the paper says so."""
    features, source = basemap_around(area, vendor)
    said = pdf.words(render_packet(replace(_packet(features, source), area=area)))
    assert "The map shows the middle of a wider area" in said and "Open conflicts (1)" in said


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([(10.0, 12.0), (11.0, 14.0)], (10.0, 14.0)),  # one side of the earth: as it is
        ([(179.5, 180.0), (-180.0, -179.6)], (179.5, 180.4)),  # split at 180: east past 180
        ([(170.0, 175.0), (-175.0, -170.0)], (170.0, 190.0)),  # the Pacific: across 180 is shorter
        ([(-10.0, -5.0), (5.0, 10.0)], (-10.0, 10.0)),  # across 0: as it is
        ([(-170.0, 170.0)], (-170.0, 170.0)),  # one span is kept whole
        ([(-180.0, 0.0), (0.0, 180.0)], (-180.0, 180.0)),  # the whole earth: as it is
        ([], None),
    ],
)
def test_the_longitudes_a_map_covers_take_the_short_way_round(
    spans: list[tuple[float, float]], expected: tuple[float, float] | None
) -> None:
    assert covering_lons(spans) == (pytest.approx(expected) if expected else None)
