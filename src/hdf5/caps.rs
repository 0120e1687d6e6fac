//! Caps on every size a file can claim, in one place.
//!
//! A hostile or damaged file can claim any element count, chunk size, header or heap size,
//! index depth or decoded length. Each such number is checked against one of these caps
//! before it sizes an allocation or a loop, so no file makes the engine allocate past its
//! memory budget, recurse without bound or spin. RELIABILITY.md lists them with their
//! defaults and messages.

/// Limits applied while opening and reading one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Most bytes one read may hold at once: the stored chunks fetched in one round, or the
    /// decoded pieces and converted values of one read.
    pub memory_budget: u64,
    /// Largest chunk (or contiguous piece), stored or decoded.
    pub chunk_bytes: u64,
    /// Most metadata bytes (superblock, object headers, heaps, group B-trees) held per file.
    pub metadata_bytes: u64,
    /// Deepest chunk or group B-tree followed.
    pub index_depth: usize,
    /// Most index nodes one chunk-index walk visits.
    pub index_nodes: usize,
    /// Most objects (groups and datasets) listed per file.
    pub objects: usize,
    /// Deepest group nesting walked when looking for event datasets.
    pub group_depth: usize,
    /// Most metadata fetch rounds one parse may take (a longer chain is a loop).
    pub metadata_rounds: usize,
    /// Most dimensions a dataset may have (HDF5's own limit is 32).
    pub rank: usize,
    /// Most rows a dataset read may claim. Unwritten chunks read as zeros, so without it a
    /// tiny file could claim 2^64 events and keep a window read busy for ever.
    pub rows: u64,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            memory_budget: 1 << 30,
            chunk_bytes: 256 << 20,
            metadata_bytes: 64 << 20,
            index_depth: 24,
            index_nodes: 1 << 20,
            objects: 4096,
            group_depth: 4,
            metadata_rounds: 48,
            rank: 32,
            rows: 1 << 36,
        }
    }
}

impl Caps {
    /// The caps' names as messages and RELIABILITY.md use them.
    pub const MEMORY_BUDGET: &'static str = "memory_budget";
    pub const CHUNK_BYTES: &'static str = "chunk_bytes";
    pub const METADATA_BYTES: &'static str = "metadata_bytes";
    pub const INDEX_NODES: &'static str = "index_nodes";
    pub const RANK: &'static str = "rank";
    pub const ROWS: &'static str = "rows";

    /// How a user raises cap `cap`: the CLI flag (`--max-chunk`, in MiB) and the Python
    /// keyword of `strobe.open` (`max_chunk_mb`). `None` for
    /// caps no valid file reaches (`rank`: HDF5's own maximum).
    pub fn option(cap: &str) -> Option<CapOption> {
        let (cli, name) = match cap {
            Self::MEMORY_BUDGET => ("--max-memory", "max_memory_mb"),
            Self::CHUNK_BYTES => ("--max-chunk", "max_chunk_mb"),
            Self::METADATA_BYTES => ("--max-metadata", "max_metadata_mb"),
            Self::ROWS => ("--max-rows", "max_rows"),
            Self::INDEX_NODES => ("--max-index-nodes", "max_index_nodes"),
            _ => return None,
        };
        Some(CapOption { cli, name })
    }

    /// What to tell a user whose file went over cap `cap`: the option raising it, in every
    /// front end's spelling.
    pub fn advice(cap: &str) -> String {
        match Self::option(cap) {
            Some(o) => format!(
                "(cap {cap}) — raise it with {} (CLI) / {}= (Python)",
                o.cli, o.name
            ),
            None => format!("(cap {cap}) — the file is damaged or not an event recording"),
        }
    }

    /// Caps with the user's overrides (MiB for byte caps; `None` keeps the default).
    pub fn with_overrides(
        self,
        memory_mb: Option<u64>,
        chunk_mb: Option<u64>,
        metadata_mb: Option<u64>,
        rows: Option<u64>,
        index_nodes: Option<usize>,
    ) -> Self {
        let mb = |v: Option<u64>, d: u64| v.map_or(d, |m| m.saturating_mul(1 << 20));
        Self {
            memory_budget: mb(memory_mb, self.memory_budget),
            chunk_bytes: mb(chunk_mb, self.chunk_bytes),
            metadata_bytes: mb(metadata_mb, self.metadata_bytes),
            rows: rows.unwrap_or(self.rows),
            index_nodes: index_nodes.unwrap_or(self.index_nodes),
            ..self
        }
    }
}

/// The option that raises one cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapOption {
    /// The CLI flag, e.g. `--max-chunk` (MiB).
    pub cli: &'static str,
    /// The Python keyword, e.g. `max_chunk_mb`.
    pub name: &'static str,
}

/// Product of sizes, `None` when it overflows a `u64` (which no cap admits anyway).
pub fn product(factors: impl IntoIterator<Item = u64>) -> Option<u64> {
    factors
        .into_iter()
        .try_fold(1u64, |acc, f| acc.checked_mul(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_refuses_overflow() {
        assert_eq!(product([2, 3, 4]), Some(24));
        assert_eq!(product([]), Some(1));
        assert_eq!(product([u64::MAX, 2]), None);
        assert_eq!(product([u64::MAX, 0]), Some(0));
    }
}
