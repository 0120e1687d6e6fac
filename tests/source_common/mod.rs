//! Helpers shared by the `source_*` and `serve_*` tests: random files, a served temp
//! directory, raw HTTP over TCP, and a counting in-memory source.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use strobe::serve::{spawn_for_tests, ServeOptions};
use strobe::source::{ByteRange, RangeSource, SourceError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Deterministic pseudo-random bytes (splitmix64).
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(n);
    out
}

/// A temp tree: `data/rec.h5` (random bytes), `data/sub/small.bin`, `outside/secret.txt`
/// next to (not inside) `data/`, and (unix) symlinks `data/link_out` → the secret and
/// `data/link_in.h5` → `rec.h5`.
pub struct Tree {
    pub tmp: tempfile::TempDir,
    pub data: PathBuf,
    pub outside: PathBuf,
    pub rec: PathBuf,
    pub bytes: Vec<u8>,
}

pub const SECRET: &[u8] = b"top secret: outside the data dir\n";

impl Tree {
    pub fn new(len: usize) -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let bytes = random_bytes(len, 42);
        let rec = data.join("rec.h5");
        std::fs::write(&rec, &bytes).unwrap();
        std::fs::write(data.join("sub").join("small.bin"), b"0123456789").unwrap();
        std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
        std::fs::write(tmp.path().join("secret.txt"), SECRET).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.join("secret.txt"), data.join("link_out")).unwrap();
            std::os::unix::fs::symlink("rec.h5", data.join("link_in.h5")).unwrap();
        }
        Tree {
            tmp,
            data,
            outside,
            rec,
            bytes,
        }
    }

    pub fn options(&self) -> ServeOptions {
        ServeOptions {
            port: 0,
            data_dir: Some(self.data.clone()),
            ..Default::default()
        }
    }

    /// Serves the tree's data dir on an ephemeral port of this test's runtime.
    pub async fn serve(&self) -> SocketAddr {
        serve_with(self.options()).await
    }
}

pub async fn serve_with(opts: ServeOptions) -> SocketAddr {
    let (addr, _handle) = spawn_for_tests(opts).await.unwrap();
    addr
}

pub fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// A reqwest client that goes straight to loopback and negotiates no compression.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A parsed raw HTTP/1.1 response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request_line` (e.g. `GET /data/%2e%2e/x HTTP/1.1`) byte for byte, with
/// `Connection: close`, and reads the whole answer.
pub async fn raw_get(addr: SocketAddr, request_line: &str) -> RawResponse {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("{request_line}\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    RawResponse {
        status,
        headers,
        body: buf[split + 4..].to_vec(),
    }
}

/// Returns `Pending` once (waking itself), so other futures of a `join!` get to run.
pub struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

pub fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

/// An in-memory source that records every `read_ranges` call and yields before answering.
pub struct Counting {
    pub bytes: Bytes,
    pub calls: Mutex<Vec<Vec<ByteRange>>>,
    /// Fail the next `n` calls with a network error.
    pub fail_next: Mutex<u32>,
}

impl Counting {
    pub fn new(bytes: Vec<u8>) -> Counting {
        Counting {
            bytes: Bytes::from(bytes),
            calls: Mutex::new(Vec::new()),
            fail_next: Mutex::new(0),
        }
    }

    pub fn calls(&self) -> Vec<Vec<ByteRange>> {
        self.calls.lock().unwrap().clone()
    }

    /// Total ranges requested over all calls.
    pub fn requests(&self) -> usize {
        self.calls().iter().map(Vec::len).sum()
    }
}

#[async_trait(?Send)]
impl RangeSource for Counting {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        self.calls.lock().unwrap().push(ranges.to_vec());
        yield_once().await;
        {
            let mut fail = self.fail_next.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Err(SourceError::Network {
                    url: "mem".into(),
                    reason: "injected".into(),
                });
            }
        }
        let len = self.bytes.len() as u64;
        ranges
            .iter()
            .map(|r| {
                if r.end > len {
                    Err(SourceError::OutOfBounds {
                        what: "mem".into(),
                        range: *r,
                        len,
                    })
                } else {
                    Ok(self.bytes.slice(r.start as usize..r.end as usize))
                }
            })
            .collect()
    }

    async fn len(&self) -> Result<u64, SourceError> {
        Ok(self.bytes.len() as u64)
    }

    fn validator(&self) -> Option<String> {
        Some("mem".into())
    }

    fn describe(&self) -> String {
        "mem".into()
    }
}

/// The expected bytes of `r` in `all`.
pub fn slice(all: &[u8], r: ByteRange) -> &[u8] {
    &all[r.start as usize..r.end as usize]
}
