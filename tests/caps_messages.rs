//! Every cap a real file can reach says, in one line, which cap it is and the option that
//! raises it — and raising that option lets the same file be read, with h5py's answer.
//!
//! The CLI takes the caps in MiB (or counts), so each case lowers one cap below what a
//! fixture needs (the refusal), then raises it just enough (the read, compared with the
//! window digest h5py computed for the manifest).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use serde_json::Value;
use strobe::hdf5::Caps;

/// (cap, fixture, flag, value that refuses, value that reads)
const CASES: &[(&str, &str, &str, &str, &str)] = &[
    // Decoded pieces of a 4 M-event window: ~9.5 MB in one read.
    (
        "memory_budget",
        "dsec_full_bitshuffle",
        "--max-memory",
        "1",
        "64",
    ),
    // Prophesee chunks are 256 KiB: a 0 MiB cap refuses them, 1 MiB holds them.
    ("chunk_bytes", "prophesee_plain", "--max-chunk", "0", "1"),
    // The group tree lies past the 64 KB read at open, so some metadata must be fetched.
    (
        "metadata_bytes",
        "bitshuffle_lz4",
        "--max-metadata",
        "0",
        "1",
    ),
    (
        "rows",
        "dsec_full_bitshuffle",
        "--max-rows",
        "1000",
        "5000000",
    ),
    // A two-level chunk B-tree: its root and leaves are more than one node.
    (
        "index_nodes",
        "dsec_full_bitshuffle",
        "--max-index-nodes",
        "1",
        "1000",
    ),
];

/// The fixture's window with the most events, as h5py computed it.
fn biggest_window(id: &str) -> (String, Value) {
    let manifest = common::manifest();
    let fixture = common::fixtures(&manifest)
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("fixture {id} in the manifest"));
    let window = fixture["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .max_by_key(|w| w["events"].as_u64().unwrap_or(0))
        .cloned()
        .expect("a window");
    let path = common::fixtures_dir().join(fixture["file"].as_str().expect("file"));
    (path.to_string_lossy().into_owned(), window)
}

#[test]
fn every_cap_names_the_option_that_raises_it_and_raising_it_reads_the_file() {
    let mut failures = Vec::new();
    for (cap, fixture, flag, low, high) in CASES {
        let (path, window) = biggest_window(fixture);
        let from = window["from"].to_string();
        let to = window["to"].to_string();
        let args = |value: &str| {
            vec![
                "window".to_string(),
                path.clone(),
                "--from".into(),
                from.clone(),
                "--to".into(),
                to.clone(),
                "--json".into(),
                flag.to_string(),
                value.to_string(),
            ]
        };
        let run = |value: &str| {
            let a = args(value);
            common::strobe(&a.iter().map(String::as_str).collect::<Vec<_>>())
        };

        let (ok, _, err) = run(low);
        let option = Caps::option(cap).expect("a cap with an option");
        let want = format!(
            "(cap {cap}) — raise it with {flag} (CLI) / {name}= (Python)",
            name = option.name
        );
        if ok || err.trim().lines().count() != 1 || !err.contains(&want) {
            failures.push(format!(
                "{cap}: {flag} {low} should refuse in one line ending {want:?}; got ok={ok} {err:?}"
            ));
        }
        assert_eq!(option.cli, *flag, "{cap}'s CLI flag");

        let (ok, out, err) = run(high);
        let digest: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        let same = ["events", "sum_x", "sum_y", "sum_t", "sum_p", "positive"]
            .iter()
            .all(|k| digest[k] == window[k]);
        if !ok || !same {
            failures.push(format!(
                "{cap}: {flag} {high} should read h5py's {window}; got ok={ok} {out} {err}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_cap_no_valid_file_reaches_says_the_file_is_damaged() {
    // `rank` is HDF5's own maximum (32 dimensions): no flag raises it.
    assert_eq!(Caps::option(Caps::RANK), None);
    assert!(Caps::advice(Caps::RANK).contains("the file is damaged"));
    for cap in [
        Caps::MEMORY_BUDGET,
        Caps::CHUNK_BYTES,
        Caps::METADATA_BYTES,
        Caps::ROWS,
        Caps::INDEX_NODES,
    ] {
        let option = Caps::option(cap).expect("an option");
        // The Python and page spellings are the CLI flag's, snake_case.
        assert!(
            option.name.starts_with(&option.cli[2..].replace('-', "_")),
            "{cap}: {option:?}"
        );
    }
}

#[test]
fn a_file_cut_short_says_where_it_ends_and_where_its_metadata_points() {
    let (path, _) = biggest_window("dsec_full_bitshuffle");
    let data = std::fs::read(&path).expect("fixture");
    let dir = std::env::temp_dir().join(format!("strobe-truncated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cut = dir.join("cut.h5");
    let keep = data.len() / 2;
    std::fs::write(&cut, &data[..keep]).expect("write");
    let (ok, _, err) = common::strobe(&["info", cut.to_str().expect("path")]);
    let _ = std::fs::remove_dir_all(&dir);
    // libhdf5 refuses it too: the superblock records the end of file at the full length.
    let want = format!(
        "the file is truncated: it ends at byte {keep}, the metadata points to byte {}",
        data.len()
    );
    assert!(
        !ok && err.trim().lines().count() == 1 && err.contains(&want),
        "{err:?} should say {want:?}"
    );
}
