"""Notifications, the on-call contacts, webhook endpoints and their deliveries."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import orjson

from deconfliction.domain.delivery import Delivery, DeliveryState, Endpoint, EndpointKind
from deconfliction.domain.notification import Contact, Notification, NotificationState
from deconfliction.store.ports import chunks
from deconfliction.store.sql.base import Dialect, Head, Repo, Row, from_us, to_us
from deconfliction.store.wakeup import notifications_channel


class SqlNotifications(Repo):
    _COLS = (
        "id, seq, party_id, kind, subject_id, entry_seq, body, created_at, deadline, state, acknowledged_at, "
        "acknowledged_by, step, escalations, at_coordinator, starts_at, superseded_by, unit_id"
    )

    def __init__(self, cur: Any, dialect: Dialect, wake: Callable[[str], None], head: Head) -> None:
        super().__init__(cur, dialect)
        self._wake = wake
        self._head = head
        """The ``store_head`` row, shared with the ledger: the counter moves in memory (``Head``)."""

    @staticmethod
    def _row(r: Row) -> Notification:
        return Notification(
            r["id"],
            int(r["seq"]),
            r["party_id"],
            r["kind"],
            r["subject_id"],
            int(r["entry_seq"]),
            orjson.loads(r["body"]),
            from_us(r["created_at"]),
            None if r["deadline"] is None else from_us(r["deadline"]),
            NotificationState(r["state"]),
            None if r["acknowledged_at"] is None else from_us(r["acknowledged_at"]),
            r["acknowledged_by"],
            int(r["step"]),
            tuple(orjson.loads(r["escalations"])),
            bool(r["at_coordinator"]),
            None if r["starts_at"] is None else from_us(r["starts_at"]),
            r["superseded_by"],
            r["unit_id"],
        )

    def next_seq(self) -> int:
        seq = int(self._head.read()["last_notification"]) + 1
        self._head.move(last_notification=seq)
        return seq

    def last_seq(self) -> int:
        return int(self._head.read()["last_notification"])

    def add(self, n: Notification) -> None:
        self._exec(
            f"INSERT INTO notifications ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                n.id,
                n.seq,
                n.party_id,
                n.kind,
                n.subject_id,
                n.entry_seq,
                orjson.dumps(dict(n.body)).decode(),
                to_us(n.created_at),
                None if n.deadline is None else to_us(n.deadline),
                n.state.value,
                None if n.acknowledged_at is None else to_us(n.acknowledged_at),
                n.acknowledged_by,
                n.step,
                orjson.dumps([dict(e) for e in n.escalations]).decode(),
                int(n.at_coordinator),
                None if n.starts_at is None else to_us(n.starts_at),
                n.superseded_by,
                n.unit_id,
            ),
        )
        self._wake(notifications_channel(n.party_id))  # its stream reads it once this commits

    def save(self, n: Notification) -> None:
        self._exec(
            "UPDATE notifications SET deadline = ?, state = ?, acknowledged_at = ?, acknowledged_by = ?, step = ?, "
            "escalations = ?, at_coordinator = ?, superseded_by = ? WHERE id = ?",
            (
                None if n.deadline is None else to_us(n.deadline),
                n.state.value,
                None if n.acknowledged_at is None else to_us(n.acknowledged_at),
                n.acknowledged_by,
                n.step,
                orjson.dumps([dict(e) for e in n.escalations]).decode(),
                int(n.at_coordinator),
                n.superseded_by,
                n.id,
            ),
        )

    def get(self, notification_id: str) -> Notification | None:
        r = self._exec(f"SELECT {self._COLS} FROM notifications WHERE id = ?", (notification_id,)).fetchone()
        return self._row(r) if r else None

    def for_party(
        self, party_id: str, *, after_seq: int = 0, limit: int = 100, unit_id: str | None = None
    ) -> builtins.list[Notification]:
        unit = "" if unit_id is None else " AND (unit_id = ? OR unit_id IS NULL)"
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE party_id = ? AND seq > ?{unit} ORDER BY seq LIMIT ?",
            (party_id, after_seq, *(() if unit_id is None else (unit_id,)), limit),
        ).fetchall()
        return [self._row(r) for r in rows]

    def list(
        self,
        *,
        party_id: str | None = None,
        pending: bool | None = None,
        overdue_at: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
        state: NotificationState | None = None,
        unit_id: str | None = None,
    ) -> builtins.list[Notification]:
        where: list[str] = ["id > ?"]
        params: list[Any] = [after or ""]
        if party_id is not None:
            where.append("party_id = ?")
            params.append(party_id)
        if unit_id is not None:
            where.append("(unit_id = ? OR unit_id IS NULL)")
            params.append(unit_id)
        if pending is not None:
            where.append("state = ?" if pending else "state <> ?")
            params.append(NotificationState.PENDING.value)
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        if overdue_at is not None:  # still chased, and a deadline missed: the current one or an earlier one
            where += ["state = ?", "deadline IS NOT NULL AND (deadline <= ? OR step > 0)"]
            params += [NotificationState.PENDING.value, to_us(overdue_at)]
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [self._row(r) for r in rows]

    def about(self, party_id: str, kind: str, subject_id: str) -> builtins.list[Notification]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE party_id = ? AND kind = ? AND subject_id = ? ORDER BY seq",
            (party_id, kind, subject_id),
        ).fetchall()
        return [self._row(r) for r in rows]

    def for_subject(self, party_id: str, subject_id: str) -> builtins.list[Notification]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE subject_id = ? AND party_id = ? ORDER BY seq",
            (subject_id, party_id),
        ).fetchall()
        return [self._row(r) for r in rows]

    def escalations_due(self, now: datetime, limit: int = 100) -> builtins.list[Notification]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE state = ? AND deadline IS NOT NULL AND deadline <= ? "
            "AND at_coordinator = 0 ORDER BY deadline, seq LIMIT ?",
            (NotificationState.PENDING.value, to_us(now), limit),
        ).fetchall()
        return [self._row(r) for r in rows]


class SqlEndpoints(Repo):
    """Delivery endpoints; a party's active ones read once per transaction (until this transaction changes
    an endpoint)."""

    _COLS = "id, party_id, kind, address, secret, created_at, active"

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        super().__init__(cur, dialect)
        self._active: dict[str, builtins.list[Endpoint]] = {}

    @staticmethod
    def _row(r: Row) -> Endpoint:
        return Endpoint(
            r["id"],
            r["party_id"],
            EndpointKind(r["kind"]),
            r["address"],
            r["secret"],
            from_us(r["created_at"]),
            bool(r["active"]),
        )

    def add(self, endpoint: Endpoint) -> None:
        e = endpoint
        self._exec(
            f"INSERT INTO endpoints ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.id, e.party_id, e.kind.value, e.address, e.secret, to_us(e.created_at), int(e.active)),
        )
        self._active.clear()

    def get(self, endpoint_id: str) -> Endpoint | None:
        r = self._exec(f"SELECT {self._COLS} FROM endpoints WHERE id = ?", (endpoint_id,)).fetchone()
        return self._row(r) if r else None

    def for_party(self, party_id: str, *, active_only: bool = True) -> builtins.list[Endpoint]:
        if active_only:
            if party_id not in self._active:
                self.prefetch((party_id,))
            return list(self._active[party_id])
        rows = self._exec(f"SELECT {self._COLS} FROM endpoints WHERE party_id = ? ORDER BY id", (party_id,)).fetchall()
        return [self._row(r) for r in rows]

    def prefetch(self, party_ids: Collection[str]) -> None:
        missing = sorted({p for p in party_ids if p not in self._active})
        for part in chunks(missing, 500):
            rows = self._exec(
                f"SELECT {self._COLS} FROM endpoints WHERE party_id IN ({', '.join('?' for _ in part)}) "
                "AND active = 1 ORDER BY id",
                part,
            ).fetchall()
            for p in part:
                self._active[p] = []
            for r in rows:
                self._active[r["party_id"]].append(self._row(r))

    def deactivate(self, endpoint_id: str) -> None:
        self._exec("UPDATE endpoints SET active = 0 WHERE id = ?", (endpoint_id,))
        self._active.clear()


class SqlDeliveries(Repo):
    _COLS = (
        "id, endpoint_id, party_id, notification_id, body, created_at, next_attempt_at, attempts, state, "
        "last_error, delivered_at"
    )

    @staticmethod
    def _row(r: Row) -> Delivery:
        return Delivery(
            r["id"],
            r["endpoint_id"],
            r["party_id"],
            r["notification_id"],
            bytes(r["body"]),
            from_us(r["created_at"]),
            from_us(r["next_attempt_at"]),
            int(r["attempts"]),
            DeliveryState(r["state"]),
            r["last_error"],
            None if r["delivered_at"] is None else from_us(r["delivered_at"]),
        )

    def add(self, delivery: Delivery) -> None:
        d = delivery
        self._exec(
            f"INSERT INTO deliveries ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                d.id,
                d.endpoint_id,
                d.party_id,
                d.notification_id,
                d.body,
                to_us(d.created_at),
                to_us(d.next_attempt_at),
                d.attempts,
                d.state.value,
                d.last_error,
                None if d.delivered_at is None else to_us(d.delivered_at),
            ),
        )

    def save(self, delivery: Delivery) -> None:
        d = delivery
        self._exec(
            "UPDATE deliveries SET created_at = ?, next_attempt_at = ?, attempts = ?, state = ?, last_error = ?, "
            "delivered_at = ? WHERE id = ?",
            (
                to_us(d.created_at),
                to_us(d.next_attempt_at),
                d.attempts,
                d.state.value,
                d.last_error,
                None if d.delivered_at is None else to_us(d.delivered_at),
                d.id,
            ),
        )

    def get(self, delivery_id: str) -> Delivery | None:
        r = self._exec(f"SELECT {self._COLS} FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        return self._row(r) if r else None

    def due(self, now: datetime, limit: int = 50) -> builtins.list[Delivery]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM deliveries WHERE state = ? AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (DeliveryState.PENDING.value, to_us(now), limit),
        ).fetchall()
        return [self._row(r) for r in rows]

    def list(
        self, *, party_id: str, state: DeliveryState | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Delivery]:
        where: list[str] = ["party_id = ?", "id > ?"]
        params: list[Any] = [party_id, after or ""]
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        rows = self._exec(
            f"SELECT {self._COLS} FROM deliveries WHERE {' AND '.join(where)} ORDER BY id LIMIT ?", (*params, limit)
        ).fetchall()
        return [self._row(r) for r in rows]


class SqlContacts(Repo):
    """The on-call ladders; each party's read once per transaction (a write telling both sides of several
    conflicts asks for the same two ladders again and again)."""

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        super().__init__(cur, dialect)
        self._ladders: dict[str, tuple[Contact, ...]] = {}

    def get(self, party_id: str) -> tuple[Contact, ...]:
        if party_id not in self._ladders:
            self.prefetch((party_id,))
        return self._ladders[party_id]

    def prefetch(self, party_ids: Collection[str]) -> None:
        missing = sorted({p for p in party_ids if p not in self._ladders})
        for part in chunks(missing, 500):
            rows = self._exec(
                f"SELECT party_id, ladder FROM contacts WHERE party_id IN ({', '.join('?' for _ in part)})", part
            ).fetchall()
            found = {r["party_id"]: r["ladder"] for r in rows}
            for p in part:
                raw = found.get(p)
                self._ladders[p] = (
                    () if raw is None else tuple(Contact(c["name"], c["channels"]) for c in orjson.loads(raw))
                )

    def put(self, party_id: str, ladder: Sequence[Contact], at: datetime) -> None:
        self._exec(
            "INSERT INTO contacts (party_id, ladder, updated_at) VALUES (?, ?, ?) ON CONFLICT (party_id) "
            "DO UPDATE SET ladder = excluded.ladder, updated_at = excluded.updated_at",
            (party_id, orjson.dumps([c.record() for c in ladder]).decode(), to_us(at)),
        )
        self._ladders[party_id] = tuple(ladder)
