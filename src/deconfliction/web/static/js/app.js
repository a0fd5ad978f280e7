// The web map's wiring: sign in with a party's API key, load what that party may see, keep it live over the
// party's event stream, and hand the panels their parts. No framework; one module per concern.
/* global L */
import { Api, ApiError, Stream } from "./api.js";
import { keepClock, serviceNow, syncClock } from "./clock.js";
import { Drawing } from "./draw.js";
import { gridStep } from "./grid.js";
import { Inbox } from "./inbox.js";
import { Operations } from "./operations.js";
import { LAYERS, SituationMap, escapeHtml, fmtTime } from "./map.js";

const $ = (id) => document.getElementById(id);
const KEY = "deconfliction.api-key";
const STEP_MS = 15 * 60 * 1000; // the time slider moves in quarter hours over the next 48 hours
const TRACKS_EVERY_MS = 2000;

function announce(text) {
  const box = $("announce");
  box.textContent = "";
  setTimeout(() => (box.textContent = text), 50);
}

function setLink(state) {
  const link = $("link");
  link.dataset.state = state;
  link.textContent = state === "live" ? "live" : state === "reconnecting" ? "reconnecting…" : state;
}

async function signIn() {
  const dialog = $("sign-in");
  const stored = sessionStorage.getItem(KEY);
  if (stored) {
    try {
      return await start(stored);
    } catch {
      sessionStorage.removeItem(KEY);
    }
  }
  dialog.showModal();
  $("api-key").focus();
  $("sign-in-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const key = $("api-key").value.trim();
    const error = $("sign-in-error");
    error.hidden = true;
    $("api-key").removeAttribute("aria-invalid");
    try {
      await start(key);
      sessionStorage.setItem(KEY, key);
      dialog.close();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? "This key is not valid (unknown or revoked)." : err.message;
      error.hidden = false;
      $("api-key").setAttribute("aria-invalid", "true");
      $("api-key").setAttribute("aria-describedby", "sign-in-error");
      $("api-key").focus();
    }
  });
}

async function start(key) {
  const api = new Api(key);
  const me = await api.get("/v1/parties/me"); // throws 401 for a bad key
  const parties = await api.all("/v1/parties");
  const nameOf = (id) => (parties.find((p) => p.id === id) || {}).name || id || "";
  // the party's units (a unit's key: its own unit only): the draw form's choice, the inbox cards' names
  const units = await api.all("/v1/units");
  const unitName = (id) => (units.find((u) => u.id === id) || {}).name || id || "";

  $("app").hidden = false;
  $("who").textContent = me.unit ? `${me.name}, ${unitName(me.unit)} (unit)` : `${me.name} (${me.role})`;
  $("sign-out").hidden = false;
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.reload();
  });

  const tileUrl = document.querySelector('meta[name="tile-url"]').content;
  const pmtilesUrl = document.querySelector('meta[name="pmtiles-url"]').content;
  const map = new SituationMap($("map"), tileUrl, pmtilesUrl);
  map.setParties(parties);
  map.showCoordinates($("cursor"));
  map.labels.avoid($("map-legend"));
  $("grid-toggle").addEventListener("change", async (ev) => {
    try {
      await map.grid.show(ev.target.checked);
      $("grid-note").textContent = "";
    } catch (err) {
      $("grid-note").textContent = err.message;
    }
  });
  map.map.on("moveend", () => {
    // the grid says when the whole world is too much for it
    $("grid-note").textContent = $("grid-toggle").checked && gridStep(map.map.getZoom()) === null ? "Zoom in to see the grid." : "";
  });
  const view = { zones: [], lines: [], sites: [], operations: [], conflicts: [], tracks: [], alerts: [] };
  const slider = $("time");
  let base = serviceNow(); // the service's now: scenario time on an exercise server
  const at = () => new Date(base + Number(slider.value) * STEP_MS);
  const live = () => Number(slider.value) === 0;

  function render() {
    if (live()) base = serviceNow();
    const t = at();
    const ahead = Number(slider.value) * 15;
    const offset = `${Math.floor(ahead / 60)} h${ahead % 60 ? ` ${ahead % 60} min` : ""}`;
    $("time-out").textContent = `${fmtTime(t.toISOString())} ${live() ? "(now)" : `(now + ${offset})`}`;
    $("time-note").textContent = live() ? "" : "Live tracks show at Now only.";
    map.render(view, t, live());
  }

  async function loadAll() {
    const [zones, lines, sites, operations, conflicts] = await Promise.all([
      api.all("/v1/zones"),
      api.all("/v1/lines"),
      api.all("/v1/sites"),
      api.all("/v1/operations"),
      api.all("/v1/conflicts"),
    ]);
    Object.assign(view, { zones, lines, sites, operations, conflicts });
    render();
    if (ownOperations) ownOperations.render(operations);
    if (inbox) inbox.renderNotifications(); // its cards name the operations and conflicts just read
  }

  function fitToView() {
    // the first view: everything the party may see (zones, sites, its operations, its conflicts)
    const shapes = [
      ...view.zones.map((z) => z.footprint),
      ...view.sites.map((s) => s.footprint),
      ...view.conflicts.filter((c) => c.state === "open").map((c) => c.region),
      ...view.operations.flatMap((o) => o.volumes.map((v) => v.footprint)),
    ];
    if (!shapes.length) return;
    const bounds = L.geoJSON({ type: "GeometryCollection", geometries: shapes }).getBounds();
    if (bounds.isValid()) map.map.fitBounds(bounds.pad(0.1), { maxZoom: 14 });
  }

  let inbox = null; // grouped by conflict, naming the operations just read (inbox.js)
  let ownOperations = null; // Plan and Activate for the party's own operations (operations.js)
  let pending = null;
  function changed() {
    // several notifications of one write arrive together: reload once
    clearTimeout(pending);
    pending = setTimeout(() => loadAll().catch((err) => console.warn(err)), 150);
  }

  async function loadTracks() {
    if (!live() || !$("layer-tracks").checked) return;
    try {
      const [tracks, alerts] = await Promise.all([api.get("/v1/tracks"), api.get("/v1/alerts")]);
      view.tracks = tracks.items;
      view.alerts = alerts.items;
      render();
    } catch (err) {
      console.warn("tracks", err);
    }
  }

  // a track: who it is, and "ours" / "not ours" where the caller may say it
  let selected = null;
  function showTrack(tr) {
    selected = tr;
    const party = tr.affiliation === "party";
    $("track-panel").hidden = false;
    $("track-info").textContent =
      `${tr.callsign || tr.id}: ` +
      (party ? `${tr.own ? "yours" : tr.party_name || nameOf(tr.party)}` : `${tr.affiliation}, of no party`) +
      `, ${Math.round(tr.altitude_m)} m, ${Math.round(tr.ground_speed_mps)} m/s`;
    $("track-claim").hidden = party; // only a track of no party can be claimed
    $("track-disclaim").hidden = party && !tr.own;
    $("track-result").textContent = "";
  }
  async function sayOfTrack(verb) {
    if (!selected) return;
    const reason = $("track-reason").value.trim();
    try {
      const done = await api.post(`/v1/tracks/${encodeURIComponent(selected.id)}/${verb}`, reason ? { reason } : {});
      const message = `Recorded: ${verb === "claim" ? "ours" : "not ours"} (${done.told} ${done.told === 1 ? "party" : "parties"} told).`;
      $("track-reason").value = "";
      await loadTracks();
      const now = view.tracks.find((t) => t.id === selected.id);
      if (now) showTrack(now);
      $("track-result").textContent = message;
      announce(message);
    } catch (err) {
      $("track-result").textContent = err.message;
    }
  }
  $("track-claim").addEventListener("click", () => sayOfTrack("claim"));
  $("track-disclaim").addEventListener("click", () => sayOfTrack("disclaim"));
  map.onTrackSelect = showTrack;

  async function focusConflict(id) {
    const c = await api.get(`/v1/conflicts/${encodeURIComponent(id)}`);
    const startMs = Date.parse(c.window.start);
    const endMs = Date.parse(c.window.end);
    const now = serviceNow();
    if (!(startMs <= now && now < endMs)) {
      const steps = Math.ceil((startMs - now) / STEP_MS);
      if (steps > 0 && steps <= Number(slider.max)) slider.value = String(steps);
    }
    render();
    map.focusConflict(c);
    announce(`Showing the conflict, ${fmtTime(c.window.start)} to ${fmtTime(c.window.end)}.`);
  }

  // layer toggles and legend
  const toggles = $("layer-toggles");
  for (const [name, label] of LAYERS) {
    const row = document.createElement("label");
    row.className = "inline";
    row.innerHTML = `<input type="checkbox" id="layer-${name}" checked> ${escapeHtml(label)}`;
    row.querySelector("input").addEventListener("change", (ev) => map.show(name, ev.target.checked));
    toggles.append(row);
  }
  const legendParties = parties.filter((p) => p.role === "party");
  // each party: its colour and its outline's dash pattern (a line sample drawn in SVG), so that no one needs
  // to tell the hues apart
  $("legend").innerHTML = legendParties
    .map(
      (p) =>
        `<li><span class="swatch" aria-hidden="true"></span><svg class="line-key" width="28" height="10" aria-hidden="true">` +
        `<line x1="1" y1="5" x2="27" y2="5" stroke-width="2.5"></line></svg>${escapeHtml(p.name)}${p.id === me.id ? " (you)" : ""}</li>`,
    )
    .join("");
  // the colour through the CSSOM and SVG attributes, not a style attribute: the page's Content-Security-Policy
  // allows no inline style
  $("legend").querySelectorAll("li").forEach((item, i) => {
    const id = legendParties[i].id;
    item.querySelector(".swatch").style.background = map.colour(id);
    const line = item.querySelector("line");
    line.setAttribute("stroke", map.colour(id));
    if (map.dash(id)) line.setAttribute("stroke-dasharray", map.dash(id));
    item.dataset.party = id;
  });

  // tabs: click, or the arrow keys within the tab list
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  function select(tab) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    tab.focus();
  }
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => select(t));
    t.addEventListener("keydown", (ev) => {
      if (ev.key === "ArrowRight") select(tabs[(i + 1) % tabs.length]);
      if (ev.key === "ArrowLeft") select(tabs[(i + tabs.length - 1) % tabs.length]);
    });
  });

  slider.addEventListener("input", render);
  $("time-now").addEventListener("click", () => {
    slider.value = "0";
    render();
    loadTracks();
  });
  setInterval(() => live() && render(), 30000);
  keepClock(() => live() && render()); // a jump of an exercise clock moves Now within seconds

  inbox = new Inbox({ api, me, parties, nameOf, unitName, focusConflict, announce, changed, situation: () => view });
  const drawing = new Drawing({ api, me, parties, units, map, changed, announce });
  ownOperations = new Operations({ api, me, announce, changed, revise: (op) => drawing.revise(op) });
  await loadAll();
  fitToView();
  const after = await inbox.load();
  const stream = new Stream(api, after, {
    onNotification: (n) => {
      inbox.arrive(n);
      if (!n.kind.startsWith("message")) changed();
    },
    onState: setLink,
    onUnauthorized: () => {
      setLink("signed out: key revoked");
      sessionStorage.removeItem(KEY);
    },
  });
  stream.run();
  loadTracks();
  setInterval(loadTracks, TRACKS_EVERY_MS);
  document.body.dataset.ready = "true"; // for tests and monitoring: the first load is complete
  return me;
}

if (typeof window.L === "undefined") {
  $("app").hidden = false;
  $("assets-missing").hidden = false;
}
// the service's clock first: an exercise server's banner shows before anyone signs in
syncClock()
  .catch((err) => console.warn(err))
  .finally(signIn);
