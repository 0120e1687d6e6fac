//! LZ4 blocks (Blosc codec 1, bitshuffle compression 2) and the HDF5 LZ4 filter 32004.
//!
//! Block format: sequences of a token byte (high nibble literal length, low nibble match
//! length - 4; 15 means "add the following bytes while they are 255"), the literals, a 2-byte
//! LE match offset and the match; the last sequence stops after its literals.
//!
//! Filter 32004 chunk = u64 BE decoded size, u32 BE block size, then per block (the last may be
//! shorter) u32 BE compressed size + an LZ4 block; a compressed size equal to the block's
//! decoded size means the block is stored raw.

use super::blosclz::{copy_literals, copy_match};
use super::bytes::{u32_be, u64_be};
use super::{corrupt, FilterError};

const NAME: &str = "lz4";

/// Reads an LZ4 length extension (bytes added while they are 255).
#[inline(always)]
fn ext_len(src: &[u8], ip: &mut usize, mut len: usize) -> Result<usize, &'static str> {
    loop {
        let b = *src
            .get(*ip)
            .ok_or("length runs past the end of the block")?;
        *ip += 1;
        len += usize::from(b);
        if b != 255 {
            return Ok(len);
        }
    }
}

/// Decodes one LZ4 block into `dst`, returning the number of bytes written.
pub fn decompress(src: &[u8], dst: &mut [u8]) -> Result<usize, &'static str> {
    let (ilen, olen) = (src.len(), dst.len());
    let mut ip = 0usize;
    let mut op = 0usize;
    loop {
        let token = *src.get(ip).ok_or("block ends without its last literals")?;
        ip += 1;
        let mut lit = usize::from(token >> 4);
        if lit == 15 {
            lit = ext_len(src, &mut ip, lit)?;
        }
        if lit > ilen - ip {
            return Err("literals run past the end of the block");
        }
        if lit > olen - op {
            return Err("literals write past the end of the output");
        }
        copy_literals(src, ip, dst, op, lit);
        ip += lit;
        op += lit;
        if ip == ilen {
            return Ok(op);
        }
        let off = src
            .get(ip..ip + 2)
            .ok_or("match offset runs past the end of the block")?;
        let dist = usize::from(u16::from_le_bytes([off[0], off[1]]));
        ip += 2;
        let mut len = usize::from(token & 15);
        if len == 15 {
            len = ext_len(src, &mut ip, len)?;
        }
        len += 4;
        if dist == 0 || dist > op {
            return Err("match refers before the start of the output");
        }
        if len > olen - op {
            return Err("match writes past the end of the output");
        }
        copy_match(dst, op, dist, len);
        op += len;
    }
}

/// Decodes one raw LZ4 block into exactly `dst.len()` bytes.
pub fn decode_block_exact(src: &[u8], dst: &mut [u8]) -> Result<(), String> {
    match decompress(src, dst) {
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
    fn block_format() {
        // "abcd" literals, match offset 4 length 4+4 = 8, then last literals "xyz!!".
        let src = [
            0x44, b'a', b'b', b'c', b'd', 4, 0, 0x50, b'x', b'y', b'z', b'!', b'!',
        ];
        let mut out = [0u8; 17];
        assert_eq!(decompress(&src, &mut out), Ok(17));
        assert_eq!(&out, b"abcdabcdabcdxyz!!");
        // Output too small, truncated input, offset 0 / too far: errors.
        assert!(decompress(&src, &mut [0u8; 16]).is_err());
        assert!(decompress(&src[..6], &mut out).is_err());
        let mut bad = src;
        bad[5] = 0;
        assert!(decompress(&bad, &mut out).is_err());
        bad[5] = 9;
        assert!(decompress(&bad, &mut out).is_err());
        // Length extension past the end.
        assert!(decompress(&[0xF0, 255, 255], &mut out).is_err());
    }

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
