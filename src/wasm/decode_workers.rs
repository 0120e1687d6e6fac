//! The wasm side of the page's decode workers (see `crate::hdf5::decode_pool`): what a helper
//! worker runs (`decode_chunks`) and how the engine worker hands its pool to the engine
//! (`set_decode_workers`).

use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::hdf5::decode_pool::{self, ChunkJob};

/// In a decode worker: runs a share of chunks (`jobs`: their JSON descriptions, `stored`:
/// their stored bytes, in the same order) through their filter pipelines. Returns one entry
/// per chunk: its decoded bytes, or `null` where decoding failed (the engine decodes that one
/// again and reports the error as it always does). Chunks are decoded one at a time, so this
/// worker's memory holds one chunk's stored and decoded bytes at most.
#[wasm_bindgen]
pub fn decode_chunks(jobs: &str, stored: Array) -> Array {
    let jobs: Vec<ChunkJob> = serde_json::from_str(jobs).unwrap_or_default();
    let out = Array::new();
    for (i, job) in jobs.iter().enumerate() {
        let bytes = stored
            .get(i as u32)
            .dyn_into::<Uint8Array>()
            .ok()
            .map(|b| b.to_vec());
        match bytes.and_then(|b| job.decode(&b)) {
            Some(decoded) => out.push(&Uint8Array::from(decoded.as_slice())),
            None => out.push(&JsValue::NULL),
        };
    }
    out
}

/// In the engine worker: the decode workers' entry point, `decode(worker, jobs, stored)` →
/// `Promise<Array>` (see `decode_chunks`), and how many there are. `workers` 0 (or no
/// function): the engine decodes every chunk itself, as before.
#[wasm_bindgen]
pub fn set_decode_workers(decode: Option<Function>, workers: u32) {
    decode_pool::set_decode_workers(decode, workers as usize);
}

/// In the engine worker: chunks posted to the decode workers ahead of their read so far, and
/// those their read took from there, as `[posted, taken]` (the page's report).
#[wasm_bindgen]
pub fn decode_ahead_counts() -> Vec<f64> {
    let (posted, taken) = decode_pool::ahead_counts();
    vec![posted as f64, taken as f64]
}
