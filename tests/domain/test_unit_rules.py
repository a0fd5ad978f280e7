"""Units (domain/unit.py): the name at its length limits, the area of interest, the record, and who is
asked in which order about what concerns a unit. Parties (domain/party.py): who sees everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deconfliction.domain.footprint import PolygonFootprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.notification import Contact
from deconfliction.domain.party import Party, Role
from deconfliction.domain.unit import MAX_NAME, Unit, escalation_ladder, parse_area, parse_unit_name
from deconfliction.errors import InvalidInput

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SQUARE = {"type": "Polygon", "coordinates": [[[36.0, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.1], [36.0, 35.0]]]}
DUTY = Contact("duty officer", {"phone": "+1 555 0100"})
DESK = Contact("watch desk", {"email": "desk@example.org"})
CHIEF = Contact("chief", {"radio": "ch 16"})


def test_max_name_is_80() -> None:
    assert MAX_NAME == 80


@pytest.mark.parametrize("name", ["a", "x" * 80, "  Squadron 1  ", " " + "y" * 80 + " "])
def test_a_name_of_1_to_80_characters_is_kept_without_surrounding_spaces(name: str) -> None:
    assert parse_unit_name(name) == name.strip()


@pytest.mark.parametrize("raw", ["", "   ", "x" * 81, None, 12, ["a"]])
def test_any_other_name_is_refused(raw: object) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_unit_name(raw)
    assert [(f.field, f.code) for f in e.value.errors] == [("name", "invalid_name")]
    assert e.value.errors[0].message == "a unit's name is 1 to 80 characters"


def test_no_area_is_none() -> None:
    assert parse_area(None, Limits()) is None


@pytest.mark.parametrize("kind", ["Polygon", "MultiPolygon"])
def test_an_area_is_a_polygon_or_multipolygon(kind: str) -> None:
    raw = SQUARE if kind == "Polygon" else {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}
    fp = parse_area(raw, Limits())
    assert isinstance(fp, PolygonFootprint)
    assert fp.multi == (kind == "MultiPolygon")


def test_a_circle_is_not_an_area() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_area({"type": "Point", "coordinates": [36.0, 35.0]}, Limits())
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        ("area.type", "not_a_polygon", "an area of interest is a Polygon or MultiPolygon; got Point")
    ]


def test_a_bad_area_is_reported_under_area() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_area({"type": "Polygon", "coordinates": "nowhere"}, Limits())
    assert e.value.errors
    assert all(f.field.startswith("area.") for f in e.value.errors)


def unit(contacts: tuple[Contact, ...] = (DUTY,), area: PolygonFootprint | None = None) -> Unit:
    return Unit("un_1", "pt_a", "Squadron 1", contacts, area, 2, NOW, NOW)


def test_new_contacts_are_a_new_version() -> None:
    later = NOW + timedelta(minutes=3)
    u = unit().with_contacts((DESK, CHIEF), later)
    assert (u.contacts, u.version, u.updated_at, u.created_at) == ((DESK, CHIEF), 3, later, NOW)


def test_the_record() -> None:
    area = parse_area(SQUARE, Limits())
    assert unit((DUTY, DESK), area).record() == {
        "id": "un_1",
        "party": "pt_a",
        "name": "Squadron 1",
        "contacts": [
            {"name": "duty officer", "channels": {"phone": "+1 555 0100"}},
            {"name": "watch desk", "channels": {"email": "desk@example.org"}},
        ],
        "area": SQUARE,
        "version": 2,
        "created_at": "2026-11-23T08:00:00Z",
        "updated_at": "2026-11-23T08:00:00Z",
    }
    assert unit().record()["area"] is None


def test_the_unit_is_asked_first_then_its_party() -> None:
    assert escalation_ladder(unit((DUTY,)), [DESK, CHIEF]) == (DUTY, DESK, CHIEF)
    assert escalation_ladder(unit(()), [DESK]) == (DESK,)
    assert escalation_ladder(None, [DESK, CHIEF]) == (DESK, CHIEF)
    assert escalation_ladder(None, []) == ()


@pytest.mark.parametrize("role", list(Role))
def test_only_the_coordinator_sees_everything(role: Role) -> None:
    assert Party("pt_a", "A", role, NOW).sees_all == (role is Role.COORDINATOR)
