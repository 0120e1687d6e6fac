// The frame: uploading the engine's counts to the renderer, drawing them in the state's mode,
// and the pointer on the frame — wheel zooms about the cursor, drag pans (orbits in 3D).

import { app, $ } from './app.js';
import { queueAddress } from './address.js';
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
  if (modeOf(s.mode).points && s.window) {
    const shown = app.renderer.pointCount ?? 0;
    cloud.textContent = `x → (0 … ${s.info?.width ?? '?'} px), y ↓ (0 … ${s.info?.height ?? '?'} px), `
      + `t into the picture (0 … ${s.dt} µs); ${shown.toLocaleString('en')} of the window's `
      + `${s.window.events.toLocaleString('en')} events shown`;
    cloud.hidden = false;
  } else {
    cloud.hidden = true;
  }
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
