//! Bytes over HTTP from inside the browser: one `fetch` with a `Range` header per range.
//!
//! Works in a page and in a Web Worker (it uses whichever global scope it runs in). Every
//! range of one [`RangeSource::read_ranges`] call is requested at once, at most
//! [`MAX_IN_FLIGHT`] at a time, and every answer is checked as strictly as the native HTTP
//! source checks it: `206` with a `Content-Range` naming exactly the bytes asked for and a body
//! of exactly that length. What a browser adds is CORS: a cross-origin server must allow the
//! page (`Access-Control-Allow-Origin`) and expose `Content-Range` to scripts
//! (`Access-Control-Expose-Headers`), and the errors here say so when that is the likely cause.
//!
//! Faults are handled as natively ([`RetryPolicy`]): transient failures are retried with
//! growing pauses, a server silent for longer than the stall limit is aborted
//! (`AbortController`) and retried, and every request still running when its future is
//! dropped is aborted, so cancelling a load stops its downloads at once. Bodies are read
//! piece by piece into [`Received`], a live byte count for progress.

use std::cell::{Cell, RefCell};
use std::future::Future;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::future::{select, Either};
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, Request, RequestCache, RequestInit, RequestMode, Response, Window,
    WorkerGlobalScope,
};

use super::retry::{gave_up, Attempt};
use super::{ByteRange, RangeSource, Received, RetryPolicy, SourceError};

/// How many range requests one `read_ranges` call keeps in flight at once.
pub const MAX_IN_FLIGHT: usize = 16;

/// What a cross-origin server must send so that range reads work from a page.
const CORS_FIX: &str = "the server must send `Access-Control-Allow-Origin` and \
    `Access-Control-Expose-Headers: Content-Range, Content-Length, ETag, Accept-Ranges`";

/// A file behind a URL, read with browser `fetch` range requests.
#[derive(Debug)]
pub struct FetchSource {
    url: String,
    policy: RetryPolicy,
    whole_file_limit: u64,
    received: Received,
    state: RefCell<State>,
}

/// What earlier answers told about the file. Only touched between awaits (single thread).
#[derive(Debug, Default)]
struct State {
    len: Option<u64>,
    validator: Option<String>,
    /// The whole file, when a server that ignores `Range` sent it and it was small enough.
    whole: Option<Bytes>,
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
            policy: RetryPolicy::default(),
            whole_file_limit: 0,
            received: Received::default(),
            state: RefCell::new(State::default()),
        }
    }

    /// Changes how failed requests are retried and when a silent server counts as stalled.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// When the server ignores `Range` and the whole file is at most `limit` bytes, keep the
    /// `200` body in memory and serve every read from it (0, the default: report
    /// [`SourceError::RangeIgnored`]). See [`super::SUGGESTED_WHOLE_FILE_LIMIT`].
    pub fn with_whole_file_limit(mut self, limit: u64) -> Self {
        self.whole_file_limit = limit;
        self
    }

    /// A live count of body bytes received, for progress while a read is under way.
    pub fn received(&self) -> Received {
        self.received.clone()
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

    fn stalled(&self, waiting_for: &str) -> SourceError {
        SourceError::Network {
            url: self.url.clone(),
            reason: format!(
                "the server stalled: nothing for {:.1} s while waiting for {waiting_for}",
                self.policy.stall.as_secs_f64()
            ),
        }
    }

    /// Runs `attempt` while it asks for a retry, as the policy allows; a failure that
    /// outlasts the retries becomes [`SourceError::GaveUp`] naming the last one.
    async fn with_retries<T, F, Fut>(&self, mut attempt: F) -> Result<T, SourceError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Attempt<T>>,
    {
        let mut tries = 1;
        loop {
            match attempt().await {
                Attempt::Done(result) => return result,
                Attempt::Retry(err) => match self.policy.pause_before(tries + 1) {
                    Some(pause) => {
                        Timer::start(pause.as_millis() as i32).await;
                        tries += 1;
                    }
                    None if tries == 1 => return Err(err),
                    None => return Err(gave_up(&self.url, tries, &err)),
                },
            }
        }
    }

    /// Awaits `promise`, or gives up on it after the stall limit (`Err(None)`).
    async fn within_stall(&self, promise: Promise) -> Result<JsValue, Option<JsValue>> {
        let timer = Timer::start(self.policy.stall.as_millis().min(i32::MAX as u128) as i32);
        match select(JsFuture::from(promise), timer).await {
            Either::Left((result, _)) => result.map_err(Some),
            Either::Right(_) => Err(None),
        }
    }

    /// One try at `range`: GET, check the head, read the body piece by piece. The request is
    /// aborted when this future ends or is dropped, whatever happened.
    async fn try_range(&self, range: ByteRange) -> Attempt<(Bytes, ContentRange)> {
        let (first, last) = (range.start, range.end - 1);
        let controller = match AbortController::new() {
            Ok(c) => AbortOnDrop(c),
            Err(e) => return Attempt::Done(Err(self.network(&e, "could not set up a request"))),
        };
        let request = match self.request(first, last, &controller.0) {
            Ok(r) => r,
            Err(e) => return Attempt::Done(Err(e)),
        };
        let promise = match start_fetch(&request) {
            Ok(p) => p,
            Err(e) => return Attempt::Done(Err(self.network(&e, "fetch failed"))),
        };
        let response = match self.within_stall(promise).await {
            Ok(r) => r,
            Err(Some(e)) => return Attempt::Retry(self.network(&e, "fetch failed")),
            Err(None) => return Attempt::Retry(self.stalled("the response")),
        };
        let Ok(response) = response.dyn_into::<Response>() else {
            return Attempt::Done(Err(
                self.bad("fetch resolved to something that is not a Response")
            ));
        };
        let status = response.status();
        if status == 200 {
            return self.take_whole(&response, range).await;
        }
        if status >= 500 || status == 408 || status == 429 {
            return Attempt::Retry(SourceError::ServerFailing {
                url: self.url.clone(),
                status,
            });
        }
        let content_range = match self.check_head(&response, first, last) {
            Ok(cr) => cr,
            Err(attempt) => return attempt,
        };
        let Ok(want) = usize::try_from(range.len()) else {
            return Attempt::Done(Err(self.bad(format!("{range} is too large to hold"))));
        };
        let mut body = BytesMut::with_capacity(want);
        let outcome = self
            .read_body(&response, |piece, n| {
                if body.len() + n > want {
                    return false;
                }
                append(&mut body, piece, n);
                true
            })
            .await;
        match outcome {
            Ok(true) if body.len() == want => Attempt::Done(Ok((body.freeze(), content_range))),
            Ok(true) => Attempt::Retry(self.bad(format!(
                "asked for {} bytes ({range}), the body has {} bytes — the response is not the bytes asked for",
                range.len(),
                body.len()
            ))),
            Ok(false) => Attempt::Retry(self.bad(format!(
                "asked for {} bytes ({range}), the body is longer — the response is not the bytes asked for",
                range.len()
            ))),
            Err(e) => Attempt::Retry(e),
        }
    }

    /// `GET url` with `Range: bytes=first-last`, abortable through `controller`.
    fn request(
        &self,
        first: u64,
        last: u64,
        controller: &AbortController,
    ) -> Result<Request, SourceError> {
        let headers = Headers::new().map_err(|e| self.network(&e, "could not build a request"))?;
        headers
            .set("Range", &format!("bytes={first}-{last}"))
            .map_err(|e| self.network(&e, "could not build a request"))?;
        let init = RequestInit::new();
        init.set_method("GET");
        init.set_mode(RequestMode::Cors);
        // Past the browser's HTTP cache: Chromium lets one request per URL through its cache
        // at a time, so a round's ranges of one file arrived one by one (a 60-request seek
        // took 3.4 s behind 50 ms of latency). Strobe's own cache keeps the bytes.
        init.set_cache(RequestCache::NoStore);
        init.set_headers(&headers);
        init.set_signal(Some(&controller.signal()));
        Request::new_with_str_and_init(&self.url, &init).map_err(|e| {
            self.bad(format!(
                "not a URL the browser can fetch: {}",
                js_error_text(&e)
            ))
        })
    }

    /// Feeds the body to `take` piece by piece (counting it as received) until it ends
    /// (`Ok(true)`) or `take` refuses a piece (`Ok(false)`). A stall or a broken connection
    /// is an error worth another try.
    async fn read_body(
        &self,
        response: &Response,
        mut take: impl FnMut(&Uint8Array, usize) -> bool,
    ) -> Result<bool, SourceError> {
        let reading = |e: &JsValue| self.network(e, "reading the response body failed");
        let Some(body) = response.body() else {
            return Ok(true); // no body at all: an empty one
        };
        let reader = call0(&body, "getReader").map_err(|e| reading(&e))?;
        loop {
            let promise = call0(&reader, "read")
                .and_then(|p| p.dyn_into::<Promise>())
                .map_err(|e| reading(&e))?;
            let chunk = match self.within_stall(promise).await {
                Ok(chunk) => chunk,
                Err(Some(e)) => return Err(reading(&e)),
                Err(None) => return Err(self.stalled("the rest of the body")),
            };
            let done = Reflect::get(&chunk, &JsValue::from_str("done"))
                .map(|d| d.is_truthy())
                .unwrap_or(true);
            if done {
                return Ok(true);
            }
            let value =
                Reflect::get(&chunk, &JsValue::from_str("value")).map_err(|e| reading(&e))?;
            let piece = Uint8Array::new(&value);
            let n = piece.length() as usize;
            self.received.add(n);
            if !take(&piece, n) {
                return Ok(false);
            }
        }
    }

    /// A `200` with the whole file: kept in memory if within the whole-file limit, else the
    /// server is reported as ignoring `Range`.
    async fn take_whole(
        &self,
        response: &Response,
        range: ByteRange,
    ) -> Attempt<(Bytes, ContentRange)> {
        let limit = self.whole_file_limit;
        let url = self.url.clone();
        let headers = response.headers();
        let header = |name: &str| headers.get(name).ok().flatten();
        // A 200 where 206s came before: the file changed (a browser cache asking with
        // `If-Range` gets the new version whole), not a server that ignores Range.
        if let Some(v) = validator_of(&header) {
            if let Err(e) = self.note_validator(v) {
                return Attempt::Done(Err(e));
            }
        }
        if limit == 0 {
            return Attempt::Done(Err(SourceError::RangeIgnored { url }));
        }
        let too_large = |len: u64| SourceError::RangeIgnoredTooLarge {
            url: url.clone(),
            len,
            limit,
        };
        let promised = header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(len) = promised.filter(|&len| len > limit) {
            return Attempt::Done(Err(too_large(len)));
        }
        let validator = validator_of(&header);
        let mut body = BytesMut::new();
        let outcome = self
            .read_body(response, |piece, n| {
                if (body.len() + n) as u64 > limit {
                    return false;
                }
                append(&mut body, piece, n);
                true
            })
            .await;
        match outcome {
            Ok(true) => {}
            Ok(false) => return Attempt::Done(Err(too_large(limit.saturating_add(1)))),
            Err(e) => return Attempt::Retry(e),
        }
        let len = body.len() as u64;
        if promised.is_some_and(|p| p != len) {
            return Attempt::Retry(self.bad(format!(
                "the whole-file body has {len} bytes, Content-Length said {promised:?}"
            )));
        }
        if let Err(e) = self.note(validator, len) {
            return Attempt::Done(Err(e));
        }
        let whole = body.freeze();
        self.state.borrow_mut().whole = Some(whole.clone());
        match slice_of(&whole, range) {
            Some(bytes) => Attempt::Done(Ok((
                bytes,
                ContentRange {
                    span: Some((range.start, range.end - 1)),
                    total: Some(len),
                },
            ))),
            None => Attempt::Done(Err(SourceError::OutOfBounds {
                what: self.url.clone(),
                range,
                len,
            })),
        }
    }

    /// Checks a non-200, non-retryable response's status and headers against the range
    /// `[first, last]` asked for, and records or compares the file's length and validator.
    /// Returns the parsed `Content-Range`, or the failed attempt.
    fn check_head<T>(
        &self,
        response: &Response,
        first: u64,
        last: u64,
    ) -> Result<ContentRange, Attempt<T>> {
        let done = |e| Attempt::Done(Err(e));
        let status = response.status();
        let headers = response.headers();
        let header = |name: &str| headers.get(name).ok().flatten();
        let range = ByteRange::new(first, last.saturating_add(1));
        match status {
            206 => {}
            416 => {
                // `bytes */LEN`: the range starts past the end of the file.
                let len = header("Content-Range")
                    .and_then(|v| parse_content_range(&v))
                    .and_then(|cr| cr.total);
                return Err(done(match len {
                    Some(len) if range.end <= len => self.bad(format!(
                        "the server refused {range} (HTTP 416 Range Not Satisfiable) although \
                         the file has {len} bytes — the server or a proxy mishandles Range requests"
                    )),
                    Some(len) => {
                        if let Err(e) = self.note_len(len) {
                            return Err(done(e));
                        }
                        SourceError::OutOfBounds {
                            what: self.url.clone(),
                            range,
                            len,
                        }
                    }
                    None => SourceError::HttpStatus {
                        url: self.url.clone(),
                        status,
                    },
                }));
            }
            400..=599 => {
                return Err(done(SourceError::HttpStatus {
                    url: self.url.clone(),
                    status,
                }));
            }
            0 => {
                return Err(done(self.bad(format!(
                    "the browser hid the response (status 0, an opaque response) — {CORS_FIX}"
                ))))
            }
            other => {
                return Err(done(self.bad(format!(
                    "unexpected HTTP status {other} to a Range request (expected 206 Partial Content)"
                ))));
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
                return Err(done(SourceError::ContentEncoded {
                    url: self.url.clone(),
                    encoding: encodings.join(", "),
                }));
            }
        }

        let Some(raw) = header("Content-Range") else {
            return Err(done(self.bad(format!(
                "the server answered 206 but its Content-Range header is not readable from this \
                 page (a cross-origin server must expose it) — {CORS_FIX}"
            ))));
        };
        let Some(content_range) = parse_content_range(&raw) else {
            return Err(done(self.bad(format!(
                "unreadable Content-Range {raw:?} (expected `bytes FIRST-LAST/TOTAL`)"
            ))));
        };

        // Validator first: a changed file explains any mismatch below better than anything.
        if let Some(validator) = validator_of(&header) {
            self.note_validator(validator).map_err(done)?;
        }
        if let Some(total) = content_range.total {
            self.note_len(total).map_err(done)?;
            if last >= total {
                // The server clamped a range that runs past the end of the file.
                return Err(done(SourceError::OutOfBounds {
                    what: self.url.clone(),
                    range,
                    len: total,
                }));
            }
        }

        match content_range.span {
            Some((f, l)) if f == first && l == last => Ok(content_range),
            // Other bytes than asked: a confused proxy may do that once; worth a retry.
            Some((f, l)) => Err(Attempt::Retry(self.bad(format!(
                "asked for bytes {first}-{last}, the server sent bytes {f}-{l} (Content-Range \
                 {raw:?}) — it answers with other bytes than asked"
            )))),
            None => Err(done(self.bad(format!(
                "206 response with Content-Range {raw:?} names no byte span"
            )))),
        }
    }

    /// Records the validator (if any) and length, or reports that they changed.
    fn note(&self, validator: Option<String>, len: u64) -> Result<(), SourceError> {
        if let Some(v) = validator {
            self.note_validator(v)?;
        }
        self.note_len(len)
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

    /// Reads one range, fully checked, retried as the policy says.
    async fn read_one(&self, range: ByteRange) -> Result<Bytes, SourceError> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let (len, whole) = {
            let state = self.state.borrow();
            (state.len, state.whole.clone())
        };
        if let Some(len) = len {
            if range.end > len {
                return Err(SourceError::OutOfBounds {
                    what: self.url.clone(),
                    range,
                    len,
                });
            }
        }
        if let Some(bytes) = whole.as_ref().and_then(|w| slice_of(w, range)) {
            return Ok(bytes);
        }
        let (bytes, _) = self.with_retries(|| self.try_range(range)).await?;
        Ok(bytes)
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
        match self
            .with_retries(|| self.try_range(ByteRange::new(0, 1)))
            .await
        {
            Ok((_, ContentRange { total: Some(t), .. })) => Ok(t),
            Ok(_) => Err(self
                .bad("the server's Content-Range does not give the file length (`bytes 0-0/*`)")),
            // Only an empty file has no byte 0; the 416 carries its length.
            Err(SourceError::OutOfBounds { len: 0, .. }) => Ok(0),
            Err(e) => Err(e),
        }
    }

    async fn read_head(&self, max: u64) -> Result<(Bytes, u64), SourceError> {
        let known_len = self.state.borrow().len;
        if known_len.is_none() && max > 0 {
            // One GET learns the length (Content-Range total) and brings the head. A file
            // shorter than `max` falls back to the plain way below.
            match self
                .with_retries(|| self.try_range(ByteRange::new(0, max)))
                .await
            {
                Ok((
                    bytes,
                    ContentRange {
                        total: Some(total), ..
                    },
                )) => return Ok((bytes, total)),
                Ok(_) | Err(SourceError::OutOfBounds { .. }) => {}
                Err(e) => return Err(e),
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

/// Aborts its request when dropped: on every exit from a try, and when a caller drops a
/// read (a cancelled load), so no download outlives the future that wanted it.
struct AbortOnDrop(AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A `setTimeout` as a future; the timeout is cleared if the future is dropped first.
struct Timer {
    id: Option<JsValue>,
    done: JsFuture,
}

impl Timer {
    fn start(ms: i32) -> Timer {
        let id = Cell::new(None);
        let promise = Promise::new(&mut |resolve, _reject| {
            let set = global_function("setTimeout");
            if let Ok(set) = set {
                if let Ok(handle) = set.call2(&js_sys::global(), &resolve, &JsValue::from(ms)) {
                    id.set(Some(handle));
                    return;
                }
            }
            // No timers here: resolve at once rather than never.
            let _ = resolve.call0(&JsValue::NULL);
        });
        Timer {
            id: id.take(),
            done: JsFuture::from(promise),
        }
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        std::pin::Pin::new(&mut self.done).poll(cx).map(|_| {
            self.id = None;
        })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let (Some(id), Ok(clear)) = (self.id.take(), global_function("clearTimeout")) {
            let _ = clear.call1(&js_sys::global(), &id);
        }
    }
}

fn global_function(name: &str) -> Result<Function, JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))?.dyn_into::<Function>()
}

/// `target[name]()`.
fn call0(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))?
        .dyn_into::<Function>()?
        .call0(target)
}

/// ETag if present, else Last-Modified.
fn validator_of(header: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    header("ETag")
        .filter(|v| !v.trim().is_empty())
        .or_else(|| header("Last-Modified").filter(|v| !v.trim().is_empty()))
}

/// Copies the `n` bytes of a JS body piece straight onto the end of `body` (one copy).
fn append(body: &mut BytesMut, piece: &Uint8Array, n: usize) {
    let at = body.len();
    body.resize(at + n, 0);
    piece.copy_to(&mut body[at..]);
}

/// `range` of an in-memory copy of the file, if it lies inside it.
fn slice_of(whole: &Bytes, range: ByteRange) -> Option<Bytes> {
    let start = usize::try_from(range.start).ok()?;
    let end = usize::try_from(range.end).ok()?;
    (start <= end && end <= whole.len()).then(|| whole.slice(start..end))
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
