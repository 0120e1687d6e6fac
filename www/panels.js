// The page drawn from the store: the toolbar's values and what is enabled, the time label,
// the error and notice lines, the Recording, Window and Network panels. Nothing here changes
// the state; `wirePanels` subscribes `render` to it.

import { app, $ } from './app.js';
import { modeHas } from './modes.js';
import { formatBytes, formatCount, formatDuration, formatSeconds } from './params.js';
import { canStep } from './session.js';
import { get, subscribe } from './store.js';

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

function renderInfo(info) {
  const body = $('datasets').tBodies[0];
  body.replaceChildren();
  if (!info) {
    fillList($('rec-panel'), []);
    return;
  }
  const rows = [['source', info.source], ['layout', info.layout], ['events', formatCount(info.events)]];
  if (info.t_first !== null && info.t_last !== null) {
    rows.push(['duration', formatSeconds(info.t_last - info.t_first)]);
    rows.push(['t', `${info.t_first} … ${info.t_last} µs`]);
  }
  rows.push(['t_offset', `${info.t_offset} µs`]);
  // Without events and without a size in the file, a sensor size would be invented.
  const sized = info.events > 0 || info.layout !== 'generic';
  rows.push(['resolution', sized ? `${info.width} × ${info.height}` : '— (no events to tell)']);
  if (info.cameras && info.cameras.length) rows.push(['cameras', info.cameras.join(', ')]);
  rows.push(['time index', info.paths.ms_index ?? 'none (search of t)']);
  fillList($('rec-panel'), rows);
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

function renderWindow(w, info) {
  if (!w) {
    fillList($('win-panel'), []);
    return;
  }
  const off = info?.t_offset ?? 0;
  const rows = [
    ['window', `[${w.from}, ${w.to}) µs`],
    ['absolute', `[${w.from + off}, ${w.to + off}) µs`],
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

export function renderNet() {
  if (!app.engine) return;
  const n = JSON.parse(app.engine.net());
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
export function selectDuration(select, us) {
  if (![...select.options].some((o) => Number(o.value) === us)) {
    const o = document.createElement('option');
    o.value = String(us);
    o.textContent = formatDuration(us);
    select.append(o);
  }
  select.value = String(us);
}

function renderCameras(info) {
  const cameras = info?.cameras ?? [];
  const select = $('camera-select');
  $('camera-pick').hidden = cameras.length < 2;
  if (cameras.length < 2) return;
  const names = [...select.options].map((o) => o.value).join('\n');
  if (names !== cameras.join('\n')) {
    select.replaceChildren(...cameras.map((c) => {
      const o = document.createElement('option');
      o.value = c;
      o.textContent = c;
      return o;
    }));
  }
  select.value = info.camera ?? cameras[0];
}

/** The time label: stored µs, time since the first event and absolute µs. */
function timeLabel(s) {
  const { info, t } = s;
  if (!info || t === null || info.t_first === null) return '';
  return `t = ${t} µs · ${formatSeconds(t - info.t_first)} in · absolute ${t + (info.t_offset ?? 0)} µs`;
}

function renderToolbar(s) {
  const shown = s.status === 'ready' || (s.status === 'loading' && s.window !== null);
  const hasEvents = Boolean(s.info && s.info.events > 0);
  $('t-label').textContent = timeLabel(s);
  selectDuration($('dt-select'), s.dt);
  $('mode-select').value = s.mode;
  $('palette-select').value = s.palette;
  selectDuration($('tau-select'), s.tau);
  // Controls that mean nothing in the mode are hidden in it.
  $('tau-pick').hidden = !modeHas(s.mode, 'tau');
  $('palette-pick').hidden = !modeHas(s.mode, 'palette');
  $('zoom-pick').hidden = !modeHas(s.mode, 'zoom');
  renderCameras(s.info);
  const isFile = s.source?.kind === 'file';
  // After a failure, nothing acts on a picture that is not there.
  const usable = shown && hasEvents && s.status !== 'error';
  $('play').disabled = !usable && !s.playing;
  $('save-png').disabled = !usable;
  $('save-npz').disabled = !usable;
  $('copy-link').disabled = isFile || !usable;
  $('copy-link').title = isFile ? 'a local file cannot be linked' : 'copy a link to this window';
  $('prev').disabled = !hasEvents || !canStep(-1);
  $('next').disabled = !hasEvents || !canStep(1);
  $('home').disabled = !hasEvents;
  $('end').disabled = !hasEvents;
  $('goto-input').disabled = !hasEvents;
  $('play').textContent = s.playing ? '❚❚' : '▶';
  $('play').setAttribute('aria-pressed', String(s.playing));
  $('play-rate').textContent = playText(s);
  $('speed-select').value = String(s.speed);
}

/** What playing achieves: effective speed and windows shown of those due. */
function playText(s) {
  const p = s.play;
  if (!p || !p.due) return '';
  const ok = p.shown >= p.due;
  return `${ok ? '' : 'behind: '}${trimSpeed(p.effective)}× of ${trimSpeed(s.speed)}× · ${p.shown}/${p.due} windows`;
}

const trimSpeed = (v) => String(Number(v.toPrecision(2)));

function renderStatus(s) {
  const box = $('error');
  box.textContent = s.error ?? '';
  box.hidden = !s.error;
  const lines = [...s.notices];
  if (s.note) lines.push(s.note);
  if (s.status === 'empty') lines.push('this recording has no events — there is nothing to draw');
  $('notice').textContent = lines.join('; ');
  $('notice').hidden = lines.length === 0;
  // No empty black frame: the stage shows only with a picture (or one being read).
  const failed = s.status === 'error' || s.status === 'empty' || (s.status === 'cancelled' && !s.window);
  $('viewer').classList.toggle('failed', failed);
}

const WATCH = {
  info: ['info'],
  window: ['window', 'info'],
};

function render(s, changed) {
  const any = (keys) => keys.some((k) => changed.includes(k));
  if (any(WATCH.info)) renderInfo(s.info);
  if (any(WATCH.window)) renderWindow(s.window, s.info);
  if (any(['status', 'window'])) renderNet();
  renderToolbar(s);
  renderStatus(s);
}

export function wirePanels() {
  subscribe(render);
  const s = get();
  render(s, Object.keys(s));
}
