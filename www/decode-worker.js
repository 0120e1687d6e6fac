// A decode worker: runs shares of a read's chunks through their filter pipelines for the
// engine worker (src/hdf5/decode_pool.rs, www/decode-pool.js). It opens no file and keeps
// nothing between messages.
// Messages in: {id, jobs, stored: Uint8Array} (the share's stored chunks end to end,
// transferred); out: {id, decoded: [lengths, Uint8Array], memory, ms} (the decoded chunks end
// to end, transferred; a length of -1: the engine decodes that chunk itself, and reports its
// error; ms: time spent decoding), or {id, error} when the wasm did not load.

import init, { decode_chunks } from './pkg/strobe.js';

const ready = init();

self.onmessage = async (e) => {
  const { id, jobs, stored } = e.data;
  let decoded;
  let memory = 0;
  let ms = 0;
  try {
    const wasm = await ready;
    const t0 = performance.now();
    decoded = Array.from(decode_chunks(jobs, stored));
    ms = performance.now() - t0;
    memory = wasm.memory.buffer.byteLength;
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
    return;
  }
  self.postMessage({ id, decoded, memory, ms }, [decoded[1].buffer]);
};
