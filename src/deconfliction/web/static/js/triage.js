// The inbox sorted by danger: every notification, request and message is put under the thing it is about
// (a conflict, a tactical alert, a request, a hotline thread), and those groups are sorted: live alerts
// first, then conflicts in force now, then the rest by what is due first. A group whose matter is over (the
// window past, the conflict resolved or expired, the operation ended or cancelled, the alert resolved, the
// request answered) leaves the active list; it stays reachable under the "Ended" filter.
// Pure functions over what the page already holds (its notifications, its conflicts, its operations, its
// alerts and requests): no request of its own.

/** The groups, in the order they are listed, with the heading each has. */
export const RANKS = [
  ["alert", "Live alerts"],
  ["in-force", "Conflicts in force now"],
  ["due", "Due next"],
  ["ended", "Ended"],
];

/** The filter by kind: the value of the select, and the group kinds it keeps. */
export const KINDS = {
  all: null,
  conflict: ["conflict"],
  alert: ["alert"],
  message: ["thread"],
  request: ["request"],
  other: ["other"],
};

/** The thing a notification is about: `conflict:ID`, `alert:ID`, `request:ID`, `thread:ID` or `other:ID`. */
export function groupKey(n, requests = new Map()) {
  const b = n.body || {};
  const subject = n.kind.split(".")[0];
  if (subject === "conflict") return `conflict:${b.conflict || n.subject}`;
  if (subject === "tactical") return `alert:${b.alert || n.subject}`;
  if (subject === "request") {
    const id = b.request || n.subject;
    const r = requests.get(id);
    return r && r.about && r.about.type === "conflict" ? `conflict:${r.about.id}` : `request:${id}`;
  }
  if (subject === "message") {
    // a message that names a conflict goes under that conflict; the others under their thread
    const ref = (b.refs || []).find((x) => x && x.type === "conflict");
    return ref ? `conflict:${ref.id}` : `thread:${b.thread || n.subject}`;
  }
  return `other:${n.id}`;
}

/** A request is grouped with the conflict it is about, else on its own. */
export function requestKey(r) {
  return r.about && r.about.type === "conflict" ? `conflict:${r.about.id}` : `request:${r.id}`;
}

const ENDED_OPERATION = new Set(["ended", "cancelled"]);

/** Does a notification ask for an acknowledgement now (pending, with a deadline)? */
export function needsAck(n) {
  return n.state === "pending" && Boolean(n.deadline);
}

/**
 * The groups of the inbox: `{key, type, id, notifications, requests, conflict, alert, operation, rank,
 * due, why}` where `rank` is one of RANKS, `due` the earliest deadline to meet (ms, or Infinity) and
 * `why` says in words why an ended group ended.
 * `situation`: `{conflicts, operations, alerts}` as the page loaded them; `now` in ms.
 */
export function triage(notifications, requests, situation, now) {
  const reqById = new Map(requests.map((r) => [r.id, r]));
  const conflicts = new Map((situation.conflicts || []).map((c) => [c.id, c]));
  const operations = new Map((situation.operations || []).map((o) => [o.id, o]));
  const alerts = new Map((situation.alerts || []).map((a) => [a.id, a]));
  const groups = new Map();
  const group = (key) => {
    if (!groups.has(key)) {
      const [type, ...rest] = key.split(":");
      groups.set(key, { key, type, id: rest.join(":"), notifications: [], requests: [] });
    }
    return groups.get(key);
  };
  for (const n of notifications) group(groupKey(n, reqById)).notifications.push(n);
  for (const r of requests) group(requestKey(r)).requests.push(r);
  for (const g of groups.values()) {
    g.notifications.sort((a, b) => b.seq - a.seq); // newest first within a group
    g.conflict = g.type === "conflict" ? conflicts.get(g.id) || null : null;
    g.operation = g.conflict && g.conflict.operation ? operations.get(g.conflict.operation) || null : null;
    g.alert = g.type === "alert" ? alerts.get(g.id) || null : null;
    const deadlines = [
      ...g.notifications.filter(needsAck).map((n) => Date.parse(n.deadline)),
      ...g.requests.filter((r) => r.state === "open" && r.deadline).map((r) => Date.parse(r.deadline)),
    ];
    g.due = deadlines.length ? Math.min(...deadlines) : Infinity;
    g.window = windowOf(g);
    g.start = g.window ? Date.parse(g.window.start) : Infinity;
    g.why = endedBecause(g, now);
    g.rank = g.why ? "ended" : rankOf(g, now);
    g.latest = Math.max(0, ...g.notifications.map((n) => n.seq));
  }
  const order = RANKS.map(([r]) => r);
  return [...groups.values()].sort(
    (a, b) =>
      order.indexOf(a.rank) - order.indexOf(b.rank) ||
      (a.rank === "ended" ? b.latest - a.latest : a.due - b.due || a.start - b.start || b.latest - a.latest),
  );
}

/** The window of what the group is about: the conflict's as loaded, else as its newest notification said. */
function windowOf(g) {
  if (g.conflict) return g.conflict.window;
  const told = g.notifications.find((n) => n.body && n.body.window);
  if (told) return told.body.window;
  const r = g.requests.find((x) => x.window);
  return r ? r.window : null;
}

/** Why the group's matter is over, in words; "" while it is not. */
function endedBecause(g, now) {
  const newest = g.notifications[0];
  if (g.type === "conflict") {
    // over even if its last notification still waits for an acknowledgement (a resolution is told with a
    // deadline): the badge counts it and the "waiting for an answer" filter lists it
    const state = g.conflict ? g.conflict.state : newest ? newest.body.state || "" : "";
    const last = newest ? newest.kind : "";
    if (state === "resolved" || last === "conflict.resolved") return "conflict resolved";
    if (state === "expired" || last === "conflict.expired") return "conflict expired";
    if (g.operation && ENDED_OPERATION.has(g.operation.state)) return `your operation ${g.operation.state}`;
    if (g.window && Date.parse(g.window.end) <= now) return "window past";
    return "";
  }
  if (g.notifications.some(needsAck) || g.requests.some((r) => r.state === "open")) return ""; // still asks for an answer
  if (g.type === "alert") {
    if (g.alert) return g.alert.state === "resolved" ? "alert resolved" : "";
    return newest && newest.kind === "tactical.resolved" ? "alert resolved" : "";
  }
  if (g.type === "request") return g.requests.length ? `request ${g.requests[0].state}` : "answered";
  if (g.window && Date.parse(g.window.end) <= now) return "window past";
  // a message, an acknowledgement, a note for information: over once nothing in it waits for me
  return "nothing left to do";
}

function rankOf(g, now) {
  if (g.type === "alert") return "alert";
  if (g.type === "conflict" && g.window && Date.parse(g.window.start) <= now && now < Date.parse(g.window.end)) return "in-force";
  return "due";
}

/** Does the group pass the filters: `kind` a key of KINDS, `state` one of active, ack, ended, all. */
export function passes(g, kind, state) {
  const kinds = KINDS[kind];
  if (kinds && !kinds.includes(g.type)) return false;
  if (state === "active") return g.rank !== "ended";
  if (state === "ack") return g.notifications.some(needsAck) || g.requests.some((r) => r.state === "open");
  if (state === "ended") return g.rank === "ended";
  return true;
}
