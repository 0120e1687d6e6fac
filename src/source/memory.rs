//! Bytes already in memory as a [`RangeSource`]: fuzzing and tests run the whole read path
//! over a buffer, with no files, servers or runtime involved.

use async_trait::async_trait;
use bytes::Bytes;

use super::{ByteRange, RangeSource, SourceError};

/// A file held whole in memory.
#[derive(Debug, Clone)]
pub struct MemorySource {
    bytes: Bytes,
    name: String,
}

impl MemorySource {
    /// A source over `bytes`, called `name` in messages.
    pub fn new(bytes: impl Into<Bytes>, name: impl Into<String>) -> Self {
        Self {
            bytes: bytes.into(),
            name: name.into(),
        }
    }

    fn slice(&self, range: ByteRange) -> Result<Bytes, SourceError> {
        let len = self.bytes.len() as u64;
        if range.start > range.end || range.end > len {
            return Err(SourceError::OutOfBounds {
                what: self.name.clone(),
                range,
                len,
            });
        }
        // Both ends are within `len`, which is a usize.
        Ok(self.bytes.slice(range.start as usize..range.end as usize))
    }
}

#[async_trait(?Send)]
impl RangeSource for MemorySource {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        ranges.iter().map(|r| self.slice(*r)).collect()
    }

    async fn len(&self) -> Result<u64, SourceError> {
        Ok(self.bytes.len() as u64)
    }

    fn cached(&self, range: ByteRange) -> Option<Bytes> {
        self.slice(range).ok()
    }

    fn validator(&self) -> Option<String> {
        Some(format!("{} bytes in memory", self.bytes.len()))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Most polls [`drive`] spends on one future before giving up on it.
const MAX_POLLS: u32 = 1 << 20;

/// Runs a future to completion without a runtime, for reads served from memory: such a
/// future only waits on other futures of the same read (joined parses sharing a cache
/// flight), so polling it again always makes progress. `None` if it still waits after
/// [`MAX_POLLS`] polls — it waits on something no poll will bring.
pub fn drive<F: std::future::Future>(future: F) -> Option<F::Output> {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        drive(f).expect("memory reads never wait")
    }

    #[test]
    fn reads_ranges_and_refuses_past_the_end() {
        let source = MemorySource::new(b"0123456789".to_vec(), "ten bytes");
        let got = block_on(source.read_ranges(&[ByteRange::new(2, 5), ByteRange::new(9, 10)]));
        assert_eq!(got.unwrap(), vec![Bytes::from("234"), Bytes::from("9")]);
        assert_eq!(block_on(source.len()).unwrap(), 10);
        assert!(matches!(
            block_on(source.read_ranges(&[ByteRange::new(8, 11)])),
            Err(SourceError::OutOfBounds { len: 10, .. })
        ));
        assert_eq!(source.cached(ByteRange::new(0, 1)), Some(Bytes::from("0")));
    }
}
