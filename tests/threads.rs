//! Decoding on one thread and on several gives h5py's events, window by window: the parallel
//! decode only changes where chunks are decoded, never what a window holds.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use serde_json::Value;
use strobe::source::file::FileSource;
use strobe::source::RangeSource;

fn from_files(name: &str) -> Box<dyn RangeSource> {
    let path = common::fixtures_dir().join(name);
    Box::new(FileSource::open(path).expect("fixture opens")) as Box<dyn RangeSource>
}

#[tokio::test(flavor = "current_thread")]
async fn every_window_matches_h5py_decoded_on_one_thread() {
    let out = common::check_all_on(from_files, Some(1)).await;
    common::assert_outcome(&out);
}

#[tokio::test(flavor = "current_thread")]
async fn every_window_matches_h5py_decoded_on_three_threads() {
    // More threads than this machine's cores: chunks finish out of order.
    let out = common::check_all_on(from_files, Some(3)).await;
    common::assert_outcome(&out);
}

#[tokio::test(flavor = "current_thread")]
async fn windows_crossing_many_slabs_match_h5py() {
    // Slabs of 300,000 rows (not a multiple of a batch): the fixtures' long windows cross
    // several slab ends, where the next slab is planned while the threads decode ahead and
    // batches straddle two plans. One thread plans as the page does; three decode ahead.
    for threads in [Some(1), Some(3)] {
        let out = common::check_all_with(from_files, threads, Some(300_000)).await;
        common::assert_outcome(&out);
    }
}

/// The window's digest from `strobe --threads N window … --json`.
fn cli_digest(threads: &str, path: &str, w: &Value) -> Value {
    let (from, to) = (w["from"].to_string(), w["to"].to_string());
    let (ok, out, err) = common::strobe(&[
        "--threads",
        threads,
        "window",
        path,
        "--from",
        &from,
        "--to",
        &to,
        "--json",
    ]);
    assert!(ok, "--threads {threads}: {err}");
    serde_json::from_str(&out).expect("window --json")
}

#[test]
fn cli_threads_give_h5py_digests() {
    let fx = common::fixture("dsec_full_bitshuffle");
    let path = common::fixture_path(&fx);
    let windows = fx["windows"].as_array().expect("windows");
    assert!(!windows.is_empty());
    for w in windows.iter().filter(|w| w.get("expect_error").is_none()) {
        for threads in ["1", "2"] {
            let got = cli_digest(threads, &path, w);
            let wrong = common::digest::digest_mismatches(&got, w);
            assert!(wrong.is_empty(), "--threads {threads} {w}: {wrong:?}");
        }
    }
}

#[test]
fn zero_threads_is_refused_in_one_line() {
    let fx = common::fixture("dsec_full_bitshuffle");
    let (ok, _, err) = common::strobe(&[
        "--threads",
        "0",
        "window",
        &common::fixture_path(&fx),
        "--from",
        "0",
        "--to",
        "1000",
    ]);
    assert!(!ok);
    assert!(err.contains("--threads"), "{err}");
}
