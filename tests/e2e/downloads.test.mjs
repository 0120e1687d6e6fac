// Taking a window away from the page: the frame as a PNG file that holds exactly the pixels
// shown (decoded here with node's zlib, not the browser's own decoder).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';

import {
  DATA_URL, ROOT, canvasCensus, digestOf, fixture, manifestWindow, newPage, open, viewerUrl,
  siteAndBrowser,
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

  test('NPZ holds the window\'s events: numpy reads it and its digest is h5py\'s', async () => {
    const page = await newPage(ctx.browser);
    for (const id of ['dsec_append_byteshuffle', 'm3ed_right']) {
      const fx = fixture(id);
      const w = manifestWindow(fx.id, '50ms_unaligned_middle');
      const link = viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from });
      const hook = await open(page, fx.camera ? `${link}&camera=${fx.camera}` : link);
      assert.equal(hook.status, 'ready', hook.error);
      const [saved] = await Promise.all([page.waitForEvent('download'), page.click('#save-npz')]);
      assert.match(saved.suggestedFilename(), new RegExp(`_t${w.from}_dt${w.to - w.from}\\.npz$`));
      const py = `
import sys, json, numpy as np
z = np.load(sys.argv[1])
x, y, t, p = (z[k] for k in 'xytp')
assert len({len(x), len(y), len(t), len(p)}) == 1
print(json.dumps({'events': len(t), 'sum_x': int(x.astype(np.int64).sum()), 'sum_y': int(y.astype(np.int64).sum()),
  'sum_t': int(t.sum()), 'sum_p': int(p.astype(np.int64).sum()), 'positive': int((p > 0).sum()),
  'dtypes': [str(a.dtype) for a in (x, y, t, p)], 'sorted': bool((np.diff(t) >= 0).all()),
  'in_window': bool(len(t) == 0 or (t.min() >= int(sys.argv[2]) and t.max() < int(sys.argv[3]))),
  'facts': {k: z[k].item() for k in z.files if k not in 'xytp'}}))`;
      const got = JSON.parse(execFileSync(join(ROOT, '.venv', 'bin', 'python'),
        ['-c', py, await saved.path(), String(w.from), String(w.to)]).toString());
      const want = digestOf(w);
      for (const k of ['events', 'sum_x', 'sum_y', 'sum_t', 'sum_p', 'positive']) {
        assert.equal(got[k], want[k], `${id}: ${k}`);
      }
      // Each column in the dtype the file stores it in (h5py's, in the manifest).
      const numpyName = (d) => {
        const m = /^[<>|=]?([uif])(\d)$/.exec(d ?? '');
        if (!m) return '?';
        if (m[1] === 'f') return 'int64';
        return `${m[1] === 'u' ? 'uint' : 'int'}${8 * Number(m[2])}`;
      };
      assert.deepEqual(got.dtypes, ['x', 'y', 't', 'p'].map((k) => numpyName(fx.datasets?.[k]?.dtype)));
      assert.ok(got.sorted && got.in_window, `${id}: times sorted and inside the window`);
      // Self-describing: the window, the sensor, t_offset, the source and the stored dtypes
      // (as h5py saw them when it wrote the manifest; the engine names them without the byte
      // order mark).
      const stored = Object.fromEntries(['x', 'y', 't', 'p'].map((k) => [`${k}_stored_dtype`,
        (fx.datasets?.[k]?.dtype ?? '?').replace(/^[<>|=]/, '')]));
      assert.deepEqual(got.facts, {
        t_offset: fx.info.t_offset, from: w.from, to: w.to, width: fx.info.width,
        height: fx.info.height, source: got.facts.source, layout: fx.layout, ...stored,
      });
      assert.ok(got.facts.source.includes(fx.file), got.facts.source);
    }
    // A window too large to build in the page says what to do instead.
    const fx = fixture('dsec_full_bitshuffle');
    const big = manifestWindow(fx.id, 'entire_exact');
    const hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: big.from, dt: big.to - big.from }));
    assert.equal(hook.status, 'ready', hook.error);
    await page.click('#save-npz');
    await page.waitForFunction(() => document.getElementById('copy-status').textContent.startsWith('NPZ:'));
    const text = await page.locator('#copy-status').textContent();
    assert.match(text, /strobe export/);
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });
});
