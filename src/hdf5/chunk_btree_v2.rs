//! Version-2 B-tree chunk indexes — what libhdf5 writes with `libver='latest'` for a dataset
//! with more than one unlimited dimension — walked level by level.
//!
//! A header (BTHD) gives the root; internal nodes (BTIN) hold records and child pointers,
//! leaves (BTLF) records. A record is a chunk: its address (with stored size and filter mask
//! for filtered chunks, record type 11; type 10 without) and its chunk coordinates, records
//! ordered by those coordinates. Every request descends one level per round, all requests
//! together, into only the children whose coordinate range can hold a wanted chunk. Each
//! node's checksum, type, record order and record counts are checked before it is used.

use hdf5_reader::chunk_index::ChunkEntry;
use hdf5_reader::io::Cursor;

use super::caps::Caps;
use super::checksum::{holds, Damage};
use super::chunk_index::count_visit;
use super::file::H5File;
use super::Hdf5Error;
use crate::source::ByteRange;

pub(super) use super::chunk_index::IndexLookup as Request;

/// Bytes of a node's signature, version and type.
const NODE_PREFIX: u64 = 6;

/// The tree's parameters, from its header, and the field widths libhdf5 derives from them
/// (H5B2__hdr_init).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tree {
    pub kind: u8,
    pub node_size: u64,
    pub record_size: u64,
    pub depth: u16,
    pub root_at: u64,
    pub root_records: u64,
    /// Most records of a node at each depth (0: leaves).
    pub max_records: Vec<u64>,
    /// Bytes of the record count stored with each child pointer.
    pub count_bytes: u64,
    /// Bytes of the subtree record count stored with each child pointer, per depth of the
    /// child (0 for leaves, whose pointers have none).
    pub total_bytes: Vec<u64>,
}

/// Bytes needed to store counts up to `n` (H5VM_limit_enc_size).
fn count_width(n: u64) -> u64 {
    u64::from(n.max(1).ilog2() / 8 + 1)
}

impl Tree {
    /// The tree's geometry from its header fields; `Err` when they cannot describe a tree.
    pub fn new(
        kind: u8,
        node_size: u64,
        record_size: u64,
        depth: u16,
        o: u8,
        max_depth: usize,
    ) -> Result<Tree, String> {
        if usize::from(depth) > max_depth {
            return Err(format!("is {depth} levels deep"));
        }
        // Prefix, checksum.
        let overhead = NODE_PREFIX + 4;
        if record_size == 0 || node_size <= overhead {
            return Err(format!(
                "has nodes of {node_size} bytes for records of {record_size}"
            ));
        }
        let leaf = (node_size - overhead) / record_size;
        if leaf == 0 {
            return Err(format!(
                "has nodes of {node_size} bytes for records of {record_size}"
            ));
        }
        let count_bytes = count_width(leaf);
        let mut max_records = vec![leaf];
        let mut cumulative = leaf;
        let mut total_bytes = vec![0u64];
        for d in 1..=u64::from(depth) {
            let below = if d > 1 {
                total_bytes.last().copied().unwrap_or(0)
            } else {
                0
            };
            let pointer = u64::from(o) + count_bytes + below;
            let records = node_size
                .checked_sub(overhead + pointer)
                .map(|room| room / (record_size + pointer))
                .unwrap_or(0);
            if records == 0 {
                return Err(format!(
                    "has nodes of {node_size} bytes, too small for internal records of {record_size}"
                ));
            }
            cumulative = records
                .saturating_add(1)
                .saturating_mul(cumulative)
                .saturating_add(records);
            max_records.push(records);
            total_bytes.push(count_width(cumulative));
        }
        Ok(Tree {
            kind,
            node_size,
            record_size,
            depth,
            root_at: 0,
            root_records: 0,
            max_records,
            count_bytes,
            total_bytes,
        })
    }

    /// Bytes of a child pointer in a node at `depth` (≥ 1).
    pub fn pointer_len(&self, depth: u16, o: u8) -> u64 {
        let below = if depth > 1 {
            self.total_bytes
                .get(usize::from(depth - 1))
                .copied()
                .unwrap_or(0)
        } else {
            0
        };
        u64::from(o) + self.count_bytes + below
    }
}

/// Bytes of a tree header (BTHD).
pub(super) fn header_len(o: u8, l: u8) -> u64 {
    22 + u64::from(o) + u64::from(l)
}

/// Where the root node of the tree whose header is `bytes` lies, if the header is sound
/// (for warming the cache; the walk reports a damaged one).
pub(super) fn root_range(bytes: &[u8], o: u8) -> Option<ByteRange> {
    if !holds(bytes) || bytes.get(..4) != Some(b"BTHD") {
        return None;
    }
    let mut c = Cursor::new(bytes);
    c.set_position(6);
    let node_size = u64::from(c.read_u32_le().ok()?);
    c.set_position(16);
    let root = c.read_offset(o).ok()?;
    let records = c.read_u16_le().ok()?;
    (records > 0 && !Cursor::is_undefined_offset(root, o)).then(|| ByteRange::at(root, node_size))
}

/// A chunk record: address, stored size, filter mask, chunk coordinates.
#[derive(Debug, Clone)]
struct Record {
    address: u64,
    size: u64,
    mask: u32,
    scaled: Vec<u64>,
}

/// A child of an internal node: its address and how many records it holds.
type Child = (u64, u64);

#[derive(Clone)]
struct Visit {
    request: usize,
    /// `None`: the header.
    node: Option<NodeAt>,
}

#[derive(Clone)]
struct NodeAt {
    at: u64,
    depth: u16,
    records: u64,
    /// Coordinates the node's records must lie strictly between (from its parent).
    low: Option<Vec<u64>>,
    high: Option<Vec<u64>>,
}

/// Chunk entries of every request's rows, in no particular order.
pub(super) async fn walk(
    file: &H5File,
    requests: &[Request<'_>],
) -> Result<Vec<Vec<ChunkEntry>>, Hdf5Error> {
    let g = file.geometry();
    let o = g.offset_size;
    let caps = *file.caps();
    let mut out: Vec<Vec<ChunkEntry>> = vec![Vec::new(); requests.len()];
    let mut trees: Vec<Option<Tree>> = vec![None; requests.len()];
    let mut frontier: Vec<Visit> = (0..requests.len())
        .map(|request| Visit {
            request,
            node: None,
        })
        .collect();
    let mut visited = 0usize;
    while !frontier.is_empty() {
        let mut wanted = Vec::with_capacity(frontier.len());
        for v in &frontier {
            let req = &requests[v.request];
            let range = match (&v.node, &trees[v.request]) {
                (None, _) => ByteRange::at(req.header_at, header_len(o, g.length_size)),
                (Some(n), Some(t)) => {
                    if t.node_size > caps.metadata_bytes {
                        return Err(file.over_cap(
                            Caps::METADATA_BYTES,
                            format!(
                                "{}: its chunk index's v2 B-tree nodes claim {} bytes, more than {}",
                                req.ds.path, t.node_size, caps.metadata_bytes
                            ),
                        ));
                    }
                    ByteRange::at(n.at, t.node_size)
                }
                (Some(_), None) => continue,
            };
            wanted.push((v.clone(), range));
        }
        let held: Vec<Option<bytes::Bytes>> = wanted.iter().map(|(_, r)| file.cached(*r)).collect();
        let now: Vec<(Visit, bytes::Bytes)> = if held.iter().any(Option::is_some) {
            frontier = Vec::new();
            let mut now = Vec::new();
            for ((v, _), h) in wanted.into_iter().zip(held) {
                match h {
                    Some(b) => now.push((v, b)),
                    None => frontier.push(v),
                }
            }
            now
        } else {
            let ranges: Vec<ByteRange> = wanted.iter().map(|(_, r)| *r).collect();
            let fetched = file.read(&ranges).await?;
            frontier = Vec::new();
            wanted.into_iter().map(|(v, _)| v).zip(fetched).collect()
        };
        for (visit, bytes) in now {
            count_visit(file, &mut visited, "nodes")?;
            let req = &requests[visit.request];
            match &visit.node {
                None => {
                    let tree = parse_header(file, req, &bytes)?;
                    if tree.root_records > 0 && !Cursor::is_undefined_offset(tree.root_at, o) {
                        frontier.push(Visit {
                            request: visit.request,
                            node: Some(NodeAt {
                                at: tree.root_at,
                                depth: tree.depth,
                                records: tree.root_records,
                                low: None,
                                high: None,
                            }),
                        });
                    }
                    trees[visit.request] = Some(tree);
                }
                Some(node) => {
                    let Some(tree) = trees[visit.request].as_ref() else {
                        continue;
                    };
                    let (records, children) = parse_node(file, req, tree, node, &bytes)?;
                    let (lo, hi) = wanted_span(req);
                    for r in &records {
                        if matches(req, &r.scaled) && !Cursor::is_undefined_offset(r.address, o) {
                            out[visit.request].push(ChunkEntry {
                                address: r.address,
                                size: r.size,
                                filter_mask: r.mask,
                                offsets: r
                                    .scaled
                                    .iter()
                                    .zip(&req.chunk)
                                    .map(|(s, c)| s.saturating_mul(*c))
                                    .collect(),
                            });
                        }
                    }
                    for (i, (at, count)) in children.into_iter().enumerate() {
                        let low = i.checked_sub(1).and_then(|j| records.get(j));
                        let high = records.get(i);
                        // Child i holds the records between records i − 1 and i.
                        let may_hold =
                            low.is_none_or(|l| l.scaled < hi) && high.is_none_or(|h| h.scaled > lo);
                        if may_hold && count > 0 {
                            frontier.push(Visit {
                                request: visit.request,
                                node: Some(NodeAt {
                                    at,
                                    depth: node.depth - 1,
                                    records: count,
                                    low: low.map(|r| r.scaled.clone()),
                                    high: high.map(|r| r.scaled.clone()),
                                }),
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Chunk coordinates of the first and last chunk wanted.
fn wanted_span(req: &Request<'_>) -> (Vec<u64>, Vec<u64>) {
    let c0 = req.chunk.first().copied().unwrap_or(1).max(1);
    let mut lo = vec![0u64; req.chunk.len()];
    let mut hi = vec![0u64; req.chunk.len()];
    if let (Some(l), Some(h)) = (lo.first_mut(), hi.first_mut()) {
        *l = req.rows.start / c0;
        *h = req.rows.end.saturating_sub(1) / c0;
    }
    if let (Some(l), Some(h), Some(&w)) = (lo.get_mut(1), hi.get_mut(1), req.chunk.get(1)) {
        *l = req.col0 / w.max(1);
        *h = *l;
    }
    (lo, hi)
}

/// Whether chunk `scaled` holds some of the request's rows in its column.
fn matches(req: &Request<'_>, scaled: &[u64]) -> bool {
    let (lo, hi) = wanted_span(req);
    scaled.len() == lo.len()
        && scaled.first() >= lo.first()
        && scaled.first() <= hi.first()
        && scaled.iter().zip(&lo).skip(1).all(|(s, l)| s == l)
}

fn parse_header(file: &H5File, req: &Request<'_>, b: &[u8]) -> Result<Tree, Hdf5Error> {
    let g = file.geometry();
    let o = g.offset_size;
    if !holds(b) {
        return Err(checksum(file, req, "header", req.header_at));
    }
    let bad = |why: String| damaged(file, req, "header", req.header_at, &why);
    let mut c = Cursor::new(b);
    let fields = (|| -> hdf5_reader::error::Result<_> {
        let sig = c.read_bytes(4)?.to_vec();
        let version = c.read_u8()?;
        let kind = c.read_u8()?;
        let node_size = u64::from(c.read_u32_le()?);
        let record_size = u64::from(c.read_u16_le()?);
        let depth = c.read_u16_le()?;
        c.skip(2)?;
        let root_at = c.read_offset(o)?;
        let root_records = u64::from(c.read_u16_le()?);
        Ok((
            sig,
            version,
            kind,
            node_size,
            record_size,
            depth,
            root_at,
            root_records,
        ))
    })();
    let Ok((sig, version, kind, node_size, record_size, depth, root_at, root_records)) = fields
    else {
        return Err(bad("ends before its fields do".into()));
    };
    if sig != b"BTHD" {
        return Err(bad("has no BTHD signature".into()));
    }
    if version != 0 {
        return Err(bad(format!("has version {version} (only 0 exists)")));
    }
    let filtered = !req.ds.filters.is_empty();
    let rank = req.chunk.len() as u64;
    let expected = match (kind, filtered) {
        (10, false) => u64::from(o) + 8 * rank..=u64::from(o) + 8 * rank,
        (11, true) => u64::from(o) + 5 + 8 * rank..=u64::from(o) + 12 + 8 * rank,
        _ => {
            return Err(bad(format!(
                "is of record type {kind}, not that of {} chunks ({})",
                if filtered { "filtered" } else { "unfiltered" },
                if filtered { 11 } else { 10 }
            )))
        }
    };
    if !expected.contains(&record_size) {
        return Err(bad(format!(
            "has records of {record_size} bytes for chunks of rank {rank}"
        )));
    }
    let mut tree = Tree::new(
        kind,
        node_size,
        record_size,
        depth,
        o,
        file.caps().index_depth,
    )
    .map_err(bad)?;
    if root_records > tree.max_records[usize::from(depth)] {
        return Err(bad(format!(
            "gives its root {root_records} records, more than a node holds"
        )));
    }
    tree.root_at = root_at;
    tree.root_records = root_records;
    Ok(tree)
}

/// A node's records and, for internal nodes, its children (address, record count), after
/// the checks libhdf5 makes and those that keep a crafted tree from listing a chunk twice.
fn parse_node(
    file: &H5File,
    req: &Request<'_>,
    tree: &Tree,
    node: &NodeAt,
    b: &[u8],
) -> Result<(Vec<Record>, Vec<Child>), Hdf5Error> {
    let o = file.geometry().offset_size;
    let leaf = node.depth == 0;
    let structure = if leaf { "leaf node" } else { "internal node" };
    let bad = |why: String| damaged(file, req, structure, node.at, &why);
    if node.records > tree.max_records[usize::from(node.depth)] {
        return Err(bad(format!(
            "is said to hold {} records, more than it can",
            node.records
        )));
    }
    let pointer = if leaf {
        0
    } else {
        tree.pointer_len(node.depth, o)
    };
    let children = if leaf { 0 } else { node.records + 1 };
    let end = NODE_PREFIX + node.records * tree.record_size + children * pointer;
    let body = b
        .get(..end as usize)
        .ok_or_else(|| bad("ends before its fields do".into()))?;
    let sum = b
        .get(end as usize..end as usize + 4)
        .ok_or_else(|| bad("ends before its fields do".into()))?;
    if super::checksum::lookup3(body).to_le_bytes() != sum {
        return Err(checksum(file, req, structure, node.at));
    }
    let signature: &[u8] = if leaf { b"BTLF" } else { b"BTIN" };
    if body.get(..4) != Some(signature) {
        return Err(bad(format!(
            "has no {} signature",
            String::from_utf8_lossy(signature)
        )));
    }
    if body.get(4) != Some(&0) {
        return Err(bad("has a version other than 0".into()));
    }
    if body.get(5) != Some(&tree.kind) {
        return Err(bad(format!(
            "is of another record type than its header ({})",
            tree.kind
        )));
    }
    let rank = req.chunk.len();
    let mut c = Cursor::new(body);
    c.set_position(NODE_PREFIX);
    let mut records = Vec::with_capacity(node.records as usize);
    let short = || bad("ends before its fields do".into());
    for _ in 0..node.records {
        let start = c.position();
        let address = c.read_offset(o).map_err(|_| short())?;
        let (size, mask) = if tree.kind == 11 {
            let width = tree.record_size - u64::from(o) - 4 - 8 * rank as u64;
            (
                c.read_uvar(width as usize).map_err(|_| short())?,
                c.read_u32_le().map_err(|_| short())?,
            )
        } else {
            (0, 0)
        };
        let scaled: Vec<u64> = (0..rank)
            .map(|_| c.read_u64_le())
            .collect::<Result<_, _>>()
            .map_err(|_| short())?;
        c.set_position(start + tree.record_size);
        records.push(Record {
            address,
            size,
            mask,
            scaled,
        });
    }
    if let Some(w) = records.windows(2).find(|w| w[0].scaled >= w[1].scaled) {
        return Err(bad(format!(
            "has records out of order or repeated ({:?} before {:?})",
            w[0].scaled, w[1].scaled
        )));
    }
    if let (Some(first), Some(last)) = (records.first(), records.last()) {
        let below = node.low.as_ref().is_some_and(|l| first.scaled <= *l);
        let above = node.high.as_ref().is_some_and(|h| last.scaled >= *h);
        if below || above {
            return Err(bad(format!(
                "has records {:?}..{:?} outside the range its parent gives it",
                first.scaled, last.scaled
            )));
        }
    }
    let mut kids = Vec::with_capacity(children as usize);
    let total = tree
        .total_bytes
        .get(usize::from(node.depth.saturating_sub(1)))
        .copied()
        .unwrap_or(0);
    for _ in 0..children {
        let at = c.read_offset(o).map_err(|_| short())?;
        let count = c
            .read_uvar(tree.count_bytes as usize)
            .map_err(|_| short())?;
        if node.depth > 1 {
            c.skip(total as usize).map_err(|_| short())?;
        }
        kids.push((at, count));
    }
    Ok((records, kids))
}

fn checksum(file: &H5File, req: &Request<'_>, structure: &str, at: u64) -> Hdf5Error {
    Hdf5Error::Damaged {
        what: file.what().to_string(),
        reason: Damage::message(
            &format!("{}: its chunk index's v2 B-tree {structure}", req.ds.path),
            at,
        ),
    }
}

fn damaged(file: &H5File, req: &Request<'_>, structure: &str, at: u64, why: &str) -> Hdf5Error {
    Hdf5Error::Damaged {
        what: file.what().to_string(),
        reason: format!(
            "{}: its chunk index's v2 B-tree {structure} at byte {at} {why} {}",
            req.ds.path,
            Damage::SUFFIX
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_widths_as_libhdf5_derives_them() {
        // 512-byte nodes of 24-byte unfiltered rank-2 records (8-byte addresses): leaves hold
        // (512 − 10) / 24 = 20 records; counts up to 20 take 1 byte.
        let t = Tree::new(10, 512, 24, 2, 8, 24).expect("valid");
        assert_eq!(t.max_records[0], 20);
        assert_eq!(t.count_bytes, 1);
        // Depth-1 nodes: pointers of 8 + 1 bytes; (512 − 10 − 9) / (24 + 9) = 14 records,
        // 15 · 20 + 14 = 314 records below, counted in 2 bytes.
        assert_eq!(t.max_records[1], 14);
        assert_eq!(t.total_bytes[1], 2);
        assert_eq!(t.pointer_len(1, 8), 9);
        // Depth-2 pointers also carry the subtree count of their depth-1 child.
        assert_eq!(t.pointer_len(2, 8), 11);
        assert_eq!(t.max_records[2], (512 - 10 - 11) / (24 + 11));
        assert_eq!(count_width(255), 1);
        assert_eq!(count_width(256), 2);
        assert_eq!(count_width(0), 1);
    }

    #[test]
    fn impossible_trees_are_refused() {
        assert!(Tree::new(10, 8, 24, 0, 8, 24).is_err());
        assert!(Tree::new(10, 512, 0, 0, 8, 24).is_err());
        assert!(Tree::new(10, 30, 24, 1, 8, 24).is_err());
        assert!(Tree::new(10, 512, 24, 30, 8, 24).is_err());
    }
}
