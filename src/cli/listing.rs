//! `strobe info DIR` / `strobe info a.h5 b.h5`: one line per recording (layout, events,
//! duration, time span). Each recording is opened for its metadata and its first and last
//! timestamp only; one that fails is listed with its error and the others still are.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::args::{InfoArgs, SourceArgs};
use super::{open, report};

/// Extensions a directory is searched for.
const RECORDING_EXTENSIONS: [&str; 3] = ["h5", "hdf5", "hdf"];

/// One listed recording (or camera of one), or why it could not be opened.
#[derive(Debug, Serialize)]
struct Entry {
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    camera: Option<String>,
    #[serde(flatten)]
    outcome: Outcome,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Outcome {
    Opened {
        layout: strobe::events::LayoutKind,
        events: u64,
        duration_s: f64,
        t_first: Option<i64>,
        t_last: Option<i64>,
        t_offset: i64,
        width: u32,
        height: u32,
    },
    Failed {
        error: String,
    },
}

pub async fn info(args: InfoArgs) -> Result<(), String> {
    if args.more.is_empty() && !Path::new(&args.source.source).is_dir() {
        return report::info(args).await;
    }
    let mut sources = Vec::new();
    for spec in std::iter::once(&args.source.source).chain(&args.more) {
        let path = Path::new(spec);
        if path.is_dir() {
            let before = sources.len();
            walk(path, &mut sources)
                .map_err(|e| format!("{}: cannot list the directory: {e}", path.display()))?;
            if sources.len() == before {
                return Err(format!(
                    "{}: no .h5, .hdf5 or .hdf files in this directory",
                    path.display()
                ));
            }
        } else {
            sources.push(spec.clone());
        }
    }
    let mut entries = Vec::new();
    for source in sources {
        entries.extend(describe(&args.source, source).await);
    }
    if args.source.json {
        let text = serde_json::to_string_pretty(&entries).map_err(|e| e.to_string())?;
        println!("{text}");
        return Ok(());
    }
    let width = entries
        .iter()
        .map(|e| label(e).chars().count())
        .max()
        .unwrap_or(0);
    for e in &entries {
        let name = label(e);
        match &e.outcome {
            Outcome::Opened {
                layout,
                events,
                duration_s,
                t_first,
                t_last,
                ..
            } => {
                let span = match (t_first, t_last) {
                    (Some(a), Some(b)) => format!("{a} .. {b} µs"),
                    _ => "no events".to_string(),
                };
                let layout = serde_json::to_value(layout)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                println!(
                    "{name:<width$}  {layout:<8} {events:>12} events {duration_s:>10.3} s  {span}"
                );
            }
            Outcome::Failed { error } => {
                // Messages name the file first; the line already does.
                let error = error
                    .strip_prefix(e.source.as_str())
                    .and_then(|r| r.strip_prefix(": "))
                    .unwrap_or(error);
                println!("{name:<width$}  error: {error}")
            }
        }
    }
    let failed = entries
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Failed { .. }))
        .count();
    println!(
        "{} recordings, {failed} failed to open",
        entries.len() - failed
    );
    Ok(())
}

fn label(e: &Entry) -> String {
    match &e.camera {
        Some(c) => format!("{} [{c}]", e.source),
        None => e.source.clone(),
    }
}

/// Recording files under `dir`, depth first, sorted by path (DSEC nests them per sequence).
fn walk(dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        // Only real directories are entered, so a symlink loop cannot recurse forever.
        let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir {
            walk(&path, out)?;
        } else if path.is_file() && has_recording_extension(&path) {
            out.push(path.display().to_string());
        }
    }
    Ok(())
}

fn has_recording_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| RECORDING_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The recording at `source` (every camera of a file holding several, unless one was chosen).
async fn describe(args: &SourceArgs, source: String) -> Vec<Entry> {
    let mut one = args.clone();
    one.source = source.clone();
    let failed = |error: String| Entry {
        source: source.clone(),
        camera: args.camera.clone(),
        outcome: Outcome::Failed { error },
    };
    let rec = match open::recording(&one).await {
        Ok(opened) => opened.recording,
        Err(e) => return vec![failed(e)],
    };
    if args.camera.is_some() || rec.cameras.len() < 2 {
        return vec![summarise(&source, args.camera.clone(), &rec).await];
    }
    let mut out = Vec::new();
    for camera in rec.cameras.clone() {
        let mut each = one.clone();
        each.camera = Some(camera.clone());
        out.push(match open::recording(&each).await {
            Ok(opened) => summarise(&source, Some(camera), &opened.recording).await,
            Err(error) => Entry {
                source: source.clone(),
                camera: Some(camera),
                outcome: Outcome::Failed { error },
            },
        });
    }
    out
}

async fn summarise(source: &str, camera: Option<String>, rec: &strobe::events::Recording) -> Entry {
    let outcome = match rec.summary().await {
        Ok(s) => Outcome::Opened {
            layout: rec.layout,
            events: s.events,
            duration_s: match (s.t_first, s.t_last) {
                (Some(a), Some(b)) => (b - a) as f64 / 1e6,
                _ => 0.0,
            },
            t_first: s.t_first,
            t_last: s.t_last,
            t_offset: s.t_offset,
            width: s.width,
            height: s.height,
        },
        Err(e) => Outcome::Failed {
            error: e.to_string(),
        },
    };
    Entry {
        source: source.to_string(),
        camera,
        outcome,
    }
}
