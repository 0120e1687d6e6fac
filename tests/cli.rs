//! The `strobe` binary: JSON output agrees with h5py; every bad input exits non-zero with one
//! line that says what to fix.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use serde_json::Value;
use strobe::serve::{spawn_for_tests, ServeOptions};

use common::strobe;

#[test]
fn window_json_matches_h5py_for_every_window() {
    let mut checked = 0;
    for id in [
        "dsec_append_byteshuffle",
        "m3ed_right",
        "generic",
        "mvsec_gzip_right",
        "prophesee_gzip",
    ] {
        let fx = common::fixture(id);
        let path = common::fixture_path(&fx);
        let camera = fx["camera"]
            .as_str()
            .map(|c| vec!["--camera", c])
            .unwrap_or_default();
        for w in fx["windows"].as_array().expect("windows") {
            let (from, to) = (w["from"].to_string(), w["to"].to_string());
            let mut args = vec![
                "window",
                path.as_str(),
                "--from",
                &from,
                "--to",
                &to,
                "--json",
            ];
            args.extend(camera.iter().copied());
            let (ok, out, err) = strobe(&args);
            assert!(ok, "{id} {from}..{to}: {err}");
            let got: Value = serde_json::from_str(&out).expect("JSON output");
            assert_eq!((&got["from"], &got["to"]), (&w["from"], &w["to"]), "{id}");
            let wrong = common::digest::digest_mismatches(&got, w);
            assert!(wrong.is_empty(), "{id} [{from}, {to}): {wrong:?}");
            for k in ["requests", "bytes", "rounds"] {
                assert!(got[k].as_u64().is_some(), "{k} missing: {out}");
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} windows");
}

#[test]
fn info_json_matches_h5py() {
    for id in [
        "dsec_full_bitshuffle",
        "tumvie",
        "vector",
        "m3ed_left",
        "rvt",
        "generic",
        "mvsec_gzip_left",
        "mvsec_contiguous_right",
        "prophesee_plain",
        "prophesee_vlen_geometry",
    ] {
        let fx = common::fixture(id);
        let path = common::fixture_path(&fx);
        let mut args = vec!["info", path.as_str(), "--json"];
        if let Some(c) = fx["camera"].as_str() {
            args.extend(["--camera", c]);
        }
        let (ok, out, err) = strobe(&args);
        assert!(ok, "{id}: {err}");
        let got: Value = serde_json::from_str(&out).expect("JSON output");
        for k in ["events", "t_first", "t_last", "t_offset", "width", "height"] {
            assert_eq!(got[k], fx["info"][k], "{id} info.{k}");
        }
        assert_eq!(got["layout"], fx["layout"], "{id} layout");
        // Every column's dataset is listed (MVSEC and Prophesee keep all four in one).
        let listed: Vec<&str> = got["datasets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["path"].as_str())
            .collect();
        for k in ["x", "y", "t", "p"] {
            let column = got["paths"][k].as_str().unwrap_or_default();
            let dataset = column.split('[').next().unwrap_or_default();
            assert!(
                !dataset.is_empty() && listed.contains(&dataset),
                "{id}: {column} not in {listed:?}"
            );
            assert_eq!(got["paths"][k], fx["paths"][k], "{id} paths.{k}");
        }
    }
}

#[test]
fn repeated_window_reads_report_each_run_and_agree_with_h5py() {
    let fx = common::fixture("dsec_append_byteshuffle");
    let path = common::fixture_path(&fx);
    let w = fx["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .max_by_key(|w| w["events"].as_u64())
        .expect("a window");
    let (from, to) = (w["from"].to_string(), w["to"].to_string());
    let args = [
        "window", &path, "--from", &from, "--to", &to, "--json", "--repeat", "3",
    ];
    let (ok, out, err) = strobe(&args);
    assert!(ok, "{err}");
    let got: Value = serde_json::from_str(&out).expect("JSON output");
    let wrong = common::digest::digest_mismatches(&got, w);
    assert!(wrong.is_empty(), "[{from}, {to}): {wrong:?}");
    // The process's own peak memory (Linux VmHWM), for the benchmark's RSS column.
    let peak_kb = got["peak_rss_kb"].as_u64().expect("peak_rss_kb");
    assert!((1_000..1_000_000).contains(&peak_kb), "{out}");
    let runs = got["runs_ms"].as_array().expect("runs_ms with --repeat");
    assert_eq!(runs.len(), 3, "{out}");
    assert!(
        runs.iter().all(|r| r.as_f64().is_some_and(|ms| ms > 0.0)),
        "{out}"
    );
    // One read: no runs_ms, the JSON stays as it was.
    let (ok, out, _) = strobe(&args[..7]);
    assert!(ok);
    let one: Value = serde_json::from_str(&out).expect("JSON output");
    assert!(one.get("runs_ms").is_none(), "{out}");
    let (ok, _, err) = strobe(&[&args[..7], &["--repeat", "0"]].concat());
    assert!(!ok && err.contains("--repeat"), "{err}");
}

fn assert_one_line_error(args: &[&str], needle: &str) {
    let (ok, out, err) = strobe(args);
    assert!(!ok, "{args:?} should fail, printed {out}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {err:?}");
    assert!(
        lines[0].contains(needle),
        "{args:?}: '{}' lacks '{needle}'",
        lines[0]
    );
}

#[test]
fn bad_local_inputs_fail_with_one_clear_line() {
    let dir = common::fixtures_dir();
    let p = |n: &str| dir.join(n).display().to_string();
    assert_one_line_error(&["info", "/no/such/recording.h5"], "no such file");
    assert_one_line_error(&["info", &p("not_hdf5.h5")], "not an HDF5 file");
    assert_one_line_error(&["info", &p("no_events.h5")], "no event datasets");
    assert_one_line_error(
        &[
            "window",
            &p("unsupported_bzip2.h5"),
            "--from",
            "0",
            "--to",
            "100000000",
        ],
        "unsupported filter 307",
    );
    assert_one_line_error(
        &[
            "window",
            &p("dsec_full_bitshuffle.h5"),
            "--from",
            "10",
            "--to",
            "5",
        ],
        "--from ≤ --to",
    );
    assert_one_line_error(
        &["info", &p("m3ed.h5"), "--camera", "middle"],
        "no camera middle",
    );
    assert_one_line_error(
        &["info", &p("mvsec_gzip.h5"), "--camera", "middle"],
        "this file has left, right",
    );
    assert_one_line_error(
        &["info", &p("prophesee_ecf.h5")],
        // gzip bytes under the ECF filter id: refused as damaged ECF data, in one line.
        "ecf data is corrupt",
    );
    assert_one_line_error(
        &[
            "window",
            &p("mvsec_gzip.h5"),
            "--from",
            "0",
            "--to",
            "1",
            "--t",
            "/davis/left/events[:,4]",
        ],
        "has 4 columns, not 5",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_servers_fail_with_one_clear_line() {
    let start = |opts: ServeOptions| async move {
        let opts = ServeOptions {
            port: 0,
            data_dir: Some(common::fixtures_dir()),
            ..opts
        };
        let (addr, _task) = spawn_for_tests(opts).await.expect("server");
        format!("http://{addr}/data")
    };
    let ok = start(ServeOptions::default()).await;
    let ignoring = start(ServeOptions {
        ignore_range: true,
        ..Default::default()
    })
    .await;
    let gzip = start(ServeOptions {
        gzip: true,
        ..Default::default()
    })
    .await;
    tokio::task::spawn_blocking(move || {
        let url = format!("{ok}/dsec_full_bitshuffle.h5");
        let (good, out, err) = strobe(&["window", &url, "--from", "0", "--to", "50000", "--json"]);
        assert!(good, "{err}");
        let got: Value = serde_json::from_str(&out).expect("JSON");
        assert!(got["rounds"].as_u64().is_some_and(|r| r >= 1));
        assert_one_line_error(&["info", &format!("{ok}/missing.h5")], "HTTP 404");
        assert_one_line_error(
            &["info", &format!("{ignoring}/dsec_full_bitshuffle.h5")],
            "ignores Range",
        );
        // Unless the file may be read whole: then the windows are h5py's, as over Range.
        let whole = format!("{ignoring}/dsec_full_bitshuffle.h5");
        let fx = common::fixture("dsec_full_bitshuffle");
        for w in fx["windows"].as_array().expect("windows").iter().take(3) {
            let (from, to) = (w["from"].to_string(), w["to"].to_string());
            let args = [
                "window",
                &whole,
                "--from",
                &from,
                "--to",
                &to,
                "--json",
                "--whole-file-mb",
                "16",
            ];
            let (good, out, err) = strobe(&args);
            assert!(good, "{err}");
            let got: Value = serde_json::from_str(&out).expect("JSON");
            let wrong = common::digest::digest_mismatches(&got, w);
            assert!(wrong.is_empty(), "whole-file [{from}, {to}): {wrong:?}");
        }
        assert_one_line_error(
            &["info", &whole, "--whole-file-mb", "1"],
            "over the 1048576-byte limit",
        );
        assert_one_line_error(
            &["info", &format!("{gzip}/dsec_full_bitshuffle.h5")],
            "content-encoded",
        );
    })
    .await
    .expect("checks ran");
}

#[test]
fn mvsec_opens_its_left_camera_unless_told_otherwise() {
    let left = common::fixture("mvsec_gzip_left");
    let (ok, out, err) = strobe(&["info", &common::fixture_path(&left), "--json"]);
    assert!(ok, "{err}");
    let got: Value = serde_json::from_str(&out).expect("JSON output");
    assert_eq!(got["layout"], "mvsec");
    assert_eq!(got["paths"]["t"], "/davis/left/events[:,2]");
    assert_eq!(got["events"], left["info"]["events"]);
    assert_eq!(got["t_first"], left["info"]["t_first"]);
    assert_eq!(got["cameras"], serde_json::json!(["left", "right"]));
}
