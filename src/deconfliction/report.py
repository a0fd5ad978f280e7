"""The incident report as one self-contained HTML file: no script, no external resource, readable
offline and printable, for an inquiry. Everything shown is escaped; the map is an inline SVG drawn in a
local equirectangular frame around the place (schematic: for orientation, not for measuring)."""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from deconfliction.domain.footprint import footprint_display_geojson, footprint_of_volume
from deconfliction.service.incidents import Inquiry

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#111;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #bbb;padding:.25em .45em;
text-align:left;vertical-align:top}th{background:#eee}code{font-size:.9em;word-break:break-all}
.note{color:#444}.map{border:1px solid #999;background:#fafafa}
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
_META_CSP = f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'"
REPORT_CSP = f"{_META_CSP}; frame-ancestors 'none'"
"""The report's Content-Security-Policy: no script at all, no request anywhere, its one style block by hash.
The service sends it as a header; the page also carries it in a meta element (without frame-ancestors,
which a meta element cannot set) so that a saved copy opened from disk holds the same line."""


_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")


def _rings(geojson: dict[str, Any]) -> Iterable[Sequence[Sequence[float]]]:
    kind, coords = geojson.get("type"), geojson.get("coordinates", [])
    if kind == "Polygon":
        yield from coords
    elif kind == "MultiPolygon":
        for poly in coords:
            yield from poly


def _svg(q: Inquiry) -> str:
    lon0, lat0 = q.incident["place"]["coordinates"]
    radius = float(q.incident["radius_m"])
    kx = 111_320.0 * math.cos(math.radians(lat0))
    ky = 110_574.0
    shapes: list[tuple[str, str, list[list[tuple[float, float]]]]] = []
    for i, op in enumerate(q.operations):
        for v in op["volumes"]:
            gj = footprint_display_geojson(footprint_of_volume(v))
            rings = [[((x - lon0) * kx, (y - lat0) * ky) for x, y, *_ in r] for r in _rings(gj)]
            shapes.append((_COLOURS[i % len(_COLOURS)], f"operation {op['id']}", rings))
    for c in q.conflicts:
        rings = [[((x - lon0) * kx, (y - lat0) * ky) for x, y, *_ in r] for r in _rings(c["region"])]
        shapes.append(("#d62728", f"conflict {c['id']}", rings))
    extent = max([radius * 1.2, *(max(abs(x), abs(y)) for _, _, rs in shapes for r in rs for x, y in r)])
    scale = 240.0 / extent
    parts = [
        '<svg class="map" xmlns="http://www.w3.org/2000/svg" width="520" height="520" viewBox="-260 -260 520 520"'
        ' role="img" aria-label="Schematic map of the incident and what was near it">'
    ]
    for colour, title, rings in shapes:
        d = " ".join("M" + " L".join(f"{x * scale:.1f},{-y * scale:.1f}" for x, y in r) + " Z" for r in rings)
        opacity = "0.35" if colour == "#d62728" else "0.15"
        parts.append(
            f'<path d="{d}" fill="{colour}" fill-opacity="{opacity}" stroke="{colour}" stroke-width="1">'
            f"<title>{escape(title)}</title></path>"
        )
    r = radius * scale
    parts.append(f'<circle cx="0" cy="0" r="{r:.1f}" fill="none" stroke="#000" stroke-dasharray="4 3"/>')
    parts.append('<circle cx="0" cy="0" r="4" fill="#000"><title>incident</title></circle>')
    bar_m = 10 ** math.floor(math.log10(extent))
    parts.append(
        f'<line x1="-250" y1="245" x2="{-250 + bar_m * scale:.1f}" y2="245" stroke="#000" stroke-width="2"/>'
        f'<text x="-250" y="238" font-size="11">{bar_m / 1000:g} km</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = ["<table><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def incident_html(q: Inquiry) -> str:
    inc = q.incident
    lon, lat = inc["place"]["coordinates"]
    ops = _table(
        ("operation", "owner", "title", "kind", "state then", "version", "distance (m)", "windows"),
        (
            (
                o["id"],
                o.get("owner_name") or o["owner"],
                o["title"],
                o["kind"],
                o["state"],
                o["version"],
                o["distance_m"],
                "; ".join(f"{v['window']['start']} - {v['window']['end']}" for v in o["volumes"]),
            )
            for o in q.operations
        ),
    )
    conflicts = _table(
        ("conflict", "state then", "between", "rule", "min separation", "window"),
        (
            (
                c["id"],
                c["state"],
                " / ".join(str(s["party_name"]) for s in c["sides"])
                if "sides" in c
                else f"{q.viewer} / {c['counterpart']['party_name']}",
                c["rule"]["name"],
                f"{c['min_horizontal_m']} m / {c['min_vertical_m']} m",
                f"{c['window']['start']} - {c['window']['end']}",
            )
            for c in q.conflicts
        ),
    )
    timeline = _table(
        ("entry", "time (UTC)", "what", "about", "by", "told to", "signed", "chain hash"),
        (
            (
                t.seq,
                t.at,
                t.type,
                t.subject,
                t.actor or "service",
                ", ".join(t.told) or "coordinator only",
                "yes" if t.signed else "no",
                t.hash,
            )
            for t in q.timeline
        ),
    )
    sites = _table(
        ("site", "name", "category", "owner", "state now", "radius / accuracy (m)", "valid until", "distance (m)"),
        (
            (
                x["id"],
                x["name"],
                x["category"],
                x["owner_name"],
                x["state"],
                f"{x['radius_m']} / {x['accuracy_m']}",
                x["valid_until"],
                x["distance_m"],
            )
            for x in q.sites
        ),
    )
    zones = _table(
        ("zone", "version", "name", "owner", "state now", "distance (m)"),
        ((z["id"], z["version"], z["name"], z["owner_name"], z["state_now"], z["distance_m"]) for z in q.zones),
    )
    missing = "".join(f"<li>{escape(m)}</li>" for m in q.not_recorded)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_META_CSP}">
<title>Incident {escape(inc["id"])}</title>
<style>{_CSS}</style></head><body>
<h1>Incident report {escape(inc["id"])}</h1>
<p>Reported by <b>{escape(q.reporter)}</b> at {escape(inc["created_at"])}. Report drawn for
<b>{escape(q.viewer)}</b>, within what that reader may see.</p>
{
        _table(
            ("place (lon, lat)", "time of the incident (UTC)", "searched"),
            [
                (
                    f"{lon}, {lat}",
                    inc["at"],
                    f"within {inc['radius_m']:,.0f} m, from {inc['before_s']} s before to {inc['after_s']} s after",
                )
            ],
        )
    }
<p><b>What happened:</b> {escape(inc["description"])}</p>
<h2>Map (schematic)</h2>
{_svg(q)}
<p class="note">Dashed circle: the search radius. Coloured: operations near the incident as they stood at its
time; red: the overlap regions of their conflicts.</p>
<h2>Operations near the incident, as they stood at its time ({len(q.operations)})</h2>
{ops}
<h2>Their conflicts at that time ({len(q.conflicts)})</h2>
{conflicts}
<h2>Protected sites near the incident ({len(q.sites)})</h2>
{sites}
<h2>Zones of responsibility in force there ({len(q.zones)})</h2>
{zones}
<h2>Who was told what, and when ({len(q.timeline)} ledger entries)</h2>
<p class="note">Every entry of the hash-chained ledger about these operations and conflicts, from the first to
the time of this report. "Told to" names the parties that could read the entry: for a conflict, each side's
entry is exactly what that side was told. Check any line against a ledger export with
<code>deconflict ledger verify</code>: the chain hash must match.</p>
{timeline}
<h2>Not in this report</h2>
<p>The service does not record these yet, so this report cannot show them:</p><ul>{missing}</ul>
<p class="note">Ledger head when drawn: entry {q.head[0]}, hash <code>{escape(q.head[1])}</code>.</p>
</body></html>
"""
