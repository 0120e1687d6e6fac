// The viewer page in headless Chromium: links, stepping, local files, errors and drawing,
// checked against h5py's digests (tests/fixtures/out/manifest.json).

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import {
  ARTIFACTS, DATA_URL, FIXTURES, after, canvasCensus, digestOf, fixture, manifestWindow, newPage,
  open, settled, viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

before(() => {
  mkdirSync(ARTIFACTS, { recursive: true });
});

function recordingOf(fx) {
  const { events, t_first, t_last, t_offset, width, height } = fx.info;
  return { events, t_first, t_last, t_offset, width, height, layout: fx.layout };
}

/** No page errors, console errors or CSP violations. */
async function assertClean(page) {
  const csp = await page.evaluate(() => window.__csp ?? []);
  assert.deepEqual(csp, [], 'CSP violations');
  assert.deepEqual(page.problems, [], 'console/page errors');
}

describe('open by link', () => {
  const cases = [
    ['dsec_full_bitshuffle', '50ms_busiest'],
    ['dsec_full_bitshuffle', '50ms_unaligned_middle'],
    ['dsec_full_bitshuffle', 'tiny_1us_single_event'],
    ['dsec_full_bitshuffle', 'inside_gap_no_events'],
    ['dsec_full_bitshuffle', 'chunk[x,y]len=15632:dup_straddles_boundary_1us'],
    ['dsec_append_byteshuffle', '50ms_busiest'],
    ['tumvie', '50ms_busiest'],
    ['rvt', '50ms_unaligned_middle'],
    ['generic', '50ms_unaligned_middle'],
    ['vector', '10ms_aligned'],
  ];
  for (const [id, label] of cases) {
    test(`${id} ${label}: window.strobe.window equals h5py's digest`, async () => {
      const fx = fixture(id);
      const w = manifestWindow(id, label);
      const page = await newPage(ctx.browser);
      const hook = await open(page, viewerUrl(ctx.site.origin, {
        url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from,
      }));
      assert.equal(hook.status, 'ready', hook.error);
      assert.equal(hook.error, null);
      assert.deepEqual(hook.window, digestOf(w));
      assert.deepEqual(hook.recording, recordingOf(fx));
      assert.ok(hook.net.requests > 0 && hook.net.bytes > 0 && hook.net.rounds > 0);
      assert.ok(hook.net.bytes < fx.bytes, 'read less than the whole file');
      await assertClean(page);
      await page.close();
    });
  }

  test('camera= picks an M3ED camera; the camera select switches and keeps the window', async () => {
    const right = fixture('m3ed_right');
    const left = fixture('m3ed_left');
    const w = right.windows.find((x) => x.events > 1000 && x.to - x.from <= 100000);
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin, {
      url: DATA_URL + right.file, t: w.from, dt: w.to - w.from,
    }) + '&camera=right');
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.camera, 'right');
    assert.deepEqual(hook.recording, recordingOf(right));
    assert.deepEqual(hook.window, digestOf(w));
    assert.ok(await page.locator('#camera-pick').isVisible());

    hook = await after(page, () => page.selectOption('#camera-select', 'left'));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.camera, 'left');
    assert.deepEqual(hook.recording, recordingOf(left));
    assert.equal(hook.window.from, w.from);
    assert.equal(new URL(page.url()).searchParams.get('camera'), 'left');
    hook = await after(page, () => page.goBack());
    assert.equal(hook.camera, 'right');
    assert.deepEqual(hook.window, digestOf(w));
    await assertClean(page);
    await page.close();
  });

  test('without t the window starts at the first event; dt defaults to 50 ms', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(hook.window, digestOf(manifestWindow(fx.id, '50ms_from_first')));
    const q = new URL(page.url()).searchParams;
    assert.equal(q.get('url'), DATA_URL + fx.file);
    assert.equal(q.get('t'), String(fx.info.t_first));
    assert.equal(q.get('dt'), '50000');
    assert.equal(q.get('mode'), 'polarity');
    await page.close();
  });
});

describe('navigation', () => {
  test('→ steps one window, the link reproduces it, ← and back return', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const dt = w.to - w.from;
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, t: w.from, dt }));
    assert.deepEqual(hook.window, digestOf(w));

    hook = await after(page, () => page.keyboard.press('ArrowRight'));
    assert.equal(hook.status, 'ready', hook.error);
    const q = new URL(page.url()).searchParams;
    assert.equal(q.get('t'), String(w.from + dt));
    assert.equal(q.get('dt'), String(dt));
    assert.equal(hook.window.from, w.from + dt);
    assert.equal(hook.window.to, w.from + 2 * dt);
    assert.ok(hook.window.events > 0);
    // Events of consecutive windows follow each other.
    assert.equal(hook.window.first_index, w.first_index + w.events);
    const stepped = hook.window;

    // The address alone gives the same window in a fresh page.
    const fresh = await newPage(ctx.browser);
    const again = await open(fresh, page.url());
    assert.deepEqual(again.window, stepped);
    await fresh.close();

    hook = await after(page, () => page.click('#prev'));
    assert.deepEqual(hook.window, digestOf(w));
    hook = await after(page, () => page.click('#next'));
    assert.deepEqual(hook.window, stepped);
    hook = await after(page, () => page.goBack());
    assert.deepEqual(hook.window, digestOf(w));
    assert.equal(new URL(page.url()).searchParams.get('t'), String(w.from));
    hook = await after(page, () => page.goForward());
    assert.deepEqual(hook.window, stepped);
    await assertClean(page);
    await page.close();
  });

  test('window length select and timeline click update the window and the address', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const page = await newPage(ctx.browser);
    await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, t: 534000, dt: 50000 }));
    let hook = await after(page, () => page.selectOption('#dt-select', '10000'));
    assert.deepEqual(hook.window, digestOf(manifestWindow(fx.id, '10ms_aligned')));
    assert.equal(new URL(page.url()).searchParams.get('dt'), '10000');
    // The select gives the keys back: → steps by the new length.
    hook = await after(page, () => page.keyboard.press('ArrowRight'));
    assert.equal(hook.window.from, 544000);
    assert.equal(hook.window.to, 554000);

    const box = await page.locator('#timeline').boundingBox();
    hook = await after(page, () => page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2));
    assert.equal(hook.status, 'ready', hook.error);
    const { t_first, t_last } = fx.info;
    const expected = t_first + 0.75 * (t_last + 1 - t_first) - 5000;
    assert.ok(Math.abs(hook.window.from - expected) < (t_last - t_first) / 100,
      `seek landed at ${hook.window.from}, wanted about ${expected}`);
    assert.equal(hook.window.to - hook.window.from, 10000);
    assert.equal(new URL(page.url()).searchParams.get('t'), String(hook.window.from));
    await assertClean(page);
    await page.close();
  });

  test('dragging along the timeline seeks as it goes and lands where it is let go', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const page = await newPage(ctx.browser);
    await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, t: 534000, dt: 10000 }));
    const box = await page.locator('#timeline').boundingBox();
    const y = box.y + box.height / 2;
    const { t_first, t_last } = fx.info;
    const at = (f) => t_first + f * (t_last + 1 - t_first) - 5000;
    const seen = new Set();
    await page.mouse.move(box.x + box.width * 0.2, y);
    await page.mouse.down();
    for (let i = 1; i <= 8; i += 1) {
      await page.mouse.move(box.x + box.width * (0.2 + 0.05 * i), y);
      await page.waitForTimeout(150);
      seen.add(new URL(page.url()).searchParams.get('t'));
    }
    await page.mouse.up();
    await page.waitForFunction((want) => document.body.dataset.status === 'ready'
      && Math.abs(window.strobe.window.from - want) < 20000, at(0.6), { timeout: 30000 });
    const hook = await page.evaluate(() => window.strobe);
    const tol = (t_last - t_first) / 100;
    assert.ok(Math.abs(hook.window.from - at(0.6)) < tol, `landed at ${hook.window.from}`);
    assert.ok(seen.size >= 3, `the drag seeked along the way (${[...seen]})`);
    assert.equal(new URL(page.url()).searchParams.get('t'), String(hook.window.from));
    await assertClean(page);
    await page.close();
  });

  test('copy link puts the address of the current window on the clipboard', async () => {
    const fx = fixture('vector');
    const context = await ctx.browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, dt: 20000 }));
    await after(page, () => page.keyboard.press('ArrowRight'));
    await page.click('#copy-link');
    await page.waitForFunction(() => document.getElementById('copy-status').textContent !== '');
    assert.equal(await page.locator('#copy-status').textContent(), 'link copied');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, page.url());
    const q = new URL(copied).searchParams;
    assert.equal(q.get('url'), DATA_URL + fx.file);
    assert.equal(q.get('t'), String(fx.info.t_first + 20000));
    assert.equal(q.get('dt'), '20000');
    assert.equal(q.get('mode'), 'polarity');
    await context.close();
  });

  test('without url the landing view offers a URL box and a file picker', async () => {
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin));
    assert.equal(hook.status, 'idle');
    assert.ok(await page.locator('#landing').isVisible());
    assert.ok(await page.locator('#url-input').isVisible());
    assert.equal(await page.locator('#file-input').count(), 1);
    assert.ok(await page.locator('#viewer').isHidden());

    // The URL box opens a recording.
    const fx = fixture('vector');
    await page.fill('#url-input', DATA_URL + fx.file);
    const opened = await after(page, () => page.click('#open-form button[type=submit]'));
    assert.equal(opened.status, 'ready', opened.error);
    assert.deepEqual(opened.recording, recordingOf(fx));
    assert.equal(new URL(page.url()).searchParams.get('url'), DATA_URL + fx.file);
    await assertClean(page);
    await page.close();
  });
});

describe('local file', () => {
  test('a file chosen in the picker gives the same digest as over HTTP', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const page = await newPage(ctx.browser);
    await open(page, viewerUrl(ctx.site.origin));
    const hook = await after(page, () => page.setInputFiles('#file-input', join(FIXTURES, fx.file)));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(hook.recording, recordingOf(fx));
    assert.deepEqual(hook.window, digestOf(manifestWindow(fx.id, '50ms_from_first')));
    assert.equal(hook.url, null);
    assert.equal(new URL(page.url()).searchParams.get('url'), null, 'no url for a local file');
    assert.ok(await page.locator('#copy-link').isDisabled());

    // Stepping works on the file too.
    const w = manifestWindow(fx.id, '50ms_from_first');
    const next = await after(page, () => page.keyboard.press('ArrowRight'));
    assert.equal(next.window.from, w.to);
    assert.equal(next.window.first_index, w.first_index + w.events);
    await assertClean(page);
    await page.close();
  });

  test('a file dropped on the page opens like a picked one', async () => {
    const fx = fixture('vector');
    const page = await newPage(ctx.browser);
    await open(page, viewerUrl(ctx.site.origin));
    const hook = await after(page, () => page.evaluate(async (url) => {
      const blob = await (await fetch(url)).blob();
      const transfer = new DataTransfer();
      transfer.items.add(new File([blob], 'dropped.h5'));
      document.body.dispatchEvent(new DragEvent('drop', {
        dataTransfer: transfer, bubbles: true, cancelable: true,
      }));
    }, DATA_URL + fx.file));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(hook.recording, recordingOf(fx));
    assert.deepEqual(hook.window, digestOf(manifestWindow(fx.id, '50ms_from_first')));
    assert.match(await page.locator('#rec-panel').textContent(), /dropped\.h5/);
    await assertClean(page);
    await page.close();
  });

  test('a bad local file shows the engine\'s message with its name as text', async () => {
    const page = await newPage(ctx.browser);
    await open(page, viewerUrl(ctx.site.origin));
    const name = '<img src=x onerror="window.pwned=1">.h5';
    const hook = await after(page, () => page.setInputFiles('#file-input', {
      name, mimeType: 'application/x-hdf5', buffer: readFileSync(join(FIXTURES, 'not_hdf5.h5')),
    }));
    assert.equal(hook.status, 'error');
    assert.match(hook.error, /not an HDF5 file/);
    assert.ok(hook.error.includes(name), hook.error);
    assert.equal(await page.locator('#error').textContent(), hook.error);
    assert.equal(await page.locator('#error *').count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    await page.close();
  });
});

describe('errors', () => {
  async function expectError(url, pattern) {
    const page = await newPage(ctx.browser);
    const hook = await open(page, url);
    assert.equal(hook.status, 'error');
    assert.match(hook.error, pattern);
    const shown = await page.locator('#error').textContent();
    assert.equal(shown, hook.error);
    assert.ok(await page.locator('#error').isVisible());
    // Shown as text: no elements were made from it.
    assert.equal(await page.locator('#error *').count(), 0);
    assert.deepEqual(await page.evaluate(() => window.__csp ?? []), []);
    await page.close();
    return hook;
  }

  test('404 URL', async () => {
    await expectError(viewerUrl(ctx.site.origin, { url: `${DATA_URL}no-such-file.h5` }),
      /HTTP 404/);
  });

  test('not an HDF5 file', async () => {
    await expectError(viewerUrl(ctx.site.origin, { url: `${DATA_URL}not_hdf5.h5` }),
      /not an HDF5 file/);
  });

  test('a file without event datasets', async () => {
    await expectError(viewerUrl(ctx.site.origin, { url: `${DATA_URL}no_events.h5` }),
      /no event datasets/);
    // No advice to use flags the page does not have.
    await expectError(viewerUrl(ctx.site.origin, { url: `${DATA_URL}no_events.h5` }),
      /^(?![\s\S]*pass --x)[\s\S]*datasets named x, y, t and p/);
  });

  test('an unsupported filter shows the engine\'s message', async () => {
    await expectError(viewerUrl(ctx.site.origin, { url: `${DATA_URL}unsupported_bzip2.h5` }),
      /unsupported filter/i);
  });

  test('javascript: and other schemes are rejected, nothing runs', async () => {
    for (const url of ['javascript:window.pwned=1', 'JavaScript:window.pwned=1',
      'data:text/html,<b>x</b>', 'file:///etc/passwd']) {
      const page = await newPage(ctx.browser);
      const hook = await open(page, viewerUrl(ctx.site.origin, { url }));
      assert.equal(hook.status, 'error', url);
      assert.match(hook.error, /only http: and https: URLs/);
      assert.equal(await page.evaluate(() => window.pwned), undefined);
      await page.close();
    }
    // Typed into the URL box.
    const page = await newPage(ctx.browser);
    await open(page, viewerUrl(ctx.site.origin));
    await page.fill('#url-input', 'javascript:window.pwned=1');
    const hook = await after(page, () => page.press('#url-input', 'Enter'));
    assert.equal(hook.status, 'error');
    assert.match(hook.error, /only http: and https: URLs/);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    await page.close();
  });

  test('markup in a URL is shown as text', async () => {
    const hook = await expectError(
      viewerUrl(ctx.site.origin, { url: `${DATA_URL}<img src=x onerror=window.pwned=1>.h5` }),
      /HTTP 404/,
    );
    assert.match(hook.error, /img/);
  });

  test('bad t and dt fall back to defaults with a notice', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const page = await newPage(ctx.browser);
    const hook = await open(page, `${ctx.site.origin}/index.html?url=${encodeURIComponent(DATA_URL + fx.file)}&t=abc&dt=-5`);
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(hook.window, digestOf(manifestWindow(fx.id, '50ms_from_first')));
    assert.match(await page.locator('#notice').textContent(), /t=abc/);
    await page.close();
  });
});

describe('drawing', () => {
  test('polarity and heatmap frames: colours match the counts, modes differ', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin, {
      url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from, mode: 'polarity',
    }));
    assert.equal(hook.status, 'ready', hook.error);
    const { width, height } = fx.info;
    const px = hook.pixels;
    assert.ok(px.positive > 100 && px.negative > 100, JSON.stringify(px));

    const polarity = await canvasCensus(page);
    assert.equal(polarity.width, width);
    assert.equal(polarity.height, height);
    // Every lit pixel is drawn in its majority polarity's colour, the rest white.
    assert.equal(polarity.blue, px.positive);
    assert.equal(polarity.red, px.negative);
    assert.equal(polarity.white, width * height - px.active);
    assert.equal(polarity.other + polarity.black, 0);
    const shotPolarity = await page.locator('#frame').screenshot({
      path: join(ARTIFACTS, 'frame-polarity.png'),
    });

    await page.selectOption('#mode-select', 'heatmap');
    assert.equal(new URL(page.url()).searchParams.get('mode'), 'heatmap');
    const heat = await canvasCensus(page);
    // Unlit pixels are black; lit ones are coloured by count.
    assert.equal(heat.black, width * height - px.active);
    assert.equal(heat.white + heat.blue + heat.red + heat.other, px.active);
    assert.ok(heat.other > 0);
    assert.notDeepEqual(heat.pixels, polarity.pixels);
    const shotHeat = await page.locator('#frame').screenshot({
      path: join(ARTIFACTS, 'frame-heatmap.png'),
    });
    assert.notDeepEqual(shotHeat, shotPolarity);

    // The mode survives a reload from the address.
    const again = await open(page, page.url());
    assert.equal(again.mode, 'heatmap');
    assert.equal((await canvasCensus(page)).black, heat.black);
    await assertClean(page);
    await page.close();
  });

  test('an empty window draws all white', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, 'inside_gap_no_events');
    const page = await newPage(ctx.browser);
    await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
    const c = await canvasCensus(page);
    assert.equal(c.white, fx.info.width * fx.info.height);
    await page.close();
  });

  test('screenshot of the page with a DSEC recording open', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
    const png = await page.screenshot();
    writeFileSync(join(ARTIFACTS, 'page-dsec.png'), png);
    // What the screen shows where the frame is, sampled at each sensor pixel's centre, equals
    // the canvas's own pixels (read back through a 2D canvas), and the rest of the stage is not
    // the frame's colours.
    const canvas = await canvasCensus(page);
    const shot = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const r = document.getElementById('frame').getBoundingClientRect();
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let bin = '';
      for (let i = 0; i < d.length; i += 0x8000) bin += String.fromCharCode(...d.subarray(i, i + 0x8000));
      return { width: c.width, box: { x: r.x, y: r.y, w: r.width, h: r.height }, data: btoa(bin) };
    }, png.toString('base64'));
    const screen = Buffer.from(shot.data, 'base64');
    const { width, height } = fx.info;
    let same = 0;
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const sx = Math.floor(shot.box.x + ((x + 0.5) * shot.box.w) / width);
        const sy = Math.floor(shot.box.y + ((y + 0.5) * shot.box.h) / height);
        const i = (sy * shot.width + sx) * 4;
        const j = (y * width + x) * 4;
        if (screen[i] === canvas.pixels[j] && screen[i + 1] === canvas.pixels[j + 1]
          && screen[i + 2] === canvas.pixels[j + 2]) same += 1;
      }
    }
    assert.ok(shot.box.w >= width && shot.box.h >= height, `frame shown at ${JSON.stringify(shot.box)}`);
    assert.ok(same >= 0.995 * width * height, `${same} of ${width * height} pixels on screen equal the canvas`);
    assert.ok(canvas.blue > 0 && canvas.red > 0);
    await page.close();
  });
});

test('a newer window supersedes older ones still loading', async () => {
  const fx = fixture('dsec_full_bitshuffle');
  const page = await newPage(ctx.browser);
  await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, t: 1000, dt: 50000 }));
  const seq = await page.evaluate(() => window.strobe.seq);
  // Three steps in a row without waiting: only the last window is shown.
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  // Each press starts a load (seq + 1, + 2, + 3); the hook is published by the last only.
  const hook = await settled(page, seq + 2);
  assert.equal(hook.status, 'ready', hook.error);
  assert.equal(hook.seq, seq + 3);
  assert.equal(hook.window.from, 1000 + 3 * 50000);
  const fresh = await newPage(ctx.browser);
  const again = await open(fresh, page.url());
  assert.deepEqual(again.window, hook.window);
  await fresh.close();
  await page.close();
});
