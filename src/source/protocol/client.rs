//! The one HTTP range client: runs [`RangeProtocol`]'s decisions over a [`Transport`] that
//! only moves bytes. `HttpSource` (reqwest) and `FetchSource` (browser `fetch`) are this
//! client over their transport, so retries, stall limits, the whole-file fallback, progress
//! counting and change detection behave the same natively and in the browser.

use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};

use super::{Before, Expect, Head, RangeProtocol};
use crate::source::retry::{with_retries, Attempt};
use crate::source::{ByteRange, Ends, RangeSource, Received, RetryPolicy, SourceError};

/// How long a file's tail may still take once its head is in (see [`RangeClient::read_ends`]).
const TAIL_GRACE: Duration = Duration::from_secs(1);

/// Why a transport could not deliver (the client turns each into a [`SourceError`]).
#[derive(Debug, Clone, PartialEq)]
pub enum TransferError {
    /// Nothing arrived within the stall limit while waiting for this (retried).
    Stalled(&'static str),
    /// The request or the connection failed, with the transport's words (retried).
    Broken(String),
    /// The request cannot be made at all (not retried).
    Unusable(String),
}

/// One range request to make: `GET url` with `Range: range`, waiting at most `stall` for
/// its head.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub url: &'a str,
    pub range: &'a str,
    pub stall: Duration,
}

/// A response head and the body still to read, or why there is none.
pub type Sent<B> = Result<(Head, B), TransferError>;

/// The next piece of a body (`None` at its end), or why there is none.
pub type Next<P> = Result<Option<P>, TransferError>;

/// Moving bytes over HTTP, and nothing else: one `GET` with a `Range` header, its body piece
/// by piece, a timer and a clock. Dropping a `Body` must end its download.
#[async_trait(?Send)]
pub trait Transport {
    /// A response whose head has arrived and whose body is still to be read.
    type Body;
    /// One piece of a body.
    type Piece;

    /// Requests kept in flight at once by one `read_ranges` call, unless changed.
    const MAX_IN_FLIGHT: usize;

    /// Whether to ask for a file's tail as a suffix (`Range: bytes=-N`) beside its head. Not
    /// in a browser: a suffix range is not a CORS-safelisted header value, so every such
    /// request would first cost a preflight round trip.
    const SUFFIX_RANGES: bool;

    /// Makes the request (asking for no content coding); resolves with the head, or
    /// [`TransferError::Stalled`] when none arrived within `ask.stall`.
    async fn send(&self, ask: Ask<'_>) -> Sent<Self::Body>;

    /// The next piece of `body`, `None` at its end; stalled when nothing came within `stall`.
    async fn next_piece(&self, body: &mut Self::Body, stall: Duration) -> Next<Self::Piece>;

    fn piece_len(piece: &Self::Piece) -> usize;

    /// Copies `piece` (exactly `piece_len` bytes) into `into`.
    fn copy_piece(piece: &Self::Piece, into: &mut [u8]);

    async fn sleep(&self, pause: Duration);

    /// Seconds since the Unix epoch, if this platform has a clock (dates `Retry-After`).
    fn now_unix_secs(&self) -> Option<u64>;
}

/// A file behind a URL, read with range requests over transport `T`.
#[derive(Debug)]
pub struct RangeClient<T> {
    transport: T,
    protocol: RangeProtocol,
    received: Received,
    max_in_flight: usize,
}

impl<T: Transport> RangeClient<T> {
    /// A client for `url`; `hidden_headers_hint` is added to messages about headers the
    /// transport may hide (CORS in a browser).
    pub(crate) fn over(
        url: impl Into<String>,
        transport: T,
        hidden_headers_hint: Option<&'static str>,
    ) -> Self {
        RangeClient {
            transport,
            protocol: RangeProtocol::new(url, hidden_headers_hint),
            received: Received::default(),
            max_in_flight: T::MAX_IN_FLIGHT,
        }
    }

    /// Changes how failed requests are retried and when a silent server counts as stalled.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.protocol.set_policy(policy);
        self
    }

    /// When the server ignores `Range` and the whole file is at most `limit` bytes, keep the
    /// `200` body as an in-memory copy and serve every read from it (0, the default: report
    /// [`SourceError::RangeIgnored`] instead). See [`crate::source::SUGGESTED_WHOLE_FILE_LIMIT`].
    pub fn with_whole_file_limit(mut self, limit: u64) -> Self {
        self.protocol.set_whole_file_limit(limit);
        self
    }

    /// Changes how many requests one `read_ranges` call keeps in flight (at least 1).
    /// The transport, to set it up further before the first request (`HttpSource`'s headers).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// A live count of body bytes received, for progress while a read is under way.
    pub fn received(&self) -> Received {
        self.received.clone()
    }

    /// The URL this source reads.
    pub fn url(&self) -> &str {
        self.protocol.url()
    }

    fn transfer_error<R>(&self, e: TransferError) -> Attempt<R> {
        match e {
            TransferError::Stalled(what) => Attempt::retry(self.protocol.stalled(what)),
            TransferError::Broken(reason) => Attempt::retry(self.protocol.network(reason)),
            TransferError::Unusable(reason) => Attempt::fail(SourceError::BadResponse {
                url: self.url().to_string(),
                reason,
            }),
        }
    }

    /// One try at `range`: the bytes and the file length the server stated.
    async fn try_range(&self, range: ByteRange) -> Attempt<(Bytes, Option<u64>)> {
        let header = super::headers::range_header(range.start, range.end);
        let (head, body) = match self.send(&header).await {
            Ok(sent) => sent,
            Err(e) => return self.transfer_error(e),
        };
        self.receive(range, head, body).await
    }

    /// One try at the file's last `n` bytes: the range they cover, the bytes and the length.
    /// Only a `206` naming exactly the last bytes is taken; anything else is refused (the
    /// caller then does without the tail).
    async fn try_suffix(&self, n: u64) -> Attempt<(ByteRange, Bytes, Option<u64>)> {
        let (head, body) = match self.send(&super::headers::suffix_header(n)).await {
            Ok(sent) => sent,
            Err(e) => return self.transfer_error(e),
        };
        let span = (head.status == 206)
            .then_some(head.content_range.as_deref())
            .flatten()
            .and_then(|cr| super::headers::suffix_span(cr, n));
        let Some((first, total)) = span else {
            return Attempt::fail(SourceError::BadResponse {
                url: self.url().to_string(),
                reason: "the server does not answer suffix ranges (bytes=-N)".into(),
            });
        };
        let range = ByteRange::new(first, total);
        self.receive(range, head, body)
            .await
            .map(|(bytes, len)| (range, bytes, len))
    }

    async fn send(&self, range_header: &str) -> Sent<T::Body> {
        let ask = Ask {
            url: self.url(),
            range: range_header,
            stall: self.protocol.policy().stall,
        };
        self.transport.send(ask).await
    }

    /// The body of an answer to `range` whose head has arrived, checked as the protocol says.
    async fn receive(
        &self,
        range: ByteRange,
        head: Head,
        mut body: T::Body,
    ) -> Attempt<(Bytes, Option<u64>)> {
        let stall = self.protocol.policy().stall;
        let now = self.transport.now_unix_secs();
        let expect = match self.protocol.on_head(range, &head, now) {
            Attempt::Done(Ok(expect)) => expect,
            Attempt::Done(Err(e)) => return Attempt::fail(e),
            Attempt::Retry { error, after } => return Attempt::Retry { error, after },
        };
        let cap = expect.cap();
        let mut buf = match &expect {
            Expect::Range { want, .. } => BytesMut::with_capacity(*want),
            Expect::Whole { .. } => BytesMut::new(),
        };
        loop {
            let piece = match self.transport.next_piece(&mut body, stall).await {
                Ok(Some(piece)) => piece,
                Ok(None) => break,
                Err(e) => return self.transfer_error(e),
            };
            let n = T::piece_len(&piece);
            self.received.add(n);
            let at = buf.len();
            if (at + n) as u64 > cap {
                return self.protocol.overlong(range, &expect, (at + n) as u64);
            }
            buf.resize(at + n, 0);
            T::copy_piece(&piece, &mut buf[at..]);
        }
        self.protocol.finish(range, expect, buf)
    }

    /// `range`, fully checked, retried as the policy says.
    async fn fetch(&self, range: ByteRange) -> Result<(Bytes, Option<u64>), SourceError> {
        let policy = *self.protocol.policy();
        with_retries(
            self.url(),
            &policy,
            |pause| self.transport.sleep(pause),
            || self.try_range(range),
        )
        .await
    }

    async fn read_one(&self, range: ByteRange) -> Result<Bytes, SourceError> {
        match self.protocol.before(range) {
            Before::Ready(bytes) => Ok(bytes),
            Before::Refused(e) => Err(e),
            Before::Fetch => Ok(self.fetch(range).await?.0),
        }
    }
}

#[async_trait(?Send)]
impl<T: Transport> RangeSource for RangeClient<T> {
    /// One round: every range at once (at most `max_in_flight` in flight), plus the change
    /// probe when the server gives no validator.
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        let probe = self.protocol.probe();
        let mut asked = ranges.to_vec();
        if let Some((range, _)) = &probe {
            asked.push(*range);
        }
        let mut got =
            crate::source::read_each(&asked, self.max_in_flight, |r| self.read_one(r)).await?;
        if let Some((range, before)) = probe {
            let now = got.pop().unwrap_or_default();
            self.protocol.check_probe(range, &before, &now)?;
        }
        self.protocol.remember_probe(ranges, &got);
        Ok(got)
    }

    /// Learns the length with a 1-byte range GET (not HEAD: some hosts answer HEAD
    /// differently). An empty file cannot satisfy `bytes=0-0`; its `416` carries the length.
    async fn len(&self) -> Result<u64, SourceError> {
        if let Some(len) = self.protocol.known_len() {
            return Ok(len);
        }
        match self.fetch(ByteRange::new(0, 1)).await {
            Ok((_, Some(total))) => Ok(total),
            Ok((_, None)) => Err(SourceError::BadResponse {
                url: self.url().to_string(),
                reason: "the server's Content-Range does not state the file length (bytes a-b/*)"
                    .into(),
            }),
            Err(SourceError::OutOfBounds { len, .. }) => Ok(len),
            Err(e) => Err(e),
        }
    }

    /// One GET learns the length (the `Content-Range` total) and brings the head; a file
    /// shorter than `max` (the server clamps or refuses the range) is read the plain way.
    async fn read_head(&self, max: u64) -> Result<(Bytes, u64), SourceError> {
        if self.protocol.known_len().is_none() && max > 0 {
            let head = ByteRange::new(0, max);
            match self.fetch(head).await {
                Ok((bytes, Some(total))) => {
                    self.protocol
                        .remember_probe(&[head], std::slice::from_ref(&bytes));
                    return Ok((bytes, total));
                }
                Ok(_) | Err(SourceError::BadResponse { .. } | SourceError::OutOfBounds { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let len = self.len().await?;
        let head = ByteRange::new(0, max.min(len));
        let bytes = self.read_one(head).await?;
        self.protocol
            .remember_probe(&[head], std::slice::from_ref(&bytes));
        Ok((bytes, len))
    }

    /// The head and, where the transport asks for suffixes, the tail: two requests in one
    /// round. A tail the server will not give (no suffix ranges, another length) is left
    /// out — the metadata it would have held is read when it is missed, as before.
    async fn read_ends(&self, head: u64, tail: u64) -> Result<Ends, SourceError> {
        if !T::SUFFIX_RANGES || tail == 0 || self.protocol.known_len().is_some() {
            let (head, len) = self.read_head(head).await?;
            return Ok(Ends {
                head,
                tail: Bytes::new(),
                len,
            });
        }
        use futures::future::{select, Either};
        // The tail is optional: asked once (never retried), and waited for at most
        // `TAIL_GRACE` after the head is in, so a server that mishandles suffixes costs
        // nothing but that request.
        let head_read = self.read_head(head);
        let tail_read = async {
            match self.try_suffix(tail).await {
                Attempt::Done(Ok(got)) => Some(got),
                _ => None,
            }
        };
        futures::pin_mut!(head_read, tail_read);
        let (first, last) = match select(head_read, tail_read).await {
            Either::Left((first, tail_read)) => {
                if first.is_err() {
                    return first.map(|(head, len)| Ends {
                        head,
                        tail: Bytes::new(),
                        len,
                    });
                }
                let grace = self.transport.sleep(TAIL_GRACE);
                futures::pin_mut!(grace);
                match select(tail_read, grace).await {
                    Either::Left((last, _)) => (first, last),
                    Either::Right(_) => (first, None),
                }
            }
            Either::Right((last, head_read)) => (head_read.await, last),
        };
        let (head, len) = first?;
        let tail = match last {
            Some((range, bytes, Some(total))) if total == len && range.end == len => bytes,
            _ => Bytes::new(),
        };
        Ok(Ends { head, tail, len })
    }

    fn validator(&self) -> Option<String> {
        self.protocol.validator()
    }

    fn describe(&self) -> String {
        self.url().to_string()
    }
}
