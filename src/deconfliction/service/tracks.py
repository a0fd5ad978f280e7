"""Use cases of live tracks a party answers for: claim a track ("ours") or disclaim it ("not ours").

A claim or a disclaim is a statement on the record: one ledger entry (``track.claimed``,
``track.disclaimed``) whose audience is the party that made it and every party that was alerted about
the track (the other party of a pair, the owner of the zone, band or site it entered, the coordinators
told of an undeclared entry, the track's own party), each of whom gets a notification of the same kind,
for information (no deadline). Then the track picture follows the statement:

* claiming a track of no party (unknown, hostile, pending, neutral) makes it the claimer's, the live
  track and its later reports alike, and so compared from then on with what the claimer declared;
* disclaiming one's own track makes it a track of no party (unknown), the live track and its later
  reports alike; disclaiming a track of no party records "not ours" and changes nothing else.

Tracks, alerts and claims live in the database, shared by every server process (docs/tactical.md);
the ledger keeps every statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deconfliction.domain.notification import Notification
from deconfliction.domain.party import DECLARING_ROLES, Party
from deconfliction.domain.tactical import NO_PARTY, Affiliation, Alert, AlertKind
from deconfliction.domain.volume import format_time
from deconfliction.errors import Forbidden, InvalidInput, NotFound, TrackNotClaimable
from deconfliction.service.delivery import enqueue
from deconfliction.service.notifications import undeclared_audience
from deconfliction.service.runtime import Runtime
from deconfliction.service.tactical.cycle import TacticalService
from deconfliction.store.ports import Transaction

MAX_REASON = 500


@dataclass(frozen=True)
class TrackStatement:
    """What a claim or disclaim did: the track's id, its party and affiliation afterwards, the alerts it
    answered, how many parties were told, and the ledger receipt."""

    track_id: str
    statement: str
    party: str | None
    affiliation: Affiliation
    alerts: tuple[str, ...]
    told: int
    receipt: tuple[int, str]


def _reason(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip()
    if not 1 <= len(text) <= MAX_REASON:
        raise InvalidInput.one("reason", "invalid_value", f"1 to {MAX_REASON} characters, or leave it out")
    return text


def _alerted(tx: Transaction, alerts: list[Alert]) -> list[str]:
    """Every party told of one of the alerts, in the order first told."""
    out: dict[str, None] = {}
    for a in alerts:
        if a.kind is AlertKind.UNDECLARED:
            out.update((pid, None) for pid, _ in undeclared_audience(tx, a))
        else:
            out.update((pid, None) for pid in a.parties if pid != NO_PARTY)
    return list(out)


def _state(
    rt: Runtime,
    tactical: TacticalService,
    actor: Party,
    statement: str,
    key: tuple[str, str],
    after: tuple[str | None, Affiliation],
    before: Affiliation,
    reason: str | None,
) -> TrackStatement:
    alerts = tactical.alerted_about(key)
    with rt.store.write() as tx:
        now = rt.clock()
        told = [pid for pid in _alerted(tx, alerts) if pid != actor.id]
        body: dict[str, Any] = {
            "track": key[1],
            "statement": statement,
            "by": actor.id,
            "by_name": actor.name,
            "affiliation_before": before.value,
            "party": after[0],
            "affiliation": after[1].value,
            "reason": reason,
            "alerts": [a.id for a in alerts],
            "at": format_time(now),
        }
        seq = tx.events.append(
            at=now,
            actor_id=actor.id,
            type=f"track.{statement}",
            subject_id=key[1],
            payload=body,
            audience=[actor.id, *told],
        )
        for party_id in told:
            n = Notification(
                rt.ids.new_id("nt"),
                tx.notifications.next_seq(),
                party_id,
                f"track.{statement}",
                key[1],
                seq,
                body,
                now,
                None,
            )
            tx.notifications.add(n)
            enqueue(tx, rt, n)
        receipt = tx.events.head()
    return TrackStatement(key[1], statement, after[0], after[1], tuple(a.id for a in alerts), len(told), receipt)


def _check(actor: Party) -> None:
    if actor.role not in DECLARING_ROLES:
        raise Forbidden(f"a {actor.role.value} does not answer for tracks")


def claim_track(
    rt: Runtime, tactical: TacticalService, actor: Party, track_id: str, reason: str | None
) -> TrackStatement:
    """ "Ours": the live track of no party ``track_id`` becomes the actor's (recorded, told to whoever was
    alerted about it). 404 when there is no such live track; 409 ``track_not_claimable`` when the track
    is already the actor's or another party's."""
    _check(actor)
    why = _reason(reason)
    now = rt.clock()
    if tactical.store.live((actor.id, track_id), now):
        raise TrackNotClaimable(f"track {track_id} is already yours", track=track_id)
    found = tactical.store.live((NO_PARTY, track_id), now)
    if found is None:
        if tactical.store.live_of_a_party(track_id, now):
            raise TrackNotClaimable(f"track {track_id} is another party's", track=track_id)
        raise NotFound(f"no live track {track_id} of no party", id=track_id)
    done = _state(rt, tactical, actor, "claimed", (NO_PARTY, track_id), (actor.id, Affiliation.PARTY), found[0], why)
    tactical.claim(track_id, actor.id)
    return done


def disclaim_track(
    rt: Runtime, tactical: TacticalService, actor: Party, track_id: str, reason: str | None
) -> TrackStatement:
    """ "Not ours": of the actor's own live track ``track_id``, it becomes a track of no party (unknown);
    of a live track of no party, the statement is recorded and told. 404 when neither exists."""
    _check(actor)
    why = _reason(reason)
    now = rt.clock()
    own = tactical.store.live((actor.id, track_id), now)
    if own is not None:
        done = _state(
            rt,
            tactical,
            actor,
            "disclaimed",
            (actor.id, track_id),
            (None, Affiliation.UNKNOWN),
            Affiliation.PARTY,
            why,
        )
        tactical.disown((actor.id, track_id))
        return done
    found = tactical.store.live((NO_PARTY, track_id), now)
    if found is None:
        raise NotFound(f"no live track {track_id} of yours or of no party", id=track_id)
    return _state(rt, tactical, actor, "disclaimed", (NO_PARTY, track_id), (None, found[0]), found[0], why)
