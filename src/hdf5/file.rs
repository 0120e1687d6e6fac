//! An HDF5 file opened over a [`RangeSource`]: superblock, groups and dataset headers.
//!
//! Parsing is `hdf5-reader`'s, run against [`MetaStorage`] (the bytes fetched so far). Each
//! parse that runs short of bytes records what it missed; the misses of *all* pending parses
//! are fetched together in one round, and those parses run again. Independent objects (the
//! children of a group, say) are therefore resolved side by side, not one after another.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;

use hdf5_reader::btree_v1::BTreeV1Node;
use hdf5_reader::io::Cursor;
use hdf5_reader::local_heap::LocalHeap;
use hdf5_reader::messages::HdfMessage;
use hdf5_reader::symbol_table::SymbolTableNode;
use hdf5_reader::{Hdf5File, Storage};

use super::caps::Caps;
use super::checksum::Damage;
use super::dataset::DatasetInfo;
use super::meta_storage::MetaStorage;
use super::threads::DecodeThreads;
use super::Hdf5Error;
use crate::source::{ByteRange, RangeSource};

/// Bytes read from the start of the file before anything is parsed: the superblock and,
/// in files written the usual way, the root group and the first object headers.
pub const HEAD_BYTES: u64 = 64 * 1024;
/// Bytes read from the end of the file beside the head (where sources can do it in the same
/// round): writers that add the time index last (DSEC's `ms_to_idx`, `t_offset`) or put object
/// headers at the end leave what a window needs first in the file's last bytes.
pub const TAIL_BYTES: u64 = 64 * 1024;
/// Bytes read before a metadata miss as well: libhdf5 often puts a small dataset's values
/// (a time index, a scalar) just before its object header, where the next read goes.
const META_FETCH_BEFORE: u64 = 8 * 1024;
/// Smallest read made for a metadata miss: object headers and heaps sit close together.
const MIN_META_FETCH: u64 = 64 * 1024;

type Op<'a, T> = Box<dyn Fn(&Hdf5File, &MetaStorage) -> hdf5_reader::error::Result<T> + 'a>;

/// One object of the file's group tree.
#[derive(Debug, Clone)]
pub struct Object {
    pub path: String,
    pub address: u64,
    /// `Some` for datasets, `None` for groups.
    pub dataset: Option<DatasetInfo>,
    /// Why the object's header could not be read, when the file is damaged there: the rest of
    /// the file still opens, and only a reader that needs this object fails, with this error.
    pub damaged: Option<Hdf5Error>,
}

/// Sizes from the superblock that the chunk-index walk needs.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub offset_size: u8,
    pub length_size: u8,
    /// Half the most entries of a chunk B-tree node (HDF5's "indexed storage K").
    pub chunk_btree_k: u16,
    /// Where HDF5 address 0 is in the file (non-zero behind a user block).
    pub base: u64,
}

/// An open HDF5 file.
pub struct H5File {
    source: Rc<dyn RangeSource>,
    what: String,
    len: u64,
    meta: Arc<MetaStorage>,
    reader: Hdf5File,
    geometry: Geometry,
    caps: Caps,
    /// Where chunks are decoded (see [`DecodeThreads`]).
    threads: DecodeThreads,
}

impl H5File {
    /// Reads the head of the file and its superblock, under the default [`Caps`].
    pub async fn open(source: Rc<dyn RangeSource>) -> Result<Self, Hdf5Error> {
        Self::open_with(source, Caps::default()).await
    }

    /// Reads the head of the file and its superblock; every size the file claims from here
    /// on is checked against `caps`.
    pub async fn open_with(source: Rc<dyn RangeSource>, caps: Caps) -> Result<Self, Hdf5Error> {
        let what = source.describe();
        let ends = source.read_ends(HEAD_BYTES, TAIL_BYTES).await?;
        let len = ends.len;
        let meta = MetaStorage::new(len);
        if !ends.tail.is_empty() {
            meta.insert(ends.tail_at(), ends.tail.clone());
        }
        if !ends.head.is_empty() {
            meta.insert(0, ends.head);
        }
        let starts_hdf5 = |at: u64| {
            meta.get(ByteRange::at(at, 8))
                .is_some_and(|b| b.as_ref() == b"\x89HDF\r\n\x1a\n")
        };
        // HDF5 allows a user block of 512, 1024, 2048, ... bytes before the superblock.
        let signature_at = std::iter::once(0)
            .chain((9..16).map(|p| 1u64 << p))
            .find(|&at| starts_hdf5(at));
        if signature_at.is_none() {
            return Err(Hdf5Error::NotHdf5 { what });
        }
        let mut reader = None;
        for _ in 0..caps.metadata_rounds {
            match Hdf5File::from_storage(meta.clone() as Arc<dyn Storage>) {
                Ok(r) => {
                    meta.take_misses();
                    reader = Some(r);
                    break;
                }
                Err(e) => {
                    let misses = meta.take_misses();
                    if misses.is_empty() {
                        let e = name_checksum(e, "superblock", signature_at.unwrap_or(0));
                        return Err(reader_error(&what, &meta, e));
                    }
                    fetch_into(&*source, &meta, misses, &what, &caps).await?;
                }
            }
        }
        let reader = reader.ok_or_else(|| Hdf5Error::Malformed {
            what: what.clone(),
            reason: "superblock could not be read".into(),
        })?;
        let sb = reader.superblock();
        // libhdf5 refuses a file shorter than the end its superblock records.
        let eof = sb.eof_address.checked_add(sb.base_address);
        if let Some(points) =
            eof.filter(|&e| e > len && !Cursor::is_undefined_offset(sb.eof_address, sb.offset_size))
        {
            return Err(Hdf5Error::Truncated {
                what,
                ends: len,
                points,
            });
        }
        let geometry = Geometry {
            offset_size: sb.offset_size,
            length_size: sb.length_size,
            chunk_btree_k: if sb.indexed_storage_k > 0 {
                sb.indexed_storage_k
            } else {
                32
            },
            base: sb.base_address,
        };
        Ok(Self {
            source,
            what,
            len,
            meta,
            reader,
            geometry,
            caps,
            threads: DecodeThreads::default(),
        })
    }

    /// The caps this file is read under.
    pub fn caps(&self) -> &Caps {
        &self.caps
    }

    /// The threads this file's chunks are decoded on.
    pub fn threads(&self) -> &DecodeThreads {
        &self.threads
    }

    /// Decodes this file's chunks on `threads` from now on.
    pub fn set_threads(&mut self, threads: DecodeThreads) {
        self.threads = threads;
    }

    /// The error for a size from the file that exceeds cap `cap`.
    pub fn over_cap(&self, cap: &str, reason: String) -> Hdf5Error {
        Hdf5Error::Limit {
            what: self.what.clone(),
            reason: format!("{reason} {}", Caps::advice(cap)),
        }
    }

    pub fn source(&self) -> &Rc<dyn RangeSource> {
        &self.source
    }

    pub fn what(&self) -> &str {
        &self.what
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Runs every parse until it has its bytes; the misses of all parses still short are
    /// fetched together, one round per step.
    pub(crate) async fn resolve<'a, T>(&self, ops: Vec<Op<'a, T>>) -> Vec<Result<T, Hdf5Error>> {
        self.resolve_with(ops, true).await
    }

    /// [`Self::resolve`]; with `fetch` false, parses only what held bytes allow.
    async fn resolve_with<'a, T>(
        &self,
        ops: Vec<Op<'a, T>>,
        fetch: bool,
    ) -> Vec<Result<T, Hdf5Error>> {
        let mut results: Vec<Option<Result<T, Hdf5Error>>> = ops.iter().map(|_| None).collect();
        for _ in 0..self.caps.metadata_rounds {
            let mut misses = Vec::new();
            for (op, slot) in ops.iter().zip(results.iter_mut()) {
                if slot.is_some() {
                    continue;
                }
                self.meta.take_misses();
                self.meta.take_past_end();
                let outcome = op(&self.reader, &self.meta);
                let missed = self.meta.take_misses();
                if missed.is_empty() {
                    *slot = Some(outcome.map_err(|e| reader_error(&self.what, &self.meta, e)));
                } else {
                    misses.extend(missed);
                }
            }
            if misses.is_empty() || !fetch {
                break;
            }
            if let Err(e) =
                fetch_into(&*self.source, &self.meta, misses, &self.what, &self.caps).await
            {
                for slot in results.iter_mut().filter(|s| s.is_none()) {
                    *slot = Some(Err(e.clone()));
                }
                break;
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Hdf5Error::Malformed {
                        what: self.what.clone(),
                        reason: "metadata chain too long (looping addresses?)".into(),
                    })
                })
            })
            .collect()
    }

    /// Lists groups and datasets breadth first, every group of a level at once.
    pub async fn objects(&self) -> Result<Vec<Object>, Hdf5Error> {
        self.walk(true).await
    }

    /// The objects whose metadata is already held, without any I/O: lets the caller start on
    /// what it can (warming the event columns' indexes) in the same round as the remaining
    /// metadata fetches.
    pub async fn objects_held(&self) -> Vec<Object> {
        self.walk(false).await.unwrap_or_default()
    }

    async fn walk(&self, fetch: bool) -> Result<Vec<Object>, Hdf5Error> {
        let mut objects = Vec::new();
        let mut seen = HashSet::new();
        let mut frontier: Vec<(String, GroupAt)> = vec![("".into(), GroupAt::Root)];
        let caps = self.caps;
        for _depth in 0..caps.group_depth {
            if frontier.is_empty() {
                break;
            }
            let geometry = self.geometry;
            let listings = self
                .resolve_with(
                    frontier
                        .iter()
                        .map(|(_, at)| {
                            let at = *at;
                            Box::new(move |r: &Hdf5File, m: &MetaStorage| {
                                group_children(r, m, at, geometry, &caps).map_err(|e| {
                                    let header = match at {
                                        GroupAt::Header(a) => Some(a),
                                        GroupAt::Root => {
                                            r.superblock().root_object_header_address().ok()
                                        }
                                    };
                                    match header {
                                        Some(a) => name_checksum(e, "object header", a),
                                        None => e,
                                    }
                                })
                            }) as Op<'_, Vec<(String, u64)>>
                        })
                        .collect(),
                    fetch,
                )
                .await;
            let mut children = Vec::new();
            for ((parent, _), listing) in frontier.iter().zip(listings) {
                let listing = match listing {
                    Ok(l) => l,
                    Err(_) if !fetch => continue,
                    Err(e) => return Err(e),
                };
                for (name, address) in listing {
                    if seen.insert(address) && objects.len() + children.len() < caps.objects {
                        children.push((format!("{parent}/{name}"), address));
                    }
                }
            }
            let headers = self
                .resolve_with(
                    children
                        .iter()
                        .map(|(_, address)| {
                            let address = *address;
                            Box::new(move |r: &Hdf5File, _: &MetaStorage| {
                                r.get_or_parse_header(address)
                                    .map_err(|e| name_checksum(e, "object header", address))
                            })
                                as Op<'_, Arc<hdf5_reader::object_header::ObjectHeader>>
                        })
                        .collect(),
                    fetch,
                )
                .await;
            frontier = Vec::new();
            for ((path, address), header) in children.into_iter().zip(headers) {
                let header = match header {
                    Ok(h) => h,
                    Err(_) if !fetch => continue,
                    // Damage in the file's structures is kept with the object (libhdf5 also
                    // opens such files); failures to fetch and caps still end the walk.
                    Err(
                        e @ (Hdf5Error::Malformed { .. }
                        | Hdf5Error::Damaged { .. }
                        | Hdf5Error::Unsupported { .. }
                        | Hdf5Error::UnsupportedFeature { .. }),
                    ) => {
                        objects.push(Object {
                            path,
                            address,
                            dataset: None,
                            damaged: Some(e),
                        });
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let dataset = DatasetInfo::from_header(&path, &header);
                if dataset.is_none() {
                    frontier.push((path.clone(), GroupAt::Header(address)));
                }
                objects.push(Object {
                    path,
                    address,
                    dataset,
                    damaged: None,
                });
            }
        }
        Ok(objects)
    }

    /// The text of a string attribute of the root group (Prophesee's `geometry` =
    /// "1280x720"), fixed or variable length; `None` when absent or not a string.
    pub async fn root_attribute_text(&self, name: &str) -> Result<Option<String>, Hdf5Error> {
        self.attribute_text(move |r| r.root_group().and_then(|g| g.attribute(name)))
            .await
    }

    /// The text of a string attribute of the dataset at `path` (Prophesee's `/CD/indexes`
    /// `offset`), fixed or variable length; `None` when absent or not a string.
    pub async fn dataset_attribute_text(
        &self,
        path: &str,
        name: &str,
    ) -> Result<Option<String>, Hdf5Error> {
        self.attribute_text(move |r| r.dataset(path).and_then(|d| d.attribute(name)))
            .await
    }

    /// The text of the attribute `find` locates, read through the metadata rounds.
    async fn attribute_text<'a>(
        &self,
        find: impl Fn(&Hdf5File) -> hdf5_reader::error::Result<hdf5_reader::Attribute> + 'a,
    ) -> Result<Option<String>, Hdf5Error> {
        let offset_size = self.geometry.offset_size;
        let op = Box::new(move |r: &Hdf5File, _: &MetaStorage| {
            // Missing bytes are retried by `resolve`; any other failure means "no such text".
            let text = find(r)
                .and_then(|a| a.read_vlen_string(&[], offset_size))
                .ok()
                .map(|t| t.trim_end_matches(['\0', ' ']).to_string());
            Ok(text)
        }) as Op<'a, Option<String>>;
        self.resolve(vec![op]).await.pop().unwrap_or(Ok(None))
    }

    /// Bytes of a range (HDF5 address) if the cache holds them: no I/O.
    pub fn cached(&self, range: ByteRange) -> Option<bytes::Bytes> {
        let base = self.geometry.base;
        self.source.cached(ByteRange::new(
            range.start.checked_add(base)?,
            range.end.checked_add(base)?,
        ))
    }

    /// Reads raw bytes of several ranges (HDF5 addresses) in one round.
    pub async fn read(&self, ranges: &[ByteRange]) -> Result<Vec<bytes::Bytes>, Hdf5Error> {
        let base = self.geometry.base;
        let shifted: Vec<ByteRange> = ranges
            .iter()
            .map(|r| ByteRange::new(r.start.saturating_add(base), r.end.saturating_add(base)))
            .collect();
        for r in &shifted {
            if r.end > self.len || r.start > r.end {
                return Err(Hdf5Error::Truncated {
                    what: self.what.clone(),
                    ends: self.len,
                    points: r.end.max(r.start),
                });
            }
        }
        Ok(self.source.read_ranges(&shifted).await?)
    }
}

/// Where a group's member list starts.
#[derive(Debug, Clone, Copy)]
enum GroupAt {
    Root,
    Header(u64),
}

/// Names and object-header addresses of a group's members (hard links only).
fn group_children(
    reader: &Hdf5File,
    meta: &MetaStorage,
    at: GroupAt,
    geometry: Geometry,
    caps: &Caps,
) -> hdf5_reader::error::Result<Vec<(String, u64)>> {
    let sb = reader.superblock();
    let header_address = match at {
        GroupAt::Root => {
            if let Some(entry) = &sb.root_symbol_table_entry {
                if let (Some(btree), Some(heap)) =
                    (entry.btree_address(), entry.local_heap_address())
                {
                    // The superblock's scratch-pad only caches what the root's object header
                    // says; when it leads nowhere, read the header as libhdf5 does.
                    if let Ok(children) =
                        symbol_table_children(reader, meta, btree, heap, geometry, caps)
                    {
                        return Ok(children);
                    }
                }
            }
            sb.root_object_header_address()?
        }
        GroupAt::Header(address) => address,
    };
    let header = reader.get_or_parse_header(header_address)?;
    let mut children = Vec::new();
    for message in &header.messages {
        match message {
            HdfMessage::SymbolTable(st) => {
                return symbol_table_children(
                    reader,
                    meta,
                    st.btree_address,
                    st.heap_address,
                    geometry,
                    caps,
                );
            }
            HdfMessage::Link(link) => {
                if let hdf5_reader::messages::link::LinkTarget::Hard { address } = link.target {
                    children.push((link.name.clone(), address));
                }
            }
            HdfMessage::LinkInfo(info)
                if !Cursor::is_undefined_offset(
                    info.fractal_heap_address,
                    geometry.offset_size,
                ) =>
            {
                // More than 8 links (or tracked creation order): names in a fractal heap.
                return super::dense_links::dense_children(
                    meta,
                    info,
                    geometry.offset_size,
                    geometry.length_size,
                    caps,
                );
            }
            _ => {}
        }
    }
    Ok(children)
}

/// Members of an old-style group: a v1 B-tree of symbol-table nodes, names in a local heap.
fn symbol_table_children(
    reader: &Hdf5File,
    meta: &MetaStorage,
    btree: u64,
    heap: u64,
    geometry: Geometry,
    caps: &Caps,
) -> hdf5_reader::error::Result<Vec<(String, u64)>> {
    use hdf5_reader::error::Error;
    let sb = reader.superblock();
    let (o, l) = (geometry.offset_size, geometry.length_size);
    let heap = LocalHeap::parse_at_storage(meta, heap, o, l)?;
    let internal_k = u64::from(sb.group_internal_node_k.max(1));
    let leaf_k = u64::from(sb.group_leaf_node_k.max(1));
    let node_len =
        8 + 2 * u64::from(o) + (2 * internal_k + 1) * u64::from(l) + 2 * internal_k * u64::from(o);
    let snod_len = 8 + 2 * leaf_k * (2 * u64::from(o) + 24);
    let mut children = Vec::new();
    let mut stack = vec![(btree, 0usize)];
    let mut visited = HashSet::new();
    while let Some((address, depth)) = stack.pop() {
        if depth > caps.index_depth || !visited.insert(address) || visited.len() > caps.objects {
            return Err(Error::InvalidData(
                "group B-tree loops or is too deep".into(),
            ));
        }
        let bytes = read_clamped(meta, address, node_len)?;
        let node = BTreeV1Node::parse(&mut Cursor::new(&bytes), o, l, None)?;
        if node.level == 0 {
            for snod in &node.children {
                let bytes = read_clamped(meta, *snod, snod_len)?;
                let table = SymbolTableNode::parse(&mut Cursor::new(&bytes), o, l)?;
                for entry in table.entries {
                    let name = heap.get_string_storage(entry.link_name_offset, meta)?;
                    children.push((name, entry.object_header_address));
                }
            }
        } else {
            for child in node.children.iter().rev() {
                stack.push((*child, depth + 1));
            }
        }
    }
    Ok(children)
}

fn read_clamped(meta: &MetaStorage, address: u64, len: u64) -> hdf5_reader::error::Result<Vec<u8>> {
    let len = len.min(meta.len().saturating_sub(address));
    Ok(meta.read_range(address, len as usize)?.to_vec())
}

/// Fetches missed metadata ranges (padded, since metadata clusters) in one round.
async fn fetch_into(
    source: &dyn RangeSource,
    meta: &MetaStorage,
    misses: Vec<ByteRange>,
    what: &str,
    caps: &Caps,
) -> Result<(), Hdf5Error> {
    let len = meta.len();
    let mut wanted: Vec<ByteRange> = misses
        .into_iter()
        .filter(|m| !meta.holds(*m))
        .map(|m| {
            ByteRange::new(
                m.start.saturating_sub(META_FETCH_BEFORE),
                m.end.max(m.start.saturating_add(MIN_META_FETCH)).min(len),
            )
        })
        .collect();
    wanted.sort();
    let mut merged: Vec<ByteRange> = Vec::new();
    for r in wanted {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    if merged.is_empty() {
        return Ok(());
    }
    let wanted: u64 = merged.iter().map(ByteRange::len).sum();
    if meta.held().saturating_add(wanted) > caps.metadata_bytes {
        return Err(Hdf5Error::Limit {
            what: what.to_string(),
            reason: format!(
                "its metadata (headers, heaps, group indexes) needs more than {} bytes {}",
                caps.metadata_bytes,
                Caps::advice(Caps::METADATA_BYTES)
            ),
        });
    }
    let bytes = source.read_ranges(&merged).await?;
    for (range, b) in merged.iter().zip(bytes) {
        meta.insert(range.start, b);
    }
    Ok(())
}

/// The message of a checksum that does not match, naming the structure and its offset.
pub(crate) fn name_checksum(
    e: hdf5_reader::error::Error,
    structure: &str,
    at: u64,
) -> hdf5_reader::error::Error {
    match e {
        hdf5_reader::error::Error::ChecksumMismatch { .. } => {
            hdf5_reader::error::Error::InvalidData(Damage::message(structure, at))
        }
        e => e,
    }
}

/// What a failed parse means for the user: a checksum that does not match (the file is
/// damaged), bytes past the file's end (truncated), or another malformation.
fn reader_error(what: &str, meta: &MetaStorage, e: hdf5_reader::error::Error) -> Hdf5Error {
    use hdf5_reader::error::Error;
    match e {
        Error::InvalidData(m) if m.ends_with(Damage::SUFFIX) => Hdf5Error::Damaged {
            what: what.to_string(),
            reason: m,
        },
        Error::ChecksumMismatch { .. } => Hdf5Error::Damaged {
            what: what.to_string(),
            reason: format!("a metadata checksum does not match {}", Damage::SUFFIX),
        },
        e => match meta.take_past_end() {
            Some(points) => Hdf5Error::Truncated {
                what: what.to_string(),
                ends: meta.len(),
                points,
            },
            None => malformed(what, e),
        },
    }
}

fn malformed(what: &str, e: hdf5_reader::error::Error) -> Hdf5Error {
    match supported_elsewhere(&e) {
        Some(feature) => Hdf5Error::UnsupportedFeature {
            what: what.to_string(),
            feature,
        },
        None => Hdf5Error::Malformed {
            what: what.to_string(),
            reason: e.to_string(),
        },
    }
}

/// The HDF5 feature `e` names when it is one the format defines but Strobe does not read;
/// `None` when the value is outside the format (the file is damaged: "malformed").
fn supported_elsewhere(e: &hdf5_reader::error::Error) -> Option<String> {
    use hdf5_reader::error::Error;
    match *e {
        // Datatype classes 0..=10 exist (fixed-point … array).
        Error::UnsupportedDatatypeClass(c) if c <= 10 => Some(format!("datatype class {c}")),
        // Link types: 0 hard, 1 soft, 64 external; 65..=255 user-defined.
        Error::UnsupportedLinkType(t) if t == 1 || t >= 64 => Some(format!("link type {t}")),
        // Layout classes 0..=3 (compact, contiguous, chunked, virtual).
        Error::UnsupportedLayoutClass(c) if c <= 3 => Some(format!("data layout class {c}")),
        // Chunk index types 1..=5.
        Error::UnsupportedChunkIndexType(t) if (1..=5).contains(&t) => {
            Some(format!("chunk index type {t}"))
        }
        Error::UnsupportedFilter(ref name) => Some(format!("the filter {name}")),
        _ => None,
    }
}

#[cfg(test)]
mod wording_tests {
    use super::*;
    use hdf5_reader::error::Error;

    /// A feature the format defines is "valid but unsupported"; a value outside the format is
    /// damage ("malformed").
    #[test]
    fn unsupported_is_not_called_malformed() {
        for e in [
            Error::UnsupportedDatatypeClass(9),
            Error::UnsupportedLinkType(64),
            Error::UnsupportedLayoutClass(3),
            Error::UnsupportedChunkIndexType(5),
        ] {
            let got = malformed("f.h5", e);
            assert!(matches!(got, Hdf5Error::UnsupportedFeature { .. }), "{got}");
            assert!(got.to_string().contains("valid HDF5"), "{got}");
        }
        for e in [
            Error::UnsupportedObjectHeaderVersion(88),
            Error::UnsupportedDatatypeClass(77),
            Error::UnsupportedLinkType(9),
            Error::InvalidBTreeSignature,
        ] {
            let got = malformed("f.h5", e);
            assert!(matches!(got, Hdf5Error::Malformed { .. }), "{got}");
        }
    }
}
