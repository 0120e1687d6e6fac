// The x-y-t point cloud (mode=cloud): drawn, unlike the flat modes, and turned by dragging.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DATA_URL, canvasCensus, fixture, manifestWindow, newPage, open, viewerUrl, siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();

describe('point cloud', () => {
  test('mode=cloud draws blue and red points, differs from the other modes, turns by drag', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    const url = { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from };
    let hook = await open(page, viewerUrl(ctx.site.origin, { ...url, mode: 'cloud' }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.mode, 'cloud');
    assert.equal(await page.locator('#mode-select').inputValue(), 'cloud');
    const cloud = await canvasCensus(page);
    const total = cloud.width * cloud.height;
    assert.ok(cloud.white < total && cloud.white > total / 4, `white ${cloud.white} of ${total}`);
    assert.ok(cloud.blue > 500, `blue ${cloud.blue}`);
    assert.ok(cloud.red > 500, `red ${cloud.red}`);

    const others = {};
    for (const mode of ['polarity', 'heatmap', 'timesurface']) {
      await page.selectOption('#mode-select', mode);
      others[mode] = await canvasCensus(page);
      assert.ok(!others[mode].pixels.equals(cloud.pixels), `cloud differs from ${mode}`);
    }
    // Back to the cloud: the same picture again (the points are the window's).
    await page.selectOption('#mode-select', 'cloud');
    assert.equal(new URL(page.url()).searchParams.get('mode'), 'cloud');
    let again = await canvasCensus(page);
    assert.ok(again.pixels.equals(cloud.pixels), 'cloud redraws the same');

    // Drag turns it.
    const box = await page.locator('#frame').boundingBox();
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const before = await page.evaluate(() => window.strobe.orbit);
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 60, cy + 20);
    await page.mouse.move(cx + 120, cy + 40);
    await page.mouse.up();
    const after = await page.evaluate(() => window.strobe.orbit);
    assert.ok(after.yaw > before.yaw, `yaw ${before.yaw} → ${after.yaw}`);
    assert.ok(after.pitch > before.pitch, `pitch ${before.pitch} → ${after.pitch}`);
    again = await canvasCensus(page);
    assert.ok(!again.pixels.equals(cloud.pixels), 'the drag turned the cloud');
    assert.ok(again.blue > 500 && again.red > 500, 'still points after turning');
    hook = await page.evaluate(() => window.strobe);
    assert.equal(hook.view, null, 'a drag in the cloud does not pan the flat view');

    // The flat modes are untouched by the cloud.
    await page.selectOption('#mode-select', 'polarity');
    const flat = await canvasCensus(page);
    assert.ok(flat.pixels.equals(others.polarity.pixels));
    assert.deepEqual(await page.evaluate(() => window.__csp ?? []), [], 'CSP violations');
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });
});

// The scene's projection as the cloud documents it (www/cloud-axes.js, the point shader),
// restated here so the test does not take the page's word for where an axis should be: the
// sensor a × 1 (a = width / height) centred at the origin, y down, t from z = -0.6 (window
// start) to +0.6 (window end); turned by Rx(pitch) · Ry(yaw); camera at 3.2, focal factor 2.6.
function project([x, y, t], { width, height, dt, orbit }) {
  const a = width / height;
  const p = [(x / width) * a - a / 2, 0.5 - y / height, (t / dt) * 1.2 - 0.6];
  const [cy, sy, cp, sp] = [Math.cos(orbit.yaw), Math.sin(orbit.yaw), Math.cos(orbit.pitch),
    Math.sin(orbit.pitch)];
  // Ry(yaw) then Rx(pitch).
  const r = [cy * p[0] + sy * p[2], p[1], -sy * p[0] + cy * p[2]];
  const q = [r[0], cp * r[1] - sp * r[2], sp * r[1] + cp * r[2]];
  const d = 3.2 - q[2];
  return { x: ((q[0] * 2.6) / a / d + 1) / 2 * width, y: (1 - (q[1] * 2.6) / d) / 2 * height };
}

/** Whether a pixel within `reach` canvas pixels of `(x, y)` has the colour `rgb` (±3). */
function hasColourNear(census, { x, y }, rgb, reach = 1) {
  for (let dy = -reach; dy <= reach; dy += 1) {
    for (let dx = -reach; dx <= reach; dx += 1) {
      const px = Math.floor(x) + dx;
      const py = Math.floor(y) + dy;
      if (px < 0 || py < 0 || px >= census.width || py >= census.height) continue;
      const i = (py * census.width + px) * 4;
      if (rgb.every((v, k) => Math.abs(census.pixels[i + k] - v) <= 3)) return true;
    }
  }
  return false;
}

/** Of points along the three axes (10 % … 90 %), those with no axis-coloured pixel there. */
function axisMisses(census, frame, rgb, shift = 0) {
  const { width, height, dt } = frame;
  const ends = { x: [width, 0, 0], y: [0, height, 0], t: [0, 0, dt] };
  const misses = [];
  for (const [axis, end] of Object.entries(ends)) {
    for (let k = 1; k <= 9; k += 1) {
      const at = project(end.map((v) => (v * k) / 10), frame);
      if (!hasColourNear(census, { x: at.x + shift, y: at.y + shift }, rgb)) misses.push(`${axis} ${k * 10} %`);
    }
  }
  return misses;
}

/** The tick labels laid over the canvas: text, axis, value and centre in canvas pixels. */
async function axisLabels(page) {
  return page.evaluate(() => {
    const c = document.getElementById('frame');
    const box = c.getBoundingClientRect();
    return [...document.querySelectorAll('#cloud-axes span')].map((s) => {
      const r = s.getBoundingClientRect();
      return {
        text: s.textContent, axis: s.dataset.axis, title: s.classList.contains('title'),
        value: s.dataset.value === undefined ? null : Number(s.dataset.value),
        visible: r.width > 0 && r.height > 0 && getComputedStyle(s).visibility !== 'hidden',
        x: ((r.left + r.width / 2 - box.left) * c.width) / box.width,
        y: ((r.top + r.height / 2 - box.top) * c.height) / box.height,
      };
    });
  });
}

/** Checks every tick label against the tick it names: units, range, placed next to it. */
function checkLabels(labels, frame) {
  const ticks = labels.filter((l) => !l.title);
  for (const axis of ['x', 'y', 't']) {
    const own = ticks.filter((l) => l.axis === axis);
    assert.ok(own.length >= 3, `${axis}: ${own.length} tick labels`);
    const titles = labels.filter((l) => l.title && l.axis === axis);
    assert.equal(titles.length, 1, `${axis} has a title`);
    assert.match(titles[0].text, axis === 't' ? /^t \(ms\b/ : new RegExp(`^${axis} \\(px\\)$`));
  }
  const span = { x: frame.width, y: frame.height, t: frame.dt / 1000 };
  for (const l of ticks) {
    assert.ok(l.visible, `label ${l.text} is shown`);
    const unit = l.axis === 't' ? 'ms' : 'px';
    assert.match(l.text, new RegExp(`^\\d+(\\.\\d+)? ${unit}$`), `label ${l.text} carries its unit`);
    assert.equal(Number.parseFloat(l.text), l.value, `label ${l.text} says its value`);
    assert.ok(l.value >= 0 && l.value <= span[l.axis] + 1e-9, `${l.text} within the ${l.axis} range`);
    const tick = project(l.axis === 'x' ? [l.value, 0, 0] : l.axis === 'y' ? [0, l.value, 0]
      : [0, 0, l.value * 1000], frame);
    const d = Math.hypot(l.x - tick.x, l.y - tick.y);
    assert.ok(d < 0.15 * frame.height, `label ${l.text} is ${d.toFixed(0)} px from its tick`);
  }
  // The largest t label is the window's end (a whole number of steps short of it at most).
  const tMax = Math.max(...ticks.filter((l) => l.axis === 't').map((l) => l.value));
  assert.ok(tMax > span.t / 2, `t labels reach ${tMax} of ${span.t} ms`);
}

/** Events of `n` the cloud keeps: every stride-th, the stride the least power of 2 keeping ≤ 65,536. */
function sampled(n) {
  let stride = 1;
  while (Math.ceil(n / stride) > 65536) stride *= 2;
  return Math.ceil(n / stride);
}

function captionCounts(text) {
  const m = /^([\d,]+) of the window's ([\d,]+) events shown/.exec(text);
  assert.ok(m, `caption: ${text}`);
  return [Number(m[1].replaceAll(',', '')), Number(m[2].replaceAll(',', ''))];
}

describe('point cloud axes', () => {
  test('x, y and t axes are drawn where they project, labelled with units, and follow the orbit', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    const hook = await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from, mode: 'cloud' }));
    assert.equal(hook.status, 'ready', hook.error);
    let frame = { width: fx.info.width, height: fx.info.height, dt: w.to - w.from, orbit: hook.orbit };
    let census = await canvasCensus(page);
    assert.equal(census.width, frame.width);
    const grey = [102, 102, 102];
    assert.deepEqual(axisMisses(census, frame, grey), [], 'axis lines where they project');
    // The check can tell: a few pixels off, the lines are not there.
    assert.ok(axisMisses(census, frame, grey, 6).length > 20, 'shifted by 6 px, the axes are missed');
    let labels = await axisLabels(page);
    checkLabels(labels, frame);

    // The caption counts the window's events (h5py's number) and the sample drawn.
    let [shown, all] = captionCounts(await page.locator('#cloud-caption').textContent());
    assert.equal(all, w.events);
    assert.equal(shown, sampled(w.events));

    // Turned: the lines and the labels move with the scene.
    const box = await page.locator('#frame').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 150, box.y + box.height / 2 - 60, { steps: 4 });
    await page.mouse.up();
    frame = { ...frame, orbit: await page.evaluate(() => window.strobe.orbit) };
    assert.notDeepEqual(frame.orbit, hook.orbit);
    census = await canvasCensus(page);
    assert.deepEqual(axisMisses(census, frame, grey), [], 'axis lines where they project after turning');
    const moved = await axisLabels(page);
    checkLabels(moved, frame);
    const xEnd = (ls) => ls.find((l) => l.axis === 'x' && l.title);
    assert.ok(Math.hypot(xEnd(moved).x - xEnd(labels).x, xEnd(moved).y - xEnd(labels).y) > 10,
      'the x title moved with the view');

    // Dark palette: light grey axes on black.
    await page.selectOption('#palette-select', 'dark');
    census = await canvasCensus(page);
    assert.deepEqual(axisMisses(census, frame, [153, 153, 153]), [], 'dark axes');

    // A busy window: the caption says a sample is shown, of h5py's count.
    const busy = manifestWindow(fx.id, '50ms_busiest');
    await open(page, viewerUrl(ctx.site.origin,
      { url: DATA_URL + fx.file, t: busy.from, dt: busy.to - busy.from, mode: 'cloud' }));
    [shown, all] = captionCounts(await page.locator('#cloud-caption').textContent());
    assert.equal(all, busy.events);
    assert.equal(shown, sampled(busy.events));
    assert.ok(shown < all);
    labels = await axisLabels(page);
    checkLabels(labels, { ...frame, orbit: await page.evaluate(() => window.strobe.orbit) });

    // Other modes: no axis labels.
    await page.selectOption('#mode-select', 'polarity');
    assert.equal(await page.locator('#cloud-axes').isHidden(), true);
    assert.equal(await page.locator('#cloud-axes span').count(), 0);
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });
});
