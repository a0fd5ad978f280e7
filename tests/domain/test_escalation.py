"""The escalation rule (pure): each step's share of the time left before the danger, its floor and its
ceiling; the next step recomputed from what is then left; the policy file's ``escalation`` section,
validated member by member; every place that builds a Runtime takes it from the settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deconfliction.domain.notification import (
    Contact,
    EscalationPolicy,
    Notification,
    NotificationState,
    chase_of,
    escalate,
    first_deadline,
    take_over,
)
from deconfliction.errors import InvalidInput
from deconfliction.settings import Settings

NOW = datetime(2026, 11, 23, 7, 50, tzinfo=UTC)
POLICY = EscalationPolicy()
TWO = (Contact("duty officer"), Contact("deputy"))


def note(deadline: datetime | None, starts_at: datetime | None, **kw: Any) -> Notification:
    return Notification(
        "nt_1",
        1,
        "pt_a",
        "conflict.opened",
        "cf_1",
        1,
        {"content_version": 1},
        NOW,
        deadline,
        starts_at=starts_at,
        **kw,
    )


@pytest.mark.parametrize(
    ("left_s", "contacts", "expected_s"),
    [
        (600, 2, 200),  # a strike 10 minutes ahead, two contacts: a third each, a third for the coordinators
        (400, 1, 200),  # the deputy, 6:40 before
        (24 * 3600, 2, 900),  # far ahead: never longer than default_s
        (90, 2, 60),  # too close for a share of a minute: the floor
        (0, 2, 60),  # starting now
        (-3600, 2, 60),  # in force for an hour
    ],
)
def test_each_step_shares_the_time_left(left_s: float, contacts: int, expected_s: float) -> None:
    assert POLICY.step_s(NOW, NOW + timedelta(seconds=left_s), contacts) == expected_s


def test_no_danger_time_is_the_default_and_the_last_ladder_keeps_no_share() -> None:
    assert POLICY.step_s(NOW, None, 3) == 900
    assert POLICY.deadline(NOW, None) == NOW + timedelta(minutes=15)
    # a coordinator's own ladder (nobody after it): its one contact has until the start
    assert first_deadline(POLICY, NOW, NOW + timedelta(seconds=200), 1, "escalation") == NOW + timedelta(seconds=200)
    assert EscalationPolicy(coordinator_shares=2).step_s(NOW, NOW + timedelta(seconds=600), 2) == 150


def test_escalate_recomputes_from_what_is_left() -> None:
    start = NOW + timedelta(minutes=10)
    n = note(first_deadline(POLICY, NOW, start, len(TWO)), start)
    assert n.deadline == NOW + timedelta(seconds=200)
    late = NOW + timedelta(seconds=260)  # the round ran a minute late: the deputy's share is of what is left
    step = escalate(n, TWO, now=late, policy=POLICY)
    assert (step.to, step.step, step.notification.deadline) == ("deputy", 1, late + timedelta(seconds=170))
    last = escalate(step.notification, TWO, now=late + timedelta(seconds=170), policy=POLICY)
    assert last.to_coordinator and last.notification.at_coordinator
    # no danger time: the default, as before
    plain = escalate(note(NOW, None), TWO, now=NOW, policy=POLICY)
    assert plain.notification.deadline == NOW + timedelta(minutes=15)


def test_one_version_one_chase() -> None:
    start = NOW + timedelta(minutes=10)
    prior = note(NOW + timedelta(seconds=100), start, step=1, escalations=({"step": 1, "to": "deputy"},))
    same = Notification(
        "nt_2", 2, "pt_a", "conflict.updated", "cf_1", 2, {"content_version": 1}, NOW, NOW + timedelta(seconds=200)
    )
    info = take_over(same, prior, now=NOW, policy=POLICY, contacts=2)
    assert info.superseded is None and info.notification.deadline is None
    assert info.notification.body["chase"] == "nt_1"
    changed = Notification(
        "nt_3",
        3,
        "pt_a",
        "conflict.updated",
        "cf_1",
        3,
        {"content_version": 3},
        NOW,
        NOW + timedelta(seconds=200),
        starts_at=NOW + timedelta(seconds=60),  # the revision starts sooner: a shorter share than inherited
    )
    taken = take_over(changed, prior, now=NOW, policy=POLICY, contacts=2)
    assert taken.superseded is not None and taken.superseded.state is NotificationState.SUPERSEDED
    assert taken.superseded.superseded_by == "nt_3" and taken.notification.body["takes_over"] == "nt_1"
    assert (taken.notification.step, taken.notification.escalations) == (1, prior.escalations)
    assert taken.notification.deadline == NOW + timedelta(seconds=60)  # the floor, before the inherited 100 s
    acknowledged = replace_state(prior, NotificationState.ACKNOWLEDGED)
    fresh = take_over(changed, acknowledged, now=NOW, policy=POLICY, contacts=2)
    assert fresh.superseded is None and fresh.notification == changed
    assert chase_of([prior, info.notification]) == prior
    assert chase_of([taken.superseded, taken.notification]) == taken.notification
    # late and listed: a missed deadline, current or earlier
    assert prior.is_overdue(NOW) and not taken.superseded.is_overdue(NOW + timedelta(days=1))
    assert not taken.superseded.escalation_due(NOW + timedelta(days=1))


def replace_state(n: Notification, state: NotificationState) -> Notification:
    from dataclasses import replace

    return replace(n, state=state)


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"pace": 3}, "escalation.pace"),
        ({"floor_s": 0}, "escalation.floor_s"),
        ({"floor_s": True}, "escalation.floor_s"),
        ({"default_s": "15m"}, "escalation.default_s"),
        ({"default_s": float("inf")}, "escalation.default_s"),
        ({"floor_s": 1000}, "escalation.floor_s"),  # more than default_s
        ({"default_s": 30 * 24 * 3600, "floor_s": 10}, "escalation.default_s"),
        ({"coordinator_shares": 0}, "escalation.coordinator_shares"),
        ({"coordinator_shares": 1.5}, "escalation.coordinator_shares"),
        ([60], "escalation"),
    ],
)
def test_a_bad_section_is_refused_by_name(section: object, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        EscalationPolicy.from_mapping(section)
    assert e.value.errors[0].field == field


def test_the_policy_file_section_reaches_every_runtime(tmp_path: Path) -> None:
    from deconfliction.cli import _runtime

    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps({"air-air": {"horizontal_m": 5556}, "escalation": {"default_s": 600, "floor_s": 30}}),
        encoding="utf-8",
    )
    settings = Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite", policy_file=str(path))
    assert settings.escalation() == EscalationPolicy(default_s=600, floor_s=30, coordinator_shares=1)
    assert settings.policy().rules["air-air"].horizontal_m == 5556  # the section is not a pair of kinds
    rt = _runtime(settings)
    try:
        assert rt.escalation == settings.escalation()
    finally:
        rt.store.close()
    assert Settings().escalation() == EscalationPolicy()  # no file: the defaults
    path.write_text(json.dumps({"escalation": {"floor_s": 30, "ceiling_s": 60}}), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"escalation\.ceiling_s"):
        settings.escalation()
