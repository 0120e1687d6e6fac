// Page safety: the page talks to nobody but its own origin and the dataset's (its worker
// included), its range requests skip the HTTP cache, its Content-Security-Policy forbids
// inline script and eval, and strings from a file are shown as text.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  DATA_URL, ROOT, after, fixture, manifestWindow, newPage, open, viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

describe('page safety', () => {
  test('requests go only to the page\'s origin and the dataset\'s, from the page and its worker', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const context = await ctx.browser.newContext();
    const seen = [];
    // Context-level events include requests made by the page's Web Worker.
    context.on('request', (r) => seen.push(r.url()));
    const page = await newPage(context);
    let hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
    assert.equal(hook.status, 'ready', hook.error);
    hook = await after(page, () => page.keyboard.press('ArrowRight'));
    for (const mode of ['heatmap', 'timesurface', 'cloud']) await page.selectOption('#mode-select', mode);
    await page.click('#save-png');
    const allowed = new Set([ctx.site.origin, new URL(DATA_URL).origin]);
    const origins = new Set(seen.filter((u) => /^https?:/.test(u)).map((u) => new URL(u).origin));
    assert.ok(seen.some((u) => u.includes(fx.file)), 'the dataset was fetched (the worker is observed)');
    assert.ok(seen.some((u) => u.endsWith('.wasm')), 'the wasm was fetched');
    for (const o of origins) assert.ok(allowed.has(o), `request to ${o}`);
    const others = seen.filter((u) => !/^(https?:|blob:|data:)/.test(u));
    assert.deepEqual(others, [], 'no other schemes');
    await context.close();
  });

  test('range requests bypass the browser\'s HTTP cache (its per-URL lock would serialize them)', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const context = await ctx.browser.newContext();
    const ranged = [];
    context.on('request', (r) => { if (r.url() === DATA_URL + fx.file) ranged.push(r); });
    const page = await newPage(context);
    const hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.ok(ranged.length >= 3, `${ranged.length} requests for the file`);
    for (const r of ranged) {
      const h = await r.allHeaders();
      assert.match(h.range ?? '', /^bytes=\d+-\d+$/, `one range per request: ${r.method()} ${JSON.stringify(h)}`);
      // The Fetch standard's mark of cache mode "no-store" (or "reload"): the request went to
      // the network, past the HTTP cache.
      assert.equal(h['cache-control'], 'no-cache', JSON.stringify(h));
    }
    await context.close();
  });

  test('index.html has a CSP without inline script or eval, and no inline scripts', async () => {
    const html = readFileSync(join(ROOT, 'index.html'), 'utf8');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html);
    assert.ok(csp, 'a CSP meta tag');
    const policy = csp[1];
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'self'/);
    const tokens = policy.split(/[;\s]+/);
    assert.ok(!tokens.includes("'unsafe-inline'"), policy);
    assert.ok(!tokens.includes("'unsafe-eval'"), policy);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline <script>');
    assert.doesNotMatch(html, /\son[a-z]+="/, 'an inline event handler');
  });
});
