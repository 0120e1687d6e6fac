//! `strobe demo`: a synthetic DSEC-layout recording to try the viewer without a dataset.
//!
//! [`ensure`] writes `demo.h5` into a directory unless a current one is already there:
//! 640×480, 12 s, a rotating bar, a moving textured square and a bouncing disc seen by a
//! simulated event sensor ([`scene`]), with quiet stretches (noise only) and busy ones
//! (> 1 M events/s). Written with libhdf5 (through `hdf5-metno`) in the DSEC layout:
//! `/events/{x,y,t,p}`, `/ms_to_idx`, `/t_offset`, chunks of 65,536 elements, byte shuffle
//! and deflate.

pub mod scene;
mod write;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use write::{read_stamp, write_recording};

/// File name of the demo recording inside its directory.
pub const FILE_NAME: &str = "demo.h5";
/// Bumped whenever the scene or the file layout changes; older files are rewritten.
pub const VERSION: u32 = 1;
/// Root attribute holding [`VERSION`].
pub const VERSION_ATTR: &str = "strobe_demo_version";
/// Root attribute holding the number of events (a cheap completeness check).
pub const EVENTS_ATTR: &str = "strobe_demo_events";
/// `t_offset` of the demo (µs; a time of day, as in DSEC).
pub const T_OFFSET_US: i64 = 36_607_300_656;
/// A busy moment to open the viewer at, and the window length to show (µs).
pub const START_US: u64 = 10_000_000;
pub const WINDOW_US: u64 = 50_000;
/// Elements per chunk of every event column.
pub const CHUNK: usize = 65_536;
/// Deflate level (1 = fastest; the shuffled columns compress nearly as well as at 6).
pub const DEFLATE_LEVEL: u8 = 4;

/// What [`ensure`] did.
#[derive(Debug, Clone)]
pub struct Demo {
    pub path: PathBuf,
    /// False when a current file was already there.
    pub written: bool,
    pub events: u64,
    pub bytes: u64,
    /// Time spent generating and writing (zero when reused).
    pub seconds: f64,
}

/// Makes sure `dir/demo.h5` exists and is current; writes it (via a temporary file renamed
/// into place) when missing, incomplete or from another version.
pub fn ensure(dir: &Path) -> Result<Demo, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(FILE_NAME);
    if path.exists() {
        if let Ok(events) = read_stamp(&path) {
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            return Ok(Demo {
                path,
                written: false,
                events,
                bytes,
                seconds: 0.0,
            });
        }
    }
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let events = scene::generate(threads);
    // The temporary name ends in .h5 so an interrupted run leaves nothing unignored behind.
    let tmp = dir.join(format!(".demo-{}.tmp.h5", std::process::id()));
    let result = write_recording(&tmp, &events).and_then(|()| {
        std::fs::rename(&tmp, &path)
            .map_err(|e| format!("cannot move {} to {}: {e}", tmp.display(), path.display()))
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(Demo {
        path,
        written: true,
        events: events.len() as u64,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Where `strobe demo` keeps its recording by default: `demo/` in the source checkout the
/// binary was built from when that still exists, else `~/.cache/strobe`.
pub fn default_dir() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if repo.join("Cargo.toml").is_file() {
        return repo.join("demo");
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("strobe")
}

/// The viewer link that opens the demo served at `base` (e.g. `http://127.0.0.1:8080`).
pub fn viewer_link(base: &str) -> String {
    format!("{base}/index.html?url={base}/data/{FILE_NAME}&t={START_US}&dt={WINDOW_US}")
}
