//! Replays the fuzz corpus (`tests/data/fuzz/<target>/`: every finding, minimized, and small
//! seeds) plus deterministic mutants of it through the fuzz targets' own code
//! (`fuzz/src/lib.rs`), on stable Rust, in CI. Each input must return — an error is fine —
//! without a panic and without the heap ever holding more than the harness's memory cap,
//! measured by a counting global allocator. Each input runs on its own thread under a
//! deadline, so a hang fails the test instead of stalling it. Every finding (`crash-*`) and
//! hostile file (`hostile-*`) must give the answer it is kept for: the cap error or refusal
//! it guards, or a read (see [`EXPECTED`]).
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

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

/// No input may take longer (the whole replay takes about a second): past it, a hang.
const DEADLINE: Duration = Duration::from_secs(30);

/// What each finding and hostile file must answer: `Some(text)`: an error containing `text`
/// (the cap or refusal it guards); `None`: it reads.
const EXPECTED: &[(&str, Option<&str>)] = &[
    // A never-written contiguous dataset claiming 2^60 rows: refused by the rows cap.
    (
        "open_window/hostile-unwritten-contiguous-2e60",
        Some("(cap rows) — raise it with --max-rows"),
    ),
    (
        "chunk_index/hostile-unwritten-contiguous-2e60",
        Some("(cap rows) — raise it with --max-rows"),
    ),
    (
        "open_window/hostile-unwritten-2e40-rows",
        Some("(cap rows) — raise it with --max-rows"),
    ),
    (
        "chunk_index/hostile-unwritten-2e40-rows",
        Some("(cap rows) — raise it with --max-rows"),
    ),
    // 2^23 unwritten rows are under the harness's rows cap: the index walk reads them; a
    // window over them all would hold their values past the memory budget.
    (
        "open_window/hostile-unwritten-2e23-rows",
        Some("(cap memory_budget) — raise it with --max-memory"),
    ),
    ("chunk_index/hostile-unwritten-2e23-rows", None),
    // Chunks of 1 GB, never written, over 2^30 rows: refused before any zeroing (the rows
    // cap comes first; the chunk cap would refuse them next).
    (
        "open_window/hostile-unwritten-1gb-chunks",
        Some("(cap rows) — raise it with --max-rows"),
    ),
    (
        "chunk_index/hostile-unwritten-1gb-chunks",
        Some("(cap rows) — raise it with --max-rows"),
    ),
    // The zstd table of only low-probability symbols builds (it panicked before); the rest
    // of that fuzzed frame is corrupt, which is what the decoder must say.
    (
        "blosc/crash-zstd-fse-all-slots-low-probability",
        Some("blosc data is corrupt"),
    ),
];

/// Runs one input on its own thread: its result, or the panic's message, or `None` when it
/// did not finish by the deadline.
fn run_guarded(target: Target, data: &[u8]) -> Option<std::thread::Result<Result<(), String>>> {
    let (tx, rx) = mpsc::channel();
    let data = data.to_vec();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(|| target.run(&data)));
    });
    rx.recv_timeout(DEADLINE).ok()
}

struct Failure {
    input: String,
    what: String,
}

/// Runs one input; reports a panic, a hang or a heap peak over the cap. Returns the heap
/// peak and the input's result.
fn replay(
    target: Target,
    name: &str,
    data: &[u8],
    failures: &mut Vec<Failure>,
) -> (u64, Option<Result<(), String>>) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let input = format!("{}/{name}", target.name());
    let Some(outcome) = run_guarded(target, data) else {
        // The input's thread still runs: stop here rather than measure others beside it.
        panic!("{input}: no answer within {DEADLINE:?} (a hang)");
    };
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let result = match outcome {
        Ok(result) => Some(result),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(Failure {
                input: input.clone(),
                what: format!("panicked: {what}"),
            });
            None
        }
    };
    if peak > MEMORY_CAP {
        failures.push(Failure {
            input,
            what: format!("heap peaked at {peak} bytes, over the {MEMORY_CAP}-byte cap"),
        });
    }
    (peak, result)
}

/// Checks a finding's or hostile file's answer against [`EXPECTED`].
fn check_expected(input: &str, result: &Result<(), String>, failures: &mut Vec<Failure>) {
    let Some((_, expected)) = EXPECTED.iter().find(|(name, _)| *name == input) else {
        failures.push(Failure {
            input: input.to_string(),
            what: "a finding or hostile file without an expected answer in EXPECTED".into(),
        });
        return;
    };
    let wrong = match (expected, result) {
        (None, Ok(())) => None,
        (None, Err(e)) => Some(format!("should read, was refused: {e}")),
        (Some(want), Ok(())) => Some(format!("read, but should be refused with {want:?}")),
        (Some(want), Err(e)) if !e.contains(want) => {
            Some(format!("refused with {e:?}, not with {want:?}"))
        }
        (Some(_), Err(e)) if e.contains('\n') => {
            Some(format!("a refusal of more than one line: {e:?}"))
        }
        _ => None,
    };
    if let Some(what) = wrong {
        failures.push(Failure {
            input: input.to_string(),
            what,
        });
    }
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
            let (peak, result) = replay(target, &name, &data, &mut failures);
            highest = highest.max(peak);
            let input = format!("{}/{name}", target.name());
            // Seeds are valid files and chunks: they must read, or the fuzzer was
            // exploring nothing but refusals.
            if name.starts_with("seed-") && target != Target::Blosclz {
                if let Some(Err(e)) = &result {
                    failures.push(Failure {
                        input: input.clone(),
                        what: format!("a valid seed was refused: {e}"),
                    });
                }
            }
            if name.starts_with("crash-") || name.starts_with("hostile-") {
                if let Some(result) = &result {
                    check_expected(&input, result, &mut failures);
                }
            }
            for seed in 0..MUTANTS_PER_FILE {
                let m = mutant(&data, seed.wrapping_add(data.len() as u64));
                let (peak, _) = replay(target, &format!("{name}~{seed}"), &m, &mut failures);
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
