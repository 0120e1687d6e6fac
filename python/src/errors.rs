//! The engine's errors as Python exceptions: the one-line message stays, the class says what
//! kind of failure it is (`FileNotFoundError`, `ValueError`, `strobe.HttpError`, ...).

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyValueError};
use pyo3::PyErr;
use strobe::events::EventsError;
use strobe::export::ExportError;
use strobe::hdf5::Hdf5Error;
use strobe::open::OpenError;
use strobe::source::SourceError;

create_exception!(
    strobe,
    StrobeError,
    PyException,
    "Any failure of the Strobe engine (its message says what to fix)."
);
create_exception!(
    strobe,
    HttpError,
    StrobeError,
    "An HTTP source failed: a status, a server that ignores Range, the network."
);
create_exception!(
    strobe,
    FormatError,
    StrobeError,
    "The file is not an event recording Strobe can read (not HDF5, no event datasets, ...)."
);

pub fn source(e: SourceError) -> PyErr {
    let msg = e.to_string();
    match e {
        SourceError::NotFound { .. } => PyFileNotFoundError::new_err(msg),
        SourceError::HttpStatus { .. }
        | SourceError::ServerFailing { .. }
        | SourceError::RangeIgnored { .. }
        | SourceError::RangeIgnoredTooLarge { .. }
        | SourceError::GaveUp { .. }
        | SourceError::ContentEncoded { .. }
        | SourceError::BadResponse { .. }
        | SourceError::Network { .. } => HttpError::new_err(msg),
        SourceError::OutOfBounds { .. } => FormatError::new_err(msg),
        _ => StrobeError::new_err(msg),
    }
}

pub fn hdf5(e: Hdf5Error) -> PyErr {
    match e {
        Hdf5Error::Source(s) => source(s),
        other => FormatError::new_err(other.to_string()),
    }
}

pub fn events(e: EventsError) -> PyErr {
    match e {
        EventsError::Format(h) => hdf5(h),
        EventsError::BadWindow { .. } => PyValueError::new_err(e.to_string()),
        EventsError::NoCamera { .. } => PyValueError::new_err(e.to_string()),
        other => FormatError::new_err(other.to_string()),
    }
}

pub fn open(e: OpenError) -> PyErr {
    match e {
        OpenError::BadSource(msg) => PyValueError::new_err(msg),
        OpenError::Source(s) => source(s),
        OpenError::Events(ev) => events(ev),
    }
}

pub fn export(e: ExportError) -> PyErr {
    match e {
        ExportError::Events(ev) => events(ev),
        other => FormatError::new_err(other.to_string()),
    }
}

/// The engine thread is gone (it could not start, or the process forked without it).
pub fn engine_gone() -> PyErr {
    StrobeError::new_err("the Strobe engine thread stopped — reopen the recording")
}
