// Drawing and upload: a shape drawn on the map (or typed as GeoJSON) becomes an operation, a zone proposal
// or a protected site; a route drawn on the map, with a departure and a speed or a time at every waypoint,
// becomes a movement (POST /v1/movements); an operation or a movement of the party's is revised in the same
// form (PUT with If-Match); a file of GeoJSON, KML or CSV is imported. Errors from the API appear next to the
// input they name, and a geometry error that names a place is marked on the map.
/* global L */
import { serviceNow } from "./clock.js";
import { escapeHtml as esc, fmtTime } from "./map.js";
import { showErrors } from "./inbox.js";

const $ = (id) => document.getElementById(id);

/**
 * The answer's warnings (likely mistakes that were stored anyway: swapped coordinates, feet given as
 * metres; docs/api.md, Warnings), each next to the input it names; the ones before are removed.
 */
export function showWarnings(form, warnings, targets) {
  for (const old of form.querySelectorAll(".field-warning")) old.remove();
  return (warnings || []).map((w, i) => {
    const key = Object.keys(targets)
      .filter((k) => w.field === k || (w.field || "").startsWith(`${k}.`) || (w.field || "").startsWith(`${k}[`))
      .sort((a, b) => b.length - a.length)[0];
    const target = key ? targets[key] : form.querySelector('[type="submit"]');
    const p = document.createElement("p");
    p.className = "field-warning";
    p.setAttribute("role", "status");
    p.dataset.code = w.code;
    p.id = `${target.id || "f"}-warning-${i}`;
    p.textContent = `${w.field}: ${w.message}`;
    if (key) {
      target.setAttribute("aria-describedby", p.id);
      target.insertAdjacentElement("afterend", p);
    } else {
      target.insertAdjacentElement("beforebegin", p);
    }
    return p;
  });
}

/** "YYYY-MM-DDTHH:MM" (a datetime-local, read as UTC) -> RFC 3339. */
function utc(value) {
  return value ? `${value}:00Z` : "";
}

function localValue(date) {
  return date.toISOString().slice(0, 16);
}

/** RFC 3339 -> "YYYY-MM-DDTHH:MM" (UTC) for a datetime-local input. */
function fromUtc(text) {
  return text ? localValue(new Date(text)) : "";
}

/** Great-circle distance in metres between two [lon, lat] (a schedule's first guess, not a measurement). */
function metres([lon1, lat1], [lon2, lat2]) {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

export class Drawing {
  constructor(ctx) {
    this.ctx = ctx; // {api, me, parties, units, map, changed, announce}
    this.mode = null;
    this.points = [];
    this.map = ctx.map.map;
    this.layer = ctx.map.drawing;
    this.footprint = $("f-footprint");
    this.hint = $("draw-hint");
    this.form = $("draw-form");
    this.what = $("draw-what");
    this.map.on("click", (ev) => this.click(ev.latlng));
    this.map.getContainer().addEventListener("keydown", (ev) => this.key(ev));
    $("draw-start").addEventListener("click", () => this.start("polygon"));
    $("draw-route").addEventListener("click", () => this.start("line"));
    $("draw-stop-revise").addEventListener("click", () => this.stopRevise());
    for (const radio of this.form.querySelectorAll('input[name="m-schedule"]')) radio.addEventListener("change", () => this.showSchedule());
    this.revising = null; // {op, movement, volume} while the form revises one of the party's operations
    $("draw-point").addEventListener("click", () => this.start("point"));
    $("draw-undo").addEventListener("click", () => this.undo());
    $("draw-finish").addEventListener("click", () => this.finish());
    $("draw-cancel").addEventListener("click", () => this.cancel());
    this.what.addEventListener("change", () => this.showFields());
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.submit();
    });
    $("upload-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.upload();
    });
    this.footprint.addEventListener("change", () => this.preview());
    const now = new Date(serviceNow()); // scenario time on an exercise server
    now.setUTCMinutes(0, 0, 0);
    $("f-start").value = localValue(new Date(now.getTime() + 3600e3));
    $("f-end").value = localValue(new Date(now.getTime() + 3 * 3600e3));
    $("f-valid-until").value = localValue(new Date(now.getTime() + 90 * 86400e3));
    $("m-departure").value = localValue(new Date(now.getTime() + 3600e3));
    const box = $("f-counterparties");
    for (const p of ctx.parties) {
      if (p.id === ctx.me.id || p.role !== "party") continue;
      const label = document.createElement("label");
      label.className = "inline";
      label.innerHTML = `<input type="checkbox" name="counterparty" value="${esc(p.id)}"> ${esc(p.name)}`;
      box.append(label);
    }
    this.fillUnits();
    this.showFields();
  }

  /** The unit select: hidden when the party has no units; a unit's key declares for its own unit only. */
  fillUnits() {
    const select = $("f-unit");
    const units = this.ctx.units || [];
    const own = this.ctx.me.unit;
    const options = own ? units.filter((u) => u.id === own) : [{ id: "", name: `${this.ctx.me.name} (no unit)` }, ...units];
    select.innerHTML = options.map((u) => `<option value="${esc(u.id)}">${esc(u.name)}</option>`).join("");
    $("f-unit-row").hidden = !units.length;
  }

  /** ``{unit}`` when one is chosen (omitted: the party as a whole, or a unit's key's own unit). */
  unit() {
    const value = $("f-unit").value;
    return value ? { unit: value } : {};
  }

  showFields() {
    const what = this.what.value;
    for (const div of this.form.querySelectorAll("[data-for]")) div.hidden = !div.dataset.for.split(" ").includes(what);
    this.showSchedule();
  }

  /** A movement's schedule: a departure and a speed, or a time at every waypoint of the route. */
  byTimes() {
    return $("m-by-times").checked;
  }

  showSchedule() {
    $("m-speed-row").hidden = this.byTimes();
    $("m-times-row").hidden = !this.byTimes();
    if (this.byTimes()) this.fillTimes();
  }

  /** The route in the footprint box, if it is a LineString. */
  route() {
    try {
      const g = JSON.parse(this.footprint.value);
      return g && g.type === "LineString" && Array.isArray(g.coordinates) ? g.coordinates : null;
    } catch {
      return null;
    }
  }

  /** One time input per waypoint of the route; the ones typed are kept, new ones are guessed from the
   * departure and the speed above. */
  fillTimes(given = null) {
    const list = $("m-times");
    const route = this.route();
    $("m-times-hint").hidden = Boolean(route);
    if (!route) {
      list.replaceChildren();
      return;
    }
    const typed = given || [...list.querySelectorAll("input")].map((i) => i.value);
    const kmh = Number($("m-speed").value);
    const speed = kmh > 0 ? kmh / 3.6 : 10; // m/s: a first guess for each time, to be corrected
    let t = Date.parse(utc($("m-departure").value)) || serviceNow();
    list.replaceChildren();
    route.forEach((point, i) => {
      if (i > 0) t += (metres(route[i - 1], point) / speed) * 1000;
      const li = document.createElement("li");
      const id = `m-time-${i}`;
      li.innerHTML = `<label for="${id}">Waypoint ${i + 1} (${esc(point[1].toFixed(4))}, ${esc(point[0].toFixed(4))})</label>
        <input id="${id}" type="datetime-local" step="60">`;
      li.querySelector("input").value = typed[i] || localValue(new Date(Math.ceil(t / 60000) * 60000));
      list.append(li);
    });
  }

  // ------------------------------------------------------------------------------------------ revise

  /** Load one of the party's operations into the form (a movement with its route and schedule); the
   * submit then sends its revision with If-Match, so a change made meanwhile is refused, not overwritten. */
  async revise(op) {
    let movement = null;
    try {
      movement = (await this.ctx.api.get(`/v1/movements/${encodeURIComponent(op.id)}`)).movement;
    } catch (err) {
      if (err.status !== 404) throw err; // 404: an operation declared by its volumes, not a movement
    }
    if (!movement && op.volumes.length !== 1) {
      return `${op.title || op.id} has ${op.volumes.length} volumes: revise it through the API or a file (the form holds one volume).`;
    }
    this.cancel();
    const volume = movement ? null : op.volumes[0];
    this.revising = { op, movement, volume };
    this.what.value = movement ? "movement" : "operation";
    this.what.disabled = true;
    $("f-title").value = op.title || "";
    $("f-kind").value = op.kind;
    const altitude = movement ? movement.altitude : volume.altitude;
    $("f-lower").value = String(altitude.lower_m);
    $("f-upper").value = String(altitude.upper_m);
    $("f-unit").value = op.unit || "";
    if (movement) {
      this.footprint.value = JSON.stringify(movement.route);
      $("m-half-width").value = String(movement.half_width_m);
      $("m-tolerance").value = String((movement.tolerance_s || 0) / 60);
      const times = movement.waypoint_times;
      $("m-by-times").checked = Boolean(times);
      $("m-by-speed").checked = !times;
      if (!times) {
        $("m-departure").value = fromUtc(movement.departure);
        $("m-speed").value = String(Math.round(movement.speed_m_s * 3.6 * 100) / 100);
      }
      this.showFields();
      if (times) this.fillTimes(times.map(fromUtc));
    } else {
      this.footprint.value = JSON.stringify(volume.footprint);
      $("f-start").value = fromUtc(volume.window.start);
      $("f-end").value = fromUtc(volume.window.end);
      this.showFields();
    }
    $("f-state-row").hidden = true; // a revision keeps the state; Plan and Activate are on the inbox's card
    $("draw-revising").hidden = false;
    $("draw-revising-text").textContent = `Revising ${movement ? "movement" : "operation"} “${op.title || op.id}” (${op.state}, version ${op.version}). Change the shape or the fields, then send the revision.`;
    $("draw-submit").textContent = "Send revision";
    this.preview();
    $("draw-result").replaceChildren();
    return "";
  }

  /** Back to declaring new things; `clear`: the shape and the form's result go too. */
  stopRevise(clear = true) {
    this.revising = null;
    this.what.disabled = false;
    $("f-state-row").hidden = false;
    $("draw-revising").hidden = true;
    $("draw-submit").textContent = "Submit";
    if (clear) {
      this.cancel();
      $("draw-result").replaceChildren();
    }
    this.showFields();
  }

  start(mode) {
    this.mode = mode;
    this.points = [];
    this.ctx.map.clearMarks();
    this.redraw();
    this.map.getContainer().focus();
    this.hint.textContent =
      mode === "point"
        ? "Click the map where the site is."
        : mode === "line"
          ? "Click the map at each waypoint, in the order travelled. Enter or “Finish shape” ends the route; Backspace undoes; Escape cancels."
          : "Click the map to add corners. Enter or “Finish shape” closes the polygon; Backspace undoes; Escape cancels.";
  }

  click(latlng) {
    if (!this.mode) return;
    this.points.push([Number(latlng.lng.toFixed(6)), Number(latlng.lat.toFixed(6))]);
    if (this.mode === "point") {
      this.finish();
      return;
    }
    this.redraw();
    this.hint.textContent =
      this.mode === "line"
        ? `${this.points.length} waypoint${this.points.length > 1 ? "s" : ""}. Enter or “Finish shape” ends the route.`
        : `${this.points.length} corner${this.points.length > 1 ? "s" : ""}. Enter or “Finish shape” closes the polygon.`;
  }

  key(ev) {
    if (!this.mode) return;
    if (ev.key === "Enter") {
      ev.preventDefault();
      this.finish();
    } else if (ev.key === "Backspace") {
      ev.preventDefault();
      this.undo();
    } else if (ev.key === "Escape") {
      this.cancel();
    }
  }

  undo() {
    this.points.pop();
    this.redraw();
  }

  cancel() {
    this.mode = null;
    this.points = [];
    this.footprint.value = "";
    this.layer.clearLayers();
    this.ctx.map.clearMarks();
    this.hint.textContent = "Shape cleared.";
  }

  finish() {
    if (this.mode === "point" && this.points.length === 1) {
      this.footprint.value = JSON.stringify({ type: "Point", coordinates: this.points[0] });
    } else if (this.mode === "polygon" && this.points.length >= 3) {
      const ring = [...this.points, this.points[0]];
      this.footprint.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    } else if (this.mode === "line" && this.points.length >= 2) {
      this.footprint.value = JSON.stringify({ type: "LineString", coordinates: this.points });
      if (this.what.value !== "movement" && !this.revising) {
        this.what.value = "movement"; // a route is a movement's (an operation's corridor can be typed)
        this.showFields();
      }
    } else {
      this.hint.textContent =
        this.mode === "polygon" ? "A polygon needs at least 3 corners." : this.mode === "line" ? "A route needs at least 2 waypoints." : "Choose a tool first.";
      return;
    }
    this.mode = null;
    this.preview();
    if (this.byTimes()) this.fillTimes();
    this.hint.textContent = "Shape ready: fill in the form and submit.";
  }

  redraw() {
    this.layer.clearLayers();
    const ll = this.points.map(([lon, lat]) => [lat, lon]);
    if (ll.length > 1) L.polyline(ll, { color: "#f0a500", weight: 3, dashArray: "4 4" }).addTo(this.layer);
    for (const p of ll) L.circleMarker(p, { radius: 4, color: "#f0a500" }).addTo(this.layer);
  }

  preview() {
    this.layer.clearLayers();
    try {
      const g = JSON.parse(this.footprint.value);
      const shape = L.geoJSON(g, { style: { color: "#f0a500", weight: 3, fillOpacity: 0.15 } }).addTo(this.layer);
      if (g.type === "Point") L.circle([g.coordinates[1], g.coordinates[0]], { radius: Number($("f-radius").value) || 0, color: "#f0a500" }).addTo(this.layer);
      return shape;
    } catch {
      return null;
    }
  }

  body() {
    const what = this.what.value;
    let footprint = null;
    try {
      footprint = this.footprint.value.trim() ? JSON.parse(this.footprint.value) : null;
    } catch (err) {
      return { error: { field: "footprint", message: `not valid GeoJSON: ${err.message}` } };
    }
    const altitude = { lower_m: Number($("f-lower").value), upper_m: Number($("f-upper").value) };
    if (what === "movement") return this.movementBody(footprint, altitude);
    if (what === "operation") {
      const volume = { footprint, altitude, window: { start: utc($("f-start").value), end: utc($("f-end").value) } };
      const was = this.revising && this.revising.volume;
      if (was && footprint && was.footprint.type === footprint.type) {
        // a circle keeps its radius, a corridor its half-width (the form does not show them)
        if (was.radius_m != null) volume.radius_m = was.radius_m;
        if (was.half_width_m != null) volume.half_width_m = was.half_width_m;
      }
      const common = { kind: $("f-kind").value, title: $("f-title").value, ...this.unit(), volumes: [volume] };
      return {
        ...this.target("/v1/operations", common),
        targets: {
          "volumes[0].footprint": this.footprint,
          "volumes[0].radius_m": this.footprint,
          "volumes[0].half_width_m": this.footprint,
          "volumes[0].altitude": $("f-lower"),
          "volumes[0].altitude.lower_m": $("f-lower"),
          "volumes[0].altitude.upper_m": $("f-upper"),
          "volumes[0].window": $("f-start"),
          "volumes[0].window.start": $("f-start"),
          "volumes[0].window.end": $("f-end"),
          volumes: this.footprint,
          kind: $("f-kind"),
          title: $("f-title"),
          state: $("f-state"),
          known_conflict_tokens: $("f-state"),
          unit: $("f-unit"),
        },
        warnTargets: { "volumes[0].footprint": this.footprint, "volumes[0].altitude": $("f-upper") },
      };
    }
    if (what === "zone") {
      const counterparties = [...this.form.querySelectorAll('input[name="counterparty"]:checked')].map((i) => i.value);
      return {
        method: "POST",
        path: "/v1/zones",
        body: { name: $("f-zone-name").value, counterparties, footprint, validity: { start: utc($("f-start").value), end: utc($("f-end").value) } },
        targets: {
          name: $("f-zone-name"),
          counterparties: $("f-counterparties"),
          footprint: this.footprint,
          validity: $("f-start"),
          "validity.start": $("f-start"),
          "validity.end": $("f-end"),
        },
      };
    }
    return {
      method: "POST",
      path: "/v1/sites",
      body: {
        name: $("f-site-name").value,
        category: $("f-category").value,
        footprint,
        radius_m: Number($("f-radius").value),
        accuracy_m: Number($("f-accuracy").value),
        valid_until: utc($("f-valid-until").value),
        ...this.unit(),
      },
      targets: {
        name: $("f-site-name"),
        category: $("f-category"),
        footprint: this.footprint,
        footprint_or_position: this.footprint,
        radius_m: $("f-radius"),
        accuracy_m: $("f-accuracy"),
        valid_until: $("f-valid-until"),
        unit: $("f-unit"),
      },
      warnTargets: { footprint: this.footprint, position: this.footprint },
    };
  }

  /** Where a declaration goes: POST a new one (with its state), or PUT the revision of the operation
   * being revised, with If-Match its version (its state is kept). */
  target(path, common) {
    if (!this.revising) return { method: "POST", path, body: { ...common, state: $("f-state").value } };
    const op = this.revising.op;
    return { method: "PUT", path: `${path}/${encodeURIComponent(op.id)}`, body: common, headers: { "If-Match": `"${op.version}"` } };
  }

  /** A movement: the route drawn (or typed), a departure and a speed or a time at every waypoint, the
   * corridor's half-width, the tolerance (docs/formats.md, Movements). */
  movementBody(route, altitude) {
    const movement = {
      route,
      half_width_m: Number($("m-half-width").value),
      altitude,
      tolerance_s: Math.round(Number($("m-tolerance").value) * 60),
    };
    const targets = {
      movement: this.footprint,
      "movement.route": this.footprint,
      "movement.half_width_m": $("m-half-width"),
      "movement.tolerance_s": $("m-tolerance"),
      "movement.altitude": $("f-lower"),
      "movement.altitude.lower_m": $("f-lower"),
      "movement.altitude.upper_m": $("f-upper"),
      "movement.departure": $("m-departure"),
      "movement.speed_m_s": $("m-speed"),
      "movement.waypoint_times": $("m-times-row"),
      kind: $("f-kind"),
      title: $("f-title"),
      state: $("f-state"),
      known_conflict_tokens: $("f-state"),
      unit: $("f-unit"),
    };
    if (this.byTimes()) {
      const inputs = [...$("m-times").querySelectorAll("input")];
      movement.waypoint_times = inputs.map((i) => utc(i.value));
      inputs.forEach((input, i) => (targets[`movement.waypoint_times[${i}]`] = input));
      if (!inputs.length) targets["movement.waypoint_times"] = this.footprint; // no route yet: draw it
    } else {
      movement.departure = utc($("m-departure").value);
      movement.speed_m_s = Number($("m-speed").value) / 3.6;
      if (this.revising && this.revising.movement && this.revising.movement.speed_m_s) {
        // unchanged in km/h as shown: the speed declared, not its rounding
        const was = this.revising.movement.speed_m_s;
        if (Math.round(was * 3.6 * 100) / 100 === Number($("m-speed").value)) movement.speed_m_s = was;
      }
    }
    const common = { kind: $("f-kind").value, title: $("f-title").value, ...this.unit(), movement };
    return {
      ...this.target("/v1/movements", common),
      targets,
      warnTargets: { "movement.route": this.footprint, "movement.altitude": $("f-upper"), route: this.footprint },
    };
  }

  async submit() {
    const out = $("draw-result");
    out.replaceChildren();
    this.ctx.map.clearMarks();
    const req = this.body();
    showWarnings(this.form, [], {});
    if (req.error) {
      showErrors(this.form, { errors: [req.error] }, { footprint: this.footprint });
      return;
    }
    try {
      if (this.revising) {
        // the proof of knowledge: the current token of every open conflict of the operation, read now
        const open = await this.ctx.api.all(`/v1/conflicts?operation=${encodeURIComponent(this.revising.op.id)}&state=open`);
        req.body.known_conflict_tokens = open.map((c) => c.token);
      }
      const answer = await this.ctx.api.call(req.method, req.path, req.body, req.headers || {});
      showErrors(this.form, { errors: [] }, {}).forEach((p) => p.remove());
      const revised = Boolean(this.revising);
      const obj = answer.operation || answer.zone || answer.site;
      const conflicts = answer.conflicts || [];
      const warnings = showWarnings(this.form, answer.warnings, req.warnTargets || {});
      out.innerHTML =
        `<p><span class="ok-flag">✓ ${revised ? "Revised" : "Stored"}</span> ${esc(obj.title || obj.name || obj.id)} ${obj.title || obj.name ? `(${esc(obj.id)}, ` : "("}${esc(obj.state || "")}${revised ? `, version ${esc(obj.version)}` : ""}), receipt ${esc(answer.receipt && answer.receipt.seq)}.</p>` +
        (answer.movement ? `<p>Swept into ${esc(obj.volumes.length)} volume${obj.volumes.length === 1 ? "" : "s"} along the route, ${esc(fmtTime(obj.volumes[0].window.start))} – ${esc(fmtTime(obj.volumes[obj.volumes.length - 1].window.end))}.</p>` : "") +
        (warnings.length
          ? `<p class="field-warning">${warnings.length} warning${warnings.length > 1 ? "s" : ""} next to the input: taken as sent; check, and revise it if it is a mistake.</p>`
          : "") +
        (conflicts.length
          ? `<p>${conflicts.length} conflict${conflicts.length > 1 ? "s" : ""}; each side has been told:</p><ul>${conflicts
              .map((c) => `<li>${esc(c.kind)} with ${esc(c.counterpart ? c.counterpart.party_name : "")}, closest ${esc(c.min_horizontal_m)} m</li>`)
              .join("")}</ul>`
          : "<p>No conflict.</p>");
      this.ctx.announce(
        `Stored, ${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}${warnings.length ? `, ${warnings.length} warning${warnings.length > 1 ? "s" : ""}` : ""}.`,
      );
      out.scrollIntoView({ block: "nearest" });
      this.layer.clearLayers();
      this.footprint.value = "";
      if (revised) this.stopRevise(false);
      if (this.byTimes()) this.fillTimes();
      this.ctx.changed();
    } catch (err) {
      showErrors(this.form, err, req.targets);
      for (const e of err.errors || []) {
        if (e.detail && Array.isArray(e.detail.point)) this.ctx.map.markError(e.detail.point, e.message);
      }
      this.ctx.announce("Not stored: see the errors in the form.");
      const first = this.form.querySelector(".field-error.generated");
      if (first) first.scrollIntoView({ block: "center" });
    }
  }

  async upload() {
    const out = $("upload-result");
    out.replaceChildren();
    const file = $("upload-file").files[0];
    if (!file) {
      out.innerHTML = '<p class="field-error">Choose a file first.</p>';
      return;
    }
    const text = await file.text();
    const dry = $("upload-dry").checked;
    const name = file.name.toLowerCase();
    let path;
    let body;
    if (name.endsWith(".csv")) {
      path = "/v1/sites/import";
      body = { csv: text, dry_run: dry };
    } else if (name.endsWith(".kml")) {
      path = `/v1/import${dry ? "?dry_run=true" : ""}`;
      body = { kml: text };
    } else {
      path = `/v1/import${dry ? "?dry_run=true" : ""}`;
      try {
        body = JSON.parse(text);
      } catch (err) {
        out.innerHTML = `<p class="field-error" role="alert">${esc(file.name)} is not JSON: ${esc(err.message)}</p>`;
        return;
      }
    }
    try {
      const answer = await this.ctx.api.post(path, body);
      out.innerHTML = uploadReport(file.name, answer);
      if (!answer.dry_run) this.ctx.changed();
    } catch (err) {
      out.innerHTML =
        `<p class="field-error" role="alert">${esc(file.name)}: nothing stored. ${esc(err.message)}</p>` +
        (err.errors.length ? `<ul>${err.errors.map((e) => `<li><code>${esc(e.field)}</code>: ${esc(e.message)}</li>`).join("")}</ul>` : "");
    }
    out.scrollIntoView({ block: "nearest" });
  }
}

/** What an import answered, in words: counts, and for a CSV every refused row with its reasons. */
function uploadReport(fileName, a) {
  if (Array.isArray(a.file_errors) && a.file_errors.length) {
    return `<p class="field-error" role="alert">${esc(fileName)}: nothing stored.</p><ul>${a.file_errors
      .map((e) => `<li>${e.field ? `<code>${esc(e.field)}</code>: ` : ""}${esc(e.message)}</li>`)
      .join("")}</ul>`;
  }
  if (Array.isArray(a.refused) && a.refused.length) {
    return `<p class="field-error" role="alert">${esc(fileName)}: nothing stored; ${a.refused.length} row(s) refused.</p><ul>${a.refused
      .map((r) => `<li>row ${esc(r.row)}: ${(r.reasons || r.errors || []).map((e) => `${esc(e.column || e.field)} ${esc(e.message || e.code)}`).join("; ")}</li>`)
      .join("")}</ul>`;
  }
  const counts = a.counts ? Object.entries(a.counts).map(([k, v]) => `${v} ${k}`).join(", ") : `${(a.accepted || []).length} site(s)`;
  const fresh = a.counts ? Object.values(a.counts).some((v) => v > 0) : true;
  const verdict = !fresh ? "nothing new, nothing stored" : a.dry_run ? "checked, nothing stored" : "stored";
  const found = a.conflicts && a.conflicts.length
    ? (a.dry_run ? ` ${a.conflicts.length} conflict(s) would be found.` : ` ${a.conflicts.length} conflict(s) found; each side told.`)
    : "";
  const skipped = a.skipped && a.skipped.length ? ` ${a.skipped.length} feature(s) left as they are (another party's, or stored as they are).` : "";
  return `<p><span class="ok-flag">✓</span> ${esc(fileName)}: ${verdict} (${esc(counts)}).${found}${esc(skipped)}</p>`;
}
