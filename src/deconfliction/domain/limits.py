"""Input limits. Settings with sane defaults; a deployment overrides them through ``Settings``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_vertices: int = 2_000
    """Vertices per footprint, all rings of all polygons together (or positions of a corridor path)."""
    max_area_km2: float = 250_000.0
    """Area of one footprint (a circle or corridor counts its buffered area)."""
    max_window_s: int = 14 * 86_400
    """Length of one time window."""
    max_volumes: int = 500
    """Volume4D per operation."""
    max_body_bytes: int = 2 * 1024 * 1024
    """Size of one HTTP request body."""
    min_altitude_m: float = -1_000.0
    max_altitude_m: float = 100_000.0
    pole_margin_deg: float = 1.0
    """Footprints reaching within this many degrees of a pole are refused (longitudes degenerate there)."""
    page_size_max: int = 500
    auth_failures_max: int = 20
    """Failed authentications (API key, signature, client certificate) counted per source address, and
    per claimed party, within ``auth_failures_window_s``; past it the answer is 429 (docs/security.md)."""
    auth_failures_window_s: int = 300
    """The window, in seconds, over which failed authentications are counted."""
