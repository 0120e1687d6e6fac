// Slow loads: after 300 ms a progress line (events read / expected from the time index) and
// a Cancel button; Cancel stops the load and leaves the page usable, with a message, no error.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DATA_URL, after, fixture, manifestWindow, newPage, open, viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

describe('slow loads', () => {
  test('progress shows after 300 ms with the expected count; Cancel stops cleanly', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin, {
      url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from,
    }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(await page.locator('#load-line').isVisible(), false);

    // A slow network from here on: every data request waits 600 ms.
    const data = new URL(DATA_URL);
    await page.route((u) => u.origin === data.origin, async (route) => {
      await sleep(600);
      await route.continue().catch(() => {});
    });
    await page.selectOption('#dt-select', '10000000');
    await page.locator('#load-line').waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await page.evaluate(() => document.body.dataset.status), 'loading');
    await page.waitForFunction(
      () => /of ~[\d\u202f]+ events/.test(document.getElementById('load-text').textContent),
      null, { timeout: 10000 },
    );
    const line = await page.locator('#load-text').textContent();
    const expected = Number(/of ~([\d\u202f]+) events/.exec(line)[1].replace(/\u202f/g, ''));
    assert.ok(expected > w.events, `expected ${expected} in 10 s`);

    await page.click('#load-cancel');
    hook = await page.evaluate(() => window.strobe);
    assert.equal(hook.status, 'cancelled');
    assert.equal(hook.error, null);
    assert.equal(await page.evaluate(() => document.body.dataset.status), 'cancelled');
    assert.equal(await page.locator('#load-line').isVisible(), false);
    assert.equal(await page.locator('#error').isVisible(), false);
    assert.match(await page.locator('#progress').textContent(), /cancelled/);
    // Nothing from the cancelled load comes back later.
    await sleep(1500);
    assert.equal(await page.evaluate(() => document.body.dataset.status), 'cancelled');

    // The page still works: a fast network and a short window load normally.
    await page.unroute((u) => u.origin === data.origin);
    await page.unrouteAll?.({ behavior: 'ignoreErrors' });
    hook = await after(page, () => page.selectOption('#dt-select', String(w.to - w.from)));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(await page.locator('#load-line').isVisible(), false);
    assert.deepEqual(await page.evaluate(() => window.__csp ?? []), [], 'CSP violations');
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });
});
