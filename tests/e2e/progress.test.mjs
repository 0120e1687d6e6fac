// Slow loads: after 300 ms a progress line (events read / expected from the time index) and
// a Cancel button; Cancel stops the load — the server sees no new request after it — and
// leaves the page usable, with a message, no error.
//
// The data comes through a small proxy started here: it forwards range requests to the
// fixture server, adds CORS headers, can delay each response, and logs every request it
// receives (so the counts are the server's, not the page's own).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after as afterAll, before, describe, test } from 'node:test';

import {
  DATA_URL, FIXTURES, ROOT, after, fixture, manifestWindow, newPage, open, viewerUrl,
  siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();
const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

const proxy = { server: null, url: null, delay: 0, log: [] };

before(async () => {
  proxy.server = createServer(async (req, res) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
      'access-control-expose-headers': 'Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    proxy.log.push({ at: performance.now(), range: req.headers.range ?? null });
    if (proxy.delay) await sleep(proxy.delay);
    try {
      const up = await fetch(DATA_URL + req.url.slice(1), {
        method: req.method, headers: req.headers.range ? { range: req.headers.range } : {},
      });
      const headers = { ...cors };
      for (const k of ['content-range', 'content-length', 'etag', 'accept-ranges', 'last-modified']) {
        const v = up.headers.get(k);
        if (v) headers[k] = v;
      }
      const body = Buffer.from(await up.arrayBuffer());
      res.writeHead(up.status, headers);
      res.end(body);
    } catch {
      res.destroy();
    }
  });
  await new Promise((r) => { proxy.server.listen(0, '127.0.0.1', r); });
  proxy.url = `http://127.0.0.1:${proxy.server.address().port}/`;
});
afterAll(() => proxy.server?.close());

/** Events with from <= t < to, and those of the whole milliseconds around it, by h5py. */
function h5pyCounts(fx, from, to) {
  const r = spawnSync(join(ROOT, '.venv', 'bin', 'python'), ['-c', `
import sys, json, h5py, hdf5plugin, numpy as np
f = h5py.File(sys.argv[1], 'r'); t = f[sys.argv[2]][:].astype(np.int64)
a, b = int(sys.argv[3]), int(sys.argv[4])
n = lambda lo, hi: int(np.searchsorted(t, hi, 'left') - np.searchsorted(t, lo, 'left'))
print(json.dumps({'exact': n(a, b), 'ms': n(a // 1000 * 1000, -(-b // 1000) * 1000)}))
`, join(FIXTURES, fx.file), fx.paths.t, String(from), String(to)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('slow loads', () => {
  test('progress shows no sooner than 300 ms with the time index\'s count; Cancel stops the requests', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin, {
      url: proxy.url + fx.file, t: w.from, dt: w.to - w.from,
    }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(await page.locator('#load-line').isVisible(), false);

    // When the window is asked for (the select's change, before the page acts on it) and when
    // the progress line appears, by the page's clock.
    await page.evaluate(() => {
      window.__times = {};
      document.addEventListener('change', () => { window.__times.asked ??= performance.now(); },
        { capture: true });
      new MutationObserver(() => {
        if (!document.getElementById('load-line').hidden) window.__times.shown ??= performance.now();
      }).observe(document.body, { attributes: true, subtree: true, attributeFilter: ['hidden'] });
    });
    const dt = 10000000;
    // h5py's counts first: the page's load must still be running when Cancel is clicked, and a
    // window read in one planned round is done one delay after its count shows.
    const counts = h5pyCounts(fx, w.from, w.from + dt);
    // A slow network from here on: every data request waits 1.5 s at the server.
    proxy.delay = 1500;
    await page.selectOption('#dt-select', String(dt));
    await page.locator('#load-line').waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await page.evaluate(() => document.body.dataset.status), 'loading');
    const times = await page.evaluate(() => window.__times);
    assert.ok(times.shown - times.asked >= 300,
      `the progress line waited ${times.shown - times.asked} ms, not the 300 ms it should`);
    await page.waitForFunction(
      () => /of ~[\d\u202f]+ events/.test(document.getElementById('load-text').textContent),
      null, { timeout: 10000 },
    );
    const line = await page.locator('#load-text').textContent();
    const expected = Number(/of ~([\d\u202f]+) events/.exec(line)[1].replace(/\u202f/g, ''));
    // The time index counts whole milliseconds: between h5py's exact count and the count of
    // the milliseconds the window touches.
    assert.ok(expected >= counts.exact && expected <= counts.ms,
      `expected ${expected}; h5py: ${counts.exact} exact, ${counts.ms} by whole ms`);

    const before = proxy.log.length;
    await page.click('#load-cancel');
    const cancelledAt = performance.now();
    hook = await page.evaluate(() => window.strobe);
    assert.equal(hook.status, 'cancelled');
    assert.equal(hook.error, null);
    assert.equal(await page.locator('#load-line').isVisible(), false);
    assert.equal(await page.locator('#error').isVisible(), false);
    assert.match(await page.locator('#progress').textContent(), /cancelled/);
    assert.ok(before > 0);
    // Nothing from the cancelled load comes back later, and it asks the server for nothing new
    // (three of the server's delays later).
    await sleep(3 * proxy.delay);
    assert.equal(await page.evaluate(() => document.body.dataset.status), 'cancelled');
    const late = proxy.log.filter((r) => r.at > cancelledAt + 50);
    assert.deepEqual(late, [], `${late.length} requests reached the server after Cancel`);

    // The page still works: a fast network and a short window load normally.
    proxy.delay = 0;
    hook = await after(page, () => page.selectOption('#dt-select', String(w.to - w.from)));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(await page.locator('#load-line').isVisible(), false);
    assert.deepEqual(await page.evaluate(() => window.__csp ?? []), [], 'CSP violations');
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });
});
