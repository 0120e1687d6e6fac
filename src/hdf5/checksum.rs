//! Jenkins lookup3 checksums of HDF5's version-2 structures, and their verification.
//!
//! Superblock v2/3, v2 object headers (OHDR, OCHK), v2 B-tree nodes and fixed/extensible
//! array headers, blocks and pages end with a 32-bit `hashlittle(bytes, 0)` of the bytes
//! before it. libhdf5 refuses a structure whose checksum does not match, so a reader that
//! does not check would return values from bytes libhdf5 never uses. `hdf5-reader` checks
//! the headers and nodes it parses; the fixed array data blocks it reads entry by entry are
//! checked here (see [`verify_fixed_array`]). Extensible arrays and v2 B-tree chunk indexes
//! are walked by our own code, which checks each block it fetches with [`holds`].

use hdf5_reader::io::Cursor;
use hdf5_reader::Storage;

/// Bob Jenkins' lookup3 `hashlittle` with `initval` 0, as HDF5 computes it
/// (H5_checksum_lookup3): the bytes are read as little-endian 32-bit words, 12 at a time.
pub fn lookup3(data: &[u8]) -> u32 {
    let init = 0xdead_beefu32.wrapping_add(data.len() as u32);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut rest = data;
    while rest.len() > 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }
    // The last 1..=12 bytes, zero-padded: the same sums as lookup3's byte-wise switch.
    let mut tail = [0u8; 12];
    tail[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(word(&tail[0..4]));
    b = b.wrapping_add(word(&tail[4..8]));
    c = c.wrapping_add(word(&tail[8..12]));
    finish(&mut a, &mut b, &mut c);
    c
}

fn word(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn finish(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

/// Whether `bytes` ends with the lookup3 checksum of what precedes it.
pub fn holds(bytes: &[u8]) -> bool {
    match bytes.len().checked_sub(4) {
        Some(body) => lookup3(&bytes[..body]) == word(&bytes[body..]),
        None => false,
    }
}

/// Why a structure failed verification: the structure's name and file offset, or bytes the
/// parse still needs (fetched by the caller, then the check runs again).
#[derive(Debug)]
pub enum Damage {
    Checksum { structure: &'static str, at: u64 },
    Read(hdf5_reader::error::Error),
}

impl From<hdf5_reader::error::Error> for Damage {
    fn from(e: hdf5_reader::error::Error) -> Self {
        Damage::Read(e)
    }
}

impl Damage {
    /// How every message of a damaged structure ends.
    pub const SUFFIX: &'static str = "— the file is damaged";

    /// The one-line message for a checksum that does not match.
    pub fn message(structure: &str, at: u64) -> String {
        format!(
            "{structure} at byte {at}: checksum mismatch {}",
            Self::SUFFIX
        )
    }

    /// As a parse error: the message for a checksum, the read failure as it was.
    pub fn into_reader_error(self) -> hdf5_reader::error::Error {
        match self {
            Damage::Checksum { structure, at } => {
                hdf5_reader::error::Error::InvalidData(Self::message(structure, at))
            }
            Damage::Read(e) => e,
        }
    }
}

fn checked(
    storage: &dyn Storage,
    at: u64,
    len: usize,
    structure: &'static str,
) -> Result<Vec<u8>, Damage> {
    let bytes = storage.read_range(at, len)?.to_vec();
    if holds(&bytes) {
        Ok(bytes)
    } else {
        Err(Damage::Checksum { structure, at })
    }
}

/// Verifies a fixed array chunk index as libhdf5 reads it: its header (FAHD), its data block
/// (FADB) and, when the block is paged, every initialised page. `hdf5-reader` checks the
/// header but reads the data block entry by entry, past its checksums.
pub fn verify_fixed_array(
    storage: &dyn Storage,
    header_at: u64,
    offset_size: u8,
    length_size: u8,
) -> Result<(), Damage> {
    let (o, l) = (usize::from(offset_size), usize::from(length_size));
    let header = checked(storage, header_at, 4 + 4 + l + o + 4, "fixed array header")?;
    let mut c = Cursor::new(&header);
    c.skip(5)?;
    let client = c.read_u8()?;
    let entry_size = u64::from(c.read_u8()?);
    let page_bits = c.read_u8()?;
    let entries = c.read_length(length_size)?;
    let block_at = c.read_offset(offset_size)?;
    if Cursor::is_undefined_offset(block_at, offset_size) {
        return Ok(());
    }
    let _ = client;
    let prefix = 6 + o as u64;
    let invalid = || hdf5_reader::error::Error::InvalidData("fixed array sizes overflow".into());
    let per_page = 1u64.checked_shl(u32::from(page_bits)).ok_or_else(invalid)?;
    let len = |n: u64| usize::try_from(n).map_err(|_| invalid());
    if entries <= per_page {
        let body = entries.checked_mul(entry_size).ok_or_else(invalid)?;
        checked(
            storage,
            block_at,
            len(prefix + body + 4)?,
            "fixed array data block",
        )?;
        return Ok(());
    }
    let pages = entries.div_ceil(per_page);
    let bitmap = pages.div_ceil(8);
    let head = checked(
        storage,
        block_at,
        len(prefix + bitmap + 4)?,
        "fixed array data block",
    )?;
    let bits = head
        .get(prefix as usize..(prefix + bitmap) as usize)
        .unwrap_or_default();
    let mut page_at = block_at + prefix + bitmap + 4;
    for page in 0..pages {
        let n = if page + 1 == pages {
            entries - page * per_page
        } else {
            per_page
        };
        let page_len = n.checked_mul(entry_size).ok_or_else(invalid)? + 4;
        let initialised = bits
            .get((page / 8) as usize)
            .is_some_and(|b| b & (0x80 >> (page % 8)) != 0);
        if initialised {
            checked(
                storage,
                page_at,
                len(page_len)?,
                "fixed array data block page",
            )?;
        }
        page_at = page_at.checked_add(page_len).ok_or_else(invalid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup3_matches_published_vectors() {
        // lookup3.c's driver5: hashlittle("", 0) and "Four score and seven years ago".
        assert_eq!(lookup3(b""), 0xdead_beef);
        assert_eq!(lookup3(b"Four score and seven years ago"), 0x1777_0551);
    }

    #[test]
    fn every_tail_length_differs() {
        // Each tail length (1..=12 bytes past a block) takes its own path; a byte changed in
        // any position must change the hash.
        let data: Vec<u8> = (0u8..40).collect();
        for n in 0..data.len() {
            let mut other = data[..n + 1].to_vec();
            other[n] ^= 1;
            assert_ne!(lookup3(&data[..n + 1]), lookup3(&other), "length {}", n + 1);
        }
    }

    #[test]
    fn holds_checks_the_trailing_word() {
        let mut s = b"FAHD\0\x01\x08\x0a".to_vec();
        let sum = lookup3(&s);
        s.extend_from_slice(&sum.to_le_bytes());
        assert!(holds(&s));
        s[2] ^= 4;
        assert!(!holds(&s));
        assert!(!holds(b"abc"));
    }
}
