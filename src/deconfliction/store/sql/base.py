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
        if rows:
            self._cur.executemany(self._d.q(sql), rows)


def us_or_none(t: datetime | None) -> int | None:
    return None if t is None else to_us(t)
