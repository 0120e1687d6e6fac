//! The wasm side of the page's decode workers (see `crate::hdf5::decode_pool`): what a helper
//! worker runs (`decode_chunks`) and how the engine worker hands its pool to the engine
//! (`set_decode_workers`).

use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::hdf5::decode_pool::{self, ChunkJob};

/// In a decode worker: runs a share of chunks (`jobs`: their JSON descriptions, `stored`:
/// their stored bytes end to end, in the same order) through their filter pipelines. Returns
/// `[lengths, decoded]`: each chunk's decoded length (-1 where decoding failed: the engine
/// decodes that one again and reports the error as it always does) and the decoded chunks end
/// to end, one buffer for the share (one message, one transfer). This worker's memory holds
/// one share's stored and decoded bytes at most.
#[wasm_bindgen]
pub fn decode_chunks(jobs: &str, stored: Uint8Array) -> Array {
    let jobs: Vec<ChunkJob> = serde_json::from_str(jobs).unwrap_or_default();
    let (decoded, lengths) = decode_pool::decode_share(&jobs, &stored.to_vec());
    let lengths: Array = lengths
        .iter()
        .map(|l| JsValue::from_f64(l.map_or(-1.0, |n| n as f64)))
        .collect();
    let out = Array::new();
    out.push(&lengths);
    out.push(&Uint8Array::from(decoded.as_slice()));
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
