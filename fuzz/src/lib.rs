//! What each fuzz target runs. `tests/fuzz_regressions.rs` includes this very file, so the
//! corpus CI replays goes through exactly the code that was fuzzed.
//!
//! Inputs: `open_window` and `chunk_index` take a whole HDF5 file (the window or rows to read
//! come from its last 8 bytes, which h5py files spend on chunk data). The filter targets take
//! an 8-byte header — decoded chunk size (u32 LE, reduced below [`FILTER_CHUNK_CAP`]), element
//! size, a mode byte, a block size (u16 LE) — then the stored chunk, and run the filter
//! pipeline as the read path calls it. `blosclz` takes a 4-byte output size, then a stream.

use std::rc::Rc;

use strobe::events::{LayoutOverrides, Recording, Window, WindowReader};
use strobe::hdf5::chunk_index::locate;
use strobe::hdf5::filters::{codecs, decode_chunk, ids, FilterStep};
use strobe::hdf5::{Caps, H5File};
use strobe::source::memory::drive;
use strobe::source::{MemorySource, RangeCache, RangeSource};

/// Largest decoded chunk a filter-target input asks for.
pub const FILTER_CHUNK_CAP: usize = 1 << 20;

/// Bytes the range cache in front of the file may hold.
pub const CACHE_BUDGET: u64 = 8 << 20;

/// Peak heap any input may cause, the fuzzed code's whole allocation: the memory budget of
/// [`caps`], the cache, and the fixed buffers of a window batch (four columns of
/// `BATCH_ROWS` values). The regression replay asserts it; `-rss_limit_mb` adds slack to it.
pub const MEMORY_CAP: u64 = 128 << 20;

/// The caps every target runs under: the defaults scaled down so that the fuzzer spends its
/// time on paths, not on zeroing legitimately large chunks.
pub fn caps() -> Caps {
    Caps {
        memory_budget: 48 << 20,
        chunk_bytes: 8 << 20,
        metadata_bytes: 8 << 20,
        rows: 1 << 24,
        ..Caps::default()
    }
}

/// The fuzz targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    OpenWindow,
    ChunkIndex,
    Blosc,
    Blosclz,
    Lzf,
    Lz4,
    Zstd,
    Bitshuffle,
    Deflate,
    Ecf,
}

impl Target {
    pub const ALL: [Target; 10] = [
        Target::OpenWindow,
        Target::ChunkIndex,
        Target::Blosc,
        Target::Blosclz,
        Target::Lzf,
        Target::Lz4,
        Target::Zstd,
        Target::Bitshuffle,
        Target::Deflate,
        Target::Ecf,
    ];

    /// The target's name: its fuzz binary and its corpus folder.
    pub fn name(self) -> &'static str {
        match self {
            Target::OpenWindow => "open_window",
            Target::ChunkIndex => "chunk_index",
            Target::Blosc => "blosc",
            Target::Blosclz => "blosclz",
            Target::Lzf => "lzf",
            Target::Lz4 => "lz4",
            Target::Zstd => "zstd",
            Target::Bitshuffle => "bitshuffle",
            Target::Deflate => "deflate",
            Target::Ecf => "ecf",
        }
    }

    /// Runs one input; `Err` carries the engine's message for inputs it refuses (the normal
    /// outcome for fuzzed bytes). Panics (the asserts below check the engine's promises),
    /// hangs and allocations past [`MEMORY_CAP`] are the bugs.
    pub fn run(self, data: &[u8]) -> Result<(), String> {
        match self {
            Target::OpenWindow => open_window(data),
            Target::ChunkIndex => chunk_index(data),
            Target::Blosclz => blosclz(data),
            Target::Blosc => filter(data, ids::BLOSC),
            Target::Lzf => filter(data, ids::LZF),
            Target::Lz4 => filter(data, ids::LZ4),
            Target::Zstd => filter(data, ids::ZSTD),
            Target::Bitshuffle => filter(data, ids::BITSHUFFLE),
            Target::Deflate => filter(data, ids::DEFLATE),
            Target::Ecf => filter(data, ids::ECF),
        }
    }
}

/// The file behind a cache, as the CLI reads it.
fn source(data: &[u8]) -> Rc<dyn RangeSource> {
    let file = MemorySource::new(data.to_vec(), "fuzz input");
    Rc::new(RangeCache::new(file, CACHE_BUDGET))
}

/// Eight bytes that choose what to read: the file's last eight.
fn selector(data: &[u8]) -> u64 {
    let mut tail = [0u8; 8];
    let n = data.len().min(8);
    tail[8 - n..].copy_from_slice(&data[data.len() - n..]);
    u64::from_le_bytes(tail)
}

/// A window from the selector: mostly short windows over the first seconds (where seed
/// recordings' events are), sometimes any `i64` pair.
fn window(sel: u64) -> Window {
    if sel >> 63 == 1 {
        let from = (sel as i64) << 8 >> 8;
        return Window {
            from,
            to: from.saturating_add((sel >> 48 & 0x7fff) as i64 * 1000),
        };
    }
    let from = (sel & 0xffff) as i64 * 8;
    Window {
        from,
        to: from + (sel >> 16 & 0xffff) as i64 * 4,
    }
}

fn open_window(data: &[u8]) -> Result<(), String> {
    let read = async {
        let rec = Recording::open_with(source(data), &LayoutOverrides::default(), caps())
            .await
            .map_err(|e| e.to_string())?;
        let digest = WindowReader::open(&rec, window(selector(data)))
            .await
            .map_err(|e| e.to_string())?
            .digest()
            .await
            .map_err(|e| e.to_string())?;
        assert!(
            digest.events <= rec.events,
            "a window of {} events in a recording of {}",
            digest.events,
            rec.events
        );
        rec.summary().await.map_err(|e| e.to_string())?;
        Ok(())
    };
    drive(read).unwrap_or_else(|| Err("the read waited on nothing".into()))
}

fn chunk_index(data: &[u8]) -> Result<(), String> {
    let read = async {
        let file = H5File::open_with(source(data), caps())
            .await
            .map_err(|e| e.to_string())?;
        let objects = file.objects().await.map_err(|e| e.to_string())?;
        let sel = selector(data);
        let datasets: Vec<_> = objects.iter().filter_map(|o| o.dataset.as_ref()).collect();
        // Every dataset's index, over rows the selector picks, all walks side by side.
        let requests: Vec<_> = datasets
            .iter()
            .map(|d| {
                let start = (sel & 0xffff) % d.rows().max(1);
                // Column 0: the walk of a table's first column (MVSEC-style N×C data).
                (*d, 0u64, start..start.saturating_add(sel >> 16 & 0xffff))
            })
            .collect();
        locate(&file, &requests).await.map_err(|e| e.to_string())?;
        Ok(())
    };
    drive(read).unwrap_or_else(|| Err("the read waited on nothing".into()))
}

/// The filter targets' input header.
struct FilterInput<'a> {
    chunk_bytes: usize,
    element_size: usize,
    mode: u8,
    block: u16,
    stored: &'a [u8],
}

fn filter_input(data: &[u8]) -> Option<FilterInput<'_>> {
    let (head, stored) = data.split_at_checked(8)?;
    let size = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    Some(FilterInput {
        chunk_bytes: size % (FILTER_CHUNK_CAP + 1),
        element_size: usize::from(head[4]),
        mode: head[5],
        block: u16::from_le_bytes([head[6], head[7]]),
        stored,
    })
}

fn step(id: u16, cd_values: Vec<u32>) -> FilterStep {
    FilterStep {
        id,
        name: None,
        cd_values,
        optional: false,
    }
}

/// Runs the filter `id` as a dataset's pipeline would: for deflate, the mode byte adds the
/// shuffle and fletcher32 steps h5py writes with it; for bitshuffle it picks the compression
/// (none, LZ4, Zstd) and the block size comes from the header.
fn filter(data: &[u8], id: u16) -> Result<(), String> {
    let input = filter_input(data).ok_or("input shorter than its header")?;
    let pipeline = match id {
        ids::DEFLATE => {
            let mut p = Vec::new();
            if input.mode & 1 != 0 {
                p.push(step(ids::SHUFFLE, vec![input.element_size as u32]));
            }
            p.push(step(ids::DEFLATE, vec![6]));
            if input.mode & 2 != 0 {
                p.push(step(ids::FLETCHER32, vec![]));
            }
            p
        }
        ids::BITSHUFFLE => {
            let compression = [0, 2, 3][usize::from(input.mode % 3)];
            vec![step(
                ids::BITSHUFFLE,
                vec![
                    0,
                    4,
                    input.element_size as u32,
                    u32::from(input.block),
                    compression,
                ],
            )]
        }
        _ => vec![step(id, vec![])],
    };
    let decoded = decode_chunk(
        &pipeline,
        0,
        input.stored.to_vec(),
        input.element_size,
        input.chunk_bytes,
    )
    .map_err(|e| e.to_string())?;
    if id == ids::ECF {
        // Metavision's last chunk holds fewer events than a chunk: shorter, whole records.
        assert!(
            decoded.len() <= input.chunk_bytes && decoded.len() % 16 == 0,
            "an ECF chunk decoded to {} bytes (cap {})",
            decoded.len(),
            input.chunk_bytes
        );
        return Ok(());
    }
    assert_eq!(
        decoded.len(),
        input.chunk_bytes,
        "a chunk decoded to the wrong size"
    );
    Ok(())
}

fn blosclz(data: &[u8]) -> Result<(), String> {
    let (head, stream) = data
        .split_at_checked(4)
        .ok_or("input shorter than its header")?;
    let size = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let mut out = vec![0u8; size % (FILTER_CHUNK_CAP + 1)];
    let n = codecs::blosclz(stream, &mut out).map_err(str::to_string)?;
    assert!(n <= out.len(), "wrote {n} bytes into {}", out.len());
    Ok(())
}
