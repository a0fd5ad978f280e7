"""What the DSS keeps (pure value types; the wire forms are built in ``deconfliction.dss.service``)."""

from __future__ import annotations

from dataclasses import dataclass

from deconfliction.dss.extents import Extent

INTENT = "intent"
CONSTRAINT = "constraint"


@dataclass(frozen=True)
class Reference:
    """An operational intent reference (``kind`` INTENT) or a constraint reference (CONSTRAINT)."""

    id: str
    kind: str
    manager: str
    version: int
    ovn: str
    state: str  # the intent's state; '' for a constraint
    uss_base_url: str
    subscription_id: str | None
    extent: Extent
    mirror_id: str | None = None
    """The service operation that mirrors this intent (docs/dss.md, One model); None when not mirrored."""


@dataclass(frozen=True)
class Subscription:
    id: str
    manager: str
    version: str
    notification_index: int
    uss_base_url: str
    notify_for_intents: bool
    notify_for_constraints: bool
    implicit: bool
    extent: Extent
