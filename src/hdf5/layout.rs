//! Where a dataset's bytes are: inline, one contiguous run, or chunks behind an index.

use hdf5_reader::messages::layout::{ChunkIndexing, DataLayout as RawLayout};

/// Storage layout of a dataset, in the terms the read path plans with.
#[derive(Debug, Clone, PartialEq)]
pub enum DataLayout {
    /// Bytes stored inside the object header.
    Compact { data: Vec<u8> },
    /// One run of bytes (undefined address: never written, reads as fill).
    Contiguous { address: u64, size: u64 },
    /// Fixed-size chunks found through an index.
    Chunked {
        index_address: u64,
        /// Chunk shape in elements, one entry per dataset dimension.
        chunk: Vec<u64>,
        index: ChunkIndexKind,
        /// Element size the layout message states (`None` if it states none): must be the
        /// datatype's, or chunk sizes and key offsets mean something else than they say.
        element_size: Option<u64>,
    },
}

/// The six ways HDF5 indexes chunks.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkIndexKind {
    BTreeV1,
    SingleChunk {
        filtered_size: u64,
        filter_mask: u32,
    },
    Implicit,
    FixedArray,
    ExtensibleArray,
    BTreeV2,
}

impl ChunkIndexKind {
    pub fn name(&self) -> &'static str {
        match self {
            ChunkIndexKind::BTreeV1 => "v1 B-tree",
            ChunkIndexKind::SingleChunk { .. } => "single chunk",
            ChunkIndexKind::Implicit => "implicit",
            ChunkIndexKind::FixedArray => "fixed array",
            ChunkIndexKind::ExtensibleArray => "extensible array",
            ChunkIndexKind::BTreeV2 => "v2 B-tree",
        }
    }
}

impl DataLayout {
    pub(crate) fn from_message(raw: RawLayout) -> Self {
        match raw {
            RawLayout::Compact { data } => DataLayout::Compact { data },
            RawLayout::Contiguous { address, size } => DataLayout::Contiguous { address, size },
            RawLayout::Chunked {
                address,
                dims,
                element_size,
                chunk_indexing,
            } => {
                let chunk: Vec<u64> = dims.iter().map(|&d| u64::from(d)).collect();
                let index = match chunk_indexing {
                    None => ChunkIndexKind::BTreeV1,
                    Some(ChunkIndexing::SingleChunk {
                        filtered_size,
                        filters,
                    }) => ChunkIndexKind::SingleChunk {
                        filtered_size,
                        filter_mask: filters,
                    },
                    Some(ChunkIndexing::Implicit) => ChunkIndexKind::Implicit,
                    Some(ChunkIndexing::FixedArray { .. }) => ChunkIndexKind::FixedArray,
                    Some(ChunkIndexing::ExtensibleArray { .. }) => ChunkIndexKind::ExtensibleArray,
                    Some(ChunkIndexing::BTreeV2) => ChunkIndexKind::BTreeV2,
                };
                DataLayout::Chunked {
                    index_address: address,
                    chunk,
                    index,
                    // Version 4 messages state it as one more chunk dimension (moved here
                    // by `DatasetInfo::from_header`).
                    element_size: (element_size > 0).then_some(u64::from(element_size)),
                }
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            DataLayout::Compact { .. } => "compact".into(),
            DataLayout::Contiguous { .. } => "contiguous".into(),
            DataLayout::Chunked { index, .. } => format!("chunked ({})", index.name()),
        }
    }
}
