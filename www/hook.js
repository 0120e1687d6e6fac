// `window.strobe`, what tests and the benchmark read: a view of the store rebuilt on every
// change (never assigned to elsewhere), and `body[data-status]`.

import { app } from './app.js';
import { get, subscribe } from './store.js';

const DIGEST = ['from', 'to', 'events', 'first_index', 'sum_x', 'sum_y', 'sum_t', 'sum_p',
  'positive'];

function recordingFacts(info) {
  if (!info) return null;
  const { events, t_first, t_last, t_offset, width, height, layout } = info;
  return { events, t_first, t_last, t_offset, width, height, layout };
}

function netFacts() {
  if (!app.engine) return null;
  const { requests, bytes, rounds, hits, misses } = JSON.parse(app.engine.net());
  return { requests, bytes, rounds, hits, misses };
}

/** The rate curve as the timeline draws it, with its source and total. */
export function rateFacts(info) {
  if (!info?.rate) return null;
  const { start, bin_us: binUs, counts } = info.rate;
  return { source: info.rate_source ?? 'ms_to_idx', start, bin_us: binUs, bins: counts.length,
    total: counts.reduce((a, b) => a + b, 0), counts };
}

function build(s, net) {
  const ready = s.status === 'ready';
  return {
    status: s.status,
    error: s.error,
    recording: recordingFacts(s.info),
    window: ready && s.window ? Object.fromEntries(DIGEST.map((k) => [k, s.window[k]])) : null,
    pixels: ready && s.window ? s.window.pixels : null,
    net,
    url: s.source?.kind === 'url' ? s.source.url : null,
    t: s.t,
    t_form: s.tForm,
    dt: s.dt,
    mode: s.mode,
    palette: s.palette,
    tau: s.tau,
    view: s.view,
    orbit: s.orbit,
    playing: s.playing,
    speed: s.speed,
    play: s.play,
    camera: s.info?.camera ?? null,
    seq: s.seq,
    rate: rateFacts(s.info),
    engine: 'worker',
    memory: app.engine?.memory ?? null,
    decoders: app.engine?.decoders ?? null,
    window_ms: ready ? app.engine?.lastWindowMs ?? null : null,
  };
}

export function wireHook() {
  // The network counts as of the last status change (a window shown, a failure): later
  // background reads (the sampled rate curve) do not change what that window cost.
  let net = null;
  const publish = (s, changed) => {
    if (!changed || changed.includes('status') || changed.includes('seq')) net = netFacts();
    window.strobe = build(s, net);
    document.body.dataset.status = s.status;
  };
  subscribe(publish);
  publish(get(), null);
}
