//! The layout overrides (`--x/--y/--t/--p/--ms-index/--t-offset`) on real layouts: each one
//! is used (swapping two columns swaps their sums), and a time index that lies is caught, so
//! the answer stays h5py's.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use serde_json::Value;

use common::strobe;

/// The busiest window of a fixture, as h5py counted it.
fn busiest(fx: &Value) -> Value {
    fx["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .filter(|w| w["expect_error"].is_null())
        .max_by_key(|w| w["events"].as_u64().unwrap_or(0))
        .cloned()
        .expect("a window")
}

fn window_json(path: &str, w: &Value, extra: &[&str]) -> Value {
    let (from, to) = (w["from"].to_string(), w["to"].to_string());
    let mut args = vec!["window", path, "--from", &from, "--to", &to, "--json"];
    args.extend_from_slice(extra);
    let (ok, out, err) = strobe(&args);
    assert!(ok, "{args:?}: {err}");
    serde_json::from_str(&out).expect("JSON")
}

#[test]
fn column_overrides_are_used() {
    let fx = common::fixture("dsec_full_bitshuffle");
    let (path, w) = (common::fixture_path(&fx), busiest(&fx));
    assert!(w["events"].as_u64().unwrap_or(0) > 1000);
    // The same columns named explicitly: h5py's digest.
    let same = window_json(
        &path,
        &w,
        &[
            "--x",
            "/events/x",
            "--y",
            "/events/y",
            "--t",
            "/events/t",
            "--p",
            "/events/p",
        ],
    );
    for k in ["events", "sum_x", "sum_y", "sum_t", "sum_p", "positive"] {
        assert_eq!(same[k], w[k], "{k}");
    }
    // x and y swapped: their sums swap, everything else stays.
    let swapped = window_json(&path, &w, &["--x", "/events/y", "--y", "/events/x"]);
    assert_eq!(swapped["sum_x"], w["sum_y"]);
    assert_eq!(swapped["sum_y"], w["sum_x"]);
    assert_eq!(swapped["events"], w["events"]);
}

#[test]
fn a_lying_ms_index_still_gives_h5pys_window() {
    let fx = common::fixture("dsec_full_bitshuffle");
    let (path, w) = (common::fixture_path(&fx), busiest(&fx));
    // x values as a "millisecond table": wrong rows; the reader checks them against t.
    let got = window_json(&path, &w, &["--ms-index", "/events/x"]);
    for k in [
        "events",
        "first_index",
        "sum_x",
        "sum_y",
        "sum_t",
        "sum_p",
        "positive",
    ] {
        assert_eq!(got[k], w[k], "{k}");
    }
}

#[test]
fn t_offset_override_names_the_offset_dataset() {
    let fx = common::fixture("rvt");
    let path = common::fixture_path(&fx);
    let width = fx["info"]["width"].as_i64().expect("width");
    let (ok, out, err) = strobe(&["info", &path, "--json", "--t-offset", "/events/width"]);
    assert!(ok, "{err}");
    let info: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(info["t_offset"].as_i64(), Some(width));
    // Without it RVT has no offset.
    let (ok, out, _) = strobe(&["info", &path, "--json"]);
    assert!(ok);
    let info: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(info["t_offset"].as_i64(), Some(0));
}

#[test]
fn an_override_naming_no_dataset_is_one_line() {
    let fx = common::fixture("tumvie");
    let (ok, _, err) = strobe(&["info", &common::fixture_path(&fx), "--t", "/events/time"]);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("/events/time") && err.contains("no such dataset"),
        "{err}"
    );
}
