"""``separation.SubjectFrame`` measures and draws exactly as ``measure`` and ``draw_region`` do.

Detection measures one subject against its candidates (all at once, ``measure_many``), and draws the
regions of its encounters, through a ``SubjectFrame`` that does the subject's share of the work once
(frame, projected core, its radius, footprint grown by the separation). The property: for any subject
and several others placed around it (meeting, nearly meeting, apart), with different limits per pair
and at every separation, the measurement (distance, closest points, cores in the frame) and the region
are the same, coordinate for coordinate, as those computed for the pair alone, in any order and when
the same pair is done twice.
"""

from __future__ import annotations

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.domain.footprint import footprint_shape
from deconfliction.domain.limits import Limits
from deconfliction.domain.separation import SubjectFrame, draw_region, measure
from tests.oracle import Spec, destination, examples, specs
from tests.shapes import parse_shape

LIMITS = Limits()


def shape_of(spec: Spec, lon: float, lat: float):  # type: ignore[no-untyped-def]
    return footprint_shape(parse_shape(spec.at(lon, lat), LIMITS))


@settings(max_examples=examples(40), deadline=None)
@given(
    subject=specs(),
    others=st.lists(
        st.tuples(specs(), st.floats(0.0, 360.0), st.floats(0.0, 60_000.0)),
        min_size=1,
        max_size=4,
    ),
    lat=st.floats(-80.0, 80.0),
    lon=st.floats(-179.0, 179.0),
    separation=st.sampled_from([0.0, 1_000.0, 9_260.0]),
)
def test_shared_work_equals_work_alone(
    subject: Spec, others: list[tuple[Spec, float, float]], lat: float, lon: float, separation: float
) -> None:
    a = shape_of(subject, lon, lat)
    regions = SubjectFrame(a)
    shapes = []
    for spec, azimuth, distance in others:
        olon, olat = destination(lon, lat, azimuth, distance)
        shapes.append(shape_of(spec, olon, olat))
    withins = [separation + 20_000.0 - 4_000.0 * k for k in range(len(shapes))]
    many = regions.measure_many(shapes, withins)
    for b, within_b, m_many in zip(shapes, withins, many, strict=True):
        m_one = measure(a, b, within_b)
        assert (m_many is None) == (m_one is None)
        if m_many is not None and m_one is not None:
            assert (m_many.distance_m, m_many.point_a, m_many.point_b) == (
                m_one.distance_m,
                m_one.point_a,
                m_one.point_b,
            )
            assert shapely.to_wkb(m_many.core_b) == shapely.to_wkb(m_one.core_b)
            assert shapely.to_wkb(m_many.region(separation)) == shapely.to_wkb(m_one.region(separation))
    for b in [*shapes, *reversed(shapes)]:  # every pair twice, the second time from the filled caches
        shared = regions.region(b, separation)
        alone = draw_region(a, b, separation)
        assert shapely.to_wkb(shared) == shapely.to_wkb(alone)
        within = separation + 20_000.0
        m_shared, m_alone = regions.measure(b, within), measure(a, b, within)
        assert (m_shared is None) == (m_alone is None)
        if m_shared is not None and m_alone is not None:
            assert (m_shared.distance_m, m_shared.point_a, m_shared.point_b) == (
                m_alone.distance_m,
                m_alone.point_a,
                m_alone.point_b,
            )
            assert shapely.to_wkb(m_shared.core_a) == shapely.to_wkb(m_alone.core_a)
            assert shapely.to_wkb(m_shared.core_b) == shapely.to_wkb(m_alone.core_b)
            assert shapely.to_wkb(m_shared.region(separation)) == shapely.to_wkb(m_alone.region(separation))


def test_meeting_cores_share_the_subject_work() -> None:
    """A pair whose cores overlap takes the shared path (no second projection of the subject), and
    still draws what ``draw_region`` draws."""
    square = {
        "type": "Polygon",
        "coordinates": [[[10.0, 50.0], [10.2, 50.0], [10.2, 50.2], [10.0, 50.2], [10.0, 50.0]]],
    }
    shifted = {
        "type": "Polygon",
        "coordinates": [[[10.1, 50.1], [10.3, 50.1], [10.3, 50.3], [10.1, 50.3], [10.1, 50.1]]],
    }
    a = footprint_shape(parse_shape(square, LIMITS))
    b = footprint_shape(parse_shape(shifted, LIMITS))
    regions = SubjectFrame(a)
    first = regions.region(b, 9_260.0)
    assert regions._prepared is not None and 9_260.0 in regions._grown
    assert shapely.to_wkb(first) == shapely.to_wkb(draw_region(a, b, 9_260.0))
    assert not first.is_empty
