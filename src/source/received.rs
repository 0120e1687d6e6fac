//! A running count of body bytes received, readable while a load is under way: how a caller
//! shows progress during one long round (a slow server, a big slab) and tells a live
//! transfer from a dead one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes received so far; clones share the count.
#[derive(Debug, Clone, Default)]
pub struct Received(Arc<AtomicU64>);

impl Received {
    /// Bytes received since the source was made (every attempt counts, failed ones too).
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, n: usize) {
        self.0.fetch_add(n as u64, Ordering::Relaxed);
    }
}
