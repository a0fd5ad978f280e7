"""Deconfliction lines in the service: the two sides proposed as zones to the right parties, agreed by
each other's answer; the band's conflicts for either party and nobody else; refusals by field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deconfliction.domain.footprint import CircleFootprint, polygon_area_m2
from deconfliction.domain.limits import Limits
from deconfliction.domain.party import Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.domain.zone import ZoneAnswer, ZoneState
from deconfliction.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from deconfliction.service import lines, zones
from deconfliction.service import operations as ops
from deconfliction.service.parties import create_party
from tests.conftest import T0, square
from tests.shapes import parse_shape

L = Limits()
AREA = square(10.0, 45.0, 0.2)
RIVER = ((9.9, 45.1), (10.3, 45.1))  # west to east: the north is on its left
VALID = TimeWindow(T0 - timedelta(days=1), T0 + timedelta(days=30))


def draft(left: str, right: str, band: float | None = 500.0, line=RIVER) -> lines.LineDraft:
    return lines.LineDraft("river", parse_shape(AREA, L), AREA, line, left, right, VALID, band)


def op_at(lon: float, lat: float) -> ops.OperationDraft:
    v = Volume4D.create(CircleFootprint((lon, lat), 50.0), AltitudeBand(0, 10), TimeWindow(T0, T0 + timedelta(hours=2)))
    return ops.OperationDraft(OperationKind.GROUND, (v,))


def test_the_sides_become_zones_for_the_named_parties(rt, parties):
    north, south = parties["alpha"][0], parties["bravo"][0]
    made = lines.create_line(rt, north, draft(north.id, south.id, band=None))
    left, right = made.zones
    assert (left.owner_id, left.counterparties, right.owner_id, right.counterparties) == (
        north.id,
        (south.id,),
        south.id,
        (north.id,),
    )
    assert polygon_area_m2(left.footprint) + polygon_area_m2(right.footprint) == pytest.approx(
        polygon_area_m2(parse_shape(AREA, L)), abs=0.01
    )
    left_lats = [p[1] for ring in left.footprint.polygons[0] for p in ring]
    right_lats = [p[1] for ring in right.footprint.polygons[0] for p in ring]
    assert (max(left_lats), min(right_lats)) == (45.2, 45.0)  # the north on the left of a west-east line
    assert sorted(set(left_lats) - {45.2}) == sorted(set(right_lats) - {45.0})  # the crossings, shared
    # each becomes agreed when the other party accepts it; then entering it is a zone_entry
    spy = ops.submit_operation(rt, south, op_at(10.1, 45.15)).operation
    zones.answer(rt, north, right.id, ZoneAnswer.ACCEPTED)
    agreed = zones.answer(rt, south, left.id, ZoneAnswer.ACCEPTED)
    assert agreed.zone.state is ZoneState.AGREED
    assert [(c.kind, c.operation_a) for c in agreed.changed] == [("zone_entry", spy.id)]
    assert lines.get_line(rt, south, made.line.id).zone_left == left.id


def area_kinds(conflicts) -> list[tuple[str, str]]:
    """(kind, party told) of the area conflicts (operations near each other conflict too)."""
    return [(c.kind, c.party_b) for c in conflicts if c.kind != "operation"]


def test_the_band_concerns_both_parties_and_nobody_else(rt, parties):
    north, south = parties["alpha"][0], parties["bravo"][0]
    third, _ = create_party(rt, None, "agency", Role.PARTY)
    early = ops.submit_operation(rt, north, op_at(10.1, 45.102)).operation  # 220 m north of the river
    made = lines.create_line(rt, south, draft(north.id, south.id))
    assert [(c.kind, c.operation_a, c.party_b) for c in made.changed] == [("band_entry", early.id, south.id)]
    late = ops.submit_operation(rt, south, op_at(10.1, 45.098))
    assert area_kinds(late.conflicts) == [("band_entry", north.id)]
    assert area_kinds(ops.submit_operation(rt, third, op_at(10.1, 45.1)).conflicts) == []
    assert area_kinds(ops.submit_operation(rt, north, op_at(10.1, 45.11)).conflicts) == []  # 1.1 km away


def test_refusals(rt, parties):
    north, south = parties["alpha"][0], parties["bravo"][0]
    third, _ = create_party(rt, None, "agency", Role.PARTY)
    with pytest.raises(Forbidden):
        lines.create_line(rt, third, draft(north.id, south.id))
    with pytest.raises(InvalidInput) as e:
        lines.create_line(rt, north, draft(north.id, south.id, line=((10.1, 45.1), (10.3, 45.1))))
    assert [(x.field, x.code) for x in e.value.errors] == [("line[0]", "line_ends_inside")]
    with pytest.raises(InvalidInput) as e:
        lines.create_line(rt, north, draft(north.id, "pt_nobody"))
    assert [(x.field, x.code) for x in e.value.errors] == [("party_right", "unknown_party")]
    with pytest.raises(InvalidInput) as e:
        lines.create_line(rt, north, draft(north.id, south.id, band=-5))
    assert [(x.field, x.code) for x in e.value.errors] == [("half_width_m", "out_of_range")]
    assert lines.list_lines(rt, north) == [] and zones.list_zones(rt, north) == []
    made = lines.create_line(rt, north, draft(north.id, south.id)).line
    assert lines.list_lines(rt, third) == [] and [x.id for x in lines.list_lines(rt, south)] == [made.id]


def test_withdrawing_the_band_resolves_its_conflicts(rt, parties):
    north, south = parties["alpha"][0], parties["bravo"][0]
    third, _ = create_party(rt, None, "agency", Role.PARTY)
    made = lines.create_line(rt, north, draft(north.id, south.id))
    inside = ops.submit_operation(rt, south, op_at(10.1, 45.098)).operation
    with pytest.raises(NotFound):  # a line it takes no part in reads as missing
        lines.withdraw_line(rt, third, made.line.id)
    gone = lines.withdraw_line(rt, south, made.line.id)
    assert gone.line.withdrawn_at is not None
    assert [(c.operation_a, c.state.value) for c in gone.changed] == [(inside.id, "resolved")]
    assert area_kinds(ops.submit_operation(rt, north, op_at(10.1, 45.101)).conflicts) == []
    with pytest.raises(InvalidTransition):
        lines.withdraw_line(rt, north, made.line.id)
