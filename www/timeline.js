// The timeline under the frame: the recording's event rate (from its millisecond table when
// it has one, else from sampled timestamps), a time axis in seconds since the first event, the
// current window, a hover readout (time, absolute time, rate), and click/drag to seek.

/** Least time between the seeks of a drag along the timeline, ms. */
const SEEK_MS = 120;
/** Height of the tick-label strip at the bottom, CSS px. */
const AXIS_PX = 15;

/** A tick step (µs) giving about `n` ticks over `span` µs: 1, 2 or 5 × a power of ten. */
export function tickStep(span, n = 8) {
  const raw = Math.max(span / n, 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** A tick label: seconds since the first event, with as many decimals as the step needs. */
function tickLabel(us, step) {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step / 1e6))));
  return `${(us / 1e6).toFixed(decimals)} s`;
}

export class Timeline {
  /**
   * `onSeek(t, how)`: a click seeks with a new history entry (`push`); a drag makes one entry
   * and its later seeks `replace` it.
   */
  constructor(canvas, onSeek, readout = null) {
    this.canvas = canvas;
    this.onSeek = onSeek;
    this.readout = readout;
    this.info = null;
    this.from = null;
    this.to = null;
    let dragging = false;
    let lastSeek = 0;
    let lastT = null;
    let pushed = false;
    let pending = 0;
    const seek = (x, force) => {
      clearTimeout(pending);
      const t = this.timeAt(x);
      if (t === null || t === lastT) return;
      const now = performance.now();
      if (!force && now - lastSeek < SEEK_MS) {
        // Seek where the pointer rests once the throttle allows: a drag settles at once.
        pending = setTimeout(() => seek(x, true), SEEK_MS - (now - lastSeek));
        return;
      }
      lastSeek = now;
      lastT = t;
      this.onSeek(t, pushed ? 'replace' : 'push');
      pushed = true;
    };
    canvas.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      dragging = true;
      lastT = null;
      pushed = false;
      canvas.setPointerCapture?.(e.pointerId);
      seek(e.offsetX, true);
    });
    canvas.addEventListener('pointermove', (e) => {
      this.hover(e.offsetX);
      if (dragging) seek(e.offsetX, false);
    });
    canvas.addEventListener('pointerleave', () => this.hover(null));
    const end = (e) => {
      if (!dragging) return;
      dragging = false;
      seek(e.offsetX, true);
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', () => { dragging = false; });
    window.addEventListener('resize', () => this.draw());
  }

  setRecording(info) {
    this.info = info;
    this.from = null;
    this.to = null;
    this.draw();
  }

  /** Replaces the rate curve (sampled after opening, for files without a time index). */
  setRate(rate) {
    if (!this.info) return;
    this.info = { ...this.info, rate };
    this.draw();
  }

  setWindow(from, to) {
    this.from = from;
    this.to = to;
    this.draw();
  }

  /** The span drawn: first to last event (one µs wide for a one-event recording). */
  span() {
    const info = this.info;
    if (!info || info.t_first === null || info.t_last === null) return null;
    return { start: info.t_first, end: Math.max(info.t_last + 1, info.t_first + 1) };
  }

  timeAt(x) {
    const span = this.span();
    const w = this.canvas.clientWidth;
    if (!span || !w) return null;
    const frac = Math.min(Math.max(x / w, 0), 1);
    return Math.round(span.start + frac * (span.end - span.start));
  }

  /** Events per second at `t` from the rate curve, or null without one. */
  rateAt(t) {
    const rate = this.info?.rate;
    if (!rate || !rate.counts.length) return null;
    const i = Math.floor((t - rate.start) / rate.bin_us);
    if (i < 0 || i >= rate.counts.length) return 0;
    return (rate.counts[i] * 1e6) / rate.bin_us;
  }

  /** The hover readout: time since the first event, absolute time and event rate. */
  hover(x) {
    if (!this.readout) return;
    const t = x === null ? null : this.timeAt(x);
    if (t === null) {
      this.readout.textContent = '';
      return;
    }
    const info = this.info;
    const rate = this.rateAt(t);
    const rateText = rate === null ? '' : ` · ${formatRate(rate)}`;
    this.readout.textContent = `${((t - info.t_first) / 1e6).toFixed(3)} s · t = ${t} µs · abs ${t + (info.t_offset ?? 0)} µs${rateText}`;
  }

  draw() {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * ratio));
    const h = Math.max(1, Math.round(c.clientHeight * ratio));
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    const g = c.getContext('2d');
    g.fillStyle = '#f4f5f8';
    g.fillRect(0, 0, w, h);
    const span = this.span();
    if (!span) return;
    const axis = AXIS_PX * ratio;
    const plot = h - axis;
    const x = (t) => ((t - span.start) / (span.end - span.start)) * w;
    const rate = this.info.rate;
    g.fillStyle = '#8a94a6';
    if (rate && rate.counts.length) {
      const max = Math.max(...rate.counts, 1);
      rate.counts.forEach((n, i) => {
        const a = x(rate.start + i * rate.bin_us);
        const b = x(rate.start + (i + 1) * rate.bin_us);
        const bh = (n / max) * (plot - 3 * ratio);
        g.fillRect(a, plot - bh, Math.max(b - a, 1), bh);
      });
    } else {
      // Nothing known about the rate, only the extent.
      g.fillRect(0, plot - 4 * ratio, w, 4 * ratio);
    }
    this.drawAxis(g, span, x, plot, w, ratio);
    if (this.from !== null) {
      const a = x(this.from);
      const b = Math.max(x(this.to), a + 2);
      g.fillStyle = 'rgba(30, 90, 230, 0.3)';
      g.fillRect(a, 0, b - a, plot);
      g.fillStyle = 'rgb(30, 90, 230)';
      g.fillRect(a, 0, Math.max(1, ratio), plot);
    }
  }

  drawAxis(g, span, x, plot, w, ratio) {
    g.fillStyle = '#c9cdd6';
    g.fillRect(0, plot, w, ratio);
    const length = span.end - span.start;
    const step = tickStep(length, Math.max(2, Math.floor(w / (90 * ratio))));
    g.font = `${11 * ratio}px system-ui, sans-serif`;
    g.textBaseline = 'top';
    g.fillStyle = '#5d6678';
    for (let rel = 0; rel <= length; rel += step) {
      const px = x(span.start + rel);
      g.fillRect(px, plot, ratio, 4 * ratio);
      const label = tickLabel(rel, step);
      const tw = g.measureText(label).width;
      g.fillText(label, Math.min(Math.max(px - tw / 2, 0), w - tw), plot + 3 * ratio);
    }
  }
}

function formatRate(perS) {
  if (perS >= 1e6) return `${(perS / 1e6).toFixed(2)} Mev/s`;
  if (perS >= 1e3) return `${(perS / 1e3).toFixed(1)} kev/s`;
  return `${Math.round(perS)} ev/s`;
}
