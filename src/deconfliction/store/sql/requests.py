"""Requests (crossing a line, entering a zone) and their answers."""

from __future__ import annotations

import builtins
from typing import Any

import orjson

from deconfliction.domain.request import Request, RequestKind, RequestState
from deconfliction.domain.volume import TimeWindow
from deconfliction.store.sql.base import Repo, Row, from_us, to_us


class SqlRequests(Repo):
    @staticmethod
    def _row(r: Row) -> Request:
        b = orjson.loads(r["body"])
        window = None if b["window"] is None else TimeWindow(from_us(b["window"][0]), from_us(b["window"][1]))
        return Request(
            r["id"],
            RequestKind(b["kind"]),
            b["requester"],
            b["owner"],
            b["subject"],
            b["text"],
            window,
            from_us(r["created_at"]),
            RequestState(b["state"]),
            tuple(b["comments"]),
            None if b["answered_at"] is None else from_us(b["answered_at"]),
            b["answer"],
        )

    @staticmethod
    def _body(q: Request) -> str:
        return orjson.dumps(
            {
                "kind": q.kind.value,
                "requester": q.requester_id,
                "owner": q.owner_id,
                "subject": q.subject_id,
                "text": q.text,
                "window": None if q.window is None else [to_us(q.window.start), to_us(q.window.end)],
                "state": q.state.value,
                "comments": [dict(c) for c in q.comments],
                "answered_at": None if q.answered_at is None else to_us(q.answered_at),
                "answer": q.answer,
            }
        ).decode()

    def add(self, request: Request) -> None:
        q = request
        self._exec(
            "INSERT INTO requests (id, requester_id, owner_id, state, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (q.id, q.requester_id, q.owner_id, q.state.value, self._body(q), to_us(q.created_at)),
        )

    def save(self, request: Request) -> None:
        self._exec(
            "UPDATE requests SET state = ?, body = ? WHERE id = ?",
            (request.state.value, self._body(request), request.id),
        )

    def get(self, request_id: str) -> Request | None:
        r = self._exec("SELECT id, body, created_at FROM requests WHERE id = ?", (request_id,)).fetchone()
        return self._row(r) if r else None

    def list(
        self, *, party_id: str | None, state: RequestState | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Request]:
        where: list[str] = ["id > ?"]
        params: list[Any] = [after or ""]
        if party_id is not None:
            where.append("(requester_id = ? OR owner_id = ?)")
            params += [party_id, party_id]
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        rows = self._exec(
            f"SELECT id, body, created_at FROM requests WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [self._row(r) for r in rows]
