//! Which pieces of a dataset hold a range of rows — found by reading only the index nodes
//! that overlap the range.
//!
//! For v1 B-trees (every DSEC file), extensible arrays and v2 B-trees (`libver='latest'`
//! files, see [`super::extensible_array`] and [`super::chunk_btree_v2`]) the walk is ours: all
//! requests descend together, one level per round, and only the nodes or blocks that can hold
//! the rows are fetched. Fixed arrays and implicit indexes are read by `hdf5-reader` with
//! chunk bounds, resolved side by side through [`H5File::resolve`].

use std::ops::Range;
use std::sync::Arc;

use hdf5_reader::btree_v1::{BTreeV1Key, BTreeV1Node};
use hdf5_reader::chunk_index::ChunkEntry;
use hdf5_reader::io::Cursor;
use hdf5_reader::Hdf5File;

use super::caps::{self, Caps};
use super::checksum::{verify_fixed_array, Damage};
use super::dataset::DatasetInfo;
use super::file::H5File;
use super::layout::{ChunkIndexKind, DataLayout};
use super::meta_storage::MetaStorage;
use super::Hdf5Error;
use super::{chunk_btree_v2, extensible_array};
use crate::source::ByteRange;

/// Rows of a contiguous dataset read as one piece (bounds memory for huge windows).
const CONTIGUOUS_PIECE_BYTES: u64 = 4 << 20;

/// A unit of stored data: decoded on its own, it yields `rows` consecutive rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// First row the piece holds.
    pub first_row: u64,
    /// Rows the piece holds once decoded (a full chunk; may run past the dataset's end).
    pub rows: u64,
    pub stored: Stored,
}

/// How a piece's bytes are stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// Bytes on disk, run through the filter pipeline except the filters masked off.
    Chunk { bytes: ByteRange, filter_mask: u32 },
    /// Bytes on disk, unfiltered.
    Raw { bytes: ByteRange },
    /// Bytes held in the object header.
    Inline { data: Arc<Vec<u8>> },
    /// Never written: reads as zeros (the fill value h5py uses for these files).
    Fill,
}

impl Piece {
    pub fn disk_range(&self) -> Option<ByteRange> {
        match &self.stored {
            Stored::Chunk { bytes, .. } | Stored::Raw { bytes } => Some(*bytes),
            _ => None,
        }
    }
}

/// Pieces overlapping each request's rows, in row order. A request is (dataset, column,
/// rows): the column matters only for a 2-D table chunked across its columns (h5py's
/// `chunks=True` does that to MVSEC's N×4 table), where it picks the chunks holding it.
pub async fn locate(
    file: &H5File,
    requests: &[(&DatasetInfo, u64, Range<u64>)],
) -> Result<Vec<Vec<Piece>>, Hdf5Error> {
    let mut out: Vec<Option<Vec<Piece>>> = vec![None; requests.len()];
    let mut btree_v1 = Vec::new();
    let mut by_reader = Vec::new();
    let mut extensible = Vec::new();
    let mut btree_v2 = Vec::new();
    for (i, (ds, column, rows)) in requests.iter().enumerate() {
        let rows = rows.start.min(ds.rows())..rows.end.min(ds.rows());
        if rows.is_empty() {
            out[i] = Some(Vec::new());
            continue;
        }
        check_shape(file, ds)?;
        match &ds.layout {
            DataLayout::Compact { data } => {
                out[i] = Some(vec![Piece {
                    first_row: 0,
                    rows: ds.rows(),
                    stored: Stored::Inline {
                        data: Arc::new(data.clone()),
                    },
                }]);
            }
            DataLayout::Contiguous { address, .. } => {
                out[i] = Some(contiguous_pieces(file, ds, *address, rows)?);
            }
            DataLayout::Chunked {
                index_address,
                chunk,
                index,
                element_size,
            } => {
                if let Some(stated) = element_size.filter(|&e| e != ds.element_size as u64) {
                    return Err(damaged(
                        file,
                        format!(
                            "{}: its layout says elements of {stated} bytes, its datatype {} — the file is damaged",
                            ds.path, ds.element_size
                        ),
                    ));
                }
                let col0 = chunk_column_start(file, ds, chunk, *column)?;
                if Cursor::is_undefined_offset(*index_address, file.geometry().offset_size) {
                    // No chunk written: zeros, a chunk at a time like written data.
                    let first = rows.start - rows.start % chunk[0];
                    out[i] = Some(pieces_of(first..rows.end, chunk[0], |_, _| Stored::Fill));
                    continue;
                }
                match index {
                    ChunkIndexKind::BTreeV1 => {
                        btree_v1.push((i, *ds, rows, *index_address, chunk[0], col0))
                    }
                    ChunkIndexKind::BTreeV2 | ChunkIndexKind::ExtensibleArray
                        if rows.end.div_ceil(chunk[0]) - rows.start / chunk[0]
                            > file.caps().memory_budget / 64 =>
                    {
                        return Err(file.over_cap(
                            Caps::MEMORY_BUDGET,
                            format!(
                                "{}: rows {}..{} span more chunks than one read may track",
                                ds.path, rows.start, rows.end
                            ),
                        ));
                    }
                    ChunkIndexKind::BTreeV2 => btree_v2.push((
                        i,
                        chunk_btree_v2::Request {
                            ds,
                            rows,
                            header_at: *index_address,
                            chunk: chunk.clone(),
                            col0,
                        },
                    )),
                    ChunkIndexKind::ExtensibleArray => extensible.push((
                        i,
                        extensible_array::Request {
                            ds,
                            rows,
                            header_at: *index_address,
                            chunk: chunk.clone(),
                            col0,
                        },
                    )),
                    ChunkIndexKind::SingleChunk {
                        filtered_size,
                        filter_mask,
                    } => {
                        let stored = if ds.filters.is_empty() {
                            Stored::Raw {
                                bytes: ByteRange::at(*index_address, chunk_bytes(file, ds, chunk)?),
                            }
                        } else {
                            Stored::Chunk {
                                bytes: ByteRange::at(*index_address, *filtered_size),
                                filter_mask: *filter_mask,
                            }
                        };
                        out[i] = Some(vec![Piece {
                            first_row: 0,
                            rows: chunk[0],
                            stored,
                        }]);
                    }
                    _ => by_reader.push((
                        i,
                        *ds,
                        rows,
                        *index_address,
                        chunk.clone(),
                        index.clone(),
                        col0,
                    )),
                }
            }
        }
    }

    let walked = walk_btree_v1(file, &btree_v1).await?;
    for ((i, _, rows, _, per, _), pieces) in btree_v1.iter().zip(walked) {
        out[*i] = Some(with_unwritten(pieces, rows, *per));
    }

    // The newer indexes, each walked level by level (all requests of a kind together).
    let requests: Vec<_> = extensible.iter().map(|(_, r)| r.clone()).collect();
    let walked = extensible_array::walk(file, &requests).await?;
    for ((i, req), entries) in extensible.iter().zip(walked) {
        let kind = ChunkIndexKind::ExtensibleArray;
        out[*i] = Some(entry_pieces(
            file, req.ds, &req.chunk, &kind, entries, &req.rows,
        )?);
    }
    let requests: Vec<_> = btree_v2.iter().map(|(_, r)| r.clone()).collect();
    let walked = chunk_btree_v2::walk(file, &requests).await?;
    for ((i, req), entries) in btree_v2.iter().zip(walked) {
        let kind = ChunkIndexKind::BTreeV2;
        out[*i] = Some(entry_pieces(
            file, req.ds, &req.chunk, &kind, entries, &req.rows,
        )?);
    }

    let geometry = file.geometry();
    let storage_len = file.len();
    let ops = by_reader
        .iter()
        .map(|(_, ds, rows, address, chunk, index, col0)| {
            let (ds, rows, address, index) = (*ds, rows.clone(), *address, index.clone());
            let col0 = *col0;
            let chunk = chunk.clone();
            Box::new(move |_: &Hdf5File, meta: &MetaStorage| {
                reader_index_entries(
                    meta,
                    ds,
                    (&rows, col0),
                    address,
                    &chunk,
                    &index,
                    geometry,
                    storage_len,
                )
            })
                as Box<
                    dyn Fn(&Hdf5File, &MetaStorage) -> hdf5_reader::error::Result<Vec<ChunkEntry>>,
                >
        })
        .collect();
    let entries = file.resolve(ops).await;
    for ((i, ds, rows, _, chunk, index, col0), entries) in by_reader.iter().zip(entries) {
        let mut pieces: Vec<Piece> = entries?
            .into_iter()
            .filter(|e| e.offsets.get(1).copied().unwrap_or(0) == *col0)
            .map(|e| entry_piece(file, ds, chunk, index, e))
            .collect::<Result<_, _>>()?;
        pieces.sort_by_key(|p| p.first_row);
        let rows = rows.start.min(ds.rows())..rows.end.min(ds.rows());
        out[*i] = Some(with_unwritten(pieces, &rows, chunk[0]));
    }
    Ok(out.into_iter().map(Option::unwrap_or_default).collect())
}

/// One dataset's lookup in a chunk index the walkers descend themselves: rows of `ds` whose
/// index (extensible array, v2 B-tree) starts at `header_at`.
#[derive(Clone)]
pub(super) struct IndexLookup<'a> {
    pub ds: &'a DatasetInfo,
    pub rows: Range<u64>,
    pub header_at: u64,
    pub chunk: Vec<u64>,
    /// First column of the chunks wanted (tables chunked across their columns).
    pub col0: u64,
}

/// First column of the chunks that hold `column`: 0 for 1-D datasets and row-chunked
/// tables; tables of higher rank must keep every dimension past the second whole.
fn chunk_column_start(
    file: &H5File,
    ds: &DatasetInfo,
    chunk: &[u64],
    column: u64,
) -> Result<u64, Hdf5Error> {
    let unsupported = |reason: String| Hdf5Error::Unsupported {
        what: file.what().to_string(),
        dataset: ds.path.clone(),
        reason,
    };
    let readable = chunk.len() == ds.shape.len()
        && chunk.first().is_some_and(|&c| c > 0)
        && chunk.get(1).is_none_or(|&c| c > 0)
        && chunk.iter().zip(&ds.shape).skip(2).all(|(c, s)| c >= s);
    if !readable {
        return Err(unsupported(format!(
            "chunks of shape {chunk:?} split the rows of a {:?} dataset; Strobe reads datasets chunked by rows (and by columns of a 2-D table) only",
            ds.shape
        )));
    }
    match (chunk.get(1), ds.shape.get(1)) {
        (Some(&width), Some(&columns)) if column < columns => Ok(column / width * width),
        (None, _) if column == 0 => Ok(0),
        _ => Err(unsupported(format!(
            "has no column {column} (shape {:?})",
            ds.shape
        ))),
    }
}

fn check_shape(file: &H5File, ds: &DatasetInfo) -> Result<(), Hdf5Error> {
    let Caps { rank, rows, .. } = *file.caps();
    if ds.rows() > rows {
        return Err(file.over_cap(
            Caps::ROWS,
            format!("{} claims {} rows, more than {rows}", ds.path, ds.rows()),
        ));
    }
    if ds.shape.len() > rank {
        return Err(file.over_cap(
            Caps::RANK,
            format!(
                "{} has {} dimensions, more than {rank}",
                ds.path,
                ds.shape.len()
            ),
        ));
    }
    Ok(())
}

/// Bytes of one full chunk, refused past the chunk cap (so also never overflowing).
fn chunk_bytes(file: &H5File, ds: &DatasetInfo, chunk: &[u64]) -> Result<u64, Hdf5Error> {
    let cap = file.caps().chunk_bytes;
    caps::product(chunk.iter().copied().chain([ds.element_size as u64]))
        .filter(|&b| b <= cap)
        .ok_or_else(|| {
            file.over_cap(
                Caps::CHUNK_BYTES,
                format!(
                    "{}: chunks of {chunk:?} elements exceed {cap} bytes",
                    ds.path
                ),
            )
        })
}

fn contiguous_pieces(
    file: &H5File,
    ds: &DatasetInfo,
    address: u64,
    rows: Range<u64>,
) -> Result<Vec<Piece>, Hdf5Error> {
    let row_bytes = ds.row_bytes().max(1);
    let cap = file.caps().chunk_bytes;
    if row_bytes > cap {
        return Err(file.over_cap(
            Caps::CHUNK_BYTES,
            format!("{}: rows of {row_bytes} bytes exceed {cap} bytes", ds.path),
        ));
    }
    let per_piece = (CONTIGUOUS_PIECE_BYTES.min(cap) / row_bytes).max(1);
    if Cursor::is_undefined_offset(address, file.geometry().offset_size) {
        // Never written: zeros, in pieces no larger than stored ones would be.
        return Ok(pieces_of(rows, per_piece, |_, _| Stored::Fill));
    }
    Ok(pieces_of(rows, per_piece, |row, n| Stored::Raw {
        bytes: ByteRange::at(
            address.saturating_add(row.saturating_mul(row_bytes)),
            n * row_bytes,
        ),
    }))
}

/// Splits `rows` into pieces of at most `per_piece` rows.
fn pieces_of(rows: Range<u64>, per_piece: u64, stored: impl Fn(u64, u64) -> Stored) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut row = rows.start;
    while row < rows.end {
        let n = per_piece.min(rows.end - row);
        pieces.push(Piece {
            first_row: row,
            rows: n,
            stored: stored(row, n),
        });
        row += n;
    }
    pieces
}

#[allow(clippy::too_many_arguments)]
fn reader_index_entries(
    meta: &MetaStorage,
    ds: &DatasetInfo,
    (rows, col0): (&Range<u64>, u64),
    address: u64,
    chunk: &[u64],
    index: &ChunkIndexKind,
    geometry: super::file::Geometry,
    storage_len: u64,
) -> hdf5_reader::error::Result<Vec<ChunkEntry>> {
    use hdf5_reader::error::Error;
    let chunk32: Vec<u32> = chunk
        .iter()
        .map(|&c| {
            u32::try_from(c).map_err(|_| Error::InvalidData("chunk dimension too large".into()))
        })
        .collect::<Result<_, _>>()?;
    let mut first = vec![0u64; chunk.len()];
    let mut last = vec![0u64; chunk.len()];
    first[0] = rows.start / chunk[0];
    last[0] = rows.end.saturating_sub(1) / chunk[0];
    if let (Some(f), Some(l), Some(&width)) = (first.get_mut(1), last.get_mut(1), chunk.get(1)) {
        // Chunk coordinates: the one chunk column holding the requested column.
        *f = col0 / width.max(1);
        *l = *f;
    }
    let bounds = Some((first.as_slice(), last.as_slice()));
    let (o, l) = (geometry.offset_size, geometry.length_size);
    let named = |e| {
        super::file::name_checksum(
            e,
            &format!("{}: the {} chunk index (header)", ds.path, index.name()),
            address,
        )
    };
    match index {
        ChunkIndexKind::FixedArray => {
            verify_fixed_array(meta, address, o, l).map_err(Damage::into_reader_error)?;
            hdf5_reader::fixed_array::collect_fixed_array_chunk_entries_storage(
                meta, address, o, l, &ds.shape, &chunk32, bounds,
            )
            .map_err(named)
        }
        ChunkIndexKind::Implicit => hdf5_reader::chunk_index::collect_implicit_chunk_entries(
            address,
            &ds.shape,
            &chunk32,
            ds.element_size,
            bounds,
            storage_len,
        ),
        _ => Ok(Vec::new()),
    }
}

/// Pieces of the entries an index walk found over `rows`, in row order, with fill for the
/// chunks never written.
fn entry_pieces(
    file: &H5File,
    ds: &DatasetInfo,
    chunk: &[u64],
    index: &ChunkIndexKind,
    entries: Vec<ChunkEntry>,
    rows: &Range<u64>,
) -> Result<Vec<Piece>, Hdf5Error> {
    let mut pieces: Vec<Piece> = entries
        .into_iter()
        .map(|e| entry_piece(file, ds, chunk, index, e))
        .collect::<Result<_, _>>()?;
    pieces.sort_by_key(|p| p.first_row);
    no_chunk_twice(file, ds, &pieces)?;
    Ok(with_unwritten(
        pieces,
        rows,
        chunk.first().copied().unwrap_or(1),
    ))
}

/// Refuses `pieces` (sorted by row) when the index lists one chunk twice.
fn no_chunk_twice(file: &H5File, ds: &DatasetInfo, pieces: &[Piece]) -> Result<(), Hdf5Error> {
    match pieces.windows(2).find(|w| w[0].first_row == w[1].first_row) {
        Some(pair) => {
            let at = pair[0].first_row;
            Err(contradiction(
                file,
                ds,
                &(at..at.saturating_add(pair[0].rows)),
                "its chunk index lists that chunk twice".into(),
            ))
        }
        None => Ok(()),
    }
}

/// `pieces` (sorted, of chunks of `per` rows) with a fill piece for every chunk of `rows` the
/// index has no entry for: such a chunk was never written, and libhdf5 reads it as the
/// dataset's fill value.
fn with_unwritten(pieces: Vec<Piece>, rows: &Range<u64>, per: u64) -> Vec<Piece> {
    let per = per.max(1);
    let mut filled = Vec::with_capacity(pieces.len());
    let mut next = rows.start - rows.start % per;
    for p in pieces {
        while next < p.first_row.min(rows.end) {
            filled.push(Piece {
                first_row: next,
                rows: per,
                stored: Stored::Fill,
            });
            next = next.saturating_add(per);
        }
        next = next.max(p.first_row.saturating_add(per));
        filled.push(p);
    }
    while next < rows.end {
        filled.push(Piece {
            first_row: next,
            rows: per,
            stored: Stored::Fill,
        });
        next = next.saturating_add(per);
    }
    filled
}

fn entry_piece(
    file: &H5File,
    ds: &DatasetInfo,
    chunk: &[u64],
    index: &ChunkIndexKind,
    e: ChunkEntry,
) -> Result<Piece, Hdf5Error> {
    let first_row = e.offsets.first().copied().unwrap_or(0);
    let full = chunk_bytes(file, ds, chunk)?;
    let rows = first_row..first_row.saturating_add(chunk[0]);
    let defined = !Cursor::is_undefined_offset(e.address, file.geometry().offset_size);
    if defined && !matches!(index, ChunkIndexKind::Implicit) {
        // What the index records must fit what the layout says: sizes of filtered chunks
        // only when there are filters to undo.
        if ds.filters.is_empty() && e.size != 0 && e.size != full {
            return Err(contradiction(
                file,
                ds,
                &rows,
                format!(
                    "its index records a stored size of {} bytes, but the dataset has no filters and a chunk is {full} bytes",
                    e.size
                ),
            ));
        }
        if !ds.filters.is_empty() && e.size == 0 {
            return Err(contradiction(
                file,
                ds,
                &rows,
                "the dataset has filters, but its index records no stored size".into(),
            ));
        }
    }
    let stored = if !defined {
        Stored::Fill
    } else if ds.filters.is_empty() || matches!(index, ChunkIndexKind::Implicit) {
        Stored::Raw {
            bytes: ByteRange::at(e.address, full),
        }
    } else {
        Stored::Chunk {
            bytes: ByteRange::at(e.address, e.size),
            filter_mask: e.filter_mask,
        }
    };
    Ok(Piece {
        first_row,
        rows: chunk[0],
        stored,
    })
}

/// (request, dataset, rows, index root, chunk rows, first column of the wanted chunks).
type V1Request<'a> = (usize, &'a DatasetInfo, Range<u64>, u64, u64, u64);

/// A node to visit: which request, where, the level its parent says it has, and the key
/// range its parent gives it (its keys must lie inside, or libhdf5 would find other chunks).
#[derive(Clone)]
struct Visit {
    request: usize,
    at: u64,
    level: Option<u8>,
    bounds: Option<(Vec<u64>, Vec<u64>)>,
}

/// Descends all v1 chunk B-trees together. Each step parses every node already in the cache
/// (no I/O); only when none is held are the frontier's nodes fetched, all in one round. So
/// trees of different depths, or with cached upper levels, cost only the rounds they must.
///
/// Every node's keys are checked the way libhdf5 decodes and searches them: offsets on chunk
/// boundaries, the element-size offset 0, keys strictly increasing and inside the parent's
/// range, unfiltered chunks exactly a chunk long, no chunk listed twice. A tree failing these
/// would make libhdf5 find other chunks (or none) than a walk over every child does.
async fn walk_btree_v1(
    file: &H5File,
    requests: &[V1Request<'_>],
) -> Result<Vec<Vec<Piece>>, Hdf5Error> {
    let g = file.geometry();
    let mut out: Vec<Vec<Piece>> = vec![Vec::new(); requests.len()];
    let mut frontier: Vec<Visit> = requests
        .iter()
        .enumerate()
        .map(|(r, (_, _, _, root, _, _))| Visit {
            request: r,
            at: *root,
            level: None,
            bounds: None,
        })
        .collect();
    let caps = *file.caps();
    let mut visited = 0usize;
    while !frontier.is_empty() {
        let ranges: Vec<ByteRange> = frontier
            .iter()
            .map(|v| {
                let len = node_len(
                    g,
                    requests[v.request].1.shape.len(),
                    u64::from(g.chunk_btree_k),
                );
                ByteRange::at(v.at, len.min(file.len().saturating_sub(v.at)))
            })
            .collect();
        let held: Vec<Option<bytes::Bytes>> = ranges.iter().map(|r| file.cached(*r)).collect();
        let (now, later): (Vec<(Visit, bytes::Bytes)>, Vec<Visit>) =
            if held.iter().any(Option::is_some) {
                let mut now = Vec::new();
                let mut later = Vec::new();
                for (v, b) in frontier.iter().zip(held) {
                    match b {
                        Some(b) => now.push((v.clone(), b)),
                        None => later.push(v.clone()),
                    }
                }
                (now, later)
            } else {
                let fetched = file.read(&ranges).await?;
                (frontier.iter().cloned().zip(fetched).collect(), Vec::new())
            };
        frontier = later;
        for (visit, bytes) in now {
            count_visit(file, &mut visited, "nodes")?;
            let (_, ds, rows, _, chunk_rows, col0) = &requests[visit.request];
            let node = parse_node(file, ds, visit.at, bytes).await?;
            if visit.level.is_some_and(|l| l != node.level)
                || usize::from(node.level) > caps.index_depth
            {
                return Err(Hdf5Error::Malformed {
                    what: file.what().to_string(),
                    reason: format!(
                        "chunk index of {}: node levels do not descend (loop?)",
                        ds.path
                    ),
                });
            }
            let keys = node_keys(file, ds, visit.at, &node, visit.bounds.as_ref())?;
            let full = if node.level == 0 && ds.filters.is_empty() {
                Some(chunk_bytes(file, ds, &chunk_dims(ds))?)
            } else {
                None
            };
            for (c, child) in node.children.iter().enumerate() {
                let (Some((key, size, mask)), Some((next, _, _))) = (keys.get(c), keys.get(c + 1))
                else {
                    break;
                };
                let lo = key.first().copied().unwrap_or(0);
                // Rank-1 keys hold (row, 0); tables hold (row, column, .., 0).
                let column = if key.len() > 2 {
                    key.get(1).copied().unwrap_or(0)
                } else {
                    0
                };
                let hi = next.first().copied().unwrap_or(u64::MAX);
                if node.level == 0 {
                    if lo < rows.end
                        && lo.saturating_add(*chunk_rows) > rows.start
                        && column == *col0
                    {
                        let chunk_rows_at = lo..lo.saturating_add(*chunk_rows);
                        if let Some(full) = full.filter(|&f| f != u64::from(*size)) {
                            return Err(contradiction(
                                file,
                                ds,
                                &chunk_rows_at,
                                format!(
                                    "its index says the chunk is stored in {size} bytes, but the dataset has no filters and a chunk is {full} bytes"
                                ),
                            ));
                        }
                        // Distinct chunks overlapping the rows number at most this; more
                        // means nodes shared between branches (a crafted index).
                        let most = (rows.end - rows.start).div_ceil(*chunk_rows) + 1;
                        if out[visit.request].len() as u64 >= most {
                            return Err(contradiction(
                                file,
                                ds,
                                &chunk_rows_at,
                                "its chunk index lists more chunks than its rows hold (index nodes shared between branches)".into(),
                            ));
                        }
                        let bytes = ByteRange::at(*child, u64::from(*size));
                        out[visit.request].push(Piece {
                            first_row: lo,
                            rows: *chunk_rows,
                            stored: if ds.filters.is_empty() {
                                Stored::Raw { bytes }
                            } else {
                                Stored::Chunk {
                                    bytes,
                                    filter_mask: *mask,
                                }
                            },
                        });
                    }
                } else if lo < rows.end && hi.saturating_add(*chunk_rows) > rows.start {
                    frontier.push(Visit {
                        request: visit.request,
                        at: *child,
                        level: Some(node.level - 1),
                        bounds: Some((key.clone(), next.clone())),
                    });
                }
            }
        }
    }
    for (pieces, (_, ds, ..)) in out.iter_mut().zip(requests) {
        pieces.sort_by_key(|p| p.first_row);
        no_chunk_twice(file, ds, pieces)?;
    }
    Ok(out)
}

/// Chunk dimensions of a chunked dataset (empty otherwise).
fn chunk_dims(ds: &DatasetInfo) -> Vec<u64> {
    match &ds.layout {
        DataLayout::Chunked { chunk, .. } => chunk.clone(),
        _ => Vec::new(),
    }
}

/// The keys of a chunk B-tree node — (offsets, stored size, filter mask) — after checking
/// them as libhdf5 does: one more key than children; each key has rank + 1 offsets, on chunk
/// boundaries, the last (the element-size dimension) 0 for a chunk; keys strictly increasing
/// and, below the root, inside the key range the parent gives the node.
fn node_keys(
    file: &H5File,
    ds: &DatasetInfo,
    at: u64,
    node: &BTreeV1Node,
    bounds: Option<&(Vec<u64>, Vec<u64>)>,
) -> Result<Vec<(Vec<u64>, u32, u32)>, Hdf5Error> {
    let chunk = chunk_dims(ds);
    let bad = |what: String| {
        damaged(
            file,
            format!(
                "{}: the chunk index node at byte {at} {what} — the file is damaged",
                ds.path
            ),
        )
    };
    if node.keys.len() != node.children.len() + 1 {
        return Err(bad(format!(
            "has {} keys for {} children",
            node.keys.len(),
            node.children.len()
        )));
    }
    let mut keys = Vec::with_capacity(node.keys.len());
    for key in &node.keys {
        let BTreeV1Key::RawData {
            chunk_size,
            filter_mask,
            offsets,
        } = key
        else {
            return Err(bad("is not a chunk index node".into()));
        };
        if offsets.len() != chunk.len() + 1 {
            return Err(bad(format!(
                "has keys of {} dimensions for a dataset of {}",
                offsets.len().saturating_sub(1),
                chunk.len()
            )));
        }
        if let Some((d, o)) = offsets
            .iter()
            .zip(&chunk)
            .enumerate()
            .find(|(_, (o, c))| **c == 0 || **o % **c != 0)
            .map(|(d, (o, _))| (d, *o))
        {
            return Err(bad(format!(
                "has a key at element {o} of dimension {d}, not on a chunk boundary (chunks of {chunk:?})"
            )));
        }
        // The last offset counts bytes of the element: 0 for a chunk (libhdf5 finds no chunk
        // under another); in the key closing a node, 0 (the next node's first chunk) or the
        // element size (libhdf5 writes one chunk past the last, in every dimension).
        let element = offsets.last().copied().unwrap_or(0);
        let closing = keys.len() == node.children.len();
        let element_size = ds.element_size as u64;
        if element != 0 && !(closing && element == element_size) {
            return Err(bad(format!(
                "has a key whose element-size offset is {element} (elements of {element_size} bytes)"
            )));
        }
        keys.push((offsets.clone(), *chunk_size, *filter_mask));
    }
    if let Some(w) = keys.windows(2).find(|w| w[0].0 >= w[1].0) {
        return Err(bad(format!(
            "has keys out of order or repeated ({:?} before {:?})",
            w[0].0, w[1].0
        )));
    }
    if let (Some((lo, hi)), Some(first), Some(last)) = (bounds, keys.first(), keys.last()) {
        if first.0 < *lo || last.0 > *hi {
            return Err(bad(format!(
                "has keys {:?}..{:?} outside the range {lo:?}..{hi:?} its parent gives it",
                first.0, last.0
            )));
        }
    }
    Ok(keys)
}

/// The error for an index and a layout that contradict each other about one chunk.
fn contradiction(file: &H5File, ds: &DatasetInfo, rows: &Range<u64>, what: String) -> Hdf5Error {
    damaged(
        file,
        format!(
            "{}: chunk at rows {}..{}: {what} — the file is damaged",
            ds.path, rows.start, rows.end
        ),
    )
}

fn damaged(file: &H5File, reason: String) -> Hdf5Error {
    Hdf5Error::Damaged {
        what: file.what().to_string(),
        reason,
    }
}

/// Parses a node; if the file's K is larger than assumed, reads the node again, whole.
async fn parse_node(
    file: &H5File,
    ds: &DatasetInfo,
    at: u64,
    bytes: bytes::Bytes,
) -> Result<BTreeV1Node, Hdf5Error> {
    let g = file.geometry();
    let rank = ds.shape.len() as u32;
    match BTreeV1Node::parse(
        &mut Cursor::new(&bytes),
        g.offset_size,
        g.length_size,
        Some(rank),
    ) {
        Ok(node) => Ok(node),
        Err(hdf5_reader::error::Error::UnexpectedEof { .. }) => {
            let whole = node_len(g, rank as usize, 1 << 15);
            let b = file
                .read(&[ByteRange::at(at, whole.min(file.len().saturating_sub(at)))])
                .await?
                .into_iter()
                .next()
                .unwrap_or_default();
            BTreeV1Node::parse(
                &mut Cursor::new(&b),
                g.offset_size,
                g.length_size,
                Some(rank),
            )
            .map_err(|e| bad_node(file, ds, e))
        }
        Err(e) => Err(bad_node(file, ds, e)),
    }
}

/// Counts one more node (or block) an index walk visits; past the cap, the error naming
/// `--max-index-nodes`. Every walker counts with this, so a looping or huge index stops the same
/// way whichever kind it is.
pub(crate) fn count_visit(file: &H5File, visited: &mut usize, what: &str) -> Result<(), Hdf5Error> {
    *visited += 1;
    let cap = file.caps().index_nodes;
    if *visited > cap {
        return Err(file.over_cap(
            Caps::INDEX_NODES,
            format!("a chunk index walk visited more than {cap} {what}"),
        ));
    }
    Ok(())
}

/// Bytes of a chunk B-tree node with room for `2k` children.
fn node_len(g: super::file::Geometry, rank: usize, k: u64) -> u64 {
    let o = u64::from(g.offset_size);
    let key = 8 + 8 * (rank as u64 + 1);
    8 + 2 * o + (2 * k + 1) * key + 2 * k * o
}

fn bad_node(file: &H5File, ds: &DatasetInfo, e: hdf5_reader::error::Error) -> Hdf5Error {
    Hdf5Error::Malformed {
        what: file.what().to_string(),
        reason: format!("chunk index of {}: {e}", ds.path),
    }
}

/// Most index nodes or chunks fetched by [`prefetch_top`] in its second round.
const PREFETCH_TOP_MAX_RANGES: usize = 512;

/// The kind of index whose top [`prefetch_top`] warms.
#[derive(Clone, Copy, PartialEq)]
enum Top {
    BTreeV1,
    ExtensibleArray,
    BTreeV2,
}

/// Warms the cache with the top of each chunk index in two rounds: v1 B-tree roots, extensible
/// array and v2 B-tree headers, then the level below a v1 root that has grandchildren, the
/// arrays' index blocks and the v2 B-trees' roots, together with every chunk of the `whole`
/// datasets (small tables such as `ms_to_idx`, read entirely; a single chunk or contiguous
/// table already in the first round). Later walks then start two levels down; a cold window
/// costs the lower levels and the chunks.
pub async fn prefetch_top(
    file: &H5File,
    trees: &[&DatasetInfo],
    whole: &[&DatasetInfo],
) -> Result<(), Hdf5Error> {
    let g = file.geometry();
    let (o, l) = (g.offset_size, g.length_size);
    let roots: Vec<(&DatasetInfo, u64, bool, Top)> = trees
        .iter()
        .map(|d| (*d, false))
        .chain(whole.iter().map(|d| (*d, true)))
        .filter_map(|(d, whole)| match &d.layout {
            DataLayout::Chunked {
                index_address,
                index,
                ..
            } if !Cursor::is_undefined_offset(*index_address, o) => {
                let top = match index {
                    ChunkIndexKind::BTreeV1 => Top::BTreeV1,
                    ChunkIndexKind::ExtensibleArray => Top::ExtensibleArray,
                    ChunkIndexKind::BTreeV2 => Top::BTreeV2,
                    _ => return None,
                };
                Some((d, *index_address, whole, top))
            }
            _ => None,
        })
        .collect();
    // Small tables stored without an index: their bytes alone.
    let tables: Vec<ByteRange> = whole
        .iter()
        .filter_map(|d| match &d.layout {
            DataLayout::Chunked {
                index_address,
                index: ChunkIndexKind::SingleChunk { filtered_size, .. },
                chunk,
                ..
            } => {
                let len = if d.filters.is_empty() {
                    chunk_bytes(file, d, chunk).ok()?
                } else {
                    *filtered_size
                };
                Some(ByteRange::at(*index_address, len))
            }
            DataLayout::Contiguous { address, .. } => Some(ByteRange::at(
                *address,
                d.rows().saturating_mul(d.row_bytes()),
            )),
            _ => None,
        })
        .filter(|r| {
            !Cursor::is_undefined_offset(r.start, o)
                && r.len() <= CONTIGUOUS_PIECE_BYTES
                && !r.is_empty()
                && r.end <= file.len()
        })
        .collect();
    if roots.is_empty() && tables.is_empty() {
        return Ok(());
    }
    let ranges: Vec<ByteRange> = roots
        .iter()
        .map(|(d, at, _, top)| {
            let len = match top {
                Top::BTreeV1 => node_len(g, d.shape.len(), u64::from(g.chunk_btree_k)),
                Top::ExtensibleArray => extensible_array::header_len(o, l),
                Top::BTreeV2 => chunk_btree_v2::header_len(o, l),
            };
            ByteRange::at(*at, len.min(file.len().saturating_sub(*at)))
        })
        .chain(tables.iter().copied())
        .collect();
    let bytes = file.read(&ranges).await?;
    let mut next = Vec::new();
    for ((d, _, whole, top), b) in roots.iter().zip(bytes) {
        match top {
            Top::ExtensibleArray => {
                next.extend(extensible_array::index_block_range(&b, o, l));
                continue;
            }
            Top::BTreeV2 => {
                next.extend(chunk_btree_v2::root_range(&b, o));
                continue;
            }
            Top::BTreeV1 => {}
        }
        let Ok(node) = BTreeV1Node::parse(
            &mut Cursor::new(&b),
            g.offset_size,
            g.length_size,
            Some(d.shape.len() as u32),
        ) else {
            continue; // The walk proper reports malformed nodes.
        };
        if *whole && node.level == 0 {
            for (c, child) in node.children.iter().enumerate() {
                if let Some(BTreeV1Key::RawData { chunk_size, .. }) = node.keys.get(c) {
                    next.push(ByteRange::at(*child, u64::from(*chunk_size)));
                }
            }
        } else if node.level >= 2 {
            let len = node_len(g, d.shape.len(), u64::from(g.chunk_btree_k));
            next.extend(
                node.children
                    .iter()
                    .map(|c| ByteRange::at(*c, len.min(file.len().saturating_sub(*c)))),
            );
        }
    }
    let cap = file.caps().metadata_bytes;
    next.retain(|r| !r.is_empty() && r.end <= file.len() && r.len() <= cap);
    next.truncate(PREFETCH_TOP_MAX_RANGES);
    if !next.is_empty() {
        file.read(&next).await?;
    }
    Ok(())
}
