//! Fetching pieces together and decoding them into rows.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::rc::Rc;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use bytes::Bytes;

use crate::source::ByteRange;

use super::caps::Caps;
use super::chunk_index::{locate, Piece, Stored};
use super::dataset::{DatasetInfo, ElementType};
use super::field::{Field, Refusal};
use super::file::H5File;
use super::filters::decode_chunk;
use super::plan::ChunkPlan;
use super::values::Values;
use super::Hdf5Error;

/// Fetches the stored bytes of many pieces — of any datasets — in one round. Each piece's
/// stored size is held to the chunk cap and their sum to the memory budget before any fetch.
pub async fn fetch_pieces(
    file: &H5File,
    pieces: &[&Piece],
) -> Result<Vec<Option<Bytes>>, Hdf5Error> {
    let ranges: Vec<_> = pieces.iter().filter_map(|p| p.disk_range()).collect();
    let caps = file.caps();
    let mut total = 0u64;
    for r in &ranges {
        if r.len() > caps.chunk_bytes {
            return Err(file.over_cap(
                Caps::CHUNK_BYTES,
                format!(
                    "a stored chunk of {} bytes exceeds {} bytes",
                    r.len(),
                    caps.chunk_bytes
                ),
            ));
        }
        total = total.saturating_add(r.len());
    }
    if total > caps.memory_budget {
        return Err(over_budget(file, "the chunks of one read", total));
    }
    let mut fetched = if ranges.is_empty() {
        Vec::new()
    } else {
        file.read(&ranges).await?
    }
    .into_iter();
    Ok(pieces
        .iter()
        .map(|p| p.disk_range().and_then(|_| fetched.next()))
        .collect())
}

/// Decodes one piece into the bytes of its rows that lie inside the dataset.
pub fn decode_piece(
    file: &H5File,
    ds: &DatasetInfo,
    piece: &Piece,
    stored: Option<Bytes>,
) -> Result<Vec<u8>, Hdf5Error> {
    decode_stored(&Origin::of(file), ds, piece, stored)
}

/// What a decode needs to know of its file: its name for messages and its caps. Unlike the
/// [`H5File`] (whose source is single-threaded), it can be shared by decoding threads.
pub(super) struct Origin<'a> {
    pub(super) what: &'a str,
    pub(super) caps: &'a Caps,
}

impl<'a> Origin<'a> {
    fn of(file: &'a H5File) -> Self {
        Self {
            what: file.what(),
            caps: file.caps(),
        }
    }

    /// As [`H5File::over_cap`].
    fn over_cap(&self, cap: &str, reason: String) -> Hdf5Error {
        Hdf5Error::Limit {
            what: self.what.to_string(),
            reason: format!("{reason} {}", Caps::advice(cap)),
        }
    }

    fn damaged(&self, reason: String) -> Hdf5Error {
        Hdf5Error::Damaged {
            what: self.what.to_string(),
            reason,
        }
    }
}

/// `len` bytes of storage never written: zeros, or the dataset's fill value repeated.
fn fill_bytes(file: &Origin, ds: &DatasetInfo, len: usize) -> Result<Vec<u8>, Hdf5Error> {
    let Some(value) = &ds.fill else {
        return Ok(vec![0u8; len]);
    };
    if value.len() != ds.element_size || value.is_empty() {
        return Err(file.damaged(format!(
            "{}: its fill value has {} bytes, its elements {} — the file is damaged",
            ds.path,
            value.len(),
            ds.element_size
        )));
    }
    Ok(value.iter().copied().cycle().take(len).collect())
}

/// [`decode_piece`], on any thread.
pub(super) fn decode_stored(
    file: &Origin,
    ds: &DatasetInfo,
    piece: &Piece,
    stored: Option<Bytes>,
) -> Result<Vec<u8>, Hdf5Error> {
    decode_stored_with(file, ds, piece, stored, None)
}

/// [`decode_stored`], where a chunk's filter pipeline may already have been run elsewhere
/// (`filtered`: the page's decode workers): the checks around it are the same either way.
pub(super) fn decode_stored_with(
    file: &Origin,
    ds: &DatasetInfo,
    piece: &Piece,
    stored: Option<Bytes>,
    filtered: Option<Vec<u8>>,
) -> Result<Vec<u8>, Hdf5Error> {
    let row_bytes = ds.piece_row_bytes();
    let rows_inside = piece.rows.min(ds.rows().saturating_sub(piece.first_row));
    let cap = file.caps.chunk_bytes;
    // Within the cap, every size below fits a usize and no product overflows.
    let full = piece.rows.saturating_mul(row_bytes);
    if full > cap || usize::try_from(full).is_err() {
        return Err(file.over_cap(
            Caps::CHUNK_BYTES,
            format!("{}: a chunk of {full} bytes exceeds {cap} bytes", ds.path),
        ));
    }
    let want = rows_inside * row_bytes;
    let mut data = match &piece.stored {
        Stored::Fill => fill_bytes(file, ds, want as usize)?,
        Stored::Inline { data } => {
            let span = piece
                .first_row
                .checked_mul(row_bytes)
                .and_then(|start| Some((usize::try_from(start).ok()?, want as usize)))
                .and_then(|(start, len)| data.get(start..start.checked_add(len)?));
            span.ok_or_else(|| {
                file.damaged(
                    format!(
                        "{}: its compact (in-header) data holds {} bytes, fewer than its {} rows need — the file is damaged",
                        ds.path,
                        data.len(),
                        ds.rows()
                    ),
                )
            })?
            .to_vec()
        }
        Stored::Raw { .. } => stored.ok_or_else(|| not_read(file, ds, piece))?.to_vec(),
        Stored::Chunk { filter_mask, .. } => {
            let raw = stored.ok_or_else(|| not_read(file, ds, piece))?;
            let skipped_all = ds
                .filters
                .iter()
                .enumerate()
                .all(|(i, _)| i < 32 && filter_mask & (1 << i) != 0);
            if skipped_all && raw.len() as u64 != full {
                // libhdf5 would hand these bytes out as values: a chunk whose every filter is
                // masked off must be exactly a chunk long.
                return Err(file.damaged(
                    format!(
                        "{}: chunk at rows {}..{}: its filter mask skips every filter, but it is stored in {} bytes, not the {full} of a chunk — the file is damaged",
                        ds.path,
                        piece.first_row,
                        piece.first_row.saturating_add(piece.rows),
                        raw.len()
                    ),
                ));
            }
            match filtered {
                Some(bytes) => bytes,
                None => decode_chunk(
                    &ds.filters,
                    *filter_mask,
                    &raw[..],
                    ds.element_size,
                    full as usize,
                )
                .map_err(|source| Hdf5Error::Filter {
                    what: file.what.to_string(),
                    dataset: ds.path.clone(),
                    source,
                })?,
            }
        }
    };
    if (data.len() as u64) < want {
        return Err(file.damaged(format!(
            "{}: rows {}..{} need {want} bytes, their {} holds {} — the file is damaged",
            ds.path,
            piece.first_row,
            piece.first_row.saturating_add(rows_inside),
            match piece.stored {
                Stored::Raw { .. } => "stored piece",
                _ => "decoded chunk",
            },
            data.len()
        )));
    }
    data.truncate(want as usize);
    Ok(data)
}

fn over_budget(file: &H5File, what: &str, bytes: u64) -> Hdf5Error {
    let budget = file.caps().memory_budget;
    file.over_cap(
        Caps::MEMORY_BUDGET,
        format!("{what} would hold {bytes} bytes, more than the {budget}-byte memory budget"),
    )
}

/// Bytes a read of `rows` rows holds at most (values as `i64`, the widest column type).
fn values_bytes(rows: u64) -> u64 {
    rows.saturating_mul(std::mem::size_of::<i64>() as u64)
}

fn damaged(file: &H5File, reason: String) -> Hdf5Error {
    Hdf5Error::Damaged {
        what: file.what().to_string(),
        reason,
    }
}

/// A piece whose stored bytes the fetch did not return (a bug, not a file problem).
fn not_read(file: &Origin, ds: &DatasetInfo, piece: &Piece) -> Hdf5Error {
    file.damaged(format!(
        "{}: the stored bytes of rows {}.. were not read — please report this",
        ds.path, piece.first_row
    ))
}

/// Rows a read asked for that no piece of the dataset's index covers.
fn rows_missing(file: &H5File, ds: &DatasetInfo, rows: &Range<u64>, got: u64) -> Hdf5Error {
    damaged(
        file,
        format!(
            "{}: its chunk index covers {got} of rows {}..{} — chunks are missing from the index; the file is damaged",
            ds.path, rows.start, rows.end
        ),
    )
}

/// Reads rows of several datasets (all their pieces fetched in one round after the index
/// walk) and converts the first element of each row to `i64`. For small reads: time-index
/// tables, scalars, probes.
pub async fn read_rows_i64(
    file: &H5File,
    requests: &[(&DatasetInfo, Range<u64>)],
) -> Result<Vec<Vec<i64>>, Hdf5Error> {
    let fields = requests
        .iter()
        .map(|(ds, rows)| Ok((*ds, first_field(file, ds)?, rows.clone())))
        .collect::<Result<Vec<_>, Hdf5Error>>()?;
    read_fields_i64(file, &fields).await
}

/// Reads one field of rows of several datasets: one index walk and one fetch round for all.
/// A piece that several requests need (the four members of Prophesee's compound records, say)
/// is fetched and decoded once. Values beyond `i64` (a `uint64` above `i64::MAX`) are refused.
pub async fn read_fields_i64(
    file: &H5File,
    requests: &[(&DatasetInfo, Field, Range<u64>)],
) -> Result<Vec<Vec<i64>>, Hdf5Error> {
    let mut out: Vec<Values> = requests
        .iter()
        .map(|(_, f, _)| Values::with_capacity(f.kind(), 0))
        .collect();
    let mut sinks: Vec<&mut Values> = out.iter_mut().collect();
    read_fields_into(
        file,
        requests,
        &mut sinks,
        &mut DecodedCarry::default(),
        None,
    )
    .await?;
    out.iter()
        .zip(requests)
        .map(|(v, (ds, _, rows))| wide_values(file, ds, rows.start, v))
        .collect()
}

/// `values` (rows from `first_row` of `ds`) as `i64`, or a refusal naming the first value
/// beyond it.
fn wide_values(
    file: &H5File,
    ds: &DatasetInfo,
    first_row: u64,
    values: &Values,
) -> Result<Vec<i64>, Hdf5Error> {
    values.to_i64().map_err(|(i, v)| Hdf5Error::BadValue {
        what: file.what().to_string(),
        dataset: ds.path.clone(),
        reason: format!(
            "row {} holds {v}, beyond the int64 range Strobe needs for times, indexes and sizes",
            first_row.saturating_add(i as u64)
        ),
    })
}

/// A float [`Field::decode`] refused, as an error naming the dataset and row.
fn refused(file: &H5File, ds: &DatasetInfo, row: u64, r: Refusal) -> Hdf5Error {
    Hdf5Error::BadValue {
        what: file.what().to_string(),
        dataset: ds.path.clone(),
        reason: format!(
            "row {}: {} — Strobe returns stored values exactly and will not round them",
            row.saturating_add(r.index as u64),
            r.reason
        ),
    }
}

/// Which stored piece of which dataset: pieces are shared by requests (compound members,
/// table columns) and by consecutive reads (a chunk straddling two batches).
pub(crate) type PieceKey = (String, u64, Option<ByteRange>);

pub(crate) fn piece_key(ds: &DatasetInfo, p: &Piece) -> PieceKey {
    (ds.path.clone(), p.first_row, p.disk_range())
}

/// Decoded pieces one read leaves for the next: a window read batch by batch would otherwise
/// decode every chunk that straddles two batches twice, and pieces decoded ahead of their read
/// ([`decode_ahead`]) wait here until it comes.
#[derive(Default)]
pub struct DecodedCarry {
    pieces: HashMap<PieceKey, Rc<Vec<u8>>>,
    /// Pieces being decoded on the pool meanwhile.
    ahead: Option<Ahead>,
}

/// Pieces decoded on the pool ahead of their read, a task's worth.
type Decoded = Vec<(PieceKey, Result<Vec<u8>, Hdf5Error>)>;

/// A piece to decode ahead: its key, dataset, place and stored bytes.
type AheadJob = (PieceKey, Arc<DatasetInfo>, Piece, Bytes);

/// Pieces handed to the pool ahead of their reads, and where their results arrive.
struct Ahead {
    results: Sender<Decoded>,
    arrivals: Receiver<Decoded>,
    /// Pieces still on the pool, with their decoded sizes.
    in_flight: HashMap<PieceKey, u64>,
}

impl Ahead {
    fn new() -> Self {
        let (results, arrivals) = channel();
        Self {
            results,
            arrivals,
            in_flight: HashMap::new(),
        }
    }

    /// Moves what has arrived into `decoded`, waiting only for the pieces of `needed` that are
    /// still on the pool. A piece that failed ahead is left out: its read decodes it again and
    /// fails there with its error (its stored bytes are fetched again through the cache).
    fn collect<'k>(
        &mut self,
        needed: impl Iterator<Item = &'k PieceKey>,
        decoded: &mut HashMap<PieceKey, Rc<Vec<u8>>>,
    ) {
        let mut waiting: HashSet<&PieceKey> =
            needed.filter(|k| self.in_flight.contains_key(*k)).collect();
        loop {
            let arrival = if waiting.is_empty() {
                match self.arrivals.try_recv() {
                    Ok(d) => d,
                    Err(_) => return,
                }
            } else {
                match self.arrivals.recv() {
                    Ok(d) => d,
                    // Cannot happen while `results` is held; nothing more will come.
                    Err(_) => return,
                }
            };
            for (k, result) in arrival {
                waiting.remove(&k);
                self.in_flight.remove(&k);
                if let Ok(bytes) = result {
                    decoded.insert(k, Rc::new(bytes));
                }
            }
        }
    }

    fn held_bytes(&self) -> u64 {
        self.in_flight.values().fold(0, |a, b| a.saturating_add(*b))
    }
}

/// Decoded bytes a window may hold ahead of its reads: a few batches' worth, so that the pool
/// (or the page's decode workers, whose answers take a thread switch each way) always has work
/// while the caller converts and consumes a batch, without holding much.
pub(super) const AHEAD_BYTES: u64 = 16 << 20;
/// Decoded bytes of one task of the decode threads, at least (but one chunk).
const AHEAD_TASK_BYTES: u64 = 256 << 10;

/// Starts decoding, on the file's threads, the pieces reads of `requests` will need whose
/// stored bytes `plan` holds, so that they decode while the caller still works on the batches
/// before (converting, summing, drawing them). Later [`read_fields_into`] calls with the same
/// `carry` take them. Nothing happens with one thread (nor in the browser), when the plan does
/// not cover the rows, or beyond [`AHEAD_BYTES`] (or a quarter of the memory budget) of
/// decoded bytes held or on the way.
pub fn decode_ahead(
    file: &H5File,
    requests: &[(&DatasetInfo, Field, Range<u64>)],
    carry: &mut DecodedCarry,
    plan: &mut ChunkPlan,
) {
    // In the page: on its decode workers, when it has them.
    #[cfg(target_arch = "wasm32")]
    if super::decode_pool::decode_ahead(file, requests, plan) {
        return;
    }
    if file.threads().count() < 2 {
        return;
    }
    let spans = column_spans(requests);
    let Some(located) = plan.pieces(&spans) else {
        return;
    };
    let budget = AHEAD_BYTES.min(file.caps().memory_budget / 4);
    let ahead = carry.ahead.get_or_insert_with(Ahead::new);
    let mut held = carry
        .pieces
        .values()
        .map(|b| b.len() as u64)
        .fold(ahead.held_bytes(), u64::saturating_add);
    let mut jobs: Vec<AheadJob> = Vec::new();
    'requests: for ((ds, ..), pieces) in requests.iter().zip(located) {
        let shared = Arc::new((*ds).clone());
        for p in pieces {
            let k = piece_key(ds, &p);
            if carry.pieces.contains_key(&k) || ahead.in_flight.contains_key(&k) {
                continue;
            }
            let size = decoded_bytes(ds, &p);
            if held.saturating_add(size) > budget {
                break 'requests;
            }
            if let Some(bytes) = plan.take_stored(&k) {
                held = held.saturating_add(size);
                ahead.in_flight.insert(k.clone(), size);
                jobs.push((k, shared.clone(), p, bytes));
            }
        }
    }
    let keys: Vec<PieceKey> = jobs.iter().map(|j| j.0.clone()).collect();
    // Small chunks (append-mode files hold a few KB each) go to the pool in groups: one task
    // and one message per chunk would cost more than their decode.
    let mut groups: Vec<Vec<AheadJob>> = Vec::new();
    let mut group_bytes = AHEAD_TASK_BYTES;
    for job in jobs {
        let size = decoded_bytes(&job.1, &job.2);
        match groups.last_mut() {
            Some(group) if group_bytes < AHEAD_TASK_BYTES => group.push(job),
            _ => {
                groups.push(vec![job]);
                group_bytes = 0;
            }
        }
        group_bytes = group_bytes.saturating_add(size);
    }
    let (what, caps) = (file.what().to_string(), *file.caps());
    let decode = move |group: Vec<AheadJob>| {
        let origin = Origin {
            what: &what,
            caps: &caps,
        };
        group
            .into_iter()
            .map(|(k, ds, p, bytes)| {
                let decoded = decode_stored(&origin, &ds, &p, Some(bytes));
                (k, decoded)
            })
            .collect()
    };
    if !file.threads().spawn_each(groups, decode, &ahead.results) {
        // No pool after all (the OS refused threads): their reads decode them.
        for k in keys {
            ahead.in_flight.remove(&k);
        }
    }
}

/// The (dataset, column, rows) a read's requests locate, as [`locate`] and plans take them.
pub(super) fn column_spans<'a>(
    requests: &[(&'a DatasetInfo, Field, Range<u64>)],
) -> Vec<(&'a DatasetInfo, u64, Range<u64>)> {
    requests
        .iter()
        .map(|(ds, f, rows)| (*ds, f.column, rows.clone()))
        .collect()
}

/// Bytes piece `p` of `ds` holds once decoded (its rows inside the dataset).
fn decoded_bytes(ds: &DatasetInfo, p: &Piece) -> u64 {
    p.rows
        .min(ds.rows().saturating_sub(p.first_row))
        .saturating_mul(ds.piece_row_bytes())
}

/// Reads rows of several fields in their stored types (`sinks[i]`, of `requests[i]`'s
/// [`Field::kind`], takes request `i`'s values, appended), decoding pieces left in `carry` by
/// the previous read only once. With a `plan` covering the rows, its located pieces and
/// fetched bytes are used instead of walking the index and fetching again.
///
/// The read's pieces are decoded together on the file's [`super::DecodeThreads`], so all of
/// them are held decoded at once: that, with the values, is held to the memory budget.
pub async fn read_fields_into(
    file: &H5File,
    requests: &[(&DatasetInfo, Field, Range<u64>)],
    sinks: &mut [&mut Values],
    carry: &mut DecodedCarry,
    mut plan: Option<&mut ChunkPlan>,
) -> Result<(), Hdf5Error> {
    let values: u64 = requests
        .iter()
        .map(|(ds, _, rows)| values_bytes(rows.end.min(ds.rows()).saturating_sub(rows.start)))
        .fold(0, u64::saturating_add);
    if values > file.caps().memory_budget {
        return Err(over_budget(file, "the values of one read", values));
    }
    let spans = column_spans(requests);
    let located = match plan.as_deref().and_then(|p| p.pieces(&spans)) {
        Some(pieces) => pieces,
        None => locate(file, &spans).await?,
    };
    // Decoded pieces at hand: what earlier reads left or decoded ahead, then what this one
    // decodes.
    let keys: Vec<Vec<PieceKey>> = requests
        .iter()
        .zip(&located)
        .map(|((ds, ..), pieces)| pieces.iter().map(|p| piece_key(ds, p)).collect())
        .collect();
    let mut decoded = std::mem::take(&mut carry.pieces);
    if let Some(ahead) = carry.ahead.as_mut() {
        ahead.collect(keys.iter().flatten(), &mut decoded);
    }
    // Each distinct piece once, with how many requests use it.
    let mut uses: HashMap<&PieceKey, usize> = HashMap::new();
    let mut distinct: Vec<(PieceKey, &DatasetInfo, &Piece)> = Vec::new();
    for (((ds, ..), pieces), keys) in requests.iter().zip(&located).zip(&keys) {
        for (p, k) in pieces.iter().zip(keys) {
            let n = uses.entry(k).or_insert(0);
            if *n == 0 && !decoded.contains_key(k) {
                distinct.push((k.clone(), *ds, p));
            }
            *n += 1;
        }
    }
    let held = distinct
        .iter()
        .map(|(_, ds, p)| decoded_bytes(ds, p))
        .chain(decoded.values().map(|b| b.len() as u64))
        .fold(values, u64::saturating_add);
    if held > file.caps().memory_budget {
        return Err(over_budget(
            file,
            "the decoded chunks and values of one read",
            held,
        ));
    }
    // Stored bytes: from the plan where it fetched them, the rest in one round now.
    let mut stored: Vec<Option<Bytes>> = distinct
        .iter()
        .map(|(k, ..)| plan.as_deref_mut().and_then(|p| p.take_stored(k)))
        .collect();
    let missing: Vec<usize> = (0..distinct.len())
        .filter(|&i| stored[i].is_none() && distinct[i].2.disk_range().is_some())
        .collect();
    let to_fetch: Vec<&Piece> = missing.iter().map(|&i| distinct[i].2).collect();
    for (i, bytes) in missing
        .into_iter()
        .zip(fetch_pieces(file, &to_fetch).await?)
    {
        stored[i] = bytes;
    }
    let jobs: Vec<(&DatasetInfo, &Piece, Option<Bytes>)> = distinct
        .iter()
        .zip(stored)
        .map(|((_, ds, p), b)| (*ds, *p, b))
        .collect();
    let origin = Origin::of(file);
    #[cfg(not(target_arch = "wasm32"))]
    let results = file
        .threads()
        .map(&jobs, |(ds, p, b)| decode_stored(&origin, ds, p, b.clone()));
    // In the page: shared with its decode workers, when it has them.
    #[cfg(target_arch = "wasm32")]
    let results = super::decode_pool::decode_all(&origin, &jobs).await;
    drop(jobs);
    for ((k, ..), result) in distinct.into_iter().zip(results) {
        decoded.insert(k, Rc::new(result?));
    }
    for ((((ds, field, rows), pieces), keys), sink) in requests
        .iter()
        .zip(&located)
        .zip(&keys)
        .zip(sinks.iter_mut())
    {
        let rows = rows.start.min(ds.rows())..rows.end.min(ds.rows());
        let (row_bytes, offset) = field.placement(ds);
        let before = sink.len();
        for (piece, k) in pieces.iter().zip(keys) {
            let left = uses.get_mut(k).map_or(0, |n| {
                *n = n.saturating_sub(1);
                *n
            });
            let bytes = match if left > 0 {
                decoded.get(k).cloned()
            } else {
                decoded.remove(k)
            } {
                Some(b) => b,
                None => return Err(not_read(&origin, ds, piece)),
            };
            let held = (bytes.len() / row_bytes.max(1)) as u64;
            if left == 0 && piece.first_row.saturating_add(held) > rows.end {
                // Reaches past these rows: the next read along the column starts here.
                carry.pieces.insert(k.clone(), bytes.clone());
            }
            let lo = rows.start.max(piece.first_row) - piece.first_row;
            let hi = rows
                .end
                .min(piece.first_row + held)
                .saturating_sub(piece.first_row);
            if lo < hi {
                // Convert only the rows asked for, straight into the column.
                let span = bytes
                    .get(lo as usize * row_bytes..hi as usize * row_bytes)
                    .unwrap_or_default();
                field
                    .decode(span, row_bytes, offset, sink)
                    .map_err(|r| refused(file, ds, piece.first_row + lo, r))?;
            }
        }
        let got = (sink.len() - before) as u64;
        if got != rows.end - rows.start {
            return Err(rows_missing(file, ds, &rows, got));
        }
    }
    // Pieces this read did not use were decoded ahead for later reads: kept while they lie
    // ahead of where their column's reads are.
    for (k, bytes) in decoded {
        let ahead_of_reads = requests
            .iter()
            .any(|(ds, _, rows)| ds.path == k.0 && k.1 >= rows.start);
        if ahead_of_reads {
            carry.pieces.insert(k, bytes);
        }
    }
    Ok(())
}

/// The first element of each row of `ds`, or a clear error for types events never use.
fn first_field(file: &H5File, ds: &DatasetInfo) -> Result<Field, Hdf5Error> {
    column_type(file, ds)?;
    Field::first(ds).ok_or_else(|| unsupported_type(file, ds))
}

/// The element type of a column, or a clear error for types events never use.
pub fn column_type(file: &H5File, ds: &DatasetInfo) -> Result<ElementType, Hdf5Error> {
    check_type(ds.dtype).ok_or_else(|| unsupported_type(file, ds))
}

/// `Some` for the integer and float types an event column may have.
pub fn check_type(dtype: Option<ElementType>) -> Option<ElementType> {
    match dtype {
        Some(
            t @ ElementType::Int {
                size: 1 | 2 | 4 | 8,
                ..
            },
        ) => Some(t),
        Some(t @ ElementType::Float { size: 4 | 8, .. }) => Some(t),
        _ => None,
    }
}

fn unsupported_type(file: &H5File, ds: &DatasetInfo) -> Hdf5Error {
    Hdf5Error::Unsupported {
        what: file.what().to_string(),
        dataset: ds.path.clone(),
        reason: "element type is not an integer or float of 1, 2, 4 or 8 bytes".into(),
    }
}

/// Decodes whole pieces of one field around the given rows: each result is the first row of
/// a piece and the field's value for each of its rows. Used by searches, which learn most
/// from every value a fetched chunk holds.
pub async fn read_pieces_i64(
    file: &H5File,
    ds: &DatasetInfo,
    field: Field,
    rows: &[u64],
) -> Result<Vec<(u64, Vec<i64>)>, Hdf5Error> {
    let requests: Vec<_> = rows.iter().map(|&r| (ds, field.column, r..r + 1)).collect();
    let located = locate(file, &requests).await?;
    let mut pieces: Vec<&Piece> = located.iter().flatten().collect();
    // Pieces of never-written chunks end at the row asked for, so two probes in one chunk
    // give two pieces from the same first row: keep the longest, or a search would learn
    // one row per round (and give up on an unwritten, all-zero `t`).
    pieces.sort_by_key(|p| (p.first_row, std::cmp::Reverse(p.rows)));
    pieces.dedup_by_key(|p| p.first_row);
    // Every piece is held decoded and as values at once: bound the whole, not just each.
    let held = pieces
        .iter()
        .map(|p| {
            let rows = p.rows.min(ds.rows().saturating_sub(p.first_row));
            values_bytes(rows).saturating_add(rows.saturating_mul(ds.row_bytes()))
        })
        .fold(0, u64::saturating_add);
    if held > file.caps().memory_budget {
        return Err(over_budget(file, "the chunks one search step reads", held));
    }
    let stored = fetch_pieces(file, &pieces).await?;
    // A search step's chunks (one per probe, eight probes a round) decode on every core.
    let jobs: Vec<(&Piece, Option<Bytes>)> = pieces.iter().copied().zip(stored).collect();
    let origin = Origin::of(file);
    let decoded = file
        .threads()
        .map(&jobs, |(p, b)| decode_stored(&origin, ds, p, b.clone()));
    let (row_bytes, offset) = field.placement(ds);
    pieces
        .iter()
        .zip(decoded)
        .map(|(piece, data)| {
            let data = data?;
            let mut values = Values::with_capacity(field.kind(), 0);
            field
                .decode(&data, row_bytes, offset, &mut values)
                .map_err(|r| refused(file, ds, piece.first_row, r))?;
            Ok((
                piece.first_row,
                wide_values(file, ds, piece.first_row, &values)?,
            ))
        })
        .collect()
}
