"""Time and place sanity: declarations whose time has wholly passed, and likely mistakes that are not
errors.

* ``require_not_past``: a declaration whose every window has wholly passed is refused
  (``window_in_past``), each window's end named, unless it is filed as a historical record.
* ``warnings_for``: what an answer tells the declaring party without refusing anything:

  - ``coordinates_look_swapped``: a volume's footprint is farther than ``FAR_M`` (300 km) from
    everything its party has declared (its operations, sites and zones; the check is skipped when the
    party has declared nothing yet), while the same footprint with longitude and latitude exchanged is
    within ``NEAR_M`` (100 km) of something it declared. Distances are between centres minus the reach
    of each shape (a lower bound of the true distance), so a large zone counts with its whole extent.
    Swapping moves a point by about 157 km per degree between its longitude and latitude: Deir ez-Zor
    (40.14 E, 35.33 N) written as (35.33, 40.14) lands 640 km away, in Turkey, which a 1,000 km
    threshold would let pass. Both conditions together keep false warnings rare: a genuine footprint
    far from everything the party does must also happen to mirror onto where it works.
  - ``altitude_looks_like_feet``: an ``air`` volume whose upper bound is above ``FEET_CEILING_M``
    (15,000 m: above the service ceiling of airliners and business jets, FL490-FL510) while both bounds
    are whole hundreds and the upper one is at most ``FEET_MAX`` (66,000, i.e. FL660 if read as feet):
    ``35000`` for FL350 is the typical case. Bands of ground and maritime operations, and air bands
    with numbers that are not round hundreds (12,497.3 m), are never flagged: a false warning teaches
    people to ignore warnings.

Everything here is pure: the service passes in what the party has declared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from deconfliction.domain.geo import MEAN_RADIUS_M
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D, format_time
from deconfliction.errors import FieldError, InvalidInput

FAR_M = 300_000.0
"""Farther than this from everything its party declared, a footprint looks misplaced..."""
NEAR_M = 100_000.0
"""... if, with longitude and latitude exchanged, it is within this of something the party declared."""
FEET_CEILING_M = 15_000.0
"""Above this an air band given in metres is above almost every aircraft's ceiling."""
FEET_MAX = 66_000.0
"""Up to this the same number read as feet is a flight altitude (FL660)."""
ROUND_M = 100.0
"""Altitudes in feet are given in whole hundreds (flight levels)."""


class WindowInPast(InvalidInput):
    """Every window of the declaration has wholly passed (and it is not filed as historical)."""

    code = "window_in_past"
    title = "The declaration's time has wholly passed"


def has_passed(window: TimeWindow, now: datetime) -> bool:
    """Every instant of ``window`` is before ``now``: [start, end) with end <= now; an instant
    (end == start) when it is before now."""
    return window.start < now if window.is_instant else window.end <= now


def require_not_past(windows: Sequence[tuple[str, TimeWindow]], now: datetime, *, historical: bool) -> None:
    """Refuse (``WindowInPast``) when every window has wholly passed, naming each one's end field
    (``volumes[2].window.end``); a historical record is accepted as it is."""
    if historical or not windows or not all(has_passed(w, now) for _, w in windows):
        return
    raise WindowInPast(
        [
            FieldError(
                field,
                "window_in_past",
                f"ends at {format_time(w.end)}, not after now ({format_time(now)}); to file it as a record "
                'for an inquiry, send "historical": true',
            )
            for field, w in windows
        ]
    )


@dataclass(frozen=True)
class DeclarationWarning:
    """A likely mistake that is not an error: the declaration is stored as sent."""

    field: str
    code: str
    message: str

    def record(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Place:
    """Something a party declared, as a disc: a centre (lon, lat) and a reach in metres."""

    lon: float
    lat: float
    reach_m: float


def within(
    centers: Sequence[tuple[float, float]], reaches: Sequence[float], places: Sequence[Place], metres: float
) -> npt.NDArray[np.bool_]:
    """For each footprint (centre, reach): whether some place is within ``metres`` of it (great circle
    on the mean sphere between centres, less both reaches), all at once."""
    if not centers or not places:
        return np.zeros(len(centers), dtype=bool)
    c = np.radians(np.asarray(centers, dtype=np.float64))
    q = np.radians(np.asarray([(p.lon, p.lat) for p in places], dtype=np.float64))
    lat1, lat2 = c[:, 1:2], q[None, :, 1]
    h = np.sin((lat2 - lat1) / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((q[None, :, 0] - c[:, 0:1]) / 2.0) ** 2
    centre_m = 2.0 * MEAN_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    reach = np.asarray(reaches, dtype=np.float64)[:, None] + np.asarray([p.reach_m for p in places])[None, :]
    result: npt.NDArray[np.bool_] = (centre_m - reach <= metres).any(axis=1)
    return result


def swapped_footprint(
    field: str, center: tuple[float, float], reach_m: float, declared: Sequence[Place]
) -> list[DeclarationWarning]:
    """``coordinates_look_swapped`` for one footprint (its centre and reach), against what its party
    declared before."""
    lon, lat = center
    if not declared or abs(lon) > 90.0 or within([center], [reach_m], declared, FAR_M)[0]:
        return []
    if not within([(lat, lon)], [reach_m], declared, NEAR_M)[0]:
        return []
    return [
        DeclarationWarning(
            field,
            "coordinates_look_swapped",
            f"this footprint is more than {FAR_M / 1000:,.0f} km from everything you declared, but within "
            f"{NEAR_M / 1000:,.0f} km of it with longitude and latitude exchanged (centre [{lat:.4f}, {lon:.4f}]); "
            "GeoJSON order is [longitude, latitude]",
        )
    ]


def _round(value: float) -> bool:
    return value == round(value / ROUND_M) * ROUND_M


def feet_as_metres(field: str, kind: OperationKind, band: AltitudeBand) -> list[DeclarationWarning]:
    """``altitude_looks_like_feet`` for one altitude band (rule in the module docstring)."""
    if kind is not OperationKind.AIR:
        return []
    upper, lower = band.upper_m, band.lower_m
    if not (FEET_CEILING_M < upper <= FEET_MAX and _round(upper) and _round(lower)):
        return []
    return [
        DeclarationWarning(
            field,
            "altitude_looks_like_feet",
            f"upper_m {upper:g} m is above almost every aircraft's ceiling; {lower:g}-{upper:g} look like feet "
            f"({lower * 0.3048:,.0f}-{upper * 0.3048:,.0f} m). Altitudes are metres above the WGS84 ellipsoid",
        )
    ]


def warnings_for(
    kind: OperationKind, volumes: Sequence[Volume4D], declared: Sequence[Place], *, prefix: str = "volumes"
) -> list[DeclarationWarning]:
    """Every warning for an operation's volumes (fields ``volumes[i].footprint``, ``volumes[i].altitude``)."""
    out: list[DeclarationWarning] = []
    near = within([v.shape.center for v in volumes], [v.shape.reach_m for v in volumes], declared, FAR_M)
    for i, v in enumerate(volumes):
        if not near[i]:  # only a footprint far from everything can look swapped
            out += swapped_footprint(f"{prefix}[{i}].footprint", v.shape.center, v.shape.reach_m, declared)
        out += feet_as_metres(f"{prefix}[{i}].altitude", kind, v.altitude)
    return out


def all_near(volumes: Sequence[Volume4D], places: Sequence[Place]) -> bool:
    """Every volume is within ``FAR_M`` of one of ``places``: then none can look swapped, whatever else
    the party declared (the service's fast path, against the party's latest few volumes)."""
    return bool(within([v.shape.center for v in volumes], [v.shape.reach_m for v in volumes], places, FAR_M).all())
