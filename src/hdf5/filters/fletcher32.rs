//! Fletcher-32 checksum (HDF5 filter 3): the writer appends a 4-byte checksum of the chunk.
//!
//! HDF5's variant sums big-endian 16-bit words (an odd last byte counts as the high byte of a
//! word) modulo 65535 and stores `sum2 << 16 | sum1` little-endian. Files from HDF5 before
//! 1.6.3 stored it with the bytes of each 16-bit half swapped; both are accepted, as HDF5 does.

use super::{corrupt, FilterError};

/// HDF5's Fletcher-32 of `data`.
pub fn checksum(data: &[u8]) -> u32 {
    let mut sum1: u32 = 0;
    let mut sum2: u32 = 0;
    let mut words = data.chunks_exact(2);
    // 360 words keep both sums below 2^32 before folding.
    loop {
        let mut any = false;
        for w in words.by_ref().take(360) {
            any = true;
            sum1 += (u32::from(w[0]) << 8) | u32::from(w[1]);
            sum2 += sum1;
        }
        if !any {
            break;
        }
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16);
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16);
    }
    if let [last] = words.remainder() {
        sum1 += u32::from(*last) << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16);
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xFFFF) + (sum1 >> 16);
    sum2 = (sum2 & 0xFFFF) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

/// Checks and removes the trailing checksum.
pub fn verify_and_strip(mut data: Vec<u8>) -> Result<Vec<u8>, FilterError> {
    let Some(body_len) = data.len().checked_sub(4) else {
        return Err(corrupt(
            "fletcher32",
            format!("{} bytes cannot hold a 4-byte checksum", data.len()),
        ));
    };
    let t = &data[body_len..];
    let stored = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
    let computed = checksum(&data[..body_len]);
    let b = computed.to_le_bytes();
    let reversed = u32::from_le_bytes([b[1], b[0], b[3], b[2]]);
    if stored != computed && stored != reversed {
        return Err(corrupt(
            "fletcher32",
            format!("checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the chunk is damaged"),
        ));
    }
    data.truncate(body_len);
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Reference values for the classic Fletcher-32 over big-endian words.
        assert_eq!(checksum(b""), 0);
        assert_eq!(checksum(&[0x01, 0x02]), 0x0102_0102);
        // Long inputs exercise the folding: both halves agree, modulo 65535, with the plain
        // definition.
        for len in [719usize, 720, 721, 10_001] {
            let data: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
            let (mut s1, mut s2) = (0u64, 0u64);
            for w in data.chunks(2) {
                let word = (u64::from(w[0]) << 8) | w.get(1).map_or(0, |&b| u64::from(b));
                s1 = (s1 + word) % 65535;
                s2 = (s2 + s1) % 65535;
            }
            let c = checksum(&data);
            assert_eq!(u64::from(c & 0xFFFF) % 65535, s1, "len {len}");
            assert_eq!(u64::from(c >> 16) % 65535, s2, "len {len}");
        }
    }

    #[test]
    fn strip_and_mismatch() {
        let body = b"hello world".to_vec();
        let mut with = body.clone();
        with.extend_from_slice(&checksum(&body).to_le_bytes());
        assert_eq!(verify_and_strip(with.clone()).unwrap(), body);
        with[0] ^= 1;
        assert!(verify_and_strip(with).is_err());
        assert!(verify_and_strip(vec![1, 2]).is_err());
    }
}
