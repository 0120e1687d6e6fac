//! Bytes over HTTP from inside the browser: one `fetch` with a `Range` header per range.
//!
//! Works in a page and in a Web Worker (it uses whichever global scope it runs in). Every
//! range of one [`RangeSource::read_ranges`] call is requested at once, at most
//! [`MAX_IN_FLIGHT`] at a time, and every answer is checked as strictly as the native HTTP
//! source checks it: `206` with a `Content-Range` naming exactly the bytes asked for and a body
//! of exactly that length. What a browser adds is CORS: a cross-origin server must allow the
//! page (`Access-Control-Allow-Origin`) and expose `Content-Range` to scripts
//! (`Access-Control-Expose-Headers`), and the errors here say so when that is the likely cause.

use std::cell::RefCell;

use async_trait::async_trait;
use bytes::Bytes;
use js_sys::{Promise, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, RequestMode, Response, Window, WorkerGlobalScope};

use super::{ByteRange, RangeSource, SourceError};

/// How many range requests one `read_ranges` call keeps in flight at once.
pub const MAX_IN_FLIGHT: usize = 16;

/// What a cross-origin server must send so that range reads work from a page.
const CORS_FIX: &str = "the server must send `Access-Control-Allow-Origin` and \
    `Access-Control-Expose-Headers: Content-Range, Content-Length, ETag, Accept-Ranges`";

/// A file behind a URL, read with browser `fetch` range requests.
#[derive(Debug)]
pub struct FetchSource {
    url: String,
    state: RefCell<State>,
}

/// What earlier answers told about the file. Only touched between awaits (single thread).
#[derive(Debug, Default)]
struct State {
    len: Option<u64>,
    validator: Option<String>,
}

/// A parsed `Content-Range: bytes FIRST-LAST/TOTAL` (`LAST` inclusive; `TOTAL` may be `*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// First and last byte (inclusive) of the body, absent for the `bytes */TOTAL` form of 416.
    pub span: Option<(u64, u64)>,
    /// Length of the whole file, if the server said.
    pub total: Option<u64>,
}

/// Parses a `Content-Range` header value; `None` when it is not a single `bytes` range.
pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    let value = value.trim();
    let (unit, rest) = value.split_once(|c: char| c.is_ascii_whitespace())?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (span, total) = rest.trim().split_once('/')?;
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let total = match total.trim() {
        "*" => None,
        t => Some(number(t)?),
    };
    let span = match span.trim() {
        "*" => None,
        s => {
            let (first, last) = s.split_once('-')?;
            let (first, last) = (number(first)?, number(last)?);
            if last < first {
                return None;
            }
            if let Some(total) = total {
                if last >= total {
                    return None;
                }
            }
            Some((first, last))
        }
    };
    if span.is_none() && total.is_none() {
        return None;
    }
    Some(ContentRange { span, total })
}

impl FetchSource {
    /// A source for `url` (absolute, or relative to the page). Nothing is fetched yet.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            state: RefCell::new(State::default()),
        }
    }

    /// The URL this source reads.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn bad(&self, reason: impl Into<String>) -> SourceError {
        SourceError::BadResponse {
            url: self.url.clone(),
            reason: reason.into(),
        }
    }

    fn network(&self, err: &JsValue, during: &str) -> SourceError {
        SourceError::Network {
            url: self.url.clone(),
            reason: format!(
                "{during}: {} — likely causes: the server does not let this page read it \
                 cross-origin ({CORS_FIX}); the server is down or unreachable; or it sends the \
                 file compressed and the browser could not decode a piece of it (turn off \
                 gzip/brotli for .h5 files)",
                js_error_text(err)
            ),
        }
    }

    /// Issues `GET url` with `Range: bytes=first-last` and waits for the response head.
    async fn get_range(&self, first: u64, last: u64) -> Result<Response, SourceError> {
        let headers = Headers::new().map_err(|e| self.network(&e, "could not build a request"))?;
        headers
            .set("Range", &format!("bytes={first}-{last}"))
            .map_err(|e| self.network(&e, "could not build a request"))?;
        let init = RequestInit::new();
        init.set_method("GET");
        init.set_mode(RequestMode::Cors);
        init.set_headers(&headers);
        let request = Request::new_with_str_and_init(&self.url, &init).map_err(|e| {
            self.bad(format!(
                "not a URL the browser can fetch: {}",
                js_error_text(&e)
            ))
        })?;
        let promise = start_fetch(&request).map_err(|e| self.network(&e, "fetch failed"))?;
        let response = JsFuture::from(promise)
            .await
            .map_err(|e| self.network(&e, "fetch failed"))?;
        response
            .dyn_into::<Response>()
            .map_err(|_| self.bad("fetch resolved to something that is not a Response"))
    }

    /// Checks a response's status and headers against the range `[first, last]` asked for, and
    /// records or compares the file's length and validator. Returns the parsed `Content-Range`.
    fn check_head(
        &self,
        response: &Response,
        first: u64,
        last: u64,
    ) -> Result<ContentRange, SourceError> {
        let status = response.status();
        let headers = response.headers();
        let header = |name: &str| headers.get(name).ok().flatten();
        match status {
            206 => {}
            200 => {
                discard_body(response);
                return Err(SourceError::RangeIgnored {
                    url: self.url.clone(),
                });
            }
            416 => {
                discard_body(response);
                // `bytes */LEN`: the range starts past the end of the file.
                if let Some(len) = header("Content-Range")
                    .and_then(|v| parse_content_range(&v))
                    .and_then(|cr| cr.total)
                {
                    self.note_len(len)?;
                    return Err(SourceError::OutOfBounds {
                        what: self.url.clone(),
                        range: ByteRange::new(first, last.saturating_add(1)),
                        len,
                    });
                }
                return Err(SourceError::HttpStatus {
                    url: self.url.clone(),
                    status,
                });
            }
            400..=599 => {
                discard_body(response);
                return Err(SourceError::HttpStatus {
                    url: self.url.clone(),
                    status,
                });
            }
            0 => {
                return Err(self.bad(format!(
                    "the browser hid the response (status 0, an opaque response) — {CORS_FIX}"
                )))
            }
            other => {
                discard_body(response);
                return Err(self.bad(format!(
                    "unexpected HTTP status {other} to a Range request (expected 206 Partial Content)"
                )));
            }
        }

        // Only visible cross-origin if exposed; the browser would decode it behind our back.
        if let Some(encoding) = header("Content-Encoding") {
            let encodings: Vec<&str> = encoding
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("identity"))
                .collect();
            if !encodings.is_empty() {
                discard_body(response);
                return Err(SourceError::ContentEncoded {
                    url: self.url.clone(),
                    encoding: encodings.join(", "),
                });
            }
        }

        let Some(raw) = header("Content-Range") else {
            discard_body(response);
            return Err(self.bad(format!(
                "the server answered 206 but its Content-Range header is not readable from this \
                 page (a cross-origin server must expose it) — {CORS_FIX}"
            )));
        };
        let Some(content_range) = parse_content_range(&raw) else {
            discard_body(response);
            return Err(self.bad(format!(
                "unreadable Content-Range {raw:?} (expected `bytes FIRST-LAST/TOTAL`)"
            )));
        };

        // Validator first: a changed file explains any mismatch below better than anything.
        let validator = header("ETag")
            .filter(|v| !v.trim().is_empty())
            .or_else(|| header("Last-Modified").filter(|v| !v.trim().is_empty()));
        if let Some(validator) = validator {
            self.note_validator(validator)?;
        }
        if let Some(total) = content_range.total {
            self.note_len(total)?;
            if last >= total {
                // The server clamped a range that runs past the end of the file.
                discard_body(response);
                return Err(SourceError::OutOfBounds {
                    what: self.url.clone(),
                    range: ByteRange::new(first, last.saturating_add(1)),
                    len: total,
                });
            }
        }

        match content_range.span {
            Some((f, l)) if f == first && l == last => Ok(content_range),
            Some((f, l)) => {
                discard_body(response);
                Err(self.bad(format!(
                    "asked for bytes {first}-{last}, the server sent bytes {f}-{l} (Content-Range {raw:?})"
                )))
            }
            None => {
                discard_body(response);
                Err(self.bad(format!(
                    "206 response with Content-Range {raw:?} names no byte span"
                )))
            }
        }
    }

    /// Records the file length, or reports that it changed.
    fn note_len(&self, len: u64) -> Result<(), SourceError> {
        let mut state = self.state.borrow_mut();
        match state.len {
            None => {
                state.len = Some(len);
                Ok(())
            }
            Some(before) if before == len => Ok(()),
            Some(before) => Err(SourceError::Changed {
                what: self.url.clone(),
                before: format!("{before} bytes"),
                after: format!("{len} bytes"),
            }),
        }
    }

    /// Records the validator (ETag, else Last-Modified), or reports that it changed.
    fn note_validator(&self, validator: String) -> Result<(), SourceError> {
        let mut state = self.state.borrow_mut();
        match &state.validator {
            None => {
                state.validator = Some(validator);
                Ok(())
            }
            Some(before) if *before == validator => Ok(()),
            Some(before) => Err(SourceError::Changed {
                what: self.url.clone(),
                before: before.clone(),
                after: validator,
            }),
        }
    }

    /// Reads one non-empty range, fully checked.
    async fn read_one(&self, range: ByteRange) -> Result<Bytes, SourceError> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let known_len = self.state.borrow().len;
        if let Some(len) = known_len {
            if range.end > len {
                return Err(SourceError::OutOfBounds {
                    what: self.url.clone(),
                    range,
                    len,
                });
            }
        }
        let (first, last) = (range.start, range.end - 1);
        let response = self.get_range(first, last).await?;
        self.check_head(&response, first, last)?;
        let body = read_body(&response)
            .await
            .map_err(|e| self.network(&e, "reading the response body failed"))?;
        if body.len() as u64 != range.len() {
            return Err(self.bad(format!(
                "asked for {} bytes ({range}), the body has {} bytes",
                range.len(),
                body.len()
            )));
        }
        Ok(Bytes::from(body))
    }
}

#[async_trait(?Send)]
impl RangeSource for FetchSource {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        super::read_each(ranges, MAX_IN_FLIGHT, |range| self.read_one(range)).await
    }

    async fn len(&self) -> Result<u64, SourceError> {
        let known_len = self.state.borrow().len;
        if let Some(len) = known_len {
            return Ok(len);
        }
        let response = self.get_range(0, 0).await?;
        if response.status() == 416 {
            // Only an empty file has no byte 0.
            let total = response
                .headers()
                .get("Content-Range")
                .ok()
                .flatten()
                .and_then(|v| parse_content_range(&v))
                .and_then(|cr| cr.total);
            discard_body(&response);
            if total == Some(0) {
                self.note_len(0)?;
                return Ok(0);
            }
        }
        let content_range = self.check_head(&response, 0, 0)?;
        discard_body(&response);
        content_range.total.ok_or_else(|| {
            self.bad("the server's Content-Range does not give the file length (`bytes 0-0/*`)")
        })
    }

    async fn read_head(&self, max: u64) -> Result<(Bytes, u64), SourceError> {
        let known_len = self.state.borrow().len;
        if known_len.is_none() && max > 0 {
            // One GET learns the length (Content-Range total) and brings the head. Anything
            // unexpected (a file shorter than `max`, an error status) falls back to the plain
            // way below, which reports errors precisely.
            let response = self.get_range(0, max - 1).await?;
            if response.status() == 206 {
                if let Ok(ContentRange {
                    total: Some(total), ..
                }) = self.check_head(&response, 0, max - 1)
                {
                    let body = read_body(&response)
                        .await
                        .map_err(|e| self.network(&e, "reading the response body failed"))?;
                    if body.len() as u64 == max {
                        return Ok((Bytes::from(body), total));
                    }
                } else {
                    discard_body(&response);
                }
            } else {
                discard_body(&response);
            }
        }
        let len = self.len().await?;
        let head = self.read_one(ByteRange::new(0, max.min(len))).await?;
        Ok((head, len))
    }

    fn validator(&self) -> Option<String> {
        self.state.borrow().validator.clone()
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

/// Starts `fetch(request)` on whichever global scope this runs in (page or worker).
fn start_fetch(request: &Request) -> Result<Promise, JsValue> {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<Window>() {
        Ok(window.fetch_with_request(request))
    } else if let Some(worker) = global.dyn_ref::<WorkerGlobalScope>() {
        Ok(worker.fetch_with_request(request))
    } else {
        Err(JsValue::from_str(
            "no fetch here: neither a Window nor a WorkerGlobalScope",
        ))
    }
}

/// Reads the whole body of `response`.
async fn read_body(response: &Response) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Cancels the body of a response we won't read, so a server that ignored `Range` does not
/// keep streaming a whole file into the browser. Best effort; errors are ignored.
fn discard_body(response: &Response) {
    let Ok(body) = js_sys::Reflect::get(response, &JsValue::from_str("body")) else {
        return;
    };
    if body.is_null() || body.is_undefined() {
        return;
    }
    let Ok(cancel) = js_sys::Reflect::get(&body, &JsValue::from_str("cancel")) else {
        return;
    };
    if let Some(cancel) = cancel.dyn_ref::<js_sys::Function>() {
        if let Ok(promise) = cancel.call0(&body) {
            // Swallow the rejection a locked or errored stream gives, so it is not reported
            // as unhandled.
            if let Ok(promise) = promise.dyn_into::<Promise>() {
                IGNORE.with(|ignore| {
                    let _ = promise.catch(ignore);
                });
            }
        }
    }
}

thread_local! {
    /// A do-nothing rejection handler (a Rust closure, so no `eval` is needed under a strict CSP).
    static IGNORE: Closure<dyn FnMut(JsValue)> = Closure::new(|_: JsValue| {});
}

/// The message of a JS error value (`TypeError: Failed to fetch`), or its string form.
pub(crate) fn js_error_text(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        let name = String::from(err.name());
        let message = String::from(err.message());
        return if name.is_empty() {
            message
        } else {
            format!("{name}: {message}")
        };
    }
    if let Some(s) = value.as_string() {
        return s;
    }
    format!("{value:?}")
}
