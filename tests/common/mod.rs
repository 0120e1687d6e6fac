//! Shared by the integration tests: the fixture manifest written by h5py (the oracle), and a
//! runner that checks every fixture's info and windows through any byte source.

#![allow(dead_code)]

pub mod checked;
pub mod digest;

use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::Value;
use strobe::events::{LayoutOverrides, Recording, Window, WindowReader};
use strobe::source::{RangeCache, RangeSource};

/// Runs the `strobe` binary: (success, stdout, stderr).
pub fn strobe(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strobe"))
        .args(args)
        .output()
        .expect("strobe runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/out")
}

/// The manifest, or a failure that says how to make it (never a silent skip).
pub fn manifest() -> Value {
    let path = fixtures_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} — generate the fixtures first: bash scripts/test.sh (or .venv/bin/python tests/fixtures/make_fixtures.py tests/fixtures/out)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("manifest.json is valid JSON")
}

pub fn fixtures(manifest: &Value) -> Vec<Value> {
    manifest["fixtures"]
        .as_array()
        .expect("manifest has fixtures")
        .iter()
        .filter(|f| !f["big"].as_bool().unwrap_or(false))
        .filter(|f| match std::env::var("STROBE_FIXTURES") {
            // While iterating on one area, run a subset: STROBE_FIXTURES=idx_
            Ok(only) => f["id"].as_str().is_some_and(|id| id.contains(&only)),
            Err(_) => true,
        })
        .cloned()
        .collect()
}

/// The manifest entry of fixture `id` (big fixtures included).
pub fn fixture(id: &str) -> Value {
    manifest()["fixtures"]
        .as_array()
        .expect("manifest has fixtures")
        .iter()
        .find(|f| f["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("fixture {id} in manifest"))
}

/// The fixture's file, as a path string for the CLI.
pub fn fixture_path(fx: &Value) -> String {
    fixtures_dir()
        .join(fx["file"].as_str().expect("fixture file"))
        .display()
        .to_string()
}

pub fn overrides_for(fixture: &Value) -> LayoutOverrides {
    LayoutOverrides {
        camera: fixture["camera"].as_str().map(str::to_string),
        ..Default::default()
    }
}

/// What one run over the fixtures found.
#[derive(Default, Debug)]
pub struct Outcome {
    pub windows_checked: usize,
    pub fixtures_checked: usize,
    pub errors_checked: usize,
    pub failures: Vec<String>,
}

/// Opens every fixture through `open_source` and compares info and every window with h5py.
pub async fn check_all<F>(open_source: F) -> Outcome
where
    F: Fn(&str) -> Box<dyn RangeSource>,
{
    check_all_on(open_source, None).await
}

/// [`check_all`] with chunks decoded on `threads` (`None`: the default, every core).
pub async fn check_all_on<F>(open_source: F, threads: Option<usize>) -> Outcome
where
    F: Fn(&str) -> Box<dyn RangeSource>,
{
    check_all_with(open_source, threads, None).await
}

/// As [`check_all_on`], with windows planned in slabs of `slab_rows` rows when given.
pub async fn check_all_with<F>(
    open_source: F,
    threads: Option<usize>,
    slab_rows: Option<u64>,
) -> Outcome
where
    F: Fn(&str) -> Box<dyn RangeSource>,
{
    let manifest = manifest();
    let mut out = Outcome::default();
    for fx in fixtures(&manifest) {
        let id = fx["id"].as_str().unwrap_or("?").to_string();
        let file = fx["file"].as_str().expect("fixture file");
        let cache = Rc::new(RangeCache::new(open_source(file), 64 << 20));
        let opened =
            Recording::open(cache.clone() as Rc<dyn RangeSource>, &overrides_for(&fx)).await;
        if let Some(expected) = fx["expect_error"].as_str() {
            out.errors_checked += 1;
            let message = match opened {
                Err(e) => e.to_string(),
                Ok(rec) => match first_window_error(&rec, &fx).await {
                    Some(e) => e,
                    None => {
                        out.failures
                            .push(format!("{id}: expected error '{expected}', got success"));
                        continue;
                    }
                },
            };
            if !message.to_lowercase().contains(&expected.to_lowercase()) {
                out.failures.push(format!(
                    "{id}: expected error containing '{expected}', got '{message}'"
                ));
            }
            continue;
        }
        let mut rec = match opened {
            Ok(rec) => rec,
            Err(e) => {
                out.failures.push(format!("{id}: open failed: {e}"));
                continue;
            }
        };
        out.fixtures_checked += 1;
        if threads.is_some() {
            rec.file
                .set_threads(strobe::hdf5::DecodeThreads::new(threads));
        }
        match rec.summary().await {
            Ok(s) => {
                let info = &fx["info"];
                let got = [
                    ("events", Some(s.events as i64)),
                    ("t_first", s.t_first),
                    ("t_last", s.t_last),
                    ("t_offset", Some(s.t_offset)),
                    ("width", Some(i64::from(s.width))),
                    ("height", Some(i64::from(s.height))),
                ];
                for (k, v) in got {
                    if info[k].as_i64() != v {
                        out.failures
                            .push(format!("{id}: info.{k}: h5py {} vs strobe {v:?}", info[k]));
                    }
                }
            }
            Err(e) => out.failures.push(format!("{id}: summary failed: {e}")),
        }
        for w in fx["windows"].as_array().into_iter().flatten() {
            let window = Window {
                from: w["from"].as_i64().expect("from"),
                to: w["to"].as_i64().expect("to"),
            };
            let digest = match WindowReader::open(&rec, window).await {
                Ok(r) => match slab_rows {
                    Some(rows) => r.with_slab_rows(rows).digest().await,
                    None => r.digest().await,
                },
                Err(e) => Err(e),
            };
            out.windows_checked += 1;
            if let Some(refusal) = w["expect_error"].as_str() {
                // h5py reads these rows, but they hold what Strobe must refuse (unsorted t).
                match digest {
                    Err(e) if e.to_string().contains(refusal) => {}
                    Err(e) => out.failures.push(format!(
                        "{id} [{}, {}): expected refusal '{refusal}', got '{e}'",
                        window.from, window.to
                    )),
                    Ok(d) => out.failures.push(format!(
                        "{id} [{}, {}): expected refusal '{refusal}', got {} events",
                        window.from, window.to, d.events
                    )),
                }
                continue;
            }
            match digest {
                Ok(d) => {
                    let got = serde_json::to_value(&d).expect("digest serialises");
                    for m in digest::dtype_mismatches(&got, w)
                        .into_iter()
                        .chain(digest::digest_mismatches(&got, w))
                    {
                        out.failures.push(format!(
                            "{id} [{}, {}) {}: {m}",
                            window.from,
                            window.to,
                            w["label"].as_str().unwrap_or("")
                        ));
                    }
                }
                Err(e) => out
                    .failures
                    .push(format!("{id} [{}, {}): {e}", window.from, window.to)),
            }
        }
    }
    out
}

async fn first_window_error(rec: &Recording, _fx: &Value) -> Option<String> {
    if let Err(e) = rec.summary().await {
        return Some(e.to_string());
    }
    let reader = match WindowReader::open(
        rec,
        Window {
            from: i64::MIN / 4,
            to: i64::MAX / 4,
        },
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return Some(e.to_string()),
    };
    reader.digest().await.err().map(|e| e.to_string())
}

pub fn assert_outcome(out: &Outcome) {
    assert!(
        out.fixtures_checked >= 10,
        "too few fixtures checked: {out:?}"
    );
    assert!(
        out.windows_checked >= 100,
        "too few windows checked: {out:?}"
    );
    assert!(
        out.failures.is_empty(),
        "{} mismatches against h5py (of {} windows, {} fixtures):\n{}",
        out.failures.len(),
        out.windows_checked,
        out.fixtures_checked,
        out.failures.join("\n")
    );
    eprintln!(
        "checked {} fixtures, {} windows, {} error cases against h5py",
        out.fixtures_checked, out.windows_checked, out.errors_checked
    );
}
