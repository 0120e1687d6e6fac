//! Which pieces of a dataset hold a range of rows — found by reading only the index nodes
//! that overlap the range.
//!
//! For v1 B-trees (every DSEC file) the walk is ours: all requests descend together, one
//! level per round, and only children whose key range overlaps the rows are followed. The
//! newer indexes (fixed/extensible array, v2 B-tree) are walked by `hdf5-reader` with chunk
//! bounds, resolved side by side through [`H5File::resolve`].

use std::ops::Range;
use std::sync::Arc;

use hdf5_reader::btree_v1::{BTreeV1Key, BTreeV1Node};
use hdf5_reader::chunk_index::ChunkEntry;
use hdf5_reader::io::Cursor;
use hdf5_reader::Hdf5File;

use super::dataset::DatasetInfo;
use super::file::H5File;
use super::layout::{ChunkIndexKind, DataLayout};
use super::meta_storage::MetaStorage;
use super::Hdf5Error;
use crate::source::ByteRange;

/// Rows of a contiguous dataset read as one piece (bounds memory for huge windows).
const CONTIGUOUS_PIECE_BYTES: u64 = 4 << 20;
/// Deepest chunk B-tree followed.
const MAX_BTREE_DEPTH: usize = 24;

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

/// Pieces overlapping each request's rows, in row order.
pub async fn locate(
    file: &H5File,
    requests: &[(&DatasetInfo, Range<u64>)],
) -> Result<Vec<Vec<Piece>>, Hdf5Error> {
    let mut out: Vec<Option<Vec<Piece>>> = vec![None; requests.len()];
    let mut btree_v1 = Vec::new();
    let mut by_reader = Vec::new();
    for (i, (ds, rows)) in requests.iter().enumerate() {
        let rows = rows.start.min(ds.rows())..rows.end.min(ds.rows());
        if rows.is_empty() {
            out[i] = Some(Vec::new());
            continue;
        }
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
                out[i] = Some(contiguous_pieces(file, ds, *address, rows));
            }
            DataLayout::Chunked {
                index_address,
                chunk,
                index,
            } => {
                check_whole_rows(file, ds, chunk)?;
                if Cursor::is_undefined_offset(*index_address, file.geometry().offset_size) {
                    out[i] = Some(vec![Piece {
                        first_row: 0,
                        rows: ds.rows(),
                        stored: Stored::Fill,
                    }]);
                    continue;
                }
                match index {
                    ChunkIndexKind::BTreeV1 => {
                        btree_v1.push((i, *ds, rows, *index_address, chunk[0]))
                    }
                    ChunkIndexKind::SingleChunk {
                        filtered_size,
                        filter_mask,
                    } => {
                        let stored = if ds.filters.is_empty() {
                            Stored::Raw {
                                bytes: ByteRange::at(*index_address, chunk_bytes(ds, chunk)),
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
                    _ => {
                        by_reader.push((i, *ds, rows, *index_address, chunk.clone(), index.clone()))
                    }
                }
            }
        }
    }

    let walked = walk_btree_v1(file, &btree_v1).await?;
    for ((i, ..), pieces) in btree_v1.iter().zip(walked) {
        out[*i] = Some(pieces);
    }

    let geometry = file.geometry();
    let storage_len = file.len();
    let ops = by_reader
        .iter()
        .map(|(_, ds, rows, address, chunk, index)| {
            let (ds, rows, address, index) = (*ds, rows.clone(), *address, index.clone());
            let chunk = chunk.clone();
            Box::new(move |_: &Hdf5File, meta: &MetaStorage| {
                reader_index_entries(
                    meta,
                    ds,
                    &rows,
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
    for ((i, ds, _, _, chunk, index), entries) in by_reader.iter().zip(entries) {
        let mut pieces: Vec<Piece> = entries?
            .into_iter()
            .map(|e| entry_piece(file, ds, chunk, index, e))
            .collect();
        pieces.sort_by_key(|p| p.first_row);
        out[*i] = Some(pieces);
    }
    Ok(out.into_iter().map(Option::unwrap_or_default).collect())
}

fn check_whole_rows(file: &H5File, ds: &DatasetInfo, chunk: &[u64]) -> Result<(), Hdf5Error> {
    let whole = chunk.len() == ds.shape.len()
        && !chunk.is_empty()
        && chunk[0] > 0
        && chunk.iter().zip(&ds.shape).skip(1).all(|(c, s)| c >= s);
    if whole {
        Ok(())
    } else {
        Err(Hdf5Error::Unsupported {
            what: file.what().to_string(),
            dataset: ds.path.clone(),
            reason: format!(
                "chunks of shape {chunk:?} split the rows of a {:?} dataset; Strobe reads row-chunked datasets only",
                ds.shape
            ),
        })
    }
}

fn chunk_bytes(ds: &DatasetInfo, chunk: &[u64]) -> u64 {
    chunk.iter().product::<u64>() * ds.element_size as u64
}

fn contiguous_pieces(
    file: &H5File,
    ds: &DatasetInfo,
    address: u64,
    rows: Range<u64>,
) -> Vec<Piece> {
    if Cursor::is_undefined_offset(address, file.geometry().offset_size) {
        return vec![Piece {
            first_row: rows.start,
            rows: rows.end - rows.start,
            stored: Stored::Fill,
        }];
    }
    let row_bytes = ds.row_bytes().max(1) as u64;
    let per_piece = (CONTIGUOUS_PIECE_BYTES / row_bytes).max(1);
    let mut pieces = Vec::new();
    let mut row = rows.start;
    while row < rows.end {
        let n = per_piece.min(rows.end - row);
        pieces.push(Piece {
            first_row: row,
            rows: n,
            stored: Stored::Raw {
                bytes: ByteRange::at(address + row * row_bytes, n * row_bytes),
            },
        });
        row += n;
    }
    pieces
}

#[allow(clippy::too_many_arguments)]
fn reader_index_entries(
    meta: &MetaStorage,
    ds: &DatasetInfo,
    rows: &Range<u64>,
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
    let bounds = Some((first.as_slice(), last.as_slice()));
    let (o, l) = (geometry.offset_size, geometry.length_size);
    match index {
        ChunkIndexKind::FixedArray => {
            hdf5_reader::fixed_array::collect_fixed_array_chunk_entries_storage(
                meta, address, o, l, &ds.shape, &chunk32, bounds,
            )
        }
        ChunkIndexKind::ExtensibleArray => {
            hdf5_reader::extensible_array::collect_extensible_array_chunk_entries_storage(
                meta,
                address,
                o,
                l,
                &ds.shape,
                ds.max_shape.as_deref(),
                &chunk32,
                bounds,
            )
        }
        ChunkIndexKind::BTreeV2 => hdf5_reader::chunk_index::collect_v2_chunk_entries_storage(
            meta,
            address,
            o,
            l,
            ds.shape.len() as u32,
            &chunk32,
            bounds,
        ),
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

fn entry_piece(
    file: &H5File,
    ds: &DatasetInfo,
    chunk: &[u64],
    index: &ChunkIndexKind,
    e: ChunkEntry,
) -> Piece {
    let first_row = e.offsets.first().copied().unwrap_or(0);
    let stored = if Cursor::is_undefined_offset(e.address, file.geometry().offset_size) {
        Stored::Fill
    } else if ds.filters.is_empty() || matches!(index, ChunkIndexKind::Implicit) {
        Stored::Raw {
            bytes: ByteRange::at(e.address, chunk_bytes(ds, chunk)),
        }
    } else {
        Stored::Chunk {
            bytes: ByteRange::at(e.address, e.size),
            filter_mask: e.filter_mask,
        }
    };
    Piece {
        first_row,
        rows: chunk[0],
        stored,
    }
}

type V1Request<'a> = (usize, &'a DatasetInfo, Range<u64>, u64, u64);

/// Descends all v1 chunk B-trees together, one level per round.
async fn walk_btree_v1(
    file: &H5File,
    requests: &[V1Request<'_>],
) -> Result<Vec<Vec<Piece>>, Hdf5Error> {
    let g = file.geometry();
    let mut out: Vec<Vec<Piece>> = vec![Vec::new(); requests.len()];
    // (request, node address, bytes to read)
    let mut frontier: Vec<(usize, u64)> = requests
        .iter()
        .enumerate()
        .map(|(r, (_, _, _, root, _))| (r, *root))
        .collect();
    let mut depth = 0;
    while !frontier.is_empty() {
        depth += 1;
        if depth > MAX_BTREE_DEPTH {
            return Err(Hdf5Error::Malformed {
                what: file.what().to_string(),
                reason: "chunk B-tree deeper than 24 levels (loop?)".into(),
            });
        }
        let sizes: Vec<u64> = frontier
            .iter()
            .map(|(r, _)| node_len(g, requests[*r].1.shape.len(), u64::from(g.chunk_btree_k)))
            .collect();
        let ranges: Vec<ByteRange> = frontier
            .iter()
            .zip(&sizes)
            .map(|((_, at), len)| ByteRange::at(*at, (*len).min(file.len().saturating_sub(*at))))
            .collect();
        let bytes = file.read(&ranges).await?;
        let mut next = Vec::new();
        for ((r, at), bytes) in frontier.iter().zip(bytes) {
            let (_, ds, rows, _, chunk_rows) = &requests[*r];
            let rank = ds.shape.len();
            let node = match BTreeV1Node::parse(
                &mut Cursor::new(&bytes),
                g.offset_size,
                g.length_size,
                Some(rank as u32),
            ) {
                Ok(node) => node,
                Err(hdf5_reader::error::Error::UnexpectedEof { .. }) => {
                    // The file's K is larger than assumed: read this node again, whole.
                    let whole = node_len(g, rank, 1 << 15);
                    let b = file
                        .read(&[ByteRange::at(
                            *at,
                            whole.min(file.len().saturating_sub(*at)),
                        )])
                        .await?;
                    let b = b.into_iter().next().unwrap_or_default();
                    BTreeV1Node::parse(
                        &mut Cursor::new(&b),
                        g.offset_size,
                        g.length_size,
                        Some(rank as u32),
                    )
                    .map_err(|e| bad_node(file, ds, e))?
                }
                Err(e) => return Err(bad_node(file, ds, e)),
            };
            let starts: Vec<(u64, u32, u32)> = node
                .keys
                .iter()
                .map(|k| match k {
                    BTreeV1Key::RawData {
                        chunk_size,
                        filter_mask,
                        offsets,
                    } => (
                        offsets.first().copied().unwrap_or(0),
                        *chunk_size,
                        *filter_mask,
                    ),
                    BTreeV1Key::Group { .. } => (0, 0, 0),
                })
                .collect();
            for (c, child) in node.children.iter().enumerate() {
                let (lo, size, mask) = starts[c];
                let hi = starts.get(c + 1).map_or(u64::MAX, |s| s.0);
                if node.level == 0 {
                    if lo < rows.end && lo + chunk_rows > rows.start {
                        out[*r].push(Piece {
                            first_row: lo,
                            rows: *chunk_rows,
                            stored: if ds.filters.is_empty() {
                                Stored::Raw {
                                    bytes: ByteRange::at(*child, u64::from(size)),
                                }
                            } else {
                                Stored::Chunk {
                                    bytes: ByteRange::at(*child, u64::from(size)),
                                    filter_mask: mask,
                                }
                            },
                        });
                    }
                } else if lo < rows.end && hi.saturating_add(*chunk_rows) > rows.start {
                    next.push((*r, *child));
                }
            }
        }
        frontier = next;
    }
    for pieces in &mut out {
        pieces.sort_by_key(|p| p.first_row);
        pieces.dedup_by_key(|p| p.first_row);
    }
    Ok(out)
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
