//! A window's events taken away as data: NumPy `.npz`, `.csv`, a DSEC-layout `.h5`, or a
//! `.png` drawn like the viewer draws it.
//!
//! Every writer takes the window batch by batch ([`crate::events::WindowReader::next_batch`]
//! → [`convert::convert`] → `write_batch`), so memory stays bounded for any window length.
//! `npz`, `csv` and `png` write to any `std::io::Write` (+`Seek` for npz) and so also run in
//! the browser; the `.h5` writer links libhdf5 and is native only.
//!
//! Columns as written (`.npz` dtypes; `.csv` prints the same values; `.h5` the same dtypes).
//! Every column keeps the type the file stores it in (native byte order; float columns as
//! `int64`, see [`crate::hdf5::Field::decode`]) unless an option rewrites it
//! ([`convert::output_types`]):
//! - `x`, `y`: stored pixels; with `normalize` `float32` `x / width`, `y / height`.
//! - `t`: stored µs of `t` (without `t_offset`); with `absolute_time` `int64` plus
//!   `t_offset`; with `normalize` `int64` µs since the window start (`t - from`, the same in
//!   either time base, so `normalize` wins over `absolute_time`).
//! - `p`: as stored (a `uint8` 0/255 stays that); [`Polarity::Binary`] `int8` 0/1,
//!   [`Polarity::Signed`] `int8` −1/+1 (`p > 0` in the stored type is positive, as everywhere
//!   in Strobe).

pub mod columns;
pub mod convert;
pub mod csv;
#[cfg(not(target_arch = "wasm32"))]
pub mod h5;
pub mod npz;
pub mod png;
mod zip;

pub use convert::{convert, output_types, ExportBatch, OutputType, PixelColumn, TimeBase};

/// What an export file holds, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Npz,
    Csv,
    H5,
    Png,
}

/// The extensions [`Format::from_path`] accepts, for messages.
pub const SUPPORTED_EXTENSIONS: &str = ".npz, .csv, .h5 (or .hdf5), .png";

impl Format {
    /// The format named by `path`'s extension (case-insensitive).
    pub fn from_path(path: &str) -> Result<Self, ExportError> {
        let ext = path
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "npz" => Ok(Format::Npz),
            "csv" => Ok(Format::Csv),
            "h5" | "hdf5" => Ok(Format::H5),
            "png" => Ok(Format::Png),
            _ => Err(ExportError::UnknownFormat(path.to_string())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Npz => "npz",
            Format::Csv => "csv",
            Format::H5 => "h5",
            Format::Png => "png",
        }
    }

    /// Rejects options the format cannot honour instead of silently ignoring them.
    pub fn check(self, options: &ExportOptions) -> Result<(), ExportError> {
        let refuse = |option: &'static str, why: &'static str| {
            Err(ExportError::NotForFormat {
                option,
                format: self.name(),
                why,
            })
        };
        match self {
            Format::Npz | Format::Csv => Ok(()),
            Format::H5 if options.normalize => refuse(
                "--normalize",
                "the DSEC layout keeps integer pixels and t relative to t_offset; use .npz or .csv",
            ),
            Format::H5 if options.absolute_time => refuse(
                "--absolute-time",
                "the file keeps the source's t_offset, so t + t_offset is already absolute",
            ),
            Format::Png if options.normalize || options.absolute_time => refuse(
                if options.normalize {
                    "--normalize"
                } else {
                    "--absolute-time"
                },
                "a picture has no coordinates or times to rewrite",
            ),
            Format::Png if options.polarity != Polarity::Stored => refuse(
                "--polarity",
                "the picture colours positive (p > 0) and negative events whatever their coding",
            ),
            _ => Ok(()),
        }
    }
}

/// How polarity is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Polarity {
    /// The stored value (DSEC 0/1, M3ED and RVT −1/1 or 0/1).
    #[default]
    Stored,
    /// 1 for positive (`p > 0`), else 0.
    Binary,
    /// 1 for positive (`p > 0`), else −1.
    Signed,
}

/// What to rewrite on the way out (see the module docs for each column's result).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportOptions {
    pub polarity: Polarity,
    /// `x / width`, `y / height` as `float32`, `t` from the window start.
    pub normalize: bool,
    /// `t + t_offset`.
    pub absolute_time: bool,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot export to {0}: unknown extension — use one of {SUPPORTED_EXTENSIONS}")]
    UnknownFormat(String),
    #[error("{option} does not apply to .{format}: {why}")]
    NotForFormat {
        option: &'static str,
        format: &'static str,
        why: &'static str,
    },
    #[error("{column} = {value} does not fit {dtype}; this recording's {column} cannot be exported as {dtype}")]
    OutOfRange {
        column: &'static str,
        value: i128,
        dtype: &'static str,
    },
    #[error("the window held {got} events where the time index counted {expected} — is t sorted?")]
    CountMismatch { expected: u64, got: u64 },
    #[error("t = {t} µs would need a ms_to_idx table of more than {max_rows} rows — export this recording as .npz or .csv")]
    TimeTooLarge { t: i64, max_rows: u64 },
    #[error(transparent)]
    Events(#[from] crate::events::EventsError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("HDF5 writer: {0}")]
    Hdf5(String),
}
