//! A file that changes while it is being read — rewritten in place between two reads of one
//! window — is reported as changed with the instruction to reopen, never as "truncated" and
//! never with events mixed from two versions (h5py's digests of the first version are the
//! oracle for every window that succeeds). Local files here; HTTP servers, with and without
//! validators, in `faults_http.rs` and `source_http.rs`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;

use async_trait::async_trait;
use bytes::Bytes;
use common::checked::{checked_window, open_cache, windows_of};
use strobe::events::Recording;
use strobe::source::file::FileSource;
use strobe::source::{ByteRange, RangeSource, SourceError};

const FIXTURE: &str = "blosc_lz4_bit";

/// A local file that `change` rewrites just before read number `at` (1-based).
struct ChangesBeforeRead {
    inner: FileSource,
    reads: Rc<Cell<u32>>,
    at: Rc<Cell<u32>>,
    change: Box<dyn Fn()>,
}

#[async_trait(?Send)]
impl RangeSource for ChangesBeforeRead {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        self.reads.set(self.reads.get() + 1);
        if self.reads.get() == self.at.get() {
            (self.change)();
        }
        self.inner.read_ranges(ranges).await
    }

    async fn len(&self) -> Result<u64, SourceError> {
        self.inner.len().await
    }

    fn validator(&self) -> Option<String> {
        self.inner.validator()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

fn fixture() -> serde_json::Value {
    common::fixtures(&common::manifest())
        .into_iter()
        .find(|f| f["id"] == FIXTURE)
        .expect("fixture in the manifest")
}

/// A private copy of the fixture (the test rewrites it).
fn copy_of_fixture(dir: &tempfile::TempDir) -> (PathBuf, Vec<u8>) {
    let fx = fixture();
    let from = common::fixtures_dir().join(fx["file"].as_str().expect("file"));
    let bytes = std::fs::read(from).expect("fixture on disk");
    let path = dir.path().join("rec.h5");
    std::fs::write(&path, &bytes).expect("copy");
    (path, bytes)
}

/// Reads every window of the fixture with the file rewritten as `rewrite` says in the middle
/// of reading the second window: (windows read as h5py's, windows refused as changed).
async fn read_through_a_rewrite(rewrite: fn(&[u8]) -> Vec<u8>) -> (usize, usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, original) = copy_of_fixture(&dir);
    let at = Rc::new(Cell::new(0));
    let reads = Rc::new(Cell::new(0));
    let target = path.clone();
    let src = ChangesBeforeRead {
        inner: FileSource::open(&path).expect("opens"),
        reads: reads.clone(),
        at: at.clone(),
        change: Box::new(move || {
            // A later clock tick than the open's, as any real rewrite has.
            std::thread::sleep(std::time::Duration::from_millis(20));
            std::fs::write(&target, rewrite(&original)).expect("rewrite");
        }),
    };
    let fx = fixture();
    let rec = Recording::open(
        open_cache(src) as Rc<dyn RangeSource>,
        &common::overrides_for(&fx),
    )
    .await
    .expect("opens before the change");
    let (mut read, mut changed) = (0, 0);
    for (i, (window, want)) in windows_of(&fx).into_iter().enumerate() {
        if i == 1 {
            // The rewrite lands on the next read of the file: inside this window's reading
            // (or a later one's, if this window is served from the cache).
            at.set(reads.get() + 1);
        }
        match checked_window(&rec, window, &want).await {
            Ok(()) => read += 1,
            Err(e) => {
                assert!(
                    e.contains("the file changed while it was being read")
                        && e.contains("reopen it"),
                    "{e}"
                );
                assert!(!e.contains("truncated"), "{e}");
                changed += 1;
            }
        }
    }
    (read, changed)
}

/// The second half of the file, other bytes; the same length.
fn same_length_other_bytes(original: &[u8]) -> Vec<u8> {
    let mut out = original.to_vec();
    let half = out.len() / 2;
    for b in &mut out[half..] {
        *b ^= 0x5a;
    }
    out
}

/// The first half of the file only.
fn shorter(original: &[u8]) -> Vec<u8> {
    original[..original.len() / 2].to_vec()
}

#[tokio::test(flavor = "current_thread")]
async fn a_local_file_rewritten_mid_window_is_changed() {
    for (what, rewrite) in [
        (
            "same length",
            same_length_other_bytes as fn(&[u8]) -> Vec<u8>,
        ),
        ("shorter", shorter),
    ] {
        let (read, changed) = read_through_a_rewrite(rewrite).await;
        assert!(
            read >= 1 && changed >= 1,
            "{what}: {read} read, {changed} changed"
        );
    }
}
