// Zoom and pan of the frame: 1:1 is pixel-exact, the wheel zooms around the cursor, drag
// pans, fit restores, and `zoom=` / `pan=x,y` in the address round-trip.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DATA_URL, canvasCensus, fixture, manifestWindow, newPage, open, viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

const rgb = (c, x, y) => {
  const i = 4 * (y * c.width + x);
  return [c.pixels[i], c.pixels[i + 1], c.pixels[i + 2]];
};

/** Where the canvas pixel (x, y) (its own resolution) is on the page. */
async function pagePoint(page, x, y) {
  return page.evaluate(([px, py]) => {
    const c = document.getElementById('frame');
    const r = c.getBoundingClientRect();
    return { x: r.left + ((px + 0.5) * r.width) / c.width, y: r.top + ((py + 0.5) * r.height) / c.height };
  }, [x, y]);
}

async function viewSettled(page, check) {
  await page.waitForFunction(check, null, { timeout: 5000 });
  return page.evaluate(() => window.strobe.view);
}

describe('zoom and pan', () => {
  test('1:1 is pixel-exact, drag pans, wheel zooms around the cursor, the link restores the view', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin, {
      url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from,
    }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.view, null);
    const fit = await canvasCensus(page);
    assert.equal(fit.blue + fit.red, hook.pixels.active);

    // A known event pixel: a blue (mostly +) one away from the edges.
    let known = null;
    for (let y = 40; y < fit.height - 40 && !known; y += 1) {
      for (let x = 40; x < fit.width - 40; x += 1) {
        const [r, g, b] = rgb(fit, x, y);
        if (r === 0 && g === 0 && b === 255) {
          known = { x, y };
          break;
        }
      }
    }
    assert.ok(known, 'a positive pixel in the window');

    // 1:1: one sensor pixel per canvas pixel and per CSS pixel, same image as fit.
    await page.click('#zoom-1');
    let view = await viewSettled(page, () => window.strobe.view !== null);
    assert.deepEqual(view, { zoom: 1, x: 0, y: 0 });
    const box = await page.evaluate(() => {
      const c = document.getElementById('frame');
      const r = c.getBoundingClientRect();
      return { w: r.width, h: r.height, cw: c.width, ch: c.height };
    });
    assert.equal(box.w, box.cw);
    assert.equal(box.h, box.ch);
    let now = await canvasCensus(page);
    assert.ok(now.pixels.equals(fit.pixels), '1:1 at pan 0,0 is the fit image');

    // Drag 20, 10 CSS pixels to the left and up: the known pixel moves with the mouse.
    const from = await pagePoint(page, known.x, known.y);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x - 10, from.y - 5);
    await page.mouse.move(from.x - 20, from.y - 10);
    await page.mouse.up();
    view = await viewSettled(page, () => window.strobe.view?.x === 20 && window.strobe.view?.y === 10);
    assert.deepEqual(view, { zoom: 1, x: 20, y: 10 });
    now = await canvasCensus(page);
    assert.deepEqual(rgb(now, known.x - 20, known.y - 10), [0, 0, 255], 'known event pixel is blue');
    for (let i = 0; i < 2000; i += 1) {
      const x = (i * 7919) % (now.width - 20);
      const y = (i * 104729) % (now.height - 10);
      assert.deepEqual(rgb(now, x, y), rgb(fit, x + 20, y + 10), `pixel ${x},${y}`);
    }

    // The wheel zooms in around the cursor: the sensor point under it stays.
    const at = await pagePoint(page, 100, 100);
    await page.mouse.move(at.x, at.y);
    await page.mouse.wheel(0, -Math.log(2) / 0.002);
    view = await viewSettled(page, () => window.strobe.view?.zoom > 1.5);
    assert.ok(Math.abs(view.zoom - 2) < 0.01, `zoom ${view.zoom}`);
    // (mouse positions are whole CSS pixels: within one of the pixel centre asked for)
    assert.ok(Math.abs(view.x + 100.5 / view.zoom - 120.5) < 0.6, `x ${view.x}`);
    assert.ok(Math.abs(view.y + 100.5 / view.zoom - 110.5) < 0.6, `y ${view.y}`);
    now = await canvasCensus(page);
    let checked = 0;
    for (let y = 0; y < now.height; y += 13) {
      for (let x = 0; x < now.width; x += 11) {
        const sx = view.x + (x + 0.5) / view.zoom;
        const sy = view.y + (y + 0.5) / view.zoom;
        if (Math.abs(sx - Math.round(sx)) < 0.05 || Math.abs(sy - Math.round(sy)) < 0.05) continue;
        const fx0 = Math.floor(sx);
        const fy0 = Math.floor(sy);
        if (fx0 < 0 || fy0 < 0 || fx0 >= fit.width || fy0 >= fit.height) continue;
        assert.deepEqual(rgb(now, x, y), rgb(fit, fx0, fy0), `pixel ${x},${y}`);
        checked += 1;
      }
    }
    assert.ok(checked > 500, `checked ${checked}`);

    // The address carries the view; opening it again shows the same image.
    await page.waitForFunction(
      (z) => new URL(location.href).searchParams.get('zoom') === z, String(view.zoom));
    const link = new URL(page.url());
    assert.equal(Number(link.searchParams.get('zoom')), view.zoom);
    assert.equal(link.searchParams.get('pan'), `${view.x},${view.y}`);
    const page2 = await newPage(ctx.browser);
    const hook2 = await open(page2, link.href);
    assert.equal(hook2.status, 'ready', hook2.error);
    assert.deepEqual(hook2.view, view);
    const again = await canvasCensus(page2);
    assert.ok(again.pixels.equals(now.pixels), 'reopened link draws the same view');

    // fit: back to the whole frame, and the address forgets the view.
    await page.click('#zoom-fit');
    await viewSettled(page, () => window.strobe.view === null);
    await page.waitForFunction(() => new URL(location.href).searchParams.get('zoom') === null);
    assert.equal(new URL(page.url()).searchParams.get('pan'), null);
    now = await canvasCensus(page);
    assert.ok(now.pixels.equals(fit.pixels), 'fit is the original image');
    for (const p of [page, page2]) {
      assert.deepEqual(await p.evaluate(() => window.__csp ?? []), [], 'CSP violations');
      assert.deepEqual(p.problems, [], 'console/page errors');
      await p.close();
    }
  });
});
