"""One transaction: every repository over one cursor."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, Generic, TypeVar

from deconfliction.store.api_keys import SqlApiKeys
from deconfliction.store.dss import SqlDss
from deconfliction.store.gauges import SqlGauges
from deconfliction.store.sql.areas import SqlAreaIndex, SqlLines, SqlSites, SqlZones
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

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository of the transaction, made over its cursor on first use and then kept in the
    transaction's own attributes (later reads are plain attribute reads)."""

    def __init__(self, make: Callable[[Any, Dialect], R]) -> None:
        self._make = make

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, tx: Any, owner: type | None = None) -> R:
        repo = self._make(tx._cur, tx._d)
        tx.__dict__[self._name] = repo
        return repo


class SqlTransaction:
    """All repositories over one cursor, inside one database transaction. Each repository is made on its
    first use (a request's transactions use a few of the two dozen: a lockout read, one table)."""

    parties = _Repository(SqlParties)
    party_keys = _Repository(SqlPartyKeys)
    api_keys = _Repository(SqlApiKeys)
    units = _Repository(SqlUnits)
    client_certificates = _Repository(SqlClientCertificates)
    auth_failures = _Repository(SqlAuthFailures)
    incidents = _Repository(SqlIncidents)
    contacts = _Repository(SqlContacts)
    hotline = _Repository(SqlHotline)
    requests = _Repository(SqlRequests)
    endpoints = _Repository(SqlEndpoints)
    deliveries = _Repository(SqlDeliveries)
    sites = _Repository(SqlSites)
    zones = _Repository(SqlZones)
    lines = _Repository(SqlLines)
    area_index = _Repository(SqlAreaIndex)
    movements = _Repository(SqlMovements)
    operations = _Repository(SqlOperations)
    conflicts = _Repository(SqlConflicts)
    idempotency = _Repository(SqlIdempotency)
    deployment = _Repository(SqlDeployment)
    schema = _Repository(SqlSchema)
    dss = _Repository(SqlDss)

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        self._cur, self._d = cur, dialect
        self.woken: set[str] = set()
        """The wake-up channels to signal when this transaction commits (store/wakeup.py)."""
        self.head = Head(cur, dialect)
        """The ``store_head`` row, moved in memory by the ledger and the notifications; the store's
        ``write`` calls ``flush`` before the commit."""

    @cached_property
    def notifications(self) -> SqlNotifications:
        return SqlNotifications(self._cur, self._d, self.woken.add, self.head)  # not self.wake: no cycle

    @cached_property
    def events(self) -> SqlEvents:
        return SqlEvents(self._cur, self._d, self.head)

    @cached_property
    def gauges(self) -> SqlGauges:
        return SqlGauges(self._cur, self._d.q, to_us)

    def wake(self, channel: str) -> None:
        self.woken.add(channel)

    def flush(self) -> None:
        """Write what this transaction kept in memory (the head row): the store's ``write`` calls it once
        the work succeeded, before the commit."""
        self.head.flush()
