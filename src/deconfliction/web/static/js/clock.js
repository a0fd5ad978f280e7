// The service's "now". A live server runs on real time; an exercise server on a scenario clock (a start
// and a speed, docs/exercise.md) that the map follows: the time slider's Now, the inbox's countdowns and
// overdue flags, and the draw form's default times. GET /v1/clock is read at start (which also corrects a
// browser whose clock is off) and, on an exercise server, every few seconds, so that a coordinator's jump
// shows within that; between reads the time runs on at the clock's speed.

const SYNC_MS = 5000;
let state = { at: Date.now(), now: Date.now(), speed: 1, exercise: false };

/** The service's current time, in milliseconds since the epoch (scenario time on an exercise server). */
export function serviceNow() {
  return state.now + (Date.now() - state.at) * state.speed;
}

export function isExercise() {
  return state.exercise;
}

function showBanner(c) {
  const banner = document.getElementById("exercise-banner");
  if (!banner) return;
  banner.hidden = !c.exercise;
  document.body.classList.toggle("exercise", Boolean(c.exercise));
  if (c.exercise) {
    const speed = c.speed === 1 ? "real-time speed" : `speed ×${c.speed}`;
    banner.textContent = `EXERCISE: this server rehearses on a scenario clock (${speed}). Nothing here is live data.`;
    document.title = "EXERCISE · Deconfliction map";
  }
}

/** Read the service's clock once (no key needed). */
export async function syncClock() {
  const sent = Date.now();
  const response = await fetch("/v1/clock", { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new Error(`clock: HTTP ${response.status}`);
  const c = await response.json();
  const received = Date.now();
  state = { at: (sent + received) / 2, now: Date.parse(c.now), speed: Number(c.speed) || 1, exercise: Boolean(c.exercise) };
  showBanner(c);
  return c;
}

/** Keep following an exercise server's clock (a live one does not jump); ``onSync`` after each read. */
export function keepClock(onSync) {
  setInterval(() => {
    if (!state.exercise) return;
    syncClock()
      .then(onSync)
      .catch((err) => console.warn(err));
  }, SYNC_MS);
}
