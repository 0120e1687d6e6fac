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

/// Rust's allocations in the extension, where a window's columns (tens of MB each, written
/// once, handed to numpy and dropped) are asked to be backed by 2 MB pages. Blocks that large
/// come straight from mmap, so every window's columns are fresh memory: with 4 KB pages their
/// first writes cost one page fault per 4 KB, which measured as ~40 % of the engine thread's time
/// on 1 s windows (13.6 M events, 232 MB of output). Where the kernel grants transparent huge
/// pages on request (`madvise` mode, as on most distributions) that is one fault per 2 MB; where
/// it does not, the request is refused and nothing changes.
pub struct WindowAllocator;

/// Blocks from this size on are asked for huge pages.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const HUGE_FROM: usize = 8 << 20;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn advise_huge(p: *mut u8, len: usize) {
    const HUGE: usize = 2 << 20;
    let at = p as usize;
    let start = at.saturating_add(HUGE - 1) & !(HUGE - 1);
    let end = at.saturating_add(len) & !(HUGE - 1);
    if end > start {
        // SAFETY: advice on whole pages inside a block this allocator just handed out; it
        // changes how the kernel backs them, never their contents. A refusal is ignored.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

// SAFETY: every call is passed to the system allocator unchanged; large blocks only get advice.
unsafe impl std::alloc::GlobalAlloc for WindowAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract is the system allocator's.
        let p = unsafe { std::alloc::System.alloc(layout) };
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if layout.size() >= HUGE_FROM && !p.is_null() {
            advise_huge(p, layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as for alloc.
        unsafe { std::alloc::System.dealloc(p, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as for alloc (zeroed blocks this large come from mmap, already zero: no
        // advice, or the kernel would have to zero huge pages the block may never touch).
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        // SAFETY: as for alloc.
        let q = unsafe { std::alloc::System.realloc(p, layout, size) };
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if size >= HUGE_FROM && !q.is_null() {
            advise_huge(q, size);
        }
        q
    }
}
