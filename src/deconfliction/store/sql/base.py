"""What every repository shares: the backend's dialect, times as integer microseconds, the cursor wrapper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Row: TypeAlias = Mapping[str, Any]
"""A fetched row, read by column name: both backends' connections make rows that are looked up by name
(``sqlite3.Row`` on SQLite, a dict on PostgreSQL), never by position, so a statement's column order is
free to change and a column added to a table changes no reader."""


def to_us(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True)
class Dialect:
    name: str
    placeholder: str
    blob: str
    without_rowid: str
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def q(self, sql: str) -> str:
        """The statement with this backend's placeholders (statements are written with ``?``)."""
        if self.placeholder == "?":
            return sql
        out = self._cache.get(sql)
        if out is None:
            out = sql.replace("?", self.placeholder)
            self._cache[sql] = out
        return out


SQLITE = Dialect("sqlite", "?", "BLOB", " WITHOUT ROWID")
POSTGRES = Dialect("postgresql", "%s", "BYTEA", "")


class Repo:
    def __init__(self, cur: Any, dialect: Dialect) -> None:
        self._cur = cur
        self._d = dialect

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._cur.execute(self._d.q(sql), params)
        return self._cur

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if len(rows) == 1:  # psycopg's executemany enters and leaves a pipeline: dearer for one row
            self._cur.execute(self._d.q(sql), rows[0])
        elif rows:
            self._cur.executemany(self._d.q(sql), rows)


class Head(Repo):
    """The ``store_head`` row as one write transaction moves it: read once, on first use; the ledger's
    head (``events.append``) and the notifications' counter (``notifications.next_seq``) move here, in
    memory; ``flush`` writes what moved, with one statement, before the transaction commits (the store's
    ``write`` calls it). Safe because a write transaction is serialised (SQLite: one writer; PostgreSQL:
    the row locked FOR UPDATE when it began): nothing else moves the row until this one commits."""

    _COLUMNS = ("last_seq", "last_hash", "deployment", "last_notification")
    _SELECT = f"SELECT {', '.join(_COLUMNS)} FROM store_head WHERE id = 1"

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        super().__init__(cur, dialect)
        self.row: dict[str, Any] | None = None
        self._moved = False

    def read(self) -> dict[str, Any]:
        return self.row if self.row is not None else self._take(self._SELECT)

    def lock(self) -> None:
        """Lock the row (PostgreSQL: the first statement of a write, which serialises writes across
        processes) and read it with the same statement."""
        self._take(self._SELECT + " FOR UPDATE")

    def _take(self, sql: str) -> dict[str, Any]:
        r = self._exec(sql).fetchone()
        self.row = {k: r[k] for k in self._COLUMNS}
        return self.row

    def move(self, **values: Any) -> None:
        self.read().update(values)
        self._moved = True

    def flush(self) -> None:
        if self._moved and self.row is not None:
            self._exec(
                "UPDATE store_head SET last_seq = ?, last_hash = ?, last_notification = ? WHERE id = 1",
                (self.row["last_seq"], self.row["last_hash"], self.row["last_notification"]),
            )
            self._moved = False


def us_or_none(t: datetime | None) -> int | None:
    return None if t is None else to_us(t)
