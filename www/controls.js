// The toolbar, the go-to field and the keyboard: each control turns into a store update and
// a load. Selects and the URL box give the keys back to the page once used, so ← → keep
// stepping windows after Open or a choice.

import { app, $ } from './app.js';
import { setAddress } from './address.js';
import { drawFrame, redraw } from './frame-view.js';
import { MODES, modeOf } from './modes.js';
import { DT_PRESETS, SPEEDS, TAU_PRESETS, formatDuration } from './params.js';
import { setPlaying } from './playback.js';
import { goTo, jump, loadWindow, openSource, openUrlText, step } from './session.js';
import { get, update } from './store.js';

function options(select, values, label) {
  select.replaceChildren(...values.map((v) => {
    const o = document.createElement('option');
    o.value = String(v);
    o.textContent = label(v);
    return o;
  }));
}

/** Gives the keyboard back to the page (← → space) after a control was used. */
function release(el) {
  el.blur();
}

function wireSelects() {
  options($('dt-select'), DT_PRESETS, formatDuration);
  options($('tau-select'), TAU_PRESETS, formatDuration);
  options($('speed-select'), SPEEDS, (v) => (v === 1 ? '1×' : `1/${Math.round(1 / v)}×`));
  $('mode-select').replaceChildren(...MODES.map((m) => {
    const o = document.createElement('option');
    o.value = m.id;
    o.textContent = m.label;
    return o;
  }));
  $('dt-select').addEventListener('change', () => {
    release($('dt-select'));
    if (get().info) loadWindow(get().t, Number($('dt-select').value), 'push');
  });
  $('mode-select').addEventListener('change', () => {
    release($('mode-select'));
    const mode = $('mode-select').value;
    update({ mode });
    app.engine.wantPoints(modeOf(mode).points);
    if (modeOf(mode).points && get().window) drawFrame(); // fetches the points
    else redraw();
    setAddress('replace');
  });
  $('tau-select').addEventListener('change', () => {
    release($('tau-select'));
    update({ tau: Number($('tau-select').value) });
    redraw();
    setAddress('replace');
  });
  $('palette-select').addEventListener('change', () => {
    release($('palette-select'));
    update({ palette: $('palette-select').value });
    redraw();
    setAddress('replace');
  });
  $('camera-select').addEventListener('change', () => {
    const s = get();
    if (!s.source) return;
    const camera = $('camera-select').value;
    release($('camera-select'));
    openSource(s.source, { t: s.t, dt: s.dt, mode: s.mode, camera }, 'push');
  });
  $('speed-select').addEventListener('change', () => {
    release($('speed-select'));
    const playing = get().playing;
    setPlaying(false);
    update({ speed: Number($('speed-select').value) });
    setAddress('replace');
    if (playing) setPlaying(true); // a new clock at the new speed
  });
}

function wireGoTo() {
  const input = $('goto-input');
  $('goto-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const error = await goTo(input.value);
    $('goto-error').textContent = error ?? '';
    $('goto-error').hidden = !error;
    if (!error) release(input);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') release(input);
  });
}

function wireKeys() {
  document.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const tag = e.target?.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    const keys = {
      ArrowLeft: () => step(-1),
      ArrowRight: () => step(1),
      Home: () => jump(false),
      End: () => jump(true),
      g: () => {
        $('goto-input').focus();
        $('goto-input').select(); // typing replaces the last time
      },
    };
    if (keys[e.key]) {
      e.preventDefault();
      keys[e.key]();
    } else if (e.key === ' ' && !e.repeat && get().info) {
      e.preventDefault();
      if (tag === 'BUTTON') e.target.blur(); // else its keyup would click it too
      setPlaying(!get().playing);
    }
  });
}

/** `<recording>_t<from>_dt<length>_<mode>`: what a saved window is, from its name alone. */
function downloadName() {
  const s = get();
  const full = s.source?.kind === 'url' ? new URL(s.source.url).pathname : s.source?.file?.name ?? 'recording';
  const base = full.split('/').pop().replace(/\.(h5|hdf5|hdf|he5)$/i, '') || 'recording';
  const safe = base.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80);
  const camera = s.info?.camera ? `_${s.info.camera}` : '';
  return `${safe}${camera}_t${s.t}_dt${s.dt}_${s.mode}`;
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

function say(text, ms) {
  $('copy-status').textContent = text;
  setTimeout(() => { if ($('copy-status').textContent === text) $('copy-status').textContent = ''; }, ms);
}

function wireOutputs() {
  $('copy-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      say('link copied', 2500);
    } catch {
      say('copy failed — the address bar holds the link', 2500);
    }
  });
  $('save-png').addEventListener('click', () => {
    release($('save-png'));
    if (!get().window) return;
    $('frame').toBlob((blob) => {
      if (blob) download(blob, `${downloadName()}.png`);
    }, 'image/png');
  });
  $('save-npz').addEventListener('click', async () => {
    release($('save-npz'));
    const w = get().window;
    if (!w) return;
    const name = `${downloadName()}.npz`.replace(/_[a-z]+\.npz$/, '.npz');
    say('preparing NPZ…', 60000);
    try {
      const bytes = await app.engine.npz(w.from, w.to);
      download(new Blob([bytes], { type: 'application/octet-stream' }), name);
      say(`saved ${name}`, 6000);
    } catch (err) {
      say(`NPZ: ${err.message ?? err}`, 6000);
    }
  });
}

function wireOpen() {
  const fresh = () => ({ t: null, dt: get().dt, mode: get().mode });
  $('open-form').addEventListener('submit', (e) => {
    e.preventDefault();
    release($('url-input'));
    openUrlText($('url-input').value, fresh(), 'push');
  });
  $('file-input').addEventListener('change', () => {
    const file = $('file-input').files[0];
    release($('file-input'));
    if (file) openSource({ kind: 'file', file }, fresh(), 'push');
  });
  // A file dropped anywhere on the page opens like a picked one.
  document.addEventListener('dragover', (e) => {
    if (e.dataTransfer?.types?.includes('Files')) e.preventDefault();
  });
  document.addEventListener('drop', (e) => {
    const file = e.dataTransfer?.files?.[0];
    if (!file) return;
    e.preventDefault();
    openSource({ kind: 'file', file }, fresh(), 'push');
  });
}

export function wireControls() {
  wireSelects();
  wireGoTo();
  wireKeys();
  wireOutputs();
  wireOpen();
  $('play').addEventListener('click', () => {
    release($('play')); // so that space is the page's play/pause key, not a second click
    setPlaying(!get().playing);
  });
  $('prev').addEventListener('click', () => step(-1));
  $('next').addEventListener('click', () => step(1));
  $('home').addEventListener('click', () => jump(false));
  $('end').addEventListener('click', () => jump(true));
}
