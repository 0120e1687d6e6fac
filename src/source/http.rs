//! Files behind an HTTP(S) URL (native only), read with `Range` requests.
//!
//! Every response is checked before a byte of it is believed: only a `206` whose
//! `Content-Range` is exactly the range asked and whose body has exactly that length is data.
//! A server that ignores `Range` (`200`), compresses the body (`Content-Encoding`), or changes
//! the file between two reads (validator or length differs) is reported as such, never papered
//! over. Transport failures, stalls, `5xx`/`408`/`429` and bodies that do not match what was
//! asked (a proxy cut them, or sent other bytes) are retried as [`RetryPolicy`] says, then
//! reported as one error naming the last failure. A server that ignores `Range` may have a
//! small file read whole, once, into memory ([`HttpSource::with_whole_file_limit`]).

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};

use reqwest::header::{self, HeaderMap};
use reqwest::StatusCode;

use super::retry::{gave_up, Attempt};
use super::{ByteRange, RangeSource, Received, RetryPolicy, SourceError};

/// How many range requests one `read_ranges` call keeps in flight at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// A file at an `http://` or `https://` URL, read by byte ranges.
#[derive(Debug)]
pub struct HttpSource {
    url: String,
    client: reqwest::Client,
    max_in_flight: usize,
    policy: RetryPolicy,
    whole_file_limit: u64,
    received: Received,
    known: Mutex<Known>,
    /// Sent with every request (`--header 'Authorization: Bearer …'`).
    headers: HeaderMap,
}

/// What the responses so far said about the file; every later response must agree.
#[derive(Debug, Default)]
struct Known {
    len: Option<u64>,
    validator: Option<String>,
    /// The whole file, when a server that ignores `Range` sent it and it was small enough.
    whole: Option<Bytes>,
}

/// What one successful range response told us besides its bytes.
struct Meta {
    total: Option<u64>,
    validator: Option<String>,
}

impl HttpSource {
    /// A source for `url`, sharing one process-wide connection pool with every other
    /// `HttpSource` made by `new`. Nothing is requested until the first read or `len()`.
    pub fn new(url: impl Into<String>) -> Result<HttpSource, SourceError> {
        let url = url.into();
        let client = shared_client().map_err(|reason| SourceError::Network {
            url: url.clone(),
            reason,
        })?;
        HttpSource::with_client(url, client)
    }

    /// A source for `url` over a caller-provided client. The client must not negotiate
    /// compression (reqwest without the gzip/brotli/deflate/zstd features does not).
    pub fn with_client(
        url: impl Into<String>,
        client: reqwest::Client,
    ) -> Result<HttpSource, SourceError> {
        let url = url.into();
        match reqwest::Url::parse(&url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            Ok(u) => {
                return Err(SourceError::Io {
                    what: url.clone(),
                    reason: format!(
                        "unsupported URL scheme {:?} — use http:// or https://",
                        u.scheme()
                    ),
                })
            }
            Err(e) => {
                return Err(SourceError::Io {
                    what: url.clone(),
                    reason: format!("not a valid URL: {e}"),
                })
            }
        }
        Ok(HttpSource {
            url,
            client,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            policy: RetryPolicy::default(),
            whole_file_limit: 0,
            received: Received::default(),
            known: Mutex::new(Known::default()),
            headers: HeaderMap::new(),
        })
    }

    /// Changes how failed requests are retried and when a silent server counts as stalled.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> HttpSource {
        self.policy = policy;
        self
    }

    /// When the server ignores `Range` and the whole file is at most `limit` bytes, keep the
    /// `200` body as an in-memory copy and serve every read from it (0, the default: report
    /// [`SourceError::RangeIgnored`] instead). See [`super::SUGGESTED_WHOLE_FILE_LIMIT`].
    pub fn with_whole_file_limit(mut self, limit: u64) -> HttpSource {
        self.whole_file_limit = limit;
        self
    }

    /// Sends `headers` with every request (token-protected hosts). `Range` and
    /// `Accept-Encoding` are the source's own and are set after them.
    pub fn with_headers(mut self, headers: HeaderMap) -> HttpSource {
        self.headers = headers;
        self
    }

    /// A live count of body bytes received, for progress while a read is under way.
    pub fn received(&self) -> Received {
        self.received.clone()
    }

    /// Changes how many requests one `read_ranges` call keeps in flight (at least 1).
    pub fn with_max_in_flight(mut self, n: usize) -> HttpSource {
        self.max_in_flight = n.max(1);
        self
    }

    /// The URL this source reads.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records what a response said about the file; fails if it contradicts earlier ones.
    fn observe(&self, meta: &Meta) -> Result<(), SourceError> {
        let mut known = self.known();
        if let (Some(before), Some(after)) = (&known.validator, &meta.validator) {
            if before != after {
                return Err(self.changed(before.clone(), after.clone()));
            }
        }
        if let (Some(before), Some(after)) = (known.len, meta.total) {
            if before != after {
                return Err(self.changed(format!("length {before}"), format!("length {after}")));
            }
        }
        if known.validator.is_none() {
            known.validator = meta.validator.clone();
        }
        if known.len.is_none() {
            known.len = meta.total;
        }
        Ok(())
    }

    fn changed(&self, before: String, after: String) -> SourceError {
        SourceError::Changed {
            what: self.url.clone(),
            before,
            after,
        }
    }

    fn bad(&self, reason: impl Into<String>) -> SourceError {
        SourceError::BadResponse {
            url: self.url.clone(),
            reason: reason.into(),
        }
    }

    fn network(&self, e: &reqwest::Error) -> SourceError {
        SourceError::Network {
            url: self.url.clone(),
            reason: error_chain(e),
        }
    }

    /// Runs `attempt` while it asks for a retry, as the policy allows; a failure that
    /// outlasts the retries becomes [`SourceError::GaveUp`] naming the last one.
    async fn with_retries<T, F, Fut>(&self, mut attempt: F) -> Result<T, SourceError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Attempt<T>>,
    {
        let mut tries = 1;
        loop {
            match attempt().await {
                Attempt::Done(result) => return result,
                Attempt::Retry(err) => match self.policy.pause_before(tries + 1) {
                    Some(pause) => {
                        tokio::time::sleep(pause).await;
                        tries += 1;
                    }
                    None if tries == 1 => return Err(err),
                    None => return Err(gave_up(&self.url, tries, &err)),
                },
            }
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

    /// The next piece of a body, or a stall/transport failure (worth another try).
    async fn next_chunk(&self, resp: &mut reqwest::Response) -> Result<Option<Bytes>, SourceError> {
        match tokio::time::timeout(self.policy.stall, resp.chunk()).await {
            Err(_) => Err(self.stalled("the rest of the body")),
            Ok(Err(e)) => Err(self.network(&e)),
            Ok(Ok(chunk)) => {
                if let Some(c) = &chunk {
                    self.received.add(c.len());
                }
                Ok(chunk)
            }
        }
    }

    /// GETs `bytes=start-(end-1)` and checks the answer; one attempt.
    async fn try_range(&self, range: ByteRange) -> Attempt<(Bytes, Meta)> {
        let last = range.end - 1;
        let sent = self
            .client
            .get(&self.url)
            .headers(self.headers.clone())
            .header(header::RANGE, format!("bytes={}-{}", range.start, last))
            .header(header::ACCEPT_ENCODING, "identity")
            .send();
        let mut resp = match tokio::time::timeout(self.policy.stall, sent).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Attempt::Retry(self.network(&e)),
            Err(_) => return Attempt::Retry(self.stalled("the response")),
        };
        let status = resp.status();
        if let Some(err) = self.status_error(status) {
            return err;
        }
        let headers = resp.headers();
        if let Err(e) = self.check_encoding(headers) {
            return Attempt::Done(Err(e));
        }
        if status == StatusCode::OK {
            return self.take_whole(resp, range).await;
        }
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            let len = headers
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_unsatisfied_range);
            return Attempt::Done(match len {
                Some(len) if range.end <= len => Err(self.bad(format!(
                    "the server refused {range} (HTTP 416 Range Not Satisfiable) although the \
                     file has {len} bytes — the server or a proxy mishandles Range requests"
                ))),
                Some(len) => Err(SourceError::OutOfBounds {
                    what: self.url.clone(),
                    range,
                    len,
                }),
                None => Err(self.bad(format!(
                    "the server refused {range} (HTTP 416 Range Not Satisfiable) without saying \
                     the file's length — check the URL; the server may mishandle Range requests"
                ))),
            });
        }
        if status != StatusCode::PARTIAL_CONTENT {
            return Attempt::Done(Err(self.bad(format!(
                "expected 206 Partial Content for {range}, got HTTP {status}"
            ))));
        }
        let meta = match self.check_content_range(headers, range) {
            Ok(m) => m,
            Err(attempt) => return attempt,
        };
        // From here on a mismatch is what a cut or confused proxy produces: worth a retry.
        if let Some(cl) = content_length(headers) {
            if cl != range.len() {
                return Attempt::Retry(self.bad(format!(
                    "Content-Length {cl} for {range} ({} bytes) — the response is not the bytes asked for",
                    range.len()
                )));
            }
        }
        let want = match usize::try_from(range.len()) {
            Ok(n) => n,
            Err(_) => {
                return Attempt::Done(Err(self.bad(format!("{range} is too large to hold"))));
            }
        };
        let mut body = BytesMut::with_capacity(want);
        loop {
            match self.next_chunk(&mut resp).await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > want {
                        return Attempt::Retry(
                            self.bad(format!("body longer than the {want} bytes of {range}")),
                        );
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // The connection broke or stalled mid-body: worth another try.
                Err(e) => return Attempt::Retry(e),
            }
        }
        if body.len() != want {
            return Attempt::Retry(
                self.bad(format!("body has {} bytes, {range} has {want}", body.len())),
            );
        }
        Attempt::Done(Ok((body.freeze(), meta)))
    }

    /// A `200` with the whole file: kept as the in-memory copy every read is served from if
    /// it is within the whole-file limit, else the server is reported as ignoring `Range`.
    async fn take_whole(
        &self,
        mut resp: reqwest::Response,
        range: ByteRange,
    ) -> Attempt<(Bytes, Meta)> {
        let limit = self.whole_file_limit;
        let headers = resp.headers();
        let promised = content_length(headers);
        let validator = validator_of(headers);
        // A 200 where 206s came before: the file changed (a cache asking with `If-Range`
        // gets the new version whole), not a server that ignores Range.
        if let Err(e) = self.observe(&Meta {
            total: None,
            validator: validator.clone(),
        }) {
            return Attempt::Done(Err(e));
        }
        if limit == 0 {
            return Attempt::Done(Err(SourceError::RangeIgnored {
                url: self.url.clone(),
            }));
        }
        let too_large = |len: u64| SourceError::RangeIgnoredTooLarge {
            url: self.url.clone(),
            len,
            limit,
        };
        if let Some(len) = promised.filter(|&len| len > limit) {
            return Attempt::Done(Err(too_large(len)));
        }
        let mut body = BytesMut::new();
        loop {
            match self.next_chunk(&mut resp).await {
                Ok(Some(chunk)) => {
                    body.extend_from_slice(&chunk);
                    if body.len() as u64 > limit {
                        return Attempt::Done(Err(too_large(body.len() as u64)));
                    }
                }
                Ok(None) => break,
                Err(e) => return Attempt::Retry(e),
            }
        }
        let len = body.len() as u64;
        if promised.is_some_and(|p| p != len) {
            return Attempt::Retry(self.bad(format!(
                "the whole-file body has {len} bytes, Content-Length said {promised:?}"
            )));
        }
        let meta = Meta {
            total: Some(len),
            validator,
        };
        if let Err(e) = self.observe(&meta) {
            return Attempt::Done(Err(e));
        }
        let whole = body.freeze();
        self.known().whole = Some(whole.clone());
        match slice_of(&whole, range) {
            Some(bytes) => Attempt::Done(Ok((bytes, meta))),
            None => Attempt::Done(Err(SourceError::OutOfBounds {
                what: self.url.clone(),
                range,
                len,
            })),
        }
    }

    /// Maps error statuses: retryable ones to `Retry`, other 4xx/5xx to `HttpStatus`.
    fn status_error<T>(&self, status: StatusCode) -> Option<Attempt<T>> {
        let err = SourceError::HttpStatus {
            url: self.url.clone(),
            status: status.as_u16(),
        };
        if status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
        {
            Some(Attempt::Retry(SourceError::ServerFailing {
                url: self.url.clone(),
                status: status.as_u16(),
            }))
        } else if status.is_client_error() && status != StatusCode::RANGE_NOT_SATISFIABLE {
            Some(Attempt::Done(Err(err)))
        } else {
            None
        }
    }

    fn check_encoding(&self, headers: &HeaderMap) -> Result<(), SourceError> {
        for value in headers.get_all(header::CONTENT_ENCODING) {
            let text = String::from_utf8_lossy(value.as_bytes());
            let encodings: Vec<&str> = text
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("identity"))
                .collect();
            if !encodings.is_empty() {
                return Err(SourceError::ContentEncoded {
                    url: self.url.clone(),
                    encoding: encodings.join(", "),
                });
            }
        }
        Ok(())
    }

    /// Checks `Content-Range: bytes a-b/total` names exactly `range`; returns what it says,
    /// or the failed attempt (a retry when it names other bytes: a confused proxy may).
    fn check_content_range<T>(
        &self,
        headers: &HeaderMap,
        range: ByteRange,
    ) -> Result<Meta, Attempt<T>> {
        let done = |e| Attempt::Done(Err(e));
        let value = headers.get(header::CONTENT_RANGE).ok_or_else(|| {
            done(self.bad(format!("206 for {range} without a Content-Range header")))
        })?;
        let text = value
            .to_str()
            .map_err(|_| done(self.bad("Content-Range is not ASCII")))?;
        let (first, last, total) = parse_content_range(text)
            .ok_or_else(|| done(self.bad(format!("malformed Content-Range {text:?}"))))?;
        let meta = Meta {
            total,
            validator: validator_of(headers),
        };
        // Compare against what we knew first: a file that changed is "Changed", not "bad".
        self.observe(&meta).map_err(done)?;
        if let Some(total) = total {
            if range.end > total {
                return Err(done(SourceError::OutOfBounds {
                    what: self.url.clone(),
                    range,
                    len: total,
                }));
            }
        }
        if first != range.start || last.checked_add(1) != Some(range.end) {
            return Err(Attempt::Retry(self.bad(format!(
                "asked for {range}, the server sent Content-Range {text:?} — it answers with other bytes than asked"
            ))));
        }
        Ok(meta)
    }

    async fn read_one(&self, range: ByteRange) -> Result<Bytes, SourceError> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let (len, whole) = {
            let known = self.known();
            (known.len, known.whole.clone())
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
        let (bytes, _meta) = self.with_retries(|| self.try_range(range)).await?;
        Ok(bytes)
    }

    /// Learns the length with a 1-byte range GET (not HEAD: some hosts answer HEAD differently).
    async fn probe_len(&self) -> Result<u64, SourceError> {
        match self
            .with_retries(|| self.try_range(ByteRange::new(0, 1)))
            .await
        {
            Ok((_, Meta { total: Some(t), .. })) => Ok(t),
            Ok(_) => Err(self.bad("Content-Range does not state the file length (bytes a-b/*)")),
            // An empty file cannot satisfy bytes=0-0; the 416 carries its length.
            Err(SourceError::OutOfBounds { len, .. }) => {
                self.observe(&Meta {
                    total: Some(len),
                    validator: None,
                })?;
                Ok(len)
            }
            Err(e) => Err(e),
        }
    }
}

#[async_trait(?Send)]
impl RangeSource for HttpSource {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        super::read_each(ranges, self.max_in_flight, |r| self.read_one(r)).await
    }

    async fn len(&self) -> Result<u64, SourceError> {
        if let Some(len) = self.known().len {
            return Ok(len);
        }
        self.probe_len().await
    }

    async fn read_head(&self, max: u64) -> Result<(Bytes, u64), SourceError> {
        if self.known().len.is_none() && max > 0 {
            // One GET learns the length (Content-Range total) and brings the head.
            match self
                .with_retries(|| self.try_range(ByteRange::new(0, max)))
                .await
            {
                Ok((
                    bytes,
                    Meta {
                        total: Some(total), ..
                    },
                )) => return Ok((bytes, total)),
                // A file shorter than `max` answers a shorter range: ask the plain way.
                Ok(_) | Err(SourceError::BadResponse { .. } | SourceError::OutOfBounds { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let len = self.len().await?;
        let head = ByteRange::new(0, max.min(len));
        let bytes = self.read_one(head).await?;
        Ok((bytes, len))
    }

    fn validator(&self) -> Option<String> {
        self.known().validator.clone()
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

/// The process-wide client: HTTP/1.1 keep-alive pool, no compression negotiated.
fn shared_client() -> Result<reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .http1_only()
                .pool_max_idle_per_host(DEFAULT_MAX_IN_FLIGHT)
                .pool_idle_timeout(Duration::from_secs(60))
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(30))
                .tcp_nodelay(true)
                .user_agent(concat!("strobe/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| format!("cannot set up the HTTP client: {}", error_chain(&e)))
        })
        .clone()
}

/// `range` of an in-memory copy of the file, if it lies inside it.
fn slice_of(whole: &Bytes, range: ByteRange) -> Option<Bytes> {
    let start = usize::try_from(range.start).ok()?;
    let end = usize::try_from(range.end).ok()?;
    (start <= end && end <= whole.len()).then(|| whole.slice(start..end))
}

/// ETag if present, else Last-Modified.
fn validator_of(headers: &HeaderMap) -> Option<String> {
    [header::ETAG, header::LAST_MODIFIED]
        .iter()
        .find_map(|name| headers.get(name))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .filter(|v| !v.is_empty())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `bytes a-b/total` or `bytes a-b/*` → (a, b, total).
fn parse_content_range(text: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = strip_bytes_unit(text)?;
    let (span, total) = rest.split_once('/')?;
    let (first, last) = span.trim().split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    if last < first || total.is_some_and(|t| last >= t) {
        return None;
    }
    Some((first, last, total))
}

/// `bytes */total` (the `416` form) → total.
fn parse_unsatisfied_range(text: &str) -> Option<u64> {
    let rest = strip_bytes_unit(text)?;
    let (star, total) = rest.split_once('/')?;
    if star.trim() != "*" {
        return None;
    }
    total.trim().parse().ok()
}

fn strip_bytes_unit(text: &str) -> Option<&str> {
    let text = text.trim();
    let (unit, rest) = text.split_once(' ')?;
    unit.eq_ignore_ascii_case("bytes").then_some(rest)
}

/// An error with its causes, e.g. "error sending request: connection refused".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_content_range("bytes 0-9/100"),
            Some((0, 9, Some(100)))
        );
        assert_eq!(parse_content_range("bytes 5-5/*"), Some((5, 5, None)));
        assert_eq!(parse_content_range("bytes 9-0/100"), None);
        assert_eq!(parse_content_range("bytes 0-100/100"), None);
        assert_eq!(parse_content_range("items 0-9/100"), None);
        assert_eq!(parse_content_range("bytes */100"), None);
        assert_eq!(parse_unsatisfied_range("bytes */100"), Some(100));
        assert_eq!(parse_unsatisfied_range("bytes 0-1/100"), None);
    }
}
