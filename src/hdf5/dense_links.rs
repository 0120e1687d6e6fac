//! Members of a group in dense link storage: what libhdf5 writes for a new-style group with
//! more than 8 links (or with `track_order=True`). The links are Link messages stored as
//! objects of a fractal heap, found through a v2 B-tree of their name hashes.
//!
//! hdf5-reader parses each piece (heap header, B-tree nodes, heap blocks) from any `Storage`;
//! driven through [`MetaStorage`], a missing range is recorded and the whole listing retried
//! once the file's metadata loop has fetched it, like every other metadata parse.

use hdf5_reader::btree_v2::{self, BTreeV2Header, BTreeV2Record};
use hdf5_reader::error::{Error, Result};
use hdf5_reader::fractal_heap::{FractalHeap, FractalHeapDirectBlockCache};
use hdf5_reader::io::Cursor;
use hdf5_reader::messages::link::{self, LinkTarget};
use hdf5_reader::messages::link_info::LinkInfoMessage;

use super::caps::Caps;
use super::meta_storage::MetaStorage;

/// `(name, object header address)` of each hard link of the group; soft and external links
/// are skipped (as in compact groups).
pub fn dense_children(
    meta: &MetaStorage,
    info: &LinkInfoMessage,
    offset_size: u8,
    length_size: u8,
    caps: &Caps,
) -> Result<Vec<(String, u64)>> {
    let heap =
        FractalHeap::parse_at_storage(meta, info.fractal_heap_address, offset_size, length_size)?;
    let tree = BTreeV2Header::parse_at_storage(
        meta,
        info.btree_name_index_address,
        offset_size,
        length_size,
    )?;
    if tree.total_records > caps.objects as u64 {
        return Err(Error::InvalidData(format!(
            "a group claims {} links, more than the {} objects Strobe lists",
            tree.total_records, caps.objects
        )));
    }
    let records = btree_v2::collect_btree_v2_records_storage(
        meta,
        &tree,
        offset_size,
        length_size,
        None,
        &[],
        None,
    )?;
    let mut blocks = FractalHeapDirectBlockCache::default();
    let mut children = Vec::new();
    for record in records.iter().take(caps.objects) {
        let heap_id = match record {
            BTreeV2Record::LinkNameHash { heap_id, .. }
            | BTreeV2Record::CreationOrder { heap_id, .. } => heap_id,
            _ => continue,
        };
        let bytes =
            heap.get_object_storage_cached(heap_id, meta, offset_size, length_size, &mut blocks)?;
        let message = link::parse(
            &mut Cursor::new(&bytes),
            offset_size,
            length_size,
            bytes.len(),
        )?;
        if let LinkTarget::Hard { address } = message.target {
            children.push((message.name, address));
        }
    }
    Ok(children)
}
