//! Server faults in the browser: the fixture server `scripts/test.sh` starts (`strobe serve
//! --faults`) serves broken views of the fixtures under `/faults/<spec>/data/`, read here
//! through `FetchSource` + `RangeCache` + `Recording` + `WindowReader` in headless Chromium.
//! Transient faults still give h5py's window digests, persistent ones one clear line, a
//! changed file is reported and never mixed (with and without validators), a `Retry-After`
//! is waited for, a slow load shows progress and, dropped, stops its download on the server.
//! A wrong digest is never acceptable, whatever the fault. The cases are the native fault
//! tests' (`tests/common/fault_cases.rs`), run through the same range protocol.
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
#[path = "common/fault_cases.rs"]
mod fault_cases;

use checked::{checked_window, open_cache, windows_of};
use fault_cases::{FIXTURE, OTHER};

wasm_bindgen_test_configure!(run_in_browser);

const DATA_URL: &str = match option_env!("STROBE_TEST_DATA_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8765/data/",
};

const MANIFEST: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/out/manifest.json"
));

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

/// The server's root URL (ends in `/`).
fn server_base() -> &'static str {
    DATA_URL
        .strip_suffix("data/")
        .expect("STROBE_TEST_DATA_URL ends in data/")
}

/// The URL of fixture `id` through fault `spec`, counted under `key`.
fn fault_url(key: &str, spec: &str, id: &str) -> String {
    format!(
        "{}faults/key={key},{spec}/data/{}",
        server_base(),
        file_of(id)
    )
}

/// What the fault server did under `key` (see `src/serve/faults.rs`).
async fn server_stats(key: &str) -> Value {
    let url = format!("{}faults/stats?key={key}", server_base());
    let resp = gloo_net::http::Request::get(&url)
        .send()
        .await
        .expect("stats answer");
    serde_json::from_str(&resp.text().await.expect("stats body")).expect("stats JSON")
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
    for (i, spec) in fault_cases::TRANSIENT.iter().enumerate() {
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
    for (i, case) in fault_cases::PERSISTENT.iter().enumerate() {
        let (spec, needles) = (case.spec, case.needles);
        if !case.in_browser {
            continue;
        }
        let url = fault_url(&format!("{run}p{i}"), spec, FIXTURE);
        let err = read_all(source(&url, quick(4)), FIXTURE)
            .await
            .expect_err(spec);
        for needle in needles {
            assert!(err.contains(needle), "{spec}: {err:?} lacks {needle:?}");
        }
        assert!(!err.contains('\n'), "{spec}: not one line: {err:?}");
    }
}

/// HTTP requests a clean open of `id` makes, as the server counted them (without validators
/// each round adds a probe request).
async fn requests_to_open(key: &str, id: &str, no_validator: bool) -> u64 {
    let spec = if no_validator {
        "no-validator"
    } else {
        "change-after=999999"
    };
    let src = source(&fault_url(key, spec, id), quick(1));
    Recording::open(
        open_cache(src) as Rc<dyn RangeSource>,
        &overrides(&fixture(id)),
    )
    .await
    .expect("clean open");
    server_stats(key).await["requests"]
        .as_u64()
        .expect("a count")
}

#[wasm_bindgen_test]
async fn a_file_that_changes_is_reported_and_never_mixed() {
    let run = run_token();
    let fx = fixture(FIXTURE);
    for (i, change) in fault_cases::CHANGES.iter().enumerate() {
        let opened_after =
            requests_to_open(&format!("{run}open{i}"), FIXTURE, change.no_validator).await;
        let spec = change.spec(opened_after + 3, &file_of(OTHER));
        let url = fault_url(&format!("{run}c{i}"), &spec, FIXTURE);
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
                    assert!(fault_cases::says_changed(&e), "{spec}: {e}");
                    assert!(!e.contains("truncated"), "{spec}: {e}");
                    changed += 1;
                }
            }
        }
        assert!(
            read > 0 && changed > 0,
            "{spec}: {read} read, {changed} changed"
        );
        if !change.other {
            continue;
        }
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
}

#[wasm_bindgen_test]
async fn retry_after_is_waited_for() {
    let key = format!("{}ra", run_token());
    let url = fault_url(&key, fault_cases::RETRY_AFTER, FIXTURE);
    // Policy pauses of 20 ms: only the server's Retry-After explains a longer one.
    let got = read_all(source(&url, quick(4)), FIXTURE).await;
    assert_eq!(got, Ok(windows_of(&fixture(FIXTURE)).len()));
    let stats = server_stats(&key).await;
    let arrivals: Vec<u64> = serde_json::from_value(stats["arrivals_ms"].clone()).expect("ms");
    assert!(arrivals.len() >= 2, "{stats}");
    assert!(
        arrivals[1] >= fault_cases::RETRY_AFTER_MS,
        "retried {} ms after a Retry-After of {} ms",
        arrivals[1],
        fault_cases::RETRY_AFTER_MS
    );
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

    // Dropping the load aborts its fetches — counted on the server, which alone knows
    // whether the download really stopped.
    let key = format!("{run}s2");
    let url = fault_url(&key, fault_cases::SLOW_DROP, FIXTURE);
    let src = source(&url, quick(4));
    let received = src.received();
    let load = Box::pin(async {
        Recording::open(open_cache(src) as Rc<dyn RangeSource>, &overrides(&fx))
            .await
            .map(|_| ())
    });
    let run_ms = fault_cases::RUN_BEFORE_DROP_MS as i32;
    match select(load, Box::pin(sleep(run_ms))).await {
        Either::Left(_) => panic!("the slow open finished unexpectedly"),
        Either::Right(((), load)) => drop(load),
    }
    let at_drop = received.get();
    assert!(at_drop > 0, "nothing was received before the drop");
    let before = server_stats(&key).await;
    assert!(before["bytes_sent"].as_u64() > Some(0), "{before}");
    let wait = fault_cases::WAIT_AFTER_DROP_MS as i32;
    sleep(wait).await;
    let after = server_stats(&key).await;
    assert_eq!(after["open_bodies"], 0, "bodies still being sent: {after}");
    sleep(wait).await;
    let later = server_stats(&key).await;
    assert_eq!(
        later["bytes_sent"], after["bytes_sent"],
        "the server kept sending after the drop"
    );
    assert_eq!(
        received.get(),
        at_drop,
        "bytes kept arriving after the drop"
    );
}
