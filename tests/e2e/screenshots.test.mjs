// Pictures that matter, compared with reference PNGs: every render mode of one fixture window
// (and the 3D cloud with its axes) drawn by the page, read back from the frame canvas (not the
// page: fonts and layout do not enter) and compared pixel by pixel with tests/e2e/refs/*.png.
//
// Tolerance: a pixel differs when no pixel within `reach` of it in the other picture has its
// colour to within CHANNEL (16 of 255) in every channel — checked both ways, so a line or a
// point that vanished counts as much as one that appeared. The flat modes (integer counts,
// one canvas pixel per sensor pixel) have reach 0: every pixel where it was. The cloud has
// reach 1: its points and axis lines go through float projection and rasterisation, which
// software WebGL on another CPU may round a pixel the other way. A view fails when more than
// SHARE of its pixels differ (0.05 %, ~150 of 640 × 480): a palette or formula change moves
// every lit pixel (5–15 % of the frame) by far more than CHANNEL, and the cloud's axis lines
// alone are ~0.2 % of it.
//
// Each reference has a .json beside it: the window's digest (h5py's sums) and the Chromium that
// drew it, so a fixture that changed is told apart from a picture that changed.
//
// On a failure the test writes the picture it got and a diff (differing pixels magenta) to
// target/e2e/screenshots/ and says so.
//
// Regenerate the references (after a change to the picture that is meant):
//
//   STROBE_UPDATE_REFS=1 STROBE_TEST_DATA_URL=… node --test tests/e2e/screenshots.test.mjs
//
// and look at the new PNGs before committing them.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  ARTIFACTS, DATA_URL, ROOT, fixture, manifestWindow, newPage, open, siteAndBrowser, viewerUrl,
} from './helpers.mjs';

const ctx = siteAndBrowser();
const REFS = join(ROOT, 'tests', 'e2e', 'refs');
const OUT = join(ARTIFACTS, 'screenshots');
const UPDATE = process.env.STROBE_UPDATE_REFS === '1';
const CHANNEL = 16;
const SHARE = 0.0005;

/** The views: a name (the reference's file name), extra link parameters, the reach allowed. */
const VIEWS = [
  { name: 'polarity', params: { mode: 'polarity' }, reach: 0 },
  { name: 'polarity-dark', params: { mode: 'polarity', palette: 'dark' }, reach: 0 },
  { name: 'heatmap', params: { mode: 'heatmap' }, reach: 0 },
  { name: 'timesurface', params: { mode: 'timesurface', tau: '20000' }, reach: 0 },
  { name: 'cloud', params: { mode: 'cloud', orbit: '-0.7,0.35' }, reach: 1 },
  { name: 'cloud-dark', params: { mode: 'cloud', palette: 'dark', orbit: '0.5,-0.3' }, reach: 1 },
];

/** The frame canvas as PNG bytes (drawn through a 2D canvas, as the compare reads it). */
async function framePng(page) {
  const url = await page.evaluate(() => {
    const src = document.getElementById('frame');
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    c.getContext('2d').drawImage(src, 0, 0);
    return c.toDataURL('image/png');
  });
  return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
}

/**
 * Compares the frame canvas with the PNG `ref` (bytes), decoded by the page's own image
 * decoder: sizes, pixels without a match within `reach` (both ways), and a diff PNG.
 */
async function compareFrame(page, ref, channel, reach) {
  const r = await page.evaluate(async ([b64, tol, near]) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const read = (source, w, h) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d');
      g.drawImage(source, 0, 0);
      return g.getImageData(0, 0, w, h).data;
    };
    const src = document.getElementById('frame');
    const [w, h] = [src.width, src.height];
    const size = { got: [w, h], want: [img.naturalWidth, img.naturalHeight] };
    if (w !== img.naturalWidth || h !== img.naturalHeight) return { size };
    const want = read(img, w, h);
    const got = read(src, w, h);
    // Whether pixel i of `a` has a pixel of its colour within `near` in `b`.
    const matched = (a, b, x, y) => {
      const i = (y * w + x) * 4;
      for (let dy = -near; dy <= near; dy += 1) {
        for (let dx = -near; dx <= near; dx += 1) {
          const [u, v] = [x + dx, y + dy];
          if (u < 0 || v < 0 || u >= w || v >= h) continue;
          const j = (v * w + u) * 4;
          if (Math.abs(a[i] - b[j]) <= tol && Math.abs(a[i + 1] - b[j + 1]) <= tol
            && Math.abs(a[i + 2] - b[j + 2]) <= tol) return true;
        }
      }
      return false;
    };
    let differ = 0;
    let worst = 0;
    const diff = new ImageData(w, h);
    for (let y = 0; y < h; y += 1) {
      for (let x = 0; x < w; x += 1) {
        const i = (y * w + x) * 4;
        for (let k = 0; k < 3; k += 1) worst = Math.max(worst, Math.abs(got[i + k] - want[i + k]));
        const off = !matched(got, want, x, y) || !matched(want, got, x, y);
        if (off) differ += 1;
        diff.data.set(off ? [255, 0, 255, 255] : [got[i] / 2 + 127, got[i + 1] / 2 + 127,
          got[i + 2] / 2 + 127, 255], i);
      }
    }
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    c.getContext('2d').putImageData(diff, 0, 0);
    const url = c.toDataURL('image/png');
    return { size, differ, worst, pixels: w * h, diff: url.slice(url.indexOf(',') + 1) };
  }, [ref.toString('base64'), channel, reach]);
  return { ...r, diff: r.diff && Buffer.from(r.diff, 'base64') };
}

describe('screenshots against references', () => {
  const fx = fixture('dsec_full_bitshuffle');
  const w = manifestWindow(fx.id, '50ms_unaligned_middle');
  for (const view of VIEWS) {
    test(`${view.name}: the frame matches tests/e2e/refs/${view.name}.png`, async () => {
      const page = await newPage(ctx.browser);
      const q = new URL(viewerUrl(ctx.site.origin,
        { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
      for (const [k, v] of Object.entries(view.params)) q.searchParams.set(k, v);
      const hook = await open(page, q.href);
      assert.equal(hook.status, 'ready', hook.error);
      assert.equal(hook.window.events, w.events, 'the window h5py counts');
      assert.equal(hook.mode, view.params.mode);
      const refPath = join(REFS, `${view.name}.png`);
      // What the reference was drawn from: the window's digest and the browser.
      const made = { window: hook.window, chromium: ctx.browser.version() };
      const metaPath = join(REFS, `${view.name}.json`);
      if (UPDATE) {
        mkdirSync(REFS, { recursive: true });
        writeFileSync(refPath, await framePng(page));
        writeFileSync(metaPath, `${JSON.stringify(made, null, 1)}\n`);
        await page.close();
        return;
      }
      assert.ok(existsSync(refPath), `${refPath} is missing — STROBE_UPDATE_REFS=1 writes it`);
      // Other events (a changed fixture generator or numpy pin) are not a changed picture.
      const was = JSON.parse(readFileSync(metaPath, 'utf8'));
      assert.deepEqual(hook.window, was.window, `the fixture window's events differ from those `
        + `${refPath} was drawn from — fixtures regenerated differently? Then STROBE_UPDATE_REFS=1`);
      const r = await compareFrame(page, readFileSync(refPath), CHANNEL, view.reach);
      assert.deepEqual(r.size.got, r.size.want, 'frame size');
      if (r.differ > SHARE * r.pixels) {
        mkdirSync(OUT, { recursive: true });
        writeFileSync(join(OUT, `${view.name}.png`), await framePng(page));
        writeFileSync(join(OUT, `${view.name}.diff.png`), r.diff);
      }
      assert.ok(r.differ <= SHARE * r.pixels,
        `${r.differ} of ${r.pixels} pixels have no match within ${view.reach} px (channels ±${CHANNEL}; `
        + `allowed ${SHARE * 100} %; largest difference in place ${r.worst}); got and diff in ${OUT}`);
      assert.deepEqual(page.problems, [], 'console/page errors');
      await page.close();
    });
  }
});
