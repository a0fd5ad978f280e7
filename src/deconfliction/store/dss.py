"""Storage of the DSS interface (tables of migrations 0020 and 0029), the same statements on both backends.

A search reads the rows filed under the cells its box may meet (``dss_cells``, the cells of the
operations' index: ``covering`` to file, ``query_keys`` to ask, docs/index.md); boxes and time ranges
filter in SQL; the exact footprint (WKB) decides in Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

import shapely

from deconfliction.domain.cells import covering
from deconfliction.dss.extents import Extent, footprints_meeting
from deconfliction.dss.records import Reference, Subscription
from deconfliction.store.sql.index import bucket, query_keys

SUBSCRIPTION = "subscription"
"""The kind under which subscriptions are filed in ``dss_cells`` (references are filed under theirs)."""

R = TypeVar("R", Reference, Subscription)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FAR = 2**62


def _us(value: datetime | None, default: int) -> int:
    if value is None:
        return default
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _time(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _box(extent: Extent) -> tuple[float, float, float, float]:
    assert extent.box is not None
    return extent.box


@lru_cache(maxsize=256)
def _cells(box: tuple[float, float, float, float]) -> tuple[int, ...]:
    """The cells a box is filed under (a write files its reference and its implicit subscription under
    the same box, and its searches ask for the same box: each computed once)."""
    return tuple(cell for _, cell in covering((box,)))


@lru_cache(maxsize=256)
def _keys(box: tuple[float, float, float, float]) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    ranges, points = query_keys([box])
    return tuple(ranges), tuple(points)


@lru_cache(maxsize=32)
def _filed_sql(n_ranges: int, n_points: int, postgres: bool) -> str:
    """The ids filed under a query's cells: one index range per cell range, one look-up of the ancestors
    (padded to a few sizes by the caller, so that the statement text repeats and its plan is reused)."""
    ranges = ["SELECT id FROM dss_cells WHERE kind = ? AND cell BETWEEN ? AND ?"] * n_ranges
    points = "cell = ANY(?)" if postgres else f"cell IN ({', '.join('?' * n_points)})"
    return " UNION ".join([*ranges, f"SELECT id FROM dss_cells WHERE kind = ? AND {points}"])


def _meeting(extent: Extent, found: list[R]) -> list[R]:
    """The records among ``found`` (boxes and times already met) whose exact footprint meets ``extent``'s."""
    assert extent.footprint is not None
    shaped = [(r, r.extent.footprint) for r in found if r.extent.footprint is not None]
    meets = footprints_meeting(extent.footprint, [f for _, f in shaped])
    return [r for (r, _), m in zip(shaped, meets, strict=True) if m]


class SqlDss:
    _REF = (
        "id, kind, manager, version, ovn, state, uss_base_url, subscription_id, t_start, t_end, alt_lo, alt_hi, "
        "footprint, mirror_id"
    )
    _SUB = (
        "id, manager, version, notification_index, uss_base_url, notify_for_intents, notify_for_constraints, "
        "implicit, t_start, t_end, alt_lo, alt_hi, footprint"
    )

    def __init__(self, cur: Any, dialect: Any) -> None:
        self._cur = cur
        self._d = dialect

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._cur.execute(self._d.q(sql), params)
        return self._cur

    # ------------------------------------------------------------------------------------- references

    @classmethod
    def _ref(cls, row: Any) -> Reference:
        r = [row[c.strip()] for c in cls._REF.split(",")]  # by column name, in the order of _REF
        extent = Extent(shapely.from_wkb(bytes(r[12])), r[10], r[11], _time(r[8]), _time(r[9]))
        return Reference(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], extent, r[13])

    def reference(self, kind: str | None, ref_id: str) -> Reference | None:
        where, params = ("id = ?", (ref_id,)) if kind is None else ("id = ? AND kind = ?", (ref_id, kind))
        r = self._exec(f"SELECT {self._REF} FROM dss_entities WHERE {where}", params).fetchone()
        return self._ref(r) if r else None

    def put_reference(self, ref: Reference, *, new: bool = False) -> None:
        e = ref.extent
        assert e.footprint is not None and e.alt_lo is not None and e.alt_hi is not None
        if not new:
            self._exec("DELETE FROM dss_entities WHERE id = ?", (ref.id,))
        self._exec(
            "INSERT INTO dss_entities (id, kind, manager, version, ovn, state, uss_base_url, subscription_id, "
            "t_start, t_end, alt_lo, alt_hi, min_lon, min_lat, max_lon, max_lat, footprint, mirror_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ref.id,
                ref.kind,
                ref.manager,
                ref.version,
                ref.ovn,
                ref.state,
                ref.uss_base_url,
                ref.subscription_id,
                _us(e.start, -_FAR),
                _us(e.end, _FAR),
                e.alt_lo,
                e.alt_hi,
                *_box(e),
                shapely.to_wkb(e.footprint),
                ref.mirror_id,
            ),
        )
        self._file(ref.kind, ref.id, e, new)

    def delete_reference(self, ref_id: str) -> None:
        self._exec("DELETE FROM dss_entities WHERE id = ?", (ref_id,))
        self._exec("DELETE FROM dss_cells WHERE id = ? AND kind <> ?", (ref_id, SUBSCRIPTION))

    def _file(self, kind: str, entity_id: str, extent: Extent, new: bool) -> None:
        """File ``entity_id`` under the cells of its extent's box, in place of where it was filed (``new``:
        it was not)."""
        if not new:
            self._exec("DELETE FROM dss_cells WHERE id = ? AND kind = ?", (entity_id, kind))
        if extent.footprint is not None:
            rows = [(kind, cell, entity_id) for cell in _cells(_box(extent))]
            self._cur.executemany(self._d.q("INSERT INTO dss_cells (kind, cell, id) VALUES (?, ?, ?)"), rows)

    def _near(self, table: str, cols: str, kind: str, extent: Extent, where: str, extra: list[Any]) -> list[Any]:
        """The rows of ``table`` filed under ``kind`` in a cell that may meet ``extent``, whose boxes and
        times meet it and that pass ``where`` (its parameters ``extra``), by id."""
        filed, params = self._filed(kind, extent)
        x0, y0, x1, y1 = _box(extent)
        picked = ", ".join(f"t.{c.strip()}" for c in cols.split(","))
        # CROSS JOIN keeps SQLite's join order: the index's few ids first, not every row of the time range
        sql = (
            f"SELECT {picked} FROM ({filed}) f CROSS JOIN {table} t WHERE t.id = f.id "
            "AND t.t_end >= ? AND t.t_start <= ? AND t.max_lon >= ? AND t.min_lon <= ? "
            f"AND t.max_lat >= ? AND t.min_lat <= ?{where} ORDER BY t.id"
        )
        params += [_us(extent.start, -_FAR), _us(extent.end, _FAR), x0, x1, y0, y1, *extra]
        return list(self._exec(sql, params).fetchall())

    def _filed(self, kind: str, extent: Extent) -> tuple[str, list[Any]]:
        """A subquery of the ids of ``kind`` filed under a cell that may meet ``extent``'s box, and its
        parameters."""
        cell_ranges, cell_points = _keys(_box(extent))
        ranges = [*cell_ranges, *[(-1, -1)] * (bucket(len(cell_ranges), 4) - len(cell_ranges))]  # ids are >= 0
        points = list(cell_points)
        n_ranges = len(ranges)
        params: list[Any] = [p for lo, hi in ranges for p in (kind, lo, hi)]
        postgres = self._d.name == "postgresql"
        if postgres:
            params += [kind, points]
            return _filed_sql(n_ranges, 0, True), params
        n_points = bucket(len(points), 32)
        params += [kind, *points, *[-1] * (n_points - len(points))]
        return _filed_sql(n_ranges, n_points, False), params

    def search_references(self, kind: str, extent: Extent) -> list[Reference]:
        """References of ``kind`` whose footprint, altitudes and times meet ``extent`` (bounds included)."""
        if extent.footprint is None:
            return []
        where = " AND t.kind = ?"
        extra: list[Any] = [kind]
        if extent.alt_lo is not None:
            where += " AND t.alt_hi >= ?"
            extra.append(extent.alt_lo)
        if extent.alt_hi is not None:
            where += " AND t.alt_lo <= ?"
            extra.append(extent.alt_hi)
        return _meeting(
            extent, [self._ref(r) for r in self._near("dss_entities", self._REF, kind, extent, where, extra)]
        )

    def dependents(self, subscription_id: str) -> list[str]:
        rows = self._exec(
            "SELECT id FROM dss_entities WHERE subscription_id = ? AND kind = 'intent' ORDER BY id", (subscription_id,)
        ).fetchall()
        return [r["id"] for r in rows]

    # ------------------------------------------------------------------------------------ subscriptions

    @classmethod
    def _sub(cls, row: Any) -> Subscription:
        r = [row[c.strip()] for c in cls._SUB.split(",")]  # by column name, in the order of _SUB
        footprint = shapely.from_wkb(bytes(r[12])) if r[12] is not None else None
        extent = Extent(footprint, r[10], r[11], _time(r[8]), _time(r[9]))
        return Subscription(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6]), bool(r[7]), extent)

    def subscription(self, sub_id: str) -> Subscription | None:
        r = self._exec(f"SELECT {self._SUB} FROM dss_subscriptions WHERE id = ?", (sub_id,)).fetchone()
        return self._sub(r) if r else None

    def put_subscription(self, sub: Subscription, *, new: bool = False) -> None:
        e = sub.extent
        box: tuple[Any, ...] = _box(e) if e.footprint is not None else (None, None, None, None)
        if not new:
            self._exec("DELETE FROM dss_subscriptions WHERE id = ?", (sub.id,))
        self._exec(
            "INSERT INTO dss_subscriptions (id, manager, version, notification_index, uss_base_url, "
            "notify_for_intents, notify_for_constraints, implicit, t_start, t_end, alt_lo, alt_hi, "
            "min_lon, min_lat, max_lon, max_lat, footprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sub.id,
                sub.manager,
                sub.version,
                sub.notification_index,
                sub.uss_base_url,
                int(sub.notify_for_intents),
                int(sub.notify_for_constraints),
                int(sub.implicit),
                _us(e.start, -_FAR),
                _us(e.end, _FAR),
                e.alt_lo,
                e.alt_hi,
                *box,
                shapely.to_wkb(e.footprint) if e.footprint is not None else None,
            ),
        )
        self._file(SUBSCRIPTION, sub.id, e, new)

    def delete_subscription(self, sub_id: str) -> None:
        self._exec("DELETE FROM dss_subscriptions WHERE id = ?", (sub_id,))
        self._exec("DELETE FROM dss_cells WHERE id = ? AND kind = ?", (sub_id, SUBSCRIPTION))

    def search_subscriptions(self, extent: Extent, *, flag: str | None = None) -> list[Subscription]:
        """Subscriptions whose footprint and times meet ``extent`` (altitudes are not compared, as the
        reference DSS); ``flag`` keeps those with that notification flag set."""
        if extent.footprint is None:
            return []
        where = " AND t.footprint IS NOT NULL"
        if flag is not None:
            assert flag in ("notify_for_intents", "notify_for_constraints")
            where += f" AND t.{flag} = 1"
        found = self._near("dss_subscriptions", self._SUB, SUBSCRIPTION, extent, where, [])
        return _meeting(extent, [self._sub(r) for r in found])

    def increment(self, sub_ids: Sequence[str]) -> None:
        """One more notification for each id, as often as it is named (one statement per multiplicity)."""
        by_times: dict[int, list[str]] = {}
        for sub_id, times in Counter(sub_ids).items():
            by_times.setdefault(times, []).append(sub_id)
        for times, ids in by_times.items():
            self._exec(
                "UPDATE dss_subscriptions SET notification_index = notification_index + ? "
                f"WHERE id IN ({', '.join('?' * len(ids))})",
                [times, *ids],
            )

    # ------------------------------------------------------------------------------ availability, reports

    def availability(self, uss_id: str) -> tuple[str, str] | None:
        r = self._exec("SELECT availability, version FROM dss_availability WHERE uss_id = ?", (uss_id,)).fetchone()
        return (r["availability"], r["version"]) if r else None

    def put_availability(self, uss_id: str, availability: str, version: str) -> None:
        self._exec("DELETE FROM dss_availability WHERE uss_id = ?", (uss_id,))
        self._exec(
            "INSERT INTO dss_availability (uss_id, availability, version) VALUES (?, ?, ?)",
            (uss_id, availability, version),
        )

    def add_report(self, report_id: str, reporter: str, at: datetime, body: str) -> None:
        self._exec(
            "INSERT INTO dss_reports (id, reporter, received_at, body) VALUES (?, ?, ?, ?)",
            (report_id, reporter, _us(at, 0), body),
        )
