//! Extensible array chunk indexes — what libhdf5 writes with `libver='latest'` for a dataset
//! with one unlimited dimension (append-mode recorders) — walked level by level.
//!
//! The array is a header (EAHD) → an index block (EAIB: the first entries inline, the
//! addresses of the first data blocks, then of secondary blocks) → secondary blocks (EASB:
//! data block addresses and, for paged data blocks, which pages were written) → data blocks
//! (EADB, split into pages when large). Every request's walk advances one level per round,
//! all requests together, and fetches only the blocks (and pages) holding an entry of the
//! requested rows. Each block's checksum is verified before it is used, as libhdf5 does: a
//! damaged block is refused, never read past.

use std::collections::BTreeMap;

use hdf5_reader::chunk_index::ChunkEntry;
use hdf5_reader::io::Cursor;
use hdf5_reader::messages::dataspace::UNLIMITED;

use super::caps::Caps;
use super::checksum::{holds, Damage};
use super::chunk_index::count_visit;
use super::file::H5File;
use super::Hdf5Error;
use crate::source::ByteRange;

pub(super) use super::chunk_index::IndexLookup as Request;

/// The array's creation parameters, from its header: they fix where every entry lives.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Shape {
    /// 0: unfiltered chunks (entries are addresses); 1: filtered (address, size, mask).
    pub client: u8,
    pub entry_size: u64,
    pub max_bits: u32,
    pub index_entries: u64,
    pub data_min: u64,
    pub secondary_min: u64,
    pub page_bits: u32,
    pub index_at: u64,
}

/// Where entry `n` of the array is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// In the index block itself, entry `n`.
    Inline(u64),
    /// In data block `block` (counted over the index block's data block addresses), at `local`.
    Direct {
        super_block: u32,
        block: u64,
        local: u64,
    },
    /// In data block `block` of the secondary block of super block `super_block`, at `local`.
    Secondary {
        super_block: u32,
        block: u64,
        local: u64,
    },
}

impl Shape {
    /// Parses a header whose checksum holds. `o`, `l`: the file's offset and length sizes.
    pub fn parse(bytes: &[u8], o: u8, l: u8) -> Result<Shape, String> {
        let mut c = Cursor::new(bytes);
        let short = |_| "ends early".to_string();
        if c.read_bytes(4).map_err(short)? != b"EAHD" {
            return Err("has no EAHD signature".into());
        }
        let version = c.read_u8().map_err(short)?;
        if version != 0 {
            return Err(format!("has version {version} (only 0 exists)"));
        }
        let client = c.read_u8().map_err(short)?;
        let entry_size = u64::from(c.read_u8().map_err(short)?);
        let max_bits = u32::from(c.read_u8().map_err(short)?);
        let index_entries = u64::from(c.read_u8().map_err(short)?);
        let data_min = u64::from(c.read_u8().map_err(short)?);
        let secondary_min = u64::from(c.read_u8().map_err(short)?);
        let page_bits = u32::from(c.read_u8().map_err(short)?);
        c.skip(6 * usize::from(l)).map_err(short)?;
        let index_at = c.read_offset(o).map_err(short)?;
        let shape = Shape {
            client,
            entry_size,
            max_bits,
            index_entries,
            data_min,
            secondary_min,
            page_bits,
            index_at,
        };
        shape.check(o)?;
        Ok(shape)
    }

    /// The parameter checks libhdf5 makes when it creates an array: a file failing them was
    /// not written by it, and the geometry below would not be libhdf5's.
    fn check(&self, o: u8) -> Result<(), String> {
        let o = u64::from(o);
        if self.client > 1 {
            return Err(format!("has client {} (0 or 1 exist)", self.client));
        }
        let entry_ok = match self.client {
            0 => self.entry_size == o,
            _ => (o + 5..=o + 12).contains(&self.entry_size),
        };
        if !entry_ok {
            return Err(format!(
                "has entries of {} bytes for client {}",
                self.entry_size, self.client
            ));
        }
        if !self.data_min.is_power_of_two()
            || !self.secondary_min.is_power_of_two()
            || self.max_bits == 0
            || self.max_bits > 64
            || self.page_bits > 32
        {
            return Err("has block sizes that are not powers of two".into());
        }
        if self.page_bits < self.data_min.trailing_zeros()
            || self.max_bits < self.data_min.trailing_zeros()
            || self.super_blocks() < self.direct_supers()
        {
            return Err("has block sizes that contradict each other".into());
        }
        Ok(())
    }

    /// Super blocks of the array: super block s holds 2^(s/2) data blocks of
    /// 2^ceil(s/2) · data_min entries, data_min · 2^s entries in all.
    pub fn super_blocks(&self) -> u32 {
        1 + self.max_bits - self.data_min.trailing_zeros()
    }

    pub fn blocks(&self, s: u32) -> u64 {
        1u64 << (s / 2)
    }

    pub fn block_entries(&self, s: u32) -> u64 {
        self.data_min << s.div_ceil(2)
    }

    /// Super blocks whose data blocks the index block addresses itself.
    pub fn direct_supers(&self) -> u32 {
        2 * self.secondary_min.trailing_zeros()
    }

    /// Data block addresses in the index block (those of the direct super blocks).
    pub fn direct_blocks(&self) -> u64 {
        2 * (self.secondary_min - 1)
    }

    /// Entries per data block page.
    pub fn page_entries(&self) -> u64 {
        1u64 << self.page_bits
    }

    /// Pages of a data block of super block `s`; 0 when it is stored in one piece.
    pub fn pages(&self, s: u32) -> u64 {
        let n = self.block_entries(s);
        if n > self.page_entries() {
            n / self.page_entries()
        } else {
            0
        }
    }

    /// Bytes of the "block offset" field of secondary and data blocks.
    pub fn offset_bytes(&self) -> u64 {
        u64::from(self.max_bits.div_ceil(8))
    }

    /// Bytes of a block's prefix: signature, version, client, header address.
    fn prefix(o: u8) -> u64 {
        6 + u64::from(o)
    }

    pub fn index_len(&self, o: u8) -> u64 {
        let secondaries = u64::from(self.super_blocks() - self.direct_supers());
        Self::prefix(o)
            + self.index_entries * self.entry_size
            + (self.direct_blocks() + secondaries) * u64::from(o)
            + 4
    }

    /// Bytes of the page bitmap of each data block in a secondary block of super block `s`.
    fn bitmap_bytes(&self, s: u32) -> u64 {
        self.pages(s).div_ceil(8)
    }

    pub fn secondary_len(&self, s: u32, o: u8) -> Option<u64> {
        let blocks = self.blocks(s);
        let per_block = self.bitmap_bytes(s).checked_add(u64::from(o))?;
        (Self::prefix(o) + self.offset_bytes() + 4).checked_add(blocks.checked_mul(per_block)?)
    }

    /// Bytes of a data block's prefix (with its block offset).
    pub fn data_prefix(&self, o: u8) -> u64 {
        Self::prefix(o) + self.offset_bytes()
    }

    /// Bytes of a page with its checksum.
    pub fn page_len(&self) -> u64 {
        self.page_entries() * self.entry_size + 4
    }

    /// Where entry `n` lives; `None` past the array's largest index.
    pub fn place(&self, n: u64) -> Option<Place> {
        if n < self.index_entries {
            return Some(Place::Inline(n));
        }
        let r = n - self.index_entries;
        // Super block s starts at entry data_min · (2^s − 1) past the inline ones.
        let s = (r / self.data_min + 1).ilog2();
        if s >= self.super_blocks() {
            return None;
        }
        let within = r - self.data_min * ((1u64 << s) - 1);
        let per = self.block_entries(s);
        let (block, local) = (within / per, within % per);
        if s < self.direct_supers() {
            let before: u64 = (0..s).map(|t| self.blocks(t)).sum();
            Some(Place::Direct {
                super_block: s,
                block: before + block,
                local,
            })
        } else {
            Some(Place::Secondary {
                super_block: s,
                block,
                local,
            })
        }
    }
}

/// The array entry of the chunk at `indices` (chunk coordinates), as libhdf5 numbers them:
/// row-major over the chunk counts at the maximum dimensions, the unlimited dimension first.
pub(super) fn entry_number(
    shape: &[u64],
    max_shape: Option<&[u64]>,
    chunk: &[u64],
    indices: &[u64],
) -> u64 {
    let rank = shape.len();
    let count = |d: usize| {
        shape
            .get(d)
            .zip(chunk.get(d))
            .map_or(1, |(s, c)| s.div_ceil((*c).max(1)))
    };
    let max_shape = max_shape.filter(|m| m.len() == rank);
    let unlimited = max_shape
        .and_then(|m| m.iter().position(|&d| d == UNLIMITED))
        .unwrap_or(0);
    let order: Vec<usize> = std::iter::once(unlimited)
        .chain((0..rank).filter(|&d| d != unlimited))
        .take(rank)
        .collect();
    let mut n = 0u64;
    for &d in &order {
        let most = match max_shape {
            Some(m) if d != unlimited && m[d] != UNLIMITED => m[d]
                .div_ceil(chunk.get(d).copied().unwrap_or(1).max(1))
                .max(count(d)),
            _ => count(d),
        };
        n = n
            .saturating_mul(most)
            .saturating_add(indices.get(d).copied().unwrap_or(0));
    }
    n
}

/// Bytes of an array header (EAHD).
pub(super) fn header_len(o: u8, l: u8) -> u64 {
    16 + 6 * u64::from(l) + u64::from(o)
}

/// Where the index block of the array whose header is `bytes` lies, if the header is sound
/// (for warming the cache; the walk reports a damaged one).
pub(super) fn index_block_range(bytes: &[u8], o: u8, l: u8) -> Option<ByteRange> {
    let shape = holds(bytes).then(|| Shape::parse(bytes, o, l).ok())??;
    (!Cursor::is_undefined_offset(shape.index_at, o))
        .then(|| ByteRange::at(shape.index_at, shape.index_len(o)))
}

/// A chunk wanted: its array entry and its offsets (in elements) in the dataset.
#[derive(Clone)]
struct Target {
    entry: u64,
    offsets: Vec<u64>,
    local: u64,
}

#[derive(Clone)]
enum Step {
    Header,
    Index,
    Secondary {
        at: u64,
        super_block: u32,
    },
    Data {
        at: u64,
        super_block: u32,
        /// For paged blocks: which pages were written (the secondary block's bitmap bits).
        written: Option<Vec<bool>>,
    },
}

#[derive(Clone)]
struct Visit {
    request: usize,
    step: Step,
    targets: Vec<Target>,
}

/// Chunk entries of every request's rows, in no particular order (unwritten chunks absent).
pub(super) async fn walk(
    file: &H5File,
    requests: &[Request<'_>],
) -> Result<Vec<Vec<ChunkEntry>>, Hdf5Error> {
    let g = file.geometry();
    let o = g.offset_size;
    let mut out: Vec<Vec<ChunkEntry>> = vec![Vec::new(); requests.len()];
    let mut shapes: Vec<Option<Shape>> = vec![None; requests.len()];
    let mut frontier = Vec::new();
    for (r, req) in requests.iter().enumerate() {
        frontier.push(Visit {
            request: r,
            step: Step::Header,
            targets: targets(req)?,
        });
    }
    let mut visited = 0usize;
    while !frontier.is_empty() {
        let mut wanted = Vec::with_capacity(frontier.len());
        for v in &frontier {
            wanted.push(ranges(
                file,
                &requests[v.request],
                shapes[v.request].as_ref(),
                v,
            )?);
        }
        let held: Vec<Option<Vec<bytes::Bytes>>> = wanted
            .iter()
            .map(|rs| rs.iter().map(|r| file.cached(*r)).collect())
            .collect();
        let now: Vec<(Visit, Vec<bytes::Bytes>)>;
        if held.iter().any(Option::is_some) {
            let mut later = Vec::new();
            let mut ready = Vec::new();
            for (v, h) in frontier.drain(..).zip(held) {
                match h {
                    Some(b) => ready.push((v, b)),
                    None => later.push(v),
                }
            }
            now = ready;
            frontier = later;
        } else {
            let flat: Vec<ByteRange> = wanted.iter().flatten().copied().collect();
            let mut fetched = file.read(&flat).await?.into_iter();
            now = frontier
                .drain(..)
                .zip(&wanted)
                .map(|(v, rs)| (v, fetched.by_ref().take(rs.len()).collect()))
                .collect();
        }
        for (visit, bytes) in now {
            count_visit(file, &mut visited, "blocks")?;
            let req = &requests[visit.request];
            let mut next = Vec::new();
            match &visit.step {
                Step::Header => {
                    let b = checked(file, req, "header", req.header_at, bytes.first())?;
                    let shape = Shape::parse(b, o, g.length_size)
                        .map_err(|why| damaged(file, req, "header", req.header_at, &why))?;
                    if (shape.client == 1) == req.ds.filters.is_empty() {
                        return Err(damaged(
                            file,
                            req,
                            "header",
                            req.header_at,
                            "says the chunks are filtered when the dataset has no filters, or the reverse",
                        ));
                    }
                    if !Cursor::is_undefined_offset(shape.index_at, o) {
                        next.push(Visit {
                            step: Step::Index,
                            ..visit.clone()
                        });
                    }
                    shapes[visit.request] = Some(shape);
                }
                Step::Index => {
                    let Some(shape) = shapes[visit.request].as_ref() else {
                        continue;
                    };
                    let at = shape.index_at;
                    let b = checked(file, req, "index block", at, bytes.first())?;
                    prefix(file, req, shape, "index block", at, b, b"EAIB")?;
                    let mut c = Cursor::new(b);
                    c.set_position(Shape::prefix(o));
                    let mut inline = Vec::new();
                    for _ in 0..shape.index_entries {
                        inline.push(entry(&mut c, shape, o).map_err(|_| short(file, req, at))?);
                    }
                    let direct: Vec<u64> = (0..shape.direct_blocks())
                        .map(|_| c.read_offset(o))
                        .collect::<Result<_, _>>()
                        .map_err(|_| short(file, req, at))?;
                    let seconds: Vec<u64> = (shape.direct_supers()..shape.super_blocks())
                        .map(|_| c.read_offset(o))
                        .collect::<Result<_, _>>()
                        .map_err(|_| short(file, req, at))?;
                    let mut data: BTreeMap<(u64, u32), Vec<Target>> = BTreeMap::new();
                    let mut second: BTreeMap<(u64, u32), Vec<Target>> = BTreeMap::new();
                    for t in &visit.targets {
                        match shape.place(t.entry) {
                            Some(Place::Inline(n)) => {
                                if let Some(e) = inline.get(n as usize) {
                                    push_entry(&mut out[visit.request], e, t, o);
                                }
                            }
                            Some(Place::Direct {
                                super_block,
                                block,
                                local,
                            }) => {
                                let addr = direct.get(block as usize).copied().unwrap_or(u64::MAX);
                                if !Cursor::is_undefined_offset(addr, o) {
                                    data.entry((addr, super_block))
                                        .or_default()
                                        .push(Target { local, ..t.clone() });
                                }
                            }
                            Some(Place::Secondary { super_block, .. }) => {
                                let i = (super_block - shape.direct_supers()) as usize;
                                let addr = seconds.get(i).copied().unwrap_or(u64::MAX);
                                if !Cursor::is_undefined_offset(addr, o) {
                                    second
                                        .entry((addr, super_block))
                                        .or_default()
                                        .push(t.clone());
                                }
                            }
                            None => {}
                        }
                    }
                    for ((at, super_block), targets) in data {
                        if shape.pages(super_block) > 0 {
                            return Err(damaged(
                                file,
                                req,
                                "index block",
                                shape.index_at,
                                "addresses a paged data block directly",
                            ));
                        }
                        next.push(Visit {
                            request: visit.request,
                            step: Step::Data {
                                at,
                                super_block,
                                written: None,
                            },
                            targets,
                        });
                    }
                    for ((at, super_block), targets) in second {
                        next.push(Visit {
                            request: visit.request,
                            step: Step::Secondary { at, super_block },
                            targets,
                        });
                    }
                }
                Step::Secondary { at, super_block } => {
                    let Some(shape) = shapes[visit.request].as_ref() else {
                        continue;
                    };
                    let (at, s) = (*at, *super_block);
                    let b = checked(file, req, "secondary block", at, bytes.first())?;
                    prefix(file, req, shape, "secondary block", at, b, b"EASB")?;
                    let pages = shape.pages(s);
                    let bitmap_at = shape.data_prefix(o);
                    let bitmap_len = shape.blocks(s) * shape.bitmap_bytes(s);
                    let bitmap = b
                        .get(bitmap_at as usize..(bitmap_at + bitmap_len) as usize)
                        .ok_or_else(|| short(file, req, at))?;
                    let mut c = Cursor::new(b);
                    c.set_position(bitmap_at + bitmap_len);
                    let addrs: Vec<u64> = (0..shape.blocks(s))
                        .map(|_| c.read_offset(o))
                        .collect::<Result<_, _>>()
                        .map_err(|_| short(file, req, at))?;
                    let mut data: BTreeMap<u64, (u64, Vec<Target>)> = BTreeMap::new();
                    for t in &visit.targets {
                        let Some(Place::Secondary { block, local, .. }) = shape.place(t.entry)
                        else {
                            continue;
                        };
                        let addr = addrs.get(block as usize).copied().unwrap_or(u64::MAX);
                        if !Cursor::is_undefined_offset(addr, o) {
                            data.entry(addr)
                                .or_insert((block, Vec::new()))
                                .1
                                .push(Target { local, ..t.clone() });
                        }
                    }
                    for (addr, (block, targets)) in data {
                        // libhdf5 numbers the bits continuously: page p of data block d is
                        // bit d · pages + p, the most significant bit of a byte first.
                        let written = (pages > 0).then(|| {
                            (0..pages)
                                .map(|p| {
                                    let bit = block * pages + p;
                                    bitmap
                                        .get((bit / 8) as usize)
                                        .is_some_and(|x| x & (0x80 >> (bit % 8)) != 0)
                                })
                                .collect()
                        });
                        next.push(Visit {
                            request: visit.request,
                            step: Step::Data {
                                at: addr,
                                super_block: s,
                                written,
                            },
                            targets,
                        });
                    }
                }
                Step::Data { at, written, .. } => {
                    let Some(shape) = shapes[visit.request].as_ref() else {
                        continue;
                    };
                    let at = *at;
                    let b = checked(file, req, "data block", at, bytes.first())?;
                    prefix(file, req, shape, "data block", at, b, b"EADB")?;
                    match written {
                        None => {
                            for t in &visit.targets {
                                let pos = shape.data_prefix(o) + t.local * shape.entry_size;
                                let mut c = Cursor::new(b);
                                c.set_position(pos);
                                let e =
                                    entry(&mut c, shape, o).map_err(|_| short(file, req, at))?;
                                push_entry(&mut out[visit.request], &e, t, o);
                            }
                        }
                        Some(written) => {
                            let pages = page_list(shape, written, &visit.targets);
                            for (k, page) in pages.iter().enumerate() {
                                let page_at = page_at(shape, o, at, *page);
                                let pb = checked(
                                    file,
                                    req,
                                    "data block page",
                                    page_at,
                                    bytes.get(k + 1),
                                )?;
                                for t in &visit.targets {
                                    if t.local / shape.page_entries() != *page {
                                        continue;
                                    }
                                    let mut c = Cursor::new(pb);
                                    c.set_position(
                                        (t.local % shape.page_entries()) * shape.entry_size,
                                    );
                                    let e = entry(&mut c, shape, o)
                                        .map_err(|_| short(file, req, page_at))?;
                                    push_entry(&mut out[visit.request], &e, t, o);
                                }
                            }
                        }
                    }
                }
            }
            frontier.extend(next);
        }
    }
    Ok(out)
}

/// The chunks holding the request's rows, with their array entries.
fn targets(req: &Request<'_>) -> Result<Vec<Target>, Hdf5Error> {
    let c0 = req.chunk.first().copied().unwrap_or(1).max(1);
    let first = req.rows.start / c0;
    let last = req.rows.end.saturating_sub(1) / c0;
    let mut out = Vec::new();
    for k in first..=last {
        let mut indices = vec![0u64; req.chunk.len()];
        let mut offsets = vec![0u64; req.chunk.len()];
        if let (Some(i), Some(o)) = (indices.first_mut(), offsets.first_mut()) {
            *i = k;
            *o = k * c0;
        }
        if let (Some(i), Some(o), Some(&w)) =
            (indices.get_mut(1), offsets.get_mut(1), req.chunk.get(1))
        {
            *i = req.col0 / w.max(1);
            *o = req.col0;
        }
        out.push(Target {
            entry: entry_number(
                &req.ds.shape,
                req.ds.max_shape.as_deref(),
                &req.chunk,
                &indices,
            ),
            offsets,
            local: 0,
        });
    }
    Ok(out)
}

/// Pages of a paged data block holding a target and written (others read as fill).
fn page_list(shape: &Shape, written: &[bool], targets: &[Target]) -> Vec<u64> {
    let mut pages: Vec<u64> = targets
        .iter()
        .map(|t| t.local / shape.page_entries())
        .filter(|p| written.get(*p as usize).copied().unwrap_or(false))
        .collect();
    pages.sort_unstable();
    pages.dedup();
    pages
}

fn page_at(shape: &Shape, o: u8, block_at: u64, page: u64) -> u64 {
    block_at
        .saturating_add(shape.data_prefix(o) + 4)
        .saturating_add(page.saturating_mul(shape.page_len()))
}

/// The byte ranges a visit needs, all fetched in the same round.
fn ranges(
    file: &H5File,
    req: &Request<'_>,
    shape: Option<&Shape>,
    v: &Visit,
) -> Result<Vec<ByteRange>, Hdf5Error> {
    let g = file.geometry();
    let o = g.offset_size;
    let len = match (&v.step, shape) {
        (Step::Header, _) => header_len(o, g.length_size),
        (Step::Index, Some(s)) => s.index_len(o),
        (Step::Secondary { super_block, .. }, Some(s)) => {
            s.secondary_len(*super_block, o).unwrap_or(u64::MAX)
        }
        (
            Step::Data {
                super_block,
                written: None,
                ..
            },
            Some(s),
        ) => s.data_prefix(o) + s.block_entries(*super_block) * s.entry_size + 4,
        (
            Step::Data {
                written: Some(_), ..
            },
            Some(s),
        ) => s.data_prefix(o) + 4,
        _ => 0,
    };
    let cap = file.caps().metadata_bytes;
    if len > cap {
        return Err(file.over_cap(
            Caps::METADATA_BYTES,
            format!(
                "{}: an extensible array block of its chunk index claims {len} bytes, more than {cap}",
                req.ds.path
            ),
        ));
    }
    let at = match (&v.step, shape) {
        (Step::Header, _) => req.header_at,
        (Step::Index, Some(s)) => s.index_at,
        (Step::Secondary { at, .. } | Step::Data { at, .. }, _) => *at,
        _ => 0,
    };
    let mut out = vec![ByteRange::new(at, at.saturating_add(len))];
    if let (
        Step::Data {
            written: Some(w), ..
        },
        Some(s),
    ) = (&v.step, shape)
    {
        for p in page_list(s, w, &v.targets) {
            let p_at = page_at(s, o, at, p);
            out.push(ByteRange::new(p_at, p_at.saturating_add(s.page_len())));
        }
    }
    Ok(out)
}

/// One decoded entry: address, stored size, filter mask.
fn entry(c: &mut Cursor<'_>, shape: &Shape, o: u8) -> hdf5_reader::error::Result<(u64, u64, u32)> {
    let address = c.read_offset(o)?;
    if shape.client == 0 {
        return Ok((address, 0, 0));
    }
    let size_len = (shape.entry_size - u64::from(o) - 4) as usize;
    let size = c.read_uvar(size_len)?;
    let mask = c.read_u32_le()?;
    Ok((address, size, mask))
}

fn push_entry(out: &mut Vec<ChunkEntry>, e: &(u64, u64, u32), t: &Target, o: u8) {
    if !Cursor::is_undefined_offset(e.0, o) {
        out.push(ChunkEntry {
            address: e.0,
            size: e.1,
            filter_mask: e.2,
            offsets: t.offsets.clone(),
        });
    }
}

/// The bytes of a block whose checksum holds.
fn checked<'b>(
    file: &H5File,
    req: &Request<'_>,
    structure: &str,
    at: u64,
    bytes: Option<&'b bytes::Bytes>,
) -> Result<&'b [u8], Hdf5Error> {
    match bytes {
        Some(b) if holds(b) => Ok(b),
        _ => Err(Hdf5Error::Damaged {
            what: file.what().to_string(),
            reason: Damage::message(
                &format!(
                    "{}: its chunk index's extensible array {structure}",
                    req.ds.path
                ),
                at,
            ),
        }),
    }
}

/// Checks a block's prefix as libhdf5 does: signature, version 0, the header's client, and
/// the address of the header it belongs to.
fn prefix(
    file: &H5File,
    req: &Request<'_>,
    shape: &Shape,
    structure: &str,
    at: u64,
    b: &[u8],
    signature: &[u8; 4],
) -> Result<(), Hdf5Error> {
    let o = file.geometry().offset_size;
    let mut c = Cursor::new(b);
    let fields = (|| -> hdf5_reader::error::Result<_> {
        Ok((
            c.read_bytes(4)?.to_vec(),
            c.read_u8()?,
            c.read_u8()?,
            c.read_offset(o)?,
        ))
    })();
    let Ok((sig, version, client, header)) = fields else {
        return Err(short(file, req, at));
    };
    let why = if sig != signature {
        format!("has no {} signature", String::from_utf8_lossy(signature))
    } else if version != 0 {
        format!("has version {version} (only 0 exists)")
    } else if client != shape.client {
        format!("has client {client}, its header {}", shape.client)
    } else if header != req.header_at {
        format!(
            "belongs to the header at byte {header}, not {}",
            req.header_at
        )
    } else {
        return Ok(());
    };
    Err(damaged(file, req, structure, at, &why))
}

fn damaged(file: &H5File, req: &Request<'_>, structure: &str, at: u64, why: &str) -> Hdf5Error {
    Hdf5Error::Damaged {
        what: file.what().to_string(),
        reason: format!(
            "{}: its chunk index's extensible array {structure} at byte {at} {why} {}",
            req.ds.path,
            Damage::SUFFIX
        ),
    }
}

fn short(file: &H5File, req: &Request<'_>, at: u64) -> Hdf5Error {
    damaged(file, req, "block", at, "ends before its fields do")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameters libhdf5 gives chunk indexes (H5D__earray_idx_create): 32 bits of
    /// entries, 4 inline, data blocks of at least 16, secondary blocks of at least 4
    /// data blocks, pages of 1024 entries.
    fn libhdf5_chunk_index() -> Shape {
        Shape {
            client: 1,
            entry_size: 8 + 4 + 4,
            max_bits: 32,
            index_entries: 4,
            data_min: 16,
            secondary_min: 4,
            page_bits: 10,
            index_at: 0,
        }
    }

    #[test]
    fn super_blocks_as_libhdf5_computes_them() {
        let s = libhdf5_chunk_index();
        assert!(s.check(8).is_ok());
        assert_eq!(s.super_blocks(), 29);
        let firsts: Vec<(u64, u64)> = (0..6).map(|u| (s.block_entries(u), s.blocks(u))).collect();
        assert_eq!(
            firsts,
            [(16, 1), (32, 1), (32, 2), (64, 2), (64, 4), (128, 4)]
        );
        assert_eq!(s.direct_supers(), 4);
        assert_eq!(s.direct_blocks(), 6);
        // Prefix 14, 4 inline entries of 16 bytes, 6 data block and 25 secondary block
        // addresses, checksum.
        assert_eq!(s.index_len(8), 14 + 64 + 31 * 8 + 4);
        // Super block 13's data blocks (2048 entries) are the first split into pages.
        assert_eq!(s.pages(12), 0);
        assert_eq!(s.pages(13), 2);
        assert_eq!(s.offset_bytes(), 4);
        // Secondary block of super block 13: 64 data blocks, 1 bitmap byte each.
        assert_eq!(s.secondary_len(13, 8), Some(14 + 4 + 4 + 64 + 64 * 8));
    }

    #[test]
    fn every_entry_has_one_place_in_order() {
        let s = libhdf5_chunk_index();
        // Entries 0..4 inline, then super block 0 (16), 1 (32), 2 (2 × 32), 3 (2 × 64) direct.
        assert_eq!(s.place(3), Some(Place::Inline(3)));
        assert_eq!(
            s.place(4),
            Some(Place::Direct {
                super_block: 0,
                block: 0,
                local: 0
            })
        );
        assert_eq!(
            s.place(4 + 16 + 32 + 33),
            Some(Place::Direct {
                super_block: 2,
                block: 3,
                local: 1
            })
        );
        assert_eq!(
            s.place(4 + 240),
            Some(Place::Secondary {
                super_block: 4,
                block: 0,
                local: 0
            })
        );
        // Walking every entry up to super block 14 visits each (super block, block, local)
        // once, in order: no gaps, no overlaps.
        let mut last: Option<(u32, u64, u64)> = None;
        for n in 4..(4 + 16 * ((1 << 15) - 1)) {
            let (sb, block, local) = match s.place(n) {
                Some(Place::Direct {
                    super_block,
                    block,
                    local,
                }) => {
                    let before: u64 = (0..super_block).map(|t| s.blocks(t)).sum();
                    (super_block, block - before, local)
                }
                Some(Place::Secondary {
                    super_block,
                    block,
                    local,
                }) => (super_block, block, local),
                other => panic!("entry {n}: {other:?}"),
            };
            assert!(
                local < s.block_entries(sb) && block < s.blocks(sb),
                "entry {n}"
            );
            let want = match last {
                None => (0, 0, 0),
                Some((ls, lb, ll)) if ll + 1 < s.block_entries(ls) => (ls, lb, ll + 1),
                Some((ls, lb, _)) if lb + 1 < s.blocks(ls) => (ls, lb + 1, 0),
                Some((ls, _, _)) => (ls + 1, 0, 0),
            };
            assert_eq!((sb, block, local), want, "entry {n}");
            last = Some((sb, block, local));
        }
        assert_eq!(s.place(4 + 16 * ((1u64 << 29) - 1)), None);
    }

    #[test]
    fn inconsistent_parameters_are_refused() {
        let good = libhdf5_chunk_index();
        for bad in [
            Shape {
                data_min: 12,
                ..good.clone()
            },
            Shape {
                secondary_min: 0,
                ..good.clone()
            },
            Shape {
                max_bits: 65,
                ..good.clone()
            },
            Shape {
                max_bits: 2,
                ..good.clone()
            },
            Shape {
                page_bits: 3,
                ..good.clone()
            },
            Shape {
                client: 2,
                ..good.clone()
            },
            Shape {
                client: 0,
                ..good.clone()
            },
        ] {
            assert!(bad.check(8).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn chunks_are_numbered_with_the_unlimited_dimension_first() {
        const U: u64 = UNLIMITED;
        // 1-D: the chunk index itself.
        assert_eq!(entry_number(&[100], Some(&[U]), &[10], &[7]), 7);
        // First dimension unlimited, the other at its maximum: row-major.
        assert_eq!(entry_number(&[5, 8], Some(&[U, 8]), &[2, 4], &[2, 1]), 5);
        // A larger maximum widens every row.
        assert_eq!(entry_number(&[5, 8], Some(&[U, 16]), &[2, 4], &[1, 1]), 5);
        // Unlimited last: numbered as if it came first.
        assert_eq!(entry_number(&[8, 5], Some(&[8, U]), &[4, 2], &[0, 1]), 2);
        // No maximum: the current shape.
        assert_eq!(entry_number(&[5, 8], None, &[2, 4], &[2, 1]), 5);
    }
}
