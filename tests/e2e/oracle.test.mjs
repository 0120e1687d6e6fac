// The page's colours against an independent renderer: the canvas, read back pixel by pixel, is
// written as an RGB PNG and handed to tests/export_oracle.py, which reads the window with h5py
// and colours it with numpy (polarity exact, the other modes within the GPU's last bit). The
// wasm engine computes none of the numbers compared.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';

import {
  ARTIFACTS, DATA_URL, FIXTURES, ROOT, after, canvasCensus, fixture, manifestWindow, newPage,
  open, viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(kind, body) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(kind, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])));
  return Buffer.concat([head, body, crc]);
}

/** RGBA pixels (rows from the top) as an 8-bit RGB PNG, every row unfiltered. */
function rgbPng(width, height, rgba) {
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y += 1) {
    const row = y * (1 + width * 3);
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 4;
      rgba.copy(raw, row + 1 + x * 3, i, i + 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Runs the numpy oracle on the canvas as it is now; returns its JSON (or fails with its message). */
async function oracleCheck(page, fx, w, mode, palette, tau) {
  const c = await canvasCensus(page);
  mkdirSync(ARTIFACTS, { recursive: true });
  const out = join(ARTIFACTS, `oracle-${fx.id}-${mode}-${palette}.png`);
  writeFileSync(out, rgbPng(c.width, c.height, c.pixels));
  const spec = {
    format: 'png', out, source: join(FIXTURES, fx.file), paths: fx.paths, from: w.from, to: w.to,
    width: fx.info.width, height: fx.info.height, mode, palette, tau,
    normalize: false, absolute_time: false,
  };
  const r = spawnSync(join(ROOT, '.venv', 'bin', 'python'),
    [join(ROOT, 'tests', 'export_oracle.py'), JSON.stringify(spec)], { encoding: 'utf8' });
  assert.equal(r.status, 0, `numpy oracle, ${mode}/${palette}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('the canvas equals numpy\'s rendering of h5py\'s window', () => {
  for (const id of ['dsec_full_bitshuffle', 'rvt']) {
    test(`${id}: polarity (both palettes), event count and time surface`, async () => {
      const fx = fixture(id);
      const w = manifestWindow(id, '50ms_unaligned_middle');
      const page = await newPage(ctx.browser);
      let hook = await open(page, viewerUrl(ctx.site.origin,
        { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
      assert.equal(hook.status, 'ready', hook.error);
      let seen = await oracleCheck(page, fx, w, 'polarity', 'dsec', 10000);
      assert.equal(seen.events, w.events);
      assert.ok(seen.lit_pixels > 0);
      await page.selectOption('#palette-select', 'dark');
      await oracleCheck(page, fx, w, 'polarity', 'dark', 10000);
      await page.selectOption('#mode-select', 'heatmap');
      seen = await oracleCheck(page, fx, w, 'heatmap', 'dark', 10000);
      assert.ok(seen.lit_pixels > 0);
      await page.selectOption('#mode-select', 'timesurface');
      await page.selectOption('#tau-select', '5000');
      await oracleCheck(page, fx, w, 'timesurface', 'dark', 5000);
      // A step is a new window: still numpy's picture.
      hook = await after(page, () => page.keyboard.press('ArrowRight'));
      await oracleCheck(page, fx, { from: hook.window.from, to: hook.window.to }, 'timesurface', 'dark', 5000);
      assert.deepEqual(page.problems, []);
      await page.close();
    });
  }
});
