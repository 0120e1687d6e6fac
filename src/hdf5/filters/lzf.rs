//! LZF (HDF5 filter 32000, h5py's built-in compressor).
//!
//! cd_values `[filter version, LZF version, chunk bytes]`; the chunk is one raw LZF stream.
//! A control byte `c`:
//! - `c < 32`: copy `c + 1` literal bytes;
//! - otherwise a back reference: length `c >> 5` (7 means: add the next byte), then a byte `b`;
//!   distance = `((c & 31) << 8 | b) + 1`, copy length + 2 bytes (may overlap).

use super::blosclz::copy_match;
use super::{corrupt, FilterError};

const NAME: &str = "lzf";

/// Decodes an LZF stream into `dst`, returning the number of bytes written.
pub fn decompress(src: &[u8], dst: &mut [u8]) -> Result<usize, &'static str> {
    let ilen = src.len();
    let olen = dst.len();
    let mut ip = 0usize;
    let mut op = 0usize;
    while ip < ilen {
        let ctrl = usize::from(src[ip]);
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if n > olen - op {
                return Err("literal run writes past the end of the chunk");
            }
            if n > ilen - ip {
                return Err("literal run reads past the end of the data");
            }
            dst[op..op + n].copy_from_slice(&src[ip..ip + n]);
            op += n;
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if ip >= ilen {
                return Err("back reference runs past the end of the data");
            }
            if len == 7 {
                len += usize::from(src[ip]);
                ip += 1;
                if ip >= ilen {
                    return Err("back reference runs past the end of the data");
                }
            }
            let dist = ((ctrl & 31) << 8 | usize::from(src[ip])) + 1;
            ip += 1;
            len += 2;
            if len > olen - op {
                return Err("back reference writes past the end of the chunk");
            }
            if dist > op {
                return Err("back reference points before the start of the chunk");
            }
            copy_match(dst, op, dist, len);
            op += len;
        }
    }
    Ok(op)
}

/// Decodes HDF5 filter 32000.
/// (cd_values[2], the size the writer saw, is not needed: the output is bounded by `cap`.)
pub fn decode_filter(data: &[u8], cap: usize) -> Result<Vec<u8>, FilterError> {
    let mut out = vec![0u8; cap];
    let n = decompress(data, &mut out).map_err(|e| corrupt(NAME, e))?;
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_reference() {
        // "ab" literal, then back reference len 1+2 = 3 at distance 2: "aba", then literal "!".
        let src = [1, b'a', b'b', 1 << 5, 1, 0, b'!'];
        let mut out = [0u8; 8];
        let n = decompress(&src, &mut out).unwrap();
        assert_eq!(&out[..n], b"ababa!");
    }

    #[test]
    fn corrupt_streams_are_errors() {
        let mut out = [0u8; 8];
        assert!(decompress(&[3, 1], &mut out).is_err());
        assert!(decompress(&[0, 1, 1 << 5, 5], &mut out).is_err());
        assert!(decompress(&[0, 1, 7 << 5], &mut out).is_err());
        assert!(decompress(&[31; 40], &mut out).is_err());
    }
}
