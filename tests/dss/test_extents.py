"""The DSS's footprint comparison (pure): the batched ``footprints_meeting`` answers as the comparison of
each pair by itself, in ``a``'s frame, also for footprints with exactly ``a``'s vertices (which it does not
project) and for multi-part footprints."""

from __future__ import annotations

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from deconfliction.dss.extents import _in_frame, footprints_meeting


def _pair_meets(a: BaseGeometry, b: BaseGeometry) -> bool:
    pa, pb = _in_frame(a, b)
    return bool(pa.intersects(pb))


_corner = st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02))
_size = st.floats(0.0005, 0.01)


@st.composite
def _footprint(draw: st.DrawFn, lon: float, lat: float) -> BaseGeometry:
    squares = [
        box(lon + dx, lat + dy, lon + dx + s, lat + dy + s)
        for (dx, dy), s in draw(st.lists(st.tuples(_corner, _size), min_size=1, max_size=2))
    ]
    if len(squares) == 2 and not squares[0].intersects(squares[1]):
        return MultiPolygon(squares)
    return squares[0]


@settings(max_examples=150, deadline=None)
@given(
    centre=st.sampled_from([(0.0, 0.0), (179.99, 5.0), (-179.995, -60.0), (20.0, 89.97)]),
    data=st.data(),
)
def test_batched_comparison_answers_as_each_pair(centre: tuple[float, float], data: st.DataObject) -> None:
    lon, lat = centre
    a = data.draw(_footprint(lon, lat))
    others = data.draw(st.lists(_footprint(lon, lat), max_size=6))
    copies = data.draw(st.integers(0, 2))
    # exactly a's vertices, as read back from storage (WKB), at random places in the list
    for _ in range(copies):
        others.insert(data.draw(st.integers(0, len(others))), shapely.from_wkb(shapely.to_wkb(a)))
    assert footprints_meeting(a, others) == [_pair_meets(a, b) for b in others]


def test_an_identical_footprint_meets_and_a_far_one_does_not() -> None:
    a = Polygon([(10, 10), (10.01, 10), (10.01, 10.01), (10, 10.01)])
    assert footprints_meeting(a, [shapely.from_wkb(shapely.to_wkb(a)), box(11, 11, 11.01, 11.01), a]) == [
        True,
        False,
        True,
    ]
    assert footprints_meeting(a, []) == []
