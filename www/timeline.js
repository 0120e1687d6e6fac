// The timeline under the frame: the recording's event rate (from its millisecond table when
// it has one), the current window, and click-to-seek.

export class Timeline {
  constructor(canvas, onSeek) {
    this.canvas = canvas;
    this.onSeek = onSeek;
    this.info = null;
    this.from = null;
    this.to = null;
    canvas.addEventListener('click', (e) => {
      const t = this.timeAt(e.offsetX);
      if (t !== null) this.onSeek(t);
    });
    window.addEventListener('resize', () => this.draw());
  }

  setRecording(info) {
    this.info = info;
    this.from = null;
    this.to = null;
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
