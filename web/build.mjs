// Copies the web map's third-party assets from node_modules into the Python package, so the service serves
// them itself and the page works with no internet: the map library (Leaflet) and the basemap (Natural
// Earth country borders from world-atlas, converted from TopoJSON to GeoJSON here, once, at build time).
// Also the API's documentation page (Swagger UI) that /v1/docs serves, so it too works offline.
// Run by `make web` (and so by `make demo` and `make test`) after `npm ci`.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
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

// 1:50m borders: about 240 countries; coordinates to 1e-3 degree (~100 m), plenty for a basemap.
const topo = JSON.parse(readFileSync(join(modules, "world-atlas", "countries-50m.json"), "utf8"));
const round = (c) => (typeof c[0] === "number" ? [Math.round(c[0] * 1e3) / 1e3, Math.round(c[1] * 1e3) / 1e3] : c.map(round));
const countries = feature(topo, topo.objects.countries);
for (const f of countries.features) {
  f.geometry.coordinates = round(f.geometry.coordinates);
  f.properties = { name: f.properties.name };
}
writeFileSync(join(out, "countries.geojson"), JSON.stringify(countries));
cpSync(join(modules, "world-atlas", "LICENSE"), join(out, "world-atlas-LICENSE"));
writeFileSync(
  join(out, "README"),
  "Built by web/build.mjs from the npm packages pinned in web/package-lock.json; not edited by hand, not in git.\n",
);
console.log(`web assets: Leaflet, Swagger UI and ${countries.features.length} country borders -> ${out}`);
