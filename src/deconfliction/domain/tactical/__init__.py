"""The tactical layer's vocabulary: position reports, tracks, the tactical separation policy and alerts.

* A **position report** is one observation of one aircraft (or vehicle) of one party: time, WGS84
  position, altitude, ground speed, true track, vertical rate. A **track** is the newest report of one
  aircraft; a report older than the track's newest is ignored, and a track with no report for the
  expiry time is dropped.
* The **tactical policy** gives, per pair of parties, the separation minima (horizontal, vertical) and
  the look-ahead; pairs of one party's own aircraft are not checked unless the policy says so.
* An **alert** is a pair of tracks predicted to lose separation (``tactical.detect``), or a track
  predicted to enter another party's zone or a protected site's radius (``tactical.zones``). It is
  ``new`` in the cycle that first finds it, ``ongoing`` while it is found again, and ``resolved`` only
  once it has not been found for ``clear_after_s`` seconds even with the hysteresis margins, so that a
  prediction hovering at a threshold does not raise and clear an alert every second.

Everything here is pure: no clock, no I/O. Time is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np

from deconfliction.domain.policy import FT, NM
from deconfliction.domain.tactical.declared import DeclaredTolerance
from deconfliction.domain.tactical.detect import RuleTable
from deconfliction.errors import FieldError, InvalidInput

MAX_GROUND_SPEED_MPS = 600.0
"""Faster reports are refused (Mach 1.8 at sea level): beyond it the extrapolation's error budget grows."""
MAX_VERTICAL_RATE_MPS = 150.0
MAX_LOOKAHEAD_S = 900.0
MIN_ALTITUDE_M = -1_000.0
MAX_ALTITUDE_M = 100_000.0
TRACK_ID_PATTERN_MAX = 100

NO_PARTY = ""
"""The party of a track that belongs to no party (unknown, hostile, pending or neutral affiliation)."""


class Affiliation(StrEnum):
    """Whose a track is. ``party``: one party's own (its ``party_id``). The others belong to no party
    (``party_id`` is ``NO_PARTY``): what a sensor sees, or a Cursor-on-Target atom typed ``a-u-*``
    (unknown), ``a-h-*``, ``a-s-*``, ``a-j-*``, ``a-k-*`` (hostile, suspect, joker, faker), ``a-p-*``
    (pending) or ``a-n-*`` (neutral)."""

    PARTY = "party"
    UNKNOWN = "unknown"
    HOSTILE = "hostile"
    PENDING = "pending"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class PositionReport:
    """One observation of one aircraft of one party. ``track_id`` is the aircraft's identifier within
    its source (an ICAO 24-bit address, a CoT uid, a party's own id); the track key is (party, track_id).
    Altitude in metres; speeds in m/s; ``track_deg`` is the true track over the ground, clockwise from
    north."""

    party_id: str
    track_id: str
    time: datetime
    lat: float
    lon: float
    altitude_m: float
    ground_speed_mps: float
    track_deg: float
    vertical_rate_mps: float = 0.0
    callsign: str | None = None
    source: str = "api"
    affiliation: Affiliation = Affiliation.PARTY
    """``party`` for a party's own aircraft; otherwise ``party_id`` is ``NO_PARTY``."""
    reporter: str | None = None
    """The party whose feed or request reported a track of no party (None for a sensor feed)."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.party_id, self.track_id)


def _number(raw: Mapping[str, Any], name: str, lo: float, hi: float, errors: list[FieldError]) -> float:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append(FieldError(name, "invalid_number", "must be a finite number"))
        return 0.0
    if not lo <= value <= hi:
        errors.append(FieldError(name, "out_of_range", f"{value} is outside [{lo:g}, {hi:g}]"))
    return float(value)


def validate_report(
    party_id: str,
    track_id: str,
    time: datetime,
    lat: float,
    lon: float,
    altitude_m: float,
    ground_speed_mps: float,
    track_deg: float,
    vertical_rate_mps: float = 0.0,
    callsign: str | None = None,
    source: str = "api",
    affiliation: Affiliation = Affiliation.PARTY,
) -> PositionReport:
    """A report, or ``InvalidInput`` naming every bad field (``lat``, ``ground_speed_mps``, ...). A report
    of any other affiliation than ``party`` belongs to no party: ``party_id`` is kept as its reporter."""
    own = affiliation is Affiliation.PARTY
    if (  # the common case, checked without building anything: floats in range, a plain id, an offset
        type(lat) is float
        and -90.0 <= lat <= 90.0
        and type(lon) is float
        and -180.0 <= lon <= 180.0
        and type(altitude_m) is float
        and MIN_ALTITUDE_M <= altitude_m <= MAX_ALTITUDE_M
        and type(ground_speed_mps) is float
        and 0.0 <= ground_speed_mps <= MAX_GROUND_SPEED_MPS
        and type(track_deg) is float
        and 0.0 <= track_deg <= 360.0
        and type(vertical_rate_mps) is float
        and -MAX_VERTICAL_RATE_MPS <= vertical_rate_mps <= MAX_VERTICAL_RATE_MPS
        and type(track_id) is str
        and 1 <= len(track_id) <= TRACK_ID_PATTERN_MAX
        and track_id.isprintable()
        and time.tzinfo is not None
    ):
        return PositionReport(
            party_id if own else NO_PARTY,
            track_id,
            time,
            lat,
            lon,
            altitude_m,
            ground_speed_mps,
            track_deg % 360.0,
            vertical_rate_mps,
            callsign,
            source,
            affiliation,
            None if own or not party_id else party_id,
        )
    values = {
        "lat": lat,
        "lon": lon,
        "altitude_m": altitude_m,
        "ground_speed_mps": ground_speed_mps,
        "track_deg": track_deg,
        "vertical_rate_mps": vertical_rate_mps,
    }
    errors: list[FieldError] = []
    if not isinstance(track_id, str) or not 1 <= len(track_id) <= TRACK_ID_PATTERN_MAX or not track_id.isprintable():
        errors.append(FieldError("id", "invalid_id", f"a track id is 1 to {TRACK_ID_PATTERN_MAX} printable characters"))
    out = {
        "lat": _number(values, "lat", -90.0, 90.0, errors),
        "lon": _number(values, "lon", -180.0, 180.0, errors),
        "altitude_m": _number(values, "altitude_m", MIN_ALTITUDE_M, MAX_ALTITUDE_M, errors),
        "ground_speed_mps": _number(values, "ground_speed_mps", 0.0, MAX_GROUND_SPEED_MPS, errors),
        "track_deg": _number(values, "track_deg", 0.0, 360.0, errors),
        "vertical_rate_mps": _number(
            values, "vertical_rate_mps", -MAX_VERTICAL_RATE_MPS, MAX_VERTICAL_RATE_MPS, errors
        ),
    }
    if time.tzinfo is None:
        errors.append(FieldError("time", "time_without_offset", "a report's time needs a UTC offset"))
    if errors:
        raise InvalidInput(errors)
    return PositionReport(
        party_id=party_id if own else NO_PARTY,
        track_id=track_id,
        time=time,
        lat=out["lat"],
        lon=out["lon"],
        altitude_m=out["altitude_m"],
        ground_speed_mps=out["ground_speed_mps"],
        track_deg=out["track_deg"] % 360.0,
        vertical_rate_mps=out["vertical_rate_mps"],
        callsign=callsign,
        source=source,
        affiliation=affiliation,
        reporter=None if own or not party_id else party_id,
    )


# -------------------------------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class TacticalRule:
    """Separation minima and look-ahead for one pair of parties."""

    horizontal_m: float = 5 * NM
    vertical_m: float = 1000 * FT
    lookahead_s: float = 300.0

    def widened(self, horizontal_m: float, vertical_m: float) -> TacticalRule:
        return replace(self, horizontal_m=self.horizontal_m + horizontal_m, vertical_m=self.vertical_m + vertical_m)

    def as_dict(self) -> dict[str, float]:
        return {"horizontal_m": self.horizontal_m, "vertical_m": self.vertical_m, "lookahead_s": self.lookahead_s}


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class TacticalPolicy:
    """The rule for every pair of parties: ``pairs`` overrides ``default`` for a pair (keys are party ids,
    either order). A party's own aircraft are checked against each other only when ``same_party`` is
    true or the pair (p, p) has an override.

    ``hysteresis_m`` and ``hysteresis_vertical_m`` widen the minima for keeping an alert that exists;
    ``clear_after_s`` is how long an alert must go unseen (even with the widened minima) to resolve."""

    default: TacticalRule = field(default_factory=TacticalRule)
    pairs: Mapping[tuple[str, str], TacticalRule] = field(default_factory=dict)
    same_party: bool = False
    hysteresis_m: float = 0.1 * 5 * NM
    hysteresis_vertical_m: float = 100 * FT
    clear_after_s: float = 5.0
    declared: DeclaredTolerance = field(default_factory=DeclaredTolerance)
    """How far a party's track may be from what it declared and still count as declared."""

    def __post_init__(self) -> None:
        normalised = {_pair(a, b): rule for (a, b), rule in self.pairs.items()}
        object.__setattr__(self, "pairs", normalised)

    def rule(self, a: str, b: str) -> TacticalRule | None:
        """The rule of a pair of parties, or None when the pair is not checked."""
        key = _pair(a, b)
        if key in self.pairs:
            return self.pairs[key]
        if a == b and not self.same_party:
            return None
        return self.default

    def table(self, parties: Sequence[str], widen: bool = False) -> RuleTable:
        """Dense (P, P) arrays for ``tactical.detect`` over parties numbered as in ``parties``; with
        ``widen`` the minima include the hysteresis margins."""
        n = len(parties)
        h = np.zeros((n, n))
        v = np.zeros((n, n))
        t = np.zeros((n, n))
        checked = np.zeros((n, n), dtype=bool)
        for ia, a in enumerate(parties):
            for ib in range(ia, n):
                r = self.rule(a, parties[ib])
                if r is None:
                    continue
                if widen:
                    r = r.widened(self.hysteresis_m, self.hysteresis_vertical_m)
                for x, y in ((ia, ib), (ib, ia)):
                    h[x, y], v[x, y], t[x, y], checked[x, y] = r.horizontal_m, r.vertical_m, r.lookahead_s, True
        return RuleTable(h, v, t, checked)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], party_ids: Mapping[str, str] | None = None) -> TacticalPolicy:
        """From a deployment's JSON: ``{"default": {rule}, "pairs": [{"parties": [a, b], ...rule}],
        "same_party": false, "hysteresis_m": .., "hysteresis_vertical_m": .., "clear_after_s": ..}``. A
        rule has ``horizontal_m``, ``vertical_m``, ``lookahead_s``; parties are named by id or, when
        ``party_ids`` maps names to ids, by name."""
        errors: list[FieldError] = []
        known = {
            "default",
            "pairs",
            "same_party",
            "hysteresis_m",
            "hysteresis_vertical_m",
            "clear_after_s",
            "declared",
        }
        for key in raw:
            if key not in known:
                errors.append(FieldError(key, "unknown_field", f"expected one of {sorted(known)}"))

        def rule_of(spec: Any, where: str, base: TacticalRule) -> TacticalRule:
            if not isinstance(spec, Mapping):
                errors.append(FieldError(where, "invalid_rule", "a rule is {horizontal_m, vertical_m, lookahead_s}"))
                return base
            values = base.as_dict()
            for k, val in spec.items():
                if k == "parties" and where.startswith("pairs"):
                    continue
                if k not in values:
                    errors.append(
                        FieldError(f"{where}.{k}", "unknown_field", "expected horizontal_m, vertical_m, lookahead_s")
                    )
                elif isinstance(val, bool) or not isinstance(val, int | float) or not math.isfinite(val) or val < 0:
                    errors.append(FieldError(f"{where}.{k}", "invalid_number", "must be a number >= 0"))
                elif k == "lookahead_s" and val > MAX_LOOKAHEAD_S:
                    errors.append(FieldError(f"{where}.{k}", "out_of_range", f"at most {MAX_LOOKAHEAD_S:g} s"))
                else:
                    values[k] = float(val)
            return TacticalRule(**values)

        default = rule_of(raw.get("default", {}), "default", TacticalRule())
        pairs: dict[tuple[str, str], TacticalRule] = {}
        raw_pairs = raw.get("pairs", [])
        if not isinstance(raw_pairs, list):
            errors.append(FieldError("pairs", "invalid_rule", "a list of {parties: [a, b], ...rule}"))
            raw_pairs = []
        for n, spec in enumerate(raw_pairs):
            names = spec.get("parties") if isinstance(spec, Mapping) else None
            if not (isinstance(names, list) and len(names) == 2 and all(isinstance(x, str) for x in names)):
                errors.append(FieldError(f"pairs[{n}].parties", "invalid_rule", "two party names or ids"))
                continue
            ids = []
            for name in names:
                pid = party_ids.get(name, name) if party_ids is not None else name
                if party_ids is not None and name not in party_ids and name not in party_ids.values():
                    errors.append(FieldError(f"pairs[{n}].parties", "unknown_party", f"no party {name!r}"))
                ids.append(pid)
            pairs[_pair(ids[0], ids[1])] = rule_of(spec, f"pairs[{n}]", default)
        scalars: dict[str, Any] = {}
        for k in ("hysteresis_m", "hysteresis_vertical_m", "clear_after_s"):
            if k in raw:
                val = raw[k]
                if isinstance(val, bool) or not isinstance(val, int | float) or not math.isfinite(val) or val < 0:
                    errors.append(FieldError(k, "invalid_number", "must be a number >= 0"))
                else:
                    scalars[k] = float(val)
        same = raw.get("same_party", False)
        if not isinstance(same, bool):
            errors.append(FieldError("same_party", "invalid_value", "true or false"))
            same = False
        declared = DeclaredTolerance()
        if "declared" in raw:
            try:
                declared = DeclaredTolerance.from_mapping(raw["declared"])
            except InvalidInput as exc:
                errors.extend(exc.errors)
        if errors:
            raise InvalidInput(errors)
        return cls(default=default, pairs=pairs, same_party=same, declared=declared, **scalars)


# -------------------------------------------------------------------------------------------------- alerts


class AlertState(StrEnum):
    NEW = "new"
    """Found in this cycle for the first time."""
    ONGOING = "ongoing"
    """Found before and still found (or not found for less than ``clear_after_s``)."""
    RESOLVED = "resolved"
    """Not found, even with the hysteresis margins, for ``clear_after_s``."""


class AlertKind(StrEnum):
    TRACKS = "tracks"
    """Two tracks predicted to lose separation."""
    ZONE = "zone"
    """A track predicted to enter another party's zone."""
    SITE = "site"
    """A track predicted to come within a protected site's radius."""
    UNDECLARED = "undeclared_entry"
    """A track outside everything its party declared (or of no party) predicted to enter another party's
    zone, a line's band or a protected site's radius."""


@dataclass(frozen=True)
class Prediction:
    """What one cycle predicts for one alert. Times are absolute."""

    loss_at: datetime
    """When separation is first lost (or the zone or radius entered)."""
    closest_at: datetime
    horizontal_m: float
    vertical_m: float
    now: bool
    """Separation is lost (the track is inside) at the cycle's time already."""
    rule: TacticalRule
    position: tuple[float, float] | None = None
    """Where it happens (lon, lat): the midpoint at the closest approach, or the entry point."""
    target: str | None = None
    """Of an entry: what is entered, ``zone``, ``band`` or ``site``."""
    affiliation: Affiliation = Affiliation.PARTY
    """Of an entry: the entering track's affiliation."""


@dataclass(frozen=True)
class Alert:
    """One predicted loss of separation (or entry) and its lifecycle. ``subjects``: the two track keys
    (party, track id) of a pair, or the track's key and the zone's or site's (owner, id)."""

    id: str
    kind: AlertKind
    subjects: tuple[tuple[str, str], tuple[str, str]]
    state: AlertState
    prediction: Prediction
    created_at: datetime
    updated_at: datetime
    last_found_at: datetime
    resolved_at: datetime | None = None

    @property
    def parties(self) -> tuple[str, str]:
        return (self.subjects[0][0], self.subjects[1][0])

    def involves(self, party_id: str) -> bool:
        return bool(party_id) and party_id in self.parties


AlertKey = tuple[AlertKind, tuple[str, str], tuple[str, str]]


def alert_key(kind: AlertKind, a: tuple[str, str], b: tuple[str, str]) -> AlertKey:
    """Pairs of tracks are unordered; a track and a zone or site keep their order."""
    if kind is AlertKind.TRACKS and b < a:
        a, b = b, a
    return (kind, a, b)


@dataclass(frozen=True)
class Finding:
    """One cycle's result for one key: ``core`` when found with the policy's minima, otherwise found only
    with the hysteresis margins (which keeps an existing alert but never raises one)."""

    key: AlertKey
    core: bool
    prediction: Prediction


@dataclass(frozen=True)
class AlertChange:
    """What a cycle changed: ``raised`` (new), ``updated`` (ongoing, prediction changed), ``resolved``."""

    change: str
    alert: Alert


def advance_alerts(
    active: Mapping[AlertKey, Alert],
    findings: Iterable[Finding],
    now: datetime,
    clear_after_s: float,
    new_id: Any,
) -> tuple[dict[AlertKey, Alert], list[AlertChange]]:
    """The next set of active alerts and the changes, from the current ones and a cycle's findings.

    * a core finding without an active alert raises a ``new`` alert;
    * any finding (core or margin) of an active alert makes it ``ongoing`` with the new prediction;
    * an active alert not found for ``clear_after_s`` is ``resolved`` and leaves the active set; until
      then it stays as it is (its last prediction, its state ``ongoing``).

    ``new_id()`` gives the id of a raised alert."""
    out: dict[AlertKey, Alert] = {}
    changes: list[AlertChange] = []
    seen: set[AlertKey] = set()
    for f in findings:
        if f.key in seen:
            continue
        seen.add(f.key)
        current = active.get(f.key)
        if current is None:
            if not f.core:
                continue
            alert = Alert(
                id=str(new_id()),
                kind=f.key[0],
                subjects=(f.key[1], f.key[2]),
                state=AlertState.NEW,
                prediction=f.prediction,
                created_at=now,
                updated_at=now,
                last_found_at=now,
            )
            out[f.key] = alert
            changes.append(AlertChange("raised", alert))
            continue
        changed = _materially_different(current.prediction, f.prediction)
        alert = replace(
            current,
            state=AlertState.ONGOING,
            prediction=f.prediction,
            last_found_at=now,
            updated_at=now if changed or current.state is AlertState.NEW else current.updated_at,
        )
        out[f.key] = alert
        if changed:
            changes.append(AlertChange("updated", alert))
    hold = timedelta(seconds=clear_after_s)
    for key, current in active.items():
        if key in seen:
            continue
        if now - current.last_found_at >= hold:
            resolved = replace(current, state=AlertState.RESOLVED, updated_at=now, resolved_at=now)
            changes.append(AlertChange("resolved", resolved))
        else:
            out[key] = replace(current, state=AlertState.ONGOING)
    return out, changes


def _materially_different(a: Prediction, b: Prediction) -> bool:
    """Worth telling people: the loss moved by 10 s or more, or it became (or stopped being) current."""
    return a.now != b.now or abs((a.loss_at - b.loss_at).total_seconds()) >= 10.0
