// The engine's own thread: fetching, HDF5 and decoding run here, so the page never freezes.
// Messages in: {id, op, args}; out: {id, progress|value|error, frame?, net, memory}.
// `frame` carries copies of the count frame (transferred, not copied again) at most every
// SNAPSHOT_MS while a window loads, and always with the finished window. `decoders`: the
// decode workers' state (www/decode-pool.js; how many: `workers=N` in this script's address).

import init, {
  Viewer, decode_ahead_counts, parse_listing, set_decode_workers,
} from './pkg/strobe.js';
import { DecodePool, decodeWorkersFrom } from './decode-pool.js';

const SNAPSHOT_MS = 100;
/** Progress counts alone are posted at most this often (a window reads ~100 batches). */
const PROGRESS_MS = 25;

const workers = decodeWorkersFrom(self.location.search, self.navigator?.hardwareConcurrency);
const pool = workers > 0 ? new DecodePool(workers) : null;
const ready = init().then(() => {
  if (pool) set_decode_workers((i, jobs, stored) => pool.decode(i, jobs, stored), workers);
  return new Viewer();
});
const NO_POOL = { workers: 0, alive: 0, pending: 0, decoded: 0, declined: 0, memory: [] };
/** Whether progress snapshots carry the point-cloud sample (only the cloud mode draws it). */
let wantPoints = false;

function snapshot(viewer, points) {
  const frame = {
    width: viewer.frame_width(),
    height: viewer.frame_height(),
    scale: viewer.frame_scale(),
    counts: viewer.frame_counts(),
    last: viewer.frame_last(),
    points: points ? viewer.frame_points() : null,
  };
  const transfer = [frame.counts.buffer, frame.last.buffer];
  if (frame.points) transfer.push(frame.points.buffer);
  return { frame, transfer };
}

function post(viewer, message, transfer = []) {
  self.postMessage({ ...message, net: viewer.net(), memory: viewer.memory_bytes(),
    decoders: pool?.stats() ?? NO_POOL }, transfer);
}

async function readWindow(viewer, id, [from, to]) {
  const t0 = performance.now();
  // The first partial frame only after SNAPSHOT_MS: a window read faster than that (every
  // window while playing) is drawn once, when it is done.
  let last = t0;
  let lastProgress = -Infinity;
  const value = await viewer.window(from, to, (events, expected) => {
    const now = performance.now();
    if (events > 0 && now - last >= SNAPSHOT_MS) {
      last = now;
      lastProgress = now;
      const { frame, transfer } = snapshot(viewer, wantPoints);
      post(viewer, { id, progress: [events, expected], frame }, transfer);
    } else if (now - lastProgress >= PROGRESS_MS) {
      lastProgress = now;
      post(viewer, { id, progress: [events, expected] });
    }
  });
  const ms = performance.now() - t0;
  if (value === null || value === undefined) {
    post(viewer, { id, value: null });
    return;
  }
  const { frame, transfer } = snapshot(viewer, true);
  post(viewer, { id, value, frame, ms }, transfer);
}

self.onmessage = async (e) => {
  const { id, op, args } = e.data;
  let viewer;
  try {
    viewer = await ready;
  } catch (err) {
    self.postMessage({
      id,
      error: `could not load the viewer's WebAssembly (www/pkg/) — run scripts/build-site.sh: ${err?.message ?? err}`,
    });
    return;
  }
  if (op === 'cancel') {
    viewer.cancel();
    return;
  }
  if (op === 'decoders') {
    const [ahead, aheadTaken] = Array.from(decode_ahead_counts());
    post(viewer, { id, value: { ...(pool?.stats() ?? NO_POOL), ahead, ahead_taken: aheadTaken } });
    return;
  }
  if (op === 'points') {
    [wantPoints] = args;
    return;
  }
  try {
    if (op === 'parse_listing') {
      post(viewer, { id, value: parse_listing(...args) });
      return;
    }
    if (op === 'window') {
      await readWindow(viewer, id, args);
    } else if (['open_url', 'open_file', 'sampled_rate', 'npz', 'prefetch', 'resolve_time',
      'datasets_url', 'datasets_file', 'set_columns', 'summary_url'].includes(op)) {
      const value = await viewer[op](...args);
      post(viewer, { id, value }, value instanceof Uint8Array ? [value.buffer] : []);
    } else {
      post(viewer, { id, error: `unknown engine request ${String(op)}` });
    }
  } catch (err) {
    post(viewer, { id, error: err?.message ?? String(err) });
  }
};
