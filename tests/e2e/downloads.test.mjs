// Taking a window away from the page: the frame as a PNG file that holds exactly the pixels
// shown (decoded here with node's zlib, not the browser's own decoder).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';

import {
  DATA_URL, canvasCensus, fixture, manifestWindow, newPage, open, viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

/** A PNG (8-bit RGB or RGBA, non-interlaced) as `{width, height, rgba}`. */
function decodePng(buf) {
  assert.deepEqual([...buf.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat = [];
  while (at < buf.length) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const body = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      assert.equal(body[8], 8, 'bit depth');
      channels = { 2: 3, 6: 4 }[body[9]];
      assert.ok(channels, `colour type ${body[9]}`);
      assert.equal(body[12], 0, 'not interlaced');
    } else if (type === 'IDAT') {
      idat.push(body);
    }
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y += 1) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i += 1) {
      const a = i >= channels ? line[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = (line[i] + add) & 255;
    }
    for (let x = 0; x < width; x += 1) {
      for (let k = 0; k < 4; k += 1) {
        out[(y * width + x) * 4 + k] = k < channels ? line[x * channels + k] : 255;
      }
    }
    prev = line;
  }
  return { width, height, rgba: out };
}

describe('downloads', () => {
  test('PNG holds exactly the frame shown, named after the window', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    for (const mode of ['polarity', 'heatmap']) {
      const hook = await open(page, viewerUrl(ctx.site.origin,
        { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from, mode }));
      assert.equal(hook.status, 'ready', hook.error);
      const shown = await canvasCensus(page);
      const [saved] = await Promise.all([page.waitForEvent('download'), page.click('#save-png')]);
      assert.equal(saved.suggestedFilename(),
        `${fx.file.replace(/\.h5$/, '')}_t${w.from}_dt${w.to - w.from}_${mode}.png`);
      const png = decodePng(readFileSync(await saved.path()));
      assert.equal(png.width, shown.width);
      assert.equal(png.height, shown.height);
      assert.ok(png.rgba.equals(shown.pixels), `${mode}: the PNG differs from the canvas`);
      assert.ok(shown.blue + shown.red > 100 || mode !== 'polarity', 'a frame with events');
    }
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });
});
