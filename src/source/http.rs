//! Files behind an HTTP(S) URL (native only): the range client over reqwest.
//!
//! This module only moves bytes — one `GET` with a `Range` header, its body piece by piece,
//! each wait bounded by the stall limit; what the responses mean (and what to retry) is
//! decided once, for the browser too, in [`super::protocol`].

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::header::{self, HeaderMap};

use super::protocol::client::{Ask, Next, RangeClient, Sent, TransferError, Transport};
use super::protocol::Head;
use super::SourceError;

/// How many range requests one `read_ranges` call keeps in flight at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// A file at an `http://` or `https://` URL, read by byte ranges.
pub type HttpSource = RangeClient<Reqwest>;

/// The native transport: a reqwest client.
#[derive(Debug)]
pub struct Reqwest {
    client: reqwest::Client,
    /// Sent with every request (`--header 'Authorization: Bearer …'`).
    headers: HeaderMap,
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
        let refuse = |reason: String| SourceError::Io {
            what: url.clone(),
            reason,
        };
        match reqwest::Url::parse(&url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            Ok(u) => {
                return Err(refuse(format!(
                    "unsupported URL scheme {:?} — use http:// or https://",
                    u.scheme()
                )))
            }
            Err(e) => return Err(refuse(format!("not a valid URL: {e}"))),
        }
        let transport = Reqwest {
            client,
            headers: HeaderMap::new(),
        };
        Ok(RangeClient::over(url, transport, None))
    }

    /// Sends `headers` with every request (token-protected hosts). `Range` and
    /// `Accept-Encoding` are the source's own and are set after them.
    pub fn with_headers(mut self, headers: HeaderMap) -> HttpSource {
        self.transport_mut().headers = headers;
        self
    }
}

#[async_trait(?Send)]
impl Transport for Reqwest {
    type Body = reqwest::Response;
    type Piece = Bytes;

    const MAX_IN_FLIGHT: usize = DEFAULT_MAX_IN_FLIGHT;
    const SUFFIX_RANGES: bool = true;

    async fn send(&self, ask: Ask<'_>) -> Sent<reqwest::Response> {
        let sent = self
            .client
            .get(ask.url)
            .headers(self.headers.clone())
            .header(header::RANGE, ask.range)
            .header(header::ACCEPT_ENCODING, "identity")
            .send();
        match tokio::time::timeout(ask.stall, sent).await {
            Ok(Ok(resp)) => {
                let head = Head::read(resp.status().as_u16(), |name| joined(resp.headers(), name));
                Ok((head, resp))
            }
            Ok(Err(e)) => Err(TransferError::Broken(error_chain(&e))),
            Err(_) => Err(TransferError::Stalled("the response")),
        }
    }

    async fn next_piece(&self, body: &mut reqwest::Response, stall: Duration) -> Next<Bytes> {
        match tokio::time::timeout(stall, body.chunk()).await {
            Ok(Ok(piece)) => Ok(piece),
            Ok(Err(e)) => Err(TransferError::Broken(format!(
                "reading the response body failed: {}",
                error_chain(&e)
            ))),
            Err(_) => Err(TransferError::Stalled("the rest of the body")),
        }
    }

    fn piece_len(piece: &Bytes) -> usize {
        piece.len()
    }

    fn copy_piece(piece: &Bytes, into: &mut [u8]) {
        into.copy_from_slice(piece);
    }

    async fn sleep(&self, pause: Duration) {
        tokio::time::sleep(pause).await;
    }

    fn now_unix_secs(&self) -> Option<u64> {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs())
    }
}

/// Every value of header `name`, comma-joined (how HTTP combines repeated fields).
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
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
