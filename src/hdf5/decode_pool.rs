//! The page's decode workers: a read's chunks shared between the engine's Web Worker and a
//! few helper workers, each running chunks through their filter pipelines.
//!
//! Natively a read's pieces decode on a thread pool ([`super::DecodeThreads`]); wasm has no
//! threads without `SharedArrayBuffer` (and that needs cross-origin isolation, which the page
//! must not require). So the engine posts copies of stored chunks to helper workers (the same
//! wasm module, `www/decode-worker.js`) and gets the filtered bytes back, transferred. Only
//! what `decode_chunk` takes crosses: the pipeline, the filter mask, the element size, the
//! decoded length (held to the chunk cap here, before sending) and the stored bytes. The
//! checks around a decode stay in the engine ([`super::read::decode_stored_with`]), and a
//! chunk a helper could not decode is decoded again by the engine, so a damaged chunk reads
//! the very same one-line error as with no helpers (and natively).

use serde::{Deserialize, Serialize};

use super::caps::Caps;
use super::chunk_index::{Piece, Stored};
use super::dataset::DatasetInfo;
use super::filters::{decode_chunk, FilterStep};

/// One chunk for a decode worker: everything [`decode_chunk`] takes except the stored bytes
/// (those travel beside it, as a transferred buffer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkJob {
    filters: Vec<FilterStep>,
    mask: u32,
    element_size: usize,
    /// Bytes the chunk decodes to: at most the chunk cap.
    bytes: usize,
    /// Its stored bytes' length: a share's stored chunks travel as one buffer, end to end.
    stored: usize,
}

impl ChunkJob {
    /// The job of `piece` of `ds` with `stored` bytes, or `None` for what the engine decodes
    /// itself: pieces that are not filtered chunks (raw, inline, fill: a copy at most), chunks
    /// whose every filter is masked off, and chunks over the cap (the engine refuses those).
    pub fn of(caps: &Caps, ds: &DatasetInfo, piece: &Piece, stored: Option<&[u8]>) -> Option<Self> {
        let Stored::Chunk { filter_mask, .. } = piece.stored else {
            return None;
        };
        let skipped_all = (0..ds.filters.len()).all(|i| i < 32 && filter_mask & (1 << i) != 0);
        let full = piece.rows.checked_mul(ds.piece_row_bytes())?;
        if skipped_all || full > caps.chunk_bytes {
            return None;
        }
        Some(Self {
            filters: ds.filters.clone(),
            mask: filter_mask,
            element_size: ds.element_size,
            bytes: usize::try_from(full).ok()?,
            stored: stored?.len(),
        })
    }

    /// Runs the chunk through its pipeline (in a decode worker). `None` when that fails: the
    /// engine decodes it again and reports why in its own words.
    pub fn decode(&self, stored: &[u8]) -> Option<Vec<u8>> {
        decode_chunk(
            &self.filters,
            self.mask,
            stored,
            self.element_size,
            self.bytes,
        )
        .ok()
    }
}

/// Runs a share (in a decode worker): `stored` holds its chunks' stored bytes end to end, in
/// the order of `jobs`. Returns the decoded chunks end to end and each one's length, `None`
/// where decoding failed (the engine decodes that one again) or the bytes ran short.
pub fn decode_share(jobs: &[ChunkJob], stored: &[u8]) -> (Vec<u8>, Vec<Option<usize>>) {
    let mut out = Vec::with_capacity(jobs.iter().map(|j| j.bytes).sum());
    let mut lengths = Vec::with_capacity(jobs.len());
    let mut at = 0usize;
    for job in jobs {
        let end = at.saturating_add(job.stored);
        let decoded = stored.get(at..end).and_then(|b| job.decode(b));
        at = end;
        lengths.push(decoded.as_ref().map(Vec::len));
        if let Some(bytes) = decoded {
            out.extend_from_slice(&bytes);
        }
    }
    (out, lengths)
}

/// Splits items of the given sizes into `n` shares of about equal total size (largest first,
/// each to the lightest share so far): item indexes per share, in each share's order.
pub fn split(sizes: &[usize], n: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes.get(i).copied().unwrap_or(0)));
    let mut shares: Vec<(usize, Vec<usize>)> = (0..n.max(1)).map(|_| (0, Vec::new())).collect();
    for i in order {
        if let Some(lightest) = shares.iter_mut().min_by_key(|(total, _)| *total) {
            lightest.0 = lightest
                .0
                .saturating_add(sizes.get(i).copied().unwrap_or(0));
            lightest.1.push(i);
        }
    }
    shares
        .into_iter()
        .map(|(_, mut items)| {
            items.sort_unstable();
            items
        })
        .collect()
}

#[cfg(target_arch = "wasm32")]
pub use page::{ahead_counts, forget_ahead, set_decode_workers, workers};
#[cfg(target_arch = "wasm32")]
pub(super) use page::{decode_ahead, decode_all};

#[cfg(target_arch = "wasm32")]
mod page {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::ops::Range;
    use std::rc::Rc;

    use bytes::Bytes;
    use futures::future::{FutureExt, LocalBoxFuture, Shared};
    use js_sys::{Array, Function, Promise, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::super::chunk_index::Piece;
    use super::super::dataset::DatasetInfo;
    use super::super::field::Field;
    use super::super::file::H5File;
    use super::super::plan::ChunkPlan;
    use super::super::read::{
        column_spans, decode_stored, decode_stored_with, piece_key, Origin, PieceKey, AHEAD_BYTES,
    };
    use super::super::Hdf5Error;
    use super::{split, ChunkJob};

    /// A share's answer: its decoded chunks end to end and where each lies (`None`: that one
    /// failed); `None` as a whole when the worker failed or is gone.
    type Reply = Shared<LocalBoxFuture<'static, Option<Rc<Answer>>>>;

    struct Answer {
        data: Uint8Array,
        spans: Vec<Option<(u32, u32)>>,
    }

    impl Answer {
        /// `[lengths, data]` from a worker (a length below 0: that chunk failed).
        fn of(reply: JsValue) -> Option<Self> {
            let parts = reply.dyn_into::<Array>().ok()?;
            let data = parts.get(1).dyn_into::<Uint8Array>().ok()?;
            let lengths = parts.get(0).dyn_into::<Array>().ok()?;
            let mut at = 0u32;
            let spans = lengths
                .iter()
                .map(|v| {
                    let len = v.as_f64().filter(|l| *l >= 0.0)? as u32;
                    let span = (at, at.checked_add(len)?);
                    at = span.1;
                    Some(span).filter(|s| s.1 <= data.length())
                })
                .collect();
            Some(Self { data, spans })
        }
    }

    /// Chunks posted ahead, by file (its `what`) and piece: their share's answer, their place
    /// in it and their decoded size.
    type Posted = HashMap<(String, PieceKey), (Reply, u32, u64)>;

    thread_local! {
        /// The engine worker's pool: `decode(worker, jobs_json, buffers) -> Promise<Array>`
        /// and how many workers answer it. None (or 0): the engine decodes alone.
        static POOL: RefCell<Option<(Function, usize)>> = const { RefCell::new(None) };
        /// Chunks of the next reads posted ahead of them ([`decode_ahead`]), by file and
        /// piece: their share's answer, their place in it and their decoded size.
        static AHEAD: RefCell<Posted> = RefCell::new(HashMap::new());
        /// Chunks posted ahead, and those a read then took from there (for the page's report).
        static AHEAD_COUNTS: RefCell<(u64, u64)> = const { RefCell::new((0, 0)) };
    }

    /// Chunks posted ahead of their read so far, and those their read took.
    pub fn ahead_counts() -> (u64, u64) {
        AHEAD_COUNTS.with(|c| *c.borrow())
    }

    /// Hands the engine its decode workers: `decode(worker, jobs, stored)` posts a share to
    /// worker `worker` (0-based, below `workers`) and resolves to its decoded chunks in order
    /// (an entry that is not a `Uint8Array`: decode that one here). `workers` 0: none.
    pub fn set_decode_workers(decode: Option<Function>, workers: usize) {
        POOL.with(|p| *p.borrow_mut() = decode.filter(|_| workers > 0).map(|f| (f, workers)));
        AHEAD.with(|a| a.borrow_mut().clear());
    }

    /// Decode workers the engine has (0: none).
    pub fn workers() -> usize {
        POOL.with(|p| p.borrow().as_ref().map_or(0, |(_, n)| *n))
    }

    fn pool() -> Option<(Function, usize)> {
        POOL.with(|p| p.borrow().clone())
    }

    /// Splits `items` (chunk job, stored bytes) into a share per worker and posts them: each
    /// share's item indexes and answer.
    fn post(
        decode: &Function,
        workers: usize,
        items: &[(&ChunkJob, &Bytes)],
    ) -> Vec<(Vec<usize>, Reply)> {
        let sizes: Vec<usize> = items.iter().map(|(_, b)| b.len()).collect();
        let mut out = Vec::new();
        for (w, share) in split(&sizes, workers).into_iter().enumerate() {
            if share.is_empty() {
                continue;
            }
            let picked: Vec<&(&ChunkJob, &Bytes)> =
                share.iter().filter_map(|&k| items.get(k)).collect();
            let described: Vec<&ChunkJob> = picked.iter().map(|(j, _)| *j).collect();
            let total: usize = picked.iter().map(|(_, b)| b.len()).sum();
            let buffer = Uint8Array::new_with_length(total as u32);
            let mut at = 0u32;
            for (_, b) in &picked {
                let end = at + b.len() as u32;
                buffer.subarray(at, end).copy_from(&b[..]);
                at = end;
            }
            let future = serde_json::to_string(&described).ok().and_then(|text| {
                decode
                    .call3(
                        &JsValue::NULL,
                        &JsValue::from(w as u32),
                        &JsValue::from_str(&text),
                        &buffer,
                    )
                    .ok()?
                    .dyn_into::<Promise>()
                    .ok()
                    .map(JsFuture::from)
            });
            let reply = async move { Answer::of(future?.await.ok()?).map(Rc::new) }
                .boxed_local()
                .shared();
            out.push((share, reply));
        }
        out
    }

    /// Chunk `k` of a share's answer, as bytes in wasm memory.
    async fn take(reply: Reply, k: u32) -> Option<Vec<u8>> {
        let answer = reply.await?;
        let (start, end) = (*answer.spans.get(k as usize)?)?;
        Some(answer.data.subarray(start, end).to_vec())
    }

    /// Forgets the chunks posted ahead (a new window or recording: the reads they were for
    /// will not come). Their answers still arrive, and are dropped.
    pub fn forget_ahead() {
        AHEAD.with(|a| a.borrow_mut().clear());
    }

    /// Posts to the decode workers the filtered chunks of the coming reads (`requests`: the
    /// window reader asks for a few batches ahead) whose stored bytes `plan` holds, so that
    /// they decode while the engine converts and counts the batches before. Returns false
    /// without decode workers (the caller's own decode-ahead then applies). Chunks starting
    /// before a request's rows were the last read's too (it left them decoded for the next);
    /// chunks already posted are not posted again; chunks of another file are dropped.
    pub(in super::super) fn decode_ahead(
        file: &H5File,
        requests: &[(&DatasetInfo, Field, Range<u64>)],
        plan: &ChunkPlan,
    ) -> bool {
        let Some((decode, workers)) = pool() else {
            return false;
        };
        let what = file.what().to_string();
        let mut held = AHEAD.with(|a| {
            let mut ahead = a.borrow_mut();
            ahead.retain(|(w, _), _| *w == what);
            ahead.values().map(|e| e.2).fold(0u64, u64::saturating_add)
        });
        let Some(located) = plan.pieces(&column_spans(requests)) else {
            return true;
        };
        let mut picked: Vec<(PieceKey, ChunkJob, Bytes)> = Vec::new();
        'requests: for ((ds, _, rows), pieces) in requests.iter().zip(located) {
            for p in pieces.iter().filter(|p| p.first_row >= rows.start) {
                let k = piece_key(ds, p);
                let posted = AHEAD.with(|a| a.borrow().contains_key(&(what.clone(), k.clone())));
                if posted || picked.iter().any(|(c, ..)| *c == k) {
                    continue;
                }
                let Some(bytes) = plan.stored(&k) else {
                    continue;
                };
                let Some(job) = ChunkJob::of(file.caps(), ds, p, Some(&bytes)) else {
                    continue;
                };
                held = held.saturating_add(job.bytes as u64);
                if held > AHEAD_BYTES {
                    break 'requests;
                }
                picked.push((k, job, bytes));
            }
        }
        let items: Vec<(&ChunkJob, &Bytes)> = picked.iter().map(|(_, j, b)| (j, b)).collect();
        let posted = post(&decode, workers, &items);
        AHEAD_COUNTS.with(|c| c.borrow_mut().0 += items.len() as u64);
        AHEAD.with(|a| {
            let mut ahead = a.borrow_mut();
            for (share, reply) in posted {
                for (k, i) in share.into_iter().enumerate() {
                    if let Some((key, job, _)) = picked.get(i) {
                        let entry = (reply.clone(), k as u32, job.bytes as u64);
                        ahead.insert((what.clone(), key.clone()), entry);
                    }
                }
            }
        });
        true
    }

    type Job<'a> = (&'a DatasetInfo, &'a Piece, Option<Bytes>);

    /// Decodes a read's pieces, in order, as [`decode_stored`] would one by one: chunks posted
    /// ahead are taken from their workers' answers, the other filtered chunks go out now in a
    /// share per worker, and the rest (raw, inline, unwritten pieces: a copy at most) are
    /// done here meanwhile. The engine takes no share of the chunks: while they decode it
    /// counts the batch before into the frame (`read_window` in src/wasm), which costs
    /// about as much.
    pub(in super::super) async fn decode_all(
        origin: &Origin<'_>,
        jobs: &[Job<'_>],
    ) -> Vec<Result<Vec<u8>, Hdf5Error>> {
        let local = |(ds, p, b): &Job| decode_stored(origin, ds, p, b.clone());
        let Some((decode, workers)) = pool() else {
            return jobs.iter().map(local).collect();
        };
        // Where each job's filtered bytes come from: a worker's answer, or nowhere (here).
        let mut from: Vec<Option<(Reply, u32)>> = AHEAD.with(|a| {
            let mut ahead = a.borrow_mut();
            jobs.iter()
                .map(|(ds, p, _)| {
                    ahead
                        .remove(&(origin.what.to_string(), piece_key(ds, p)))
                        .map(|(reply, k, _)| (reply, k))
                })
                .collect()
        });
        let taken = from.iter().filter(|f| f.is_some()).count() as u64;
        AHEAD_COUNTS.with(|c| c.borrow_mut().1 += taken);
        let fresh: Vec<(usize, ChunkJob, &Bytes)> = jobs
            .iter()
            .enumerate()
            .filter(|(i, _)| from.get(*i).is_some_and(|f| f.is_none()))
            .filter_map(|(i, (ds, p, b))| {
                let b = b.as_ref()?;
                Some((i, ChunkJob::of(origin.caps, ds, p, Some(b))?, b))
            })
            .collect();
        let items: Vec<(&ChunkJob, &Bytes)> = fresh.iter().map(|(_, j, b)| (j, *b)).collect();
        for (share, reply) in post(&decode, workers, &items) {
            for (k, i) in share.into_iter().enumerate() {
                if let Some(slot) = fresh.get(i).and_then(|(j, ..)| from.get_mut(*j)) {
                    *slot = Some((reply.clone(), k as u32));
                }
            }
        }
        let mut results: Vec<Option<Result<Vec<u8>, Hdf5Error>>> =
            (0..jobs.len()).map(|_| None).collect();
        // The engine's part first, while the workers decode.
        for (i, job) in jobs.iter().enumerate() {
            if from.get(i).is_some_and(|f| f.is_none()) {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(local(job));
                }
            }
        }
        for (i, source) in from.into_iter().enumerate() {
            let (Some((reply, k)), Some((ds, p, b))) = (source, jobs.get(i)) else {
                continue;
            };
            let result = match take(reply, k).await {
                Some(bytes) => decode_stored_with(origin, ds, p, b.clone(), Some(bytes)),
                // The worker failed on it (or is gone): here, with the engine's error.
                None => decode_stored(origin, ds, p, b.clone()),
            };
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(result);
            }
        }
        results
            .into_iter()
            .zip(jobs)
            .map(|(r, job)| r.unwrap_or_else(|| local(job)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hdf5::chunk_index::Stored;
    use crate::hdf5::layout::DataLayout;
    use crate::source::ByteRange;

    #[test]
    fn split_balances_sizes_and_keeps_every_item_once() {
        let sizes = [90, 10, 50, 40, 30, 30, 20, 5];
        let shares = split(&sizes, 3);
        assert_eq!(shares.len(), 3);
        let mut all: Vec<usize> = shares.concat();
        all.sort_unstable();
        assert_eq!(all, (0..sizes.len()).collect::<Vec<_>>());
        let totals: Vec<usize> = shares
            .iter()
            .map(|s| s.iter().map(|&i| sizes[i]).sum())
            .collect();
        // 275 bytes in three shares: none above the largest item plus a third.
        assert!(totals.iter().all(|&t| t <= 90 + 275 / 3), "{totals:?}");
        assert_eq!(split(&[], 2), vec![Vec::<usize>::new(), Vec::new()]);
        assert_eq!(split(&[7], 0), vec![vec![0]]);
    }

    /// A deflated chunk of 1000 `i64` rows, and its dataset.
    fn deflated() -> (DatasetInfo, Vec<u8>, Vec<u8>) {
        let values: Vec<u8> = (0..1000i64).flat_map(|v| (v * v).to_le_bytes()).collect();
        let stored = miniz_oxide::deflate::compress_to_vec_zlib(&values, 6);
        let ds = DatasetInfo {
            path: "/events/t".into(),
            shape: vec![2500],
            max_shape: None,
            dtype: None,
            members: Vec::new(),
            element_size: 8,
            layout: DataLayout::Chunked {
                index_address: 0,
                chunk: vec![1000],
                index: crate::hdf5::ChunkIndexKind::BTreeV1,
                element_size: Some(8),
            },
            filters: vec![FilterStep {
                id: 1,
                name: Some("deflate".into()),
                cd_values: vec![6],
                optional: false,
            }],
            fill: None,
        };
        (ds, stored, values)
    }

    fn chunk(mask: u32) -> Piece {
        Piece {
            first_row: 1000,
            rows: 1000,
            stored: Stored::Chunk {
                bytes: ByteRange { start: 0, end: 10 },
                filter_mask: mask,
            },
        }
    }

    #[test]
    fn a_job_crosses_as_json_and_decodes_as_the_engine_would() {
        let (ds, stored, values) = deflated();
        let caps = Caps::default();
        let job = ChunkJob::of(&caps, &ds, &chunk(0), Some(&stored)).expect("a filtered chunk");
        let text = serde_json::to_string(&[&job]).expect("serialises");
        let back: Vec<ChunkJob> = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, vec![job.clone()]);
        let engine = decode_chunk(&ds.filters, 0, &stored[..], 8, 8000).expect("decodes");
        assert_eq!(back[0].decode(&stored).as_deref(), Some(&engine[..]));
        assert_eq!(engine, values);
        // A damaged chunk: no bytes, so the engine decodes it again and words the error.
        let mut damaged = stored.clone();
        damaged.truncate(stored.len() / 2);
        assert_eq!(back[0].decode(&damaged), None);
        // A share travels end to end: a good chunk, a damaged one, a good one.
        let mut bad = stored.clone();
        bad[stored.len() / 2] ^= 0xFF;
        bad.truncate(stored.len() - 3);
        let bad_job = ChunkJob::of(&caps, &ds, &chunk(0), Some(&bad)).expect("a chunk");
        let share = [stored.clone(), bad, stored.clone()].concat();
        let (out, lengths) = decode_share(&[job.clone(), bad_job, job], &share);
        assert_eq!(lengths, vec![Some(8000), None, Some(8000)]);
        assert_eq!(out, [values.clone(), values].concat());
    }

    #[test]
    fn only_filtered_chunks_within_the_cap_are_sent() {
        let (ds, stored, _) = deflated();
        let caps = Caps::default();
        assert!(
            ChunkJob::of(&caps, &ds, &chunk(0), None).is_none(),
            "no bytes"
        );
        assert!(
            ChunkJob::of(&caps, &ds, &chunk(1), Some(&stored)).is_none(),
            "all masked"
        );
        let raw = Piece {
            stored: Stored::Raw {
                bytes: ByteRange {
                    start: 0,
                    end: 8000,
                },
            },
            ..chunk(0)
        };
        assert!(
            ChunkJob::of(&caps, &ds, &raw, Some(&stored)).is_none(),
            "raw"
        );
        let small = Caps {
            chunk_bytes: 7999,
            ..caps
        };
        assert!(
            ChunkJob::of(&small, &ds, &chunk(0), Some(&stored)).is_none(),
            "over the cap"
        );
    }
}
