"""Hotline threads, messages and language preferences."""

from __future__ import annotations

import builtins

import orjson

from deconfliction.domain.hotline import Message, MessageContent, Thread
from deconfliction.store.sql.base import Repo, Row, from_us, to_us


class SqlHotline(Repo):
    @staticmethod
    def _thread(r: Row) -> Thread:
        return Thread(
            r["id"], r["subject"], tuple(orjson.loads(r["participants"])), r["created_by"], from_us(r["created_at"])
        )

    def add_thread(self, thread: Thread) -> None:
        t = thread
        self._exec(
            "INSERT INTO threads (id, subject, participants, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
            (t.id, t.subject, orjson.dumps(list(t.participants)).decode(), t.created_by, to_us(t.created_at)),
        )
        self._many(
            "INSERT INTO thread_members (thread_id, party_id) VALUES (?, ?)", [(t.id, p) for p in t.participants]
        )

    def thread(self, thread_id: str) -> Thread | None:
        r = self._exec(
            "SELECT id, subject, participants, created_by, created_at FROM threads WHERE id = ?", (thread_id,)
        ).fetchone()
        return self._thread(r) if r else None

    def threads_of(self, party_id: str | None, *, after: str | None = None, limit: int = 100) -> builtins.list[Thread]:
        cols = "t.id, t.subject, t.participants, t.created_by, t.created_at"
        if party_id is None:
            rows = self._exec(
                f"SELECT {cols} FROM threads t WHERE t.id > ? ORDER BY t.id LIMIT ?", (after or "", limit)
            ).fetchall()
        else:
            rows = self._exec(
                f"SELECT {cols} FROM threads t JOIN thread_members m ON m.thread_id = t.id "
                "WHERE m.party_id = ? AND t.id > ? ORDER BY t.id LIMIT ?",
                (party_id, after or "", limit),
            ).fetchall()
        return [self._thread(r) for r in rows]

    def add_message(self, message: Message) -> None:
        m = message
        self._exec(
            "INSERT INTO messages (id, thread_id, sender, content, created_at) VALUES (?, ?, ?, ?, ?)",
            (m.id, m.thread_id, m.sender, orjson.dumps(m.content.record()).decode(), to_us(m.created_at)),
        )

    def messages(self, thread_id: str) -> builtins.list[Message]:
        rows = self._exec(
            "SELECT id, thread_id, sender, content, created_at FROM messages WHERE thread_id = ? ORDER BY id",
            (thread_id,),
        ).fetchall()
        return [
            Message(
                r["id"],
                r["thread_id"],
                r["sender"],
                MessageContent.from_record(orjson.loads(r["content"])),
                from_us(r["created_at"]),
            )
            for r in rows
        ]

    def language(self, party_id: str) -> str:
        r = self._exec("SELECT language FROM preferences WHERE party_id = ?", (party_id,)).fetchone()
        return str(r["language"]) if r else "en"

    def set_language(self, party_id: str, language: str) -> None:
        self._exec(
            "INSERT INTO preferences (party_id, language) VALUES (?, ?) "
            "ON CONFLICT (party_id) DO UPDATE SET language = excluded.language",
            (party_id, language),
        )
