// Going to a time (issue 17): links and the go-to field in every time form, Home/End, the
// timeline (axis, one history entry per drag), keyboard stepping after Open and selects —
// each window checked against h5py's digest or the manifest's t_first/t_last.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  DATA_URL, FIXTURES, ROOT, after, digestOf, fixture, manifestWindow, newPage, open, settled,
  viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

/** A DSEC fixture whose t_offset is not zero (so absolute and stored times differ). */
function dsec() {
  const fx = fixture('dsec_full_bitshuffle');
  assert.notEqual(fx.info.t_offset, 0, 'the fixture must have a t_offset for this test');
  return fx;
}

/** µs as seconds text, exact: 3400000 → "3.4". */
function seconds(us) {
  const frac = String(us % 1000000).padStart(6, '0').replace(/0+$/, '');
  return `${Math.floor(us / 1000000)}${frac ? `.${frac}` : ''}`;
}

function linkWith(origin, fx, t, dt) {
  const q = new URLSearchParams({ url: DATA_URL + fx.file, t, dt: String(dt) });
  return `${origin}/index.html?${q}`;
}

describe('times in every form', () => {
  test('a link with t=abs:… opens that exact window and keeps the form', async () => {
    const fx = dsec();
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    const hook = await open(page, linkWith(ctx.site.origin, fx, `abs:${w.from + fx.info.t_offset}`,
      w.to - w.from));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(hook.window, digestOf(w));
    assert.equal(hook.t_form, 'abs');
    // Stepping keeps the absolute form in the address.
    const next = await after(page, () => page.keyboard.press('ArrowRight'));
    const t = new URL(page.url()).searchParams.get('t');
    assert.equal(t, `abs:${next.window.from + fx.info.t_offset}`);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('a link with t=<seconds>s counts from the first event', async () => {
    const fx = dsec();
    const w = manifestWindow(fx.id, '50ms_busiest');
    const page = await newPage(ctx.browser);
    const hook = await open(page, linkWith(ctx.site.origin, fx,
      `${seconds(w.from - fx.info.t_first)}s`, w.to - w.from));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(hook.window, digestOf(w));
    assert.equal(new URL(page.url()).searchParams.get('t'), `${seconds(w.from - fx.info.t_first)}s`);
    await page.close();
  });

  test('the go-to field (g) takes abs:, seconds and µs, and refuses a time outside the recording', async () => {
    const fx = dsec();
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, dt: w.to - w.from }));
    assert.equal(hook.status, 'ready', hook.error);
    for (const text of [`abs:${w.from + fx.info.t_offset}`, `${seconds(w.from - fx.info.t_first)}s`,
      String(w.from)]) {
      await page.keyboard.press('Home'); // somewhere else first
      await settled(page, hook.seq);
      hook = await after(page, async () => {
        await page.keyboard.press('g');
        await page.keyboard.type(text);
        await page.keyboard.press('Enter');
      });
      assert.deepEqual(hook.window, digestOf(w), text);
    }
    // Outside: a message with the span and t_offset, and the window shown stays.
    await page.keyboard.press('g');
    await page.fill('#goto-input', `abs:${fx.info.t_offset - 5000000}`);
    await page.keyboard.press('Enter');
    await page.locator('#goto-error').waitFor({ state: 'visible' });
    const message = await page.locator('#goto-error').textContent();
    assert.match(message, /outside the recording/);
    assert.match(message, new RegExp(`t_offset is ${fx.info.t_offset} µs`));
    assert.match(message, new RegExp(`${fx.info.t_first} … ${fx.info.t_last}`));
    const now = await page.evaluate(() => window.strobe);
    assert.equal(now.status, 'ready');
    assert.deepEqual(now.window, digestOf(w));
    // Not a time at all: the parser's message names the forms.
    await page.fill('#goto-input', 'soon');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /abs:µs/.test(document.getElementById('goto-error').textContent));
    await page.close();
  });

  test('Home and End go to the first event and the window holding the last', async () => {
    const fx = dsec();
    const dt = 20000;
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: fx.info.t_first + 3 * dt, dt }));
    hook = await after(page, () => page.keyboard.press('End'));
    assert.equal(hook.window.from, fx.info.t_last - dt + 1);
    assert.ok(hook.window.events >= 1, 'the last event is in the End window');
    assert.equal(await page.locator('#next').isDisabled(), true);
    hook = await after(page, () => page.keyboard.press('Home'));
    assert.equal(hook.window.from, fx.info.t_first);
    assert.ok(hook.window.events >= 1);
    await page.close();
  });
});

describe('the timeline', () => {
  test('a drag makes one history entry, and Back returns to the window before it', async () => {
    const fx = dsec();
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    const start = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
    const before = await page.evaluate(() => history.length);
    const box = await page.locator('#timeline').boundingBox();
    const y = box.y + box.height / 3;
    await page.mouse.move(box.x + box.width * 0.1, y);
    await page.mouse.down();
    for (let i = 1; i <= 20; i += 1) {
      await page.mouse.move(box.x + box.width * (0.1 + i * 0.03), y);
      await page.waitForTimeout(15);
    }
    await page.mouse.up();
    await page.waitForFunction(() => document.body.dataset.status === 'ready');
    const dragged = await settled(page, start.seq);
    assert.equal(await page.evaluate(() => history.length), before + 1, 'one entry for the drag');
    assert.ok(dragged.window.from > w.from, 'the drag moved forward');
    const back = await after(page, () => page.goBack());
    assert.deepEqual(back.window, digestOf(w), 'Back: the window before the drag');
    await page.close();
  });

  test('tick labels in seconds and a hover readout of time and rate', async () => {
    const fx = dsec();
    const page = await newPage(ctx.browser);
    await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, dt: 50000 }));
    const box = await page.locator('#timeline').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 10);
    const readout = await page.locator('#timeline-readout').textContent();
    // Halfway along: half the recording's span, as seconds, stored and absolute µs.
    const half = Math.round(fx.info.t_first + (fx.info.t_last + 1 - fx.info.t_first) / 2);
    const m = /^([\d.]+) s · t = (\d+) µs · abs (\d+) µs · [\d.]+ [kM]?ev\/s$/.exec(readout);
    assert.ok(m, readout);
    assert.ok(Math.abs(Number(m[2]) - half) <= (fx.info.t_last - fx.info.t_first) / box.width + 1, readout);
    assert.equal(Number(m[3]), Number(m[2]) + fx.info.t_offset);
    // The axis strip (bottom 15 px) holds dark label pixels; the plot above it has none of them.
    const inks = await page.evaluate(() => {
      const c = document.getElementById('timeline');
      const g = c.getContext('2d');
      const r = window.devicePixelRatio || 1;
      const axis = g.getImageData(0, c.height - 12 * r, c.width, 10 * r).data;
      let dark = 0;
      for (let i = 0; i < axis.length; i += 4) if (axis[i] < 140 && axis[i + 2] < 170) dark += 1;
      return dark;
    });
    assert.ok(inks > 50, `tick labels drawn (${inks} dark pixels)`);
    await page.close();
  });
});

describe('the rate curve from the time index', () => {
  for (const id of ['dsec_full_bitshuffle', 'm3ed_right']) {
    test(`${id}: every bin equals h5py's count of t in it`, async () => {
      const fx = fixture(id);
      const page = await newPage(ctx.browser);
      const link = viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, dt: 50000 });
      const hook = await open(page, fx.camera ? `${link}&camera=${fx.camera}` : link);
      assert.equal(hook.status, 'ready', hook.error);
      const { rate } = hook;
      assert.equal(rate.source, 'ms_to_idx');
      assert.ok(rate.bins >= 100, `${rate.bins} bins`);
      const py = `
import sys, json, h5py, hdf5plugin, numpy as np
t = h5py.File(sys.argv[1], 'r')[sys.argv[2]][:].astype(np.int64)
start, width, n = (int(v) for v in sys.argv[3:6])
edges = start + width * np.arange(n + 1, dtype=np.int64)
print(json.dumps(np.diff(np.searchsorted(t, edges, 'left')).tolist()))`;
      const want = JSON.parse(execFileSync(join(ROOT, '.venv', 'bin', 'python'),
        ['-c', py, join(FIXTURES, fx.file), fx.paths.t, String(rate.start), String(rate.bin_us),
          String(rate.bins)]).toString());
      assert.deepEqual(rate.counts, want);
      assert.equal(rate.total, fx.info.events);
      await page.close();
    });
  }
});

describe('the keyboard after using a control', () => {
  test('→ steps after Open in the URL box and after choosing a window length', async () => {
    const fx = dsec();
    const page = await newPage(ctx.browser);
    await page.goto(`${ctx.site.origin}/index.html`);
    await settled(page);
    let hook = await after(page, async () => {
      await page.fill('#url-input', DATA_URL + fx.file);
      await page.keyboard.press('Enter');
    });
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.window.from, fx.info.t_first);
    const first = hook.window;
    hook = await after(page, () => page.keyboard.press('ArrowRight'));
    assert.equal(hook.window.from, first.to, '→ after Open');
    // Focused first, as a click leaves it (selectOption alone does not focus the select).
    await page.locator('#dt-select').focus();
    hook = await after(page, () => page.selectOption('#dt-select', '10000'));
    assert.equal(hook.dt, 10000);
    const from = hook.window.from;
    hook = await after(page, () => page.keyboard.press('ArrowRight'));
    assert.equal(hook.window.from, from + 10000, '→ after the select');
    await page.close();
  });
});
