"""Zones, protected sites and deconfliction lines, with the box index area detection reads."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from deconfliction.domain.footprint import (
    CorridorFootprint,
    PolygonFootprint,
    footprint_from_trusted,
    footprint_to_geojson,
    shape_from_core,
)
from deconfliction.domain.line import Band
from deconfliction.domain.site import ProtectedSite, SiteCategory, SitePoint, SiteState
from deconfliction.domain.volume import TimeWindow
from deconfliction.domain.zone import Zone, ZoneAnswer, ZoneState
from deconfliction.store.ports import LineRecord, chunks
from deconfliction.store.sql.base import Repo, Row, from_us, to_us


class _AreaIndex(Repo):
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
        return SqlAreaIndex(self._cur, self._d).near({kind: boxes})[kind]


_MEETS = "(lat_lo <= ? AND lat_hi >= ? AND lon_lo <= ? AND lon_hi >= ?)"


class SqlAreaIndex(Repo):
    def near(self, boxes: Mapping[str, Sequence[Sequence[float]]]) -> dict[str, builtins.list[str]]:
        found: dict[str, builtins.list[str]] = {kind: [] for kind in boxes}
        selects: list[str] = []
        params: list[Any] = []
        for kind, kind_boxes in boxes.items():
            if kind_boxes:
                meets = " OR ".join(_MEETS for _ in kind_boxes)
                selects.append(f"SELECT kind, target_id FROM area_boxes WHERE kind = ? AND ({meets})")
                params.append(kind)
                for lon0, lat0, lon1, lat1 in kind_boxes:
                    params += [lat1, lat0, lon1, lon0]
        if selects:  # UNION: each key once
            for r in self._exec(" UNION ".join(selects) + " ORDER BY kind, target_id", params).fetchall():
                found[r["kind"]].append(r["target_id"])
        return found


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
    def _row(r: Row) -> ProtectedSite:
        b = orjson.loads(r["body"])
        fp = b["footprint"]
        footprint = (
            SitePoint((fp["coordinates"][0], fp["coordinates"][1]))
            if fp["type"] == "Point"
            else footprint_from_trusted(fp)
        )
        assert isinstance(footprint, SitePoint | PolygonFootprint)  # stored by _site_body
        return ProtectedSite(
            r["id"],
            r["owner_id"],
            b["name"],
            SiteCategory(b["category"]),
            footprint,
            b["radius_m"],
            b["accuracy_m"],
            from_us(b["valid_until"]),
            SiteState(r["state"]),
            b["version"],
            from_us(r["created_at"]),
            from_us(r["updated_at"]),
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
        return self.filed(self._near_ids("site", boxes))

    def filed(self, keys: Sequence[str]) -> builtins.list[tuple[ProtectedSite, str]]:
        out = []
        for part in chunks(keys, 500):
            rows = self._exec(
                f"SELECT {self._COLS}, token FROM sites WHERE id IN ({', '.join('?' for _ in part)}) ORDER BY id", part
            ).fetchall()
            out += [(self._row(r), str(r["token"])) for r in rows]
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
    def _row(r: Row) -> Zone:
        b = orjson.loads(r["body"])
        fp = footprint_from_trusted(b["footprint"])
        assert isinstance(fp, PolygonFootprint)  # a zone is an area
        return Zone(
            r["id"],
            int(r["version"]),
            r["owner_id"],
            tuple(b["counterparties"]),
            b["name"],
            fp,
            TimeWindow(from_us(b["validity"][0]), from_us(b["validity"][1])),
            ZoneState(r["state"]),
            tuple((p, ZoneAnswer(a)) for p, a in b["answers"]),
            b["revision"],
            from_us(r["created_at"]),
            from_us(r["updated_at"]),
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
            r["id"]
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
        return self.filed(self._near_ids("zone", boxes))

    def filed(self, keys: Sequence[str]) -> builtins.list[tuple[Zone, str]]:
        out = []
        for key in keys:
            zone_id, _, version = key.rpartition("@")
            r = self._exec(
                f"SELECT {self._COLS}, token FROM zones WHERE id = ? AND version = ?", (zone_id, int(version))
            ).fetchone()
            if r is not None:
                out.append((self._row(r), str(r["token"])))
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
    def _row(r: Row) -> LineRecord:
        b = orjson.loads(r["body"])
        return LineRecord(
            r["id"],
            r["creator_id"],
            b["name"],
            b["area"],
            tuple((p[0], p[1]) for p in b["line"]),
            r["party_left"],
            r["party_right"],
            b["zone_left"],
            b["zone_right"],
            None if b["band"] is None else _band(b["band"]),
            from_us(r["created_at"]),
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
        return self.bands_filed(self._near_ids("band", boxes))

    def bands_filed(self, keys: Sequence[str]) -> builtins.list[tuple[Band, str]]:
        out = []
        for line_id in keys:
            r = self._exec(f"SELECT {self._COLS}, token FROM lines WHERE id = ?", (line_id,)).fetchone()
            if r is not None:
                line = self._row(r)
                if line.band is not None:
                    out.append((line.band, str(r["token"])))
        return out
