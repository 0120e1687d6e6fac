// Opening a recording the ways issue 17's test list names that the other files do not cover:
// a typed address for another machine gets https:// (never the viewer's own origin), the Open
// button (not only Enter) leaves ← → stepping, so does the mode select, and an empty recording
// over HTTP says it has no events like a local one.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DATA_URL, after, fixture, manifestWindow, newPage, open, settled, siteAndBrowser, viewerUrl,
} from './helpers.mjs';

const ctx = siteAndBrowser();

describe('opening a recording', () => {
  test('an address for another host typed without a scheme is opened as https://, and the page says so', async () => {
    const page = await newPage(ctx.browser);
    await page.goto(`${ctx.site.origin}/index.html`);
    const idle = await settled(page);
    // `.invalid` never resolves (RFC 2606): the load fails, but where it went is the point.
    const bare = 'recordings.example.invalid/zurich_city_05_a/events.h5';
    const requested = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.fill('#url-input', bare);
    await page.keyboard.press('Enter');
    const hook = await settled(page, idle.seq);
    assert.equal(hook.url, `https://${bare}`);
    assert.ok(!requested.some((u) => u.startsWith(`${ctx.site.origin}/recordings.example`)),
      'not resolved onto the viewer\'s own origin');
    assert.equal(new URL(page.url()).searchParams.get('url'), `https://${bare}`);
    assert.match(await page.locator('#notice').textContent(),
      /no scheme given: opened as https:\/\/recordings\.example\.invalid\//);
    await page.close();
  });

  test('← and → step after the Open button and after choosing a mode', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    await page.goto(`${ctx.site.origin}/index.html`);
    await settled(page);
    let hook = await after(page, async () => {
      await page.fill('#url-input', DATA_URL + fx.file);
      await page.getByRole('button', { name: 'Open', exact: true }).click();
    });
    assert.equal(hook.status, 'ready', hook.error);
    const first = hook.window;
    hook = await after(page, () => page.keyboard.press('ArrowRight'));
    assert.equal(hook.window.from, first.to, '→ after the Open button');
    hook = await after(page, () => page.keyboard.press('ArrowLeft'));
    assert.equal(hook.window.from, first.from, '← after it');

    // A mode chosen from its select: the arrows step windows, they do not change the mode.
    await page.goto(viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
    hook = await settled(page);
    // Focused as a click on it leaves it (selectOption alone does not focus the select).
    await page.locator('#mode-select').focus();
    await page.selectOption('#mode-select', 'heatmap');
    hook = await after(page, () => page.keyboard.press('ArrowRight'));
    assert.equal(hook.mode, 'heatmap', 'the select kept its choice');
    assert.equal(hook.window.from, w.to, '→ after the mode select');
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });

  test('an empty recording over HTTP says it has no events and invents no sensor', async () => {
    const fx = fixture('fid_empty');
    assert.equal(fx.info.events, 0, 'h5py: no events');
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file }));
    assert.equal(hook.status, 'empty', hook.error);
    assert.equal(hook.recording.events, 0);
    assert.match(await page.locator('#notice').textContent(), /this recording has no events/);
    assert.doesNotMatch(await page.locator('#rec-panel').textContent(), /640 × 480/);
    for (const id of ['play', 'save-png', 'save-npz', 'copy-link']) {
      assert.equal(await page.locator(`#${id}`).isDisabled(), true, `${id} disabled`);
    }
    assert.equal(await page.locator('#frame').isVisible(), false, 'no empty canvas');
    await page.close();
  });
});
