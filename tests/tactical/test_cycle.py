"""The track store (older reports ignored, expiry, future times) and the detection cycle's alert
lifecycle with hysteresis: an alert is raised once, stays while the pair hovers at the threshold, and
resolves only after it has been clear (beyond the margin) for the hold time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from pyproj import Geod

from deconfliction.domain.tactical import (
    AlertKind,
    AlertState,
    Finding,
    PositionReport,
    Prediction,
    TacticalPolicy,
    TacticalRule,
    advance_alerts,
    alert_key,
)
from deconfliction.domain.tactical.flat import EarthModel
from deconfliction.service.tactical.cycle import TacticalService
from deconfliction.store.tracks import TrackStore
from tests.conftest import FakeClock

GEOD = Geod(ellps="WGS84")
T = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def report(
    party: str, track: str, at: datetime, lat: float, lon: float, alt: float = 3000.0, gs: float = 0.0, trk: float = 0.0
) -> PositionReport:
    return PositionReport(party, track, at, lat, lon, alt, gs, trk, 0.0)


def test_store_keeps_the_newest_report_and_expires_silent_tracks() -> None:
    store = TrackStore(expiry_s=30.0, max_future_s=5.0, capacity=2)
    r = store.ingest(
        [report("a", "1", T, 10.0, 20.0), report("a", "2", T, 11.0, 20.0), report("b", "1", T, 12.0, 20.0)], T
    )
    assert (r.accepted, len(store)) == (3, 3)  # grew past its capacity of 2
    r = store.ingest(
        [
            report("a", "1", T - timedelta(seconds=1), 0.0, 0.0),  # older: ignored
            report("a", "1", T, 0.0, 0.0),  # as old: ignored
            report("a", "2", T + timedelta(seconds=2), 11.5, 20.0),  # newer: kept
            report("a", "3", T + timedelta(seconds=6), 1.0, 1.0),  # 6 s in the future: refused
            report("a", "4", T - timedelta(seconds=31), 1.0, 1.0),  # older than the expiry: ignored
        ],
        T,
    )
    assert (r.accepted, r.ignored_older, r.refused_future, r.ignored_expired) == (1, 2, 1, 1)
    assert store.track(("a", "1"))["lat"] == 10.0
    assert store.track(("a", "2"))["lat"] == 11.5
    snap = store.snapshot(T)
    assert sorted(snap.keys) == [("a", "1"), ("a", "2"), ("b", "1")]
    assert snap.parties == ["a", "b"]
    assert [snap.parties[p] for p in snap.party] == [k[0] for k in snap.keys]
    gone = store.expire(T + timedelta(seconds=31))
    assert sorted(gone) == [("a", "1"), ("b", "1")]
    assert store.snapshot(T).keys == [("a", "2")]
    # a freed slot is reused
    store.ingest([report("c", "9", T + timedelta(seconds=31), 5.0, 5.0)], T + timedelta(seconds=31))
    assert len(store) == 2 and store._live.size == 4


def _key(a: tuple[str, str], b: tuple[str, str]) -> tuple[AlertKind, tuple[str, str], tuple[str, str]]:
    return alert_key(AlertKind.TRACKS, a, b)


def _pred(t: datetime, h: float, now: bool = False) -> Prediction:
    return Prediction(t, t, h, 0.0, now, TacticalRule())


def test_advance_alerts_lifecycle() -> None:
    k = _key(("b", "2"), ("a", "1"))
    assert k == (AlertKind.TRACKS, ("a", "1"), ("b", "2"))
    ids = iter(f"al_{n}" for n in range(10))
    active, ch = advance_alerts({}, [Finding(k, False, _pred(T, 9300))], T, 5.0, lambda: next(ids))
    assert active == {} and ch == []  # a margin finding never raises
    active, ch = advance_alerts({}, [Finding(k, True, _pred(T, 9000))], T, 5.0, lambda: next(ids))
    assert [c.change for c in ch] == ["raised"] and active[k].state is AlertState.NEW
    t1 = T + timedelta(seconds=1)
    active, ch = advance_alerts(active, [Finding(k, False, _pred(T, 9300))], t1, 5.0, lambda: next(ids))
    assert ch == [] and active[k].state is AlertState.ONGOING and active[k].id == "al_0"
    t2 = T + timedelta(seconds=20)
    active, ch = advance_alerts(active, [Finding(k, True, _pred(t2, 9000, now=True))], t2, 5.0, lambda: next(ids))
    assert [c.change for c in ch] == ["updated"]
    for s in (21, 24):
        active, ch = advance_alerts(active, [], T + timedelta(seconds=s), 5.0, lambda: next(ids))
        assert ch == [] and active[k].state is AlertState.ONGOING
    active, ch = advance_alerts(active, [], T + timedelta(seconds=25), 5.0, lambda: next(ids))
    assert [c.change for c in ch] == ["resolved"] and active == {}
    assert ch[0].alert.resolved_at == T + timedelta(seconds=25)


class Scene:
    """Two stationary aircraft of two parties, 3,000 m high, re-reported every second at a distance."""

    def __init__(self, policy: TacticalPolicy) -> None:
        self.clock = FakeClock(T)
        n = iter(range(10_000))
        self.service = TacticalService(policy, self.clock, lambda: f"al_{next(n)}", TrackStore(expiry_s=30.0))
        self.changes: list[str] = []
        self.service.listeners.append(lambda ch: self.changes.append(ch.change))

    def step(self, distance_m: float | None) -> None:
        self.clock.advance(seconds=1)
        now = self.clock()
        if distance_m is not None:
            lon, lat, _ = GEOD.fwd(20.0, 10.0, 90.0, distance_m)
            self.service.ingest(
                [report("north", "A1", now, 10.0, 20.0), report("south", "B1", now, float(lat), float(lon))]
            )
        self.service.cycle()


def test_a_pair_hovering_at_the_threshold_raises_one_alert_and_keeps_it() -> None:
    scene = Scene(TacticalPolicy(hysteresis_m=926.0, clear_after_s=5.0))
    scene.step(9000.0)
    assert scene.changes == ["raised"]
    alert = scene.service.alerts("north")[0]
    assert alert.state is AlertState.NEW and alert.prediction.now and alert.prediction.horizontal_m < 9001
    assert scene.service.alerts("south")[0].id == alert.id and scene.service.alerts("east") == []
    for d in [9400.0, 9200.0] * 10 + [10_100.0] * 3:  # inside the margin, in and out of 5 NM
        scene.step(d)
    assert scene.changes == ["raised"]
    (still,) = scene.service.alerts(None)
    assert still.id == alert.id and still.state is AlertState.ONGOING
    for _ in range(4):  # beyond the margin, less than the hold time
        scene.step(12_000.0)
    assert scene.changes == ["raised"]
    scene.step(12_000.0)
    assert scene.changes == ["raised", "resolved"]
    assert scene.service.alerts(None) == []
    (gone,) = scene.service.alerts("north", [AlertState.RESOLVED])
    assert gone.id == alert.id
    scene.step(9000.0)  # a new loss is a new alert
    assert scene.changes == ["raised", "resolved", "raised"]
    assert scene.service.alerts("north")[0].id != alert.id


def test_without_hysteresis_the_same_pair_flaps() -> None:
    scene = Scene(TacticalPolicy(hysteresis_m=0.0, hysteresis_vertical_m=0.0, clear_after_s=0.0))
    for d in [9200.0, 9400.0] * 5:
        scene.step(d)
    assert scene.changes.count("raised") == 5 and scene.changes.count("resolved") == 5


def test_expired_tracks_resolve_their_alerts_after_the_hold() -> None:
    scene = Scene(TacticalPolicy(clear_after_s=5.0))
    scene.step(8000.0)
    for _ in range(30):
        scene.step(None)  # no more reports
    assert scene.changes == ["raised"]
    report_ = scene.service.last
    assert report_ is not None and report_.tracks == 2
    scene.step(None)  # 31 s after the last report: both expire; the alert resolves 5 s later
    assert scene.service.last is not None and scene.service.last.expired == 2
    for _ in range(5):
        scene.step(None)
    assert scene.changes == ["raised", "resolved"]


def head_on(earth_model: EarthModel) -> tuple[TacticalService, float]:
    """Two aircraft of two parties head-on at 200 m/s each, 60 km apart on the equator, after one cycle;
    and B's longitude."""
    service = TacticalService(TacticalPolicy(), FakeClock(T), lambda: "al_1", TrackStore(), earth_model=earth_model)
    lon_b, _, _ = GEOD.fwd(0.0, 0.0, 90.0, 60_000.0)
    service.ingest(
        [
            PositionReport("north", "A", T, 0.0, 0.0, 5000.0, 200.0, 90.0),
            PositionReport("south", "B", T, 0.0, float(lon_b), 5000.0, 200.0, 270.0),
        ]
    )
    service.cycle()
    return service, float(lon_b)


def test_cycle_predicts_time_and_place() -> None:
    """Head-on at 200 m/s each, 60 km apart on the equator: the loss starts (60,000 - 9,260) / 400 s from
    now and the closest approach is at the midpoint."""
    service, lon_b = head_on("wgs84")
    (a,) = service.alerts(None)
    p = a.prediction
    assert abs((p.loss_at - T).total_seconds() - (60_000 - 9260) / 400) < 0.5
    assert abs((p.closest_at - T).total_seconds() - 150.0) < 0.5
    assert p.horizontal_m < 1.0 and np.allclose(p.position, (lon_b / 2, 0.0), atol=1e-6)
    assert service.last is not None and service.last.stats is not None and service.last.stats.losses == 1


def test_policy_file_rules_and_refusals() -> None:
    import pytest

    from deconfliction.errors import InvalidInput

    ids = {"North": "pt_n", "South": "pt_s", "pt_n": "pt_n", "pt_s": "pt_s"}
    pol = TacticalPolicy.from_mapping(
        {
            "default": {"horizontal_m": 5000, "lookahead_s": 120},
            "pairs": [{"parties": ["South", "North"], "vertical_m": 150}, {"parties": ["North", "North"]}],
            "clear_after_s": 10,
        },
        ids,
    )
    assert pol.rule("pt_n", "pt_s") == TacticalRule(5000.0, 150.0, 120.0)
    assert pol.rule("pt_s", "pt_s") is None  # own aircraft: not checked
    assert pol.rule("pt_n", "pt_n") == TacticalRule(5000.0, 304.8, 120.0)  # unless the pair is listed
    assert pol.clear_after_s == 10.0
    table = pol.table(["pt_n", "pt_s"], widen=True)
    assert table.checked.tolist() == [[True, True], [True, False]]
    assert table.horizontal_m[0, 1] == 5000.0 + pol.hysteresis_m
    with pytest.raises(InvalidInput) as err:
        TacticalPolicy.from_mapping(
            {"default": {"horizontal_m": -1, "speed": 3}, "pairs": [{"parties": ["North", "East"]}], "colour": 1},
            ids,
        )
    fields = {(e.field, e.code) for e in err.value.errors}
    assert fields == {
        ("colour", "unknown_field"),
        ("default.horizontal_m", "invalid_number"),
        ("default.speed", "unknown_field"),
        ("pairs[0].parties", "unknown_party"),
    }
    with pytest.raises(InvalidInput):
        TacticalPolicy.from_mapping({"default": {"lookahead_s": 901}})


def test_the_flat_earth_model_runs_the_cycle_like_bluesky() -> None:
    """With earth_model="flat" the same head-on pair is found by BlueSky's formulas: on its 6,371 km sphere
    60 km of WGS84 equator is a little shorter, so the loss comes a little earlier; the midpoint is the
    same place."""
    service, lon_b = head_on("flat")
    (a,) = service.alerts(None)
    p = a.prediction
    flat_m = 6_371_000.0 * np.radians(lon_b)
    assert abs((p.loss_at - T).total_seconds() - (flat_m - 9260) / 400) < 0.5
    assert abs((p.closest_at - T).total_seconds() - flat_m / 400) < 0.5
    assert np.allclose(p.position, (lon_b / 2, 0.0), atol=1e-6)


def test_the_earth_model_setting_is_checked() -> None:
    import pytest

    from deconfliction.settings import Settings

    assert Settings.from_env({}).tactical_earth_model == "wgs84"
    assert Settings.from_env({"DECONFLICTION_TACTICAL_EARTH_MODEL": "flat"}).tactical_earth_model == "flat"
    with pytest.raises(ValueError, match="DECONFLICTION_TACTICAL_EARTH_MODEL='round'"):
        Settings.from_env({"DECONFLICTION_TACTICAL_EARTH_MODEL": "round"})
