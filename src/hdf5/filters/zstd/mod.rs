//! Zstandard frames (HDF5 filter 32015; Blosc codec 4; bitshuffle compression 3).
//!
//! Strobe's own decoder, written from RFC 8878 / the zstd format document, in safe Rust.
//! It decodes straight into the caller's output slice: no window buffer, no ring buffer, so
//! memory is bounded by the output size whatever a frame declares (plus a 128 KiB literals
//! buffer and small tables). Back-references may reach any byte the frame already produced.
//! Not supported (reported as errors): dictionaries, legacy (pre-v0.8) frames.

mod bits;
mod fse;
mod huffman;

use bits::RevBits;
use fse::Table;
use huffman::HufTable;

use super::blosclz::copy_match;
use super::{corrupt, FilterError};

const MAGIC: u32 = 0xFD2F_B528;
const MAX_BLOCK: usize = 128 << 10;
/// Slack after the literals so short literal runs can be copied 16 bytes at a time.
const WILD: usize = 32;

const LL_BASE: [u32; 36] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64,
    128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
];
const LL_BITS: [u8; 36] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11,
    12, 13, 14, 15, 16,
];
const ML_BASE: [u32; 53] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
    28, 29, 30, 31, 32, 33, 34, 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027,
    2051, 4099, 8195, 16387, 32771, 65539,
];
const ML_BITS: [u8; 53] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
];
const LL_DEFAULT: [i16; 36] = [
    4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
    -1, -1, -1, -1,
];
const ML_DEFAULT: [i16; 53] = [
    1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
];
const OF_DEFAULT: [i16; 29] = [
    1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1,
];

/// What a frame header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    pub window: u64,
    pub content_size: Option<u64>,
    pub checksum: bool,
    pub dict_id: u32,
    pub header_len: usize,
}

/// Total length of a skippable frame (magic 0x184D2A50..=0x184D2A5F) at the start of `src`.
fn skippable_len(src: &[u8]) -> Option<usize> {
    let b = src.get(..8)?;
    let magic = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    if magic & 0xFFFF_FFF0 != 0x184D_2A50 {
        return None;
    }
    let len = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    Some(len.saturating_add(8))
}

/// Parses a zstd frame header (RFC 8878 §3.1.1.1).
pub fn frame_info(src: &[u8]) -> Result<FrameInfo, String> {
    if src.len() < 6 {
        return Err(format!("{} bytes is too short for a zstd frame", src.len()));
    }
    let magic = u32::from_le_bytes([src[0], src[1], src[2], src[3]]);
    if magic != MAGIC {
        return Err(format!("bad zstd magic number {magic:#010x}"));
    }
    let fhd = src[4];
    let fcs_flag = fhd >> 6;
    let single_segment = fhd & 0x20 != 0;
    if fhd & 0x08 != 0 {
        return Err("reserved bit set in the zstd frame header".into());
    }
    let dict_len = [0usize, 1, 2, 4][usize::from(fhd & 3)];
    let fcs_len = match fcs_flag {
        0 => usize::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let mut at = 5;
    let mut window = 0u64;
    if !single_segment {
        let wd = src[at];
        at += 1;
        let exponent = u64::from(wd >> 3);
        let base = 1u64 << (10 + exponent);
        window = base + (base / 8) * u64::from(wd & 7);
    }
    let dict = src
        .get(at..at + dict_len)
        .ok_or_else(|| "zstd frame header is truncated".to_string())?;
    let mut dict_id = 0u32;
    for (i, &b) in dict.iter().enumerate() {
        dict_id |= u32::from(b) << (8 * i);
    }
    at += dict_len;
    let fcs = src
        .get(at..at + fcs_len)
        .ok_or_else(|| "zstd frame header is truncated".to_string())?;
    let content_size = match fcs_len {
        0 => None,
        1 => Some(u64::from(fcs[0])),
        2 => Some(u64::from(u16::from_le_bytes([fcs[0], fcs[1]])) + 256),
        4 => Some(u64::from(u32::from_le_bytes([
            fcs[0], fcs[1], fcs[2], fcs[3],
        ]))),
        _ => {
            let mut b = [0u8; 8];
            b.copy_from_slice(fcs);
            Some(u64::from_le_bytes(b))
        }
    };
    if single_segment {
        window = content_size.unwrap_or(0);
    }
    Ok(FrameInfo {
        window,
        content_size,
        checksum: fhd & 0x04 != 0,
        dict_id,
        header_len: at + fcs_len,
    })
}

thread_local! {
    /// One decoder per thread, reused across chunks: its tables and buffers (~30 KB) would
    /// otherwise be allocated and the predefined tables rebuilt for every small chunk.
    static DECODER: std::cell::RefCell<Decoder> = std::cell::RefCell::new(Decoder::default());
}

/// Runs `f` with this thread's reusable decoder (a fresh one if it is already in use).
pub fn with_decoder<R>(f: impl FnOnce(&mut Decoder) -> R) -> R {
    DECODER.with(|d| match d.try_borrow_mut() {
        Ok(mut dec) => f(&mut dec),
        Err(_) => f(&mut Decoder::default()),
    })
}

/// Reusable decoder state (tables and the literals buffer live across frames and blocks).
#[derive(Default)]
pub struct Decoder {
    /// Decoded literals: `lits_len` bytes, then `WILD` bytes of slack for 16-byte copies.
    lits: Vec<u8>,
    lits_len: usize,
    huf: HufTable,
    huf_valid: bool,
    /// Literal-length, offset and match-length tables; `tables_valid` says whether repeat
    /// mode may use them.
    seq: [SeqTable; 3],
    tables_valid: bool,
    scratch: Table,
    defaults: Option<Box<[SeqTable; 3]>>,
    reps: [usize; 3],
}

/// A sequence decoding-table cell: the FSE transition plus the code's baseline and extra bits.
#[derive(Clone, Copy, Default)]
struct SeqEntry {
    base: u32,
    extra: u8,
    nb_bits: u8,
    next: u16,
}

/// Sequence decoding table, always 512 cells so that a masked state needs no bounds check.
#[derive(Clone)]
struct SeqTable {
    log: u32,
    cells: Box<[SeqEntry; 512]>,
}

impl Default for SeqTable {
    fn default() -> Self {
        SeqTable {
            log: 0,
            cells: Box::new([SeqEntry::default(); 512]),
        }
    }
}

impl SeqTable {
    /// Fills from an FSE table; `kind` 0 literal lengths, 1 offsets, 2 match lengths.
    fn fill(&mut self, t: &Table, kind: usize) -> Res<()> {
        if t.entries.len() > 512 {
            return err("zstd sequence table too large");
        }
        self.log = t.log;
        for (c, e) in self.cells.iter_mut().zip(&t.entries) {
            let s = usize::from(e.symbol);
            let (base, extra) = match kind {
                0 => (LL_BASE.get(s), LL_BITS.get(s)),
                2 => (ML_BASE.get(s), ML_BITS.get(s)),
                _ if s <= 31 => (Some(&(1u32 << s)), Some(&(s as u8))),
                _ => (None, None),
            };
            let (Some(&base), Some(&extra)) = (base, extra) else {
                return err("zstd sequence code out of range");
            };
            *c = SeqEntry {
                base,
                extra,
                nb_bits: e.nb_bits,
                next: e.baseline,
            };
        }
        Ok(())
    }
}

type Res<T> = Result<T, String>;

fn err<T>(msg: &str) -> Res<T> {
    Err(msg.to_string())
}

impl Decoder {
    /// Decodes the zstd frame(s) in `src` into `dst`, returning the number of bytes written.
    /// Fails if the data would not fit in `dst`.
    pub fn decode_into(&mut self, src: &[u8], dst: &mut [u8]) -> Res<usize> {
        let mut input = src;
        let mut written = 0usize;
        let mut frames = 0usize;
        while !input.is_empty() {
            if let Some(skip) = skippable_len(input) {
                input = input.get(skip..).unwrap_or(&[]);
                continue;
            }
            let (used, n) = self.decode_frame(input, &mut dst[written..])?;
            input = &input[used..];
            written += n;
            frames += 1;
        }
        if frames == 0 {
            return err("no zstd frame in the data");
        }
        Ok(written)
    }

    /// Decodes `src` into exactly `dst.len()` bytes.
    pub fn decode_exact(&mut self, src: &[u8], dst: &mut [u8]) -> Res<()> {
        let n = self.decode_into(src, dst)?;
        if n != dst.len() {
            return Err(format!(
                "zstd data decoded to {n} bytes, expected {}",
                dst.len()
            ));
        }
        Ok(())
    }

    /// Decodes one frame; returns (input bytes used, output bytes written).
    fn decode_frame(&mut self, src: &[u8], dst: &mut [u8]) -> Res<(usize, usize)> {
        let info = frame_info(src)?;
        if info.dict_id != 0 {
            return err("zstd frame needs a dictionary, which Strobe does not support");
        }
        if let Some(cs) = info.content_size {
            if cs > dst.len() as u64 {
                return Err(format!(
                    "zstd frame declares {cs} bytes, more than the {} left in the chunk",
                    dst.len()
                ));
            }
        }
        self.huf_valid = false;
        self.tables_valid = false;
        self.reps = [1, 4, 8];
        let mut pos = info.header_len;
        let mut op = 0usize;
        loop {
            let h = src
                .get(pos..pos + 3)
                .ok_or_else(|| "zstd block header is truncated".to_string())?;
            let h = u32::from(h[0]) | u32::from(h[1]) << 8 | u32::from(h[2]) << 16;
            pos += 3;
            let last = h & 1 != 0;
            let size = (h >> 3) as usize;
            match (h >> 1) & 3 {
                0 => {
                    let raw = src
                        .get(pos..)
                        .and_then(|s| s.get(..size))
                        .ok_or_else(|| "zstd raw block is truncated".to_string())?;
                    let out = dst.get_mut(op..op + size).ok_or_else(|| {
                        "zstd frame decodes to more bytes than the chunk holds".to_string()
                    })?;
                    out.copy_from_slice(raw);
                    pos += size;
                    op += size;
                }
                1 => {
                    let b = *src
                        .get(pos)
                        .ok_or_else(|| "zstd RLE block is truncated".to_string())?;
                    let out = dst.get_mut(op..op + size).ok_or_else(|| {
                        "zstd frame decodes to more bytes than the chunk holds".to_string()
                    })?;
                    out.fill(b);
                    pos += 1;
                    op += size;
                }
                2 => {
                    if size > MAX_BLOCK {
                        return err("zstd block larger than 128 KiB");
                    }
                    let block = src
                        .get(pos..)
                        .and_then(|s| s.get(..size))
                        .ok_or_else(|| "zstd compressed block is truncated".to_string())?;
                    op = self.decode_block(block, dst, op)?;
                    pos += size;
                }
                _ => return err("reserved zstd block type"),
            }
            if last {
                break;
            }
        }
        if info.checksum {
            let c = src
                .get(pos..pos + 4)
                .ok_or_else(|| "zstd checksum is truncated".to_string())?;
            let stored = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if stored != xxh64(&dst[..op]) as u32 {
                return err("zstd content checksum mismatch");
            }
            pos += 4;
        }
        if let Some(cs) = info.content_size {
            if op as u64 != cs {
                return Err(format!(
                    "zstd frame decoded to {op} bytes but declares {cs}"
                ));
            }
        }
        Ok((pos, op))
    }

    /// Decodes one compressed block into `dst[op..]`; returns the new output position.
    fn decode_block(&mut self, block: &[u8], dst: &mut [u8], op: usize) -> Res<usize> {
        let (lit_used, raw_at) = self.decode_literals(block)?;
        let seq = &block[lit_used..];
        // Literals: raw ones straight from the block (whose sequences section follows them, so
        // 16-byte copies usually have room), others from `self.lits` (which has WILD slack).
        let lits_len = self.lits_len;
        // Sequences section header.
        let b0 = *seq
            .first()
            .ok_or_else(|| "zstd sequences section missing".to_string())?;
        let (nb_seq, mut p) = match b0 {
            0..=127 => (usize::from(b0), 1),
            128..=254 => {
                let b1 = *seq
                    .get(1)
                    .ok_or_else(|| "zstd sequences header truncated".to_string())?;
                ((usize::from(b0 - 128) << 8) + usize::from(b1), 2)
            }
            255 => {
                let b = seq
                    .get(1..3)
                    .ok_or_else(|| "zstd sequences header truncated".to_string())?;
                (usize::from(b[0]) + (usize::from(b[1]) << 8) + 0x7F00, 3)
            }
        };
        if nb_seq == 0 {
            if p != seq.len() {
                return err("zstd block has bytes after an empty sequences section");
            }
            let lits = match raw_at {
                Some(at) => &block[at..],
                None => &self.lits[..],
            };
            return copy_lits(lits, dst, op, 0, lits_len);
        }
        let modes = *seq
            .get(p)
            .ok_or_else(|| "zstd sequences header truncated".to_string())?;
        p += 1;
        if modes & 3 != 0 {
            return err("reserved bits set in zstd sequence modes");
        }
        if self.defaults.is_none() {
            let mut d: [SeqTable; 3] = Default::default();
            for (k, (counts, log)) in [
                (&LL_DEFAULT[..], 6),
                (&OF_DEFAULT[..], 5),
                (&ML_DEFAULT[..], 6),
            ]
            .into_iter()
            .enumerate()
            {
                self.scratch.build(counts, log)?;
                d[k].fill(&self.scratch, k)?;
            }
            self.defaults = Some(Box::new(d));
        }
        for (k, (max_symbol, max_log)) in
            [(35usize, 9u32), (31, 8), (52, 9)].into_iter().enumerate()
        {
            let mode = (modes >> (6 - 2 * k)) & 3;
            let rest = seq.get(p..).unwrap_or(&[]);
            match mode {
                0 => {
                    if let Some(d) = self.defaults.as_ref() {
                        self.seq[k].clone_from(&d[k]);
                    }
                }
                1 => {
                    let s = *rest
                        .first()
                        .ok_or_else(|| "zstd RLE table truncated".to_string())?;
                    if usize::from(s) > max_symbol {
                        return err("zstd RLE sequence symbol out of range");
                    }
                    self.scratch.rle(s);
                    self.seq[k].fill(&self.scratch, k)?;
                    p += 1;
                }
                2 => {
                    p += self.scratch.read(rest, max_symbol, max_log)?;
                    self.seq[k].fill(&self.scratch, k)?;
                }
                _ => {
                    if !self.tables_valid {
                        return err("zstd repeat mode without previous tables");
                    }
                }
            }
        }
        self.tables_valid = true;
        let stream = seq
            .get(p..)
            .ok_or_else(|| "zstd sequences truncated".to_string())?;
        let lits = match raw_at {
            Some(at) => &block[at..],
            None => &self.lits[..],
        };
        let (op, lp) = run_sequences(
            stream,
            &self.seq,
            nb_seq,
            lits,
            lits_len,
            dst,
            op,
            &mut self.reps,
        )?;
        copy_lits(lits, dst, op, lp, lits_len)
    }

    /// Makes `self.lits` hold at least `n + WILD` bytes (old contents are not cleared: only the
    /// first `lits_len` bytes are ever meaningful).
    fn lits_room(&mut self, n: usize) {
        if self.lits.len() < n + WILD {
            self.lits.resize(n + WILD, 0);
        }
        self.lits_len = n;
    }

    /// Decodes the literals section into `self.lits`, or, for raw literals, returns where they
    /// are in `block` (they are used from there, not copied). Returns the section's size.
    fn decode_literals(&mut self, block: &[u8]) -> Res<(usize, Option<usize>)> {
        let b0 = *block
            .first()
            .ok_or_else(|| "zstd literals section missing".to_string())?;
        let ltype = b0 & 3;
        let sf = (b0 >> 2) & 3;
        let byte = |i: usize| -> Res<usize> {
            block
                .get(i)
                .map(|&b| usize::from(b))
                .ok_or_else(|| "zstd literals header truncated".to_string())
        };
        if ltype < 2 {
            let (regen, hlen) = match sf {
                0 | 2 => (usize::from(b0 >> 3), 1),
                1 => ((usize::from(b0) >> 4) + (byte(1)? << 4), 2),
                _ => (
                    (usize::from(b0) >> 4) + (byte(1)? << 4) + (byte(2)? << 12),
                    3,
                ),
            };
            if regen > MAX_BLOCK {
                return err("zstd literals larger than a block");
            }
            if ltype == 0 {
                if block.len() < hlen + regen {
                    return err("zstd raw literals truncated");
                }
                self.lits_len = regen;
                return Ok((hlen + regen, Some(hlen)));
            }
            let b = byte(hlen)? as u8;
            self.lits_room(regen);
            self.lits[..regen].fill(b);
            return Ok((hlen + 1, None));
        }
        // Huffman-compressed literals.
        let (regen, csize, hlen, streams) = match sf {
            0 | 1 => {
                let v = usize::from(b0) | byte(1)? << 8 | byte(2)? << 16;
                (
                    (v >> 4) & 0x3FF,
                    (v >> 14) & 0x3FF,
                    3,
                    if sf == 0 { 1 } else { 4 },
                )
            }
            2 => {
                let v = usize::from(b0) | byte(1)? << 8 | byte(2)? << 16 | byte(3)? << 24;
                ((v >> 4) & 0x3FFF, v >> 18, 4, 4)
            }
            _ => {
                let v = usize::from(b0) | byte(1)? << 8 | byte(2)? << 16 | byte(3)? << 24;
                ((v >> 4) & 0x3FFFF, (v >> 22) | byte(4)? << 10, 5, 4)
            }
        };
        if regen > MAX_BLOCK {
            return err("zstd literals larger than a block");
        }
        let mut body = block
            .get(hlen..hlen + csize)
            .ok_or_else(|| "zstd compressed literals truncated".to_string())?;
        if ltype == 2 {
            let used = self.huf.read(body, &mut self.scratch)?;
            self.huf_valid = true;
            body = &body[used..];
        } else if !self.huf_valid {
            return err("zstd treeless literals without a previous Huffman table");
        }
        self.lits_room(regen);
        if streams == 1 {
            self.huf.decode_stream(body, &mut self.lits[..regen])?;
        } else {
            let jt = body
                .get(..6)
                .ok_or_else(|| "zstd literals jump table truncated".to_string())?;
            let s1 = usize::from(u16::from_le_bytes([jt[0], jt[1]]));
            let s2 = usize::from(u16::from_le_bytes([jt[2], jt[3]]));
            let s3 = usize::from(u16::from_le_bytes([jt[4], jt[5]]));
            if 6 + s1 + s2 + s3 >= body.len() {
                return err("zstd literals jump table is inconsistent");
            }
            let bounds = [6, 6 + s1, 6 + s1 + s2, 6 + s1 + s2 + s3, body.len()];
            let q = regen.div_ceil(4);
            if 3 * q > regen {
                return err("zstd literals too short for 4 streams");
            }
            let (o1, o) = self.lits[..regen].split_at_mut(q);
            let (o2, o) = o.split_at_mut(q);
            let (o3, o4) = o.split_at_mut(q);
            self.huf.decode_four(body, bounds, [o1, o2, o3, o4])?;
        }
        Ok((hlen + csize, None))
    }
}

/// Decodes and executes a block's sequences (kept out of line so its state fits in
/// registers); returns the output position and the literals used.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn run_sequences(
    stream: &[u8],
    tables: &[SeqTable; 3],
    nb_seq: usize,
    lits: &[u8],
    lits_len: usize,
    dst: &mut [u8],
    op: usize,
    reps_io: &mut [usize; 3],
) -> Res<(usize, usize)> {
    let mut br = RevBits::new(stream)?;
    let [ll_t, of_t, ml_t] = tables;
    let mut ll_s = br.read(ll_t.log) as usize;
    let mut of_s = br.read(of_t.log) as usize;
    let mut ml_s = br.read(ml_t.log) as usize;
    let (ll_t, of_t, ml_t) = (&*ll_t.cells, &*of_t.cells, &*ml_t.cells);
    let mut lp = 0usize;
    let mut reps = *reps_io;
    let mut op = op;
    for i in 0..nb_seq {
        let lle = ll_t[ll_s & 511];
        let ofe = of_t[of_s & 511];
        let mle = ml_t[ml_s & 511];
        let (oe, me, le) = (
            u32::from(ofe.extra),
            u32::from(mle.extra),
            u32::from(lle.extra),
        );
        let (offset_value, ml, ll) = if oe + me + le <= 56 {
            // One refill check for all three.
            br.ensure(oe + me + le);
            (
                ofe.base as usize + br.read_ensured(oe) as usize,
                mle.base as usize + br.read_ensured(me) as usize,
                lle.base as usize + br.read_ensured(le) as usize,
            )
        } else {
            (
                ofe.base as usize + br.read(oe) as usize,
                mle.base as usize + br.read(me) as usize,
                lle.base as usize + br.read(le) as usize,
            )
        };
        let offset = if offset_value > 3 {
            let o = offset_value - 3;
            reps = [o, reps[0], reps[1]];
            o
        } else {
            match offset_value - 1 + usize::from(ll == 0) {
                0 => reps[0],
                1 => {
                    reps = [reps[1], reps[0], reps[2]];
                    reps[0]
                }
                2 => {
                    reps = [reps[2], reps[0], reps[1]];
                    reps[0]
                }
                _ => {
                    let o = reps[0].wrapping_sub(1);
                    reps = [o, reps[0], reps[1]];
                    o
                }
            }
        };
        // Execute: literals, then the match.
        if ll > lits_len - lp {
            return err("zstd sequence uses more literals than decoded");
        }
        if ll > dst.len() - op {
            return err("zstd frame decodes to more bytes than the chunk holds");
        }
        if ll <= 16 && op + 16 <= dst.len() && lp + 16 <= lits.len() {
            dst[op..op + 16].copy_from_slice(&lits[lp..lp + 16]);
        } else {
            dst[op..op + ll].copy_from_slice(&lits[lp..lp + ll]);
        }
        lp += ll;
        op += ll;
        if offset == 0 || offset > op {
            return err("zstd match refers before the start of the frame");
        }
        if ml > dst.len() - op {
            return err("zstd frame decodes to more bytes than the chunk holds");
        }
        copy_match(dst, op, offset, ml);
        op += ml;
        if i + 1 < nb_seq {
            // At most 9 + 9 + 8 bits.
            br.ensure(26);
            ll_s = usize::from(lle.next) + br.read_ensured(u32::from(lle.nb_bits)) as usize;
            ml_s = usize::from(mle.next) + br.read_ensured(u32::from(mle.nb_bits)) as usize;
            of_s = usize::from(ofe.next) + br.read_ensured(u32::from(ofe.nb_bits)) as usize;
        }
    }
    if !br.finished() {
        return err("zstd sequence bitstream not consumed exactly");
    }
    *reps_io = reps;
    Ok((op, lp))
}

/// Copies the remaining literals `lits[from..to]` to `dst[op..]`.
fn copy_lits(lits: &[u8], dst: &mut [u8], op: usize, from: usize, to: usize) -> Res<usize> {
    let n = to - from;
    let out = dst
        .get_mut(op..op + n)
        .ok_or_else(|| "zstd frame decodes to more bytes than the chunk holds".to_string())?;
    out.copy_from_slice(&lits[from..to]);
    Ok(op + n)
}

/// XXH64 with seed 0 (the frame content checksum is its low 32 bits).
fn xxh64(data: &[u8]) -> u64 {
    const P1: u64 = 0x9E37_79B1_85EB_CA87;
    const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
    const P3: u64 = 0x1656_67B1_9E37_79F9;
    const P4: u64 = 0x85EB_CA77_C2B2_AE63;
    const P5: u64 = 0x27D4_EB2F_1656_67C5;
    fn round(acc: u64, lane: u64) -> u64 {
        acc.wrapping_add(lane.wrapping_mul(P2))
            .rotate_left(31)
            .wrapping_mul(P1)
    }
    fn merge(h: u64, v: u64) -> u64 {
        (h ^ round(0, v)).wrapping_mul(P1).wrapping_add(P4)
    }
    let u64_at = |b: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        u64::from_le_bytes(a)
    };
    let mut rest = data;
    let mut h = if data.len() >= 32 {
        let mut v = [P1.wrapping_add(P2), P2, 0, 0u64.wrapping_sub(P1)];
        let mut stripes = data.chunks_exact(32);
        for s in stripes.by_ref() {
            for (i, acc) in v.iter_mut().enumerate() {
                *acc = round(*acc, u64_at(&s[8 * i..]));
            }
        }
        rest = stripes.remainder();
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for x in v {
            h = merge(h, x);
        }
        h
    } else {
        P5
    };
    h = h.wrapping_add(data.len() as u64);
    let mut lanes = rest.chunks_exact(8);
    for l in lanes.by_ref() {
        h ^= round(0, u64_at(l));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
    }
    let mut rest = lanes.remainder();
    if rest.len() >= 4 {
        let w = u64::from(u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]));
        h ^= w.wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        rest = &rest[4..];
    }
    for &b in rest {
        h ^= u64::from(b).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// Decodes HDF5 filter 32015: a zstd frame holding the chunk (several frames and skippable
/// frames are accepted too, as libzstd does).
pub fn decode_filter(data: &[u8], cap: usize) -> Result<Vec<u8>, FilterError> {
    let mut out = vec![0u8; cap];
    let n = with_decoder(|d| d.decode_into(data, &mut out)).map_err(|e| corrupt("zstd", e))?;
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_header_fields() {
        // Single segment, 1-byte content size 5.
        let f = [0x28, 0xB5, 0x2F, 0xFD, 0x20, 5, 0, 0];
        let info = frame_info(&f).unwrap();
        assert_eq!(info.content_size, Some(5));
        assert_eq!(info.window, 5);
        assert_eq!(info.header_len, 6);
        // Window descriptor exponent 10 -> 1 MiB, no content size.
        let f = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 10 << 3, 0, 0];
        let info = frame_info(&f).unwrap();
        assert_eq!(info.content_size, None);
        assert_eq!(info.window, 1 << 20);
        assert!(frame_info(&[1, 2, 3, 4, 5, 6]).is_err());
        assert!(frame_info(&[0x28, 0xB5]).is_err());
    }

    #[test]
    fn raw_and_rle_blocks() {
        // Frame: single segment, FCS 7; raw block "abc" then last RLE block 'z' x 4.
        let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x20, 7];
        f.extend_from_slice(&(3u32 << 3).to_le_bytes()[..3]); // raw block, 3 bytes
        f.extend_from_slice(b"abc");
        f.extend_from_slice(&((4u32 << 3) | (1 << 1) | 1).to_le_bytes()[..3]);
        f.push(b'z');
        let mut out = [0u8; 7];
        assert_eq!(Decoder::default().decode_into(&f, &mut out).unwrap(), 7);
        assert_eq!(&out, b"abczzzz");
        // Too small an output is an error, not a panic.
        assert!(Decoder::default().decode_into(&f, &mut [0u8; 6]).is_err());
    }

    #[test]
    fn xxh64_known_values() {
        assert_eq!(xxh64(b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"a"), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(
            xxh64(b"Nobody inspects the spammish repetition"),
            0xFBCE_A83C_8A37_8BF1
        );
    }
}
