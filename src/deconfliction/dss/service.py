"""The DSS operations of ASTM F3548-21, one function each, each in one write transaction.

Every function takes the caller's subject (the manager) and the request body as parsed JSON, and returns
(status, body) where body is a ``uas_standards.astm.f3548.v21.api`` object; a refusal raises ``DssError``
with the standard's status and ``ErrorResponse`` / ``AirspaceConflictResponse``. Semantics follow the
reference DSS (interuss/dss) except that footprints are exact instead of S2 cells (docs/dss.md).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from uas_standards.astm.f3548.v21 import api

from deconfliction.domain.party import Party
from deconfliction.dss.extents import (
    Extent,
    ExtentError,
    format_time,
    merge,
    parse_extents,
    parse_volume,
    require_bounds,
)
from deconfliction.dss.mirror import (
    cancel_mirror,
    mirror_constraint,
    mirror_intent,
    plan_mirror,
    record,
    uss_party,
    withdraw_mirror_site,
)
from deconfliction.dss.records import CONSTRAINT, INTENT, Reference, Subscription
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import DssRecords, Store

NO_OVN = "Available from USS"
NULL_SUBSCRIPTION = "00000000-0000-4000-8000-000000000000"
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_SUBSCRIPTION = timedelta(hours=24)
STATES = ("Accepted", "Activated", "Nonconforming", "Contingent")
CMSA_STATES = ("Nonconforming", "Contingent")
CMSA_SCOPE = "utm.conformance_monitoring_sa"
AVAILABILITY = ("Unknown", "Normal", "Down")


class DssError(Exception):
    def __init__(self, status: int, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else dict(api.ErrorResponse(message=message))


def _bad(message: str) -> DssError:
    return DssError(400, message)


def _uuid(value: str, what: str = "ID") -> str:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise _bad(f"Invalid {what} format: `{value}`") from None
    if str(parsed) != value.lower():
        raise _bad(f"Invalid {what} format: `{value}`")
    return str(parsed)


def _new_version() -> str:
    return secrets.token_urlsafe(24)


def _body(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise _bad("Malformed params: a JSON object is required")
    return body


def _base_url(url: Any, field: str, allow_http: bool) -> str:
    if not isinstance(url, str) or not url:
        raise _bad(f"Missing required {field}")
    scheme = urlsplit(url).scheme
    if scheme == "http" and not allow_http:
        raise _bad(f"{field} must use TLS")
    if scheme not in ("http", "https"):
        raise _bad(f"{field} must support https scheme")
    return url


def _extent_error(exc: ExtentError) -> DssError:
    return _bad(str(exc))


def _time(value: datetime | None) -> api.Time:
    assert value is not None
    return api.Time(value=format_time(value), format="RFC3339")


class Dss:
    """The DSS over one store. ``now`` is the clock; ``allow_http`` lets plain-http base URLs in."""

    def __init__(
        self, store: Store, now: Callable[[], datetime], *, allow_http: bool = False, runtime: Runtime | None = None
    ) -> None:
        self.store = store
        self.now = now
        self.allow_http = allow_http
        self.runtime = runtime
        """Set: intents are mirrored as operations of their USS's party (``deconfliction.dss.mirror``)."""

    def _record(
        self, tx: Any, subject: str, kind: str, entity_id: str, party: Party | None = None, **payload: Any
    ) -> None:
        if self.runtime is not None:
            record(tx, self.runtime, subject, kind, entity_id, payload, party)

    # --------------------------------------------------------------------------------------- wire forms

    def _availability(self, db: DssRecords, manager: str) -> str:
        found = db.availability(manager)
        return found[0] if found else "Unknown"

    def _intent(self, db: DssRecords, ref: Reference, caller: str) -> api.OperationalIntentReference:
        return api.OperationalIntentReference(
            id=ref.id,
            manager=ref.manager,
            uss_availability=self._availability(db, ref.manager),
            version=ref.version,
            state=ref.state,
            ovn=ref.ovn if ref.manager == caller else NO_OVN,
            time_start=_time(ref.extent.start),
            time_end=_time(ref.extent.end),
            uss_base_url=ref.uss_base_url,
            subscription_id=ref.subscription_id or NULL_SUBSCRIPTION,
        )

    def _constraint(self, db: DssRecords, ref: Reference, caller: str) -> api.ConstraintReference:
        return api.ConstraintReference(
            id=ref.id,
            manager=ref.manager,
            uss_availability=self._availability(db, ref.manager),
            version=ref.version,
            ovn=ref.ovn if ref.manager == caller else NO_OVN,
            time_start=_time(ref.extent.start),
            time_end=_time(ref.extent.end),
            uss_base_url=ref.uss_base_url,
        )

    @staticmethod
    def _subscription(db: DssRecords, sub: Subscription) -> api.Subscription:
        out = api.Subscription(
            id=sub.id,
            version=sub.version,
            notification_index=sub.notification_index,
            uss_base_url=sub.uss_base_url,
            notify_for_operational_intents=sub.notify_for_intents,
            notify_for_constraints=sub.notify_for_constraints,
            implicit_subscription=sub.implicit,
            dependent_operational_intents=db.dependents(sub.id),
        )
        if sub.extent.start is not None:
            out.time_start = _time(sub.extent.start)
        if sub.extent.end is not None:
            out.time_end = _time(sub.extent.end)
        return out

    @staticmethod
    def _notify(db: DssRecords, extent: Extent, flag: str) -> list[api.SubscriberToNotify]:
        """Increment the index of every subscription the change concerns; the subscribers by base URL."""
        subs = db.search_subscriptions(extent, flag=flag)
        db.increment([s.id for s in subs])
        by_url: dict[str, list[api.SubscriptionState]] = {}
        for s in subs:
            by_url.setdefault(s.uss_base_url, []).append(
                api.SubscriptionState(subscription_id=s.id, notification_index=s.notification_index + 1)
            )
        return [api.SubscriberToNotify(uss_base_url=url, subscriptions=states) for url, states in by_url.items()]

    # ------------------------------------------------------------------------------- intents: queries

    def _area_of_interest(self, body: Any) -> Extent:
        aoi = _body(body).get("area_of_interest")
        if aoi is None:
            raise _bad("Missing area_of_interest")
        try:
            extent = parse_volume(aoi, "area_of_interest")
        except ExtentError as exc:
            raise _extent_error(exc) from None
        if extent.footprint is None:
            raise _bad("area_of_interest: an outline_polygon or outline_circle is required")
        return extent

    def query_intents(self, caller: str, body: Any) -> api.QueryOperationalIntentReferenceResponse:
        extent = self._area_of_interest(body)
        with self.store.read() as tx:
            db = tx.dss
            refs = db.search_references(INTENT, extent)
            return api.QueryOperationalIntentReferenceResponse(
                operational_intent_references=[self._intent(db, r, caller) for r in refs]
            )

    def get_intent(self, caller: str, entity_id: str) -> api.GetOperationalIntentReferenceResponse:
        entity_id = _uuid(entity_id)
        with self.store.read() as tx:
            db = tx.dss
            ref = db.reference(INTENT, entity_id)
            if ref is None:
                raise DssError(404, f"OperationalIntent {entity_id} not found")
            return api.GetOperationalIntentReferenceResponse(operational_intent_reference=self._intent(db, ref, caller))

    # -------------------------------------------------------------------------------- intents: writes

    def put_intent(
        self, caller: str, scopes: frozenset[str], entity_id: str, ovn: str, body: Any
    ) -> api.ChangeOperationalIntentReferenceResponse:
        now = self.now()
        params = _body(body)
        entity_id = _uuid(entity_id)
        uss_base_url = _base_url(params.get("uss_base_url"), "uss_base_url", True)
        sub_id_raw = params.get("subscription_id")
        sub_id = _uuid(sub_id_raw, "Subscription ID") if sub_id_raw else None
        new_sub = params.get("new_subscription")
        if new_sub is not None:
            if not isinstance(new_sub, Mapping) or not new_sub.get("uss_base_url"):
                raise _bad("Missing required USS base url for new subscription")
            if sub_id_raw is not None:
                raise _bad("Cannot provide both a Subscription ID and request an implicit subscription")
        if not self.allow_http:
            _base_url(uss_base_url, "uss_base_url", False)
            if new_sub is not None:
                _base_url(new_sub.get("uss_base_url"), "new_subscription.uss_base_url", False)
        state = params.get("state")
        if state not in STATES:
            raise _bad(f"Invalid OperationalIntent state: {state}")
        try:
            extent = parse_extents(params.get("extents"))
            require_bounds(extent, "extents", altitude=True, now=now)
        except ExtentError as exc:
            raise _extent_error(exc) from None
        if not ovn and state != "Accepted":
            raise _bad(f"Invalid state for initial version: `{state}`")
        new_ovn = None
        if params.get("requested_ovn_suffix") is not None:
            new_ovn = f"{entity_id}_{self._ovn_suffix(params['requested_ovn_suffix'], now)}"
        if state != "Accepted" and sub_id is None and new_sub is None:
            raise _bad(
                f"Provided Operational Intent Reference state `{state}` requires either a subscription ID or "
                "information to create an implicit subscription"
            )
        key = params.get("key") or []
        if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
            raise _bad("key: a list of OVNs is required")
        if state in CMSA_STATES and CMSA_SCOPE not in scopes:
            raise DssError(403, f"Missing `{CMSA_SCOPE}` scope to transition to CMSA state: {state}")

        # the mirror's shape and its conflicts in a snapshot, outside the serialised write
        plan = plan_mirror(self.runtime, caller, entity_id, extent) if self.runtime is not None else None
        with self.store.write() as tx:
            db = tx.dss
            old = db.reference(None, entity_id)
            if old is not None and old.kind == CONSTRAINT:
                raise DssError(409, f"{entity_id} is a constraint")
            if old is not None:
                if old.manager != caller:
                    raise DssError(403, f"OperationalIntent owned by {old.manager}, but {caller} attempted to modify")
                if old.ovn != ovn:
                    raise DssError(409, f"Current version is {old.ovn} but client specified version {ovn}")
            elif ovn:
                raise _bad(f"OperationalIntent does not exist and therefore is not version {ovn}")
            version = old.version + 1 if old is not None else 1
            previous = db.subscription(old.subscription_id) if old is not None and old.subscription_id else None
            replaced = previous is not None and sub_id != previous.id
            remove_previous = replaced and previous is not None and self._only_for(db, previous, entity_id)

            attached = previous
            if sub_id is None:
                if new_sub is not None:
                    attached = Subscription(
                        str(uuid.uuid4()),
                        caller,
                        _new_version(),
                        0,
                        new_sub["uss_base_url"],
                        True,
                        bool(new_sub.get("notify_for_constraints", False)),
                        True,
                        extent,
                    )
                    db.put_subscription(attached, new=True)  # a fresh uuid4
                else:
                    attached = None
            else:
                if attached is None or replaced:
                    attached = db.subscription(sub_id)
                    if attached is None:
                        raise _bad(f"Specified Subscription {sub_id} does not exist")
                if attached.manager != caller:
                    raise DssError(403, "Specified Subscription is owned by different client")
                attached = self._cover(db, attached, extent)

            if state not in CMSA_STATES:
                self._check_key(db, caller, entity_id, extent, set(key), attached)

            ref = Reference(
                entity_id,
                INTENT,
                caller,
                version,
                new_ovn or _new_version(),
                state,
                uss_base_url,
                attached.id if attached is not None else None,
                extent,
            )
            party = None
            if self.runtime is not None:
                party = (plan.party if plan is not None else None) or uss_party(tx, self.runtime, caller)
                previous_mirror = old.mirror_id if old is not None else None
                ref = replace(ref, mirror_id=mirror_intent(tx, self.runtime, ref, previous_mirror, plan, party))
            db.put_reference(ref, new=old is None)
            if remove_previous and previous is not None:
                db.delete_subscription(previous.id)
            notify = _union(extent, old.extent) if old is not None else extent
            subscribers = self._notify(db, notify, "notify_for_intents")
            self._record(
                tx, caller, "intent.put", entity_id, party, version=ref.version, state=state, operation=ref.mirror_id
            )
            return api.ChangeOperationalIntentReferenceResponse(
                subscribers=subscribers, operational_intent_reference=self._intent(db, ref, caller)
            )

    @staticmethod
    def _ovn_suffix(value: Any, now: datetime) -> str:
        try:
            parsed = uuid.UUID(str(value))
        except ValueError:
            raise _bad(f"Invalid requested OVN suffix: `{value}` is not a valid UUID") from None
        if parsed.version != 7:
            raise _bad(f"Invalid requested OVN suffix: `{value}` is not version 7")
        at = datetime.fromtimestamp((parsed.int >> 80) / 1000.0, tz=now.tzinfo)
        if abs(now - at) > MAX_CLOCK_SKEW:
            raise _bad(f"Invalid requested OVN suffix: `{value}` is too far away from now")
        return str(parsed)

    @staticmethod
    def _only_for(db: DssRecords, sub: Subscription, intent_id: str) -> bool:
        if not sub.implicit:
            return False
        return db.dependents(sub.id) == [intent_id]

    @staticmethod
    def _cover(db: DssRecords, sub: Subscription, extent: Extent) -> Subscription:
        """The subscription, grown to cover the intent when implicit; refused when explicit and short."""
        e = sub.extent
        start, end, footprint = e.start, e.end, e.footprint
        changed = False
        if start is not None and extent.start is not None and start > extent.start:
            if not sub.implicit:
                raise _bad("Subscription does not begin until after the OperationalIntent starts")
            start, changed = extent.start, True
        if end is not None and extent.end is not None and end < extent.end:
            if not sub.implicit:
                raise _bad("Subscription ends before the OperationalIntent ends")
            end, changed = extent.end, True
        if not e.covers(extent):
            if not sub.implicit:
                raise _bad("Subscription does not cover entire spatial area of the OperationalIntent")
            footprint, changed = merge(footprint, extent.footprint), True
        if not changed:
            return sub
        grown = replace(sub, extent=replace(e, start=start, end=end, footprint=footprint))
        db.put_subscription(grown)
        return grown

    def _check_key(
        self, db: DssRecords, caller: str, entity_id: str, extent: Extent, key: set[str], attached: Subscription | None
    ) -> None:
        missing_intents = []
        for other in db.search_references(INTENT, extent):
            if other.id == entity_id or other.ovn in key:
                continue
            if other.state == "Accepted" and self._availability(db, other.manager) == "Down":
                continue
            missing_intents.append(other)
        missing_constraints = []
        if attached is not None and attached.notify_for_constraints:
            missing_constraints = [c for c in db.search_references(CONSTRAINT, extent) if c.ovn not in key]
        if missing_intents or missing_constraints:
            message = "Current OVNs not provided for one or more OperationalIntents or Constraints"
            body = api.AirspaceConflictResponse(
                message=message,
                missing_operational_intents=[self._intent(db, r, caller) for r in missing_intents],
                missing_constraints=[self._constraint(db, r, caller) for r in missing_constraints],
            )
            raise DssError(409, message, dict(body))

    def delete_intent(self, caller: str, entity_id: str, ovn: str) -> api.ChangeOperationalIntentReferenceResponse:
        entity_id = _uuid(entity_id)
        if not ovn:
            raise _bad("Missing OVN for operational intent to modify")
        with self.store.write() as tx:
            db = tx.dss
            old = db.reference(INTENT, entity_id)
            if old is None:
                raise DssError(404, f"OperationalIntent {entity_id} not found")
            if old.manager != caller:
                raise DssError(403, f"OperationalIntent owned by {old.manager}, but {caller} attempted to delete")
            if old.ovn != ovn:
                raise DssError(409, f"Current version is {old.ovn} but client specified version {ovn}")
            previous = db.subscription(old.subscription_id) if old.subscription_id else None
            remove = previous is not None and self._only_for(db, previous, entity_id)
            subscribers = self._notify(db, old.extent, "notify_for_intents")
            out = self._intent(db, old, caller)
            self._record(tx, caller, "intent.deleted", entity_id, version=old.version)
            if self.runtime is not None and old.mirror_id is not None:
                cancel_mirror(tx, self.runtime, old.manager, old.mirror_id)
            db.delete_reference(entity_id)
            if remove and previous is not None:
                db.delete_subscription(previous.id)
            return api.ChangeOperationalIntentReferenceResponse(
                subscribers=subscribers, operational_intent_reference=out
            )

    # ---------------------------------------------------------------------------------- constraints

    def query_constraints(self, caller: str, body: Any) -> api.QueryConstraintReferencesResponse:
        extent = self._area_of_interest(body)
        with self.store.read() as tx:
            db = tx.dss
            refs = db.search_references(CONSTRAINT, extent)
            return api.QueryConstraintReferencesResponse(
                constraint_references=[self._constraint(db, r, caller) for r in refs]
            )

    def get_constraint(self, caller: str, entity_id: str) -> api.GetConstraintReferenceResponse:
        entity_id = _uuid(entity_id)
        with self.store.read() as tx:
            db = tx.dss
            ref = db.reference(CONSTRAINT, entity_id)
            if ref is None:
                raise DssError(404, f"Constraint {entity_id} not found")
            return api.GetConstraintReferenceResponse(constraint_reference=self._constraint(db, ref, caller))

    def put_constraint(self, caller: str, entity_id: str, ovn: str, body: Any) -> api.ChangeConstraintReferenceResponse:
        now = self.now()
        params = _body(body)
        entity_id = _uuid(entity_id)
        uss_base_url = _base_url(params.get("uss_base_url"), "uss_base_url", self.allow_http)
        try:
            extent = parse_extents(params.get("extents"))
            require_bounds(extent, "extents", altitude=False, now=now)
        except ExtentError as exc:
            raise _extent_error(exc) from None
        extent = replace(
            extent,
            alt_lo=extent.alt_lo if extent.alt_lo is not None else -1e9,
            alt_hi=extent.alt_hi if extent.alt_hi is not None else 1e9,
        )
        with self.store.write() as tx:
            db = tx.dss
            old = db.reference(None, entity_id)
            if old is not None and old.kind == INTENT:
                raise DssError(409, f"{entity_id} is an operational intent")
            if old is None:
                if ovn:
                    raise DssError(409, f"Old version {ovn} does not exist")
            else:
                if old.manager != caller:
                    raise DssError(403, f"Constraint owned by {old.manager}, but {caller} attempted to modify")
                if old.ovn != ovn:
                    raise DssError(409, f"Current version is {old.ovn} but client specified version {ovn}")
            ref = Reference(
                entity_id,
                CONSTRAINT,
                caller,
                old.version + 1 if old is not None else 1,
                _new_version(),
                "",
                uss_base_url,
                None,
                extent,
            )
            if self.runtime is not None:
                previous_mirror = old.mirror_id if old is not None else None
                ref = replace(ref, mirror_id=mirror_constraint(tx, self.runtime, ref, previous_mirror))
            db.put_reference(ref, new=old is None)
            notify = _union(extent, old.extent) if old is not None else extent
            subscribers = self._notify(db, notify, "notify_for_constraints")
            self._record(tx, caller, "constraint.put", entity_id, version=ref.version)
            return api.ChangeConstraintReferenceResponse(
                subscribers=subscribers, constraint_reference=self._constraint(db, ref, caller)
            )

    def delete_constraint(self, caller: str, entity_id: str, ovn: str) -> api.ChangeConstraintReferenceResponse:
        entity_id = _uuid(entity_id)
        if not ovn:
            raise _bad("Missing OVN for constraint to modify")
        with self.store.write() as tx:
            db = tx.dss
            old = db.reference(CONSTRAINT, entity_id)
            if old is None:
                raise DssError(404, f"Constraint {entity_id} not found")
            if old.manager != caller:
                raise DssError(403, f"Constraint owned by {old.manager}, but {caller} attempted to delete")
            if old.ovn != ovn:
                raise DssError(409, f"Current version is {old.ovn} but client specified version {ovn}")
            subscribers = self._notify(db, old.extent, "notify_for_constraints")
            out = self._constraint(db, old, caller)
            self._record(tx, caller, "constraint.deleted", entity_id, version=old.version)
            if self.runtime is not None and old.mirror_id is not None:
                withdraw_mirror_site(tx, self.runtime, old.manager, old.mirror_id)
            db.delete_reference(entity_id)
            return api.ChangeConstraintReferenceResponse(subscribers=subscribers, constraint_reference=out)

    # -------------------------------------------------------------------------------- subscriptions

    def put_subscription(
        self, caller: str, scopes: frozenset[str], sub_id: str, version: str, body: Any
    ) -> api.PutSubscriptionResponse:
        now = self.now()
        params = _body(body)
        sub_id = _uuid(sub_id)
        uss_base_url = _base_url(params.get("uss_base_url"), "uss_base_url", self.allow_http)
        try:
            extent = parse_volume(params.get("extents"), "extents")
        except ExtentError as exc:
            raise _extent_error(exc) from None
        for_intents = bool(params.get("notify_for_operational_intents") or False)
        for_constraints = bool(params.get("notify_for_constraints") or False)
        if not for_intents and not for_constraints:
            raise _bad("No notification triggers requested for Subscription")
        with self.store.write() as tx:
            db = tx.dss
            old = db.subscription(sub_id)
            start, end = extent.start, extent.end
            if start is None:
                start = now if old is None else old.extent.start
            elif now - start > MAX_CLOCK_SKEW:
                raise _bad("Subscription time_start must not be in the past")
            if end is None and old is not None:
                end = old.extent.end
            if end is None:
                assert start is not None
                end = start + MAX_SUBSCRIPTION
            assert start is not None
            if end < start:
                raise _bad("Subscription time_end must be after time_start")
            if end - start > MAX_SUBSCRIPTION:
                raise _bad("Subscription window exceeds 24 hours")
            extent = replace(extent, start=start, end=end)
            dependents: list[str] = []
            index = 0
            implicit = False
            if old is None:
                if version:
                    raise _bad(f"Subscription {sub_id} not found")
            else:
                if not version:
                    raise DssError(409, f"Subscription {sub_id} already exists")
                if version != old.version:
                    raise DssError(409, f"Subscription version {version} is not current")
                if old.manager != caller:
                    raise DssError(403, "Subscription is owned by different client")
                index = old.notification_index
                # a subscription its USS writes is its own from then on: no longer removed with its intents
                # (as the reference DSS, which the prober checks)
                dependents = db.dependents(sub_id)
                for dep_id in dependents:
                    dep = db.reference(INTENT, dep_id)
                    if dep is not None:
                        self._validate_dependent(extent, dep)
            sub = Subscription(
                sub_id, caller, _new_version(), index, uss_base_url, for_intents, for_constraints, implicit, extent
            )
            db.put_subscription(sub)
            self._record(tx, caller, "subscription.put", sub_id, version=sub.version)
            out = api.PutSubscriptionResponse(subscription=self._subscription(db, sub))
            # each list only when its notifications were asked for (the defaults would always add both)
            out.pop("operational_intent_references", None)
            out.pop("constraint_references", None)
            if for_intents:
                refs = db.search_references(INTENT, extent)
                out.operational_intent_references = [self._intent(db, r, caller) for r in refs]
            if for_constraints:
                refs = db.search_references(CONSTRAINT, extent)
                out.constraint_references = [self._constraint(db, r, caller) for r in refs]
            return out

    @staticmethod
    def _validate_dependent(extent: Extent, dep: Reference) -> None:
        d = dep.extent
        message = "Subscription does not cover dependent operations"
        if not extent.covers(d):
            raise _bad(f"{message}: 2D area of {dep.id}")
        lo, hi = extent.alt_lo, extent.alt_hi
        if (lo is not None and d.alt_lo is not None and d.alt_lo < lo) or (
            hi is not None and d.alt_hi is not None and d.alt_hi > hi
        ):
            raise _bad(f"{message}: altitude of {dep.id}")
        if extent.start and d.start and (extent.start - d.start) > timedelta(minutes=5):
            raise _bad(f"{message}: start time of {dep.id}")
        if extent.end and d.end and d.end > extent.end:
            raise _bad(f"{message}: end time of {dep.id}")

    def get_subscription(self, caller: str, sub_id: str) -> api.GetSubscriptionResponse:
        sub_id = _uuid(sub_id)
        with self.store.read() as tx:
            db = tx.dss
            sub = db.subscription(sub_id)
            if sub is None:
                raise DssError(404, f"Subscription {sub_id} not found")
            if sub.manager != caller:
                raise DssError(403, "Subscription is owned by different client")
            return api.GetSubscriptionResponse(subscription=self._subscription(db, sub))

    def query_subscriptions(self, caller: str, body: Any) -> api.QuerySubscriptionsResponse:
        extent = self._area_of_interest(body)
        now = self.now()
        with self.store.read() as tx:
            db = tx.dss
            subs = [
                s
                for s in db.search_subscriptions(extent)
                if s.manager == caller and (s.extent.end is None or s.extent.end >= now)
            ]
            return api.QuerySubscriptionsResponse(subscriptions=[self._subscription(db, s) for s in subs])

    def delete_subscription(self, caller: str, sub_id: str, version: str) -> api.DeleteSubscriptionResponse:
        sub_id = _uuid(sub_id)
        if not version:
            raise _bad("Missing version")
        with self.store.write() as tx:
            db = tx.dss
            sub = db.subscription(sub_id)
            if sub is None:
                raise DssError(404, f"Subscription {sub_id} not found")
            if sub.manager != caller:
                raise DssError(403, "Subscription is owned by different client")
            if sub.version != version:
                raise DssError(409, f"Subscription version {version} is not current")
            if db.dependents(sub_id):
                raise _bad("Subscriptions with dependent Operations may not be removed")
            out = self._subscription(db, sub)
            self._record(tx, caller, "subscription.deleted", sub_id)
            db.delete_subscription(sub_id)
            return api.DeleteSubscriptionResponse(subscription=out)

    # ------------------------------------------------------------------------ availability, reports

    def get_availability(self, uss_id: str) -> api.UssAvailabilityStatusResponse:
        if not uss_id:
            raise _bad("UssId not provided")
        with self.store.read() as tx:
            found = tx.dss.availability(uss_id)
        availability, version = found if found else ("Unknown", "")
        return api.UssAvailabilityStatusResponse(
            version=version, status=api.UssAvailabilityStatus(uss=uss_id, availability=availability)
        )

    def set_availability(self, caller: str, uss_id: str, body: Any) -> api.UssAvailabilityStatusResponse:
        params = _body(body)
        raw = params.get("availability")
        by_name = {a.lower(): a for a in AVAILABILITY}
        if not isinstance(raw, str) or raw.lower() not in by_name:
            raise _bad(f"Invalid availability state: {raw!r}")
        availability = by_name[raw.lower()]
        old_version = params.get("old_version") or ""
        with self.store.write() as tx:
            db = tx.dss
            old = db.availability(uss_id)
            if old is None and old_version:
                raise DssError(409, f"availability for USS {uss_id} already exists")
            if old is not None and old[1] != old_version:
                raise DssError(409, f"USS availability version {old_version} is not current")
            version = _new_version()
            db.put_availability(uss_id, availability, version)
            self._record(tx, caller, "availability.set", uss_id, availability=availability)
        return api.UssAvailabilityStatusResponse(
            version=version, status=api.UssAvailabilityStatus(uss=uss_id, availability=availability)
        )

    def make_report(self, caller: str, body: Any) -> api.ErrorReport:
        params = dict(_body(body))
        params["report_id"] = str(uuid.uuid4())
        with self.store.write() as tx:
            tx.dss.add_report(params["report_id"], caller, self.now(), orjson.dumps(params).decode())
            self._record(tx, caller, "report", params["report_id"])
        return api.ErrorReport(params)


def _union(a: Extent, b: Extent) -> Extent:
    def pick(f: Callable[[Sequence[Any]], Any], x: Any, y: Any) -> Any:
        return None if x is None or y is None else f([x, y])

    return Extent(
        merge(a.footprint, b.footprint),
        pick(min, a.alt_lo, b.alt_lo),
        pick(max, a.alt_hi, b.alt_hi),
        pick(min, a.start, b.start),
        pick(max, a.end, b.end),
    )
