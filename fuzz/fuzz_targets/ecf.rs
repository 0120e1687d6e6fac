#![no_main]
//! Fuzz target `ecf`: see fuzz/README.md.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Refusals are the expected outcome; panics, hangs and OOMs are findings.
    strobe_fuzz::Target::Ecf.run(data).ok();
});
