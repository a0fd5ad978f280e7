"""Incidents: report one, and build the inquiry: what was near it in space and time, and who was told
what, when, from the ledger.

The inquiry reads the plans *as they were at the incident's time* (``replay``), so an operation that
ended or was revised since still shows as it stood then; the timeline lists every ledger entry about the
linked operations and conflicts, from the first to now, with who could read it (the parties it was
told to) and whether the change was signed. A party sees its own report within its need-to-know (its
operations, its side of its conflicts); the coordinator and auditors see everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deconfliction import wire
from deconfliction.domain.footprint import CircleFootprint, footprint_shape
from deconfliction.domain.incident import Incident, IncidentDraft, operation_near
from deconfliction.domain.ledger import EVERYONE
from deconfliction.domain.party import Party, Role
from deconfliction.domain.separation import measure
from deconfliction.domain.volume import format_time
from deconfliction.errors import Forbidden, NotFound
from deconfliction.service.replay import replay
from deconfliction.service.runtime import Runtime
from deconfliction.service.views import may_read_entry
from deconfliction.store.ports import every_event

NOT_RECORDED_YET = ("hotline messages: read the threads of the parties concerned (they are not linked by place)",)
"""Kinds of records an inquiry would link that the service does not keep yet: the report says so."""

PAGE = 1000


def _reads_all(viewer: Party) -> bool:
    return viewer.sees_all or viewer.role is Role.AUDITOR


def report_incident(rt: Runtime, actor: Party, draft: IncidentDraft) -> tuple[Incident, tuple[int, str]]:
    if actor.role is Role.OBSERVER:
        raise Forbidden("an observer does not report incidents")
    with rt.store.write() as tx:
        incident = Incident(
            rt.ids.new_id("in"),
            actor.id,
            draft.lon,
            draft.lat,
            draft.at,
            draft.description,
            draft.radius_m,
            draft.before_s,
            draft.after_s,
            rt.clock(),
        )
        tx.incidents.add(incident)
        tx.events.append(
            at=incident.created_at,
            actor_id=actor.id,
            type="incident.reported",
            subject_id=incident.id,
            payload=incident.record(),
            audience=[actor.id],
        )
        return incident, tx.events.head()


def get_incident(rt: Runtime, viewer: Party | None, incident_id: str) -> Incident:
    """``viewer`` None is the operator at the console, who reads everything."""
    with rt.store.read() as tx:
        found = tx.incidents.get(incident_id)
    if found is None or not (viewer is None or _reads_all(viewer) or found.reporter_id == viewer.id):
        raise NotFound(f"no incident {incident_id}", id=incident_id)
    return found


def list_incidents(rt: Runtime, viewer: Party, *, after: str | None = None, limit: int = 100) -> list[Incident]:
    with rt.store.read() as tx:
        return tx.incidents.list(reporter_id=None if _reads_all(viewer) else viewer.id, after=after, limit=limit)


@dataclass(frozen=True)
class Told:
    """One ledger entry about something linked to the incident."""

    seq: int
    at: str
    type: str
    subject: str
    actor: str | None
    told: list[str]
    """Names of the parties that could read it ("every party" for public entries); the coordinator and
    auditors read every entry."""
    signed: bool
    hash: str


@dataclass
class Inquiry:
    incident: dict[str, Any]
    reporter: str
    viewer: str
    operations: list[dict[str, Any]] = field(default_factory=list)
    """Each operation near the incident as it stood at the incident's time, with ``distance_m`` and
    ``owner_name``."""
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    """Conflicts of those operations as they stood at the incident's time."""
    sites: list[dict[str, Any]] = field(default_factory=list)
    """Protected sites within the radius that existed at the incident's time, with ``distance_m``."""
    zones: list[dict[str, Any]] = field(default_factory=list)
    """Zone versions that were agreed at some point, valid at the incident's time, within the radius,
    with ``distance_m`` and their state now."""
    timeline: list[Told] = field(default_factory=list)
    head: tuple[int, str] = (0, "")
    not_recorded: tuple[str, ...] = NOT_RECORDED_YET


def inquire(rt: Runtime, viewer: Party | None, incident_id: str) -> Inquiry:
    """``viewer`` None is the operator at the console, who reads everything."""
    incident = get_incident(rt, viewer, incident_id)
    reads_all = viewer is None or _reads_all(viewer)
    then = replay(rt, None if reads_all else viewer, incident.at)
    with rt.store.read() as tx:
        names = {p.id: p.name for p in tx.parties.list(limit=100_000)}
        head = tx.events.head()
    inquiry = Inquiry(
        incident.record(),
        names.get(incident.reporter_id, incident.reporter_id),
        viewer.name if viewer is not None else "the operator (console)",
        head=head,
    )
    # historical records filed afterwards for an inquiry (docs/api.md), and their conflicts, count too:
    # they are marked "historical", so nobody mistakes them for what the parties knew then
    later = replay(rt, None if reads_all else viewer, None)
    filed_ops = [o for o in later.operation_list() if o.get("historical") and o["id"] not in then.operations]
    filed_conflicts = [c for c in later.conflict_list() if c.get("historical") and c["id"] not in then.conflicts]
    for op in [*then.operation_list(), *filed_ops]:
        distance = operation_near(incident, op)
        if distance is not None:
            inquiry.operations.append({**op, "distance_m": round(distance, 1), "owner_name": names.get(op["owner"])})
    linked_ops = {o["id"] for o in inquiry.operations}
    for c in [*then.conflict_list(), *filed_conflicts]:
        ops_of = {s["operation"] for s in c["sides"]} if "sides" in c else {c["operation"]}
        if ops_of & linked_ops:
            inquiry.conflicts.append(c)
    _static_things(rt, incident, inquiry, names)
    subjects = (
        linked_ops
        | {c["id"] for c in inquiry.conflicts}
        | {s["id"] for s in inquiry.sites}
        | {z["id"] for z in inquiry.zones}
        | {incident.id}
    )
    with rt.store.read() as tx:
        for e in every_event(tx.events, PAGE):
            about = e.payload.get("about")
            if e.subject_id not in subjects and about not in subjects:  # acknowledgements, escalations
                continue
            sealed = e.sealed()
            if not may_read_entry(None if reads_all else viewer, sealed.entry):
                continue
            told = ["every party"] if EVERYONE in e.audience else [names.get(p, p) for p in e.audience]
            inquiry.timeline.append(
                Told(
                    e.seq,
                    format_time(e.at),
                    e.type,
                    e.subject_id,
                    names.get(e.actor_id, e.actor_id) if e.actor_id else None,
                    told,
                    e.signed is not None,
                    e.hash,
                )
            )
    return inquiry


def _static_things(rt: Runtime, incident: Incident, inquiry: Inquiry, names: dict[str, str]) -> None:
    """Sites and agreed zones near the place at the incident's time (everyone may see both)."""
    place = footprint_shape(CircleFootprint((incident.lon, incident.lat), 1.0))

    def distance(shape: Any) -> float | None:
        found = measure(place, shape, incident.radius_m)
        return None if found is None else round(found.distance_m, 1)

    with rt.store.read() as tx:
        after = None
        while sites := tx.sites.list(after=after, limit=500):
            after = sites[-1].id
            for site in sites:
                d = None if site.created_at > incident.at else distance(site.shape)
                if d is not None:
                    inquiry.sites.append(
                        {
                            "id": site.id,
                            "name": site.name,
                            "category": site.category.value,
                            "owner_name": names.get(site.owner_id, site.owner_id),
                            "state": site.state.value,
                            "radius_m": site.radius_m,
                            "accuracy_m": site.accuracy_m,
                            "valid_until": format_time(site.valid_until),
                            "distance_m": d,
                        }
                    )
        after = None
        while zones := tx.zones.list(after=after, limit=500):
            after = zones[-1].id
            for z in zones:
                # a version that was ever agreed, declared before the incident, valid at its time
                ever_agreed = z.state.value in ("agreed", "superseded", "withdrawn")
                if (
                    not ever_agreed
                    or z.created_at > incident.at
                    or not z.validity.start <= incident.at < z.validity.end
                ):
                    continue
                d = distance(z.shape)
                if d is not None:
                    inquiry.zones.append(
                        {
                            "id": z.id,
                            "version": z.version,
                            "name": z.name,
                            "owner_name": names.get(z.owner_id, z.owner_id),
                            "state_now": z.state.value,
                            "distance_m": d,
                        }
                    )


def inquiry_json(q: Inquiry) -> dict[str, Any]:
    return {
        "incident": q.incident,
        "reporter_name": q.reporter,
        "operations": q.operations,
        "conflicts": q.conflicts,
        "sites": q.sites,
        "zones": q.zones,
        "timeline": [t.__dict__ for t in q.timeline],
        "ledger_head": {"seq": q.head[0], "hash": q.head[1]},
        "not_recorded": list(q.not_recorded),
    }


def incident_view(incident: Incident) -> wire.Incident:
    """An incident as those who may read it read it: its record, checked against the model."""
    return wire.Incident.model_validate(incident.record())
