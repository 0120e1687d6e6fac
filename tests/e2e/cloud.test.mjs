// The x-y-t point cloud (mode=cloud): drawn, unlike the flat modes, and turned by dragging.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DATA_URL, canvasCensus, fixture, manifestWindow, newPage, open, viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

describe('point cloud', () => {
  test('mode=cloud draws blue and red points, differs from the other modes, turns by drag', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    const url = { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from };
    let hook = await open(page, viewerUrl(ctx.site.origin, { ...url, mode: 'cloud' }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.mode, 'cloud');
    assert.equal(await page.locator('#mode-select').inputValue(), 'cloud');
    const cloud = await canvasCensus(page);
    const total = cloud.width * cloud.height;
    assert.ok(cloud.white < total && cloud.white > total / 4, `white ${cloud.white} of ${total}`);
    assert.ok(cloud.blue > 500, `blue ${cloud.blue}`);
    assert.ok(cloud.red > 500, `red ${cloud.red}`);

    const others = {};
    for (const mode of ['polarity', 'heatmap', 'timesurface']) {
      await page.selectOption('#mode-select', mode);
      others[mode] = await canvasCensus(page);
      assert.ok(!others[mode].pixels.equals(cloud.pixels), `cloud differs from ${mode}`);
    }
    // Back to the cloud: the same picture again (the points are the window's).
    await page.selectOption('#mode-select', 'cloud');
    assert.equal(new URL(page.url()).searchParams.get('mode'), 'cloud');
    let again = await canvasCensus(page);
    assert.ok(again.pixels.equals(cloud.pixels), 'cloud redraws the same');

    // Drag turns it.
    const box = await page.locator('#frame').boundingBox();
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const before = await page.evaluate(() => window.strobe.orbit);
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 60, cy + 20);
    await page.mouse.move(cx + 120, cy + 40);
    await page.mouse.up();
    const after = await page.evaluate(() => window.strobe.orbit);
    assert.ok(after.yaw > before.yaw, `yaw ${before.yaw} → ${after.yaw}`);
    assert.ok(after.pitch > before.pitch, `pitch ${before.pitch} → ${after.pitch}`);
    again = await canvasCensus(page);
    assert.ok(!again.pixels.equals(cloud.pixels), 'the drag turned the cloud');
    assert.ok(again.blue > 500 && again.red > 500, 'still points after turning');
    hook = await page.evaluate(() => window.strobe);
    assert.equal(hook.view, null, 'a drag in the cloud does not pan the flat view');

    // The flat modes are untouched by the cloud.
    await page.selectOption('#mode-select', 'polarity');
    const flat = await canvasCensus(page);
    assert.ok(flat.pixels.equals(others.polarity.pixels));
    assert.deepEqual(await page.evaluate(() => window.__csp ?? []), [], 'CSP violations');
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });
});
