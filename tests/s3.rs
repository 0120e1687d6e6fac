//! Recordings in a real S3-API server (moto in server mode, started by this test on a free
//! loopback port, authentication on): windows over `s3://` equal h5py's digests, credentials
//! come from the environment, a wrong key and a missing key each give one clear line, and the
//! cache counts the same requests and rounds as over HTTP.
//!
//! moto is a pinned test dependency (requirements-test.txt, installed into .venv by
//! scripts/python-env.sh): when it cannot be started these tests FAIL, they never skip.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;
use strobe::events::{Window, WindowReader};
use strobe::open::{open_source, OpenOptions};
use strobe::serve::{spawn_for_tests, ServeOptions};
use strobe::source::http::HttpSource;
use strobe::source::object_store::ObjectStoreSource;
use strobe::source::RangeSource;

const BUCKET: &str = "strobe-test";

/// The running server: where it listens and the key it accepts.
struct Moto {
    endpoint: String,
    key_id: String,
    secret: String,
    /// Holding its stdin open keeps it serving; it exits when this process does.
    _child: Child,
    /// Files uploaded under `mix/`: good, broken and non-HDF5 (for listing).
    _mix: tempfile::TempDir,
}

fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// A directory of recordings to list: two good, one truncated, one not HDF5 at all.
fn mix_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let fx = common::fixtures_dir();
    for name in ["dsec_full_bitshuffle.h5", "generic.h5"] {
        std::fs::copy(fx.join(name), dir.path().join(name)).expect("copy fixture");
    }
    let whole = std::fs::read(fx.join("dsec_full_bitshuffle.h5")).expect("read fixture");
    std::fs::write(dir.path().join("truncated.h5"), &whole[..whole.len() / 3]).expect("write");
    std::fs::write(dir.path().join("notes.h5"), b"not an HDF5 file at all\n").expect("write");
    dir
}

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3_moto.py");
        let mix = mix_dir();
        let mut child = Command::new(python())
            .arg(script)
            .arg(BUCKET)
            .arg(format!("out={}", common::fixtures_dir().display()))
            .arg(format!("mix={}", mix.path().display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} — set up the venv: bash scripts/python-env.sh",
                    python().display()
                )
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let info: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(_) => {
                let out = child.wait_with_output().expect("moto exits");
                panic!(
                    "moto (S3 server) did not start — it needs moto[server] from requirements-test.txt (bash scripts/python-env.sh): {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        };
        let field = |k: &str| info[k].as_str().expect("moto info field").to_string();
        Moto {
            endpoint: field("endpoint"),
            key_id: field("key_id"),
            secret: field("secret"),
            _child: child,
            _mix: mix,
        }
    })
}

impl Moto {
    /// Builder options equivalent to the environment the CLI tests set.
    fn options(&self, secret: &str) -> Vec<(&'static str, String)> {
        vec![
            ("aws_access_key_id", self.key_id.clone()),
            ("aws_secret_access_key", secret.to_string()),
            ("aws_endpoint", self.endpoint.clone()),
            ("aws_region", "us-east-1".into()),
            ("aws_allow_http", "true".into()),
        ]
    }

    fn source(&self, key: &str) -> Box<dyn RangeSource> {
        Box::new(
            ObjectStoreSource::with_options(
                &format!("s3://{BUCKET}/{key}"),
                self.options(&self.secret),
            )
            .expect("s3 source"),
        )
    }

    /// The CLI with credentials and endpoint in the standard environment variables.
    fn strobe(&self, secret: &str, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_strobe"))
            .args(args)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_ACCESS_KEY_ID", &self.key_id)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ALLOW_HTTP", "true")
            .output()
            .expect("strobe runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_window_of_every_fixture_matches_h5py_over_s3() {
    let moto = moto();
    let out = common::check_all(|name| moto.source(&format!("out/{name}"))).await;
    common::assert_outcome(&out);
}

/// The first window of the DSEC fixture in h5py's manifest.
fn dsec_window() -> (String, Value) {
    let manifest = common::manifest();
    let fx = common::fixtures(&manifest)
        .into_iter()
        .find(|f| f["file"] == "dsec_full_bitshuffle.h5")
        .expect("dsec fixture in the manifest");
    let w = fx["windows"][1].clone();
    ("dsec_full_bitshuffle.h5".into(), w)
}

#[test]
fn the_cli_reads_s3_with_credentials_from_the_environment() {
    let moto = moto();
    let (file, want) = dsec_window();
    let url = format!("s3://{BUCKET}/out/{file}");
    let (from, to) = (want["from"].to_string(), want["to"].to_string());
    let (ok, out, err) = moto.strobe(
        &moto.secret,
        &["window", &url, "--from", &from, "--to", &to, "--json"],
    );
    assert!(ok, "{err}");
    let got: Value = serde_json::from_str(&out).expect("JSON output");
    let mismatches = common::digest::digest_mismatches(&got, &want);
    assert!(mismatches.is_empty(), "{mismatches:?}");
}

#[test]
fn a_wrong_key_says_access_denied_and_a_missing_key_not_found() {
    let moto = moto();
    let url = format!("s3://{BUCKET}/out/dsec_full_bitshuffle.h5");
    let (ok, _, err) = moto.strobe("not-the-secret", &["info", &url]);
    assert!(!ok);
    assert!(err.contains("access denied"), "{err}");
    assert!(err.contains(&url), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let missing = format!("s3://{BUCKET}/out/no_such_recording.h5");
    let (ok, _, err) = moto.strobe(&moto.secret, &["info", &missing]);
    assert!(!ok);
    assert!(err.contains("not found"), "{err}");
    assert!(err.contains(&missing), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[tokio::test(flavor = "current_thread")]
async fn requests_and_rounds_are_counted_as_over_http() {
    let moto = moto();
    let (file, want) = dsec_window();
    let (addr, _task) = spawn_for_tests(ServeOptions {
        port: 0,
        data_dir: Some(common::fixtures_dir()),
        ..Default::default()
    })
    .await
    .expect("server starts");
    let window = Window {
        from: want["from"].as_i64().expect("from"),
        to: want["to"].as_i64().expect("to"),
    };
    let mut stats = Vec::new();
    let sources: [Box<dyn RangeSource>; 2] = [
        moto.source(&format!("out/{file}")),
        Box::new(HttpSource::new(format!("http://{addr}/data/{file}")).expect("url")),
    ];
    for source in sources {
        let opened = open_source(source, &OpenOptions::default())
            .await
            .expect("opens");
        let digest = WindowReader::open(&opened.recording, window)
            .await
            .expect("window")
            .digest()
            .await
            .expect("digest");
        let got = serde_json::to_value(&digest).expect("digest serialises");
        assert!(common::digest::digest_mismatches(&got, &want).is_empty());
        let s = opened.cache.stats();
        stats.push((s.requests, s.rounds, s.bytes));
    }
    assert_eq!(stats[0], stats[1], "s3 (requests, rounds, bytes) vs http");
    assert!(stats[0].0 > 0);
}

impl Moto {
    /// Writes `body` to `key` through the S3 API (boto3, the same signed requests any client
    /// makes).
    fn put(&self, key: &str, body: &str) {
        let script = "import boto3, sys\n\
            s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])\n\
            s3.put_object(Bucket=sys.argv[4], Key=sys.argv[5], Body=sys.argv[6].encode())\n";
        let out = Command::new(python())
            .args([
                "-c",
                script,
                &self.endpoint,
                &self.key_id,
                &self.secret,
                BUCKET,
                key,
                body,
            ])
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_object_rewritten_between_reads_is_reported() {
    // The ETag is the validator: later reads are made If-Match it, so a rewrite is caught
    // even when the length stays the same.
    let moto = moto();
    moto.put("scratch/changing.bin", &"a".repeat(1000));
    let src = moto.source("scratch/changing.bin");
    let (head, len) = src.read_head(64).await.expect("head");
    assert_eq!((head.len(), len), (64, 1000));
    assert!(
        src.validator().is_some(),
        "an ETag is known after the first read"
    );
    moto.put("scratch/changing.bin", &"b".repeat(1000));
    let e = src
        .read_ranges(&[strobe::source::ByteRange::new(100, 200)])
        .await
        .expect_err("a changed object is not read");
    assert!(
        e.to_string().contains("changed while it was being read"),
        "{e}"
    );
}

/// h5py's event count of a fixture file.
fn h5py_events(file: &str) -> u64 {
    let manifest = common::manifest();
    common::fixtures(&manifest)
        .into_iter()
        .find(|f| f["file"] == file && f["expect_error"].is_null())
        .and_then(|f| f["info"]["events"].as_u64())
        .unwrap_or_else(|| panic!("{file} in the manifest"))
}

/// Every good recording is listed with h5py's event count; the truncated and the non-HDF5
/// file are each listed with an error; nothing else is listed.
fn check_listing(json: &str, name_of: impl Fn(&str) -> String) {
    let entries: Value = serde_json::from_str(json).expect("JSON listing");
    let entries = entries.as_array().expect("array");
    let by_name = |n: &str| {
        entries
            .iter()
            .find(|e| e["source"].as_str() == Some(name_of(n).as_str()))
            .unwrap_or_else(|| panic!("{n} listed: {json}"))
    };
    assert_eq!(entries.len(), 4, "{json}");
    for good in ["dsec_full_bitshuffle.h5", "generic.h5"] {
        let e = by_name(good);
        assert_eq!(e["events"].as_u64(), Some(h5py_events(good)), "{e}");
        assert!(e.get("error").is_none(), "{e}");
    }
    let e = by_name("notes.h5");
    assert!(
        e["error"]
            .as_str()
            .is_some_and(|m| m.contains("not an HDF5 file")),
        "{e}"
    );
    let e = by_name("truncated.h5");
    assert!(e["error"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    assert!(e.get("events").is_none(), "{e}");
}

#[test]
fn info_lists_a_bucket_prefix_and_a_glob_naming_each_failure() {
    let moto = moto();
    let root = format!("s3://{BUCKET}/mix");
    for spec in [format!("{root}/"), format!("{root}/*.h5")] {
        let (ok, out, err) = moto.strobe(&moto.secret, &["info", &spec, "--json"]);
        assert!(ok, "{spec}: {err}");
        check_listing(&out, |n| format!("{root}/{n}"));
    }
    let (ok, _, err) = moto.strobe(&moto.secret, &["info", &format!("s3://{BUCKET}/nothing/")]);
    assert!(!ok && err.contains("no recordings there"), "{err}");
}

#[test]
fn info_lists_a_local_directory_and_a_glob_naming_each_failure() {
    let dir = mix_dir();
    let base = dir.path().display().to_string();
    for spec in [base.clone(), format!("{base}/*.h5")] {
        let (ok, out, err) = common::strobe(&["info", &spec, "--json"]);
        assert!(ok, "{spec}: {err}");
        check_listing(&out, |n| format!("{base}/{n}"));
    }
    let (ok, out, err) = common::strobe(&["info", &format!("{base}/d*.h5"), "--json"]);
    assert!(ok, "{err}");
    let entries: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(entries.as_array().map(Vec::len), Some(1), "{out}");
}
