//! Local files (native only): positional reads, no shared cursor, so ranges never interfere.
//!
//! Reads are synchronous `pread`s inside the async call. Local reads are served from the page
//! cache in microseconds, and staying executor-agnostic (no `spawn_blocking`) means this works
//! under any executor, including `futures::executor::block_on`.

use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use async_trait::async_trait;
use bytes::Bytes;

use super::{ByteRange, RangeSource, SourceError};

/// A file on the local disk.
#[derive(Debug)]
pub struct FileSource {
    path: PathBuf,
    file: File,
    validator: String,
}

impl FileSource {
    /// Opens `path` for reading. A missing file is [`SourceError::NotFound`].
    pub fn open(path: impl AsRef<Path>) -> Result<FileSource, SourceError> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| io_error(&path, "open", &e))?;
        let meta = file.metadata().map_err(|e| io_error(&path, "stat", &e))?;
        if meta.is_dir() {
            return Err(SourceError::Io {
                what: path.display().to_string(),
                reason: "is a directory, not a file".into(),
            });
        }
        Ok(FileSource {
            validator: validator_of(&meta),
            path,
            file,
        })
    }

    /// The path this source was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fails with [`SourceError::Changed`] when the open file's length or mtime moved since
    /// it was opened (rewritten in place); returns the length otherwise.
    fn check_unchanged(&self) -> Result<u64, SourceError> {
        let meta = self
            .file
            .metadata()
            .map_err(|e| io_error(&self.path, "stat", &e))?;
        let now = validator_of(&meta);
        if now != self.validator {
            return Err(SourceError::Changed {
                what: self.describe(),
                before: self.validator.clone(),
                after: now,
            });
        }
        Ok(meta.len())
    }

    fn read_one(&self, range: ByteRange, len: u64) -> Result<Bytes, SourceError> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        if range.end > len {
            return Err(SourceError::OutOfBounds {
                what: self.describe(),
                range,
                len,
            });
        }
        let n = usize::try_from(range.len()).map_err(|_| SourceError::Io {
            what: self.describe(),
            reason: format!("{range} is too large for this platform's memory"),
        })?;
        let mut buf = vec![0u8; n];
        read_exact_at(&self.file, &mut buf, range.start)
            .map_err(|e| io_error(&self.path, &format!("read {range}"), &e))?;
        Ok(Bytes::from(buf))
    }
}

#[async_trait(?Send)]
impl RangeSource for FileSource {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        let len = self.check_unchanged()?;
        ranges.iter().map(|r| self.read_one(*r, len)).collect()
    }

    async fn len(&self) -> Result<u64, SourceError> {
        self.check_unchanged()
    }

    fn validator(&self) -> Option<String> {
        Some(self.validator.clone())
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// `len-mtime_ns` of a file: changes when it is rewritten.
fn validator_of(meta: &Metadata) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{}", meta.len(), mtime)
}

fn io_error(path: &Path, op: &str, e: &io::Error) -> SourceError {
    if e.kind() == io::ErrorKind::NotFound {
        SourceError::NotFound {
            path: path.display().to_string(),
        }
    } else {
        SourceError::Io {
            what: path.display().to_string(),
            reason: format!("{op}: {e}"),
        }
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}
