//! The byte sources inside a dedicated Web Worker, where there is no `window` — the viewer
//! decodes off the main thread. Same fixture server and `ranges.bin` as `wasm_sources.rs`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Uint8Array};
use strobe::source::blob::BlobSource;
use strobe::source::fetch::FetchSource;
use strobe::source::{ByteRange, RangeSource, SourceError};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const DATA_URL: &str = match option_env!("STROBE_TEST_DATA_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8765/data/",
};

/// Length and content of `ranges.bin` (keep in step with `scripts/test.sh`).
const RANGES_LEN: u64 = 3_000_017;

fn oracle(i: u64) -> u8 {
    ((i.wrapping_mul(0x9E37_79B1) & 0xFFFF_FFFF) >> 24) as u8
}

#[wasm_bindgen_test]
async fn fetch_works_in_a_worker() {
    assert!(
        web_sys::window().is_none(),
        "this test must run in a worker"
    );
    let source = FetchSource::new(format!("{DATA_URL}ranges.bin"));
    assert_eq!(source.len().await.expect("len"), RANGES_LEN);
    let ranges = [
        ByteRange::at(0, 100),
        ByteRange::new(RANGES_LEN - 100, RANGES_LEN),
        ByteRange::at(2_000_000, 65_536),
    ];
    let got = source.read_ranges(&ranges).await.expect("read_ranges");
    for (range, bytes) in ranges.iter().zip(&got) {
        let want: Vec<u8> = (range.start..range.end).map(oracle).collect();
        assert!(bytes[..] == want[..], "{range} differs");
    }
    let err = FetchSource::new(format!("{DATA_URL}no-such-file.bin"))
        .len()
        .await
        .expect_err("404");
    assert!(
        matches!(err, SourceError::HttpStatus { status: 404, .. }),
        "{err:?}"
    );
}

#[wasm_bindgen_test]
async fn blob_works_in_a_worker() {
    let bytes: Vec<u8> = (0..5_000u64).map(oracle).collect();
    let parts = Array::of1(&Uint8Array::from(bytes.as_slice()));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).expect("Blob");
    let source = BlobSource::new(blob);
    let got = source
        .read_ranges(&[ByteRange::at(4_000, 1_000)])
        .await
        .expect("read_ranges");
    assert_eq!(&got[0][..], &bytes[4_000..5_000]);
}
