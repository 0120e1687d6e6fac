//! Jenkins lookup3 checksums of version-2 structures, against files libhdf5 wrote.
//!
//! The oracle is libhdf5 itself: every checksummed structure in the `libver="latest"`
//! fixtures (superblock v3, OHDR, v2 B-tree, fixed and extensible array headers and blocks)
//! was checksummed by it, so our `lookup3` must reproduce each one. Then each structure is
//! damaged in turn — one byte it covers changed — and Strobe must refuse the file in one line
//! that names the damage, never read it.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::rc::Rc;

use strobe::events::{LayoutOverrides, Recording, Window, WindowReader};
use strobe::hdf5::checksum::lookup3;
use strobe::source::memory::drive;
use strobe::source::{MemorySource, RangeSource};

/// Fixtures with version-2 structures, one per chunk index (all written with libver latest).
const FIXTURES: &[&str] = &[
    "idx_fixed_array.h5",
    "idx_fixed_array_nofilter.h5",
    "idx_extensible_array.h5",
    "idx_extensible_array_nofilter.h5",
    "idx_btree_v2.h5",
    "idx_btree_v2_nofilter.h5",
    "idx_single_chunk.h5",
    "idx_implicit.h5",
];

const SIGNATURES: &[&str] = &[
    "OHDR", "OCHK", "BTHD", "BTIN", "BTLF", "FAHD", "FADB", "EAHD", "EAIB", "EASB", "EADB",
];

/// A checksummed structure: its kind, where it starts, where its checksum is.
#[derive(Debug, Clone)]
struct Structure {
    kind: &'static str,
    at: usize,
    checksum_at: usize,
}

/// Every structure with a signature whose trailing checksum our lookup3 reproduces: the
/// checksum follows the bytes it covers, so the structure's length is where it first matches.
fn structures(data: &[u8]) -> (Vec<Structure>, Vec<(&'static str, usize)>) {
    let mut found = Vec::new();
    let mut unverified = Vec::new();
    let mut candidates: Vec<(&'static str, usize)> = Vec::new();
    if data.len() > 9 && data[..8] == *b"\x89HDF\r\n\x1a\n" && data[8] >= 2 {
        candidates.push(("superblock", 0));
    }
    for sig in SIGNATURES {
        let mut from = 0;
        while let Some(i) = data[from..]
            .windows(4)
            .position(|w| w == sig.as_bytes())
            .map(|p| p + from)
        {
            candidates.push((sig, i));
            from = i + 1;
        }
    }
    for (kind, at) in candidates {
        let end = data.len().min(at + 64 * 1024);
        let hit = (at + 8..=end.saturating_sub(4)).find(|&c| {
            let stored = u32::from_le_bytes([data[c], data[c + 1], data[c + 2], data[c + 3]]);
            lookup3(&data[at..c]) == stored
        });
        match hit {
            Some(checksum_at) => found.push(Structure {
                kind,
                at,
                checksum_at,
            }),
            None => unverified.push((kind, at)),
        }
    }
    (found, unverified)
}

/// Strobe's answer for the whole recording: its event count, or its error.
fn read_all(data: Vec<u8>) -> Result<u64, String> {
    drive(async move {
        let source: Rc<dyn RangeSource> = Rc::new(MemorySource::new(data, "damaged"));
        let rec = Recording::open(source, &LayoutOverrides::default())
            .await
            .map_err(|e| e.to_string())?;
        let window = Window {
            from: i64::MIN / 2,
            to: i64::MAX / 2,
        };
        let digest = WindowReader::open(&rec, window)
            .await
            .map_err(|e| e.to_string())?
            .digest()
            .await
            .map_err(|e| e.to_string())?;
        Ok(digest.events)
    })
    .unwrap_or_else(|| Err("the read waited on nothing".into()))
}

#[test]
fn every_v2_structure_libhdf5_wrote_verifies_with_our_lookup3() {
    let dir = common::fixtures_dir();
    let mut kinds = std::collections::BTreeMap::new();
    for name in FIXTURES {
        let data = std::fs::read(dir.join(name)).expect("fixture (run make_fixtures.py)");
        let (found, unverified) = structures(&data);
        // A signature whose checksum matches nowhere would be a lookup3 that differs from
        // libhdf5's (or a signature inside chunk data: none in these fixtures).
        assert!(
            unverified.is_empty(),
            "{name}: no checksum matches for {unverified:?}"
        );
        for s in found {
            *kinds.entry(s.kind).or_insert(0) += 1;
        }
    }
    for kind in [
        "superblock",
        "OHDR",
        "BTHD",
        "BTIN",
        "BTLF",
        "FAHD",
        "FADB",
        "EAHD",
        "EAIB",
        "EASB",
        "EADB",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} verified: {kinds:?}"
        );
    }
    eprintln!("verified: {kinds:?}");
}

#[test]
fn a_damaged_v2_structure_is_refused_in_one_line_naming_it() {
    let dir = common::fixtures_dir();
    let mut refused = 0;
    let mut failures = Vec::new();
    for name in FIXTURES {
        let data = std::fs::read(dir.join(name)).expect("fixture (run make_fixtures.py)");
        let events = read_all(data.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(events > 0, "{name}: no events");
        let (found, _) = structures(&data);
        for s in found {
            let mut damaged = data.clone();
            // The last byte the checksum covers: fields before it still parse as they were.
            damaged[s.checksum_at - 1] ^= 0x10;
            match read_all(damaged) {
                Ok(n) => failures.push(format!(
                    "{name}: {} at byte {} damaged, yet {n} events were read",
                    s.kind, s.at
                )),
                Err(e)
                    if e.contains('\n')
                        || !e.contains("checksum mismatch — the file is damaged") =>
                {
                    failures.push(format!("{name}: {} at byte {}: {e:?}", s.kind, s.at))
                }
                Err(e) => {
                    // Structures with their own message name their offset.
                    let named = match s.kind {
                        "superblock" => Some(format!("superblock at byte {}", s.at)),
                        "FAHD" => Some(format!("fixed array header at byte {}", s.at)),
                        "FADB" => Some(format!("fixed array data block at byte {}", s.at)),
                        "EAHD" => Some(format!("extensible array header at byte {}", s.at)),
                        "EAIB" => Some(format!("extensible array index block at byte {}", s.at)),
                        "EASB" => {
                            Some(format!("extensible array secondary block at byte {}", s.at))
                        }
                        "EADB" => Some(format!("extensible array data block at byte {}", s.at)),
                        "OHDR" => Some(format!("object header at byte {}", s.at)),
                        _ => None,
                    };
                    if named.as_ref().is_some_and(|n| !e.contains(n.as_str())) {
                        failures.push(format!("{name}: {e:?} does not name {named:?}"));
                    } else {
                        refused += 1;
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(refused > 50, "only {refused} damaged structures tried");
}

/// A fixed array of more than 1024 chunks is paged: each page has its own checksum. h5py
/// writes one (libver latest, one-row chunks); Strobe must read it as h5py does, and refuse
/// it once a page is damaged.
#[test]
fn a_paged_fixed_array_reads_and_a_damaged_page_is_refused() {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let dir = std::env::temp_dir().join(format!("strobe-paged-fa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("paged.h5");
    let script = r#"
import sys, h5py, numpy as np
n = 3000
rng = np.random.default_rng(1)
t = np.cumsum(rng.integers(0, 5, n)).astype("i8") + 1000
with h5py.File(sys.argv[1], "w", libver="latest") as f:
    g = f.create_group("events")
    g.create_dataset("x", data=rng.integers(0, 640, n).astype("u2"), chunks=(1,))
    g.create_dataset("y", data=rng.integers(0, 480, n).astype("u2"), chunks=(1,))
    g.create_dataset("t", data=t, chunks=(1,))
    g.create_dataset("p", data=rng.integers(0, 2, n).astype("u1"), chunks=(1,), compression="gzip")
with h5py.File(sys.argv[1], "r") as f:
    print(len(f["events/t"]))
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, path.to_str().expect("path")])
        .output()
        .expect("the venv's python runs (scripts/python-env.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h5py_events: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("h5py's row count");
    let data = std::fs::read(&path).expect("written");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(read_all(data.clone()), Ok(h5py_events));

    // FADB prefix: signature, version, client id, header address (8) = 14 bytes; then the
    // page bitmap (3 pages: 1 byte) and its checksum; then page 0.
    let blocks: Vec<usize> = data
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"FADB")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(blocks.len(), 4, "one paged data block per column");
    for at in blocks {
        let page = at + 14 + 1 + 4;
        let mut damaged = data.clone();
        damaged[page + 3] ^= 0x01;
        let e = read_all(damaged).expect_err("a damaged page is refused");
        assert!(
            e.contains(&format!(
                "fixed array data block page at byte {page}: checksum mismatch"
            )),
            "{e}"
        );
    }
}
