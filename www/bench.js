// `window.strobeBench`, for the benchmark (bench/browser.mjs): frame timing, whole-recording
// scrubs and real-time playback, driven the way the page's own controls drive the engine.

import { app } from './app.js';
import { redraw } from './frame-view.js';
import { modeOf } from './modes.js';
import { setAhead, setPlaying } from './playback.js';
import { loadWindow } from './session.js';
import { get, update } from './store.js';

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

function timed(reps, fn) {
  const times = [];
  for (let i = 0; i < reps; i += 1) {
    const t0 = performance.now();
    fn();
    app.renderer.finish();
    times.push(performance.now() - t0);
  }
  redraw();
  return times;
}

const strobeBench = {
  /** ms per frame of the shown window in `mode` (texture upload, draw, GPU finish), `reps` times. */
  frameMs(mode, reps = 15) {
    const e = app.engine;
    const s = get();
    return timed(reps, () => {
      app.renderer.upload(e.frame_counts(), e.frame_width(), e.frame_height(), e.frame_scale(),
        e.frame_last(), s.dt, modeOf(mode).points ? e.frame_points() : null);
      app.renderer.draw(mode, s.palette, s.tau, s.view, s.orbit);
    });
  },
  /** ms per redraw of the uploaded frame in `mode` (draw and GPU finish: orbiting, zooming). */
  drawMs(mode, reps = 15) {
    const s = get();
    return timed(reps, () => app.renderer.draw(mode, s.palette, s.tau, s.view, s.orbit));
  },
  /** Reads the shown window again (its bytes now cached): the engine's decode time. */
  async reload() {
    await loadWindow(get().t, get().dt, 'none');
    return { events: get().window?.events, window_ms: app.engine.lastWindowMs,
      timing: get().window?.timing };
  },
  /** The decode workers' state (www/decode-pool.js), fresh from the engine's worker. */
  decoders() {
    return app.engine.decoderStats();
  },
  /** Moves to the window `[t, t + dt)` of the open recording: its time and network cost. */
  async seek(t, dt) {
    const before = JSON.parse(app.engine.net());
    const t0 = performance.now();
    await loadWindow(t, dt, 'none');
    const after = JSON.parse(app.engine.net());
    const delta = (k) => after[k] - before[k];
    return { ms: performance.now() - t0, events: get().window?.events, digest: get().window,
      rounds: delta('rounds'), requests: delta('requests'), bytes: delta('bytes') };
  },
  /** Shows every window of length `dt` from the first event to the last, in order. */
  async scrub(dt) {
    const t0 = performance.now();
    let events = 0;
    let windows = 0;
    let slowest = 0;
    const { info } = get();
    for (let t = info.t_first; t <= info.t_last; t += dt) {
      const s = performance.now();
      await loadWindow(t, dt, 'none');
      if (get().status !== 'ready') throw new Error(get().error ?? 'scrub stopped');
      slowest = Math.max(slowest, performance.now() - s);
      events += get().window.events;
      windows += 1;
    }
    return { windows, events, wall_ms: performance.now() - t0, slowest_ms: slowest,
      memory: app.engine.memory, net: JSON.parse(app.engine.net()) };
  },
  /**
   * Plays from `t` with windows of `dt` at `speed` for `wallMs` of wall time: windows shown
   * of those due, skipped, and the effective speed (the page's own accounting); `ahead`:
   * windows fetched ahead (0: no prefetch, for comparison; null: the page's choice).
   */
  async play(t, dt, speed, wallMs, ahead = null) {
    await loadWindow(t, dt, 'none');
    setAhead(ahead);
    update({ speed });
    setPlaying(true);
    await sleep(wallMs);
    const play = get().play;
    setPlaying(false);
    setAhead(null);
    return { speed, dt, wall_ms: wallMs, ...play };
  },
};

export function wireBench() {
  window.strobeBench = strobeBench;
}
