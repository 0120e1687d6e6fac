//! Bit shuffle: Blosc's flag 0x04 and the bitshuffle HDF5 filter 32008.
//!
//! Layout of a bit-shuffled run of `n` elements of `t` bytes (`n % 8 == 0`): `8 * t` bit rows of
//! `n / 8` bytes; row `8 * j + k` holds bit `k` of byte `j` of every element, element `i` at bit
//! `i % 8` of byte `i / 8`.
//!
//! Filter 32008 (cd_values `[major, minor, elem_size, block_elems, compression, level]`,
//! compression 0 none, 2 LZ4, 3 Zstd) bit-shuffles blocks of `block_elems` elements (default
//! `max(8192 / t / 8 * 8, 128)`); the last partial block is rounded down to a multiple of 8
//! elements and the remaining `n % 8` elements are stored as they are, after all blocks.
//! With compression the chunk starts with a 12-byte header (u64 BE decoded bytes, u32 BE block
//! size in bytes) and every block is `u32 BE compressed size` + an LZ4 block or a Zstd frame.

use super::bytes::{u32_be, u64_be};
use super::shuffle::{load_u64, transpose_bytes8, unshuffle_into};
use super::{corrupt, lz4, zstd, FilterError};

const NAME: &str = "bitshuffle";

/// Transposes an 8x8 bit matrix held in a u64 (byte `r` = row `r`, bit `c` = column `c`).
#[inline(always)]
fn transpose8(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^= t ^ (t << 28);
    x
}

/// Undoes the bit shuffle of `n = src.len() / t` elements (`n % 8 == 0`, `dst.len() == src.len()`).
/// Returns false (and writes nothing) when the sizes do not fit that shape. `scratch` is reused
/// between calls (elements wider than one byte go through a byte-shuffled intermediate).
pub fn untrans_bit_elem(src: &[u8], dst: &mut [u8], t: usize, scratch: &mut Vec<u8>) -> bool {
    if t == 0 || src.len() != dst.len() || !src.len().is_multiple_of(8 * t) {
        return false;
    }
    if t == 1 {
        bits_to_byte_planes(src, dst, 1);
    } else {
        // Bit planes -> byte planes (the byte-shuffled layout), then a byte unshuffle.
        // Every byte of the scratch area is written before it is read.
        if scratch.len() < src.len() {
            scratch.resize(src.len(), 0);
        }
        let planes = &mut scratch[..src.len()];
        bits_to_byte_planes(src, planes, t);
        unshuffle_into(planes, dst, t);
    }
    true
}

/// Turns the `8 * t` bit rows into `t` byte rows (row `j` = byte `j` of every element).
/// 64 elements per step: per byte plane, 8 word loads (one per bit row), an 8x8 byte transpose
/// and 8 bit transposes, then 64 contiguous output bytes.
fn bits_to_byte_planes(src: &[u8], dst: &mut [u8], t: usize) {
    let n = src.len() / t;
    let nrow = n / 8; // bytes per bit row = groups of 8 elements
    let octets = nrow / 8;
    for (j, out_row) in dst.chunks_exact_mut(n).enumerate().take(t) {
        let rows = &src[8 * j * nrow..8 * (j + 1) * nrow];
        for (oct, out) in out_row.chunks_exact_mut(64).enumerate().take(octets) {
            let g0 = oct * 8;
            let mut w = [0u64; 8];
            for (k, wk) in w.iter_mut().enumerate() {
                *wk = load_u64(rows, k * nrow + g0);
            }
            transpose_bytes8(&mut w);
            for (chunk, &x) in out.chunks_exact_mut(8).zip(w.iter()) {
                chunk.copy_from_slice(&transpose8(x).to_le_bytes());
            }
        }
        for g in octets * 8..nrow {
            let mut x = 0u64;
            for k in 0..8 {
                x |= u64::from(rows[k * nrow + g]) << (8 * k);
            }
            out_row[8 * g..8 * g + 8].copy_from_slice(&transpose8(x).to_le_bytes());
        }
    }
}

/// Blosc's bit-unshuffle of one block: whole when its element count is a multiple of 8,
/// trailing bytes (`len % t`) copied; otherwise the block was stored unshuffled.
pub fn blosc_bitunshuffle(src: &[u8], dst: &mut [u8], t: usize, scratch: &mut Vec<u8>) {
    let len = src.len().min(dst.len());
    let (src, dst) = (&src[..len], &mut dst[..len]);
    let n = len / t.max(1);
    if t > 0 && n.is_multiple_of(8) {
        let body = n * t;
        untrans_bit_elem(&src[..body], &mut dst[..body], t, scratch);
        dst[body..].copy_from_slice(&src[body..]);
    } else {
        dst.copy_from_slice(src);
    }
}

/// `bshuf_default_block_size`: about 8 KiB of elements, a multiple of 8, at least 128.
fn default_block_elems(t: usize) -> usize {
    ((8192 / t) / 8 * 8).max(128)
}

/// Decodes HDF5 filter 32008.
pub fn decode_filter(
    data: &[u8],
    cd: &[u32],
    element_size: usize,
    cap: usize,
) -> Result<Vec<u8>, FilterError> {
    let t = cd.get(2).map_or(element_size, |&v| v as usize);
    if t == 0 {
        return Err(corrupt(NAME, "element size 0 in the filter's parameters"));
    }
    let compression = cd.get(4).copied().unwrap_or(0);
    let (total, block_elems, mut pos) = match compression {
        0 => {
            let b = match cd.get(3) {
                Some(&b) if b != 0 => b as usize,
                _ => default_block_elems(t),
            };
            (data.len(), b, 0usize)
        }
        2 | 3 => {
            let total = u64_be(data, 0)
                .ok_or_else(|| corrupt(NAME, "chunk shorter than its 12-byte header"))?;
            let block_bytes = u32_be(data, 8)
                .ok_or_else(|| corrupt(NAME, "chunk shorter than its 12-byte header"))?;
            let total = usize::try_from(total).unwrap_or(usize::MAX);
            (total, block_bytes as usize / t, 12usize)
        }
        other => {
            return Err(FilterError::UnsupportedFeature {
                filter: NAME,
                feature: format!("compression code {other}"),
            })
        }
    };
    if total > cap {
        return Err(corrupt(
            NAME,
            format!("declares {total} decoded bytes; the chunk holds at most {cap}"),
        ));
    }
    if !total.is_multiple_of(t) {
        return Err(corrupt(
            NAME,
            format!("{total} bytes is not a whole number of {t}-byte elements"),
        ));
    }
    if block_elems == 0 || !block_elems.is_multiple_of(8) {
        return Err(corrupt(
            NAME,
            format!("block size {block_elems} elements is not a positive multiple of 8"),
        ));
    }
    let n = total / t;
    let mut out = vec![0u8; total];
    let mut tmp: Vec<u8> = Vec::new();
    let mut scratch: Vec<u8> = Vec::new();
    let last = (n % block_elems) / 8 * 8;
    let blocks = (0..n / block_elems)
        .map(|_| block_elems)
        .chain((last > 0).then_some(last));
    let mut opos = 0usize;
    for elems in blocks {
        let bytes = elems * t;
        let dst = &mut out[opos..opos + bytes];
        if compression == 0 {
            let src = data
                .get(pos..pos + bytes)
                .ok_or_else(|| corrupt(NAME, "chunk is shorter than its elements"))?;
            untrans_bit_elem(src, dst, t, &mut scratch);
            pos += bytes;
        } else {
            let csize = u32_be(data, pos)
                .ok_or_else(|| corrupt(NAME, "truncated before a block header"))?
                as usize;
            pos += 4;
            let src = data
                .get(pos..)
                .and_then(|d| d.get(..csize))
                .ok_or_else(|| {
                    corrupt(NAME, format!("block of {csize} bytes runs past the chunk"))
                })?;
            pos += csize;
            tmp.resize(bytes, 0);
            if compression == 2 {
                lz4::decode_block_exact(src, &mut tmp).map_err(|e| corrupt(NAME, e))?;
            } else {
                zstd::with_decoder(|d| d.decode_exact(src, &mut tmp))
                    .map_err(|e| corrupt(NAME, e))?;
            }
            untrans_bit_elem(&tmp, dst, t, &mut scratch);
        }
        opos += bytes;
    }
    // Leftover elements (n % 8) are stored as they are.
    let rest = total - opos;
    let src = data
        .get(pos..)
        .and_then(|d| d.get(..rest))
        .ok_or_else(|| corrupt(NAME, "chunk ends before its trailing elements"))?;
    out[opos..].copy_from_slice(src);
    Ok(out)
}

#[cfg(test)]
pub(crate) fn trans_for_tests(src: &[u8], t: usize) -> Vec<u8> {
    // Straight from the definition: bit k of byte j of element i -> row 8j+k, bit i.
    let n = src.len() / t;
    let nrow = n / 8;
    let mut out = vec![0u8; src.len()];
    for i in 0..n {
        for j in 0..t {
            for k in 0..8 {
                let bit = (src[i * t + j] >> k) & 1;
                out[(8 * j + k) * nrow + i / 8] |= bit << (i % 8);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose8_is_an_involution_and_transposes() {
        let x = 0x0123_4567_89AB_CDEFu64;
        assert_eq!(transpose8(transpose8(x)), x);
        // Row 0 = 0xFF -> column 0 set in every row.
        assert_eq!(transpose8(0xFF), 0x0101_0101_0101_0101);
    }

    #[test]
    fn untrans_inverts_definition() {
        for t in [1usize, 2, 3, 4, 5, 8, 16] {
            for n in [8usize, 16, 64, 72, 128, 520, 1024] {
                let data: Vec<u8> = (0..n * t).map(|i| (i * 37 + i / 7) as u8).collect();
                let shuffled = trans_for_tests(&data, t);
                let mut out = vec![0u8; n * t];
                assert!(untrans_bit_elem(&shuffled, &mut out, t, &mut Vec::new()));
                assert_eq!(out, data, "t {t} n {n}");
            }
        }
    }

    #[test]
    fn rejects_bad_shapes() {
        let mut out = vec![0u8; 12];
        assert!(!untrans_bit_elem(&[0u8; 12], &mut out, 1, &mut Vec::new()));
        assert!(!untrans_bit_elem(&[0u8; 12], &mut out, 0, &mut Vec::new()));
    }
}
