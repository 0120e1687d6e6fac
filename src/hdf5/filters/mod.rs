//! Decoding of HDF5 filter pipelines, all in pure Rust so that chunks decode in the browser.
//!
//! One small module per filter; [`decode_chunk`] runs a chunk's pipeline backwards. Every length
//! and offset read from the data is checked: corrupt or hostile input gives a [`FilterError`],
//! never a panic, and no decoder produces (or allocates for its output) more than the chunk's
//! decoded size. See `README.md` beside this file for formats, performance and design notes.
#![forbid(unsafe_code)]

mod bitshuffle;
mod blosc;
mod blosclz;
mod deflate;
mod ecf;
mod fletcher32;
mod lz4;
mod lzf;
mod shuffle;
#[cfg(test)]
mod tests;
mod zstd;

use std::borrow::Cow;

/// Raw codecs that only run inside another filter, reachable on their own for fuzzing.
pub mod codecs {
    /// Decodes one BloscLZ stream into `dst`, returning the bytes written.
    pub fn blosclz(src: &[u8], dst: &mut [u8]) -> Result<usize, &'static str> {
        super::blosclz::decompress(src, dst)
    }

    /// Decodes one Prophesee ECF chunk into 16-byte `EventCD` records (at most `cap` bytes).
    pub fn ecf(src: &[u8], cap: usize) -> Result<Vec<u8>, super::FilterError> {
        super::ecf::decode_filter(src, cap)
    }
}

/// HDF5 filter ids Strobe decodes or names.
pub mod ids {
    pub const DEFLATE: u16 = 1;
    pub const SHUFFLE: u16 = 2;
    pub const FLETCHER32: u16 = 3;
    pub const SZIP: u16 = 4;
    pub const NBIT: u16 = 5;
    pub const SCALEOFFSET: u16 = 6;
    pub const BZIP2: u16 = 307;
    pub const LZF: u16 = 32000;
    pub const BLOSC: u16 = 32001;
    pub const LZ4: u16 = 32004;
    pub const BITSHUFFLE: u16 = 32008;
    pub const ZSTD: u16 = 32015;
    /// Prophesee's Event Compression Format (self-assigned id 0x8ECF).
    pub const ECF: u16 = 36559;
}

/// One step of a dataset's filter pipeline, as stored in its filter-pipeline message.
/// Serialisable: the page's decode workers receive it with each chunk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The pipeline uses a filter Strobe has no decoder for.
    #[error("unsupported filter {id} ({name}): {}", unsupported_hint(*.id))]
    Unsupported { id: u16, name: String },
    /// A supported filter was used with an option Strobe cannot decode (e.g. a Blosc codec
    /// from a newer Blosc).
    #[error("{filter} data uses {feature}, which Strobe does not support")]
    UnsupportedFeature {
        filter: &'static str,
        feature: String,
    },
    /// The stored bytes do not decode: damaged file, wrong pipeline, or hostile data.
    #[error("{filter} data is corrupt: {reason}")]
    Corrupt {
        filter: &'static str,
        reason: String,
    },
}

/// What to do about a filter Strobe cannot decode.
fn unsupported_hint(_id: u16) -> &'static str {
    "Strobe cannot decode it — re-save the data with Blosc, Zstd, LZ4, LZF or gzip"
}

pub(crate) fn corrupt(filter: &'static str, reason: impl Into<String>) -> FilterError {
    FilterError::Corrupt {
        filter,
        reason: reason.into(),
    }
}

/// Common name of a filter id, for messages.
pub fn filter_name(id: u16) -> &'static str {
    match id {
        ids::DEFLATE => "deflate",
        ids::SHUFFLE => "shuffle",
        ids::FLETCHER32 => "fletcher32",
        ids::SZIP => "szip",
        ids::NBIT => "nbit",
        ids::SCALEOFFSET => "scaleoffset",
        ids::BZIP2 => "bzip2",
        ids::LZF => "lzf",
        ids::BLOSC => "blosc",
        ids::LZ4 => "lz4",
        ids::BITSHUFFLE => "bitshuffle",
        ids::ZSTD => "zstd",
        32013 => "zfp",
        32017 => "sz",
        32018 => "fcidecomp",
        32024 => "sz3",
        32026 => "blosc2",
        32028 => "sperr",
        32029 => "htj2k",
        ids::ECF => "Prophesee ECF",
        _ => "unknown",
    }
}

/// Undoes a chunk's filter pipeline.
///
/// `pipeline` is in the order the writer applied the filters; decoding runs it backwards,
/// skipping step `i` when bit `i` of `filter_mask` is set. `element_size` is the dataset's
/// element size in bytes; `chunk_bytes` the decoded size of a full chunk (a cap: no decoder may
/// produce more; and when any filter ran, the decoded chunk must be exactly that long). With no
/// active filter the data is returned as it is.
pub fn decode_chunk<'a>(
    pipeline: &[FilterStep],
    filter_mask: u32,
    data: impl Into<Cow<'a, [u8]>>,
    element_size: usize,
    chunk_bytes: usize,
) -> Result<Vec<u8>, FilterError> {
    let active = |i: usize| i >= 32 || filter_mask & (1u32 << i) == 0;
    // Report an unsupported filter before doing any work.
    for (i, step) in pipeline.iter().enumerate() {
        if active(i) && !is_supported(step.id) {
            return Err(unsupported(step));
        }
    }
    // Borrowed stored bytes are decoded in place of a copy; only a filter that rewrites its
    // input (shuffle, fletcher32) takes ownership.
    let mut data: Cow<'a, [u8]> = data.into();
    let mut decoded = false;
    for (i, step) in pipeline.iter().enumerate().rev() {
        if !active(i) {
            continue;
        }
        decoded = true;
        // Fletcher32 steps written before this one are still inside the decoded bytes.
        let fletchers = pipeline[..i]
            .iter()
            .enumerate()
            .filter(|(j, s)| active(*j) && s.id == ids::FLETCHER32)
            .count();
        let cap = chunk_bytes.saturating_add(4 * fletchers);
        data = Cow::Owned(decode_step(step, data, element_size, cap)?);
    }
    // Every chunk of a chunked dataset (edge chunks included) decodes to the full chunk size;
    // anything else means truncated or damaged data (LZF, for one, cannot tell by itself).
    // Except ECF as Metavision writes it: its last chunk is encoded with only the events it
    // holds (H5Dwrite_chunk), so it decodes short; the caller checks that the rows it needs
    // (those inside the dataset) are there.
    let last_step_ecf = pipeline
        .iter()
        .enumerate()
        .find(|(i, _)| active(*i))
        .is_some_and(|(_, s)| s.id == ids::ECF);
    let short_ecf = last_step_ecf && pipeline.len() == 1 && data.len() < chunk_bytes;
    if decoded && data.len() != chunk_bytes && !short_ecf {
        // Name the compressor (shuffle and fletcher32 keep sizes as they are).
        let culprit = pipeline
            .iter()
            .enumerate()
            .rev()
            .find(|(i, s)| active(*i) && !matches!(s.id, ids::SHUFFLE | ids::FLETCHER32))
            .or_else(|| pipeline.iter().enumerate().find(|(i, _)| active(*i)))
            .map_or("filter", |(_, s)| filter_name(s.id));
        return Err(corrupt(
            culprit,
            format!(
                "chunk decoded to {} bytes, expected {chunk_bytes}",
                data.len()
            ),
        ));
    }
    Ok(data.into_owned())
}

fn is_supported(id: u16) -> bool {
    matches!(
        id,
        ids::DEFLATE
            | ids::SHUFFLE
            | ids::FLETCHER32
            | ids::LZF
            | ids::BLOSC
            | ids::LZ4
            | ids::BITSHUFFLE
            | ids::ZSTD
            | ids::ECF
    )
}

fn unsupported(step: &FilterStep) -> FilterError {
    let known = filter_name(step.id);
    let name = match step.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() && known == "unknown" => n.to_string(),
        _ => known.to_string(),
    };
    FilterError::Unsupported { id: step.id, name }
}

/// Decodes one step; `cap` bounds its output.
fn decode_step(
    step: &FilterStep,
    data: Cow<'_, [u8]>,
    element_size: usize,
    cap: usize,
) -> Result<Vec<u8>, FilterError> {
    let cd = &step.cd_values;
    match step.id {
        ids::DEFLATE => deflate::decode(&data, cap),
        ids::SHUFFLE => {
            // cd_values[0] is the element size (set by the library when the dataset is created).
            let size = cd.first().map_or(element_size, |&v| v as usize);
            if data.len() > cap {
                return Err(corrupt(
                    "shuffle",
                    format!("{} bytes where a chunk holds at most {cap}", data.len()),
                ));
            }
            Ok(shuffle::unshuffle_vec(data.into_owned(), size))
        }
        ids::FLETCHER32 => fletcher32::verify_and_strip(data.into_owned()),
        ids::LZF => lzf::decode_filter(&data, cap),
        ids::BLOSC => blosc::decode(&data, cap),
        ids::LZ4 => lz4::decode_filter(&data, cap),
        ids::BITSHUFFLE => bitshuffle::decode_filter(&data, cd, element_size, cap),
        ids::ZSTD => zstd::decode_filter(&data, cap),
        ids::ECF => ecf::decode_filter(&data, cap),
        _ => Err(unsupported(step)),
    }
}

/// Little helpers for reading integers at checked offsets.
pub(crate) mod bytes {
    #[inline]
    pub fn u32_le(data: &[u8], at: usize) -> Option<u32> {
        let b = data.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline]
    pub fn u32_be(data: &[u8], at: usize) -> Option<u32> {
        let b = data.get(at..at.checked_add(4)?)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline]
    pub fn u64_be(data: &[u8], at: usize) -> Option<u64> {
        let b = data.get(at..at.checked_add(8)?)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_be_bytes(a))
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn step(id: u16, cd: &[u32]) -> FilterStep {
        FilterStep {
            id,
            name: None,
            cd_values: cd.to_vec(),
            optional: false,
        }
    }

    #[test]
    fn empty_pipeline_passes_data_through() {
        let out = decode_chunk(&[], 0, vec![1, 2, 3], 1, 3).unwrap();
        assert_eq!(out, vec![1, 2, 3]);
    }

    #[test]
    fn masked_steps_are_skipped() {
        // Shuffle masked out: data passes through untouched.
        let out = decode_chunk(&[step(2, &[4])], 1, vec![1, 2, 3, 4, 5, 6, 7, 8], 4, 8).unwrap();
        assert_eq!(out, vec![1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn wrong_decoded_size_names_the_compressor() {
        // Deflate stored block "abc" (3 bytes) behind a shuffle, for a 4-byte chunk.
        let stream = vec![
            0x78, 0x01, 0x01, 0x03, 0x00, 0xFC, 0xFF, b'a', b'b', b'c', 0x02, 0x4D, 0x01, 0x27,
        ];
        let err = decode_chunk(&[step(2, &[1]), step(1, &[6])], 0, stream, 1, 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "deflate data is corrupt: chunk decoded to 3 bytes, expected 4"
        );
    }

    #[test]
    fn unsupported_filter_is_named() {
        let err = decode_chunk(&[step(307, &[9])], 0, vec![0; 10], 1, 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported filter 307 (bzip2): Strobe cannot decode it — re-save the data with Blosc, Zstd, LZ4, LZF or gzip"
        );
        let mut s = step(40000, &[]);
        s.name = Some("my filter".into());
        let err = decode_chunk(&[s], 0, vec![0; 10], 1, 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported filter 40000 (my filter): Strobe cannot decode it — re-save the data with Blosc, Zstd, LZ4, LZF or gzip"
        );
        // Masked out, it does not matter.
        assert!(decode_chunk(&[step(307, &[9])], 1, vec![0; 10], 1, 10).is_ok());
    }
}
