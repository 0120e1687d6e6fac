//! `strobe export` and `strobe info DIR`: every exported file is read back by numpy/h5py (and a
//! zlib + struct PNG decoder) in tests/export_oracle.py and compared with h5py's own
//! searchsorted slice of the source and a numpy rendering of the page's formulas.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use common::strobe;

/// The manifest's window `label` of fixture `fx` as (from, to, events).
fn window(fx: &Value, label: &str) -> (i64, i64, u64) {
    let w = fx["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .find(|w| w["label"] == label)
        .unwrap_or_else(|| panic!("window {label} of {}", fx["id"]));
    (
        w["from"].as_i64().expect("from"),
        w["to"].as_i64().expect("to"),
        w["events"].as_u64().expect("events"),
    )
}

/// What one export is asked to do; also the oracle's input.
struct Case<'a> {
    id: &'a str,
    from: i64,
    to: i64,
    ext: &'a str,
    polarity: &'a str,
    normalize: bool,
    absolute_time: bool,
    mode: &'a str,
    palette: &'a str,
    tau: i64,
}

impl<'a> Case<'a> {
    fn new(id: &'a str, from: i64, to: i64, ext: &'a str) -> Self {
        Self {
            id,
            from,
            to,
            ext,
            polarity: "stored",
            normalize: false,
            absolute_time: false,
            mode: "polarity",
            palette: "dsec",
            tau: 10_000,
        }
    }
}

fn scratch() -> tempfile::TempDir {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tempfile::tempdir_in(dir).expect("temp dir")
}

/// Runs the export, then the oracle; returns the oracle's JSON and the export's `--json`.
fn export_and_check(case: &Case, dir: &Path) -> (Value, Value) {
    let fx = common::fixture(case.id);
    let source = common::fixture_path(&fx);
    let out = dir.join(format!(
        "{}_{}_{}.{}",
        case.id, case.from, case.to, case.ext
    ));
    let (from, to, tau) = (
        case.from.to_string(),
        case.to.to_string(),
        case.tau.to_string(),
    );
    let out_text = out.display().to_string();
    let mut args = vec![
        "export", &source, "--from", &from, "--to", &to, "--out", &out_text, "--json",
    ];
    if let Some(camera) = fx["camera"].as_str() {
        args.extend(["--camera", camera]);
    }
    if case.polarity != "stored" {
        args.extend(["--polarity", case.polarity]);
    }
    if case.normalize {
        args.push("--normalize");
    }
    if case.absolute_time {
        args.push("--absolute-time");
    }
    if case.ext == "png" {
        args.extend([
            "--mode",
            case.mode,
            "--palette",
            case.palette,
            "--tau",
            &tau,
        ]);
    }
    let (ok, stdout, stderr) = strobe(&args);
    assert!(ok, "{args:?}: {stderr}");
    let summary: Value = serde_json::from_str(&stdout).expect("export --json");
    assert_eq!(
        summary["bytes"].as_u64(),
        std::fs::metadata(&out).map(|m| m.len()).ok(),
        "summary names the file's size"
    );
    let spec = json!({
        "source": source,
        "paths": fx["paths"],
        "from": case.from,
        "to": case.to,
        "format": case.ext,
        "out": out_text,
        "polarity": case.polarity,
        "normalize": case.normalize,
        "absolute_time": case.absolute_time,
        "width": fx["info"]["width"],
        "height": fx["info"]["height"],
        "mode": case.mode,
        "palette": case.palette,
        "tau": case.tau,
    });
    (oracle(&spec), summary)
}

fn oracle(spec: &Value) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/export_oracle.py"))
        .arg(spec.to_string())
        .output()
        .expect("the oracle runs (.venv: bash scripts/python-env.sh)");
    assert!(
        out.status.success(),
        "oracle rejects {}: {}",
        spec["out"],
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle JSON")
}

/// Exports `case` and asserts the oracle agrees and counted the manifest's number of events.
fn check(case: Case, want_events: u64, dir: &Path) -> Value {
    let (seen, summary) = export_and_check(&case, dir);
    assert_eq!(seen["events"].as_u64(), Some(want_events), "{}", case.id);
    assert_eq!(summary["events"].as_u64(), Some(want_events), "{}", case.id);
    seen
}

#[test]
fn npz_matches_h5py_across_layouts_and_options() {
    let dir = scratch();
    for (id, label) in [
        ("dsec_full_bitshuffle", "50ms_unaligned_middle"),
        ("dsec_append_byteshuffle", "10ms_aligned"),
        ("m3ed_right", "unaligned_2ms_crossing_ms"),
        ("rvt", "50ms_from_first"),
        ("generic", "gap_edges_inclusive"),
        ("ints_signed", "50ms_unaligned_middle"),
    ] {
        let fx = common::fixture(id);
        let (from, to, events) = window(&fx, label);
        assert!(events > 0, "{id} {label} holds events");
        check(Case::new(id, from, to, "npz"), events, dir.path());
    }
    // All three rewrites at once, on a file with a t_offset (shape (1,) in VECtor).
    for id in ["dsec_full_bitshuffle", "vector", "m3ed_left"] {
        let fx = common::fixture(id);
        let (from, to, events) = window(&fx, "50ms_unaligned_middle");
        let case = Case {
            polarity: "signed",
            normalize: true,
            absolute_time: true,
            ..Case::new(id, from, to, "npz")
        };
        check(case, events, dir.path());
    }
    // An empty window is an archive of four empty arrays.
    let fx = common::fixture("dsec_full_bitshuffle");
    let (from, to, events) = window(&fx, "inside_gap_no_events");
    assert_eq!(events, 0);
    check(
        Case::new("dsec_full_bitshuffle", from, to, "npz"),
        0,
        dir.path(),
    );
}

#[test]
fn every_format_writes_each_column_in_its_stored_dtype() {
    // uint8 p of 0/255; uint32 x beyond int32 with int64 y below zero and uint64 t; big-endian
    // int16 (written little-endian); the oracle checks dtypes and values against h5py's.
    let dir = scratch();
    for id in [
        "fid_p_u1_0_255",
        "fid_wide_values",
        "fid_be_i2",
        "fid_le_u4",
    ] {
        let fx = common::fixture(id);
        let (from, to, events) = window(&fx, "all_from_far_below");
        for ext in ["npz", "csv", "h5"] {
            if ext == "h5" && id == "fid_be_i2" {
                continue; // negative times: the DSEC layout's ms_to_idx cannot index them
            }
            check(Case::new(id, from, to, ext), events, dir.path());
        }
        // A polarity coding still maps stored p > 0 to +1 / 1.
        for polarity in ["signed", "binary"] {
            let case = Case {
                polarity,
                ..Case::new(id, from, to, "npz")
            };
            check(case, events, dir.path());
        }
    }
}

#[test]
fn a_window_of_many_batches_streams_into_npz_and_h5() {
    // 4 M events: eight batches of the window reader, several slabs of fetched chunks.
    let dir = scratch();
    let fx = common::fixture("dsec_append_byteshuffle");
    let (from, to, events) = window(&fx, "entire_exact");
    assert!(events > 3 * (1 << 20), "{events}");
    check(
        Case::new("dsec_append_byteshuffle", from, to, "npz"),
        events,
        dir.path(),
    );
    check(
        Case::new("dsec_append_byteshuffle", from, to, "h5"),
        events,
        dir.path(),
    );
}

#[test]
fn h5_is_dsec_layout_that_strobe_and_h5py_read_alike() {
    let dir = scratch();
    for (id, label, polarity) in [
        ("dsec_full_bitshuffle", "50ms_busiest", "stored"),
        ("m3ed_right", "50ms_unaligned_middle", "stored"),
        ("vector", "10ms_aligned", "signed"),
        ("blosc_tiny_chunks", "unaligned_2ms_crossing_ms", "binary"),
    ] {
        let fx = common::fixture(id);
        let (from, to, events) = window(&fx, label);
        assert!(events > 0, "{id} {label}");
        let case = Case {
            polarity,
            ..Case::new(id, from, to, "h5")
        };
        check(case, events, dir.path());
        if polarity != "stored" {
            continue;
        }
        // Strobe opens its own export as DSEC and reads the same window's digest as h5py
        // read from the source (the export keeps the stored t).
        let out = dir.path().join(format!("{id}_{from}_{to}.h5"));
        let out = out.to_str().expect("utf-8");
        let (ok, text, err) = strobe(&["info", out, "--json"]);
        assert!(ok, "{err}");
        let info: Value = serde_json::from_str(&text).expect("info JSON");
        assert_eq!(info["layout"], "dsec", "{id}");
        assert_eq!(info["events"].as_u64(), Some(events), "{id}");
        let (f, t) = (from.to_string(), to.to_string());
        let (ok, text, err) = strobe(&["window", out, "--from", &f, "--to", &t, "--json"]);
        assert!(ok, "{err}");
        let digest: Value = serde_json::from_str(&text).expect("window JSON");
        let want = fx["windows"]
            .as_array()
            .expect("windows")
            .iter()
            .find(|w| w["label"] == label)
            .expect("window")
            .clone();
        for k in ["events", "sum_x", "sum_y", "sum_t", "sum_p", "positive"] {
            assert_eq!(digest[k].as_i64(), want[k].as_i64(), "{id} {k}");
        }
        assert_eq!(digest["first_index"].as_u64(), Some(0), "{id}");
    }
}

#[test]
fn csv_matches_h5py() {
    let dir = scratch();
    let fx = common::fixture("dsec_full_bitshuffle");
    let (from, to, events) = window(&fx, "50ms_from_first");
    check(
        Case::new("dsec_full_bitshuffle", from, to, "csv"),
        events,
        dir.path(),
    );
    let case = Case {
        absolute_time: true,
        polarity: "binary",
        ..Case::new("dsec_full_bitshuffle", from, to, "csv")
    };
    check(case, events, dir.path());
    let fx = common::fixture("m3ed_left");
    let (from, to, events) = window(&fx, "10ms_aligned");
    let case = Case {
        normalize: true,
        polarity: "signed",
        ..Case::new("m3ed_left", from, to, "csv")
    };
    check(case, events, dir.path());
}

#[test]
fn png_matches_a_numpy_rendering_of_the_page_formulas() {
    let dir = scratch();
    let fx = common::fixture("dsec_full_bitshuffle");
    let (from, to, events) = window(&fx, "50ms_busiest");
    for (mode, palette) in [
        ("polarity", "dsec"),
        ("polarity", "dark"),
        ("heatmap", "dsec"),
        ("timesurface", "dsec"),
    ] {
        let case = Case {
            mode,
            palette,
            tau: 20_000,
            ..Case::new("dsec_full_bitshuffle", from, to, "png")
        };
        let dir_mode = dir.path().join(format!("{mode}_{palette}"));
        std::fs::create_dir(&dir_mode).expect("dir");
        let seen = check(case, events, &dir_mode);
        assert!(
            seen["lit_pixels"].as_u64().unwrap_or(0) > 10_000,
            "{mode}: {seen}"
        );
    }
}

#[test]
fn info_on_a_directory_lists_every_fixture_with_h5py_counts() {
    let dir = common::fixtures_dir();
    let (ok, text, err) = strobe(&["info", dir.to_str().expect("utf-8"), "--json"]);
    assert!(ok, "{err}");
    let listed: Vec<Value> = serde_json::from_str(&text).expect("JSON list");
    let manifest = common::manifest();
    let fixtures = manifest["fixtures"].as_array().expect("fixtures");
    let mut checked = 0;
    for fx in fixtures
        .iter()
        .filter(|f| !f["big"].as_bool().unwrap_or(false))
    {
        let path = common::fixture_path(fx);
        let entry = listed
            .iter()
            .find(|e| e["source"] == path.as_str() && e["camera"] == fx["camera"])
            .unwrap_or_else(|| panic!("{} not listed: {text}", fx["id"]));
        match fx["expect_error"].as_str() {
            Some(expected) => {
                let error = entry["error"].as_str().unwrap_or_default().to_lowercase();
                assert!(
                    error.contains(&expected.to_lowercase()),
                    "{}: {entry}",
                    fx["id"]
                );
            }
            None => {
                assert_eq!(entry["events"], fx["info"]["events"], "{}", fx["id"]);
                assert_eq!(entry["t_first"], fx["info"]["t_first"], "{}", fx["id"]);
                assert_eq!(entry["t_last"], fx["info"]["t_last"], "{}", fx["id"]);
            }
        }
        checked += 1;
    }
    assert!(checked >= 50, "{checked}");
    // Only recording files: nothing else of the directory (manifest.json, ranges.bin).
    let listed_files: std::collections::BTreeSet<&str> =
        listed.iter().filter_map(|e| e["source"].as_str()).collect();
    let fixture_files: std::collections::BTreeSet<String> = fixtures
        .iter()
        .filter(|f| !f["big"].as_bool().unwrap_or(false))
        .map(common::fixture_path)
        .collect();
    for f in &listed_files {
        assert!(
            fixture_files.contains(*f) || f.ends_with(".h5"),
            "unexpected entry {f}"
        );
    }

    // Several files on the command line, human output: one line each, failures included.
    let a = common::fixture_path(&common::fixture("tumvie"));
    let b = dir.join("not_hdf5.h5").display().to_string();
    let (ok, text, err) = strobe(&["info", &a, &b]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].contains("tumvie") && lines[0].contains("400513 events"),
        "{text}"
    );
    assert!(
        lines[1].contains("not_hdf5.h5") && lines[1].contains("error:"),
        "{text}"
    );
    assert!(lines[2].contains("1 recordings, 1 failed"), "{text}");
}

#[test]
fn memory_stays_bounded_for_a_long_window() {
    // The whole of the biggest fixture (4 M events) into .npz, .csv and .h5. Reading the
    // window alone (`strobe window`, the reader's batch, its slab of fetched chunks and the
    // cache) peaks at ~50 MB here; the exports measured 55–61 MB. Holding the window instead
    // of streaming it would add its 52 MB of npz columns (68 MB as the reader's i32/i32/i64/i8
    // batches) on top: the budget sits between the two.
    const BUDGET_KB: i64 = 80 * 1024;
    let dir = scratch();
    let fx = common::fixture("dsec_append_byteshuffle");
    let (from, to, events) = window(&fx, "entire_exact");
    let source = common::fixture_path(&fx);
    for ext in ["npz", "csv", "h5"] {
        let out: PathBuf = dir.path().join(format!("long.{ext}"));
        let (f, t) = (from.to_string(), to.to_string());
        let args = [
            "export",
            source.as_str(),
            "--from",
            &f,
            "--to",
            &t,
            "--out",
            out.to_str().expect("utf-8"),
            "--cache-mb",
            "16",
            "--json",
        ];
        let (ok, stdout, stderr) = strobe(&args);
        assert!(ok, "{args:?}: {stderr}");
        let summary: Value = serde_json::from_str(&stdout).expect("export --json");
        assert_eq!(summary["events"].as_u64(), Some(events));
        // The child's own VmHWM (read from its /proc/self/status as it finishes): wait4's
        // ru_maxrss would also count this test process, whose memory the spawned child
        // shares until it executes strobe.
        let peak_kb = summary["peak_rss_kb"]
            .as_i64()
            .expect("peak_rss_kb on Linux");
        eprintln!("export .{ext} of {events} events: peak RSS {peak_kb} kB");
        assert!(
            peak_kb < BUDGET_KB,
            ".{ext}: peak RSS {peak_kb} kB, budget {BUDGET_KB} kB"
        );
    }
}

#[test]
fn bad_requests_fail_with_one_line_and_leave_no_file() {
    let dir = scratch();
    let source = common::fixture_path(&common::fixture("dsec_full_bitshuffle"));
    let out = |name: &str| dir.path().join(name).display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![out("w.txt")], ".npz, .csv"),
        (
            vec![
                out("w.npz"),
                "--from".into(),
                "9".into(),
                "--to".into(),
                "5".into(),
            ],
            "--from ≤ --to",
        ),
        (vec![out("missing/w.npz")], "no such directory"),
        (
            vec![out("w.h5"), "--normalize".into()],
            "--normalize does not apply to .h5",
        ),
        (
            vec![out("w.png"), "--polarity".into(), "signed".into()],
            "--polarity does not apply",
        ),
    ];
    for (extra, message) in cases {
        let mut args: Vec<String> = vec![
            "export".into(),
            source.clone(),
            "--out".into(),
            extra[0].clone(),
        ];
        if !extra.iter().any(|a| a == "--from") {
            args.extend(["--from", "1000", "--to", "2000"].map(String::from));
        }
        args.extend(extra[1..].iter().cloned());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, _, stderr) = strobe(&refs);
        assert!(!ok, "{args:?} succeeded");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!Path::new(&extra[0]).exists(), "{} left behind", extra[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_from_a_url_match_h5py() {
    use strobe::serve::{spawn_for_tests, ServeOptions};
    let opts = ServeOptions {
        port: 0,
        data_dir: Some(common::fixtures_dir()),
        ..Default::default()
    };
    let (addr, _task) = spawn_for_tests(opts).await.expect("server");
    tokio::task::spawn_blocking(move || {
        let dir = scratch();
        let fx = common::fixture("dsec_append_byteshuffle");
        let (from, to, events) = window(&fx, "50ms_unaligned_middle");
        let url = format!("http://{addr}/data/dsec_append_byteshuffle.h5");
        for ext in ["npz", "h5"] {
            let out = dir.path().join(format!("url.{ext}"));
            let out_text = out.display().to_string();
            let (f, t) = (from.to_string(), to.to_string());
            let (ok, _, err) =
                strobe(&["export", &url, "--from", &f, "--to", &t, "--out", &out_text]);
            assert!(ok, "{err}");
            let spec = json!({
                "source": common::fixture_path(&fx), "paths": fx["paths"], "from": from, "to": to,
                "format": ext, "out": out_text, "polarity": "stored", "normalize": false,
                "absolute_time": false, "width": 640, "height": 480,
            });
            assert_eq!(oracle(&spec)["events"].as_u64(), Some(events), "{ext}");
        }
    })
    .await
    .expect("export over HTTP");
}
