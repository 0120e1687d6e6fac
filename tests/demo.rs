//! `strobe demo`: the recording it writes is a DSEC-layout file the engine opens, its
//! `ms_to_idx` is exact (checked against the engine's windows and against h5py), it has busy
//! and quiet stretches, it is reused rather than rewritten, and `strobe demo` serves it.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::OnceLock;

use serde_json::{json, Value};
use strobe::events::{LayoutOverrides, Recording, Window, WindowReader};
use strobe::hdf5::DataLayout;
use strobe::source::file::FileSource;
use strobe::source::{RangeCache, RangeSource};

use common::strobe;

/// One demo file for the whole test binary (generating it takes seconds). A stale file is
/// put there first: `strobe demo` must replace it.
fn demo_file() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("demo.h5"), b"not an HDF5 file").expect("stale file");
        let data = dir.path().display().to_string();
        let (ok, out, err) = strobe(&["demo", "--no-serve", "--data", &data]);
        assert!(ok, "strobe demo failed: {err}");
        assert!(err.contains("wrote"), "expected a fresh write: {err}");
        let path = dir.path().join("demo.h5");
        assert_eq!(out.trim(), path.display().to_string(), "prints the path");
        dir
    });
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| dir.path().join("demo.h5"))
}

async fn open(path: &Path) -> Recording {
    let source = FileSource::open(path).expect("demo opens");
    let cache: Rc<dyn RangeSource> = Rc::new(RangeCache::new(
        Box::new(source) as Box<dyn RangeSource>,
        64 << 20,
    ));
    Recording::open(cache, &LayoutOverrides::default())
        .await
        .expect("engine opens the demo")
}

/// Windows and ms rows computed by h5py + numpy from the same file.
fn h5py_digests(path: &Path, windows: &[(i64, i64)], ms: &[u64]) -> Value {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} missing — set up the venv first: bash scripts/setup.sh",
        python.display()
    );
    const SCRIPT: &str = r#"
import json, sys
import h5py, numpy as np
path, windows, ms = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
with h5py.File(path, "r") as f:
    ev = {k: f["events/" + k][:] for k in "xytp"}
    table = f["ms_to_idx"][:]
    t = ev["t"].astype(np.int64)
    out = {"events": int(len(t)), "ms_rows": int(len(table)),
           "t_offset": int(f["t_offset"][()]), "windows": [], "ms": []}
    for a, b in windows:
        i, j = int(np.searchsorted(t, a, "left")), int(np.searchsorted(t, b, "left"))
        out["windows"].append({"from": a, "to": b, "events": j - i, "first_index": i,
            "sum_x": int(ev["x"][i:j].astype(np.int64).sum()),
            "sum_y": int(ev["y"][i:j].astype(np.int64).sum()),
            "sum_t": int(t[i:j].sum()),
            "sum_p": int(ev["p"][i:j].astype(np.int64).sum()),
            "positive": int((ev["p"][i:j] > 0).sum())})
    for m in ms:
        out["ms"].append({"ms": m, "table": int(table[m]),
                          "searchsorted": int(np.searchsorted(t, m * 1000, "left"))})
    out["table_exact"] = bool((table == np.searchsorted(t, np.arange(len(table)) * 1000, "left")).all())
    out["t_sorted"] = bool((np.diff(t) >= 0).all())
print(json.dumps(out))
"#;
    let out = Command::new(&python)
        .args([
            "-c",
            SCRIPT,
            &path.display().to_string(),
            &json!(windows).to_string(),
            &json!(ms).to_string(),
        ])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "h5py oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle JSON")
}

#[tokio::test(flavor = "current_thread")]
async fn demo_is_a_dsec_recording_the_engine_reads() {
    let path = demo_file();
    let rec = open(path).await;
    assert_eq!(rec.layout.name(), "dsec");
    assert_eq!(rec.paths.x, "/events/x");
    assert_eq!(rec.paths.ms_index.as_deref(), Some("/ms_to_idx"));
    assert_eq!(rec.paths.t_offset.as_deref(), Some("/t_offset"));
    for ds in rec.columns.all() {
        match &ds.layout {
            DataLayout::Chunked { chunk, .. } => assert_eq!(chunk, &[65_536], "{}", ds.path),
            other => panic!("{} is not chunked: {other:?}", ds.path),
        }
        let filters = ds.filter_names().join(", ");
        assert!(
            filters.contains("shuffle") && filters.contains("deflate"),
            "{}: {filters}",
            ds.path
        );
    }
    let s = rec.summary().await.expect("summary");
    assert_eq!((s.width, s.height), (640, 480));
    assert_eq!(s.t_offset, strobe::demo::T_OFFSET_US);
    let (t0, t1) = (s.t_first.unwrap(), s.t_last.unwrap());
    assert!(t1 - t0 >= 10_000_000, "lasts {} µs", t1 - t0);
    assert!(
        (2_000_000..10_000_000).contains(&s.events),
        "{} events",
        s.events
    );

    // The table has one row per ms up to t_last and gives busy and quiet stretches.
    let table = rec.ms_table.as_ref().expect("ms table read at open");
    assert_eq!(table.len() as i64, t1 / 1000 + 1);
    assert_eq!(table[0], 0);
    let rate = |ms: usize, len: usize| (table[ms + len] - table[ms]) as f64 * 1000.0 / len as f64;
    let busiest = (0..table.len() - 50)
        .map(|m| rate(m, 50))
        .fold(0.0, f64::max);
    let quietest = (0..table.len() - 250)
        .map(|m| rate(m, 250))
        .fold(f64::INFINITY, f64::min);
    assert!(busiest >= 1e6, "busiest 50 ms: {busiest:.0} events/s");
    assert!(quietest <= 1e5, "quietest 250 ms: {quietest:.0} events/s");

    // ms_to_idx[ms] is the first event at or after ms: the engine's own windows agree.
    let last_ms = table.len() as u64 - 1;
    let mut ms: Vec<u64> = (0..=last_ms).step_by(997).collect();
    ms.extend([1, 500, 4_321, 10_000, 10_025, last_ms]);
    for &m in &ms {
        let from = m as i64 * 1000;
        let reader = WindowReader::open(
            &rec,
            Window {
                from,
                to: from + 1000,
            },
        )
        .await
        .expect("window opens");
        let d = reader.digest().await.expect("window reads");
        assert_eq!(d.first_index as i64, table[m as usize], "ms {m}");
    }

    // And h5py agrees, on the table and on window digests.
    let windows = [
        (0, 1_000),
        (500_000, 550_000),
        (6_900_000, 7_000_000),
        (10_000_000, 10_050_000),
        (10_012_345, 10_012_346),
        (11_990_000, 12_100_000),
        (-5, 13_000_000),
    ];
    let oracle = h5py_digests(path, &windows, &ms);
    assert_eq!(oracle["events"], json!(rec.events));
    assert_eq!(oracle["ms_rows"], json!(table.len()));
    assert_eq!(oracle["t_offset"], json!(strobe::demo::T_OFFSET_US));
    assert_eq!(oracle["t_sorted"], json!(true), "t is non-decreasing");
    assert_eq!(oracle["table_exact"], json!(true), "every ms_to_idx row");
    for row in oracle["ms"].as_array().unwrap() {
        let m = row["ms"].as_u64().unwrap() as usize;
        assert_eq!(row["table"], json!(table[m]), "ms {m}: table");
        assert_eq!(row["searchsorted"], json!(table[m]), "ms {m}: searchsorted");
    }
    for (want, &(from, to)) in oracle["windows"].as_array().unwrap().iter().zip(&windows) {
        let reader = WindowReader::open(&rec, Window { from, to })
            .await
            .expect("window opens");
        let got = serde_json::to_value(reader.digest().await.expect("window reads")).unwrap();
        assert_eq!((&got["from"], &got["to"]), (&want["from"], &want["to"]));
        let wrong = common::digest::digest_mismatches(&got, want);
        assert!(wrong.is_empty(), "[{from}, {to}): {wrong:?}");
    }
}

#[test]
fn demo_reuses_a_current_file() {
    let path = demo_file();
    let before = std::fs::metadata(path).unwrap().modified().unwrap();
    let data = path.parent().unwrap().display().to_string();
    let (ok, out, err) = strobe(&["demo", "--no-serve", "--data", &data]);
    assert!(ok, "{err}");
    assert!(err.contains("using"), "reused: {err}");
    assert_eq!(out.trim(), path.display().to_string());
    assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), before);
    // No temporary files left beside it.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["demo.h5"]);
}

/// Kills the child on drop, so a failed assertion leaves no server behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn demo_serves_the_file_and_prints_the_viewer_link() {
    let path = demo_file();
    let data = path.parent().unwrap().display().to_string();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_strobe"))
            .args(["demo", "--data", &data, "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("strobe demo starts"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("reads the link");
    let link = line.trim();
    let (base, query) = link.split_once("/index.html?").expect("viewer link");
    assert!(base.starts_with("http://127.0.0.1:"), "{link}");
    let params: Vec<(&str, &str)> = query
        .split('&')
        .map(|kv| kv.split_once('=').expect("key=value"))
        .collect();
    let url = format!("{base}/data/demo.h5");
    assert_eq!(
        params,
        [("url", url.as_str()), ("t", "10000000"), ("dt", "50000")],
        "{link}"
    );
    let size = std::fs::metadata(path).unwrap().len();
    let client = reqwest::Client::new();
    let resp = client
        .get(&url)
        .header("Range", "bytes=0-7")
        .header("Origin", "http://example.test")
        .send()
        .await
        .expect("range request");
    assert_eq!(resp.status(), 206);
    let h = resp.headers().clone();
    assert_eq!(
        h.get("content-range").unwrap(),
        &format!("bytes 0-7/{size}")
    );
    assert!(h.get("access-control-allow-origin").is_some());
    assert!(h.get("content-encoding").is_none());
    assert_eq!(&resp.bytes().await.unwrap()[..], b"\x89HDF\r\n\x1a\n");
}
