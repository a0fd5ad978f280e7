"""Builds the tactical service from the settings: the policy file, the feeds and their parties."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Geod

from deconfliction.domain.footprint import footprint_to_geojson
from deconfliction.domain.geo import wrap_longitude
from deconfliction.domain.line import band_outline
from deconfliction.domain.operation import OperationState
from deconfliction.domain.site import SitePoint
from deconfliction.domain.tactical import NO_PARTY, TacticalPolicy
from deconfliction.domain.tactical.declared import DeclaredVolume
from deconfliction.domain.tactical.flat import EarthModel
from deconfliction.domain.tactical.zones import Site as AreaSite
from deconfliction.domain.tactical.zones import Zone as AreaZone
from deconfliction.domain.zone import ZoneState
from deconfliction.errors import InvalidInput
from deconfliction.service.events import alert_changed, cycled, ingested
from deconfliction.service.notifications import notify_alerts
from deconfliction.service.runtime import Runtime
from deconfliction.service.tactical.cycle import TacticalService
from deconfliction.service.tactical.feeds import CotTcpListener, CotUdpListener, Endpoint, SbsClient, parse_endpoints
from deconfliction.store.election import lease_for
from deconfliction.store.tactical import MemoryAlerts, SqlAlerts, SqlCycleBeats, SqlTracks, open_tactical_db
from deconfliction.store.tracks import EPOCH, TrackStore


def _party_ids(rt: Runtime) -> dict[str, str]:
    """Every party's name and id, mapped to its id (feeds and the policy file may use either)."""
    out: dict[str, str] = {}
    with rt.store.read() as tx:
        after = None
        while True:
            page = tx.parties.list(after=after, limit=500)
            for p in page:
                out[p.name] = p.id
                out[p.id] = p.id
            if len(page) < 500:
                return out
            after = page[-1].id


def load_policy(path: str | None, party_ids: dict[str, str]) -> TacticalPolicy:
    """The tactical policy of a JSON file (docs/tactical.md), or the defaults; a bad file stops the start
    with the file's name and every field at fault."""
    if not path:
        return TacticalPolicy()
    raw: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"DECONFLICTION_TACTICAL_POLICY_FILE {path}: expected a JSON object")
    try:
        return TacticalPolicy.from_mapping(raw, party_ids)
    except InvalidInput as exc:
        reasons = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        raise ValueError(f"DECONFLICTION_TACTICAL_POLICY_FILE {path}: {reasons}") from None


def build_tactical(
    rt: Runtime,
    *,
    cycle_s: float,
    expiry_s: float,
    policy_file: str | None,
    sbs_feeds: str | None,
    cot_udp: str | None,
    cot_tcp: str | None,
    earth_model: EarthModel = "wgs84",
) -> TacticalService:
    """The tactical service of a server process over ``rt``'s database: tracks, alerts and the cycle's
    election shared with every other process on it (docs/tactical.md, Several processes)."""
    needs_parties = bool(policy_file or sbs_feeds or cot_udp or cot_tcp)
    party_ids = _party_ids(rt) if needs_parties else {}
    policy = load_policy(policy_file, party_ids)
    db = open_tactical_db(rt.store)  # None for a store that names no database (a test's stand-in)
    service = TacticalService(
        policy=policy,
        clock=rt.clock,
        new_id=lambda: rt.ids.new_id("al"),
        store=TrackStore(expiry_s=expiry_s) if db is None else SqlTracks(db, expiry_s=expiry_s),
        cycle_s=cycle_s,
        listeners=[lambda change: alert_changed(rt, change)],
        batch_listeners=[lambda changes: notify_alerts(rt, changes)],
        areas=AreasInForce(rt),
        earth_model=earth_model,
        declared=DeclaredInForce(rt),
        on_ingest=lambda path, result: ingested(rt, path, result.accepted),
        on_cycle=lambda report, period_s: cycled(rt, report, period_s),
        alert_store=MemoryAlerts() if db is None else SqlAlerts(db),
        lease=None if db is None else lease_for(rt.store),
        beats=None if db is None else SqlCycleBeats(db),
        db=db,
    )

    def party_of(ep: Endpoint, setting: str) -> str:
        if ep.sensor is not None:
            return NO_PARTY
        if ep.party not in party_ids:
            raise ValueError(f"{setting}: no party named {ep.party!r}")
        return party_ids[ep.party]

    make: list[tuple[str | None, str, Callable[[Endpoint, str], SbsClient | CotUdpListener | CotTcpListener]]] = [
        (
            sbs_feeds,
            "DECONFLICTION_SBS_FEEDS",
            lambda ep, pid: SbsClient(ep, pid, lambda r: service.ingest_soon(r, "sbs"), rt.clock),
        ),
        (
            cot_udp,
            "DECONFLICTION_COT_UDP",
            lambda ep, pid: CotUdpListener(ep, pid, lambda r: service.ingest_soon(r, "cot_udp"), rt.clock),
        ),
        (
            cot_tcp,
            "DECONFLICTION_COT_TCP",
            lambda ep, pid: CotTcpListener(ep, pid, lambda r: service.ingest_soon(r, "cot_tcp"), rt.clock),
        ),
    ]
    for raw, setting, factory in make:
        for ep in parse_endpoints(raw, setting):
            service.add_feed(factory(ep, party_of(ep, setting)))
    return service


_GEOD = Geod(ellps="WGS84")


class AreasInForce:
    """Agreed zones in force, the bands of lines in force (one copy per side's party, ``kind`` band), and
    active protected sites, as the entry prediction takes them; read from
    the store at most every ``ttl_s`` seconds (they change rarely, the cycle runs every second). A site is
    a point with radius + stated accuracy; a polygon site is the circle around its vertex mean through its
    farthest vertex (``site_circle``), grown the same way (a conservative stand-in: it may warn early, never late)."""

    def __init__(self, rt: Runtime, ttl_s: float = 5.0) -> None:
        self.rt, self.ttl_s = rt, ttl_s
        self._at = -1e18
        self._cached: tuple[list[AreaZone], list[AreaSite]] = ([], [])

    def __call__(self) -> tuple[list[AreaZone], list[AreaSite]]:
        if time.monotonic() - self._at >= self.ttl_s:
            self._cached, self._at = self._read(), time.monotonic()
        return self._cached

    def _read(self) -> tuple[list[AreaZone], list[AreaSite]]:
        now = self.rt.clock()
        zones: list[AreaZone] = []
        sites: list[AreaSite] = []
        with self.rt.store.read() as tx:
            after = None
            while batch := tx.zones.list(after=after, limit=500):
                after = batch[-1].id
                for z in batch:
                    if z.state is ZoneState.AGREED and z.validity.start <= now < z.validity.end:
                        for poly in footprint_polygons(z.footprint):
                            zones.append(AreaZone(z.id, z.owner_id, poly))
            after = None
            while lines := tx.lines.list(after=after, limit=500):
                after = lines[-1].id
                for line in lines:
                    band = line.band
                    if band is None or line.withdrawn_at is not None:
                        continue
                    if not band.validity.start <= now < band.validity.end:
                        continue
                    rings = band_rings(band)
                    for owner in dict.fromkeys((band.party_left, band.party_right)):
                        zones.append(AreaZone(band.id, owner, rings, "band"))
            after = None
            while active := tx.sites.list(active=True, after=after, limit=500):
                after = active[-1].id
                for s in active:
                    lon, lat, extra = site_circle(s)
                    sites.append(AreaSite(s.id, s.owner_id, lon, lat, s.radius_m + s.accuracy_m + extra))
        return zones, sites


def band_rings(band: Any) -> tuple[tuple[tuple[float, float], ...], ...]:
    """A band's outline as polygon rings: drawn with a vertex every 200 m (within millimetres of the
    corridor), then the vertices that lie within 1e-6 degrees (about 0.1 m) of a straight line through
    their neighbours dropped (the entry prediction densifies edges to 1 km again, geodesically)."""
    outline = band_outline(band).simplify(1e-6)
    polygon = outline if isinstance(outline, shapely.Polygon) else max(outline.geoms, key=lambda g: g.area)  # type: ignore[attr-defined]
    exterior = tuple((float(x), float(y)) for x, y in polygon.exterior.coords)
    holes = tuple(tuple((float(x), float(y)) for x, y in h.coords) for h in polygon.interiors)
    return (exterior, *holes)


class DeclaredInForce:
    """The volumes of every active operation (a movement's are its swept corridors), by party: what each
    party declared, for comparing its live tracks with (``domain.tactical.declared``). Read from the
    store at most every ``ttl_s`` seconds."""

    def __init__(self, rt: Runtime, ttl_s: float = 5.0) -> None:
        self.rt, self.ttl_s = rt, ttl_s
        self._at = -1e18
        self._cached: dict[str, list[DeclaredVolume]] = {}

    def __call__(self) -> dict[str, list[DeclaredVolume]]:
        if time.monotonic() - self._at >= self.ttl_s:
            self._cached, self._at = self._read(), time.monotonic()
        return self._cached

    def invalidate(self) -> None:
        self._at = -1e18

    def _read(self) -> dict[str, list[DeclaredVolume]]:
        out: dict[str, list[DeclaredVolume]] = {}
        with self.rt.store.read() as tx:
            after = None
            while batch := tx.operations.list(states=[OperationState.ACTIVE], after=after, limit=500):
                after = batch[-1].id
                for op in batch:
                    for v in op.volumes:
                        out.setdefault(op.owner_id, []).append(
                            DeclaredVolume(
                                op.owner_id,
                                op.id,
                                v.shape,
                                v.altitude.lower_m,
                                v.altitude.upper_m,
                                (v.window.start - EPOCH).total_seconds(),
                                (v.window.end - EPOCH).total_seconds(),
                            )
                        )
        return out


def footprint_polygons(fp: Any) -> list[tuple[tuple[tuple[float, float], ...], ...]]:
    """The rings of each polygon of a zone's footprint, as (lon, lat) tuples."""
    gj = footprint_to_geojson(fp)
    polys = [gj["coordinates"]] if gj["type"] == "Polygon" else gj["coordinates"]
    return [tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in poly) for poly in polys]


def site_circle(site: Any) -> tuple[float, float, float]:
    """Centre and extra radius of a site: its point, or its polygon's vertex mean and farthest vertex.

    The mean is taken over the distinct vertices of the outer rings with their longitudes continuous
    (``PolygonFootprint.unwrapped``), then wrapped: a polygon across the antimeridian is centred on it, not
    on the far side of the earth."""
    if isinstance(site.footprint, SitePoint):
        lon, lat = site.footprint.position
        return float(lon), float(lat), 0.0
    rings = [poly[0] for poly in site.footprint.unwrapped]
    lons = np.concatenate([r[0][:-1] for r in rings])  # a ring repeats its first vertex last
    lats = np.concatenate([r[1][:-1] for r in rings])
    c_lon, c_lat = wrap_longitude(float(lons.mean())), float(lats.mean())
    _, _, d = _GEOD.inv(np.full(lons.size, c_lon), np.full(lats.size, c_lat), lons, lats)
    return c_lon, c_lat, float(np.max(d))
