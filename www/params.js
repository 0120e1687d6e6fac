// The page's address: what `index.html?url=…&t=…&dt=…&mode=…` means, and formatting of
// times and sizes. No DOM here, so node tests can import it directly.

import { DEFAULT_MODE, MODE_IDS, modeOf } from './modes.js';

/** Window lengths offered, µs: 100 µs … 10 s. */
export const DT_PRESETS = [
  100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000,
  2000000, 5000000, 10000000,
];
export const DEFAULT_DT = 50000;
/** Longest window accepted from an address (µs); the select offers up to 10 s. */
export const MAX_DT = 3600 * 1000000;
/** Polarity-mode colours: `dsec` (white, blue +, red −) or `dark` (black, cyan +, orange −). */
export const PALETTES = ['dsec', 'dark'];
export const DEFAULT_PALETTE = 'dsec';
/** Time-surface decay constant τ (µs): presets offered, default, largest accepted. */
export const TAU_PRESETS = [100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000,
  500000, 1000000];
export const DEFAULT_TAU = 10000;
export const MAX_TAU = MAX_DT;
/** Playback speeds offered (recording time per wall time), 1/100× … 1×. */
export const SPEEDS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
export const DEFAULT_SPEED = 1;
/** The point cloud's first view (radians): turned so that the time axis shows. */
export const DEFAULT_ORBIT = { yaw: -0.7, pitch: 0.35 };
/** Pitch beyond this would turn the cloud upside down. */
export const MAX_PITCH = 1.5;
/** Orbit angles as kept and linked: to 1/1000 rad. */
export const roundAngle = (a) => Math.round(a * 1000) / 1000;

/** Zoom (canvas pixels per sensor pixel) accepted and offered by the wheel. */
export const MIN_ZOOM = 0.125;
export const MAX_ZOOM = 64;

/** A zoom or pan value as kept and linked: zoom to 1/1000, pan to 1/100 sensor pixel. */
export const roundZoom = (z) => Math.round(z * 1000) / 1000;
export const roundPan = (v) => Math.round(v * 100) / 100;

/**
 * A dataset address as typed or linked: `host/path` gets a scheme (`note` says which), paths
 * are resolved against the page, and only `http:` or `https:` accepted. Returns `{url}`,
 * `{url, note}` or `{error}`.
 */
export function checkDatasetUrl(text, base) {
  let raw = String(text ?? '').trim();
  if (!raw) return { error: 'give the URL of an .h5 recording' };
  // `host/path` without a scheme means that host, not a path on the viewer's own server:
  // http:// for this machine and private networks, https:// elsewhere (and the page says so).
  let note = null;
  const host = /^((?:[a-z0-9-]+\.)*[a-z0-9-]+|\[[0-9a-f:.]+\])(:\d{1,5})?(?=\/|$)/i.exec(raw);
  if (host && !/\.(h5|hdf5|hdf|he5)$/i.test(host[1]) && (host[1].includes('.') || host[2] || host[1].startsWith('[')
    || host[1].toLowerCase() === 'localhost')) {
    const local = /^(localhost|127\.|10\.|192\.168\.|\[::1\])/i.test(host[1]);
    const scheme = local ? 'http://' : 'https://';
    note = `no scheme given: opened as ${scheme}${raw}`;
    raw = scheme + raw;
  }
  let parsed;
  try {
    parsed = new URL(raw, base);
  } catch {
    return { error: `not a URL: ${raw}` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return {
      error: `only http: and https: URLs can be opened (this one is ${parsed.protocol})`,
    };
  }
  return note ? { url: parsed.href, note } : { url: parsed.href };
}

/** A whole number of µs from text: `null` when absent, `NaN` when malformed. */
function integer(text) {
  if (text === null || text === undefined || text === '') return null;
  const s = String(text).trim();
  if (!/^-?\d+$/.test(s)) return NaN;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : NaN;
}

/**
 * Reads `url`, `list`, `t`, `dt`, `mode`, `camera` from a query string. Returns
 * `{url, list, t, tSpec, columns, dt, mode, camera, errors}`: `t` is `null` when absent (the recording's
 * first event) or written in another form than stored µs (then `tSpec` holds its text),
 * `camera` `null` when absent (the file's first camera); bad values fall back to defaults and
 * add a message to `errors`.
 */
export function parseParams(search) {
  const q = new URLSearchParams(search);
  const errors = [];
  const url = q.get('url');
  // `t=` in µs of the stored t is used as is; its other forms (abs:…, 3.4s, mm:ss.f) need
  // the recording, and are placed by the engine's parser once it is open (`tSpec`).
  let t = integer(q.get('t'));
  let tSpec = null;
  if (Number.isNaN(t)) {
    tSpec = q.get('t').trim().slice(0, 64);
    t = null;
  }
  let dt = integer(q.get('dt'));
  if (Number.isNaN(dt) || (dt !== null && (dt <= 0 || dt > MAX_DT))) {
    errors.push(`dt=${q.get('dt')} is not a window length in µs (1 … ${MAX_DT})`);
    dt = null;
  }
  let mode = q.get('mode');
  if (mode !== null && !MODE_IDS.includes(mode)) {
    errors.push(`mode=${mode} is not one of ${MODE_IDS.join(', ')}`);
    mode = null;
  }
  let camera = q.get('camera');
  if (camera !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(camera)) {
    errors.push(`camera=${camera} is not a camera name`);
    camera = null;
  }
  // Dataset paths of x, y, t, p picked in the page's chooser: `cols=/a/x,/a/y,/a/t,/a/p`.
  let columns = null;
  const cols = q.get('cols');
  if (cols !== null) {
    const parts = cols.split(',');
    if (parts.length === 4 && parts.every((c) => /^\/[^,]{1,255}$/.test(c))) {
      const [x, y, tc, p] = parts;
      columns = { x, y, t: tc, p };
    } else {
      errors.push(`cols=${cols} is not four dataset paths x,y,t,p`);
    }
  }
  const list = q.get('list');
  return {
    url: url === null || url === '' ? null : url,
    list: list === null || list === '' ? null : list,
    t,
    tSpec,
    columns,
    dt: dt ?? DEFAULT_DT,
    mode: mode ?? DEFAULT_MODE,
    camera: camera || null,
    errors,
  };
}

/**
 * Reads the display extras of a query string: `palette`, `tau`, `zoom`/`pan`, `orbit`,
 * `speed`. Returns `{palette, tau, view, orbit, speed, errors}`; bad values fall back to defaults and add a message to `errors`.
 */
export function parseExtras(search) {
  const q = new URLSearchParams(search);
  const errors = [];
  let palette = q.get('palette');
  if (palette !== null && !PALETTES.includes(palette)) {
    errors.push(`palette=${palette} is not one of ${PALETTES.join(', ')}`);
    palette = null;
  }
  let tau = integer(q.get('tau'));
  if (Number.isNaN(tau) || (tau !== null && (tau <= 0 || tau > MAX_TAU))) {
    errors.push(`tau=${q.get('tau')} is not a decay time in µs (1 … ${MAX_TAU})`);
    tau = null;
  }
  // The view: `zoom=` and `pan=x,y` (sensor point at the frame's top-left); absent, the
  // frame fits the page.
  let view = null;
  const zoomText = q.get('zoom');
  const panText = q.get('pan');
  if (zoomText !== null || panText !== null) {
    let zoom = zoomText === null ? 1 : Number(zoomText);
    if (!Number.isFinite(zoom) || zoom < MIN_ZOOM || zoom > MAX_ZOOM || zoomText.trim() === '') {
      errors.push(`zoom=${zoomText} is not a zoom (${MIN_ZOOM} … ${MAX_ZOOM})`);
      zoom = 1;
    }
    let x = 0;
    let y = 0;
    if (panText !== null) {
      const m = /^\s*(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)\s*$/.exec(panText);
      if (m && Math.abs(Number(m[1])) <= 1e6 && Math.abs(Number(m[2])) <= 1e6) {
        x = Number(m[1]);
        y = Number(m[2]);
      } else {
        errors.push(`pan=${panText} is not x,y in sensor pixels`);
      }
    }
    view = { zoom: roundZoom(zoom), x: roundPan(x), y: roundPan(y) };
  }
  // The cloud's orbit: `orbit=yaw,pitch` in radians.
  let orbit = { ...DEFAULT_ORBIT };
  const orbitText = q.get('orbit');
  if (orbitText !== null) {
    const m = /^\s*(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)\s*$/.exec(orbitText);
    if (m && Math.abs(Number(m[1])) <= 100 && Math.abs(Number(m[2])) <= MAX_PITCH) {
      orbit = { yaw: roundAngle(Number(m[1])), pitch: roundAngle(Number(m[2])) };
    } else {
      errors.push(`orbit=${orbitText} is not yaw,pitch in radians (|pitch| ≤ ${MAX_PITCH})`);
    }
  }
  let speed = DEFAULT_SPEED;
  const speedText = q.get('speed');
  if (speedText !== null) {
    const v = Number(speedText);
    if (SPEEDS.includes(v)) speed = v;
    else errors.push(`speed=${speedText} is not one of ${SPEEDS.join(', ')}`);
  }
  return {
    palette: palette ?? DEFAULT_PALETTE, tau: tau ?? DEFAULT_TAU, view, orbit, speed, errors,
  };
}

/**
 * The query string for a view: `?url=…&t=…&dt=…&mode=…[&camera=…][&palette=…][&tau=…]
 * [&zoom=…&pan=x,y][&orbit=yaw,pitch][&speed=…]` (url left out for local files; defaults
 * left out).
 */
export function buildQuery({ list, url, t, dt, mode, camera, palette, tau, view, orbit, speed, columns }) {
  const q = new URLSearchParams();
  if (list) q.set('list', list);
  if (url) q.set('url', url);
  if (columns) q.set('cols', [columns.x, columns.y, columns.t, columns.p].join(','));
  if (camera) q.set('camera', camera);
  if (t !== null && t !== undefined) q.set('t', String(t));
  q.set('dt', String(dt));
  q.set('mode', mode);
  if (palette && palette !== DEFAULT_PALETTE) q.set('palette', palette);
  const keeps = modeOf(mode).link;
  if (keeps.includes('tau') && tau) q.set('tau', String(tau));
  if (view) {
    q.set('zoom', String(view.zoom));
    q.set('pan', `${view.x},${view.y}`);
  }
  if (keeps.includes('orbit') && orbit
    && (orbit.yaw !== DEFAULT_ORBIT.yaw || orbit.pitch !== DEFAULT_ORBIT.pitch)) {
    q.set('orbit', `${roundAngle(orbit.yaw)},${roundAngle(orbit.pitch)}`);
  }
  if (speed !== undefined && speed !== DEFAULT_SPEED) q.set('speed', String(speed));
  return `?${q.toString()}`;
}

/** A duration in µs as people read it: `350 µs`, `50 ms`, `1.5 s`. */
export function formatDuration(us) {
  const a = Math.abs(us);
  if (a < 1000) return `${us} µs`;
  if (a < 1000000) return `${trim(us / 1000)} ms`;
  if (a < 600 * 1000000) return `${trim(us / 1000000)} s`;
  return `${trim(us / 60000000)} min`;
}

function trim(v) {
  return String(Number(v.toFixed(3)));
}

/** Seconds with µs precision: `1.234567 s`. */
export function formatSeconds(us) {
  const sign = us < 0 ? '-' : '';
  const a = Math.abs(us);
  const s = Math.floor(a / 1000000);
  const frac = String(a % 1000000).padStart(6, '0');
  return `${sign}${s}.${frac} s`;
}

/** Bytes as `12.3 MB`. */
export function formatBytes(n) {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i += 1;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** A count with thin thousands separators. */
export function formatCount(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/**
 * Window start `t` (µs of the stored t) written in `form`, the way a link keeps the form it
 * was given: `stored` → `123456`, `abs` → `abs:<t + t_offset>`, `start` → seconds since the
 * first event (`3.4s`, exact to the µs).
 */
export function formatTimeIn(form, t, info) {
  if (form === 'abs' && info) return `abs:${t + (info.t_offset ?? 0)}`;
  if (form === 'start' && info && info.t_first !== null) return `${secondsText(t - info.t_first)}s`;
  return String(t);
}

/** µs as a decimal number of seconds, exact, without trailing zeros: 3400000 → `3.4`. */
export function secondsText(us) {
  const sign = us < 0 ? '-' : '';
  const a = Math.abs(us);
  const frac = String(a % 1000000).padStart(6, '0').replace(/0+$/, '');
  return `${sign}${Math.floor(a / 1000000)}${frac ? `.${frac}` : ''}`;
}
