//! The engine in the browser: fixtures opened through `FetchSource` (real cross-origin range
//! requests to the fixture server `scripts/test.sh` starts) give h5py's window digests.
//!
//! The oracle is the manifest h5py wrote, compiled in: `scripts/test.sh` generates the
//! fixtures before it builds the browser tests.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use serde_json::Value;
use strobe::events::{LayoutOverrides, Recording, Window, WindowReader};
use strobe::source::fetch::FetchSource;
use strobe::source::{RangeCache, RangeSource};
use wasm_bindgen_test::*;

#[path = "common/digest.rs"]
mod digest;

wasm_bindgen_test_configure!(run_in_browser);

const DATA_URL: &str = match option_env!("STROBE_TEST_DATA_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8765/data/",
};

const MANIFEST: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/out/manifest.json"
));

async fn check_fixture(id: &str) -> usize {
    let manifest: Value = serde_json::from_str(MANIFEST).expect("manifest");
    let fx = manifest["fixtures"]
        .as_array()
        .expect("fixtures")
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("{id} in manifest"))
        .clone();
    let url = format!("{DATA_URL}{}", fx["file"].as_str().expect("file"));
    let cache = Rc::new(RangeCache::new(
        Box::new(FetchSource::new(url)) as Box<dyn RangeSource>,
        64 << 20,
    ));
    let overrides = LayoutOverrides {
        camera: fx["camera"].as_str().map(str::to_string),
        ..Default::default()
    };
    let rec = Recording::open(cache.clone() as Rc<dyn RangeSource>, &overrides)
        .await
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    let summary = rec.summary().await.expect("summary");
    assert_eq!(
        Some(summary.events as i64),
        fx["info"]["events"].as_i64(),
        "{id} events"
    );
    assert_eq!(summary.t_last, fx["info"]["t_last"].as_i64(), "{id} t_last");
    let mut checked = 0;
    for w in fx["windows"].as_array().expect("windows") {
        let window = Window {
            from: w["from"].as_i64().expect("from"),
            to: w["to"].as_i64().expect("to"),
        };
        let read = match WindowReader::open(&rec, window).await {
            Ok(reader) => reader.digest().await,
            Err(e) => Err(e),
        };
        if let Some(refusal) = w["expect_error"].as_str() {
            // Rows h5py reads but Strobe must refuse (unsorted t): a one-line error.
            let e = read.expect_err("an unsorted window is refused");
            assert!(e.to_string().contains(refusal), "{id}: {e}");
            checked += 1;
            continue;
        }
        let digest = read.unwrap_or_else(|e| panic!("{id} [{}, {}): {e}", window.from, window.to));
        let got = serde_json::to_value(&digest).expect("digest");
        let mut wrong = digest::digest_mismatches(&got, w);
        wrong.extend(digest::dtype_mismatches(&got, w));
        assert!(
            wrong.is_empty(),
            "{id} [{}, {}): {wrong:?}",
            window.from,
            window.to
        );
        checked += 1;
    }
    assert!(cache.stats().rounds > 0, "no range requests were made");
    checked
}

#[wasm_bindgen_test]
async fn dsec_windows_over_browser_fetch_match_h5py() {
    assert!(check_fixture("dsec_full_bitshuffle").await > 10);
    assert!(check_fixture("dsec_append_byteshuffle").await > 10);
}

#[wasm_bindgen_test]
async fn other_layouts_and_indexes_over_browser_fetch_match_h5py() {
    for id in [
        "vector",
        "m3ed_left",
        "generic",
        "idx_extensible_array",
        "blosc_lz4_bit",
    ] {
        assert!(check_fixture(id).await > 5, "{id}");
    }
}

#[wasm_bindgen_test]
async fn stored_types_and_refusals_over_browser_fetch_match_h5py() {
    for id in [
        "fid_p_u1_0_255",
        "fid_wide_values",
        "fid_u1",
        "fid_be_i2",
        "fid_be_u8",
        "fid_unsorted_t",
        "fid_unwritten_t",
    ] {
        // An all-zero t has only a few distinct windows.
        assert!(check_fixture(id).await >= 3, "{id}");
    }
}

/// Prophesee recordings compressed by Prophesee's own ECF encoder, decoded in the browser.
#[wasm_bindgen_test]
async fn prophesee_ecf_windows_over_browser_fetch_match_h5py() {
    for id in [
        "ecf_small_one_short_chunk",
        "ecf_multi_h5py_edge_chunk",
        "ecf_busy_row_vectors",
        "ecf_sparse_long_gaps",
    ] {
        assert!(check_fixture(id).await > 5, "{id}");
    }
}
