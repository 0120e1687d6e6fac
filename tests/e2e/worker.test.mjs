// The engine runs in a Web Worker: the page stays responsive while a window is read, the
// first picture of a DSEC recording costs at most 4 rounds of requests, and the rest of the
// view (cloud orbit, playback speed) travels in the link; times show as absolute µs too.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  DATA_URL, FIXTURES, ROOT, canvasCensus, checkFirstPictures, digestOf, fixture, manifestWindow, newPage, open, viewerUrl,
  siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

describe('engine in a worker', () => {
  test('a 4 M-event window is read off the main thread, which keeps answering', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, 'entire_exact');
    const page = await newPage(ctx.browser);
    // Long tasks (> 50 ms on the main thread) and the gaps between animation frames.
    await page.addInitScript(() => {
      window.__long = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__long.push(e.duration);
      }).observe({ type: 'longtask', buffered: true });
      window.__gaps = [];
      let last = performance.now();
      const tick = (now) => {
        window.__gaps.push(now - last);
        last = now;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(digestOf(hook.window), digestOf(w), 'the window equals h5py\'s');
    assert.equal(hook.engine, 'worker');
    // Neither the wasm nor the recording was fetched by the page's own thread.
    const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    assert.ok(!fetched.some((n) => n.endsWith('.wasm')), `main thread fetched wasm: ${fetched}`);
    assert.ok(!fetched.some((n) => n.includes(fx.file)), `main thread fetched data: ${fetched}`);
    // Frames kept coming while 4 M events were decoded: no main-thread task held the page
    // for anything like the decode's length.
    const { gaps } = await page.evaluate(() => ({ gaps: window.__gaps }));
    // The same window decoded again (bytes cached), with the long tasks of that time alone
    // (not the page's start-up, shader compiles included), compared with the same run's
    // decode time in the worker: a decode on the main thread would be one task that long.
    const again = await page.evaluate(async () => {
      window.__long = [];
      const r = await window.strobeBench.reload();
      await new Promise((done) => { setTimeout(done, 100); }); // let the observer report
      return { ...r, long: window.__long };
    });
    assert.equal(again.events, w.events);
    const worst = Math.max(0, ...again.long);
    assert.ok(again.window_ms > 0, `worker time ${again.window_ms}`);
    assert.ok(worst < 0.5 * again.window_ms,
      `longest main-thread task ${worst.toFixed(0)} ms vs ${again.window_ms.toFixed(0)} ms decoding in the worker (long tasks: ${again.long.map(Math.round)})`);
    assert.ok(gaps.length > 5, `only ${gaps.length} animation frames ran`);
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });

  test('first picture of a DSEC recording costs at most 4 rounds, with or without t', async () => {
    await checkFirstPictures(ctx, ['dsec_full_bitshuffle', 'dsec_append_byteshuffle']);
  });

  test('cloud orbit and playback speed are in the link and reopen the same view', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from, mode: 'cloud' }));
    assert.equal(hook.status, 'ready', hook.error);
    const box = await page.locator('#frame').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 90, box.y + box.height / 2 + 30);
    await page.mouse.up();
    await page.selectOption('#speed-select', '0.1');
    await page.waitForFunction(() => new URL(location.href).searchParams.has('orbit')
      && new URL(location.href).searchParams.get('speed') === '0.1');
    hook = await page.evaluate(() => window.strobe);
    const turned = await canvasCensus(page);
    const link = page.url();
    const [yaw, pitch] = new URL(link).searchParams.get('orbit').split(',').map(Number);
    assert.deepEqual({ yaw, pitch }, hook.orbit, 'the link holds the orbit shown');

    const again = await newPage(ctx.browser);
    const reopened = await open(again, link);
    assert.equal(reopened.status, 'ready', reopened.error);
    assert.deepEqual(reopened.orbit, hook.orbit);
    assert.equal(reopened.speed, 0.1);
    assert.equal(await again.locator('#speed-select').inputValue(), '0.1');
    const picture = await canvasCensus(again);
    assert.ok(picture.pixels.equals(turned.pixels), 'the reopened cloud looks the same');
    assert.deepEqual([...page.problems, ...again.problems], [], 'console/page errors');
    await page.close();
    await again.close();
  });

  test('the time shows as absolute µs (t + t_offset) beside the recording time', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    assert.notEqual(fx.info.t_offset, 0, 'a fixture with a t_offset');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
    assert.equal(hook.status, 'ready', hook.error);
    const label = await page.locator('#t-label').textContent();
    assert.ok(label.includes(`absolute ${w.from + fx.info.t_offset} µs`), label);
    const panel = await page.locator('#win-panel').textContent();
    assert.ok(panel.includes(`[${w.from + fx.info.t_offset}, ${w.to + fx.info.t_offset}) µs`), panel);
    await page.close();
  });

  test('without ms_to_idx the timeline rate curve comes from sampled timestamps', async () => {
    const fx = fixture('generic');
    assert.equal(fx.paths.ms_to_idx, null, 'a fixture without a time index');
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file }));
    assert.equal(hook.status, 'ready', hook.error);
    await page.waitForFunction(() => window.strobe.rate !== null, null, { timeout: 30000 });
    const rate = await page.evaluate(() => window.strobe.rate);
    assert.equal(rate.source, 'sampled');
    assert.equal(rate.total, fx.info.events, 'the bins add up to the events');
    assert.ok(rate.bins >= 100, `${rate.bins} bins`);
    // h5py's histogram over the same bins: the cumulative curves stay close (the samples
    // are exact; between two of them the events are spread evenly).
    const py = `
import sys, json, h5py, numpy as np
t = h5py.File(sys.argv[1], 'r')[sys.argv[2]][:].astype(np.int64)
start, bin_us, bins = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
edges = start + bin_us * np.arange(bins + 1)
print(json.dumps(np.histogram(t, bins=edges)[0].tolist()))`;
    const truth = JSON.parse(execFileSync(join(ROOT, '.venv', 'bin', 'python'),
      ['-c', py, join(FIXTURES, fx.file), fx.paths.t, String(rate.start), String(rate.bin_us),
        String(rate.bins)]).toString());
    const { counts } = rate;
    assert.equal(counts.length, truth.length);
    let a = 0;
    let b = 0;
    let worst = 0;
    for (let i = 0; i < truth.length; i += 1) {
      a += counts[i];
      b += truth[i];
      worst = Math.max(worst, Math.abs(a - b));
    }
    assert.ok(worst / fx.info.events < 0.1, `cumulative curves differ by ${worst} events`);
    const flat = Math.max(...truth) / Math.max(1, Math.min(...truth.filter((v) => v > 0)));
    assert.ok(flat > 3, 'the fixture\'s rate varies (else the check above means little)');
    await page.close();
  });
});
