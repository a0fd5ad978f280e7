"""The SQL both backends share: portable statements, rows to domain objects and back.

A backend supplies a DB-API cursor and a ``Dialect`` (placeholder style and two type names); everything
else is here, so both backends run the same statements and the contract suite tests the same code.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
import shapely

from deconfliction.domain.cells import (
    MAX_STORE_LEVEL,
    Box,
    cells_at,
    covering,
    descendant_range,
    level_for,
    parent_at,
)
from deconfliction.domain.conflict import Conflict, ConflictState, Encounter, Occupancy
from deconfliction.domain.delivery import Delivery, DeliveryState, Endpoint, EndpointKind
from deconfliction.domain.exercise import DeploymentMode, ScenarioAnchor
from deconfliction.domain.footprint import (
    CorridorFootprint,
    PolygonFootprint,
    Shape,
    footprint_from_trusted,
    footprint_to_geojson,
    shape_from_core,
)
from deconfliction.domain.hotline import Message, MessageContent, Thread
from deconfliction.domain.incident import Incident
from deconfliction.domain.ledger import GENESIS, Entry, seal
from deconfliction.domain.line import Band
from deconfliction.domain.notification import Contact, Notification, NotificationState
from deconfliction.domain.operation import LIVE_STATES, Operation, OperationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.policy import OperationKind, SeparationRule
from deconfliction.domain.request import Request, RequestKind, RequestState
from deconfliction.domain.signing import b64url, from_b64url
from deconfliction.domain.site import ProtectedSite, SiteCategory, SitePoint, SiteState
from deconfliction.domain.unit import Unit
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.domain.zone import Zone, ZoneAnswer, ZoneState
from deconfliction.store.ports import (
    CandidateQuery,
    ClientCertificate,
    Event,
    LineRecord,
    PartyKey,
    StoredResponse,
    UnitKey,
    chunks,
)
from deconfliction.store.wakeup import notifications_channel

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
    lon_lo, lat_lo, lon_hi, lat_hi = _hull(v.shape.boxes)
    return [
        (cid, op_id, idx, t0, t1, v.altitude.lower_m, v.altitude.upper_m, lon_lo, lat_lo, lon_hi, lat_hi)
        for _, cid in covering(v.shape.boxes)
    ]


def _hull(boxes: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    """The smallest box holding every box (the whole width of the map for a footprint across the
    antimeridian, whose boxes lie at both ends of it)."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _shape(core: Any, radius: float, clon: float, clat: float, reach: float, boxes: str) -> Shape:
    return Shape(core, radius, (clon, clat), reach, tuple(tuple(b) for b in orjson.loads(boxes)))


class SqlOperations(_Repo):
    _OP_COLS = "id, owner_id, kind, priority, state, version, ovn, title, created_at, updated_at, unit_id, historical"
    _VOL_COLS = (
        "op_id, vol_idx, footprint, core, radius_m, center_lon, center_lat, reach_m, boxes, "
        "t_start, t_end, alt_lo, alt_hi"
    )

    def add(self, op: Operation) -> None:
        self._exec(
            f"INSERT INTO operations ({self._OP_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self._op_row(op),
        )
        self._write_volumes(op)

    def replace(self, op: Operation) -> None:
        self._exec(
            "UPDATE operations SET kind = ?, priority = ?, state = ?, version = ?, ovn = ?, title = ?, "
            "updated_at = ?, unit_id = ? WHERE id = ?",
            (
                op.kind.value,
                op.priority,
                op.state.value,
                op.version,
                op.ovn,
                op.title,
                to_us(op.updated_at),
                op.unit_id,
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
            op.unit_id,
            int(op.historical),
        )

    def _write_volumes(self, op: Operation) -> None:
        self._many(
            f"INSERT INTO volumes ({self._VOL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_volume_row(op.id, i, v) for i, v in enumerate(op.volumes)],
        )
        if op.state in LIVE_STATES:
            self._many(
                "INSERT INTO volume_cells (cell, op_id, vol_idx, t_start, t_end, alt_lo, alt_hi, lon_lo, lat_lo, "
                "lon_hi, lat_hi) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        unit_id: str | None = None,
    ) -> builtins.list[Operation]:
        where, params = ["id > ?"], [after or ""]
        if owner_id is not None:
            where.append("owner_id = ?")
            params.append(owner_id)
        if unit_id is not None:
            where.append("(unit_id = ? OR unit_id IS NULL)")
            params.append(unit_id)
        if states:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            params.extend(s.value for s in states)
        sql = f"SELECT {self._OP_COLS} FROM operations WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
        return self._load(sql, (*params, limit))

    def places(
        self, owner_id: str, *, exclude: str = "", limit: int = 500
    ) -> builtins.list[tuple[float, float, float]]:
        rows = self._exec(
            "SELECT v.center_lon, v.center_lat, v.reach_m FROM volumes v JOIN "
            "(SELECT id FROM operations WHERE owner_id = ? AND id <> ? ORDER BY id DESC LIMIT ?) o "
            "ON o.id = v.op_id LIMIT ?",
            (owner_id, exclude, limit, limit),
        ).fetchall()
        return [(float(r[0]), float(r[1]), float(r[2])) for r in rows]

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
                r[10],
                bool(r[11]),
            )
            for r in rows
        ]

    def unit_of(self, op_id: str) -> str | None:
        r = self._exec("SELECT unit_id FROM operations WHERE id = ?", (op_id,)).fetchone()
        return None if r is None else r[0]

    def candidates(self, query: CandidateQuery) -> builtins.list[Occupancy]:
        ranges, points = _query_keys(query.boxes)
        has_alt = query.alt_lo is not None and query.alt_hi is not None
        # Pad to a few fixed sizes (ids are never negative) so that the statement text repeats and the
        # backend reuses its compiled plan instead of parsing a new statement for every query.
        n_ranges, n_points = _bucket(len(ranges), 4), _bucket(len(points), 32)
        ranges = ranges + [(-1, -1)] * (n_ranges - len(ranges))
        points = points + [-1] * (n_points - len(points))
        fparams: list[Any] = [to_us(query.end), to_us(query.start)]
        if has_alt:
            fparams += [query.alt_hi, query.alt_lo]
        # the rows' boxes against the hull of the query's: a superset of what meets (checked below, box
        # by box), narrow enough that the join reads the geometry of few rows besides the candidates
        q_lon_lo, q_lat_lo, q_lon_hi, q_lat_hi = _hull(query.boxes)
        fparams += [q_lon_hi, q_lon_lo, q_lat_hi, q_lat_lo]
        params: list[Any] = []
        for lo, hi in ranges:
            params += [lo, hi, *fparams]
        params += [*points, *fparams]
        # The cells are up to a few times larger than what they hold and a hull is larger than its boxes:
        # drop the rows whose own boxes miss the query's before parsing any geometry.
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


QUERY_LEVELS_DEEPER = 2
"""The query covers its box with cells this many levels finer than the level the box itself would be
filed at (up to 5 x 5 cells instead of 2 x 2): the ranges it scans hold far fewer rows that lie outside
the box (at 100,000 stored operations the rows read fall from 4,600 to 1,000 at the 99th percentile)."""


def _query_keys(boxes: Sequence[Box]) -> tuple[list[tuple[int, int]], list[int]]:
    """What to ask the index for everything filed under a cell that may meet ``boxes``: inclusive id
    ranges (the query's cells and all their descendants) and exact ids (the cells' ancestors).

    Why nothing is missed, at any query level: a stored box and a query box that meet share a point p;
    each covering holds the cell that contains p on the half-open grid of its own level (closed
    coverings hold that one too), and two such cells of p are one inside the other: a stored cell
    at the query's level or finer lies in a query range, a coarser one is an ancestor. Ranges adjacent in
    id order are merged (the one id between two sibling ranges is their ancestor's: a superset)."""
    ranges: set[tuple[int, int]] = set()
    points: set[int] = set()
    for box in boxes:
        level = min(MAX_STORE_LEVEL, level_for(box) + QUERY_LEVELS_DEEPER)
        cells = set(cells_at(box, level))
        ranges.update(descendant_range(cid, level) for cid in cells)
        while level > 0:  # the ancestors, one level at a time (neighbouring cells share most of them)
            cells = {parent_at(cid, level, level - 1) for cid in cells}
            level -= 1
            points |= cells
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 2:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged, sorted(points)


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
    filters = (
        "t_start <= ? AND t_end >= ?"
        + (" AND alt_lo <= ? AND alt_hi >= ?" if has_alt else "")
        + " AND lon_lo <= ? AND lon_hi >= ? AND lat_lo <= ? AND lat_hi >= ?"
    )
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
        "created_at, updated_at, historical, window_end"
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
            body.get("content_version", r[3]),
            bool(r[13]),
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


def backfill_conflict_window_end(cur: Any, dialect: Dialect) -> int:
    """Give the conflict records written before migration 14 the end of their window (from their
    encounters), so the expiry round finds them; returns the number of records updated."""
    cur.execute("SELECT id, body FROM conflicts WHERE window_end IS NULL")
    rows = [(r[0], max(e["w"][1] for e in orjson.loads(r[1])["encounters"])) for r in cur.fetchall()]
    for conflict_id, end in rows:
        cur.execute(dialect.q("UPDATE conflicts SET window_end = ? WHERE id = ?"), (end, conflict_id))
    return len(rows)


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


class SqlNotifications(_Repo):
    _COLS = (
        "id, seq, party_id, kind, subject_id, entry_seq, body, created_at, deadline, state, acknowledged_at, "
        "acknowledged_by, step, escalations, at_coordinator, starts_at, superseded_by, unit_id"
    )

    @staticmethod
    def _row(r: Sequence[Any]) -> Notification:
        return Notification(
            r[0],
            int(r[1]),
            r[2],
            r[3],
            r[4],
            int(r[5]),
            orjson.loads(r[6]),
            from_us(r[7]),
            None if r[8] is None else from_us(r[8]),
            NotificationState(r[9]),
            None if r[10] is None else from_us(r[10]),
            r[11],
            int(r[12]),
            tuple(orjson.loads(r[13])),
            bool(r[14]),
            None if r[15] is None else from_us(r[15]),
            r[16],
            r[17],
        )

    def __init__(self, cur: Any, dialect: Dialect, wake: Callable[[str], None]) -> None:
        super().__init__(cur, dialect)
        self._wake = wake

    def next_seq(self) -> int:
        (seq,) = self._exec(
            "UPDATE store_head SET last_notification = last_notification + 1 WHERE id = 1 RETURNING last_notification"
        ).fetchone()
        return int(seq)

    def last_seq(self) -> int:
        (seq,) = self._exec("SELECT last_notification FROM store_head WHERE id = 1").fetchone()
        return int(seq)

    def add(self, n: Notification) -> None:
        self._exec(
            f"INSERT INTO notifications ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                n.id,
                n.seq,
                n.party_id,
                n.kind,
                n.subject_id,
                n.entry_seq,
                orjson.dumps(dict(n.body)).decode(),
                to_us(n.created_at),
                None if n.deadline is None else to_us(n.deadline),
                n.state.value,
                None if n.acknowledged_at is None else to_us(n.acknowledged_at),
                n.acknowledged_by,
                n.step,
                orjson.dumps([dict(e) for e in n.escalations]).decode(),
                int(n.at_coordinator),
                None if n.starts_at is None else to_us(n.starts_at),
                n.superseded_by,
                n.unit_id,
            ),
        )
        self._wake(notifications_channel(n.party_id))  # its stream reads it once this commits

    def save(self, n: Notification) -> None:
        self._exec(
            "UPDATE notifications SET deadline = ?, state = ?, acknowledged_at = ?, acknowledged_by = ?, step = ?, "
            "escalations = ?, at_coordinator = ?, superseded_by = ? WHERE id = ?",
            (
                None if n.deadline is None else to_us(n.deadline),
                n.state.value,
                None if n.acknowledged_at is None else to_us(n.acknowledged_at),
                n.acknowledged_by,
                n.step,
                orjson.dumps([dict(e) for e in n.escalations]).decode(),
                int(n.at_coordinator),
                n.superseded_by,
                n.id,
            ),
        )

    def get(self, notification_id: str) -> Notification | None:
        r = self._exec(f"SELECT {self._COLS} FROM notifications WHERE id = ?", (notification_id,)).fetchone()
        return self._row(r) if r else None

    def for_party(
        self, party_id: str, *, after_seq: int = 0, limit: int = 100, unit_id: str | None = None
    ) -> builtins.list[Notification]:
        unit = "" if unit_id is None else " AND (unit_id = ? OR unit_id IS NULL)"
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE party_id = ? AND seq > ?{unit} ORDER BY seq LIMIT ?",
            (party_id, after_seq, *(() if unit_id is None else (unit_id,)), limit),
        ).fetchall()
        return [self._row(r) for r in rows]

    def list(
        self,
        *,
        party_id: str | None = None,
        pending: bool | None = None,
        overdue_at: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
        state: NotificationState | None = None,
        unit_id: str | None = None,
    ) -> builtins.list[Notification]:
        where: list[str] = ["id > ?"]
        params: list[Any] = [after or ""]
        if party_id is not None:
            where.append("party_id = ?")
            params.append(party_id)
        if unit_id is not None:
            where.append("(unit_id = ? OR unit_id IS NULL)")
            params.append(unit_id)
        if pending is not None:
            where.append("state = ?" if pending else "state <> ?")
            params.append(NotificationState.PENDING.value)
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        if overdue_at is not None:  # still chased, and a deadline missed: the current one or an earlier one
            where += ["state = ?", "deadline IS NOT NULL AND (deadline <= ? OR step > 0)"]
            params += [NotificationState.PENDING.value, to_us(overdue_at)]
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [self._row(r) for r in rows]

    def about(self, party_id: str, kind: str, subject_id: str) -> builtins.list[Notification]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE party_id = ? AND kind = ? AND subject_id = ? ORDER BY seq",
            (party_id, kind, subject_id),
        ).fetchall()
        return [self._row(r) for r in rows]

    def for_subject(self, party_id: str, subject_id: str) -> builtins.list[Notification]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE subject_id = ? AND party_id = ? ORDER BY seq",
            (subject_id, party_id),
        ).fetchall()
        return [self._row(r) for r in rows]

    def escalations_due(self, now: datetime, limit: int = 100) -> builtins.list[Notification]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM notifications WHERE state = ? AND deadline IS NOT NULL AND deadline <= ? "
            "AND at_coordinator = 0 ORDER BY deadline, seq LIMIT ?",
            (NotificationState.PENDING.value, to_us(now), limit),
        ).fetchall()
        return [self._row(r) for r in rows]


class SqlEndpoints(_Repo):
    _COLS = "id, party_id, kind, address, secret, created_at, active"

    @staticmethod
    def _row(r: Sequence[Any]) -> Endpoint:
        return Endpoint(r[0], r[1], EndpointKind(r[2]), r[3], r[4], from_us(r[5]), bool(r[6]))

    def add(self, endpoint: Endpoint) -> None:
        e = endpoint
        self._exec(
            f"INSERT INTO endpoints ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.id, e.party_id, e.kind.value, e.address, e.secret, to_us(e.created_at), int(e.active)),
        )

    def get(self, endpoint_id: str) -> Endpoint | None:
        r = self._exec(f"SELECT {self._COLS} FROM endpoints WHERE id = ?", (endpoint_id,)).fetchone()
        return self._row(r) if r else None

    def for_party(self, party_id: str, *, active_only: bool = True) -> builtins.list[Endpoint]:
        where = "party_id = ?" + (" AND active = 1" if active_only else "")
        rows = self._exec(f"SELECT {self._COLS} FROM endpoints WHERE {where} ORDER BY id", (party_id,)).fetchall()
        return [self._row(r) for r in rows]

    def deactivate(self, endpoint_id: str) -> None:
        self._exec("UPDATE endpoints SET active = 0 WHERE id = ?", (endpoint_id,))


class SqlDeliveries(_Repo):
    _COLS = (
        "id, endpoint_id, party_id, notification_id, body, created_at, next_attempt_at, attempts, state, "
        "last_error, delivered_at"
    )

    @staticmethod
    def _row(r: Sequence[Any]) -> Delivery:
        return Delivery(
            r[0],
            r[1],
            r[2],
            r[3],
            bytes(r[4]),
            from_us(r[5]),
            from_us(r[6]),
            int(r[7]),
            DeliveryState(r[8]),
            r[9],
            None if r[10] is None else from_us(r[10]),
        )

    def add(self, delivery: Delivery) -> None:
        d = delivery
        self._exec(
            f"INSERT INTO deliveries ({self._COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                d.id,
                d.endpoint_id,
                d.party_id,
                d.notification_id,
                d.body,
                to_us(d.created_at),
                to_us(d.next_attempt_at),
                d.attempts,
                d.state.value,
                d.last_error,
                None if d.delivered_at is None else to_us(d.delivered_at),
            ),
        )

    def save(self, delivery: Delivery) -> None:
        d = delivery
        self._exec(
            "UPDATE deliveries SET created_at = ?, next_attempt_at = ?, attempts = ?, state = ?, last_error = ?, "
            "delivered_at = ? WHERE id = ?",
            (
                to_us(d.created_at),
                to_us(d.next_attempt_at),
                d.attempts,
                d.state.value,
                d.last_error,
                None if d.delivered_at is None else to_us(d.delivered_at),
                d.id,
            ),
        )

    def get(self, delivery_id: str) -> Delivery | None:
        r = self._exec(f"SELECT {self._COLS} FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        return self._row(r) if r else None

    def due(self, now: datetime, limit: int = 50) -> builtins.list[Delivery]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM deliveries WHERE state = ? AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (DeliveryState.PENDING.value, to_us(now), limit),
        ).fetchall()
        return [self._row(r) for r in rows]

    def list(
        self, *, party_id: str, state: DeliveryState | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Delivery]:
        where: list[str] = ["party_id = ?", "id > ?"]
        params: list[Any] = [party_id, after or ""]
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        rows = self._exec(
            f"SELECT {self._COLS} FROM deliveries WHERE {' AND '.join(where)} ORDER BY id LIMIT ?", (*params, limit)
        ).fetchall()
        return [self._row(r) for r in rows]


class SqlHotline(_Repo):
    @staticmethod
    def _thread(r: Sequence[Any]) -> Thread:
        return Thread(r[0], r[1], tuple(orjson.loads(r[2])), r[3], from_us(r[4]))

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
        return [Message(r[0], r[1], r[2], MessageContent.from_record(orjson.loads(r[3])), from_us(r[4])) for r in rows]

    def language(self, party_id: str) -> str:
        r = self._exec("SELECT language FROM preferences WHERE party_id = ?", (party_id,)).fetchone()
        return str(r[0]) if r else "en"

    def set_language(self, party_id: str, language: str) -> None:
        self._exec(
            "INSERT INTO preferences (party_id, language) VALUES (?, ?) "
            "ON CONFLICT (party_id) DO UPDATE SET language = excluded.language",
            (party_id, language),
        )


class SqlRequests(_Repo):
    @staticmethod
    def _row(r: Sequence[Any]) -> Request:
        b = orjson.loads(r[1])
        window = None if b["window"] is None else TimeWindow(from_us(b["window"][0]), from_us(b["window"][1]))
        return Request(
            r[0],
            RequestKind(b["kind"]),
            b["requester"],
            b["owner"],
            b["subject"],
            b["text"],
            window,
            from_us(r[2]),
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


class SqlUnits(_Repo):
    _COLS = "id, party_id, name, contacts, area, version, created_at, updated_at"
    _KEY_COLS = "id, unit_id, created_at, revoked_at"

    @staticmethod
    def _row(r: Sequence[Any]) -> Unit:
        area = None if r[4] is None else footprint_from_trusted(orjson.loads(r[4]))
        assert area is None or isinstance(area, PolygonFootprint)  # stored by add/save
        contacts = tuple(Contact(c["name"], c["channels"]) for c in orjson.loads(r[3]))
        return Unit(r[0], r[1], r[2], contacts, area, int(r[5]), from_us(r[6]), from_us(r[7]))

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
            (key.id, key.unit_id, key_hash, to_us(key.created_at), _us_or_none(key.revoked_at)),
        )

    def keys(self, unit_id: str) -> builtins.list[UnitKey]:
        rows = self._exec(
            f"SELECT {self._KEY_COLS} FROM unit_keys WHERE unit_id = ? ORDER BY created_at, id", (unit_id,)
        ).fetchall()
        return [UnitKey(r[0], r[1], from_us(r[2]), None if r[3] is None else from_us(r[3])) for r in rows]

    def revoke_key(self, key_id: str, at: datetime) -> None:
        self._exec("UPDATE unit_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (to_us(at), key_id))

    def by_key_hash(self, key_hash: str) -> Unit | None:
        r = self._exec(
            "SELECT unit_id FROM unit_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)
        ).fetchone()
        return None if r is None else self.get(r[0])


def _us_or_none(t: datetime | None) -> int | None:
    return None if t is None else to_us(t)


class SqlContacts(_Repo):
    def get(self, party_id: str) -> tuple[Contact, ...]:
        r = self._exec("SELECT ladder FROM contacts WHERE party_id = ?", (party_id,)).fetchone()
        if r is None:
            return ()
        return tuple(Contact(c["name"], c["channels"]) for c in orjson.loads(r[0]))

    def put(self, party_id: str, ladder: Sequence[Contact], at: datetime) -> None:
        self._exec(
            "INSERT INTO contacts (party_id, ladder, updated_at) VALUES (?, ?, ?) ON CONFLICT (party_id) "
            "DO UPDATE SET ladder = excluded.ladder, updated_at = excluded.updated_at",
            (party_id, orjson.dumps([c.record() for c in ladder]).decode(), to_us(at)),
        )


class SqlEvents(_Repo):
    _COLS = "seq, at, actor_id, type, subject_id, payload, audience, content_hash, hash, signed, exercise"

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        super().__init__(cur, dialect)
        self._head: tuple[int, str] | None = None
        """The head this transaction last wrote: the next append links to it without reading it again
        (only this object moves the head inside its transaction; the write is serialised)."""
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
        seq, previous = self._head if self._head is not None else self.head()
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
        self._exec("UPDATE store_head SET last_seq = ?, last_hash = ? WHERE id = 1", (seq, sealed.hash))
        self._head = (seq, sealed.hash)
        return seq

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
                bool(r[10]),
            )
            for r in rows
        ]

    def head(self) -> tuple[int, str]:
        if self._head is not None:
            return self._head
        seq, last, mode = self._exec("SELECT last_seq, last_hash, deployment FROM store_head WHERE id = 1").fetchone()
        if self._exercise is None and mode is not None:
            self._exercise = mode == DeploymentMode.EXERCISE
        return int(seq), str(last)

    def _deployment_for_append(self) -> bool:
        """Inside the write: is this an exercise database? An unmarked one becomes live here, with its
        first entry, so a database never holds entries of both kinds."""
        (mode,) = self._exec("SELECT deployment FROM store_head WHERE id = 1").fetchone()
        if mode is None:
            self._exec("UPDATE store_head SET deployment = ? WHERE id = 1", (DeploymentMode.LIVE.value,))
            return False
        return bool(mode == DeploymentMode.EXERCISE)

    def hash_at(self, seq: int) -> str | None:
        if seq == 0:
            return GENESIS
        row = self._exec("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else str(row[0])


# ------------------------------------------------------------------------------ zones, sites, lines


class _AreaIndex(_Repo):
    """The bounding-box index of everything area detection checks (``area_boxes``, migration 5)."""

    def _file(self, target_id: str, kind: str, boxes: Sequence[Sequence[float]]) -> None:
        self._exec("DELETE FROM area_boxes WHERE target_id = ?", (target_id,))
        self._many(
            "INSERT INTO area_boxes (target_id, box_idx, kind, lon_lo, lat_lo, lon_hi, lat_hi) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(target_id, i, kind, *b) for i, b in enumerate(boxes)],
        )

    def _unfile(self, target_id: str) -> None:
        self._exec("DELETE FROM area_boxes WHERE target_id = ?", (target_id,))

    def _near_ids(self, kind: str, boxes: Sequence[Sequence[float]]) -> builtins.list[str]:
        if not boxes:
            return []
        where = " OR ".join("(lat_lo <= ? AND lat_hi >= ? AND lon_lo <= ? AND lon_hi >= ?)" for _ in boxes)
        params: list[Any] = [kind]
        for lon0, lat0, lon1, lat1 in boxes:
            params += [lat1, lat0, lon1, lon0]
        rows = self._exec(
            f"SELECT DISTINCT target_id FROM area_boxes WHERE kind = ? AND ({where}) ORDER BY target_id", params
        ).fetchall()
        return [r[0] for r in rows]


def _site_footprint_json(site: ProtectedSite) -> dict[str, Any]:
    if isinstance(site.footprint, SitePoint):
        return {"type": "Point", "coordinates": list(site.footprint.position)}
    return footprint_to_geojson(site.footprint)


def _site_body(site: ProtectedSite) -> str:
    return orjson.dumps(
        {
            "name": site.name,
            "category": site.category.value,
            "footprint": _site_footprint_json(site),
            "radius_m": site.radius_m,
            "accuracy_m": site.accuracy_m,
            "valid_until": to_us(site.valid_until),
            "version": site.version,
            **({} if site.unit_id is None else {"unit": site.unit_id}),
        }
    ).decode()


class SqlSites(_AreaIndex):
    _COLS = "id, owner_id, state, body, created_at, updated_at"

    @staticmethod
    def _row(r: Sequence[Any]) -> ProtectedSite:
        b = orjson.loads(r[3])
        fp = b["footprint"]
        footprint = (
            SitePoint((fp["coordinates"][0], fp["coordinates"][1]))
            if fp["type"] == "Point"
            else footprint_from_trusted(fp)
        )
        assert isinstance(footprint, SitePoint | PolygonFootprint)  # stored by _site_body
        return ProtectedSite(
            r[0],
            r[1],
            b["name"],
            SiteCategory(b["category"]),
            footprint,
            b["radius_m"],
            b["accuracy_m"],
            from_us(b["valid_until"]),
            SiteState(r[2]),
            b["version"],
            from_us(r[4]),
            from_us(r[5]),
            b.get("unit"),
        )

    def _index(self, site: ProtectedSite) -> None:
        if site.is_protected:
            self._file(site.id, "site", shape_from_core(site.shape.core, site.radius_m + site.accuracy_m).boxes)
        else:
            self._unfile(site.id)

    def add(self, site: ProtectedSite, token: str) -> None:
        self._exec(
            "INSERT INTO sites (id, owner_id, state, body, token, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                site.id,
                site.owner_id,
                site.state.value,
                _site_body(site),
                token,
                to_us(site.created_at),
                to_us(site.updated_at),
            ),
        )
        self._index(site)

    def replace(self, site: ProtectedSite) -> None:
        self._exec(
            "UPDATE sites SET state = ?, body = ?, updated_at = ? WHERE id = ?",
            (site.state.value, _site_body(site), to_us(site.updated_at), site.id),
        )
        self._index(site)

    def get(self, site_id: str) -> ProtectedSite | None:
        r = self._exec(f"SELECT {self._COLS} FROM sites WHERE id = ?", (site_id,)).fetchone()
        return self._row(r) if r else None

    def list(
        self, *, owner_id: str | None = None, active: bool | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[ProtectedSite]:
        where, params = ["id > ?"], [after or ""]
        if owner_id is not None:
            where.append("owner_id = ?")
            params.append(owner_id)
        if active is not None:
            where.append("state = ?" if active else "state <> ?")
            params.append(SiteState.ACTIVE.value)
        rows = self._exec(
            f"SELECT {self._COLS} FROM sites WHERE {' AND '.join(where)} ORDER BY id LIMIT ?", (*params, limit)
        ).fetchall()
        return [self._row(r) for r in rows]

    def near(self, boxes: Sequence[Sequence[float]]) -> builtins.list[tuple[ProtectedSite, str]]:
        ids = self._near_ids("site", boxes)
        out = []
        for part in chunks(ids, 500):
            rows = self._exec(
                f"SELECT {self._COLS}, token FROM sites WHERE id IN ({', '.join('?' for _ in part)}) ORDER BY id", part
            ).fetchall()
            out += [(self._row(r), str(r[6])) for r in rows]
        return out


def _zone_body(z: Zone) -> str:
    return orjson.dumps(
        {
            "counterparties": list(z.counterparties),
            "name": z.name,
            "footprint": footprint_to_geojson(z.footprint),
            "validity": [to_us(z.validity.start), to_us(z.validity.end)],
            "answers": [[p, a.value] for p, a in z.answers],
            "revision": z.revision,
        }
    ).decode()


class SqlZones(_AreaIndex):
    _COLS = "id, version, owner_id, state, body, created_at, updated_at"

    @staticmethod
    def _row(r: Sequence[Any]) -> Zone:
        b = orjson.loads(r[4])
        fp = footprint_from_trusted(b["footprint"])
        assert isinstance(fp, PolygonFootprint)  # a zone is an area
        return Zone(
            r[0],
            int(r[1]),
            r[2],
            tuple(b["counterparties"]),
            b["name"],
            fp,
            TimeWindow(from_us(b["validity"][0]), from_us(b["validity"][1])),
            ZoneState(r[3]),
            tuple((p, ZoneAnswer(a)) for p, a in b["answers"]),
            b["revision"],
            from_us(r[5]),
            from_us(r[6]),
        )

    def _index(self, z: Zone) -> None:
        key = f"{z.id}@{z.version}"
        if z.is_agreed:
            self._file(key, "zone", z.shape.boxes)
        else:
            self._unfile(key)

    def add(self, zone: Zone, token: str) -> None:
        self._exec(
            f"INSERT INTO zones ({self._COLS}, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                zone.id,
                zone.version,
                zone.owner_id,
                zone.state.value,
                _zone_body(zone),
                to_us(zone.created_at),
                to_us(zone.updated_at),
                token,
            ),
        )
        self._index(zone)

    def replace(self, zone: Zone) -> None:
        self._exec(
            "UPDATE zones SET state = ?, body = ?, updated_at = ? WHERE id = ? AND version = ?",
            (zone.state.value, _zone_body(zone), to_us(zone.updated_at), zone.id, zone.version),
        )
        self._index(zone)

    def get(self, zone_id: str, version: int | None = None) -> Zone | None:
        if version is None:
            r = self._exec(
                f"SELECT {self._COLS} FROM zones WHERE id = ? ORDER BY version DESC LIMIT 1", (zone_id,)
            ).fetchone()
        else:
            r = self._exec(
                f"SELECT {self._COLS} FROM zones WHERE id = ? AND version = ?", (zone_id, version)
            ).fetchone()
        return self._row(r) if r else None

    def versions(self, zone_id: str) -> builtins.list[Zone]:
        rows = self._exec(f"SELECT {self._COLS} FROM zones WHERE id = ? ORDER BY version", (zone_id,)).fetchall()
        return [self._row(r) for r in rows]

    def list(self, *, after: str | None = None, limit: int = 100) -> builtins.list[Zone]:
        ids = [
            r[0]
            for r in self._exec(
                "SELECT DISTINCT id FROM zones WHERE id > ? ORDER BY id LIMIT ?", (after or "", limit)
            ).fetchall()
        ]
        out: builtins.list[Zone] = []
        for part in chunks(ids, 500):
            rows = self._exec(
                f"SELECT {self._COLS} FROM zones WHERE id IN ({', '.join('?' for _ in part)}) ORDER BY id, version",
                part,
            ).fetchall()
            out += [self._row(r) for r in rows]
        return out

    def near(self, boxes: Sequence[Sequence[float]]) -> builtins.list[tuple[Zone, str]]:
        keys = self._near_ids("zone", boxes)
        out = []
        for key in keys:
            zone_id, _, version = key.rpartition("@")
            r = self._exec(
                f"SELECT {self._COLS}, token FROM zones WHERE id = ? AND version = ?", (zone_id, int(version))
            ).fetchone()
            if r is not None:
                out.append((self._row(r), str(r[7])))
        return out


def _band_json(b: Band) -> dict[str, Any]:
    return {
        "id": b.id,
        "party_left": b.party_left,
        "party_right": b.party_right,
        "footprint": footprint_to_geojson(b.footprint),
        "validity": [to_us(b.validity.start), to_us(b.validity.end)],
    }


def _band(d: Mapping[str, Any]) -> Band:
    fp = footprint_from_trusted(d["footprint"])
    assert isinstance(fp, CorridorFootprint)  # a band is a corridor
    return Band(
        d["id"], d["party_left"], d["party_right"], fp, TimeWindow(from_us(d["validity"][0]), from_us(d["validity"][1]))
    )


class SqlLines(_AreaIndex):
    _COLS = "id, creator_id, party_left, party_right, body, created_at"

    @staticmethod
    def _row(r: Sequence[Any]) -> LineRecord:
        b = orjson.loads(r[4])
        return LineRecord(
            r[0],
            r[1],
            b["name"],
            b["area"],
            tuple((p[0], p[1]) for p in b["line"]),
            r[2],
            r[3],
            b["zone_left"],
            b["zone_right"],
            None if b["band"] is None else _band(b["band"]),
            from_us(r[5]),
            None if b.get("withdrawn_at") is None else from_us(b["withdrawn_at"]),
        )

    @staticmethod
    def _body(line: LineRecord) -> str:
        body = {
            "name": line.name,
            "area": dict(line.area),
            "line": [list(p) for p in line.line],
            "zone_left": line.zone_left,
            "zone_right": line.zone_right,
            "band": None if line.band is None else _band_json(line.band),
            "withdrawn_at": None if line.withdrawn_at is None else to_us(line.withdrawn_at),
        }
        return orjson.dumps(body).decode()

    def _index(self, line: LineRecord) -> None:
        if line.band is not None and line.withdrawn_at is None:
            self._file(line.id, "band", line.band.shape.boxes)
        else:
            self._unfile(line.id)

    def add(self, line: LineRecord, token: str) -> None:
        self._exec(
            f"INSERT INTO lines ({self._COLS}, token) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                line.id,
                line.creator_id,
                line.party_left,
                line.party_right,
                self._body(line),
                to_us(line.created_at),
                token,
            ),
        )
        self._index(line)

    def replace(self, line: LineRecord) -> None:
        self._exec("UPDATE lines SET body = ? WHERE id = ?", (self._body(line), line.id))
        self._index(line)

    def get(self, line_id: str) -> LineRecord | None:
        r = self._exec(f"SELECT {self._COLS} FROM lines WHERE id = ?", (line_id,)).fetchone()
        return self._row(r) if r else None

    def list(self, *, after: str | None = None, limit: int = 100) -> builtins.list[LineRecord]:
        rows = self._exec(
            f"SELECT {self._COLS} FROM lines WHERE id > ? ORDER BY id LIMIT ?", (after or "", limit)
        ).fetchall()
        return [self._row(r) for r in rows]

    def bands_near(self, boxes: Sequence[Sequence[float]]) -> builtins.list[tuple[Band, str]]:
        out = []
        for line_id in self._near_ids("band", boxes):
            r = self._exec(f"SELECT {self._COLS}, token FROM lines WHERE id = ?", (line_id,)).fetchone()
            if r is not None:
                line = self._row(r)
                if line.band is not None:
                    out.append((line.band, str(r[6])))
        return out


class SqlMovements(_Repo):
    def put(self, op_id: str, op_version: int, movement: Mapping[str, Any], at: datetime) -> None:
        self._exec(
            "INSERT INTO movements (op_id, op_version, body, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (op_id) "
            "DO UPDATE SET op_version = excluded.op_version, body = excluded.body, updated_at = excluded.updated_at",
            (op_id, op_version, orjson.dumps(dict(movement)).decode(), to_us(at)),
        )

    def get(self, op_id: str) -> tuple[int, Mapping[str, Any]] | None:
        r = self._exec("SELECT op_version, body FROM movements WHERE op_id = ?", (op_id,)).fetchone()
        return None if r is None else (int(r[0]), orjson.loads(r[1]))


class SqlDeployment(_Repo):
    """What the database holds (``store_head.deployment``) and the exercise clock's anchor (migration 15)."""

    def mode(self) -> DeploymentMode | None:
        (mode,) = self._exec("SELECT deployment FROM store_head WHERE id = 1").fetchone()
        return None if mode is None else DeploymentMode(mode)

    def mark(self, mode: DeploymentMode) -> None:
        self._exec("UPDATE store_head SET deployment = ? WHERE id = 1", (mode.value,))

    def anchor(self) -> ScenarioAnchor | None:
        r = self._exec(
            "SELECT scenario_start, real_start, speed, advanced_us FROM exercise_clock WHERE id = 1"
        ).fetchone()
        if r is None:
            return None
        return ScenarioAnchor(from_us(r[0]), from_us(r[1]), float(r[2]), int(r[3]) / 1_000_000)

    def put_anchor(self, anchor: ScenarioAnchor) -> None:
        self._exec(
            "INSERT INTO exercise_clock (id, scenario_start, real_start, speed, advanced_us) VALUES (1, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET scenario_start = excluded.scenario_start, "
            "real_start = excluded.real_start, speed = excluded.speed, advanced_us = excluded.advanced_us",
            (
                to_us(anchor.scenario_start),
                to_us(anchor.real_start),
                anchor.speed,
                round(anchor.advanced_s * 1_000_000),
            ),
        )


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


class SqlClientCertificates(_Repo):
    _COLS = "fingerprint, party_id, label, created_at, revoked_at"

    @staticmethod
    def _row(r: Sequence[Any]) -> ClientCertificate:
        return ClientCertificate(r[0], r[1], r[2], from_us(r[3]), None if r[4] is None else from_us(r[4]))

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


class SqlAuthFailures(_Repo):
    def record(self, scope: str, at: datetime, since: datetime) -> int:
        self._exec("DELETE FROM auth_failures WHERE scope = ? AND at < ?", (scope, to_us(since)))
        self._exec("INSERT INTO auth_failures (scope, at) VALUES (?, ?)", (scope, to_us(at)))
        return self.window(scope, since)[0]

    def window(self, scope: str, since: datetime) -> tuple[int, datetime | None]:
        r = self._exec(
            "SELECT COUNT(*), MIN(at) FROM auth_failures WHERE scope = ? AND at >= ?", (scope, to_us(since))
        ).fetchone()
        return int(r[0]), None if r[1] is None else from_us(r[1])


class SqlTransaction:
    """All repositories over one cursor, inside one database transaction."""

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        self.woken: set[str] = set()
        """The wake-up channels to signal when this transaction commits (store/wakeup.py)."""
        self.parties = SqlParties(cur, dialect)
        self.party_keys = SqlPartyKeys(cur, dialect)
        self.units = SqlUnits(cur, dialect)
        self.client_certificates = SqlClientCertificates(cur, dialect)
        self.auth_failures = SqlAuthFailures(cur, dialect)
        self.incidents = SqlIncidents(cur, dialect)
        self.notifications = SqlNotifications(cur, dialect, self.wake)
        self.contacts = SqlContacts(cur, dialect)
        self.hotline = SqlHotline(cur, dialect)
        self.requests = SqlRequests(cur, dialect)
        self.endpoints = SqlEndpoints(cur, dialect)
        self.deliveries = SqlDeliveries(cur, dialect)
        self.sites = SqlSites(cur, dialect)
        self.zones = SqlZones(cur, dialect)
        self.lines = SqlLines(cur, dialect)
        self.movements = SqlMovements(cur, dialect)
        self.operations = SqlOperations(cur, dialect)
        self.conflicts = SqlConflicts(cur, dialect)
        self.idempotency = SqlIdempotency(cur, dialect)
        self.events = SqlEvents(cur, dialect)
        self.deployment = SqlDeployment(cur, dialect)

    def wake(self, channel: str) -> None:
        self.woken.add(channel)


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
    if 10 in applied:
        backfill_cell_boxes(cur, dialect)
    if 14 in applied:
        backfill_conflict_window_end(cur, dialect)
    return applied


def backfill_cell_boxes(cur: Any, dialect: Dialect) -> int:
    """Give the index rows written before migration 10 their volume's box (they carry the whole world
    until then, which is correct, only slower); returns the number of volumes updated."""
    cur.execute(
        dialect.q(
            "SELECT DISTINCT c.op_id, c.vol_idx, v.boxes FROM volume_cells c JOIN volumes v "
            "ON v.op_id = c.op_id AND v.vol_idx = c.vol_idx"
        )
    )
    rows = [(*_hull(orjson.loads(boxes)), op_id, idx) for op_id, idx, boxes in cur.fetchall()]
    if rows:
        cur.executemany(
            dialect.q(
                "UPDATE volume_cells SET lon_lo = ?, lat_lo = ?, lon_hi = ?, lat_hi = ? WHERE op_id = ? AND vol_idx = ?"
            ),
            rows,
        )
    return len(rows)
