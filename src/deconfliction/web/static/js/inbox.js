// The inbox: notifications grouped by what they are about (one card per conflict, alert or thread, naming
// my operation and its unit and the other party) and sorted by danger (js/triage.js), with their deadlines
// counting down (overdue ones say so in words and with an icon, not by colour alone), acknowledgement, requests to approve or deny, zone proposals to answer, and
// the hotline. Every action is one API call; what it answers is shown where the action was taken.
import { serviceNow } from "./clock.js";
import { escapeHtml, fmtTime } from "./map.js";
import { RANKS, needsAck, passes, triage } from "./triage.js";

const esc = escapeHtml;

function el(html) {
  const t = document.createElement("template");
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
}

export function remaining(deadline, now = serviceNow()) {
  const ms = Date.parse(deadline) - now;
  const s = Math.floor(Math.abs(ms) / 1000);
  const hms = `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  return { overdue: ms <= 0, text: hms };
}

/** One line saying what a notification is about, in words. */
export function describe(n, nameOf) {
  const b = n.body || {};
  const who = typeof b.counterpart === "string" ? b.counterpart : b.counterpart_name || b.party_name || "";
  if (n.kind.endsWith(".acknowledged")) {
    // the other side received what it was told (docs/notifications.md): for information
    const by = b.acknowledged_by_name || nameOf(b.acknowledged_by) || "The other side";
    const what = { conflict: "the conflict", tactical: "the tactical alert", message: "your message", request: "the request" }[n.kind.split(".")[0]] || "a notification";
    return { title: `${by} acknowledged ${what}`, detail: `${b.conflict || b.about || n.subject}, at ${fmtTime(b.acknowledged_at || n.created_at)}` };
  }
  switch (n.kind) {
    case "conflict.expired":
      return {
        title: `Conflict expired: its window ended${who ? ` (with ${who})` : ""}`,
        detail: b.window ? `${fmtTime(b.window.start)} – ${fmtTime(b.window.end)}; nothing left to chase` : "",
      };
    case "conflict.opened":
    case "conflict.updated":
    case "conflict.resolved": {
      const verb = n.kind.split(".")[1];
      return {
        title: `Conflict ${verb}: ${(b.kind || "").replace("_", " ")}${who ? ` with ${who}` : ""}${b.historical ? " (historical record, for an inquiry)" : ""}`,
        detail: b.window ? `${fmtTime(b.window.start)} – ${fmtTime(b.window.end)}; closest ${b.min_horizontal_m ?? "?"} m` : "",
      };
    }
    case "conflict.overridden":
      // the operator went ahead without the other side's acknowledgement: a recorded decision, with its reason
      return {
        title: `${b.by_name || nameOf(b.by) || "The other side"} overrode the ${(b.kind || "").replace("_", " ")} conflict to make an operation ${b.to_state || "active"}`,
        detail: `${b.conflict || n.subject}. Reason: ${b.reason || ""}`,
      };
    case "tactical.raised":
    case "tactical.resolved": {
      const c = b.counterpart || {};
      const verb = n.kind.endsWith("raised") ? "raised" : "resolved";
      if (b.type === "undeclared_entry") {
        // a track outside everything its party declared, or of no party (docs/tactical.md)
        const t = b.track || {};
        const target = b.target || {};
        const kind = target.kind === "band" ? "line's band" : target.kind === "site" ? "protected site" : "zone";
        const whose = t.party ? `${nameOf(t.party)} ${b.told_as === "track" ? "(yours)" : ""}`.trim() : `${b.affiliation || "unknown"} (no party)`;
        const into = b.told_as === "owner" ? `your ${kind}` : `the ${kind} of ${nameOf(target.owner)}`;
        return {
          title: `Undeclared entry ${verb}: ${whose} track ${t.id} entering ${into}`,
          detail: `${b.inside_now ? "inside now" : `at ${fmtTime(b.loss_at)}`}`,
        };
      }
      const own = b.own ? ` (your ${b.own})` : "";
      const area = b.type === "zone" ? "zone" : "protected site";
      const counterpartIsArea = /^(zn|st)_/.test(c.id || "");
      const with_ =
        b.type === "tracks"
          ? `${nameOf(c.party)} aircraft ${c.id}`
          : counterpartIsArea
            ? `entering a ${area} of ${nameOf(c.party)}`
            : `${nameOf(c.party)} aircraft ${c.id} entering your ${area}`;
      return {
        title: `Tactical alert ${n.kind.endsWith("raised") ? "raised" : "resolved"}: ${with_}${own}`,
        detail: b.min_horizontal_m !== undefined ? `closest ${Math.round(b.min_horizontal_m)} m at ${fmtTime(b.closest_at)}` : "",
      };
    }
    case "track.claimed":
    case "track.disclaimed":
      return {
        title: `${b.by_name || nameOf(b.by)} says track ${b.track} is ${n.kind === "track.claimed" ? "theirs" : "not theirs"}`,
        detail: b.reason || "",
      };
    case "message":
      return { title: `Hotline message${b.from ? ` from ${b.from}` : ""}: ${b.subject || ""}`, detail: b.text || "" };
    case "escalation":
      return { title: "Escalation: a party did not acknowledge in time", detail: JSON.stringify(b).slice(0, 160) };
    case "site.revalidation_due":
      return { title: `Site needs revalidation: ${b.name || n.subject}`, detail: b.valid_until ? `valid until ${fmtTime(b.valid_until)}` : "" };
    default:
      if (n.kind.startsWith("request.")) {
        return { title: `Request ${n.kind.split(".")[1]}${who ? ` (${who})` : ""}`, detail: b.text || "" };
      }
      return { title: n.kind, detail: JSON.stringify(b).slice(0, 160) };
  }
}

export class Inbox {
  constructor(ctx) {
    this.ctx = ctx; // {api, me, nameOf, unitName, parties, focusConflict, announce, changed}
    this.notifications = new Map();
    this.listEl = document.getElementById("notifications");
    this.requestsEl = document.getElementById("requests");
    this.proposalsEl = document.getElementById("proposals");
    this.hotlineEl = document.getElementById("hotline");
    this.countEl = document.getElementById("inbox-count");
    this.countsEl = document.getElementById("inbox-counts");
    this.kindEl = document.getElementById("inbox-kind");
    this.stateEl = document.getElementById("inbox-state");
    this.requests = [];
    this.expired = []; // expired conflicts, read when ended cards are asked for (the map's list leaves them out)
    this.kindEl.addEventListener("change", () => this.renderNotifications());
    this.stateEl.addEventListener("change", () => this.showState());
    this.openThread = null;
    setInterval(() => this.tick(), 1000);
  }

  async load() {
    const items = await this.ctx.api.all("/v1/notifications");
    for (const n of items) this.notifications.set(n.id, n);
    this.renderNotifications();
    await Promise.all([this.loadRequests(), this.loadHotline()]);
    return items.reduce((m, n) => Math.max(m, n.seq), 0);
  }

  /** A notification from the stream: shown at once and announced to screen readers. One that takes the
   * chase of an earlier one over (the conflict changed) marks that one superseded, as the service did. */
  arrive(n) {
    if (n.kind === "conflict.expired") {
      // the service stopped the chase of what was pending about it (docs/notifications.md, Expiry)
      for (const m of this.notifications.values()) if (m.subject === n.subject && m.state === "pending") m.deadline = null;
    }
    this.notifications.set(n.id, n);
    const older = n.body && n.body.takes_over && this.notifications.get(n.body.takes_over);
    if (older && older.state === "pending") this.notifications.set(older.id, { ...older, state: "superseded", superseded_by: n.id });
    this.renderNotifications();
    const d = describe(n, this.ctx.nameOf);
    this.ctx.announce(`New notification: ${d.title}`);
    if (n.kind.startsWith("request.")) this.loadRequests();
    if (n.kind === "message") this.loadHotline();
  }

  /** The state filter changed: ended cards name their operation, so expired conflicts are read (one
   * request) before they are shown. */
  async showState() {
    this.renderNotifications();
    if (this.stateEl.value !== "ended" && this.stateEl.value !== "all") return;
    try {
      this.expired = await this.ctx.api.all("/v1/conflicts?state=expired");
      this.renderNotifications();
    } catch (err) {
      console.warn("expired conflicts", err);
    }
  }

  /** The groups of the inbox (js/triage.js) with the filters applied, and every group's rank counted. */
  groups() {
    const seen = this.ctx.situation ? this.ctx.situation() : {};
    const situation = { ...seen, conflicts: [...(seen.conflicts || []), ...this.expired] };
    const aboutConflicts = (this.requests || []).filter((r) => r.about && r.about.type === "conflict");
    return triage([...this.notifications.values()], aboutConflicts, situation, serviceNow());
  }

  renderNotifications() {
    const pending = [...this.notifications.values()].filter((n) => n.state === "pending" && n.deadline).length;
    this.countEl.textContent = pending ? String(pending) : "";
    const all = this.groups();
    const kind = this.kindEl ? this.kindEl.value : "all";
    const state = this.stateEl ? this.stateEl.value : "active";
    const shown = all.filter((g) => passes(g, kind, state));
    // counts per group, of what the kind filter keeps (the state filter picks among them)
    const ofKind = all.filter((g) => passes(g, kind, "all"));
    if (this.countsEl) {
      this.countsEl.textContent = RANKS.map(([rank, label]) => `${label}: ${ofKind.filter((g) => g.rank === rank).length}`).join(" · ");
    }
    this.listEl.replaceChildren();
    if (!shown.length) {
      const hidden = ofKind.length - shown.length;
      this.listEl.append(el(`<li class="empty">Nothing here.${hidden ? ` ${hidden} more under other filters (Ended: ${ofKind.filter((g) => g.rank === "ended").length}).` : ""}</li>`));
    }
    let rank = null;
    for (const g of shown.slice(0, 200)) {
      if (g.rank !== rank) {
        rank = g.rank;
        const label = RANKS.find(([r]) => r === rank)[1];
        const n = shown.filter((x) => x.rank === rank).length;
        this.listEl.append(el(`<li class="rank" data-rank="${esc(rank)}"><h3>${esc(label)} (${n})</h3></li>`));
      }
      this.listEl.append(this.groupCard(g));
    }
    this.tick();
  }

  /** One card per thing the notifications are about: for a conflict, my operation (and its unit), the
   * other party, the window; then what was told about it, newest first, and the requests about it. */
  groupCard(g) {
    const head = this.headline(g);
    const toAck = g.notifications.filter(needsAck).length + g.requests.filter((r) => r.state === "open").length;
    const counts = `${g.notifications.length} notification${g.notifications.length === 1 ? "" : "s"}` +
      (g.requests.length ? `, ${g.requests.length} request${g.requests.length === 1 ? "" : "s"}` : "") +
      (toAck ? `, <b>${toAck} waiting for you</b>` : "");
    const li = el(`<li class="group" data-group="${esc(g.key)}" data-rank="${esc(g.rank)}" data-type="${esc(g.type)}">
      <h3>${esc(head.title)}</h3>
      ${head.mine ? `<p class="mine">${head.mine}</p>` : ""}
      ${head.when ? `<p class="when">${esc(head.when)}</p>` : ""}
      <p class="counts">${counts}${g.why ? ` — <span class="ended-why">ended: ${esc(g.why)}</span>` : ""}</p>
      <ul class="cards"></ul>
    </li>`);
    const ul = li.querySelector("ul");
    for (const n of g.notifications) ul.append(this.card(n));
    for (const r of g.requests) ul.append(this.requestCard(r, this.ctx.me.id));
    return li;
  }

  /** The card's title, whose operation it concerns (and its unit), and when. */
  headline(g) {
    const newest = g.notifications[0];
    const b = (newest && newest.body) || {};
    const unitOf = (unit) => (unit ? `, unit <strong>${esc(this.ctx.unitName(unit))}</strong>` : "");
    if (g.type === "conflict") {
      const c = g.conflict;
      const kind = ((c && c.kind) || b.kind || "").replace("_", " ");
      const other = (c && c.counterpart && c.counterpart.party_name) || (typeof b.counterpart === "string" ? b.counterpart : "") || "the other side";
      const op = g.operation;
      const unit = (op && op.unit) || (c && c.unit) || (newest && newest.unit) || null;
      // my side: my operation, or (an area conflict whose area is mine) my zone, line or site
      const area = { zone_entry: "zone", band_entry: "line's band", protected_site: "protected site" }[(c && c.kind) || b.kind];
      const mine = op
        ? `Your operation <strong>${esc(op.title || op.id)}</strong> (${esc(op.state)})${unitOf(unit)}`
        : c && area // not one of my operations: the area is mine
          ? `Your ${esc(area)}, entered by an operation of ${esc(other)}${unitOf(unit)}`
          : c && c.operation
            ? `Your operation ${esc(c.operation)}${unitOf(unit)}`
            : unit ? `For${unitOf(unit).slice(1)}` : "";
      const w = g.window;
      const now = serviceNow();
      const when = w
        ? `${fmtTime(w.start)} – ${fmtTime(w.end)}${g.rank === "in-force" ? ", in force now" : Date.parse(w.start) > now && g.rank !== "ended" ? `, starts in ${remaining(w.start, now).text.slice(0, -3)} h` : ""}`
        : "";
      return { title: `${kind ? `${kind[0].toUpperCase()}${kind.slice(1)} conflict` : "Conflict"} with ${other}`, mine, when };
    }
    if (g.type === "alert") {
      const a = g.alert;
      const other = a && a.counterpart ? a.counterpart.party_name || a.counterpart.track : "";
      // before the alerts are read again (every few seconds), what its newest notification says
      const told = describe(newest, this.ctx.nameOf).title.replace(/^(Tactical alert|Undeclared entry) (raised|resolved): /, "");
      return {
        title: a ? `Tactical alert${other ? ` with ${other}` : ""} (${a.state})` : `Tactical alert: ${told}`,
        mine: a && a.own_tracks && a.own_tracks.length ? `Your track${a.own_tracks.length > 1 ? "s" : ""} <strong>${esc(a.own_tracks.join(", "))}</strong>` : "",
        when: a ? `closest ${Math.round(a.min_horizontal_m)} m at ${fmtTime(a.closest_at)}` : "",
      };
    }
    if (g.type === "thread") return { title: `Hotline: ${b.subject || "thread"}`, mine: "", when: "" };
    if (g.type === "request") return { title: `Request ${b.kind ? b.kind.replace("_", " ") : ""}`.trim(), mine: "", when: "" };
    return { title: describe(newest, this.ctx.nameOf).title, mine: newest && newest.unit ? `For${unitOf(newest.unit).slice(1)}` : "", when: "" };
  }

  card(n) {
    const d = describe(n, this.ctx.nameOf);
    const needsAck = n.state === "pending" && n.deadline;
    const cls = needsAck ? "" : n.state === "acknowledged" ? "done" : n.state === "superseded" ? "info superseded" : "info";
    const li = el(`<li class="card ${cls}" data-id="${esc(n.id)}" data-kind="${esc(n.kind)}" data-unit="${esc(n.unit || "")}">
      <h3>${esc(d.title)}</h3>
      ${n.unit ? `<p class="unit">For unit <strong>${esc(this.ctx.unitName(n.unit))}</strong>, and the watch desk</p>` : ""}
      <p>${esc(d.detail)}</p>
      <p class="status"></p>
      <div class="actions"></div>
    </li>`);
    const status = li.querySelector(".status");
    const actions = li.querySelector(".actions");
    if (needsAck) {
      status.innerHTML = `<span class="countdown" data-deadline="${esc(n.deadline)}"></span>` +
        (n.step ? ` <span>(escalated ${n.step} time${n.step > 1 ? "s" : ""}${n.at_coordinator ? ", now with the coordinator" : ""})</span>` : "");
      const ack = el(`<button type="button" class="primary">Acknowledge</button>`);
      ack.setAttribute("aria-label", `Acknowledge: ${d.title}`);
      ack.addEventListener("click", () => this.acknowledge(n, ack, status));
      actions.append(ack);
    } else if (n.state === "acknowledged" && n.deadline) {
      status.innerHTML = `<span class="ack-flag">✓ Acknowledged ${esc(fmtTime(n.acknowledged_at))}</span>`;
    } else if (n.state === "superseded") {
      // the conflict changed: a newer notification carries the chase (docs/notifications.md)
      status.textContent = "Superseded: the conflict changed, a newer notification about it is the one to acknowledge";
    } else if (n.body && n.body.chase && n.state === "pending") {
      const chase = this.notifications.get(n.body.chase);
      status.textContent = chase && chase.state === "acknowledged"
        ? `For information, ${fmtTime(n.created_at)}: unchanged since you acknowledged it`
        : `For information, ${fmtTime(n.created_at)}: unchanged; acknowledging it acknowledges the conflict`;
      const ack = el(`<button type="button">Acknowledge</button>`);
      ack.setAttribute("aria-label", `Acknowledge: ${d.title}`);
      ack.addEventListener("click", () => this.acknowledge(n, ack, status));
      actions.append(ack);
    } else {
      status.textContent = `For information, ${fmtTime(n.created_at)}`;
    }
    const conflictId = n.kind.startsWith("conflict.") ? (n.body && n.body.conflict) || n.subject : null;
    if (conflictId) {
      const show = el(`<button type="button">Show on map</button>`);
      show.setAttribute("aria-label", `Show on map: ${d.title}`);
      show.addEventListener("click", () => this.ctx.focusConflict(conflictId));
      actions.append(show);
    }
    return li;
  }

  async acknowledge(n, button, status) {
    button.disabled = true;
    try {
      const answer = await this.ctx.api.post(`/v1/notifications/${encodeURIComponent(n.id)}/ack`);
      this.notifications.set(n.id, answer.notification);
      const chase = n.body && n.body.chase && this.notifications.get(n.body.chase);
      if (chase && chase.state === "pending") this.notifications.set(chase.id, { ...chase, state: "acknowledged", acknowledged_at: answer.notification.acknowledged_at });
      this.renderNotifications();
      this.ctx.announce("Acknowledged.");
    } catch (err) {
      button.disabled = false;
      status.append(el(`<span class="field-error" role="alert">${esc(err.message)}</span>`));
    }
  }

  /** Countdowns, once a second: "due in 0:12:03", or "OVERDUE by 0:01:10" with an icon. A deadline
   * that passed is read again once, a few seconds later: the service may have escalated it to the next
   * contact, with a new deadline to count down to. */
  tick() {
    // once a minute the groups are sorted again (a conflict comes into force, a window passes), unless the
    // officer is working in the list (a re-render would take the focus away)
    const minute = Math.floor(serviceNow() / 60000);
    if (this.minute !== undefined && minute !== this.minute && !this.listEl.contains(document.activeElement)) {
      this.minute = minute;
      this.renderNotifications();
      return;
    }
    this.minute = minute;
    this.refetched = this.refetched || new Set();
    for (const span of this.listEl.querySelectorAll(".countdown")) {
      const r = remaining(span.dataset.deadline);
      const id = span.closest(".card").dataset.id;
      const seen = `${id} ${span.dataset.deadline}`;
      if (r.overdue && serviceNow() - Date.parse(span.dataset.deadline) >= 3000 && !this.refetched.has(seen)) {
        this.refetched.add(seen);
        this.ctx.api.get(`/v1/notifications/${encodeURIComponent(id)}`).then((fresh) => {
          const had = this.notifications.get(id);
          if (fresh && had && (fresh.deadline !== had.deadline || fresh.state !== had.state || fresh.step !== had.step)) {
            this.notifications.set(id, fresh);
            this.renderNotifications();
          }
        }, () => {});
      }
      const card = span.closest(".card");
      card.classList.toggle("overdue", r.overdue);
      span.innerHTML = r.overdue
        ? `<span class="overdue-flag">⚠ OVERDUE</span> by ${r.text} (deadline ${esc(fmtTime(span.dataset.deadline))})`
        : `Acknowledge within ${r.text} (by ${esc(fmtTime(span.dataset.deadline))})`;
    }
  }

  // ------------------------------------------------------------------------------------------ requests

  async loadRequests() {
    const me = this.ctx.me.id;
    const [requests, zones] = await Promise.all([
      this.ctx.api.all("/v1/requests"),
      this.ctx.api.all("/v1/zones?state=proposed"),
    ]);
    // a request about a conflict is shown under that conflict's card; the others here
    this.requests = requests;
    this.renderNotifications();
    const own = requests.filter((r) => !(r.about && r.about.type === "conflict"));
    this.requestsEl.replaceChildren();
    const open = own.filter((r) => r.state === "open");
    const closed = own.filter((r) => r.state !== "open").slice(-10).reverse();
    if (!open.length && !closed.length) this.requestsEl.append(el('<li class="empty">No requests.</li>'));
    for (const r of [...open, ...closed]) this.requestsEl.append(this.requestCard(r, me));
    this.proposalsEl.replaceChildren();
    const mine = zones.filter((z) => z.state === "proposed" && (z.pending || []).includes(me));
    if (!mine.length) this.proposalsEl.append(el('<li class="empty">No zone proposals waiting for your answer.</li>'));
    for (const z of mine) this.proposalsEl.append(this.proposalCard(z));
  }

  requestCard(r, me) {
    const asked = r.owner === me;
    const other = this.ctx.nameOf(asked ? r.requester : r.owner);
    const title = `${r.kind.replace("_", " ")} ${asked ? `asked by ${other}` : `asked of ${other}`}`;
    const li = el(`<li class="card ${r.state === "open" ? "" : "done"}">
      <h3>${esc(title)}</h3>
      <p>${esc(r.text)}</p>
      <p>About ${esc(r.about.type)} ${esc(r.about.id)}${r.window ? `, ${esc(fmtTime(r.window.start))} – ${esc(fmtTime(r.window.end))}` : ""}</p>
      <p class="status">State: <b>${esc(r.state)}</b>${r.answer ? ` — “${esc(r.answer)}”` : ""}</p>
      <div class="actions"></div>
    </li>`);
    const actions = li.querySelector(".actions");
    if (r.state === "open" && asked) {
      const id = `answer-${r.id}`;
      actions.append(el(`<label class="sr-only" for="${esc(id)}">Answer text for: ${esc(title)}</label>`));
      const text = el(`<input id="${esc(id)}" type="text" placeholder="Answer (optional)">`);
      actions.append(text);
      for (const verb of ["approve", "deny"]) {
        const b = el(`<button type="button" class="${verb === "approve" ? "primary" : ""}">${verb === "approve" ? "Approve" : "Deny"}</button>`);
        b.setAttribute("aria-label", `${verb === "approve" ? "Approve" : "Deny"}: ${title}`);
        b.addEventListener("click", () => this.answer(r, verb, text.value, li));
        actions.append(b);
      }
    } else if (r.state === "open") {
      const b = el('<button type="button">Withdraw</button>');
      b.setAttribute("aria-label", `Withdraw: ${title}`);
      b.addEventListener("click", () => this.answer(r, "withdraw", "", li));
      actions.append(b);
    }
    return li;
  }

  async answer(r, verb, text, li) {
    try {
      await this.ctx.api.post(`/v1/requests/${encodeURIComponent(r.id)}/${verb}`, text ? { text } : {});
      this.ctx.announce(`Request ${verb === "approve" ? "approved" : verb === "deny" ? "denied" : "withdrawn"}.`);
      await this.loadRequests();
    } catch (err) {
      li.append(el(`<p class="field-error" role="alert">${esc(err.message)}</p>`));
    }
  }

  proposalCard(z) {
    const title = `Zone “${z.name}” proposed by ${this.ctx.nameOf(z.owner)}`;
    const li = el(`<li class="card"><h3>${esc(title)}</h3>
      <p>Valid ${esc(fmtTime(z.validity.start))} – ${esc(fmtTime(z.validity.end))}</p><div class="actions"></div></li>`);
    for (const answer of ["accepted", "rejected"]) {
      const label = answer === "accepted" ? "Accept" : "Reject";
      const b = el(`<button type="button">${label}</button>`);
      b.setAttribute("aria-label", `${label}: ${title}`);
      b.addEventListener("click", async () => {
        try {
          await this.ctx.api.post(`/v1/zones/${encodeURIComponent(z.id)}/answer`, { answer });
          this.ctx.announce(`Zone ${answer}.`);
          await this.loadRequests();
          this.ctx.changed();
        } catch (err) {
          li.append(el(`<p class="field-error" role="alert">${esc(err.message)}</p>`));
        }
      });
      li.querySelector(".actions").append(b);
    }
    return li;
  }

  // ------------------------------------------------------------------------------------------- hotline

  async loadHotline() {
    const threads = await this.ctx.api.all("/v1/threads");
    this.hotlineEl.replaceChildren();
    if (!threads.length) this.hotlineEl.append(el('<p class="empty">No hotline threads.</p>'));
    for (const t of threads.slice(-20).reverse()) {
      const names = (t.participants || []).map((p) => p.party_name || this.ctx.nameOf(p.party || p)).join(", ");
      const box = el(`<details class="thread" data-id="${esc(t.id)}"><summary>${esc(t.subject)} — ${esc(names)}</summary><ol></ol>
        <form class="reply" novalidate>
          <label for="reply-${esc(t.id)}">Reply in “${esc(t.subject)}”</label>
          <textarea id="reply-${esc(t.id)}" rows="2"></textarea>
          <button type="submit">Send reply</button>
        </form></details>`);
      box.open = this.openThread === t.id;
      box.addEventListener("toggle", () => {
        if (box.open) {
          this.openThread = t.id;
          this.fillThread(t.id, box);
        }
      });
      if (box.open) this.fillThread(t.id, box);
      box.querySelector("form").addEventListener("submit", (ev) => {
        ev.preventDefault();
        this.reply(t.id, box);
      });
      this.hotlineEl.append(box);
    }
    this.hotlineEl.append(this.newThreadForm());
  }

  async fillThread(id, box) {
    const t = await this.ctx.api.get(`/v1/threads/${encodeURIComponent(id)}`);
    const ol = box.querySelector("ol");
    ol.replaceChildren(
      ...(t.messages || []).map((m) => el(`<li><b>${esc(m.from_name || this.ctx.nameOf(m.from))}</b> (${esc(fmtTime(m.created_at))}): ${esc(m.text)}</li>`)),
    );
  }

  async reply(id, box) {
    const area = box.querySelector("textarea");
    try {
      await this.ctx.api.post(`/v1/threads/${encodeURIComponent(id)}/messages`, { text: area.value });
      area.value = "";
      await this.fillThread(id, box);
    } catch (err) {
      showErrors(box.querySelector("form"), err, { text: area });
    }
  }

  newThreadForm() {
    const others = this.ctx.parties.filter((p) => p.id !== this.ctx.me.id);
    const form = el(`<form class="thread" novalidate><h3>New hotline thread</h3>
      <fieldset><legend>To</legend>${others
        .map((p) => `<label class="inline"><input type="checkbox" name="to" value="${esc(p.id)}"> ${esc(p.name)}</label>`)
        .join("")}</fieldset>
      <label for="thread-subject">Subject</label><input id="thread-subject" type="text">
      <label for="thread-text">Message</label><textarea id="thread-text" rows="2"></textarea>
      <button type="submit">Start thread</button></form>`);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const participants = [...form.querySelectorAll('input[name="to"]:checked')].map((i) => i.value);
      const subject = form.querySelector("#thread-subject");
      const text = form.querySelector("#thread-text");
      try {
        await this.ctx.api.post("/v1/threads", { participants, subject: subject.value, message: { text: text.value } });
        await this.loadHotline();
        this.ctx.announce("Thread started.");
      } catch (err) {
        showErrors(form, err, { subject, message: text, "message.text": text, participants: form.querySelector("fieldset") });
      }
    });
    return form;
  }
}

/** Put each field error of a problem next to the input it names (by the longest matching prefix of its
 * path), mark the input invalid, and the rest at the end of the form. */
export function showErrors(form, err, targets) {
  for (const old of form.querySelectorAll(".field-error.generated")) old.remove();
  for (const old of form.querySelectorAll("[aria-invalid]")) old.removeAttribute("aria-invalid");
  const errors = err.errors && err.errors.length ? err.errors : [{ field: "", message: err.message }];
  const placed = [];
  for (const e of errors) {
    const key = Object.keys(targets)
      .filter((k) => e.field === k || (e.field || "").startsWith(`${k}.`) || (e.field || "").startsWith(`${k}[`))
      .sort((a, b) => b.length - a.length)[0];
    const target = key ? targets[key] : null;
    const p = document.createElement("p");
    p.className = "field-error generated";
    p.setAttribute("role", "alert");
    p.textContent = e.field ? `${e.field}: ${e.message}` : e.message;
    if (target) {
      p.id = `${target.id || "f"}-error-${placed.length}`;
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", p.id);
      target.insertAdjacentElement("afterend", p);
    } else {
      const submit = form.querySelector('[type="submit"]');
      submit.insertAdjacentElement("beforebegin", p);
    }
    placed.push(p);
  }
  return placed;
}
