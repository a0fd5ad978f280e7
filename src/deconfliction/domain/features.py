"""Operations as a GeoJSON FeatureCollection: the file format of ``deconflict check`` (and of exports).

One Feature is one Volume4D; features sharing an ``operation`` property form one operation::

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
    CircleFootprint,
    CorridorFootprint,
    Footprint,
    footprint_to_geojson,
    parse_footprint,
)
from deconfliction.domain.limits import Limits
from deconfliction.domain.policy import OperationKind
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


@dataclass(frozen=True)
class DeclaredOperation:
    name: str
    party: str
    kind: OperationKind
    priority: int
    title: str
    volumes: tuple[Volume4D, ...]


def _footprint_of(geometry: Any, props: Mapping[str, Any], limits: Limits) -> Footprint:
    if not isinstance(geometry, Mapping):
        raise InvalidInput.one("geometry", "invalid_geojson", "a feature needs a geometry object")
    kind = geometry.get("type")
    if kind == "Point":
        obj: dict[str, Any] = {
            "type": "Circle",
            "center": geometry.get("coordinates"),
            "radius_m": props.get("radius_m"),
        }
        try:
            return parse_footprint(obj, limits)
        except InvalidInput as e:
            raise InvalidInput(
                [
                    _relocate(err, {"center": "geometry.coordinates", "radius_m": "properties.radius_m"})
                    for err in e.errors
                ]
            ) from None
    if kind == "LineString":
        obj = {
            "type": "Corridor",
            "path": geometry.get("coordinates"),
            "half_width_m": props.get("half_width_m"),
        }
        try:
            return parse_footprint(obj, limits)
        except InvalidInput as e:
            raise InvalidInput(
                [
                    _relocate(err, {"path": "geometry.coordinates", "half_width_m": "properties.half_width_m"})
                    for err in e.errors
                ]
            ) from None
    try:
        return parse_footprint(geometry, limits)
    except InvalidInput as e:
        raise e.at("geometry") from None


def _relocate(err: FieldError, moves: Mapping[str, str]) -> FieldError:
    for old, new in moves.items():
        if err.field == old or err.field.startswith(old + "[") or err.field.startswith(old + "."):
            return FieldError(new + err.field[len(old) :], err.code, err.message, err.detail)
    return err.at("geometry")


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
        if k not in PROPERTIES
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
    """All operations of a FeatureCollection, or one InvalidInput listing every bad feature."""
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        raise InvalidInput.one("", "invalid_geojson", "expected a GeoJSON FeatureCollection")
    features = obj.get("features")
    if not isinstance(features, list):
        raise InvalidInput.one("features", "invalid_geojson", "features must be a list")
    errors: list[FieldError] = []
    grouped: dict[str, list[tuple[str, OperationKind, int, str, Volume4D]]] = {}
    for i, feature in enumerate(features):
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
    fp = volume.footprint
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
    geometry: dict[str, Any]
    if isinstance(fp, CircleFootprint):
        geometry = {"type": "Point", "coordinates": list(fp.center)}
        props["radius_m"] = fp.radius_m
    elif isinstance(fp, CorridorFootprint):
        geometry = {"type": "LineString", "coordinates": [list(p) for p in fp.path]}
        props["half_width_m"] = fp.half_width_m
    else:
        geometry = footprint_to_geojson(fp)
    return {"type": "Feature", "geometry": geometry, "properties": props}
