"""Detection against a snapshot, then inside the write a re-check of what committed since, is exact.

A submission finds its conflicts in a read snapshot before the serialised write (``ops.prefind``) and,
inside the write, checks again only the operations created, revised or cancelled since that snapshot
(``ops.refind``). Hypothesis interleaves the snapshots and commits of several submissions by three
parties at random, with revisions (themselves a snapshot, then a commit) and cancellations of committed
operations in between, and protected sites declared by a fourth party at any moment, on both backends.
At every commit the brought-up-to-date findings equal a full detection in the write (the serial path), and
the zones, bands and sites the snapshot found are reused only when none can have changed since, and then
equal what the write would find; at the end every pair of live operations of different parties that the
brute force finds too close has exactly one open conflict, which both parties see, no other pair has one,
and every live operation has an open record with exactly the sites the site rule finds it too close to.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.domain.areas import AreaFinding, site_conflicts
from deconfliction.domain.conflict import ConflictState, Finding, detect, occupancies
from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import SiteCategory, SitePoint
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.service import areas, sites
from deconfliction.service import operations as ops
from deconfliction.service.conflicts import list_conflicts
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import Transaction
from tests.conftest import T0, square
from tests.oracle import examples
from tests.shapes import parse_shape

L = Limits()
_names = itertools.count()

# Ground squares 0.005 degree wide on a 0.01 degree grid at 35 N: neighbours (about 450 m apart) are
# closer than the ground minimum of 1,000 m, two steps apart (about 1,370 m) are not.
places = st.tuples(st.integers(0, 3), st.integers(0, 1))
windows = st.integers(0, 2)  # start hour of a one-hour window: the same hour or the next conflict


def volume(place: tuple[int, int], hour: int) -> Volume4D:
    lon, lat = 40.0 + 0.01 * place[0], 35.0 + 0.01 * place[1]
    start = T0 + timedelta(hours=hour)
    return Volume4D.create(
        parse_shape(square(lon, lat, 0.005), L), AltitudeBand(0, 100), TimeWindow(start, start + timedelta(hours=1))
    )


def site(place: tuple[int, int], corner: int) -> sites.SiteDraft:
    """A site inside a place's square, or at one of its corners (touching a neighbour's reach)."""
    lon, lat = 40.0 + 0.01 * place[0], 35.0 + 0.01 * place[1]
    at = (lon + 0.0025, lat + 0.0025) if corner == 0 else (lon + 0.005 * (corner % 2), lat + 0.005 * (corner // 2))
    return sites.SiteDraft("clinic", SiteCategory.HOSPITAL, SitePoint(at), 50.0, 10.0, T0 + timedelta(days=30))


@st.composite
def schedules(draw: Any) -> tuple[list[tuple[int, tuple[int, int], int]], list[tuple[str, int, Any]]]:
    """Submissions (party, place, hour) and the steps, drawn one at a time from those possible: take
    the snapshot of a submission not yet started, commit one whose snapshot was taken, disturb (revise
    or cancel) one that committed, at most three times, or declare a site, at most twice."""
    subs = draw(st.lists(st.tuples(st.integers(0, 2), places, windows), min_size=2, max_size=6))
    fresh, pending, done, revising = list(range(len(subs))), [], [], []
    steps: list[tuple[str, int, Any]] = []
    disturbances, new_sites = 3, 2
    while fresh or pending or revising:
        options = [("snapshot", i) for i in fresh] + [("commit", i) for i in pending]
        options += [("revision commit", i) for i in revising]
        options += [("disturb", i) for i in done if i not in revising] if disturbances else []
        options += [("site", -1)] if new_sites else []
        step, i = draw(st.sampled_from(options))
        if step == "site":
            new_sites -= 1
            steps.append((step, i, (draw(places), draw(st.integers(0, 3)))))
        elif step == "snapshot":
            fresh.remove(i)
            pending.append(i)
            steps.append((step, i, None))
        elif step == "commit":
            pending.remove(i)
            done.append(i)
            steps.append((step, i, None))
        elif step == "revision commit":
            revising.remove(i)
            steps.append((step, i, None))
        else:
            disturbances -= 1
            step = draw(st.sampled_from(["cancel", "revise", "revision snapshot"]))
            steps.append((step, i, None if step == "cancel" else (draw(places), draw(windows))))
            if step == "revision snapshot":
                revising.append(i)
    return subs, steps


def _every_conflict(rt: Runtime, party: Party) -> set[str]:
    """The ids of every conflict ``party`` lists, page after page: the store outlives one example, and
    a party of a late example conflicts with the live operations of every earlier one (over a thousand
    under HYPOTHESIS_PROFILE=deep)."""
    seen: set[str] = set()
    after = None
    while page := list_conflicts(rt, party, after=after, limit=1000):
        seen |= {c.id for c in page}
        after = page[-1].id
    return seen


def _key(findings: list[Finding]) -> list[Any]:
    return sorted(
        (f.operation_b, f.ovn_b, f.rule, sorted((e.index_a, e.index_b, e.horizontal_m) for e in f.encounters))
        for f in findings
    )


def _area_key(found: tuple[Any, Any]) -> list[Any]:
    findings: list[AreaFinding] = list(found[0])
    return sorted((f.target_id, sorted((e.index, e.horizontal_m) for e in f.encounters)) for f in findings) + sorted(
        found[1].items()
    )


def _commit(rt: Runtime, actor: Party, op: Operation, pre: ops.Prefound, *, created: bool = True) -> Operation:
    def work(tx: Transaction, signed: Any) -> ops.OperationResult:
        new = op
        if not created:  # a revision to the volumes of the snapshot's subject
            stored = tx.operations.get(op.id)
            assert stored is not None
            new = stored.revise(
                volumes=op.volumes, kind=op.kind, priority=0, title="", now=rt.clock(), ovn=rt.ids.new_token()
            )
        assert pre.fits(new)
        serial = ops.find_conflicts(tx, rt.policy, new)  # what a detection inside the write finds
        assert _key(ops.refind(tx, rt.policy, new, pre)) == _key(serial)
        if not ops.changed_since(tx, pre.seq).areas:  # the write keeps the snapshot's zones, bands, sites
            assert _area_key(pre.areas_found) == _area_key(areas.area_findings(tx, new))
        return ops.apply_change(
            tx, rt, actor, new, detect_again=True, known=(), created=created, signed=signed, prefound=pre
        )

    result = ops.write_change(rt, actor, None, None, work)
    assert isinstance(result, ops.OperationResult)
    return result.operation


@settings(max_examples=examples(8), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=schedules())
def test_interleaved_snapshots_and_commits_find_every_conflict(rt: Runtime, schedule: Any) -> None:
    subs, steps = schedule
    run = next(_names)
    sides = [create_party(rt, None, f"p{run}-{k}", Role.PARTY)[0] for k in range(3)]
    owner = create_party(rt, None, f"p{run}-sites", Role.PARTY)[0]
    pending: dict[int, tuple[Operation, ops.Prefound]] = {}
    committed: dict[int, Operation] = {}
    revisions: dict[int, tuple[Operation, ops.Prefound]] = {}
    for step, i, arg in steps:
        party, place, hour = subs[i]
        actor = sides[party]
        if step == "site":
            sites.create_site(rt, owner, site(*arg))
        elif step == "snapshot":
            now = rt.clock()
            op = Operation(
                rt.ids.new_id("op"),
                actor.id,
                OperationKind.GROUND,
                0,
                OperationState.DRAFT,
                1,
                rt.ids.new_token(),
                (volume(place, hour),),
                "",
                now,
                now,
            )
            pending[i] = (op, ops.prefind(rt, op))
        elif step == "commit":
            committed[i] = _commit(rt, actor, *pending.pop(i))
        elif step == "revision snapshot":
            if committed[i].is_live:
                subject = replace(committed[i], volumes=(volume(*arg),))
                revisions[i] = (subject, ops.prefind(rt, subject))
        elif step == "revision commit":
            if i in revisions:
                committed[i] = _commit(rt, actor, *revisions.pop(i), created=False)
        elif i in committed and committed[i].is_live:
            op = committed[i]
            if step == "cancel":
                out = ops.change_state(rt, actor, op.id, OperationState.CANCELLED, expected_version=op.version)
            else:
                draft = ops.OperationDraft(OperationKind.GROUND, (volume(*arg),))
                out = ops.revise_operation(rt, actor, op.id, draft, expected_version=op.version)
            assert isinstance(out, ops.OperationResult)
            committed[i] = out.operation

    live = [o for o in committed.values() if o.is_live]
    told: list[tuple[str, str, str]] = []
    with rt.store.read() as tx:
        for a, b in itertools.combinations(live, 2):
            if a.owner_id == b.owner_id:
                continue
            too_close = bool(detect(occupancies(a), occupancies(b), rt.policy))
            records = [c for c in tx.conflicts.for_operation(a.id).values() if b.id in (c.operation_a, c.operation_b)]
            open_records = [c for c in records if c.state is ConflictState.OPEN]
            assert len(open_records) == (1 if too_close else 0), (a.id, b.id, too_close, records)
            told += [(open_records[0].id, a.owner_id, b.owner_id)] if too_close else []
        declared = tx.sites.list(owner_id=owner.id, active=True)
        mine = {x.id for x in declared}  # the store outlives an example: earlier examples' sites are there too
        for o in live:  # the site rule's findings are exactly the operation's open records with this example's sites
            found = {f.target_id for f in site_conflicts(o, declared, areas.SITE_POLICY)}
            records = [c for c in tx.conflicts.for_operation(o.id).values() if c.operation_b in mine]
            assert {c.operation_b for c in records if c.state is ConflictState.OPEN} == found, (o.id, records)
    seen = {p.id: _every_conflict(rt, p) for p in sides}
    for conflict_id, side_a, side_b in told:  # both are told
        assert conflict_id in seen[side_a] and conflict_id in seen[side_b]
