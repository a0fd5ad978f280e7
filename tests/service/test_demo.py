"""The demo is the case the service exists for: every kind of conflict appears, each where it should."""

from __future__ import annotations

from collections import Counter

from deconfliction.service.conflicts import list_conflicts
from deconfliction.service.demo import OVERRIDE_REASON, load_demo
from deconfliction.service.runtime import Runtime


def test_every_kind_of_conflict_appears(sqlite_store) -> None:
    rt = Runtime(sqlite_store)
    load = load_demo(rt)
    kinds = Counter(c.kind for c in load.conflicts)
    assert set(kinds) == {"operation", "zone_entry", "band_entry", "protected_site"}
    pairs = {(load.labels[c.operation_a], load.labels[c.operation_b]) for c in load.conflicts}
    # the convoy crosses the river by the bridge: it enters both banks' zones
    assert ("Aid Agency: Convoy over the bridge", "North Force zone (south-west bank)") in pairs
    assert ("Aid Agency: Convoy over the bridge", "East Force zone (north-east bank)") in pairs
    # the orbit over the city covers the hospital; the low helicopter passes the warehouse
    assert ("North Force: ISR orbit west of the river", "Aid Agency: Al-Noor Hospital") in pairs
    assert ("East Force: Helicopter resupply", "Aid Agency: WFP warehouse") in pairs
    assert ("North Force: River bank patrol", "Euphrates band") in pairs
    # the agency is told of every conflict with its sites, never of the forces' plans
    agency = next(p for p, _ in load.parties if p.name == "Aid Agency")
    told = list_conflicts(rt, agency, limit=1000)
    assert {v.kind for v in told} == {"operation", "zone_entry", "protected_site"}
    force_ops = {r.operation.id for r in load.results if r.operation.owner_id != agency.id}
    assert not any(op in str(told) for op in force_ops)


def test_the_orbit_over_the_hospital_is_activated_with_a_recorded_override(sqlite_store) -> None:
    rt = Runtime(sqlite_store)
    load = load_demo(rt)
    orbit = load.results[0].operation
    assert (orbit.title, orbit.state.value) == ("ISR orbit west of the river", "active")
    names = {p.id: p.name for p, _ in load.parties}
    with rt.store.read() as tx:
        [entry] = [e for e in tx.events.after(0, 100_000) if e.type == "conflict.overridden"]
        c = tx.conflicts.get(entry.subject_id)
        told = {
            names[p.id]: tx.notifications.about(p.id, "conflict.overridden", entry.subject_id) for p, _ in load.parties
        }
    assert c is not None and c.kind == "protected_site" and c.operation_a == orbit.id
    assert entry.payload["reason"] == OVERRIDE_REASON and entry.payload["by_name"] == "North Force"
    assert {k: len(v) for k, v in told.items()} == {
        "Coordination Cell": 1,
        "North Force": 0,
        "East Force": 0,
        "Aid Agency": 1,
    }


def test_the_convoy_is_declared_by_the_agencys_convoy_team(sqlite_store) -> None:
    from deconfliction.service import notifications as notes

    rt = Runtime(sqlite_store)
    load = load_demo(rt)
    team = next(k for k, v in load.labels.items() if v == "Aid Agency: Convoy team")
    (convoy,) = [r.operation for r in load.results if r.operation.title == "Convoy over the bridge"]
    assert convoy.unit_id == team
    agency = next(p for p, _ in load.parties if p.name == "Aid Agency")
    told = [n for n in notes.list_notifications(rt, agency) if n.subject_id in {c.id for c in load.conflicts}]
    about_convoy = {c.id for c in load.conflicts if convoy.id in (c.operation_a, c.operation_b)}
    assert about_convoy and {n.unit_id for n in told if n.subject_id in about_convoy} == {team}
    assert {n.unit_id for n in told if n.subject_id not in about_convoy} == {None}  # its sites belong to no unit


def test_the_demo_shows_an_unknown_column_crossing_the_river_undeclared(sqlite_store) -> None:
    rt = Runtime(sqlite_store)
    load = load_demo(rt)
    names = {p.id: p.name for p, _ in load.parties}
    entries = {(a.subjects[0][1], a.prediction.target, names[a.subjects[1][0]]): a for a in load.undeclared}
    assert all(a.subjects[0][0] == "" and a.prediction.affiliation.value == "unknown" for a in load.undeclared)
    lead = entries[("UNK-1", "zone", "East Force")]  # across the river, into East Force's bank
    assert not lead.prediction.now and 60 < (lead.prediction.loss_at - lead.created_at).total_seconds() < 120
    assert entries[("UNK-1", "zone", "North Force")].prediction.now  # on the city bank now
    assert ("UNK-3", "band", "East Force") in entries and ("UNK-3", "band", "North Force") in entries
    # told, as unknown, to each owner and to the cell, on the record
    with rt.store.read() as tx:
        for name in ("East Force", "North Force", "Coordination Cell"):
            pid = next(p.id for p, _ in load.parties if p.name == name)
            told = [n for n in tx.notifications.list(party_id=pid, limit=1000) if n.kind == "tactical.raised"]
            assert told and all(n.body["affiliation"] == "unknown" for n in told), name
        agency = next(p.id for p, _ in load.parties if p.name == "Aid Agency")
        assert not [n for n in tx.notifications.list(party_id=agency, limit=1000) if n.kind == "tactical.raised"]
