//! `.h5` in the DSEC layout, written with libhdf5 (`hdf5-metno`): `/events/{x,y,t,p}`,
//! `/ms_to_idx`, `/t_offset`. Columns are chunked and resizable, so each batch extends them.
//!
//! Dtypes: x, y, t, p as the source stores them (native byte order; float columns `int64`),
//! p `int8` when `--polarity` recodes it; `ms_to_idx` `uint64`; `t_offset` a scalar `int64`. `t` and `t_offset` are the source's, so `t +
//! t_offset` stays the absolute time. `ms_to_idx[i]` is the first event with `t >= 1000·i`
//! (DSEC's rule), for `i` up to `t_last / 1000`, built as the events stream by.

use std::path::Path;

use hdf5_metno as hdf5;

use super::convert::{ExportBatch, OutputType, PixelColumn};
use super::ExportError;
use crate::hdf5::{ValueKind, Values};

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

/// A column of `kind` (the stored integer type).
fn typed_column(
    group: &hdf5::Group,
    name: &'static str,
    kind: OutputType,
) -> Result<hdf5::Dataset, ExportError> {
    match kind {
        OutputType::Int(ValueKind::I8) => column::<i8>(group, name),
        OutputType::Int(ValueKind::U8) => column::<u8>(group, name),
        OutputType::Int(ValueKind::I16) => column::<i16>(group, name),
        OutputType::Int(ValueKind::U16) => column::<u16>(group, name),
        OutputType::Int(ValueKind::I32) => column::<i32>(group, name),
        OutputType::Int(ValueKind::U32) => column::<u32>(group, name),
        OutputType::Int(ValueKind::I64) => column::<i64>(group, name),
        OutputType::Int(ValueKind::U64) => column::<u64>(group, name),
        OutputType::F32 => Err(ExportError::Hdf5(
            "the DSEC layout holds integer pixels, not normalised ones".into(),
        )),
    }
}

fn append_values(
    ds: &hdf5::Dataset,
    at: u64,
    values: &Values,
    what: &'static str,
) -> Result<(), ExportError> {
    crate::hdf5::values::each_values!(values, v => append(ds, at, v, what))
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
    /// Creates (or replaces) the file at `path` for columns x, y, t, p of `types`;
    /// `t_offset` is stored as given.
    pub fn create(path: &Path, t_offset: i64, types: [OutputType; 4]) -> Result<Self, ExportError> {
        let file = hdf5::File::create(path).map_err(h5err("create"))?;
        let events = file.create_group("events").map_err(h5err("events"))?;
        let root = file.group("/").map_err(h5err("root"))?;
        file.new_dataset::<i64>()
            .obj_track_times(false)
            .create("t_offset")
            .and_then(|d| d.write_scalar(&t_offset))
            .map_err(h5err("t_offset"))?;
        Ok(Self {
            x: typed_column(&events, "x", types[0])?,
            y: typed_column(&events, "y", types[1])?,
            t: typed_column(&events, "t", types[2])?,
            p: typed_column(&events, "p", types[3])?,
            ms_to_idx: column::<u64>(&root, "ms_to_idx")?,
            file,
            rows: 0,
            next_ms: 0,
            ms_pending: Vec::new(),
            ms_written: 0,
        })
    }

    pub fn write_batch(&mut self, batch: &ExportBatch) -> Result<(), ExportError> {
        let (PixelColumn::Stored(x), PixelColumn::Stored(y)) = (&batch.x, &batch.y) else {
            return Err(ExportError::Hdf5(
                "the DSEC layout holds integer pixels, not normalised ones".into(),
            ));
        };
        append_values(&self.x, self.rows, x, "x")?;
        append_values(&self.y, self.rows, y, "y")?;
        append_values(&self.t, self.rows, &batch.t, "t")?;
        append_values(&self.p, self.rows, &batch.p, "p")?;
        for i in 0..batch.t.len() {
            let Some(t) = batch.t.get(i) else { break };
            if t < 0 {
                continue;
            }
            let Ok(t) = i64::try_from(t) else {
                return Err(ExportError::TimeTooLarge {
                    t: i64::MAX,
                    max_rows: MAX_MS_ROWS,
                });
            };
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
