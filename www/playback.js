// Playing like a video player: window k is due `k · dt / speed` after ▶ was pressed; the
// next windows' bytes are fetched ahead while one is drawn, and a window that comes late makes
// the player skip to the one due now, so it stays in time. What it achieved — windows shown
// of those due, the effective speed — is in the store (`play`) and on the toolbar.

import { setAddress } from './address.js';
import { app } from './app.js';
import { loadWindow } from './session.js';
import { begin, get, isCurrent, update } from './store.js';

/** Wall time of recording fetched ahead of the window shown, ms (at most MAX_AHEAD windows). */
const AHEAD_MS = 300;
const MAX_AHEAD = 6;
/** Windows fetched ahead: null = from AHEAD_MS; a number (the benchmark's 0) overrides it. */
let fixedAhead = null;

/** For the benchmark: fetch `n` windows ahead (0: none), or null for the page's own choice. */
export function setAhead(n) {
  fixedAhead = n;
}

function windowsAhead(intervalMs) {
  if (fixedAhead !== null) return fixedAhead;
  return Math.min(MAX_AHEAD, Math.max(2, Math.ceil(AHEAD_MS / intervalMs)));
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/** Starts or stops playing (no-op when already so). */
export function setPlaying(on) {
  const s = get();
  const playing = Boolean(on && s.info && s.info.events > 0);
  if (playing === s.playing) return;
  update({ playing, play: playing ? { shown: 0, due: 0, skipped: 0, effective: 0 } : s.play });
  if (playing) run();
  // While playing the address is left alone (browsers throttle frequent history updates);
  // it names the window shown once play stops.
  else setAddress('replace');
}

/**
 * Asks the engine for the bytes of windows `k … k+n-1` not asked for yet (never drawn; read
 * errors are left to the window itself). Resolves when they are in.
 */
function fetchAhead(clock, k, n, fetched) {
  const { info, dt } = get();
  const asked = [];
  for (let i = 0; i < n; i += 1) {
    const t = clock.t0 + (k + i) * dt;
    if (t > info.t_last || fetched.has(t)) continue;
    fetched.add(t);
    asked.push(app.engine.prefetch(t, t + dt));
  }
  return Promise.all(asked);
}

async function run() {
  const fetched = new Set();
  let clock = await buffered(fetched);
  let k = 0;
  let shown = 0;
  let skipped = 0;
  while (get().playing) {
    const { dt, speed, info } = get();
    const intervalMs = dt / 1000 / speed;
    // The window due now; a late one is skipped, never shown behind time.
    const dueNow = Math.floor((performance.now() - clock.at) / intervalMs);
    if (dueNow > k) {
      skipped += dueNow - k;
      k = dueNow;
    }
    const t = clock.t0 + k * dt;
    if (t > info.t_last) {
      setPlaying(false);
      return;
    }
    fetchAhead(clock, k + 1, windowsAhead(intervalMs), fetched);
    const wait = clock.at + k * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    if (!get().playing) return;
    const seq = begin();
    const ok = await loadWindow(t, dt, 'none', seq);
    if (!get().playing) return;
    if (!ok) {
      if (get().status === 'error') {
        setPlaying(false);
        return;
      }
      // Someone else moved (a step, a click on the timeline): play on from their window.
      await settledElsewhere();
      fetched.clear();
      clock = await buffered(fetched);
      k = 0;
      shown = 0;
      skipped = 0;
      continue;
    }
    if (!isCurrent(seq)) continue;
    shown += 1;
    const elapsed = Math.max(performance.now() - clock.at, 0);
    const due = Math.floor(elapsed / intervalMs) + 1;
    update({
      play: {
        shown,
        due: Math.max(due, shown),
        skipped,
        // Recording time shown (windows 0 … k) per wall time they took.
        effective: ((k + 1) * dt) / 1000 / (elapsed + intervalMs),
      },
    });
    k += 1;
  }
}

/**
 * Like a video player, buffers before the clock starts: fetches the first windows ahead, then
 * anchors the clock (window 0 due one interval after the buffer is in).
 */
async function buffered(fetched) {
  const { t, dt, speed } = get();
  const intervalMs = dt / 1000 / speed;
  const clock = { t0: t + dt, at: 0 };
  await fetchAhead(clock, 0, windowsAhead(intervalMs), fetched);
  clock.at = performance.now() + intervalMs;
  return clock;
}

/** Waits until a load started elsewhere has finished. */
async function settledElsewhere() {
  while (get().playing && get().status === 'loading') await sleep(10);
}
