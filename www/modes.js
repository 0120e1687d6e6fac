// The render modes, one entry each: adding a mode is one entry here (and, for a new colour
// formula, a GLSL function in `shade`) — the select, the address, the controls shown, the
// shader and the export name all read this table.
//
// Entry fields:
// - `id`: the name in links (`mode=`) and in `window.strobe.mode`;
// - `label`: what the mode select shows;
// - `shade`: GLSL `vec3 shade_<id>(uvec2 c, uint last)` computing a sensor pixel's colour from
//   its counts `c` (positive, negative) and `last` (t - window start + 1 of its latest event,
//   0 for none); uniforms `u_palette`, `u_dt`, `u_tau`, `u_max` are in scope. `null`: drawn
//   by its own program (the 3D cloud);
// - `controls`: which of the toolbar's optional controls mean something in the mode
//   (`palette`, `tau`, `zoom`); the others are hidden;
// - `link`: extra address parameters the mode keeps (`tau`, `orbit`);
// - `points`: whether the engine must send the window's point sample;
// - `cli`: the `strobe export --mode` that draws the same PNG (null: none).

export const MODES = [
  {
    id: 'polarity',
    label: 'polarity',
    controls: ['palette', 'zoom'],
    link: [],
    points: false,
    cli: 'polarity',
    // DSEC: white background, blue where positive events dominate (ties count positive), red
    // where negative do; dark: black, cyan, orange.
    shade: `vec3 shade_polarity(uvec2 c, uint last) {
  uint total = c.r + c.g;
  bool pos = c.r >= c.g;
  if (u_palette == 1) return total == 0u ? vec3(0.0) : (pos ? vec3(0.0, 0.75, 1.0) : vec3(1.0, 0.35, 0.0));
  return total == 0u ? vec3(1.0) : (pos ? vec3(0.0, 0.0, 1.0) : vec3(1.0, 0.0, 0.0));
}`,
  },
  {
    id: 'heatmap',
    label: 'event count',
    controls: ['zoom'],
    link: [],
    points: false,
    cli: 'heatmap',
    // log(1 + n) / log(1 + full scale), lit pixels from 0.12 so a lone event stays visible.
    shade: `vec3 shade_heatmap(uvec2 c, uint last) {
  uint total = c.r + c.g;
  float v = total == 0u ? 0.0
    : 0.12 + 0.88 * log(1.0 + float(total)) / log(1.0 + max(u_max, 1.0));
  return heat(clamp(v, 0.0, 1.0));
}`,
  },
  {
    id: 'timesurface',
    label: 'time surface',
    controls: ['tau', 'zoom'],
    link: ['tau'],
    points: false,
    cli: 'timesurface',
    // exp(-(window end - latest event) / tau), grey; black where nothing happened.
    shade: `vec3 shade_timesurface(uvec2 c, uint last) {
  if (last == 0u) return vec3(0.0);
  uint age = u_dt >= last - 1u ? u_dt - (last - 1u) : 0u;
  return vec3(exp(-float(age) / max(u_tau, 1.0)));
}`,
  },
  {
    id: 'cloud',
    label: '3D x-y-t points',
    controls: ['palette'],
    link: ['orbit'],
    points: true,
    cli: null,
    shade: null,
  },
];

export const MODE_IDS = MODES.map((m) => m.id);
export const DEFAULT_MODE = 'polarity';

/** The registry entry of `id` (the default mode's for an unknown id). */
export function modeOf(id) {
  return MODES.find((m) => m.id === id) ?? MODES[0];
}

/** Whether toolbar control `name` means something in mode `id`. */
export function modeHas(id, name) {
  return modeOf(id).controls.includes(name);
}
