// The page against a stock static server: scripts/test.sh's nginx stage serves the fixtures
// with Debian nginx and the README's configuration (STROBE_TEST_DATA_URL points there). What a
// person opening a link sees: h5py's window after at most 4 rounds, and stepping that works.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DATA_URL, after, checkFirstPictures, digestOf, fixture, manifestWindow, newPage, open, viewerUrl,
  siteAndBrowser,
} from '../helpers.mjs';

const ctx = siteAndBrowser();

describe('behind nginx', () => {
  test('a link opens h5py\'s window after at most 4 rounds, with and without t', async () => {
    await checkFirstPictures(ctx, ['dsec_full_bitshuffle', 'dsec_append_byteshuffle']);
  });

  test('→ and ← step windows; the stepped link reopens the same window', async () => {
    const fx = fixture('dsec_append_byteshuffle');
    const w = manifestWindow(fx.id, '10ms_aligned');
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: w.from - 10000, dt: 10000 }));
    assert.equal(hook.status, 'ready', hook.error);
    hook = await after(page, () => page.keyboard.press('ArrowRight'));
    assert.deepEqual(digestOf(hook.window), digestOf(w));
    const again = await newPage(ctx.browser);
    const reopened = await open(again, page.url());
    assert.deepEqual(reopened.window, hook.window);
    hook = await after(page, () => page.keyboard.press('ArrowLeft'));
    assert.equal(hook.window.from, w.from - 10000);
    await page.close();
    await again.close();
  });
});
