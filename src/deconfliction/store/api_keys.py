"""The SQL repository of parties' API keys (table ``api_keys``, migration 0022), on both backends."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from deconfliction.store.ports import ApiKey
from deconfliction.store.sql.base import Repo, from_us, to_us

_COLS = "id, party_id, label, created_at, expires_at, revoked_at"


def _row(r: Any) -> ApiKey:
    """A row read by column name."""
    return ApiKey(
        r["id"],
        r["party_id"],
        r["label"],
        from_us(r["created_at"]),
        None if r["expires_at"] is None else from_us(r["expires_at"]),
        None if r["revoked_at"] is None else from_us(r["revoked_at"]),
    )


class SqlApiKeys(Repo):
    def add(self, key: ApiKey, key_hash: str) -> None:
        self._exec(
            f"INSERT INTO api_keys ({_COLS}, key_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key.id,
                key.party_id,
                key.label,
                to_us(key.created_at),
                None if key.expires_at is None else to_us(key.expires_at),
                None if key.revoked_at is None else to_us(key.revoked_at),
                key_hash,
            ),
        )

    def get(self, key_id: str) -> ApiKey | None:
        r = self._exec(f"SELECT {_COLS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return _row(r) if r else None

    def by_hash(self, key_hash: str) -> ApiKey | None:
        r = self._exec(f"SELECT {_COLS} FROM api_keys WHERE key_hash = ?", (key_hash,)).fetchone()
        return _row(r) if r else None

    def for_party(self, party_id: str) -> builtins.list[ApiKey]:
        rows = self._exec(f"SELECT {_COLS} FROM api_keys WHERE party_id = ? ORDER BY created_at, id", (party_id,))
        return [_row(r) for r in rows.fetchall()]

    def revoke(self, key_id: str, at: datetime) -> None:
        self._exec("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (to_us(at), key_id))
