"""The file dialect: a GeoJSON FeatureCollection of operations, movements, zones and sites, which
``deconflict export`` writes and ``deconflict check`` and ``deconflict import`` read (docs/formats.md).

A feature's ``properties.object`` says what it is (``operation`` when absent). One operation Feature is one
Volume4D; features sharing an ``operation`` property form one operation::

    {"type": "Feature",
     "geometry": {"type": "Polygon", "coordinates": [...]},        # or MultiPolygon,
                                                                    # Point + radius_m (a circle),
                                                                    # LineString + half_width_m (a corridor)
     "properties": {"operation": "ALPHA-1", "party": "Alpha", "kind": "air",
                    "lower_m": 300, "upper_m": 3000,                # metres above the WGS84 ellipsoid
                    "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T10:00:00Z",
                    "radius_m": 500, "half_width_m": 250, "priority": 0, "title": "..."}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deconfliction.domain.footprint import (
    Footprint,
    PolygonFootprint,
    footprint_wire,
    located,
    parse_footprint,
    parse_polygon_footprint,
)
from deconfliction.domain.limits import Limits
from deconfliction.domain.movement import MOVEMENT_FIELDS, parse_movement, sweep_movement
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import SiteCategory, SiteFootprint, parse_category, parse_site_footprint
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D, format_time, parse_time
from deconfliction.errors import FieldError, InvalidInput

PROPERTIES = {
    "operation",
    "party",
    "kind",
    "lower_m",
    "upper_m",
    "start",
    "end",
    "radius_m",
    "half_width_m",
    "priority",
    "title",
    "state",
    "id",
}
SERVICE_ASSIGNED = ("id", "version", "state")
"""Properties an export writes for the record; an import does not take them from the file (the service
assigns them), and ``check`` reads past them."""
OBJECTS = ("operation", "movement", "zone", "site")
"""``properties.object`` of a feature (absent: ``operation``)."""
DOCUMENT_PROPERTIES = {"object", "unit", "version"}
"""Properties of the export that every object may carry: what it is, the owner's unit (by name), the
record's version."""


@dataclass(frozen=True)
class DeclaredOperation:
    name: str
    party: str
    kind: OperationKind
    priority: int
    title: str
    volumes: tuple[Volume4D, ...]


def _footprint_of(geometry: Any, props: Mapping[str, Any], limits: Limits) -> Footprint:
    """The feature's footprint: its geometry, with ``radius_m`` (a Point) or ``half_width_m`` (a LineString)
    from its properties; errors at ``geometry...`` and ``properties.radius_m``."""
    if not isinstance(geometry, Mapping):
        raise InvalidInput.one("geometry", "invalid_geojson", "a feature needs a geometry object")
    try:
        return parse_footprint(geometry, limits, radius_m=props.get("radius_m"), half_width_m=props.get("half_width_m"))
    except InvalidInput as e:
        raise located(e, "geometry", "properties") from None


def _number(props: Mapping[str, Any], key: str) -> float:
    v = props.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InvalidInput.one(f"properties.{key}", "invalid_number", f"{key} must be a number of metres")
    return float(v)


def parse_feature(feature: Any, limits: Limits) -> tuple[str | None, str, OperationKind, int, str, Volume4D]:
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise InvalidInput.one("", "invalid_geojson", "expected a GeoJSON Feature")
    props = feature.get("properties") or {}
    if not isinstance(props, Mapping):
        raise InvalidInput.one("properties", "invalid_geojson", "properties must be an object")
    errors: list[FieldError] = [
        FieldError(f"properties.{k}", "unknown_field", f"unknown property; expected some of {sorted(PROPERTIES)}")
        for k in props
        if k not in PROPERTIES and k not in DOCUMENT_PROPERTIES
    ]
    party = props.get("party")
    if not isinstance(party, str) or not party.strip():
        errors.append(FieldError("properties.party", "missing_field", "every feature names its party"))
    try:
        kind = OperationKind(props.get("kind", "air"))
    except ValueError:
        errors.append(FieldError("properties.kind", "invalid_value", "kind is one of air, ground, maritime"))
        kind = OperationKind.AIR
    footprint = window = altitude = None
    try:
        footprint = _footprint_of(feature.get("geometry"), props, limits)
    except InvalidInput as e:
        errors += e.errors
    try:
        window = TimeWindow.of(parse_time(props.get("start"), "start"), parse_time(props.get("end"), "end"), limits)
    except InvalidInput as e:
        errors += e.at("properties").errors
    try:
        altitude = AltitudeBand.of(_number(props, "lower_m"), _number(props, "upper_m"), limits)
    except InvalidInput as e:
        errors += [err if err.field.startswith("properties.") else err.at("properties") for err in e.errors]
    priority = props.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
        errors.append(FieldError("properties.priority", "invalid_value", "priority is an integer from 0 to 100"))
    if errors or footprint is None or window is None or altitude is None:
        raise InvalidInput(errors)
    op = props.get("operation")
    return (
        str(op) if op is not None else None,
        str(party),
        kind,
        int(priority),
        str(props.get("title", "")),
        Volume4D.create(footprint, altitude, window),
    )


def parse_feature_collection(obj: Any, limits: Limits) -> list[DeclaredOperation]:
    """All operations of a FeatureCollection of operation features, or one InvalidInput listing every bad
    feature."""
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        raise InvalidInput.one("", "invalid_geojson", "expected a GeoJSON FeatureCollection")
    features = obj.get("features")
    if not isinstance(features, list):
        raise InvalidInput.one("features", "invalid_geojson", "features must be a list")
    return group_operations(list(enumerate(features)), limits)


def group_operations(features: list[tuple[int, Any]], limits: Limits) -> list[DeclaredOperation]:
    """Operation features (with their index in the file) grouped by their ``operation`` property."""
    errors: list[FieldError] = []
    grouped: dict[str, list[tuple[str, OperationKind, int, str, Volume4D]]] = {}
    for i, feature in features:
        try:
            name, party, kind, priority, title, volume = parse_feature(feature, limits)
        except InvalidInput as e:
            errors += e.at(f"features[{i}]").errors
            continue
        grouped.setdefault(name if name is not None else f"feature-{i}", []).append(
            (party, kind, priority, title, volume)
        )
    for name, parts in grouped.items():
        if len({(p[0], p[1]) for p in parts}) > 1:
            errors.append(
                FieldError(
                    "features",
                    "inconsistent_operation",
                    f"operation {name!r} has features with different party or kind",
                )
            )
    if errors:
        raise InvalidInput(errors)
    return [
        DeclaredOperation(name, parts[0][0], parts[0][1], parts[0][2], parts[0][3], tuple(p[4] for p in parts))
        for name, parts in grouped.items()
    ]


def volume_feature(name: str, party: str, kind: OperationKind, volume: Volume4D, **extra: Any) -> dict[str, Any]:
    """One volume as a Feature of the same format (round trip with ``parse_feature``)."""
    props: dict[str, Any] = {
        "operation": name,
        "party": party,
        "kind": kind.value,
        "lower_m": volume.altitude.lower_m,
        "upper_m": volume.altitude.upper_m,
        "start": format_time(volume.window.start),
        "end": format_time(volume.window.end),
        **extra,
    }
    wire = footprint_wire(volume.footprint)
    geometry = wire.pop("footprint")
    props.update(wire)  # radius_m of a Point, half_width_m of a LineString
    return {"type": "Feature", "geometry": geometry, "properties": props}


# ------------------------------------------------------------------------------ the whole file dialect


@dataclass(frozen=True)
class DeclaredZone:
    name: str
    party: str
    counterparties: tuple[str, ...]
    """Party names."""
    footprint: PolygonFootprint
    validity: TimeWindow
    agreed: bool
    """``state`` ``agreed``, or no state (a hand-written file declares the zones it means)."""


@dataclass(frozen=True)
class DeclaredSite:
    name: str
    party: str
    category: SiteCategory
    footprint: SiteFootprint
    radius_m: float
    accuracy_m: float


@dataclass(frozen=True)
class Document:
    """Everything a file declares, by party name (``parse_document``)."""

    operations: list[DeclaredOperation]
    """Operations and movements (a movement swept into its volumes)."""
    zones: list[DeclaredZone]
    sites: list[DeclaredSite]


def object_of(feature: Any) -> str:
    """What a feature declares: ``properties.object``, ``operation`` when absent."""
    props = feature.get("properties") if isinstance(feature, Mapping) else None
    value = props.get("object", "operation") if isinstance(props, Mapping) else "operation"
    return str(value)


def _party(props: Mapping[str, Any], errors: list[FieldError]) -> str:
    party = props.get("party")
    if not isinstance(party, str) or not party.strip():
        errors.append(FieldError("properties.party", "missing_field", "every feature names its party"))
        return ""
    return party


def _movement(feature: Mapping[str, Any], props: Mapping[str, Any], limits: Limits) -> tuple[Volume4D, ...]:
    """A movement feature swept into its volumes; errors name the feature's own paths."""
    raw: dict[str, Any] = {k: v for k, v in props.items() if k in MOVEMENT_FIELDS}
    raw["route"] = feature.get("geometry")
    try:
        return sweep_movement(parse_movement(raw, limits), limits=limits).volumes
    except InvalidInput as e:
        raise InvalidInput([movement_path(err) for err in e.errors]) from None


def movement_path(err: FieldError) -> FieldError:
    """A movement's field as a path in its feature: the route is the geometry, the rest properties."""
    if err.field == "route" or err.field.startswith(("route[", "route.")):
        return FieldError("geometry" + err.field.removeprefix("route"), err.code, err.message, err.detail)
    return FieldError(f"properties.{err.field}" if err.field else "properties", err.code, err.message, err.detail)


def _zone(feature: Mapping[str, Any], props: Mapping[str, Any], limits: Limits) -> DeclaredZone:
    errors: list[FieldError] = []
    party = _party(props, errors)
    footprint: PolygonFootprint | None = None
    try:
        footprint = parse_polygon_footprint(feature.get("geometry"), limits, "a zone")
    except InvalidInput as e:
        errors += e.at("geometry").errors
    window = None
    try:
        start, end = parse_time(props.get("start"), "start"), parse_time(props.get("end"), "end")
        if end <= start:
            errors.append(FieldError("properties.end", "empty_window", "a zone's end is after its start"))
        else:
            window = TimeWindow(start, end)
    except InvalidInput as e:
        errors += e.at("properties").errors
    raw = props.get("counterparties")
    if not isinstance(raw, list) or not raw or not all(isinstance(n, str) and n.strip() for n in raw):
        errors.append(FieldError("properties.counterparties", "required", "a zone names its counter-parties"))
        raw = []
    if errors or footprint is None or window is None:
        raise InvalidInput(errors)
    agreed = props.get("state", "agreed") == "agreed"
    return DeclaredZone(str(props.get("name", "")), party, tuple(raw), footprint, window, agreed)


def _site(feature: Mapping[str, Any], props: Mapping[str, Any], limits: Limits) -> DeclaredSite:
    errors: list[FieldError] = []
    party = _party(props, errors)
    footprint = category = None
    try:
        footprint = parse_site_footprint(feature.get("geometry"), limits)
    except InvalidInput as e:
        errors += e.at("geometry").errors
    try:
        category = parse_category(props.get("category"), "properties.category")
    except InvalidInput as e:
        errors += e.errors
    lengths = {k: props.get(k, 0.0) for k in ("radius_m", "accuracy_m")}
    for k, v in lengths.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < float("inf"):
            errors.append(FieldError(f"properties.{k}", "out_of_range", f"{k} must be a number of metres >= 0"))
    if errors or footprint is None or category is None:
        raise InvalidInput(errors)
    name = str(props.get("name", ""))
    return DeclaredSite(name, party, category, footprint, float(lengths["radius_m"]), float(lengths["accuracy_m"]))


def parse_document(obj: Any, limits: Limits) -> Document:
    """Every object of a file in the dialect (what ``export`` writes), or one InvalidInput listing every
    bad feature by its path (``features[3].properties.start``)."""
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        raise InvalidInput.one("", "invalid_geojson", "expected a GeoJSON FeatureCollection")
    features = obj.get("features")
    if not isinstance(features, list):
        raise InvalidInput.one("features", "invalid_geojson", "features must be a list")
    errors: list[FieldError] = []
    plain: list[tuple[int, Any]] = []
    """Operation features, by their index in the file (grouped by ``parse_feature_collection``)."""
    swept: list[DeclaredOperation] = []
    zones: list[DeclaredZone] = []
    sites: list[DeclaredSite] = []
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        kind = object_of(feature)
        try:
            if kind == "operation":
                plain.append((i, feature))
                continue
            if not isinstance(feature, Mapping) or not isinstance(feature.get("properties"), Mapping):
                raise InvalidInput.one("properties", "invalid_geojson", "properties must be an object")
            props = feature["properties"]
            if kind == "movement":
                field_errors: list[FieldError] = []
                party = _party(props, field_errors)
                volumes = _movement(feature, props, limits)
                if field_errors:
                    raise InvalidInput(field_errors)
                op_kind = OperationKind(props.get("kind", "ground"))
                name = str(props.get("operation") or props.get("id") or f"feature-{i}")
                priority, title = int(props.get("priority", 0)), str(props.get("title", ""))
                swept.append(DeclaredOperation(name, party, op_kind, priority, title, tuple(volumes)))
            elif kind == "zone":
                zones.append(_zone(feature, props, limits))
            elif kind == "site":
                sites.append(_site(feature, props, limits))
            else:
                raise InvalidInput.one("properties.object", "invalid_value", f"object is one of {', '.join(OBJECTS)}")
        except InvalidInput as e:
            errors += e.at(where).errors
        except (TypeError, ValueError) as e:
            errors.append(FieldError(f"{where}.properties", "invalid_value", str(e)))
    try:
        declared = group_operations(plain, limits)
    except InvalidInput as e:
        errors += e.errors
        declared = []
    if errors:
        raise InvalidInput(errors)
    return Document(declared + swept, zones, sites)
