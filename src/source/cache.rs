//! Placeholder, being written: byte-bounded LRU cache with range merging and statistics.
