"""The conflict record (domain/conflict.py) without geometry: time and altitude closeness at the rule's
edges, which side is which, versions that move only with content, the state a conflict is found in,
and ``reconcile`` opening, updating, flipping, leaving and resolving records."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import shapely

from deconfliction.domain.conflict import (
    Conflict,
    ConflictState,
    Encounter,
    Finding,
    close_in_altitude,
    close_in_time,
    found_state,
    horizontal_limit,
    next_version,
    reconcile,
    stays_expired,
)
from deconfliction.domain.footprint import CircleFootprint
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.policy import OperationKind, SeparationRule
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
RULE = SeparationRule("air-air", 9260.0, 304.8, 60.0)
GROUND = SeparationRule("ground-ground", 1000.0, None, 0.0)


def h(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def win(a: float, b: float) -> TimeWindow:
    return TimeWindow(h(a), h(b))


def test_close_in_time_overlap_or_a_gap_below_the_margin() -> None:
    a = win(0, 1)
    assert close_in_time(a, win(0.5, 2), RULE)
    after = TimeWindow(h(1) + timedelta(seconds=59.999), h(2))
    assert close_in_time(a, after, RULE)
    assert not close_in_time(a, TimeWindow(h(1) + timedelta(seconds=60), h(2)), RULE)  # exactly the margin
    assert not close_in_time(a, TimeWindow(h(1), h(2)), GROUND)  # back to back, no margin: half-open
    assert close_in_time(TimeWindow(h(1), h(1)), TimeWindow(h(1), h(1)), GROUND)


def test_close_in_altitude_at_the_vertical_minimum() -> None:
    low = AltitudeBand(0.0, 1000.0)
    assert close_in_altitude(low, AltitudeBand(1000.0, 2000.0), RULE)  # touching
    assert close_in_altitude(low, AltitudeBand(1304.799, 2000.0), RULE)
    assert not close_in_altitude(low, AltitudeBand(1304.8, 2000.0), RULE)  # exactly the minimum apart
    assert close_in_altitude(low, AltitudeBand(50_000.0, 60_000.0), GROUND)  # altitudes not compared
    zero = SeparationRule("touch", 0.0, 0.0, 0.0)
    assert close_in_altitude(low, AltitudeBand(1000.0, 2000.0), zero)
    assert not close_in_altitude(low, AltitudeBand(1000.001, 2000.0), zero)


def test_horizontal_limit() -> None:
    assert horizontal_limit(RULE) == 9260.0 - 0.0005
    assert horizontal_limit(SeparationRule("touch", 0.0, None, 0.0)) == 1e-6
    assert horizontal_limit(SeparationRule("mm", 0.0015, None, 0.0)) == 0.0015 - 0.0005


def enc(
    a: int = 0, b: int = 0, *, start: float = 0, end: float = 1, lo: float = 0.0, hi: float = 100.0, d: float = 5.0
) -> Encounter:
    return Encounter(
        a, b, d, 10.0 * a, 2.0 * b, win(start, end), AltitudeBand(lo, hi), shapely.Point(0, 0), (1.0, 2.0), (3.0, 4.0)
    )


def conflict(*encounters: Encounter, **kw: object) -> Conflict:
    base = Conflict(
        "cf_1", "operation", ConflictState.OPEN, 1, "op_a", "pt_a", "op_b", "pt_b", "tok_a", "tok_b", RULE,
        encounters or (enc(),), NOW, NOW,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def test_sides() -> None:
    c = conflict()
    assert (c.side_of("pt_a"), c.side_of("pt_b"), c.side_of("pt_c")) == ("a", "b", None)
    assert (c.token_for("pt_a"), c.token_for("pt_b")) == ("tok_a", "tok_b")
    assert (c.own_operation("pt_a"), c.own_operation("pt_b")) == ("op_a", "op_b")


def test_window_altitude_and_minima_over_every_encounter() -> None:
    c = conflict(
        enc(1, 0, start=2, end=3, lo=50, hi=60, d=7.0),
        enc(0, 2, start=-1, end=0.5, lo=500, hi=900, d=3.0),
        enc(2, 1, d=9.0),
    )
    assert c.window == win(-1, 3)
    assert c.altitude == AltitudeBand(0.0, 900.0)
    assert (c.min_horizontal_m, c.min_vertical_m, c.min_time_s) == (3.0, 0.0, 0.0)
    one = conflict(enc(2, 3, start=1, end=2, lo=5, hi=6, d=4.0))
    assert (one.window, one.altitude) == (win(1, 2), AltitudeBand(5.0, 6.0))
    assert (one.min_horizontal_m, one.min_vertical_m, one.min_time_s) == (4.0, 20.0, 6.0)


def test_region_of_the_record_is_the_union() -> None:
    e1 = replace(enc(), drawn=shapely.box(0, 0, 1, 1))
    e2 = replace(enc(1, 1), drawn=lambda: shapely.box(1, 0, 2, 1))
    c = conflict(e1, e2)
    assert c.region.equals(shapely.box(0, 0, 2, 1))
    assert c.region_geojson["type"] == "Polygon"
    assert c.region_geojson is c.region_geojson
    assert e2.region_geojson["type"] == "Polygon"


def test_next_version_moves_content_only_with_state_rule_or_encounters() -> None:
    old = conflict(version=4, content_version=2)
    later = h(1)
    tokens = next_version(old, replace(old, token_a="t2"), later)
    assert (tokens.version, tokens.content_version, tokens.updated_at, tokens.created_at) == (5, 2, later, NOW)
    for change in ({"state": ConflictState.RESOLVED}, {"rule": GROUND}, {"encounters": (enc(1, 1),)}):
        moved = next_version(old, replace(old, **change), later)  # type: ignore[arg-type]
        assert (moved.version, moved.content_version) == (5, 5), change


def test_found_state() -> None:
    ends_later = (enc(end=0.5), enc(end=2))
    assert found_state(ends_later, NOW, historical=False) is ConflictState.OPEN
    assert found_state(ends_later, NOW, historical=True) is ConflictState.EXPIRED
    assert found_state(ends_later, h(2), historical=False) is ConflictState.EXPIRED  # ended exactly now
    assert found_state(ends_later, h(2) - timedelta(microseconds=1), historical=False) is ConflictState.OPEN


def test_stays_expired_only_when_both_are_expired_and_only_tokens_moved() -> None:
    old = conflict(state=ConflictState.EXPIRED)
    assert stays_expired(old, replace(old, token_a="x", token_b="y"))
    assert not stays_expired(old, replace(old, token_a="x", encounters=(enc(1, 1),)))
    assert not stays_expired(old, replace(old, state=ConflictState.OPEN))
    opened = conflict()
    assert not stays_expired(opened, replace(opened, state=ConflictState.EXPIRED))


def op(
    op_id: str,
    owner: str,
    *,
    state: OperationState = OperationState.PLANNED,
    ovn: str = "ovn_s",
    historical: bool = False,
) -> Operation:
    v = Volume4D.create(CircleFootprint((36.0, 35.0), 100.0), AltitudeBand(0.0, 100.0), win(0, 1))
    return Operation(op_id, owner, OperationKind.AIR, 0, state, 2, ovn, (v,), "t", NOW, NOW, historical=historical)


def ids() -> itertools.count[int]:
    return itertools.count(1)


def new_id_from(counter: itertools.count[int]) -> Callable[[], str]:
    return lambda: f"cf_{next(counter)}"


def test_reconcile_opens_a_record_with_the_sides_ordered_by_operation_id() -> None:
    e = enc(0, 1, end=2)
    finding = Finding("op_m", "pt_s", "op_z", "pt_o", "ovn_o", RULE, (e,))
    (c,) = reconcile(op("op_m", "pt_s"), [finding], {}, now=NOW, new_id=new_id_from(ids()))
    assert (c.id, c.kind, c.state, c.version, c.content_version, c.created_at, c.updated_at) == (
        "cf_1", "operation", ConflictState.OPEN, 1, 1, NOW, NOW
    )  # fmt: skip
    assert (c.operation_a, c.party_a, c.operation_b, c.party_b) == ("op_m", "pt_s", "op_z", "pt_o")
    assert (c.token_a, c.token_b, c.rule, c.encounters, c.historical) == ("ovn_o", "ovn_s", RULE, (e,), False)
    # the subject sorting after the other operation is side b, its encounters flipped
    finding = Finding("op_m", "pt_s", "op_c", "pt_o", "ovn_o", RULE, (e,))
    (c,) = reconcile(op("op_m", "pt_s"), [finding], {}, now=NOW, new_id=new_id_from(ids()))
    assert (c.operation_a, c.party_a, c.operation_b, c.party_b) == ("op_c", "pt_o", "op_m", "pt_s")
    assert (c.token_a, c.token_b) == ("ovn_s", "ovn_o")
    (flipped,) = c.encounters
    assert (flipped.index_a, flipped.index_b, flipped.point_a, flipped.point_b) == (1, 0, (3.0, 4.0), (1.0, 2.0))
    assert (flipped.horizontal_m, flipped.window) == (e.horizontal_m, e.window)


def test_reconcile_opens_every_new_pair() -> None:
    e = enc(0, 0, end=2)
    findings = [
        Finding("op_m", "pt_s", "op_x", "pt_o", "o1", RULE, (e,)),
        Finding("op_m", "pt_s", "op_y", "pt_p", "o2", RULE, (e,)),
        Finding("op_m", "pt_s", "op_a", "pt_q", "o3", RULE, (e,)),
    ]
    out = reconcile(op("op_m", "pt_s"), findings, {}, now=NOW, new_id=new_id_from(ids()))
    assert [(c.id, c.operation_a, c.operation_b) for c in out] == [
        ("cf_1", "op_m", "op_x"),
        ("cf_2", "op_m", "op_y"),
        ("cf_3", "op_a", "op_m"),
    ]


def test_reconcile_updates_the_other_side_s_token_and_the_historical_mark() -> None:
    e = enc(0, 0, end=2)
    old = conflict(
        e, operation_a="op_m", party_a="pt_s", operation_b="op_z", party_b="pt_o", token_a="ovn_o", token_b="ovn_s"
    )
    moved = Finding("op_m", "pt_s", "op_z", "pt_o", "ovn_o2", RULE, (e,))
    (c,) = reconcile(op("op_m", "pt_s"), [moved], {"op_z": old}, now=h(0.5), new_id=new_id_from(ids()))
    assert (c.token_a, c.token_b, c.version, c.content_version) == ("ovn_o2", "ovn_s", 2, 1)
    same = Finding("op_m", "pt_s", "op_z", "pt_o", "ovn_o", RULE, (e,))
    (c,) = reconcile(
        op("op_m", "pt_s"), [same], {"op_z": old}, now=h(0.5), new_id=new_id_from(ids()), historical={"op_z"}
    )
    assert (c.historical, c.state, c.content_version) == (True, ConflictState.EXPIRED, 2)


def test_reconcile_marks_historical_records_expired() -> None:
    finding = Finding("op_m", "pt_s", "op_z", "pt_o", "ovn_o", RULE, (enc(end=2),))
    (c,) = reconcile(op("op_m", "pt_s"), [finding], {}, now=NOW, new_id=new_id_from(ids()), historical={"op_z"})
    assert (c.state, c.historical) == (ConflictState.EXPIRED, True)
    (c,) = reconcile(op("op_m", "pt_s", historical=True), [finding], {}, now=NOW, new_id=new_id_from(ids()))
    assert (c.state, c.historical) == (ConflictState.EXPIRED, True)
    (c,) = reconcile(op("op_m", "pt_s"), [finding], {}, now=NOW, new_id=new_id_from(ids()), historical={"op_q"})
    assert (c.state, c.historical) == (ConflictState.OPEN, False)


def test_reconcile_updates_leaves_and_resolves() -> None:
    e = enc(0, 0, end=2)
    old = conflict(
        e,
        operation_a="op_m",
        party_a="pt_s",
        operation_b="op_z",
        party_b="pt_o",
        token_a="ovn_o",
        token_b="ovn_s",
        version=3,
        content_version=2,
    )
    subject = op("op_m", "pt_s")
    same = Finding("op_m", "pt_s", "op_z", "pt_o", "ovn_o", RULE, (e,))
    assert reconcile(subject, [same], {"op_z": old}, now=h(0.5), new_id=new_id_from(ids())) == []
    moved = reconcile(op("op_m", "pt_s", ovn="ovn_s2"), [same], {"op_z": old}, now=h(0.5), new_id=new_id_from(ids()))
    assert [(c.id, c.version, c.content_version, c.token_b, c.updated_at) for c in moved] == [
        ("cf_1", 4, 2, "ovn_s2", h(0.5))
    ]
    other = Finding("op_m", "pt_s", "op_z", "pt_o", "ovn_o", RULE, (enc(0, 1, end=2),))
    (changed,) = reconcile(subject, [other], {"op_z": old}, now=h(0.5), new_id=new_id_from(ids()))
    assert (changed.version, changed.content_version, changed.encounters) == (4, 4, other.encounters)
    # no longer found: an open record is resolved, a resolved or expired one stays as it is
    resolved = conflict(operation_a="op_m", operation_b="op_y", state=ConflictState.RESOLVED)
    expired = conflict(operation_a="op_m", operation_b="op_x", state=ConflictState.EXPIRED)
    gone = reconcile(
        subject, [], {"op_z": old, "op_y": resolved, "op_x": expired}, now=h(0.5), new_id=new_id_from(ids())
    )
    assert [(c.operation_b, c.state, c.version, c.content_version) for c in gone] == [
        ("op_z", ConflictState.RESOLVED, 4, 4)
    ]


def test_an_operation_no_longer_live_resolves_everything() -> None:
    e = enc(0, 0, end=2)
    old = conflict(e, operation_a="op_m", party_a="pt_s", operation_b="op_z", party_b="pt_o")
    finding = Finding("op_m", "pt_s", "op_z", "pt_o", "ovn_o", RULE, (e,))
    for state in (OperationState.ENDED, OperationState.CANCELLED):
        out = reconcile(op("op_m", "pt_s", state=state), [finding], {"op_z": old}, now=NOW, new_id=new_id_from(ids()))
        assert [(c.state, c.version) for c in out] == [(ConflictState.RESOLVED, 2)]
        assert reconcile(op("op_m", "pt_s", state=state), [finding], {}, now=NOW, new_id=new_id_from(ids())) == []


def test_an_expired_record_found_again_in_the_past_stays_quiet_and_reopens_when_not() -> None:
    e = enc(0, 0, end=1)
    old = conflict(
        e, operation_a="op_m", party_a="pt_s", operation_b="op_z", party_b="pt_o", state=ConflictState.EXPIRED
    )
    finding = Finding("op_m", "pt_s", "op_z", "pt_o", "ovn_new", RULE, (e,))
    assert reconcile(op("op_m", "pt_s", ovn="x"), [finding], {"op_z": old}, now=h(5), new_id=new_id_from(ids())) == []
    later = Finding("op_m", "pt_s", "op_z", "pt_o", "ovn_new", RULE, (enc(0, 0, end=9),))
    (c,) = reconcile(op("op_m", "pt_s"), [later], {"op_z": old}, now=h(5), new_id=new_id_from(ids()))
    assert c.state is ConflictState.OPEN
