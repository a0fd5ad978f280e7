// Drawing and upload: a shape drawn on the map (or typed as GeoJSON) becomes an operation, a zone proposal
// or a protected site; a file of GeoJSON, KML or CSV is imported. Errors from the API appear next to the
// input they name, and a geometry error that names a place is marked on the map.
/* global L */
import { serviceNow } from "./clock.js";
import { escapeHtml as esc } from "./map.js";
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
    this.hint.textContent = `${this.points.length} corner${this.points.length > 1 ? "s" : ""}. Enter or “Finish shape” closes the polygon.`;
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
    } else {
      this.hint.textContent = this.mode === "polygon" ? "A polygon needs at least 3 corners." : "Choose a tool first.";
      return;
    }
    this.mode = null;
    this.preview();
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
    if (what === "operation") {
      return {
        path: "/v1/operations",
        body: {
          kind: $("f-kind").value,
          title: $("f-title").value,
          state: $("f-state").value,
          ...this.unit(),
          volumes: [
            {
              footprint,
              altitude: { lower_m: Number($("f-lower").value), upper_m: Number($("f-upper").value) },
              window: { start: utc($("f-start").value), end: utc($("f-end").value) },
            },
          ],
        },
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
      const answer = await this.ctx.api.post(req.path, req.body);
      showErrors(this.form, { errors: [] }, {}).forEach((p) => p.remove());
      const obj = answer.operation || answer.zone || answer.site;
      const conflicts = answer.conflicts || [];
      const warnings = showWarnings(this.form, answer.warnings, req.warnTargets || {});
      out.innerHTML =
        `<p><span class="ok-flag">✓ Stored</span> ${esc(obj.id)} (${esc(obj.state || "")}), receipt ${esc(answer.receipt && answer.receipt.seq)}.</p>` +
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
