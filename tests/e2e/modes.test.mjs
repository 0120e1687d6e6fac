// Display modes of the viewer page: the dark palette, play/pause, the time surface.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DATA_URL, after, canvasCensus, fixture, manifestWindow, newPage, open, settled, viewerUrl,
  siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

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
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin, {
      url: DATA_URL + fx.file, t: empty.from, dt: empty.to - empty.from,
    }) + '&palette=dark');
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.palette, 'dark');
    assert.equal(await page.locator('#palette-select').inputValue(), 'dark');
    let c = await darkCensus(page);
    assert.equal(c.black, c.total);

    // The default palette is DSEC: the select switches to dark and the address follows.
    hook = await open(page, viewerUrl(ctx.site.origin, {
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

    const fresh = await newPage(ctx.browser);
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
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, t: t0, dt }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.playing, false);
    assert.equal(hook.speed, 1);
    // The page's own clock at play and at pause: the windows shown can be no more than those
    // due in between (no fixed wall-time budget).
    await page.evaluate(() => {
      document.addEventListener('keydown', (e) => {
        if (e.key === ' ') (window.__spaces ??= []).push(performance.now());
      }, { capture: true });
    });
    await page.keyboard.press('Space');
    assert.equal(await page.evaluate(() => window.strobe.playing), true);
    assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'true');
    await page.waitForFunction((t) => window.strobe.t >= t, t0 + 3 * dt, { timeout: 30000 });
    await page.keyboard.press('Space');
    hook = await stopped(page);
    const [pressed, paused] = await page.evaluate(() => window.__spaces);
    const t = Number(new URL(page.url()).searchParams.get('t'));
    assert.equal(hook.t, t);
    const windows = (t - t0) / dt;
    assert.ok(Number.isInteger(windows) && windows >= 1, `advanced ${t - t0} µs`);
    // At 1× a 20 ms window is due every 20 ms after play: never ahead of that clock.
    const due = Math.floor((paused - pressed) / (dt / 1000)) + 1;
    assert.ok(windows <= due, `advanced ${windows} windows with ${due} due`);
    assert.ok(hook.play.shown <= hook.play.due, JSON.stringify(hook.play));
    assert.equal(hook.window.from, t);
    assert.equal(hook.window.to, t + dt);

    const fresh = await newPage(ctx.browser);
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
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin, {
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

describe('time surface', () => {
  /** Indices of pixels that are not `bg` (an [r, g, b]) in a census's RGBA buffer. */
  function lit(census, bg) {
    const out = new Set();
    const d = census.pixels;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] !== bg[0] || d[i + 1] !== bg[1] || d[i + 2] !== bg[2]) out.add(i / 4);
    }
    return out;
  }

  test('recent events are brighter than old ones; tau= is in the link; an empty window is black', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const a = w.from;
    const dt = 50000;
    const half = dt / 2;
    const url = DATA_URL + fx.file;
    const page = await newPage(ctx.browser);
    // Which pixels have events in each half of the window (polarity mode: lit = not white).
    let hook = await open(page, viewerUrl(ctx.site.origin, { url, t: a + half, dt: half }));
    assert.equal(hook.status, 'ready', hook.error);
    const recent = lit(await canvasCensus(page), [255, 255, 255]);
    hook = await open(page, viewerUrl(ctx.site.origin, { url, t: a, dt: half }));
    const early = lit(await canvasCensus(page), [255, 255, 255]);
    const old = [...early].filter((i) => !recent.has(i));
    assert.ok(recent.size > 100 && old.length > 100, `${recent.size} recent, ${old.length} old`);

    hook = await open(page, viewerUrl(ctx.site.origin, { url, t: a, dt, mode: 'timesurface' })
      + '&tau=10000');
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.mode, 'timesurface');
    assert.equal(hook.tau, 10000);
    assert.equal(new URL(page.url()).searchParams.get('tau'), '10000');
    assert.ok(await page.locator('#tau-pick').isVisible());
    const surface = await canvasCensus(page);
    // Grey; black exactly where no event was (exp(-dt/tau) still rounds to >= 1/255).
    assert.equal(surface.black, surface.width * surface.height - hook.pixels.active);
    const grey = (i) => surface.pixels[4 * i];
    for (let i = 0; i < surface.pixels.length; i += 4) {
      assert.equal(surface.pixels[i], surface.pixels[i + 1]);
      assert.equal(surface.pixels[i], surface.pixels[i + 2]);
    }
    // Last event within dt/2 of the end: exp(-2.5) or brighter; older: darker.
    const recentGrey = [...recent].map(grey);
    const oldGrey = old.map(grey);
    const mean = (v) => v.reduce((x, y) => x + y, 0) / v.length;
    assert.ok(Math.min(...recentGrey) + 1 >= Math.max(...oldGrey),
      `min recent ${Math.min(...recentGrey)}, max old ${Math.max(...oldGrey)}`);
    assert.ok(mean(recentGrey) > 2 * mean(oldGrey), `${mean(recentGrey)} vs ${mean(oldGrey)}`);
    assert.ok(Math.min(...recentGrey) >= 20 && Math.max(...oldGrey) <= 22);

    // Differs from polarity and heatmap.
    await page.selectOption('#mode-select', 'heatmap');
    assert.notDeepEqual((await canvasCensus(page)).pixels, surface.pixels);
    assert.ok(!(await page.locator('#tau-pick').isVisible()));
    await page.selectOption('#mode-select', 'polarity');
    assert.notDeepEqual((await canvasCensus(page)).pixels, surface.pixels);
    assert.equal(new URL(page.url()).searchParams.get('tau'), null);
    await page.selectOption('#mode-select', 'timesurface');
    assert.deepEqual((await canvasCensus(page)).pixels, surface.pixels);

    // A longer tau brightens old pixels; the link carries it.
    await page.selectOption('#tau-select', '100000');
    assert.equal(new URL(page.url()).searchParams.get('tau'), '100000');
    const slow = await canvasCensus(page);
    assert.ok(mean(old.map((i) => slow.pixels[4 * i])) > mean(oldGrey) + 50);
    const fresh = await newPage(ctx.browser);
    const again = await open(fresh, page.url());
    assert.equal(again.tau, 100000);
    assert.deepEqual((await canvasCensus(fresh)).pixels, slow.pixels);

    // An empty window is all black.
    const gap = manifestWindow(fx.id, 'inside_gap_no_events');
    await open(fresh, viewerUrl(ctx.site.origin, {
      url, t: gap.from, dt: gap.to - gap.from, mode: 'timesurface',
    }));
    const empty = await canvasCensus(fresh);
    assert.equal(empty.black, empty.width * empty.height);
    await assertClean(page);
    await assertClean(fresh);
    await fresh.close();
    await page.close();
  });
});
