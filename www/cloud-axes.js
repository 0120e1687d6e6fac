// The 3D cloud's axes: where the x-y-t box sits in the scene, how a point of it projects onto
// the canvas, and the axis lines, ticks and tick labels drawn in the scene. One projection
// (this module's) places both the lines the renderer draws and the labels the page lays over
// them, so a label cannot drift from its tick; the point shader uses the same formula.
//
// The scene: the sensor is a × 1 (a = width / height), x to the right, y down, its centre at
// the origin; time runs from the front (t = 0 at z = -0.6) to the back (t = dt at z = +0.6).
// The orbit turns the scene (`orbitMatrix`), a camera at distance 3.2 looks at it with focal
// factor 2.6: clip = (q.x · 2.6 / aspect, q.y · 2.6, 0, 3.2 - q.z).

/** Depth of the time axis in scene units (t = 0 at -DEPTH / 2, t = dt at +DEPTH / 2). */
export const DEPTH = 1.2;
const CAMERA = 3.2;
const FOCAL = 2.6;

/** Rotation (column-major mat3) of the orbit: `yaw` about the vertical, then `pitch`. */
export function orbitMatrix(yaw, pitch) {
  const [cy, sy, cp, sp] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
  // Rx(pitch) * Ry(yaw), columns.
  return new Float32Array([
    cy, sp * sy, -cp * sy,
    0, cp, sp,
    sy, -sp * cy, cp * cy,
  ]);
}

/**
 * Canvas pixel (from the top-left, in the canvas's own pixels) where the event point
 * `[x px, y px, t µs from the window start]` is drawn, for a `width` × `height` canvas
 * showing a window of `dt` µs from `orbit` (`{yaw, pitch}`). Sensor coordinates: the edge of
 * the sensor is 0, an event at pixel x is drawn at x + 0.5 (its centre).
 */
export function cloudProject([x, y, t], { width, height, dt, orbit }) {
  const a = width / height;
  const p = [
    (x / width) * a - 0.5 * a,
    0.5 - y / height,
    (t / Math.max(dt, 1)) * DEPTH - DEPTH / 2,
  ];
  const m = orbitMatrix(orbit.yaw, orbit.pitch);
  const q = [0, 1, 2].map((r) => m[r] * p[0] + m[3 + r] * p[1] + m[6 + r] * p[2]);
  const d = CAMERA - q[2];
  const nx = (q[0] * FOCAL) / a / d;
  const ny = (q[1] * FOCAL) / d;
  return { x: ((nx + 1) / 2) * width, y: ((1 - ny) / 2) * height };
}

/** Tick values 0, step, 2·step … ≤ `max`, the step 1, 2 or 5 × 10^k, about five of them. */
export function ticks(max) {
  if (!(max > 0)) return { step: 1, values: [0] };
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const values = [];
  // Rounded so that 3 · 0.02 is 0.06, as its label says.
  for (let i = 0; i * step <= max * (1 + 1e-9); i += 1) values.push(Number((i * step).toPrecision(12)));
  return { step, values };
}

function tickText(value, step, unit) {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return `${value.toFixed(decimals)} ${unit}`;
}

/**
 * The axes of a `width` × `height` px, `dt` µs cloud in data units (`[x px, y px, t µs]`):
 * `lines` (pairs of points: the three axes from the top-left front corner, and their ticks,
 * drawn outside the box), and `labels` (`{axis, value, unit, text, tick, at}`: `tick` the
 * point on the axis the label names, `at` where its centre goes, beyond the tick), with a
 * title per axis (`value` null).
 */
export function cloudAxes(width, height, dt) {
  const len = Math.max(2, 0.03 * height); // tick length, px of the sensor
  const gap = 2.6 * len; // label centre's distance from the axis
  const lines = [
    [[0, 0, 0], [width, 0, 0]],
    [[0, 0, 0], [0, height, 0]],
    [[0, 0, 0], [0, 0, dt]],
  ];
  const labels = [];
  const xs = ticks(width);
  for (const v of xs.values) {
    lines.push([[v, 0, 0], [v, -len, 0]]);
    labels.push({ axis: 'x', value: v, unit: 'px', text: tickText(v, xs.step, 'px'),
      tick: [v, 0, 0], at: [v, -gap, 0] });
  }
  const ys = ticks(height);
  for (const v of ys.values) {
    lines.push([[0, v, 0], [-len, v, 0]]);
    // 0 px is the x axis's label at the shared corner.
    if (v > 0) {
      labels.push({ axis: 'y', value: v, unit: 'px', text: tickText(v, ys.step, 'px'),
        tick: [0, v, 0], at: [-gap, v, 0] });
    }
  }
  const ms = dt / 1000;
  const ts = ticks(ms);
  for (const v of ts.values) {
    const t = v * 1000;
    lines.push([[0, 0, t], [-len, -len, t]]);
    if (v > 0) {
      labels.push({ axis: 't', value: v, unit: 'ms', text: tickText(v, ts.step, 'ms'),
        tick: [0, 0, t], at: [-gap, -gap, t] });
    }
  }
  labels.push({ axis: 'x', value: null, unit: 'px', text: 'x (px)', tick: [width, 0, 0],
    at: [width + gap, 0, 0] });
  labels.push({ axis: 'y', value: null, unit: 'px', text: 'y (px)', tick: [0, height, 0],
    at: [0, height + gap, 0] });
  labels.push({ axis: 't', value: null, unit: 'ms', text: 't (ms)', tick: [0, 0, dt],
    at: [0, 0, dt * 1.15] });
  return { lines, labels };
}
