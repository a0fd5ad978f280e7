"""The exercise clock in process, on both backends: a database is live or exercise and never both; the
scenario clock is anchored in the database so that processes agree; a coordinator's jump drives a whole
ladder in seconds of real time; every entry of an exercise is marked; the tactical cycle and signature
freshness use the right clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyproj import Geod

from deconfliction.domain.exercise import ScenarioAnchor
from deconfliction.domain.ledger import verify
from deconfliction.domain.party import Party, Role
from deconfliction.domain.signing import SignedRequest, b64url, sign_request
from deconfliction.domain.tactical import PositionReport
from deconfliction.errors import Forbidden, InvalidInput, NotAnExercise
from deconfliction.service import exercise
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service.exercise import DeploymentMismatch, open_deployment, start_exercise
from deconfliction.service.ledger import export_ledger
from deconfliction.service.parties import create_party
from deconfliction.service.replay import replay
from deconfliction.service.runtime import Runtime
from deconfliction.service.signing import register_key
from deconfliction.service.tactical.setup import build_tactical
from deconfliction.settings import Settings
from deconfliction.store import open_store
from deconfliction.store.ports import Store
from tests.conftest import T0, FakeClock
from tests.service.test_operations import draft

START = T0 - timedelta(days=1)
"""The scenario starts a day before the drafts' operations (T0), far from the real time."""


def _cell(rt: Runtime) -> dict[str, Party]:
    out = {}
    for name, role in (("cell", Role.COORDINATOR), ("alpha", Role.PARTY), ("bravo", Role.PARTY)):
        out[name] = create_party(rt, None, name, role)[0]
    return out


def _url(store: Store, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path}/test.db" if store.backend == "sqlite" else request.getfixturevalue("postgres_url")


def test_the_anchor_computes_scenario_time() -> None:
    real0 = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    anchor = ScenarioAnchor(START, real0, speed=60.0)
    assert anchor.at(real0) == START
    assert anchor.at(real0 + timedelta(seconds=1)) == START + timedelta(minutes=1)
    assert anchor.advanced_by(900).at(real0 + timedelta(seconds=2)) == START + timedelta(minutes=17)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="speed"):
            ScenarioAnchor(START, real0, speed=bad)


def test_settings_are_validated_naming_the_variable() -> None:
    s = Settings.from_env({"DECONFLICTION_EXERCISE_START": "2016-09-17T15:30:00+01:00"})
    assert (s.exercise_start, s.exercise_speed) == (datetime(2016, 9, 17, 14, 30, tzinfo=UTC), 1.0)
    s = Settings.from_env(
        {"DECONFLICTION_EXERCISE_START": "2016-09-17T14:30:00Z", "DECONFLICTION_EXERCISE_SPEED": "60"}
    )
    assert s.exercise_speed == 60.0
    assert Settings.from_env({}).exercise_start is None
    for env, named in (
        ({"DECONFLICTION_EXERCISE_START": "tomorrow"}, "DECONFLICTION_EXERCISE_START"),
        ({"DECONFLICTION_EXERCISE_START": "2016-09-17T14:30:00"}, "DECONFLICTION_EXERCISE_START"),
        ({"DECONFLICTION_EXERCISE_START": "2016-09-17T14:30:00Z", "DECONFLICTION_EXERCISE_SPEED": "0"}, "_SPEED"),
        ({"DECONFLICTION_EXERCISE_START": "2016-09-17T14:30:00Z", "DECONFLICTION_EXERCISE_SPEED": "-2"}, "_SPEED"),
        ({"DECONFLICTION_EXERCISE_START": "2016-09-17T14:30:00Z", "DECONFLICTION_EXERCISE_SPEED": "fast"}, "_SPEED"),
        ({"DECONFLICTION_EXERCISE_START": "2016-09-17T14:30:00Z", "DECONFLICTION_EXERCISE_SPEED": "inf"}, "_SPEED"),
        ({"DECONFLICTION_EXERCISE_SPEED": "60"}, "DECONFLICTION_EXERCISE_START"),
    ):
        with pytest.raises(ValueError, match=named):
            Settings.from_env(env)


def test_a_database_is_live_or_exercise_and_never_both(store: Store, request: Any, tmp_path: Any) -> None:
    clock = start_exercise(store, START, 60.0)
    # the same exercise opens again (a restart, another process), with its anchor kept
    again = open_deployment(store, START, 60.0)
    assert again is not None and again.anchor == clock.anchor
    with pytest.raises(DeploymentMismatch, match="DECONFLICTION_EXERCISE_START") as refused:
        open_deployment(store, None)  # a live server on the exercise database
    assert "2026-11-22T08:00:00Z" in str(refused.value)  # it says which exercise this is
    with pytest.raises(DeploymentMismatch, match="DECONFLICTION_EXERCISE_START=2026-11-23"):
        open_deployment(store, START + timedelta(days=1), 60.0)  # another exercise's start
    with pytest.raises(DeploymentMismatch, match="DECONFLICTION_EXERCISE_SPEED=1"):
        open_deployment(store, START, 1.0)


def test_an_exercise_refuses_a_live_database(store: Store) -> None:
    create_party(Runtime(store), None, "alpha", Role.PARTY)  # a live runtime's first write marks it live
    with pytest.raises(DeploymentMismatch, match="DECONFLICTION_EXERCISE_START is set, but this database holds live"):
        open_deployment(store, START)
    assert open_deployment(store, None) is None  # the live server goes on


def test_a_new_database_opened_live_stays_live(store: Store) -> None:
    assert open_deployment(store, None) is None
    with pytest.raises(DeploymentMismatch, match="live data"):
        open_deployment(store, START)


def test_a_jump_drives_the_whole_ladder_in_seconds_and_every_entry_is_marked(store: Store) -> None:
    """A conflict told with a 15-minute deadline; two contacts, then the coordinator: on real time that is
    at least 30 minutes. On the exercise clock the coordinator moves the time and the ladder runs out in
    well under a few seconds of real time."""
    real_started = time.monotonic()
    rt = Runtime(store, clock=start_exercise(store, START))
    p = _cell(rt)
    notes.set_contacts(rt, p["alpha"], [{"name": "duty officer"}, {"name": "deputy"}])
    ops.submit_operation(rt, p["alpha"], draft(40, 35))
    ops.submit_operation(rt, p["bravo"], draft(40.05, 35.05))
    (n,) = notes.list_notifications(rt, p["alpha"], pending=True)
    assert timedelta(0) < n.deadline - rt.clock() <= timedelta(minutes=15)  # scenario minutes
    assert notes.run_escalations(rt) == 0
    steps = []
    for _ in range(6):  # each step: jump past the current deadline, then one escalation round
        (n,) = [x for x in notes.list_notifications(rt, p["alpha"], pending=True) if x.kind == "conflict.opened"]
        if n.at_coordinator:
            break
        view, _ = exercise.advance(rt, p["cell"], (n.deadline - rt.clock()).total_seconds() + 1)
        assert view.exercise and view.now > n.deadline
        assert notes.run_escalations(rt) >= 1
        (n,) = [x for x in notes.list_notifications(rt, p["alpha"], pending=True) if x.kind == "conflict.opened"]
        steps.append(n.escalations[-1]["to"])
    assert steps == ["deputy", "coordinator"]
    assert [x.kind for x in notes.list_notifications(rt, p["cell"])][:1] == ["escalation"]
    assert time.monotonic() - real_started < 10, "the ladder took more than seconds of real time"
    with rt.store.read() as tx:
        entries = tx.events.after(0)
    assert entries and all(e.exercise for e in entries)
    assert entries[0].type == "exercise.started" and entries[0].audience == ("*",)
    jumps = [e for e in entries if e.type == "exercise.advanced"]
    assert len(jumps) == 2 and all(e.actor_id == p["cell"].id for e in jumps)
    # the marks are in the sealed content, so exports show them and verify; replay says so too
    lines = list(export_ledger(rt, None))
    assert all(line["content"]["exercise"] is True for line in lines[1:])
    report = verify([orjson_line(line) for line in lines])
    assert report.ok and report.exercise == len(entries)
    party_view = list(export_ledger(rt, p["bravo"]))
    assert verify([orjson_line(line) for line in party_view]).ok
    assert replay(rt, p["alpha"]).exercise and replay(rt, p["alpha"], START).exercise


def orjson_line(line: dict[str, Any]) -> bytes:
    from deconfliction.domain.ledger import export_line

    return export_line(line)


def test_a_live_ledger_is_not_marked(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    lines = list(export_ledger(rt, None))
    assert all("exercise" not in line["content"] for line in lines[1:])
    report = verify([orjson_line(line) for line in lines])
    assert report.ok and report.exercise == 0
    assert not replay(rt, None).exercise


def test_only_a_coordinator_moves_only_an_exercise_clock(store: Store) -> None:
    rt = Runtime(store, clock=start_exercise(store, START))
    p = _cell(rt)
    with pytest.raises(Forbidden):
        exercise.advance(rt, p["alpha"], 60)
    before = rt.clock()
    for bad, code in (({"seconds": 0}, "out_of_range"), ({"seconds": -5}, "out_of_range"), ({}, "missing_field")):
        with pytest.raises(InvalidInput) as e:
            exercise.parse_advance(bad)
        assert e.value.errors[0].field == "seconds" and e.value.errors[0].code == code
    with pytest.raises(InvalidInput):
        exercise.parse_advance({"seconds": 31 * 86400})
    with pytest.raises(InvalidInput):
        exercise.parse_advance({"seconds": True})
    assert rt.clock() - before < timedelta(seconds=5)  # nothing moved
    live = Runtime(open_store_like(store))
    try:
        with pytest.raises(NotAnExercise):
            exercise.advance(live, p["cell"], 60)
        assert not exercise.clock_view(live).exercise
    finally:
        live.store.close()


def open_store_like(store: Store) -> Store:
    """Another connection to a fresh database of the same backend (a live one here)."""
    import tempfile

    if store.backend == "sqlite":
        return open_store(f"sqlite:///{tempfile.mkdtemp()}/live.db")
    from tests.conftest import make_postgres_database

    url, drop = make_postgres_database()
    s = open_store(url)
    close = s.close

    def close_and_drop() -> None:
        close()
        drop()

    s.close = close_and_drop  # type: ignore[method-assign]
    return s


def test_two_processes_on_one_database_agree_on_scenario_time(
    store: Store, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """Each computes the time from the anchor in the database; a jump made by one is taken by the other at
    its next refresh (a server refreshes once a second)."""
    real = FakeClock(datetime(2026, 12, 6, 15, 0, tzinfo=UTC))  # one real time for both, to compare exactly
    a = Runtime(store, clock=start_exercise(store, START, 60.0, real=real))
    other = open_store(_url(store, request, tmp_path))
    try:
        clock_b = open_deployment(other, START, 60.0, real=real)
        assert clock_b is not None
        b = Runtime(other, clock=clock_b)
        real.advance(seconds=10)
        assert a.clock() == b.clock() == START + timedelta(minutes=10)
        cell = create_party(a, None, "cell", Role.COORDINATOR)[0]
        exercise.advance(a, cell, 3600)
        assert a.clock() == START + timedelta(minutes=70)
        assert b.clock() == START + timedelta(minutes=10)  # until it looks
        exercise.refresh(b)
        assert a.clock() == b.clock() == START + timedelta(minutes=70)
        real.advance(seconds=1)
        assert a.clock() == b.clock() == START + timedelta(minutes=71)
        # a third process started later continues the same scenario, it does not restart it
        clock_c = open_deployment(other, START, 60.0, real=real)
        assert clock_c is not None and clock_c() == a.clock()
    finally:
        other.close()


def test_the_tactical_cycle_runs_on_scenario_time(store: Store) -> None:
    rt = Runtime(store, clock=start_exercise(store, START))
    p = _cell(rt)
    service = build_tactical(
        rt, cycle_s=1.0, expiry_s=30.0, policy_file=None, sbs_feeds=None, cot_udp=None, cot_tcp=None
    )
    lon_b, _, _ = Geod(ellps="WGS84").fwd(0.0, 0.0, 90.0, 60_000.0)
    now = rt.clock()
    real = datetime.now(UTC)
    accepted = service.ingest(
        [
            PositionReport(p["alpha"].id, "A", now, 0.0, 0.0, 5000.0, 200.0, 90.0),
            PositionReport(p["bravo"].id, "B", now, 0.0, float(lon_b), 5000.0, 200.0, 270.0),
            PositionReport(p["bravo"].id, "R", real, 0.0, 1.0, 5000.0, 0.0, 0.0),  # stamped with the real time
        ]
    )
    assert accepted.accepted == 2 and accepted.ignored_expired + accepted.refused_future == 1
    report = service.cycle()
    assert abs((report.at - now).total_seconds()) < 5  # the cycle's "now" is the scenario's
    (alert,) = service.alerts(None)
    assert abs((alert.prediction.loss_at - now).total_seconds() - (60_000 - 9260) / 400) < 5
    cell = p["cell"]
    exercise.advance(rt, cell, 31)  # the tracks fall silent for 31 scenario seconds: they expire
    assert service.cycle().expired == 2


def test_signatures_are_fresh_by_the_real_clock_during_an_exercise(store: Store) -> None:
    """A party signs with its real clock; the scenario clock may be years away. A signature is fresh
    within 300 s of the real time, and replayed ones are still refused."""
    rt = Runtime(store, clock=start_exercise(store, datetime(2016, 9, 17, 14, 0, tzinfo=UTC)))
    alpha = create_party(rt, None, "alpha", Role.PARTY)[0]
    private = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives import serialization

    public = b64url(private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    body = {"public_key": public}
    headers = sign_request(private, "POST", "/v1/keys", body, datetime.now(UTC))
    signed = SignedRequest(
        key_id=headers["Deconfliction-Signature-Key-Id"],
        timestamp=headers["Deconfliction-Signature-Timestamp"],
        signature=headers["Deconfliction-Signature"],
        method="POST",
        path="/v1/keys",
        body=body,
    )
    key, _ = register_key(rt, alpha, public, signed)
    assert key.party_id == alpha.id
    with rt.store.read() as tx:
        (added,) = [e for e in tx.events.after(0) if e.type == "party.key_added"]
    assert added.exercise and added.signed is not None and added.at.year == 2016
