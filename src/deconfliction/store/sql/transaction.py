"""One transaction: every repository over one cursor."""

from __future__ import annotations

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
    """All repositories over one cursor, inside one database transaction."""

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        self.woken: set[str] = set()
        """The wake-up channels to signal when this transaction commits (store/wakeup.py)."""
        self.head = Head(cur, dialect)
        """The ``store_head`` row, moved in memory by the ledger and the notifications; the store's
        ``write`` calls ``flush`` before the commit."""
        self.parties = SqlParties(cur, dialect)
        self.party_keys = SqlPartyKeys(cur, dialect)
        self.api_keys = SqlApiKeys(cur, dialect)
        self.units = SqlUnits(cur, dialect)
        self.client_certificates = SqlClientCertificates(cur, dialect)
        self.auth_failures = SqlAuthFailures(cur, dialect)
        self.incidents = SqlIncidents(cur, dialect)
        self.notifications = SqlNotifications(
            cur, dialect, self.woken.add, self.head
        )  # not self.wake: no cycle to collect
        self.contacts = SqlContacts(cur, dialect)
        self.hotline = SqlHotline(cur, dialect)
        self.requests = SqlRequests(cur, dialect)
        self.endpoints = SqlEndpoints(cur, dialect)
        self.deliveries = SqlDeliveries(cur, dialect)
        self.sites = SqlSites(cur, dialect)
        self.zones = SqlZones(cur, dialect)
        self.lines = SqlLines(cur, dialect)
        self.movements = SqlMovements(cur, dialect)
        self.operations = SqlOperations(cur, dialect)
        self.conflicts = SqlConflicts(cur, dialect)
        self.idempotency = SqlIdempotency(cur, dialect)
        self.events = SqlEvents(cur, dialect, self.head)
        self.deployment = SqlDeployment(cur, dialect)
        self.schema = SqlSchema(cur, dialect)
        self.gauges = SqlGauges(cur, dialect.q, to_us)
        self.dss = SqlDss(cur, dialect)

    def wake(self, channel: str) -> None:
        self.woken.add(channel)

    def flush(self) -> None:
        """Write what this transaction kept in memory (the head row): the store's ``write`` calls it once
        the work succeeded, before the commit."""
        self.head.flush()
