//! Prophesee's Event Compression Format (HDF5 filter 36559 = 0x8ECF), as Metavision writes
//! `/CD/events`. Decoded from the layout of the public `prophesee-ai/hdf5_ecf` codec.
//!
//! A chunk holds the records of one HDF5 chunk (at most 65,535) and decodes into Prophesee's
//! `EventCD` structs: `x u16 @0, y u16 @2, p i16 @4, t i64 @8`, 16 bytes each (bytes 6–7 are
//! padding, written as zero). All integers are little-endian. The stream is column by column:
//!
//! - **header** `u32`: event count `<< 2`, bit 1 = y/x/p packed together, bit 0 = x/p packed;
//! - **t**: `u64` first timestamp, then bytes `v`: high nibble `d`, low nibble `c`. `d < 15`:
//!   add `d` to the current time and repeat it `c` times (`c = 15`: the count is the next
//!   `u16`). `d = 15`: a run of such bytes gives a time step nibble by nibble, low first, ended
//!   by the next byte with `d < 15` (which is then read as usual);
//! - then, if bit 1: groups of four events in three `u32` (four 24-bit values
//!   `y << 12 | x << 1 | p`, the first value in the top 24 bits of word 0, the next split
//!   across words as the bits fall);
//! - else **y** as `u16` runs (`y << 5 | count`, count 31: the next `u16` is the count), then if
//!   bit 0: groups of four in three `u16` (12-bit values `x << 1 | p`), else **x** as `u16`
//!   words `x << 5 | mask` (event `x`, then `x + 1 + j` for each set mask bit `4 − j`) and **p**
//!   as byte runs (`p << 7 | count`, count 127: the next `u16` is the count).
//!
//! Hostile input: the count is capped by the codec's limit and by the chunk's size before any
//! allocation; every read is checked; a run that would write past the chunk's events, or a time
//! step longer than 64 bits, is refused (the reference encoder writes neither). The x mask may
//! name up to five events past the end — the reference decoder keeps spare room for them and
//! drops them; so does this one.

use super::{corrupt, FilterError};

const NAME: &str = "ecf";
/// Bytes of one decoded `EventCD` record.
pub const RECORD: usize = 16;
/// Most events one ECF chunk may hold (the codec's buffer size).
pub const MAX_EVENTS: usize = 65_535;

/// Decodes one stored ECF chunk into `EventCD` records; `cap` bounds the decoded size.
pub fn decode_filter(data: &[u8], cap: usize) -> Result<Vec<u8>, FilterError> {
    let header = u32_at(data, 0).ok_or_else(|| corrupt(NAME, "chunk shorter than its header"))?;
    let n = (header >> 2) as usize;
    let packed_yxp = header & 2 != 0;
    let packed_xp = header & 1 != 0;
    if n > MAX_EVENTS {
        return Err(corrupt(
            NAME,
            format!("chunk claims {n} events; the codec holds at most {MAX_EVENTS}"),
        ));
    }
    if n * RECORD > cap {
        return Err(corrupt(
            NAME,
            format!(
                "chunk claims {n} events ({} bytes) where a chunk holds {cap} bytes",
                n * RECORD
            ),
        ));
    }
    let mut r = Reader { data, pos: 4 };
    // The timestamp pass writes every record whole (zeros but for t), so the buffer is never
    // zeroed first; the other columns are written into place.
    let mut out = Vec::with_capacity(n * RECORD);
    timestamps(&mut r, &mut out, n)?;
    if packed_yxp {
        packed_y_x_p(&mut r, &mut out, n)?;
    } else {
        y_runs(&mut r, &mut out, n)?;
        if packed_xp {
            packed_x_p(&mut r, &mut out, n)?;
        } else {
            x_masked(&mut r, &mut out, n)?;
            p_runs(&mut r, &mut out, n)?;
        }
    }
    Ok(out)
}

#[inline]
fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// A cursor over the stored bytes whose every read is checked.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    #[inline]
    fn u8(&mut self, what: &str) -> Result<u8, FilterError> {
        let v = *self.data.get(self.pos).ok_or_else(|| ended(what))?;
        self.pos += 1;
        Ok(v)
    }

    #[inline]
    fn u16(&mut self, what: &str) -> Result<u16, FilterError> {
        let b = self
            .data
            .get(self.pos..self.pos + 2)
            .ok_or_else(|| ended(what))?;
        self.pos += 2;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    #[inline]
    fn take(&mut self, len: usize, what: &str) -> Result<&[u8], FilterError> {
        let end = self.pos.checked_add(len).ok_or_else(|| ended(what))?;
        let b = self.data.get(self.pos..end).ok_or_else(|| ended(what))?;
        self.pos = end;
        Ok(b)
    }
}

fn ended(what: &str) -> FilterError {
    corrupt(NAME, format!("{what} stream ends before its last event"))
}

/// Refuses a run of `c` events from event `i` that goes past the chunk's `n` events.
#[inline]
fn check_run(i: usize, c: usize, n: usize, what: &str) -> Result<(), FilterError> {
    if c > n - i {
        return Err(corrupt(
            NAME,
            format!("{what} run of {c} events at event {i} goes past the chunk's {n} events"),
        ));
    }
    Ok(())
}

/// The records `[i, i + c)` of `out`.
#[inline]
fn records(out: &mut [u8], i: usize, c: usize) -> std::slice::ChunksExactMut<'_, u8> {
    out[i * RECORD..(i + c) * RECORD].chunks_exact_mut(RECORD)
}

fn timestamps(r: &mut Reader, out: &mut Vec<u8>, n: usize) -> Result<(), FilterError> {
    let first = r.take(8, "timestamp")?;
    let mut t = u64::from_le_bytes([
        first[0], first[1], first[2], first[3], first[4], first[5], first[6], first[7],
    ]);
    let mut i = 0usize;
    while i < n {
        let v = r.u8("timestamp")?;
        let (d, c) = (v >> 4, v & 15);
        if d != 15 {
            // Wrapping like the reference's unsigned arithmetic (only hostile data wraps).
            t = t.wrapping_add(u64::from(d));
            let c = if c == 15 {
                usize::from(r.u16("timestamp")?)
            } else {
                usize::from(c)
            };
            check_run(i, c, n, "timestamp")?;
            let mut record = [0u8; RECORD];
            record[8..16].copy_from_slice(&t.to_le_bytes());
            for _ in 0..c {
                out.extend_from_slice(&record);
            }
            i += c;
        } else {
            // A time step, one nibble per byte, low nibble first; the byte that ends it is
            // read again as an ordinary one.
            let mut step = 0u64;
            let mut nibble = c;
            let mut shift = 0u32;
            loop {
                if shift >= 64 {
                    return Err(corrupt(NAME, "a time step longer than 64 bits"));
                }
                step |= u64::from(nibble) << shift;
                shift += 4;
                let next = *r.data.get(r.pos).ok_or_else(|| ended("timestamp"))?;
                if next >> 4 != 15 {
                    break;
                }
                nibble = next & 15;
                r.pos += 1;
            }
            t = t.wrapping_add(step);
        }
    }
    Ok(())
}

fn y_runs(r: &mut Reader, out: &mut [u8], n: usize) -> Result<(), FilterError> {
    let mut i = 0usize;
    while i < n {
        let v = r.u16("y")?;
        let y = v >> 5;
        let c = match v & 31 {
            31 => usize::from(r.u16("y")?),
            c => usize::from(c),
        };
        check_run(i, c, n, "y")?;
        let bytes = y.to_le_bytes();
        for rec in records(out, i, c) {
            rec[2..4].copy_from_slice(&bytes);
        }
        i += c;
    }
    Ok(())
}

fn p_runs(r: &mut Reader, out: &mut [u8], n: usize) -> Result<(), FilterError> {
    let mut i = 0usize;
    while i < n {
        let v = r.u8("polarity")?;
        let p = u16::from(v >> 7);
        let c = match v & 127 {
            127 => usize::from(r.u16("polarity")?),
            c => usize::from(c),
        };
        check_run(i, c, n, "polarity")?;
        let bytes = p.to_le_bytes();
        for rec in records(out, i, c) {
            rec[4..6].copy_from_slice(&bytes);
        }
        i += c;
    }
    Ok(())
}

fn x_masked(r: &mut Reader, out: &mut [u8], n: usize) -> Result<(), FilterError> {
    let mut i = 0usize;
    while i < n {
        let v = r.u16("x")?;
        let x = v >> 5;
        // i < n here: the word's own event is inside the chunk.
        out[i * RECORD..i * RECORD + 2].copy_from_slice(&x.to_le_bytes());
        i += 1;
        let mask = v & 31;
        if mask == 0 {
            continue;
        }
        for j in 0..5u16 {
            if mask & (1 << (4 - j)) != 0 {
                if i < n {
                    let at = i * RECORD;
                    out[at..at + 2].copy_from_slice(&(x + j + 1).to_le_bytes());
                }
                i += 1;
            }
        }
    }
    Ok(())
}

/// Writes x and p of one event.
#[inline]
fn put_xp(rec: &mut [u8], x: u16, p: u16) {
    rec[0..2].copy_from_slice(&x.to_le_bytes());
    rec[4..6].copy_from_slice(&p.to_le_bytes());
}

fn packed_x_p(r: &mut Reader, out: &mut [u8], n: usize) -> Result<(), FilterError> {
    let groups = n.div_ceil(4);
    let words = r.take(groups * 6, "packed x/polarity")?;
    for (w, recs) in words.chunks_exact(6).zip(out.chunks_mut(4 * RECORD)) {
        let w0 = u16::from_le_bytes([w[0], w[1]]);
        let w1 = u16::from_le_bytes([w[2], w[3]]);
        let w2 = u16::from_le_bytes([w[4], w[5]]);
        let vs = [
            w0 >> 4,
            (w0 & 0xf) | ((w1 >> 8) << 4),
            (w1 & 0xff) | ((w2 >> 12) << 8),
            w2 & 0xfff,
        ];
        for (rec, v) in recs.chunks_exact_mut(RECORD).zip(vs) {
            put_xp(rec, v >> 1, v & 1);
        }
    }
    Ok(())
}

fn packed_y_x_p(r: &mut Reader, out: &mut [u8], n: usize) -> Result<(), FilterError> {
    let groups = n.div_ceil(4);
    let words = r.take(groups * 12, "packed y/x/polarity")?;
    for (w, recs) in words.chunks_exact(12).zip(out.chunks_mut(4 * RECORD)) {
        let w0 = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let w1 = u32::from_le_bytes([w[4], w[5], w[6], w[7]]);
        let w2 = u32::from_le_bytes([w[8], w[9], w[10], w[11]]);
        let vs = [
            w0 >> 8,
            (w0 & 0xff) | ((w1 >> 16) << 8),
            (w1 & 0xffff) | ((w2 >> 24) << 16),
            w2 & 0xff_ffff,
        ];
        for (rec, v) in recs.chunks_exact_mut(RECORD).zip(vs) {
            // x, y, p side by side at bytes 0..6: one store.
            let xyp = u64::from((v >> 1) & 0x7ff)
                | u64::from((v >> 12) & 0x7ff) << 16
                | u64::from(v & 1) << 32;
            rec[0..6].copy_from_slice(&xyp.to_le_bytes()[..6]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hdf5::filters::{decode_chunk, ids, FilterStep};
    use std::path::{Path, PathBuf};

    /// A full Metavision chunk: 16384 records.
    const CHUNK_BYTES: usize = 16384 * RECORD;

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ecf/chunks")
    }

    /// (name, stored chunk, records HDF5 + Prophesee's plugin decoded from it).
    fn vectors() -> Vec<(String, Vec<u8>, Vec<u8>)> {
        let list = std::fs::read_to_string(dir().join("vectors.json")).expect("vectors.json");
        let list: serde_json::Value = serde_json::from_str(&list).expect("JSON");
        let vectors = list["vectors"].as_array().expect("vectors");
        assert!(vectors.len() >= 4, "too few ECF vectors");
        vectors
            .iter()
            .map(|v| {
                let name = v["name"].as_str().expect("name").to_string();
                let stored = std::fs::read(dir().join(format!("{name}.ecf"))).expect("chunk");
                let packed =
                    std::fs::read(dir().join(format!("{name}.records.zz"))).expect("records");
                let records =
                    miniz_oxide::inflate::decompress_to_vec_zlib(&packed).expect("records inflate");
                (name, stored, records)
            })
            .collect()
    }

    fn pipeline() -> Vec<FilterStep> {
        vec![FilterStep {
            id: ids::ECF,
            name: None,
            cd_values: vec![],
            optional: true,
        }]
    }

    #[test]
    fn chunks_of_the_real_encoder_decode_as_the_reference_plugin_does() {
        let mut modes = std::collections::HashSet::new();
        for (name, stored, want) in vectors() {
            modes.insert(u32_at(&stored, 0).unwrap_or(0) & 3);
            let got = decode_chunk(&pipeline(), 0, &stored[..], RECORD, CHUNK_BYTES)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got.len(), want.len(), "{name}: decoded size");
            if let Some(i) = (0..want.len() / RECORD)
                .find(|i| got[i * RECORD..(i + 1) * RECORD] != want[i * RECORD..(i + 1) * RECORD])
            {
                panic!(
                    "{name}: record {i} differs: {:?} vs {:?}",
                    &got[i * RECORD..(i + 1) * RECORD],
                    &want[i * RECORD..(i + 1) * RECORD]
                );
            }
        }
        // Runs + x masks (0), packed x/p (1), packed y/x/p (2).
        assert_eq!(modes.len(), 3, "vectors cover every coding mode: {modes:?}");
    }

    #[test]
    fn damaged_chunks_are_refused_without_panic() {
        for (name, stored, _) in vectors() {
            // Every cut short stream is refused (the last column needs all its bytes).
            for cut in (0..stored.len()).step_by(stored.len() / 97 + 1) {
                assert!(
                    decode_filter(&stored[..cut], CHUNK_BYTES).is_err(),
                    "{name}: cut at {cut} decoded"
                );
            }
            // Random damage: anything but a panic or an oversized output.
            let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ stored.len() as u64;
            for _ in 0..300 {
                let mut bad = stored.clone();
                for _ in 0..4 {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let at = (state % bad.len() as u64) as usize;
                    bad[at] = (state >> 32) as u8;
                }
                if let Ok(out) = decode_filter(&bad, CHUNK_BYTES) {
                    assert!(out.len() <= CHUNK_BYTES && out.len() % RECORD == 0);
                }
            }
        }
    }

    /// A header for `n` events with mode bits `mode`, then the first timestamp.
    fn head(n: u32, mode: u32, t0: u64) -> Vec<u8> {
        let mut v = (n << 2 | mode).to_le_bytes().to_vec();
        v.extend_from_slice(&t0.to_le_bytes());
        v
    }

    fn field(out: &[u8], i: usize, at: usize, len: usize) -> i64 {
        let b = &out[i * RECORD + at..i * RECORD + at + len];
        let mut a = [0u8; 8];
        a[..len].copy_from_slice(b);
        i64::from_le_bytes(a)
    }

    #[test]
    fn hand_made_stream_decodes_every_construct() {
        // 3 events: t = 100, 100, 100 + 0x123 + 2; y run of 3 at y 7; x masked: x 40 with
        // mask bits for 41 and 43 (j = 0, 2) — one more than the chunk holds, which is dropped;
        // p runs: 1 × 2, 0 × 1.
        let mut s = head(3, 0, 100);
        s.push(0x02); // +0, two events
        s.extend_from_slice(&[0xF3, 0xF2, 0xF1]); // step 0x123, nibbles low first
        s.push(0x21); // +2, one event
        s.extend_from_slice(&((7u16 << 5) | 3).to_le_bytes());
        s.extend_from_slice(&((40u16 << 5) | 0b10100).to_le_bytes());
        s.extend_from_slice(&[0x80 | 2, 1]);
        let out = decode_filter(&s, 3 * RECORD).expect("decodes");
        assert_eq!(out.len(), 3 * RECORD);
        let t: Vec<i64> = (0..3).map(|i| field(&out, i, 8, 8)).collect();
        assert_eq!(t, [100, 100, 100 + 0x123 + 2]);
        assert_eq!(
            (0..3).map(|i| field(&out, i, 2, 2)).collect::<Vec<_>>(),
            [7; 3]
        );
        assert_eq!(
            (0..3).map(|i| field(&out, i, 0, 2)).collect::<Vec<_>>(),
            [40, 41, 43]
        );
        assert_eq!(
            (0..3).map(|i| field(&out, i, 4, 2)).collect::<Vec<_>>(),
            [1, 1, 0]
        );
    }

    #[test]
    fn claimed_sizes_are_capped_before_allocating() {
        let err = decode_filter(&head(70_000, 0, 0), usize::MAX).unwrap_err();
        assert!(err.to_string().contains("at most 65535"), "{err}");
        let err = decode_filter(&head(1000, 0, 0), 999 * RECORD).unwrap_err();
        assert!(err.to_string().contains("where a chunk holds"), "{err}");
        assert!(decode_filter(&[1, 2], 1 << 20).is_err());
    }

    #[test]
    fn runs_past_the_chunk_and_endless_time_steps_are_refused() {
        let mut s = head(2, 0, 0);
        s.push(0x03); // three events at t0 in a chunk of two
        let err = decode_filter(&s, 2 * RECORD).unwrap_err();
        assert!(err.to_string().contains("goes past"), "{err}");
        let mut s = head(1, 0, 0);
        s.extend_from_slice(&[0xF1; 17]); // 17 nibbles: more than 64 bits
        s.push(0x01);
        let err = decode_filter(&s, RECORD).unwrap_err();
        assert!(err.to_string().contains("64 bits"), "{err}");
    }

    #[test]
    fn a_short_last_chunk_passes_the_pipeline() {
        // Metavision's last chunk holds fewer events than a chunk: returned as they are.
        let mut s = head(1, 0, 5);
        s.push(0x01);
        s.extend_from_slice(&((3u16 << 5) | 1).to_le_bytes());
        s.extend_from_slice(&(9u16 << 5).to_le_bytes());
        s.push(1);
        let out = decode_chunk(&pipeline(), 0, &s[..], RECORD, 4 * RECORD).expect("short chunk");
        assert_eq!(out.len(), RECORD);
        assert_eq!(field(&out, 0, 0, 2), 9);
    }

    /// Decode speed on a folder of stored chunks (`ECF_BENCH_DIR`, default the vectors; an
    /// optional `ECF_BENCH_ONLY` substring picks files): best of 7 runs of 10 passes, MB/s of
    /// decoded records, output allocated per chunk as the read path does. Numbers in README.md
    /// (run beside the reference decoder on the same files; no timing is asserted).
    #[test]
    #[ignore = "a benchmark, not a test: cargo test --release --lib ecf_decode_speed -- --ignored --nocapture"]
    fn ecf_decode_speed() {
        let folder = std::env::var("ECF_BENCH_DIR").map_or_else(|_| dir(), PathBuf::from);
        let only = std::env::var("ECF_BENCH_ONLY").unwrap_or_default();
        let mut names: Vec<PathBuf> = std::fs::read_dir(&folder)
            .expect("bench folder")
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "ecf")
                    && p.to_string_lossy().contains(only.as_str())
            })
            .collect();
        names.sort();
        let chunks: Vec<Vec<u8>> = names
            .iter()
            .map(|p| std::fs::read(p).expect("chunk"))
            .collect();
        let mut best = f64::MAX;
        let mut bytes = 0usize;
        for _ in 0..7 {
            let start = std::time::Instant::now();
            bytes = 0;
            for _ in 0..10 {
                for c in &chunks {
                    let out =
                        decode_chunk(&pipeline(), 0, &c[..], RECORD, CHUNK_BYTES).expect("decodes");
                    bytes += out.len();
                    std::hint::black_box(out);
                }
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        eprintln!(
            "strobe {only}: {} chunks, {:.1} MB decoded per run, best {:.1} MB/s",
            chunks.len(),
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / best
        );
    }
}
