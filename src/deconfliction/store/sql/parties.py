"""Parties, their signing keys and client certificates, and the failed-authentication window."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from datetime import datetime

from deconfliction.domain.party import Party, Role
from deconfliction.domain.signing import b64url, from_b64url
from deconfliction.store.ports import ClientCertificate, PartyKey, chunks
from deconfliction.store.sql.base import Repo, Row, from_us, to_us


class SqlParties(Repo):
    _COLS = "id, name, role, created_at"

    @staticmethod
    def _row(r: Row) -> Party:
        return Party(r["id"], r["name"], Role(r["role"]), from_us(r["created_at"]))

    def add(self, party: Party, key_hash: str) -> None:
        self._exec(
            "INSERT INTO parties (id, name, role, key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (party.id, party.name, party.role.value, key_hash, to_us(party.created_at)),
        )

    def _one(self, where: str, value: str) -> Party | None:
        r = self._exec(f"SELECT {self._COLS} FROM parties WHERE {where} = ?", (value,)).fetchone()
        return self._row(r) if r else None

    def get(self, party_id: str) -> Party | None:
        return self._one("id", party_id)

    def get_many(self, party_ids: Collection[str]) -> dict[str, Party]:
        out: dict[str, Party] = {}
        for part in chunks(sorted(party_ids), 500):
            rows = self._exec(
                f"SELECT {self._COLS} FROM parties WHERE id IN ({', '.join('?' for _ in part)})", part
            ).fetchall()
            out |= {r["id"]: self._row(r) for r in rows}
        return out

    def by_name(self, name: str) -> Party | None:
        return self._one("name", name)

    def by_key_hash(self, key_hash: str) -> Party | None:
        return self._one("key_hash", key_hash)

    def list(self, *, after: str | None = None, limit: int = 100) -> builtins.list[Party]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM parties WHERE id > ? ORDER BY id LIMIT ?", (after or "", limit)
        ).fetchall()
        return [self._row(r) for r in rows]


class SqlPartyKeys(Repo):
    _COLS = "key_id, party_id, public_key, created_at, revoked_at"

    @staticmethod
    def _row(r: Row) -> PartyKey:
        return PartyKey(
            r["key_id"],
            r["party_id"],
            from_b64url(r["public_key"], "public_key", 32),
            from_us(r["created_at"]),
            None if r["revoked_at"] is None else from_us(r["revoked_at"]),
        )

    def add(self, key: PartyKey) -> None:
        self._exec(
            f"INSERT INTO party_keys ({self._COLS}) VALUES (?, ?, ?, ?, ?)",
            (
                key.key_id,
                key.party_id,
                b64url(key.public_key),
                to_us(key.created_at),
                None if key.revoked_at is None else to_us(key.revoked_at),
            ),
        )

    def get(self, key_id: str) -> PartyKey | None:
        r = self._exec(f"SELECT {self._COLS} FROM party_keys WHERE key_id = ?", (key_id,)).fetchone()
        return self._row(r) if r else None

    def for_party(self, party_id: str) -> builtins.list[PartyKey]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM party_keys WHERE party_id = ? ORDER BY created_at, key_id", (party_id,)
        ).fetchall()
        return [self._row(r) for r in rows]

    def revoke(self, key_id: str, at: datetime) -> None:
        self._exec("UPDATE party_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL", (to_us(at), key_id))

    def use_signature(self, digest: str, party_id: str, expires_at: datetime, now: datetime) -> bool:
        self._exec("DELETE FROM used_signatures WHERE expires_at < ?", (to_us(now),))
        if self._exec("SELECT 1 FROM used_signatures WHERE digest = ?", (digest,)).fetchone():
            return False
        self._exec(
            "INSERT INTO used_signatures (digest, party_id, expires_at) VALUES (?, ?, ?)",
            (digest, party_id, to_us(expires_at)),
        )
        return True


class SqlClientCertificates(Repo):
    _COLS = "fingerprint, party_id, label, created_at, revoked_at"

    @staticmethod
    def _row(r: Row) -> ClientCertificate:
        return ClientCertificate(
            r["fingerprint"],
            r["party_id"],
            r["label"],
            from_us(r["created_at"]),
            None if r["revoked_at"] is None else from_us(r["revoked_at"]),
        )

    def add(self, cert: ClientCertificate) -> None:
        revoked = None if cert.revoked_at is None else to_us(cert.revoked_at)
        self._exec(
            f"INSERT INTO client_certificates ({self._COLS}) VALUES (?, ?, ?, ?, ?)",
            (cert.fingerprint, cert.party_id, cert.label, to_us(cert.created_at), revoked),
        )

    def get(self, fingerprint: str) -> ClientCertificate | None:
        r = self._exec(f"SELECT {self._COLS} FROM client_certificates WHERE fingerprint = ?", (fingerprint,)).fetchone()
        return self._row(r) if r else None

    def for_party(self, party_id: str) -> builtins.list[ClientCertificate]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM client_certificates WHERE party_id = ? ORDER BY created_at, fingerprint",
            (party_id,),
        ).fetchall()
        return [self._row(r) for r in rows]

    def revoke(self, fingerprint: str, at: datetime) -> None:
        self._exec(
            "UPDATE client_certificates SET revoked_at = ? WHERE fingerprint = ? AND revoked_at IS NULL",
            (to_us(at), fingerprint),
        )


class SqlAuthFailures(Repo):
    def record(self, scope: str, at: datetime, since: datetime) -> int:
        self._exec("DELETE FROM auth_failures WHERE scope = ? AND at < ?", (scope, to_us(since)))
        self._exec("INSERT INTO auth_failures (scope, at) VALUES (?, ?)", (scope, to_us(at)))
        count, _ = self.window(scope, since)
        return count

    def window(self, scope: str, since: datetime) -> tuple[int, datetime | None]:
        r = self._exec(
            "SELECT COUNT(*) AS n, MIN(at) AS first_at FROM auth_failures WHERE scope = ? AND at >= ?",
            (scope, to_us(since)),
        ).fetchone()
        return int(r["n"]), None if r["first_at"] is None else from_us(r["first_at"])
