//! Browser tests of the byte sources: `FetchSource` against a real range + CORS server on
//! another origin, and `BlobSource` over Blobs and Files built here.
//!
//! Run by `scripts/test.sh`, which starts `strobe serve` on 127.0.0.1:8765 with the fixtures
//! directory under `/data/`, and writes `ranges.bin` there: [`RANGES_LEN`] bytes whose byte at
//! offset `i` is [`oracle`]`(i)`. The test page itself comes from wasm-bindgen-test-runner's
//! own server on another port, so every fetch below is a cross-origin CORS range request.
//! Override the base URL at build time with `STROBE_TEST_DATA_URL`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Uint8Array};
use strobe::source::blob::BlobSource;
use strobe::source::fetch::{parse_content_range, ContentRange, FetchSource};
use strobe::source::{ByteRange, RangeSource, SourceError};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Where `scripts/test.sh` serves `tests/fixtures/out/`.
const DATA_URL: &str = match option_env!("STROBE_TEST_DATA_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8765/data/",
};

/// Length of `ranges.bin` (keep in step with `scripts/test.sh`).
const RANGES_LEN: u64 = 3_000_017;

/// Byte `i` of `ranges.bin` (keep in step with `scripts/test.sh`): the top byte of a
/// Fibonacci hash, so a range read from the wrong offset does not match.
fn oracle(i: u64) -> u8 {
    ((i.wrapping_mul(0x9E37_79B1) & 0xFFFF_FFFF) >> 24) as u8
}

fn expected(range: ByteRange) -> Vec<u8> {
    (range.start..range.end).map(oracle).collect()
}

fn url(name: &str) -> String {
    format!("{DATA_URL}{name}")
}

/// Compares without printing megabytes on failure.
fn assert_bytes(range: ByteRange, got: &[u8]) {
    let want = expected(range);
    assert_eq!(got.len(), want.len(), "length of {range}");
    if let Some(i) = (0..want.len()).find(|&i| got[i] != want[i]) {
        panic!(
            "{range}: first difference at offset {}: got {}, want {}",
            range.start + i as u64,
            got[i],
            want[i]
        );
    }
}

#[wasm_bindgen_test]
async fn fetch_len_is_the_file_length_and_a_validator_is_known() {
    let source = FetchSource::new(url("ranges.bin"));
    assert_eq!(source.validator(), None);
    assert_eq!(source.len().await.expect("len"), RANGES_LEN);
    // Cached: a second call gives the same answer.
    assert_eq!(source.len().await.expect("len again"), RANGES_LEN);
    assert!(
        source.validator().is_some(),
        "the server sends ETag or Last-Modified"
    );
    assert_eq!(source.describe(), url("ranges.bin"));
}

#[wasm_bindgen_test]
async fn fetch_reads_many_ranges_in_one_call_in_order() {
    let source = FetchSource::new(url("ranges.bin"));
    let n = RANGES_LEN;
    let mut ranges = vec![
        ByteRange::at(0, 1),               // first byte
        ByteRange::new(n - 1, n),          // last byte
        ByteRange::at(0, 4096),            // file start
        ByteRange::new(n - 7000, n),       // file end
        ByteRange::at(1_000_003, 1 << 20), // a large one
        ByteRange::at(12_345, 0),          // empty
        ByteRange::at(12_345, 678),        // overlaps the next
        ByteRange::at(12_400, 50),
        ByteRange::at(12_345, 678), // a repeat
    ];
    // More ranges than are kept in flight at once.
    ranges.extend((0..40u64).map(|k| ByteRange::at(k * 70_001 + 13, 1 + k * 37)));
    let got = source.read_ranges(&ranges).await.expect("read_ranges");
    assert_eq!(got.len(), ranges.len());
    for (range, bytes) in ranges.iter().zip(&got) {
        assert_bytes(*range, bytes);
    }
    // The file length was learnt from the answers, without a separate request.
    assert_eq!(source.len().await.expect("len"), n);
    assert!(source.validator().is_some());
}

#[wasm_bindgen_test]
async fn fetch_reads_nothing_for_no_ranges() {
    let source = FetchSource::new(url("ranges.bin"));
    let got = source.read_ranges(&[]).await.expect("no ranges");
    assert!(got.is_empty());
}

#[wasm_bindgen_test]
async fn fetch_range_past_the_end_is_out_of_bounds() {
    // Length known first: refused without a request.
    let source = FetchSource::new(url("ranges.bin"));
    let n = source.len().await.expect("len");
    let err = source
        .read_ranges(&[ByteRange::at(0, 10), ByteRange::new(n - 5, n + 5)])
        .await
        .expect_err("past the end");
    assert!(
        matches!(err, SourceError::OutOfBounds { len, .. } if len == n),
        "{err:?}"
    );

    // Length not known yet: the server clamps the range (206 with a shorter Content-Range).
    let source = FetchSource::new(url("ranges.bin"));
    let err = source
        .read_ranges(&[ByteRange::new(n - 5, n + 5)])
        .await
        .expect_err("past the end");
    assert!(
        matches!(err, SourceError::OutOfBounds { len, .. } if len == n),
        "{err:?}"
    );

    // Starting past the end: the server answers 416.
    let source = FetchSource::new(url("ranges.bin"));
    let err = source
        .read_ranges(&[ByteRange::at(n + 100, 10)])
        .await
        .expect_err("past the end");
    assert!(
        matches!(err, SourceError::OutOfBounds { len, .. } if len == n)
            || matches!(err, SourceError::HttpStatus { status: 416, .. }),
        "{err:?}"
    );
}

#[wasm_bindgen_test]
async fn fetch_missing_file_is_http_404() {
    let source = FetchSource::new(url("no-such-file.bin"));
    let err = source.len().await.expect_err("404");
    assert!(
        matches!(err, SourceError::HttpStatus { status: 404, .. }),
        "{err:?}"
    );
    let err = source
        .read_ranges(&[ByteRange::at(0, 10)])
        .await
        .expect_err("404");
    assert!(
        matches!(err, SourceError::HttpStatus { status: 404, .. }),
        "{err:?}"
    );
}

#[wasm_bindgen_test]
async fn fetch_nobody_listening_is_a_network_error_naming_cors() {
    // Port 39: privileged (so no test server of ours), and not on Chromium's blocked-port list.
    let source = FetchSource::new("http://127.0.0.1:39/ranges.bin");
    let err = source
        .read_ranges(&[ByteRange::at(0, 10)])
        .await
        .expect_err("nobody listens");
    // Retried as any network failure, then given up, still naming the likely causes.
    match &err {
        SourceError::GaveUp { last, .. } => {
            assert!(last.contains("Access-Control-Allow-Origin"), "{last}")
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    let err = source.len().await.expect_err("nobody listens");
    assert!(matches!(err, SourceError::GaveUp { .. }), "{err:?}");
}

#[wasm_bindgen_test]
async fn fetch_from_a_server_that_ignores_range_is_range_ignored() {
    // The test runner's own server (this page's origin) answers every request with 200 and the
    // whole body, Range or not.
    let source = FetchSource::new("/");
    let err = source.len().await.expect_err("range ignored");
    assert!(matches!(err, SourceError::RangeIgnored { .. }), "{err:?}");
    let err = source
        .read_ranges(&[ByteRange::at(0, 10)])
        .await
        .expect_err("range ignored");
    assert!(matches!(err, SourceError::RangeIgnored { .. }), "{err:?}");
}

#[wasm_bindgen_test]
fn content_range_parsing() {
    let cr = |first, last, total| ContentRange {
        span: Some((first, last)),
        total,
    };
    assert_eq!(
        parse_content_range("bytes 0-0/3000017"),
        Some(cr(0, 0, Some(3_000_017)))
    );
    assert_eq!(
        parse_content_range(" Bytes 10-19/* "),
        Some(cr(10, 19, None))
    );
    assert_eq!(
        parse_content_range("bytes */42"),
        Some(ContentRange {
            span: None,
            total: Some(42)
        })
    );
    assert_eq!(
        parse_content_range("bytes 5000000000-5000000009/6000000000"),
        Some(cr(5_000_000_000, 5_000_000_009, Some(6_000_000_000)))
    );
    for bad in [
        "",
        "bytes",
        "bytes 0-9",
        "items 0-9/10",
        "bytes 9-0/10",
        "bytes 0-10/10",
        "bytes -1-9/10",
        "bytes 0-9/ten",
        "bytes */*",
        "bytes 0-9,20-29/100",
    ] {
        assert_eq!(parse_content_range(bad), None, "{bad:?}");
    }
}

fn oracle_array(len: u64) -> Uint8Array {
    let bytes: Vec<u8> = (0..len).map(oracle).collect();
    Uint8Array::from(bytes.as_slice())
}

#[wasm_bindgen_test]
async fn blob_reads_slices() {
    let len = 300_007u64;
    let parts = Array::of1(&oracle_array(len));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).expect("Blob");
    let source = BlobSource::new(blob);
    assert_eq!(source.len().await.expect("len"), len);
    assert_eq!(source.validator(), None);
    let mut ranges = vec![
        ByteRange::at(0, 1),
        ByteRange::new(len - 1, len),
        ByteRange::at(0, len),
        ByteRange::at(77_777, 0),
        ByteRange::at(65_530, 20),
    ];
    ranges.extend((0..30u64).map(|k| ByteRange::at(k * 9_999 + 3, 1 + k * 101)));
    let got = source.read_ranges(&ranges).await.expect("read_ranges");
    assert_eq!(got.len(), ranges.len());
    for (range, bytes) in ranges.iter().zip(&got) {
        assert_bytes(*range, bytes);
    }
    let err = source
        .read_ranges(&[ByteRange::new(len - 1, len + 1)])
        .await
        .expect_err("past the end");
    assert!(
        matches!(err, SourceError::OutOfBounds { len: l, .. } if l == len),
        "{err:?}"
    );
}

#[wasm_bindgen_test]
async fn file_has_a_name_and_a_validator() {
    let len = 10_000u64;
    let parts = Array::of1(&oracle_array(len));
    let file = web_sys::File::new_with_u8_array_sequence(&parts, "recording.h5").expect("File");
    let source = BlobSource::from(file);
    assert_eq!(source.describe(), "recording.h5");
    let validator = source.validator().expect("a File has a validator");
    assert!(validator.contains("10000"), "{validator}");
    let got = source
        .read_ranges(&[ByteRange::at(9_000, 1_000), ByteRange::at(1, 2)])
        .await
        .expect("read_ranges");
    assert_bytes(ByteRange::at(9_000, 1_000), &got[0]);
    assert_bytes(ByteRange::at(1, 2), &got[1]);
}

/// A local file over 4 GiB: offsets beyond `u32` reach the right bytes. The Blob is built from
/// references to one 16 MiB part (the browser copies nothing), followed by a marker.
#[wasm_bindgen_test]
async fn blob_over_4_gib_reads_the_right_bytes() {
    const PART: u64 = 16 << 20;
    let zeros = Array::of1(&Uint8Array::new_with_length(PART as u32));
    let part = web_sys::Blob::new_with_u8_array_sequence(&zeros).expect("part");
    let level = Array::new();
    for _ in 0..32 {
        level.push(&part);
    }
    let half_gib = web_sys::Blob::new_with_blob_sequence(&level).expect("512 MiB");
    let marker_len = 10_000u64;
    let all = Array::new();
    for _ in 0..9 {
        all.push(&half_gib);
    }
    let marker = web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&oracle_array(marker_len)))
        .expect("marker");
    all.push(&marker);
    let big = web_sys::Blob::new_with_blob_sequence(&all).expect("4.5 GiB");
    let at = 9 * 32 * PART;
    assert!(at > u64::from(u32::MAX));
    let source = BlobSource::new(big);
    assert_eq!(source.len().await.expect("len"), at + marker_len);
    let got = source
        .read_ranges(&[
            ByteRange::at(at, marker_len),
            ByteRange::at(at - 10, 20),
            ByteRange::at(at + 4_321, 7),
        ])
        .await
        .expect("read_ranges beyond 4 GiB");
    assert_bytes(ByteRange::at(0, marker_len), &got[0]);
    assert_eq!(&got[1][..10], &[0u8; 10]);
    assert_bytes(ByteRange::at(0, 10), &got[1][10..]);
    assert_bytes(ByteRange::at(4_321, 7), &got[2]);
}
