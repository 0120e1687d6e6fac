// The page's state in one place. Everything the page shows is drawn from this object; it
// changes only through `update`, which then tells the views (panels, toolbar, the test hook).
//
// One supersede token, `seq`: every open, window load, cancel, play step and seek takes the
// next number (`begin`); asynchronous work that later finds `isCurrent(itsSeq)` false was
// superseded and drops its answer.

import { DEFAULT_ORBIT, DEFAULT_DT } from './params.js';
import { DEFAULT_MODE } from './modes.js';

const state = {
  /** `{kind: 'url', url}` or `{kind: 'file', file}`, or null. */
  source: null,
  /** The open recording's JSON from the engine (null while opening or after a failure). */
  info: null,
  /** Window start (µs of the stored t) and length (µs). */
  t: null,
  dt: DEFAULT_DT,
  /** How the address writes `t`: `stored` µs, `abs` (t + t_offset) or `start` (seconds in). */
  tForm: 'stored',
  mode: DEFAULT_MODE,
  /** Polarity colours: `dsec` or `dark`. */
  palette: 'dsec',
  /** Time-surface decay constant, µs. */
  tau: 10000,
  /** Zoom and pan `{zoom, x, y}` (null: the whole frame fits the page). */
  view: null,
  /** The point cloud's orbit, `{yaw, pitch}` radians. */
  orbit: { ...DEFAULT_ORBIT },
  /** The camera asked for (multi-camera files), or null for the file's first. */
  camera: null,
  /** Dataset paths `{x, y, t, p}` picked in the chooser, or null: found by name. */
  columns: null,
  /** The last completed window's JSON from the engine. */
  window: null,
  /** `starting`, `idle`, `loading`, `ready`, `error` or `cancelled`. */
  status: 'starting',
  error: null,
  /** Lines the page says without failing (bad link parameters, an added URL scheme, …). */
  notices: [],
  /** What opening the recording added to say (a URL scheme it added). */
  note: null,
  /** Playing: recording time per wall time `speed` (1/100 … 1). */
  playing: false,
  speed: 1,
  /** Playback accounting since play was pressed: windows shown, windows due, effective speed. */
  play: null,
  /** The URL of the listing shown beside the viewer (`?list=`, listing.js), or null. */
  list: null,
  /** The supersede token (see the top of this file). */
  seq: 0,
};

const listeners = [];

/** The current state (read-only by convention: change it with `update`). */
export function get() {
  return state;
}

/** Applies `patch` and tells every listener which keys changed. */
export function update(patch) {
  const changed = Object.keys(patch).filter((k) => state[k] !== patch[k]);
  Object.assign(state, patch);
  if (changed.length) for (const fn of listeners) fn(state, changed);
}

/** Calls `fn(state, changedKeys)` after every update. */
export function subscribe(fn) {
  listeners.push(fn);
}

/** Starts a new unit of work, superseding whatever ran: returns its token. */
export function begin() {
  update({ seq: state.seq + 1 });
  return state.seq;
}

export function isCurrent(seq) {
  return seq === state.seq;
}
