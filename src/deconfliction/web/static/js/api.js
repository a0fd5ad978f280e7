// The page's one seam to the service: every call goes through Api with the party's key, every error is an
// ApiError carrying the RFC 9457 problem (its `errors` name the field and the reason).

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.errors = (problem && problem.errors) || [];
  }
}

function randomKey() {
  // crypto.randomUUID needs a secure context; getRandomValues works on a plain-HTTP deployment too
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.key}`, Accept: "application/json", ...extra };
  }

  async call(method, path, body, headers = {}) {
    const h = this.headers(headers);
    if (body !== undefined) h["Content-Type"] = "application/json";
    // a retried write (a double click, a flaky link) never applies twice
    if (method !== "GET") h["Idempotency-Key"] = randomKey();
    const response = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { detail: text };
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  get(path) {
    return this.call("GET", path);
  }

  post(path, body = {}) {
    return this.call("POST", path, body);
  }

  /** Every item of a paginated list, following next_cursor (at most `cap`). */
  async all(path, cap = 2000) {
    const items = [];
    let cursor = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const page = await this.get(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && items.length < cap);
    return items;
  }
}

/** The party's notification stream (/v1/stream): fetch, not EventSource, so the key goes in a header.
 * Resumes after the last number seen, so a dropped link loses nothing and repeats nothing. */
export class Stream {
  constructor(api, after, { onNotification, onState, onUnauthorized }) {
    this.api = api;
    this.after = after;
    this.onNotification = onNotification;
    this.onState = onState;
    this.onUnauthorized = onUnauthorized;
    this.abort = new AbortController();
  }

  stop() {
    this.abort.abort();
  }

  async run() {
    let backoff = 500;
    while (!this.abort.signal.aborted) {
      try {
        const response = await fetch(`/v1/stream?after=${this.after}`, {
          headers: this.api.headers({ Accept: "text/event-stream" }),
          signal: this.abort.signal,
          cache: "no-store",
        });
        if (response.status === 401) {
          this.onUnauthorized();
          return;
        }
        if (!response.ok || !response.body) throw new Error(`stream: HTTP ${response.status}`);
        this.onState("live");
        backoff = 500;
        await this.read(response.body);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        console.warn("stream interrupted", err);
      }
      this.onState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, 10000);
    }
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.dispatch(block);
      }
    }
  }

  dispatch(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue; // keep-alive comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (event !== "notification" || !data.length) return;
    const n = JSON.parse(data.join("\n"));
    if (n.seq <= this.after) return;
    this.after = n.seq;
    this.onNotification(n);
  }
}
