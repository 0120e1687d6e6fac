//! Decoding of HDF5 filter pipelines, all in pure Rust so that chunks decode in the browser.
//!
//! (Interface fixed; implementation being written.)

/// One step of a dataset's filter pipeline, as stored in its filter-pipeline message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterStep {
    /// HDF5 filter id (1 deflate, 2 shuffle, 3 fletcher32, 32000 LZF, 32001 Blosc, 32004 LZ4,
    /// 32008 bitshuffle, 32015 Zstd, ...).
    pub id: u16,
    /// Name recorded in the file, if any.
    pub name: Option<String>,
    /// Client data (`cd_values`) recorded in the file.
    pub cd_values: Vec<u32>,
    /// Whether the filter was optional when written (the chunk may have skipped it).
    pub optional: bool,
}

/// Why a chunk could not be decoded.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FilterError {
    #[error("filter {id} ({name}) is not supported by Strobe")]
    Unsupported { id: u16, name: String },
    #[error("{filter} data is corrupt: {reason}")]
    Corrupt { filter: &'static str, reason: String },
}

/// Undoes a chunk's filter pipeline.
///
/// `pipeline` is in the order the writer applied the filters; decoding runs it backwards,
/// skipping step `i` when bit `i` of `filter_mask` is set. `element_size` is the dataset's
/// element size in bytes; `chunk_bytes` the decoded size of a full chunk (a cap: no decoder may
/// produce more).
pub fn decode_chunk(
    pipeline: &[FilterStep],
    filter_mask: u32,
    data: Vec<u8>,
    element_size: usize,
    chunk_bytes: usize,
) -> Result<Vec<u8>, FilterError> {
    let _ = (pipeline, filter_mask, element_size, chunk_bytes);
    Ok(data)
}
