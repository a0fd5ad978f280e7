"""Units and their API keys."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import orjson

from deconfliction.domain.footprint import PolygonFootprint, footprint_from_trusted, footprint_to_geojson
from deconfliction.domain.notification import Contact
from deconfliction.domain.unit import Unit
from deconfliction.store.ports import UnitKey
from deconfliction.store.sql.base import Repo, Row, from_us, to_us, us_or_none


class SqlUnits(Repo):
    _COLS = "id, party_id, name, contacts, area, version, created_at, updated_at"
    _KEY_COLS = "id, unit_id, created_at, revoked_at"

    @staticmethod
    def _row(r: Row) -> Unit:
        area = None if r["area"] is None else footprint_from_trusted(orjson.loads(r["area"]))
        assert area is None or isinstance(area, PolygonFootprint)  # stored by add/save
        contacts = tuple(Contact(c["name"], c["channels"]) for c in orjson.loads(r["contacts"]))
        return Unit(
            r["id"],
            r["party_id"],
            r["name"],
            contacts,
            area,
            int(r["version"]),
            from_us(r["created_at"]),
            from_us(r["updated_at"]),
        )

    @staticmethod
    def _values(u: Unit) -> tuple[Any, ...]:
        return (
            u.party_id,
            u.name,
            orjson.dumps([c.record() for c in u.contacts]).decode(),
            None if u.area is None else orjson.dumps(footprint_to_geojson(u.area)).decode(),
            u.version,
            to_us(u.created_at),
            to_us(u.updated_at),
        )

    def add(self, unit: Unit) -> None:
        self._exec(f"INSERT INTO units ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (unit.id, *self._values(unit)))

    def save(self, unit: Unit) -> None:
        self._exec(
            "UPDATE units SET party_id = ?, name = ?, contacts = ?, area = ?, version = ?, created_at = ?, "
            "updated_at = ? WHERE id = ?",
            (*self._values(unit), unit.id),
        )

    def get(self, unit_id: str) -> Unit | None:
        r = self._exec(f"SELECT {self._COLS} FROM units WHERE id = ?", (unit_id,)).fetchone()
        return self._row(r) if r else None

    def by_name(self, party_id: str, name: str) -> Unit | None:
        r = self._exec(f"SELECT {self._COLS} FROM units WHERE party_id = ? AND name = ?", (party_id, name)).fetchone()
        return self._row(r) if r else None

    def list(self, *, party_id: str | None = None, after: str | None = None, limit: int = 100) -> builtins.list[Unit]:
        where, params = ["id > ?"], [after or ""]
        if party_id is not None:
            where.append("party_id = ?")
            params.append(party_id)
        rows = self._exec(
            f"SELECT {self._COLS} FROM units WHERE {' AND '.join(where)} ORDER BY id LIMIT ?", (*params, limit)
        ).fetchall()
        return [self._row(r) for r in rows]

    def add_key(self, key: UnitKey, key_hash: str) -> None:
        self._exec(
            "INSERT INTO unit_keys (id, unit_id, key_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)",
            (key.id, key.unit_id, key_hash, to_us(key.created_at), us_or_none(key.revoked_at)),
        )

    def keys(self, unit_id: str) -> builtins.list[UnitKey]:
        rows = self._exec(
            f"SELECT {self._KEY_COLS} FROM unit_keys WHERE unit_id = ? ORDER BY created_at, id", (unit_id,)
        ).fetchall()
        return [
            UnitKey(
                r["id"],
                r["unit_id"],
                from_us(r["created_at"]),
                None if r["revoked_at"] is None else from_us(r["revoked_at"]),
            )
            for r in rows
        ]

    def revoke_key(self, key_id: str, at: datetime) -> None:
        self._exec("UPDATE unit_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (to_us(at), key_id))

    def by_key_hash(self, key_hash: str) -> Unit | None:
        r = self._exec(
            "SELECT unit_id FROM unit_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)
        ).fetchone()
        return None if r is None else self.get(r["unit_id"])
