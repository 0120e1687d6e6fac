// Opening recordings and reading windows: every call takes the store's supersede token, so
// a newer request always wins, and every failure leaves the page in a state that says what to
// do (see `fail`).

import { app, $ } from './app.js';
import { setAddress } from './address.js';
import { hideChooser, offerChooser } from './chooser.js';
import { drawFrame } from './frame-view.js';
import { modeOf } from './modes.js';
import { checkDatasetUrl, formatCount, formatDuration } from './params.js';
import { begin, get, isCurrent, update } from './store.js';

/** A load slower than this shows its progress and a Cancel button. */
const SLOW_MS = 300;
let slowTimer = 0;

export function progress(text) {
  $('progress').textContent = text;
}

/** Shows the slow-load line (progress and Cancel) if load `seq` still runs after SLOW_MS. */
function watchSlow(seq) {
  clearTimeout(slowTimer);
  $('load-line').hidden = true;
  slowTimer = setTimeout(() => {
    if (isCurrent(seq) && get().status === 'loading') {
      $('load-text').textContent = $('progress').textContent;
      $('load-line').hidden = false;
    }
  }, SLOW_MS);
}

function endSlow() {
  clearTimeout(slowTimer);
  $('load-line').hidden = true;
}

/**
 * A failure as the page shows it: the message (a CORS-specific one when the server answers
 * but hides its responses from this page), status `error` — which hides the frame and
 * disables play, downloads and copy link (panels.js).
 */
export async function fail(err, seq = get().seq) {
  let message = (err && err.message) || String(err);
  const source = get().source;
  if (source?.kind === 'url' && /cross-origin|Failed to fetch|NetworkError/i.test(message)) {
    message = (await corsDiagnosis(source.url)) ?? message;
  }
  if (!isCurrent(seq)) return;
  endSlow();
  progress('');
  update({ status: 'error', error: pageAdvice(message), playing: false });
}

/**
 * The engine's messages are shared with the CLI; where one advises a CLI flag the page does
 * not have, the page says what it can do instead.
 */
export function pageAdvice(message) {
  return message.replace(
    /pass --x\/--y\/--t\/--p paths if they are named differently/,
    'this page finds datasets named x, y, t and p in one group by itself; for other names, pick '
      + 'the datasets below',
  );
}

/**
 * When a URL cannot be read, asks the server once more without CORS (an opaque `HEAD`): if
 * it answers, the server is up and only its CORS headers are missing — say exactly that, and
 * the exact `strobe serve --relay` command and link that read it anyway (retrying will not).
 */
export async function corsDiagnosis(url, param = 'url') {
  let answered = false;
  try {
    await fetch(url, { method: 'HEAD', mode: 'no-cors', cache: 'no-store' });
    answered = true;
  } catch {
    // Down or unreachable: the engine's own message covers that.
  }
  if (!answered) return null;
  const { origin, prefix, relayUrl, pageUrl } = relayAdvice(url, location.href, param);
  return `${url}: the server at ${origin} answers, but does not let this page read its files: `
    + 'its responses lack the CORS header Access-Control-Allow-Origin, so no retry will help. '
    + `Relay it: run \`strobe serve --relay ${prefix}\` and open ${pageUrl} (the page reading `
    + `${relayUrl}). Or serve the files with \`strobe serve --data <dir>\`, or make the server `
    + 'send Access-Control-Allow-Origin: * and Access-Control-Expose-Headers: Content-Range, '
    + 'Content-Length, ETag, Accept-Ranges (and answer Range requests); or open the file from '
    + 'this computer (the file picker).';
}

/**
 * What relays `url` for this page: the prefix to allow (its scheme, host and directory), and
 * the relay on the server that serves this page when that is a `strobe serve` on this machine
 * (loopback), else on `strobe serve`'s default address; `param`: the link's `url` (a recording)
 * or `list` (a listing).
 */
export function relayAdvice(url, pageHref, param = 'url') {
  const u = new URL(url);
  const dir = u.pathname.slice(0, u.pathname.lastIndexOf('/') + 1) || '/';
  const prefix = `${u.protocol}//${u.host}${dir}`;
  const page = new URL(pageHref);
  const local = /^(127\.|localhost$|\[::1\]$)/.test(page.hostname) && /^https?:$/.test(page.protocol);
  const server = local ? page.origin : 'http://127.0.0.1:8080';
  const relayUrl = `${server}/relay?url=${encodeURIComponent(url)}`;
  const pageUrl = `${server}/index.html?${param}=${encodeURIComponent(relayUrl)}`;
  return { origin: u.origin, prefix, relayUrl, pageUrl };
}

export function clearError() {
  if (get().error !== null) update({ error: null });
}

/** Opens the text typed or linked as a dataset URL (adding a missing scheme, and saying so). */
export function openUrlText(text, view, how) {
  const checked = checkDatasetUrl(text, location.href);
  if (checked.error) {
    const seq = begin();
    app.engine.cancel();
    update({ source: null, info: null, window: null, playing: false });
    showViewer(false);
    fail(new Error(checked.error), seq);
    return;
  }
  openSource({ kind: 'url', url: checked.url }, view, how, checked.note ?? null);
}

export function showViewer(on) {
  $('viewer').hidden = !on;
  $('landing').hidden = on;
}

/**
 * Opens a recording and then its window at `view.t` (µs of the stored t) or `view.tSpec` (any
 * form the engine's time parser reads; default: the first event).
 */
export async function openSource(source, view, how, note = null) {
  const seq = begin();
  hideChooser();
  update({
    source, info: null, window: null, error: null, status: 'loading', playing: false,
    dt: view.dt, mode: view.mode, t: view.t, camera: view.camera ?? null,
    tForm: view.tForm ?? 'stored', note, columns: view.columns ?? null,
  });
  app.engine.set_columns(view.columns ?? null);
  showViewer(true);
  app.timeline.setRecording(null);
  const name = source.kind === 'url' ? source.url : source.file.name;
  $('url-input').value = source.kind === 'url' ? source.url : '';
  progress(`opening ${name}…`);
  watchSlow(seq);
  let text;
  try {
    // The first window's bytes come in the same rounds as the recording's summary.
    const camera = get().camera;
    text = source.kind === 'url'
      ? await app.engine.open_url(source.url, camera, view.t, view.dt)
      : await app.engine.open_file(source.file, camera, view.t, view.dt);
  } catch (err) {
    if (isCurrent(seq)) {
      setAddress(how);
      fail(err, seq);
      // Columns not found by name: let the reader pick them.
      if (/no event datasets/.test(err?.message ?? '')) {
        offerChooser(source, (columns) => openSource(source, { ...view, t: null, tSpec: null, columns }, 'push'));
      }
    }
    return;
  }
  if (text === null || text === undefined || !isCurrent(seq)) return;
  const info = JSON.parse(text);
  update({ info });
  app.timeline.setRecording(info);
  if (!info.events) {
    // Nothing to draw: say so instead of an empty frame.
    endSlow();
    setAddress(how);
    progress('');
    update({ status: 'empty', window: null });
    return;
  }
  let t = view.t ?? info.t_first ?? 0;
  if (view.tSpec) {
    try {
      t = JSON.parse(await app.engine.resolve_time(view.tSpec)).t;
    } catch (err) {
      if (!isCurrent(seq)) return;
      update({ note: `t=${view.tSpec}: ${err.message ?? err}; showing the first window` });
    }
  }
  await loadWindow(t, view.dt, how);
  if (!info.rate && isCurrent(get().seq)) sampleRate(info);
}

/** Draws the rate curve from sampled timestamps (files without `ms_to_idx`), after the first
 * picture so that it never delays it. */
async function sampleRate(info) {
  try {
    const text = await app.engine.sampled_rate();
    if (!text || get().info !== info) return;
    const next = { ...info, rate: JSON.parse(text), rate_source: 'sampled' };
    update({ info: next });
    app.timeline.setRate(next.rate);
  } catch {
    // The curve is a nicety: the window itself reports read errors.
  }
}

/** Stops the running load; the page shows what was read so far and says so. */
export function cancelLoad() {
  if (get().status !== 'loading') return;
  begin();
  app.engine.cancel();
  endSlow();
  const what = get().info ? 'reading the window' : 'opening the recording';
  progress(`cancelled ${what} — pick another window or open again`);
  update({ status: 'cancelled', playing: false });
}

/**
 * Reads the window `[t, t + dt)` and shows it; `how` is the history entry it makes (`push`,
 * `replace`, `none`). Resolves to whether it was shown (false: superseded or failed).
 */
export async function loadWindow(t, dt, how, seq = begin()) {
  const { info } = get();
  if (!info || !info.events) return false;
  update({ t, dt, error: null, status: 'loading' });
  setAddress(how);
  app.timeline.setWindow(t, t + dt);
  progress(`reading ${formatDuration(dt)} at t = ${t} µs…`);
  watchSlow(seq);
  app.engine.wantPoints(modeOf(get().mode).points);
  let text;
  try {
    text = await app.engine.window(t, t + dt, (events, expected) => {
      if (isCurrent(seq)) onProgress(events, expected);
    });
  } catch (err) {
    if (isCurrent(seq)) fail(err, seq);
    return false;
  }
  if (text === null || text === undefined || !isCurrent(seq)) return false;
  endSlow();
  try {
    const w = JSON.parse(text);
    update({ window: w });
    drawFrame();
    progress(`${formatCount(w.events)} events in ${formatDuration(dt)}`);
  } catch (err) {
    fail(err, seq);
    return false;
  }
  update({ status: 'ready' });
  return true;
}

let drawQueued = false;

function onProgress(events, expected) {
  const text = Number.isFinite(expected) && expected > 0
    ? `reading… ${formatCount(events)} of ~${formatCount(expected)} events (${Math.min(100, Math.round((100 * events) / expected))} %)`
    : `reading… ${formatCount(events)} events so far`;
  progress(text);
  $('load-text').textContent = text;
  if (!events || drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    drawFrame();
  });
}

export function canStep(dir) {
  const { info, t, dt } = get();
  if (!info || t === null || info.t_first === null) return false;
  const next = t + dir * dt;
  return dir > 0 ? next <= info.t_last : next + dt > info.t_first;
}

export function step(dir) {
  if (!canStep(dir)) return;
  const { t, dt } = get();
  loadWindow(t + dir * dt, dt, 'push');
}

/** Home / End: the recording's first window, or the window holding its last event. */
export function jump(end) {
  const { info, dt } = get();
  if (!info || info.t_first === null) return;
  loadWindow(end ? info.t_last - dt + 1 : info.t_first, dt, 'push');
}

/**
 * Goes to a time typed in any form the engine reads (`123456`, `abs:…`, `3.4s`, `mm:ss.f`).
 * Resolves to an error message, or null when the window is loading. A time outside the
 * recording is refused with its span and t_offset.
 */
export async function goTo(text) {
  const { info, dt } = get();
  if (!info) return 'open a recording first';
  let placed;
  try {
    placed = JSON.parse(await app.engine.resolve_time(text));
  } catch (err) {
    return err.message ?? String(err);
  }
  if (info.t_first === null || placed.t > info.t_last || placed.t + dt <= info.t_first) {
    const off = info.t_offset ?? 0;
    return `${text.trim()} is t = ${placed.t} µs, outside the recording: it spans `
      + `t = ${info.t_first} … ${info.t_last} µs (absolute ${info.t_first + off} … `
      + `${info.t_last + off} µs); t_offset is ${off} µs`;
  }
  update({ tForm: placed.form });
  loadWindow(placed.t, dt, 'push');
  return null;
}
