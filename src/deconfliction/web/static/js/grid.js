// The MGRS grid, on demand: the UTM grid lines of each zone in view, 100 km squares at theatre scale, 10 km
// and then 1 km as one zooms in, each square named by its MGRS reference (through the decluttering
// labeller). Lines of constant easting and northing are projected back from UTM by proj4 (fetched from the
// service when the grid is first shown), so they lean with the zone as the real grid does, and are cut at
// the zone's edges. Cursor coordinates (decimal degrees and MGRS) come with the map (map.js).
/* global L */
import { forward as toMgrs } from "/static/vendor/mgrs/mgrs.esm.js";

const LINE = { color: "#3d4a5c", weight: 1, opacity: 0.55, interactive: false };
const ZONE_EDGE = { color: "#3d4a5c", weight: 2, opacity: 0.7, interactive: false };
const SAMPLES = 24; // points along each grid line in view
const MAX_LINES = 300;

/** The grid's square size at a zoom: null where the map shows too much of the world for a readable grid. */
export function gridStep(zoom) {
  if (zoom < 5) return null;
  if (zoom <= 10) return 100_000;
  if (zoom <= 12) return 10_000;
  return 1_000;
}

let proj4Loading = null;
function loadProj4() {
  if (window.proj4) return Promise.resolve(window.proj4);
  proj4Loading ||= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/vendor/proj4/proj4.js";
    script.onload = () => resolve(window.proj4);
    script.onerror = () => reject(new Error("the MGRS grid: proj4 is not built (make web)"));
    document.head.append(script);
  });
  return proj4Loading;
}

export class MgrsGrid {
  constructor(map, labels) {
    this.map = map;
    this.labels = labels;
    const pane = map.createPane("grid");
    pane.classList.add("grid-pane");
    this.layer = L.layerGroup();
    this.renderer = L.canvas({ pane, padding: 0.1 });
    this.on = false;
    this.step = null;
    this.redraw = () => this.draw();
  }

  async show(on) {
    this.on = on;
    if (!on) {
      this.map.off("moveend zoomend", this.redraw);
      this.layer.remove();
      this.labels.set("grid", []);
      this.map.getContainer().dataset.grid = "off";
      return;
    }
    this.proj4 = await loadProj4();
    if (!this.on) return;
    this.layer.addTo(this.map);
    this.map.on("moveend zoomend", this.redraw);
    this.draw();
  }

  draw() {
    const map = this.map;
    this.layer.clearLayers();
    const step = gridStep(map.getZoom());
    this.step = step;
    const labels = [];
    const b = map.getBounds();
    const south = Math.max(b.getSouth(), -80);
    const north = Math.min(b.getNorth(), 84);
    if (step === null || south >= north) {
      this.labels.set("grid", []);
      map.getContainer().dataset.grid = "hidden at this scale";
      return;
    }
    let lines = 0;
    const west = Math.max(b.getWest(), -180);
    const east = Math.min(b.getEast(), 180);
    for (let zone = Math.floor((west + 180) / 6) + 1; zone <= Math.min(60, Math.floor((east + 180) / 6) + 1); zone++) {
      const zw = -180 + (zone - 1) * 6;
      const lo = Math.max(west, zw);
      const hi = Math.min(east, zw + 6);
      if (lo >= hi) continue;
      const utm = `+proj=utm +zone=${zone} ${south + north < 0 ? "+south " : ""}+datum=WGS84 +units=m +no_defs`;
      const toUtm = (lon, lat) => this.proj4("EPSG:4326", utm, [lon, lat]);
      const toLonLat = (e, n) => this.proj4(utm, "EPSG:4326", [e, n]);
      // the box's extent in the zone's easting and northing
      let [minE, minN, maxE, maxN] = [Infinity, Infinity, -Infinity, -Infinity];
      for (let i = 0; i <= 10; i++) {
        for (const [lon, lat] of [
          [lo + ((hi - lo) * i) / 10, south],
          [lo + ((hi - lo) * i) / 10, north],
          [lo, south + ((north - south) * i) / 10],
          [hi, south + ((north - south) * i) / 10],
        ]) {
          const [e, n] = toUtm(lon, lat);
          minE = Math.min(minE, e);
          maxE = Math.max(maxE, e);
          minN = Math.min(minN, n);
          maxN = Math.max(maxN, n);
        }
      }
      const e0 = Math.floor(minE / step) * step;
      const n0 = Math.floor(minN / step) * step;
      const add = (points) => {
        for (const part of clip(points, lo, hi)) {
          L.polyline(part, { ...LINE, renderer: this.renderer }).addTo(this.layer);
        }
        lines += 1;
      };
      for (let e = e0; e <= maxE && lines < MAX_LINES; e += step) {
        add(range(minN, maxN).map((n) => toLonLat(e, n)));
      }
      for (let n = n0; n <= maxN && lines < MAX_LINES; n += step) {
        add(range(minE, maxE).map((e) => toLonLat(e, n)));
      }
      for (const edge of [zw, zw + 6]) {
        if (edge > west && edge < east) {
          L.polyline([[south, edge], [north, edge]], { ...ZONE_EDGE, renderer: this.renderer }).addTo(this.layer);
        }
      }
      const digits = Math.round(Math.log10(100_000 / step));
      for (let e = e0; e <= maxE; e += step) {
        for (let n = n0; n <= maxN; n += step) {
          // in the middle of the square's part in view: a 100 km square is often larger than the screen
          const [lon, lat] = toLonLat(
            (Math.max(e, minE) + Math.min(e + step, maxE)) / 2,
            (Math.max(n, minN) + Math.min(n + step, maxN)) / 2,
          );
          if (lon < lo || lon > hi || lat < south || lat > north || labels.length > 400) continue;
          labels.push({ latlng: [lat, lon], text: squareName(lon, lat, digits), priority: -1, kind: "grid" });
        }
      }
    }
    this.labels.set("grid", labels);
    map.getContainer().dataset.grid = `${step / 1000} km`;
  }
}

function range(a, b) {
  const out = [];
  for (let i = 0; i <= SAMPLES; i++) out.push(a + ((b - a) * i) / SAMPLES);
  return out;
}

/** The MGRS reference of a point as it is read aloud, to `digits` per axis (5: 1 m): "37S EV 12345 67890". */
export function mgrsAt(lon, lat, digits) {
  let ref;
  try {
    ref = toMgrs([lon, lat], digits);
  } catch {
    return "outside MGRS"; // beyond 84° N and 80° S (UPS), which the package does not cover
  }
  const m = /^(\d{1,2}[C-X])([A-Z]{2})(\d*)$/.exec(ref);
  if (!m) return ref;
  return `${m[1]} ${m[2]} ${m[3].slice(0, digits)} ${m[3].slice(digits)}`.trim();
}

/** A grid square's name: "37S EV" at 100 km, "EV 4 2" at 10 km, "EV 41 27" at 1 km. */
function squareName(lon, lat, digits) {
  const ref = mgrsAt(lon, lat, digits);
  return digits === 0 ? ref : ref.split(" ").slice(1).join(" ");
}

/** The parts of a line (lon/lat points) between longitudes lo and hi, as Leaflet [lat, lon] lists, cut
 * where it crosses an edge (linearly between two samples: close enough at SAMPLES points per line). */
function clip(points, lo, hi) {
  const parts = [];
  let part = [];
  const inside = ([lon]) => lon >= lo && lon <= hi;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const prev = points[i - 1];
    if (prev && inside(prev) !== inside(p)) {
      const edge = inside(prev) ? (p[0] > hi ? hi : lo) : prev[0] > hi ? hi : lo;
      const t = (edge - prev[0]) / (p[0] - prev[0]);
      const cut = [edge, prev[1] + t * (p[1] - prev[1])];
      part.push([cut[1], cut[0]]);
      if (!inside(p)) {
        parts.push(part);
        part = [];
      }
    }
    if (inside(p)) part.push([p[1], p[0]]);
  }
  if (part.length > 1) parts.push(part);
  return parts.filter((q) => q.length > 1);
}
