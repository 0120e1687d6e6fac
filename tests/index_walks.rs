//! The extensible array walk on a paged array that h5py writes: data blocks of super block 13
//! onwards (entries 131 076 and up of a one-row-chunk dataset) are split into pages, and a
//! secondary block records which pages were written. Rows read as h5py reads them, pages
//! never written as fill, and a damaged page is refused in one line naming it.
#![cfg(not(target_arch = "wasm32"))]

use std::rc::Rc;

use strobe::hdf5::read::read_rows_i64;
use strobe::hdf5::H5File;
use strobe::source::memory::drive;
use strobe::source::{MemorySource, RangeSource};

/// First entry of super block 13 with libhdf5's chunk-index parameters (4 entries inline,
/// then data_min · (2^13 − 1) = 16 · 8191).
const PAGED_FROM: u64 = 4 + 16 * 8191;

/// Row slices read by both readers: written pages, a page never written between them, a
/// second data block whose first page was never written (its second page was: bit 3 of the
/// bitmap, not bit 9), and rows before the paged blocks.
fn slices() -> Vec<(u64, u64)> {
    let p = PAGED_FROM;
    vec![
        (p, p + 1024),
        (p + 1000, p + 1100),
        (p + 1024, p + 2048),
        (p + 2048, p + 4096),
        (p + 3000, p + 3100),
        (p - 50, p + 50),
        (p + 4000, p + 5000),
        (100, 200),
    ]
}

fn write_with_h5py() -> (Vec<u8>, Vec<i64>) {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let dir = std::env::temp_dir().join(format!("strobe-paged-ea-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("paged_ea.h5");
    let script = r#"
import sys, json, h5py, numpy as np
p = int(sys.argv[2])
slices = json.loads(sys.argv[3])
with h5py.File(sys.argv[1], "w", libver="latest") as f:
    d = f.create_dataset("v", shape=(p + 8192,), maxshape=(None,), chunks=(1,), dtype="i8")
    for a, b in [(100, 300), (p, p + 1024), (p + 2048 + 1024, p + 4096), (p + 4096, p + 4500)]:
        d[a:b] = np.arange(a, b, dtype="i8") * 3 + 1
with h5py.File(sys.argv[1], "r") as f:
    d = f["v"]
    assert d.id.get_create_plist().get_layout() == h5py.h5d.CHUNKED
    print(json.dumps([int(d[a:b].sum()) for a, b in slices]))
"#;
    let slices: Vec<[u64; 2]> = slices().iter().map(|(a, b)| [*a, *b]).collect();
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            script,
            path.to_str().expect("path"),
            &PAGED_FROM.to_string(),
            &serde_json::to_string(&slices).expect("json"),
        ])
        .output()
        .expect("the venv's python runs (scripts/python-env.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sums: Vec<i64> = serde_json::from_slice(&out.stdout).expect("h5py's sums (one JSON list)");
    let data = std::fs::read(&path).expect("written");
    let _ = std::fs::remove_dir_all(&dir);
    (data, sums)
}

/// Strobe's sums of the slices, or its error.
fn strobe_sums(data: Vec<u8>) -> Result<Vec<i64>, String> {
    drive(async move {
        let source: Rc<dyn RangeSource> = Rc::new(MemorySource::new(data, "paged_ea.h5"));
        let file = H5File::open(source).await.map_err(|e| e.to_string())?;
        let objects = file.objects().await.map_err(|e| e.to_string())?;
        let ds = objects
            .iter()
            .find(|o| o.path == "/v")
            .and_then(|o| o.dataset.clone())
            .ok_or("no /v")?;
        assert_eq!(ds.layout.describe(), "chunked (extensible array)");
        let mut sums = Vec::new();
        for (a, b) in slices() {
            let rows = read_rows_i64(&file, &[(&ds, a..b)])
                .await
                .map_err(|e| e.to_string())?;
            sums.push(rows.concat().iter().sum());
        }
        Ok(sums)
    })
    .unwrap_or_else(|| Err("the read waited on nothing".into()))
}

#[test]
fn a_paged_extensible_array_reads_as_h5py_and_a_damaged_page_is_refused() {
    let (data, h5py_sums) = write_with_h5py();
    assert_eq!(strobe_sums(data.clone()), Ok(h5py_sums));

    // Every written page of a paged data block: after the block's prefix (signature, version,
    // client, header address, 4-byte block offset) and its checksum, pages of 1024 entries
    // of 8 bytes and a checksum each. Damage the first page's last entry byte.
    let paged: Vec<usize> = data
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"EADB")
        .map(|(i, _)| i)
        .filter(|&at| {
            // Paged blocks end their prefix with a checksum: unpaged ones do not.
            let prefix = &data[at..at + 18];
            let sum =
                u32::from_le_bytes([data[at + 18], data[at + 19], data[at + 20], data[at + 21]]);
            strobe::hdf5::checksum::lookup3(prefix) == sum
        })
        .collect();
    assert!(!paged.is_empty(), "h5py wrote no paged data block");
    let at = paged[0];
    let page = at + 22;
    let mut damaged = data.clone();
    damaged[page + 1024 * 8 - 1] ^= 0x01;
    let e = strobe_sums(damaged).expect_err("a damaged page is refused");
    assert!(
        e.contains(&format!(
            "extensible array data block page at byte {page}: checksum mismatch — the file is damaged"
        )) && !e.contains('\n'),
        "{e}"
    );
}
