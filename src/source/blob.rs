//! Bytes of a browser `Blob` — usually a `File` the user picked or dropped onto the page.
//!
//! Each range is `blob.slice(start, end).arrayBuffer()`; nothing but the asked-for bytes is
//! read, so a recording of many gigabytes opens as quickly as a small one. Offsets are `f64`
//! on the JS side (exact up to 2^53), so files over 4 GB work.

use async_trait::async_trait;
use bytes::Bytes;
use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File};

use super::fetch::js_error_text;
use super::{ByteRange, RangeSource, SourceError};

/// How many slice reads one `read_ranges` call keeps in flight at once.
pub const MAX_IN_FLIGHT: usize = 16;

/// A `Blob` (or `File`) read by slices.
#[derive(Debug, Clone)]
pub struct BlobSource {
    blob: Blob,
    len: u64,
    name: String,
    validator: Option<String>,
}

impl BlobSource {
    /// A source over `blob`. A `web_sys::File` converts with `.into()` (a File is a Blob);
    /// for a File the name is used in messages and size + last-modified time is the validator.
    pub fn new(blob: Blob) -> Self {
        let size = blob.size();
        let len = if size.is_finite() && size >= 0.0 {
            size as u64
        } else {
            0
        };
        let (name, validator) = match blob.dyn_ref::<File>() {
            Some(file) => {
                let name = file.name();
                let name = if name.is_empty() {
                    "the chosen file".to_string()
                } else {
                    name
                };
                // lastModified is milliseconds since the epoch, an integer in practice.
                let modified = file.last_modified();
                (name, Some(format!("{len} bytes, modified {modified}")))
            }
            None => (format!("blob of {len} bytes"), None),
        };
        Self {
            blob,
            len,
            name,
            validator,
        }
    }

    /// The underlying Blob.
    pub fn blob(&self) -> &Blob {
        &self.blob
    }

    fn io(&self, reason: String) -> SourceError {
        SourceError::Io {
            what: self.name.clone(),
            reason,
        }
    }

    async fn read_one(&self, range: ByteRange) -> Result<Bytes, SourceError> {
        if range.end > self.len || range.start > range.end {
            return Err(SourceError::OutOfBounds {
                what: self.name.clone(),
                range,
                len: self.len,
            });
        }
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let slice = self
            .blob
            .slice_with_f64_and_f64(range.start as f64, range.end as f64)
            .map_err(|e| self.io(format!("could not slice {range}: {}", js_error_text(&e))))?;
        let buffer = JsFuture::from(slice.array_buffer()).await.map_err(|e| {
            self.io(format!(
                "could not read {range}: {} — if the file changed or moved on disk after it was \
                 chosen, choose it again",
                js_error_text(&e)
            ))
        })?;
        let bytes = Uint8Array::new(&buffer).to_vec();
        if bytes.len() as u64 != range.len() {
            return Err(self.io(format!(
                "asked for {} bytes ({range}), got {} — the file may have changed since it was chosen; choose it again",
                range.len(),
                bytes.len()
            )));
        }
        Ok(Bytes::from(bytes))
    }
}

impl From<File> for BlobSource {
    fn from(file: File) -> Self {
        Self::new(file.into())
    }
}

#[async_trait(?Send)]
impl RangeSource for BlobSource {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        super::read_each(ranges, MAX_IN_FLIGHT, |range| self.read_one(range)).await
    }

    async fn len(&self) -> Result<u64, SourceError> {
        Ok(self.len)
    }

    fn validator(&self) -> Option<String> {
        self.validator.clone()
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
