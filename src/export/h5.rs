//! `.h5` in the DSEC layout, written with libhdf5 (`hdf5-metno`): `/events/{x,y,t,p}`,
//! `/ms_to_idx`, `/t_offset`. Columns are chunked and resizable, so each batch extends them.
//!
//! Dtypes: x, y `uint16`, t `int64`, p `int8` (−1/+1 fits as well as 0/1); `ms_to_idx`
//! `uint64`; `t_offset` a scalar `int64`. `t` and `t_offset` are the source's, so `t +
//! t_offset` stays the absolute time. `ms_to_idx[i]` is the first event with `t >= 1000·i`
//! (DSEC's rule), for `i` up to `t_last / 1000`, built as the events stream by.

use std::path::Path;

use hdf5_metno as hdf5;

use super::convert::{ExportBatch, PixelColumn};
use super::ExportError;

/// Elements per chunk (the demo's choice; 128 KiB of x).
const CHUNK: usize = 1 << 16;
/// Deflate level: 1 keeps writing fast; the shuffled columns still shrink ~3×.
const DEFLATE_LEVEL: u8 = 1;
/// Longest `ms_to_idx` written (~75 hours); beyond, `t` is not a time since the start.
pub const MAX_MS_ROWS: u64 = 1 << 28;

fn h5err(what: &'static str) -> impl Fn(hdf5::Error) -> ExportError {
    move |e| ExportError::Hdf5(format!("{what}: {e}"))
}

/// Streams a window's events into a DSEC-layout file.
pub struct H5Writer {
    file: hdf5::File,
    x: hdf5::Dataset,
    y: hdf5::Dataset,
    t: hdf5::Dataset,
    p: hdf5::Dataset,
    ms_to_idx: hdf5::Dataset,
    rows: u64,
    /// Next millisecond whose first event is still to come.
    next_ms: u64,
    /// Entries of `ms_to_idx` not yet written, and how many are.
    ms_pending: Vec<u64>,
    ms_written: u64,
}

fn column<T: hdf5::H5Type>(
    group: &hdf5::Group,
    name: &'static str,
) -> Result<hdf5::Dataset, ExportError> {
    group
        .new_dataset::<T>()
        .chunk(CHUNK)
        .shuffle()
        .deflate(DEFLATE_LEVEL)
        .obj_track_times(false)
        .shape(0..)
        .create(name)
        .map_err(h5err(name))
}

fn append<T: hdf5::H5Type>(
    ds: &hdf5::Dataset,
    at: u64,
    values: &[T],
    what: &'static str,
) -> Result<(), ExportError> {
    if values.is_empty() {
        return Ok(());
    }
    let (a, b) = (at as usize, at as usize + values.len());
    ds.resize(b).map_err(h5err(what))?;
    ds.write_slice(values, a..b).map_err(h5err(what))
}

impl H5Writer {
    /// Creates (or replaces) the file at `path`; `t_offset` is stored as given.
    pub fn create(path: &Path, t_offset: i64) -> Result<Self, ExportError> {
        let file = hdf5::File::create(path).map_err(h5err("create"))?;
        let events = file.create_group("events").map_err(h5err("events"))?;
        let root = file.group("/").map_err(h5err("root"))?;
        file.new_dataset::<i64>()
            .obj_track_times(false)
            .create("t_offset")
            .and_then(|d| d.write_scalar(&t_offset))
            .map_err(h5err("t_offset"))?;
        Ok(Self {
            x: column::<u16>(&events, "x")?,
            y: column::<u16>(&events, "y")?,
            t: column::<i64>(&events, "t")?,
            p: column::<i8>(&events, "p")?,
            ms_to_idx: column::<u64>(&root, "ms_to_idx")?,
            file,
            rows: 0,
            next_ms: 0,
            ms_pending: Vec::new(),
            ms_written: 0,
        })
    }

    pub fn write_batch(&mut self, batch: &ExportBatch) -> Result<(), ExportError> {
        let (PixelColumn::U16(x), PixelColumn::U16(y)) = (&batch.x, &batch.y) else {
            return Err(ExportError::Hdf5(
                "the DSEC layout holds integer pixels, not normalised ones".into(),
            ));
        };
        append(&self.x, self.rows, x, "x")?;
        append(&self.y, self.rows, y, "y")?;
        append(&self.t, self.rows, &batch.t, "t")?;
        append(&self.p, self.rows, &batch.p, "p")?;
        for (i, &t) in batch.t.iter().enumerate() {
            if t < 0 {
                continue;
            }
            // Every millisecond i with 1000·i <= t not yet given starts at this event.
            let last_ms = t as u64 / 1000;
            if last_ms >= MAX_MS_ROWS {
                return Err(ExportError::TimeTooLarge {
                    t,
                    max_rows: MAX_MS_ROWS,
                });
            }
            while self.next_ms <= last_ms {
                self.ms_pending.push(self.rows + i as u64);
                self.next_ms += 1;
                if self.ms_pending.len() >= CHUNK {
                    self.flush_ms()?;
                }
            }
        }
        self.rows += batch.len() as u64;
        Ok(())
    }

    fn flush_ms(&mut self) -> Result<(), ExportError> {
        append(
            &self.ms_to_idx,
            self.ms_written,
            &self.ms_pending,
            "ms_to_idx",
        )?;
        self.ms_written += self.ms_pending.len() as u64;
        self.ms_pending.clear();
        Ok(())
    }

    /// Writes what is pending and closes the file; returns the number of events.
    pub fn finish(mut self) -> Result<u64, ExportError> {
        self.flush_ms()?;
        let rows = self.rows;
        drop((self.x, self.y, self.t, self.p, self.ms_to_idx));
        self.file.close().map_err(h5err("close"))?;
        Ok(rows)
    }
}
