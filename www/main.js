// The viewer page: starts the engine (Rust in a worker, www/pkg/), the renderer and the
// timeline, wires the views to the store, and shows what the address says. Every string that
// comes from a file or a server is inserted as text, never HTML.
//
// Modules: store.js (state, the one supersede token) · modes.js (render modes) · session.js
// (open, load, cancel, failures) · playback.js · address.js (links, history) · frame-view.js
// (drawing, zoom, pan) · listing.js (?list=) · panels.js (the page drawn from the state) · controls.js (toolbar,
// keys) · hook.js (window.strobe) · bench.js (window.strobeBench).

import { app, $ } from './app.js';
import { followAddress } from './address.js';
import { wireBench } from './bench.js';
import { wireControls } from './controls.js';
import { Engine } from './engine.js';
import { fitFrame, wireView } from './frame-view.js';
import { wireHook } from './hook.js';
import { wireList } from './listing.js';
import { wirePanels } from './panels.js';
import { FrameRenderer } from './render.js';
import { cancelLoad, fail, loadWindow } from './session.js';
import { get } from './store.js';
import { Timeline } from './timeline.js';

function main() {
  wireHook();
  try {
    app.engine = new Engine({ workers: new URLSearchParams(window.location.search).get('workers') });
  } catch (err) {
    fail(new Error(`could not start the viewer's engine (www/engine-worker.js): ${err.message ?? err}`));
    return;
  }
  try {
    app.renderer = new FrameRenderer($('frame'));
  } catch (err) {
    fail(err);
    return;
  }
  // A click is one history entry; so is a whole drag (its later seeks replace it).
  app.timeline = new Timeline($('timeline'), (t, how) => {
    const { info, dt } = get();
    if (info) loadWindow(Math.round(t - dt / 2), dt, how);
  }, $('timeline-readout'));
  wirePanels();
  wireList();
  wireControls();
  wireView();
  wireBench();
  $('load-cancel').addEventListener('click', cancelLoad);
  window.addEventListener('popstate', () => followAddress('none'));
  window.addEventListener('resize', fitFrame);
  followAddress('replace');
}

main();
