// The page's handle on the engine, which runs in a Web Worker (engine-worker.js): the same
// calls as the wasm `Viewer` (open_url, open_file, window, cancel, net, frame_*), answered
// from messages. Only the newest window's frame snapshots are kept, so a superseded load
// never paints over a newer one.

const NO_NET = JSON.stringify({ requests: 0, bytes: 0, rounds: 0, hits: 0, misses: 0, cached_bytes: 0 });

export class Engine {
  /** `workers`: decode workers beside the engine (`workers=N` of the page's address; null:
   * the default of www/decode-pool.js). */
  constructor({ workers = null } = {}) {
    const query = workers === null || workers === undefined ? ''
      : `?workers=${encodeURIComponent(String(workers))}`;
    this.worker = new Worker(new URL(`./engine-worker.js${query}`, import.meta.url), { type: 'module' });
    /** The decode workers' state: {workers, alive, pending, memory: [bytes each]}. */
    this.decoders = null;
    this.nextId = 1;
    /** id → {resolve, reject, progress} */
    this.pending = new Map();
    /** The request whose frame snapshots are shown. */
    this.current = 0;
    this.netText = NO_NET;
    this.memory = 0;
    /** Worker time of the last finished window, ms. */
    this.lastWindowMs = null;
    this.frame = { width: 0, height: 0, scale: 1, counts: new Uint32Array(0), last: new Uint32Array(0), points: null };
    this.worker.onmessage = (e) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault?.();
      this.failAll(`the viewer's engine stopped: ${e.message || 'could not start its worker (www/engine-worker.js)'}`);
    };
  }

  receive(msg) {
    if (msg.net) this.netText = msg.net;
    if (Number.isFinite(msg.memory)) this.memory = msg.memory;
    if (msg.decoders) this.decoders = msg.decoders;
    const call = this.pending.get(msg.id);
    if (msg.frame && msg.id === this.current) this.frame = msg.frame;
    if (!call) return;
    if (msg.progress) {
      call.progress?.(msg.progress[0], msg.progress[1]);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.error !== undefined) {
      call.reject(new Error(msg.error));
    } else {
      if (Number.isFinite(msg.ms)) this.lastWindowMs = msg.ms;
      call.resolve(msg.value);
    }
  }

  failAll(message) {
    for (const call of this.pending.values()) call.reject(new Error(message));
    this.pending.clear();
  }

  call(op, args, progress = null) {
    const id = this.nextId;
    this.nextId += 1;
    // Frame snapshots shown are those of the newest open or window.
    if (!['decoders', 'sampled_rate', 'npz', 'prefetch', 'resolve_time', 'datasets_url', 'datasets_file', 'set_columns', 'summary_url', 'parse_listing'].includes(op)) this.current = id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      this.worker.postMessage({ id, op, args });
    });
  }

  /** One listed recording's summary JSON (metadata only; the open recording stays). */
  summary_url(url) {
    return this.call('summary_url', [url]);
  }

  /** A listing's text fetched from `url` as JSON entries (src/listing.rs); throws its refusal. */
  parse_listing(text, url) {
    return this.call('parse_listing', [text, url]);
  }

  /** The decode workers' state now: {workers, alive, pending, decoded, declined, memory}. */
  decoderStats() {
    return this.call('decoders', []);
  }

  /** Opens a recording by URL; `from`/`dt`: the first window to fetch alongside. */
  open_url(url, camera, from, dt) {
    this.clearFrame();
    return this.call('open_url', [url, camera ?? undefined, from ?? undefined, dt ?? undefined]);
  }

  /** Opens a local File (cloned to the worker; read there by slices, never uploaded). */
  open_file(file, camera, from, dt) {
    this.clearFrame();
    return this.call('open_file', [file, camera ?? undefined, from ?? undefined, dt ?? undefined]);
  }

  window(from, to, progress) {
    this.clearFrame();
    return this.call('window', [from, to], progress);
  }

  /** The rate curve from sampled timestamps (JSON or null), for files without ms_to_idx. */
  sampled_rate() {
    return this.call('sampled_rate', []);
  }

  /** The window `[from, to)` as `.npz` bytes (Uint8Array), built by the engine. */
  npz(from, to) {
    return this.call('npz', [from, to]);
  }

  /** Fetches the bytes of window `[from, to)` into the engine's cache (nothing is drawn). */
  prefetch(from, to) {
    return this.call('prefetch', [from, to]).catch(() => null);
  }

  /** A time in any form of the engine's parser, placed in the open recording: `{t, form}` JSON. */
  resolve_time(text) {
    return this.call('resolve_time', [String(text)]);
  }

  /** Dataset paths of x, y, t, p for the next opens (`null`: detect them by name). */
  set_columns(columns) {
    const c = columns ?? {};
    return this.call('set_columns', [c.x ?? undefined, c.y ?? undefined, c.t ?? undefined, c.p ?? undefined]);
  }

  /** The numeric 1-D datasets of a URL's or File's recording, `[{path, dtype, rows}]` JSON. */
  datasets(source) {
    return source.kind === 'url' ? this.call('datasets_url', [source.url])
      : this.call('datasets_file', [source.file]);
  }

  cancel() {
    this.current = 0;
    this.worker.postMessage({ op: 'cancel' });
  }

  /** Whether progress snapshots should carry the point-cloud sample. */
  wantPoints(on) {
    this.worker.postMessage({ op: 'points', args: [Boolean(on)] });
  }

  clearFrame() {
    const { width, height } = this.frame;
    this.frame = { width, height, scale: 1, counts: new Uint32Array(2 * width * height),
      last: new Uint32Array(width * height), points: null };
  }

  net() { return this.netText; }

  frame_width() { return this.frame.width; }

  frame_height() { return this.frame.height; }

  frame_scale() { return this.frame.scale; }

  frame_counts() { return this.frame.counts; }

  frame_last() { return this.frame.last; }

  frame_points() { return this.frame.points ?? new Uint32Array(0); }
}
