"""GeoJSON out: longitudes back in [-180, 180], geometries cut at the antimeridian (RFC 7946 3.1.9)."""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

PRECISION = 7
"""Decimal places of output coordinates (1e-7 degree is about 1 cm)."""


def wrapped(geom: BaseGeometry) -> BaseGeometry:
    """The same place with longitudes in [-180, 180], cut where it crosses the antimeridian."""
    if geom.is_empty:
        return geom
    lon_min, _, lon_max, _ = geom.bounds
    if lon_min >= -180.0 and lon_max <= 180.0:
        return geom
    pieces = []
    for k in range(math.floor((lon_min + 180.0) / 360.0), math.floor((lon_max + 180.0) / 360.0) + 1):
        cut = geom.intersection(shapely.box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0))
        if not cut.is_empty:
            pieces.append(_shifted(cut, 360.0 * k))
    parts: list[BaseGeometry] = []
    for p in pieces:
        parts.extend(getattr(p, "geoms", [p]))
    polys = [p for p in parts if isinstance(p, shapely.Polygon)]
    if polys and len(polys) == len(parts):
        return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return shapely.GeometryCollection(parts) if len(parts) > 1 else parts[0]


def _shifted(geom: BaseGeometry, lon_shift: float) -> BaseGeometry:
    def move(coords: Any) -> Any:
        return coords - [lon_shift, 0.0]

    return shapely.transform(geom, move)


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    out: dict[str, Any] = _lists(shapely.geometry.mapping(shapely.set_precision(wrapped(geom), 10.0**-PRECISION)))
    return out


def _lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_lists(v) for v in obj]
    return obj
