// Display modes of the viewer page: the dark palette, play/pause.

import assert from 'node:assert/strict';
import { after as afterAll, before, describe, test } from 'node:test';

import {
  DATA_URL, after, fixture, launchBrowser, manifestWindow, newPage, open, settled, startSite,
  viewerUrl,
} from './helpers.mjs';

let site;
let browser;

before(async () => {
  site = await startSite();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await site?.stop();
});

async function assertClean(page) {
  const csp = await page.evaluate(() => window.__csp ?? []);
  assert.deepEqual(csp, [], 'CSP violations');
  assert.deepEqual(page.problems, [], 'console/page errors');
}

/** Frame pixels by colour family: black, cyan (+ in the dark palette), orange (−), other. */
async function darkCensus(page) {
  return page.evaluate(() => {
    const src = document.getElementById('frame');
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    const g = c.getContext('2d');
    g.drawImage(src, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const n = { black: 0, cyan: 0, orange: 0, other: 0, total: c.width * c.height };
    for (let i = 0; i < d.length; i += 4) {
      const [r, gr, b] = [d[i], d[i + 1], d[i + 2]];
      if (r === 0 && gr === 0 && b === 0) n.black += 1;
      else if (r < 40 && gr > 150 && b > 220) n.cyan += 1;
      else if (r > 220 && gr > 50 && gr < 130 && b < 40) n.orange += 1;
      else n.other += 1;
    }
    return n;
  });
}

describe('dark palette', () => {
  test('empty window is all black; busy window has cyan and orange; palette=dark survives reopening', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const empty = manifestWindow(fx.id, 'inside_gap_no_events');
    const busy = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(browser);
    let hook = await open(page, viewerUrl(site.origin, {
      url: DATA_URL + fx.file, t: empty.from, dt: empty.to - empty.from,
    }) + '&palette=dark');
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.palette, 'dark');
    assert.equal(await page.locator('#palette-select').inputValue(), 'dark');
    let c = await darkCensus(page);
    assert.equal(c.black, c.total);

    // The default palette is DSEC: the select switches to dark and the address follows.
    hook = await open(page, viewerUrl(site.origin, {
      url: DATA_URL + fx.file, t: busy.from, dt: busy.to - busy.from,
    }));
    assert.equal(hook.palette, 'dsec');
    assert.equal(new URL(page.url()).searchParams.get('palette'), null);
    await page.selectOption('#palette-select', 'dark');
    assert.equal(new URL(page.url()).searchParams.get('palette'), 'dark');
    c = await darkCensus(page);
    const px = hook.pixels;
    assert.equal(c.cyan, px.positive);
    assert.equal(c.orange, px.negative);
    assert.equal(c.black, c.total - px.active);
    assert.equal(c.other, 0);

    const fresh = await newPage(browser);
    const again = await open(fresh, page.url());
    assert.equal(again.status, 'ready', again.error);
    assert.equal(again.palette, 'dark');
    assert.deepEqual(await darkCensus(fresh), c);
    assert.equal(new URL(fresh.url()).searchParams.get('palette'), 'dark');
    // Stepping keeps the palette in the address.
    await after(fresh, () => fresh.keyboard.press('ArrowRight'));
    assert.equal(new URL(fresh.url()).searchParams.get('palette'), 'dark');
    await assertClean(page);
    await assertClean(fresh);
    await fresh.close();
    await page.close();
  });
});

describe('play/pause', () => {
  /** Waits until playing stopped and the last load finished; returns the hook. */
  async function stopped(page) {
    await page.waitForFunction(
      () => window.strobe && !window.strobe.playing && document.body.dataset.status === 'ready'
        && window.strobe.window && window.strobe.window.from === window.strobe.t,
      null,
      { timeout: 60000 },
    );
    return page.evaluate(() => window.strobe);
  }

  test('space plays and pauses: t advances by whole windows, the link reproduces the window', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const dt = 20000;
    const t0 = fx.info.t_first;
    const page = await newPage(browser);
    let hook = await open(page, viewerUrl(site.origin, { url: DATA_URL + fx.file, t: t0, dt }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.playing, false);
    assert.equal(hook.speed, 1);
    await page.keyboard.press('Space');
    assert.equal(await page.evaluate(() => window.strobe.playing), true);
    assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'true');
    await page.waitForTimeout(400);
    await page.keyboard.press('Space');
    hook = await stopped(page);
    const t = Number(new URL(page.url()).searchParams.get('t'));
    assert.equal(hook.t, t);
    const windows = (t - t0) / dt;
    assert.ok(Number.isInteger(windows) && windows >= 1, `advanced ${t - t0} µs`);
    // At 1× a 20 ms window takes 20 ms: 400 ms of playing is at most 20 windows (+1 at the edges).
    assert.ok(windows <= 21, `advanced ${windows} windows in 400 ms`);
    assert.equal(hook.window.from, t);
    assert.equal(hook.window.to, t + dt);

    const fresh = await newPage(browser);
    const again = await open(fresh, page.url());
    assert.equal(again.status, 'ready', again.error);
    assert.deepEqual(again.window, hook.window);
    await assertClean(page);
    await assertClean(fresh);
    await fresh.close();
    await page.close();
  });

  test('the play button and the speed select: at 1/100× a 50 ms window lasts 5 s', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(browser);
    let hook = await open(page, viewerUrl(site.origin, {
      url: DATA_URL + fx.file, t: w.from, dt: 50000,
    }));
    await page.selectOption('#speed-select', '0.01');
    assert.equal(await page.evaluate(() => window.strobe.speed), 0.01);
    await page.click('#play');
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => window.strobe.t), w.from, 'not advanced yet');
    await page.click('#play');
    hook = await stopped(page);
    assert.equal(hook.t, w.from);
    // At 1/10× the first step comes after 500 ms.
    await page.selectOption('#speed-select', '0.1');
    const seq = await page.evaluate(() => window.strobe.seq);
    await page.click('#play');
    hook = await settled(page, seq);
    await page.click('#play');
    hook = await stopped(page);
    assert.ok(hook.t >= w.from + 50000 && (hook.t - w.from) % 50000 === 0, String(hook.t));
    assert.deepEqual(hook.window.from, hook.t);
    await assertClean(page);
    await page.close();
  });
});
