// The frame: uploading the engine's counts to the renderer, drawing them in the state's mode,
// and the pointer on the frame — wheel zooms about the cursor, drag pans (orbits in 3D).

import { app, $ } from './app.js';
import { queueAddress } from './address.js';
import { cloudAxes, cloudProject } from './cloud-axes.js';
import { modeHas, modeOf } from './modes.js';
import { MAX_PITCH, MAX_ZOOM, MIN_ZOOM, roundAngle, roundPan, roundZoom } from './params.js';
import { get, update } from './store.js';

/** Uploads the engine's current frame and draws it. */
export function drawFrame() {
  const e = app.engine;
  const w = e.frame_width();
  const h = e.frame_height();
  if (!w || !h) return;
  const s = get();
  app.renderer.upload(e.frame_counts(), w, h, e.frame_scale(), e.frame_last(), s.dt,
    modeOf(s.mode).points ? e.frame_points() : null);
  fitFrame();
  redraw();
}

/** Draws the uploaded frame again (mode, palette, τ, view or orbit changed). */
export function redraw() {
  const s = get();
  app.renderer.draw(s.mode, s.palette, s.tau, s.view, s.orbit);
  const cloud = $('cloud-caption');
  const inCloud = modeOf(s.mode).points && s.window;
  if (inCloud) {
    const shown = app.renderer.pointCount ?? 0;
    const all = s.window.events;
    cloud.textContent = `${shown.toLocaleString('en')} of the window's ${all.toLocaleString('en')} `
      + `events shown${shown < all ? ` (1 in ${Math.round(all / Math.max(shown, 1))})` : ''}; `
      + 't from the window start; drag to turn';
  }
  cloud.hidden = !inCloud;
  placeAxisLabels(inCloud ? s : null);
}

/**
 * The cloud's tick labels over the canvas, each centred where cloud-axes.js projects it for
 * the current orbit (`s` null: none). The canvas is scaled by CSS ("fit"), so canvas pixels
 * are converted to the stage's CSS pixels.
 */
function placeAxisLabels(s) {
  const layer = $('cloud-axes');
  if (!s) {
    layer.hidden = true;
    layer.replaceChildren();
    return;
  }
  const c = $('frame');
  const stage = layer.parentElement.getBoundingClientRect();
  const box = c.getBoundingClientRect();
  const sx = box.width / (c.width || 1);
  const sy = box.height / (c.height || 1);
  const frame = { width: c.width, height: c.height, dt: s.dt, orbit: s.orbit };
  const spans = cloudAxes(c.width, c.height, s.dt).labels.map((l) => {
    const p = cloudProject(l.at, frame);
    const span = document.createElement('span');
    span.textContent = l.text;
    span.dataset.axis = l.axis;
    if (l.value === null) span.className = 'title';
    else span.dataset.value = String(l.value);
    span.style.left = `${(box.left - stage.left + p.x * sx).toFixed(1)}px`;
    span.style.top = `${(box.top - stage.top + p.y * sy).toFixed(1)}px`;
    return span;
  });
  layer.classList.toggle('dark', s.palette === 'dark');
  layer.replaceChildren(...spans);
  layer.hidden = false;
}

/** Sets the view (`null`: fit), redraws, and updates the address shortly after. */
export function setView(view) {
  update({
    view: view && {
      zoom: roundZoom(Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.zoom))),
      x: roundPan(view.x),
      y: roundPan(view.y),
    },
  });
  applyView();
  redraw();
  queueAddress();
}

export function applyView() {
  const { view } = get();
  $('frame').classList.toggle('zoomed', view !== null);
  $('zoom-label').textContent = view ? `${Math.round(view.zoom * 100)} %` : 'fit';
  fitFrame();
}

/**
 * "fit": the frame as large as the stage allows, small sensors enlarged too (whole CSS
 * pixels per sensor pixel are not needed: the canvas is drawn pixelated, never blurred).
 * Zoomed, one canvas pixel per CSS pixel (the class `zoomed`).
 */
export function fitFrame() {
  sizeFrame();
  // The canvas moved or changed size: the cloud's labels follow it.
  const s = get();
  placeAxisLabels(modeOf(s.mode).points && s.window ? s : null);
}

function sizeFrame() {
  const c = $('frame');
  const stage = c.parentElement;
  if (get().view !== null || !stage) {
    c.style.width = '';
    c.style.height = '';
    return;
  }
  const scale = Math.min(stage.clientWidth / c.width, stage.clientHeight / c.height);
  if (!Number.isFinite(scale) || scale <= 0) return;
  c.style.width = `${Math.floor(c.width * scale)}px`;
  c.style.height = `${Math.floor(c.height * scale)}px`;
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

export function wireView() {
  const canvas = $('frame');
  canvas.addEventListener('wheel', (e) => {
    const s = get();
    if (!s.window || !modeHas(s.mode, 'zoom')) return;
    e.preventDefault();
    const v = s.view ?? { zoom: 1, x: 0, y: 0 };
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
    const s = get();
    if (e.button !== 0 || !s.window) return;
    e.preventDefault();
    canvas.setPointerCapture?.(e.pointerId);
    const v = s.view ?? { zoom: 1, x: 0, y: 0 };
    drag = { start: canvasPoint(e), view: v, orbit: { ...s.orbit } };
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const c = canvasPoint(e);
    const { view, start } = drag;
    const s = get();
    if (!modeHas(s.mode, 'zoom')) {
      // Orbit: a drag across the frame turns the cloud about half a turn.
      update({
        orbit: {
          yaw: roundAngle(drag.orbit.yaw + ((c.x - start.x) / canvas.width) * Math.PI),
          pitch: roundAngle(Math.max(-MAX_PITCH, Math.min(MAX_PITCH,
            drag.orbit.pitch + ((c.y - start.y) / canvas.height) * Math.PI))),
        },
      });
      redraw();
      queueAddress();
      return;
    }
    if (!s.view && Math.abs(c.x - start.x) + Math.abs(c.y - start.y) < 2) return;
    setView({ zoom: view.zoom, x: view.x - (c.x - start.x) / view.zoom,
      y: view.y - (c.y - start.y) / view.zoom });
  });
  const end = () => { drag = null; };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  $('zoom-1').addEventListener('click', () => {
    $('zoom-1').blur();
    // Pixel-exact: one sensor pixel per canvas pixel, on whole-pixel boundaries.
    const v = get().view ?? { zoom: 1, x: 0, y: 0 };
    setView({ zoom: 1, x: Math.round(v.x), y: Math.round(v.y) });
  });
  $('zoom-fit').addEventListener('click', () => {
    $('zoom-fit').blur();
    setView(null);
  });
}
