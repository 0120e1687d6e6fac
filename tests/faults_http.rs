//! Every server fault `strobe serve --faults` injects, read end to end through `HttpSource`,
//! `RangeCache`, `Recording` and `WindowReader`: transient faults still give h5py's window
//! digests (the manifest), persistent ones give one clear line naming the fault, a file that
//! changes mid-session is reported and never mixed (with and without validators), a
//! `Retry-After` is waited for, and a slow load shows progress and, dropped, stops its
//! download on the server. A wrong digest is never acceptable, whatever the fault. The cases
//! are shared with the browser's fault tests (`tests/common/fault_cases.rs`).
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/fault_cases.rs"]
mod fault_cases;

use common::checked::{checked_window, open_cache, windows_of};
use fault_cases::{FIXTURE, OTHER};

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use serde_json::Value;
use strobe::events::Recording;
use strobe::serve::{spawn_for_tests, ServeOptions};
use strobe::source::http::HttpSource;
use strobe::source::{RangeSource, RetryPolicy, SUGGESTED_WHOLE_FILE_LIMIT};

/// A fault server over the fixtures; returns `http://addr`.
async fn fault_server() -> String {
    let opts = ServeOptions {
        port: 0,
        data_dir: Some(common::fixtures_dir()),
        faults: true,
        ..Default::default()
    };
    let (addr, _task) = spawn_for_tests(opts).await.expect("server starts");
    format!("http://{addr}")
}

/// Quick retries and a 1 s stall limit, so the stall faults (3 s and more) trip it.
fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_pause: Duration::from_millis(20),
        growth: 2,
        stall: Duration::from_secs(1),
    }
}

fn fixture(id: &str) -> Value {
    common::manifest()["fixtures"]
        .as_array()
        .expect("fixtures")
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("{id} in the manifest"))
        .clone()
}

fn file_of(id: &str) -> String {
    fixture(id)["file"].as_str().expect("file").to_string()
}

/// The URL of fixture `id` through fault `spec`, counted under its own `key`.
fn fault_url(base: &str, key: &str, spec: &str, id: &str) -> String {
    format!("{base}/faults/key={key},{spec}/data/{}", file_of(id))
}

/// Opens `src` as fixture `id` and reads all its manifest windows: the number read, or the
/// first error (a wrong digest panics).
async fn read_all(src: HttpSource, id: &str) -> Result<usize, String> {
    let fx = fixture(id);
    let cache = open_cache(src);
    let rec = Recording::open(cache as Rc<dyn RangeSource>, &common::overrides_for(&fx))
        .await
        .map_err(|e| e.to_string())?;
    let mut n = 0;
    for (window, want) in windows_of(&fx) {
        checked_window(&rec, window, &want).await?;
        n += 1;
    }
    Ok(n)
}

fn source(url: &str, policy: RetryPolicy) -> HttpSource {
    HttpSource::new(url)
        .expect("url parses")
        .with_retry_policy(policy)
}

#[tokio::test(flavor = "current_thread")]
async fn transient_faults_are_retried_and_windows_match_h5py() {
    let base = fault_server().await;
    let windows = windows_of(&fixture(FIXTURE)).len();
    for (i, spec) in fault_cases::TRANSIENT.iter().enumerate() {
        let url = fault_url(&base, &format!("t{i}"), spec, FIXTURE);
        let got = read_all(source(&url, quick(4)), FIXTURE).await;
        assert_eq!(got, Ok(windows), "{spec}");
        // The same fault without retries fails: the fault was really there.
        let url = fault_url(&base, &format!("t{i}-once"), spec, FIXTURE);
        let got = read_all(source(&url, quick(1)), FIXTURE).await;
        assert!(got.is_err(), "{spec}: no fault was injected ({got:?})");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn persistent_faults_give_one_clear_error() {
    let base = fault_server().await;
    for (i, case) in fault_cases::PERSISTENT.iter().enumerate() {
        let (spec, needles) = (case.spec, case.needles);
        let url = fault_url(&base, &format!("p{i}"), spec, FIXTURE);
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
async fn requests_to_open(base: &str, key: &str, id: &str, no_validator: bool) -> u64 {
    let spec = if no_validator {
        "no-validator"
    } else {
        "change-after=999999"
    };
    let url = fault_url(base, key, spec, id);
    let cache = open_cache(source(&url, quick(1)));
    Recording::open(
        cache.clone() as Rc<dyn RangeSource>,
        &common::overrides_for(&fixture(id)),
    )
    .await
    .expect("clean open");
    server_stats(base, key).await["requests"]
        .as_u64()
        .expect("a count")
}

#[tokio::test(flavor = "current_thread")]
async fn a_file_that_changes_is_reported_and_never_mixed() {
    let base = fault_server().await;
    let fx = fixture(FIXTURE);
    for (i, change) in fault_cases::CHANGES.iter().enumerate() {
        // The new version appears a few requests into reading windows.
        let key = format!("open{i}");
        let opened_after = requests_to_open(&base, &key, FIXTURE, change.no_validator).await;
        let spec = change.spec(opened_after + 3, &file_of(OTHER));
        let url = fault_url(&base, &format!("c{i}"), &spec, FIXTURE);
        let cache = open_cache(source(&url, quick(4)));
        let rec = Recording::open(cache as Rc<dyn RangeSource>, &common::overrides_for(&fx))
            .await
            .expect("opens before the change");
        let (mut read, mut changed) = (0, 0);
        for (window, want) in windows_of(&fx) {
            // Every window is either h5py's (bytes of the first version) or an error.
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
        // Reopened, the session reads the new version consistently.
        let cache = open_cache(source(&url, quick(4)));
        let reopened = Recording::open(cache as Rc<dyn RangeSource>, &Default::default()).await;
        assert!(reopened.is_ok(), "{spec}: reopen failed");
        if change.other {
            let want = fixture(OTHER);
            let rec = reopened.expect("reopened");
            assert_eq!(Some(rec.events as i64), want["info"]["events"].as_i64());
            for (window, w) in windows_of(&want).into_iter().take(5) {
                checked_window(&rec, window, &w).await.expect("new version");
            }
        }
    }
}

/// What the fault server did under `key` (see `src/serve/faults.rs`).
async fn server_stats(base: &str, key: &str) -> Value {
    let text = reqwest::get(format!("{base}/faults/stats?key={key}"))
        .await
        .expect("stats answer")
        .text()
        .await
        .expect("stats body");
    serde_json::from_str(&text).expect("stats JSON")
}

#[tokio::test(flavor = "current_thread")]
async fn retry_after_is_waited_for() {
    let base = fault_server().await;
    let url = fault_url(&base, "ra1", fault_cases::RETRY_AFTER, FIXTURE);
    // Policy pauses of 20 ms: only the server's Retry-After explains a longer one.
    let src = source(&url, quick(4));
    assert_eq!(
        read_all(src, FIXTURE).await,
        Ok(windows_of(&fixture(FIXTURE)).len())
    );
    let stats = server_stats(&base, "ra1").await;
    let arrivals: Vec<u64> = serde_json::from_value(stats["arrivals_ms"].clone()).expect("ms");
    // The 429 was the first request; its retry came no sooner than asked.
    assert!(arrivals.len() >= 2, "{stats}");
    assert!(
        arrivals[1] >= fault_cases::RETRY_AFTER_MS,
        "retried {} ms after a Retry-After of {} ms",
        arrivals[1],
        fault_cases::RETRY_AFTER_MS
    );
}

#[tokio::test(flavor = "current_thread")]
async fn ignore_range_reads_small_files_whole_or_says_why_not() {
    let base = fault_server().await;
    let file = file_of(FIXTURE);
    let on_disk = std::fs::metadata(common::fixtures_dir().join(&file))
        .expect("fixture on disk")
        .len();
    let url = fault_url(&base, "w1", "ignore-range", FIXTURE);
    let src = source(&url, quick(4)).with_whole_file_limit(SUGGESTED_WHOLE_FILE_LIMIT);
    let received = src.received();
    let n = read_all(src, FIXTURE).await.expect("read whole");
    assert_eq!(n, windows_of(&fixture(FIXTURE)).len());
    assert_eq!(
        received.get(),
        on_disk,
        "one whole-file download, then memory"
    );

    let limit = on_disk / 2;
    let src = source(&url, quick(4)).with_whole_file_limit(limit);
    let err = read_all(src, FIXTURE).await.expect_err("too large");
    assert!(
        err.contains("ignores Range") && err.contains(&format!("over the {limit}-byte limit")),
        "{err}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_slow_load_shows_progress_and_stops_when_dropped() {
    let base = fault_server().await;
    let fx = fixture(FIXTURE);
    let (window, want) = windows_of(&fx).into_iter().nth(3).expect("a window");

    // 100 kB/s: the open and the window take seconds; progress must move meanwhile.
    let url = fault_url(&base, "s1", "slow=100000", FIXTURE);
    let src = source(&url, quick(4));
    let received = src.received();
    let done = Cell::new(false);
    let load = async {
        let cache = open_cache(src);
        let rec = Recording::open(cache as Rc<dyn RangeSource>, &common::overrides_for(&fx))
            .await
            .map_err(|e| e.to_string())?;
        let out = checked_window(&rec, window, &want).await;
        done.set(true);
        out
    };
    let watch = async {
        let mut seen = vec![received.get()];
        while !done.get() {
            tokio::time::sleep(Duration::from_millis(20)).await;
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

    // 20 kB/s: dropping the load (here by a timeout) ends the transfer — counted on the
    // server, which alone knows whether the download really stopped.
    let url = fault_url(&base, "s2", fault_cases::SLOW_DROP, FIXTURE);
    let src = source(&url, quick(4));
    let received = src.received();
    let load = async {
        let cache = open_cache(src);
        Recording::open(cache as Rc<dyn RangeSource>, &common::overrides_for(&fx))
            .await
            .map(|_| ())
    };
    let run = Duration::from_millis(fault_cases::RUN_BEFORE_DROP_MS);
    let outcome = tokio::time::timeout(run, load).await;
    assert!(outcome.is_err(), "the slow open finished unexpectedly");
    let at_drop = received.get();
    assert!(at_drop > 0, "nothing was received before the drop");
    let before = server_stats(&base, "s2").await;
    assert!(before["bytes_sent"].as_u64() > Some(0), "{before}");
    tokio::time::sleep(Duration::from_millis(fault_cases::WAIT_AFTER_DROP_MS)).await;
    let after = server_stats(&base, "s2").await;
    assert_eq!(after["open_bodies"], 0, "bodies still being sent: {after}");
    tokio::time::sleep(Duration::from_millis(fault_cases::WAIT_AFTER_DROP_MS)).await;
    let later = server_stats(&base, "s2").await;
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

#[tokio::test(flavor = "current_thread")]
async fn fault_routes_exist_only_when_asked_for() {
    let get = |url: String| async move {
        let resp = reqwest::get(url).await.expect("server answers");
        (
            resp.status().as_u16(),
            resp.text().await.unwrap_or_default(),
        )
    };
    let file = file_of(FIXTURE);
    let opts = ServeOptions {
        port: 0,
        data_dir: Some(common::fixtures_dir()),
        ..Default::default()
    };
    let (addr, _task) = spawn_for_tests(opts).await.expect("server starts");
    let (status, text) = get(format!("http://{addr}/faults/status=503/data/{file}")).await;
    assert_eq!(status, 404);
    assert!(text.contains("--faults"), "{text}");

    let base = fault_server().await;
    let (status, text) = get(format!("{base}/faults/frobnicate/data/{file}")).await;
    assert_eq!(status, 400);
    assert!(text.contains("unknown fault"), "{text}");
    let (status, _) = get(format!("{base}/faults/status=503/data/{file}")).await;
    assert_eq!(status, 503);
    let (status, _) = get(format!("{base}/faults/status=503/{file}")).await;
    assert_eq!(status, 404, "the file must follow data/");
    // The other version's file stays inside the data directory too.
    let (status, _) = get(format!(
        "{base}/faults/change-after=0,other=%2e%2e%2fREADME.md/data/{file}"
    ))
    .await;
    assert_eq!(status, 403);
}
