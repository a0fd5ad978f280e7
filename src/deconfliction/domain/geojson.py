"""GeoJSON out: longitudes back in [-180, 180], geometries cut at the antimeridian (RFC 7946 3.1.9)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
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
    """A GeoJSON geometry object, coordinates rounded to PRECISION decimals. Polygons (what regions
    are) take a direct path through NumPy; anything else is snapped to the grid by GEOS."""
    geom = wrapped(geom)
    if isinstance(geom, shapely.Polygon) and not geom.is_empty:
        return {"type": "Polygon", "coordinates": _polygon(geom)}
    if isinstance(geom, shapely.MultiPolygon) and not geom.is_empty:
        return {"type": "MultiPolygon", "coordinates": [_polygon(p) for p in geom.geoms]}
    out: dict[str, Any] = _lists(shapely.geometry.mapping(shapely.set_precision(geom, 10.0**-PRECISION)))
    return out


def _polygon(p: shapely.Polygon) -> list[Any]:
    return [_ring(p.exterior), *(_ring(r) for r in p.interiors)]


def _ring(ring: shapely.LinearRing) -> list[Any]:
    # round(x * 10^7) / 10^7 is the double nearest the 7-decimal value, so it prints as that decimal
    xy = np.round(shapely.get_coordinates(ring), PRECISION)
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)  # points that became one on the grid are written once
    out: list[Any] = xy[keep].tolist()
    return out


def _lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_lists(v) for v in obj]
    return obj
