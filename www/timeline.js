// The timeline under the frame: the recording's event rate (from its millisecond table when
// it has one, else from sampled timestamps), the current window, and click/drag to seek.

/** Least time between the seeks of a drag along the timeline, ms. */
const SEEK_MS = 120;

export class Timeline {
  constructor(canvas, onSeek) {
    this.canvas = canvas;
    this.onSeek = onSeek;
    this.info = null;
    this.from = null;
    this.to = null;
    // Click seeks; a drag seeks as it goes (each new load supersedes the last), at most
    // every SEEK_MS, and once more where it is let go.
    let dragging = false;
    let lastSeek = 0;
    let lastT = null;
    const seek = (e, force) => {
      const t = this.timeAt(e.offsetX);
      const now = performance.now();
      if (t === null || t === lastT || (!force && now - lastSeek < SEEK_MS)) return;
      lastSeek = now;
      lastT = t;
      this.onSeek(t);
    };
    canvas.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      dragging = true;
      lastT = null;
      canvas.setPointerCapture?.(e.pointerId);
      seek(e, true);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (dragging) seek(e, false);
    });
    const end = (e) => {
      if (!dragging) return;
      dragging = false;
      seek(e, true);
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

  draw() {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * ratio));
    const h = Math.max(1, Math.round(c.clientHeight * ratio));
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    const g = c.getContext('2d');
    g.fillStyle = '#f4f4f6';
    g.fillRect(0, 0, w, h);
    const span = this.span();
    if (!span) return;
    const x = (t) => ((t - span.start) / (span.end - span.start)) * w;
    const rate = this.info.rate;
    g.fillStyle = '#8a94a6';
    if (rate && rate.counts.length) {
      const max = Math.max(...rate.counts, 1);
      rate.counts.forEach((n, i) => {
        const a = x(rate.start + i * rate.bin_us);
        const b = x(rate.start + (i + 1) * rate.bin_us);
        const bh = (n / max) * (h - 4);
        g.fillRect(a, h - bh, Math.max(b - a, 1), bh);
      });
    } else {
      // No millisecond table: nothing known about the rate, only the extent.
      g.fillRect(0, h - 4, w, 4);
    }
    if (this.from !== null) {
      const a = x(this.from);
      const b = Math.max(x(this.to), a + 2);
      g.fillStyle = 'rgba(30, 90, 230, 0.35)';
      g.fillRect(a, 0, b - a, h);
      g.fillStyle = 'rgb(30, 90, 230)';
      g.fillRect(a, 0, Math.max(1, ratio), h);
    }
  }
}
