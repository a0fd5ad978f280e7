"""Import and export: the sites CSV in (all or nothing, with a dry run and a report per row); a GeoJSON
FeatureCollection of operations, movements, zones and sites in and out (the same format both ways); KML
out, styled per party, carrying the same features (KML in is ``formats.kml.read_kml`` to that
FeatureCollection, then ``import_geojson``: one import path).

``import_sites_csv`` reads the file (``formats.sites_csv``), then checks every accepted row as a site
would be checked when declared (``domain.site.new_site``: a name, lengths, ``valid_until`` in the future,
the pole cap) and that its ``owner`` column, when given, names the importing party. A row failing any
check is refused with every reason; if any row is refused, or the file itself is, nothing is stored. A
dry run stops there. Otherwise every site is declared in one transaction, as ``POST /v1/sites`` would
(likely duplicates reported per row, conflicts found, both sides told), with one receipt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from deconfliction.domain.conflict import Conflict
from deconfliction.domain.features import OBJECTS, SERVICE_ASSIGNED, object_of, parse_feature, volume_feature
from deconfliction.domain.footprint import footprint_to_geojson, parse_polygon_footprint
from deconfliction.domain.ledger import EVERYONE
from deconfliction.domain.movement import MOVEMENT_FIELDS
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.party import Party
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.sanity import WindowInPast, require_not_past
from deconfliction.domain.signing import SignedRequest
from deconfliction.domain.site import SiteCategory, SitePoint, new_site, parse_category, parse_site_footprint
from deconfliction.domain.volume import TimeWindow, format_time, parse_time
from deconfliction.domain.zone import ZoneState
from deconfliction.errors import FieldError, InvalidInput
from deconfliction.formats.kml import KmlPlacemark, write_kml
from deconfliction.formats.sites_csv import RefusedRow, SiteRow, SitesImport, read_sites_csv
from deconfliction.service import operations as ops
from deconfliction.service import sites
from deconfliction.service.conflicts import party_names
from deconfliction.service.operations import Idempotency, write_change
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import StoredResponse, Transaction


@dataclass(frozen=True)
class SitesImportResult:
    report: SitesImport
    """Every row accepted or refused, with reasons (after the service's own checks)."""
    dry_run: bool
    stored: list[sites.SiteResult] = field(default_factory=list)
    """One per accepted row, in row order, when the import was stored (or, in a dry run, would be)."""
    receipt: tuple[int, str] | None = None

    @property
    def changed(self) -> list[Conflict]:
        return [c for r in self.stored for c in r.changed]

    @property
    def kept(self) -> bool:
        """Whether the sites are stored (not a dry run, nothing refused)."""
        return bool(self.stored) and not self.dry_run

    def as_dict(self) -> dict[str, Any]:
        """The report (``SitesImport.as_dict``) with, per row, its likely duplicates and, when stored,
        the site id."""
        out = self.report.as_dict()
        out["dry_run"] = self.dry_run
        out["stored"] = self.kept
        for row, result in zip(out["accepted"], self.stored, strict=False):
            if self.kept:
                row["site"] = result.site.id
            row["likely_duplicates"] = [sites.duplicate_view(d) for d in result.duplicates]
        return out


def _draft(row: SiteRow) -> sites.SiteDraft:
    return sites.SiteDraft(
        row.name, SiteCategory(row.category), SitePoint(row.position), row.radius_m, row.accuracy_m, row.valid_until
    )


def check_rows(rt: Runtime, actor: Party, report: SitesImport) -> SitesImport:
    """The report with the rows the service would refuse moved to ``refused`` (every reason, by column)."""
    now = rt.clock()
    accepted: list[SiteRow] = []
    refused: list[RefusedRow] = list(report.refused)
    for row in report.accepted:
        errors: list[FieldError] = []
        if row.owner is not None and row.owner != actor.name:
            errors.append(
                FieldError(
                    "owner",
                    "not_the_importer",
                    f"owner {row.owner!r} is not the importing party {actor.name!r}; a party imports its own sites",
                )
            )
        try:
            d = _draft(row)
            new_site(
                site_id="st_check",
                owner_id=actor.id,
                name=d.name,
                category=d.category,
                footprint=d.footprint,
                radius_m=d.radius_m,
                accuracy_m=d.accuracy_m,
                valid_until=d.valid_until,
                now=now,
                limits=rt.limits,
            )
        except InvalidInput as e:
            errors += e.errors
        if errors:
            refused.append(RefusedRow(row.row, tuple(errors)))
        else:
            accepted.append(row)
    refused.sort(key=lambda r: r.row)
    return SitesImport(tuple(accepted), tuple(refused), report.file_errors, report.delimiter)


def import_sites_csv(
    rt: Runtime,
    actor: Party,
    data: str | bytes,
    *,
    dry_run: bool,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> SitesImportResult | StoredResponse:
    """Read, check and (unless any row is refused) store a CSV of ``actor``'s sites. A dry run runs the
    very same code in a transaction that is rolled back, so its report is the import's."""
    ops.require_declaring(actor, "import")
    report = check_rows(rt, actor, read_sites_csv(data, now=rt.clock(), limits=rt.limits))
    if not report.ok:
        return SitesImportResult(report, dry_run)

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> SitesImportResult:
        stored = [sites.add_site(tx, rt, actor, _draft(row), None) for row in report.accepted]
        made = [{"row": row.row, "site": r.site.id} for row, r in zip(report.accepted, stored, strict=True)]
        tx.events.append(  # the import as one (signed) act: which row became which site
            at=rt.clock(),
            actor_id=actor.id,
            type="sites.imported",
            subject_id=actor.id,
            payload={"sites": made},
            audience=[EVERYONE],
            signed=signed,
        )
        if dry_run:
            raise _RolledBack(SitesImportResult(report, dry_run, stored))
        return SitesImportResult(report, dry_run, stored, tx.events.head())

    try:
        return write_change(rt, actor, None if dry_run else idempotency, signature, work)  # type: ignore[no-any-return]
    except _RolledBack as rolled_back:
        return rolled_back.result  # type: ignore[no-any-return]


class _RolledBack(Exception):
    """Not an error: carries a dry run's result out of its transaction, which it rolls back."""

    def __init__(self, result: Any) -> None:
        self.result = result


# ------------------------------------------------------------------------------ GeoJSON and KML


@dataclass(frozen=True)
class Scene:
    """What a reader may see, gathered for an export."""

    operations: list[Any]
    movements: dict[str, Mapping[str, Any]]
    zones: list[Any]
    sites: list[Any]
    lines: list[Any]
    names: dict[str, str]
    units: dict[str, str] = field(default_factory=dict)
    """Names of the units the reader may see, by id (its own party's; the coordinator's: all): an object
    of one of them is exported with its ``unit`` (by name), which an import reads back."""


def gather(rt: Runtime, viewer: Party | None) -> Scene:
    """Everything ``viewer`` may see (None: the console operator, everything), through need-to-know:
    its own operations (the coordinator: all), the zone versions it may see, every site, its lines."""
    from deconfliction.service import lines as lines_service
    from deconfliction.service import units as units_service
    from deconfliction.service import zones as zones_service
    from deconfliction.service.movements import describes
    from deconfliction.service.views import may_see_operation

    with rt.store.read() as tx:
        owner = None if viewer is None or viewer.sees_all else viewer.id
        operations = [
            o
            for o in tx.operations.list(owner_id=owner, limit=1_000_000)
            if o.is_live and (viewer is None or may_see_operation(viewer, o))
        ]
        found_movements = {o.id: tx.movements.get(o.id) for o in operations}
        names = {p.id: p.name for p in tx.parties.list(limit=1_000_000)}
    units = {u.id: u.name for u in units_service.list_units(rt, viewer, limit=1_000_000)}
    movements = {
        op_id: found[1]
        for op_id, found in found_movements.items()
        if found is not None and describes(rt, found[1], next(o for o in operations if o.id == op_id))
    }
    shown_zones = [
        z
        for z in zones_service.list_zones(rt, viewer, limit=1_000_000)
        if z.state in (ZoneState.AGREED, ZoneState.PROPOSED)
    ]
    all_sites = sites.list_sites(rt, viewer, active=True, limit=1_000_000)
    shown_lines = lines_service.list_lines(rt, viewer, limit=1_000_000)
    return Scene(operations, movements, shown_zones, all_sites, shown_lines, names, units)


def export_geojson(rt: Runtime, viewer: Party | None) -> dict[str, Any]:
    """A FeatureCollection of what ``viewer`` may see: operations (one feature per volume; a movement as
    one feature along its route), zone versions in force or proposed, active sites. ``import_geojson``
    reads it back to the same features (``SERVICE_ASSIGNED`` properties aside)."""
    return {"type": "FeatureCollection", "features": _features(rt, gather(rt, viewer))}


def _features(rt: Runtime, scene: Scene) -> list[dict[str, Any]]:
    name = scene.names.get
    features: list[dict[str, Any]] = []
    for op in scene.operations:
        common = {
            "object": "operation",
            "id": op.id,
            "state": op.state.value,
            "priority": op.priority,
            "title": op.title,
            **_unit_property(scene, op.unit_id),
        }
        movement = scene.movements.get(op.id)
        if movement is not None:
            m = {k: v for k, v in movement.items() if k not in ("route", "sweep")}
            props = {
                **common,
                "object": "movement",
                "operation": op.id,
                "party": name(op.owner_id),
                "kind": op.kind.value,
                **m,
            }
            features.append({"type": "Feature", "geometry": dict(movement["route"]), "properties": props})
            continue
        for v in op.volumes:
            f = volume_feature(op.id, name(op.owner_id) or op.owner_id, op.kind, v)
            f["properties"] = {**common, **f["properties"]}
            features.append(f)
    for z in scene.zones:
        features.append(
            {
                "type": "Feature",
                "geometry": footprint_to_geojson(z.footprint),
                "properties": {
                    "object": "zone",
                    "id": z.id,
                    "version": z.version,
                    "state": z.state.value,
                    "party": name(z.owner_id),
                    "counterparties": [name(p) for p in z.counterparties],
                    "name": z.name,
                    "start": format_time(z.validity.start),
                    "end": format_time(z.validity.end),
                },
            }
        )
    now = rt.clock()
    for s in scene.sites:
        record = sites.site_record(s, now)
        features.append(
            {
                "type": "Feature",
                "geometry": record["footprint"],
                "properties": {
                    "object": "site",
                    "id": s.id,
                    "version": s.version,
                    "state": s.state.value,
                    "party": name(s.owner_id),
                    "name": s.name,
                    "category": s.category.value,
                    "radius_m": s.radius_m,
                    "accuracy_m": s.accuracy_m,
                    "valid_until": record["valid_until"],
                    **_unit_property(scene, s.unit_id),
                },
            }
        )
    return features


def _unit_property(scene: Scene, unit_id: str | None) -> dict[str, str]:
    """``{"unit": name}`` for an object of a unit the reader may see; nothing otherwise."""
    return {"unit": scene.units[unit_id]} if unit_id is not None and unit_id in scene.units else {}


def _unit_ref(ref: Any, own: Mapping[str, str], actor: Party, where: str, errors: list[FieldError]) -> str | None:
    """The unit an imported object is declared for: ``ref`` names one of the importer's units (by name or
    id); none: a unit's key imports for its own unit, a party's key for the party as a whole."""
    if ref is None:
        return actor.unit_id
    unit_id = own.get(str(ref)) or (str(ref) if str(ref) in own.values() else None)
    if unit_id is None:
        errors.append(FieldError(where, "unknown_unit", f"{ref!r} is not a unit of your party"))
    elif actor.unit_id is not None and unit_id != actor.unit_id:
        errors.append(FieldError(where, "not_your_unit", "a unit's key imports for its own unit only"))
        return None
    return unit_id


def export_kml(rt: Runtime, viewer: Party | None) -> str:
    """The same objects as ``export_geojson`` (and the reader's lines) as one KML document, styled per
    party: each feature's properties in ExtendedData and its window as the TimeSpan, so that
    ``read_kml`` reads the document back to the same features. A movement is its route, over the
    window of its volumes."""
    scene = gather(rt, viewer)
    spans = {
        op.id: (min(v.window.start for v in op.volumes), max(v.window.end for v in op.volumes))
        for op in scene.operations
    }
    marks: list[KmlPlacemark] = []
    volume_of: dict[str, int] = {}
    ids = {party_name: party_id for party_id, party_name in scene.names.items()}  # the colour comes from the id
    for f in _features(rt, scene):
        props = dict(f["properties"])
        obj, party, geometry = props.pop("object"), str(props.pop("party") or ""), f["geometry"]
        start = _time(props.pop("start", None))
        end = _time(props.pop("end", None))
        radius_m = None
        if obj == "operation":
            i = volume_of[props["operation"]] = volume_of.get(props["operation"], -1) + 1
            title = f"{props['title'] or props['operation']} [{i}]"
            if geometry["type"] == "Point":  # drawn as a circle, read back as the Point and radius_m
                geometry = {"type": "Circle", "center": geometry["coordinates"], "radius_m": props.pop("radius_m")}
            elif geometry["type"] == "LineString":
                geometry = {
                    "type": "Corridor",
                    "path": geometry["coordinates"],
                    "half_width_m": props.pop("half_width_m"),
                }
            about = f"{props['kind']} operation, {props['lower_m']:g} to {props['upper_m']:g} m (W84)"
        elif obj == "movement":
            title = props["title"] or props["operation"]
            start, end = spans[props["operation"]]
            band = props["altitude"]
            about = (
                f"{props['kind']} movement within {props['half_width_m']:g} m of this route, "
                f"{band['lower_m']:g} to {band['upper_m']:g} m (W84)"
            )
        elif obj == "zone":
            title = props["name"] or props["id"]
            about = f"zone of responsibility, version {props['version']}, {props['state']}"
        else:
            title, radius_m = props["name"], props.pop("radius_m")
            about = f"{props['category']}, protection radius {radius_m:g} m, accuracy {props['accuracy_m']:g} m"
        marks.append(KmlPlacemark(title, party, obj, geometry, about, start, end, radius_m, props, ids.get(party, "")))
    name = scene.names.get
    for line in scene.lines:
        marks.append(
            KmlPlacemark(
                line.name or line.id,
                name(line.creator_id) or line.creator_id,
                "line",
                {"type": "LineString", "coordinates": [list(p) for p in line.line]},
                f"deconfliction line between {name(line.party_left)} (left) and {name(line.party_right)} (right)",
                party_id=line.creator_id,
            )
        )
    return write_kml(marks)


def _time(value: str | None) -> datetime | None:
    return None if value is None else parse_time(value, "time")


@dataclass(frozen=True)
class GeoJsonImport:
    dry_run: bool
    counts: dict[str, int]
    """Objects read, by kind."""
    stored: dict[str, list[str]] = field(default_factory=dict)
    """Ids made, by kind, when stored."""
    receipt: tuple[int, str] | None = None
    changed: list[Conflict] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    skipped: list[FieldError] = field(default_factory=list)
    """Features left as they are, each with the reason: another party's object (an export shows them
    too), or one of the importer's own objects already stored as the file has it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "counts": self.counts,
            "stored": self.stored,
            "skipped": [{"field": e.field, "code": e.code, "message": e.message} for e in self.skipped],
        }


def already_stored(rt: Runtime, actor: Party, features: Sequence[Any]) -> dict[tuple[str, str], list[Any]]:
    """The importer's own objects that the file names by ``id``, as an export writes them now, by
    (object, id). A file's feature is that object, stored as it is, when it has the same geometry (to 1e-7
    degree, about 1 cm: KML writes 8 decimals) and the same value for every property the export writes
    (the service-assigned ones aside); what a format adds (KML's time span of a movement) is not read."""
    wanted = {
        (object_of(f), str(f["properties"]["id"]))
        for f in features
        if isinstance(f, Mapping) and isinstance(f.get("properties"), Mapping) and "id" in f["properties"]
    }
    if not wanted:
        return {}
    own: dict[tuple[str, str], list[Any]] = {}
    for f in _features(rt, gather(rt, actor)):
        key = (object_of(f), str(f["properties"]["id"]))
        if key in wanted and f["properties"].get("party") == actor.name:
            own.setdefault(key, []).append(_comparable(f))
    return own


def _comparable(feature: Mapping[str, Any]) -> Any:
    props = {k: v for k, v in (feature.get("properties") or {}).items() if k not in SERVICE_ASSIGNED}
    return {"geometry": feature.get("geometry"), "properties": props}


def _close(a: Any, b: Any) -> bool:
    """Equal geometries, each number within 1e-7 of the other."""
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool | str):
        return abs(a - b) <= 1e-7
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _stored_as_is(feature: Any, stored: Sequence[Any]) -> bool:
    mine = _comparable(feature)
    return any(
        _close(mine["geometry"], s["geometry"])
        and all(k in mine["properties"] and mine["properties"][k] == v for k, v in s["properties"].items())
        for s in stored
    )


def past_windows(ends: Mapping[str, Sequence[tuple[str, TimeWindow]]], now: datetime) -> list[FieldError]:
    """The import's operations and movements whose every window has wholly passed (``window_in_past``, as
    ``POST /v1/operations`` refuses them): an import declares what is still to come; a record for an
    inquiry is filed one by one with ``historical``."""
    errors: list[FieldError] = []
    for windows in ends.values():
        try:
            require_not_past(windows, now, historical=False)
        except WindowInPast as e:
            errors += [
                FieldError(x.field, x.code, x.message.split(";")[0] + "; an import declares what is still to come")
                for x in e.errors
            ]
    return errors


def import_geojson(
    rt: Runtime,
    actor: Party,
    obj: Any,
    *,
    dry_run: bool,
    idempotency: Idempotency | None = None,
    signature: SignedRequest | None = None,
) -> GeoJsonImport | StoredResponse:
    """Read a FeatureCollection of ``actor``'s operations, movements, zones and sites (the export's
    format) and declare them all in one transaction, or nothing: every bad feature is reported at once
    (``features[i]...``). A dry run runs the very same code in a transaction that is rolled back: its
    report (counts, the ids it would make, the conflicts it would open) is the import's, and nothing is
    stored. Other parties' features
    (an export shows them) and the importer's own objects already stored as the file has them (by
    ``id``) are skipped with a note, so re-importing an export changes nothing."""
    from deconfliction.service import zones as zones_service
    from deconfliction.service.movements import movement_record, movement_window, sweep

    ops.require_declaring(actor, "import")
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        raise InvalidInput.one("", "invalid_geojson", "expected a GeoJSON FeatureCollection")
    features = obj.get("features")
    if not isinstance(features, list):
        raise InvalidInput.one("features", "invalid_geojson", "features must be a list")
    errors: list[FieldError] = []
    plans: dict[str, list[tuple[Any, ...]]] = {}
    moves: list[tuple[Any, ...]] = []
    zone_drafts: list[tuple[int, Any]] = []
    with rt.store.read() as tx:
        names = {p.name: p.id for p in tx.parties.list(limit=1_000_000)}
        own_units = {u.name: u.id for u in tx.units.list(party_id=actor.id, limit=1_000_000)}
    site_drafts: list[sites.SiteDraft] = []
    ends: dict[str, list[tuple[str, TimeWindow]]] = {}
    """Each operation's and movement's windows, named by the field that sets their end."""
    now = rt.clock()
    stored = already_stored(rt, actor, features)
    skipped: list[FieldError] = []
    for i, f in enumerate(features):
        where = f"features[{i}]"
        props = dict(f.get("properties") or {}) if isinstance(f, Mapping) else {}
        if props.get("party") not in (None, actor.name):
            skipped.append(
                FieldError(
                    f"{where}.properties.party",
                    "not_the_importer",
                    f"an object of {props.get('party')}, left as it is: a party imports its own objects",
                )
            )
            continue
        kind = props.pop("object", "operation")
        same = stored.get((str(kind), str(props.get("id"))))
        if same is not None:
            if _stored_as_is(f, same):
                skipped.append(
                    FieldError(f"{where}.properties.id", "already_stored", f"{kind} {props['id']} is stored as it is")
                )
                continue
            errors.append(
                FieldError(
                    f"{where}.properties.id",
                    "changed_since_export",
                    f"{kind} {props['id']} is stored otherwise: revise it through the API (PUT), or remove the "
                    "id to declare this feature as a new object",
                )
            )
            continue
        for key in SERVICE_ASSIGNED:
            props.pop(key, None)
        unit = _unit_ref(props.pop("unit", None), own_units, actor, f"{where}.properties.unit", errors)
        try:
            if kind == "operation":
                feature = {**f, "properties": {**props, "party": actor.name}}
                name, _, op_kind, priority, title, volume = parse_feature(feature, rt.limits)
                plans.setdefault(name or f"feature-{i}", []).append((op_kind, priority, title, volume, unit))
                ends.setdefault(f"operation {name or i}", []).append((f"{where}.properties.end", volume.window))
            elif kind == "movement":
                raw = {k: v for k, v in props.items() if k in MOVEMENT_FIELDS}
                raw["route"] = f.get("geometry")
                draft, swept = sweep(rt, raw)
                ends[f"movement {i}"] = [
                    (f"{where}.properties.{f_.removeprefix('movement.')}", w) for f_, w in movement_window(draft, swept)
                ]
                moves.append(
                    (
                        OperationKind(props.get("kind", "ground")),
                        int(props.get("priority", 0)),
                        str(props.get("title", "")),
                        draft,
                        swept,
                        unit,
                    )
                )
            elif kind == "zone":
                zone_drafts.append((i, _zone_feature(f, props, actor, names, rt)))
            elif kind == "site":
                footprint_site = parse_site_footprint(f.get("geometry"), rt.limits)
                draft_site = sites.SiteDraft(
                    str(props.get("name", "")),
                    parse_category(props.get("category"), "properties.category"),
                    footprint_site,
                    props.get("radius_m"),  # type: ignore[arg-type]
                    props.get("accuracy_m"),  # type: ignore[arg-type]
                    parse_time(props.get("valid_until"), "properties.valid_until"),
                    unit,
                )
                new_site(
                    site_id="st_check",
                    owner_id=actor.id,
                    name=draft_site.name,
                    category=draft_site.category,
                    footprint=draft_site.footprint,
                    radius_m=draft_site.radius_m,
                    accuracy_m=draft_site.accuracy_m,
                    valid_until=draft_site.valid_until,
                    now=now,
                    limits=rt.limits,
                )
                site_drafts.append(draft_site)
            else:
                errors.append(
                    FieldError(f"{where}.properties.object", "invalid_value", f"object is one of {', '.join(OBJECTS)}")
                )
        except InvalidInput as e:
            errors += e.at(where).errors
        except (TypeError, ValueError) as e:
            errors.append(FieldError(f"{where}.properties", "invalid_value", str(e)))
    errors += past_windows(ends, now)
    if errors:
        raise InvalidInput(errors)
    counts = {"operation": len(plans), "movement": len(moves), "zone": len(zone_drafts), "site": len(site_drafts)}
    if not any(counts.values()):  # nothing new (an export read back): nothing to write, not even a ledger entry
        return GeoJsonImport(dry_run, counts, {k: [] for k in OBJECTS}, skipped=skipped)

    def work(tx: Transaction, signed: Mapping[str, Any] | None) -> GeoJsonImport:
        made: dict[str, list[str]] = {k: [] for k in OBJECTS}
        changed: list[Conflict] = []
        for _, draft in zone_drafts:
            made["zone"].append(zones_service.add_proposal(tx, rt, actor, draft, None).id)
        for sd in site_drafts:
            r = sites.add_site(tx, rt, actor, sd, None)
            made["site"].append(r.site.id)
            changed += r.changed
        for parts in plans.values():
            op_kind, priority, title = parts[0][0], parts[0][1], parts[0][2]
            op = _new_operation(rt, actor, op_kind, priority, title, tuple(p[3] for p in parts), parts[0][4])
            changed += ops.apply_change(
                tx, rt, actor, op, detect_again=True, known=(), created=True, signed=None
            ).changed
            made["operation"].append(op.id)
        for op_kind, priority, title, draft_m, swept, unit_id in moves:
            op = _new_operation(rt, actor, op_kind, priority, title, swept.volumes, unit_id)
            changed += ops.apply_change(
                tx, rt, actor, op, detect_again=True, known=(), created=True, signed=None
            ).changed
            tx.movements.put(op.id, op.version, movement_record(draft_m, swept), op.created_at)
            made["movement"].append(op.id)
        tx.events.append(
            at=rt.clock(),
            actor_id=actor.id,
            type="features.imported",
            subject_id=actor.id,
            payload={"made": made},
            audience=[actor.id],
            signed=signed,
        )
        result = GeoJsonImport(False, counts, made, tx.events.head(), changed, party_names(tx, changed), skipped)
        if dry_run:  # the import's own code ran; its transaction is rolled back
            raise _RolledBack(replace(result, dry_run=True, receipt=None))
        return result

    try:
        return write_change(rt, actor, None if dry_run else idempotency, signature, work)  # type: ignore[no-any-return]
    except _RolledBack as rolled_back:
        return rolled_back.result  # type: ignore[no-any-return]


def _new_operation(
    rt: Runtime,
    actor: Party,
    kind: OperationKind,
    priority: int,
    title: str,
    volumes: tuple[Any, ...],
    unit_id: str | None = None,
) -> Operation:
    now = rt.clock()
    return Operation(
        rt.ids.new_id("op"),
        actor.id,
        kind,
        priority,
        OperationState.DRAFT,
        1,
        rt.ids.new_token(),
        volumes,
        title,
        now,
        now,
        unit_id,
    )


def _zone_feature(
    f: Mapping[str, Any], props: Mapping[str, Any], actor: Party, names: Mapping[str, str], rt: Runtime
) -> Any:
    """A zone feature as a draft proposed by ``actor``, checked as ``propose_zone`` would (paths relative
    to the feature)."""
    from deconfliction.domain.zone import propose_zone
    from deconfliction.service import zones as zones_service

    errors: list[FieldError] = []
    footprint = start = end = None
    try:
        footprint = parse_polygon_footprint(f.get("geometry"), rt.limits, "a zone")
    except InvalidInput as e:
        errors += e.at("geometry").errors
    for key in ("start", "end"):
        try:
            value = parse_time(props.get(key), f"properties.{key}")
            start, end = (value, end) if key == "start" else (start, value)
        except InvalidInput as e:
            errors += e.errors
    raw = props.get("counterparties")
    counterparties: list[str] = []
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("properties.counterparties", "required", "a zone names its counter-parties"))
    else:
        for k, n in enumerate(raw):
            if n not in names:
                errors.append(FieldError(f"properties.counterparties[{k}]", "unknown_party", f"no party named {n!r}"))
            else:
                counterparties.append(names[n])
    if not errors and footprint is not None and start is not None and end is not None:
        validity = TimeWindow(start, end)
        try:  # the domain's own checks (owner as counter-party, duplicates, empty validity), never stored
            propose_zone(
                zone_id="zn_check", owner_id=actor.id, counterparties=counterparties, footprint=footprint,
                validity=validity, now=rt.clock(),
            )  # fmt: skip
        except InvalidInput as e:
            errors += [FieldError(_zone_path(x.field), x.code, x.message, x.detail) for x in e.errors]
    if errors or footprint is None or start is None or end is None:
        raise InvalidInput(errors)
    return zones_service.ZoneDraft(str(props.get("name", "")), counterparties, footprint, TimeWindow(start, end))


def _zone_path(field: str) -> str:
    """``propose_zone``'s field names as paths into a zone feature."""
    if field.startswith("validity."):
        return "properties." + field.removeprefix("validity.")
    if field.startswith("footprint"):
        return "geometry" + field.removeprefix("footprint")
    return "properties." + field
