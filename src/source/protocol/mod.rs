//! The HTTP range protocol, once, without any I/O: what a range response means and what to
//! do next. Both HTTP transports — native (`http.rs`, reqwest) and browser (`fetch.rs`,
//! `fetch`) — only move bytes; every decision is made here:
//!
//! * [`RangeProtocol::before`]: is the range already answerable (empty, past the known end,
//!   inside a whole-file copy), or must it be fetched?
//! * [`RangeProtocol::on_head`]: given a response's status and headers, read a body of
//!   exactly the bytes asked, read the whole file (a `200` from a server that ignores
//!   `Range`), retry (after the server's `Retry-After`, if it gave one), or fail with a
//!   [`SourceError`] that says what is wrong.
//! * [`RangeProtocol::finish_range`] / [`RangeProtocol::finish_whole`]: given the body,
//!   accept it or not.
//!
//! Every response is compared with what earlier ones said about the file (length and
//! validator), so a file replaced mid-session is reported as [`SourceError::Changed`] — never
//! as "truncated", never mixed. For servers that send no validator at all, a small *probe*
//! (the first bytes of the previous round's last range) is re-read with every round and
//! compared, which catches most same-length replacements (see RELIABILITY.md for what it
//! cannot). The driver that runs these decisions over a transport is [`client`].

pub mod client;
pub mod headers;

use std::sync::{Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};

pub use headers::{parse_content_range, ContentRange, Head};

use super::retry::Attempt;
use super::{ByteRange, RetryPolicy, SourceError};

/// Bytes of the previous round re-read as the change probe when the server sends no validator.
pub const PROBE_LEN: u64 = 64;

/// What responses so far said about the file; every later response must agree.
#[derive(Debug, Default)]
struct Known {
    len: Option<u64>,
    validator: Option<String>,
    /// The whole file, when a server that ignores `Range` sent it and it was small enough.
    whole: Option<Bytes>,
    /// Bytes read earlier, re-read each round while no validator is known.
    probe: Option<(ByteRange, Bytes)>,
}

/// Whether a range needs the network.
#[derive(Debug, PartialEq)]
pub enum Before {
    /// Answered without a request (empty range, or the in-memory whole file).
    Ready(Bytes),
    /// Refused without a request (past the known end of the file).
    Refused(SourceError),
    Fetch,
}

/// What body a response whose head was accepted carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// Exactly the `want` bytes asked for; `total` is the file length the server stated.
    Range { want: usize, total: Option<u64> },
    /// The whole file (a `200`), to be kept if it is at most `limit` bytes.
    Whole {
        limit: u64,
        promised: Option<u64>,
        validator: Option<String>,
    },
}

impl Expect {
    /// The most body bytes to accept.
    pub fn cap(&self) -> u64 {
        match self {
            Expect::Range { want, .. } => *want as u64,
            Expect::Whole { limit, .. } => *limit,
        }
    }
}

/// The range protocol's state for one URL: settings and what the file is known to be.
#[derive(Debug)]
pub struct RangeProtocol {
    url: String,
    policy: RetryPolicy,
    whole_file_limit: u64,
    /// What to add to messages about headers a transport may hide (CORS in a browser).
    hidden_headers_hint: Option<&'static str>,
    known: Mutex<Known>,
}

impl RangeProtocol {
    pub fn new(url: impl Into<String>, hidden_headers_hint: Option<&'static str>) -> Self {
        RangeProtocol {
            url: url.into(),
            policy: RetryPolicy::default(),
            whole_file_limit: 0,
            hidden_headers_hint,
            known: Mutex::new(Known::default()),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub fn set_policy(&mut self, policy: RetryPolicy) {
        self.policy = policy;
    }

    pub fn set_whole_file_limit(&mut self, limit: u64) {
        self.whole_file_limit = limit;
    }

    /// The file's length, once a response said it.
    pub fn known_len(&self) -> Option<u64> {
        self.known().len
    }

    /// The validator (ETag, else Last-Modified), once a response carried one.
    pub fn validator(&self) -> Option<String> {
        self.known().validator.clone()
    }

    fn known(&self) -> MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bad(&self, reason: impl Into<String>) -> SourceError {
        SourceError::BadResponse {
            url: self.url.clone(),
            reason: reason.into(),
        }
    }

    fn out_of_bounds(&self, range: ByteRange, len: u64) -> SourceError {
        SourceError::OutOfBounds {
            what: self.url.clone(),
            range,
            len,
        }
    }

    fn changed(&self, before: String, after: String) -> SourceError {
        SourceError::Changed {
            what: self.url.clone(),
            before,
            after,
        }
    }

    /// `text`, with the hint about hidden headers where the transport has one.
    fn hinted(&self, text: String) -> String {
        match self.hidden_headers_hint {
            Some(hint) => format!("{text} — {hint}"),
            None => text,
        }
    }

    /// A transport failure (worth another try).
    pub fn network(&self, reason: impl Into<String>) -> SourceError {
        SourceError::Network {
            url: self.url.clone(),
            reason: reason.into(),
        }
    }

    /// A server silent for longer than the policy's stall limit (worth another try).
    pub fn stalled(&self, waiting_for: &str) -> SourceError {
        self.network(format!(
            "the server stalled: nothing for {:.1} s while waiting for {waiting_for}",
            self.policy.stall.as_secs_f64()
        ))
    }

    /// Records what a response said about the file; fails if it contradicts earlier ones.
    /// The validator is compared first: a changed file explains any other mismatch best.
    pub fn observe(&self, total: Option<u64>, validator: Option<&str>) -> Result<(), SourceError> {
        let mut known = self.known();
        if let (Some(before), Some(after)) = (&known.validator, validator) {
            if before != after {
                return Err(self.changed(before.clone(), after.to_string()));
            }
        }
        if let (Some(before), Some(after)) = (known.len, total) {
            if before != after {
                return Err(self.changed(
                    format!("{before} bytes long"),
                    format!("{after} bytes long"),
                ));
            }
        }
        if known.validator.is_none() {
            known.validator = validator.map(str::to_string);
        }
        if known.len.is_none() {
            known.len = total;
        }
        Ok(())
    }

    /// Whether `range` needs a request at all.
    pub fn before(&self, range: ByteRange) -> Before {
        if range.is_empty() {
            return Before::Ready(Bytes::new());
        }
        let known = self.known();
        if let Some(len) = known.len {
            if range.end > len {
                return Before::Refused(self.out_of_bounds(range, len));
            }
        }
        match known.whole.as_ref().and_then(|w| slice_of(w, range)) {
            Some(bytes) => Before::Ready(bytes),
            None => Before::Fetch,
        }
    }

    /// Decides what a response to the request for `range` is, from its status and headers.
    /// `now` (seconds since the Unix epoch, if the transport has a clock) dates `Retry-After`.
    pub fn on_head(&self, range: ByteRange, head: &Head, now: Option<u64>) -> Attempt<Expect> {
        let status = head.status;
        if (500..=599).contains(&status) || status == 408 || status == 429 {
            let after = if status == 429 || status == 503 {
                head.retry_after
                    .as_deref()
                    .and_then(|v| headers::retry_after(v, now))
            } else {
                None
            };
            let error = SourceError::ServerFailing {
                url: self.url.clone(),
                status,
            };
            return Attempt::Retry { error, after };
        }
        if (400..=499).contains(&status) && status != 416 {
            return Attempt::fail(SourceError::HttpStatus {
                url: self.url.clone(),
                status,
            });
        }
        if let Some(encoding) = head.encodings() {
            return Attempt::fail(SourceError::ContentEncoded {
                url: self.url.clone(),
                encoding,
            });
        }
        match status {
            200 => self.on_whole(head),
            206 => self.on_partial(range, head),
            416 => Attempt::fail(self.on_unsatisfiable(range, head)),
            0 => Attempt::fail(self.bad(self.hinted(
                "the response is hidden from this page (status 0, an opaque response)".into(),
            ))),
            other => Attempt::fail(self.bad(format!(
                "unexpected HTTP status {other} to a Range request (expected 206 Partial Content)"
            ))),
        }
    }

    /// A `200`: the whole file. A `200` where `206`s came before with another validator is
    /// a changed file (a cache asking with `If-Range` gets the new version whole).
    fn on_whole(&self, head: &Head) -> Attempt<Expect> {
        let validator = head.validator();
        if let Err(e) = self.observe(None, validator.as_deref()) {
            return Attempt::fail(e);
        }
        let limit = self.whole_file_limit;
        if limit == 0 {
            return Attempt::fail(SourceError::RangeIgnored {
                url: self.url.clone(),
            });
        }
        if let Some(len) = head.content_length.filter(|&len| len > limit) {
            return Attempt::fail(self.too_large(len));
        }
        Attempt::Done(Ok(Expect::Whole {
            limit,
            promised: head.content_length,
            validator,
        }))
    }

    /// A whole file over the whole-file limit.
    pub fn too_large(&self, len: u64) -> SourceError {
        SourceError::RangeIgnoredTooLarge {
            url: self.url.clone(),
            len,
            limit: self.whole_file_limit,
        }
    }

    /// A `416`: the range starts past the end (`bytes */LEN` says where the end is).
    fn on_unsatisfiable(&self, range: ByteRange, head: &Head) -> SourceError {
        let len = head
            .content_range
            .as_deref()
            .and_then(parse_content_range)
            .and_then(|cr| cr.total);
        match len {
            Some(len) if range.end <= len => self.bad(format!(
                "the server refused {range} (HTTP 416 Range Not Satisfiable) although the file \
                 has {len} bytes — the server or a proxy mishandles Range requests"
            )),
            Some(len) => match self.observe(Some(len), head.validator().as_deref()) {
                // A file that got shorter since it was opened is a changed file.
                Err(e) => e,
                Ok(()) => self.out_of_bounds(range, len),
            },
            None => self.bad(format!(
                "the server refused {range} (HTTP 416 Range Not Satisfiable) without saying the \
                 file's length — check the URL; the server may mishandle Range requests"
            )),
        }
    }

    /// A `206`: its `Content-Range` must name exactly the bytes asked.
    fn on_partial(&self, range: ByteRange, head: &Head) -> Attempt<Expect> {
        let Some(raw) = head.content_range.as_deref() else {
            return Attempt::fail(self.bad(self.hinted(format!(
                "the server answered 206 for {range} without a readable Content-Range header"
            ))));
        };
        let Some(cr) = parse_content_range(raw) else {
            return Attempt::fail(self.bad(format!(
                "unreadable Content-Range {raw:?} (expected `bytes FIRST-LAST/TOTAL`)"
            )));
        };
        if let Err(e) = self.observe(cr.total, head.validator().as_deref()) {
            return Attempt::fail(e);
        }
        if let Some(total) = cr.total.filter(|&t| range.end > t) {
            // The server clamped a range that runs past the end of the file.
            return Attempt::fail(self.out_of_bounds(range, total));
        }
        let Some((first, last)) = cr.span else {
            return Attempt::fail(self.bad(format!(
                "206 response with Content-Range {raw:?} names no byte span"
            )));
        };
        // From here on a mismatch is what a cut or confused proxy produces: worth a retry.
        if first != range.start || last.checked_add(1) != Some(range.end) {
            return Attempt::retry(self.bad(format!(
                "asked for {range}, the server sent Content-Range {raw:?} — it answers with \
                 other bytes than asked"
            )));
        }
        if let Some(cl) = head.content_length.filter(|&cl| cl != range.len()) {
            return Attempt::retry(self.bad(format!(
                "Content-Length {cl} for {range} ({} bytes) — the response is not the bytes \
                 asked for",
                range.len()
            )));
        }
        match usize::try_from(range.len()) {
            Ok(want) => Attempt::Done(Ok(Expect::Range {
                want,
                total: cr.total,
            })),
            Err(_) => Attempt::fail(self.bad(format!("{range} is too large to hold"))),
        }
    }

    /// A body that ran past what `expect` allows (retried for a range; refused for a whole
    /// file over the limit).
    pub fn overlong<T>(&self, range: ByteRange, expect: &Expect, so_far: u64) -> Attempt<T> {
        match expect {
            Expect::Range { .. } => Attempt::retry(self.bad(format!(
                "asked for {} bytes ({range}), the body is longer — the response is not the \
                 bytes asked for",
                range.len()
            ))),
            Expect::Whole { .. } => Attempt::fail(self.too_large(so_far)),
        }
    }

    /// Accepts a complete body for `range`: the bytes and the file length the server stated.
    pub fn finish(
        &self,
        range: ByteRange,
        expect: Expect,
        body: BytesMut,
    ) -> Attempt<(Bytes, Option<u64>)> {
        match expect {
            Expect::Range { want, total } if body.len() == want => {
                Attempt::Done(Ok((body.freeze(), total)))
            }
            Expect::Range { .. } => Attempt::retry(self.bad(format!(
                "asked for {} bytes ({range}), the body has {} bytes — the response is not the \
                 bytes asked for",
                range.len(),
                body.len()
            ))),
            Expect::Whole {
                promised,
                validator,
                ..
            } => self.finish_whole(range, promised, validator, body.freeze()),
        }
    }

    /// Keeps a whole-file body as the copy every later read is served from.
    fn finish_whole(
        &self,
        range: ByteRange,
        promised: Option<u64>,
        validator: Option<String>,
        whole: Bytes,
    ) -> Attempt<(Bytes, Option<u64>)> {
        let len = whole.len() as u64;
        if let Some(p) = promised.filter(|&p| p != len) {
            return Attempt::retry(self.bad(format!(
                "the whole-file body has {len} bytes, Content-Length said {p}"
            )));
        }
        if let Err(e) = self.observe(Some(len), validator.as_deref()) {
            return Attempt::fail(e);
        }
        self.known().whole = Some(whole.clone());
        match slice_of(&whole, range) {
            Some(bytes) => Attempt::Done(Ok((bytes, Some(len)))),
            None => Attempt::fail(self.out_of_bounds(range, len)),
        }
    }

    /// The range to re-read with this round, when the server gives no validator and bytes
    /// from an earlier round are held to compare.
    pub fn probe(&self) -> Option<(ByteRange, Bytes)> {
        let known = self.known();
        if known.validator.is_some() || known.whole.is_some() {
            return None;
        }
        known.probe.clone()
    }

    /// Compares the probe's bytes read now with those read before.
    pub fn check_probe(
        &self,
        range: ByteRange,
        before: &[u8],
        now: &[u8],
    ) -> Result<(), SourceError> {
        if before == now {
            return Ok(());
        }
        Err(self.changed(
            format!("{range} as first read (the server sends no ETag or Last-Modified)"),
            "other bytes there now".to_string(),
        ))
    }

    /// Keeps the first bytes of the last non-empty range read as the next round's probe.
    pub fn remember_probe(&self, ranges: &[ByteRange], got: &[Bytes]) {
        let Some((range, bytes)) = ranges
            .iter()
            .zip(got)
            .rev()
            .find(|(r, b)| !r.is_empty() && b.len() as u64 == r.len())
        else {
            return;
        };
        let n = range.len().min(PROBE_LEN);
        let probe = (ByteRange::at(range.start, n), bytes.slice(..n as usize));
        self.known().probe = Some(probe);
    }
}

/// `range` of an in-memory copy of the file, if it lies inside it.
fn slice_of(whole: &Bytes, range: ByteRange) -> Option<Bytes> {
    let start = usize::try_from(range.start).ok()?;
    let end = usize::try_from(range.end).ok()?;
    (start <= end && end <= whole.len()).then(|| whole.slice(start..end))
}

/// How long a `Retry-After` asked for, as decided for a retryable status (for tests).
#[cfg(test)]
fn asked_pause(a: &Attempt<Expect>) -> Option<std::time::Duration> {
    match a {
        Attempt::Retry { after, .. } => *after,
        Attempt::Done(_) => None,
    }
}

#[cfg(test)]
mod tests;
