"""Incidents: a party reports that something happened at a place and a time; an inquiry then needs
everything that was near it, and who was told what, when.

Nearness is exact: an operation is near when one of its volumes comes within the incident's radius of
the place (geodesic distance between the volume's footprint and the point, within 1 m, by the same
``measure`` as conflict detection) during the incident's window (``at - before_s`` to ``at + after_s``,
half-open like every window here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from deconfliction.domain.footprint import CircleFootprint, Footprint, footprint_of_volume, footprint_shape
from deconfliction.domain.separation import measure
from deconfliction.domain.volume import TimeWindow, format_time, parse_time
from deconfliction.errors import FieldError, InvalidInput

MAX_DESCRIPTION = 4000
MAX_RADIUS_M = 100_000.0
MAX_SPAN_S = 7 * 86_400
DEFAULT_RADIUS_M = 5_000.0
DEFAULT_SPAN_S = 3_600


@dataclass(frozen=True)
class Incident:
    id: str
    reporter_id: str
    lon: float
    lat: float
    at: datetime
    description: str
    radius_m: float
    before_s: int
    after_s: int
    created_at: datetime

    @property
    def window(self) -> TimeWindow:
        return TimeWindow(self.at - timedelta(seconds=self.before_s), self.at + timedelta(seconds=self.after_s))

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reporter": self.reporter_id,
            "place": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "at": format_time(self.at),
            "description": self.description,
            "radius_m": self.radius_m,
            "before_s": self.before_s,
            "after_s": self.after_s,
            "created_at": format_time(self.created_at),
        }


@dataclass(frozen=True)
class IncidentDraft:
    lon: float
    lat: float
    at: datetime
    description: str
    radius_m: float = DEFAULT_RADIUS_M
    before_s: int = DEFAULT_SPAN_S
    after_s: int = DEFAULT_SPAN_S


def parse_incident(obj: Mapping[str, Any]) -> IncidentDraft:
    """A report as sent: ``place`` (GeoJSON Point), ``at``, ``description``, optional ``radius_m``,
    ``before_s``, ``after_s``. Every problem is reported at once, by field."""
    errors: list[FieldError] = []
    allowed = {"place", "at", "description", "radius_m", "before_s", "after_s"}
    errors += [FieldError(k, "unknown_field", f"unknown member {k!r}") for k in obj if k not in allowed]
    lon = lat = 0.0
    place = obj.get("place")
    coords = place.get("coordinates") if isinstance(place, Mapping) and place.get("type") == "Point" else None
    if (
        not isinstance(coords, list | tuple)
        or len(coords) not in (2, 3)
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
    ):
        errors.append(FieldError("place", "invalid_geojson", "place is a GeoJSON Point: [longitude, latitude]"))
    else:
        lon, lat = float(coords[0]), float(coords[1])
        if not -180.0 <= lon <= 180.0:
            errors.append(FieldError("place.coordinates[0]", "out_of_range", "longitude outside [-180, 180]"))
        if not -90.0 <= lat <= 90.0:
            errors.append(FieldError("place.coordinates[1]", "out_of_range", "latitude outside [-90, 90]"))
    at = None
    try:
        at = parse_time(obj.get("at"), "at")
    except InvalidInput as e:
        errors += e.errors
    description = obj.get("description")
    if not isinstance(description, str) or not description.strip():
        errors.append(FieldError("description", "missing_field", "say what happened"))
    elif len(description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", "too_long", f"at most {MAX_DESCRIPTION} characters"))
    radius = obj.get("radius_m", DEFAULT_RADIUS_M)
    if not isinstance(radius, int | float) or isinstance(radius, bool) or not 0 < radius <= MAX_RADIUS_M:
        errors.append(FieldError("radius_m", "out_of_range", f"radius_m is above 0 and at most {MAX_RADIUS_M:,.0f}"))
    spans = {}
    for name in ("before_s", "after_s"):
        value = obj.get(name, DEFAULT_SPAN_S)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SPAN_S:
            errors.append(FieldError(name, "out_of_range", f"{name} is a whole number of seconds, 0 to {MAX_SPAN_S}"))
            value = 0
        spans[name] = value
    if errors:
        raise InvalidInput(errors)
    when = cast(datetime, at)  # set: an error above otherwise
    return IncidentDraft(lon, lat, when, str(description).strip(), float(radius), spans["before_s"], spans["after_s"])


def volume_near(incident: Incident, footprint: Footprint, window: TimeWindow) -> float | None:
    """The distance in metres from the incident's place to a volume's footprint when it is within the
    radius and the windows meet; None otherwise."""
    if not window.intersects(incident.window):
        return None
    place = footprint_shape(CircleFootprint((incident.lon, incident.lat), 1.0))
    found = measure(place, footprint_shape(footprint), incident.radius_m)
    return None if found is None else found.distance_m


def operation_near(incident: Incident, record: Mapping[str, Any]) -> float | None:
    """The least distance from the place to an operation (as its ledger record holds it) over the
    volumes whose windows meet the incident's; None when none comes within the radius."""
    best: float | None = None
    for v in record["volumes"]:
        window = TimeWindow(parse_time(v["window"]["start"], "start"), parse_time(v["window"]["end"], "end"))
        d = volume_near(incident, footprint_of_volume(v), window)
        if d is not None and (best is None or d < best):
            best = d
    return best
