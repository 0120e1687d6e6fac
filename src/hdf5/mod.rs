//! Format: reading HDF5 datasets through a [`crate::source::RangeSource`].
//!
//! `hdf5-reader` parses the format's structures; this layer decides which index nodes and
//! chunks to fetch, fetches them together, and decodes them.

pub mod caps;
pub mod checksum;
mod chunk_btree_v2;
pub mod chunk_index;
pub mod dataset;
#[cfg(any(target_arch = "wasm32", test))]
pub mod decode_pool;
mod dense_links;
mod error;
mod extensible_array;
pub mod field;
pub mod file;
pub mod filters;
pub mod layout;
mod meta_storage;
pub mod plan;
pub mod read;
pub mod threads;
pub mod values;

pub use caps::Caps;
pub use dataset::{DatasetInfo, DatasetSummary, ElementType, Member};
pub use error::Hdf5Error;
pub use field::Field;
pub use file::H5File;
pub use layout::{ChunkIndexKind, DataLayout};
pub use threads::DecodeThreads;
pub use values::{ValueKind, Values};
