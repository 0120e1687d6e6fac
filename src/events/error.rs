//! Errors of the events layer.

use crate::hdf5::Hdf5Error;

/// Why a recording or window could not be read.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum EventsError {
    #[error(transparent)]
    Format(#[from] Hdf5Error),
    #[error("{what}: no event datasets found (looked for a group holding x, y, t and p datasets) — pass --x/--y/--t/--p paths if they are named differently")]
    NoEvents { what: String },
    #[error("{what}: {path}: {reason}")]
    BadColumn {
        what: String,
        path: String,
        reason: String,
    },
    #[error("window start {from} is after its end {to} — give --from ≤ --to")]
    BadWindow { from: i64, to: i64 },
    /// A time or length as typed (`--from`, the page's go-to field, `t=` in a link).
    #[error("'{text}' {reason}")]
    BadTime { text: String, reason: String },
    #[error("{what}: no camera {camera}; this file has {available}")]
    NoCamera {
        what: String,
        camera: String,
        available: String,
    },
}
