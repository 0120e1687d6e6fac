// Server faults as the page shows them: each a message that says what to fix (the fixture
// server runs with --faults, so /faults/<spec>/data/<file> is a broken view of a fixture), and
// a server without CORS or Range support (Python's http.server).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after as afterAll, before, describe, test } from 'node:test';

import {
  DATA_URL, FIXTURES, ROOT, digestOf, fixture, manifestWindow, newPage, open, viewerUrl,
  siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();
const FAULTS = DATA_URL.replace(/\/data\/$/, '/faults/');
/** Port for a plain `python -m http.server` (no CORS, no Range). */
const PLAIN_PORT = Number(process.env.STROBE_E2E_PLAIN_PORT ?? 8771);
let plain = null;

before(async () => {
  plain = spawn(join(ROOT, '.venv', 'bin', 'python'), ['-m', 'http.server', String(PLAIN_PORT),
    '--bind', '127.0.0.1', '--directory', FIXTURES], { stdio: 'ignore' });
  for (let i = 0; i < 100; i += 1) {
    try {
      if ((await fetch(`http://127.0.0.1:${PLAIN_PORT}/manifest.json`)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('python -m http.server did not start');
});
afterAll(() => plain?.kill());

async function openError(url) {
  const page = await newPage(ctx.browser);
  const hook = await open(page, viewerUrl(ctx.site.origin, { url, dt: 50000 }));
  const shown = await page.locator('#error').textContent();
  await page.close();
  return { hook, shown };
}

describe('server faults in the page', () => {
  test('a server that ignores Range: a clear message for a big file, a whole read for a small one', async () => {
    const big = fixture('dsec_full_bitshuffle'); // 9.6 MB, over the page's 8 MiB whole-read limit
    let { hook, shown } = await openError(`${FAULTS}ignore-range/data/${big.file}`);
    assert.equal(hook.status, 'error');
    assert.match(shown, /ignores Range/);
    assert.match(shown, /HTTP Range/);
    const small = fixture('vector');
    const w = manifestWindow(small.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    hook = await open(page, viewerUrl(ctx.site.origin,
      { url: `${FAULTS}ignore-range/data/${small.file}`, t: w.from, dt: w.to - w.from }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(digestOf(hook.window), digestOf(w));
    await page.close();
    ({ hook, shown } = await openError(`${FAULTS}status=403/data/${small.file}`));
    assert.match(shown, /HTTP 403/);
  });

  test('gzip-encoded responses and 5xx name the cause', async () => {
    const fx = fixture('vector');
    let { hook, shown } = await openError(`${FAULTS}gzip/data/${fx.file}`);
    assert.equal(hook.status, 'error');
    assert.match(shown, /gzip/);
    ({ hook, shown } = await openError(`${FAULTS}status=503/data/${fx.file}`));
    assert.equal(hook.status, 'error');
    assert.match(shown, /503/);
  });

  test('a server without CORS headers: the message names the headers it must send', async () => {
    const fx = fixture('vector');
    const { hook, shown } = await openError(`http://127.0.0.1:${PLAIN_PORT}/${fx.file}`);
    assert.equal(hook.status, 'error');
    assert.match(shown, /Access-Control-Allow-Origin/);
    assert.match(shown, /Content-Range/);
  });
});
