"""The situation packet: what a party may see around a time, gathered through need-to-know and laid out
as a PDF for degraded communications (docs/packet.md).

Everything comes from the same use cases as ``/v1`` (their need-to-know included): the objects of
``transfer.gather`` (the GeoJSON and KML exports'), the conflicts of ``conflicts.list_conflicts``, the
notifications the caller may read about each conflict, its ladder (``GET /v1/contacts``) and the units it
may see (``GET /v1/units``). The layout is pure (``formats/packet.py``); this module also reads the
basemap files the web map serves (country borders, and ``vendor/basemap/*.geojson`` when installed).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import mgrs  # type: ignore[import-untyped]
import orjson
from shapely.geometry import shape

from deconfliction import wire
from deconfliction.domain.conflict import ConflictState
from deconfliction.domain.footprint import circle_polygon, footprint_display_geojson, footprint_to_geojson
from deconfliction.domain.notification import Notification, NotificationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.volume import format_time
from deconfliction.formats.kml import party_colour
from deconfliction.formats.packet import (
    BasemapFeature,
    ConflictRow,
    ContactRow,
    MapShape,
    Packet,
    covering_lons,
    render_packet,
)
from deconfliction.service import conflicts as conflicts_service
from deconfliction.service import notifications as notes
from deconfliction.service import parties as parties_service
from deconfliction.service import units as units_service
from deconfliction.service.exercise import scenario_clock
from deconfliction.service.ledger import ledger_head
from deconfliction.service.runtime import Runtime
from deconfliction.service.sites import site_record
from deconfliction.service.transfer import gather
from deconfliction.service.views import may_read_notification

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor"
"""The web map's vendor files (built by ``make web``): ``countries.geojson`` and ``basemap/*.geojson``."""

MANY = 1_000_000
LAYERS = (("river", "rivers"), ("lake", "lakes"), ("road", "roads"), ("place", "places"), ("town", "places"))


@dataclass(frozen=True)
class _Indexed:
    layer: str
    geometry: Mapping[str, Any]
    name: str | None
    bounds: tuple[float, float, float, float]


def _layer_of(stem: str) -> str:
    return next((layer for word, layer in LAYERS if word in stem.lower()), "other")


@functools.lru_cache(maxsize=4)
def _basemap_files(folder: str, stamp: tuple[tuple[str, float], ...]) -> tuple[_Indexed, ...]:
    """Every feature of the basemap files with its bounds, read once per set of files (``stamp``: the
    files and their modification times, so files installed later are read then)."""
    found: list[_Indexed] = []
    for file_name, _ in stamp:
        path = Path(folder) / file_name
        layer = "countries" if path.name == "countries.geojson" else _layer_of(path.stem)
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            log.warning("basemap file %s not read: %s", path, exc)
            continue
        features = data.get("features", []) if isinstance(data, dict) else []
        for f in features:
            geometry = f.get("geometry") if isinstance(f, dict) else None
            if not isinstance(geometry, dict):
                continue
            try:
                bounds = shape(dict(geometry)).bounds
            except (ValueError, TypeError, AttributeError, KeyError, IndexError):
                continue
            if len(bounds) != 4 or any(b != b for b in bounds):  # empty: NaN bounds
                continue
            props = f.get("properties") or {}
            label = props.get("name") if isinstance(props, dict) else None
            found.append(_Indexed(layer, geometry, label if isinstance(label, str) else None, bounds))
    return tuple(found)


def basemap_around(area: tuple[float, float, float, float], folder: Path = STATIC) -> tuple[list[BasemapFeature], str]:
    """The basemap features near ``area`` (lon/lat box, with a wide margin), and where they come from."""
    files = [folder / "countries.geojson", *sorted((folder / "basemap").glob("*.geojson"))]
    stamp = tuple((str(p.relative_to(folder)), p.stat().st_mtime) for p in files if p.is_file())
    if not stamp:
        return [], "Basemap: not installed (make web)."
    lon0, lat0, lon1, lat1 = area
    pad = max(lon1 - lon0, lat1 - lat0, 0.2)
    x0, y0, x1, y1 = lon0 - pad, lat0 - pad, lon1 + pad, lat1 + pad
    turns = (0.0, 360.0, -360.0)  # an area across the antimeridian runs past 180: features there are a turn away
    chosen = [
        BasemapFeature(f.layer, f.geometry, f.name)
        for f in _basemap_files(str(folder), stamp)
        if f.bounds[1] <= y1
        and f.bounds[3] >= y0
        and any(f.bounds[0] + t <= x1 and f.bounds[2] + t >= x0 for t in turns)
    ]
    layers = sorted({f.layer for f in chosen} - {"countries"})
    more = f", {', '.join(layers)}" if layers else ""
    return chosen, f"Basemap: Natural Earth borders{more}."


# ------------------------------------------------------------------------------------------- gathering


def _ack_text(
    viewer: Party, told: Sequence[Notification], side_name: str, now: datetime, *, own: bool
) -> tuple[str, str]:
    """(who acknowledged, and when; what is overdue) for one side, from its notifications about the conflict."""
    chased = [
        n
        for n in told
        if n.kind.startswith("conflict.")
        and not n.kind.endswith(notes.ACKNOWLEDGED)
        and n.state is not NotificationState.SUPERSEDED
    ]
    told_of_ack = [n for n in told if n.kind == f"conflict{notes.ACKNOWLEDGED}"]
    overdue = ""
    if own or viewer.sees_all or viewer.role is Role.AUDITOR:
        late = [n for n in chased if n.is_overdue(now)]
        if late:
            since = late[-1].overdue_since()
            overdue = f"{side_name}: OVERDUE" + (f" since {_hm(since)}" if since else "") + f", step {late[-1].step}"
        done = [n for n in chased if n.state is NotificationState.ACKNOWLEDGED and n.acknowledged_at is not None]
        if done:
            last = done[-1]
            assert last.acknowledged_at is not None
            return f"{side_name}: acknowledged {_hm(last.acknowledged_at)}", overdue
        if chased or own:
            return f"{side_name}: not yet acknowledged", overdue
    if told_of_ack:  # the other side's acknowledgement, as the caller was told of it
        body = told_of_ack[-1].body
        raw = body.get("acknowledged_at")
        when = _hm(_time(raw)) if isinstance(raw, str) else ""
        return f"{body.get('acknowledged_by_name') or side_name}: acknowledged {when}", ""
    return f"{side_name}: no acknowledgement known", overdue


def _hm(t: datetime) -> str:
    """To the second, in UTC."""
    return format_time(t.replace(microsecond=0))


def _minute(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%MZ")


def _window(start: datetime, end: datetime) -> str:
    """Whole minutes, the start floored and the end ceiled (never shorter than the real window)."""
    ceiled = end if end == end.replace(second=0, microsecond=0) else end + timedelta(minutes=1)
    tail = _minute(ceiled)
    return f"{_minute(start)} – {tail[11:] if tail[:10] == _minute(start)[:10] else tail}"


def _when(start: datetime, end: datetime, at: datetime) -> str:
    if start <= at < end:
        return "in force"
    minutes = math.ceil((start - at).total_seconds() / 60)
    return f"starts in {minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"starts in {minutes} min"


def _mgrs(geometry: Mapping[str, Any]) -> str:
    try:
        p = shape(dict(geometry)).representative_point()
        text = str(mgrs.MGRS().toMGRS(p.y, p.x, MGRSPrecision=3))
    except Exception:  # outside MGRS (near a pole) or an odd region: no reference
        return "—"
    # 37SFV036102 -> 37S FV 036 102 (100 m)
    return f"{text[:-8]} {text[-8:-6]} {text[-6:-3]} {text[-3:]}"


def _time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def build_packet(rt: Runtime, viewer: Party, at: datetime, paper: str = "a4") -> Packet:
    """The packet's plain data for ``viewer`` at ``at``: need-to-know exactly as ``/v1``."""
    now = rt.clock()
    scene = gather(rt, viewer)
    names = {p.id: p.name for p in parties_service.list_parties(rt, viewer, limit=MANY)}
    open_conflicts = [
        wire.to_record(c) for c in conflicts_service.list_conflicts(rt, viewer, state=ConflictState.OPEN, limit=MANY)
    ]
    titles = {o.id: o.title or o.id for o in scene.operations}
    titles |= {s.id: f"site {s.name}" for s in scene.sites} | {z.id: f"zone {z.name}" for z in scene.zones}
    titles |= {line.id: f"line {line.name or line.id}" for line in scene.lines}

    shapes: list[MapShape] = []
    focus: list[Mapping[str, Any]] = []
    for op in scene.operations:
        rgb = party_colour(names.get(op.owner_id, op.owner_id))
        for v in op.volumes:
            if v.window.start <= at < v.window.end:
                geometry = footprint_display_geojson(v.footprint)
                shapes.append(MapShape("operation", geometry, titles[op.id], rgb))
                focus.append(geometry)
    rows: list[ConflictRow] = []
    listed = [c for c in open_conflicts if _time(c["window"]["end"]) > at]
    listed.sort(key=lambda c: (c["window"]["start"], c["id"]))
    told = _notifications_about(rt, viewer, listed)
    for i, c in enumerate(listed, start=1):
        number = f"C{i}"
        start, end = _time(c["window"]["start"]), _time(c["window"]["end"])
        in_force = [
            e["region"]
            for e in c.get("encounters", [])
            if _time(e["window"]["start"]) <= at < _time(e["window"]["end"])
        ]
        now_at = start <= at < end
        region = {"type": "GeometryCollection", "geometries": in_force} if in_force else c["region"]
        shapes.append(MapShape("conflict", region, number, now=now_at))
        focus.append(c["region"])
        if "sides" in c:  # the coordinator: both sides
            sides = c["sides"]
            mine = " / ".join(f"{s['party_name']}: {titles.get(s['operation'], s['operation'])}" for s in sides)
            other = " and ".join(str(s["party_name"]) for s in sides)
            acks = [
                _ack_text(viewer, told.get((c["id"], s["party"]), ()), str(s["party_name"]), now, own=False)
                for s in sides
            ]
        else:
            mine = titles.get(c["operation"], c["operation"])
            other = str(c["counterpart"]["party_name"] or c["counterpart"]["party"])
            own_ack = _ack_text(viewer, told.get((c["id"], viewer.id), ()), "you", now, own=True)
            other_ack = _ack_text(viewer, told.get((c["id"], viewer.id), ()), other, now, own=False)
            acks = [own_ack, other_ack]
        if c.get("unit"):
            mine += f" (unit {scene.units.get(c['unit'], c['unit'])})"
        rows.append(
            ConflictRow(
                number=number,
                window=_window(start, end),
                when=_when(start, end, at),
                mine=mine,
                other=other,
                what=f"{c['rule']['name']}, closest {c['min_horizontal_m']:g} m",
                where=_mgrs(region),
                state=c["state"],
                acknowledged="; ".join(a for a, _ in acks),
                overdue="; ".join(o for _, o in acks if o),
            )
        )

    for z in scene.zones:
        if z.validity.start <= at < z.validity.end:
            proposed = z.state.value != "agreed"
            rgb = party_colour(names.get(z.owner_id, z.owner_id))
            label = f"{z.name}" + (" (proposed)" if proposed else "")
            shapes.append(MapShape("zone", footprint_to_geojson(z.footprint), label, rgb, dashed=proposed))
    for line in scene.lines:
        if line.withdrawn_at is None:
            geometry = {"type": "LineString", "coordinates": [list(p) for p in line.line]}
            shapes.append(MapShape("line", geometry, line.name or line.id))
    for s in scene.sites:
        rgb = party_colour(names.get(s.owner_id, s.owner_id))
        geometry = site_record(s, now)["footprint"]
        if geometry["type"] == "Point" and s.radius_m > 0:
            lon, lat = geometry["coordinates"][:2]
            ring = [list(p) for p in circle_polygon((lon, lat), s.radius_m)]
            shapes.append(MapShape("site", {"type": "Polygon", "coordinates": [ring]}, "", rgb, dashed=True))
        shapes.append(MapShape("site", geometry, s.name, rgb))

    area = (
        _area(focus)
        or _area(_op_geometries(scene.operations))
        or _area(
            [footprint_to_geojson(z.footprint) for z in scene.zones]
            + [site_record(s, now)["footprint"] for s in scene.sites]
        )
    )
    basemap, source = basemap_around(area) if area else ([], "")
    on_map = {names.get(o.owner_id, o.owner_id) for o in scene.operations} | {
        names.get(z.owner_id, z.owner_id) for z in scene.zones
    }
    head_seq, head_hash = ledger_head(rt)
    clock = scenario_clock(rt)
    return Packet(
        party=viewer.name + (f" (unit {scene.units.get(viewer.unit_id, viewer.unit_id)})" if viewer.unit_id else ""),
        role=viewer.role.value,
        at=_hm(at),
        generated_at=_hm(now),
        ledger_seq=head_seq,
        ledger_hash=head_hash,
        paper=paper,
        exercise="EXERCISE" if clock is not None else None,
        shapes=shapes,
        basemap=basemap,
        area=area,
        conflicts=rows,
        contacts=_contacts(rt, viewer, names),
        notes=_contact_notes(viewer, names, listed),
        parties=[(n, party_colour(n)) for n in sorted(on_map)],
        basemap_source=source,
        mine_header="Sides" if viewer.sees_all else "Mine",
    )


def _op_geometries(operations: Iterable[Any]) -> list[Mapping[str, Any]]:
    return [footprint_display_geojson(v.footprint) for o in operations for v in o.volumes]


def _area(geometries: Sequence[Mapping[str, Any]]) -> tuple[float, float, float, float] | None:
    """The lon/lat box around ``geometries``, 15 % larger (None: none); across the antimeridian its east
    is past 180 (``covering_lons``)."""
    spans: list[tuple[float, float]] = []
    lats: list[float] = []
    for g in geometries:
        try:
            geom = shape(dict(g))
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            continue
        for part in getattr(geom, "geoms", [geom]):  # each part: RFC 7946 splits shapes at the antimeridian
            b = part.bounds
            if len(b) == 4 and all(v == v for v in b):
                spans.append((b[0], b[2]))
                lats += [b[1], b[3]]
    lons = covering_lons(spans)
    if lons is None:
        return None
    (x0, x1), y0, y1 = lons, min(lats), max(lats)
    px, py = (x1 - x0) * 0.15, (y1 - y0) * 0.15
    if x1 - x0 + 2 * px >= 360.0:
        x0, x1, px = -180.0, 180.0, 0.0
    return (x0 - px, max(y0 - py, -85.0), x1 + px, min(y1 + py, 85.0))


def _notifications_about(
    rt: Runtime, viewer: Party, listed: Sequence[Mapping[str, Any]]
) -> dict[tuple[str, str], list[Notification]]:
    """For each listed conflict and each side the viewer may read the notifications of (a party: its
    own; the coordinator and auditors: both), the notifications about it, oldest first."""
    out: dict[tuple[str, str], list[Notification]] = {}
    with rt.store.read() as tx:
        for c in listed:
            sides = [s["party"] for s in c["sides"]] if "sides" in c else [viewer.id]
            for party_id in sides:
                found = tx.notifications.for_subject(party_id, c["id"])
                out[(c["id"], party_id)] = [n for n in found if may_read_notification(viewer, n)]
    return out


def _contacts(rt: Runtime, viewer: Party, names: Mapping[str, str]) -> list[ContactRow]:
    """The caller's own ladder (``GET /v1/contacts``), then the ladders of the units it may see
    (``GET /v1/units``: its own party's; the coordinator's: every party's)."""
    rows = [
        ContactRow(f"{viewer.name} (watch desk)", i, c.name, dict(c.channels))
        for i, c in enumerate(notes.get_contacts(rt, viewer), start=1)
    ]
    for u in units_service.list_units(rt, viewer, limit=MANY):
        ladder = f"{names.get(u.party_id, u.party_id)}: unit {u.name}"
        rows += [ContactRow(ladder, i, c.name, dict(c.channels)) for i, c in enumerate(u.contacts, start=1)]
    return rows


def _contact_notes(viewer: Party, names: Mapping[str, str], listed: Sequence[Mapping[str, Any]]) -> list[str]:
    if viewer.sees_all:
        return ["Other parties' own ladders are theirs (GET /v1/contacts); their units' ladders are listed above."]
    others = sorted({str(c["counterpart"]["party_name"]) for c in listed if "counterpart" in c})
    if not others:
        return []
    return [
        f"The other parties ({', '.join(others)}) keep their contacts to themselves: reach them through the "
        "coordinator or the hotline."
    ]


def situation_packet(rt: Runtime, viewer: Party, at: datetime | None = None, paper: str = "a4") -> bytes:
    """The PDF for ``viewer`` at ``at`` (default: the service's now) on ``paper`` (a4 or letter)."""
    return render_packet(build_packet(rt, viewer, at or rt.clock(), paper))
