// Failure states that help (issue 17 item 4) and the layout (item 5): after a failure no
// empty canvas and nothing to press that cannot work; a CORS-specific message; URLs without a
// scheme; an empty recording; the page at 1280×720 and 800×600; small sensors enlarged.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after as afterAll, before, describe, test } from 'node:test';

import {
  DATA_URL, FIXTURES, ROOT, digestOf, fixture, manifestWindow, newPage, open, settled,
  viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();
/** A plain `python -m http.server`: no CORS headers. */
const PLAIN_PORT = Number(process.env.STROBE_E2E_PLAIN_PORT ?? 8771) + 1;
let plain = null;

before(async () => {
  plain = spawn(join(ROOT, '.venv', 'bin', 'python'), ['-m', 'http.server', String(PLAIN_PORT),
    '--bind', '127.0.0.1', '--directory', FIXTURES], { stdio: 'ignore' });
  for (let i = 0; i < 100; i += 1) {
    try {
      if ((await fetch(`http://127.0.0.1:${PLAIN_PORT}/manifest.json`)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('python -m http.server did not start');
});
afterAll(() => plain?.kill());

/** What a failed page offers: the frame hidden, play/PNG/NPZ/copy link disabled. */
async function failedState(page) {
  return page.evaluate(() => {
    const visible = (id) => {
      const el = document.getElementById(id);
      return Boolean(el && el.offsetParent !== null && el.getBoundingClientRect().height > 0);
    };
    const disabled = (id) => document.getElementById(id).disabled;
    return {
      frame: visible('frame'),
      timeline: visible('timeline'),
      play: disabled('play'),
      png: disabled('save-png'),
      npz: disabled('save-npz'),
      copy: disabled('copy-link'),
    };
  });
}

const FAILED = { frame: false, timeline: false, play: true, png: true, npz: true, copy: true };

describe('failure states', () => {
  test('no CORS: a CORS-specific message without "try again later"; nothing to press', async () => {
    const fx = fixture('vector');
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin,
      { url: `http://127.0.0.1:${PLAIN_PORT}/${fx.file}`, dt: 50000 }));
    assert.equal(hook.status, 'error');
    const shown = await page.locator('#error').textContent();
    assert.match(shown, /answers, but does not let this page read/);
    assert.match(shown, /Access-Control-Allow-Origin/);
    assert.match(shown, /Content-Range/);
    assert.doesNotMatch(shown, /try again/i);
    assert.deepEqual(await failedState(page), FAILED);
    await page.close();
  });

  test('a server that is down is not called a CORS problem', async () => {
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin,
      { url: 'http://127.0.0.1:9/events.h5', dt: 50000 }));
    assert.equal(hook.status, 'error');
    assert.doesNotMatch(await page.locator('#error').textContent(), /answers, but/);
    assert.deepEqual(await failedState(page), FAILED);
    await page.close();
  });

  test('a 404 hides the canvas and disables the outputs, and a good URL brings them back', async () => {
    const fx = fixture('vector');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(ctx.site.origin,
      { url: `${DATA_URL}missing.h5`, dt: 50000 }));
    assert.equal(hook.status, 'error');
    assert.deepEqual(await failedState(page), FAILED);
    hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(hook.window, digestOf(w));
    assert.deepEqual(await failedState(page),
      { frame: true, timeline: true, play: false, png: false, npz: false, copy: false });
    await page.close();
  });

  test('a URL without a scheme gets http:// (this machine) and the page says so', async () => {
    const fx = fixture('vector');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const bare = (DATA_URL + fx.file).replace(/^http:\/\//, '');
    const page = await newPage(ctx.browser);
    await page.goto(`${ctx.site.origin}/index.html`);
    const idle = await settled(page);
    await page.fill('#url-input', bare);
    await page.keyboard.press('Enter');
    const hook = await settled(page, idle.seq);
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.url, DATA_URL + fx.file, 'not resolved onto the viewer\'s own origin');
    assert.equal(hook.recording.events, fx.info.events);
    assert.match(await page.locator('#notice').textContent(),
      new RegExp(`no scheme given: opened as http://${bare.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const moved = await settled(page, (await page.evaluate(async (t) => {
      const s = window.strobe.seq;
      document.getElementById('goto-input').value = String(t);
      document.getElementById('goto-form').requestSubmit();
      return s;
    }, w.from)));
    assert.deepEqual(moved.window, digestOf(w));
    await page.close();
  });

  test('an empty recording says it has no events and invents no sensor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strobe-empty-'));
    const path = join(dir, 'empty.h5');
    const made = spawnSync(join(ROOT, '.venv', 'bin', 'python'), ['-c', `
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], 'w') as f:
    g = f.create_group('events')
    for name, dtype in (('x', 'u2'), ('y', 'u2'), ('t', 'i8'), ('p', 'u1')):
        g.create_dataset(name, shape=(0,), maxshape=(None,), chunks=(1024,), dtype=dtype)
`, path], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const page = await newPage(ctx.browser);
    await page.goto(`${ctx.site.origin}/index.html`);
    const idle = await settled(page);
    await page.setInputFiles('#file-input', path);
    const hook = await settled(page, idle.seq);
    assert.equal(hook.status, 'empty', hook.error);
    assert.equal(hook.recording.events, 0);
    assert.match(await page.locator('#notice').textContent(), /this recording has no events/);
    const panel = await page.locator('#rec-panel').textContent();
    assert.doesNotMatch(panel, /640 × 480/);
    assert.deepEqual(await failedState(page), FAILED);
    await page.close();
  });

  test('columns not found by name: the page lists the datasets, and the ones picked give h5py\'s window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strobe-cols-'));
    const path = join(dir, 'odd_names.h5');
    // Event columns under names no layout knows, next to a decoy; h5py's digest of a window.
    const made = spawnSync(join(ROOT, '.venv', 'bin', 'python'), ['-c', `
import h5py, numpy as np, sys, json
rng = np.random.default_rng(7)
n = 50000
t = np.sort(rng.integers(1000, 2_001_000, n)).astype('i8')
x = rng.integers(0, 320, n).astype('u2'); y = rng.integers(0, 240, n).astype('u2')
p = rng.integers(0, 2, n).astype('u1')
with h5py.File(sys.argv[1], 'w') as f:
    g = f.create_group('cam0')
    for name, v in (('xs', x), ('ys', y), ('stamp_us', t), ('pol', p)):
        g.create_dataset(name, data=v, chunks=(4096,))
    f.create_dataset('cam0/exposure', data=np.arange(10, dtype='f4'))
a, b = 500_000, 550_000
i, j = np.searchsorted(t, a), np.searchsorted(t, b)
print(json.dumps({'from': a, 'to': b, 'events': int(j - i), 'first_index': int(i),
  'sum_x': int(x[i:j].astype('i8').sum()), 'sum_y': int(y[i:j].astype('i8').sum()),
  'sum_t': int(t[i:j].sum()), 'sum_p': int(p[i:j].astype('i8').sum()), 'positive': int((p[i:j] > 0).sum())}))
`, path], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const want = JSON.parse(made.stdout);
    const page = await newPage(ctx.browser);
    await page.goto(`${ctx.site.origin}/index.html?dt=50000`);
    const idle = await settled(page);
    await page.setInputFiles('#file-input', path);
    let hook = await settled(page, idle.seq);
    assert.equal(hook.status, 'error');
    assert.doesNotMatch(hook.error, /--x/, 'no advice to use flags the page does not have');
    await page.locator('#columns-form').waitFor({ state: 'visible' });
    const offered = await page.locator('#column-t option').allTextContents();
    assert.ok(offered.some((o) => o.startsWith('/cam0/stamp_us (i8, 50000 rows)')), offered.join(' | '));
    await page.selectOption('#column-x', '/cam0/xs');
    await page.selectOption('#column-y', '/cam0/ys');
    await page.selectOption('#column-t', '/cam0/stamp_us');
    await page.selectOption('#column-p', '/cam0/pol');
    const before = hook.seq;
    await page.click('#columns-form button[type=submit]');
    hook = await settled(page, before);
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.recording.events, 50000);
    assert.equal(new URL(page.url()).searchParams.get('cols'), '/cam0/xs,/cam0/ys,/cam0/stamp_us,/cam0/pol');
    // The window h5py counted, by the go-to field.
    const seq = hook.seq;
    await page.fill('#goto-input', String(want.from));
    await page.keyboard.press('Enter');
    hook = await settled(page, seq);
    assert.deepEqual(hook.window, want);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('reloading a local file\'s view says to pick the file again', async () => {
    const page = await newPage(ctx.browser);
    const hook = await open(page, `${ctx.site.origin}/index.html?t=5000&dt=50000&mode=polarity`);
    assert.equal(hook.status, 'idle');
    assert.match(await page.locator('#notice').textContent(), /pick the file again/);
    await page.close();
  });
});

describe('layout', () => {
  for (const [width, height] of [[1280, 720], [800, 600]]) {
    test(`at ${width}×${height} the controls, the frame and the timeline fit without scrolling`, async () => {
      const fx = fixture('dsec_full_bitshuffle');
      const page = await newPage(ctx.browser);
      await page.setViewportSize({ width, height });
      const hook = await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, dt: 50000 }));
      assert.equal(hook.status, 'ready', hook.error);
      const boxes = await page.evaluate(() => Object.fromEntries(['frame', 'timeline', 'play', 'goto-input', 'save-npz']
        .map((id) => {
          const r = document.getElementById(id).getBoundingClientRect();
          return [id, { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height }];
        })));
      for (const [id, b] of Object.entries(boxes)) {
        assert.ok(b.top >= 0 && b.bottom <= height && b.right <= width, `${id} ${JSON.stringify(b)} inside ${width}×${height}`);
      }
      // The frame takes the room left: at least 40 % of the window's height.
      assert.ok(boxes.frame.height >= 0.4 * height, `frame ${boxes.frame.height} px high`);
      await page.close();
    });
  }

  test('"fit" enlarges a small sensor (304×240) to the stage, pixels kept square', async () => {
    const fx = fixture('rvt');
    const page = await newPage(ctx.browser);
    await page.setViewportSize({ width: 1280, height: 720 });
    const hook = await open(page, viewerUrl(ctx.site.origin, { url: DATA_URL + fx.file, dt: 50000 }));
    assert.equal(hook.status, 'ready', hook.error);
    const r = await page.evaluate(() => {
      const c = document.getElementById('frame');
      const b = c.getBoundingClientRect();
      return { w: c.width, h: c.height, cssW: b.width, cssH: b.height };
    });
    assert.deepEqual([r.w, r.h], [304, 240]);
    assert.ok(r.cssW > 1.5 * r.w, `shown ${r.cssW} px wide for 304 sensor pixels`);
    assert.ok(Math.abs(r.cssW / r.cssH - 304 / 240) < 0.02, 'aspect kept');
    await page.close();
  });
});
