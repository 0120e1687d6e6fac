//! Bit readers for zstd: FSE table descriptions are read forward, entropy-coded streams
//! backward (from the last byte, after its zero padding and end-mark bit).

/// Backward bit reader. Unread bits are stream bits `[0, pos)`; reads take the highest ones.
/// Reading past the start yields zeros and makes `pos` negative ("overflow"), which callers
/// check where the format needs it.
pub struct RevBits<'a> {
    data: &'a [u8],
    pos: isize,
    /// Bits `[pos - valid, pos)` of the stream, left-aligned.
    container: u64,
    valid: u32,
}

impl<'a> RevBits<'a> {
    pub fn new(data: &'a [u8]) -> Result<Self, &'static str> {
        let last = *data.last().ok_or("empty bitstream")?;
        if last == 0 {
            return Err("bitstream does not end with a 1 end-mark bit");
        }
        let pad = last.leading_zeros() + 1;
        let mut r = RevBits {
            data,
            pos: data.len() as isize * 8 - pad as isize,
            container: 0,
            valid: 0,
        };
        r.refill();
        Ok(r)
    }

    /// Reloads the container with the 57..64 bits just below `pos`. The common case is inline
    /// (so the reader's fields stay in registers); the stream's first bytes take a cold path.
    #[inline(always)]
    fn refill(&mut self) {
        if self.pos >= 64 {
            let top = (self.pos as usize).div_ceil(8);
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.data[top - 8..top]);
            let drop = (top * 8) as isize - self.pos;
            self.container = u64::from_le_bytes(b) << drop;
            self.valid = 64 - drop as u32;
        } else {
            (self.container, self.valid) = refill_slow(self.data, self.pos);
        }
    }

    /// Makes at least `n` (<= 56) bits available to `peek`.
    #[inline(always)]
    pub fn ensure(&mut self, n: u32) {
        if self.valid < n {
            self.refill();
        }
    }

    /// The next `n` (1..=56) bits, after `ensure(n)`.
    #[inline(always)]
    pub fn peek(&self, n: u32) -> u64 {
        self.container >> (64 - n)
    }

    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        self.container <<= n;
        // Never underflows when callers `ensure` first; saturate rather than wrap regardless.
        self.valid = self.valid.saturating_sub(n);
        self.pos -= n as isize;
    }

    /// Reads `n` (0..=56) bits as a little-endian value (no branch for `n == 0`: the double
    /// shift yields 0 then).
    #[inline(always)]
    pub fn read(&mut self, n: u32) -> u64 {
        self.ensure(n);
        let v = (self.container >> (63 - n)) >> 1;
        self.consume(n);
        v
    }

    /// Reads `n` bits after an `ensure` that covered them (and any reads since).
    #[inline(always)]
    pub fn read_ensured(&mut self, n: u32) -> u64 {
        let v = (self.container >> (63 - n)) >> 1;
        self.consume(n);
        v
    }

    /// More bits were read than the stream holds.
    #[inline]
    pub fn overflowed(&self) -> bool {
        self.pos < 0
    }

    /// Every bit was read, and no more.
    #[inline]
    pub fn finished(&self) -> bool {
        self.pos == 0
    }
}

/// Container and valid-bit count for a position within the first 8 bytes (or past the start,
/// where the stream reads as zeros).
#[cold]
#[inline(never)]
fn refill_slow(data: &[u8], pos: isize) -> (u64, u32) {
    if pos <= 0 {
        return (0, 64);
    }
    let top = (pos as usize).div_ceil(8).min(data.len());
    let mut w = 0u64;
    for (i, &byte) in data[..top].iter().enumerate() {
        w |= u64::from(byte) << (8 * (8 - top + i));
    }
    let drop = (top * 8) as isize - pos;
    (w << drop, 64 - drop as u32)
}

/// Forward little-endian bit reader (FSE table descriptions). Reading past the end is an error.
pub struct FwdBits<'a> {
    data: &'a [u8],
    bit: usize,
}

impl<'a> FwdBits<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        FwdBits { data, bit: 0 }
    }

    /// The next `n` (<= 24) bits without consuming them.
    pub fn peek(&self, n: u32) -> Result<u32, &'static str> {
        if self.bit + n as usize > self.data.len() * 8 {
            return Err("FSE table description is truncated");
        }
        let byte = self.bit / 8;
        let mut w = 0u32;
        for i in 0..4 {
            if let Some(&b) = self.data.get(byte + i) {
                w |= u32::from(b) << (8 * i);
            }
        }
        Ok((w >> (self.bit % 8)) & ((1u32 << n) - 1))
    }

    pub fn consume(&mut self, n: u32) {
        self.bit += n as usize;
    }

    pub fn read(&mut self, n: u32) -> Result<u32, &'static str> {
        let v = self.peek(n)?;
        self.consume(n);
        Ok(v)
    }

    /// Whole bytes used so far.
    pub fn bytes_used(&self) -> usize {
        self.bit.div_ceil(8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_reads() {
        // Stream bits (LSB first): byte0 = 0b1010_1100, byte1 = 0b0000_0101 (end mark at bit 2).
        // Useful bits from the top: bit 9 (0), bit 8 (1), then byte0 from bit 7 down.
        let data = [0b1010_1100u8, 0b0000_0101];
        let mut r = RevBits::new(&data).unwrap();
        assert_eq!(r.read(2), 0b01);
        assert_eq!(r.read(4), 0b1010);
        assert_eq!(r.read(4), 0b1100);
        assert!(r.finished());
        assert_eq!(r.read(3), 0);
        assert!(r.overflowed());
        assert!(RevBits::new(&[1, 0]).is_err());
        assert!(RevBits::new(&[]).is_err());
    }

    #[test]
    fn backward_long_stream() {
        // 20 bytes; read everything back in 7-bit pieces and compare with a bit-by-bit model.
        let data: Vec<u8> = (0..20u8).map(|i| i.wrapping_mul(37) | 1).collect();
        let total = data.len() * 8 - (data[19].leading_zeros() as usize + 1);
        let bit = |i: usize| u64::from((data[i / 8] >> (i % 8)) & 1);
        let mut r = RevBits::new(&data).unwrap();
        let mut pos = total;
        while pos >= 7 {
            let mut want = 0;
            for k in 0..7 {
                want = (want << 1) | bit(pos - 1 - k);
            }
            assert_eq!(r.read(7), want);
            pos -= 7;
        }
        assert_eq!(r.read(pos as u32), {
            let mut w = 0;
            for k in 0..pos {
                w = (w << 1) | bit(pos - 1 - k);
            }
            w
        });
        assert!(r.finished());
    }

    #[test]
    fn forward_reads() {
        let data = [0b1010_1100u8, 0b0000_0101];
        let mut r = FwdBits::new(&data);
        assert_eq!(r.read(4).unwrap(), 0b1100);
        assert_eq!(r.read(6).unwrap(), 0b01_1010);
        assert_eq!(r.bytes_used(), 2);
        assert!(r.read(7).is_err());
    }
}
