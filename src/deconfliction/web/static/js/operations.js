// The party's own operations: Revise (in the draw form, with If-Match: js/draw.js), Plan and Activate, with
// the current token of each open conflict (the proof of knowledge). When the service answers 409
// awaiting_acknowledgement, the card says which conflicts wait for whom, and offers an override per
// conflict, whose reason is required: a deliberate step, recorded in the ledger and told at once to the
// other side and the coordinators (docs/notifications.md).
import { escapeHtml as esc, fmtTime } from "./map.js";
import { showErrors } from "./inbox.js";

function el(html) {
  const t = document.createElement("template");
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
}

const NEXT = { draft: ["plan", "Plan"], planned: ["activate", "Activate"], active: null };

export class Operations {
  constructor(ctx) {
    this.ctx = ctx; // {api, me, announce, changed, revise}
    this.box = document.getElementById("own-operations");
    this.listEl = document.getElementById("operations");
    this.countEl = document.getElementById("operations-count");
    this.statusEl = document.getElementById("operations-status"); // outlives the card of what was done
    this.waiting = new Map(); // operation id -> the refusal's conflicts, kept across reloads
  }

  render(operations) {
    const mine = operations.filter((o) => o.owner === this.ctx.me.id && o.state in NEXT);
    this.countEl.textContent = String(mine.length);
    // a card whose operation did not change is kept as it is (a reason being typed is not lost)
    const kept = new Map([...this.listEl.querySelectorAll(":scope > li[data-id]")].map((li) => [li.dataset.id, li]));
    this.listEl.replaceChildren();
    if (!mine.length) this.listEl.append(el('<li class="empty">No draft, planned or active operation of yours.</li>'));
    for (const op of mine) {
      const old = kept.get(op.id);
      this.listEl.append(old && old.dataset.version === String(op.version) ? old : this.card(op));
    }
  }

  card(op) {
    const title = op.title || op.id;
    const first = op.volumes.length ? op.volumes[0].window : null;
    const li = el(`<li class="card" data-id="${esc(op.id)}" data-state="${esc(op.state)}" data-version="${esc(op.version)}">
      <h3>${esc(title)} <span class="state">(${esc(op.state)})</span></h3>
      <p>${esc(op.kind)}${first ? `, ${esc(fmtTime(first.start))} – ${esc(fmtTime(first.end))}` : ""}</p>
      <div class="actions"></div>
      <div class="gate" role="status" aria-live="polite"></div>
    </li>`);
    const revise = el('<button type="button">Revise</button>');
    revise.setAttribute("aria-label", `Revise: ${title}`);
    revise.addEventListener("click", () => this.revise(op, li));
    if (!NEXT[op.state]) {
      li.querySelector(".actions").append(revise); // active: revised in place, its state kept
      return li;
    }
    const [verb, label] = NEXT[op.state];
    const go = el(`<button type="button" class="primary">${label}</button>`);
    go.setAttribute("aria-label", `${label}: ${title}`);
    go.addEventListener("click", () => this.send(op, verb, [], li, go));
    li.querySelector(".actions").append(go, revise);
    const waiting = this.waiting.get(op.id);
    if (waiting) this.showWaiting(op, verb, waiting, li);
    return li;
  }

  /** The operation (or movement) loaded into the draw form, which then sends its revision. */
  async revise(op, li) {
    const gate = li.querySelector(".gate");
    try {
      const refused = await this.ctx.revise(op);
      if (refused) {
        gate.replaceChildren(el(`<p class="field-error" role="alert">${esc(refused)}</p>`));
        return;
      }
      document.getElementById("tab-draw").click();
      document.getElementById("f-title").focus();
      this.ctx.announce(`Revising ${op.title || op.id} in the draw form.`);
    } catch (err) {
      gate.replaceChildren(el(`<p class="field-error" role="alert">${esc(err.message)}</p>`));
    }
  }

  /** The current token of every open conflict of the operation, read now (they change as the others do). */
  async tokens(op) {
    const open = await this.ctx.api.all(`/v1/conflicts?operation=${encodeURIComponent(op.id)}&state=open`);
    return open.map((c) => c.token);
  }

  async send(op, verb, override, li, button) {
    const gate = li.querySelector(".gate");
    for (const old of li.querySelectorAll(".field-error:not(.generated)")) old.remove();
    button.disabled = true;
    try {
      const body = { known_conflict_tokens: await this.tokens(op) };
      if (override.length) body.override = override;
      const answer = await this.ctx.api.call("POST", `/v1/operations/${encodeURIComponent(op.id)}/${verb}`, body, {
        "If-Match": `"${op.version}"`,
      });
      this.waiting.delete(op.id);
      gate.replaceChildren();
      const overrides = override.length ? ` (${override.length} override${override.length > 1 ? "s" : ""} recorded and told)` : "";
      this.statusEl.textContent = `${answer.operation.title || op.id} is now ${answer.operation.state}${overrides}; receipt ${answer.receipt.seq}.`;
      this.ctx.announce(`Operation ${answer.operation.state}.`);
      this.ctx.changed();
    } catch (err) {
      button.disabled = false;
      const problem = err.problem || {};
      if (err.status === 409 && problem.code === "awaiting_acknowledgement") {
        this.waiting.set(op.id, problem.conflicts || []);
        this.showWaiting(op, verb, problem.conflicts || [], li);
        this.ctx.announce("Waiting for the other side's acknowledgement.");
      } else if (err.status === 422 && li.querySelector("form.override")) {
        const form = li.querySelector("form.override");
        const targets = {};
        form.querySelectorAll("textarea").forEach((t, i) => (targets[`override[${i}]`] = t));
        showErrors(form, err, targets);
      } else {
        gate.replaceChildren(el(`<p class="field-error" role="alert">${esc(err.message)}</p>`));
      }
    }
  }

  /** Which conflicts wait for whom, and an override form: one required reason per conflict. */
  showWaiting(op, verb, conflicts, li) {
    const gate = li.querySelector(".gate");
    const title = op.title || op.id;
    const rows = conflicts
      .map((c, i) => {
        const who = (c.awaiting || []).map((a) => a.party_name || a.party).join(", ");
        const id = `override-${op.id}-${i}`;
        const what = `${(c.kind || "").replace("_", " ")} conflict ${c.id || "(new)"}`;
        return `<li data-conflict="${esc(c.id || "")}"><p>The ${esc(what)} waits for <b>${esc(who)}</b> to acknowledge it${c.content_version ? ` (as of its version ${esc(c.content_version)})` : ""}.</p>
          ${c.id ? `<label for="${esc(id)}">Reason to go ahead without ${esc(who)}'s acknowledgement</label>
          <textarea id="${esc(id)}" rows="2" maxlength="1000" required data-conflict="${esc(c.id)}"></textarea>` : ""}</li>`;
      })
      .join("");
    const overridable = conflicts.every((c) => c.id);
    const form = el(`<form class="override" novalidate>
      <p class="field-error" role="alert">Not ${verb === "plan" ? "planned" : "activated"}: the other side has not acknowledged these conflicts as they are now.</p>
      <ul>${rows}</ul>
      ${overridable ? `<p>Or override: a deliberate decision, recorded in the ledger with your reason and told at once to the other side and the coordinators. Acknowledged never means approved.</p>
      <button type="submit">Override and ${verb}</button>` : "<p>A conflict this request would open was never told to anyone: declare the operation as a draft first.</p>"}
    </form>`);
    const submit = form.querySelector('button[type="submit"]');
    if (submit) submit.setAttribute("aria-label", `Override and ${verb}: ${title}`);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const areas = [...form.querySelectorAll("textarea")];
      const blank = areas.map((t, i) => [t, i]).filter(([t]) => !t.value.trim());
      if (blank.length) {
        showErrors(form, { errors: blank.map(([, i]) => ({ field: `override[${i}].reason`, message: "a reason is required to override" })) },
          Object.fromEntries(areas.map((t, i) => [`override[${i}]`, t])));
        blank[0][0].focus();
        return;
      }
      const override = areas.map((t) => ({ conflict: t.dataset.conflict, reason: t.value.trim() }));
      this.send(op, verb, override, li, submit);
    });
    gate.replaceChildren(form);
    const firstArea = form.querySelector("textarea");
    if (firstArea) firstArea.focus();
  }
}
