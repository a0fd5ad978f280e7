"""Units: the parts of a party that act (a squadron, a convoy team, a field office).

A unit has a name unique within its party, its own on-call ladder (the same contacts as a party's) and
an optional area of interest. Operations, movements and protected sites may be declared by a unit; a
conflict about one of them is told to that unit and to its party's watch desk, and escalates down the
unit's ladder first, then the party's, then to the coordinator. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from deconfliction.domain.footprint import PolygonFootprint, footprint_to_geojson, parse_polygon_footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.notification import Contact
from deconfliction.domain.volume import format_time
from deconfliction.errors import InvalidInput

MAX_NAME = 80


@dataclass(frozen=True)
class Unit:
    id: str
    party_id: str
    name: str
    contacts: tuple[Contact, ...]
    """The unit's own on-call ladder, primary first (may be empty: its party's ladder answers)."""
    area: PolygonFootprint | None
    """Where the unit works, if it said so (information for people; detection does not use it)."""
    version: int
    created_at: datetime
    updated_at: datetime

    def with_contacts(self, contacts: tuple[Contact, ...], now: datetime) -> Unit:
        return replace(self, contacts=contacts, version=self.version + 1, updated_at=now)

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "party": self.party_id,
            "name": self.name,
            "contacts": [c.record() for c in self.contacts],
            "area": None if self.area is None else footprint_to_geojson(self.area),
            "version": self.version,
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
        }


def parse_unit_name(raw: Any) -> str:
    if not isinstance(raw, str) or not 1 <= len(raw.strip()) <= MAX_NAME:
        raise InvalidInput.one("name", "invalid_name", f"a unit's name is 1 to {MAX_NAME} characters")
    return raw.strip()


def parse_area(raw: Any, limits: Limits) -> PolygonFootprint | None:
    """An area of interest: a GeoJSON Polygon or MultiPolygon, validated as any footprint; None: none."""
    if raw is None:
        return None
    try:
        return parse_polygon_footprint(raw, limits, "an area of interest")
    except InvalidInput as e:
        raise e.at("area") from None


def escalation_ladder(unit: Unit | None, party_ladder: Sequence[Contact]) -> tuple[Contact, ...]:
    """Who is asked, in order, about what concerns a unit: the unit's own ladder, then its party's (the
    watch desk); past the last of them the coordinator. Without a unit: the party's ladder alone."""
    own = unit.contacts if unit is not None else ()
    return (*own, *party_ladder)
