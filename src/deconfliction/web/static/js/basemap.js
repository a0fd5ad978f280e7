// The basemap, served by the service itself (no download at run time): land and borders, lakes, rivers and
// named towns from static/vendor/basemap/*.geojson (Natural Earth and GeoNames, built by web/build.mjs), drawn
// on one canvas under the situation; town names go through the decluttering labeller. A deployment's own
// raster tiles (DECONFLICTION_TILE_URL) replace it; its own PMTiles vector extract (DECONFLICTION_MAP_PMTILES)
// is drawn over it from street scale, by protomaps-leaflet, loaded only then.
/* global L */

const BASEMAP = "/static/vendor/basemap";
export const STREET_ZOOM = 11; // from here on a PMTiles extract, when there is one, shows the streets
const LAND = { color: "#9a958a", weight: 0.8, fillColor: "#efece3", fillOpacity: 1 };
const LAKE = { color: "#5b8fb9", weight: 0.8, fillColor: "#b7d3e9", fillOpacity: 1 };
const RIVER = { color: "#4f8cc9", weight: 1.6, opacity: 0.9, lineCap: "round" };

async function geojson(name) {
  const r = await fetch(`${BASEMAP}/${name}.geojson`);
  if (!r.ok) throw new Error(`basemap ${name}: HTTP ${r.status}`);
  return r.json();
}

/** Which zoom a town's name may show from: the larger the town, the further out. */
function placeMinZoom(population) {
  if (population >= 1_000_000) return 4;
  if (population >= 300_000) return 6;
  if (population >= 100_000) return 7;
  if (population >= 30_000) return 8;
  return 9;
}

/** Add the basemap to `map` (a Leaflet map); town names go to `labels` (labels.js). Resolves when drawn. */
export async function addBasemap(map, { tileUrl, pmtilesUrl, labels }) {
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: "Tiles: this deployment's server" }).addTo(map);
    return;
  }
  const pane = map.createPane("basemap");
  pane.classList.add("basemap-pane");
  const renderer = L.canvas({ pane, padding: 0.3 });
  const common = { pane, renderer, interactive: false };
  map.attributionControl.addAttribution("Basemap: Natural Earth, GeoNames (CC BY 4.0)");
  const [countries, lakes, rivers, places] = await Promise.all(
    ["countries", "lakes", "rivers", "places"].map((n) => geojson(n).catch((err) => (console.warn(err), null))),
  );
  if (countries) L.geoJSON(countries, { ...common, style: LAND }).addTo(map);
  if (lakes) L.geoJSON(lakes, { ...common, style: LAKE }).addTo(map);
  if (rivers) L.geoJSON(rivers, { ...common, style: RIVER }).addTo(map);
  if (places) {
    labels.set(
      "places",
      places.features.map((f) => ({
        latlng: [f.geometry.coordinates[1], f.geometry.coordinates[0]],
        text: f.properties.name,
        // below every object of the situation; among towns, the larger first
        priority: Math.log10(Math.max(f.properties.population, 1)),
        minZoom: placeMinZoom(f.properties.population),
        kind: "place",
        anchor: "right",
      })),
    );
  }
  if (pmtilesUrl) addVectorTiles(map, pmtilesUrl);
  map.getContainer().dataset.basemap = "drawn"; // for tests and monitoring, as body[data-ready]
}

/** The deployment's PMTiles extract over the theatre basemap from STREET_ZOOM: protomaps-leaflet's script and
 * the archive's header are fetched from the service only when the map first reaches that zoom, so neither the
 * first load nor a theatre-scale view reads any of it. */
function addVectorTiles(map, url) {
  const start = () => {
    if (map.getZoom() < STREET_ZOOM) return;
    map.off("zoomend", start);
    loadVectorTiles(map, url);
  };
  map.on("zoomend", start);
  start();
}

function loadVectorTiles(map, url) {
  const script = document.createElement("script");
  script.src = "/static/vendor/protomaps-leaflet/protomaps-leaflet.js";
  script.onload = () => {
    const layer = window.protomapsL.leafletLayer({
      url,
      flavor: "light",
      lang: "en",
      minZoom: STREET_ZOOM,
      attribution: "Streets: this deployment's extract (Protomaps, OpenStreetMap)",
    });
    layer.addTo(map);
    map.fire("vectortiles", { layer });
  };
  script.onerror = () => console.warn("vector tiles: protomaps-leaflet is not built (make web)");
  document.head.append(script);
}
