"""Stored responses of writes sent with an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime

import orjson

from deconfliction.store.ports import StoredResponse
from deconfliction.store.sql.base import Repo, to_us


class SqlIdempotency(Repo):
    def get(self, party_id: str, key: str) -> StoredResponse | None:
        r = self._exec(
            "SELECT fingerprint, status, headers, body FROM idempotency WHERE party_id = ? AND key = ?",
            (party_id, key),
        ).fetchone()
        if r is None:
            return None
        return StoredResponse(r["fingerprint"], r["status"], orjson.loads(r["headers"]), bytes(r["body"]))

    def put(self, party_id: str, key: str, response: StoredResponse, at: datetime) -> None:
        self._exec(
            "INSERT INTO idempotency (party_id, key, fingerprint, status, headers, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                party_id,
                key,
                response.fingerprint,
                response.status,
                orjson.dumps(dict(response.headers)).decode(),
                response.body,
                to_us(at),
            ),
        )
