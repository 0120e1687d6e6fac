//! `strobe info DIR` / `strobe info a.h5 b.h5` / `strobe info 'data/*/events.h5'` /
//! `strobe info s3://bucket/dsec/train/`: one line per recording (layout, events, duration,
//! time span). Each recording is opened for its metadata and its first and last timestamp
//! only, up to [`OPEN_AT_ONCE`] at a time, so a bucket of 60 recordings costs about the
//! rounds of one; one that fails is listed with its error and the others still are.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::stream::{self, StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use serde::Serialize;
use strobe::open::SourceSpec;
use strobe::source::object_store::{Bucket, ObjectStoreSource};

use super::args::{InfoArgs, SourceArgs};
use super::{glob, open, report};

/// Extensions a directory or bucket prefix is searched for.
const RECORDING_EXTENSIONS: [&str; 3] = ["h5", "hdf5", "hdf"];

/// Recordings opened concurrently: enough to hide latency, few enough to be polite to a host.
const OPEN_AT_ONCE: usize = 16;

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
    if args.manifest {
        return manifest(&args).await;
    }
    if args.more.is_empty() && !is_collection(&args.source.source) {
        return report::info(args).await;
    }
    let mut sources = Vec::new();
    let mut buckets = Buckets::new();
    for spec in std::iter::once(&args.source.source).chain(&args.more) {
        sources.extend(expand(spec, &mut buckets).await?);
    }
    let entries = describe_all(&args.source, sources, &buckets).await;
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

/// Opens every source (`OPEN_AT_ONCE` at a time, metadata only) and describes it; the order
/// of `sources` is kept.
async fn describe_all(options: &SourceArgs, sources: Vec<String>, buckets: &Buckets) -> Vec<Entry> {
    stream::iter(sources)
        .map(|source| describe(options, source, buckets))
        .buffered(OPEN_AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// `strobe info DIR --manifest`: the recordings under DIR that open, as the JSON manifest the
/// viewer's `?list=` reads, with URLs relative to DIR (percent-encoded) so the file can sit in
/// DIR and be served beside the data. Each file left out is named on stderr with its error.
async fn manifest(args: &InfoArgs) -> Result<(), String> {
    let dir = &args.source.source;
    if !args.more.is_empty() || !Path::new(dir).is_dir() {
        return Err(format!(
            "--manifest lists one directory (its URLs are relative to it); {dir} is not one"
        ));
    }
    let mut buckets = Buckets::new();
    let sources = expand(dir, &mut buckets).await?;
    let entries = describe_all(&args.source, sources, &buckets).await;
    let mut listed: Vec<serde_json::Value> = Vec::new();
    let mut last: Option<&str> = None;
    for e in &entries {
        if let Outcome::Failed { error } = &e.outcome {
            eprintln!("left out {}: {error}", label(e));
            continue;
        }
        // A file of several cameras is one entry: the page picks the camera.
        if last == Some(e.source.as_str()) {
            continue;
        }
        last = Some(e.source.as_str());
        let rel = Path::new(&e.source)
            .strip_prefix(dir)
            .map_err(|_| format!("{}: not under {dir}", e.source))?;
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let rel = rel.join("/");
        listed.push(serde_json::json!({
            "url": strobe::listing::encode_path(&rel),
            "name": rel,
        }));
    }
    let text = serde_json::to_string_pretty(&listed).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

fn label(e: &Entry) -> String {
    match &e.camera {
        Some(c) => format!("{} [{c}]", e.source),
        None => e.source.clone(),
    }
}

/// Whether `spec` names many recordings: a directory, a pattern or a bucket prefix.
fn is_collection(spec: &str) -> bool {
    Path::new(spec).is_dir() || glob::is_pattern(spec) || bucket_listing(spec).is_some()
}

/// `(url of the bucket, key pattern or prefix)` when `spec` is an object store URL ending in
/// `/` or holding a wildcard. Split by hand: `?` is a wildcard here, not a URL query.
fn bucket_listing(spec: &str) -> Option<(String, String)> {
    match SourceSpec::parse(spec) {
        Ok(SourceSpec::S3(url) | SourceSpec::Gcs(url) | SourceSpec::Azure(url))
            if url.ends_with('/') || glob::is_pattern(&url) =>
        {
            let (scheme, rest) = url.split_once("://")?;
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            Some((format!("{scheme}://{bucket}"), key.to_string()))
        }
        _ => None,
    }
}

/// The recordings `spec` names, sorted: itself, the recording files under a directory or
/// bucket prefix, or the files and keys a pattern matches.
async fn expand(spec: &str, buckets: &mut Buckets) -> Result<Vec<String>, String> {
    let found = if let Some((root, key)) = bucket_listing(spec) {
        list_bucket(&root, &key, buckets).await?
    } else if Path::new(spec).is_dir() {
        let mut out = Vec::new();
        walk(
            Path::new(spec),
            &mut |p| has_recording_extension(p),
            &mut out,
        )
        .map_err(|e| format!("{spec}: cannot list the directory: {e}"))?;
        out
    } else if glob::is_pattern(spec) {
        let fixed = glob::fixed_prefix(spec);
        let start = if fixed.is_empty() { "." } else { fixed };
        let mut out = Vec::new();
        let mut wanted = |p: &Path| {
            let text = p.display().to_string();
            let text = if fixed.is_empty() {
                text.strip_prefix("./").unwrap_or(&text).to_string()
            } else {
                text
            };
            glob::matches(spec, &text)
        };
        walk(Path::new(start), &mut wanted, &mut out)
            .map_err(|e| format!("{start}: cannot list the directory: {e}"))?;
        for p in &mut out {
            if fixed.is_empty() {
                if let Some(rest) = p.strip_prefix("./") {
                    *p = rest.to_string();
                }
            }
        }
        out
    } else {
        return Ok(vec![spec.to_string()]);
    };
    if found.is_empty() {
        return Err(format!(
            "{spec}: no recordings there (looked for .h5, .hdf5 or .hdf files, or what the pattern matches)"
        ));
    }
    Ok(found)
}

/// The client of each bucket listed, by its root (`s3://bucket`): every recording found in a
/// bucket is opened over the client that listed it — one connection pool and one credential
/// lookup per bucket, not per object.
type Buckets = HashMap<String, Arc<Bucket>>;

/// Keys under the fixed part of `key` (a prefix or a pattern) in the bucket at `root`.
async fn list_bucket(root: &str, key: &str, buckets: &mut Buckets) -> Result<Vec<String>, String> {
    use strobe::source::object_store::{bucket, error_for};
    let prefix = if glob::is_pattern(key) {
        glob::fixed_prefix(key)
    } else {
        key
    };
    let url = format!("{root}/{prefix}");
    let b = bucket(&url, std::iter::empty::<(String, String)>()).map_err(|e| e.to_string())?;
    let listed: Vec<_> = b
        .store
        .list(Some(&b.prefix))
        .try_collect()
        .await
        .map_err(|e| error_for(&url, e, None).to_string())?;
    let mut keys: Vec<String> = listed
        .into_iter()
        .map(|meta| meta.location.to_string())
        .filter(|k| match glob::is_pattern(key) {
            true => glob::matches(key, k),
            false => has_recording_extension(Path::new(k)),
        })
        .map(|k| format!("{root}/{k}"))
        .collect();
    keys.sort();
    buckets.insert(root.to_string(), Arc::new(b));
    Ok(keys)
}

/// Files under `dir` that `wanted` accepts, depth first, sorted by path (DSEC nests them per
/// sequence).
fn walk(
    dir: &Path,
    wanted: &mut dyn FnMut(&Path) -> bool,
    out: &mut Vec<String>,
) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        // Only real directories are entered, so a symlink loop cannot recurse forever.
        let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir {
            walk(&path, wanted, out)?;
        } else if path.is_file() && wanted(&path) {
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
async fn describe(args: &SourceArgs, source: String, buckets: &Buckets) -> Vec<Entry> {
    let mut one = args.clone();
    one.source = source.clone();
    let failed = |error: String| Entry {
        source: source.clone(),
        camera: args.camera.clone(),
        outcome: Outcome::Failed { error },
    };
    let rec = match open_listed(&one, buckets).await {
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
        out.push(match open_listed(&each, buckets).await {
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

/// Opens a listed recording: over its bucket's client when a bucket listing found it.
async fn open_listed(args: &SourceArgs, buckets: &Buckets) -> Result<strobe::open::Opened, String> {
    let in_bucket = args.source.split_once("://").and_then(|(scheme, rest)| {
        let (bucket, key) = rest.split_once('/')?;
        let b = buckets.get(&format!("{scheme}://{bucket}"))?;
        // The key as the listing gave it (already in the store's path encoding).
        let key = ObjectPath::parse(key).ok()?;
        Some(ObjectStoreSource::in_bucket(b, key))
    });
    match in_bucket {
        Some(src) => strobe::open::open_source(Box::new(src), &open::options(args))
            .await
            .map_err(|e| e.to_string()),
        None => open::recording(args).await,
    }
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
