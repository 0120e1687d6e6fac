//! `--from`/`--to`/`--length` in every time form (events::time_spec): absolute DSEC µs, time
//! since the first event, `[hh:]mm:ss.ffffff` and stored µs all give h5py's window; bad forms
//! fail with one line that names the forms; `info` prints the layout as the JSON names it.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use serde_json::Value;

use common::strobe;

/// µs as exact decimal seconds: 3_400_000 → "3.4".
fn seconds(us: i64) -> String {
    let frac = format!("{:06}", us.rem_euclid(1_000_000));
    let frac = frac.trim_end_matches('0');
    let whole = us.div_euclid(1_000_000);
    if frac.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{frac}")
    }
}

fn window(path: &str, times: &[&str]) -> Value {
    let mut args = vec!["window", path, "--json"];
    args.extend_from_slice(times);
    let (ok, out, err) = strobe(&args);
    assert!(ok, "{times:?}: {err}");
    serde_json::from_str(&out).expect("JSON output")
}

#[test]
fn every_time_form_gives_h5pys_window() {
    let fx = common::fixture("dsec_full_bitshuffle");
    let path = common::fixture_path(&fx);
    let info = &fx["info"];
    let (first, offset) = (
        info["t_first"].as_i64().expect("t_first"),
        info["t_offset"].as_i64().expect("t_offset"),
    );
    assert_ne!(offset, 0, "the fixture must have a t_offset");
    let mut checked = 0;
    for w in fx["windows"].as_array().expect("windows") {
        let (from, to) = (
            w["from"].as_i64().expect("from"),
            w["to"].as_i64().expect("to"),
        );
        if from < first || to <= from {
            continue;
        }
        let since = from - first;
        let forms: [Vec<String>; 4] = [
            vec![
                "--from".into(),
                format!("abs:{}", from + offset),
                "--to".into(),
                format!("abs:{}", to + offset),
            ],
            vec![
                "--from".into(),
                format!("{}s", seconds(since)),
                "--length".into(),
                format!("{}us", to - from),
            ],
            vec![
                "--from".into(),
                format!("{}:{}", since / 60_000_000, seconds(since % 60_000_000)),
                "--length".into(),
                (to - from).to_string(),
            ],
            vec![
                "--from".into(),
                from.to_string(),
                "--length".into(),
                if (to - from) % 1000 == 0 {
                    format!("{}ms", (to - from) / 1000)
                } else {
                    format!("{}", to - from)
                },
            ],
        ];
        for form in &forms {
            let args: Vec<&str> = form.iter().map(String::as_str).collect();
            let got = window(&path, &args);
            assert_eq!(
                (&got["from"], &got["to"]),
                (&w["from"], &w["to"]),
                "{args:?}"
            );
            let wrong = common::digest::digest_mismatches(&got, w);
            assert!(wrong.is_empty(), "{args:?}: {wrong:?}");
            checked += 1;
        }
        if checked > 40 {
            break;
        }
    }
    assert!(checked > 20, "only {checked} windows");
}

#[test]
fn export_takes_the_same_forms() {
    let fx = common::fixture("vector");
    let path = common::fixture_path(&fx);
    let w = fx["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .find(|w| w["label"] == "50ms_unaligned_middle")
        .expect("window");
    let offset = fx["info"]["t_offset"].as_i64().expect("t_offset");
    let from = w["from"].as_i64().expect("from");
    let to = w["to"].as_i64().expect("to");
    let dir = std::env::temp_dir().join(format!("strobe-cli-times-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("w.npz");
    let _ = std::fs::remove_file(&out);
    let (abs, len) = (format!("abs:{}", from + offset), format!("{}us", to - from));
    let out_text = out.display().to_string();
    let (ok, text, err) = strobe(&[
        "export", &path, "--from", &abs, "--length", &len, "--out", &out_text, "--json",
    ]);
    assert!(ok, "{err}");
    let got: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!((&got["from"], &got["to"]), (&w["from"], &w["to"]));
    assert_eq!(got["events"], w["events"]);
    let _ = std::fs::remove_dir_all(&dir);
}

fn one_line_error(args: &[&str], needle: &str) {
    let (ok, out, err) = strobe(args);
    assert!(!ok, "{args:?} should fail, printed {out}");
    // clap adds its usual pointer to --help under argument errors.
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("For more information"))
        .collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {err:?}");
    assert!(
        lines[0].contains(needle),
        "{args:?}: '{}' lacks '{needle}'",
        lines[0]
    );
}

#[test]
fn bad_times_fail_with_one_line_naming_the_forms() {
    let fx = common::fixture("vector");
    let path = common::fixture_path(&fx);
    one_line_error(&["window", &path, "--from", "soon", "--to", "5"], "abs:µs");
    one_line_error(&["window", &path, "--from", "1.5", "--to", "5"], "abs:µs");
    one_line_error(
        &["window", &path, "--from", "0", "--length", "0ms"],
        "at least 1 µs",
    );
    one_line_error(
        &["window", &path, "--from", "10", "--to", "5"],
        "give --from ≤ --to",
    );
    one_line_error(
        &["window", &path, "--from", "0.2s", "--to", "0.1s"],
        "give --from ≤ --to",
    );
    let (ok, _, err) = strobe(&[
        "window", &path, "--from", "0", "--to", "5", "--length", "1ms",
    ]);
    assert!(!ok && err.contains("--length"), "{err}");
}

#[test]
fn info_prints_the_layout_as_the_json_names_it() {
    for id in ["dsec_full_bitshuffle", "tumvie", "m3ed_left"] {
        let fx = common::fixture(id);
        let path = common::fixture_path(&fx);
        let (ok, out, err) = strobe(&["info", &path]);
        assert!(ok, "{err}");
        let (_, json, _) = strobe(&["info", &path, "--json"]);
        let json: Value = serde_json::from_str(&json).expect("JSON");
        let layout = json["layout"].as_str().expect("layout");
        assert_eq!(layout, fx["layout"].as_str().expect("manifest layout"));
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("layout"))
            .expect("a layout line");
        assert_eq!(line.split_whitespace().nth(1), Some(layout), "{out}");
    }
}
