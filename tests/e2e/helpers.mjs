// Shared setup of the page tests: the site server, the browser, the h5py oracle.
//
// The page is served by `target/debug/strobe serve --site <repo>` on STROBE_E2E_PORT (8770);
// the data comes from a different origin, the fixture server scripts/test.sh runs
// (STROBE_TEST_DATA_URL, default http://127.0.0.1:8765/data/).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { after as afterAll, before } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DATA_URL = process.env.STROBE_TEST_DATA_URL ?? 'http://127.0.0.1:8765/data/';
export const SITE_PORT = Number(process.env.STROBE_E2E_PORT ?? 8770);
export const FIXTURES = join(ROOT, 'tests', 'fixtures', 'out');
export const ARTIFACTS = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'e2e');

const require = createRequire(join(ROOT, '.tools', 'package.json'));

/** The manifest h5py wrote next to the fixtures. */
export function manifest() {
  return JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8'));
}

export function fixture(id) {
  const fx = manifest().fixtures.find((f) => f.id === id);
  if (!fx) throw new Error(`fixture ${id} is not in the manifest`);
  return fx;
}

export function manifestWindow(id, label) {
  const w = fixture(id).windows.find((x) => x.label === label);
  if (!w) throw new Error(`window ${label} of ${id} is not in the manifest`);
  return w;
}

/** The digest fields `strobe window --json` and `window.strobe.window` share. */
export const DIGEST_KEYS = ['from', 'to', 'events', 'first_index', 'sum_x', 'sum_y', 'sum_t',
  'sum_p', 'positive'];

export function digestOf(w) {
  return Object.fromEntries(DIGEST_KEYS.map((k) => [k, w[k]]));
}

async function answers(url) {
  try {
    const r = await fetch(url);
    return r.status;
  } catch {
    return 0;
  }
}

/** Starts the site server (once per test file) and returns its origin and a stop function. */
export async function startSite() {
  const origin = `http://127.0.0.1:${SITE_PORT}`;
  if (await answers(`${origin}/`)) {
    throw new Error(`something already listens on ${origin} — stop it or set STROBE_E2E_PORT`);
  }
  const bin = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'strobe');
  if (!existsSync(bin)) throw new Error(`${bin} is missing — run cargo build first`);
  if (!existsSync(join(ROOT, 'www', 'pkg', 'strobe_bg.wasm'))) {
    throw new Error('www/pkg/ is missing — run scripts/build-site.sh first');
  }
  const child = spawn(bin, ['serve', '--site', ROOT, '--port', String(SITE_PORT),
    '--bind', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 200; i += 1) {
    if (child.exitCode !== null) throw new Error(`strobe serve exited: ${log}`);
    if ((await answers(`${origin}/index.html`)) === 200) {
      return {
        origin,
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', done);
          child.kill('SIGTERM');
        }),
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  throw new Error(`strobe serve did not answer on ${origin}: ${log}`);
}

export async function launchBrowser() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: process.env.STROBE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/**
 * A new page that records console errors, page errors and CSP violations
 * (`page.problems`).
 */
export async function newPage(browser) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console: ${m.text()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return page;
}

/** `index.html?url=…&t=…&dt=…&mode=…` on the site. */
export function viewerUrl(origin, { url, t, dt, mode } = {}) {
  const q = new URLSearchParams();
  if (url !== undefined) q.set('url', url);
  if (t !== undefined) q.set('t', String(t));
  if (dt !== undefined) q.set('dt', String(dt));
  if (mode !== undefined) q.set('mode', mode);
  const s = q.toString();
  return `${origin}/index.html${s ? `?${s}` : ''}`;
}

/** Waits until a load finished (ready, error, or the idle landing view); returns the hook. */
export async function settled(page, afterSeq = -1) {
  await page.waitForFunction(
    (seq) => window.strobe && window.strobe.seq > seq
      && ['ready', 'error', 'idle', 'empty'].includes(document.body.dataset.status),
    afterSeq,
    { timeout: 60000 },
  );
  return page.evaluate(() => window.strobe);
}

export async function open(page, url) {
  await page.goto(url);
  return settled(page);
}

/** Runs `action` (a key press, a click…) and waits for the load it starts. */
export async function after(page, action) {
  const seq = await page.evaluate(() => window.strobe.seq);
  await action();
  return settled(page, seq);
}

/**
 * Colour census of the frame canvas, read back through a 2D canvas at its own size:
 * `{width, height, white, blue, red, black, other, pixels}` (`pixels` as a Buffer).
 */
export async function canvasCensus(page) {
  const r = await page.evaluate(() => {
    const src = document.getElementById('frame');
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    const g = c.getContext('2d');
    g.drawImage(src, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const n = { white: 0, blue: 0, red: 0, black: 0, other: 0 };
    for (let i = 0; i < d.length; i += 4) {
      const [r, gr, b] = [d[i], d[i + 1], d[i + 2]];
      if (r === 255 && gr === 255 && b === 255) n.white += 1;
      else if (r === 0 && gr === 0 && b === 255) n.blue += 1;
      else if (r === 255 && gr === 0 && b === 0) n.red += 1;
      else if (r === 0 && gr === 0 && b === 0) n.black += 1;
      else n.other += 1;
    }
    let bin = '';
    for (let i = 0; i < d.length; i += 1) bin += String.fromCharCode(d[i]);
    return { width: c.width, height: c.height, ...n, pixels: btoa(bin) };
  });
  return { ...r, pixels: Buffer.from(r.pixels, 'base64') };
}

/**
 * Registers the suite's `before`/`after` hooks: the page server and one browser for all its
 * tests. The returned object holds `site` and `browser` once the hooks have run.
 */
export function siteAndBrowser() {
  const ctx = { site: null, browser: null };
  before(async () => {
    ctx.site = await startSite();
    ctx.browser = await launchBrowser();
  });
  afterAll(async () => {
    await ctx.browser?.close();
    await ctx.site?.stop();
  });
  return ctx;
}

/**
 * Opens each DSEC fixture by link, with `t` (its 50 ms middle window) and without (from the
 * first event), and checks the window against h5py's and the rounds it cost (2 … 4).
 */
export async function checkFirstPictures(ctx, ids) {
  for (const id of ids) {
    const fx = fixture(id);
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    for (const t of [w.from, undefined]) {
      const page = await newPage(ctx.browser);
      const hook = await open(page, viewerUrl(ctx.site.origin,
        { url: DATA_URL + fx.file, t, dt: w.to - w.from }));
      assert.equal(hook.status, 'ready', hook.error);
      if (t === undefined) assert.equal(hook.window.from, fx.info.t_first, 'starts at the first event');
      else assert.deepEqual(digestOf(hook.window), digestOf(w));
      assert.ok(hook.net.rounds >= 2 && hook.net.rounds <= 4, `${id} t=${t}: ${hook.net.rounds} rounds`);
      assert.deepEqual(page.problems, [], 'console/page errors');
      await page.close();
    }
  }
}

