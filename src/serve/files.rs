//! Safe path resolution under a root directory and range responses streamed from disk.

use std::ffi::OsString;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::faults::{BodyFault, LONG_EXTRA};
use super::headers::{self, RangeAsk};
use super::plain;

/// Largest piece read from disk at a time while streaming a body.
const READ_CHUNK: u64 = 256 * 1024;

/// Deliberate misbehaviour, for testing clients against bad servers (see `faults.rs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    pub ignore_range: bool,
    pub gzip: bool,
    /// Present the file as a new version: other `ETag` and `Last-Modified`.
    pub new_version: bool,
    pub body: Option<BodyFault>,
}

/// Why a request path was not mapped to a file.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// Dot segments, separators or NUL hidden in a segment, empty segments (`//`, absolute).
    Forbidden,
    /// A `%` not followed by two hex digits, or a name this platform cannot represent.
    BadRequest,
}

/// Splits the percent-encoded path after the route prefix into decoded file-name segments,
/// refusing anything that could step outside the root.
fn decode_segments(rest: &str, site: bool) -> Result<Vec<OsString>, Refusal> {
    let mut raw: Vec<&str> = rest.split('/').collect();
    if site && raw.last().is_some_and(|s| s.is_empty()) {
        // "/" or "dir/" on the site: its index page.
        raw.pop();
        raw.push("index.html");
    }
    raw.into_iter().map(decode_segment).collect()
}

/// The decoded segments of a directory path after the route prefix (`""` or `"a/b/"`), or
/// `None` when a segment could step outside the root.
pub fn decode_dir_segments(rest: &str) -> Option<Vec<OsString>> {
    let inner = rest.strip_suffix('/').unwrap_or(rest);
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner.split('/').map(|s| decode_segment(s).ok()).collect()
}

fn decode_segment(seg: &str) -> Result<OsString, Refusal> {
    let bytes = percent_decode(seg).ok_or(Refusal::BadRequest)?;
    let forbidden = bytes.is_empty()
        || bytes == b"."
        || bytes == b".."
        || bytes.iter().any(|&b| b == b'/' || b == b'\\' || b == 0)
        || (cfg!(windows) && bytes.contains(&b':'));
    if forbidden {
        return Err(Refusal::Forbidden);
    }
    os_string(bytes)
}

#[cfg(unix)]
fn os_string(bytes: Vec<u8>) -> Result<OsString, Refusal> {
    use std::os::unix::ffi::OsStringExt;
    Ok(OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn os_string(bytes: Vec<u8>) -> Result<OsString, Refusal> {
    String::from_utf8(bytes)
        .map(OsString::from)
        .map_err(|_| Refusal::BadRequest)
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = (*b.get(i + 1)? as char).to_digit(16)?;
            let lo = (*b.get(i + 2)? as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// An open file proven to lie inside the root, with what the headers need.
struct Found {
    file: std::fs::File,
    name: String,
    len: u64,
    mtime: std::time::SystemTime,
}

enum Lookup {
    Found(Found),
    NotFound,
    Forbidden,
}

/// Resolves `segments` under `root` (canonical), following symlinks only while the target
/// stays inside `root`. Blocking; run off the async threads.
fn lookup(root: &Path, segments: &[OsString], site: bool) -> io::Result<Lookup> {
    let mut candidate: PathBuf = root.to_path_buf();
    candidate.extend(segments);
    let canon = match candidate.canonicalize() {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Ok(Lookup::Forbidden),
        Err(_) => return Ok(Lookup::NotFound),
    };
    if !canon.starts_with(root) {
        return Ok(Lookup::Forbidden);
    }
    let mut path = canon;
    if path.is_dir() {
        if !site {
            return Ok(Lookup::NotFound);
        }
        path.push("index.html");
        match path.canonicalize() {
            Ok(c) if c.starts_with(root) => path = c,
            Ok(_) => return Ok(Lookup::Forbidden),
            Err(_) => return Ok(Lookup::NotFound),
        }
    }
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Ok(Lookup::Forbidden),
        Err(_) => return Ok(Lookup::NotFound),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Lookup::NotFound);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Lookup::Found(Found {
        file,
        name,
        len: meta.len(),
        mtime: meta.modified()?,
    }))
}

/// Answers GET/HEAD for the file at percent-encoded `rest` under `root`.
pub async fn serve_file(
    root: &Path,
    rest: &str,
    req: &HeaderMap,
    head: bool,
    site: bool,
    faults: Faults,
) -> Response<Body> {
    let segments = match decode_segments(rest, site) {
        Ok(s) => s,
        Err(Refusal::Forbidden) => return plain(StatusCode::FORBIDDEN, "forbidden path\n"),
        Err(Refusal::BadRequest) => {
            return plain(StatusCode::BAD_REQUEST, "malformed percent-encoding\n")
        }
    };
    let root_owned = root.to_path_buf();
    let found = tokio::task::spawn_blocking(move || lookup(&root_owned, &segments, site)).await;
    let found = match found {
        Ok(Ok(Lookup::Found(f))) => f,
        Ok(Ok(Lookup::NotFound)) => return plain(StatusCode::NOT_FOUND, "not found\n"),
        Ok(Ok(Lookup::Forbidden)) => return plain(StatusCode::FORBIDDEN, "forbidden path\n"),
        Ok(Err(_)) | Err(_) => {
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file\n")
        }
    };
    respond(found, req, head, faults).await
}

/// The length of the data file at percent-encoded `rest`, if it is one.
pub async fn file_len(root: &Path, rest: &str) -> Option<u64> {
    let segments = decode_segments(rest, false).ok()?;
    let root = root.to_path_buf();
    match tokio::task::spawn_blocking(move || lookup(&root, &segments, false)).await {
        Ok(Ok(Lookup::Found(f))) => Some(f.len),
        _ => None,
    }
}

async fn respond(found: Found, req: &HeaderMap, head: bool, faults: Faults) -> Response<Body> {
    let len = found.len;
    let (etag, last_modified) = if faults.new_version {
        // Another version of the file: a later date and a tag no earlier response had.
        let later = found.mtime + std::time::Duration::from_secs(3600);
        let tag = headers::etag(len, found.mtime);
        let tag = format!("{}-v2\"", tag.trim_end_matches('"'));
        (tag, headers::http_date(later))
    } else {
        (
            headers::etag(len, found.mtime),
            headers::http_date(found.mtime),
        )
    };

    let mut ask = RangeAsk::Full;
    if !faults.ignore_range {
        if let Some(range) = req.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            ask = headers::parse_range(range, len);
            let if_range = req.get(header::IF_RANGE).map(|v| v.to_str().unwrap_or(""));
            if let Some(cond) = if_range {
                if !headers::if_range_matches(cond, &etag, &last_modified) {
                    ask = RangeAsk::Full;
                }
            }
        }
    }

    let (status, first, count) = match ask {
        RangeAsk::Full => (StatusCode::OK, 0, len),
        RangeAsk::Part { first, last } => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        RangeAsk::Unsatisfiable => (StatusCode::RANGE_NOT_SATISFIABLE, 0, 0),
    };

    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    let mut content_range = match ask {
        RangeAsk::Full => None,
        RangeAsk::Part { first, last } => Some(format!("bytes {first}-{last}/{len}")),
        RangeAsk::Unsatisfiable => Some(format!("bytes */{len}")),
    };
    // What the body really carries: `send` bytes of the file from `first`, then `extra` zeros.
    let (mut first, mut send, mut extra, mut content_length) = (first, count, 0, count);
    if let (Some(fault), RangeAsk::Part { first: a, last: b }) = (faults.body, ask) {
        match fault {
            BodyFault::BadRange => {
                // Other bytes than asked, and honest about it.
                let shifted = if a > 0 {
                    a - 1
                } else {
                    (a + 1).min(len - count)
                };
                let (a2, b2) = if shifted == a {
                    (a + 1, b + 1)
                } else {
                    (shifted, shifted + count - 1)
                };
                first = shifted;
                content_range = Some(format!("bytes {a2}-{b2}/{len}"));
            }
            BodyFault::Short => {
                send = count / 2;
                content_length = send;
            }
            BodyFault::Long => {
                extra = LONG_EXTRA;
                content_length = count + LONG_EXTRA;
            }
            _ => {}
        }
    }
    if let Some(v) = content_range.and_then(|cr| HeaderValue::from_str(&cr).ok()) {
        h.insert(header::CONTENT_RANGE, v);
    }
    if status != StatusCode::RANGE_NOT_SATISFIABLE {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(headers::content_type(&found.name)),
        );
    }
    if faults.gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(content_length));

    if head || content_length == 0 {
        return resp;
    }
    let mut file = tokio::fs::File::from_std(found.file);
    if first > 0 {
        if let Err(_e) = file.seek(SeekFrom::Start(first)).await {
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file\n");
        }
    }
    let body: BoxStream<'static, io::Result<Bytes>> = match faults.body {
        // The pause lets the server flush the head and the first half before the cut,
        // as a real broken connection would.
        Some(BodyFault::Truncate) => stream_body(file, send / 2, READ_CHUNK)
            .chain(pause_then(None))
            .boxed(),
        Some(BodyFault::Drop) => stream_body(file, send / 2, READ_CHUNK)
            .chain(pause_then(Some(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "injected fault: connection dropped",
            ))))
            .boxed(),
        Some(BodyFault::Stall(pause)) => futures::stream::once(tokio::time::sleep(pause))
            .filter_map(|()| async { None })
            .chain(stream_body(file, send, READ_CHUNK))
            .boxed(),
        Some(BodyFault::Slow(rate)) => {
            // About 20 pieces a second, each sent after the time it takes at `rate`.
            let piece = (rate / 20).max(1);
            let pause = std::time::Duration::from_secs_f64(piece as f64 / rate as f64);
            stream_body(file, send, piece)
                .then(move |item| async move {
                    tokio::time::sleep(pause).await;
                    item
                })
                .boxed()
        }
        _ => stream_body(file, send, READ_CHUNK).boxed(),
    };
    let body = if extra > 0 {
        let zeros = Bytes::from(vec![0u8; extra as usize]);
        body.chain(futures::stream::once(async move { Ok(zeros) }))
            .boxed()
    } else {
        body
    };
    *resp.body_mut() = Body::from_stream(body);
    resp
}

/// Ends a body after a short pause, with `err` if given (aborting the connection).
fn pause_then(
    err: Option<io::Error>,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures::stream::once(async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        err
    })
    .filter_map(|e| async move { e.map(Err) })
}

/// Exactly `count` bytes from the file's current position, a chunk at a time. A file that
/// shrinks mid-stream ends the body with an error (the client sees a short body).
fn stream_body(
    file: tokio::fs::File,
    count: u64,
    piece: u64,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures::stream::unfold((file, count), move |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let want = left.min(piece) as usize;
        let mut buf = vec![0u8; want];
        match file.read(&mut buf).await {
            Ok(0) => Some((
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shrank while being sent",
                )),
                (file, 0),
            )),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        let ok = |s: &str| decode_segments(s, false);
        assert_eq!(ok("a/b%20c.h5").unwrap(), vec!["a", "b c.h5"]);
        assert_eq!(ok("..").unwrap_err(), Refusal::Forbidden);
        assert_eq!(ok("%2e%2e/x").unwrap_err(), Refusal::Forbidden);
        assert_eq!(ok("%2E%2E").unwrap_err(), Refusal::Forbidden);
        assert_eq!(ok("a%2f..%2fb").unwrap_err(), Refusal::Forbidden);
        assert_eq!(ok("a%5c..").unwrap_err(), Refusal::Forbidden);
        assert_eq!(ok("/etc/passwd").unwrap_err(), Refusal::Forbidden);
        assert_eq!(ok("a//b").unwrap_err(), Refusal::Forbidden);
        assert_eq!(ok("a%00").unwrap_err(), Refusal::Forbidden);
        assert_eq!(ok("").unwrap_err(), Refusal::Forbidden);
        assert_eq!(ok("a%zz").unwrap_err(), Refusal::BadRequest);
        assert_eq!(ok("a%2").unwrap_err(), Refusal::BadRequest);
        assert_eq!(decode_segments("", true).unwrap(), vec!["index.html"]);
        assert_eq!(
            decode_segments("pkg/", true).unwrap(),
            vec!["pkg", "index.html"]
        );
    }
}
