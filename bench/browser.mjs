// The browser half of the benchmark: the viewer page in headless Chromium (engine in its Web
// Worker, wasm) on the big files, served without added latency. Prints one JSON object.
//
//   node bench/browser.mjs --site ORIGIN --data URL_BASE --spec SPEC.json
//
// SPEC: {files: [{file, one_s: [from, to], busy: [from, to], seek: [[from, to], [from, to]]}]}
// With --seek-data URL_BASE (the files behind a latency server): a warm seek from the first
// `seek` window to the second, in one page.
// With --parts LIST (comma-separated of one_s, render, seek, play, scrub, workers; default all
// but workers): only those measurements (e.g. `--parts play` for the playback table alone).
// `workers` (bench/page_workers.py runs it): the 1 s window with 0, 1 and 2 decode workers
// (`workers=N`), cold and cached, in alternating order for --rounds N (default 2), with each
// one's digest, the engine's wasm memory and each decode worker's; a spec entry's
// `one_s_digest` (h5py's) is checked against every digest.
// Per file: a cold 1 s window, the same window again from the engine's cache (events/s of the
// whole window, and of reading + decoding + digest alone from the engine's phase timers), frame
// time per render mode for `busy` (a ~1 M-event window), real-time playback over the latency
// server (with --seek-data), and a scrub of the
// whole recording in 50 ms windows (events seen, wall time, wasm memory after it).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, '.tools', 'package.json'));
const { chromium } = require('playwright-core');

const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`bench/browser.mjs: --${name} is required`);
  return process.argv[i + 1];
};
const site = arg('site');
const data = arg('data').replace(/\/$/, '');
const spec = JSON.parse(readFileSync(arg('spec'), 'utf8'));
// The same files behind the benchmark's latency server, for the warm seek (optional).
const seekData = process.argv.includes('--seek-data') ? arg('seek-data').replace(/\/$/, '') : null;
const log = (m) => process.stderr.write(`browser: ${m}\n`);
const PARTS = ['one_s', 'render', 'seek', 'play', 'scrub', 'workers'];
const DEFAULT_PARTS = PARTS.filter((p) => p !== 'workers');
const parts = new Set(process.argv.includes('--parts') ? arg('parts').split(',') : DEFAULT_PARTS);
for (const p of parts) if (!PARTS.includes(p)) throw new Error(`bench/browser.mjs: --parts: no part ${p} (${PARTS.join(', ')})`);
/** Decode worker counts the `workers` part compares, and its rounds (orders alternate). */
const WORKER_COUNTS = [0, 1, 2];
const ROUNDS = process.argv.includes('--rounds') ? Number(arg('rounds')) : 2;
const DIGEST = ['from', 'to', 'events', 'first_index', 'sum_x', 'sum_y', 'sum_t', 'sum_p', 'positive'];
const digestOf = (w) => Object.fromEntries(DIGEST.map((k) => [k, w?.[k]]));
/** Playback speeds measured (2× is beyond the page's 1×: where it stops keeping up). */
const PLAY_SPEEDS = [0.2, 0.5, 1, 2];
/** Wall time each playback measurement runs, ms. */
const PLAY_MS = 4000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({
  executablePath: process.env.STROBE_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});

async function settled(page, afterSeq = -1) {
  await page.waitForFunction((seq) => window.strobe && window.strobe.seq > seq
    && ['ready', 'error'].includes(document.body.dataset.status), afterSeq, { timeout: 600000 });
  const hook = await page.evaluate(() => window.strobe);
  if (hook.status !== 'ready') throw new Error(`page: ${hook.error}`);
  return hook;
}

const out = { chromium: browser.version(), files: [] };
for (const f of spec.files) {
  log(f.file);
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const url = `${data}/${f.file}`;
  const [a, b] = f.one_s;
  let one = null;
  if (parts.has('one_s')) {
    const t0 = Date.now();
    await page.goto(`${site}/index.html?url=${encodeURIComponent(url)}&t=${a}&dt=${b - a}`);
    const hook = await settled(page);
    const cold = { events: hook.window.events, window_ms: hook.window_ms, page_ms: Date.now() - t0,
      net: hook.net, digest: hook.window };
    const warm = [];
    for (let i = 0; i < 5; i += 1) warm.push(await page.evaluate(() => window.strobeBench.reload()));
    const warmMs = median(warm.map((w) => w.window_ms));
    // The engine's phase timers: reading + decoding + digest (what h5py does), without the frame.
    const decodeMs = median(warm.map((w) => w.timing.read_ms + w.timing.digest_ms));
    log(`  1 s window: ${cold.events} events, cold ${cold.window_ms.toFixed(0)} ms, cached ${warmMs.toFixed(0)} ms`);
    one = { from: a, to: b, cold, cached_window_ms: warmMs, cached_runs_ms: warm.map((w) => w.window_ms),
      cached_timing: warm.map((w) => w.timing), decode_ms: decodeMs,
      events_per_s: cold.events / (warmMs / 1000), decode_events_per_s: cold.events / (decodeMs / 1000) };
  }

  let render = null;
  if (parts.has('render')) {
    const [c, d] = f.busy;
    await page.goto(`${site}/index.html?url=${encodeURIComponent(url)}&t=${c}&dt=${d - c}`);
    const hook = await settled(page);
    render = { events: hook.window.events, modes: {} };
    for (const mode of ['polarity', 'heatmap', 'timesurface', 'cloud']) {
      const times = await page.evaluate((m) => window.strobeBench.frameMs(m, 15), mode);
      const draws = await page.evaluate((m) => window.strobeBench.drawMs(m, 15), mode);
      render.modes[mode] = { median_ms: median(times), max_ms: Math.max(...times),
        draw_median_ms: median(draws) };
    }
    log(`  render (${render.events} events): ${Object.entries(render.modes).map(([m, r]) => `${m} ${r.median_ms.toFixed(1)} ms`).join(', ')}`);
  }

  let seek = null;
  if (parts.has('seek') && seekData && f.seek) {
    const [[s0, s1], [e0, e1]] = f.seek;
    await page.goto(`${site}/index.html?url=${encodeURIComponent(`${seekData}/${f.file}`)}&t=${s0}&dt=${s1 - s0}`);
    const first = await settled(page);
    seek = { cold: { rounds: first.net.rounds, requests: first.net.requests, bytes: first.net.bytes },
      ...(await page.evaluate(([a0, a1]) => window.strobeBench.seek(a0, a1 - a0), [e0, e1])) };
    log(`  warm seek: ${seek.rounds} rounds, ${seek.requests} requests, ${seek.ms.toFixed(0)} ms`);
  }

  // Real-time playback over the latency server (every request 50 ms late): 50 ms windows at
  // each speed for PLAY_MS of wall time, with the page's prefetch and without it (same run):
  // windows shown of those due, skipped, effective speed.
  let play = null;
  if (parts.has('play') && seekData) {
    play = [];
    await page.goto(`${site}/index.html?url=${encodeURIComponent(`${seekData}/${f.file}`)}&t=${a}&dt=50000`);
    await settled(page);
    for (const ahead of [null, 0]) {
      for (const speed of PLAY_SPEEDS) {
        const r = await page.evaluate(([t, sp, n, ms]) => window.strobeBench.play(t, 50000, sp, ms, n),
          [a, speed, ahead, PLAY_MS]);
        play.push({ ahead, ...r });
        log(`  play ${speed}× ahead ${ahead}: ${r.shown}/${r.due} windows shown, ${r.skipped} skipped, effective ${r.effective.toFixed(2)}×`);
      }
    }
  }

  let scrub = null;
  if (parts.has('scrub')) {
    await page.goto(`${site}/index.html?url=${encodeURIComponent(url)}&dt=50000`);
    await settled(page);
    scrub = await page.evaluate(() => window.strobeBench.scrub(50000));
    log(`  scrub: ${scrub.windows} windows, ${scrub.events} events in ${(scrub.wall_ms / 1000).toFixed(1)} s, wasm memory ${(scrub.memory / 1e6).toFixed(1)} MB`);
  }
  // The 1 s window with 0, 1, 2 decode workers: a new page each (cold: the engine's cache
  // empty), then the same window 5 times from its cache.
  let workers = null;
  if (parts.has('workers')) {
    workers = { from: a, to: b, runs: [], digests_agree: true };
    for (let round = 0; round < ROUNDS; round += 1) {
      const counts = round % 2 === 0 ? WORKER_COUNTS : [...WORKER_COUNTS].reverse();
      for (const n of counts) {
        const p = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
        const t0 = Date.now();
        await p.goto(`${site}/index.html?url=${encodeURIComponent(url)}&t=${a}&dt=${b - a}&workers=${n}`);
        const hook = await settled(p);
        const pageMs = Date.now() - t0;
        const warm = [];
        for (let i = 0; i < 5; i += 1) warm.push(await p.evaluate(() => window.strobeBench.reload()));
        const stats = await p.evaluate(() => window.strobeBench.decoders());
        const after = await p.evaluate(() => window.strobe);
        const digest = digestOf(hook.window);
        const ref = f.one_s_digest ?? workers.runs[0]?.digest ?? digest;
        const agrees = DIGEST.every((k) => digest[k] === ref[k])
          && warm.every((w) => w.events === digest.events);
        if (!agrees) workers.digests_agree = false;
        const run = { workers: n, round, events: hook.window.events, digest, agrees,
          cold_window_ms: hook.window_ms, cold_page_ms: pageMs,
          cached_window_ms: median(warm.map((w) => w.window_ms)), cached_runs_ms: warm.map((w) => w.window_ms),
          engine_memory: after.memory, worker_memory: stats.memory, decoded_by_workers: stats.decoded,
          declined: stats.declined, cached_timing: warm.map((w) => w.timing),
          pool: { busy_ms: stats.busy_ms, wait_ms: stats.wait_ms, shares: stats.shares } };
        workers.runs.push(run);
        log(`  workers=${n} (round ${round}): ${run.events} events, cold ${run.cold_window_ms.toFixed(0)} ms, cached ${run.cached_window_ms.toFixed(0)} ms, engine ${(run.engine_memory / 1e6).toFixed(1)} MB, workers ${stats.memory.map((m) => (m / 1e6).toFixed(1)).join('/') || '-'} MB${agrees ? '' : ' — DIGEST DIFFERS'}`);
        const phase = (k) => median(warm.map((w) => w.timing?.[k] ?? NaN)).toFixed(0);
        log(`    cached phases (median ms): read ${phase('read_ms')}, frame ${phase('frame_ms')}, digest ${phase('digest_ms')}; pool ${JSON.stringify(run.pool)}`);
        await p.close();
      }
    }
  }
  out.files.push({ file: f.file, one_s: one, render, seek, play, scrub, workers });
  await page.close();
}
await browser.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
