//! Errors of the format layer.

use crate::hdf5::filters::FilterError;
use crate::source::SourceError;

/// Why an HDF5 object could not be read. Each message names the file object involved.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Hdf5Error {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{what}: not an HDF5 file (no HDF5 signature at the start) — open an .h5 file")]
    NotHdf5 { what: String },
    #[error("{what}: no dataset or group at {path}")]
    NotFound { what: String, path: String },
    #[error("{what}: dataset {dataset}: {source}")]
    Filter {
        what: String,
        dataset: String,
        #[source]
        source: FilterError,
    },
    #[error("{what}: dataset {dataset}: {reason}")]
    Unsupported {
        what: String,
        dataset: String,
        reason: String,
    },
    /// A stored value Strobe will not return as it is (a fractional float coordinate, a
    /// `uint64` time beyond `int64`): refused rather than rounded or wrapped.
    #[error("{what}: dataset {dataset}: {reason}")]
    BadValue {
        what: String,
        dataset: String,
        reason: String,
    },
    #[error("{what}: malformed HDF5: {reason}")]
    Malformed { what: String, reason: String },
    /// A size the file claims is over a cap; `reason` names the cap and the option raising it.
    #[error("{what}: {reason}")]
    Limit { what: String, reason: String },
    /// The file ends before bytes its metadata points to: cut short (or a lying pointer).
    #[error("{what}: the file is truncated: it ends at byte {ends}, the metadata points to byte {points} — download or copy it again")]
    Truncated {
        what: String,
        ends: u64,
        points: u64,
    },
    /// A structure whose checksum or cross-checks fail: the file is damaged.
    #[error("{what}: {reason}")]
    Damaged { what: String, reason: String },
    /// Valid HDF5 that uses a feature Strobe does not read (as opposed to a damaged file).
    #[error("{what}: valid HDF5, but it uses {feature}, which Strobe does not read yet — re-save the events without it (e.g. with h5py)")]
    UnsupportedFeature { what: String, feature: String },
}
