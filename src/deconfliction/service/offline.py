"""Conflict report for a file of operations, with no server and no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deconfliction.domain.conflict import Finding, Occupancy, detect
from deconfliction.domain.features import DeclaredOperation, parse_feature_collection
from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.policy import SeparationPolicy

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OfflineReport:
    operations: list[DeclaredOperation]
    findings: list[Finding]
    """Each conflicting pair once (operation_a sorts before operation_b)."""


def _as_operation(d: DeclaredOperation) -> Operation:
    return Operation(
        d.name,
        d.party,
        d.kind,
        d.priority,
        OperationState.PLANNED,
        1,
        d.name,
        d.volumes,
        d.title,
        _EPOCH,
        _EPOCH,
    )


def check_collection(obj: Any, policy: SeparationPolicy, limits: Limits) -> OfflineReport:
    declared = parse_feature_collection(obj, limits)
    ops = [_as_operation(d) for d in declared]
    occupancy: list[Occupancy] = [
        Occupancy(op.id, op.owner_id, op.kind, op.ovn, i, v.shape, v.altitude, v.window)
        for op in ops
        for i, v in enumerate(op.volumes)
    ]
    findings: list[Finding] = []
    for op in ops:
        subject = [o for o in occupancy if o.operation_id == op.id]
        later = [o for o in occupancy if o.operation_id > op.id]
        findings.extend(detect(subject, later, policy))
    return OfflineReport(declared, findings)
