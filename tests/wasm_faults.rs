//! Server faults in the browser: the fixture server `scripts/test.sh` starts (`strobe serve
//! --faults`) serves broken views of the fixtures under `/faults/<spec>/data/`, read here
//! through `FetchSource` + `RangeCache` + `Recording` + `WindowReader` in headless Chromium.
//! Transient faults still give h5py's window digests, persistent ones one clear line, a
//! changed file is reported and never mixed, a slow load shows progress and stops when
//! dropped. A wrong digest is never acceptable, whatever the fault.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use futures::future::{select, Either};
use serde_json::Value;
use strobe::events::Recording;
use strobe::source::fetch::FetchSource;
use strobe::source::{RangeSource, RetryPolicy, SUGGESTED_WHOLE_FILE_LIMIT};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

#[path = "common/checked.rs"]
mod checked;
#[path = "common/digest.rs"]
mod digest;

use checked::{checked_window, open_cache, windows_of};

wasm_bindgen_test_configure!(run_in_browser);

const DATA_URL: &str = match option_env!("STROBE_TEST_DATA_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8765/data/",
};

const MANIFEST: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/out/manifest.json"
));

const FIXTURE: &str = "blosc_lz4_bit";
const OTHER: &str = "blosc_lz4_byte";

fn fixture(id: &str) -> Value {
    let manifest: Value = serde_json::from_str(MANIFEST).expect("manifest");
    manifest["fixtures"]
        .as_array()
        .expect("fixtures")
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("{id} in manifest"))
        .clone()
}

fn file_of(id: &str) -> String {
    fixture(id)["file"].as_str().expect("file").to_string()
}

/// A token for this run, so counters of a server that outlives one run are never reused.
fn run_token() -> String {
    format!("{}", (js_sys::Math::random() * 1e12) as u64)
}

/// The URL of fixture `id` through fault `spec`, counted under `key`.
fn fault_url(key: &str, spec: &str, id: &str) -> String {
    let base = DATA_URL
        .strip_suffix("data/")
        .expect("STROBE_TEST_DATA_URL ends in data/");
    format!("{base}faults/key={key},{spec}/data/{}", file_of(id))
}

fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_pause: Duration::from_millis(20),
        growth: 2,
        stall: Duration::from_secs(1),
    }
}

fn source(url: &str, policy: RetryPolicy) -> FetchSource {
    FetchSource::new(url).with_retry_policy(policy)
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let window = web_sys::window().expect("a window");
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("setTimeout");
    });
    let _ = JsFuture::from(promise).await;
}

fn overrides(fx: &Value) -> strobe::events::LayoutOverrides {
    strobe::events::LayoutOverrides {
        camera: fx["camera"].as_str().map(str::to_string),
        ..Default::default()
    }
}

async fn read_all(src: FetchSource, id: &str) -> Result<usize, String> {
    let fx = fixture(id);
    let rec = Recording::open(open_cache(src) as Rc<dyn RangeSource>, &overrides(&fx))
        .await
        .map_err(|e| e.to_string())?;
    let mut n = 0;
    for (window, want) in windows_of(&fx) {
        checked_window(&rec, window, &want).await?;
        n += 1;
    }
    Ok(n)
}

#[wasm_bindgen_test]
async fn transient_faults_are_retried_and_windows_match_h5py() {
    let run = run_token();
    let windows = windows_of(&fixture(FIXTURE)).len();
    for (i, spec) in [
        "status=503,first=2",
        "status=500,every=4",
        "drop,first=1",
        "truncate,every=3",
        "stall=3,first=1",
        "bad-range,first=2",
        "short,every=6",
        "long,first=2",
    ]
    .iter()
    .enumerate()
    {
        let url = fault_url(&format!("{run}t{i}"), spec, FIXTURE);
        let got = read_all(source(&url, quick(4)), FIXTURE).await;
        assert_eq!(got, Ok(windows), "{spec}");
        let url = fault_url(&format!("{run}t{i}once"), spec, FIXTURE);
        let got = read_all(source(&url, quick(1)), FIXTURE).await;
        assert!(got.is_err(), "{spec}: no fault was injected ({got:?})");
    }
}

#[wasm_bindgen_test]
async fn persistent_faults_give_one_clear_error() {
    let run = run_token();
    for (i, (spec, needles)) in [
        ("status=503", &["gave up after 4 attempts", "HTTP 503"][..]),
        ("status=404", &["HTTP 404", "check the URL"][..]),
        ("status=416", &["HTTP 416", "mishandles Range"][..]),
        (
            "drop",
            &[
                "gave up after 4 attempts",
                "reading the response body failed",
            ][..],
        ),
        ("stall=5", &["gave up after 4 attempts", "stalled"][..]),
        ("bad-range", &["gave up", "other bytes than asked"][..]),
        (
            "short",
            &["gave up", "the response is not the bytes asked for"][..],
        ),
        (
            "long",
            &["gave up", "the response is not the bytes asked for"][..],
        ),
        // Chromium fails the fetch itself on a body labelled gzip that is not: the error
        // then lists the likely causes, compression among them.
        ("gzip", &["gave up", "turn off gzip"][..]),
        (
            "ignore-range",
            &["ignores Range", "supports HTTP Range"][..],
        ),
    ]
    .iter()
    .enumerate()
    {
        let url = fault_url(&format!("{run}p{i}"), spec, FIXTURE);
        let err = read_all(source(&url, quick(4)), FIXTURE)
            .await
            .expect_err(spec);
        for needle in *needles {
            assert!(err.contains(needle), "{spec}: {err:?} lacks {needle:?}");
        }
        assert!(!err.contains('\n'), "{spec}: not one line: {err:?}");
    }
}

#[wasm_bindgen_test]
async fn a_file_that_changes_is_reported_and_never_mixed() {
    let run = run_token();
    let fx = fixture(FIXTURE);
    // Requests a clean open makes (each cache request is one range GET).
    let clean = open_cache(source(&format!("{DATA_URL}{}", file_of(FIXTURE)), quick(1)));
    Recording::open(clean.clone() as Rc<dyn RangeSource>, &overrides(&fx))
        .await
        .expect("clean open");
    let opened_after = clean.stats().requests;
    let spec = format!("change-after={},other={}", opened_after + 3, file_of(OTHER));
    let url = fault_url(&format!("{run}c"), &spec, FIXTURE);
    let rec = Recording::open(
        open_cache(source(&url, quick(4))) as Rc<dyn RangeSource>,
        &overrides(&fx),
    )
    .await
    .expect("opens before the change");
    let (mut read, mut changed) = (0, 0);
    for (window, want) in windows_of(&fx) {
        match checked_window(&rec, window, &want).await {
            Ok(()) => read += 1,
            Err(e) => {
                assert!(
                    e.contains("the file changed while it was being read")
                        && e.contains("reopen it"),
                    "{e}"
                );
                changed += 1;
            }
        }
    }
    assert!(read > 0 && changed > 0, "{read} read, {changed} changed");
    // Reopened, it is the other recording, consistently.
    let other = fixture(OTHER);
    let rec = Recording::open(
        open_cache(source(&url, quick(4))) as Rc<dyn RangeSource>,
        &overrides(&other),
    )
    .await
    .expect("reopens");
    assert_eq!(Some(rec.events as i64), other["info"]["events"].as_i64());
    for (window, want) in windows_of(&other).into_iter().take(5) {
        checked_window(&rec, window, &want)
            .await
            .expect("new version");
    }
}

#[wasm_bindgen_test]
async fn ignore_range_reads_small_files_whole_or_says_why_not() {
    let run = run_token();
    let len = source(&format!("{DATA_URL}{}", file_of(FIXTURE)), quick(1))
        .len()
        .await
        .expect("clean length");
    let url = fault_url(&format!("{run}w"), "ignore-range", FIXTURE);
    let src = source(&url, quick(4)).with_whole_file_limit(SUGGESTED_WHOLE_FILE_LIMIT);
    let received = src.received();
    let n = read_all(src, FIXTURE).await.expect("read whole");
    assert_eq!(n, windows_of(&fixture(FIXTURE)).len());
    assert_eq!(received.get(), len, "one whole-file download, then memory");

    let src = source(&url, quick(4)).with_whole_file_limit(len / 2);
    let err = read_all(src, FIXTURE).await.expect_err("too large");
    assert!(
        err.contains("ignores Range") && err.contains(&format!("over the {}-byte limit", len / 2)),
        "{err}"
    );
}

#[wasm_bindgen_test]
async fn a_slow_load_shows_progress_and_stops_when_dropped() {
    let run = run_token();
    let fx = fixture(FIXTURE);
    let (window, want) = windows_of(&fx).into_iter().nth(3).expect("a window");

    let url = fault_url(&format!("{run}s1"), "slow=100000", FIXTURE);
    let src = source(&url, quick(4));
    let received = src.received();
    let done = Cell::new(false);
    let load = async {
        let rec = Recording::open(open_cache(src) as Rc<dyn RangeSource>, &overrides(&fx))
            .await
            .map_err(|e| e.to_string())?;
        let out = checked_window(&rec, window, &want).await;
        done.set(true);
        out
    };
    let watch = async {
        let mut seen = vec![received.get()];
        while !done.get() {
            sleep(20).await;
            let now = received.get();
            if now != *seen.last().unwrap_or(&0) {
                seen.push(now);
            }
        }
        seen
    };
    let (result, seen) = futures::join!(load, watch);
    assert_eq!(result, Ok(()));
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(seen.len() >= 5, "progress moved only {} times", seen.len());

    // Dropping the load aborts its fetches: no byte arrives afterwards.
    let url = fault_url(&format!("{run}s2"), "slow=20000", FIXTURE);
    let src = source(&url, quick(4));
    let received = src.received();
    let load = Box::pin(async {
        Recording::open(open_cache(src) as Rc<dyn RangeSource>, &overrides(&fx))
            .await
            .map(|_| ())
    });
    match select(load, Box::pin(sleep(1000))).await {
        Either::Left(_) => panic!("the slow open finished unexpectedly"),
        Either::Right(((), load)) => drop(load),
    }
    let at_drop = received.get();
    assert!(at_drop > 0, "nothing was received before the drop");
    sleep(600).await;
    assert_eq!(
        received.get(),
        at_drop,
        "bytes kept arriving after the drop"
    );
}
