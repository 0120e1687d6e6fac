// The page's long-lived parts, made once by main.js: the engine (Rust in a worker), the
// WebGL renderer and the timeline. Modules reach them here instead of passing them around.

export const app = {
  /** `Engine` (engine.js). */
  engine: null,
  /** `FrameRenderer` (render.js). */
  renderer: null,
  /** `Timeline` (timeline.js). */
  timeline: null,
};

export const $ = (id) => document.getElementById(id);
