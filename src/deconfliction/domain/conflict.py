"""Conflict detection between operations, and the conflict record it maintains.

``detect`` is pure: given a subject's volumes, the candidate volumes of other operations (from any
pre-filter, or all of them) and a policy, it returns one ``Finding`` per other operation that comes
closer than the policy allows in space *and* altitude *and* time. ``reconcile`` turns the findings for
a changed operation into the new versions of the affected ``Conflict`` records.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from deconfliction.domain.footprint import Position, Shape
from deconfliction.domain.geojson import to_geojson
from deconfliction.domain.lazy import once
from deconfliction.domain.minima import closer_than, threshold_m
from deconfliction.domain.operation import Operation
from deconfliction.domain.policy import OperationKind, SeparationPolicy, SeparationRule
from deconfliction.domain.separation import Screen, SubjectFrame
from deconfliction.domain.volume import AltitudeBand, TimeWindow


@dataclass(frozen=True, eq=False)
class Occupancy:
    """One Volume4D of one operation, as the detector sees it."""

    operation_id: str
    owner_id: str
    kind: OperationKind
    ovn: str
    index: int
    shape: Shape
    altitude: AltitudeBand
    window: TimeWindow


def occupancies(op: Operation) -> list[Occupancy]:
    return [
        Occupancy(op.id, op.owner_id, op.kind, op.ovn, i, v.shape, v.altitude, v.window)
        for i, v in enumerate(op.volumes)
    ]


@dataclass(frozen=True)
class Encounter:
    """One pair of volumes closer than the rule allows."""

    index_a: int
    index_b: int
    horizontal_m: float
    vertical_m: float
    time_s: float
    window: TimeWindow
    """Their common window, or the gap between them when the rule's time margin is what fires."""
    altitude: AltitudeBand
    drawn: BaseGeometry | Callable[[], BaseGeometry] = field(compare=False, repr=False)
    """The region, or how to draw it: detection decides and measures without drawing, the region is
    drawn when something reads it (a response, the store)."""
    point_a: Position
    point_b: Position

    @once
    def region(self) -> BaseGeometry:
        """Longitude/latitude: the part of each footprint within the horizontal separation of the other."""
        return self.drawn() if callable(self.drawn) else self.drawn

    @once
    def region_geojson(self) -> dict[str, Any]:
        """``to_geojson(region)``, built once: both sides' views (and the ledger entries that are those
        views) show it. Shared by every reader, so never changed in place."""
        return to_geojson(self.region)


@dataclass(frozen=True)
class Finding:
    """Operation ``a`` (the subject) and operation ``b`` conflict."""

    operation_a: str
    owner_a: str
    operation_b: str
    owner_b: str
    ovn_b: str
    rule: SeparationRule
    encounters: tuple[Encounter, ...]


def close_in_time(a: TimeWindow, b: TimeWindow, rule: SeparationRule) -> bool:
    return a.intersects(b) or a.gap_s(b) < rule.time_s


def close_in_altitude(a: AltitudeBand, b: AltitudeBand, rule: SeparationRule) -> bool:
    """Bands that touch or overlap, or whose gap is closer than the rule's vertical minimum as declared
    (``minima.closer_than``: exactly the minimum apart is separated, whatever float rounding says)."""
    if rule.vertical_m is None:
        return True
    gap = a.gap_m(b)
    return gap == 0.0 or closer_than(gap, rule.vertical_m)


def horizontal_limit(rule: SeparationRule) -> float:
    """What a horizontal distance must be below to conflict under ``rule``: its minimum as declared
    (``minima.threshold_m``: half a millimetre below it), or for a minimum of 0 a touch (1 micrometre)."""
    return max(threshold_m(rule.horizontal_m), 1e-6)


def detect(
    subject: Sequence[Occupancy],
    candidates: Iterable[Occupancy],
    policy: SeparationPolicy,
) -> list[Finding]:
    """Every other party's operation among ``candidates`` that conflicts with the subject, exactly.

    Candidates owned by the subject's owner, or belonging to the subject itself, are ignored."""
    if not subject:
        return []
    owner, op_id = subject[0].owner_id, subject[0].operation_id
    others = [c for c in candidates if c.owner_id != owner and c.operation_id != op_id]
    encounters: dict[str, list[Encounter]] = {}
    meta: dict[str, tuple[Occupancy, SeparationRule]] = {}
    for s in subject:
        near: list[tuple[Occupancy, SeparationRule]] = []
        for c in others:
            rule = policy.rule(s.kind, c.kind)
            if close_in_time(s.window, c.window, rule) and close_in_altitude(s.altitude, c.altitude, rule):
                near.append((c, rule))
        if not near:
            continue
        screening = Screen(s.shape).screen([c.shape for c, _ in near])
        prepared = SubjectFrame(s.shape)
        bounds = screening.bounds.tolist()
        # every pair the screen cannot clear and whose cores do not certainly meet is measured; all at once
        to_measure = [
            k
            for k, ((_, rule), meet) in enumerate(zip(near, screening.meeting, strict=True))
            if meet is None and bounds[k] < horizontal_limit(rule)
        ]
        measured = dict(
            zip(
                to_measure,
                prepared.measure_many(
                    [near[k][0].shape for k in to_measure], [horizontal_limit(near[k][1]) for k in to_measure]
                ),
                strict=True,
            )
        )
        for k, ((c, rule), bound, meet) in enumerate(zip(near, bounds, screening.meeting, strict=True)):
            threshold = horizontal_limit(rule)
            if bound >= threshold:
                continue
            if meet is not None:  # the cores overlap: separation 0, nothing to measure
                distance, point_a, point_b = 0.0, meet, meet
                drawn: Callable[[], BaseGeometry] = partial(prepared.region, c.shape, rule.horizontal_m)
            else:
                m = measured[k]
                if m is None:
                    continue
                distance, point_a, point_b = m.distance_m, m.point_a, m.point_b
                drawn = partial(m.region, rule.horizontal_m)
            encounters.setdefault(c.operation_id, []).append(
                Encounter(
                    s.index,
                    c.index,
                    distance,
                    s.altitude.gap_m(c.altitude),
                    s.window.gap_s(c.window),
                    s.window.meeting(c.window),
                    s.altitude.meeting(c.altitude),
                    drawn,
                    point_a,
                    point_b,
                )
            )
            meta[c.operation_id] = (c, rule)
    findings = []
    for other_id, found in encounters.items():
        c, rule = meta[other_id]
        findings.append(
            Finding(
                op_id,
                owner,
                other_id,
                c.owner_id,
                c.ovn,
                rule,
                tuple(sorted(found, key=lambda e: (e.index_a, e.index_b))),
            )
        )
    findings.sort(key=lambda f: f.operation_b)
    return findings


# -------------------------------------------------------------------------------------------- the record


class ConflictState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    EXPIRED = "expired"
    """Its window ended while it was open (or had already ended when it was found): out of the active
    inbox, nothing left to chase. A later revision that conflicts again in a window not yet ended
    reopens it (``found_state``)."""


@dataclass(frozen=True)
class Conflict:
    """Two operations of different parties closer than the policy allows. One record per pair of
    operations for ever: it resolves when they stop conflicting and reopens if they conflict again.

    Sides are ordered by operation id. ``token_a`` is what party ``a`` must present to plan or activate
    its operation (the current version token of ``b``'s operation, known to ``a`` only through this
    conflict) and ``token_b`` the converse."""

    id: str
    kind: str
    state: ConflictState
    version: int
    operation_a: str
    party_a: str
    operation_b: str
    party_b: str
    token_a: str
    token_b: str
    rule: SeparationRule
    encounters: tuple[Encounter, ...]
    created_at: datetime
    updated_at: datetime
    content_version: int = 1
    """The version at which what the conflict is (its state, rule and encounters) last changed. A change
    of tokens alone (an operation of either side was planned, activated or revised to the same shape)
    makes a new ``version`` but keeps this: an acknowledgement of the conflict stands across it, and it
    is not chased again."""
    historical: bool = False
    """One side is a historical record (``Operation.historical``): recorded, never chased."""

    def side_of(self, party_id: str) -> str | None:
        if party_id == self.party_a:
            return "a"
        if party_id == self.party_b:
            return "b"
        return None

    def token_for(self, party_id: str) -> str:
        return self.token_a if party_id == self.party_a else self.token_b

    def own_operation(self, party_id: str) -> str:
        return self.operation_a if party_id == self.party_a else self.operation_b

    @property
    def window(self) -> TimeWindow:
        w = self.encounters[0].window
        for e in self.encounters[1:]:
            w = w.hull(e.window)
        return w

    @property
    def altitude(self) -> AltitudeBand:
        a = self.encounters[0].altitude
        for e in self.encounters[1:]:
            a = a.hull(e.altitude)
        return a

    @once
    def region(self) -> BaseGeometry:
        """The union of the encounters' regions (drawn once per record: every view reads it); of one
        encounter, its region."""
        if len(self.encounters) == 1:
            return self.encounters[0].region
        return shapely.union_all(np.array([e.region for e in self.encounters], dtype=object))

    @once
    def region_geojson(self) -> dict[str, Any]:
        """``to_geojson(region)``, built once per record: the view of each side (and the ledger entry
        that is that view) shows it. Shared by every reader, so never changed in place. Of one
        encounter, the encounter's own (often built already, when the conflict was found)."""
        if len(self.encounters) == 1:
            return self.encounters[0].region_geojson
        return to_geojson(self.region)

    @property
    def min_horizontal_m(self) -> float:
        return min(e.horizontal_m for e in self.encounters)

    @property
    def min_vertical_m(self) -> float:
        return min(e.vertical_m for e in self.encounters)

    @property
    def min_time_s(self) -> float:
        return min(e.time_s for e in self.encounters)


def next_version(old: Conflict, new: Conflict, now: datetime) -> Conflict:
    """``new`` (``old`` with some fields replaced) as the next version of ``old``: its ``version`` is one
    more, and its ``content_version`` moves with it only when the state, rule or encounters changed."""
    version = old.version + 1
    material = (new.state, new.rule, new.encounters) != (old.state, old.rule, old.encounters)
    return replace(new, version=version, content_version=version if material else old.content_version, updated_at=now)


def found_state(encounters: Sequence[Encounter], now: datetime, *, historical: bool) -> ConflictState:
    """The state of a conflict found now: expired when one side is a historical record or its window
    has already ended (nothing to chase: it is recorded, out of the active inbox), else open. So a
    revision that conflicts again in a window not yet ended reopens an expired record, and one that
    conflicts only in the past leaves it expired."""
    end = max(e.window.end for e in encounters)
    return ConflictState.EXPIRED if historical or end <= now else ConflictState.OPEN


def stays_expired(old: Conflict, updated: Conflict) -> bool:
    """An expired record found again as expired with the same encounters: left as it is (only the tokens
    moved, which nobody has to present for an expired conflict), so nobody is told again."""
    return (
        old.state is ConflictState.EXPIRED
        and updated.state is ConflictState.EXPIRED
        and replace(updated, token_a=old.token_a, token_b=old.token_b) == old
    )


def _flip(e: Encounter) -> Encounter:
    """The encounter seen from the other side. The region is the same (each footprint's part near the
    other), so one already drawn is kept rather than drawn again."""
    flipped = replace(e, index_a=e.index_b, index_b=e.index_a, point_a=e.point_b, point_b=e.point_a)
    for drawn in ("region", "region_geojson"):
        if drawn in e.__dict__:
            flipped.__dict__[drawn] = e.__dict__[drawn]
    return flipped


def reconcile(
    subject: Operation,
    findings: Sequence[Finding],
    existing: Mapping[str, Conflict],
    *,
    now: datetime,
    new_id: Callable[[], str],
    historical: Collection[str] = (),
) -> list[Conflict]:
    """The conflict records that change because ``subject`` changed (was created, revised, moved to
    another state) and now has ``findings``. ``existing`` maps the other operation's id to the record of
    that pair, open, resolved or expired. Pairs no longer found are resolved (open ones) or stay as they
    are; found pairs are opened or updated, in the state ``found_state`` gives. ``historical``: the ids of
    other operations that are historical records."""
    changed: list[Conflict] = []
    found_ids = set()
    for f in findings if subject.is_live else ():
        found_ids.add(f.operation_b)
        subject_is_a = subject.id < f.operation_b
        encounters = f.encounters if subject_is_a else tuple(_flip(e) for e in f.encounters)
        if subject_is_a:
            sides = (subject.id, subject.owner_id, f.operation_b, f.owner_b, f.ovn_b, subject.ovn)
        else:
            sides = (f.operation_b, f.owner_b, subject.id, subject.owner_id, subject.ovn, f.ovn_b)
        op_a, party_a, op_b, party_b, token_a, token_b = sides
        old = existing.get(f.operation_b)
        is_historical = subject.historical or f.operation_b in historical
        state = found_state(encounters, now, historical=is_historical)
        if old is None:
            changed.append(
                Conflict(
                    new_id(),
                    "operation",
                    state,
                    1,
                    op_a,
                    party_a,
                    op_b,
                    party_b,
                    token_a,
                    token_b,
                    f.rule,
                    encounters,
                    now,
                    now,
                    historical=is_historical,
                )
            )
            continue
        updated = replace(
            old,
            state=state,
            token_a=token_a,
            token_b=token_b,
            rule=f.rule,
            encounters=encounters,
            historical=is_historical,
        )
        if updated != old and not stays_expired(old, updated):
            changed.append(next_version(old, updated, now))
    for other_id, old in existing.items():
        if other_id not in found_ids and old.state is ConflictState.OPEN:
            changed.append(next_version(old, replace(old, state=ConflictState.RESOLVED), now))
    return changed
