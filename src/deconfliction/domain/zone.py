"""Zones of responsibility: an area a party answers for, valid for a period, agreed with counter-parties.

A party (the **owner**) proposes a zone to one or more **counter-parties**; each of them accepts or
rejects. The zone is **agreed** when every counter-party accepted, **rejected** as soon as one rejected.
Only an agreed zone counts in conflict detection (``areas.zone_entries``): "if you come in there, you call
us".

Versions. A zone keeps its id for ever; each change of its area, validity or counter-parties is a new
**version** (1, 2, ...), one record each, proposed and answered like the first. While version ``n + 1``
is being answered, version ``n`` stays agreed and in force; when ``n + 1`` is agreed it **supersedes**
``n``, which stays in the history. A rejected revision leaves the agreed version in force.

States and actions (anything else raises ``InvalidTransition`` naming the state and the action)::

    proposed --answer (all accepted)--> agreed --supersede (newer version agreed)--> superseded
    proposed --answer (one rejected)--> rejected
    proposed | agreed --withdraw (owner)--> withdrawn
    agreed | rejected | withdrawn --revise (owner)--> a new version, proposed (this record is unchanged)

Everything here is pure: functions take a zone and return new values, never mutate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from deconfliction.domain.footprint import Footprint, PolygonFootprint, Shape, footprint_shape
from deconfliction.domain.lazy import once
from deconfliction.domain.volume import TimeWindow, format_time
from deconfliction.errors import FieldError, Forbidden, InvalidInput, InvalidTransition


class ZoneState(StrEnum):
    PROPOSED = "proposed"
    AGREED = "agreed"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class ZoneAnswer(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ZoneAction(StrEnum):
    ANSWER = "answer"
    REVISE = "revise"
    WITHDRAW = "withdraw"
    SUPERSEDE = "supersede"


ALLOWED: dict[ZoneState, frozenset[ZoneAction]] = {
    ZoneState.PROPOSED: frozenset({ZoneAction.ANSWER, ZoneAction.WITHDRAW}),
    ZoneState.AGREED: frozenset({ZoneAction.REVISE, ZoneAction.WITHDRAW, ZoneAction.SUPERSEDE}),
    ZoneState.REJECTED: frozenset({ZoneAction.REVISE}),
    ZoneState.SUPERSEDED: frozenset(),
    ZoneState.WITHDRAWN: frozenset({ZoneAction.REVISE}),
}
"""Which action each state allows. A revision is proposed from the latest version only: an agreed one
(the usual change), a rejected one (try again) or a withdrawn one (propose again); one proposal at a
time."""


@dataclass(frozen=True)
class Zone:
    """One version of a zone of responsibility."""

    id: str
    """The zone's identity, shared by all its versions."""
    version: int
    owner_id: str
    counterparties: tuple[str, ...]
    """Sorted party ids that answer the proposal; never the owner."""
    name: str
    footprint: PolygonFootprint
    validity: TimeWindow
    """Half-open [start, end) during which the zone is in force once agreed."""
    state: ZoneState
    answers: tuple[tuple[str, ZoneAnswer], ...]
    """(counter-party, answer) for those who answered, sorted by party."""
    revision: int
    """Counts every change of this record (answers, state); for ETag / If-Match. Starts at 1."""
    created_at: datetime
    updated_at: datetime

    @once
    def shape(self) -> Shape:
        """The detector's view of the footprint (computed once)."""
        return footprint_shape(self.footprint)

    def answer_of(self, party_id: str) -> ZoneAnswer | None:
        return dict(self.answers).get(party_id)

    @property
    def pending(self) -> tuple[str, ...]:
        """Counter-parties that have not answered yet."""
        answered = dict(self.answers)
        return tuple(p for p in self.counterparties if p not in answered)

    @property
    def is_agreed(self) -> bool:
        return self.state is ZoneState.AGREED

    def in_force(self, window: TimeWindow) -> bool:
        """Agreed, and valid at some instant of ``window``."""
        return self.is_agreed and self.validity.intersects(window)


@dataclass(frozen=True)
class ZoneChange:
    """What an answer changed: the answered version, and the version it superseded when it became agreed."""

    zone: Zone
    superseded: Zone | None = None

    @property
    def changed(self) -> tuple[Zone, ...]:
        return (self.zone,) if self.superseded is None else (self.zone, self.superseded)


# ------------------------------------------------------------------------------------------- checks


def _refuse(zone: Zone, action: ZoneAction, why: str = "") -> InvalidTransition:
    allowed = ", ".join(sorted(ALLOWED[zone.state])) or "none"
    return InvalidTransition(
        f"zone {zone.id} version {zone.version} is {zone.state}: it cannot {action.value}"
        + (f" ({why})" if why else f" (allowed: {allowed})"),
        state=zone.state.value,
        action=action.value,
    )


def _require(zone: Zone, action: ZoneAction) -> None:
    if action not in ALLOWED[zone.state]:
        raise _refuse(zone, action)


def _require_owner(zone: Zone, party_id: str, action: ZoneAction) -> None:
    if party_id != zone.owner_id:
        raise Forbidden(
            f"party {party_id} cannot {action.value} zone {zone.id}: only its owner {zone.owner_id} can",
            party=party_id,
            action=action.value,
        )


def _counterparties(owner_id: str, raw: Sequence[str]) -> tuple[str, ...]:
    errors: list[FieldError] = []
    if isinstance(raw, str) or not raw:
        errors.append(FieldError("counterparties", "required", "a zone is proposed to at least one counter-party"))
    else:
        seen: set[str] = set()
        for i, p in enumerate(raw):
            if not isinstance(p, str) or not p:
                errors.append(FieldError(f"counterparties[{i}]", "invalid", "a counter-party is a party id"))
            elif p == owner_id:
                errors.append(
                    FieldError(f"counterparties[{i}]", "owner_as_counterparty", "the owner cannot be a counter-party")
                )
            elif p in seen:
                errors.append(FieldError(f"counterparties[{i}]", "duplicate", f"counter-party {p} is listed twice"))
            seen.add(p)
    if errors:
        raise InvalidInput(errors)
    return tuple(sorted(raw))


def _zone_footprint(footprint: Footprint) -> PolygonFootprint:
    if not isinstance(footprint, PolygonFootprint):
        raise InvalidInput.one(
            "footprint.type", "not_a_polygon", "a zone's footprint is a Polygon or MultiPolygon (an area)"
        )
    return footprint


def _validity(validity: TimeWindow) -> TimeWindow:
    if validity.end <= validity.start:
        raise InvalidInput.one(
            "validity.end",
            "window_empty",
            f"end {format_time(validity.end)} must be after start {format_time(validity.start)}",
        )
    return validity


# ------------------------------------------------------------------------------------------ actions


def propose_zone(
    *,
    zone_id: str,
    owner_id: str,
    counterparties: Sequence[str],
    footprint: Footprint,
    validity: TimeWindow,
    now: datetime,
    name: str = "",
) -> Zone:
    """Version 1 of a new zone, proposed by ``owner_id`` to ``counterparties``. ``footprint`` must be a
    validated polygon footprint (``parse_footprint``); ``validity`` must not be empty."""
    return Zone(
        id=zone_id,
        version=1,
        owner_id=owner_id,
        counterparties=_counterparties(owner_id, counterparties),
        name=name,
        footprint=_zone_footprint(footprint),
        validity=_validity(validity),
        state=ZoneState.PROPOSED,
        answers=(),
        revision=1,
        created_at=now,
        updated_at=now,
    )


def answer_zone(
    zone: Zone,
    *,
    party_id: str,
    answer: ZoneAnswer,
    now: datetime,
    current_agreed: Zone | None = None,
) -> ZoneChange:
    """A counter-party's answer to a proposed version. An answer is final: answering twice is refused.

    When the last pending counter-party accepts, the version becomes agreed and ``current_agreed`` (the
    agreed version of the same zone in force until now, if any) is superseded. One rejection rejects it.
    Raises ``Forbidden`` when ``party_id`` is not a counter-party, ``InvalidTransition`` when the zone is
    not proposed or the party already answered."""
    if party_id not in zone.counterparties:
        raise Forbidden(
            f"party {party_id} is not a counter-party of zone {zone.id}; only "
            f"{', '.join(zone.counterparties)} answer it",
            party=party_id,
            action=ZoneAction.ANSWER.value,
        )
    _require(zone, ZoneAction.ANSWER)
    previous = zone.answer_of(party_id)
    if previous is not None:
        raise _refuse(zone, ZoneAction.ANSWER, f"{party_id} already answered {previous}; an answer is final")
    answers = tuple(sorted((*zone.answers, (party_id, answer))))
    if answer is ZoneAnswer.REJECTED:
        state = ZoneState.REJECTED
    elif len(answers) == len(zone.counterparties):
        state = ZoneState.AGREED
    else:
        state = ZoneState.PROPOSED
    answered = replace(zone, answers=answers, state=state, revision=zone.revision + 1, updated_at=now)
    if state is not ZoneState.AGREED or current_agreed is None:
        return ZoneChange(answered)
    if current_agreed.id != zone.id or current_agreed.version >= zone.version:
        raise ValueError(
            f"current_agreed must be an older version of zone {zone.id}; got {current_agreed.id} "
            f"version {current_agreed.version}"
        )
    return ZoneChange(answered, supersede_zone(current_agreed, now=now))


def supersede_zone(zone: Zone, *, now: datetime) -> Zone:
    """The agreed version ``zone`` replaced by a newer agreed version (done by ``answer_zone``)."""
    _require(zone, ZoneAction.SUPERSEDE)
    return replace(zone, state=ZoneState.SUPERSEDED, revision=zone.revision + 1, updated_at=now)


def revise_zone(
    latest: Zone,
    *,
    party_id: str,
    now: datetime,
    footprint: Footprint | None = None,
    validity: TimeWindow | None = None,
    counterparties: Sequence[str] | None = None,
    name: str | None = None,
) -> Zone:
    """A new version proposed by the owner: ``latest`` (the zone's highest version: agreed, rejected or
    withdrawn) is left as it is, and what is not given is carried over. The new version needs every counter-party's
    answer again."""
    _require_owner(latest, party_id, ZoneAction.REVISE)
    _require(latest, ZoneAction.REVISE)
    return Zone(
        id=latest.id,
        version=latest.version + 1,
        owner_id=latest.owner_id,
        counterparties=(
            latest.counterparties if counterparties is None else _counterparties(latest.owner_id, counterparties)
        ),
        name=latest.name if name is None else name,
        footprint=latest.footprint if footprint is None else _zone_footprint(footprint),
        validity=latest.validity if validity is None else _validity(validity),
        state=ZoneState.PROPOSED,
        answers=(),
        revision=1,
        created_at=now,
        updated_at=now,
    )


def withdraw_zone(zone: Zone, *, party_id: str, now: datetime) -> Zone:
    """The owner withdraws a proposed or agreed version; it stops counting at once."""
    _require_owner(zone, party_id, ZoneAction.WITHDRAW)
    _require(zone, ZoneAction.WITHDRAW)
    return replace(zone, state=ZoneState.WITHDRAWN, revision=zone.revision + 1, updated_at=now)
