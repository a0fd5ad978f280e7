"""Declared against observed: is a party's live track inside something that party declared?

A party declares where and when it will be (its operations and movements; a movement's volumes are the
corridors swept along its route). A live track of that party is **declared** when its newest report lies
within the tolerance of at least one volume of an *active* operation (or movement) of its party:

* in time: the report's time is in ``[start - time_s, end + time_s)``;
* vertically: its altitude is in ``[lower_m - vertical_m, upper_m + vertical_m]``;
* horizontally: its geodesic distance to the volume's footprint (a polygon, a circle's centre minus its
  radius, a corridor's path minus its half-width) is at most ``horizontal_m``.

Otherwise it is **undeclared**: the party is somewhere it did not say it would be. The distance is
measured in the ellipsoidal azimuthal equidistant frame centred on the report (radial distances exact;
the footprint's geodesic edges densified as the detector densifies them), so it is exact to well under
a metre against tolerances of hundreds of metres. Tracks that belong to no party (unknown, hostile,
pending, neutral) declared nothing and are always undeclared.

Pure: no clock, no I/O; times are seconds since the epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from deconfliction.domain.footprint import Shape
from deconfliction.domain.geo import EllipsoidalFrame, geodesic_distance
from deconfliction.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class DeclaredTolerance:
    """How far from what it declared a party's track may be and still count as declared. The defaults
    (500 m, 150 m, 300 s) cover a GNSS position, a barometric altitude against an ellipsoidal band, and a
    report a few minutes early or late; the tactical policy file's ``declared`` section sets them."""

    horizontal_m: float = 500.0
    vertical_m: float = 150.0
    time_s: float = 300.0

    def as_dict(self) -> dict[str, float]:
        return {"horizontal_m": self.horizontal_m, "vertical_m": self.vertical_m, "time_s": self.time_s}

    @classmethod
    def from_mapping(cls, raw: Any, where: str = "declared") -> DeclaredTolerance:
        if not isinstance(raw, Mapping):
            raise InvalidInput.one(where, "invalid_value", "an object {horizontal_m, vertical_m, time_s}")
        values = cls().as_dict()
        errors: list[FieldError] = []
        for k, v in raw.items():
            if k not in values:
                errors.append(FieldError(f"{where}.{k}", "unknown_field", "expected horizontal_m, vertical_m, time_s"))
            elif isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                errors.append(FieldError(f"{where}.{k}", "invalid_number", "must be a number >= 0"))
            else:
                values[k] = float(v)
        if errors:
            raise InvalidInput(errors)
        return cls(**values)


@dataclass(frozen=True, eq=False)
class DeclaredVolume:
    """One volume of an active operation or movement, as the comparison needs it."""

    party: str
    operation: str
    shape: Shape
    lower_m: float
    upper_m: float
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Observed:
    """A track's newest report, as the comparison needs it."""

    party: str
    lon: float
    lat: float
    altitude_m: float
    t: float


def horizontal_distance_m(shape: Shape, lon: float, lat: float) -> float:
    """Geodesic distance from (lon, lat) to the footprint (0 inside it)."""
    frame = EllipsoidalFrame(lon, lat)
    core = shapely.transform(shape.core, lambda c: np.column_stack(frame.forward(c[:, 0], c[:, 1])))
    return max(0.0, float(core.distance(shapely.Point(0.0, 0.0))) - shape.radius_m)


def within(volume: DeclaredVolume, track: Observed, tol: DeclaredTolerance) -> bool:
    """Is the report within the tolerance of the volume (time, altitude, then distance)?"""
    if not volume.start_s - tol.time_s <= track.t < volume.end_s + tol.time_s:
        return False
    if not volume.lower_m - tol.vertical_m <= track.altitude_m <= volume.upper_m + tol.vertical_m:
        return False
    c_lon, c_lat = volume.shape.center
    if float(geodesic_distance(c_lon, c_lat, track.lon, track.lat)) > volume.shape.reach_m + tol.horizontal_m:
        return False
    return horizontal_distance_m(volume.shape, track.lon, track.lat) <= tol.horizontal_m


def declaring_operation(track: Observed, volumes: Iterable[DeclaredVolume], tol: DeclaredTolerance) -> str | None:
    """The id of an operation of the track's party that declares it, or None (undeclared). A track of no
    party (``party`` empty) is never declared."""
    if not track.party:
        return None
    for v in volumes:
        if v.party == track.party and within(v, track, tol):
            return v.operation
    return None


def undeclared(
    tracks: Sequence[Observed], volumes: Mapping[str, Sequence[DeclaredVolume]], tol: DeclaredTolerance
) -> list[bool]:
    """For each track: True when nothing its party declared covers it (``volumes`` by party id)."""
    return [declaring_operation(t, volumes.get(t.party, ()), tol) is None for t in tracks]
