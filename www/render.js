// WebGL2 drawing of a window's per-pixel counts (counted in Rust): one RG32UI texture
// (positive, negative per pixel) and one R32UI texture (latest event time per pixel, for the
// time surface) coloured by a fragment shader; the canvas has one pixel per sensor pixel, and a
// view (zoom, pan) picks which sensor pixel each canvas pixel shows (nearest, never blurred).

import { cloudAxes, cloudProject, orbitMatrix } from './cloud-axes.js';
import { MODES, modeOf } from './modes.js';
import { DEFAULT_ORBIT } from './params.js';

const VERTEX = `#version 300 es
void main() {
  // One triangle covering the viewport.
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

/** The frame shader: every mode's `shade_<id>` from the registry, picked by `u_mode`. */
function fragmentSource() {
  const shaded = MODES.filter((m) => m.shade);
  const calls = shaded.map((m, i) => `  ${i ? 'else ' : ''}if (u_mode == ${i}) rgb = shade_${m.id}(c, last);`);
  return `#version 300 es
precision highp float;
precision highp int;
precision highp usampler2D;
uniform usampler2D u_counts;
uniform usampler2D u_last; // t_last - window start + 1 per pixel, 0 where no event
uniform uint u_dt;         // window length, µs
uniform float u_tau;       // time-surface decay, µs
uniform int u_mode;        // index among the registry's shaded modes
uniform int u_palette; // polarity colours: 0 DSEC (white, blue, red), 1 dark (black, cyan, orange)
uniform float u_max; // count at which the heatmap saturates
uniform float u_zoom; // canvas pixels per sensor pixel
uniform vec2 u_pan;   // sensor coordinate at the canvas's top-left corner
out vec4 colour;

vec3 heat(float v) {
  // Black, purple, red, orange, pale yellow.
  vec3 c0 = vec3(0.0, 0.0, 0.0);
  vec3 c1 = vec3(0.34, 0.06, 0.43);
  vec3 c2 = vec3(0.80, 0.20, 0.25);
  vec3 c3 = vec3(0.98, 0.56, 0.04);
  vec3 c4 = vec3(0.99, 1.0, 0.64);
  if (v < 0.25) return mix(c0, c1, v / 0.25);
  if (v < 0.5) return mix(c1, c2, (v - 0.25) / 0.25);
  if (v < 0.75) return mix(c2, c3, (v - 0.5) / 0.25);
  return mix(c3, c4, (v - 0.75) / 0.25);
}

${shaded.map((m) => m.shade).join('\n\n')}

void main() {
  ivec2 size = textureSize(u_counts, 0);
  // Canvas pixel (rows from the top) to sensor pixel; row 0 of the texture is y = 0.
  vec2 frag = vec2(gl_FragCoord.x, float(size.y) - gl_FragCoord.y);
  ivec2 p = ivec2(floor(u_pan + frag / u_zoom));
  if (p.x < 0 || p.y < 0 || p.x >= size.x || p.y >= size.y) {
    colour = vec4(0.925, 0.933, 0.949, 1.0); // off the sensor: the stage's grey
    return;
  }
  uvec2 c = texelFetch(u_counts, p, 0).rg;
  uint last = texelFetch(u_last, p, 0).r;
  vec3 rgb = vec3(0.0);
${calls.join('\n')}
  colour = vec4(rgb, 1.0);
}`;
}

// The x-y-t point cloud: one point per sampled event, read from an RGBA32UI texture
// (x, y, t - window start, positive) by gl_VertexID, no vertex buffers.
const CLOUD_VERTEX = `#version 300 es
precision highp float;
precision highp int;
precision highp usampler2D;
uniform usampler2D u_points;
uniform vec3 u_size;   // sensor width, height, window length (µs)
uniform mat3 u_rot;    // orbit
uniform float u_aspect; // canvas width / height
uniform int u_palette;
out vec3 v_colour;

void main() {
  int w = textureSize(u_points, 0).x;
  uvec4 e = texelFetch(u_points, ivec2(gl_VertexID % w, gl_VertexID / w), 0);
  float a = u_size.x / u_size.y;
  // Sensor a × 1 (y down), time from the front (-0.6) to the back (+0.6).
  vec3 p = vec3((float(e.x) + 0.5) / u_size.x * a - 0.5 * a,
                0.5 - (float(e.y) + 0.5) / u_size.y,
                float(e.z) / max(u_size.z, 1.0) * 1.2 - 0.6);
  vec3 q = u_rot * p;
  float d = 3.2 - q.z;
  float f = 2.6;
  gl_Position = vec4(q.x * f / u_aspect, q.y * f, 0.0, d);
  gl_PointSize = 2.0;
  bool pos = e.w != 0u;
  v_colour = u_palette == 1 ? (pos ? vec3(0.0, 0.75, 1.0) : vec3(1.0, 0.35, 0.0))
                            : (pos ? vec3(0.0, 0.0, 1.0) : vec3(1.0, 0.0, 0.0));
}`;

const CLOUD_FRAGMENT = `#version 300 es
precision highp float;
in vec3 v_colour;
out vec4 colour;
void main() { colour = vec4(v_colour, 1.0); }`;

// The cloud's axes: 1-px lines between canvas points projected in JS (cloud-axes.js), so the
// labels laid over the canvas and the lines share one projection.
const AXES_VERTEX = `#version 300 es
in vec2 a_pos; // clip space
void main() { gl_Position = vec4(a_pos, 0.0, 1.0); }`;

const AXES_FRAGMENT = `#version 300 es
precision highp float;
uniform vec3 u_colour;
out vec4 colour;
void main() { colour = vec4(u_colour, 1.0); }`;

/** Axis colour per palette: mid grey on white, light grey on black (never a point colour). */
export const AXIS_RGB = { dsec: [0.4, 0.4, 0.4], dark: [0.6, 0.6, 0.6] };

/** Points per row of the cloud's texture. */
const CLOUD_ROW = 2048;

/** Shaded modes' `u_mode` numbers, in registry order. */
export const MODE_IDS = Object.fromEntries(MODES.filter((m) => m.shade).map((m, i) => [m.id, i]));
export const PALETTE_IDS = { dsec: 0, dark: 1 };

function link(gl, vertex, fragment) {
  const program = gl.createProgram();
  gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, vertex));
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragment));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    throw new Error(`WebGL program: ${gl.getProgramInfoLog(program)}`);
  }
  return program;
}

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new Error(`WebGL shader: ${gl.getShaderInfoLog(shader)}`);
  }
  return shader;
}

export class FrameRenderer {
  constructor(canvas) {
    const gl = canvas.getContext('webgl2', {
      preserveDrawingBuffer: true,
      antialias: false,
      alpha: false,
      premultipliedAlpha: false,
    });
    if (!gl) {
      throw new Error('this browser has no WebGL2, which the viewer needs to draw frames');
    }
    this.canvas = canvas;
    this.gl = gl;
    const program = link(gl, VERTEX, fragmentSource());
    this.program = program;
    this.uMode = gl.getUniformLocation(program, 'u_mode');
    this.uPalette = gl.getUniformLocation(program, 'u_palette');
    this.uMax = gl.getUniformLocation(program, 'u_max');
    this.uCounts = gl.getUniformLocation(program, 'u_counts');
    this.uLast = gl.getUniformLocation(program, 'u_last');
    this.uDt = gl.getUniformLocation(program, 'u_dt');
    this.uTau = gl.getUniformLocation(program, 'u_tau');
    this.uZoom = gl.getUniformLocation(program, 'u_zoom');
    this.uPan = gl.getUniformLocation(program, 'u_pan');
    this.cloud = link(gl, CLOUD_VERTEX, CLOUD_FRAGMENT);
    this.cPoints = gl.getUniformLocation(this.cloud, 'u_points');
    this.cSize = gl.getUniformLocation(this.cloud, 'u_size');
    this.cRot = gl.getUniformLocation(this.cloud, 'u_rot');
    this.cAspect = gl.getUniformLocation(this.cloud, 'u_aspect');
    this.cPalette = gl.getUniformLocation(this.cloud, 'u_palette');
    this.axes = link(gl, AXES_VERTEX, AXES_FRAGMENT);
    this.aColour = gl.getUniformLocation(this.axes, 'u_colour');
    this.axesVao = gl.createVertexArray();
    this.axesBuffer = gl.createBuffer();
    gl.bindVertexArray(this.axesVao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.axesBuffer);
    const aPos = gl.getAttribLocation(this.axes, 'a_pos');
    gl.enableVertexAttribArray(aPos);
    gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
    this.pointCount = 0;
    this.vao = gl.createVertexArray();
    this.texture = gl.createTexture();
    this.lastTexture = gl.createTexture();
    this.pointTexture = gl.createTexture();
    for (const texture of [this.texture, this.lastTexture, this.pointTexture]) {
      gl.bindTexture(gl.TEXTURE_2D, texture);
      for (const [k, v] of [
        [gl.TEXTURE_MIN_FILTER, gl.NEAREST],
        [gl.TEXTURE_MAG_FILTER, gl.NEAREST],
        [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE],
        [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE],
      ]) {
        gl.texParameteri(gl.TEXTURE_2D, k, v);
      }
    }
    this.width = 0;
    this.height = 0;
    this.max = 0;
    this.dt = 0;
  }

  /**
   * Takes the counts (`2 * width * height` u32) of a frame, the heatmap's full-scale count,
   * and for the time surface the latest event times (`width * height` u32, `t - from + 1`)
   * and the window length `dt` (µs).
   */
  upload(counts, width, height, max, last, dt, points = null) {
    const gl = this.gl;
    if (width !== this.width || height !== this.height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.width = width;
      this.height = height;
    }
    this.max = max;
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RG32UI, width, height, 0, gl.RG_INTEGER, gl.UNSIGNED_INT,
      counts);
    this.dt = dt;
    gl.bindTexture(gl.TEXTURE_2D, this.lastTexture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32UI, width, height, 0, gl.RED_INTEGER, gl.UNSIGNED_INT,
      last);
    if (points) this.uploadPoints(points);
  }

  /** Takes the cloud's points: `x, y, t - from, positive` (u32 each) per event. */
  uploadPoints(points) {
    const gl = this.gl;
    const n = Math.floor(points.length / 4);
    this.pointCount = n;
    const rows = Math.max(1, Math.ceil(n / CLOUD_ROW));
    const data = new Uint32Array(rows * CLOUD_ROW * 4);
    data.set(points.subarray(0, n * 4));
    gl.bindTexture(gl.TEXTURE_2D, this.pointTexture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA32UI, CLOUD_ROW, rows, 0, gl.RGBA_INTEGER,
      gl.UNSIGNED_INT, data);
  }

  /** The x-y-t point cloud, seen from `orbit` (`{yaw, pitch}`, radians). */
  drawCloud(palette, orbit) {
    const gl = this.gl;
    gl.viewport(0, 0, this.width, this.height);
    const dark = palette === 'dark';
    gl.clearColor(dark ? 0 : 1, dark ? 0 : 1, dark ? 0 : 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (this.pointCount) this.drawPoints(palette, orbit);
    this.drawAxes(palette, orbit);
  }

  drawPoints(palette, orbit) {
    const gl = this.gl;
    gl.useProgram(this.cloud);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.pointTexture);
    gl.uniform1i(this.cPoints, 0);
    gl.uniform3f(this.cSize, this.width, this.height, this.dt);
    gl.uniformMatrix3fv(this.cRot, false, orbitMatrix(orbit.yaw, orbit.pitch));
    gl.uniform1f(this.cAspect, this.width / this.height);
    gl.uniform1i(this.cPalette, PALETTE_IDS[palette] ?? 0);
    gl.bindVertexArray(this.vao);
    gl.drawArrays(gl.POINTS, 0, this.pointCount);
  }

  /** The x, y and t axes with their ticks, over the points (so they stay readable). */
  drawAxes(palette, orbit) {
    const gl = this.gl;
    const frame = { width: this.width, height: this.height, dt: this.dt, orbit };
    const { lines } = cloudAxes(this.width, this.height, this.dt);
    const clip = new Float32Array(lines.length * 4);
    lines.forEach((segment, i) => {
      segment.forEach((point, j) => {
        const c = cloudProject(point, frame);
        clip[i * 4 + j * 2] = (c.x / this.width) * 2 - 1;
        clip[i * 4 + j * 2 + 1] = 1 - (c.y / this.height) * 2;
      });
    });
    gl.useProgram(this.axes);
    gl.uniform3fv(this.aColour, AXIS_RGB[palette] ?? AXIS_RGB.dsec);
    gl.bindVertexArray(this.axesVao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.axesBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, clip, gl.DYNAMIC_DRAW);
    gl.drawArrays(gl.LINES, 0, lines.length * 2);
    gl.bindVertexArray(null);
  }

  /** Waits until the GPU has drawn everything asked so far (for timing frames). */
  finish() {
    const gl = this.gl;
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  }

  /**
   * Draws the last uploaded frame in `mode` (`polarity`, `heatmap` or `timesurface`),
   * polarity colours from `palette`, time-surface decay `tau` (µs), seen through `view`
   * (`{zoom, x, y}`: canvas pixels per sensor pixel, sensor point at the top-left; default
   * the whole sensor, one canvas pixel per sensor pixel).
   */
  draw(mode, palette = 'dsec', tau = 10000, view = null, orbit = null) {
    const gl = this.gl;
    if (!this.width || !this.height) return;
    if (!modeOf(mode).shade) {
      this.drawCloud(palette, orbit ?? DEFAULT_ORBIT);
      return;
    }
    gl.viewport(0, 0, this.width, this.height);
    gl.useProgram(this.program);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.uniform1i(this.uCounts, 0);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.lastTexture);
    gl.uniform1i(this.uLast, 1);
    gl.uniform1ui(this.uDt, Math.min(this.dt, 0xffffffff));
    gl.uniform1f(this.uTau, tau);
    gl.uniform1i(this.uMode, MODE_IDS[mode] ?? 0);
    gl.uniform1i(this.uPalette, PALETTE_IDS[palette] ?? 0);
    gl.uniform1f(this.uMax, this.max);
    gl.uniform1f(this.uZoom, view ? view.zoom : 1);
    gl.uniform2f(this.uPan, view ? view.x : 0, view ? view.y : 0);
    gl.bindVertexArray(this.vao);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }
}
