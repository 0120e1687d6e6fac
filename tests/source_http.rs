//! HttpSource against the project's server (oracle: the bytes on disk) and against a
//! deliberately misbehaving server.
#![cfg(not(target_arch = "wasm32"))]

mod source_common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Response, StatusCode};
use source_common::{random_bytes, serve_with, slice, url, Tree};
use strobe::serve::ServeOptions;
use strobe::source::http::HttpSource;
use strobe::source::{ByteRange, RangeSource, SourceError};

const LEN: usize = 4 * 1024 * 1024 + 1234;

#[tokio::test]
async fn many_ranges_in_one_call_equal_the_file() {
    let tree = Tree::new(LEN);
    let addr = tree.serve().await;
    let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
    assert_eq!(src.validator(), None, "nothing read yet");
    let n = LEN as u64;
    let mut ranges = vec![
        ByteRange::new(0, 1),
        ByteRange::new(n - 1, n),
        ByteRange::new(77, 77), // empty
        ByteRange::new(0, n),   // the whole file
        ByteRange::at(4096, 4096),
        ByteRange::at(4096, 4096), // duplicate
    ];
    let mut seed = 1u64;
    for _ in 0..200 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let start = (seed >> 11) % n;
        let len = 1 + (seed >> 40) % 20_000;
        ranges.push(ByteRange::new(start, (start + len).min(n)));
    }
    let got = src.read_ranges(&ranges).await.unwrap();
    assert_eq!(got.len(), ranges.len());
    for (r, b) in ranges.iter().zip(&got) {
        assert_eq!(b.len() as u64, r.len(), "{r}");
        assert_eq!(&b[..], slice(&tree.bytes, *r), "{r}");
    }
    assert_eq!(src.len().await.unwrap(), n);
    assert!(
        src.validator().unwrap().starts_with('"'),
        "ETag is the validator"
    );
    assert!(src.read_ranges(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn len_first_uses_a_one_byte_get() {
    let tree = Tree::new(LEN);
    std::fs::write(tree.data.join("empty.h5"), b"").unwrap();
    let addr = tree.serve().await;
    let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
    assert_eq!(src.len().await.unwrap(), LEN as u64);
    assert!(src.validator().is_some());
    let empty = HttpSource::new(url(addr, "/data/empty.h5")).unwrap();
    assert_eq!(empty.len().await.unwrap(), 0);

    // Exactly one request, a GET (the handler asserts it) of bytes=0-0 (it records the Range
    // header); the length is cached afterwards.
    let (addr, bad, _) = bad_server(Mode::FailFirst(0)).await;
    let src = HttpSource::new(url(addr, "/f")).unwrap();
    assert_eq!(src.len().await.unwrap(), 10_000);
    assert_eq!(src.len().await.unwrap(), 10_000);
    assert_eq!(bad.hits.load(Ordering::SeqCst), 1);
    assert_eq!(*bad.ranges.lock().unwrap(), vec!["bytes=0-0".to_string()]);
}

#[tokio::test]
async fn past_the_end_is_out_of_bounds() {
    let tree = Tree::new(1000);
    let addr = tree.serve().await;
    // Length not yet known: the server's answer (416 or a clamped 206) tells.
    for r in [
        ByteRange::new(990, 1001),
        ByteRange::new(1000, 1010),
        ByteRange::at(5000, 1),
    ] {
        let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
        let err = src.read_ranges(&[r]).await.unwrap_err();
        assert!(
            matches!(err, SourceError::OutOfBounds { len: 1000, range, .. } if range == r),
            "{r}: {err:?}"
        );
    }
    // Length known: refused without asking.
    let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
    src.len().await.unwrap();
    let err = src
        .read_ranges(&[ByteRange::new(999, 1001)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::OutOfBounds { len: 1000, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn concurrent_ranges_overlap_in_time() {
    let tree = Tree::new(100_000);
    let addr = serve_with(ServeOptions {
        latency: Duration::from_millis(100),
        ..tree.options()
    })
    .await;
    let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
    // One request alone, then 32 together, in the same run: a ratio, not a wall-clock bound.
    let t = Instant::now();
    src.read_ranges(&[ByteRange::at(0, 1000)]).await.unwrap();
    let one = t.elapsed();
    let ranges: Vec<_> = (0..32).map(|i| ByteRange::at(i * 3000, 1000)).collect();
    let t = Instant::now();
    let got = src.read_ranges(&ranges).await.unwrap();
    let took = t.elapsed();
    for (r, b) in ranges.iter().zip(&got) {
        assert_eq!(&b[..], slice(&tree.bytes, *r));
    }
    // Each request waits 100 ms at the server: one after another, 32 would take 32× one
    // request; issued together they take about as long as one.
    assert!(
        took < one * 8,
        "32 ranges took {took:?}, one took {one:?}: not concurrent"
    );
}

#[tokio::test]
async fn server_ignoring_range_is_range_ignored() {
    let tree = Tree::new(100_000);
    let addr = serve_with(ServeOptions {
        ignore_range: true,
        ..tree.options()
    })
    .await;
    let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
    let err = src.read_ranges(&[ByteRange::at(10, 10)]).await.unwrap_err();
    assert!(matches!(err, SourceError::RangeIgnored { .. }), "{err:?}");
    let err = src.len().await.unwrap_err();
    assert!(matches!(err, SourceError::RangeIgnored { .. }), "{err:?}");
}

#[tokio::test]
async fn content_encoded_response_is_refused() {
    let tree = Tree::new(100_000);
    let addr = serve_with(ServeOptions {
        gzip: true,
        ..tree.options()
    })
    .await;
    let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
    let err = src.read_ranges(&[ByteRange::at(10, 10)]).await.unwrap_err();
    assert_eq!(
        err,
        SourceError::ContentEncoded {
            url: src.url().to_string(),
            encoding: "gzip".into()
        }
    );
}

#[tokio::test]
async fn missing_file_is_http_404() {
    let tree = Tree::new(10);
    let addr = tree.serve().await;
    let src = HttpSource::new(url(addr, "/data/nope.h5")).unwrap();
    let err = src.read_ranges(&[ByteRange::at(0, 1)]).await.unwrap_err();
    assert!(
        matches!(err, SourceError::HttpStatus { status: 404, .. }),
        "{err:?}"
    );
    let err = src.len().await.unwrap_err();
    assert!(
        matches!(err, SourceError::HttpStatus { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn file_changed_between_reads_is_changed() {
    let tree = Tree::new(100_000);
    let addr = tree.serve().await;
    let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
    let first = src.read_ranges(&[ByteRange::at(0, 100)]).await.unwrap();
    assert_eq!(&first[0][..], &tree.bytes[..100]);
    // Same length, different bytes and mtime.
    std::fs::write(&tree.rec, random_bytes(100_000, 99)).unwrap();
    let f = std::fs::File::options()
        .write(true)
        .open(&tree.rec)
        .unwrap();
    f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(1_234_567))
        .unwrap();
    let err = src.read_ranges(&[ByteRange::at(0, 100)]).await.unwrap_err();
    assert!(matches!(err, SourceError::Changed { .. }), "{err:?}");

    // Different length too.
    let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
    src.read_ranges(&[ByteRange::at(0, 100)]).await.unwrap();
    std::fs::write(&tree.rec, random_bytes(150_000, 5)).unwrap();
    let err = src.read_ranges(&[ByteRange::at(0, 100)]).await.unwrap_err();
    assert!(matches!(err, SourceError::Changed { .. }), "{err:?}");
}

#[tokio::test]
async fn same_length_replacement_without_validators_is_changed() {
    let tree = Tree::new(100_000);
    let addr = serve_with(ServeOptions {
        faults: true,
        ..tree.options()
    })
    .await;
    // The fault server's `no-validator`: no ETag, no Last-Modified, as some servers answer.
    let src = HttpSource::new(url(addr, "/faults/key=nv,no-validator/data/rec.h5")).unwrap();
    let (a, b, c) = (
        ByteRange::at(1000, 500),
        ByteRange::at(50_000, 100),
        ByteRange::at(90_000, 100),
    );
    let got = src.read_ranges(&[a]).await.unwrap();
    assert_eq!(&got[0][..], slice(&tree.bytes, a));
    assert_eq!(src.validator(), None);
    // The file unchanged: the next round reads, its probe of round one's bytes matches.
    let got = src.read_ranges(&[b]).await.unwrap();
    assert_eq!(&got[0][..], slice(&tree.bytes, b));
    // Replaced by a file of the same length (so Content-Range says nothing new).
    std::fs::write(&tree.rec, random_bytes(100_000, 77)).unwrap();
    let err = src.read_ranges(&[c]).await.unwrap_err();
    assert!(matches!(err, SourceError::Changed { .. }), "{err:?}");
    assert!(err.to_string().contains("reopen it"), "{err}");
    // What it cost: one small probe request per round after the first.
    let stats: serde_json::Value = serde_json::from_str(
        &reqwest::get(url(addr, "/faults/stats?key=nv"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let mut ranges: Vec<String> = serde_json::from_value(stats["ranges"].clone()).unwrap();
    ranges.sort();
    let mut want = vec![
        "bytes=1000-1499",
        "bytes=50000-50099",
        "bytes=1000-1063",
        "bytes=90000-90099",
        "bytes=50000-50063",
    ];
    want.sort();
    assert_eq!(ranges, want);
}

#[tokio::test]
async fn a_file_that_shrank_is_changed_not_truncated() {
    let tree = Tree::new(100_000);
    let addr = serve_with(ServeOptions {
        faults: true,
        ..tree.options()
    })
    .await;
    for path in ["/data/rec.h5", "/faults/no-validator/data/rec.h5"] {
        std::fs::write(&tree.rec, &tree.bytes).unwrap();
        let src = HttpSource::new(url(addr, path)).unwrap();
        assert_eq!(src.len().await.unwrap(), 100_000);
        std::fs::write(&tree.rec, &tree.bytes[..40_000]).unwrap();
        // Past the new end (a 416) and inside it (a 206 with the new total).
        for r in [ByteRange::at(60_000, 10), ByteRange::at(10, 10)] {
            let err = src.read_ranges(&[r]).await.unwrap_err();
            assert!(
                matches!(err, SourceError::Changed { .. }),
                "{path} {r}: {err:?}"
            );
            assert!(!err.to_string().contains("truncated"), "{err}");
        }
    }
}

#[tokio::test]
async fn bad_urls_and_refused_connections() {
    assert!(matches!(
        HttpSource::new("not a url"),
        Err(SourceError::Io { .. })
    ));
    assert!(matches!(
        HttpSource::new("ftp://x/y.h5"),
        Err(SourceError::Io { .. })
    ));
    // A port nobody listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let src = HttpSource::new(format!("http://127.0.0.1:{port}/x.h5")).unwrap();
    let t = Instant::now();
    let err = src.read_ranges(&[ByteRange::at(0, 1)]).await.unwrap_err();
    assert!(
        matches!(&err, SourceError::GaveUp { attempts: 4, last, .. } if last.contains("request failed")),
        "{err:?}"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "retried with backoff"
    );
}

// ---- a misbehaving server -------------------------------------------------------------

#[derive(Clone, Copy)]
enum Mode {
    WrongContentRange,
    NoContentRange,
    ShortBody,
    LongBody,
    IdentityEncoding,
    /// 503 for the first n requests, then correct.
    FailFirst(usize),
    Status(u16),
    /// A different ETag on every response.
    FlappingEtag,
    /// 501 to every suffix range (`bytes=-N`), right answers to the rest.
    NoSuffix,
}

struct Bad {
    mode: Mode,
    hits: AtomicUsize,
    /// Every request's `Range` header, in arrival order.
    ranges: Mutex<Vec<String>>,
    data: Vec<u8>,
}

async fn bad_handler(State(bad): State<Arc<Bad>>, req: Request) -> Response<Body> {
    let n = bad.hits.fetch_add(1, Ordering::SeqCst);
    assert_eq!(req.method(), axum::http::Method::GET, "only GETs are sent");
    let range = req.headers()[header::RANGE].to_str().unwrap().to_string();
    bad.ranges.lock().unwrap().push(range.clone());
    assert_eq!(req.headers()[header::ACCEPT_ENCODING], "identity");
    let total = bad.data.len();
    let (a, b) = range.trim_start_matches("bytes=").split_once('-').unwrap();
    let (a, b): (usize, usize) = match a {
        // A suffix: the last `b` bytes.
        "" if matches!(bad.mode, Mode::NoSuffix) => {
            return Response::builder()
                .status(StatusCode::NOT_IMPLEMENTED)
                .body(Body::empty())
                .unwrap();
        }
        "" => (total.saturating_sub(b.parse().unwrap()), total - 1),
        _ => (a.parse().unwrap(), b.parse().unwrap()),
    };
    let mut body = bad.data[a..=b].to_vec();
    let mut content_range = format!("bytes {a}-{b}/{total}");
    let mut status = StatusCode::PARTIAL_CONTENT;
    let mut builder = Response::builder();
    match bad.mode {
        Mode::WrongContentRange => content_range = format!("bytes {}-{}/{total}", a + 1, b + 1),
        Mode::NoContentRange => content_range.clear(),
        Mode::ShortBody => {
            body.pop();
        }
        Mode::LongBody => body.push(0),
        Mode::IdentityEncoding => builder = builder.header(header::CONTENT_ENCODING, "identity"),
        Mode::FailFirst(k) if n < k => status = StatusCode::SERVICE_UNAVAILABLE,
        Mode::FailFirst(_) => {}
        Mode::Status(s) => status = StatusCode::from_u16(s).unwrap(),
        Mode::FlappingEtag => builder = builder.header(header::ETAG, format!("\"v{n}\"")),
        Mode::NoSuffix => {}
    }
    if !content_range.is_empty() {
        builder = builder.header(header::CONTENT_RANGE, content_range);
    }
    builder.status(status).body(Body::from(body)).unwrap()
}

async fn bad_server(mode: Mode) -> (SocketAddr, Arc<Bad>, Vec<u8>) {
    let data = random_bytes(10_000, 3);
    let bad = Arc::new(Bad {
        mode,
        hits: AtomicUsize::new(0),
        ranges: Mutex::new(Vec::new()),
        data: data.clone(),
    });
    let app = axum::Router::new()
        .fallback(bad_handler)
        .with_state(bad.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, bad, data)
}

#[tokio::test]
async fn responses_that_do_not_match_the_request_are_bad() {
    for mode in [
        Mode::WrongContentRange,
        Mode::NoContentRange,
        Mode::ShortBody,
        Mode::LongBody,
    ] {
        let (addr, _, _) = bad_server(mode).await;
        let src = HttpSource::new(url(addr, "/f")).unwrap();
        let err = src
            .read_ranges(&[ByteRange::at(100, 50)])
            .await
            .unwrap_err();
        // Other bytes than asked may be a passing proxy glitch: retried, then given up.
        let retried = !matches!(mode, Mode::NoContentRange);
        assert!(
            match &err {
                SourceError::BadResponse { .. } => !retried,
                SourceError::GaveUp { attempts: 4, .. } => retried,
                _ => false,
            },
            "{err:?}"
        );
    }
    // `Content-Encoding: identity` is no encoding.
    let (addr, _, data) = bad_server(Mode::IdentityEncoding).await;
    let src = HttpSource::new(url(addr, "/f")).unwrap();
    let got = src.read_ranges(&[ByteRange::at(100, 50)]).await.unwrap();
    assert_eq!(&got[0][..], &data[100..150]);
}

#[tokio::test]
async fn transient_5xx_is_retried_then_given_up() {
    let (addr, bad, data) = bad_server(Mode::FailFirst(2)).await;
    let src = HttpSource::new(url(addr, "/f")).unwrap();
    let got = src.read_ranges(&[ByteRange::at(5, 5)]).await.unwrap();
    assert_eq!(&got[0][..], &data[5..10]);
    assert_eq!(bad.hits.load(Ordering::SeqCst), 3);

    let (addr, bad, _) = bad_server(Mode::FailFirst(usize::MAX)).await;
    let src = HttpSource::new(url(addr, "/f")).unwrap();
    let err = src.read_ranges(&[ByteRange::at(5, 5)]).await.unwrap_err();
    assert!(
        matches!(&err, SourceError::GaveUp { attempts: 4, last, .. } if last.contains("HTTP 503")),
        "{err:?}"
    );
    assert_eq!(bad.hits.load(Ordering::SeqCst), 4, "bounded retries");

    // 403 is not retried.
    let (addr, bad, _) = bad_server(Mode::Status(403)).await;
    let src = HttpSource::new(url(addr, "/f")).unwrap();
    let err = src.read_ranges(&[ByteRange::at(5, 5)]).await.unwrap_err();
    assert!(
        matches!(err, SourceError::HttpStatus { status: 403, .. }),
        "{err:?}"
    );
    assert_eq!(bad.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn validator_change_within_a_session_is_changed() {
    let (addr, _, _) = bad_server(Mode::FlappingEtag).await;
    let src = HttpSource::new(url(addr, "/f")).unwrap();
    src.read_ranges(&[ByteRange::at(0, 10)]).await.unwrap();
    assert_eq!(src.validator().as_deref(), Some("\"v0\""));
    let err = src.read_ranges(&[ByteRange::at(0, 10)]).await.unwrap_err();
    assert_eq!(
        err,
        SourceError::Changed {
            what: src.url().to_string(),
            before: "\"v0\"".into(),
            after: "\"v1\"".into()
        }
    );
}

#[cfg(unix)]
#[tokio::test]
async fn multi_gigabyte_file_offsets() {
    // A sparse 6 GiB file: offsets past 4 GiB, and only the asked bytes are read and sent.
    let tree = Tree::new(10);
    let big = tree.data.join("big.h5");
    let f = std::fs::File::create(&big).unwrap();
    let len: u64 = 6 << 30;
    f.set_len(len).unwrap();
    let marker = b"event camera";
    let at = (5u64 << 30) + 12_345;
    {
        use std::os::unix::fs::FileExt;
        f.write_all_at(marker, at).unwrap();
    }
    drop(f);
    let addr = tree.serve().await;
    let src = HttpSource::new(url(addr, "/data/big.h5")).unwrap();
    assert_eq!(src.len().await.unwrap(), len);
    let got = src
        .read_ranges(&[
            ByteRange::at(at, marker.len() as u64),
            ByteRange::new(len - 3, len),
        ])
        .await
        .unwrap();
    assert_eq!(&got[0][..], marker);
    assert_eq!(&got[1][..], &[0, 0, 0]);
}

/// Both ends in one round: the head and a suffix request together; each equals the bytes on
/// disk, and a file shorter than the tail asked comes whole as the tail.
#[tokio::test]
async fn head_and_tail_are_the_files_ends() {
    let tree = Tree::new(LEN);
    let addr = tree.serve().await;
    let src = HttpSource::new(url(addr, "/data/rec.h5")).unwrap();
    let n = LEN as u64;
    let ends = src.read_ends(4096, 70_000).await.unwrap();
    assert_eq!(ends.len, n);
    assert_eq!(&ends.head[..], slice(&tree.bytes, ByteRange::new(0, 4096)));
    assert_eq!(ends.tail_at(), n - 70_000);
    assert_eq!(
        &ends.tail[..],
        slice(&tree.bytes, ByteRange::new(n - 70_000, n))
    );

    let (addr, bad, data) = bad_server(Mode::FailFirst(0)).await;
    let src = HttpSource::new(url(addr, "/f")).unwrap();
    let ends = src.read_ends(100, 1 << 20).await.unwrap();
    assert_eq!((ends.len, ends.tail_at()), (data.len() as u64, 0));
    assert_eq!(&ends.tail[..], &data[..]);
    assert_eq!(&ends.head[..], &data[..100]);
    let mut asked = bad.ranges.lock().unwrap().clone();
    asked.sort();
    assert_eq!(asked, ["bytes=-1048576", "bytes=0-99"]);
}

/// A server that will not answer suffix ranges costs one refused request, never retried,
/// and the open goes on with the head alone.
#[tokio::test]
async fn a_server_without_suffix_ranges_gives_the_head_alone() {
    let (addr, bad, data) = bad_server(Mode::NoSuffix).await;
    let src = HttpSource::new(url(addr, "/f")).unwrap();
    let ends = src.read_ends(100, 1000).await.unwrap();
    assert_eq!(&ends.head[..], &data[..100]);
    assert!(ends.tail.is_empty());
    assert_eq!(ends.len, data.len() as u64);
    assert_eq!(
        bad.hits.load(Ordering::SeqCst),
        2,
        "{:?}",
        bad.ranges.lock().unwrap()
    );
}
