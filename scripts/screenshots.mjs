// Retakes the README's screenshots from the page as it is now: docs/screenshot.png (the
// busiest 50 ms of a DSEC fixture, polarity) and docs/screenshot-cloud.png (the same window as
// the 3D cloud with its axes), at 1280×720 in headless Chromium.
//
//   bash scripts/build-site.sh && cargo build --bin strobe
//   .venv/bin/python tests/fixtures/make_fixtures.py tests/fixtures/out   # if not there yet
//   node scripts/screenshots.mjs
//
// Serves tests/fixtures/out and the page itself (target/debug/strobe serve, on free loopback
// ports), so it needs nothing running. Env: STROBE_CHROMIUM (default /usr/bin/chromium).

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const freePort = () => new Promise((done, fail) => {
  const s = createServer();
  s.once('error', fail);
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => done(port));
  });
});

const dataPort = await freePort();
process.env.STROBE_E2E_PORT = String(await freePort());
process.env.STROBE_TEST_DATA_URL = `http://127.0.0.1:${dataPort}/data/`;
// helpers.mjs reads the ports when it loads, so it is imported after they are set.
const {
  DATA_URL, FIXTURES, ROOT, fixture, launchBrowser, manifestWindow, open, startSite, viewerUrl,
} = await import('../tests/e2e/helpers.mjs');

const bin = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'strobe');
const data = spawn(bin, ['serve', '--data', FIXTURES, '--port', String(dataPort), '--bind', '127.0.0.1'],
  { stdio: 'ignore' });
const site = await startSite();
const browser = await launchBrowser();
try {
  for (let i = 0; i < 100; i += 1) {
    const ok = await fetch(`${DATA_URL}manifest.json`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => { setTimeout(r, 50); });
  }
  const fx = fixture('dsec_full_bitshuffle');
  const w = manifestWindow(fx.id, '50ms_busiest');
  const shots = [
    { file: 'docs/screenshot.png', mode: 'polarity' },
    { file: 'docs/screenshot-cloud.png', mode: 'cloud' },
  ];
  for (const shot of shots) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const hook = await open(page, viewerUrl(site.origin,
      { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from, mode: shot.mode }));
    if (hook.status !== 'ready') throw new Error(`${shot.file}: the page says ${hook.error}`);
    // The timeline's curve is drawn once the rate has arrived.
    await page.waitForFunction(() => window.strobe.rate !== null, null, { timeout: 30000 });
    await page.screenshot({ path: join(ROOT, shot.file) });
    process.stderr.write(`screenshots: wrote ${shot.file}\n`);
    await page.close();
  }
} finally {
  await browser.close();
  await site.stop();
  data.kill('SIGTERM');
}
