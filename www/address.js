// The address bar as the page's memory: every view is a link (`setAddress`), and a link —
// pasted, reloaded, or reached by Back/Forward — shows its view (`followAddress`).

import { app, $ } from './app.js';
import { applyView } from './frame-view.js';
import { buildQuery, checkDatasetUrl, formatTimeIn, parseExtras, parseParams } from './params.js';
import { closeList, followList, isShown } from './listing.js';
import { loadWindow, openSource, openUrlText, showViewer } from './session.js';
import { begin, get, update } from './store.js';

/** Writes the state's view into the address: a new history entry (`push`) or in place. */
export function setAddress(how) {
  if (how === 'none') return;
  const s = get();
  const url = s.source?.kind === 'url' ? s.source.url : null;
  const t = s.t === null ? null : formatTimeIn(s.tForm, s.t, s.info);
  const query = buildQuery({
    list: s.list, url, t, dt: s.dt, mode: s.mode, camera: s.camera, palette: s.palette,
    tau: s.tau, view: s.view, orbit: s.orbit, speed: s.speed, columns: s.columns,
  });
  if (query === location.search) return;
  const entry = { t: s.t, dt: s.dt, mode: s.mode };
  if (how === 'push') history.pushState(entry, '', query);
  else history.replaceState(entry, '', query);
}

let addressTimer = 0;

/** Updates the address shortly after the last of a burst of changes (zoom, pan, orbit). */
export function queueAddress() {
  clearTimeout(addressTimer);
  addressTimer = setTimeout(() => setAddress('replace'), 120);
}

/** The form `t=` was written in: stored µs, `abs:` or time since the start. */
function formOf(params) {
  if (!params.tSpec) return 'stored';
  return params.tSpec.startsWith('abs:') ? 'abs' : 'start';
}

/** Shows what the address says: a recording's window, or the landing view. */
export function followAddress(how) {
  const params = parseParams(location.search);
  const extras = parseExtras(location.search);
  update({
    notices: [...params.errors, ...extras.errors],
    palette: extras.palette,
    tau: extras.tau,
    view: extras.view,
    orbit: extras.orbit,
    speed: extras.speed,
    playing: false,
  });
  applyView();
  const view = {
    t: params.t, tSpec: params.tSpec, tForm: formOf(params), dt: params.dt, mode: params.mode,
    camera: params.camera, columns: params.columns,
  };
  const s = get();
  // A listing: fetched and shown once; its first recording when no `url=` is chosen.
  if (params.list !== null && (!isShown(params.list) || params.url === null)) {
    const chosen = params.url === null ? null : checkDatasetUrl(params.url, location.href).url;
    followList(params.list, chosen ?? null, view, how);
    return;
  }
  if (params.list === null) closeList();
  if (params.url === null) {
    if (s.source?.kind === 'file' && s.info) {
      // Back/forward within a local file's windows (and cameras).
      if (view.camera !== s.camera) {
        openSource(s.source, view, 'none');
        return;
      }
      update({ mode: view.mode });
      loadWindow(view.t ?? s.info.t_first ?? 0, view.dt, 'none');
      return;
    }
    begin();
    app.engine.cancel();
    // A link of a local file's view has no url: the file is not here any more.
    const wasFile = new URLSearchParams(location.search).has('dt');
    update({
      source: null, info: null, window: null, error: null, status: 'idle',
      notices: wasFile ? [...get().notices, 'this view was of a local file: pick the file again '
        + '(or drop it on the page) to see it'] : get().notices,
    });
    showViewer(false);
    return;
  }
  const same = s.source?.kind === 'url' && s.info
    && checkDatasetUrl(params.url, location.href).url === s.source.url
    && params.camera === s.camera
    && JSON.stringify(params.columns) === JSON.stringify(s.columns);
  if (same && !params.tSpec) {
    update({ mode: view.mode, tForm: 'stored' });
    loadWindow(view.t ?? s.info.t_first ?? 0, view.dt, 'none');
  } else if (same) {
    update({ mode: view.mode, tForm: view.tForm });
    app.engine.resolve_time(params.tSpec)
      .then((text) => loadWindow(JSON.parse(text).t, view.dt, 'none'))
      .catch(() => loadWindow(s.info.t_first ?? 0, view.dt, 'none'));
  } else {
    $('url-input').value = params.url;
    openUrlText(params.url, view, how);
  }
}
