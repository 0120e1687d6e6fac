// Playing like a video player: window k is due `k · dt / speed` after ▶ was pressed; the
// next windows' bytes are fetched ahead while one is drawn, and a window that comes late makes
// the player skip to the one due now, so it stays in time. What it achieved — windows shown
// of those due, the effective speed — is in the store (`play`) and on the toolbar.

import { app } from './app.js';
import { loadWindow } from './session.js';
import { begin, get, isCurrent, update } from './store.js';

/** Windows fetched ahead of the one shown. */
const AHEAD = 3;

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/** Starts or stops playing (no-op when already so). */
export function setPlaying(on) {
  const s = get();
  const playing = Boolean(on && s.info && s.info.events > 0);
  if (playing === s.playing) return;
  update({ playing, play: playing ? { shown: 0, due: 0, skipped: 0, effective: 0 } : s.play });
  if (playing) run();
}

/** Asks the engine for the bytes of windows `k+1 … k+AHEAD` (best effort, never drawn). */
function fetchAhead(clock, k, fetched) {
  const { info, dt } = get();
  for (let i = 1; i <= AHEAD; i += 1) {
    const t = clock.t0 + (k + i) * dt;
    if (t > info.t_last || fetched.has(t)) continue;
    fetched.add(t);
    app.engine.prefetch(t, t + dt);
  }
}

async function run() {
  let clock = anchor();
  const fetched = new Set();
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
      update({ playing: false });
      return;
    }
    const wait = clock.at + k * intervalMs - performance.now();
    fetchAhead(clock, k, fetched);
    if (wait > 0) await sleep(wait);
    if (!get().playing) return;
    const seq = begin();
    const ok = await loadWindow(t, dt, 'replace', seq);
    if (!get().playing) return;
    if (!ok) {
      if (get().status === 'error') {
        update({ playing: false });
        return;
      }
      // Someone else moved (a step, a click on the timeline): play on from their window.
      await settledElsewhere();
      clock = anchor();
      k = 0;
      shown = 0;
      skipped = 0;
      fetched.clear();
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

/** The play clock: window 0 is the one after the window shown, due one interval from now. */
function anchor() {
  const { t, dt, speed } = get();
  return { t0: t + dt, at: performance.now() + dt / 1000 / speed };
}

/** Waits until a load started elsewhere has finished. */
async function settledElsewhere() {
  while (get().playing && get().status === 'loading') await sleep(10);
}
