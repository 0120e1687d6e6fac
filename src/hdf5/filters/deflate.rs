//! Deflate (HDF5 filter 1, and Blosc codec 3): zlib streams (RFC 1950 header, deflate data,
//! Adler-32 trailer), decoded with `miniz_oxide` straight into a preallocated buffer.

use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_PARSE_ZLIB_HEADER, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::{corrupt, FilterError};

/// A reusable inflater (its ~11 KB state is allocated once per chunk).
#[derive(Default)]
pub struct Inflater {
    state: Option<Box<DecompressorOxide>>,
}

impl Inflater {
    /// Inflates the zlib stream `src` into `dst`, returning the number of bytes written.
    /// Fails if the stream is damaged or decodes to more than `dst.len()` bytes.
    pub fn inflate_into(&mut self, src: &[u8], dst: &mut [u8]) -> Result<usize, String> {
        let state = self.state.get_or_insert_with(Box::default);
        state.init();
        let flags = TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
        let (status, _read, written) = decompress(state, src, dst, 0, flags);
        match status {
            TINFLStatus::Done => Ok(written),
            TINFLStatus::HasMoreOutput => {
                Err("zlib stream decodes to more bytes than the chunk holds".into())
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                Err("zlib stream is truncated".into())
            }
            TINFLStatus::Adler32Mismatch => Err("zlib checksum (Adler-32) mismatch".into()),
            other => Err(format!("zlib stream is invalid ({other:?})")),
        }
    }
}

/// Decodes HDF5 filter 1.
pub fn decode(data: &[u8], cap: usize) -> Result<Vec<u8>, FilterError> {
    let mut out = vec![0u8; cap];
    let n = Inflater::default()
        .inflate_into(data, &mut out)
        .map_err(|e| corrupt("deflate", e))?;
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_block_roundtrip_and_limits() {
        // zlib header 78 01, final stored block of 3 bytes "abc", Adler-32 of "abc".
        let stream = [
            0x78, 0x01, 0x01, 0x03, 0x00, 0xFC, 0xFF, b'a', b'b', b'c', 0x02, 0x4D, 0x01, 0x27,
        ];
        assert_eq!(decode(&stream, 10).unwrap(), b"abc");
        assert!(decode(&stream, 2).is_err());
        assert!(decode(&stream[..8], 10).is_err());
        let mut bad = stream;
        bad[13] ^= 1;
        assert!(decode(&bad, 10).is_err());
    }
}
