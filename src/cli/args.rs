//! Command-line arguments.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use strobe::events::time_spec::{self, TimeSpec};
use strobe::events::Window;
use strobe::hdf5::Caps;

#[derive(Debug, Parser)]
#[command(
    name = "strobe",
    version,
    about = "Open event-camera HDF5 recordings by range reads and extract exact time windows"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Threads decoding chunks (default: one per core; 1 decodes on the main thread).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Layout, datasets, event count, time span and sensor size of a recording; given a
    /// directory or several files, one line per recording.
    Info(InfoArgs),
    /// Exact digest of the events with FROM <= t < TO (µs of the stored t).
    Window(WindowArgs),
    /// Serve the viewer and a directory of recordings over HTTP (Range, CORS).
    Serve(ServeArgs),
    /// Windows over the recording (or N random ones) with exact event counts, from the time
    /// index — the way a training loader enumerates samples.
    Windows(WindowsArgs),
    /// Write the events with FROM <= t < TO to a file: .npz, .csv, .h5 (DSEC layout) or .png.
    Export(ExportArgs),
    /// Write a synthetic demo recording (if missing) and serve it with the viewer.
    Demo(DemoArgs),
}

/// Where the recording is and how to read it.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// A local path, an http(s) URL, or s3:// gs:// az:// (credentials from the environment).
    pub source: String,
    /// Output JSON (stable field names).
    #[arg(long)]
    pub json: bool,
    /// Range cache budget in MiB.
    #[arg(long, default_value_t = 64)]
    pub cache_mb: u64,
    /// When an HTTP server ignores Range, read files up to this many MiB whole into memory
    /// instead of failing (0, the default: fail with a message saying so).
    #[arg(long, default_value_t = 0)]
    pub whole_file_mb: u64,
    /// Dataset path of x (overrides layout detection; likewise --y, --t, --p).
    #[arg(long)]
    pub x: Option<String>,
    #[arg(long)]
    pub y: Option<String>,
    #[arg(long)]
    pub t: Option<String>,
    #[arg(long)]
    pub p: Option<String>,
    /// Dataset path of the millisecond index table (ms_to_idx).
    #[arg(long)]
    pub ms_index: Option<String>,
    /// Dataset path of t_offset.
    #[arg(long)]
    pub t_offset: Option<String>,
    /// Camera to open when a file holds several (M3ED: left, right).
    #[arg(long)]
    pub camera: Option<String>,
    /// Most MiB one read may hold at once (default 1024; cap memory_budget).
    #[arg(long, value_name = "MB")]
    pub max_memory: Option<u64>,
    /// Largest chunk, stored or decoded, in MiB (default 256; cap chunk_bytes).
    #[arg(long, value_name = "MB")]
    pub max_chunk: Option<u64>,
    /// Most MiB of metadata (headers, heaps, group indexes) read (default 64; cap
    /// metadata_bytes).
    #[arg(long, value_name = "MB")]
    pub max_metadata: Option<u64>,
    /// Most rows a dataset may claim (default 2^36; cap rows).
    #[arg(long, value_name = "N")]
    pub max_rows: Option<u64>,
    /// Most chunk-index nodes one walk visits (default 2^20; cap index_nodes).
    #[arg(long, value_name = "N")]
    pub max_index_nodes: Option<usize>,
    /// Extra HTTP header sent with every request, 'Name: value' (repeatable), for
    /// token-protected hosts: --header 'Authorization: Bearer TOKEN'.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = strobe::open::parse_header)]
    pub headers: Vec<(String, String)>,
}

impl SourceArgs {
    /// The caps the file is read under: the defaults with the `--max-*` flags applied.
    pub fn caps(&self) -> Caps {
        Caps::default().with_overrides(
            self.max_memory,
            self.max_chunk,
            self.max_metadata,
            self.max_rows,
            self.max_index_nodes,
        )
    }
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// More recordings to list (each file or directory gets one line per recording).
    pub more: Vec<String>,
    /// Given one directory: print a JSON manifest of its recordings that open
    /// ([{"url", "name"}], URLs relative to the directory) for the viewer's ?list=; save it
    /// in the directory and serve it beside the data. Files that fail are named on stderr.
    #[arg(long)]
    pub manifest: bool,
}

#[derive(Debug, Args)]
pub struct WindowArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub times: WindowTimes,
    /// Open the source and read the window this many times in one process (for benchmarks:
    /// `--json` then adds `runs_ms`, each run's open + read time, measured in the process).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Directory whose files are served under /data/; /data/ itself (and /data/<dir>/)
    /// answers a JSON manifest of the recordings there, so the viewer opens them all with
    /// index.html?list=/data/.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to bind; loopback unless you mean to share.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Directory of the viewer's static files (default: the repository's site).
    #[arg(long)]
    pub site: Option<PathBuf>,
    /// Added delay per request in milliseconds (to see rounds as latency).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Also serve deliberately broken views of the data under /faults/<spec>/data/ (for
    /// testing clients; see src/serve/faults.rs).
    #[arg(long)]
    pub faults: bool,
    /// Relay range requests for the page at /relay?url=… to URLs under this prefix
    /// (https://host/path/; repeatable), adding CORS, for hosts that send none.
    #[arg(long = "relay", value_name = "PREFIX")]
    pub relay: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for demo.h5 (default: demo/ in the source checkout, else ~/.cache/strobe).
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind; loopback unless you mean to share.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Only write the recording (if missing) and print its path.
    #[arg(long)]
    pub no_serve: bool,
}

#[derive(Debug, Args)]
pub struct WindowsArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Window length: 1s, 50ms, 250us, or plain microseconds.
    #[arg(long, value_parser = parse_duration)]
    pub length: i64,
    /// Step between window starts (default: the length, i.e. back to back).
    #[arg(long, value_parser = parse_duration)]
    pub stride: Option<i64>,
    /// Instead of a regular grid, this many windows with uniformly random starts.
    #[arg(long)]
    pub random: Option<usize>,
    /// Seed of --random (same seed, same windows).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// A window's start and its end or length, in any form of [`TimeSpec`].
#[derive(Debug, Clone, Args)]
pub struct WindowTimes {
    /// Window start (inclusive): µs of the stored t, abs:µs (t + t_offset, as DSEC's
    /// image_timestamps.txt), or time since the first event (3.4s, 50ms, [hh:]mm:ss.ffffff).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub from: TimeSpec,
    /// Window end (exclusive), in the same forms as --from.
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true, required_unless_present = "length", conflicts_with = "length")]
    pub to: Option<TimeSpec>,
    /// Window length instead of --to: 50ms, 1s, 250us or plain µs.
    #[arg(long, value_parser = parse_duration)]
    pub length: Option<i64>,
}

impl WindowTimes {
    /// Whether the window can only be placed once the recording's summary is read (its
    /// first event or t_offset).
    pub fn needs_recording(&self) -> bool {
        self.from.needs_recording() || self.to.is_some_and(|t| t.needs_recording())
    }

    /// The window in µs of the stored t.
    pub fn resolve(&self, t_first: Option<i64>, t_offset: i64) -> Result<Window, String> {
        let from = self
            .from
            .resolve(t_first, t_offset)
            .map_err(|e| format!("--from {e}"))?;
        let to = match (self.to, self.length) {
            (Some(to), _) => to
                .resolve(t_first, t_offset)
                .map_err(|e| format!("--to {e}"))?,
            (None, Some(length)) => from
                .checked_add(length)
                .ok_or_else(|| "--from + --length is out of range".to_string())?,
            (None, None) => return Err("give --to or --length".into()),
        };
        if from > to {
            return Err(format!(
                "window start {from} is after its end {to} — give --from ≤ --to"
            ));
        }
        Ok(Window { from, to })
    }
}

fn parse_time(text: &str) -> Result<TimeSpec, String> {
    TimeSpec::parse(text).map_err(|e| e.to_string())
}

/// Microseconds from `1s`, `50ms`, `250us` or a plain number of microseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    time_spec::parse_duration(text).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub times: WindowTimes,
    /// Output file; its extension picks the format: .npz, .csv, .h5, .png.
    #[arg(long)]
    pub out: PathBuf,
    /// Polarity as stored, 0/1 (binary) or -1/+1 (signed); p > 0 is positive.
    #[arg(long, value_enum, default_value_t = PolarityArg::Stored)]
    pub polarity: PolarityArg,
    /// x/width and y/height as float32, t in µs from the window start.
    #[arg(long)]
    pub normalize: bool,
    /// Add t_offset to t.
    #[arg(long)]
    pub absolute_time: bool,
    /// .png: what to draw, as the viewer's modes.
    #[arg(long, value_enum, default_value_t = ModeArg::Polarity)]
    pub mode: ModeArg,
    /// .png: polarity colours.
    #[arg(long, value_enum, default_value_t = PaletteArg::Dsec)]
    pub palette: PaletteArg,
    /// .png: time-surface decay (1s, 10ms, 250us or µs).
    #[arg(long, value_parser = parse_duration, default_value = "10ms")]
    pub tau: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolarityArg {
    Stored,
    Binary,
    Signed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    Polarity,
    Heatmap,
    Timesurface,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PaletteArg {
    Dsec,
    Dark,
}
