//! Fetching pieces together and decoding them into rows.

use std::ops::Range;

use bytes::Bytes;

use super::caps::Caps;
use super::chunk_index::{locate, Piece, Stored};
use super::dataset::{DatasetInfo, ElementType};
use super::file::H5File;
use super::filters::decode_chunk;
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
    let row_bytes = ds.row_bytes();
    let rows_inside = piece.rows.min(ds.rows().saturating_sub(piece.first_row));
    let cap = file.caps().chunk_bytes;
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
        Stored::Fill => vec![0u8; want as usize],
        Stored::Inline { data } => {
            let span = piece
                .first_row
                .checked_mul(row_bytes)
                .and_then(|start| Some((usize::try_from(start).ok()?, want as usize)))
                .and_then(|(start, len)| data.get(start..start.checked_add(len)?));
            span.ok_or_else(|| short(file, ds, "compact data"))?
                .to_vec()
        }
        Stored::Raw { .. } => stored.ok_or_else(|| short(file, ds, "raw piece"))?.to_vec(),
        Stored::Chunk { filter_mask, .. } => {
            let raw = stored.ok_or_else(|| short(file, ds, "chunk"))?.to_vec();
            decode_chunk(
                &ds.filters,
                *filter_mask,
                raw,
                ds.element_size,
                full as usize,
            )
            .map_err(|source| Hdf5Error::Filter {
                what: file.what().to_string(),
                dataset: ds.path.clone(),
                source,
            })?
        }
    };
    if (data.len() as u64) < want {
        return Err(short(file, ds, "decoded chunk"));
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

/// Bytes a read of `rows` rows converted to `i64` holds.
fn values_bytes(rows: u64) -> u64 {
    rows.saturating_mul(std::mem::size_of::<i64>() as u64)
}

fn short(file: &H5File, ds: &DatasetInfo, what: &str) -> Hdf5Error {
    Hdf5Error::Malformed {
        what: file.what().to_string(),
        reason: format!("{}: {what} is shorter than its rows", ds.path),
    }
}

/// Reads rows of several datasets (all their pieces fetched in one round after the index
/// walk) and converts the first element of each row to `i64`. For small reads: time-index
/// tables, scalars, probes.
pub async fn read_rows_i64(
    file: &H5File,
    requests: &[(&DatasetInfo, Range<u64>)],
) -> Result<Vec<Vec<i64>>, Hdf5Error> {
    let values: u64 = requests
        .iter()
        .map(|(ds, rows)| values_bytes(rows.end.min(ds.rows()).saturating_sub(rows.start)))
        .fold(0, u64::saturating_add);
    if values > file.caps().memory_budget {
        return Err(over_budget(file, "the values of one read", values));
    }
    let located = locate(file, requests).await?;
    let all: Vec<&Piece> = located.iter().flatten().collect();
    let mut stored = fetch_pieces(file, &all).await?.into_iter();
    let mut out = Vec::with_capacity(requests.len());
    for ((ds, rows), pieces) in requests.iter().zip(&located) {
        let rows = rows.start.min(ds.rows())..rows.end.min(ds.rows());
        let dtype = column_type(file, ds)?;
        let mut values = Vec::with_capacity(rows.end.saturating_sub(rows.start) as usize);
        for piece in pieces {
            let bytes = decode_piece(file, ds, piece, stored.next().flatten())?;
            // A decoded piece is within the chunk cap, so its rows' size fits a usize.
            let row_bytes = ds.row_bytes().max(1) as usize;
            let held = (bytes.len() / row_bytes) as u64;
            let lo = rows.start.max(piece.first_row) - piece.first_row;
            let hi = rows
                .end
                .min(piece.first_row + held)
                .saturating_sub(piece.first_row);
            if lo < hi {
                // Convert only the rows asked for, straight into the column.
                let span = &bytes[lo as usize * row_bytes..hi as usize * row_bytes];
                extend_i64(dtype, span, row_bytes, &mut values);
            }
        }
        if values.len() as u64 != rows.end - rows.start {
            return Err(short(file, ds, "row range"));
        }
        out.push(values);
    }
    Ok(out)
}

/// The element type of a column, or a clear error for types events never use.
pub fn column_type(file: &H5File, ds: &DatasetInfo) -> Result<ElementType, Hdf5Error> {
    match ds.dtype {
        Some(
            t @ ElementType::Int {
                size: 1 | 2 | 4 | 8,
                ..
            },
        ) => Ok(t),
        Some(t @ ElementType::Float { size: 4 | 8, .. }) => Ok(t),
        _ => Err(Hdf5Error::Unsupported {
            what: file.what().to_string(),
            dataset: ds.path.clone(),
            reason: "element type is not an integer or float of 1, 2, 4 or 8 bytes".into(),
        }),
    }
}

/// First element of each row as `i64` (floats truncated toward zero).
pub fn to_i64(dtype: ElementType, bytes: &[u8], row_bytes: usize) -> Vec<i64> {
    let mut out = Vec::new();
    extend_i64(dtype, bytes, row_bytes, &mut out);
    out
}

/// Appends the first element of each row, as `i64`, to `out`.
pub fn extend_i64(dtype: ElementType, bytes: &[u8], row_bytes: usize, out: &mut Vec<i64>) {
    let size = dtype.size();
    if size == 0 || row_bytes < size {
        return;
    }
    let rows = bytes.len() / row_bytes;
    out.reserve(rows);
    match dtype {
        ElementType::Int {
            size,
            signed,
            big_endian,
        } => {
            let size = size as usize;
            if row_bytes == size && !big_endian {
                // Hot path: plain little-endian columns.
                match (size, signed) {
                    (1, false) => out.extend(bytes.iter().map(|&b| i64::from(b))),
                    (1, true) => out.extend(bytes.iter().map(|&b| i64::from(b as i8))),
                    (2, false) => out.extend(
                        bytes
                            .chunks_exact(2)
                            .map(|c| i64::from(u16::from_le_bytes([c[0], c[1]]))),
                    ),
                    (2, true) => out.extend(
                        bytes
                            .chunks_exact(2)
                            .map(|c| i64::from(i16::from_le_bytes([c[0], c[1]]))),
                    ),
                    (4, false) => out.extend(
                        bytes
                            .chunks_exact(4)
                            .map(|c| i64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
                    ),
                    (4, true) => out.extend(
                        bytes
                            .chunks_exact(4)
                            .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
                    ),
                    (8, _) => out.extend(bytes.chunks_exact(8).map(|c| {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(c);
                        // u8 values above i64::MAX do not occur in event data; they wrap.
                        i64::from_le_bytes(a)
                    })),
                    _ => {}
                }
                return;
            }
            for row in bytes.chunks_exact(row_bytes) {
                let e = &row[..size];
                let mut v: u64 = 0;
                for i in 0..size {
                    let b = if big_endian { e[i] } else { e[size - 1 - i] };
                    v = (v << 8) | u64::from(b);
                }
                let shift = 64 - 8 * size as u32;
                out.push(if signed {
                    ((v << shift) as i64) >> shift
                } else {
                    v as i64
                });
            }
        }
        ElementType::Float { size, big_endian } => {
            for row in bytes.chunks_exact(row_bytes) {
                let e = &row[..size as usize];
                let v = match (size, big_endian) {
                    (4, false) => f64::from(f32::from_le_bytes([e[0], e[1], e[2], e[3]])),
                    (4, true) => f64::from(f32::from_be_bytes([e[0], e[1], e[2], e[3]])),
                    (_, be) => {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(&e[..8]);
                        if be {
                            f64::from_be_bytes(a)
                        } else {
                            f64::from_le_bytes(a)
                        }
                    }
                };
                out.push(v as i64);
            }
        }
    }
}

/// Decodes whole pieces of one column around the given rows: each result is the first row of
/// a piece and the first element of each of its rows. Used by searches, which learn most from
/// every value a fetched chunk holds.
pub async fn read_pieces_i64(
    file: &H5File,
    ds: &DatasetInfo,
    rows: &[u64],
) -> Result<Vec<(u64, Vec<i64>)>, Hdf5Error> {
    let requests: Vec<_> = rows.iter().map(|&r| (ds, r..r + 1)).collect();
    let located = locate(file, &requests).await?;
    let mut pieces: Vec<&Piece> = located.iter().flatten().collect();
    pieces.sort_by_key(|p| p.first_row);
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
    let dtype = column_type(file, ds)?;
    let row_bytes = ds.row_bytes().max(1) as usize;
    pieces
        .iter()
        .zip(stored)
        .map(|(piece, bytes)| {
            let data = decode_piece(file, ds, piece, bytes)?;
            Ok((piece.first_row, to_i64(dtype, &data, row_bytes)))
        })
        .collect()
}
