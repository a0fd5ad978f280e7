"""The ledger: events appended to the hash chain, and the sealing of events older than the chain."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from deconfliction.domain.exercise import DeploymentMode
from deconfliction.domain.ledger import GENESIS, Entry, seal
from deconfliction.store.ports import Event
from deconfliction.store.sql.base import Dialect, Head, Repo, from_us, to_us


class SqlEvents(Repo):
    _COLS = "seq, at, actor_id, type, subject_id, payload, audience, content_hash, hash, signed, exercise"

    def __init__(self, cur: Any, dialect: Dialect, head: Head) -> None:
        super().__init__(cur, dialect)
        self._row = head
        """The ``store_head`` row, read once per transaction; appends move it in memory and the store's
        ``write`` flushes it before the commit (``Head``)."""
        self._exercise: bool | None = None
        """Whether this database is an exercise's (read with the head, once per transaction): every entry
        appended to it is marked. The first entry of an unmarked database marks it live."""

    def append(
        self,
        *,
        at: datetime,
        actor_id: str | None,
        type: str,
        subject_id: str,
        payload: Mapping[str, Any],
        audience: Sequence[str] = (),
        signed: Mapping[str, Any] | None = None,
    ) -> int:
        # Inside the serialised write (SQLite: one writer at a time, across processes; PostgreSQL: the
        # head row locked FOR UPDATE when the write began), so the head read here stays the head until
        # this transaction commits: entries are numbered and linked in commit order.
        seq, previous = self.head()
        if self._exercise is None:
            self._exercise = self._deployment_for_append()
        seq += 1
        payload_json = orjson.dumps(payload)
        at = from_us(to_us(at))  # the stored precision is what the chain seals
        signed_json = None if signed is None else orjson.dumps(signed)
        entry = Entry(
            seq,
            at,
            actor_id,
            type,
            subject_id,
            tuple(audience),
            orjson.loads(payload_json),
            None if signed_json is None else orjson.loads(signed_json),
            self._exercise,
        )
        sealed = seal(entry, previous)
        self._exec(
            f"INSERT INTO events ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                to_us(at),
                actor_id,
                type,
                subject_id,
                payload_json.decode(),
                orjson.dumps(list(audience)).decode(),
                sealed.content_hash,
                sealed.hash,
                None if signed_json is None else signed_json.decode(),
                1 if self._exercise else 0,
            ),
        )
        self._row.move(last_seq=seq, last_hash=sealed.hash)
        return seq

    def after(self, seq: int, limit: int = 1000) -> builtins.list[Event]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [
            Event(
                r["seq"],
                from_us(r["at"]),
                r["actor_id"],
                r["type"],
                r["subject_id"],
                orjson.loads(r["payload"]),
                tuple(orjson.loads(r["audience"])),
                r["content_hash"],
                r["hash"],
                None if r["signed"] is None else orjson.loads(r["signed"]),
                bool(r["exercise"]),
            )
            for r in rows
        ]

    def head(self) -> tuple[int, str]:
        r = self._row.read()
        if self._exercise is None and r["deployment"] is not None:
            self._exercise = r["deployment"] == DeploymentMode.EXERCISE
        return int(r["last_seq"]), str(r["last_hash"])

    def changes_since(self, seq: int) -> set[tuple[str, str]]:
        # no DISTINCT: PostgreSQL's generic plan for a prepared ``seq > $1`` expects a third of the table
        # and sizes the hash of a DISTINCT for it (0.3 ms at 200,000 entries, growing with the ledger),
        # where the entries after a snapshot are a handful; the set removes the repeats
        rows = self._exec("SELECT type, subject_id FROM events WHERE seq > ?", (seq,)).fetchall()
        return {(str(r["type"]), str(r["subject_id"])) for r in rows}

    def _deployment_for_append(self) -> bool:
        """Inside the write: is this an exercise database? An unmarked one becomes live here, with its
        first entry, so a database never holds entries of both kinds."""
        # read afresh, not from the head row read earlier: the exercise's setting may have marked the
        # database in this very transaction (only ever before its first entry)
        mode = self._exec("SELECT deployment FROM store_head WHERE id = 1").fetchone()["deployment"]
        if mode is None:
            self._exec("UPDATE store_head SET deployment = ? WHERE id = 1", (DeploymentMode.LIVE.value,))
            mode = DeploymentMode.LIVE.value
        self._row.read()["deployment"] = mode
        return bool(mode == DeploymentMode.EXERCISE)

    def hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return GENESIS
        row = self._exec("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else str(row["hash"])
