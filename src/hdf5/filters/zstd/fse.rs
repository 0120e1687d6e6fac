//! FSE (tabled ANS) decoding tables: reading a table description and building the table.

use super::bits::FwdBits;

/// One decoding-table cell.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Entry {
    pub symbol: u8,
    pub nb_bits: u8,
    pub baseline: u16,
}

/// A decoding table of `1 << log` cells.
#[derive(Clone, Default, Debug)]
pub struct Table {
    pub log: u32,
    pub entries: Vec<Entry>,
}

impl Table {
    /// A table that always yields `symbol` and reads no bits (RLE mode).
    pub fn rle(&mut self, symbol: u8) {
        self.log = 0;
        self.entries.clear();
        self.entries.push(Entry {
            symbol,
            nb_bits: 0,
            baseline: 0,
        });
    }

    /// Builds the table for a normalized distribution (`-1` = "less than 1").
    pub fn build(&mut self, counts: &[i16], log: u32) -> Result<(), &'static str> {
        let size = 1usize << log;
        if counts.len() > 256 {
            return Err("too many FSE symbols");
        }
        self.log = log;
        self.entries.clear();
        self.entries.resize(size, Entry::default());
        let mut next = [0u16; 256];
        let mut high = size as isize - 1;
        for (s, &c) in counts.iter().enumerate() {
            if c == -1 {
                if high < 0 {
                    return Err("FSE distribution overflows its table");
                }
                self.entries[high as usize].symbol = s as u8;
                high -= 1;
                next[s] = 1;
            } else if c > 0 {
                next[s] = c as u16;
            }
        }
        // Slots left for the other symbols; none when "less than 1" symbols took them all
        // (`high` is then -1), which the format allows.
        let slots = (high + 1) as usize;
        let step = (size >> 1) + (size >> 3) + 3;
        let mask = size - 1;
        let mut pos = 0usize;
        let mut placed = 0usize;
        for (s, &c) in counts.iter().enumerate() {
            for _ in 0..c.max(0) {
                placed += 1;
                if placed > slots {
                    return Err("FSE distribution overflows its table");
                }
                self.entries[pos].symbol = s as u8;
                loop {
                    pos = (pos + step) & mask;
                    if pos < slots {
                        break;
                    }
                }
            }
        }
        if pos != 0 || placed != slots {
            return Err("FSE distribution does not fill its table");
        }
        for e in self.entries.iter_mut() {
            let n = &mut next[e.symbol as usize];
            let state = u32::from(*n);
            *n += 1;
            let nb = log - (31 - state.leading_zeros());
            e.nb_bits = nb as u8;
            e.baseline = ((state << nb) as usize - size) as u16;
        }
        Ok(())
    }

    /// Reads a table description (RFC 8878 §4.1.1) and builds the table; returns the bytes used.
    pub fn read(
        &mut self,
        src: &[u8],
        max_symbol: usize,
        max_log: u32,
    ) -> Result<usize, &'static str> {
        let mut br = FwdBits::new(src);
        let log = br.read(4)? + 5;
        if log > max_log {
            return Err("FSE accuracy log too large");
        }
        let mut counts = [0i16; 256];
        let mut remaining: i32 = (1 << log) + 1;
        let mut threshold: i32 = 1 << log;
        let mut nb_bits = log + 1;
        let mut symbol = 0usize;
        let mut prev_zero = false;
        while remaining > 1 {
            if prev_zero {
                loop {
                    let r = br.read(2)? as usize;
                    symbol += r;
                    if r != 3 {
                        break;
                    }
                    if symbol > max_symbol {
                        return Err("FSE distribution has too many symbols");
                    }
                }
            }
            if symbol > max_symbol {
                return Err("FSE distribution has too many symbols");
            }
            let max = (2 * threshold - 1) - remaining;
            let low = br.peek(nb_bits - 1)? as i32;
            let value = if low < max {
                br.consume(nb_bits - 1);
                low
            } else {
                let mut v = br.peek(nb_bits)? as i32;
                br.consume(nb_bits);
                if v >= threshold {
                    v -= max;
                }
                v
            };
            let count = value - 1;
            remaining -= count.abs();
            counts[symbol] = count as i16;
            symbol += 1;
            prev_zero = count == 0;
            while remaining < threshold && nb_bits > 1 {
                nb_bits -= 1;
                threshold >>= 1;
            }
        }
        if remaining != 1 {
            return Err("FSE distribution does not sum to its table size");
        }
        self.build(&counts[..symbol], log)?;
        Ok(br.bytes_used())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_of_only_low_probability_symbols_builds() {
        // Found by fuzzing (tests/data/fuzz/blosc/crash-zstd-fse-all-slots-low-probability):
        // 32 "less than 1" symbols fill a 32-slot table, leaving no slot for the spread.
        let mut table = Table::default();
        table.build(&[-1; 32], 5).unwrap();
        assert!(table
            .entries
            .iter()
            .all(|e| e.nb_bits == 5 && e.baseline == 0));
        let symbols: Vec<u8> = table.entries.iter().map(|e| e.symbol).collect();
        assert_eq!(symbols, (0..32).rev().collect::<Vec<u8>>());
        // One more such symbol than slots is refused.
        assert!(table.build(&[-1; 33], 5).is_err());
    }

    #[test]
    fn predefined_offset_table_matches_the_format_document() {
        // Appendix A of the zstd format document, offset codes: (state, symbol, bits, base).
        let counts: [i16; 29] = [
            1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1,
            -1,
        ];
        let mut t = Table::default();
        t.build(&counts, 5).unwrap();
        let want = [
            (0, 0, 5, 0),
            (1, 6, 4, 0),
            (2, 9, 5, 0),
            (5, 3, 5, 0),
            (15, 7, 4, 16),
            (24, 6, 4, 16),
            (27, 28, 5, 0),
            (31, 24, 5, 0),
        ];
        for (state, symbol, bits, base) in want {
            let e = t.entries[state];
            assert_eq!(
                (e.symbol, e.nb_bits, e.baseline),
                (symbol, bits, base),
                "state {state}"
            );
        }
    }

    #[test]
    fn bad_distributions_are_errors() {
        let mut t = Table::default();
        // Counts summing past the table.
        assert!(t.build(&[40, 40], 6).is_err());
        // Counts not filling it.
        assert!(t.build(&[10, 10], 6).is_err());
        assert!(t.read(&[], 35, 9).is_err());
        // Accuracy log 5 + 15 = 20 > 9.
        assert!(t.read(&[0x0F, 0xFF, 0xFF], 35, 9).is_err());
    }
}
