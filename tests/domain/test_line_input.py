"""Line input at its edges (domain/line.py): ``parse_line`` on every refusal with its field and message,
the vertex limit and the pole margin on both sides; the band's parties; a crossing of the equator by a
meridian (both geodesics, so the crossing is known exactly)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from deconfliction.domain.limits import Limits
from deconfliction.domain.line import OUTLINE_EDGE_M, SNAP_M, geodesic_crossing, parse_line
from deconfliction.errors import InvalidInput

L = Limits()


def test_constants() -> None:
    assert (SNAP_M, OUTLINE_EDGE_M) == (1e-6, 200.0)


def refusal(raw: Any, limits: Limits = L) -> tuple[str, str, str]:
    with pytest.raises(InvalidInput) as e:
        parse_line(raw, limits, field="line")
    ((field, code, message),) = [(f.field, f.code, f.message) for f in e.value.errors]
    return field, code, message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ("line", "invalid_geojson", "a line needs at least 2 positions")),
        ([[1, 2]], ("line", "invalid_geojson", "a line needs at least 2 positions")),
        ("[[1, 2], [3, 4]]", ("line", "invalid_geojson", "a line needs at least 2 positions")),
        ([[1, 2], [3]], ("line[1]", "invalid_geojson", "a position is [longitude, latitude]")),
        ([[1, 2], [3, 4, 5, 6]], ("line[1]", "invalid_geojson", "a position is [longitude, latitude]")),
        ([[1, 2], "3,4"], ("line[1]", "invalid_geojson", "a position is [longitude, latitude]")),
        ([[1, 2], [3, math.inf]], ("line[1][1]", "invalid_geojson", "not a finite number: inf")),
        ([[1, 2], [3, 4, math.nan]], ("line[1][2]", "invalid_geojson", "not a finite number: nan")),
        ([[False, 2], [3, 4]], ("line[0][0]", "invalid_geojson", "not a finite number: False")),
        ([[1, 2], [180.5, 4]], ("line[1][0]", "out_of_range", "longitude 180.5 is outside [-180, 180]")),
        ([[-180.5, 2], [3, 4]], ("line[0][0]", "out_of_range", "longitude -180.5 is outside [-180, 180]")),
        ([[1, 2], [3, 89.01]], ("line[1][1]", "near_pole", "latitude 89.01 is within 1.0 degree of a pole")),
        ([[1, -89.01], [3, 4]], ("line[0][1]", "near_pole", "latitude -89.01 is within 1.0 degree of a pole")),
        ([[1, 2], [1, 2], [1.0, 2.0]], ("line", "degenerate_path", "the line has no length")),
    ],
)
def test_each_refusal(raw: Any, expected: tuple[str, str, str]) -> None:
    assert refusal(raw) == expected


def test_the_edges_accepted() -> None:
    assert parse_line(((-180, -89), (180, 89)), L) == ((-180.0, -89.0), (180.0, 89.0))
    assert parse_line([[1, 2], [1, 2], [1, 3]], L) == ((1.0, 2.0), (1.0, 2.0), (1.0, 3.0))
    got = parse_line([[1, 2], [3, 4]], L)
    assert all(isinstance(v, float) for p in got for v in p)


def test_the_vertex_limit_on_both_sides() -> None:
    three = Limits(max_vertices=3)
    assert len(parse_line([[0, 0], [1, 0], [2, 0]], three)) == 3
    assert refusal([[0, 0], [1, 0], [2, 0], [3, 0]], three) == (
        "line",
        "too_many_vertices",
        "4 positions; at most 3 are allowed",
    )


def test_another_pole_margin() -> None:
    assert parse_line([[0, 84.9], [1, 84.9]], Limits(pole_margin_deg=5.0))[0] == (0.0, 84.9)
    assert refusal([[0, 85.1], [1, 0]], Limits(pole_margin_deg=5.0))[1] == "near_pole"


@pytest.mark.parametrize(("lon", "guess"), [(5.0, (5.3, 0.2)), (-20.0, (-19.0, -0.5)), (179.5, (179.0, 0.1))])
def test_a_meridian_crosses_the_equator_on_it(lon: float, guess: tuple[float, float]) -> None:
    equator = ((lon - 10.0, 0.0), (lon + 0.4, 0.0))
    meridian = ((lon, -5.0), (lon, 5.0))
    got = geodesic_crossing(*equator, *meridian, guess)
    assert got[1] == pytest.approx(0.0, abs=1e-12)
    assert got[0] == pytest.approx(lon, abs=1e-11)  # 1e-11 degree is a micrometre
    back = geodesic_crossing(*meridian, *equator, guess)
    assert back[0] == pytest.approx(lon, abs=1e-11) and back[1] == pytest.approx(0.0, abs=1e-11)
