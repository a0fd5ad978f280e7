// The map: basemap, one layer group per kind of object, and the rendering of the party's view at one moment,
// with the objects' names (decluttered, labels.js), a scale bar, the cursor's coordinates in decimal degrees
// and MGRS, and the optional MGRS grid (grid.js).
/* global L */
import { addBasemap } from "./basemap.js";
import { partyStyle } from "./colours.js";
import { MgrsGrid, mgrsAt } from "./grid.js";
import { Labels } from "./labels.js";

const CONFLICT = { color: "#b00020", weight: 2.5, fillColor: "#b00020", fillOpacity: 0.12 };
// label priorities: what a duty officer must not miss first; town names (basemap.js) and grid squares below
const PRIORITY = { sites: 400, operations: 300, zones: 200, lines: 100 };
export const LAYERS = [
  ["zones", "Zones of responsibility"],
  ["lines", "Deconfliction lines"],
  ["sites", "Protected sites"],
  ["operations", "Operations and movements"],
  ["conflicts", "Conflicts"],
  ["tracks", "Live tracks and alerts"],
];

const AFFILIATION_COLOURS = { unknown: "#f2c200", pending: "#f2c200", hostile: "#d0021b", neutral: "#2e9e44" };
const AFFILIATION_SYMBOLS = { unknown: "?", pending: "…", hostile: "!", neutral: "N" };

export function escapeHtml(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export function fmtTime(iso) {
  if (!iso) return "—";
  return iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z");
}

export class SituationMap {
  constructor(element, tileUrl, pmtilesUrl) {
    this.map = L.map(element, { worldCopyJump: true, keyboard: true, preferCanvas: false }).setView([35.3, 40.2], 9);
    this.map.attributionControl.setPrefix("Leaflet");
    element.situationMap = this.map; // for tests and the browser's console: the Leaflet map itself
    L.control.scale({ metric: true, imperial: false, maxWidth: 160 }).addTo(this.map);
    this.labels = new Labels(this.map);
    this.grid = new MgrsGrid(this.map, this.labels);
    this.groups = {};
    for (const [name] of LAYERS) this.groups[name] = L.layerGroup().addTo(this.map);
    this.drawing = L.layerGroup().addTo(this.map);
    this.marks = L.layerGroup().addTo(this.map);
    this.conflictShapes = new Map();
    this.basemap = addBasemap(this.map, { tileUrl, pmtilesUrl, labels: this.labels }).catch((err) => console.warn(err));
  }

  setParties(parties) {
    this.names = new Map(parties.map((p) => [p.id, p.name]));
  }

  /** A party's colour, from its id (colours.js: the same as in a KML export). */
  colour(partyId) {
    return partyId ? partyStyle(partyId).colour : "#444";
  }

  /** A party's outline dash pattern (SVG stroke-dasharray; null: solid), so that parties differ without hue. */
  dash(partyId) {
    return (partyId && partyStyle(partyId).dash) || null;
  }

  /** Write the coordinates under the pointer (or of the map's centre, for the keyboard) into `output`. */
  showCoordinates(output) {
    const say = (latlng, what) => {
      const { lat, lng } = latlng.wrap();
      output.textContent = `${what} ${lat.toFixed(5)}, ${lng.toFixed(5)} · MGRS ${mgrsAt(lng, lat, 5)}`;
      output.dataset.lat = String(lat);
      output.dataset.lon = String(lng);
    };
    this.map.on("mousemove", (ev) => say(ev.latlng, "Cursor"));
    this.map.on("moveend", () => say(this.map.getCenter(), "Centre"));
    this.map.getContainer().addEventListener("mouseleave", () => say(this.map.getCenter(), "Centre"));
    say(this.map.getCenter(), "Centre");
  }

  name(partyId) {
    return (this.names && this.names.get(partyId)) || partyId;
  }

  show(name, visible) {
    const g = this.groups[name];
    if (visible) g.addTo(this.map);
    else g.remove();
    this.showLabels();
  }

  /** Draw everything the party may see as it stands at time `at` (a Date). */
  render(view, at, live) {
    const t = at.getTime();
    const within = (w) => w && Date.parse(w.start) <= t && t < Date.parse(w.end);
    for (const g of Object.values(this.groups)) g.clearLayers();
    this.conflictShapes.clear();
    const labels = [];
    const label = (group, latlng, text, extra = {}) => text && labels.push({ latlng, text, priority: PRIORITY[group], kind: group, ...extra });

    for (const z of view.zones) {
      if (!["agreed", "proposed"].includes(z.state) || !within(z.validity)) continue;
      const agreed = z.state === "agreed";
      const c = this.colour(z.owner);
      // the party's dash on its outline; a proposal is thinner and nearly clear, and says so in its name
      const shape = L.geoJSON(z.footprint, {
        style: { color: c, weight: agreed ? 2.5 : 1.5, dashArray: this.dash(z.owner), fillColor: c, fillOpacity: agreed ? 0.12 : 0.03 },
      })
        .bindTooltip(
          `<b>${escapeHtml(z.name)}</b> (${agreed ? "agreed" : "proposed"} zone)<br>${escapeHtml(this.name(z.owner))}<br>` +
            `${fmtTime(z.validity.start)} – ${fmtTime(z.validity.end)}`,
        )
        .addTo(this.groups.zones);
      label("zones", shape.getBounds().getCenter(), agreed ? z.name : `${z.name} (proposed)`);
    }

    for (const l of view.lines) {
      if (l.withdrawn_at) continue;
      const tip = `<b>${escapeHtml(l.name)}</b> (deconfliction line)<br>left: ${escapeHtml(this.name(l.party_left))}, right: ${escapeHtml(this.name(l.party_right))}`;
      L.geoJSON(l.line, { style: { color: "#111", weight: 3 } }).bindTooltip(tip).addTo(this.groups.lines);
      // its name at its middle vertex, or the next free one outwards
      const path = l.line.coordinates || [];
      const mid = (path.length - 1) / 2;
      const spots = path.map(([lon, lat], i) => [Math.abs(i - mid), [lat, lon]]).sort((a, b) => a[0] - b[0]);
      if (spots.length) label("lines", null, l.name, { latlngs: spots.map(([, p]) => p) });
      if (l.band && l.band.half_width_m > 0 && within(l.band.validity)) {
        L.polygon(corridorRings(l.band.path, l.band.half_width_m), {
          color: "#111", weight: 1, dashArray: "2 4", fillColor: "#111", fillOpacity: 0.08, fillRule: "nonzero",
        }).bindTooltip(`${tip}<br>band ±${l.band.half_width_m} m`).addTo(this.groups.lines);
      }
    }

    for (const s of view.sites) {
      if (s.state !== "active") continue;
      const c = this.colour(s.owner);
      const flag = s.needs_revalidation ? "<br><b>⚠ revalidation due</b>" : "";
      const tip = `<b>${escapeHtml(s.name)}</b> (${escapeHtml(s.category)})<br>${escapeHtml(this.name(s.owner))}<br>protection radius ${s.radius_m} m, accuracy ${s.accuracy_m} m${flag}`;
      if (s.footprint.type === "Point") {
        const [lon, lat] = s.footprint.coordinates;
        L.circle([lat, lon], { radius: s.radius_m, color: c, weight: 2, dashArray: this.dash(s.owner), fillColor: c, fillOpacity: 0.1 })
          .bindTooltip(tip).addTo(this.groups.sites);
        label("sites", [lat, lon], s.name, { anchor: "right" });
        L.circleMarker([lat, lon], { radius: 5, color: "#fff", weight: 2, fillColor: c, fillOpacity: 1 })
          .bindTooltip(tip).addTo(this.groups.sites);
      } else {
        const shape = L.geoJSON(s.footprint, { style: { color: c, weight: 3, dashArray: this.dash(s.owner), fillColor: c, fillOpacity: 0.25 } })
          .bindTooltip(tip).addTo(this.groups.sites);
        label("sites", shape.getBounds().getCenter(), s.name);
      }
    }

    for (const op of view.operations) {
      if (!["draft", "planned", "active"].includes(op.state)) continue;
      const c = this.colour(op.owner);
      let shown = false;
      op.volumes.forEach((v, k) => {
        if (!within(v.window)) return;
        const tip =
          `<b>${escapeHtml(op.title || op.id)}</b> (${escapeHtml(op.kind)}, ${escapeHtml(op.state)})<br>` +
          `${escapeHtml(this.name(op.owner))}, volume ${k + 1} of ${op.volumes.length}<br>` +
          `${v.altitude.lower_m}–${v.altitude.upper_m} m<br>${fmtTime(v.window.start)} – ${fmtTime(v.window.end)}`;
        const shape = footprintLayer(v, { color: c, weight: 2, dashArray: this.dash(op.owner), fillColor: c, fillOpacity: 0.3 })
          .bindTooltip(tip)
          .addTo(this.groups.operations);
        if (!shown) label("operations", shape.getBounds().getCenter(), op.title || op.id);
        shown = true; // one name per operation: where its first volume in force is
      });
    }

    for (const cf of view.conflicts) {
      if (cf.state !== "open" || !within(cf.window)) continue;
      // each encounter (a pair of volumes too close) in force at this moment: a movement's conflict shows
      // where the convoy is then, not the whole route
      const parts = (cf.encounters || []).filter((e) => within(e.window)).map((e) => e.region);
      if (cf.encounters && cf.encounters.length && !parts.length) continue;
      const who = cf.counterpart ? cf.counterpart.party_name : (cf.sides || []).map((s) => s.party_name).join(" and ");
      const tip =
        `<b>Conflict</b> (${escapeHtml(cf.kind)}, rule ${escapeHtml(cf.rule.name)})<br>with ${escapeHtml(who || "")}<br>` +
        `${fmtTime(cf.window.start)} – ${fmtTime(cf.window.end)}<br>${cf.altitude.lower_m}–${cf.altitude.upper_m} m; ` +
        `closest ${cf.min_horizontal_m} m`;
      const shape = L.geoJSON(
        { type: "GeometryCollection", geometries: parts.length ? parts : [cf.region] },
        // outline and a light fill: where conflicts overlap each one's edge stays visible, the overlap darker
        { style: CONFLICT },
      ).bindTooltip(tip).addTo(this.groups.conflicts);
      this.conflictShapes.set(cf.id, shape);
      const centre = shape.getBounds().getCenter();
      L.marker(centre, {
        icon: L.divIcon({ className: "conflict-icon", html: "⚠", iconSize: [20, 20] }),
        title: `Conflict with ${who || "another party"}`,
        alt: `Conflict with ${who || "another party"}`,
        keyboard: true,
      }).bindTooltip(tip).addTo(this.groups.conflicts);
    }

    this.objectLabels = labels;
    this.showLabels();

    if (live) {
      for (const tr of view.tracks) {
        const party = tr.affiliation === "party";
        const c = party ? this.colour(tr.party) : AFFILIATION_COLOURS[tr.affiliation] || "#444";
        const at = [tr.lat, tr.lon];
        const inAlert = tr.alerts.length > 0; // the service says which of the reader's alerts involve it
        const whose = party ? escapeHtml(tr.party_name || this.name(tr.party)) : `${escapeHtml(tr.affiliation)}, no party`;
        const tip =
          `<b>${escapeHtml(tr.callsign || tr.id)}</b> (${whose})<br>` +
          `${Math.round(tr.altitude_m)} m, ${Math.round(tr.ground_speed_mps)} m/s, track ${Math.round(tr.track_deg)}°` +
          (inAlert ? "<br><b>⚠ in a tactical alert</b>" : "");
        if (inAlert) {
          L.circleMarker(at, { radius: 16, color: "#b00020", weight: 4, fill: false, className: "halo" }).addTo(this.groups.tracks);
        }
        L.polyline([at, ahead(tr, 60)], { color: c, weight: 2 }).addTo(this.groups.tracks);
        const select = () => this.onTrackSelect && this.onTrackSelect(tr);
        if (party) {
          L.circleMarker(at, { radius: 6, color: "#fff", weight: 2, fillColor: c, fillOpacity: 1, className: tr.own ? "track-own" : "track-other" })
            .bindTooltip(tip)
            .on("click", select)
            .addTo(this.groups.tracks);
        } else {
          // unknown, hostile, pending, neutral: a symbol of its own, never a party's colour
          const label = `${tr.affiliation} track ${tr.id}`;
          L.marker(at, {
            icon: L.divIcon({ className: `track-icon affiliation-${tr.affiliation}`, html: AFFILIATION_SYMBOLS[tr.affiliation] || "?", iconSize: [18, 18] }),
            title: label,
            alt: label,
            keyboard: true,
          })
            .bindTooltip(tip)
            .on("click", select)
            .on("keypress", (ev) => ev.originalEvent && ev.originalEvent.key === "Enter" && select())
            .addTo(this.groups.tracks);
        }
      }
      for (const a of view.alerts) {
        if (!a.position) continue;
        const [lon, lat] = a.position;
        const what = a.type === "tracks" ? `Predicted closest approach, ${Math.round(a.min_horizontal_m)} m` : `Predicted entry (${a.type === "undeclared_entry" ? "undeclared" : a.type})`;
        L.marker([lat, lon], {
          icon: L.divIcon({ className: "conflict-icon", html: "✕", iconSize: [20, 20] }),
          title: what,
          alt: what,
          zIndexOffset: -1000, // under the tracks: an entry predicted now is where the track is
        }).addTo(this.groups.tracks);
      }
    }
  }

  /** The names of what is drawn and shown (zones, lines, sites, operations), to the decluttering labeller. */
  showLabels() {
    this.labels.set("objects", (this.objectLabels || []).filter((l) => this.map.hasLayer(this.groups[l.kind])));
  }

  /** Centre on a conflict and make it blink. */
  focusConflict(conflict) {
    const shape = L.geoJSON(conflict.region);
    this.map.fitBounds(shape.getBounds().pad(0.5), { maxZoom: 13 });
    const drawn = this.conflictShapes.get(conflict.id);
    if (drawn) drawn.eachLayer((l) => l.getElement && l.getElement() && l.getElement().classList.add("flash"));
  }

  /** A red mark where an error points (e.g. where two edges of a drawn polygon cross). */
  markError(lonLat, message) {
    const [lon, lat] = lonLat;
    L.circleMarker([lat, lon], { radius: 9, color: "#b00020", weight: 3, fillOpacity: 0.2 })
      .bindTooltip(`⚠ ${escapeHtml(message)}`, { permanent: true, direction: "right" })
      .addTo(this.marks);
  }

  clearMarks() {
    this.marks.clearLayers();
  }
}

/** Where a track will be in `s` seconds on its present track and speed (for the heading line). */
function ahead(tr, s) {
  const d = tr.ground_speed_mps * s;
  const rad = (tr.track_deg * Math.PI) / 180;
  const dlat = (d * Math.cos(rad)) / 111320;
  const dlon = (d * Math.sin(rad)) / (111320 * Math.cos((tr.lat * Math.PI) / 180));
  return [tr.lat + dlat, tr.lon + dlon];
}

/** A Leaflet layer for a volume's footprint (RFC 7946): polygons; a Point with the volume's radius_m (a
 * circle); a LineString with its half_width_m (a corridor). */
export function footprintLayer(v, style) {
  const fp = v.footprint;
  if (fp.type === "Point") {
    const [lon, lat] = fp.coordinates;
    return L.circle([lat, lon], { radius: v.radius_m, ...style });
  }
  if (fp.type === "LineString") return L.polygon(corridorRings(fp.coordinates, v.half_width_m), { fillRule: "nonzero", ...style });
  return L.geoJSON(fp, { style });
}

/** A corridor drawn as one quadrilateral per segment plus a disc per joint, in a local flat frame per segment
 * (for display only; the service computes on the ellipsoid). */
export function corridorRings(path, halfWidth) {
  const rings = [];
  for (let i = 0; i + 1 < path.length; i++) {
    const [lon1, lat1] = path[i];
    const [lon2, lat2] = path[i + 1];
    const k = Math.cos((((lat1 + lat2) / 2) * Math.PI) / 180);
    const dx = (lon2 - lon1) * k * 111320;
    const dy = (lat2 - lat1) * 110540;
    const len = Math.hypot(dx, dy) || 1;
    const nx = (-dy / len) * halfWidth;
    const ny = (dx / len) * halfWidth;
    const off = (lat, lon, s) => [lat + (s * ny) / 110540, lon + (s * nx) / (111320 * k)];
    rings.push([off(lat1, lon1, 1), off(lat2, lon2, 1), off(lat2, lon2, -1), off(lat1, lon1, -1)]);
  }
  for (const [lon, lat] of path) {
    const k = Math.cos((lat * Math.PI) / 180);
    const ring = [];
    for (let a = 0; a < 16; a++) {
      const th = (-a / 16) * 2 * Math.PI; // clockwise, like the quads, so a nonzero fill unites them
      ring.push([lat + (halfWidth * Math.sin(th)) / 110540, lon + (halfWidth * Math.cos(th)) / (111320 * k)]);
    }
    rings.push(ring);
  }
  return rings.map((r) => [r]); // one polygon per piece (a multipolygon), not holes
}
