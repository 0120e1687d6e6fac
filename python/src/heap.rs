//! Gives the memory of dropped windows back to the operating system before the next window.
//!
//! A window's columns are tens of MB each. glibc's malloc serves such blocks with mmap at first,
//! but every free of an mmap'd block raises its mmap threshold (up to 32 MB), so later windows'
//! columns come from the heap arenas of the engine's and the decode pool's threads — and once
//! freed they stay resident there. Measured on a 100 M-event DSEC file (1 s random windows,
//! arrays up to 60 MB): without trimming the idle RSS crept from 106 MB to 225 MB over 300
//! windows; with it, it stays within ~25 MB of the start. `malloc_trim` returns the free pages
//! of every arena (sub-millisecond at these heap sizes, once per window).

/// Releases the free pages of the C heap (glibc only; elsewhere nothing to do).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only rearranges the allocator's free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
