"""Footprints as tests write them: an RFC 7946 geometry and, for a circle or a corridor, the number beside
it (``{"footprint": {"type": "Point", ...}, "radius_m": 500}``, the members of a volume)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deconfliction.domain.footprint import Footprint, parse_footprint
from deconfliction.domain.limits import Limits


def circle(center: Sequence[float], radius_m: float) -> dict[str, Any]:
    """A circle as a volume's members: the Point and ``radius_m``."""
    return {"footprint": {"type": "Point", "coordinates": [float(c) for c in center]}, "radius_m": radius_m}


def corridor(path: Sequence[Sequence[float]], half_width_m: float) -> dict[str, Any]:
    """A corridor as a volume's members: the LineString and ``half_width_m``."""
    line = {"type": "LineString", "coordinates": [[float(p[0]), float(p[1])] for p in path]}
    return {"footprint": line, "half_width_m": half_width_m}


def members(shape: Mapping[str, Any]) -> dict[str, Any]:
    """A volume's footprint members from a shape (``circle``, ``corridor``) or a bare geometry."""
    return dict(shape) if "footprint" in shape else {"footprint": dict(shape)}


def parse_shape(shape: Mapping[str, Any], limits: Limits | None = None) -> Footprint:
    """``parse_footprint`` of a shape or a bare geometry."""
    m = members(shape)
    return parse_footprint(
        m["footprint"], limits or Limits(), radius_m=m.get("radius_m"), half_width_m=m.get("half_width_m")
    )
