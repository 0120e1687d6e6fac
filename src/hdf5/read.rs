//! Fetching pieces together and decoding them into rows.

use std::ops::Range;

use bytes::Bytes;

use std::collections::HashMap;

use super::chunk_index::{locate, Piece, Stored};
use super::dataset::{DatasetInfo, ElementType};
use super::field::Field;
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
    let row_bytes = ds.piece_row_bytes() as u64;
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
    let fields = requests
        .iter()
        .map(|(ds, rows)| Ok((*ds, first_field(file, ds)?, rows.clone())))
        .collect::<Result<Vec<_>, Hdf5Error>>()?;
    read_fields_i64(file, &fields).await
}

/// Reads one field of rows of several datasets: one index walk and one fetch round for all.
/// A piece that several requests need (the four members of Prophesee's compound records, say)
/// is fetched and decoded once.
pub async fn read_fields_i64(
    file: &H5File,
    requests: &[(&DatasetInfo, Field, Range<u64>)],
) -> Result<Vec<Vec<i64>>, Hdf5Error> {
    let spans: Vec<_> = requests
        .iter()
        .map(|(ds, f, rows)| (*ds, f.column, rows.clone()))
        .collect();
    let located = locate(file, &spans).await?;
    // Each distinct piece once, with how many requests use it.
    let key = |ds: &DatasetInfo, p: &Piece| (ds.path.clone(), p.first_row, p.disk_range());
    let mut uses: HashMap<_, usize> = HashMap::new();
    let mut distinct: Vec<(_, &Piece)> = Vec::new();
    for ((ds, ..), pieces) in requests.iter().zip(&located) {
        for p in pieces {
            let k = key(ds, p);
            let n = uses.entry(k.clone()).or_insert(0);
            if *n == 0 {
                distinct.push((k, p));
            }
            *n += 1;
        }
    }
    let to_fetch: Vec<&Piece> = distinct.iter().map(|(_, p)| *p).collect();
    let fetched = fetch_pieces(file, &to_fetch).await?;
    let mut stored: HashMap<_, Option<Bytes>> =
        distinct.into_iter().map(|(k, _)| k).zip(fetched).collect();
    // Decoded pieces kept only while another request still needs them.
    let mut decoded: HashMap<_, std::rc::Rc<Vec<u8>>> = HashMap::new();
    let mut out = Vec::with_capacity(requests.len());
    for ((ds, field, rows), pieces) in requests.iter().zip(&located) {
        let rows = rows.start.min(ds.rows())..rows.end.min(ds.rows());
        let (row_bytes, offset) = field.placement(ds);
        let mut values = Vec::with_capacity((rows.end - rows.start) as usize);
        for piece in pieces {
            let k = key(ds, piece);
            let left = uses.get_mut(&k).map_or(0, |n| {
                *n = n.saturating_sub(1);
                *n
            });
            let bytes = match decoded.get(&k) {
                Some(b) => b.clone(),
                None => {
                    let raw = if left > 0 {
                        stored.get(&k).cloned().flatten()
                    } else {
                        stored.remove(&k).flatten()
                    };
                    std::rc::Rc::new(decode_piece(file, ds, piece, raw)?)
                }
            };
            if left > 0 {
                decoded.insert(k, bytes.clone());
            } else {
                decoded.remove(&k);
            }
            let held = (bytes.len() / row_bytes.max(1)) as u64;
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
                field.extend(span, row_bytes, offset, &mut values);
            }
        }
        if values.len() as u64 != rows.end - rows.start {
            return Err(short(file, ds, "row range"));
        }
        out.push(values);
    }
    Ok(out)
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
    pieces.sort_by_key(|p| p.first_row);
    pieces.dedup_by_key(|p| p.first_row);
    let stored = fetch_pieces(file, &pieces).await?;
    let (row_bytes, offset) = field.placement(ds);
    pieces
        .iter()
        .zip(stored)
        .map(|(piece, bytes)| {
            let data = decode_piece(file, ds, piece, bytes)?;
            let mut values = Vec::new();
            field.extend(&data, row_bytes, offset, &mut values);
            Ok((piece.first_row, values))
        })
        .collect()
}
