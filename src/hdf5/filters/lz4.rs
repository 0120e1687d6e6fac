//! LZ4 (HDF5 filter 32004), decoded with `lz4_flex`'s safe block decoder.
//!
//! Chunk = u64 BE decoded size, u32 BE block size, then per block (the last may be shorter)
//! u32 BE compressed size + an LZ4 block; a compressed size equal to the block's decoded size
//! means the block is stored raw.

use super::bytes::{u32_be, u64_be};
use super::{corrupt, FilterError};

const NAME: &str = "lz4";

/// Decodes one raw LZ4 block into exactly `dst.len()` bytes.
pub fn decode_block_exact(src: &[u8], dst: &mut [u8]) -> Result<(), String> {
    match lz4_flex::block::decompress_into(src, dst) {
        Ok(n) if n == dst.len() => Ok(()),
        Ok(n) => Err(format!(
            "LZ4 block decoded to {n} bytes, expected {}",
            dst.len()
        )),
        Err(e) => Err(format!("LZ4 block: {e}")),
    }
}

/// Decodes HDF5 filter 32004.
pub fn decode_filter(data: &[u8], cap: usize) -> Result<Vec<u8>, FilterError> {
    let short = || corrupt(NAME, "chunk shorter than its 12-byte header");
    let total = u64_be(data, 0).ok_or_else(short)?;
    let block = u64::from(u32_be(data, 8).ok_or_else(short)?);
    if total > cap as u64 {
        return Err(corrupt(
            NAME,
            format!("declares {total} decoded bytes; the chunk holds at most {cap}"),
        ));
    }
    let total = total as usize;
    let block = block.min(total as u64) as usize;
    if block == 0 && total > 0 {
        return Err(corrupt(NAME, "block size 0"));
    }
    let mut out = vec![0u8; total];
    let mut pos = 12usize;
    for dst in out.chunks_mut(block.max(1)) {
        let csize = u32_be(data, pos)
            .ok_or_else(|| corrupt(NAME, "truncated before a block header"))?
            as usize;
        pos += 4;
        let src = data
            .get(pos..)
            .and_then(|d| d.get(..csize))
            .ok_or_else(|| corrupt(NAME, format!("block of {csize} bytes runs past the chunk")))?;
        pos += csize;
        if csize == dst.len() {
            dst.copy_from_slice(src);
        } else {
            decode_block_exact(src, dst).map_err(|e| corrupt(NAME, e))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_blocks_and_limits() {
        // 5 bytes in blocks of 3: one raw block of 3, one raw block of 2.
        let mut c = vec![];
        c.extend_from_slice(&5u64.to_be_bytes());
        c.extend_from_slice(&3u32.to_be_bytes());
        c.extend_from_slice(&3u32.to_be_bytes());
        c.extend_from_slice(b"abc");
        c.extend_from_slice(&2u32.to_be_bytes());
        c.extend_from_slice(b"de");
        assert_eq!(decode_filter(&c, 5).unwrap(), b"abcde");
        assert!(decode_filter(&c, 4).is_err());
        assert!(decode_filter(&c[..c.len() - 1], 5).is_err());
        assert!(decode_filter(&c[..10], 5).is_err());
    }
}
