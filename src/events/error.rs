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
    /// `t` decreases between two rows read (`t[row] = before`, `t[later] = after`, `later`
    /// usually `row + 1`): a window's rows would hold events outside the window.
    #[error("{what}: {path}: timestamps are not sorted at rows {row}..{later} (t = {before} then {after}) — windows need t non-decreasing; sort the file by t, or pass --t if another column holds the times")]
    Unsorted {
        what: String,
        path: String,
        row: u64,
        later: u64,
        before: i128,
        after: i128,
    },
    /// The event columns hold different numbers of rows: no row count is right for all.
    #[error("{what}: {lengths} — the columns must have equal lengths; pass --x/--y/--t/--p to choose others")]
    UnequalColumns { what: String, lengths: String },
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
