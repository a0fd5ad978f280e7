"""Time and place sanity in the service: what a party declared before (for the warnings of
``domain.sanity``), and the expiry round that closes conflicts whose window ended.

Expiry (docs/notifications.md, "Expiry"): ``expire_conflicts`` (called every second by each server, and
from tests) takes the open conflicts of every kind whose window ended at or before ``rt.clock()``, in one
serialised write, so each is expired once whichever process looks. Each becomes ``expired`` (a new
version), each side gets a ``conflict.expired`` ledger entry (what it is told, audience that side; the
coordinator reads every entry) and a ``conflict.expired`` notification without deadline; the chase of
what was pending about it stops (``stop_chase``: deadlines cleared, so never overdue, never escalated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from deconfliction.domain.conflict import Conflict, ConflictState, next_version
from deconfliction.domain.notification import NotificationState
from deconfliction.domain.party import Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.sanity import DeclarationWarning, Place, all_near, swapped_footprint, warnings_for
from deconfliction.domain.volume import Volume4D
from deconfliction.service.conflicts import party_names
from deconfliction.service.notifications import notify_conflict, prepare_to_tell
from deconfliction.service.runtime import Runtime
from deconfliction.service.views import conflict_side_view
from deconfliction.store.ports import Transaction

PLACES_LIMIT = 500
"""The swapped-coordinates check compares with this many of the party's latest volumes (and its sites
and zones): enough to know where it works, bounded so a party with 100,000 operations pays the same."""

RECENT_LIMIT = 20
"""The fast path of the swapped-coordinates check looks at this many of the party's latest volumes."""


def declared_places(tx: Transaction, party_id: str, *, exclude: str = "") -> list[Place]:
    """Where ``party_id`` declared things: its latest operations' volumes (but ``exclude``), its sites,
    its zones."""
    places = [Place(lon, lat, reach) for lon, lat, reach in tx.operations.places(party_id, exclude=exclude)]
    for site in tx.sites.list(owner_id=party_id, limit=PLACES_LIMIT):
        if site.id != exclude:
            places.append(Place(*site.shape.center, site.shape.reach_m + site.radius_m))
    after = None
    while batch := tx.zones.list(after=after, limit=PLACES_LIMIT):
        places += [Place(*z.shape.center, z.shape.reach_m) for z in batch if z.owner_id == party_id]
        after = batch[-1].id
        if len(batch) < PLACES_LIMIT:
            break
    return places


def operation_warnings(
    tx: Transaction, party_id: str, kind: OperationKind, volumes: Sequence[Volume4D], *, exclude: str = ""
) -> list[DeclarationWarning]:
    """The warnings of an operation's volumes (fields ``volumes[i].footprint`` / ``.altitude``). Fast
    path: when every volume is near one of the party's latest few volumes, nothing can look swapped and
    nothing more is read."""
    recent = [Place(*p) for p in tx.operations.places(party_id, exclude=exclude, limit=RECENT_LIMIT)]
    declared = recent if recent and all_near(volumes, recent) else declared_places(tx, party_id, exclude=exclude)
    return warnings_for(kind, volumes, declared)


def movement_warnings(
    tx: Transaction, party_id: str, kind: OperationKind, volumes: Sequence[Volume4D], *, exclude: str = ""
) -> list[DeclarationWarning]:
    """The warnings of a movement's swept segments, told once per code on the movement's own fields
    (``movement.route``, ``movement.altitude``)."""
    fields = {"coordinates_look_swapped": "movement.route", "altitude_looks_like_feet": "movement.altitude"}
    out: dict[str, DeclarationWarning] = {}
    for w in operation_warnings(tx, party_id, kind, volumes, exclude=exclude):
        out.setdefault(w.code, replace(w, field=fields.get(w.code, w.field)))
    return list(out.values())


def site_warnings(
    tx: Transaction, party_id: str, center: tuple[float, float], reach_m: float, *, exclude: str = ""
) -> list[DeclarationWarning]:
    """``coordinates_look_swapped`` for a new site's footprint (field ``footprint``)."""
    return swapped_footprint("footprint", center, reach_m, declared_places(tx, party_id, exclude=exclude))


# -------------------------------------------------------------------------------------------- expiry


def stop_chase(tx: Transaction, c: Conflict) -> list[str]:
    """Inside a write: the pending notifications about ``c`` that have a deadline (each side's, and the
    coordinators' ``conflict.overridden``), and the coordinators' escalations of them, lose their
    deadline: nothing left to chase, never overdue, never escalated. Returns their ids."""
    closed: list[str] = []
    coordinators = [p.id for p in tx.parties.list(limit=100_000) if p.role is Role.COORDINATOR]
    for party in dict.fromkeys([c.party_a, c.party_b, *coordinators]):
        for n in tx.notifications.for_subject(party, c.id):
            if n.state is not NotificationState.PENDING or n.deadline is None or not n.kind.startswith("conflict."):
                continue
            tx.notifications.save(replace(n, deadline=None))
            closed.append(n.id)
            if not n.at_coordinator:
                continue
            for coordinator in coordinators:
                for copy in tx.notifications.about(coordinator, "escalation", n.id):
                    if copy.state is NotificationState.PENDING and copy.deadline is not None:
                        tx.notifications.save(replace(copy, deadline=None))
                        closed.append(copy.id)
    return closed


def expire_conflicts(rt: Runtime, limit: int = 100) -> int:
    """Expire every open conflict whose window ended (up to ``limit`` per call); returns how many."""
    with rt.store.read() as tx:  # most rounds have nothing to do: they leave the serialised write alone
        if not tx.conflicts.ended(rt.clock(), 1):
            return 0
    with rt.store.write() as tx:
        now = rt.clock()
        ended = tx.conflicts.ended(now, limit)
        if not ended:
            return 0
        names = party_names(tx, ended)
        prepare_to_tell(tx, ended)
        for old in ended:
            c = next_version(old, replace(old, state=ConflictState.EXPIRED), now)
            tx.conflicts.save(c)
            stop_chase(tx, c)
            for side in (c.party_a, c.party_b):
                seq = tx.events.append(
                    at=now,
                    actor_id=None,
                    type="conflict.expired",
                    subject_id=c.id,
                    payload=conflict_side_view(c, side, names),
                    audience=[side],
                )
                other = c.party_b if side == c.party_a else c.party_a
                notify_conflict(tx, rt, c, side, seq, "expired", names.get(other))
        return len(ended)
