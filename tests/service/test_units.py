"""Units: created and validated; a conflict with a unit's operation is told with the unit set and
escalates down the unit's ladder, then the party's (its watch desk), then to the coordinator; a unit's
key sees its own unit and its party's items of no unit, never a sibling unit's nor another party's;
either key acknowledges. Every test runs on both backends."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from deconfliction.domain.party import Party
from deconfliction.errors import AlreadyExists, Forbidden, InvalidInput, NotFound
from deconfliction.service import conflicts as cfs
from deconfliction.service import notifications as notes
from deconfliction.service import operations as ops
from deconfliction.service import units
from deconfliction.service.parties import authenticate
from deconfliction.service.runtime import Runtime
from tests.conftest import FakeClock, square
from tests.service.test_operations import draft
from tests.shapes import circle

LADDER = [{"name": "convoy lead", "channels": {"radio": "ch 7"}}, {"name": "convoy deputy"}]
DESK = [{"name": "watch desk", "channels": {"phone": "+1 555 0100"}}, {"name": "desk chief"}]


@pytest.fixture
def p(parties: dict[str, tuple[Party, str]]) -> dict[str, Party]:
    return {n: party for n, (party, _) in parties.items()}


def unit_key(rt: Runtime, actor: Party | None, unit_id: str) -> Party:
    """The caller a new key of the unit authenticates as."""
    _, api_key, _ = units.issue_unit_key(rt, actor, unit_id)
    return authenticate(rt, api_key)


def test_create_read_and_change_a_unit(rt: Runtime, p: dict[str, Party]) -> None:
    convoy, receipt = units.create_unit(rt, p["alpha"], " Convoy team ", contacts=LADDER, area=square(40, 35))
    assert (convoy.name, convoy.party_id, convoy.version) == ("Convoy team", p["alpha"].id, 1)
    assert [c.name for c in convoy.contacts] == ["convoy lead", "convoy deputy"]
    assert convoy.record()["area"]["type"] == "Polygon"
    office, _ = units.create_unit(rt, None, "Field office", party="alpha")  # the console names the party
    assert office.party_id == p["alpha"].id and office.contacts == () and office.area is None
    for_bravo, _ = units.create_unit(rt, p["cell"], "Convoy team", party=p["bravo"].id)  # same name, other party
    assert for_bravo.party_id == p["bravo"].id
    assert [u.id for u in units.list_units(rt, p["alpha"])] == [convoy.id, office.id]
    assert [u.id for u in units.list_units(rt, p["cell"], party="bravo")] == [for_bravo.id]
    assert units.get_unit(rt, p["cell"], convoy.id) == convoy
    with pytest.raises(NotFound):
        units.get_unit(rt, p["bravo"], convoy.id)
    changed, _ = units.set_unit_contacts(rt, p["alpha"], convoy.id, [{"name": "night lead"}])
    assert changed.version == 2 and [c.name for c in changed.contacts] == ["night lead"]
    with rt.store.read() as tx:
        entries = [e for e in tx.events.after(receipt[0] - 1) if e.type.startswith("unit.")]
    assert [e.type for e in entries] == ["unit.created", "unit.created", "unit.created", "unit.contacts_changed"]
    assert all(e.audience == (e.payload.get("party") or p["alpha"].id,) for e in entries if e.subject_id == convoy.id)


def test_bad_units_are_refused_by_field_and_change_nothing(rt: Runtime, p: dict[str, Party]) -> None:
    units.create_unit(rt, p["alpha"], "Convoy team")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"name": ""}, "name", "invalid_name"),
        ({"name": "x" * 81}, "name", "invalid_name"),
        ({"name": "A", "contacts": []}, "contacts", "invalid_value"),
        ({"name": "A", "contacts": [{"name": "x", "channels": {"pigeon": "1"}}]}, "contacts[0].channels.pigeon", ""),
        ({"name": "A", "area": circle([40, 35], 10)["footprint"]}, "area.type", "not_a_polygon"),
        (
            {
                "name": "A",
                "area": {"type": "Polygon", "coordinates": [[[40, 35], [41, 36], [41, 35], [40, 36], [40, 35]]]},
            },
            "area",
            "",
        ),
    ]
    for body, field, code in cases:
        with pytest.raises(InvalidInput) as e:
            units.create_unit(rt, p["alpha"], body["name"], contacts=body.get("contacts"), area=body.get("area"))
        assert e.value.errors[0].field.startswith(field), (body, e.value.errors)
        assert not code or e.value.errors[0].code == code
    with pytest.raises(AlreadyExists):
        units.create_unit(rt, p["alpha"], "Convoy team")
    with pytest.raises(Forbidden):
        units.create_unit(rt, p["watcher"], "Lookouts")
    with pytest.raises(Forbidden):  # a party makes its own units; the coordinator makes anyone's
        units.create_unit(rt, p["alpha"], "Spies", party=p["bravo"].id)
    assert [u.name for u in units.list_units(rt, p["cell"])] == ["Convoy team"]


def test_a_declaration_names_a_unit_of_the_callers_own_party(rt: Runtime, p: dict[str, Party]) -> None:
    convoy, _ = units.create_unit(rt, p["alpha"], "Convoy team")
    theirs, _ = units.create_unit(rt, p["bravo"], "Bravo team")
    for wrong in (theirs.id, "un_nope"):
        with pytest.raises(InvalidInput) as e:
            ops.submit_operation(rt, p["alpha"], replace(draft(40, 35), unit_id=wrong))
        assert (e.value.errors[0].field, e.value.errors[0].code) == ("unit", "unknown_unit")
    assert ops.list_operations(rt, p["alpha"]) == []
    made = ops.submit_operation(rt, p["alpha"], replace(draft(40, 35), unit_id=convoy.id))
    assert not isinstance(made, ops.StoredResponse) and made.operation.unit_id == convoy.id
    # a revision without a unit keeps it
    again = ops.revise_operation(rt, p["alpha"], made.operation.id, draft(40, 35, hours=3), expected_version=1)
    assert not isinstance(again, ops.StoredResponse) and again.operation.unit_id == convoy.id


def conflict_with_unit(rt: Runtime, p: dict[str, Party]) -> tuple[Any, Any]:
    """alpha's convoy team declares an operation; bravo's crosses it."""
    convoy, _ = units.create_unit(rt, p["alpha"], "Convoy team", contacts=LADDER)
    notes.set_contacts(rt, p["alpha"], DESK)
    ops.submit_operation(rt, p["alpha"], replace(draft(40, 35), unit_id=convoy.id))
    ops.submit_operation(rt, p["bravo"], draft(40.05, 35.05))
    return convoy, next(n for n in notes.list_notifications(rt, p["alpha"]) if n.kind == "conflict.opened")


def test_the_unit_is_told_and_escalation_walks_unit_then_desk_then_coordinator(
    rt: Runtime, p: dict[str, Party], clock: FakeClock
) -> None:
    convoy, n = conflict_with_unit(rt, p)
    assert n.unit_id == convoy.id and n.record()["unit"] == convoy.id
    (theirs,) = [x for x in notes.list_notifications(rt, p["bravo"]) if x.kind == "conflict.opened"]
    assert theirs.unit_id is None and "unit" not in str(theirs.body)  # bravo learns nothing of alpha's units
    with rt.store.read() as tx:  # the ledger says which unit was told, and when (the entry's time)
        entry = next(e for e in tx.events.after(0) if e.seq == n.entry_seq)
        bravo_entry = next(e for e in tx.events.after(0) if e.seq == theirs.entry_seq)
    assert entry.type == "conflict.opened" and entry.payload["unit"] == convoy.id and entry.at == n.created_at
    assert entry.audience == (p["alpha"].id,) and "unit" not in bravo_entry.payload
    notes.acknowledge_notification(rt, p["bravo"], theirs.id)
    told = []
    for _ in range(10):
        current = notes.get_notification(rt, p["alpha"], n.id)
        if current.at_coordinator:
            break
        assert current.deadline is not None
        clock.now = current.deadline
        assert notes.run_escalations(rt) == 1
        told.append(notes.get_notification(rt, p["alpha"], n.id).escalations[-1]["to"])
    # step 0 was the unit's primary; then its deputy, the party's watch desk and its chief, the coordinator
    assert told == ["convoy deputy", "watch desk", "desk chief", "coordinator"]
    with rt.store.read() as tx:
        steps = [e for e in tx.events.after(0) if e.type == "notification.escalated"]
    assert [e.payload["to"] for e in steps] == told and {e.payload["unit"] for e in steps} == {convoy.id}
    (to_cell,) = [x for x in notes.list_notifications(rt, p["cell"]) if x.kind == "escalation"]
    assert to_cell.body["unit"] == convoy.id and to_cell.unit_id is None


def test_a_unit_without_a_ladder_hands_straight_to_the_desk(rt: Runtime, p: dict[str, Party], clock: FakeClock) -> None:
    bare, _ = units.create_unit(rt, p["alpha"], "Bare team")
    notes.set_contacts(rt, p["alpha"], DESK)
    ops.submit_operation(rt, p["alpha"], replace(draft(40, 35), unit_id=bare.id))
    ops.submit_operation(rt, p["bravo"], draft(40.05, 35.05))
    (n,) = [x for x in notes.list_notifications(rt, p["alpha"]) if x.kind == "conflict.opened"]
    with rt.store.read() as tx:
        assert [c.name for c in units.ladder_for(tx, n)] == ["watch desk", "desk chief"]
    assert n.deadline is not None
    clock.now = n.deadline
    notes.run_escalations(rt)
    assert notes.get_notification(rt, p["alpha"], n.id).escalations[-1]["to"] == "desk chief"


@pytest.mark.parametrize("by", ["unit", "party"])
def test_either_the_unit_or_the_watch_desk_acknowledges(rt: Runtime, p: dict[str, Party], by: str) -> None:
    convoy, n = conflict_with_unit(rt, p)
    sibling, _ = units.create_unit(rt, p["alpha"], "Air wing")
    with pytest.raises(NotFound):  # a sibling unit does not see it
        notes.acknowledge_notification(rt, unit_key(rt, p["alpha"], sibling.id), n.id)
    who = unit_key(rt, p["alpha"], convoy.id) if by == "unit" else p["alpha"]
    done, receipt = notes.acknowledge_notification(rt, who, n.id)
    assert done.acknowledged_by == p["alpha"].id
    with rt.store.read() as tx:
        entry = tx.events.after(receipt[0] - 1)[0]
    assert entry.type == "notification.acknowledged"
    assert entry.payload.get("by_unit") == (convoy.id if by == "unit" else None)
    # bravo is told that alpha acknowledged, without a word about the unit
    (told,) = [x for x in notes.list_notifications(rt, p["bravo"]) if x.kind == "conflict.acknowledged"]
    assert "unit" not in str(told.body) and told.unit_id is None


def test_a_unit_key_sees_its_unit_and_its_party_not_a_sibling_nor_another_party(
    rt: Runtime, p: dict[str, Party], clock: FakeClock
) -> None:
    alpha, bravo = p["alpha"], p["bravo"]
    convoy, _ = units.create_unit(rt, alpha, "Convoy team")
    air, _ = units.create_unit(rt, alpha, "Air wing")
    as_convoy, as_air = unit_key(rt, alpha, convoy.id), unit_key(rt, alpha, air.id)
    assert (as_convoy.id, as_convoy.unit_id) == (alpha.id, convoy.id)
    own = ops.submit_operation(rt, as_convoy, draft(40, 35))  # a unit's key declares for its unit
    sib = ops.submit_operation(rt, alpha, replace(draft(50, 35), unit_id=air.id))
    shared = ops.submit_operation(rt, alpha, draft(60, 35))  # the party's, of no unit
    assert not isinstance(own, ops.StoredResponse) and own.operation.unit_id == convoy.id
    assert not isinstance(sib, ops.StoredResponse) and not isinstance(shared, ops.StoredResponse)
    with pytest.raises(InvalidInput) as e:  # a unit's key cannot declare for another unit
        ops.submit_operation(rt, as_convoy, replace(draft(40, 35), unit_id=air.id))
    assert (e.value.errors[0].field, e.value.errors[0].code) == ("unit", "not_your_unit")
    for lon in (40.05, 50.05, 60.05):  # bravo crosses all three
        ops.submit_operation(rt, bravo, draft(lon, 35.05))
    ids = lambda xs: {x.id for x in xs}  # noqa: E731
    assert ids(ops.list_operations(rt, as_convoy)) == {own.operation.id, shared.operation.id}
    assert ids(ops.list_operations(rt, alpha)) == {own.operation.id, sib.operation.id, shared.operation.id}
    with pytest.raises(NotFound):
        ops.get_operation(rt, as_convoy, sib.operation.id)
    mine = {c.operation for c in cfs.list_conflicts(rt, as_convoy)}
    assert mine == {own.operation.id, shared.operation.id}
    assert {c.operation for c in cfs.list_conflicts(rt, as_air)} == {sib.operation.id, shared.operation.id}
    everything = notes.list_notifications(rt, alpha)
    by_unit = {n.unit_id for n in everything}
    assert by_unit == {convoy.id, air.id, None}
    assert {n.unit_id for n in notes.list_notifications(rt, as_convoy)} == {convoy.id, None}
    assert {n.unit_id for n in notes.stream_after(rt, as_air, 0)} == {air.id, None}
    sibling_note = next(n for n in everything if n.unit_id == air.id)
    with pytest.raises(NotFound):
        notes.get_notification(rt, as_convoy, sibling_note.id)
    clock.advance(hours=1)
    assert {n.unit_id for n in notes.overdue(rt, as_convoy)} == {convoy.id, None}
    assert {n.unit_id for n in notes.overdue(rt, alpha)} == {convoy.id, air.id, None}
    # another party: nothing of alpha's, as before
    assert all(n.party_id == bravo.id for n in notes.list_notifications(rt, bravo))
    with pytest.raises(NotFound):
        units.get_unit(rt, bravo, convoy.id)
    # a unit's key manages its own ladder, not its siblings', issues no keys, makes no units
    units.set_unit_contacts(rt, as_convoy, convoy.id, [{"name": "lead"}])
    with pytest.raises(NotFound):
        units.set_unit_contacts(rt, as_convoy, air.id, [{"name": "lead"}])
    with pytest.raises(Forbidden):
        units.issue_unit_key(rt, as_convoy, convoy.id)
    with pytest.raises(Forbidden):
        units.create_unit(rt, as_convoy, "Splinter")
    with pytest.raises(Forbidden):
        notes.set_contacts(rt, as_convoy, [{"name": "x"}])
    assert [u.id for u in units.list_units(rt, as_convoy)] == [convoy.id]


def test_a_revoked_unit_key_stops_working(rt: Runtime, p: dict[str, Party]) -> None:
    convoy, _ = units.create_unit(rt, p["alpha"], "Convoy team")
    key, api_key, _ = units.issue_unit_key(rt, p["cell"], convoy.id)
    assert authenticate(rt, api_key).unit_id == convoy.id
    revoked, _ = units.revoke_unit_key(rt, p["alpha"], convoy.id, key.id)
    assert revoked.revoked_at is not None
    from deconfliction.errors import NotAuthenticated

    with pytest.raises(NotAuthenticated):
        authenticate(rt, api_key)
