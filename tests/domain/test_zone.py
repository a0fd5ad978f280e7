"""Zones of responsibility: the state machine, versions, and the errors people get.

* every (state, action) pair of the table is either allowed or refused with ``InvalidTransition`` naming
  the state and the action;
* answers: agreed when every counter-party accepted, rejected at the first rejection, final, and only
  from counter-parties (``Forbidden`` otherwise, the owner included);
* versions: a revision is a new proposed version; when it is agreed it supersedes the agreed one, which
  stays in the history unchanged but for its state; a rejected revision leaves the agreed one in force;
* random sequences of actions by random parties keep the invariants: at most one agreed and at most one
  proposed version per zone, versions numbered 1..n, a superseded version always older than an agreed
  or superseded one that replaced it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from deconfliction.domain.footprint import Footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.volume import TimeWindow
from deconfliction.domain.zone import (
    ALLOWED,
    Zone,
    ZoneAction,
    ZoneAnswer,
    ZoneState,
    answer_zone,
    propose_zone,
    revise_zone,
    supersede_zone,
    withdraw_zone,
)
from deconfliction.errors import Forbidden, InvalidInput, InvalidTransition
from tests.oracle import examples
from tests.shapes import circle, parse_shape

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
VALIDITY = TimeWindow(T0, T0 + timedelta(days=90))
LIMITS = Limits()


def square(lon: float, lat: float, size: float = 0.1) -> Footprint:
    pts = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return parse_shape({"type": "Polygon", "coordinates": [pts]}, LIMITS)


AREA = square(30.0, 10.0)


def proposed(counterparties: tuple[str, ...] = ("bravo", "charlie")) -> Zone:
    return propose_zone(
        zone_id="z1",
        owner_id="alpha",
        counterparties=list(counterparties),
        footprint=AREA,
        validity=VALIDITY,
        now=T0,
        name="north bank",
    )


def agree(zone: Zone, current: Zone | None = None) -> tuple[Zone, Zone | None]:
    superseded = None
    for p in zone.pending:
        change = answer_zone(zone, party_id=p, answer=ZoneAnswer.ACCEPTED, now=T0, current_agreed=current)
        zone, superseded = change.zone, change.superseded
    return zone, superseded


def in_state(state: ZoneState) -> Zone:
    zone = proposed()
    if state is ZoneState.PROPOSED:
        return zone
    if state is ZoneState.REJECTED:
        return answer_zone(zone, party_id="bravo", answer=ZoneAnswer.REJECTED, now=T0).zone
    agreed, _ = agree(zone)
    if state is ZoneState.AGREED:
        return agreed
    if state is ZoneState.WITHDRAWN:
        return withdraw_zone(agreed, party_id="alpha", now=T0)
    return supersede_zone(agreed, now=T0)


def act(zone: Zone, action: ZoneAction) -> Any:
    if action is ZoneAction.ANSWER:
        return answer_zone(zone, party_id="charlie", answer=ZoneAnswer.ACCEPTED, now=T0)
    if action is ZoneAction.REVISE:
        return revise_zone(zone, party_id="alpha", now=T0, footprint=square(30.0, 10.0, 0.2))
    if action is ZoneAction.WITHDRAW:
        return withdraw_zone(zone, party_id="alpha", now=T0)
    return supersede_zone(zone, now=T0)


TABLE = {
    ZoneState.PROPOSED: {ZoneAction.ANSWER, ZoneAction.WITHDRAW},
    ZoneState.AGREED: {ZoneAction.REVISE, ZoneAction.WITHDRAW, ZoneAction.SUPERSEDE},
    ZoneState.REJECTED: {ZoneAction.REVISE},
    ZoneState.SUPERSEDED: set(),
    ZoneState.WITHDRAWN: {ZoneAction.REVISE},
}


def test_the_table_is_the_documented_one() -> None:
    assert {s: set(a) for s, a in ALLOWED.items()} == TABLE


@pytest.mark.parametrize("state", list(ZoneState))
@pytest.mark.parametrize("action", list(ZoneAction))
def test_every_state_and_action(state: ZoneState, action: ZoneAction) -> None:
    zone = in_state(state)
    assert zone.state is state
    if action in TABLE[state]:
        act(zone, action)
        return
    with pytest.raises(InvalidTransition) as e:
        act(zone, action)
    assert e.value.extra == {"state": state.value, "action": action.value}
    assert f"is {state.value}" in e.value.message and f"cannot {action.value}" in e.value.message


# ------------------------------------------------------------------------------------------- answers


def test_agreed_when_every_counterparty_accepted() -> None:
    zone = proposed()
    one = answer_zone(zone, party_id="charlie", answer=ZoneAnswer.ACCEPTED, now=T0 + timedelta(minutes=1)).zone
    assert (one.state, one.pending, one.answer_of("charlie"), one.revision) == (
        ZoneState.PROPOSED,
        ("bravo",),
        ZoneAnswer.ACCEPTED,
        2,
    )
    two = answer_zone(one, party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0 + timedelta(minutes=2))
    assert two.zone.state is ZoneState.AGREED and two.superseded is None and two.changed == (two.zone,)
    assert two.zone.answers == (("bravo", ZoneAnswer.ACCEPTED), ("charlie", ZoneAnswer.ACCEPTED))
    assert (two.zone.revision, two.zone.updated_at, two.zone.created_at) == (3, T0 + timedelta(minutes=2), T0)
    assert zone.state is ZoneState.PROPOSED and zone.answers == ()  # values, never mutated


def test_rejected_at_the_first_rejection() -> None:
    zone = answer_zone(proposed(), party_id="charlie", answer=ZoneAnswer.ACCEPTED, now=T0).zone
    rejected = answer_zone(zone, party_id="bravo", answer=ZoneAnswer.REJECTED, now=T0).zone
    assert rejected.state is ZoneState.REJECTED
    assert rejected.answer_of("bravo") is ZoneAnswer.REJECTED


@pytest.mark.parametrize("party", ["alpha", "delta", ""])
def test_only_counterparties_answer(party: str) -> None:
    with pytest.raises(Forbidden, match=f"party {party} is not a counter-party of zone z1; only bravo, charlie"):
        answer_zone(proposed(), party_id=party, answer=ZoneAnswer.ACCEPTED, now=T0)


@pytest.mark.parametrize("second", list(ZoneAnswer))
def test_an_answer_is_final(second: ZoneAnswer) -> None:
    zone = answer_zone(proposed(), party_id="bravo", answer=ZoneAnswer.ACCEPTED, now=T0).zone
    with pytest.raises(InvalidTransition, match="bravo already answered accepted; an answer is final"):
        answer_zone(zone, party_id="bravo", answer=second, now=T0)


# ------------------------------------------------------------------------------------------ versions


def test_new_agreed_version_supersedes_the_old_which_stays() -> None:
    v1, _ = agree(proposed())
    v2 = revise_zone(v1, party_id="alpha", now=T0 + timedelta(days=1), footprint=square(30.0, 10.0, 0.2))
    assert (v2.id, v2.version, v2.state, v2.answers, v2.revision) == ("z1", 2, ZoneState.PROPOSED, (), 1)
    assert (v2.counterparties, v2.name, v2.validity) == (v1.counterparties, v1.name, v1.validity)  # carried over
    assert v1.state is ZoneState.AGREED  # still in force while v2 is answered
    v2_agreed, superseded = agree(v2, current=v1)
    assert v2_agreed.state is ZoneState.AGREED
    assert superseded is not None and superseded.state is ZoneState.SUPERSEDED
    assert (superseded.version, superseded.footprint, superseded.revision) == (1, v1.footprint, v1.revision + 1)


def test_rejected_revision_leaves_the_agreed_version_in_force() -> None:
    v1, _ = agree(proposed())
    v2 = revise_zone(v1, party_id="alpha", now=T0, validity=TimeWindow(T0, T0 + timedelta(days=365)))
    v2r = answer_zone(v2, party_id="bravo", answer=ZoneAnswer.REJECTED, now=T0, current_agreed=v1)
    assert v2r.zone.state is ZoneState.REJECTED and v2r.superseded is None
    v3 = revise_zone(v2r.zone, party_id="alpha", now=T0, counterparties=["bravo"])
    assert (v3.version, v3.counterparties) == (3, ("bravo",))
    v3_agreed, superseded = agree(v3, current=v1)
    assert v3_agreed.state is ZoneState.AGREED and superseded is not None and superseded.version == 1


def test_only_the_owner_revises_and_withdraws() -> None:
    v1, _ = agree(proposed())
    with pytest.raises(Forbidden, match="only its owner alpha"):
        revise_zone(v1, party_id="bravo", now=T0)
    with pytest.raises(Forbidden, match="only its owner alpha"):
        withdraw_zone(v1, party_id="bravo", now=T0)


def test_current_agreed_must_be_an_older_version_of_the_same_zone() -> None:
    v1, _ = agree(proposed())
    other = propose_zone(
        zone_id="z2", owner_id="alpha", counterparties=["bravo"], footprint=AREA, validity=VALIDITY, now=T0
    )
    v2 = revise_zone(v1, party_id="alpha", now=T0)
    with pytest.raises(ValueError, match="older version of zone z1"):
        agree(v2, current=agree(other)[0])


def test_in_force() -> None:
    zone = proposed()
    inside = TimeWindow(T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert not zone.in_force(inside)  # proposed: not yet
    agreed, _ = agree(zone)
    assert agreed.in_force(inside)
    assert agreed.in_force(TimeWindow(T0 - timedelta(days=1), T0 + timedelta(seconds=1)))
    assert not agreed.in_force(TimeWindow(VALIDITY.end, VALIDITY.end + timedelta(days=1)))  # half-open
    assert not agreed.in_force(TimeWindow(T0 - timedelta(days=1), T0))


# ----------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"counterparties": []}, "counterparties", "required"),
        ({"counterparties": ["bravo", "alpha"]}, "counterparties[1]", "owner_as_counterparty"),
        ({"counterparties": ["bravo", "bravo"]}, "counterparties[1]", "duplicate"),
        ({"counterparties": ["bravo", ""]}, "counterparties[1]", "invalid"),
        ({"validity": TimeWindow(T0, T0)}, "validity.end", "window_empty"),
        (
            {"footprint": parse_shape(circle([30, 10], 500), LIMITS)},
            "footprint.type",
            "not_a_polygon",
        ),
    ],
)
def test_bad_proposals_name_the_field(changes: dict[str, Any], field: str, code: str) -> None:
    args: dict[str, Any] = {
        "zone_id": "z1",
        "owner_id": "alpha",
        "counterparties": ["bravo"],
        "footprint": AREA,
        "validity": VALIDITY,
        "now": T0,
    }
    with pytest.raises(InvalidInput) as e:
        propose_zone(**(args | changes))
    assert (e.value.errors[0].field, e.value.errors[0].code) == (field, code)


# ------------------------------------------------------------------------------------ random histories

PARTIES = ["alpha", "bravo", "charlie", "delta"]
steps = st.lists(
    st.tuples(
        st.sampled_from(["answer"] * 5 + ["revise"] * 2 + ["withdraw"]),
        st.sampled_from([*PARTIES, "bravo", "charlie", "bravo", "charlie"]),  # mostly counter-parties
        st.sampled_from([ZoneAnswer.ACCEPTED] * 4 + [ZoneAnswer.REJECTED]),
        st.integers(0, 5),
    ),
    max_size=40,
)


@settings(max_examples=examples(200))
@given(steps)
def test_random_histories_keep_the_invariants(history: list[tuple[str, str, ZoneAnswer, int]]) -> None:
    """Any sequence of actions by any party on any version: each is applied or refused with one of the
    documented errors, and the zone's history always satisfies the invariants."""
    versions: dict[int, Zone] = {1: proposed()}
    for action, party, answer, pick in history:
        zone = versions[sorted(versions)[pick % len(versions)]]
        current = next((z for z in versions.values() if z.state is ZoneState.AGREED), None)
        if action != "answer" and pick % 2 == 0:
            party = "alpha"  # mostly the owner, who may revise and withdraw
        pending = [z for z in versions.values() if z.state is ZoneState.PROPOSED]
        if action == "answer" and pending and pick % 3 != 0:
            zone = pending[0]  # mostly the version waiting for answers
        try:
            if action == "answer":
                change = answer_zone(zone, party_id=party, answer=answer, now=T0, current_agreed=current)
                for z in change.changed:
                    versions[z.version] = z
            elif action == "revise":
                latest = versions[max(versions)]
                new = revise_zone(latest, party_id=party, now=T0)
                versions[new.version] = new
            else:
                versions[zone.version] = withdraw_zone(zone, party_id=party, now=T0)
        except (Forbidden, InvalidTransition):
            pass
        states = [z.state for z in versions.values()]
        assert states.count(ZoneState.AGREED) <= 1
        assert states.count(ZoneState.PROPOSED) <= 1
        assert sorted(versions) == list(range(1, len(versions) + 1))
        for z in versions.values():
            assert z.id == "z1" and z.owner_id == "alpha"
            assert set(dict(z.answers)) <= set(z.counterparties)
            if z.state is ZoneState.AGREED:
                assert dict(z.answers) == dict.fromkeys(z.counterparties, ZoneAnswer.ACCEPTED)
            if z.state is ZoneState.SUPERSEDED:
                assert any(
                    o.version > z.version and o.state in (ZoneState.AGREED, ZoneState.SUPERSEDED, ZoneState.WITHDRAWN)
                    for o in versions.values()
                )
    for state in sorted({z.state for z in versions.values()}):
        event(f"reached: {state}")
