//! Bytes: where every byte Strobe reads comes from.
//!
//! One small async trait, [`RangeSource`], hides whether bytes come from a local file, an HTTP
//! server or a browser `File`. Everything above it asks for *several ranges at once* so that a
//! source can issue them concurrently; [`RangeCache`] sits in front, merges and de-duplicates
//! requests and counts requests, bytes and rounds (a round is one batch issued together —
//! sequential rounds are what latency costs).

use async_trait::async_trait;
use bytes::Bytes;

#[cfg(target_arch = "wasm32")]
pub mod blob;
pub mod cache;
#[cfg(target_arch = "wasm32")]
pub mod fetch;
#[cfg(not(target_arch = "wasm32"))]
pub mod file;
#[cfg(not(target_arch = "wasm32"))]
pub mod http;
pub mod memory;
#[cfg(not(target_arch = "wasm32"))]
pub mod object_store;
pub mod protocol;
pub mod received;
pub mod retry;

pub use cache::{NetStats, RangeCache};
pub use memory::MemorySource;
pub use received::Received;
pub use retry::RetryPolicy;

/// A whole-file limit callers may opt into (see `HttpSource::with_whole_file_limit`): files
/// up to 8 MiB on a server that ignores `Range` are read whole, once, into memory.
pub const SUGGESTED_WHOLE_FILE_LIMIT: u64 = 8 << 20;

/// A half-open byte range `[start, end)` of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    pub fn at(start: u64, len: u64) -> Self {
        Self {
            start,
            end: start.saturating_add(len),
        }
    }

    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

impl std::fmt::Display for ByteRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bytes {}..{}", self.start, self.end)
    }
}

/// Why bytes could not be had. Messages say what the user can do about it.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum SourceError {
    #[error("{path}: no such file — check the path")]
    NotFound { path: String },
    #[error("{what}: {reason}")]
    Io { what: String, reason: String },
    #[error("{url}: server answered HTTP {status} — check the URL and that the file is public")]
    HttpStatus { url: String, status: u16 },
    #[error("{url}: server answered HTTP {status}, a failure on the server's side (or it is overloaded)")]
    ServerFailing { url: String, status: u16 },
    #[error("{url}: the server ignores Range requests (answered 200 with the whole file) — serve it from a host that supports HTTP Range (nginx, S3, GitHub raw do)")]
    RangeIgnored { url: String },
    #[error("{url}: the server ignores Range requests and the whole file ({len} bytes) is over the {limit}-byte limit for reading it whole — serve it from a host that supports HTTP Range (nginx, S3, GitHub raw do)")]
    RangeIgnoredTooLarge { url: String, len: u64, limit: u64 },
    #[error("{url}: gave up after {attempts} attempts, the last: {last} — the server or the network is failing; try again later")]
    GaveUp {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("{url}: the response is content-encoded ({encoding}), so byte ranges are unusable — turn off gzip/brotli for .h5 files on the server")]
    ContentEncoded { url: String, encoding: String },
    #[error("{url}: {reason}")]
    BadResponse { url: String, reason: String },
    #[error("{url}: request failed: {reason}")]
    Network { url: String, reason: String },
    #[error("{what}: the file changed while it was being read (validator was {before}, now {after}) — reopen it")]
    Changed {
        what: String,
        before: String,
        after: String,
    },
    #[error("{what}: {range} lies past the end of the file ({len} bytes) — the file is truncated or not what its header says")]
    OutOfBounds {
        what: String,
        range: ByteRange,
        len: u64,
    },
}

/// Random access to the bytes of one file, wherever it lives.
///
/// `?Send` because browser futures are not `Send`; native callers drive these futures on one
/// task and get their concurrency from issuing ranges together.
// `len` is async and fallible, so an `is_empty` beside it would add nothing.
#[allow(clippy::len_without_is_empty)]
#[async_trait(?Send)]
pub trait RangeSource {
    /// Reads every range, concurrently where the source can; returns one buffer per range, in
    /// the order asked. Each buffer has exactly the range's length.
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError>;

    /// Total length of the file in bytes.
    async fn len(&self) -> Result<u64, SourceError>;

    /// The first `max` bytes (fewer if the file is shorter) and the file's length. Opening a
    /// file needs both; sources that learn the length from a ranged response (HTTP) do it in
    /// one request, saving a round trip on every open.
    async fn read_head(&self, max: u64) -> Result<(Bytes, u64), SourceError> {
        let len = self.len().await?;
        let head = ByteRange::new(0, max.min(len));
        if head.is_empty() {
            return Ok((Bytes::new(), len));
        }
        let bytes = self
            .read_ranges(&[head])
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        Ok((bytes, len))
    }

    /// The first `head` bytes, the last `tail` bytes and the file's length. Files whose
    /// metadata sits after the data (DSEC writes `ms_to_idx` last; many writers put object
    /// headers at the end) need both ends before anything else, so sources that can ask for
    /// a suffix without knowing the length (HTTP `Range: bytes=-N`, object stores) read the
    /// two ends in one round. The default reads only the head: a tail read after it would be
    /// a round of its own, which reading the missed metadata later costs just as well.
    async fn read_ends(&self, head: u64, tail: u64) -> Result<Ends, SourceError> {
        let _ = tail;
        let (head, len) = self.read_head(head).await?;
        Ok(Ends {
            head,
            tail: Bytes::new(),
            len,
        })
    }

    /// The bytes of `range` if they are already in memory, without any I/O. Lets a planner
    /// walk as far as held bytes take it before it spends a round on the network.
    fn cached(&self, range: ByteRange) -> Option<Bytes> {
        let _ = range;
        None
    }

    /// A token that changes when the file changes (ETag, Last-Modified, mtime), once known.
    fn validator(&self) -> Option<String>;

    /// What to call this source in messages (a path or URL).
    fn describe(&self) -> String;
}

/// Both ends of a file, as [`RangeSource::read_ends`] gives them.
#[derive(Debug, Clone, Default)]
pub struct Ends {
    /// Bytes from offset 0.
    pub head: Bytes,
    /// The file's last bytes (at `len - tail.len()`); empty when the source did not read them.
    pub tail: Bytes,
    /// The file's length.
    pub len: u64,
}

impl Ends {
    /// Where the tail starts in the file.
    pub fn tail_at(&self) -> u64 {
        self.len.saturating_sub(self.tail.len() as u64)
    }
}

/// Reads each range with `read_one`, at most `in_flight` at a time, results in the order
/// asked: how every network-like source serves `read_ranges`.
pub(crate) async fn read_each<F, Fut>(
    ranges: &[ByteRange],
    in_flight: usize,
    read_one: F,
) -> Result<Vec<Bytes>, SourceError>
where
    F: FnMut(ByteRange) -> Fut,
    Fut: std::future::Future<Output = Result<Bytes, SourceError>>,
{
    use futures::stream::{self, StreamExt, TryStreamExt};
    stream::iter(ranges.iter().copied())
        .map(read_one)
        .buffered(in_flight.max(1))
        .try_collect()
        .await
}

/// A boxed source is a source, so sources chosen at run time can sit behind the cache.
#[async_trait(?Send)]
impl<S: RangeSource + ?Sized> RangeSource for Box<S> {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        (**self).read_ranges(ranges).await
    }

    async fn len(&self) -> Result<u64, SourceError> {
        (**self).len().await
    }

    async fn read_head(&self, max: u64) -> Result<(Bytes, u64), SourceError> {
        (**self).read_head(max).await
    }

    async fn read_ends(&self, head: u64, tail: u64) -> Result<Ends, SourceError> {
        (**self).read_ends(head, tail).await
    }

    fn cached(&self, range: ByteRange) -> Option<Bytes> {
        (**self).cached(range)
    }

    fn validator(&self) -> Option<String> {
        (**self).validator()
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}
