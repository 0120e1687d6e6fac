//! `STROBE_TRACE=1` prints every round of reads to stderr (round number, requests, ranges):
//! one line per flight, and as many rounds as the JSON's `rounds` counts.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

/// Runs `strobe window` on a fixture with or without the trace: (JSON, stderr).
fn window(trace: bool) -> (Value, String) {
    let fx = common::fixtures(&common::manifest())
        .into_iter()
        .find(|f| f["id"] == "dsec_full_bitshuffle")
        .expect("fixture in the manifest");
    let path = common::fixtures_dir().join(fx["file"].as_str().expect("file"));
    let w = &fx["windows"][1];
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_strobe"));
    cmd.args(["window", &path.display().to_string()])
        .args([
            "--from",
            &w["from"].to_string(),
            "--to",
            &w["to"].to_string(),
        ])
        .arg("--json")
        .env_remove("STROBE_TRACE");
    if trace {
        cmd.env("STROBE_TRACE", "1");
    }
    let out = cmd.output().expect("strobe runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let json = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    (json, stderr)
}

#[test]
fn trace_prints_each_round() {
    let (json, stderr) = window(true);
    let rounds = json["rounds"].as_u64().expect("rounds in the JSON");
    assert!(rounds >= 2, "{json}");
    let mut seen = BTreeSet::new();
    let mut requests = 0;
    for line in stderr.lines().filter(|l| l.starts_with("strobe: round ")) {
        // "strobe: round N +K requests: [(start, len), ...]"
        let mut words = line["strobe: round ".len()..].split_whitespace();
        let round: u64 = words.next().and_then(|n| n.parse().ok()).expect(line);
        let added: u64 = words
            .next()
            .and_then(|k| k.strip_prefix('+'))
            .and_then(|k| k.parse().ok())
            .expect(line);
        seen.insert(round);
        requests += added;
    }
    let want: BTreeSet<u64> = (1..=rounds).collect();
    assert_eq!(
        seen, want,
        "traced rounds vs the JSON's {rounds}:\n{stderr}"
    );
    assert_eq!(
        Some(requests),
        json["requests"].as_u64(),
        "{json}\n{stderr}"
    );

    // Without the variable: not a line of it.
    let (_, quiet) = window(false);
    assert!(!quiet.contains("strobe: round"), "{quiet}");
}
