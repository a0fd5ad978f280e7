"""Operations, their volumes and index rows, the candidate query, and movements."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import shapely

from deconfliction.domain.cells import covering
from deconfliction.domain.conflict import Occupancy
from deconfliction.domain.footprint import Shape, footprint_from_trusted, footprint_to_geojson
from deconfliction.domain.operation import LIVE_STATES, Operation, OperationState
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.store.ports import CandidateQuery, chunks
from deconfliction.store.sql.base import Dialect, Repo, from_us, to_us
from deconfliction.store.sql.index import (
    OCCUPANCY_COLS,
    boxes_meet,
    bucket,
    candidate_sql,
    candidate_sql_named,
    hull,
    query_keys,
)


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


def _cell_rows(op: Operation, idx: int, v: Volume4D) -> list[tuple[Any, ...]]:
    t0, t1 = to_us(v.window.start), to_us(v.window.end)
    lon_lo, lat_lo, lon_hi, lat_hi = hull(v.shape.boxes)
    return [
        (cid, op.id, idx, t0, t1, v.altitude.lower_m, v.altitude.upper_m, lon_lo, lat_lo, lon_hi, lat_hi, op.owner_id)
        for _, cid in covering(v.shape.boxes)
    ]


def _shape(core: Any, radius: float, clon: float, clat: float, reach: float, boxes: str) -> Shape:
    return Shape(core, radius, (clon, clat), reach, tuple(tuple(b) for b in orjson.loads(boxes)))


class SqlOperations(Repo):
    _OP_COLS = "id, owner_id, kind, priority, state, version, ovn, title, created_at, updated_at, unit_id, historical"
    _VOL_COLS = (
        "op_id, vol_idx, footprint, core, radius_m, center_lon, center_lat, reach_m, boxes, "
        "t_start, t_end, alt_lo, alt_hi"
    )
    _CELL_COLS = "cell, op_id, vol_idx, t_start, t_end, alt_lo, alt_hi, lon_lo, lat_lo, lon_hi, lat_hi, owner_id"

    def __init__(self, cur: Any, dialect: Dialect) -> None:
        super().__init__(cur, dialect)
        self._units: dict[str, str | None] = {}
        """``unit_of`` of the operations this transaction wrote or looked up: only ``add`` and ``replace``
        change an operation's unit, and they go through this object."""

    def add(self, op: Operation) -> None:
        self._exec(
            f"INSERT INTO operations ({self._OP_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self._op_row(op),
        )
        self._write_volumes(op)
        self._units[op.id] = op.unit_id

    def add_many(self, ops: Sequence[Operation]) -> None:
        self._bulk("operations", self._OP_COLS, [self._op_row(op) for op in ops])
        self._bulk(
            "volumes", self._VOL_COLS, [_volume_row(op.id, i, v) for op in ops for i, v in enumerate(op.volumes)]
        )
        self._bulk(
            "volume_cells",
            self._CELL_COLS,
            [
                row
                for op in ops
                if op.state in LIVE_STATES
                for i, v in enumerate(op.volumes)
                for row in _cell_rows(op, i, v)
            ],
        )

    def _bulk(self, table: str, cols: str, rows: builtins.list[tuple[Any, ...]]) -> None:
        """Insert ``rows``: COPY on PostgreSQL in a bulk write (``Store.write(bulk=True)``; several times
        faster than row by row), otherwise one executemany (a prepared statement run per row inside the
        caller's transaction; pipelined on PostgreSQL)."""
        if not rows:
            return
        # psycopg's pipeline status is PipelineStatus.OFF, 0, outside a pipeline
        if self._d.name == "postgresql" and not self._cur.connection.pgconn.pipeline_status:
            with self._cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in cols.split(","))
            self._many(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)

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
        self._units[op.id] = op.unit_id

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
                f"INSERT INTO volume_cells ({self._CELL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [row for i, v in enumerate(op.volumes) for row in _cell_rows(op, i, v)],
            )

    def get(self, op_id: str) -> Operation | None:
        found = self._load(f"SELECT {self._OP_COLS} FROM operations WHERE id = ?", (op_id,))
        return found[0] if found else None

    def get_many(self, op_ids: Collection[str]) -> builtins.list[Operation]:
        out: builtins.list[Operation] = []
        for part in chunks(sorted(op_ids), 500):
            out += self._load(
                f"SELECT {self._OP_COLS} FROM operations WHERE id IN ({', '.join('?' for _ in part)}) ORDER BY id", part
            )
        return out

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
        return [(float(r["center_lon"]), float(r["center_lat"]), float(r["reach_m"])) for r in rows]

    def _load(self, sql: str, params: Sequence[Any]) -> builtins.list[Operation]:
        rows = self._exec(sql, params).fetchall()
        if not rows:
            return []
        volumes: dict[str, builtins.list[Volume4D]] = {r["id"]: [] for r in rows}
        for part in chunks(list(volumes), 500):
            vrows = self._exec(
                f"SELECT {self._VOL_COLS} FROM volumes WHERE op_id IN ({', '.join('?' for _ in part)}) "
                "ORDER BY op_id, vol_idx",
                part,
            ).fetchall()
            cores = shapely.from_wkb(np.array([bytes(v["core"]) for v in vrows], dtype=object))
            for v, core in zip(vrows, cores, strict=True):
                volumes[v["op_id"]].append(
                    Volume4D(
                        footprint_from_trusted(orjson.loads(v["footprint"])),
                        AltitudeBand(v["alt_lo"], v["alt_hi"]),
                        TimeWindow(from_us(v["t_start"]), from_us(v["t_end"])),
                        _shape(core, v["radius_m"], v["center_lon"], v["center_lat"], v["reach_m"], v["boxes"]),
                    )
                )
        return [
            Operation(
                r["id"],
                r["owner_id"],
                OperationKind(r["kind"]),
                r["priority"],
                OperationState(r["state"]),
                r["version"],
                r["ovn"],
                tuple(volumes[r["id"]]),
                r["title"],
                from_us(r["created_at"]),
                from_us(r["updated_at"]),
                r["unit_id"],
                bool(r["historical"]),
            )
            for r in rows
        ]

    def unit_of(self, op_id: str) -> str | None:
        if op_id in self._units:
            return self._units[op_id]
        r = self._exec("SELECT unit_id FROM operations WHERE id = ?", (op_id,)).fetchone()
        unit = None if r is None else r["unit_id"]
        if r is not None:
            self._units[op_id] = unit
        return unit

    def historical(self, op_ids: Collection[str]) -> set[str]:
        out: set[str] = set()
        for part in chunks(sorted(op_ids), 500):
            rows = self._exec(
                f"SELECT id, unit_id, historical FROM operations WHERE id IN ({', '.join('?' for _ in part)})", part
            ).fetchall()
            for r in rows:  # the units come with it: the same write asks ``unit_of`` for these operations next
                self._units[r["id"]] = r["unit_id"]
                if r["historical"]:
                    out.add(str(r["id"]))
        return out

    def candidates(self, query: CandidateQuery) -> builtins.list[Occupancy]:
        ranges, points = query_keys(query.boxes)
        has_alt = query.alt_lo is not None and query.alt_hi is not None
        # Pad to a few fixed sizes (ids are never negative) so that the statement text repeats and the
        # backend reuses its compiled plan instead of parsing a new statement for every query.
        n_ranges = bucket(len(ranges), 4)
        ranges = ranges + [(-1, -1)] * (n_ranges - len(ranges))
        # the rows' boxes against the hull of the query's: a superset of what meets (checked below, box
        # by box), narrow enough that the join reads the geometry of few rows besides the candidates
        q_lon_lo, q_lat_lo, q_lon_hi, q_lat_hi = hull(query.boxes)
        if self._d.name == "postgresql":  # named parameters (candidate_sql_named)
            named: dict[str, Any] = {
                "t_end": to_us(query.end),
                "t_start": to_us(query.start),
                "alt_hi": query.alt_hi,
                "alt_lo": query.alt_lo,
                "lon_hi": q_lon_hi,
                "lon_lo": q_lon_lo,
                "lat_hi": q_lat_hi,
                "lat_lo": q_lat_lo,
                "points": points,
                "owner": query.exclude_owner,
            }
            for i, (lo, hi) in enumerate(ranges):
                named[f"lo{i}"], named[f"hi{i}"] = lo, hi
            found = self._cur.execute(candidate_sql_named(n_ranges, has_alt), named).fetchall()
        else:
            n_points = bucket(len(points), 32)
            points = points + [-1] * (n_points - len(points))
            fparams: list[Any] = [to_us(query.end), to_us(query.start)]
            if has_alt:
                fparams += [query.alt_hi, query.alt_lo]
            fparams += [q_lon_hi, q_lon_lo, q_lat_hi, q_lat_lo, query.exclude_owner]
            params: list[Any] = []
            for lo, hi in ranges:
                params += [lo, hi, *fparams]
            params += [*points, *fparams, query.exclude_owner]
            found = self._exec(candidate_sql(n_ranges, n_points, has_alt), params).fetchall()
        # The cells are up to a few times larger than what they hold and a hull is larger than its boxes:
        # drop the rows whose own boxes miss the query's before parsing any geometry.
        rows = []
        for r in found:
            boxes = orjson.loads(r["boxes"])
            if boxes_meet(boxes, query.boxes):
                rows.append((r, boxes))
        return _occupancies(rows)

    def live_occupancies(
        self, op_ids: Collection[str], *, exclude_owner: str = "", near: Sequence[CandidateQuery] = ()
    ) -> builtins.list[Occupancy]:
        out: builtins.list[Occupancy] = []
        live = sorted(s.value for s in LIVE_STATES)
        for part in chunks(sorted(op_ids), 500):
            rows = self._exec(
                f"SELECT {OCCUPANCY_COLS} FROM volumes v JOIN operations o ON o.id = v.op_id "
                f"WHERE v.op_id IN ({', '.join('?' for _ in part)}) AND o.owner_id <> ? "
                f"AND o.state IN ({', '.join('?' for _ in live)}) ORDER BY v.op_id, v.vol_idx",
                [*part, exclude_owner, *live],
            ).fetchall()
            kept = []
            for r in rows:  # the index's own filters, row by row, before any geometry is parsed
                boxes = orjson.loads(r["boxes"])
                if not near or any(_within_reach(r, boxes, q) for q in near):
                    kept.append((r, boxes))
            out += _occupancies(kept)
        return out


def _within_reach(r: Any, boxes: Sequence[Sequence[float]], q: CandidateQuery) -> bool:
    """What the index checks of a volume against a query (``candidate_sql`` and ``candidates``): windows
    and altitude bands meet, boxes meet."""
    if r["t_start"] > to_us(q.end) or r["t_end"] < to_us(q.start):
        return False
    if q.alt_lo is not None and q.alt_hi is not None and (r["alt_lo"] > q.alt_hi or r["alt_hi"] < q.alt_lo):
        return False
    return boxes_meet(boxes, q.boxes)


def _occupancies(rows: Sequence[tuple[Any, Any]]) -> builtins.list[Occupancy]:
    """Volumes as detection reads them, from rows of ``OCCUPANCY_COLS`` and their boxes (parsed)."""
    if not rows:
        return []
    cores = shapely.from_wkb(np.array([bytes(r["core"]) for r, _ in rows], dtype=object))
    return [
        Occupancy(
            r["op_id"],
            r["owner_id"],
            OperationKind(r["kind"]),
            r["ovn"],
            r["vol_idx"],
            Shape(
                core,
                r["radius_m"],
                (r["center_lon"], r["center_lat"]),
                r["reach_m"],
                tuple(tuple(b) for b in boxes),
            ),
            AltitudeBand(r["alt_lo"], r["alt_hi"]),
            TimeWindow(from_us(r["t_start"]), from_us(r["t_end"])),
        )
        for (r, boxes), core in zip(rows, cores, strict=True)
    ]


class SqlMovements(Repo):
    def put(self, op_id: str, op_version: int, movement: Mapping[str, Any], at: datetime) -> None:
        self._exec(
            "INSERT INTO movements (op_id, op_version, body, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (op_id) "
            "DO UPDATE SET op_version = excluded.op_version, body = excluded.body, updated_at = excluded.updated_at",
            (op_id, op_version, orjson.dumps(dict(movement)).decode(), to_us(at)),
        )

    def get(self, op_id: str) -> tuple[int, Mapping[str, Any]] | None:
        r = self._exec("SELECT op_version, body FROM movements WHERE op_id = ?", (op_id,)).fetchone()
        return None if r is None else (int(r["op_version"]), orjson.loads(r["body"]))
