//! Fault injection, chosen per request by URL, so that one server (`strobe serve --faults`)
//! serves clean and broken views of the same recordings side by side:
//!
//! ```text
//! /data/<file>                         the file, served correctly
//! /faults/<spec>/data/<file>           the same file, served with the fault <spec> names
//! ```
//!
//! `<spec>` is a comma-separated list holding exactly one fault and optional modifiers:
//!
//! | fault              | what the server does |
//! |--------------------|----------------------|
//! | `status=CODE`      | answers `CODE` (e.g. 503, 416 with `Content-Range: bytes */LEN`) and no data |
//! | `drop`             | sends the headers and half the body, then aborts the connection |
//! | `truncate`         | promises the range's length in `Content-Length`, sends half, ends the body |
//! | `stall=SECONDS`    | sends the headers, then nothing for SECONDS, then the body |
//! | `slow=BYTES_PER_S` | sends the body at that rate |
//! | `bad-range`        | answers other bytes than asked (shifted by one), saying so in `Content-Range` |
//! | `short` / `long`   | `Content-Range` names the asked bytes, the body has half of them / 512 bytes more (`Content-Length` matches the body, so only the client's own check can tell) |
//! | `change-after=K`   | from request K+1 on, a new version: other `ETag`/`Last-Modified`, and the bytes of `other=FILE` if given |
//! | `ignore-range`     | `200` with the whole file |
//! | `gzip`             | labels the body `Content-Encoding: gzip` (bytes unchanged) |
//!
//! Modifiers: `first=N` (only the first N requests are faulty), `every=K` (every K-th
//! request is), `key=TOKEN` (any text: requests are counted per spec and file, so tests that
//! pick their own token never share counters), `no-validator` (every response of the spec
//! goes without `ETag` and `Last-Modified`, as some servers send; a spec may hold it alone),
//! `retry-after=VALUE` (a `status=` fault sends `Retry-After: VALUE`, seconds or an HTTP-date).
//! Without `first`/`every` every request is faulty. `OPTIONS` preflights are answered
//! normally and not counted. Suffix requests (`Range: bytes=-N`, the optional tail a native
//! client reads beside a file's head) get the fault the next counted request would get but
//! are not counted or recorded: a client drops a failed tail instead of retrying it, so a
//! fault spent on one would never reach the request a test is about.
//!
//! What the server did under a `key=TOKEN` is at `/faults/stats?key=TOKEN` (JSON): requests
//! answered, each one's `Range` header and arrival (ms after the first), body bytes actually
//! handed to the connection, and bodies still being sent. Clients cannot see these from their
//! side: a test that a dropped read stops its download counts here.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};

use super::files::{self, Faults};
use super::plain;

/// Longest stall a spec may ask for, so a typo cannot park a connection for hours.
const MAX_STALL: Duration = Duration::from_secs(600);

/// Faults in the body of an otherwise normal response (see the module table).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BodyFault {
    Drop,
    Truncate,
    Stall(Duration),
    /// Bytes per second.
    Slow(u64),
    BadRange,
    Short,
    Long,
}

/// Bytes a `long` body carries past the range asked.
pub const LONG_EXTRA: u64 = 512;

/// One parsed `<spec>`.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    /// `None` only for a spec of modifiers alone (`no-validator`): served clean.
    fault: Option<Fault>,
    when: When,
    /// For `change-after`: the file whose bytes the new version has.
    other: Option<String>,
    key: Option<String>,
    no_validator: bool,
    retry_after: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Fault {
    Status(StatusCode),
    Body(BodyFault),
    ChangeAfter(u64),
    IgnoreRange,
    Gzip,
}

/// Which requests (1-based count per spec and file) the fault hits.
#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    Always,
    First(u64),
    Every(u64),
}

impl When {
    fn hits(self, n: u64) -> bool {
        match self {
            When::Always => true,
            When::First(k) => n <= k,
            When::Every(k) => k > 0 && n.is_multiple_of(k),
        }
    }
}

/// Request counters per spec and file, and what was sent under each `key=`.
#[derive(Debug, Default)]
pub struct Counters {
    counts: Mutex<HashMap<String, u64>>,
    stats: Mutex<HashMap<String, KeyStats>>,
}

/// What the server did for the requests of one `key=` token.
#[derive(Debug, Default)]
struct KeyStats {
    first: Option<Instant>,
    ranges: Vec<String>,
    arrivals_ms: Vec<u64>,
    /// Body bytes handed to the connection.
    sent: Arc<AtomicU64>,
    /// Bodies not yet finished or dropped.
    open: Arc<AtomicU64>,
}

impl Counters {
    /// Counts one more request under `key`; returns its 1-based number.
    fn bump(&self, key: &str) -> u64 {
        let mut map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(key.to_string()).or_insert(0);
        *n += 1;
        *n
    }

    /// The number the next request under `key` will get, without counting one.
    fn peek(&self, key: &str) -> u64 {
        let map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).copied().unwrap_or(0) + 1
    }

    /// Records a request under `token`; returns the counters its body adds to.
    fn record(&self, token: &str, range: Option<&str>) -> (Arc<AtomicU64>, Arc<AtomicU64>) {
        let mut map = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let st = map.entry(token.to_string()).or_default();
        let now = Instant::now();
        let first = *st.first.get_or_insert(now);
        st.arrivals_ms
            .push(now.duration_since(first).as_millis() as u64);
        st.ranges.push(range.unwrap_or("").to_string());
        (st.sent.clone(), st.open.clone())
    }

    /// The JSON of `/faults/stats?key=TOKEN`.
    fn stats_json(&self, token: &str) -> String {
        let map = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let quote = |s: &String| serde_json::Value::String(s.clone());
        let json = match map.get(token) {
            Some(st) => serde_json::json!({
                "requests": st.ranges.len(),
                "ranges": st.ranges.iter().map(quote).collect::<Vec<_>>(),
                "arrivals_ms": st.arrivals_ms,
                "bytes_sent": st.sent.load(Ordering::SeqCst),
                "open_bodies": st.open.load(Ordering::SeqCst),
            }),
            None => serde_json::json!({
                "requests": 0, "ranges": [], "arrivals_ms": [], "bytes_sent": 0, "open_bodies": 0,
            }),
        };
        json.to_string()
    }
}

/// Answers `/faults/stats?key=TOKEN`.
pub fn stats(counters: &Counters, query: Option<&str>) -> Response<Body> {
    let token = query
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("key="));
    let Some(token) = token else {
        return text(
            StatusCode::BAD_REQUEST,
            "ask /faults/stats?key=TOKEN (the key= of the fault URLs)\n".into(),
        );
    };
    let mut resp = Response::new(Body::from(counters.stats_json(token)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Drops one from a count of open bodies when the body it rides in is dropped.
struct OpenBody(Arc<AtomicU64>);

impl Drop for OpenBody {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `resp` with its body counted into `sent` as it is handed to the connection, and `open`
/// held one higher until the body ends or is dropped (the client went away).
fn counted(resp: Response<Body>, sent: Arc<AtomicU64>, open: Arc<AtomicU64>) -> Response<Body> {
    let (parts, body) = resp.into_parts();
    open.fetch_add(1, Ordering::SeqCst);
    let guard = OpenBody(open);
    let stream = body.into_data_stream().map(move |item| {
        let _alive = &guard;
        if let Ok(bytes) = &item {
            sent.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        }
        item
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

fn parse_spec(text: &str) -> Result<Spec, String> {
    let mut fault = None;
    let mut when = When::Always;
    let mut other = None;
    let mut token = None;
    let mut no_validator = false;
    let mut retry_after = None;
    let number = |key: &str, v: Option<&str>| -> Result<u64, String> {
        v.and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{key} needs a whole number, e.g. {key}=2"))
    };
    for item in text.split(',').filter(|s| !s.is_empty()) {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (item, None),
        };
        let found = match key {
            "status" => {
                let code = number(key, value)?;
                let status = u16::try_from(code)
                    .ok()
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .filter(|s| s.is_client_error() || s.is_server_error())
                    .ok_or("status must be a 4xx or 5xx code")?;
                Some(Fault::Status(status))
            }
            "drop" => Some(Fault::Body(BodyFault::Drop)),
            "truncate" => Some(Fault::Body(BodyFault::Truncate)),
            "stall" => {
                let secs: f64 = value
                    .and_then(|v| v.parse().ok())
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or("stall needs seconds, e.g. stall=2.5")?;
                let d = Duration::from_secs_f64(secs).min(MAX_STALL);
                Some(Fault::Body(BodyFault::Stall(d)))
            }
            "slow" => {
                let rate = number(key, value)?.max(1);
                Some(Fault::Body(BodyFault::Slow(rate)))
            }
            "bad-range" => Some(Fault::Body(BodyFault::BadRange)),
            "short" => Some(Fault::Body(BodyFault::Short)),
            "long" => Some(Fault::Body(BodyFault::Long)),
            "change-after" => Some(Fault::ChangeAfter(number(key, value)?)),
            "ignore-range" => Some(Fault::IgnoreRange),
            "gzip" => Some(Fault::Gzip),
            "first" => {
                when = When::First(number(key, value)?);
                None
            }
            "every" => {
                when = When::Every(number(key, value)?.max(1));
                None
            }
            "other" => {
                other = Some(value.unwrap_or_default().to_string());
                None
            }
            "key" => {
                token = value.map(str::to_string);
                None
            }
            "no-validator" => {
                no_validator = true;
                None
            }
            "retry-after" => {
                let v = value.filter(|v| !v.is_empty());
                retry_after = Some(
                    v.ok_or("retry-after needs a value, e.g. retry-after=1")?
                        .to_string(),
                );
                None
            }
            _ => return Err(format!("unknown fault spec item {item:?}")),
        };
        if let Some(f) = found {
            if fault.is_some() {
                return Err("one fault per spec".into());
            }
            fault = Some(f);
        }
    }
    if fault.is_none() && !no_validator {
        return Err("the spec names no fault (status=, drop, stall=, ...)".into());
    }
    Ok(Spec {
        fault,
        when,
        other,
        key: token,
        no_validator,
        retry_after,
    })
}

/// Answers GET/HEAD for `/faults/<rest>` (`rest` = `<spec>/data/<file>`).
pub async fn serve(
    data_root: &Path,
    counters: &Counters,
    rest: &str,
    req: &HeaderMap,
    head: bool,
) -> Response<Body> {
    let Some((spec_text, file)) = rest
        .split_once('/')
        .and_then(|(spec, tail)| Some((spec, tail.strip_prefix("data/")?)))
    else {
        return plain(
            StatusCode::NOT_FOUND,
            "fault URLs look like /faults/<spec>/data/<file>\n",
        );
    };
    let spec = match parse_spec(spec_text) {
        Ok(s) => s,
        Err(msg) => return text(StatusCode::BAD_REQUEST, format!("bad fault spec: {msg}\n")),
    };
    let range = req.get(header::RANGE).and_then(|v| v.to_str().ok());
    let key = format!("{spec_text}/{file}");
    if range.is_some_and(|r| r.trim_start().starts_with("bytes=-")) {
        // The optional tail a client asks for beside a file's head (see the module docs):
        // faulty as the next counted request would be, but neither counted nor recorded.
        let resp = answer(&spec, counters.peek(&key), data_root, file, req, head).await;
        return if spec.no_validator {
            without_validators(resp)
        } else {
            resp
        };
    }
    let n = counters.bump(&key);
    let resp = answer(&spec, n, data_root, file, req, head).await;
    let resp = if spec.no_validator {
        without_validators(resp)
    } else {
        resp
    };
    match &spec.key {
        Some(token) => {
            let (sent, open) = counters.record(token, range);
            counted(resp, sent, open)
        }
        None => resp,
    }
}

/// The response to request number `n` of `spec`.
async fn answer(
    spec: &Spec,
    n: u64,
    data_root: &Path,
    file: &str,
    req: &HeaderMap,
    head: bool,
) -> Response<Body> {
    let clean = || files::serve_file(data_root, file, req, head, false, Faults::default());
    let Some(fault) = &spec.fault else {
        return clean().await;
    };
    match *fault {
        Fault::ChangeAfter(k) if n > k => {
            let name = spec.other.as_deref().unwrap_or(file);
            let faults = Faults {
                new_version: true,
                ..Faults::default()
            };
            files::serve_file(data_root, name, req, head, false, faults).await
        }
        Fault::ChangeAfter(_) => clean().await,
        _ if !spec.when.hits(n) => clean().await,
        Fault::Status(status) => {
            let mut resp = text(status, format!("injected fault: HTTP {status}\n"));
            if status == StatusCode::RANGE_NOT_SATISFIABLE {
                if let Some(len) = files::file_len(data_root, file).await {
                    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                        resp.headers_mut().insert(header::CONTENT_RANGE, v);
                    }
                }
            }
            if let Some(v) = spec
                .retry_after
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Fault::Body(body) => {
            let faults = Faults {
                body: Some(body),
                ..Faults::default()
            };
            files::serve_file(data_root, file, req, head, false, faults).await
        }
        Fault::IgnoreRange => {
            let faults = Faults {
                ignore_range: true,
                ..Faults::default()
            };
            files::serve_file(data_root, file, req, head, false, faults).await
        }
        Fault::Gzip => {
            let faults = Faults {
                gzip: true,
                ..Faults::default()
            };
            files::serve_file(data_root, file, req, head, false, faults).await
        }
    }
}

/// `resp` without `ETag` and `Last-Modified`, as a server that sends no validator answers.
fn without_validators(mut resp: Response<Body>) -> Response<Body> {
    resp.headers_mut().remove(header::ETAG);
    resp.headers_mut().remove(header::LAST_MODIFIED);
    resp
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let s = parse_spec("key=a1,status=503,first=2").unwrap();
        assert_eq!(
            s.fault,
            Some(Fault::Status(StatusCode::SERVICE_UNAVAILABLE))
        );
        assert_eq!(s.key.as_deref(), Some("a1"));
        assert!(!s.no_validator && s.retry_after.is_none());
        assert_eq!(s.when, When::First(2));
        assert!(s.when.hits(2) && !s.when.hits(3));
        let s = parse_spec("stall=1.5,every=3").unwrap();
        assert_eq!(
            s.fault,
            Some(Fault::Body(BodyFault::Stall(Duration::from_millis(1500))))
        );
        assert!(!s.when.hits(2) && s.when.hits(3) && s.when.hits(6));
        let s = parse_spec("change-after=4,other=b.h5").unwrap();
        assert_eq!(s.fault, Some(Fault::ChangeAfter(4)));
        assert_eq!(s.other.as_deref(), Some("b.h5"));
        let s = parse_spec("change-after=4,no-validator").unwrap();
        assert!(s.no_validator);
        let s = parse_spec("no-validator,key=k").unwrap();
        assert_eq!((s.fault, s.no_validator), (None, true));
        let s = parse_spec("status=429,retry-after=1").unwrap();
        assert_eq!(s.retry_after.as_deref(), Some("1"));
        assert!(parse_spec("status=429,retry-after=").is_err());
        assert!(parse_spec("key=x").is_err());
        assert!(parse_spec("drop,short").is_err());
        assert!(parse_spec("status=200").is_err());
        assert!(parse_spec("status=abc").is_err());
        assert!(parse_spec("frobnicate").is_err());
    }
}
