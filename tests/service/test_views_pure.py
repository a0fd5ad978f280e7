"""Need-to-know decided in one place (service/views.py), as a matrix: every viewer (the console, the
coordinator, an auditor, an observer, the owner, the owner's unit keys, another party) against every kind
of thing, each decision on both sides. Pure: no store, so it also runs under `make mutation`."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from deconfliction.domain.conflict import Conflict
from deconfliction.domain.ledger import Entry
from deconfliction.domain.operation import Operation
from deconfliction.domain.party import Party, Role
from deconfliction.domain.unit import Unit
from deconfliction.domain.zone import Zone, ZoneAnswer, ZoneState
from deconfliction.errors import NotFound
from deconfliction.service import views

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

A = Party("pt_a", "Alpha", Role.PARTY, T0)
A_U1 = Party("pt_a", "Alpha", Role.PARTY, T0, unit_id="un_1")
A_U2 = Party("pt_a", "Alpha", Role.PARTY, T0, unit_id="un_2")
B = Party("pt_b", "Bravo", Role.PARTY, T0)
B_U1 = Party("pt_b", "Bravo", Role.PARTY, T0, unit_id="un_1")
CO = Party("pt_co", "Cell", Role.COORDINATOR, T0)
CO_U = Party("pt_co", "Cell", Role.COORDINATOR, T0, unit_id="un_9")
AUD = Party("pt_au", "Audit", Role.AUDITOR, T0)
OBS = Party("pt_ob", "Observer", Role.OBSERVER, T0)


def op(owner: str = "pt_a", unit: str | None = None) -> Operation:
    return cast(Operation, SimpleNamespace(id="op_1", owner_id=owner, unit_id=unit))


def conflict(a: str = "pt_a", b: str = "pt_b") -> Conflict:
    return cast(Conflict, SimpleNamespace(id="cf_1", party_a=a, party_b=b))


def zone(
    state: ZoneState, answers: tuple[tuple[str, ZoneAnswer], ...] = (), counter: tuple[str, ...] = ("pt_b",)
) -> Zone:
    return cast(Zone, SimpleNamespace(owner_id="pt_a", counterparties=counter, state=state, answers=answers))


def entry(audience: tuple[str, ...], payload: dict[str, Any] | None = None) -> Entry:
    return Entry(1, T0, None, "x", "y", audience, payload or {})


@pytest.mark.parametrize(
    ("viewer", "owner", "unit", "sees"),
    [
        (A, "pt_a", None, True),
        (A, "pt_a", "un_1", True),  # the party's own key reads every unit's items
        (A_U1, "pt_a", "un_1", True),
        (A_U1, "pt_a", None, True),  # and a unit's key its party's items of no unit
        (A_U1, "pt_a", "un_2", False),  # never a sibling unit's
        (A_U2, "pt_a", "un_1", False),
        (B, "pt_a", None, False),
        (B_U1, "pt_a", "un_1", False),  # the same unit id in another party is another unit
        (CO, "pt_a", "un_1", True),
        (CO_U, "pt_a", "un_2", True),
        (AUD, "pt_a", None, False),
        (OBS, "pt_a", None, False),
    ],
)
def test_unit_items_and_operations(viewer: Party, owner: str, unit: str | None, sees: bool) -> None:
    assert views.may_see_unit_item(viewer, owner, unit) is sees
    assert views.may_see_operation(viewer, op(owner, unit)) is sees
    if sees:
        assert views.visible_operation(viewer, op(owner, unit), "op_1").id == "op_1"
    else:
        with pytest.raises(NotFound, match="no operation op_1"):
            views.visible_operation(viewer, op(owner, unit), "op_1")


def test_a_missing_operation_or_conflict_reads_as_not_found() -> None:
    with pytest.raises(NotFound, match="no operation op_9") as err:
        views.visible_operation(CO, None, "op_9")
    assert err.value.extra == {"id": "op_9"}
    with pytest.raises(NotFound, match="no conflict cf_9") as err:
        views.visible_conflict(CO, None, "cf_9")
    assert err.value.extra == {"id": "cf_9"}


@pytest.mark.parametrize(
    ("viewer", "unit_party", "unit_id", "sees"),
    [
        (None, "pt_a", "un_1", True),
        (CO, "pt_a", "un_1", True),
        (AUD, "pt_a", "un_1", True),
        (A, "pt_a", "un_1", True),
        (A_U1, "pt_a", "un_1", True),
        (A_U2, "pt_a", "un_1", False),
        (B, "pt_a", "un_1", False),
        (B_U1, "pt_a", "un_1", False),
        (OBS, "pt_a", "un_1", False),
    ],
)
def test_units(viewer: Party | None, unit_party: str, unit_id: str, sees: bool) -> None:
    unit = Unit(unit_id, unit_party, "1st", (), None, 1, T0, T0)
    assert views.may_see_unit(viewer, unit) is sees


@pytest.mark.parametrize(
    ("viewer", "audience", "payload", "reads"),
    [
        (None, (), {}, True),
        (CO, (), {}, True),
        (AUD, (), {}, True),
        (A, ("pt_a",), {}, True),
        (A, ("*",), {}, True),
        (A, ("pt_b",), {}, False),
        (A, (), {}, False),
        (OBS, ("*",), {}, True),
        (A, ("pt_a",), {"unit": "un_1"}, True),  # the party's own key reads its units' entries
        (A_U1, ("pt_a",), {"unit": "un_1"}, True),
        (A_U1, ("pt_a",), {"unit": None}, True),
        (A_U1, ("pt_a",), {}, True),
        (A_U1, ("pt_a",), {"unit": "un_2"}, False),
        (A_U1, ("pt_b",), {"unit": "un_1"}, False),
    ],
)
def test_ledger_entries(viewer: Party | None, audience: tuple[str, ...], payload: dict[str, Any], reads: bool) -> None:
    assert views.may_read_entry(viewer, entry(audience, payload)) is reads


def test_unit_payloads() -> None:
    assert views.may_read_unit_payload(None, {"unit": "un_2"})
    assert views.may_read_unit_payload(A, {"unit": "un_2"})
    assert views.may_read_unit_payload(A_U1, {"unit": "un_1"})
    assert views.may_read_unit_payload(A_U1, {})
    assert not views.may_read_unit_payload(A_U1, {"unit": "un_2"})


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [(A, True), (B, True), (A_U1, True), (CO, True), (Party("pt_c", "C", Role.PARTY, T0), False), (AUD, False)],
)
def test_conflicts(viewer: Party, sees: bool) -> None:
    assert views.may_see_conflict(viewer, conflict()) is sees
    assert views.may_see_conflict(viewer, conflict("pt_b", "pt_a")) is sees
    if sees:
        assert views.visible_conflict(viewer, conflict(), "cf_1").id == "cf_1"
    else:
        with pytest.raises(NotFound, match="no conflict cf_1"):
            views.visible_conflict(viewer, conflict(), "cf_1")


def test_zones_ever_agreed_are_for_everyone() -> None:
    accepted = (("pt_b", ZoneAnswer.ACCEPTED), ("pt_c", ZoneAnswer.ACCEPTED))
    assert views.zone_was_agreed(zone(ZoneState.AGREED))
    assert views.zone_was_agreed(zone(ZoneState.SUPERSEDED))
    assert views.zone_was_agreed(zone(ZoneState.WITHDRAWN, accepted, ("pt_b", "pt_c")))
    # withdrawn before every counter-party accepted, or after one rejected: never agreed
    assert not views.zone_was_agreed(zone(ZoneState.WITHDRAWN, accepted[:1], ("pt_b", "pt_c")))
    rejected = (("pt_b", ZoneAnswer.ACCEPTED), ("pt_c", ZoneAnswer.REJECTED))
    assert not views.zone_was_agreed(zone(ZoneState.WITHDRAWN, rejected, ("pt_b", "pt_c")))
    assert not views.zone_was_agreed(zone(ZoneState.PROPOSED, accepted, ("pt_b", "pt_c")))
    assert not views.zone_was_agreed(zone(ZoneState.REJECTED))
    other = Party("pt_c", "C", Role.PARTY, T0)
    proposed = zone(ZoneState.PROPOSED)
    assert [views.may_see_zone(v, proposed) for v in (None, CO, A, B, other, AUD)] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]
    assert views.may_see_zone(other, zone(ZoneState.AGREED))
    assert views.may_see_zone(AUD, zone(ZoneState.SUPERSEDED))


def test_lines_and_sites() -> None:
    other = Party("pt_c", "C", Role.PARTY, T0)
    for viewer, sees in ((None, True), (CO, True), (A, True), (B, True), (other, False), (AUD, False)):
        assert views.may_see_line(viewer, "pt_a", "pt_a", "pt_b") is sees
    assert views.may_see_line(other, "pt_c", "pt_a", "pt_b")  # its author
    assert views.may_see_line(B, "pt_c", "pt_a", "pt_b")
    assert all(views.may_see_site(v) for v in (None, CO, A, other, AUD))


def test_the_unit_field_only_for_its_own_party() -> None:
    assert views.unit_field(A, "pt_a", "un_1") == {"unit": "un_1"}
    assert views.unit_field(None, "pt_a", "un_1") == {"unit": "un_1"}
    assert views.unit_field(CO, "pt_a", "un_1") == {"unit": "un_1"}
    assert views.unit_field(B, "pt_a", "un_1") == {}
    assert views.unit_field(AUD, "pt_a", "un_1") == {}
    assert views.unit_field(A, "pt_a", None) == {}
