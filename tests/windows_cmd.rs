//! `strobe windows`: every listed window's count and first index equal h5py's searchsorted on
//! the stored `t`; random windows are reproducible by seed and spread over the whole span.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::process::Command;

use serde_json::Value;

use common::strobe;

fn listed(args: &[&str]) -> Value {
    let (ok, out, err) = strobe(args);
    assert!(ok, "{args:?}: {err}");
    serde_json::from_str(&out).expect("JSON output")
}

/// h5py's (first_index, events) for each [from, to) of `windows`.
fn h5py_counts(file: &str, t_path: &str, windows: &[Value]) -> Vec<(u64, u64)> {
    let bounds: Vec<String> = windows
        .iter()
        .map(|w| format!("{}:{}", w["from"], w["to"]))
        .collect();
    let script = "import sys, h5py, hdf5plugin, numpy as np\n\
        t = h5py.File(sys.argv[1], 'r')[sys.argv[2]][:].astype(np.int64)\n\
        for w in sys.argv[3:]:\n\
        \x20   a, b = (int(v) for v in w.split(':'))\n\
        \x20   i, j = np.searchsorted(t, a, 'left'), np.searchsorted(t, b, 'left')\n\
        \x20   print(i, j - i)\n";
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(file)
        .arg(t_path)
        .args(&bounds)
        .output()
        .expect("h5py runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut it = l
                .split_whitespace()
                .map(|v| v.parse::<u64>().expect("number"));
            (it.next().expect("first"), it.next().expect("count"))
        })
        .collect()
}

fn check_against_h5py(fixture: &str, t_path: &str, windows: &[Value]) {
    let path = common::fixtures_dir().join(fixture);
    let path = path.to_str().expect("utf-8 path");
    let want = h5py_counts(path, t_path, windows);
    assert_eq!(want.len(), windows.len());
    for (w, (first, events)) in windows.iter().zip(want) {
        assert_eq!(w["first_index"].as_u64(), Some(first), "{fixture} {w}");
        assert_eq!(w["events"].as_u64(), Some(events), "{fixture} {w}");
    }
}

#[test]
fn regular_windows_have_h5py_counts_with_and_without_a_time_index() {
    let dir = common::fixtures_dir();
    // (fixture, t, length, stride, whole milliseconds on a file with a time index)
    for (fixture, t_path, length, stride, from_index_alone) in [
        (
            "dsec_full_bitshuffle.h5",
            "/events/t",
            "100ms",
            "100ms",
            true,
        ),
        (
            "dsec_append_byteshuffle.h5",
            "/events/t",
            "50ms",
            "37ms",
            true,
        ),
        ("generic.h5", "/recording/cd/t", "40ms", "40ms", false),
        (
            "dsec_full_bitshuffle.h5",
            "/events/t",
            "2500us",
            "12345us",
            false,
        ),
    ] {
        let path = dir.join(fixture);
        let out = listed(&[
            "windows",
            path.to_str().expect("path"),
            "--length",
            length,
            "--stride",
            stride,
            "--json",
        ]);
        let windows = out["windows"].as_array().expect("windows").clone();
        assert!(windows.len() > 5, "{fixture}: {out}");
        // Regular: every window `length` long, each starting `stride` after the one before.
        let (len_us, stride_us) = (out["length"].as_i64(), out["stride"].as_i64());
        let at = |w: &serde_json::Value, k: &str| w[k].as_i64().expect("µs");
        for w in &windows {
            assert_eq!(Some(at(w, "to") - at(w, "from")), len_us, "{fixture}: {w}");
        }
        for pair in windows.windows(2) {
            assert_eq!(Some(at(&pair[1], "from") - at(&pair[0], "from")), stride_us);
        }
        if from_index_alone {
            // Counted from ms_to_idx: the bytes read are the metadata and the table, far
            // below what even one event column of the file stores.
            let file_len = std::fs::metadata(&path).expect("fixture").len();
            let read = out["bytes"].as_u64().expect("bytes");
            assert!(
                read * 20 < file_len,
                "{fixture}: read {read} of {file_len} bytes"
            );
        }
        check_against_h5py(fixture, t_path, &windows);
    }
}

#[test]
fn random_windows_are_reproducible_uniform_and_exact() {
    let path = common::fixtures_dir().join("dsec_full_bitshuffle.h5");
    let path = path.to_str().expect("path");
    let args = |seed: &str| {
        vec![
            "windows", path, "--length", "50ms", "--random", "400", "--seed", seed, "--json",
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    };
    let run = |seed: &str| {
        let a = args(seed);
        listed(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let a = run("7");
    let b = run("7");
    let c = run("8");
    assert_eq!(a["windows"], b["windows"], "same seed, same windows");
    assert_ne!(a["windows"], c["windows"], "another seed, other windows");
    let (lo, hi) = (
        a["span"]["from"].as_i64().expect("span"),
        a["span"]["to"].as_i64().expect("span"),
    );
    let windows = a["windows"].as_array().expect("windows");
    assert_eq!(windows.len(), 400);
    let starts: Vec<f64> = windows
        .iter()
        .map(|w| {
            let from = w["from"].as_i64().expect("from");
            assert!(from >= lo && from + 50_000 <= hi, "window inside the span");
            (from - lo) as f64 / (hi - 50_000 - lo) as f64
        })
        .collect();
    // Uniform on [0, 1]: mean 1/2 (sd of the mean ≈ 0.014) and every quarter populated.
    let mean = starts.iter().sum::<f64>() / starts.len() as f64;
    assert!((mean - 0.5).abs() < 0.07, "mean start {mean}");
    for q in 0..4 {
        let n = starts
            .iter()
            .filter(|&&s| s >= q as f64 / 4.0 && s < (q + 1) as f64 / 4.0)
            .count();
        assert!((60..=140).contains(&n), "quarter {q} holds {n} of 400");
    }
    check_against_h5py("dsec_full_bitshuffle.h5", "/events/t", &windows[..60]);
}

#[test]
fn a_bad_length_is_one_clear_line() {
    let path = common::fixtures_dir().join("dsec_full_bitshuffle.h5");
    let (ok, _, err) = strobe(&["windows", path.to_str().expect("path"), "--length", "soon"]);
    assert!(!ok);
    assert!(err.contains("is not a duration"), "{err}");
}

#[test]
fn window_json_reports_stored_dtypes_and_sums_stored_values() {
    // p stored as uint8 0/255 and x as uint32 beyond i32, y as int64 with negatives.
    for id in ["fid_p_u1_0_255", "fid_wide_values", "fid_be_i2"] {
        let fx = common::fixture(id);
        let path = common::fixture_path(&fx);
        let w = fx["windows"]
            .as_array()
            .expect("windows")
            .iter()
            .find(|w| w["label"] == "all_from_far_below")
            .expect("the window over every event")
            .clone();
        let (from, to) = (w["from"].to_string(), w["to"].to_string());
        let out = listed(&["window", &path, "--from", &from, "--to", &to, "--json"]);
        let wrong = common::digest::digest_mismatches(&out, &w);
        assert!(wrong.is_empty(), "{id}: {wrong:?}");
        assert_eq!(out["dtypes"], w["dtypes"], "{id}");
        for column in ["x", "y", "t", "p"] {
            let stored = fx["datasets"][column]["dtype"].as_str().expect("dtype");
            // numpy's `dtype.str` ('<u2', '|u1') against Strobe's ('u2', '>i2').
            let want = stored.trim_start_matches(['<', '|', '=']);
            assert_eq!(out["stored_dtypes"][column], want, "{id} {column}");
        }
    }
}

/// Runs `strobe window` on fixture `id` over `[from, to)`; expects a failure and returns its
/// stderr, which must be one line.
fn refusal(id: &str, from: i64, to: i64) -> String {
    let path = common::fixture_path(&common::fixture(id));
    let (ok, _, err) = strobe(&[
        "window",
        &path,
        "--from",
        &from.to_string(),
        "--to",
        &to.to_string(),
    ]);
    assert!(!ok, "{id} [{from}, {to}) succeeded");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{id}: not one line: {err}"
    );
    err
}

#[test]
fn columns_of_unequal_lengths_are_refused_naming_each_length() {
    let fx = common::fixture("fid_unequal_lengths");
    let err = refusal("fid_unequal_lengths", 0, 1_000_000);
    assert!(
        err.contains(fx["expect_error"].as_str().expect("expected message")),
        "{err}"
    );
    assert!(err.contains("pass --x/--y/--t/--p"), "{err}");
}

#[test]
fn unsorted_timestamps_inside_a_window_are_refused_with_their_rows() {
    let fx = common::fixture("fid_unsorted_t");
    let refused: Vec<&Value> = fx["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .filter(|w| w["expect_error"].is_string())
        .collect();
    assert!(!refused.is_empty());
    for w in refused {
        let err = refusal(
            "fid_unsorted_t",
            w["from"].as_i64().expect("from"),
            w["to"].as_i64().expect("to"),
        );
        assert!(
            err.contains(w["expect_error"].as_str().expect("message")),
            "{err}"
        );
    }
}
