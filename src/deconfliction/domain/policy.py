"""Separation policy: the minimum distances per pair of operation kinds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from deconfliction.errors import FieldError, InvalidInput


class OperationKind(StrEnum):
    AIR = "air"
    GROUND = "ground"
    MARITIME = "maritime"


def pair_name(a: OperationKind, b: OperationKind) -> str:
    x, y = sorted((a.value, b.value))
    return f"{x}-{y}"


@dataclass(frozen=True)
class SeparationRule:
    """Two things conflict when they are closer than this in every compared dimension at once.
    ``vertical_m`` None means altitudes are not compared (two ground convoys on one road)."""

    name: str
    horizontal_m: float
    vertical_m: float | None
    time_s: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "horizontal_m": self.horizontal_m,
            "vertical_m": self.vertical_m,
            "time_s": self.time_s,
        }


NM = 1852.0
FT = 0.3048

DEFAULT_RULES: tuple[SeparationRule, ...] = (
    SeparationRule("air-air", 5 * NM, 1000 * FT, 0.0),
    SeparationRule("ground-ground", 1000.0, None, 0.0),
    SeparationRule("maritime-maritime", 1 * NM, None, 0.0),
    SeparationRule("air-ground", 1000.0, 1000 * FT, 0.0),
    SeparationRule("air-maritime", 1000.0, 1000 * FT, 0.0),
    SeparationRule("ground-maritime", 500.0, None, 0.0),
)
"""air-air and ground-ground are the design's defaults (5 NM and 1,000 ft; 1 km). The others are this
service's choice, documented in docs/policy.md: an aircraft within 1 km and 1,000 ft of a ground or
surface operation's band, two vessels within 1 NM, a vessel and a ground operation within 500 m."""


POLICY_SECTIONS = ("escalation", "acknowledgement")
"""Keys of the policy file that are not pairs of kinds: how notifications are chased (``escalation``)
and which conflicts need the other side's acknowledgement before an operation commits
(``acknowledgement``). docs/policy.md."""


@dataclass(frozen=True)
class SeparationPolicy:
    rules: Mapping[str, SeparationRule] = field(default_factory=lambda: {r.name: r for r in DEFAULT_RULES})

    def __post_init__(self) -> None:
        for a in OperationKind:
            for b in OperationKind:
                if pair_name(a, b) not in self.rules:
                    raise ValueError(f"separation policy has no rule for {pair_name(a, b)}")

    def rule(self, a: OperationKind, b: OperationKind) -> SeparationRule:
        return self.rules[pair_name(a, b)]

    def widest(self, kind: OperationKind) -> SeparationRule:
        """The loosest filter that still catches every rule involving ``kind`` (for index queries)."""
        rules = [self.rule(kind, other) for other in OperationKind]
        vertical = None if any(r.vertical_m is None for r in rules) else max(r.vertical_m or 0.0 for r in rules)
        return SeparationRule(
            f"widest-{kind.value}", max(r.horizontal_m for r in rules), vertical, max(r.time_s for r in rules)
        )

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> SeparationPolicy:
        """From a deployment's settings: ``{"air-air": {"horizontal_m": .., "vertical_m": .., "time_s": ..}}``.
        Pairs not given keep their default."""
        rules = {r.name: r for r in DEFAULT_RULES}
        errors: list[FieldError] = []
        for key, spec in raw.items():
            parts = key.split("-")
            try:
                kinds = [OperationKind(p) for p in parts]
            except ValueError:
                errors.append(FieldError(key, "unknown_pair", f"{key!r} is not a pair of kinds like 'air-ground'"))
                continue
            if len(kinds) != 2 or not isinstance(spec, Mapping):
                errors.append(FieldError(key, "invalid_rule", "a rule is {horizontal_m, vertical_m, time_s}"))
                continue
            name = pair_name(kinds[0], kinds[1])
            base = rules[name]
            values: dict[str, Any] = {
                "horizontal_m": base.horizontal_m,
                "vertical_m": base.vertical_m,
                "time_s": base.time_s,
            }
            for k, v in spec.items():
                if k not in values:
                    errors.append(
                        FieldError(f"{key}.{k}", "unknown_field", "expected horizontal_m, vertical_m, time_s")
                    )
                elif v is None and k == "vertical_m":
                    values[k] = None
                elif isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                    errors.append(FieldError(f"{key}.{k}", "invalid_number", "must be a number >= 0"))
                else:
                    values[k] = float(v)
            rules[name] = SeparationRule(name, values["horizontal_m"], values["vertical_m"], values["time_s"])
        if errors:
            raise InvalidInput(errors)
        return cls(rules)
