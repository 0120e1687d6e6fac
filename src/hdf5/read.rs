//! Fetching pieces together and decoding them into rows.

use std::ops::Range;

use bytes::Bytes;

use super::chunk_index::{locate, Piece, Stored};
use super::dataset::{DatasetInfo, ElementType};
use super::file::H5File;
use super::filters::decode_chunk;
use super::Hdf5Error;

/// Largest decoded piece accepted (a chunk claiming more is refused before allocation).
pub const MAX_PIECE_BYTES: u64 = 256 << 20;

/// Fetches the stored bytes of many pieces — of any datasets — in one round.
pub async fn fetch_pieces(
    file: &H5File,
    pieces: &[&Piece],
) -> Result<Vec<Option<Bytes>>, Hdf5Error> {
    let ranges: Vec<_> = pieces.iter().filter_map(|p| p.disk_range()).collect();
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
    let row_bytes = ds.row_bytes() as u64;
    let rows_inside = piece.rows.min(ds.rows().saturating_sub(piece.first_row));
    let want = rows_inside * row_bytes;
    let full = piece.rows * row_bytes;
    if full > MAX_PIECE_BYTES {
        return Err(Hdf5Error::Limit {
            what: file.what().to_string(),
            reason: format!(
                "{}: a chunk of {full} bytes exceeds the {MAX_PIECE_BYTES}-byte cap",
                ds.path
            ),
        });
    }
    let mut data = match &piece.stored {
        Stored::Fill => vec![0u8; want as usize],
        Stored::Inline { data } => {
            let start = (piece.first_row * row_bytes) as usize;
            data.get(start..start + want as usize)
                .ok_or_else(|| short(file, ds, "compact data"))?
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
    let located = locate(file, requests).await?;
    let all: Vec<&Piece> = located.iter().flatten().collect();
    let mut stored = fetch_pieces(file, &all).await?.into_iter();
    let mut out = Vec::with_capacity(requests.len());
    for ((ds, rows), pieces) in requests.iter().zip(&located) {
        let rows = rows.start.min(ds.rows())..rows.end.min(ds.rows());
        let dtype = column_type(file, ds)?;
        let mut values = Vec::with_capacity((rows.end - rows.start) as usize);
        for piece in pieces {
            let bytes = decode_piece(file, ds, piece, stored.next().flatten())?;
            let row_bytes = ds.row_bytes();
            let held = (bytes.len() / row_bytes.max(1)) as u64;
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
    if row_bytes == 0 || size == 0 {
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
    let stored = fetch_pieces(file, &pieces).await?;
    let dtype = column_type(file, ds)?;
    pieces
        .iter()
        .zip(stored)
        .map(|(piece, bytes)| {
            let data = decode_piece(file, ds, piece, bytes)?;
            Ok((piece.first_row, to_i64(dtype, &data, ds.row_bytes())))
        })
        .collect()
}
