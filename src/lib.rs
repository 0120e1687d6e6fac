//! Strobe: open event-camera HDF5 recordings by range reads and extract exact time windows.
//!
//! Layers, one folder each, bottom up:
//! - [`source`]: bytes — files, HTTP, browser fetch/Blob, and the range cache in front of them.
//! - [`hdf5`]: format — which index nodes and chunks to fetch, fetched together, then decoded.
//! - [`events`]: meaning — recording layouts, the time index, windows streamed chunk by chunk.
//! - [`render`]: pixels — a window's events counted per pixel, for the page and PNG export.
//! - [`export`]: a window's events written out as `.npz`, `.csv`, `.h5` or a `.png` picture.
//! - [`listing`]: what a URL naming many recordings answers (manifest, S3 listing, nginx
//!   autoindex), as the recordings to open.
//! - [`open`]: the one front door — a source string and options to an opened recording;
//!   the CLI, the browser engine and the Python package all open through it.
//! - `serve`/`cli` (native) and `wasm` (browser) sit on top.

pub mod events;
pub mod export;
pub mod hdf5;
pub mod listing;
pub mod open;
pub mod render;
pub mod source;

#[cfg(not(target_arch = "wasm32"))]
pub mod demo;
#[cfg(not(target_arch = "wasm32"))]
pub mod serve;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
