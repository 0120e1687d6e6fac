//! `.npz`: arrays `x`, `y`, `t`, `p` as `.npy` (format 1.0) members of a stored ZIP, the way
//! `numpy.savez` writes them, so `numpy.load(path)["t"]` reads them.
//!
//! A `.npy` header holds the array's length, so the event count is taken from the time index
//! before the first batch ([`NpzWriter::create`]); each column then streams into its own
//! region of the archive (hence `Seek`), and [`NpzWriter::finish`] fails if the window held a
//! different number of events. No file system here: the page writes into a `Cursor<Vec<u8>>`.

use std::io::{Seek, Write};

use super::convert::{convert, output_types, ExportBatch, OutputType, PixelColumn, TimeBase};
use super::zip::StoredZip;
use super::{ExportError, ExportOptions};
use crate::events::enumerate::window_rows;
use crate::events::{Recording, Window, WindowReader};

/// Writes the window `[base.from, to)` of `rec` as an `.npz` into `out`: counts it through the
/// time index, then streams it batch by batch. Returns `out` and the number of events. The
/// browser passes a `Cursor<Vec<u8>>`, the CLI a buffered file.
pub async fn write_window<W: Write + Seek>(
    out: W,
    rec: &Recording,
    to: i64,
    options: &ExportOptions,
    base: &TimeBase,
) -> Result<(W, u64), ExportError> {
    write_window_with_facts(out, rec, to, options, base, &[], None).await
}

/// [`write_window`] with `facts` stored beside the columns (see [`NpzFact`]); `rows`: the
/// window's rows when the caller has already counted them (with
/// [`crate::events::enumerate::window_rows`]), so they are looked up once.
pub async fn write_window_with_facts<W: Write + Seek>(
    out: W,
    rec: &Recording,
    to: i64,
    options: &ExportOptions,
    base: &TimeBase,
    facts: &[(&str, NpzFact)],
    rows: Option<std::ops::Range<u64>>,
) -> Result<(W, u64), ExportError> {
    let window = Window {
        from: base.from,
        to,
    };
    let rows = match rows {
        Some(rows) => rows,
        None => {
            let (first, events) = window_rows(rec, window.from, window.to).await?;
            first..first.saturating_add(events)
        }
    };
    let events = rows.end.saturating_sub(rows.start);
    let mut reader = WindowReader::open_rows(rec, window, rows).await?;
    let types = output_types(rec.columns.kinds(), options);
    let mut writer = NpzWriter::create_with_facts(out, events, types, facts)?;
    while let Some(batch) = reader.next_batch().await? {
        writer.write_batch(&convert(&batch, options, base)?)?;
    }
    Ok((writer.finish()?, events))
}

/// The archive's members, in column order.
const MEMBERS: [&str; 4] = ["x.npy", "y.npy", "t.npy", "p.npy"];

/// The `.npy` header of a 1-D array: magic, version 1.0, the header dict padded with spaces
/// to a multiple of 64 bytes in all, ending in a newline.
pub fn npy_header(descr: &str, len: u64) -> Vec<u8> {
    npy_header_shaped(descr, &format!("({len},)"))
}

/// The `.npy` header of an array of shape `shape` (Python tuple text, `()` for a scalar).
fn npy_header_shaped(descr: &str, shape: &str) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = 10 + dict.len() + 1;
    let padded = unpadded.div_ceil(64) * 64;
    let header_len = (padded - 10) as u16;
    let mut out = Vec::with_capacity(padded);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&header_len.to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(padded - 1, b' ');
    out.push(b'\n');
    out
}

/// A fact stored beside the columns so that an `.npz` says what it holds (`t_offset`, the
/// window, the sensor, the source, the stored dtypes): numpy reads it as a 0-d array.
#[derive(Debug, Clone, PartialEq)]
pub enum NpzFact {
    Int(i64),
    Text(String),
}

/// The `.npy` bytes of a 0-d array holding `fact` (`<i8`, or `<U{n}` UTF-32 text).
pub fn npy_fact(fact: &NpzFact) -> Vec<u8> {
    match fact {
        NpzFact::Int(v) => {
            let mut out = npy_header_shaped("<i8", "()");
            out.extend_from_slice(&v.to_le_bytes());
            out
        }
        NpzFact::Text(text) => {
            let chars: Vec<u32> = text.chars().map(u32::from).collect();
            let n = chars.len().max(1);
            let mut out = npy_header_shaped(&format!("<U{n}"), "()");
            for i in 0..n {
                out.extend_from_slice(&chars.get(i).copied().unwrap_or(0).to_le_bytes());
            }
            out
        }
    }
}

/// Streams a window's events into an `.npz` of `events` rows.
pub struct NpzWriter<W: Write + Seek> {
    zip: StoredZip<W>,
    events: u64,
    written: u64,
    types: [OutputType; 4],
    /// Reused for each column's little-endian bytes.
    scratch: Vec<u8>,
}

impl<W: Write + Seek> NpzWriter<W> {
    /// Starts an archive for exactly `events` rows of x, y, t, p in `types`
    /// ([`output_types`]).
    pub fn create(out: W, events: u64, types: [OutputType; 4]) -> Result<Self, ExportError> {
        Self::create_with_facts(out, events, types, &[])
    }

    /// Like [`NpzWriter::create`], with `facts` stored as 0-d arrays named `<name>.npy` after
    /// the four columns (the page's downloads carry t_offset, the window, sensor and source).
    pub fn create_with_facts(
        out: W,
        events: u64,
        types: [OutputType; 4],
        facts: &[(&str, NpzFact)],
    ) -> Result<Self, ExportError> {
        let headers: Vec<Vec<u8>> = types
            .iter()
            .map(|c| npy_header(c.npy_descr(), events))
            .collect();
        let fact_names: Vec<String> = facts.iter().map(|(n, _)| format!("{n}.npy")).collect();
        let fact_bytes: Vec<Vec<u8>> = facts.iter().map(|(_, f)| npy_fact(f)).collect();
        let mut members: Vec<(&str, u64)> = MEMBERS
            .iter()
            .zip(&types)
            .zip(&headers)
            .map(|((name, c), h)| {
                (
                    *name,
                    h.len() as u64 + events.saturating_mul(c.size() as u64),
                )
            })
            .collect();
        members.extend(
            fact_names
                .iter()
                .zip(&fact_bytes)
                .map(|(n, b)| (n.as_str(), b.len() as u64)),
        );
        let mut zip = StoredZip::create(out, &members)?;
        for (i, h) in headers.iter().enumerate() {
            zip.append(i, h)?;
        }
        for (i, b) in fact_bytes.iter().enumerate() {
            zip.append(MEMBERS.len() + i, b)?;
        }
        Ok(Self {
            zip,
            events,
            written: 0,
            types,
            scratch: Vec::new(),
        })
    }

    /// Appends one batch (its columns must have the archive's types).
    pub fn write_batch(&mut self, batch: &ExportBatch) -> Result<(), ExportError> {
        let n = batch.len() as u64;
        if self.written + n > self.events {
            return Err(ExportError::CountMismatch {
                expected: self.events,
                got: self.written + n,
            });
        }
        if batch.output_types() != self.types {
            return Err(ExportError::Io(std::io::Error::other(
                "a batch's column types differ from the archive's",
            )));
        }
        for (i, column) in [&batch.x, &batch.y].into_iter().enumerate() {
            self.scratch.clear();
            match column {
                PixelColumn::Stored(v) => v.extend_le_bytes(&mut self.scratch),
                PixelColumn::F32(v) => v
                    .iter()
                    .for_each(|e| self.scratch.extend_from_slice(&e.to_le_bytes())),
            }
            self.zip.append(i, &self.scratch)?;
        }
        for (i, column) in [(2, &batch.t), (3, &batch.p)] {
            self.scratch.clear();
            column.extend_le_bytes(&mut self.scratch);
            self.zip.append(i, &self.scratch)?;
        }
        self.written += n;
        Ok(())
    }

    /// Completes the archive; fails unless exactly `events` rows were written.
    pub fn finish(self) -> Result<W, ExportError> {
        if self.written != self.events || self.zip.remaining(3) != 0 {
            return Err(ExportError::CountMismatch {
                expected: self.events,
                got: self.written,
            });
        }
        Ok(self.zip.finish()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hdf5::Values;

    #[test]
    fn npy_header_is_aligned_and_names_the_shape() {
        for len in [0u64, 7, 123_456_789_012] {
            let h = npy_header("<i8", len);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
            assert_eq!(u16::from_le_bytes([h[8], h[9]]) as usize, h.len() - 10);
            let text = String::from_utf8(h[10..].to_vec()).unwrap();
            assert!(text.contains(&format!("'shape': ({len},)")), "{text}");
            assert!(text.ends_with('\n'));
        }
    }

    #[test]
    fn a_window_longer_or_shorter_than_counted_is_an_error() {
        let batch = ExportBatch {
            x: PixelColumn::Stored(Values::U16(vec![1, 2])),
            y: PixelColumn::Stored(Values::U16(vec![3, 4])),
            t: Values::I64(vec![5, 6]),
            p: Values::U8(vec![0, 255]),
        };
        let types = batch.output_types();
        let mut w = NpzWriter::create(std::io::Cursor::new(Vec::new()), 1, types).unwrap();
        assert!(matches!(
            w.write_batch(&batch),
            Err(ExportError::CountMismatch {
                expected: 1,
                got: 2
            })
        ));
        let w = NpzWriter::create(std::io::Cursor::new(Vec::new()), 3, types).unwrap();
        assert!(w.finish().is_err());
    }

    #[test]
    fn facts_are_0d_arrays() {
        let int = npy_fact(&NpzFact::Int(-36_607_300_656));
        let text = String::from_utf8_lossy(&int[10..int.len() - 8]).to_string();
        assert!(
            text.contains("'descr': '<i8'") && text.contains("'shape': ()"),
            "{text}"
        );
        assert_eq!(int[int.len() - 8..], (-36_607_300_656i64).to_le_bytes());
        let word = npy_fact(&NpzFact::Text("dsé".into()));
        let body = &word[word.len() - 12..];
        assert_eq!(body, [100, 0, 0, 0, 115, 0, 0, 0, 0xe9, 0, 0, 0]);
        assert!(String::from_utf8_lossy(&word).contains("'descr': '<U3'"));
    }
}
