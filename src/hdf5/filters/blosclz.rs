//! BloscLZ, Blosc's own FastLZ-style LZ77 codec (Blosc codec format 0).
//!
//! Token stream; the low 5 bits of the first byte start a literal run. A control byte `c`:
//! - `c < 32`: copy `c + 1` literal bytes.
//! - otherwise a match: length `(c >> 5) - 1`, plus extension bytes (each added, continuing
//!   while 255) when that is 6; then a byte `code`; length += 3 and
//!   distance = `((c & 31) << 8 | code) + 1`, except `code == 255 && c & 31 == 31`: a far match,
//!   distance = 16-bit big-endian value + 8191 + 1. Matches may overlap their output.
//!
//! As in the reference decoder, a stream that ends right after a match token stops there (the
//! encoder always finishes with literals), and every read and write is bounds-checked.

/// Why a stream did not decode.
pub type Error = &'static str;

/// Decodes `src` into `dst`, returning the number of bytes written.
pub fn decompress(src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    if src.is_empty() {
        return Ok(0);
    }
    let ilen = src.len();
    let olen = dst.len();
    let mut ip = 1usize;
    let mut op = 0usize;
    let mut ctrl = usize::from(src[0] & 31);
    loop {
        if ctrl >= 32 {
            let mut len = (ctrl >> 5) - 1;
            let ofs = (ctrl & 31) << 8;
            if len == 6 {
                loop {
                    if ip + 1 >= ilen {
                        return Err("match length runs past the end of the stream");
                    }
                    let code = src[ip];
                    ip += 1;
                    len += usize::from(code);
                    if code != 255 {
                        break;
                    }
                }
            } else if ip + 1 >= ilen {
                return Err("match runs past the end of the stream");
            }
            let code = usize::from(src[ip]);
            ip += 1;
            len += 3;
            let mut dist = ofs + code + 1;
            if code == 255 && ofs == 31 << 8 {
                if ip + 1 >= ilen {
                    return Err("far match runs past the end of the stream");
                }
                dist = ((usize::from(src[ip]) << 8) | usize::from(src[ip + 1])) + 8191 + 1;
                ip += 2;
            }
            if len > olen - op {
                return Err("match writes past the end of the block");
            }
            if dist > op {
                return Err("match refers before the start of the block");
            }
            if ip >= ilen {
                break;
            }
            ctrl = usize::from(src[ip]);
            ip += 1;
            copy_match(dst, op, dist, len);
            op += len;
        } else {
            let n = ctrl + 1;
            if n > olen - op {
                return Err("literal run writes past the end of the block");
            }
            if n > ilen - ip {
                return Err("literal run reads past the end of the stream");
            }
            copy_literals(src, ip, dst, op, n);
            op += n;
            ip += n;
            if ip >= ilen {
                break;
            }
            ctrl = usize::from(src[ip]);
            ip += 1;
        }
    }
    Ok(op)
}

/// Copies `len` bytes from `dist` bytes back (`1 <= dist <= op`, `op + len <= dst.len()`);
/// overlapping copies repeat the last `dist` bytes. When the buffer has room, whole 16- or
/// 8-byte pieces are copied and the last one may spill past the match into bytes that are
/// written afterwards anyway.
#[inline(always)]
pub(crate) fn copy_match(dst: &mut [u8], op: usize, dist: usize, len: usize) {
    let start = op - dist;
    if dist >= 16 && op + len + 16 <= dst.len() {
        let mut k = 0;
        while k < len {
            copy_piece::<16>(dst, start + k, op + k);
            k += 16;
        }
    } else if dist < 16 && op + len + 16 <= dst.len() {
        // Short period: build 16 bytes of the pattern in a register and store it at every
        // multiple of `dist` that keeps 16-byte stores contiguous (no reloads of fresh output).
        let pat: u128 = match dist {
            1 => u128::from(dst[start]) * 0x0101_0101_0101_0101_0101_0101_0101_0101,
            2 => {
                u128::from(u16::from_le_bytes([dst[start], dst[start + 1]]))
                    * 0x0001_0001_0001_0001_0001_0001_0001_0001
            }
            4 => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&dst[start..start + 4]);
                u128::from(u32::from_le_bytes(b)) * 0x0000_0001_0000_0001_0000_0001_0000_0001
            }
            8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&dst[start..op]);
                let w = u128::from(u64::from_le_bytes(b));
                w | w << 64
            }
            _ => {
                let mut b = [0u8; 16];
                b[..dist].copy_from_slice(&dst[start..op]);
                for i in dist..16 {
                    b[i] = b[i - dist];
                }
                u128::from_le_bytes(b)
            }
        };
        // Largest multiple of `dist` that is <= 16.
        const STEP: [usize; 16] = [
            16, 16, 16, 15, 16, 15, 12, 14, 16, 9, 10, 11, 12, 13, 14, 15,
        ];
        let step = STEP[dist];
        let bytes = pat.to_le_bytes();
        let mut k = 0;
        while k < len {
            dst[op + k..op + k + 16].copy_from_slice(&bytes);
            k += step;
        }
    } else if dist >= 8 && op + len + 8 <= dst.len() {
        let mut k = 0;
        while k < len {
            copy_piece::<8>(dst, start + k, op + k);
            k += 8;
        }
    } else {
        copy_match_exact(dst, op, dist, len);
    }
}

/// Copies `N` bytes from `from` to `to` within `dst` through a register-sized temporary (a
/// fixed-size copy the compiler inlines, unlike a `copy_within` call).
#[inline(always)]
fn copy_piece<const N: usize>(dst: &mut [u8], from: usize, to: usize) {
    let mut t = [0u8; N];
    t.copy_from_slice(&dst[from..from + N]);
    dst[to..to + N].copy_from_slice(&t);
}

/// [`copy_match`] without writing past the match.
pub(crate) fn copy_match_exact(dst: &mut [u8], op: usize, dist: usize, len: usize) {
    let start = op - dist;
    if dist >= len {
        dst.copy_within(start..start + len, op);
    } else if dist == 1 {
        let b = dst[start];
        dst[op..op + len].fill(b);
    } else {
        // [start, op + done) is periodic with period `dist`; copy ever larger whole periods.
        let mut done = 0;
        while done < len {
            let n = (dist + done).min(len - done);
            dst.copy_within(start..start + n, op + done);
            done += n;
        }
    }
}

/// Copies `n` literal bytes `src[ip..]` to `dst[op..]` (both checked by the caller), 16 bytes
/// at a time when both buffers have room.
#[inline(always)]
pub(crate) fn copy_literals(src: &[u8], ip: usize, dst: &mut [u8], op: usize, n: usize) {
    if n <= 16 && ip + 16 <= src.len() && op + 16 <= dst.len() {
        dst[op..op + 16].copy_from_slice(&src[ip..ip + 16]);
    } else {
        dst[op..op + n].copy_from_slice(&src[ip..ip + n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_matches() {
        // Literal run of 3 "abc", then match len 3+? : ctrl = (1+1)<<5 | 0 -> len (2-1)+3 = 4,
        // code 2 -> distance 3, then literal "z".
        let src = [2, b'a', b'b', b'c', 2 << 5, 2, 0, b'z'];
        let mut out = [0u8; 16];
        let n = decompress(&src, &mut out).unwrap();
        assert_eq!(&out[..n], b"abcabcaz");
    }

    #[test]
    fn overlapping_copies() {
        for dist in 1..10 {
            for len in 1..40 {
                let mut v: Vec<u8> = (0..dist as u8).map(|b| b + 1).collect();
                v.resize(dist + len, 0);
                copy_match(&mut v, dist, dist, len);
                for i in dist..dist + len {
                    assert_eq!(v[i], v[i - dist]);
                }
                let mut w: Vec<u8> = (0..dist as u8).map(|b| b + 1).collect();
                w.resize(dist + len + 20, 0);
                copy_match(&mut w, dist, dist, len);
                assert_eq!(w[..dist + len], v[..dist + len]);
            }
        }
    }

    #[test]
    fn wild_copies_match_exact_copies() {
        for dist in 1..40 {
            for len in 1..100 {
                let prefix: Vec<u8> = (0..dist as u8)
                    .map(|b| b.wrapping_mul(31).wrapping_add(1))
                    .collect();
                let mut a = prefix.clone();
                a.resize(dist + len, 0);
                copy_match_exact(&mut a, dist, dist, len);
                let mut b = prefix.clone();
                b.resize(dist + len + 32, 0);
                copy_match(&mut b, dist, dist, len);
                assert_eq!(a[..], b[..dist + len], "dist {dist} len {len}");
            }
        }
    }

    #[test]
    fn errors_not_panics() {
        let mut out = [0u8; 4];
        // Literal run longer than the output.
        assert!(decompress(&[10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], &mut out).is_err());
        // Literal run longer than the input.
        assert!(decompress(&[5, 1, 2], &mut out).is_err());
        // Match before the start.
        assert!(decompress(&[0, 1, 2 << 5, 5, 0], &mut out).is_err());
        // Truncated extension.
        assert!(decompress(&[0, 1, 7 << 5], &mut out).is_err());
    }
}
