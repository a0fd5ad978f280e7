"""Conflict records and the JSON of their encounters."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
import shapely

from deconfliction.domain.conflict import Conflict, ConflictState, Encounter
from deconfliction.domain.policy import SeparationRule
from deconfliction.domain.volume import AltitudeBand, TimeWindow
from deconfliction.store.sql.base import Repo, Row, from_us, to_us


def _encounter_json(e: Encounter) -> dict[str, Any]:
    return {
        "a": e.index_a,
        "b": e.index_b,
        "h": e.horizontal_m,
        "v": e.vertical_m,
        "t": e.time_s,
        "w": [to_us(e.window.start), to_us(e.window.end)],
        "alt": [e.altitude.lower_m, e.altitude.upper_m],
        "region": shapely.to_wkb(e.region, hex=True),
        "pa": list(e.point_a),
        "pb": list(e.point_b),
    }


def _encounter(d: Mapping[str, Any]) -> Encounter:
    return Encounter(
        d["a"],
        d["b"],
        d["h"],
        d["v"],
        d["t"],
        TimeWindow(from_us(d["w"][0]), from_us(d["w"][1])),
        AltitudeBand(d["alt"][0], d["alt"][1]),
        shapely.from_wkb(d["region"]),
        (d["pa"][0], d["pa"][1]),
        (d["pb"][0], d["pb"][1]),
    )


class SqlConflicts(Repo):
    _COLS = (
        "id, kind, state, version, operation_a, party_a, operation_b, party_b, token_a, token_b, body, "
        "created_at, updated_at, historical, window_end"
    )

    @staticmethod
    def _row(r: Row) -> Conflict:
        body = orjson.loads(r["body"])
        return Conflict(
            r["id"],
            r["kind"],
            ConflictState(r["state"]),
            r["version"],
            r["operation_a"],
            r["party_a"],
            r["operation_b"],
            r["party_b"],
            r["token_a"],
            r["token_b"],
            SeparationRule(**body["rule"]),
            tuple(_encounter(e) for e in body["encounters"]),
            from_us(r["created_at"]),
            from_us(r["updated_at"]),
            body.get("content_version", r["version"]),
            bool(r["historical"]),
        )

    def save(self, c: Conflict) -> None:
        body = orjson.dumps(
            {
                "rule": c.rule.as_dict(),
                "encounters": [_encounter_json(e) for e in c.encounters],
                "content_version": c.content_version,
            }
        )
        row = (
            c.id,
            c.kind,
            c.state.value,
            c.version,
            c.operation_a,
            c.party_a,
            c.operation_b,
            c.party_b,
            c.token_a,
            c.token_b,
            body.decode(),
            to_us(c.created_at),
            to_us(c.updated_at),
            int(c.historical),
            to_us(c.window.end),
        )
        self._exec(
            f"INSERT INTO conflicts ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version, "
            "token_a = excluded.token_a, token_b = excluded.token_b, body = excluded.body, "
            "updated_at = excluded.updated_at, historical = excluded.historical, window_end = excluded.window_end",
            row,
        )

    def get(self, conflict_id: str) -> Conflict | None:
        r = self._exec(f"SELECT {self._COLS} FROM conflicts WHERE id = ?", (conflict_id,)).fetchone()
        return self._row(r) if r else None

    def for_operation(self, op_id: str) -> dict[str, Conflict]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM conflicts WHERE operation_a = ? "
            f"UNION ALL SELECT {self._COLS} FROM conflicts WHERE operation_b = ?",
            (op_id, op_id),
        ).fetchall()
        out = {}
        for r in rows:
            c = self._row(r)
            out[c.operation_b if c.operation_a == op_id else c.operation_a] = c
        return out

    def list(
        self,
        *,
        party_id: str | None = None,
        state: ConflictState | None = None,
        operation_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
        states: Sequence[ConflictState] | None = None,
    ) -> builtins.list[Conflict]:
        where, params = ["id > ?"], [after or ""]
        if party_id is not None:
            where.append("(party_a = ? OR party_b = ?)")
            params += [party_id, party_id]
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        if states is not None:
            where.append(f"state IN ({', '.join('?' for _ in states) or 'NULL'})")
            params.extend(s.value for s in states)
        if operation_id is not None:
            where.append("(operation_a = ? OR operation_b = ?)")
            params += [operation_id, operation_id]
        rows = self._exec(
            f"SELECT {self._COLS} FROM conflicts WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [self._row(r) for r in rows]

    def ended(self, now: datetime, limit: int = 100) -> builtins.list[Conflict]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM conflicts WHERE state = ? AND window_end <= ? ORDER BY window_end, id LIMIT ?",
            (ConflictState.OPEN.value, to_us(now), limit),
        ).fetchall()
        return [self._row(r) for r in rows]
