//! `GET /data/` (and `/data/<dir>/`): a JSON manifest of the recordings under that directory,
//! `[{"url": "sub/events.h5", "name": "sub/events.h5"}]` with URLs relative to it, so the
//! viewer opens the whole directory with `index.html?list=/data/` (see `strobe::listing`).
//! Files are listed by extension, not opened: the page opens each and names any that fail.
//! A directory URL never collides with a file (`/data/manifest.json` could be one).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};

use super::files::decode_dir_segments;
use super::plain;
use crate::listing::{encode_path, has_recording_extension, MAX_LISTING_ENTRIES};

/// The manifest of the directory at percent-encoded `rest` (empty or ending in `/`) under
/// `root` (canonical).
pub async fn serve(root: &Path, rest: &str, head: bool) -> Response<Body> {
    let Some(segments) = decode_dir_segments(rest) else {
        return plain(StatusCode::FORBIDDEN, "forbidden path\n");
    };
    let root = root.to_path_buf();
    let listed = tokio::task::spawn_blocking(move || {
        let mut dir = root.clone();
        dir.extend(segments);
        let dir = dir
            .canonicalize()
            .ok()
            .filter(|d| d.starts_with(&root) && d.is_dir())?;
        let mut found = Vec::new();
        walk(&root, &dir, &dir, &mut found);
        Some(found)
    })
    .await;
    let found = match listed {
        Ok(Some(found)) => found,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "no such directory\n"),
        Err(_) => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot list the directory\n",
            )
        }
    };
    if found.len() > MAX_LISTING_ENTRIES {
        return plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too many recordings under this directory for one listing — list a subdirectory\n",
        );
    }
    let entries: Vec<serde_json::Value> = found
        .iter()
        .map(|rel| serde_json::json!({"url": encode_path(rel), "name": rel}))
        .collect();
    let text = serde_json::Value::Array(entries).to_string();
    let len = text.len();
    let mut resp = Response::new(match head {
        true => Body::empty(),
        false => Body::from(text),
    });
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// Recording files under `dir`, as `/`-separated paths relative to `base`, sorted, stopping
/// past the entry cap. Only real directories are entered (no symlink loops), and only files
/// whose target lies inside `root` are listed (others would not be served).
fn walk(root: &Path, base: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if out.len() > MAX_LISTING_ENTRIES {
            return;
        }
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            walk(root, base, &path, out);
            continue;
        }
        let inside = path
            .canonicalize()
            .is_ok_and(|c| c.starts_with(root) && c.is_file());
        let Some(rel) = path.strip_prefix(base).ok().and_then(|r| r.to_str()) else {
            continue;
        };
        if inside && has_recording_extension(rel) {
            out.push(rel.replace(std::path::MAIN_SEPARATOR, "/"));
        }
    }
}
