"""Use cases on operations: submit, revise, change state, read. One function per thing a party does.

Every write runs in one serialised store transaction: load, decide (domain), detect conflicts against
everything committed before, reconcile the conflict records, check proof of knowledge, store, log. A new
operation's conflicts with other operations are found before that transaction, in a read snapshot
(``prefind``); inside it only the operations changed since the snapshot are checked again (``refind``,
docs/index.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from deconfliction import wire
from deconfliction.domain.acknowledgement import Override, check_overrides
from deconfliction.domain.areas import AreaFinding
from deconfliction.domain.conflict import (
    Conflict,
    ConflictState,
    Finding,
    Occupancy,
    detect,
    next_version,
    occupancies,
    reconcile,
)
from deconfliction.domain.footprint import lon_boxes
from deconfliction.domain.operation import COMMITTED_STATES, Operation, OperationState
from deconfliction.domain.party import DECLARING_ROLES, Party
from deconfliction.domain.policy import OperationKind, SeparationPolicy
from deconfliction.domain.sanity import DeclarationWarning, require_not_past
from deconfliction.domain.signing import SignedRequest
from deconfliction.domain.volume import TimeWindow, Volume4D
from deconfliction.errors import (
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    MissingConflictTokens,
    PreconditionFailed,
)
from deconfliction.service import acknowledgement, areas
from deconfliction.service.areas import is_area_conflict
from deconfliction.service.conflicts import party_names
from deconfliction.service.events import after_commit, conflict_changed
from deconfliction.service.notifications import notify_conflict, prepare_to_tell
from deconfliction.service.runtime import Runtime
from deconfliction.service.sanity import operation_warnings, stop_chase
from deconfliction.service.signing import accept_signature
from deconfliction.service.units import resolve_unit, told_view
from deconfliction.service.views import (
    conflict_view,
    coordinator_view,
    operation_record,
    visible_conflict,
    visible_operation,
)
from deconfliction.store.ports import CandidateQuery, StoredResponse, Transaction

METRES_PER_DEGREE_MIN = 110_500.0
"""Fewer metres than any degree of latitude has, so boxes grown by it are never too small."""


@dataclass(frozen=True)
class OperationDraft:
    """What a party declares; validated by the parsers that built its volumes."""

    kind: OperationKind
    volumes: tuple[Volume4D, ...]
    priority: int = 0
    title: str = ""
    unit_id: str | None = None
    """The caller's unit it is declared for (None: a unit's key declares for its own unit; a party's key
    for the party as a whole, or on a revision, the unit stays as it was)."""
    historical: bool = False
    """Filed as a record for an inquiry: its window may have wholly passed (docs/api.md)."""


Told = tuple[Conflict, wire.Conflict, dict[str, Any]]
"""A side told of a conflict by a write: the record, the view it was told, the view's ledger payload."""


@dataclass(frozen=True)
class OperationResult:
    operation: Operation
    conflicts: list[Conflict]
    """Every open conflict of the operation after the change."""
    changed: list[Conflict]
    """The conflict records this change created, updated or resolved (for notification)."""
    names: dict[str, str]
    """Names of the parties in ``conflicts`` and ``changed``, for rendering."""
    receipt: tuple[int, str]
    """The ledger's head after this write: the number and chain hash of its last event."""
    told: Mapping[tuple[str, str], Told] = field(default_factory=dict)
    """What each side of each changed conflict was told (the view, and its ledger entry's payload), by
    (conflict id, party id), with the record it was drawn from."""
    warnings: list[DeclarationWarning] = field(default_factory=list)
    """Likely mistakes that are not errors (``domain.sanity``), for the declaring party."""

    def conflict_views(self, viewer: Party) -> list[wire.Conflict]:
        """``conflict_view(viewer, c, names)`` of every open conflict, taken from what this write told
        the sides where it can (the same members, not worked out a second time)."""
        return [self._view(viewer, c) for c in self.conflicts]

    def _view(self, viewer: Party, c: Conflict) -> wire.Conflict:
        a, b = self.told.get((c.id, c.party_a)), self.told.get((c.id, c.party_b))
        if viewer.sees_all:
            if a is not None and b is not None and a[0] is c and b[0] is c:
                visible_conflict(viewer, c, c.id)
                return coordinator_view(a[2], b[2])
        else:
            mine = a if viewer.id == c.party_a else b if viewer.id == c.party_b else None
            if mine is not None and mine[0] is c:
                visible_conflict(viewer, c, c.id)
                return mine[1]
        return conflict_view(viewer, c, self.names)


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key on a write: the first response is stored with the write, in the same
    transaction, and replayed for a retry with the same fingerprint."""

    key: str
    fingerprint: str
    render: Callable[[Any], StoredResponse]


# ------------------------------------------------------------------------------------------------ helpers


def require_declaring(actor: Party, what: str = "declare operations") -> None:
    """Parties and the coordinator declare; observers and auditors only read."""
    if actor.role not in DECLARING_ROLES:
        raise Forbidden(f"a party with role {actor.role} cannot {what}")


def candidate_query(o: Occupancy, policy: SeparationPolicy) -> CandidateQuery:
    """The index question for one volume: its boxes grown by the widest separation its kind has."""
    widest = policy.widest(o.kind)
    grow = widest.horizontal_m * 1.01 + 10.0
    dlat = grow / METRES_PER_DEGREE_MIN
    boxes: list[tuple[float, float, float, float]] = []
    for lon_lo, lat_lo, lon_hi, lat_hi in o.shape.boxes:
        lat_lo2, lat_hi2 = max(-90.0, lat_lo - dlat), min(90.0, lat_hi + dlat)
        cos_worst = max(math.cos(math.radians(max(abs(lat_lo2), abs(lat_hi2)))), 1e-6)
        dlon = dlat / cos_worst
        boxes.extend(lon_boxes(lon_lo - dlon, lon_hi + dlon, lat_lo2, lat_hi2))
    margin = timedelta(seconds=widest.time_s)
    if widest.vertical_m is None:
        alt_lo = alt_hi = None
    else:
        alt_lo, alt_hi = o.altitude.lower_m - widest.vertical_m, o.altitude.upper_m + widest.vertical_m
    return CandidateQuery(
        tuple(boxes), o.window.start - margin, o.window.end + margin, alt_lo, alt_hi, exclude_owner=o.owner_id
    )


def find_conflicts(tx: Transaction, policy: SeparationPolicy, op: Operation) -> list[Finding]:
    """Exact conflicts of ``op`` with every other party's live operation in the store."""
    subject = occupancies(op)
    seen: dict[tuple[str, int], Occupancy] = {}
    for o in subject:
        for c in tx.operations.candidates(candidate_query(o, policy)):
            seen[(c.operation_id, c.index)] = c
    return detect(subject, list(seen.values()), policy)


OPERATION_EVENTS = ("operation.created", "operation.changed")
"""The ledger entries of every change of an operation: ``apply_change`` is the one place that stores an
operation, and it appends one of these, in the same transaction. So the operations changed since a
snapshot taken at ledger head ``seq`` are the subjects of these entries after ``seq``."""

AREA_NEUTRAL_EVENTS = ("operation.", "conflict.", "notification.", "dss.intent.", "dss.subscription.")
"""Prefixes of the ledger entries that never come with a change of a zone, band or site: the busy
theatre's own writes (operations, their conflicts and notifications, the DSS's intents and
subscriptions). An entry of any other type since a snapshot (a site created, a zone agreed, a constraint,
whatever is added later) makes the write look for the operation's zones, bands and sites again: what the
snapshot found for them is kept only when none of these things can have changed since."""


@dataclass(frozen=True)
class Since:
    """What committed after a snapshot: the operations changed, and whether a zone, band or site may
    have."""

    operations: frozenset[str]
    areas: bool


def changed_since(tx: Transaction, seq: int) -> Since:
    """Inside the write: what committed after the snapshot taken at ledger head ``seq`` (one read)."""
    changes = tx.events.changes_since(seq)
    return Since(
        frozenset(subject for kind, subject in changes if kind in OPERATION_EVENTS),
        any(not kind.startswith(AREA_NEUTRAL_EVENTS) for kind, _ in changes),
    )


@dataclass(frozen=True)
class Prefound:
    """The conflicts of an operation-to-be with every operation, zone, band and site committed up to
    ledger entry ``seq``, found in a read snapshot before the write (``prefind``); the write re-checks
    only what changed since (``refind``)."""

    seq: int
    op_id: str
    owner_id: str
    kind: OperationKind
    live: bool
    volumes: tuple[Volume4D, ...]
    findings: tuple[Finding, ...]
    areas_found: tuple[tuple[AreaFinding, ...], Mapping[str, str]]
    """Its zones, bands and sites, and the token of each (``areas.area_findings``)."""

    def fits(self, op: Operation) -> bool:
        """Found for this very subject: detection reads only its id, owner, kind, state (live or not)
        and volumes."""
        return (
            self.op_id == op.id
            and self.owner_id == op.owner_id
            and self.kind is op.kind
            and self.live == op.is_live
            and self.volumes is op.volumes
        )


def prefind(rt: Runtime, op: Operation) -> Prefound:
    """Index queries and exact detection for ``op`` against one read snapshot, outside the serialised
    write; the snapshot's ledger head marks what it saw."""
    with rt.store.read() as tx:
        return prefind_in(tx, rt.policy, tx.events.head()[0], op)


def prefind_in(tx: Transaction, policy: SeparationPolicy, seq: int, op: Operation) -> Prefound:
    """``prefind`` in a read transaction whose snapshot is that of ledger head ``seq``: read the head
    with the transaction's first statement, which fixes the snapshot every later statement reads."""
    findings = find_conflicts(tx, policy, op) if op.is_live else []
    for f in findings:  # drawn here, outside the write: each encounter keeps its region once drawn
        for e in f.encounters:
            _ = e.region_geojson
    found, tokens = areas.area_findings(tx, op)
    return Prefound(seq, op.id, op.owner_id, op.kind, op.is_live, op.volumes, tuple(findings), (tuple(found), tokens))


def refind(
    tx: Transaction, policy: SeparationPolicy, op: Operation, pre: Prefound, since: Since | None = None
) -> list[Finding]:
    """Inside the write: ``find_conflicts(tx, policy, op)``, from the snapshot's findings. Only the
    operations changed since the snapshot (created, revised, or changed state) are checked again,
    against the whole of their current volumes (the index only pre-filters, so this is exact); what the
    snapshot found for every other operation still holds, since none of them changed. ``since``: what
    committed after the snapshot, when the caller has read it already."""
    changed = (since or changed_since(tx, pre.seq)).operations - {op.id}
    if not changed:
        return list(pre.findings)
    kept = [f for f in pre.findings if f.operation_b not in changed]
    subject = occupancies(op)
    near = [candidate_query(o, policy) for o in subject]  # the index's pre-filter, as in find_conflicts
    others = tx.operations.live_occupancies(changed, exclude_owner=op.owner_id, near=near)
    return kept + detect(subject, others, policy)


def _check_tokens(
    tx: Transaction,
    actor: Party,
    op: Operation,
    open_conflicts: list[Conflict],
    stored: Collection[str],
    known: Collection[str],
    *,
    created: bool,
) -> None:
    """Proof of knowledge: to hold a committed state, the request lists the current token of every
    conflict the operation has. The refusal shows each missing conflict as the party may see it (a
    conflict that would be new has no id yet: nothing was stored)."""
    if op.state not in COMMITTED_STATES:
        return
    missing = [c for c in open_conflicts if c.token_for(op.owner_id) not in known]
    if missing:
        names = party_names(tx, missing)
        views = []
        for c in missing:
            view = wire.to_record(conflict_view(actor, c, names))
            if c.id not in stored:
                view.pop("id")
                view.pop("version")
                if created:  # the refused operation was never stored either
                    view.pop("operation", None)
                    for side in view.get("sides", ()):
                        if side["operation"] == op.id:
                            side.pop("operation")
            views.append(view)
        raise MissingConflictTokens(
            f"to make this operation {op.state}, list the current token of each of its "
            f"{len(open_conflicts)} conflict(s); {len(missing)} missing or outdated",
            missing=views,
        )


def apply_change(
    tx: Transaction,
    rt: Runtime,
    actor: Party,
    new: Operation,
    *,
    detect_again: bool,
    known: Collection[str],
    created: bool,
    signed: Mapping[str, Any] | None,
    overrides: Sequence[Override] = (),
    gate: bool = False,
    prefound: Prefound | None = None,
) -> OperationResult:
    """``gate``: this write makes the operation planned or active (a transition, or a creation as
    planned), so the acknowledgement gate applies; a revision keeps its state and is not held there.
    ``prefound``: the conflicts found for ``new`` before the write (``prefind``), brought up to date here
    rather than found again (used only when it was found for this subject)."""
    now = new.updated_at
    existing_all = {} if created else tx.conflicts.for_operation(new.id)
    existing = {k: c for k, c in existing_all.items() if not is_area_conflict(c)}
    area_found = None  # the snapshot's zones, bands and sites, where none can have changed since
    if detect_again:
        if not new.is_live:
            findings = []
        elif prefound is not None and prefound.fits(new):
            since = changed_since(tx, prefound.seq)
            findings = refind(tx, rt.policy, new, prefound, since)
            area_found = None if since.areas else prefound.areas_found
        else:
            findings = find_conflicts(tx, rt.policy, new)
        historical = tx.operations.historical([f.operation_b for f in findings])
        changed = reconcile(new, findings, existing, now=now, new_id=lambda: rt.ids.new_id("cf"), historical=historical)
    else:
        changed = _retoken(new, existing, now)
    changed += areas.reconcile_operation(tx, rt, new, existing_all, now, area_found)  # zones, bands, sites
    after = {**{c.id: c for c in existing_all.values()}, **{c.id: c for c in changed}}
    open_after = sorted((c for c in after.values() if c.state is ConflictState.OPEN), key=lambda c: c.id)
    _check_tokens(tx, actor, new, open_after, {c.id for c in existing_all.values()}, known, created=created)
    if gate and (overrides or new.state in COMMITTED_STATES):
        stored = {c.id: c for c in existing_all.values()}
        overridden = acknowledgement.check(tx, rt, new, open_after, stored, overrides)
        acknowledgement.record_overrides(tx, rt, actor, new, overridden, signed)
    if created:
        tx.operations.add(new)
    else:
        tx.operations.replace(new)
    tx.events.append(
        at=now,
        actor_id=actor.id,
        type="operation.created" if created else "operation.changed",
        subject_id=new.id,
        payload={**operation_record(new), "conflicts": [c.id for c in open_after]},
        audience=[new.owner_id],
        signed=signed,
    )
    names = party_names(tx, [*open_after, *changed])
    prepare_to_tell(tx, changed)
    told: dict[tuple[str, str], Told] = {}
    for c in changed:
        tx.conflicts.save(c)
        if c.state is ConflictState.EXPIRED and c.version > 1:
            stop_chase(tx, c)
        kind = "opened" if c.version == 1 else ("resolved" if c.state is ConflictState.RESOLVED else "updated")
        conflict_changed(rt, c, kind)
        for side in (c.party_a, c.party_b):  # each side's entry is what that side is told
            view = told_view(tx, c, side, names)
            payload = wire.to_record(view)
            seq = tx.events.append(
                at=now,
                actor_id=actor.id,
                type=f"conflict.{kind}",
                subject_id=c.id,
                payload=payload,
                audience=[side],
            )
            told[(c.id, side)] = (c, view, payload)
            other = c.party_b if side == c.party_a else c.party_a
            notify_conflict(tx, rt, c, side, seq, kind, names.get(other), view.unit)
    return OperationResult(new, open_after, changed, names, tx.events.head(), told)


def volume_windows(volumes: tuple[Volume4D, ...], prefix: str = "volumes") -> list[tuple[str, TimeWindow]]:
    """Each volume's window, named by its end's field (``volumes[2].window.end``)."""
    return [(f"{prefix}[{i}].window.end", v.window) for i, v in enumerate(volumes)]


def _retoken(op: Operation, existing: dict[str, Conflict], now: datetime) -> list[Conflict]:
    """A state change without new geometry: open conflicts stay, but carry the operation's new token;
    an operation that ended or was cancelled resolves them all."""
    changed = []
    for c in existing.values():
        if c.state is not ConflictState.OPEN:
            continue
        if not op.is_live:
            changed.append(next_version(c, replace(c, state=ConflictState.RESOLVED), now))
        elif op.id == c.operation_a:
            changed.append(next_version(c, replace(c, token_b=op.ovn), now))
        else:
            changed.append(next_version(c, replace(c, token_a=op.ovn), now))
    return changed


def write_change(
    rt: Runtime,
    actor: Party,
    idem: Idempotency | None,
    signed: SignedRequest | None,
    work: Callable[[Transaction, Mapping[str, Any] | None], Any],
) -> Any:
    with after_commit(), rt.store.write() as tx:  # the domain's events are logged once it committed
        if idem is not None:
            prior = tx.idempotency.get(_idempotency_scope(actor), idem.key)
            if prior is not None:
                if prior.fingerprint != idem.fingerprint:
                    raise IdempotencyKeyReused(
                        f"Idempotency-Key {idem.key!r} was already used for a different request", key=idem.key
                    )
                return replace(prior, replayed=True)
        result = work(tx, accept_signature(tx, rt, actor, signed))
        if idem is None:
            return result
        response = idem.render(result)
        tx.idempotency.put(_idempotency_scope(actor), idem.key, response, rt.clock())
        return response


def _idempotency_scope(actor: Party) -> str:
    """Whose Idempotency-Keys these are: the party's, or a unit key's own (a stored answer may show the
    unit's operation, which a sibling unit's key must not be replayed)."""
    return actor.id if actor.unit_id is None else f"{actor.id}/{actor.unit_id}"


def load_owned(tx: Transaction, actor: Party, op_id: str, expected_version: int | None) -> Operation:
    op = visible_operation(actor, tx.operations.get(op_id), op_id)
    if op.owner_id != actor.id:  # the coordinator sees every operation but changes only its own
        raise Forbidden(f"operation {op_id} belongs to another party; only its owner changes it")
    if expected_version is not None and op.version != expected_version:
        raise PreconditionFailed(
            f"operation {op_id} is at version {op.version}, not {expected_version}; read it again",
            current_version=op.version,
        )
    return op


# ---------------------------------------------------------------------------------------------- use cases


def submit_operation(
    rt: Runtime,
    actor: Party,
    draft: OperationDraft,
    *,
    state: OperationState = OperationState.DRAFT,
    known_tokens: Collection[str] = (),
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
    overrides: Sequence[Override] = (),
) -> OperationResult | StoredResponse:
    """Declare a new operation, as a draft (conflicts are found and both sides told) or directly as
    planned (then with the token of every conflict it would have)."""
    require_declaring(actor)
    if state not in (OperationState.DRAFT, OperationState.PLANNED):
        raise InvalidInput.one("state", "invalid_state", "a new operation is 'draft' or 'planned'")
    require_historical_draft(state, historical=draft.historical)
    check_draft(rt, draft)
    checked = check_overrides(overrides)
    require_not_past(volume_windows(draft.volumes), rt.clock(), historical=draft.historical)

    def declared(now: datetime, unit_id: str | None) -> Operation:
        return Operation(
            op_id,
            actor.id,
            draft.kind,
            draft.priority,
            state,
            1,
            ovn,
            draft.volumes,
            draft.title,
            now,
            now,
            unit_id,
            draft.historical,
        )

    op_id, ovn = rt.ids.new_id("op"), rt.ids.new_token()
    with rt.store.read() as snapshot:  # outside the serialised write
        seq = snapshot.events.head()[0]
        prefound = prefind_in(snapshot, rt.policy, seq, declared(rt.clock(), None))
        warnings = operation_warnings(snapshot, actor.id, draft.kind, draft.volumes)

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> OperationResult:
        op = declared(rt.clock(), resolve_unit(tx, actor, draft.unit_id))
        result = apply_change(
            tx,
            rt,
            actor,
            op,
            detect_again=True,
            known=known_tokens,
            created=True,
            signed=signed,
            overrides=checked,
            gate=True,
            prefound=prefound,
        )
        return replace(result, warnings=warnings)

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def revise_operation(
    rt: Runtime,
    actor: Party,
    op_id: str,
    draft: OperationDraft,
    *,
    expected_version: int | None,
    known_tokens: Collection[str] = (),
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> OperationResult | StoredResponse:
    """Replace the volumes, kind, priority and title of a live operation; a new version."""
    require_declaring(actor)
    check_draft(rt, draft)
    with rt.store.read() as snapshot:  # outside the serialised write; refused requests are refused inside
        seq = snapshot.events.head()[0]
        current = snapshot.operations.get(op_id)
        prefound = None
        if current is not None and current.owner_id == actor.id and current.is_live:
            subject = replace(current, kind=draft.kind, volumes=draft.volumes)
            prefound = prefind_in(snapshot, rt.policy, seq, subject)
        warnings = operation_warnings(snapshot, actor.id, draft.kind, draft.volumes, exclude=op_id)

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> OperationResult:
        op = load_owned(tx, actor, op_id, expected_version)
        require_not_past(volume_windows(draft.volumes), rt.clock(), historical=op.historical)
        new = op.revise(
            volumes=draft.volumes,
            kind=draft.kind,
            priority=draft.priority,
            title=draft.title,
            now=rt.clock(),
            ovn=rt.ids.new_token(),
        )
        if draft.unit_id is not None:
            new = replace(new, unit_id=resolve_unit(tx, actor, draft.unit_id))
        result = apply_change(
            tx,
            rt,
            actor,
            new,
            detect_again=True,
            known=known_tokens,
            created=False,
            signed=signed,
            prefound=prefound,
        )
        return replace(result, warnings=warnings)

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def change_state(
    rt: Runtime,
    actor: Party,
    op_id: str,
    to: OperationState,
    *,
    expected_version: int | None,
    known_tokens: Collection[str] = (),
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
    overrides: Sequence[Override] = (),
) -> OperationResult | StoredResponse:
    """plan, activate, end or cancel. ``overrides``: go ahead without the other side's acknowledgement
    of these conflicts, each with a reason (``service.acknowledgement``)."""
    require_declaring(actor)
    checked = check_overrides(overrides)

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> OperationResult:
        op = load_owned(tx, actor, op_id, expected_version)
        new = op.transition(to, now=rt.clock(), ovn=rt.ids.new_token())
        return apply_change(
            tx,
            rt,
            actor,
            new,
            detect_again=False,
            known=known_tokens,
            created=False,
            signed=signed,
            overrides=checked,
            gate=True,
        )

    return write_change(rt, actor, idempotency, signature, work)  # type: ignore[no-any-return]


def get_operation(rt: Runtime, actor: Party, op_id: str) -> Operation:
    with rt.store.read() as tx:
        return visible_operation(actor, tx.operations.get(op_id), op_id)


def list_operations(
    rt: Runtime,
    actor: Party,
    *,
    states: list[OperationState] | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[Operation]:
    with rt.store.read() as tx:
        owner = None if actor.sees_all else actor.id
        return tx.operations.list(owner_id=owner, states=states, after=after, limit=limit, unit_id=actor.unit_id)


def require_historical_draft(state: OperationState, *, historical: bool) -> None:
    """A historical record is filed as a draft: it is never planned or activated."""
    if historical and state is not OperationState.DRAFT:
        raise InvalidInput.one(
            "state", "invalid_state", "a historical record is filed as a 'draft'; it is never planned or activated"
        )


def check_draft(rt: Runtime, draft: OperationDraft) -> None:
    if not draft.volumes:
        raise InvalidInput.one("volumes", "no_volumes", "an operation needs at least one volume")
    if len(draft.volumes) > rt.limits.max_volumes:
        raise InvalidInput.one(
            "volumes",
            "too_many_volumes",
            f"{len(draft.volumes)} volumes; at most {rt.limits.max_volumes} are allowed per operation",
        )
