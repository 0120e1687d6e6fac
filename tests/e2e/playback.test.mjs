// Real-time playback (issue 17 item 3): windows are due on a clock; a network too slow for
// it makes the player skip to the window due (never show one behind time) and say it is
// behind; the time label and the Window panel agree on every window shown.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DATA_URL, fixture, newPage, open, viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();
const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

describe('playback', () => {
  test('a slow network: windows skipped to stay in time, "behind" shown, label and panel agree', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const dt = 50000;
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: fx.info.t_first, dt }));
    assert.equal(hook.status, 'ready', hook.error);
    // Every window shown: what the label says and what the Window panel says, at that moment.
    await page.evaluate(() => {
      window.__shown = [];
      new MutationObserver(() => {
        const label = /^t = (-?\d+) µs/.exec(document.getElementById('t-label').textContent);
        const panel = /\[(-?\d+), (-?\d+)\) µs/.exec(document.getElementById('win-panel').textContent);
        if (panel) window.__shown.push({ label: label && Number(label[1]), from: Number(panel[1]) });
      }).observe(document.getElementById('win-panel'), { childList: true });
    });
    // From here every data request takes 700 ms: more than the ~300 ms the player fetches ahead.
    const data = new URL(DATA_URL);
    await page.route((u) => u.origin === data.origin, async (route) => {
      await sleep(700);
      await route.continue().catch(() => {});
    });
    await page.click('#play');
    await page.waitForFunction(() => window.strobe.play && window.strobe.play.shown >= 3 && window.strobe.play.skipped > 0, null,
      { timeout: 60000 });
    const rate = await page.locator('#play-rate').textContent();
    // Stop it — unless it reached the recording's end by itself meanwhile (a slow machine): a
    // click then would start a new play and reset what the first one achieved.
    // Checked and clicked in one turn of the page's event loop, so the two cannot race.
    await page.evaluate(() => { if (window.strobe.playing) document.getElementById('play').click(); });
    await page.waitForFunction(() => !window.strobe.playing);
    const { play } = await page.evaluate(() => window.strobe);
    assert.ok(play.skipped > 0, `skipped ${play.skipped}`);
    assert.ok(play.shown < play.due, JSON.stringify(play));
    assert.ok(play.effective > 0 && play.effective <= 1.05, JSON.stringify(play));
    assert.match(rate, /^behind: [\d.]+× of 1× · \d+\/\d+ windows$/);
    const shown = await page.evaluate(() => window.__shown);
    assert.ok(shown.length >= 3, JSON.stringify(shown));
    for (const s of shown) {
      assert.equal(s.label, s.from, 'time label and Window panel name the same window');
      assert.equal((s.from - fx.info.t_first) % dt, 0, 'whole windows from the start');
    }
    // Stopped: the address names the window shown.
    const now = await page.evaluate(() => window.strobe);
    assert.equal(Number(new URL(page.url()).searchParams.get('t')), now.t);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.close();
  });
});
