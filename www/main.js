// The viewer page: reads the address, drives the engine (Rust, www/pkg/) and shows what it
// returns. Every string that comes from a file or a server is inserted as text, never HTML.

import { Engine } from './engine.js';
import {
  DEFAULT_ORBIT, DT_PRESETS, MAX_PITCH, SPEEDS, TAU_PRESETS, buildQuery, checkDatasetUrl,
  formatBytes, formatCount, formatDuration, formatSeconds, MAX_ZOOM, MIN_ZOOM, parseExtras,
  parseParams, roundAngle, roundPan, roundZoom,
} from './params.js';
import { FrameRenderer } from './render.js';
import { Timeline } from './timeline.js';

const $ = (id) => document.getElementById(id);

const state = {
  viewer: null,
  renderer: null,
  timeline: null,
  /** `{kind: 'url', url}` or `{kind: 'file', file}`. */
  source: null,
  info: null,
  t: null,
  dt: 50000,
  mode: 'polarity',
  /** Polarity-mode colours: `dsec` or `dark`. */
  palette: 'dsec',
  /** Time-surface decay constant, µs. */
  tau: 10000,
  /**
   * Zoom and pan, `{zoom, x, y}` (canvas pixels per sensor pixel; sensor point at the
   * top-left), shown one canvas pixel per CSS pixel; `null`: the whole frame fits the page.
   */
  view: null,
  /** The point cloud's orbit, `{yaw, pitch}` radians (mode `cloud`). */
  orbit: { ...DEFAULT_ORBIT },
  /** Pending address update after a zoom, pan or orbit (they come in bursts). */
  viewAddressTimer: 0,
  /** Playing: stepping one window forward every `dt / speed` of wall time. */
  playing: false,
  /** Playback speed: recording time per wall time (1/100 … 1). */
  speed: 1,
  /** Bumped by every play and pause; a play loop that finds it changed stops. */
  playToken: 0,
  /** The camera asked for (multi-camera files), or null for the file's first. */
  camera: null,
  /** The last completed window's JSON from the engine. */
  window: null,
  /** Bumped by every load; a load that finds it changed was superseded. */
  seq: 0,
  /** Bumped by every open: the recording that later answers (the rate curve) belong to. */
  openSeq: 0,
  drawQueued: false,
  /** Timer that shows the progress line and Cancel when a load takes more than 300 ms. */
  slowTimer: 0,
};

/** A load slower than this shows its progress and a Cancel button. */
const SLOW_MS = 300;

// --- the test hook and status ------------------------------------------------------------------

function recordingFacts(info) {
  if (!info) return null;
  const { events, t_first, t_last, t_offset, width, height, layout } = info;
  return { events, t_first, t_last, t_offset, width, height, layout };
}

function windowFacts(w) {
  if (!w) return null;
  const keys = ['from', 'to', 'events', 'first_index', 'sum_x', 'sum_y', 'sum_t', 'sum_p',
    'positive'];
  return Object.fromEntries(keys.map((k) => [k, w[k]]));
}

function netFacts() {
  if (!state.viewer) return null;
  const { requests, bytes, rounds, hits, misses } = JSON.parse(state.viewer.net());
  return { requests, bytes, rounds, hits, misses };
}

/** Publishes where the page is: `window.strobe` first, then `body[data-status]`. */
function publish(status, error = null) {
  window.strobe = {
    status,
    error,
    recording: recordingFacts(state.info),
    window: status === 'ready' ? windowFacts(state.window) : null,
    pixels: status === 'ready' && state.window ? state.window.pixels : null,
    net: netFacts(),
    url: state.source?.kind === 'url' ? state.source.url : null,
    t: state.t,
    dt: state.dt,
    mode: state.mode,
    palette: state.palette,
    tau: state.tau,
    view: state.view,
    orbit: state.orbit,
    playing: state.playing,
    speed: state.speed,
    camera: state.info?.camera ?? null,
    seq: state.seq,
    // Where decoding runs, the engine's wasm memory and its time for the last window.
    rate: rateFacts(state.info),
    engine: 'worker',
    memory: state.viewer?.memory ?? null,
    window_ms: status === 'ready' ? state.viewer?.lastWindowMs ?? null : null,
  };
  document.body.dataset.status = status;
  if (status !== 'loading') endSlow();
}

function loading(message) {
  $('progress').textContent = message;
  if (window.strobe) window.strobe.status = 'loading';
  document.body.dataset.status = 'loading';
}

function fail(err) {
  const message = (err && err.message) || String(err);
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
  $('progress').textContent = '';
  renderNet();
  publish('error', message);
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function notice(lines) {
  const p = $('notice');
  p.textContent = lines.join('; ');
  p.hidden = lines.length === 0;
}

// --- panels ------------------------------------------------------------------------------------

function fillList(dl, rows) {
  dl.replaceChildren();
  for (const [label, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dl.append(dt, dd);
  }
}

function renderInfo() {
  const info = state.info;
  if (!info) {
    fillList($('rec-panel'), []);
    $('datasets').tBodies[0].replaceChildren();
    return;
  }
  const rows = [
    ['source', info.source],
    ['layout', info.layout],
    ['events', formatCount(info.events)],
  ];
  if (info.t_first !== null && info.t_last !== null) {
    rows.push(['duration', formatSeconds(info.t_last - info.t_first)]);
    rows.push(['t', `${info.t_first} … ${info.t_last} µs`]);
  }
  rows.push(['t_offset', `${info.t_offset} µs`]);
  rows.push(['resolution', `${info.width} × ${info.height}`]);
  if (info.cameras && info.cameras.length) rows.push(['cameras', info.cameras.join(', ')]);
  rows.push(['time index', info.paths.ms_index ?? 'none (search of t)']);
  fillList($('rec-panel'), rows);
  const body = $('datasets').tBodies[0];
  body.replaceChildren();
  for (const d of info.datasets) {
    const tr = document.createElement('tr');
    for (const v of [d.path, d.dtype ?? '?', `(${d.shape.join(', ')})`,
      d.chunks ? `(${d.chunks.join(', ')})` : d.layout, d.filters.join(', ') || '—']) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    body.append(tr);
  }
}

function renderWindow() {
  const w = state.window;
  if (!w) {
    fillList($('win-panel'), []);
    return;
  }
  const rows = [
    ['window', `[${w.from}, ${w.to}) µs`],
    ['absolute', `[${w.from + (state.info?.t_offset ?? 0)}, ${w.to + (state.info?.t_offset ?? 0)}) µs`],
    ['length', formatDuration(w.to - w.from)],
    ['events', formatCount(w.events)],
    ['positive', formatCount(w.positive)],
    ['negative', formatCount(w.negative)],
    ['first index', formatCount(w.first_index)],
    ['stored types', w.dtypes ? ['x', 'y', 't', 'p'].map((k) => `${k} ${w.dtypes[k]}`).join(' · ') : ''],
    ['pixels lit', `${formatCount(w.pixels.active)} (${formatCount(w.pixels.positive)} mostly +, ${formatCount(w.pixels.negative)} mostly −)`],
    ['max per pixel', `${formatCount(w.max_total)} (heatmap full scale ${formatCount(w.scale)})`],
  ];
  if (w.outside) rows.push(['off sensor', formatCount(w.outside)]);
  fillList($('win-panel'), rows);
}

function renderNet() {
  if (!state.viewer) return;
  const n = JSON.parse(state.viewer.net());
  const asked = n.hits + n.misses;
  fillList($('net-panel'), [
    ['requests', formatCount(n.requests)],
    ['bytes', `${formatBytes(n.bytes)} (${formatCount(n.bytes)})`],
    ['rounds', formatCount(n.rounds)],
    ['cache hits', asked ? `${((100 * n.hits) / asked).toFixed(1)} % of ${formatCount(asked)} reads` : '—'],
    ['cached', formatBytes(n.cached_bytes)],
  ]);
}

/** Selects duration `us` in `select`, adding it first if a link brought a value not offered. */
function selectDuration(select, us) {
  if (![...select.options].some((o) => Number(o.value) === us)) {
    const o = document.createElement('option');
    o.value = String(us);
    o.textContent = formatDuration(us);
    select.append(o);
  }
  select.value = String(us);
}

function renderTau() {
  selectDuration($('tau-select'), state.tau);
  $('tau-pick').hidden = state.mode !== 'timesurface';
}

function renderControls() {
  const info = state.info;
  const t = state.t;
  if (info && t !== null) {
    const rel = info.t_first !== null ? `${formatSeconds(t - info.t_first)} in · ` : '';
    $('t-label').textContent = `t = ${t} µs (${rel}absolute ${t + (info.t_offset ?? 0)} µs)`;
  } else {
    $('t-label').textContent = '';
  }
  selectDuration($('dt-select'), state.dt);
  $('mode-select').value = state.mode;
  $('palette-select').value = state.palette;
  renderTau();
  const cameras = info?.cameras ?? [];
  const cameraSelect = $('camera-select');
  $('camera-pick').hidden = cameras.length < 2;
  if (cameras.length >= 2) {
    cameraSelect.replaceChildren(...cameras.map((c) => {
      const o = document.createElement('option');
      o.value = c;
      o.textContent = c;
      return o;
    }));
    cameraSelect.value = info.camera ?? cameras[0];
  }
  const isFile = state.source?.kind === 'file';
  $('copy-link').disabled = isFile;
  $('copy-link').title = isFile ? 'a local file cannot be linked' : 'copy a link to this window';
  $('prev').disabled = !canStep(-1);
  $('next').disabled = !canStep(1);
}

// --- drawing -----------------------------------------------------------------------------------

function drawFrame() {
  const v = state.viewer;
  const w = v.frame_width();
  const h = v.frame_height();
  if (!w || !h) return;
  state.renderer.upload(v.frame_counts(), w, h, v.frame_scale(), v.frame_last(), state.dt,
    state.mode === 'cloud' ? v.frame_points() : null);
  redraw();
}

function redraw() {
  state.renderer.draw(state.mode, state.palette, state.tau, state.view, state.orbit);
}

// --- zoom and pan ------------------------------------------------------------------------------

/** Sets the view (`null`: fit), redraws, and updates the address shortly after. */
function setView(view) {
  state.view = view && {
    zoom: roundZoom(Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.zoom))),
    x: roundPan(view.x),
    y: roundPan(view.y),
  };
  applyView();
  redraw();
  if (window.strobe) window.strobe.view = state.view;
  queueAddress();
}

/** Updates the address shortly after the last of a burst of view changes. */
function queueAddress() {
  clearTimeout(state.viewAddressTimer);
  state.viewAddressTimer = setTimeout(() => setAddress('replace'), 120);
}

function applyView() {
  $('frame').classList.toggle('zoomed', state.view !== null);
  $('zoom-label').textContent = state.view ? `${Math.round(state.view.zoom * 100)} %` : 'fit';
}

/** A mouse position as canvas pixels (the canvas's own resolution) from its top-left. */
function canvasPoint(e) {
  const c = $('frame');
  const r = c.getBoundingClientRect();
  return {
    x: ((e.clientX - r.left) * c.width) / (r.width || 1),
    y: ((e.clientY - r.top) * c.height) / (r.height || 1),
  };
}

function wireView() {
  const canvas = $('frame');
  canvas.addEventListener('wheel', (e) => {
    if (!state.window || state.mode === 'cloud') return;
    e.preventDefault();
    const v = state.view ?? { zoom: 1, x: 0, y: 0 };
    const c = canvasPoint(e);
    const unit = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? 800 : 1;
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.zoom * Math.exp(-e.deltaY * unit * 0.002)));
    // The sensor point under the cursor stays there.
    const sx = v.x + c.x / v.zoom;
    const sy = v.y + c.y / v.zoom;
    setView({ zoom, x: sx - c.x / zoom, y: sy - c.y / zoom });
  }, { passive: false });
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || !state.window) return;
    e.preventDefault();
    canvas.setPointerCapture?.(e.pointerId);
    const v = state.view ?? { zoom: 1, x: 0, y: 0 };
    drag = { start: canvasPoint(e), view: v, orbit: { ...state.orbit } };
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const c = canvasPoint(e);
    const { view, start } = drag;
    if (state.mode === 'cloud') {
      // Orbit: a drag across the frame turns the cloud about half a turn.
      state.orbit = {
        yaw: roundAngle(drag.orbit.yaw + ((c.x - start.x) / canvas.width) * Math.PI),
        pitch: roundAngle(Math.max(-MAX_PITCH, Math.min(MAX_PITCH,
          drag.orbit.pitch + ((c.y - start.y) / canvas.height) * Math.PI))),
      };
      if (window.strobe) window.strobe.orbit = state.orbit;
      redraw();
      queueAddress();
      return;
    }
    if (!state.view && Math.abs(c.x - start.x) + Math.abs(c.y - start.y) < 2) return;
    setView({ zoom: view.zoom, x: view.x - (c.x - start.x) / view.zoom,
      y: view.y - (c.y - start.y) / view.zoom });
  });
  const end = () => { drag = null; };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  $('zoom-1').addEventListener('click', () => {
    $('zoom-1').blur();
    // Pixel-exact: one sensor pixel per canvas pixel, on whole-pixel boundaries.
    const v = state.view ?? { zoom: 1, x: 0, y: 0 };
    setView({ zoom: 1, x: Math.round(v.x), y: Math.round(v.y) });
  });
  $('zoom-fit').addEventListener('click', () => {
    $('zoom-fit').blur();
    setView(null);
  });
}

function queueDraw(events, expected) {
  const text = Number.isFinite(expected) && expected > 0
    ? `reading… ${formatCount(events)} of ~${formatCount(expected)} events (${Math.min(100, Math.round((100 * events) / expected))} %)`
    : `reading… ${formatCount(events)} events so far`;
  $('progress').textContent = text;
  $('load-text').textContent = text;
  if (!events || state.drawQueued) return;
  state.drawQueued = true;
  requestAnimationFrame(() => {
    state.drawQueued = false;
    drawFrame();
  });
}

// --- downloads ---------------------------------------------------------------------------------

/** `<recording>_t<from>_dt<length>_<mode>`: what a saved window is, from its name alone. */
function downloadName() {
  const source = state.source;
  const full = source?.kind === 'url' ? new URL(source.url).pathname : source?.file?.name ?? 'recording';
  const base = full.split('/').pop().replace(/\.(h5|hdf5|hdf|he5)$/i, '') || 'recording';
  const safe = base.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80);
  const camera = state.info?.camera ? `_${state.info.camera}` : '';
  return `${safe}${camera}_t${state.t}_dt${state.dt}_${state.mode}`;
}

function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// --- address -----------------------------------------------------------------------------------

function setAddress(how) {
  const url = state.source?.kind === 'url' ? state.source.url : null;
  const query = buildQuery({
    url, t: state.t, dt: state.dt, mode: state.mode, camera: state.camera, palette: state.palette,
    tau: state.tau, view: state.view, orbit: state.orbit, speed: state.speed,
  });
  if (query === location.search) return;
  const entry = { t: state.t, dt: state.dt, mode: state.mode };
  if (how === 'push') history.pushState(entry, '', query);
  else history.replaceState(entry, '', query);
}

// --- loading -----------------------------------------------------------------------------------

function showViewer(on) {
  $('viewer').hidden = !on;
  $('landing').hidden = on;
}

/** Opens a recording and then its window at `view.t` (default: the first event). */
async function openSource(source, view, how) {
  setPlaying(false);
  const seq = ++state.seq;
  state.openSeq += 1;
  const seqOpen = state.openSeq;
  clearError();
  state.source = source;
  state.info = null;
  state.window = null;
  state.dt = view.dt;
  state.mode = view.mode;
  state.t = view.t;
  state.camera = view.camera ?? null;
  showViewer(true);
  renderInfo();
  renderWindow();
  renderControls();
  state.timeline.setRecording(null);
  const name = source.kind === 'url' ? source.url : source.file.name;
  $('url-input').value = source.kind === 'url' ? source.url : '';
  loading(`opening ${name}…`);
  watchSlow(seq);
  let text;
  try {
    // The first window's bytes come in the same rounds as the recording's summary.
    text = source.kind === 'url'
      ? await state.viewer.open_url(source.url, state.camera, view.t, view.dt)
      : await state.viewer.open_file(source.file, state.camera, view.t, view.dt);
  } catch (err) {
    if (seq === state.seq) {
      endSlow();
      setAddress(how);
      fail(err);
    }
    return;
  }
  if (text === null || text === undefined || seq !== state.seq) return;
  state.info = JSON.parse(text);
  renderInfo();
  state.timeline.setRecording(state.info);
  const t = view.t ?? state.info.t_first ?? 0;
  await loadWindow(t, view.dt, how);
  if (!state.info?.rate && state.info?.events > 0 && seqOpen === state.openSeq) sampleRate(seqOpen);
}

/** Draws the rate curve from sampled timestamps (files without `ms_to_idx`), after the first
 * picture so that it never delays it. */
async function sampleRate(seqOpen) {
  try {
    const text = await state.viewer.sampled_rate();
    if (!text || seqOpen !== state.openSeq || !state.info) return;
    state.info.rate = JSON.parse(text);
    state.info.rate_source = 'sampled';
    state.timeline.setRate(state.info.rate);
    if (window.strobe) window.strobe.rate = rateFacts(state.info);
  } catch {
    // The curve is a nicety: the window itself reports read errors.
  }
}

function rateFacts(info) {
  if (!info?.rate) return null;
  const { start, bin_us: binUs, counts } = info.rate;
  return { source: info.rate_source ?? 'ms_to_idx', start, bin_us: binUs, bins: counts.length,
    total: counts.reduce((a, b) => a + b, 0), counts };
}

/** Shows the slow-load line (progress and Cancel) if load `seq` still runs after 300 ms. */
function watchSlow(seq) {
  clearTimeout(state.slowTimer);
  $('load-line').hidden = true;
  state.slowTimer = setTimeout(() => {
    if (seq === state.seq && document.body.dataset.status === 'loading') {
      $('load-text').textContent = $('progress').textContent;
      $('load-line').hidden = false;
    }
  }, SLOW_MS);
}

function endSlow() {
  clearTimeout(state.slowTimer);
  $('load-line').hidden = true;
}

/** Stops the running load; the page shows what was read so far and says so. */
function cancelLoad() {
  if (document.body.dataset.status !== 'loading') return;
  setPlaying(false);
  state.seq += 1;
  state.viewer.cancel();
  endSlow();
  const what = state.info ? 'reading the window' : 'opening the recording';
  $('progress').textContent = `cancelled ${what} — pick another window or open again`;
  renderNet();
  publish('cancelled');
}

/** Reads the window `[t, t + dt)` and shows it. */
async function loadWindow(t, dt, how) {
  if (!state.info) return;
  const seq = ++state.seq;
  clearError();
  state.t = t;
  state.dt = dt;
  setAddress(how);
  renderControls();
  state.timeline.setWindow(t, t + dt);
  loading(`reading ${formatDuration(dt)} at t = ${t} µs…`);
  watchSlow(seq);
  state.viewer.wantPoints(state.mode === 'cloud');
  let text;
  try {
    text = await state.viewer.window(t, t + dt, queueDraw);
  } catch (err) {
    if (seq === state.seq) {
      endSlow();
      fail(err);
    }
    return;
  }
  if (text === null || text === undefined || seq !== state.seq) return;
  endSlow();
  try {
    state.window = JSON.parse(text);
    drawFrame();
    renderWindow();
    renderNet();
    $('progress').textContent = `${formatCount(state.window.events)} events in ${formatDuration(dt)}`;
  } catch (err) {
    fail(err);
    return;
  }
  publish('ready');
}

function canStep(dir) {
  const info = state.info;
  if (!info || state.t === null || info.t_first === null) return false;
  const t = state.t + dir * state.dt;
  return dir > 0 ? t <= info.t_last : t + state.dt > info.t_first;
}

function step(dir) {
  if (!canStep(dir)) return;
  loadWindow(state.t + dir * state.dt, state.dt, 'push');
}

// --- playing ---------------------------------------------------------------------------------

/** Starts or stops playing (no-op when already so). */
function setPlaying(on) {
  const playing = Boolean(on && state.info);
  if (playing === state.playing) return;
  state.playing = playing;
  state.playToken += 1;
  const button = $('play');
  button.textContent = playing ? '❚❚' : '▶';
  button.setAttribute('aria-pressed', String(playing));
  if (window.strobe) window.strobe.playing = playing;
  if (playing) playLoop(state.playToken);
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/**
 * Advances one window every `dt / speed` of wall time, but never before the previous
 * window finished loading. A load started elsewhere (a step, a click) supersedes the one
 * started here; playing then continues from the window shown.
 */
async function playLoop(token) {
  const alive = () => state.playing && token === state.playToken;
  let shownAt = performance.now();
  while (alive()) {
    const interval = state.dt / 1000 / state.speed;
    const wait = shownAt + interval - performance.now();
    if (wait > 0) await sleep(wait);
    if (!alive()) return;
    if (!canStep(1)) {
      setPlaying(false);
      return;
    }
    shownAt = performance.now();
    await loadWindow(state.t + state.dt, state.dt, 'replace');
    if (document.body.dataset.status === 'error' && token === state.playToken) {
      setPlaying(false);
      return;
    }
  }
}

function openUrlText(text, view, how) {
  const checked = checkDatasetUrl(text, location.href);
  if (checked.error) {
    setPlaying(false);
    state.seq += 1;
    state.viewer.cancel();
    state.source = null;
    state.info = null;
    state.window = null;
    showViewer(false);
    fail(new Error(checked.error));
    return;
  }
  openSource({ kind: 'url', url: checked.url }, view, how);
}

/** Shows what the address says: a recording's window, or the landing view. */
function followAddress(how) {
  const params = parseParams(location.search);
  const extras = parseExtras(location.search);
  notice([...params.errors, ...extras.errors]);
  state.palette = extras.palette;
  state.tau = extras.tau;
  state.view = extras.view;
  state.orbit = extras.orbit;
  state.speed = extras.speed;
  $('speed-select').value = String(state.speed);
  applyView();
  if (window.strobe) window.strobe.view = state.view;
  const view = { t: params.t, dt: params.dt, mode: params.mode, camera: params.camera };
  if (params.url === null) {
    if (state.source?.kind === 'file' && state.info) {
      // Back/forward within a local file's windows (and cameras).
      if (view.camera !== state.camera) {
        openSource(state.source, view, 'none');
        return;
      }
      state.mode = view.mode;
      loadWindow(view.t ?? state.info.t_first ?? 0, view.dt, 'none');
      return;
    }
    setPlaying(false);
    state.seq += 1;
    state.viewer.cancel();
    state.source = null;
    state.info = null;
    state.window = null;
    clearError();
    showViewer(false);
    publish('idle');
    return;
  }
  const same = state.source?.kind === 'url' && state.info
    && checkDatasetUrl(params.url, location.href).url === state.source.url
    && params.camera === state.camera;
  if (same) {
    state.mode = view.mode;
    loadWindow(view.t ?? state.info.t_first ?? 0, view.dt, 'none');
  } else {
    openUrlText(params.url, view, how);
  }
}

// --- controls ----------------------------------------------------------------------------------

function wireControls() {
  const select = $('dt-select');
  for (const dt of DT_PRESETS) {
    const o = document.createElement('option');
    o.value = String(dt);
    o.textContent = formatDuration(dt);
    select.append(o);
  }
  select.addEventListener('change', () => {
    select.blur(); // so that ← → step windows again instead of changing the select
    if (state.info) loadWindow(state.t, Number(select.value), 'push');
  });
  $('mode-select').addEventListener('change', () => {
    $('mode-select').blur();
    state.mode = $('mode-select').value;
    state.viewer.wantPoints(state.mode === 'cloud');
    renderTau();
    if (state.mode === 'cloud' && state.window) drawFrame(); // fetches the points
    else redraw();
    setAddress('replace');
    if (window.strobe) window.strobe.mode = state.mode;
  });
  for (const tau of TAU_PRESETS) {
    const o = document.createElement('option');
    o.value = String(tau);
    o.textContent = formatDuration(tau);
    $('tau-select').append(o);
  }
  $('tau-select').addEventListener('change', () => {
    $('tau-select').blur();
    state.tau = Number($('tau-select').value);
    redraw();
    setAddress('replace');
    if (window.strobe) window.strobe.tau = state.tau;
  });
  $('palette-select').addEventListener('change', () => {
    $('palette-select').blur();
    state.palette = $('palette-select').value;
    redraw();
    setAddress('replace');
    if (window.strobe) window.strobe.palette = state.palette;
  });
  $('camera-select').addEventListener('change', () => {
    if (!state.source) return;
    const camera = $('camera-select').value;
    $('camera-select').blur();
    openSource(state.source, { t: state.t, dt: state.dt, mode: state.mode, camera }, 'push');
  });
  $('play').addEventListener('click', () => {
    $('play').blur(); // so that space is the page's play/pause key, not a second click
    setPlaying(!state.playing);
  });
  $('speed-select').replaceChildren(...SPEEDS.map((v) => {
    const o = document.createElement('option');
    o.value = String(v);
    o.textContent = v === 1 ? '1×' : `1/${Math.round(1 / v)}×`;
    return o;
  }));
  $('speed-select').value = String(state.speed);
  $('speed-select').addEventListener('change', () => {
    $('speed-select').blur();
    state.speed = Number($('speed-select').value);
    if (window.strobe) window.strobe.speed = state.speed;
    setAddress('replace');
  });
  $('prev').addEventListener('click', () => step(-1));
  $('next').addEventListener('click', () => step(1));
  document.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const tag = e.target?.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    if (e.key === 'ArrowLeft') {
      e.preventDefault();
      step(-1);
    } else if (e.key === 'ArrowRight') {
      e.preventDefault();
      step(1);
    } else if (e.key === ' ' && !e.repeat && state.info) {
      e.preventDefault();
      if (tag === 'BUTTON') e.target.blur(); // else its keyup would click it too
      setPlaying(!state.playing);
    }
  });
  $('open-form').addEventListener('submit', (e) => {
    e.preventDefault();
    openUrlText($('url-input').value, { t: null, dt: state.dt, mode: state.mode }, 'push');
  });
  $('file-input').addEventListener('change', () => {
    const file = $('file-input').files[0];
    if (file) openSource({ kind: 'file', file }, { t: null, dt: state.dt, mode: state.mode }, 'push');
  });
  $('copy-link').addEventListener('click', async () => {
    const status = $('copy-status');
    try {
      await navigator.clipboard.writeText(location.href);
      status.textContent = 'link copied';
    } catch {
      status.textContent = 'copy failed — the address bar holds the link';
    }
    setTimeout(() => { status.textContent = ''; }, 2500);
  });
  $('save-png').addEventListener('click', () => {
    $('save-png').blur();
    if (!state.window) return;
    $('frame').toBlob((blob) => {
      if (blob) download(blob, `${downloadName()}.png`);
    }, 'image/png');
  });
  $('save-npz').addEventListener('click', async () => {
    $('save-npz').blur();
    if (!state.window) return;
    const { from, to } = state.window;
    const name = `${downloadName()}.npz`.replace(/_(polarity|heatmap|timesurface|cloud)\.npz$/, '.npz');
    const status = $('copy-status');
    status.textContent = 'preparing NPZ…';
    try {
      const bytes = await state.viewer.npz(from, to);
      download(new Blob([bytes], { type: 'application/octet-stream' }), name);
      status.textContent = `saved ${name}`;
    } catch (err) {
      status.textContent = `NPZ: ${err.message ?? err}`;
    }
    setTimeout(() => { status.textContent = ''; }, 6000);
  });
  // A file dropped anywhere on the page opens like a picked one.
  document.addEventListener('dragover', (e) => {
    if (e.dataTransfer?.types?.includes('Files')) e.preventDefault();
  });
  document.addEventListener('drop', (e) => {
    const file = e.dataTransfer?.files?.[0];
    if (!file) return;
    e.preventDefault();
    openSource({ kind: 'file', file }, { t: null, dt: state.dt, mode: state.mode }, 'push');
  });
  window.addEventListener('popstate', () => followAddress('none'));
}

/**
 * For the benchmark (bench/browser.mjs): frame timing and whole-recording scrubs, driven the
 * way the page's own controls drive the engine.
 */
const strobeBench = {
  /** ms per frame of the shown window in `mode` (texture upload, draw, GPU finish), `reps` times. */
  frameMs(mode, reps = 15) {
    const v = state.viewer;
    const times = [];
    for (let i = 0; i < reps; i += 1) {
      const t0 = performance.now();
      state.renderer.upload(v.frame_counts(), v.frame_width(), v.frame_height(), v.frame_scale(),
        v.frame_last(), state.dt, mode === 'cloud' ? v.frame_points() : null);
      state.renderer.draw(mode, state.palette, state.tau, state.view, state.orbit);
      state.renderer.finish();
      times.push(performance.now() - t0);
    }
    redraw();
    return times;
  },
  /** ms per redraw of the uploaded frame in `mode` (draw and GPU finish: orbiting, zooming). */
  drawMs(mode, reps = 15) {
    const times = [];
    for (let i = 0; i < reps; i += 1) {
      const t0 = performance.now();
      state.renderer.draw(mode, state.palette, state.tau, state.view, state.orbit);
      state.renderer.finish();
      times.push(performance.now() - t0);
    }
    redraw();
    return times;
  },
  /** Reads the shown window again (its bytes now cached): the engine's decode time. */
  async reload() {
    await loadWindow(state.t, state.dt, 'none');
    return { events: state.window?.events, window_ms: state.viewer.lastWindowMs,
      timing: state.window?.timing };
  },
  /** Moves to the window `[t, t + dt)` of the open recording: its time and network cost. */
  async seek(t, dt) {
    const before = JSON.parse(state.viewer.net());
    const t0 = performance.now();
    await loadWindow(t, dt, 'none');
    const after = JSON.parse(state.viewer.net());
    const delta = (k) => after[k] - before[k];
    return { ms: performance.now() - t0, events: state.window?.events, digest: state.window,
      rounds: delta('rounds'), requests: delta('requests'), bytes: delta('bytes') };
  },
  /** Shows every window of length `dt` from the first event to the last, in order. */
  async scrub(dt) {
    const t0 = performance.now();
    let events = 0;
    let windows = 0;
    let slowest = 0;
    for (let t = state.info.t_first; t <= state.info.t_last; t += dt) {
      const s = performance.now();
      await loadWindow(t, dt, 'none');
      if (document.body.dataset.status !== 'ready') throw new Error(window.strobe.error ?? 'scrub stopped');
      slowest = Math.max(slowest, performance.now() - s);
      events += state.window.events;
      windows += 1;
    }
    return { windows, events, wall_ms: performance.now() - t0, slowest_ms: slowest,
      memory: state.viewer.memory, net: JSON.parse(state.viewer.net()) };
  },
};
window.strobeBench = strobeBench;

async function main() {
  try {
    state.viewer = new Engine();
  } catch (err) {
    fail(new Error(`could not start the viewer's engine (www/engine-worker.js): ${err.message ?? err}`));
    return;
  }
  try {
    state.renderer = new FrameRenderer($('frame'));
  } catch (err) {
    fail(err);
    return;
  }
  state.timeline = new Timeline($('timeline'), (t) => {
    if (state.info) loadWindow(Math.round(t - state.dt / 2), state.dt, 'push');
  });
  wireControls();
  wireView();
  $('load-cancel').addEventListener('click', cancelLoad);
  followAddress('replace');
}

main();
