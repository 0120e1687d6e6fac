//! Replays the fuzz corpus (`tests/data/fuzz/<target>/`: every finding, minimized, and small
//! seeds) plus deterministic mutants of it through the fuzz targets' own code
//! (`fuzz/src/lib.rs`), on stable Rust, in CI. Each input must return — an error is fine —
//! without a panic and without the heap ever holding more than the harness's memory cap,
//! measured by a counting global allocator. The replay finishing at all is the hang check.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use harness::{Target, MEMORY_CAP};

/// Counts live heap bytes and their high-water mark.
struct Counting;

static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes as u64, Ordering::Relaxed);
}

// SAFETY: every call is passed straight to the system allocator; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as the new block arriving before the old one leaves: realloc may copy.
            grew(new_size);
            shrank(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn corpus_dir(target: Target) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target.name())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// Inputs each target replays: its own corpus; the two whole-file targets share theirs.
fn inputs(target: Target) -> Vec<PathBuf> {
    match target {
        Target::OpenWindow | Target::ChunkIndex => [Target::OpenWindow, Target::ChunkIndex]
            .into_iter()
            .flat_map(|t| files(&corpus_dir(t)))
            .collect(),
        t => files(&corpus_dir(t)),
    }
}

/// A deterministic mutant of `data`: a few bytes overwritten, and sometimes cut short.
fn mutant(data: &[u8], seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = data.to_vec();
    if out.is_empty() {
        return out;
    }
    for _ in 0..1 + next() % 8 {
        let at = (next() % out.len() as u64) as usize;
        out[at] = next() as u8;
    }
    if next() % 4 == 0 {
        let keep = (next() % out.len() as u64) as usize;
        out.truncate(keep.max(1));
    }
    out
}

/// Mutants replayed per corpus file.
const MUTANTS_PER_FILE: u64 = 6;

struct Failure {
    input: String,
    what: String,
}

/// Runs one input; reports a panic or a heap peak over the cap.
fn replay(target: Target, name: &str, data: &[u8], failures: &mut Vec<Failure>) -> u64 {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let outcome = std::panic::catch_unwind(|| target.run(data));
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let input = format!("{}/{name}", target.name());
    if let Err(panic) = outcome {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        failures.push(Failure {
            input: input.clone(),
            what: format!("panicked: {what}"),
        });
    }
    if peak > MEMORY_CAP {
        failures.push(Failure {
            input,
            what: format!("heap peaked at {peak} bytes, over the {MEMORY_CAP}-byte cap"),
        });
    }
    peak
}

/// One test, so that no other test's allocations land in the peaks measured here.
#[test]
fn every_corpus_input_and_its_mutants_return_within_the_memory_cap() {
    // The cap check itself: a 16 MiB buffer must show in the peak.
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let buffer = vec![1u8; 16 << 20];
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert!(
        peak >= 16 << 20,
        "the counting allocator missed 16 MiB (saw {peak})"
    );
    drop(buffer);

    let mut failures = Vec::new();
    let mut replayed = 0usize;
    let mut highest = 0u64;
    for target in Target::ALL {
        let inputs = inputs(target);
        assert!(
            !inputs.is_empty(),
            "no corpus for {} in {}",
            target.name(),
            corpus_dir(target).display()
        );
        for path in inputs {
            let Ok(data) = std::fs::read(&path) else {
                panic!("cannot read {}", path.display());
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            highest = highest.max(replay(target, &name, &data, &mut failures));
            // Seeds are valid files and chunks: they must read, or the fuzzer was
            // exploring nothing but refusals.
            if name.starts_with("seed-") && target != Target::Blosclz {
                if let Err(e) = target.run(&data) {
                    failures.push(Failure {
                        input: format!("{}/{name}", target.name()),
                        what: format!("a valid seed was refused: {e}"),
                    });
                }
            }
            for seed in 0..MUTANTS_PER_FILE {
                let m = mutant(&data, seed.wrapping_add(data.len() as u64));
                let peak = replay(target, &format!("{name}~{seed}"), &m, &mut failures);
                highest = highest.max(peak);
            }
            replayed += 1 + MUTANTS_PER_FILE as usize;
        }
    }
    let report: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}", f.input, f.what))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {replayed} inputs failed:\n{}",
        failures.len(),
        report.join("\n")
    );
    eprintln!("replayed {replayed} inputs; highest heap peak {highest} bytes (cap {MEMORY_CAP})");
}
