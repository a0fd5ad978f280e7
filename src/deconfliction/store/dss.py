"""Storage of the DSS interface (tables of migration 0020), the same statements on both backends.

Boxes and time ranges pre-filter in SQL; the exact footprint (WKB) decides in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import shapely

from deconfliction.dss.extents import Extent, bounding_box, footprints_meeting
from deconfliction.dss.records import Reference, Subscription

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
    assert extent.footprint is not None
    return bounding_box(extent.footprint)


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

    def reference(self, kind: str, ref_id: str) -> Reference | None:
        r = self._exec(f"SELECT {self._REF} FROM dss_entities WHERE id = ? AND kind = ?", (ref_id, kind)).fetchone()
        return self._ref(r) if r else None

    def put_reference(self, ref: Reference) -> None:
        e = ref.extent
        assert e.footprint is not None and e.alt_lo is not None and e.alt_hi is not None
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

    def delete_reference(self, ref_id: str) -> None:
        self._exec("DELETE FROM dss_entities WHERE id = ?", (ref_id,))

    def search_references(self, kind: str, extent: Extent) -> list[Reference]:
        """References of ``kind`` whose footprint, altitudes and times meet ``extent`` (bounds included)."""
        if extent.footprint is None:
            return []
        x0, y0, x1, y1 = _box(extent)
        sql = (
            f"SELECT {self._REF} FROM dss_entities WHERE kind = ? AND t_end >= ? AND t_start <= ? "
            "AND max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?"
        )
        params: list[Any] = [kind, _us(extent.start, -_FAR), _us(extent.end, _FAR), x0, x1, y0, y1]
        if extent.alt_lo is not None:
            sql += " AND alt_hi >= ?"
            params.append(extent.alt_lo)
        if extent.alt_hi is not None:
            sql += " AND alt_lo <= ?"
            params.append(extent.alt_hi)
        return _meeting(extent, [self._ref(r) for r in self._exec(sql + " ORDER BY id", params).fetchall()])

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

    def put_subscription(self, sub: Subscription) -> None:
        e = sub.extent
        box: tuple[Any, ...] = _box(e) if e.footprint is not None else (None, None, None, None)
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

    def delete_subscription(self, sub_id: str) -> None:
        self._exec("DELETE FROM dss_subscriptions WHERE id = ?", (sub_id,))

    def search_subscriptions(self, extent: Extent, *, flag: str | None = None) -> list[Subscription]:
        """Subscriptions whose footprint and times meet ``extent`` (altitudes are not compared, as the
        reference DSS); ``flag`` keeps those with that notification flag set."""
        if extent.footprint is None:
            return []
        x0, y0, x1, y1 = _box(extent)
        sql = (
            f"SELECT {self._SUB} FROM dss_subscriptions WHERE footprint IS NOT NULL AND t_end >= ? AND t_start <= ? "
            "AND max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?"
        )
        if flag is not None:
            assert flag in ("notify_for_intents", "notify_for_constraints")
            sql += f" AND {flag} = 1"
        params = [_us(extent.start, -_FAR), _us(extent.end, _FAR), x0, x1, y0, y1]
        return _meeting(extent, [self._sub(r) for r in self._exec(sql + " ORDER BY id", params).fetchall()])

    def increment(self, sub_ids: Sequence[str]) -> None:
        if sub_ids:
            marks = ", ".join("?" * len(sub_ids))
            self._exec(
                f"UPDATE dss_subscriptions SET notification_index = notification_index + 1 WHERE id IN ({marks})",
                list(sub_ids),
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
