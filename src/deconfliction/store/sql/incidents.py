"""Incident reports."""

from __future__ import annotations

import builtins

import orjson

from deconfliction.domain.incident import Incident
from deconfliction.store.sql.base import Repo, Row, from_us, to_us


class SqlIncidents(Repo):
    @staticmethod
    def _row(r: Row) -> Incident:
        b = orjson.loads(r["body"])
        return Incident(
            r["id"],
            b["reporter"],
            b["lon"],
            b["lat"],
            from_us(b["at"]),
            b["description"],
            b["radius_m"],
            b["before_s"],
            b["after_s"],
            from_us(r["created_at"]),
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
