"""Movements in the service: swept into the operation's volumes, conflicting only where and when the
movement is; the route and schedule read back as declared; bad input by field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from deconfliction.domain.operation import OperationState
from deconfliction.domain.site import SiteCategory, SitePoint
from deconfliction.errors import InvalidInput, NotFound
from deconfliction.service import movements, sites
from deconfliction.service import operations as ops
from tests.conftest import T0

ROUTE = [[40.0, 35.0], [40.2, 35.0], [40.2, 35.2]]  # about 18 km east, then 22 km north


def movement(depart_h: float = 0.0, **over: Any) -> dict[str, Any]:
    body = {
        "route": {"type": "LineString", "coordinates": ROUTE},
        "departure": (T0 + timedelta(hours=depart_h)).isoformat().replace("+00:00", "Z"),
        "speed_m_s": 10.0,
        "half_width_m": 50,
        "altitude": {"lower_m": 0, "upper_m": 10},
        "tolerance_s": 300,
    }
    return {**body, **over}


def test_the_route_becomes_volumes_and_reads_back(rt, parties):
    agency = parties["alpha"][0]
    out = movements.submit_movement(rt, agency, ops.OperationKind.GROUND, movement(), title="convoy 7")
    op = out.result.operation
    assert len(op.volumes) == out.movement["sweep"]["segments"] > 70  # 40 km in pieces of at most 500 m
    assert op.volumes[0].window.start == T0 - timedelta(seconds=300)
    same, back = movements.get_movement(rt, agency, op.id)
    assert same.id == op.id and back == out.movement
    assert back["route"]["coordinates"] == ROUTE and back["speed_m_s"] == 10.0
    with pytest.raises(NotFound):
        movements.get_movement(rt, parties["bravo"][0], op.id)  # the plan is the owner's
    planned = ops.change_state(rt, agency, op.id, OperationState.PLANNED, expected_version=1)
    assert movements.get_movement(rt, agency, op.id)[0].version == planned.operation.version  # still it
    ops.revise_operation(
        rt, agency, op.id, ops.OperationDraft(op.kind, op.volumes[:3]), expected_version=2
    )  # other volumes: the movement no longer describes the operation
    with pytest.raises(NotFound):
        movements.get_movement(rt, agency, op.id)


def test_it_conflicts_only_where_and_when_it_is(rt, parties):
    agency, force = parties["alpha"][0], parties["bravo"][0]
    first = movements.submit_movement(rt, agency, ops.OperationKind.GROUND, movement()).result.operation
    # the same road three hours later: never near at the same time
    later = movements.submit_movement(rt, force, ops.OperationKind.GROUND, movement(3.0))
    assert later.result.conflicts == []
    # the same road ten minutes later: close in space and time
    soon = movements.submit_movement(rt, force, ops.OperationKind.GROUND, movement(1 / 6))
    assert [
        c.operation_a if c.operation_a != soon.result.operation.id else c.operation_b for c in soon.result.conflicts
    ] == [first.id]
    # a hospital 500 m off the route is a protected_site conflict for the convoy, at any time
    made = sites.create_site(
        rt,
        force,
        sites.SiteDraft("clinic", SiteCategory.HOSPITAL, SitePoint((40.1, 35.0045)), 50, 10, T0 + timedelta(days=9)),
    )
    assert {c.operation_a for c in made.changed} == {first.id}


def test_bad_movements_name_the_field(rt, parties):
    agency = parties["alpha"][0]
    with pytest.raises(InvalidInput) as e:
        movements.submit_movement(rt, agency, ops.OperationKind.GROUND, movement(speed_m_s=-1, half_width_m=0))
    assert {(x.field, x.code) for x in e.value.errors} == {
        ("movement.speed_m_s", "out_of_range"),
        ("movement.half_width_m", "out_of_range"),
    }
    with pytest.raises(InvalidInput) as e:
        movements.submit_movement(rt, agency, ops.OperationKind.GROUND, movement(route={"type": "Point"}))
    assert ("movement.route.type", "invalid_geojson") in {(x.field, x.code) for x in e.value.errors}
    assert ops.list_operations(rt, agency) == []


def test_a_new_schedule_is_a_new_version(rt, parties):
    agency, force = parties["alpha"][0], parties["bravo"][0]
    first = movements.submit_movement(rt, agency, ops.OperationKind.GROUND, movement()).result.operation
    other = movements.submit_movement(rt, force, ops.OperationKind.GROUND, movement(3.0)).result.operation
    # three hours later: now on the road with the other convoy
    later = movements.revise_movement(rt, agency, first.id, ops.OperationKind.GROUND, movement(3.0), expected_version=1)
    assert later.result.operation.version == 2
    assert [c.operation_a if c.operation_b == first.id else c.operation_b for c in later.result.conflicts] == [other.id]
    assert movements.get_movement(rt, agency, first.id)[1]["departure"] == movement(3.0)["departure"]
    with pytest.raises(NotFound):
        movements.revise_movement(rt, force, first.id, ops.OperationKind.GROUND, movement(), expected_version=2)
