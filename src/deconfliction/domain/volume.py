"""Volume4D: a footprint, an altitude band and a time window."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from deconfliction.domain.footprint import Footprint, Shape, footprint_shape
from deconfliction.domain.limits import Limits
from deconfliction.errors import FieldError, InvalidInput

ALTITUDE_REFERENCE = "W84"
"""Altitudes are metres above the WGS84 ellipsoid, as in ASTM F3548."""


def parse_time(raw: object, field: str) -> datetime:
    """An RFC 3339 timestamp with an offset, returned in UTC. Naive times are refused, not guessed."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise InvalidInput.one(field, "invalid_time", f"not an RFC 3339 time: {raw!r}") from None
    else:
        raise InvalidInput.one(field, "invalid_time", f"expected an RFC 3339 time string, got {type(raw).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput.one(field, "time_without_offset", f"{raw!s} has no UTC offset; add Z or +hh:mm (RFC 3339)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00: before the first representable UTC time
        raise InvalidInput.one(field, "invalid_time", f"{raw!s} is out of the representable range") from None


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a Z, microseconds only when present."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


@dataclass(frozen=True, order=True)
class TimeWindow:
    """Half-open [start, end). A window with end == start is the instant ``start`` (closed)."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime, limits: Limits) -> TimeWindow:
        errors: list[FieldError] = []
        if end < start:
            errors.append(
                FieldError("end", "window_inverted", f"end {format_time(end)} is before start {format_time(start)}")
            )
        elif (end - start).total_seconds() > limits.max_window_s:
            errors.append(
                FieldError(
                    "end",
                    "window_too_long",
                    f"the window lasts {(end - start).total_seconds() / 3600:.1f} h; "
                    f"at most {limits.max_window_s / 3600:.1f} h are allowed",
                )
            )
        if errors:
            raise InvalidInput(errors)
        return cls(start, end)

    @property
    def is_instant(self) -> bool:
        return self.end == self.start

    def intersects(self, other: TimeWindow) -> bool:
        if self.is_instant and other.is_instant:
            return self.start == other.start
        if self.is_instant:
            return other.start <= self.start < other.end
        if other.is_instant:
            return self.start <= other.start < self.end
        return self.start < other.end and other.start < self.end

    def gap_s(self, other: TimeWindow) -> float:
        """Seconds between the two windows; 0 when they meet or overlap."""
        return max(0.0, (other.start - self.end).total_seconds(), (self.start - other.end).total_seconds())

    def meeting(self, other: TimeWindow) -> TimeWindow:
        """Their overlap when they overlap, otherwise the gap between them."""
        lo, hi = max(self.start, other.start), min(self.end, other.end)
        return TimeWindow(min(lo, hi), max(lo, hi))

    def hull(self, other: TimeWindow) -> TimeWindow:
        return TimeWindow(min(self.start, other.start), max(self.end, other.end))


@dataclass(frozen=True, order=True)
class AltitudeBand:
    """Closed [lower_m, upper_m], metres above the WGS84 ellipsoid."""

    lower_m: float
    upper_m: float

    @classmethod
    def of(cls, lower_m: float, upper_m: float, limits: Limits, reference: str = ALTITUDE_REFERENCE) -> AltitudeBand:
        errors: list[FieldError] = []
        if reference != ALTITUDE_REFERENCE:
            errors.append(
                FieldError(
                    "reference",
                    "unsupported_reference",
                    f"altitude reference {reference!r} is not supported; send metres above the WGS84 ellipsoid ('W84')",
                )
            )
        for name, value in (("lower_m", lower_m), ("upper_m", upper_m)):
            if not math.isfinite(value) or not limits.min_altitude_m <= value <= limits.max_altitude_m:
                errors.append(
                    FieldError(
                        name,
                        "out_of_range",
                        f"{name} {value} is outside [{limits.min_altitude_m:g}, {limits.max_altitude_m:g}] m",
                    )
                )
        if not errors and lower_m > upper_m:
            errors.append(
                FieldError("lower_m", "altitude_inverted", f"lower_m {lower_m:g} is above upper_m {upper_m:g}")
            )
        if errors:
            raise InvalidInput(errors)
        return cls(float(lower_m), float(upper_m))

    def gap_m(self, other: AltitudeBand) -> float:
        return max(0.0, other.lower_m - self.upper_m, self.lower_m - other.upper_m)

    def meeting(self, other: AltitudeBand) -> AltitudeBand:
        lo, hi = max(self.lower_m, other.lower_m), min(self.upper_m, other.upper_m)
        return AltitudeBand(min(lo, hi), max(lo, hi))

    def hull(self, other: AltitudeBand) -> AltitudeBand:
        return AltitudeBand(min(self.lower_m, other.lower_m), max(self.upper_m, other.upper_m))


@dataclass(frozen=True, eq=False)
class Volume4D:
    footprint: Footprint
    altitude: AltitudeBand
    window: TimeWindow
    shape: Shape

    @classmethod
    def create(cls, footprint: Footprint, altitude: AltitudeBand, window: TimeWindow) -> Volume4D:
        """A volume from validated parts; computes the detector's shape once."""
        return cls(footprint, altitude, window, footprint_shape(footprint))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Volume4D):
            return NotImplemented
        return (self.footprint, self.altitude, self.window) == (other.footprint, other.altitude, other.window)

    def __hash__(self) -> int:
        return hash((self.footprint, self.altitude, self.window))
