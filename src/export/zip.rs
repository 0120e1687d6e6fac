//! A ZIP archive of stored (uncompressed) members whose sizes are known up front, written in
//! any order: each member has its own region, so several members can grow side by side
//! (the four columns of a window, batch by batch) without holding any of them in memory.
//!
//! Always ZIP64 (sizes and offsets in the ZIP64 extra fields), so members and archives past
//! 4 GiB need no second code path; Python's `zipfile` (and so `numpy.load`) reads it.

use std::io::{self, Seek, SeekFrom, Write};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END64_SIG: u32 = 0x0606_4b50;
const LOCATOR64_SIG: u32 = 0x0706_4b50;
const END_SIG: u32 = 0x0605_4b50;
/// "Version needed": 4.5, ZIP64.
const VERSION: u16 = 45;
/// MS-DOS date 1980-01-01 (the archive carries no real time: the same input, the same bytes).
const DOS_DATE: u16 = (1 << 5) | 1;
const FULL32: u32 = u32::MAX;
/// Local header: 30 fixed bytes, the name, the ZIP64 extra (4 + 2 × 8 bytes).
const LOCAL_FIXED: u64 = 30 + 20;

struct Member {
    name: String,
    len: u64,
    header_at: u64,
    data_at: u64,
    written: u64,
    crc: crc32fast::Hasher,
}

/// Writes members of known sizes into their own regions of one archive.
pub struct StoredZip<W: Write + Seek> {
    out: W,
    members: Vec<Member>,
    /// Where the central directory goes: after the last member.
    end: u64,
    /// Where `out` is positioned now (saves a seek when writes continue in place).
    pos: u64,
}

impl<W: Write + Seek> StoredZip<W> {
    /// Lays out members `(name, byte length)` from `out`'s position and writes their headers.
    pub fn create(mut out: W, members: &[(&str, u64)]) -> io::Result<Self> {
        let mut at = out.stream_position()?;
        let mut list = Vec::with_capacity(members.len());
        for &(name, len) in members {
            let header_at = at;
            let data_at = header_at + LOCAL_FIXED + name.len() as u64;
            at = data_at + len;
            list.push(Member {
                name: name.to_string(),
                len,
                header_at,
                data_at,
                written: 0,
                crc: crc32fast::Hasher::new(),
            });
        }
        let mut zip = Self {
            pos: list.first().map_or(at, |m| m.header_at),
            out,
            members: list,
            end: at,
        };
        for i in 0..zip.members.len() {
            zip.write_local_header(i, 0)?;
        }
        Ok(zip)
    }

    fn write_local_header(&mut self, index: usize, crc: u32) -> io::Result<()> {
        let m = &self.members[index];
        let mut h = Vec::with_capacity(LOCAL_FIXED as usize + m.name.len());
        put32(&mut h, LOCAL_SIG);
        put16(&mut h, VERSION);
        put16(&mut h, 0); // flags
        put16(&mut h, 0); // stored
        put16(&mut h, 0); // time
        put16(&mut h, DOS_DATE);
        put32(&mut h, crc);
        put32(&mut h, FULL32);
        put32(&mut h, FULL32);
        put16(&mut h, m.name.len() as u16);
        put16(&mut h, 20);
        h.extend_from_slice(m.name.as_bytes());
        put16(&mut h, 1); // ZIP64 extra
        put16(&mut h, 16);
        put64(&mut h, m.len);
        put64(&mut h, m.len);
        let at = m.header_at;
        self.write_at(at, &h)
    }

    fn write_at(&mut self, at: u64, bytes: &[u8]) -> io::Result<()> {
        if self.pos != at {
            self.out.seek(SeekFrom::Start(at))?;
        }
        self.out.write_all(bytes)?;
        self.pos = at + bytes.len() as u64;
        Ok(())
    }

    /// Appends `bytes` to member `index`.
    pub fn append(&mut self, index: usize, bytes: &[u8]) -> io::Result<()> {
        let Some(m) = self.members.get_mut(index) else {
            return Err(io::Error::other(format!(
                "no member {index} in the archive"
            )));
        };
        if m.written + bytes.len() as u64 > m.len {
            return Err(io::Error::other(format!(
                "{} would grow past its {} bytes",
                m.name, m.len
            )));
        }
        m.crc.update(bytes);
        let at = m.data_at + m.written;
        m.written += bytes.len() as u64;
        self.write_at(at, bytes)
    }

    /// Bytes member `index` still expects.
    pub fn remaining(&self, index: usize) -> u64 {
        self.members.get(index).map_or(0, |m| m.len - m.written)
    }

    /// Checks every member is complete, writes checksums and the directory; returns `out`.
    pub fn finish(mut self) -> io::Result<W> {
        let mut crcs = Vec::with_capacity(self.members.len());
        for m in &self.members {
            if m.written != m.len {
                return Err(io::Error::other(format!(
                    "{} holds {} of its {} bytes",
                    m.name, m.written, m.len
                )));
            }
            crcs.push(m.crc.clone().finalize());
        }
        for (i, &crc) in crcs.iter().enumerate() {
            self.write_local_header(i, crc)?;
        }
        let mut dir = Vec::new();
        for (m, &crc) in self.members.iter().zip(&crcs) {
            put32(&mut dir, CENTRAL_SIG);
            put16(&mut dir, VERSION); // made by
            put16(&mut dir, VERSION); // needed
            put16(&mut dir, 0);
            put16(&mut dir, 0);
            put16(&mut dir, 0);
            put16(&mut dir, DOS_DATE);
            put32(&mut dir, crc);
            put32(&mut dir, FULL32);
            put32(&mut dir, FULL32);
            put16(&mut dir, m.name.len() as u16);
            put16(&mut dir, 28); // extra: sizes and header offset
            put16(&mut dir, 0); // comment
            put16(&mut dir, 0); // disk
            put16(&mut dir, 0); // internal attributes
            put32(&mut dir, 0); // external attributes
            put32(&mut dir, FULL32);
            dir.extend_from_slice(m.name.as_bytes());
            put16(&mut dir, 1);
            put16(&mut dir, 24);
            put64(&mut dir, m.len);
            put64(&mut dir, m.len);
            put64(&mut dir, m.header_at);
        }
        let dir_at = self.end;
        let dir_len = dir.len() as u64;
        let end64_at = dir_at + dir_len;
        let count = self.members.len() as u64;
        put32(&mut dir, END64_SIG);
        put64(&mut dir, 44);
        put16(&mut dir, VERSION);
        put16(&mut dir, VERSION);
        put32(&mut dir, 0);
        put32(&mut dir, 0);
        put64(&mut dir, count);
        put64(&mut dir, count);
        put64(&mut dir, dir_len);
        put64(&mut dir, dir_at);
        put32(&mut dir, LOCATOR64_SIG);
        put32(&mut dir, 0);
        put64(&mut dir, end64_at);
        put32(&mut dir, 1);
        put32(&mut dir, END_SIG);
        put16(&mut dir, 0);
        put16(&mut dir, 0);
        put16(&mut dir, count.min(0xffff) as u16);
        put16(&mut dir, count.min(0xffff) as u16);
        put32(&mut dir, FULL32);
        put32(&mut dir, FULL32);
        put16(&mut dir, 0);
        self.write_at(dir_at, &dir)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Reads the archive back from its own directory, independently of the writer's layout.
    fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>, u32)> {
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap()) as usize;
        let end = bytes.len() - 22;
        assert_eq!(u32_at(end), END_SIG);
        let locator = end - 20;
        assert_eq!(u32_at(locator), LOCATOR64_SIG);
        let end64 = u64_at(locator + 8);
        assert_eq!(u32_at(end64), END64_SIG);
        let count = u64_at(end64 + 32);
        let mut at = u64_at(end64 + 48);
        let mut out = Vec::new();
        for _ in 0..count {
            assert_eq!(u32_at(at), CENTRAL_SIG);
            let crc = u32_at(at + 16);
            let name_len = u16_at(at + 28);
            let extra_len = u16_at(at + 30);
            let name = String::from_utf8(bytes[at + 46..at + 46 + name_len].to_vec()).unwrap();
            let extra = at + 46 + name_len;
            let size = u64_at(extra + 4);
            let header = u64_at(extra + 20);
            assert_eq!(u32_at(header), LOCAL_SIG);
            assert_eq!(
                u32_at(header + 14),
                crc,
                "local and central checksums agree"
            );
            let data = header + 30 + u16_at(header + 26) + u16_at(header + 28);
            out.push((name, bytes[data..data + size].to_vec(), crc));
            at = extra + extra_len;
        }
        out
    }

    #[test]
    fn members_written_side_by_side_read_back_whole() {
        let mut zip =
            StoredZip::create(Cursor::new(Vec::new()), &[("a.npy", 5), ("bb.npy", 3)]).unwrap();
        zip.append(1, b"x").unwrap();
        zip.append(0, b"hel").unwrap();
        zip.append(1, b"yz").unwrap();
        zip.append(0, b"lo").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let got = members(&bytes);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "a.npy");
        assert_eq!(got[0].1, b"hello");
        assert_eq!(got[0].2, crc32fast::hash(b"hello"));
        assert_eq!(got[1].0, "bb.npy");
        assert_eq!(got[1].1, b"xyz");
        assert_eq!(got[1].2, crc32fast::hash(b"xyz"));
    }

    #[test]
    fn short_or_overlong_members_are_errors() {
        let mut zip = StoredZip::create(Cursor::new(Vec::new()), &[("a", 2)]).unwrap();
        assert!(zip.append(0, b"abc").is_err());
        zip.append(0, b"a").unwrap();
        assert!(zip.finish().is_err());
    }
}
