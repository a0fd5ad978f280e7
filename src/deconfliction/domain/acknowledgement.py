"""Which conflicts need the other side's acknowledgement before an operation commits: the policy file's
``acknowledgement`` section (docs/policy.md), and the pure rule that decides, per open conflict, whether
an acknowledgement counts.

Per conflict kind one of:

``none``
    Proof of knowledge by tokens only (the request lists each conflict's current token).
``activate``
    To make the operation ``active``, the other side must have acknowledged the conflict's current
    content (or the request overrides it, with a reason).
``plan``
    The same, already to make it ``planned`` (and again to make it ``active``).

Acknowledged means received; it never means approved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from deconfliction.domain.areas import AreaConflictKind
from deconfliction.domain.operation import OperationState
from deconfliction.errors import FieldError, InvalidInput

OPERATION_KIND = "operation"
"""The kind of an operation-against-operation conflict (``domain.conflict.reconcile``)."""

CONFLICT_KINDS = (OPERATION_KIND, *(k.value for k in AreaConflictKind))


class Needed(StrEnum):
    NONE = "none"
    ACTIVATE = "activate"
    PLAN = "plan"


DEFAULT_NEEDS: Mapping[str, Needed] = {
    OPERATION_KIND: Needed.NONE,
    AreaConflictKind.ZONE_ENTRY.value: Needed.ACTIVATE,
    AreaConflictKind.BAND_ENTRY.value: Needed.ACTIVATE,
    AreaConflictKind.PROTECTED_SITE.value: Needed.ACTIVATE,
}
"""Protected sites, agreed zones and line bands: the other side acknowledges (or the request overrides)
before activation. Operation against operation: today's proof of knowledge by tokens."""


@dataclass(frozen=True)
class AcknowledgementPolicy:
    needs: Mapping[str, Needed] = field(default_factory=lambda: dict(DEFAULT_NEEDS))

    def needed_for(self, kind: str, state: OperationState) -> bool:
        """Does holding ``state`` with an open conflict of ``kind`` need the other side's acknowledgement?"""
        need = self.needs.get(kind, Needed.NONE)
        if state is OperationState.ACTIVE:
            return need in (Needed.ACTIVATE, Needed.PLAN)
        if state is OperationState.PLANNED:
            return need is Needed.PLAN
        return False

    def as_dict(self) -> dict[str, str]:
        return {k: v.value for k, v in self.needs.items()}

    @classmethod
    def from_mapping(cls, raw: Any) -> AcknowledgementPolicy:
        """From the policy file's ``acknowledgement`` section: ``{"protected_site": "plan", ...}``. Kinds
        not given keep their default; an unknown kind or value is refused by name."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise InvalidInput.one(
                "acknowledgement", "invalid_section", 'an object of conflict kind -> "none" | "activate" | "plan"'
            )
        needs = dict(DEFAULT_NEEDS)
        errors: list[FieldError] = []
        for kind, value in raw.items():
            where = f"acknowledgement.{kind}"
            if kind not in CONFLICT_KINDS:
                errors.append(FieldError(where, "unknown_kind", f"conflict kinds are {', '.join(CONFLICT_KINDS)}"))
                continue
            try:
                needs[kind] = Needed(value)
            except ValueError:
                errors.append(FieldError(where, "invalid_value", 'expected "none", "activate" or "plan"'))
        if errors:
            raise InvalidInput(errors)
        return cls(needs)


def acknowledged_version(body: Mapping[str, Any]) -> int | None:
    """The content version a conflict notification told: its body's ``content_version``, or ``version``
    for notifications written before content versions existed."""
    value = body.get("content_version", body.get("version"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def covers(told_versions: Iterable[int | None], content_version: int) -> bool:
    """Does any acknowledged notification about a conflict cover its current content? One that told a
    content version at or after ``content_version`` does; an older one was about something else."""
    return any(v is not None and v >= content_version for v in told_versions)


MAX_REASON = 1000


@dataclass(frozen=True)
class Override:
    """The request's deliberate decision to go ahead without the other side's acknowledgement."""

    conflict_id: str
    reason: str


def check_overrides(overrides: Iterable[Override]) -> tuple[Override, ...]:
    """The overrides of a request, each with a reason of 1 to ``MAX_REASON`` characters (surrounding
    blanks dropped) and each conflict named once; a 422 naming ``override[i]`` otherwise."""
    errors: list[FieldError] = []
    out: list[Override] = []
    seen: set[str] = set()
    for i, o in enumerate(overrides):
        where = f"override[{i}]"
        if not o.conflict_id:
            errors.append(FieldError(f"{where}.conflict", "missing_field", "the id of the conflict overridden"))
            continue
        if o.conflict_id in seen:
            errors.append(FieldError(f"{where}.conflict", "duplicate", f"conflict {o.conflict_id} is named twice"))
            continue
        seen.add(o.conflict_id)
        reason = o.reason.strip()
        if not reason:
            errors.append(FieldError(f"{where}.reason", "missing_reason", "an override needs a reason"))
        elif len(reason) > MAX_REASON:
            errors.append(FieldError(f"{where}.reason", "too_long", f"a reason has at most {MAX_REASON} characters"))
        else:
            out.append(Override(o.conflict_id, reason))
    if errors:
        raise InvalidInput(errors)
    return tuple(out)
