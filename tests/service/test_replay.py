"""As-of views rebuilt from the ledger equal what each reader saw at that time, after any sequence of
submissions, revisions and state changes by several parties, protected sites and agreed zones declared
and withdrawn around their operations (property test); and the whole ledger
rebuilds exactly the current views."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import OperationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import SiteCategory, SitePoint
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.domain.zone import ZoneAnswer
from deconfliction.errors import DeconflictionError
from deconfliction.service import operations as ops
from deconfliction.service import sites, zones
from deconfliction.service.conflicts import list_conflicts
from deconfliction.service.parties import create_party
from deconfliction.service.replay import replay
from deconfliction.service.runtime import Runtime
from deconfliction.service.sites import SiteDraft
from deconfliction.service.views import operation_view
from deconfliction.store import open_store
from deconfliction.wire import to_record
from tests.conftest import T0, FakeClock, square
from tests.shapes import parse_shape

L = Limits()
PLACES = [(40.0, 35.0), (40.05, 35.05), (40.3, 35.0)]  # the first two overlap, the third is apart

action = st.one_of(
    st.tuples(
        st.just("submit"), st.integers(0, 2), st.integers(0, 2), st.integers(0, 1), st.sampled_from(["air", "ground"])
    ),
    st.tuples(st.just("revise"), st.integers(0, 2), st.integers(0, 9), st.integers(0, 2), st.integers(0, 1)),
    st.tuples(
        st.just("state"),
        st.integers(0, 2),
        st.integers(0, 9),
        st.sampled_from(["planned", "active", "ended", "cancelled"]),
        st.booleans(),
    ),
    st.tuples(st.just("site"), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("withdraw_site"), st.integers(0, 2), st.integers(0, 9)),
    st.tuples(st.just("zone"), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.just("withdraw_zone"), st.integers(0, 2), st.integers(0, 9)),
    st.tuples(st.just("move_zone"), st.integers(0, 2), st.integers(0, 9), st.integers(0, 2)),
)


def draft(place: int, slot: int, kind: str) -> ops.OperationDraft:
    lon, lat = PLACES[place]
    start = T0 + timedelta(hours=3 * slot)
    v = Volume4D.create(
        parse_shape(square(lon, lat), L), AltitudeBand(0, 3000), TimeWindow(start, start + timedelta(hours=2))
    )
    return ops.OperationDraft(OperationKind(kind), (v,))


def views(rt: Runtime, reader: Party) -> dict[str, Any]:
    from deconfliction.service.sites import list_sites, site_record
    from deconfliction.service.zones import list_zones, zone_record

    now = rt.clock()
    return {
        "operations": [to_record(operation_view(reader, o)) for o in ops.list_operations(rt, reader, limit=10_000)],
        "conflicts": [to_record(c) for c in list_conflicts(rt, reader, limit=10_000)],
        "sites": [site_record(s, now) for s in list_sites(rt, reader, limit=10_000)],
        "zones": [zone_record(z) for z in list_zones(rt, reader, limit=10_000)],
    }


def replayed(rt: Runtime, reader: Party, at: Any) -> dict[str, Any]:
    r = replay(rt, reader, at)
    return {
        "operations": r.operation_list(),
        "conflicts": r.conflict_list(),
        "sites": [v for _, v in sorted(r.sites.items())],
        "zones": [v for versions in r.zone_versions().values() for v in versions],
    }


@given(st.lists(action, min_size=1, max_size=10))
@example(  # two overlapping submissions, a revision that keeps the conflict, a cancellation that resolves it
    [
        ("submit", 0, 0, 0, "air"),
        ("submit", 1, 1, 0, "air"),
        ("revise", 1, 0, 0, 0),
        ("state", 0, 0, "cancelled", False),
    ]
)
@example([("submit", 0, 0, 0, "air"), ("submit", 1, 1, 0, "air"), ("state", 1, 0, "planned", True)])
@example(  # an agreed zone entered by another party's operation, then withdrawn
    [("submit", 0, 0, 0, "air"), ("zone", 1, 0, 2), ("submit", 2, 0, 1, "air"), ("withdraw_zone", 1, 0)]
)
@example(  # a site next to an operation of another party, then withdrawn: opened, then resolved
    [("submit", 0, 0, 0, "ground"), ("site", 1, 0), ("submit", 2, 0, 0, "air"), ("withdraw_site", 1, 0)]
)
@example(  # a zone agreed, then moved by a new agreed version that supersedes it
    [("submit", 0, 0, 0, "air"), ("zone", 1, 0, 0), ("move_zone", 1, 0, 2), ("submit", 2, 2, 0, "air")]
)
@settings(max_examples=50)
def test_replaying_the_ledger_rebuilds_every_view_at_every_moment(actions: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        clock = FakeClock()
        rt = Runtime(open_store(f"sqlite:///{d}/replay.db"), clock=clock)
        try:
            cell = create_party(rt, None, "cell", Role.COORDINATOR)[0]
            sides = [create_party(rt, None, n, Role.PARTY)[0] for n in ("alpha", "bravo", "charlie")]
            readers = [cell, *sides]
            snapshots = []
            for act in actions:
                clock.advance(minutes=1)
                actor = sides[act[1]]
                mine = ops.list_operations(rt, actor, limit=100)
                try:
                    if act[0] == "submit":
                        ops.submit_operation(rt, actor, draft(act[2], act[3], act[4]))
                    elif mine and act[0] == "revise":
                        op = mine[act[2] % len(mine)]
                        ops.revise_operation(
                            rt, actor, op.id, draft(act[3], act[4], op.kind.value), expected_version=op.version
                        )
                    elif mine and act[0] == "state":
                        op = mine[act[2] % len(mine)]
                        tokens = [c.token for c in list_conflicts(rt, actor, operation_id=op.id)] if act[4] else []
                        ops.change_state(
                            rt, actor, op.id, OperationState(act[3]), expected_version=op.version, known_tokens=tokens
                        )
                    elif act[0] == "site":
                        lon, lat = PLACES[act[2]]
                        point = SitePoint((lon + 0.05, lat + 0.05))
                        made = SiteDraft("clinic", SiteCategory.HOSPITAL, point, 50.0, 10.0, T0 + timedelta(days=9))
                        sites.create_site(rt, actor, made)
                    elif act[0] == "zone":  # proposed to another party, who accepts: agreed
                        lon, lat = PLACES[act[2]]
                        other = sides[act[3]]
                        area = parse_shape(square(lon + 0.02, lat + 0.02, 0.05), L)
                        window = TimeWindow(T0 - timedelta(days=1), T0 + timedelta(days=9))
                        z = zones.propose(rt, actor, zones.ZoneDraft("zone", [other.id], area, window)).zone
                        zones.answer(rt, other, z.id, ZoneAnswer.ACCEPTED)
                    elif act[0] == "withdraw_zone":
                        owned = [z for z in zones.list_zones(rt, actor) if z.owner_id == actor.id]
                        if owned:
                            z = owned[act[2] % len(owned)]
                            zones.withdraw(rt, actor, z.id, expected_version=z.version)
                    elif act[0] == "move_zone":  # a new version elsewhere, accepted: it supersedes
                        owned = [z for z in zones.list_zones(rt, actor) if z.owner_id == actor.id]
                        if owned:
                            z = owned[act[2] % len(owned)]
                            lon, lat = PLACES[act[3]]
                            area = parse_shape(square(lon + 0.03, lat + 0.03, 0.05), L)
                            zones.revise(rt, actor, z.id, expected_version=z.version, footprint=area)
                            for other_id in z.counterparties:
                                other = next(p for p in sides if p.id == other_id)
                                zones.answer(rt, other, z.id, ZoneAnswer.ACCEPTED)
                    elif act[0] == "withdraw_site":
                        owned = sites.list_sites(rt, actor, owner_id=actor.id, active=True)
                        if owned:
                            site = owned[act[2] % len(owned)]
                            sites.withdraw(rt, actor, site.id, expected_version=site.version)
                except DeconflictionError:
                    pass  # refused changes leave no entry and change no view
                snapshots.append((clock.now, {r.id: views(rt, r) for r in readers}))
            for at, seen in snapshots:
                for r in readers:
                    assert replayed(rt, r, at) == seen[r.id], (r.name, at)
            for r in readers:  # the whole ledger: the current state
                assert replayed(rt, r, None) == views(rt, r)
        finally:
            rt.store.close()


def test_before_anything_happened_nothing_is_seen(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    alpha = parties["alpha"][0]
    before = rt.clock()
    rt.clock.advance(minutes=1)  # type: ignore[attr-defined]
    ops.submit_operation(rt, alpha, draft(0, 0, "air"))
    assert replay(rt, alpha, before).operations == {}
    assert len(replay(rt, alpha, rt.clock()).operations) == 1
    assert replay(rt, parties["bravo"][0], rt.clock()).operations == {}
