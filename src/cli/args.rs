//! Command-line arguments.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "strobe",
    version,
    about = "Open event-camera HDF5 recordings by range reads and extract exact time windows"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
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
    /// Extra HTTP header sent with every request, 'Name: value' (repeatable), for
    /// token-protected hosts: --header 'Authorization: Bearer TOKEN'.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = strobe::open::parse_header)]
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// More recordings to list (each file or directory gets one line per recording).
    pub more: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WindowArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Window start, µs of the stored t (inclusive).
    #[arg(long, allow_negative_numbers = true)]
    pub from: i64,
    /// Window end, µs of the stored t (exclusive).
    #[arg(long, allow_negative_numbers = true)]
    pub to: i64,
    /// Open the source and read the window this many times in one process (for benchmarks:
    /// `--json` then adds `runs_ms`, each run's open + read time, measured in the process).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Directory whose files are served under /data/.
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

/// Microseconds from `1s`, `50ms`, `250us` or a plain number of microseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1_000.0)
    } else if let Some(n) = t.strip_suffix("us").or_else(|| t.strip_suffix("µs")) {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000_000.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a duration — write e.g. 1s, 50ms or 250us"))?;
    let us = (value * scale).round();
    if !(1.0..=9.0e15).contains(&us) {
        return Err(format!("'{text}' must be at least 1 µs"));
    }
    Ok(us as i64)
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Window start, µs of the stored t (inclusive).
    #[arg(long, allow_negative_numbers = true)]
    pub from: i64,
    /// Window end, µs of the stored t (exclusive).
    #[arg(long, allow_negative_numbers = true)]
    pub to: i64,
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
