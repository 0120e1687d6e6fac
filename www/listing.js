// `index.html?list=<URL>`: a listing of recordings (a JSON manifest, an S3 bucket listing or an
// nginx autoindex — parsed in Rust, src/listing.rs) shown as a list beside the viewer. Each
// recording's events and duration fill in as it opens (metadata only, a few at a time); a
// click switches recordings keeping t, the window length and the mode. The link holds `list=`
// and the chosen recording's `url=`. Every string from the listing is inserted as text.

import { app, $ } from './app.js';
import { corsDiagnosis, openSource } from './session.js';
import { formatCount, formatDuration } from './params.js';
import { get, subscribe, update } from './store.js';

/** Most bytes of listing read: the same cap as MAX_LISTING_BYTES in src/listing.rs, whose
 * parser refuses a longer text (the page stops fetching one byte past it). */
const MAX_LISTING_BYTES = 4 << 20;
/** Recordings whose summaries are read at once: enough to hide latency, polite to a host. */
const OPEN_AT_ONCE = 4;

/** The listing shown: `{url, entries: [{url, name, status, summary, error}], …}` or null. */
let shown = null;

/** The listing's URL and what was chosen, for links. */
export function listUrl() {
  return shown?.url ?? null;
}

/**
 * Shows the listing at `url` (fetched once per URL) and opens `chosen` (a recording URL), or
 * its first recording. `view` is the window to show; `how` the history entry.
 */
export async function followList(url, chosen, view, how) {
  let absolute;
  try {
    absolute = new URL(url, location.href).href;
  } catch {
    listFailed(`list=${url} is not a URL`);
    return;
  }
  if (!/^https?:$/.test(new URL(absolute).protocol)) {
    listFailed(`list=${url}: only http: and https: listings can be opened`);
    return;
  }
  if (shown?.url !== absolute) {
    shown = { url: absolute, entries: [], loading: true };
    update({ list: absolute });
    draw();
    let listing;
    try {
      const { base, wrap } = throughRelay(absolute);
      listing = JSON.parse(await app.engine.parse_listing(await fetchCapped(absolute), base));
      listing.entries = listing.entries.map((e) => ({ ...e, url: wrap(e.url) }));
    } catch (err) {
      if (shown?.url !== absolute) return;
      let message = err?.message ?? String(err);
      if (/Failed to fetch|NetworkError|cross-origin/i.test(message)) {
        message = (await corsDiagnosis(absolute, 'list')) ?? `could not fetch the listing ${absolute}: ${message}`;
      }
      shown = null;
      listFailed(message);
      return;
    }
    if (shown?.url !== absolute) return;
    shown = {
      url: absolute,
      form: listing.form,
      skippedSchemes: listing.skipped_schemes,
      skippedOther: listing.skipped_other,
      truncated: listing.truncated,
      entries: listing.entries.map((e) => ({ ...e, status: 'pending', summary: null, error: null })),
    };
    draw();
    summarise(shown);
  }
  update({ list: absolute });
  const target = chosen ?? shown.entries[0]?.url ?? null;
  if (target === null) {
    listFailed(`the listing ${absolute} holds no recordings`);
    return;
  }
  draw();
  openSource({ kind: 'url', url: target }, view, how);
}

/** Leaves listing mode (a link without `list=`). */
export function closeList() {
  if (!shown && get().list === null) return;
  shown = null;
  update({ list: null });
  draw();
}

function listFailed(message) {
  update({ list: null, error: message, status: 'error' });
  draw();
}

/**
 * A listing read through `strobe serve --relay` (`…/relay?url=<listing>`): its entries resolve
 * against the listing's own URL and are read through the same relay (the host sends no CORS
 * for them either). Any other listing: as it is.
 */
function throughRelay(absolute) {
  const u = new URL(absolute);
  const inner = u.pathname === '/relay' ? u.searchParams.get('url') : null;
  if (!inner) return { base: absolute, wrap: (url) => url };
  return { base: inner, wrap: (url) => `${u.origin}/relay?url=${encodeURIComponent(url)}` };
}

/** The listing's text, refusing to read more than MAX_LISTING_BYTES + 1 bytes of it. */
async function fetchCapped(url) {
  const resp = await fetch(url, { cache: 'no-cache' });
  if (!resp.ok) throw new Error(`the listing ${url} answered HTTP ${resp.status}`);
  const reader = resp.body.getReader();
  const parts = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
    if (total > MAX_LISTING_BYTES) {
      reader.cancel().catch(() => {});
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(total, MAX_LISTING_BYTES + 1));
  let at = 0;
  for (const p of parts) {
    const take = Math.min(p.length, bytes.length - at);
    bytes.set(p.subarray(0, take), at);
    at += take;
  }
  return new TextDecoder().decode(bytes);
}

/** Reads every entry's summary, OPEN_AT_ONCE at a time, redrawing as each arrives. */
function summarise(listing) {
  let next = 0;
  const worker = async () => {
    while (next < listing.entries.length && shown === listing) {
      const entry = listing.entries[next];
      next += 1;
      try {
        entry.summary = JSON.parse(await app.engine.summary_url(entry.url));
        entry.status = 'ok';
      } catch (err) {
        entry.status = 'failed';
        entry.error = err?.message ?? String(err);
      }
      if (shown === listing) draw();
    }
  };
  for (let i = 0; i < OPEN_AT_ONCE; i += 1) worker();
}

/** Switches to another recording of the listing, keeping t, window length and mode. */
function choose(entry) {
  const s = get();
  openSource({ kind: 'url', url: entry.url }, {
    t: s.t, dt: s.dt, mode: s.mode, tForm: 'stored', camera: null, columns: null,
  }, 'push');
}

function draw() {
  const panel = $('list-panel');
  if (!panel) return;
  panel.hidden = !shown;
  const list = $('list-entries');
  list.replaceChildren();
  if (!shown) return;
  const current = get().source?.kind === 'url' ? get().source.url : null;
  const notes = [];
  if (shown.loading) notes.push(`reading the listing ${shown.url}…`);
  else notes.push(`${shown.entries.length} recordings`);
  if (shown.skippedSchemes) notes.push(`${shown.skippedSchemes} entries skipped: not http(s) URLs`);
  if (shown.skippedOther) notes.push(`${shown.skippedOther} other files or directories left out`);
  if (shown.truncated) notes.push('the bucket listing is truncated: more keys exist than listed');
  const failed = shown.entries.filter((e) => e.status === 'failed').length;
  if (failed) notes.push(`${failed} failed to open`);
  $('list-note').textContent = notes.join(' · ');
  for (const entry of shown.entries) {
    const li = document.createElement('li');
    li.dataset.url = entry.url;
    li.dataset.status = entry.status;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = entry.name;
    button.title = entry.url;
    if (entry.url === current) button.setAttribute('aria-current', 'true');
    button.addEventListener('click', () => choose(entry));
    const meta = document.createElement('span');
    meta.className = 'list-meta mono';
    if (entry.status === 'ok') {
      const s = entry.summary;
      meta.textContent = `${formatCount(s.events)} events · ${formatDuration(Math.round(s.duration_s * 1e6))}`;
    } else if (entry.status === 'failed') {
      meta.textContent = `error: ${entry.error}`;
      meta.classList.add('list-error');
    } else {
      meta.textContent = 'opening…';
    }
    li.append(button, ' ', meta);
    list.append(li);
  }
}

/** Redraws the list when the open recording changes (its mark follows). */
export function wireList() {
  subscribe((s, changed) => {
    if (changed.includes('source') && shown) draw();
  });
}

/** Whether the listing named by a link's `list=` is the one shown. */
export function isShown(listParam) {
  try {
    return shown !== null && !shown.loading && shown.url === new URL(listParam, location.href).href;
  } catch {
    return false;
  }
}
