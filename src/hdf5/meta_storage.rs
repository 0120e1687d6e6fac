//! A synchronous `hdf5_reader::Storage` over the bytes fetched so far.
//!
//! `hdf5-reader` parses through a blocking `Storage`, but our bytes arrive asynchronously
//! (browser fetch). So the parser runs against what has been fetched; when it asks for bytes we
//! do not hold, the read fails and the missing range is recorded. The caller fetches it — for
//! several parses at once, in one round — and runs the parse again. Parsing stays free of I/O.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hdf5_reader::{Storage, StorageBuffer};

use crate::source::ByteRange;

/// Fetched spans of one file, keyed by start offset.
#[derive(Default)]
pub struct MetaStorage {
    len: u64,
    spans: Mutex<BTreeMap<u64, Bytes>>,
    misses: Mutex<Vec<ByteRange>>,
    /// Furthest byte a parse asked for past the end of the file, since the last take.
    past_end: Mutex<Option<u64>>,
}

impl MetaStorage {
    pub fn new(len: u64) -> Arc<Self> {
        Arc::new(Self {
            len,
            ..Default::default()
        })
    }

    /// Adds fetched bytes starting at `start`, joining them with spans they touch so that a
    /// parse reading across two fetches still finds its bytes in one place.
    pub fn insert(&self, start: u64, bytes: Bytes) {
        let Ok(mut spans) = self.spans.lock() else {
            return;
        };
        let mut lo = start;
        let mut hi = start + bytes.len() as u64;
        let touching: Vec<u64> = spans
            .range(..=hi)
            .filter(|(s, b)| **s + b.len() as u64 >= lo)
            .map(|(s, _)| *s)
            .collect();
        if touching.is_empty() {
            spans.insert(start, bytes);
            return;
        }
        let parts: Vec<(u64, Bytes)> = touching
            .iter()
            .filter_map(|s| spans.remove(s).map(|b| (*s, b)))
            .collect();
        for (s, b) in &parts {
            lo = lo.min(*s);
            hi = hi.max(*s + b.len() as u64);
        }
        let mut joined = vec![0u8; (hi - lo) as usize];
        for (s, b) in parts.iter().chain(std::iter::once(&(start, bytes))) {
            let at = (*s - lo) as usize;
            joined[at..at + b.len()].copy_from_slice(b);
        }
        spans.insert(lo, Bytes::from(joined));
    }

    /// Bytes of `range`, if one fetched span holds all of it.
    pub fn get(&self, range: ByteRange) -> Option<Bytes> {
        let spans = self.spans.lock().ok()?;
        let (start, bytes) = spans.range(..=range.start).next_back()?;
        let from = usize::try_from(range.start - start).ok()?;
        let to = usize::try_from(range.end - start).ok()?;
        (to <= bytes.len()).then(|| bytes.slice(from..to))
    }

    /// Bytes held in all spans.
    pub fn held(&self) -> u64 {
        self.spans
            .lock()
            .map(|s| s.values().map(|b| b.len() as u64).sum())
            .unwrap_or(0)
    }

    /// Whether every byte of `range` is held.
    pub fn holds(&self, range: ByteRange) -> bool {
        range.is_empty() || self.get(range).is_some()
    }

    /// The furthest byte past the file's end a parse asked for since the last call: a file
    /// cut short, or a pointer past its end.
    pub fn take_past_end(&self) -> Option<u64> {
        self.past_end.lock().ok().and_then(|mut p| p.take())
    }

    /// Ranges asked for and not held since the last call.
    pub fn take_misses(&self) -> Vec<ByteRange> {
        self.misses
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }
}

impl Storage for MetaStorage {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, offset: u64, len: usize) -> hdf5_reader::error::Result<StorageBuffer> {
        let range = ByteRange::at(offset, len as u64);
        if range.end > self.len {
            if let Ok(mut p) = self.past_end.lock() {
                *p = Some(p.map_or(range.end, |e| e.max(range.end)));
            }
            return Err(hdf5_reader::error::Error::UnexpectedEof {
                offset,
                needed: len as u64,
                available: self.len.saturating_sub(offset),
            });
        }
        match self.get(range) {
            Some(bytes) => StorageBuffer::from_shared_owner(Arc::new(bytes), 0, len),
            None => {
                if let Ok(mut misses) = self.misses.lock() {
                    misses.push(range);
                }
                Err(hdf5_reader::error::Error::Io(std::io::Error::other(
                    "bytes not fetched yet",
                )))
            }
        }
    }
}
