"""One transaction: every repository over one cursor."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from deconfliction.store.api_keys import SqlApiKeys
from deconfliction.store.dss import SqlDss
from deconfliction.store.gauges import SqlGauges
from deconfliction.store.sql.areas import SqlLines, SqlSites, SqlZones
from deconfliction.store.sql.base import Dialect, Head, to_us
from deconfliction.store.sql.conflicts import SqlConflicts
from deconfliction.store.sql.exercise import SqlDeployment
from deconfliction.store.sql.hotline import SqlHotline
from deconfliction.store.sql.idempotency import SqlIdempotency
from deconfliction.store.sql.incidents import SqlIncidents
from deconfliction.store.sql.ledger import SqlEvents
from deconfliction.store.sql.migrate import SqlSchema
from deconfliction.store.sql.notifications import SqlContacts, SqlDeliveries, SqlEndpoints, SqlNotifications
from deconfliction.store.sql.operations import SqlMovements, SqlOperations
from deconfliction.store.sql.parties import SqlAuthFailures, SqlClientCertificates, SqlParties, SqlPartyKeys
from deconfliction.store.sql.requests import SqlRequests
from deconfliction.store.sql.units import SqlUnits


class SqlTransaction:
    """All repositories over one cursor, inside one database transaction. Each repository is made on its
    first use (a request's transactions use a few of the two dozen: a lockout read, one table)."""

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        self._cur, self._d = cur, dialect
        self.woken: set[str] = set()
        """The wake-up channels to signal when this transaction commits (store/wakeup.py)."""
        self.head = Head(cur, dialect)
        """The ``store_head`` row, moved in memory by the ledger and the notifications; the store's
        ``write`` calls ``flush`` before the commit."""

    @cached_property
    def parties(self) -> SqlParties:
        return SqlParties(self._cur, self._d)

    @cached_property
    def party_keys(self) -> SqlPartyKeys:
        return SqlPartyKeys(self._cur, self._d)

    @cached_property
    def api_keys(self) -> SqlApiKeys:
        return SqlApiKeys(self._cur, self._d)

    @cached_property
    def units(self) -> SqlUnits:
        return SqlUnits(self._cur, self._d)

    @cached_property
    def client_certificates(self) -> SqlClientCertificates:
        return SqlClientCertificates(self._cur, self._d)

    @cached_property
    def auth_failures(self) -> SqlAuthFailures:
        return SqlAuthFailures(self._cur, self._d)

    @cached_property
    def incidents(self) -> SqlIncidents:
        return SqlIncidents(self._cur, self._d)

    @cached_property
    def notifications(self) -> SqlNotifications:
        return SqlNotifications(self._cur, self._d, self.woken.add, self.head)  # not self.wake: no cycle

    @cached_property
    def contacts(self) -> SqlContacts:
        return SqlContacts(self._cur, self._d)

    @cached_property
    def hotline(self) -> SqlHotline:
        return SqlHotline(self._cur, self._d)

    @cached_property
    def requests(self) -> SqlRequests:
        return SqlRequests(self._cur, self._d)

    @cached_property
    def endpoints(self) -> SqlEndpoints:
        return SqlEndpoints(self._cur, self._d)

    @cached_property
    def deliveries(self) -> SqlDeliveries:
        return SqlDeliveries(self._cur, self._d)

    @cached_property
    def sites(self) -> SqlSites:
        return SqlSites(self._cur, self._d)

    @cached_property
    def zones(self) -> SqlZones:
        return SqlZones(self._cur, self._d)

    @cached_property
    def lines(self) -> SqlLines:
        return SqlLines(self._cur, self._d)

    @cached_property
    def movements(self) -> SqlMovements:
        return SqlMovements(self._cur, self._d)

    @cached_property
    def operations(self) -> SqlOperations:
        return SqlOperations(self._cur, self._d)

    @cached_property
    def conflicts(self) -> SqlConflicts:
        return SqlConflicts(self._cur, self._d)

    @cached_property
    def idempotency(self) -> SqlIdempotency:
        return SqlIdempotency(self._cur, self._d)

    @cached_property
    def events(self) -> SqlEvents:
        return SqlEvents(self._cur, self._d, self.head)

    @cached_property
    def deployment(self) -> SqlDeployment:
        return SqlDeployment(self._cur, self._d)

    @cached_property
    def schema(self) -> SqlSchema:
        return SqlSchema(self._cur, self._d)

    @cached_property
    def gauges(self) -> SqlGauges:
        return SqlGauges(self._cur, self._d.q, to_us)

    @cached_property
    def dss(self) -> SqlDss:
        return SqlDss(self._cur, self._d)

    def wake(self, channel: str) -> None:
        self.woken.add(channel)

    def flush(self) -> None:
        """Write what this transaction kept in memory (the head row): the store's ``write`` calls it once
        the work succeeded, before the commit."""
        self.head.flush()
