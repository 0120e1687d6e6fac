//! Byte shuffle (HDF5 filter 2, and Blosc's flag 0x01).
//!
//! The writer stores byte `j` of every element together: for `n` elements of `t` bytes, shuffled
//! byte `j * n + i` is byte `j` of element `i`. Bytes after the last whole element
//! (`len % t`) are stored as they are.

/// Undoes a byte shuffle of `src` into `dst` (same length; a shorter `dst` is filled as far as
/// it goes).
pub fn unshuffle_into(src: &[u8], dst: &mut [u8], typesize: usize) {
    let len = src.len().min(dst.len());
    let (src, dst) = (&src[..len], &mut dst[..len]);
    if typesize <= 1 || len < 2 * typesize {
        dst.copy_from_slice(src);
        return;
    }
    let n = len / typesize;
    let body = n * typesize;
    match typesize {
        2 => unshuffle_n::<2>(&src[..body], &mut dst[..body], n),
        3 => unshuffle_word::<3>(&src[..body], &mut dst[..body], n),
        4 => unshuffle_quads::<4>(&src[..body], &mut dst[..body], n),
        6 => unshuffle_word::<6>(&src[..body], &mut dst[..body], n),
        8 => unshuffle_quads::<8>(&src[..body], &mut dst[..body], n),
        12 => unshuffle_quads::<12>(&src[..body], &mut dst[..body], n),
        16 => unshuffle_quads::<16>(&src[..body], &mut dst[..body], n),
        _ => unshuffle_any(&src[..body], &mut dst[..body], n, typesize),
    }
    dst[body..].copy_from_slice(&src[body..]);
}

/// Undoes a byte shuffle, returning a new buffer.
pub fn unshuffle_vec(data: Vec<u8>, typesize: usize) -> Vec<u8> {
    if typesize <= 1 || data.len() < 2 * typesize {
        return data;
    }
    let mut out = vec![0u8; data.len()];
    unshuffle_into(&data, &mut out, typesize);
    out
}

/// Transposes an 8x8 byte matrix held in 8 words (word `r` byte `c` <-> word `c` byte `r`).
#[inline(always)]
pub(crate) fn transpose_bytes8(r: &mut [u64; 8]) {
    for i in 0..4 {
        let (a, b) = (r[i], r[i + 4]);
        r[i] = (a & 0xFFFF_FFFF) | (b << 32);
        r[i + 4] = (a >> 32) | (b & 0xFFFF_FFFF_0000_0000);
    }
    const M16: u64 = 0x0000_FFFF_0000_FFFF;
    for i in [0, 1, 4, 5] {
        let (a, b) = (r[i], r[i + 2]);
        r[i] = (a & M16) | ((b & M16) << 16);
        r[i + 2] = ((a >> 16) & M16) | (b & !M16);
    }
    const M8: u64 = 0x00FF_00FF_00FF_00FF;
    for i in [0, 2, 4, 6] {
        let (a, b) = (r[i], r[i + 1]);
        r[i] = (a & M8) | ((b & M8) << 8);
        r[i + 1] = ((a >> 8) & M8) | (b & !M8);
    }
}

#[inline(always)]
pub(crate) fn load_u64(src: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&src[at..at + 8]);
    u64::from_le_bytes(b)
}

/// `N`-byte elements, `N` a multiple of 4: each element built from 4-row groups with u32
/// arithmetic (which the compiler turns into vector interleaves).
fn unshuffle_quads<const N: usize>(src: &[u8], dst: &mut [u8], n: usize) {
    let rows: [&[u8]; N] = core::array::from_fn(|j| &src[j * n..(j + 1) * n]);
    for (i, elem) in dst[..n * N].chunks_exact_mut(N).enumerate() {
        for (q, out) in elem.chunks_exact_mut(4).enumerate() {
            let r = &rows[4 * q..4 * q + 4];
            let w = u32::from(r[0][i])
                | u32::from(r[1][i]) << 8
                | u32::from(r[2][i]) << 16
                | u32::from(r[3][i]) << 24;
            out.copy_from_slice(&w.to_le_bytes());
        }
    }
}

/// `N`-byte elements, `N <= 8`: each element built with u64 arithmetic.
fn unshuffle_word<const N: usize>(src: &[u8], dst: &mut [u8], n: usize) {
    let rows: [&[u8]; N] = core::array::from_fn(|j| &src[j * n..(j + 1) * n]);
    for (i, elem) in dst[..n * N].chunks_exact_mut(N).enumerate() {
        let mut w = 0u64;
        for (j, row) in rows.iter().enumerate() {
            w |= u64::from(row[i]) << (8 * j);
        }
        elem.copy_from_slice(&w.to_le_bytes()[..N]);
    }
}

/// `N`-byte elements: 16 elements at a time, each row read as one 16-byte slice.
fn unshuffle_n<const N: usize>(src: &[u8], dst: &mut [u8], n: usize) {
    let rows: [&[u8]; N] = core::array::from_fn(|j| &src[j * n..(j + 1) * n]);
    const B: usize = 16;
    let full = n / B;
    for (g, out) in dst.chunks_exact_mut(N * B).enumerate().take(full) {
        let at = g * B;
        let cols: [&[u8; B]; N] = core::array::from_fn(|j| {
            // Each row has n >= (g + 1) * B bytes.
            <&[u8; B]>::try_from(&rows[j][at..at + B]).unwrap_or(&[0; B])
        });
        for (i, elem) in out.chunks_exact_mut(N).enumerate() {
            for j in 0..N {
                elem[j] = cols[j][i];
            }
        }
    }
    for i in full * B..n {
        let elem = &mut dst[i * N..(i + 1) * N];
        for j in 0..N {
            elem[j] = rows[j][i];
        }
    }
}

fn unshuffle_any(src: &[u8], dst: &mut [u8], n: usize, typesize: usize) {
    for (j, row) in src.chunks_exact(n).enumerate().take(typesize) {
        for (elem, &b) in dst.chunks_exact_mut(typesize).zip(row) {
            elem[j] = b;
        }
    }
}

#[cfg(test)]
pub(crate) fn shuffle_for_tests(src: &[u8], typesize: usize) -> Vec<u8> {
    let mut out = src.to_vec();
    if typesize <= 1 || src.len() < 2 * typesize {
        return out;
    }
    let n = src.len() / typesize;
    for i in 0..n {
        for j in 0..typesize {
            out[j * n + i] = src[i * typesize + j];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshuffle_inverts_shuffle_for_many_sizes() {
        for typesize in [1usize, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24] {
            for len in [0usize, 1, 7, 16, 31, 100, 257, 1000, 4099] {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 13) as u8).collect();
                let shuffled = shuffle_for_tests(&data, typesize);
                let mut out = vec![0u8; len];
                unshuffle_into(&shuffled, &mut out, typesize);
                assert_eq!(out, data, "typesize {typesize} len {len}");
                assert_eq!(unshuffle_vec(shuffled, typesize), data);
            }
        }
    }
}
