// The engine worker's decode workers (www/decode-worker.js): the engine posts each of them a
// share of a read's chunks and decodes one share itself (src/hdf5/decode_pool.rs). No
// SharedArrayBuffer: stored bytes go out and decoded bytes come back as transferred buffers,
// so the page needs no cross-origin isolation.
//
// A worker that fails (its wasm did not load, it crashed) answers nothing from then on: its
// shares resolve to null and the engine decodes those chunks itself, with its own errors.

/** Most decode workers the page starts when asked (`workers=N`). */
export const MAX_DECODE_WORKERS = 8;
/** Most it starts by default: beyond, the engine's serial part (fetching, counting into the
 * frame) bounds a window, and each worker is another wasm instance's memory. */
const DEFAULT_CAP = 3;

/**
 * How many decode workers to start: `workers=N` from the page's address (0: the engine
 * decodes alone), else, from 4 cores on, one per core beyond the page's and the engine's own
 * (the engine converts and counts batches into the frame while the workers decode), at most
 * DEFAULT_CAP. None on fewer cores: there the workers share the engine's cores, and their
 * copies cost more than they save (BENCHMARKS.md: a cached 1 s window 0.8× with 2 workers on an
 * idle 2-core machine, 1 worker 0.8× too).
 */
export function decodeWorkersFrom(search, cores) {
  const asked = new URLSearchParams(search ?? '').get('workers');
  if (asked !== null && /^\d+$/.test(asked.trim())) {
    return Math.min(Number(asked.trim()), MAX_DECODE_WORKERS);
  }
  const n = Number.isFinite(cores) ? cores : 1;
  return n < 4 ? 0 : Math.min(DEFAULT_CAP, n - 2);
}

export class DecodePool {
  constructor(n) {
    this.nextId = 1;
    /** id → {resolve, worker} */
    this.pending = new Map();
    this.memory = new Array(n).fill(0);
    /** Chunks the workers decoded, and those they handed back undecoded (damaged, say). */
    this.decoded = 0;
    this.declined = 0;
    /** ms the workers spent decoding, summed, and shares answered. */
    this.busyMs = 0;
    /** ms from posting a share to its answer, summed (busy plus messaging and queueing). */
    this.waitMs = 0;
    this.shares = 0;
    this.workers = [];
    for (let i = 0; i < n; i += 1) this.workers.push(this.spawn(i));
  }

  spawn(i) {
    const w = new Worker(new URL('./decode-worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (e) => this.receive(i, e.data);
    w.onerror = (e) => {
      e.preventDefault?.();
      this.lose(i);
    };
    return w;
  }

  /** Posts a share (its stored chunks end to end in `stored`) to worker `i`; resolves to
   * `[lengths, decoded]` (null when the worker failed: the engine decodes the share). */
  decode(i, jobs, stored) {
    const w = this.workers[i];
    if (!w) return Promise.resolve(null);
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, worker: i, posted: performance.now() });
      w.postMessage({ id, jobs, stored }, [stored.buffer]);
    });
  }

  receive(i, msg) {
    if (Number.isFinite(msg.memory)) this.memory[i] = msg.memory;
    if (Number.isFinite(msg.ms)) this.busyMs += msg.ms;
    if (this.pending.has(msg.id)) this.waitMs += performance.now() - this.pending.get(msg.id).posted;
    const call = this.pending.get(msg.id);
    if (!call) return;
    this.pending.delete(msg.id);
    if (msg.error !== undefined) {
      // Its wasm did not load: it will not decode anything.
      this.lose(i);
      call.resolve(null);
      return;
    }
    const decoded = msg.decoded ?? null;
    const lengths = decoded?.[0] ?? [];
    const done = lengths.filter((n) => n >= 0).length;
    this.decoded += done;
    this.declined += lengths.length - done;
    this.shares += 1;
    call.resolve(decoded);
  }

  /** Worker `i` is gone: its waiting shares resolve to null (the engine decodes them). */
  lose(i) {
    this.workers[i]?.terminate();
    this.workers[i] = null;
    for (const [id, call] of this.pending) {
      if (call.worker === i) {
        this.pending.delete(id);
        call.resolve(null);
      }
    }
  }

  /** For the page's report: workers started and alive, shares in flight, chunks decoded and
   * declined so far, shares answered and ms spent decoding them, wasm memory of each. */
  stats() {
    return { workers: this.workers.length, alive: this.workers.filter(Boolean).length,
      pending: this.pending.size, decoded: this.decoded, declined: this.declined,
      shares: this.shares, busy_ms: this.busyMs, wait_ms: this.waitMs,
      memory: [...this.memory] };
  }
}
