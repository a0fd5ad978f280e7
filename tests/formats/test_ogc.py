"""The pure half of /ogc (formats/ogc.py): bbox and datetime parsing, which features a query selects (a
window is half-open, the query's interval closed), and the extent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import shapely

from deconfliction.domain.footprint import CircleFootprint, CorridorFootprint
from deconfliction.errors import InvalidQuery
from deconfliction.formats.ogc import (
    GisFeature,
    ItemsQuery,
    drawn,
    extent,
    footprint_numbers,
    parse_bbox,
    parse_datetime,
    parse_items_query,
)

T = datetime(2026, 11, 23, 8, tzinfo=UTC)


def feature(start: datetime | None, end: datetime | None, lon: float = 10.0) -> GisFeature:
    return GisFeature("f", shapely.box(lon, 0, lon + 1, 1), {}, start, end)


def query(text: str) -> ItemsQuery:
    start, end = parse_datetime(text)
    return ItemsQuery(start=start, end=end, timed=True)


def at(h: float) -> str:
    return (T + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_bbox_across_the_antimeridian_is_two_boxes() -> None:
    assert parse_bbox("170,-10,-170,10") == ((170.0, -10.0, 180.0, 10.0), (-180.0, -10.0, -170.0, 10.0))
    assert parse_bbox("1,2,3,4") == ((1.0, 2.0, 3.0, 4.0),)
    east, west = feature(None, None, 175.0), feature(None, None, -178.0)
    q = ItemsQuery(boxes=parse_bbox("170,-10,-170,10"))
    assert q.selects(east) and q.selects(west) and not q.selects(feature(None, None, 0.0))


@pytest.mark.parametrize("raw", ["1,2,3", "1,2,3,4,5,6", "a,b,c,d", "1,2,3,nan", "1,95,3,96", "1,4,3,2", "200,0,210,1"])
def test_a_bad_bbox_is_refused_by_name(raw: str) -> None:
    with pytest.raises(InvalidQuery) as e:
        parse_bbox(raw)
    assert (e.value.status, e.value.errors[0].field) == (400, "bbox")


def test_a_window_is_half_open_and_the_query_closed() -> None:
    window = feature(T, T + timedelta(hours=2))  # [8:00, 10:00)
    assert query(at(0)).selects(window)
    assert not query(at(2)).selects(window)
    assert query(f"{at(2)}/{at(3)}").selects(window) is False
    assert query(f"{at(-1)}/{at(0)}").selects(window)  # the query's end is in it
    assert query(f"../{at(0)}").selects(window)
    assert not query(f"../{at(-0.5)}").selects(window)
    assert query(f"{at(1.9)}/..").selects(window)
    instant = feature(T, T)  # a zero-length window is its instant
    assert query(at(0)).selects(instant)
    assert query(f"{at(0)}/..").selects(instant)
    assert not query(f"{at(0.1)}/..").selects(instant)
    assert query(at(-100)).selects(feature(None, None))  # no time: always


@pytest.mark.parametrize("raw", ["yesterday", "../..", "2026-11-23T08:00:00", f"{at(1)}/{at(0)}", "/"])
def test_a_bad_datetime_is_refused_by_name(raw: str) -> None:
    with pytest.raises(InvalidQuery) as e:
        parse_datetime(raw)
    assert e.value.errors[0].field == "datetime"


def test_limit_is_capped_and_unknown_parameters_refused() -> None:
    assert parse_items_query({}, default_limit=100, max_limit=500).limit == 100
    assert parse_items_query({"limit": "9999"}, default_limit=100, max_limit=500).limit == 500
    for params, name in (({"limit": "0"}, "limit"), ({"offset": "-1"}, "offset"), ({"sortby": "id"}, "sortby")):
        with pytest.raises(InvalidQuery) as e:
            parse_items_query(params, default_limit=100, max_limit=500)
        assert e.value.errors[0].field == name


def test_the_extent_covers_every_feature_and_is_open_where_one_has_no_time() -> None:
    assert extent([]) == {}
    timed = [feature(T, T + timedelta(hours=1), 0.0), feature(T + timedelta(hours=3), T + timedelta(hours=4), 5.0)]
    box = extent(timed)["extent"]
    assert box["spatial"]["bbox"] == [[0.0, 0.0, 6.0, 1.0]]
    assert box["temporal"]["interval"] == [[at(0), at(4)]]
    assert extent([*timed, feature(None, None)])["extent"]["temporal"]["interval"] == [[None, None]]


@pytest.mark.parametrize(
    "footprint",
    [CircleFootprint((179.99, 0.0), 5000.0), CorridorFootprint(((179.9, 0.0), (-179.9, 0.0)), 3000.0)],
    ids=["circle", "corridor"],
)
def test_an_area_across_the_antimeridian_is_cut_there_and_found_on_both_sides(
    footprint: CircleFootprint | CorridorFootprint,
) -> None:
    shape = drawn(footprint)
    lon0, _, lon1, _ = shape.bounds
    assert shape.geom_type == "MultiPolygon" and lon0 >= -180 and lon1 <= 180
    assert all(p.bounds[2] - p.bounds[0] < 0.2 for p in shape.geoms)  # no band around the globe
    f = GisFeature("f", shape, {})
    for box in ("179.95,-0.01,180,0.01", "-180,-0.01,-179.95,0.01", "179.9,-1,-179.9,1"):
        assert ItemsQuery(boxes=parse_bbox(box)).selects(f), box
    assert not ItemsQuery(boxes=parse_bbox("0,-1,1,1")).selects(f)


def test_an_operation_keeps_its_radius_or_half_width_when_all_its_volumes_share_it() -> None:
    def numbers(*footprints: CircleFootprint | CorridorFootprint) -> tuple[Any, ...]:
        got = footprint_numbers(list(footprints))
        return got["footprint"], got["radius_m"], got["half_width_m"]

    c500, c700 = CircleFootprint((0.0, 0.0), 500.0), CircleFootprint((1.0, 0.0), 700.0)
    corridor = CorridorFootprint(((0.0, 0.0), (1.0, 0.0)), 250.0)
    assert numbers(c500) == ("circle", 500.0, None)
    assert numbers(c500, CircleFootprint((2.0, 0.0), 500.0)) == ("circle", 500.0, None)
    assert numbers(c500, c700) == ("circle", None, None)
    assert numbers(corridor) == ("corridor", None, 250.0)
    assert numbers(c500, corridor) == ("mixed", None, None)
