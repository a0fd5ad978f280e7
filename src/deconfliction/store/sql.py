"""The SQL both backends share: portable statements, rows to domain objects and back.

A backend supplies a DB-API cursor and a ``Dialect`` (placeholder style and two type names); everything
else is here, so both backends run the same statements and the contract suite tests the same code.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
import shapely

from deconfliction.domain.cells import covering, query_keys
from deconfliction.domain.conflict import Conflict, ConflictState, Encounter, Occupancy
from deconfliction.domain.footprint import Shape, footprint_from_trusted, footprint_to_geojson
from deconfliction.domain.incident import Incident
from deconfliction.domain.ledger import GENESIS, Entry, seal
from deconfliction.domain.operation import LIVE_STATES, Operation, OperationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.policy import OperationKind, SeparationRule
from deconfliction.domain.signing import b64url, from_b64url
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.store.ports import CandidateQuery, Event, PartyKey, StoredResponse, chunks

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


class _Repo:
    def __init__(self, cur: Any, dialect: Dialect) -> None:
        self._cur = cur
        self._d = dialect

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._cur.execute(self._d.q(sql), params)
        return self._cur

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cur.executemany(self._d.q(sql), rows)


# ------------------------------------------------------------------------------------------------ parties


class SqlParties(_Repo):
    _COLS = "id, name, role, created_at"

    @staticmethod
    def _row(r: Sequence[Any]) -> Party:
        return Party(r[0], r[1], Role(r[2]), from_us(r[3]))

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

    def by_name(self, name: str) -> Party | None:
        return self._one("name", name)

    def by_key_hash(self, key_hash: str) -> Party | None:
        return self._one("key_hash", key_hash)

    def list(self, *, after: str | None = None, limit: int = 100) -> builtins.list[Party]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM parties WHERE id > ? ORDER BY id LIMIT ?", (after or "", limit)
        ).fetchall()
        return [self._row(r) for r in rows]


# --------------------------------------------------------------------------------------------- operations


def _volume_row(op_id: str, idx: int, v: Volume4D) -> tuple[Any, ...]:
    s = v.shape
    return (
        op_id,
        idx,
        orjson.dumps(footprint_to_geojson(v.footprint)).decode(),
        shapely.to_wkb(s.core),
        s.radius_m,
        s.center[0],
        s.center[1],
        s.reach_m,
        orjson.dumps(s.boxes).decode(),
        to_us(v.window.start),
        to_us(v.window.end),
        v.altitude.lower_m,
        v.altitude.upper_m,
    )


def _cell_rows(op_id: str, idx: int, v: Volume4D) -> list[tuple[Any, ...]]:
    t0, t1 = to_us(v.window.start), to_us(v.window.end)
    return [(cid, op_id, idx, t0, t1, v.altitude.lower_m, v.altitude.upper_m) for _, cid in covering(v.shape.boxes)]


def _shape(core: Any, radius: float, clon: float, clat: float, reach: float, boxes: str) -> Shape:
    return Shape(core, radius, (clon, clat), reach, tuple(tuple(b) for b in orjson.loads(boxes)))


class SqlOperations(_Repo):
    _OP_COLS = "id, owner_id, kind, priority, state, version, ovn, title, created_at, updated_at"
    _VOL_COLS = (
        "op_id, vol_idx, footprint, core, radius_m, center_lon, center_lat, reach_m, boxes, "
        "t_start, t_end, alt_lo, alt_hi"
    )

    def add(self, op: Operation) -> None:
        self._exec(
            f"INSERT INTO operations ({self._OP_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self._op_row(op),
        )
        self._write_volumes(op)

    def replace(self, op: Operation) -> None:
        self._exec(
            "UPDATE operations SET kind = ?, priority = ?, state = ?, version = ?, ovn = ?, title = ?, "
            "updated_at = ? WHERE id = ?",
            (
                op.kind.value,
                op.priority,
                op.state.value,
                op.version,
                op.ovn,
                op.title,
                to_us(op.updated_at),
                op.id,
            ),
        )
        self._exec("DELETE FROM volume_cells WHERE op_id = ?", (op.id,))
        self._exec("DELETE FROM volumes WHERE op_id = ?", (op.id,))
        self._write_volumes(op)

    @staticmethod
    def _op_row(op: Operation) -> tuple[Any, ...]:
        return (
            op.id,
            op.owner_id,
            op.kind.value,
            op.priority,
            op.state.value,
            op.version,
            op.ovn,
            op.title,
            to_us(op.created_at),
            to_us(op.updated_at),
        )

    def _write_volumes(self, op: Operation) -> None:
        self._many(
            f"INSERT INTO volumes ({self._VOL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_volume_row(op.id, i, v) for i, v in enumerate(op.volumes)],
        )
        if op.state in LIVE_STATES:
            self._many(
                "INSERT INTO volume_cells (cell, op_id, vol_idx, t_start, t_end, alt_lo, alt_hi) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [row for i, v in enumerate(op.volumes) for row in _cell_rows(op.id, i, v)],
            )

    def get(self, op_id: str) -> Operation | None:
        found = self._load(f"SELECT {self._OP_COLS} FROM operations WHERE id = ?", (op_id,))
        return found[0] if found else None

    def list(
        self,
        *,
        owner_id: str | None = None,
        states: Sequence[OperationState] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Operation]:
        where, params = ["id > ?"], [after or ""]
        if owner_id is not None:
            where.append("owner_id = ?")
            params.append(owner_id)
        if states:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            params.extend(s.value for s in states)
        sql = f"SELECT {self._OP_COLS} FROM operations WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
        return self._load(sql, (*params, limit))

    def _load(self, sql: str, params: Sequence[Any]) -> builtins.list[Operation]:
        rows = self._exec(sql, params).fetchall()
        if not rows:
            return []
        volumes: dict[str, builtins.list[Volume4D]] = {r[0]: [] for r in rows}
        for part in chunks(list(volumes), 500):
            vrows = self._exec(
                f"SELECT {self._VOL_COLS} FROM volumes WHERE op_id IN ({', '.join('?' for _ in part)}) "
                "ORDER BY op_id, vol_idx",
                part,
            ).fetchall()
            cores = shapely.from_wkb(np.array([bytes(v[3]) for v in vrows], dtype=object))
            for v, core in zip(vrows, cores, strict=True):
                volumes[v[0]].append(
                    Volume4D(
                        footprint_from_trusted(orjson.loads(v[2])),
                        AltitudeBand(v[11], v[12]),
                        TimeWindow(from_us(v[9]), from_us(v[10])),
                        _shape(core, v[4], v[5], v[6], v[7], v[8]),
                    )
                )
        return [
            Operation(
                r[0],
                r[1],
                OperationKind(r[2]),
                r[3],
                OperationState(r[4]),
                r[5],
                r[6],
                tuple(volumes[r[0]]),
                r[7],
                from_us(r[8]),
                from_us(r[9]),
            )
            for r in rows
        ]

    def candidates(self, query: CandidateQuery) -> builtins.list[Occupancy]:
        ranges, points = query_keys(query.boxes)
        has_alt = query.alt_lo is not None and query.alt_hi is not None
        # Pad to a few fixed sizes (ids are never negative) so that the statement text repeats and the
        # backend reuses its compiled plan instead of parsing a new statement for every query.
        n_ranges, n_points = _bucket(len(ranges), 4), _bucket(len(points), 32)
        ranges = ranges + [(-1, -1)] * (n_ranges - len(ranges))
        points = points + [-1] * (n_points - len(points))
        fparams: list[Any] = [to_us(query.end), to_us(query.start)]
        if has_alt:
            fparams += [query.alt_hi, query.alt_lo]
        params: list[Any] = []
        for lo, hi in ranges:
            params += [lo, hi, *fparams]
        params += [*points, *fparams]
        # The cells are up to a few times larger than what they hold: drop the rows whose own boxes miss
        # the query's before parsing any geometry.
        rows = []
        for r in self._exec(_candidate_sql(n_ranges, n_points, has_alt), params).fetchall():
            boxes = orjson.loads(r[10])
            if _boxes_meet(boxes, query.boxes):
                rows.append((r, boxes))
        if not rows:
            return []
        cores = shapely.from_wkb(np.array([bytes(r[5]) for r, _ in rows], dtype=object))
        return [
            Occupancy(
                r[0],
                r[2],
                OperationKind(r[3]),
                r[4],
                r[1],
                Shape(core, r[6], (r[7], r[8]), r[9], tuple(tuple(b) for b in boxes)),
                AltitudeBand(r[13], r[14]),
                TimeWindow(from_us(r[11]), from_us(r[12])),
            )
            for (r, boxes), core in zip(rows, cores, strict=True)
        ]


def _boxes_meet(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> bool:
    """Whether any box of ``a`` meets (or touches) any box of ``b``; boxes are within [-180, 180]."""
    for x0, y0, x1, y1 in a:
        for u0, v0, u1, v1 in b:
            if x0 <= u1 and u0 <= x1 and y0 <= v1 and v0 <= y1:
                return True
    return False


def _bucket(n: int, smallest: int) -> int:
    size = smallest
    while size < n:
        size *= 2
    return size


@lru_cache(maxsize=64)
def _candidate_sql(n_ranges: int, n_points: int, has_alt: bool) -> str:
    filters = "t_start <= ? AND t_end >= ?" + (" AND alt_lo <= ? AND alt_hi >= ?" if has_alt else "")
    selects = [f"SELECT op_id, vol_idx FROM volume_cells WHERE cell BETWEEN ? AND ? AND {filters}"] * n_ranges
    marks = ", ".join("?" for _ in range(n_points))
    selects.append(f"SELECT op_id, vol_idx FROM volume_cells WHERE cell IN ({marks}) AND {filters}")
    return (
        "SELECT v.op_id, v.vol_idx, o.owner_id, o.kind, o.ovn, v.core, v.radius_m, v.center_lon, "
        "v.center_lat, v.reach_m, v.boxes, v.t_start, v.t_end, v.alt_lo, v.alt_hi "
        f"FROM ({' UNION '.join(selects)}) c "
        "JOIN volumes v ON v.op_id = c.op_id AND v.vol_idx = c.vol_idx "
        "JOIN operations o ON o.id = v.op_id"
    )


# ---------------------------------------------------------------------------------------------- conflicts


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


class SqlConflicts(_Repo):
    _COLS = (
        "id, kind, state, version, operation_a, party_a, operation_b, party_b, token_a, token_b, body, "
        "created_at, updated_at"
    )

    @staticmethod
    def _row(r: Sequence[Any]) -> Conflict:
        body = orjson.loads(r[10])
        return Conflict(
            r[0],
            r[1],
            ConflictState(r[2]),
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
            SeparationRule(**body["rule"]),
            tuple(_encounter(e) for e in body["encounters"]),
            from_us(r[11]),
            from_us(r[12]),
        )

    def save(self, c: Conflict) -> None:
        body = orjson.dumps({"rule": c.rule.as_dict(), "encounters": [_encounter_json(e) for e in c.encounters]})
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
        )
        self._exec(
            f"INSERT INTO conflicts ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version, "
            "token_a = excluded.token_a, token_b = excluded.token_b, body = excluded.body, "
            "updated_at = excluded.updated_at",
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
    ) -> builtins.list[Conflict]:
        where, params = ["id > ?"], [after or ""]
        if party_id is not None:
            where.append("(party_a = ? OR party_b = ?)")
            params += [party_id, party_id]
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        if operation_id is not None:
            where.append("(operation_a = ? OR operation_b = ?)")
            params += [operation_id, operation_id]
        rows = self._exec(
            f"SELECT {self._COLS} FROM conflicts WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [self._row(r) for r in rows]


# ----------------------------------------------------------------------------------- idempotency, events


class SqlIdempotency(_Repo):
    def get(self, party_id: str, key: str) -> StoredResponse | None:
        r = self._exec(
            "SELECT fingerprint, status, headers, body FROM idempotency WHERE party_id = ? AND key = ?",
            (party_id, key),
        ).fetchone()
        if r is None:
            return None
        return StoredResponse(r[0], r[1], orjson.loads(r[2]), bytes(r[3]))

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


class SqlPartyKeys(_Repo):
    _COLS = "key_id, party_id, public_key, created_at, revoked_at"

    @staticmethod
    def _row(r: Sequence[Any]) -> PartyKey:
        return PartyKey(
            r[0], r[1], from_b64url(r[2], "public_key", 32), from_us(r[3]), None if r[4] is None else from_us(r[4])
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


class SqlIncidents(_Repo):
    @staticmethod
    def _row(r: Sequence[Any]) -> Incident:
        b = orjson.loads(r[1])
        return Incident(
            r[0],
            b["reporter"],
            b["lon"],
            b["lat"],
            from_us(b["at"]),
            b["description"],
            b["radius_m"],
            b["before_s"],
            b["after_s"],
            from_us(r[2]),
        )

    def add(self, incident: Incident) -> None:
        body = {
            "reporter": incident.reporter_id,
            "lon": incident.lon,
            "lat": incident.lat,
            "at": to_us(incident.at),
            "description": incident.description,
            "radius_m": incident.radius_m,
            "before_s": incident.before_s,
            "after_s": incident.after_s,
        }
        self._exec(
            "INSERT INTO incidents (id, reporter_id, body, created_at) VALUES (?, ?, ?, ?)",
            (incident.id, incident.reporter_id, orjson.dumps(body).decode(), to_us(incident.created_at)),
        )

    def get(self, incident_id: str) -> Incident | None:
        r = self._exec("SELECT id, body, created_at FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return self._row(r) if r else None

    def list(
        self, *, reporter_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Incident]:
        where, params = "id > ?", [after or ""]
        if reporter_id is not None:
            where += " AND reporter_id = ?"
            params.append(reporter_id)
        rows = self._exec(
            f"SELECT id, body, created_at FROM incidents WHERE {where} ORDER BY id LIMIT ?", (*params, limit)
        ).fetchall()
        return [self._row(r) for r in rows]


class SqlEvents(_Repo):
    _COLS = "seq, at, actor_id, type, subject_id, payload, audience, content_hash, hash, signed"

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
        # the head row is locked by this update until commit: one appender at a time, in commit order
        seq, previous = self._exec(
            "UPDATE store_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq, last_hash"
        ).fetchone()
        payload_json = orjson.dumps(payload)
        at = from_us(to_us(at))  # the stored precision is what the chain seals
        signed_json = None if signed is None else orjson.dumps(signed)
        entry = Entry(
            int(seq),
            at,
            actor_id,
            type,
            subject_id,
            tuple(audience),
            orjson.loads(payload_json),
            None if signed_json is None else orjson.loads(signed_json),
        )
        sealed = seal(entry, previous)
        self._exec(
            f"INSERT INTO events ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ),
        )
        self._exec("UPDATE store_head SET last_hash = ? WHERE id = 1", (sealed.hash,))
        return int(seq)

    def after(self, seq: int, limit: int = 1000) -> builtins.list[Event]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [
            Event(
                r[0],
                from_us(r[1]),
                r[2],
                r[3],
                r[4],
                orjson.loads(r[5]),
                tuple(orjson.loads(r[6])),
                r[7],
                r[8],
                None if r[9] is None else orjson.loads(r[9]),
            )
            for r in rows
        ]

    def head(self) -> tuple[int, str]:
        seq, last = self._exec("SELECT last_seq, last_hash FROM store_head WHERE id = 1").fetchone()
        return int(seq), str(last)

    def hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return GENESIS
        row = self._exec("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else str(row[0])


def seal_unsealed(cur: Any, dialect: Dialect) -> int:
    """Seal the events written before the chain existed (migration 2), in order; returns how many."""
    cur.execute(
        dialect.q("SELECT seq, at, actor_id, type, subject_id, payload FROM events WHERE hash IS NULL ORDER BY seq")
    )
    rows = cur.fetchall()
    if not rows:
        return 0
    cur.execute(dialect.q("SELECT last_hash FROM store_head WHERE id = 1"))
    previous = str(cur.fetchone()[0])
    for r in rows:
        sealed = seal(Entry(r[0], from_us(r[1]), r[2], r[3], r[4], (), orjson.loads(r[5])), previous)
        cur.execute(
            dialect.q("UPDATE events SET content_hash = ?, hash = ? WHERE seq = ?"),
            (sealed.content_hash, sealed.hash, r[0]),
        )
        previous = sealed.hash
    cur.execute(dialect.q("UPDATE store_head SET last_hash = ? WHERE id = 1"), (previous,))
    return len(rows)


class SqlTransaction:
    """All repositories over one cursor, inside one database transaction."""

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        self.parties = SqlParties(cur, dialect)
        self.party_keys = SqlPartyKeys(cur, dialect)
        self.incidents = SqlIncidents(cur, dialect)
        self.operations = SqlOperations(cur, dialect)
        self.conflicts = SqlConflicts(cur, dialect)
        self.idempotency = SqlIdempotency(cur, dialect)
        self.events = SqlEvents(cur, dialect)


@lru_cache(maxsize=1)
def migration_scripts() -> list[tuple[int, str, str]]:
    """(version, name, text) of every migration shipped with the package, in order."""
    from importlib import resources

    folder = resources.files("deconfliction.store") / "migrations"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            out.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return out


def statements(script: str, dialect: Dialect) -> list[str]:
    """Split a migration into statements, with the backend's type names filled in."""
    text = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    text = text.replace("{blob}", dialect.blob).replace("{without_rowid}", dialect.without_rowid)
    return [s.strip() for s in text.split(";") if s.strip()]


def apply_migrations(cur: Any, dialect: Dialect) -> list[int]:
    """Apply the missing migrations through ``cur`` (inside the caller's transaction)."""
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at BIGINT NOT NULL)"
    )
    cur.execute("SELECT version FROM schema_migrations")
    done = {r[0] for r in cur.fetchall()}
    applied = []
    for version, name, script in migration_scripts():
        if version in done:
            continue
        for stmt in statements(script, dialect):
            cur.execute(stmt)
        cur.execute(
            dialect.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
            (version, name, to_us(datetime.now(UTC))),
        )
        applied.append(version)
    if 2 in applied:
        seal_unsealed(cur, dialect)
    return applied
