"""Edges of the pure core, each tested on both sides: the escalation rule at its floor and ceiling, the
ladder's length limits, the chase rules, time windows and altitude bands at their limits, the exactness
rule at half a millimetre, and the acknowledgement gate's overrides. Each bad input names its field."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from deconfliction.domain.acknowledgement import (
    MAX_REASON,
    Override,
    acknowledged_version,
    check_overrides,
    covers,
)
from deconfliction.domain.limits import Limits
from deconfliction.domain.minima import ALLOWANCE_M, closer_than, threshold_m
from deconfliction.domain.notification import (
    CHANNELS,
    COORDINATOR_STEP,
    ESCALATION_KIND,
    MAX_CONTACTS,
    Contact,
    EscalationPolicy,
    Notification,
    NotificationState,
    acknowledge,
    chase_of,
    escalate,
    first_deadline,
    parse_contacts,
    take_over,
)
from deconfliction.domain.volume import AltitudeBand, TimeWindow, format_time, parse_time
from deconfliction.errors import InvalidInput, InvalidTransition
from tests.shapes import circle, parse_shape

NOW = datetime(2026, 11, 23, 7, 50, tzinfo=UTC)
P = EscalationPolicy()
LIMITS = Limits()


def s(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def note(**kw: Any) -> Notification:
    base: dict[str, Any] = {
        "id": "nt_1",
        "seq": 1,
        "party_id": "pt_a",
        "kind": "conflict.opened",
        "subject_id": "cf_1",
        "entry_seq": 1,
        "body": {"content_version": 1},
        "created_at": NOW,
        "deadline": s(200),
        "starts_at": s(600),
    }
    base.update(kw)
    return Notification(**base)


def errors_of(fn: Any, *args: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as err:
        fn(*args)
    return [(e.field, e.code) for e in err.value.errors]


# ------------------------------------------------------------------------------------ escalation rule


@pytest.mark.parametrize(
    ("left_s", "contacts", "last", "expected"),
    [
        (120, 1, False, 60),  # exactly the floor: 120 / 2
        (119, 1, False, 60),  # just below: the floor
        (122, 1, False, 61),  # just above
        (1800, 1, False, 900),  # exactly the ceiling
        (1802, 1, False, 900),
        (1798, 1, False, 899),
        (600, 2, True, 300),  # the coordinators' own ladder keeps no share
        (600, 1, True, 600),
        (600, 0, False, 600),  # no contact left: the coordinators' share only
        (600, 0, True, 600),  # nothing at all: one share, never a division by zero
        (600, -3, False, 600),
        (600, 3, False, 150),
    ],
)
def test_step_edges(left_s: float, contacts: int, last: bool, expected: float) -> None:
    assert P.step_s(NOW, s(left_s), contacts, last=last) == expected
    assert P.deadline(NOW, s(left_s), contacts, last=last) == s(expected)


def test_step_with_more_shares_and_no_danger_time() -> None:
    two = EscalationPolicy(coordinator_shares=2)
    assert two.step_s(NOW, s(600), 1) == 200
    assert two.step_s(NOW, s(600), 1, last=True) == 600
    assert two.step_s(NOW, None, 5) == 900
    assert EscalationPolicy(default_s=100).deadline(NOW, None) == s(100)
    assert P.step_s(NOW, s(600)) == 300  # one contact by default


def test_first_deadline_counts_at_least_one_contact_and_the_coordinators_own() -> None:
    assert first_deadline(P, NOW, s(600), 2) == s(200)
    assert first_deadline(P, NOW, s(600), 0) == s(300)
    assert first_deadline(P, NOW, s(600), 2, ESCALATION_KIND) == s(300)
    assert first_deadline(P, NOW, s(600), 1, ESCALATION_KIND) == s(600)
    assert first_deadline(P, NOW, None, 3) == s(900)


# ---------------------------------------------------------------------------------------- the ladder


def contact(name: str = "duty", **channels: str) -> dict[str, Any]:
    return {"name": name, "channels": channels}


def test_ladder_lengths_at_their_limits() -> None:
    assert len(parse_contacts([contact()])) == 1
    assert len(parse_contacts([contact(f"c{i}") for i in range(MAX_CONTACTS)])) == MAX_CONTACTS == 10
    for bad in ([], [contact(f"c{i}") for i in range(11)], {"name": "x"}, "duty", None):
        assert errors_of(parse_contacts, bad) == [("contacts", "invalid_value")]


def test_names_and_addresses_at_their_limits() -> None:
    (c,) = parse_contacts([contact("n" * 120, email="a" * 500)])
    assert c == Contact("n" * 120, {"email": "a" * 500})
    (c,) = parse_contacts([{"name": "  duty  "}])
    assert c == Contact("duty", {})
    assert c.record() == {"name": "duty", "channels": {}}
    (c,) = parse_contacts([contact("x", phone="1")])
    assert c.channels == {"phone": "1"}
    assert errors_of(parse_contacts, [contact("n" * 121)]) == [("contacts[0].name", "invalid_value")]
    assert errors_of(parse_contacts, [contact("   ")]) == [("contacts[0].name", "invalid_value")]
    assert errors_of(parse_contacts, [{"name": 5}]) == [("contacts[0].name", "invalid_value")]
    assert errors_of(parse_contacts, [{"channels": {}}]) == [("contacts[0].name", "invalid_value")]
    assert errors_of(parse_contacts, [contact("x", email="a" * 501)]) == [("contacts[0].channels", "invalid_value")]
    assert errors_of(parse_contacts, [contact("x", email="")]) == [("contacts[0].channels", "invalid_value")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([contact(), "duty"], [("contacts[1]", "invalid_value")]),
        ([contact(), 5], [("contacts[1]", "invalid_value")]),
        ([{"name": "x", "channels": ["email"]}], [("contacts[0].channels", "invalid_value")]),
        ([{"name": "x", "channels": {"email": 5}}], [("contacts[0].channels", "invalid_value")]),
        ([{"name": "x", "channels": {5: "a"}}], [("contacts[0].channels", "invalid_value")]),
        ([contact("x", pager="1")], [("contacts[0].channels.pager", "unknown_channel")]),
        ([{"name": "x", "rank": 1}], [("contacts[0].rank", "unknown_field")]),
        (
            [{"name": "x", "rank": 1, "unit": 2}, "y", contact("z", pager="1", fax="2"), {"name": ""}],
            [
                ("contacts[0].rank", "unknown_field"),
                ("contacts[0].unit", "unknown_field"),
                ("contacts[1]", "invalid_value"),
                ("contacts[2].channels.pager", "unknown_channel"),
                ("contacts[2].channels.fax", "unknown_channel"),
                ("contacts[3].name", "invalid_value"),
            ],
        ),
    ],
)
def test_every_contact_branch_with_its_bad_input(raw: Any, expected: list[tuple[str, str]]) -> None:
    assert errors_of(parse_contacts, raw) == expected


def test_every_channel_is_accepted_and_messages_name_the_limits() -> None:
    (c,) = parse_contacts([contact("x", **dict.fromkeys(CHANNELS, "a"))])
    assert set(c.channels) == {"email", "phone", "radio", "webhook", "other"}
    with pytest.raises(InvalidInput) as err:
        parse_contacts([])
    assert err.value.errors[0].message == "a list of 1 to 10 contacts, primary first"
    with pytest.raises(InvalidInput) as err:
        parse_contacts([5, {"name": ""}, {"name": "x", "channels": 1}, contact("x", pager="1"), {"name": "x", "r": 1}])
    assert [e.message for e in err.value.errors] == [
        "a contact is an object with name and channels",
        "a name of 1 to 120 characters",
        "channel -> address, both strings",
        "channels are email, phone, radio, webhook, other",
        "unknown member 'r'",
    ]


# ------------------------------------------------------------------------------------- notifications


def test_overdue_and_escalation_due_at_the_deadline() -> None:
    n = note()
    assert not n.is_overdue(s(199.999))
    assert n.is_overdue(s(200))
    assert not n.escalation_due(s(199.999))
    assert n.escalation_due(s(200))
    assert note(step=1, deadline=s(900)).is_overdue(NOW)  # escalated: a deadline was missed
    assert not note(deadline=None).is_overdue(s(10_000))
    assert not note(deadline=None).escalation_due(s(10_000))
    assert not note(at_coordinator=True, step=2).escalation_due(s(10_000))
    assert note(at_coordinator=True, step=2).is_overdue(s(10_000))
    for state in (NotificationState.ACKNOWLEDGED, NotificationState.SUPERSEDED):
        assert not note(state=state, step=1).is_overdue(s(10_000))
        assert not note(state=state).escalation_due(s(10_000))


def test_overdue_since_is_the_first_missed_deadline() -> None:
    assert note().overdue_since() == s(200)
    assert note(deadline=None).overdue_since() is None
    first = {"step": 1, "missed": "2026-11-23T07:53:20Z"}
    assert note(escalations=(first, {"missed": "2026-11-23T07:56:40Z"})).overdue_since() == s(200)
    assert note(escalations=({"step": 1},)).overdue_since() == s(200)


def test_escalate_walks_the_ladder_then_the_coordinator() -> None:
    ladder = (Contact("duty"), Contact("deputy"), Contact("third"))
    n = note(deadline=s(150), starts_at=s(600))  # 3 contacts + 1 share: 150 s
    with pytest.raises(ValueError, match="no escalation due"):
        escalate(n, ladder, now=s(149), policy=P)
    one = escalate(n, ladder, now=s(150), policy=P)
    assert (one.to, one.step, one.to_coordinator) == ("deputy", 1, False)
    # 450 s left, two contacts left (deputy, third) and the coordinators' share: 150 s
    assert one.notification.deadline == s(300)
    assert one.notification.step == 1
    assert one.notification.escalations == (
        {
            "step": 1,
            "to": "deputy",
            "at": format_time(s(150)),
            "missed": format_time(s(150)),
            "deadline": format_time(s(300)),
        },
    )
    two = escalate(one.notification, ladder, now=s(300), policy=P)
    assert (two.to, two.step, two.notification.deadline) == ("third", 2, s(450))
    three = escalate(two.notification, ladder, now=s(450), policy=P)
    assert (three.to, three.step, three.to_coordinator) == (COORDINATOR_STEP, 3, True)
    assert three.notification.at_coordinator
    assert three.notification.deadline == s(450)  # the last missed deadline stays
    assert three.notification.escalations[-1] == {
        "step": 3,
        "to": "coordinator",
        "at": format_time(s(450)),
        "missed": format_time(s(450)),
    }
    assert len(three.notification.escalations) == 3
    with pytest.raises(ValueError, match="no escalation due"):
        escalate(three.notification, ladder, now=s(10_000), policy=P)


def test_a_coordinators_own_ladder_keeps_no_share() -> None:
    ladder = (Contact("coord"), Contact("deputy coord"))
    n = note(kind=ESCALATION_KIND, deadline=s(300), starts_at=s(600))
    one = escalate(n, ladder, now=s(300), policy=P)
    assert one.notification.deadline == s(600)  # 300 s left, one contact, no share kept
    single = escalate(note(deadline=s(100)), (Contact("only"),), now=s(100), policy=P)
    assert single.to_coordinator and single.step == 1


def test_acknowledge_once_and_never_a_superseded_one() -> None:
    done = acknowledge(note(), by="pt_a", now=s(5))
    assert (done.state, done.acknowledged_at, done.acknowledged_by) == (NotificationState.ACKNOWLEDGED, s(5), "pt_a")
    with pytest.raises(InvalidTransition, match="acknowledged at 2026-11-23T07:50:05Z"):
        acknowledge(done, by="pt_a", now=s(6))
    with pytest.raises(InvalidTransition, match="superseded by nt_2"):
        acknowledge(note(state=NotificationState.SUPERSEDED, superseded_by="nt_2"), by="pt_a", now=s(6))


def test_a_notification_record_holds_every_member() -> None:
    n = note(unit_id="un_1", superseded_by=None, escalations=({"step": 1},), step=1)
    assert n.record() == {
        "id": "nt_1",
        "seq": 1,
        "party": "pt_a",
        "kind": "conflict.opened",
        "subject": "cf_1",
        "entry": 1,
        "body": {"content_version": 1},
        "created_at": "2026-11-23T07:50:00Z",
        "deadline": "2026-11-23T07:53:20Z",
        "state": "pending",
        "acknowledged_at": None,
        "acknowledged_by": None,
        "step": 1,
        "escalations": [{"step": 1}],
        "at_coordinator": False,
        "starts_at": "2026-11-23T08:00:00Z",
        "superseded_by": None,
        "unit": "un_1",
    }


def test_chase_of_is_the_newest_with_a_deadline_not_superseded() -> None:
    a = note(id="nt_a", seq=3)
    b = note(id="nt_b", seq=5, state=NotificationState.ACKNOWLEDGED)
    c = note(id="nt_c", seq=7, deadline=None)
    d = note(id="nt_d", seq=9, state=NotificationState.SUPERSEDED)
    assert chase_of([a, b, c, d]) == b
    assert chase_of([b, a]) == b
    assert chase_of([a]) == a
    assert chase_of([c, d]) is None
    assert chase_of([]) is None


def test_take_over_every_case() -> None:
    new = note(id="nt_new", seq=9, body={"content_version": 2}, deadline=s(200), starts_at=s(600))
    assert take_over(new, None, now=NOW, policy=P, contacts=2).notification == new
    # same version: information that names the chase
    same = note(id="nt_old", body={"content_version": 2})
    chase = take_over(new, same, now=NOW, policy=P, contacts=2)
    assert chase.notification.deadline is None
    assert chase.notification.body == {"content_version": 2, "chase": "nt_old"}
    assert chase.superseded is None
    # versions absent on both sides are not "the same"
    unversioned = take_over(note(body={}), note(id="nt_old", body={}), now=NOW, policy=P, contacts=2)
    assert unversioned.notification.body == {"takes_over": "nt_old"}
    # changed, prior acknowledged: a chase of its own
    acked = note(id="nt_old", state=NotificationState.ACKNOWLEDGED)
    assert take_over(new, acked, now=NOW, policy=P, contacts=2) == take_over(new, None, now=NOW, policy=P, contacts=2)
    # changed while pending: takes over at the step reached, deadline no later than inherited
    rec = ({"step": 1, "missed": "x"},)
    prior = note(id="nt_old", step=1, deadline=s(500), escalations=rec)
    taken = take_over(new, prior, now=NOW, policy=P, contacts=3)
    # 600 s left, 3 - 1 = 2 contacts left plus the coordinators' share: 200 s, earlier than 500
    assert taken.notification.deadline == s(200)
    assert (taken.notification.step, taken.notification.escalations) == (1, rec)
    assert taken.notification.body == {"content_version": 2, "takes_over": "nt_old"}
    assert taken.superseded == note(
        id="nt_old",
        step=1,
        deadline=s(500),
        escalations=rec,
        state=NotificationState.SUPERSEDED,
        superseded_by="nt_new",
    )
    earlier = note(id="nt_old", step=1, deadline=s(100))
    assert take_over(new, earlier, now=NOW, policy=P, contacts=3).notification.deadline == s(100)
    # contacts left never below one
    far = note(id="nt_old", step=5, deadline=s(10_000))
    assert take_over(new, far, now=NOW, policy=P, contacts=2).notification.deadline == s(300)
    # at the coordinator: the deadline it missed is kept, nothing recomputed
    at = note(id="nt_old", step=3, deadline=s(50), at_coordinator=True)
    got = take_over(new, at, now=NOW, policy=P, contacts=2).notification
    assert (got.deadline, got.at_coordinator, got.step) == (s(50), True, 3)
    # a coordinator's own notification keeps no share
    esc = note(id="nt_new", kind=ESCALATION_KIND, body={"content_version": 2}, starts_at=s(600))
    assert take_over(esc, note(id="nt_old", deadline=s(900)), now=NOW, policy=P, contacts=1).notification.deadline == s(
        600
    )


# ------------------------------------------------------------------------------ windows and bands


def test_windows_at_their_edges() -> None:
    instant = TimeWindow.of(NOW, NOW, LIMITS)
    assert instant.is_instant and instant == TimeWindow(NOW, NOW)
    longest = TimeWindow.of(NOW, s(LIMITS.max_window_s), LIMITS)
    assert longest.end == s(14 * 86_400)
    assert errors_of(TimeWindow.of, NOW, s(14 * 86_400 + 1), LIMITS) == [("end", "window_too_long")]
    assert errors_of(TimeWindow.of, NOW, s(-0.000001), LIMITS) == [("end", "window_inverted")]
    with pytest.raises(InvalidInput, match=r"lasts 336\.0 h; at most 336\.0 h"):
        TimeWindow.of(NOW, s(14 * 86_400 + 1), LIMITS)
    with pytest.raises(InvalidInput, match="end 2026-11-23T07:49:59Z is before start 2026-11-23T07:50:00Z"):
        TimeWindow.of(NOW, s(-1), LIMITS)


def test_window_intersection_and_gaps() -> None:
    w = TimeWindow(NOW, s(10))
    assert w.intersects(TimeWindow(s(9), s(20)))
    assert not w.intersects(TimeWindow(s(10), s(20)))  # half-open: meeting is not intersecting
    assert not TimeWindow(s(10), s(20)).intersects(w)
    assert w.intersects(TimeWindow(NOW, NOW))  # an instant at the start is inside
    assert TimeWindow(NOW, NOW).intersects(w)
    assert not w.intersects(TimeWindow(s(10), s(10)))  # at the end is not
    assert not TimeWindow(s(10), s(10)).intersects(w)
    assert not w.intersects(TimeWindow(s(-1), s(-1)))
    assert TimeWindow(s(5), s(5)).intersects(TimeWindow(s(5), s(5)))
    assert not TimeWindow(s(5), s(5)).intersects(TimeWindow(s(6), s(6)))
    assert w.gap_s(TimeWindow(s(15), s(20))) == 5.0
    assert TimeWindow(s(15), s(20)).gap_s(w) == 5.0
    assert w.gap_s(TimeWindow(s(5), s(20))) == 0.0
    assert w.meeting(TimeWindow(s(5), s(20))) == TimeWindow(s(5), s(10))
    assert w.meeting(TimeWindow(s(15), s(20))) == TimeWindow(s(10), s(15))
    assert w.hull(TimeWindow(s(15), s(20))) == TimeWindow(NOW, s(20))
    assert TimeWindow(s(15), s(20)).hull(w) == TimeWindow(NOW, s(20))


def test_bands_at_their_edges() -> None:
    top = AltitudeBand.of(LIMITS.max_altitude_m, LIMITS.max_altitude_m, LIMITS)
    assert top == AltitudeBand(100_000.0, 100_000.0)
    assert AltitudeBand.of(-1_000, -1_000, LIMITS).lower_m == -1_000.0
    assert isinstance(AltitudeBand.of(1, 2, LIMITS).lower_m, float)
    assert AltitudeBand.of(5, 5, LIMITS) == AltitudeBand(5.0, 5.0)
    assert errors_of(AltitudeBand.of, 0, 100_000.001, LIMITS) == [("upper_m", "out_of_range")]
    assert errors_of(AltitudeBand.of, -1_000.001, 0, LIMITS) == [("lower_m", "out_of_range")]
    assert errors_of(AltitudeBand.of, math.nan, 0, LIMITS) == [("lower_m", "out_of_range")]
    assert errors_of(AltitudeBand.of, 0, math.inf, LIMITS) == [("upper_m", "out_of_range")]
    assert errors_of(AltitudeBand.of, 10, 9.999, LIMITS) == [("lower_m", "altitude_inverted")]
    assert errors_of(AltitudeBand.of, 0, 10, LIMITS, "AMSL") == [("reference", "unsupported_reference")]
    assert errors_of(AltitudeBand.of, 10, 0, LIMITS, "AMSL") == [("reference", "unsupported_reference")]
    assert errors_of(AltitudeBand.of, -2_000, 200_000, LIMITS) == [
        ("lower_m", "out_of_range"),
        ("upper_m", "out_of_range"),
    ]
    with pytest.raises(InvalidInput) as err:
        AltitudeBand.of(-2_000, 10, LIMITS, "AMSL")
    assert [e.message for e in err.value.errors] == [
        "altitude reference 'AMSL' is not supported; send metres above the WGS84 ellipsoid ('W84')",
        "lower_m -2000 is outside [-1000, 100000] m",
    ]
    with pytest.raises(InvalidInput, match=r"lower_m 10 is above upper_m 9\.5"):
        AltitudeBand.of(10, 9.5, LIMITS)


def test_band_gaps_meetings_and_hulls() -> None:
    a, b = AltitudeBand(0, 100), AltitudeBand(150, 300)
    assert a.gap_m(b) == b.gap_m(a) == 50.0
    assert a.gap_m(AltitudeBand(50, 60)) == 0.0
    assert a.meeting(b) == AltitudeBand(100, 150)
    assert a.meeting(AltitudeBand(50, 300)) == AltitudeBand(50, 100)
    assert a.hull(b) == b.hull(a) == AltitudeBand(0, 300)


def test_times_are_read_with_an_offset_only() -> None:
    assert parse_time(" 2026-11-23T09:50:00+02:00 ", "start") == NOW
    assert parse_time(NOW, "start") == NOW
    assert parse_time("2026-11-23T07:50:00Z", "start").tzinfo is UTC
    for raw, code in (
        ("2026-11-23T07:50:00", "time_without_offset"),
        (datetime(2026, 11, 23), "time_without_offset"),
        ("yesterday", "invalid_time"),
        (5, "invalid_time"),
    ):
        assert errors_of(parse_time, raw, "start") == [("start", code)]
    with pytest.raises(InvalidInput, match="expected an RFC 3339 time string, got int"):
        parse_time(5, "start")
    with pytest.raises(InvalidInput, match="not an RFC 3339 time: 'yesterday'"):
        parse_time("yesterday", "start")
    with pytest.raises(InvalidInput, match="2026-11-23T07:50:00 has no UTC offset; add Z or"):
        parse_time("2026-11-23T07:50:00", "start")
    assert format_time(NOW) == "2026-11-23T07:50:00Z"
    assert format_time(NOW + timedelta(microseconds=5)) == "2026-11-23T07:50:00.000005Z"


# ------------------------------------------------------------------------------- the exactness rule


def test_half_a_millimetre_on_both_sides() -> None:
    assert ALLOWANCE_M == 0.0005
    assert threshold_m(304.8) == 304.8 - 0.0005
    assert not closer_than(304.8, 304.8)
    assert not closer_than(304.7996, 304.8)  # 0.4 mm closer: at the minimum
    assert closer_than(304.799, 304.8)  # a millimetre closer
    got = closer_than(np.array([304.8, 304.7996, 304.799]), 304.8)
    assert got.tolist() == [False, False, True]
    got = closer_than(np.array([10.0, 10.0]), np.array([10.0, 10.002]))
    assert got.tolist() == [False, True]


# ------------------------------------------------------------------------------ the acknowledgement gate


def test_acknowledged_versions_and_what_they_cover() -> None:
    assert acknowledged_version({"content_version": 3, "version": 1}) == 3
    assert acknowledged_version({"version": 2}) == 2
    assert acknowledged_version({"content_version": True}) is None
    assert acknowledged_version({"content_version": "3"}) is None
    assert acknowledged_version({}) is None
    assert covers([1, 3], 3)
    assert covers([4], 3)
    assert not covers([2, None], 3)
    assert not covers([], 1)


def test_overrides_at_their_limits() -> None:
    ok = check_overrides([Override("cf_1", "  " + "r" * MAX_REASON + " "), Override("cf_2", "x")])
    assert ok == (Override("cf_1", "r" * 1000), Override("cf_2", "x"))
    assert check_overrides([]) == ()
    with pytest.raises(InvalidInput) as err:
        check_overrides(
            [
                Override("", "why"),
                Override("cf_1", "r" * 1001),
                Override("cf_2", "   "),
                Override("cf_2", "again"),
                Override("cf_3", "fine"),
            ]
        )
    assert [(e.field, e.code, e.message) for e in err.value.errors] == [
        ("override[0].conflict", "missing_field", "the id of the conflict overridden"),
        ("override[1].reason", "too_long", "a reason has at most 1000 characters"),
        ("override[2].reason", "missing_reason", "an override needs a reason"),
        ("override[3].conflict", "duplicate", "conflict cf_2 is named twice"),
    ]


def test_volumes_compare_by_their_parts() -> None:
    from deconfliction.domain.volume import Volume4D

    disc = parse_shape(circle([35.0, 40.0], 500), LIMITS)
    other = parse_shape(circle([35.0, 40.0], 501), LIMITS)
    band, window = AltitudeBand(0, 100), TimeWindow(NOW, s(60))
    v = Volume4D.create(disc, band, window)
    assert v.shape is not None and (v.footprint, v.altitude, v.window) == (disc, band, window)
    same = Volume4D.create(disc, band, window)
    assert v == same and hash(v) == hash(same) and len({v, same}) == 1
    assert v != Volume4D.create(other, band, window)
    assert v != Volume4D.create(disc, AltitudeBand(0, 101), window)
    assert v != Volume4D.create(disc, band, TimeWindow(NOW, s(61)))
    assert v != "volume" and v.__eq__("volume") is NotImplemented


def test_more_edges_on_both_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    # refusals carry the state and what was asked for
    with pytest.raises(InvalidTransition) as err:
        acknowledge(acknowledge(note(), by="pt_a", now=s(1)), by="pt_a", now=s(2))
    assert err.value.extra == {"state": "acknowledged", "requested": "acknowledged"}
    with pytest.raises(InvalidTransition) as err:
        acknowledge(note(state=NotificationState.SUPERSEDED, superseded_by="nt_2"), by="pt_a", now=s(2))
    assert err.value.extra == {"state": "superseded", "requested": "acknowledged"}
    assert acknowledge(note(), by="pt_a", now=s(1)).record()["acknowledged_at"] == "2026-11-23T07:50:01Z"
    # a deadline asks one contact and keeps the coordinators' share by default
    assert P.deadline(NOW, s(600)) == s(300)
    # a pending chase at the coordinators keeps its deadline even when a fresh share would end later
    new = note(id="nt_new", body={"content_version": 2})
    at = note(id="nt_old", step=3, deadline=s(900), at_coordinator=True)
    assert take_over(new, at, now=NOW, policy=P, contacts=2).notification.deadline == s(900)
    # an instant inside a window, not at its start
    assert TimeWindow(s(5), s(5)).intersects(TimeWindow(NOW, s(10)))
    assert TimeWindow(NOW, s(10)).intersects(TimeWindow(s(5), s(5)))
    # exactly at the threshold is not closer, as one value or an array
    edge = threshold_m(304.8)
    assert not closer_than(edge, 304.8)
    assert closer_than(np.array([edge, np.nextafter(edge, 0)]), 304.8).tolist() == [False, True]
    # an error after a duplicate override is still reported
    with pytest.raises(InvalidInput) as bad:
        check_overrides([Override("cf_1", "a"), Override("cf_1", "b"), Override("cf_2", " ")])
    assert [e.code for e in bad.value.errors] == ["duplicate", "missing_reason"]
    # times are written in UTC whatever the machine's zone
    monkeypatch.setenv("TZ", "Asia/Damascus")
    time.tzset()
    try:
        assert format_time(NOW) == "2026-11-23T07:50:00Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_section_messages() -> None:
    from deconfliction.domain.acknowledgement import AcknowledgementPolicy

    with pytest.raises(InvalidInput) as err:
        AcknowledgementPolicy.from_mapping([])
    assert err.value.errors[0].message == 'an object of conflict kind -> "none" | "activate" | "plan"'
    with pytest.raises(InvalidInput) as err:
        AcknowledgementPolicy.from_mapping({"operation": "approve"})
    assert err.value.errors[0].message == 'expected "none", "activate" or "plan"'
    with pytest.raises(InvalidInput) as err:
        EscalationPolicy.from_mapping(5)
    assert err.value.errors[0].message == "an object: {default_s, floor_s, coordinator_shares}"
