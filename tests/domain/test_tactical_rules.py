"""The tactical layer's refusals and limits, each with the input that reaches it: a position report's
fields at and just past their limits, the tactical policy file's every branch, the declared tolerance.
Every refusal is checked by its exact field, code and message (what a person reads)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from deconfliction.domain.tactical import (
    NO_PARTY,
    Affiliation,
    TacticalPolicy,
    TacticalRule,
    validate_report,
)
from deconfliction.domain.tactical.declared import DeclaredTolerance
from deconfliction.errors import FieldError, InvalidInput

T = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
GOOD: dict[str, Any] = {
    "lat": 35.0,
    "lon": 40.0,
    "altitude_m": 3000.0,
    "ground_speed_mps": 200.0,
    "track_deg": 90.0,
    "vertical_rate_mps": 0.0,
}


def report(track_id: str = "A1", time: datetime = T, **fields: Any) -> Any:
    return validate_report("pt_a", track_id, time, **{**GOOD, **fields})


def refused(**kwargs: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidInput) as err:
        report(**kwargs)
    return [(e.field, e.code, e.message) for e in err.value.errors]


# ----------------------------------------------------------------------------- position reports

LIMITS = [
    ("lat", -90.0, 90.0, "[-90, 90]"),
    ("lon", -180.0, 180.0, "[-180, 180]"),
    ("altitude_m", -1000.0, 100_000.0, "[-1000, 100000]"),
    ("ground_speed_mps", 0.0, 600.0, "[0, 600]"),
    ("track_deg", 0.0, 360.0, "[0, 360]"),
    ("vertical_rate_mps", -150.0, 150.0, "[-150, 150]"),
]


@pytest.mark.parametrize(("name", "lo", "hi", "shown"), LIMITS)
def test_each_field_at_its_limits_and_just_past(name: str, lo: float, hi: float, shown: str) -> None:
    for edge in (lo, hi):
        given: dict[str, Any] = {name: edge}
        r = report(**given)
        expected = edge % 360.0 if name == "track_deg" else edge  # 360 degrees is north, stored as 0
        assert getattr(r, name) == expected
    for past in (lo - 0.5, hi + 0.5):
        assert refused(**{name: past}) == [(name, "out_of_range", f"{past} is outside {shown}")]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), True, "1", None])
def test_a_field_that_is_not_a_finite_number_is_refused(bad: Any) -> None:
    assert refused(lon=bad) == [("lon", "invalid_number", "must be a finite number")]


def test_integers_are_numbers_and_come_back_as_floats() -> None:
    r = report(lat=35, lon=40, altitude_m=3000, ground_speed_mps=200, track_deg=90, vertical_rate_mps=-3)
    values = (r.lat, r.lon, r.altitude_m, r.ground_speed_mps, r.track_deg, r.vertical_rate_mps)
    assert values == (35.0, 40.0, 3000.0, 200.0, 90.0, -3.0)
    assert all(type(v) is float for v in values)


def test_the_track_id_is_1_to_100_printable_characters() -> None:
    message = ("id", "invalid_id", "a track id is 1 to 100 printable characters")
    assert report(track_id="x").track_id == "x"
    assert report(track_id="x" * 100).track_id == "x" * 100
    for bad in ("", "x" * 101, "A\n1", "A\x001"):
        assert refused(track_id=bad) == [message]
    assert refused(track_id=17) == [message]


def test_a_time_without_offset_is_refused() -> None:
    assert refused(time=datetime(2026, 5, 1, 12, 0)) == [
        ("time", "time_without_offset", "a report's time needs a UTC offset")
    ]


def test_every_bad_field_is_named_at_once_in_order() -> None:
    got = refused(track_id="", time=datetime(2026, 5, 1), lat=91.0, ground_speed_mps=-1.0, vertical_rate_mps="up")
    assert [(f, c) for f, c, _ in got] == [
        ("id", "invalid_id"),
        ("lat", "out_of_range"),
        ("ground_speed_mps", "out_of_range"),
        ("vertical_rate_mps", "invalid_number"),
        ("time", "time_without_offset"),
    ]


def test_a_report_keeps_every_value_it_was_given() -> None:
    r = validate_report("pt_a", "A1", T, 35.5, 40.5, 1234.5, 210.0, 370.0 - 360.0, 4.5, callsign="ALPHA1", source="cot")
    assert (r.party_id, r.track_id, r.time, r.lat, r.lon, r.altitude_m) == ("pt_a", "A1", T, 35.5, 40.5, 1234.5)
    assert (r.ground_speed_mps, r.track_deg, r.vertical_rate_mps) == (210.0, 10.0, 4.5)
    assert (r.callsign, r.source, r.affiliation, r.reporter) == ("ALPHA1", "cot", Affiliation.PARTY, None)
    assert r.key == ("pt_a", "A1")
    defaults = validate_report("pt_a", "A1", T, 35.0, 40.0, 0.0, 0.0, 0.0)
    assert (defaults.vertical_rate_mps, defaults.callsign, defaults.source) == (0.0, None, "api")


def test_a_track_of_no_party_keeps_who_reported_it() -> None:
    for affiliation in (Affiliation.UNKNOWN, Affiliation.HOSTILE, Affiliation.PENDING, Affiliation.NEUTRAL):
        r = validate_report("pt_a", "U1", T, 35.0, 40.0, 0.0, 0.0, 0.0, affiliation=affiliation)
        assert (r.party_id, r.reporter, r.affiliation) == (NO_PARTY, "pt_a", affiliation)
    sensor = validate_report("", "U1", T, 35.0, 40.0, 0.0, 0.0, 0.0, affiliation=Affiliation.UNKNOWN)
    assert (sensor.party_id, sensor.reporter) == (NO_PARTY, None)


# ----------------------------------------------------------------------------- the tactical policy file


def policy_errors(raw: Any, party_ids: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidInput) as err:
        TacticalPolicy.from_mapping(raw, party_ids)
    return [(e.field, e.code, e.message) for e in err.value.errors]


RULE_MESSAGE = "expected horizontal_m, vertical_m, lookahead_s"


def test_an_empty_file_is_the_documented_default() -> None:
    """docs/tactical.md: 5 NM = 9,260 m, 1,000 ft = 304.8 m, 300 s; the hysteresis a tenth of 5 NM and
    100 ft; an alert clears after 5 s unseen; own aircraft not checked."""
    p = TacticalPolicy.from_mapping({})
    assert p.default == TacticalRule(9260.0, 304.8, 300.0) == TacticalRule()
    assert (p.hysteresis_m, p.clear_after_s) == (926.0, 5.0)
    assert p.hysteresis_vertical_m == pytest.approx(30.48, abs=1e-12)
    assert p.same_party is False and p.pairs == {}
    assert p == TacticalPolicy()


def test_an_unknown_top_level_field_is_refused() -> None:
    known = "['clear_after_s', 'declared', 'default', 'hysteresis_m', 'hysteresis_vertical_m', 'pairs', 'same_party']"
    assert policy_errors({"colour": 1}) == [("colour", "unknown_field", f"expected one of {known}")]


def test_a_rule_that_is_not_an_object_is_refused() -> None:
    message = "a rule is {horizontal_m, vertical_m, lookahead_s}"
    assert policy_errors({"default": 5}) == [("default", "invalid_rule", message)]
    assert policy_errors({"default": [1, 2]}) == [("default", "invalid_rule", message)]


@pytest.mark.parametrize("bad", [-1, -0.001, True, "9260", None, float("nan"), float("inf")])
def test_a_rule_number_that_is_not_a_number_at_least_0_is_refused(bad: Any) -> None:
    assert policy_errors({"default": {"vertical_m": bad}}) == [
        ("default.vertical_m", "invalid_number", "must be a number >= 0")
    ]


def test_rule_numbers_at_their_limits() -> None:
    p = TacticalPolicy.from_mapping({"default": {"horizontal_m": 0, "vertical_m": 0, "lookahead_s": 900}})
    assert p.default == TacticalRule(0.0, 0.0, 900.0)
    assert type(p.default.horizontal_m) is float
    assert policy_errors({"default": {"lookahead_s": 900.5}}) == [
        ("default.lookahead_s", "out_of_range", "at most 900 s")
    ]
    # the limit is the look-ahead's only: a horizontal minimum may be larger than 900
    assert TacticalPolicy.from_mapping({"default": {"horizontal_m": 901}}).default.horizontal_m == 901.0


def test_a_rule_field_that_is_not_known_is_refused_parties_too_outside_pairs() -> None:
    assert policy_errors({"default": {"speed": 1}}) == [("default.speed", "unknown_field", RULE_MESSAGE)]
    assert policy_errors({"default": {"parties": ["a", "b"]}}) == [("default.parties", "unknown_field", RULE_MESSAGE)]


def test_a_pair_starts_from_the_default_rule_and_names_parties_by_name_or_id() -> None:
    ids = {"North": "pt_n", "South": "pt_s"}
    p = TacticalPolicy.from_mapping(
        {"default": {"horizontal_m": 5000}, "pairs": [{"parties": ["South", "pt_n"], "lookahead_s": 60}]}, ids
    )
    assert p.pairs == {("pt_n", "pt_s"): TacticalRule(5000.0, 304.8, 60.0)}
    assert p.rule("pt_s", "pt_n") == p.rule("pt_n", "pt_s") == TacticalRule(5000.0, 304.8, 60.0)
    assert p.rule("pt_n", "pt_x") == TacticalRule(5000.0, 304.8, 300.0)
    # without a mapping of names, parties are ids and none is unknown
    q = TacticalPolicy.from_mapping({"pairs": [{"parties": ["b", "a"], "vertical_m": 100}]})
    assert q.pairs == {("a", "b"): TacticalRule(9260.0, 100.0, 300.0)}


def test_a_pair_with_a_bad_rule_number_is_refused_where_it_is() -> None:
    assert policy_errors({"pairs": [{"parties": ["a", "b"]}, {"parties": ["a", "c"], "horizontal_m": -5}]}) == [
        ("pairs[1].horizontal_m", "invalid_number", "must be a number >= 0")
    ]
    assert policy_errors({"pairs": [{"parties": ["a", "b"], "colour": "red"}]}) == [
        ("pairs[0].colour", "unknown_field", RULE_MESSAGE)
    ]


def test_pairs_that_are_not_a_list_or_not_two_names_are_refused_each() -> None:
    assert policy_errors({"pairs": {"parties": ["a", "b"]}}) == [
        ("pairs", "invalid_rule", "a list of {parties: [a, b], ...rule}")
    ]
    two = "two party names or ids"
    bad = [["a", "b"], {"parties": ["a"]}, {"parties": ["a", "b", "c"]}, {"parties": ["a", 1]}, {"parties": "ab"}, {}]
    assert policy_errors({"pairs": bad}) == [(f"pairs[{n}].parties", "invalid_rule", two) for n in range(6)]


def test_a_pair_naming_an_unknown_party_is_refused_per_name() -> None:
    ids = {"North": "pt_n"}
    assert policy_errors({"pairs": [{"parties": ["East", "West"]}]}, ids) == [
        ("pairs[0].parties", "unknown_party", "no party 'East'"),
        ("pairs[0].parties", "unknown_party", "no party 'West'"),
    ]
    assert policy_errors({"pairs": [{"parties": ["North", "pt_x"]}]}, ids) == [
        ("pairs[0].parties", "unknown_party", "no party 'pt_x'")
    ]


@pytest.mark.parametrize("name", ["hysteresis_m", "hysteresis_vertical_m", "clear_after_s"])
def test_the_alert_numbers(name: str) -> None:
    assert getattr(TacticalPolicy.from_mapping({name: 0}), name) == 0.0
    assert getattr(TacticalPolicy.from_mapping({name: 12.5}), name) == 12.5
    for bad in (-1, True, "5", float("nan"), None):
        assert policy_errors({name: bad}) == [(name, "invalid_number", "must be a number >= 0")]


def test_same_party_is_true_or_false() -> None:
    assert TacticalPolicy.from_mapping({"same_party": True}).same_party is True
    assert TacticalPolicy.from_mapping({"same_party": False}).same_party is False
    for bad in (1, "true", None):
        assert policy_errors({"same_party": bad}) == [("same_party", "invalid_value", "true or false")]


def test_own_aircraft_are_checked_with_same_party_or_their_own_pair() -> None:
    assert TacticalPolicy().rule("a", "a") is None
    assert TacticalPolicy(same_party=True).rule("a", "a") == TacticalRule()
    own = TacticalRule(1000.0, 100.0, 60.0)
    assert TacticalPolicy(pairs={("a", "a"): own}).rule("a", "a") == own


def test_every_error_of_a_file_is_reported_together() -> None:
    raw = {"colour": 1, "default": {"lookahead_s": 1000}, "same_party": "no", "declared": {"time_s": -1}}
    assert [(f, c) for f, c, _ in policy_errors(raw)] == [
        ("colour", "unknown_field"),
        ("default.lookahead_s", "out_of_range"),
        ("same_party", "invalid_value"),
        ("declared.time_s", "invalid_number"),
    ]


def test_the_rule_table_is_symmetric_and_widened_only_when_asked() -> None:
    p = TacticalPolicy(
        default=TacticalRule(1000.0, 100.0, 60.0),
        pairs={("b", "a"): TacticalRule(2000.0, 200.0, 120.0)},
        hysteresis_m=10.0,
        hysteresis_vertical_m=1.0,
    )
    t = p.table(["a", "b", "c"])
    assert t.checked.tolist() == [[False, True, True], [True, False, True], [True, True, False]]
    assert t.horizontal_m.tolist() == [[0.0, 2000.0, 1000.0], [2000.0, 0.0, 1000.0], [1000.0, 1000.0, 0.0]]
    assert t.vertical_m.tolist() == [[0.0, 200.0, 100.0], [200.0, 0.0, 100.0], [100.0, 100.0, 0.0]]
    assert t.lookahead_s.tolist() == [[0.0, 120.0, 60.0], [120.0, 0.0, 60.0], [60.0, 60.0, 0.0]]
    w = p.table(["a", "b", "c"], widen=True)
    assert w.horizontal_m.tolist() == [[0.0, 2010.0, 1010.0], [2010.0, 0.0, 1010.0], [1010.0, 1010.0, 0.0]]
    assert w.vertical_m.tolist() == [[0.0, 201.0, 101.0], [201.0, 0.0, 101.0], [101.0, 101.0, 0.0]]
    assert w.lookahead_s.tolist() == t.lookahead_s.tolist()


# ----------------------------------------------------------------------------- the declared tolerance


def tolerance_errors(raw: Any, where: str = "declared") -> list[FieldError]:
    with pytest.raises(InvalidInput) as err:
        DeclaredTolerance.from_mapping(raw, where)
    return err.value.errors


def test_the_declared_tolerance_refusals() -> None:
    assert tolerance_errors([500]) == [
        FieldError("declared", "invalid_value", "an object {horizontal_m, vertical_m, time_s}")
    ]
    assert tolerance_errors({"seconds": 3}, "tol") == [
        FieldError("tol.seconds", "unknown_field", "expected horizontal_m, vertical_m, time_s")
    ]
    for bad in (-1, True, "5", float("inf"), None):
        assert tolerance_errors({"vertical_m": bad}) == [
            FieldError("declared.vertical_m", "invalid_number", "must be a number >= 0")
        ]


def test_the_declared_tolerance_at_its_edges() -> None:
    assert DeclaredTolerance.from_mapping({}) == DeclaredTolerance(500.0, 150.0, 300.0)
    t = DeclaredTolerance.from_mapping({"horizontal_m": 0, "vertical_m": 7, "time_s": 0.5})
    assert t == DeclaredTolerance(0.0, 7.0, 0.5) and type(t.horizontal_m) is float
    assert t.as_dict() == {"horizontal_m": 0.0, "vertical_m": 7.0, "time_s": 0.5}


def test_undeclared_asks_each_track_of_its_own_party_s_volumes() -> None:
    from deconfliction.domain.footprint import CircleFootprint, footprint_shape
    from deconfliction.domain.tactical.declared import DeclaredVolume, Observed, undeclared

    shape = footprint_shape(CircleFootprint((40.0, 35.0), 1000.0))
    vol_a = DeclaredVolume("a", "op_a", shape, 0.0, 1000.0, 0.0, 3600.0)
    vol_b = DeclaredVolume("b", "op_b", shape, 5000.0, 6000.0, 0.0, 3600.0)
    inside = {"lon": 40.0, "lat": 35.0, "altitude_m": 500.0, "t": 60.0}
    tracks = [Observed("a", **inside), Observed("b", **inside), Observed("c", **inside), Observed(NO_PARTY, **inside)]
    # b's volume is 4 km higher than b's track; c declared nothing; a track of no party never is declared
    assert undeclared(tracks, {"a": [vol_a], "b": [vol_b]}, DeclaredTolerance()) == [False, True, True, True]
    # a's volume listed under b does not declare b's track
    assert undeclared(tracks[:2], {"a": [vol_a], "b": [vol_a]}, DeclaredTolerance()) == [False, True]
    assert undeclared([], {"a": [vol_a]}, DeclaredTolerance()) == []


def test_norm3_is_the_euclidean_length_of_each_column() -> None:
    import numpy as np

    from deconfliction.domain.tactical.motion import norm3

    v = np.array([[3.0, 0.0, 1.0, -2.0], [4.0, 0.0, 2.0, 3.0], [12.0, 0.0, 2.0, -6.0]])
    assert norm3(v).tolist() == [13.0, 0.0, 3.0, 7.0]


def test_a_prediction_is_worth_telling_when_the_loss_moves_10_s_or_becomes_current() -> None:
    from datetime import timedelta

    from deconfliction.domain.tactical import Prediction, _materially_different

    base = Prediction(T, T, 100.0, 50.0, False, TacticalRule())

    def moved(seconds: float, now: bool = False) -> Prediction:
        return Prediction(T + timedelta(seconds=seconds), T, 100.0, 50.0, now, TacticalRule())

    assert not _materially_different(base, moved(0.0))
    assert not _materially_different(base, moved(9.999)) and not _materially_different(base, moved(-9.999))
    assert _materially_different(base, moved(10.0)) and _materially_different(base, moved(-10.0))
    assert _materially_different(base, moved(0.0, now=True)) and _materially_different(moved(0.0, now=True), base)


def test_declared_at_the_exact_edges_of_the_band_and_far_away() -> None:
    from deconfliction.domain.footprint import CircleFootprint, footprint_shape
    from deconfliction.domain.tactical.declared import DeclaredVolume, Observed, horizontal_distance_m, within

    shape = footprint_shape(CircleFootprint((40.0, 35.0), 1000.0))
    vol = DeclaredVolume("a", "op_a", shape, 1000.0, 2000.0, 0.0, 3600.0)
    tol = DeclaredTolerance(horizontal_m=0.0, vertical_m=150.0, time_s=0.0)

    def at(lon: float = 40.0, alt: float = 1500.0, t: float = 60.0) -> bool:
        return within(vol, Observed("a", lon, 35.0, alt, t), tol)

    # the band's edges with the tolerance are inside, both of them; the window is [start, end)
    assert at(alt=2150.0) and at(alt=850.0) and not at(alt=2150.001) and not at(alt=849.999)
    assert at(t=0.0) and not at(t=3600.0)
    # inside the circle the distance is 0, so a zero horizontal tolerance still declares it
    assert horizontal_distance_m(shape, 40.0, 35.0) == 0.0 and at()
    # 10 km away: far beyond the circle's reach, never declared
    assert not at(lon=40.11) and not within(vol, Observed("a", 40.11, 35.0, 1500.0, 60.0), DeclaredTolerance())


def test_an_update_carries_the_alert_with_its_new_prediction() -> None:
    from datetime import timedelta

    from deconfliction.domain.tactical import AlertKind, AlertState, Finding, Prediction, advance_alerts

    key = (AlertKind.TRACKS, ("a", "A1"), ("b", "B1"))
    first = Prediction(T + timedelta(seconds=60), T, 100.0, 50.0, False, TacticalRule())
    active, changes = advance_alerts({}, [Finding(key, True, first)], T, 5.0, lambda: "al_1")
    assert [(c.change, c.alert.id, c.alert.state) for c in changes] == [("raised", "al_1", AlertState.NEW)]
    later = Prediction(T + timedelta(seconds=30), T, 80.0, 50.0, False, TacticalRule())
    now = T + timedelta(seconds=1)
    active, changes = advance_alerts(active, [Finding(key, True, later)], now, 5.0, lambda: "unused")
    ((change, alert),) = [(c.change, c.alert) for c in changes]
    assert change == "updated" and alert.id == "al_1" and alert.prediction == later
    assert alert.state is AlertState.ONGOING and alert.updated_at == now and active[key] == alert
