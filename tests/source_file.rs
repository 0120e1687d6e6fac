//! FileSource against the bytes on disk.
#![cfg(not(target_arch = "wasm32"))]

mod source_common;

use source_common::{random_bytes, slice};
use strobe::source::file::FileSource;
use strobe::source::{ByteRange, RangeSource, SourceError};

#[tokio::test]
async fn ranges_equal_the_bytes_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.bin");
    let bytes = random_bytes(1_000_003, 7);
    std::fs::write(&path, &bytes).unwrap();
    let src = FileSource::open(&path).unwrap();
    assert_eq!(src.len().await.unwrap(), bytes.len() as u64);
    let n = bytes.len() as u64;
    let ranges = vec![
        ByteRange::new(0, 1),
        ByteRange::new(n - 1, n),
        ByteRange::new(0, n),
        ByteRange::new(500, 500), // empty
        ByteRange::at(123_456, 65_536),
        ByteRange::at(10, 5),
        ByteRange::at(10, 5), // repeated
        ByteRange::new(999_000, n),
    ];
    let got = src.read_ranges(&ranges).await.unwrap();
    assert_eq!(got.len(), ranges.len());
    for (r, b) in ranges.iter().zip(&got) {
        assert_eq!(&b[..], slice(&bytes, *r), "{r}");
    }
    assert!(src.read_ranges(&[]).await.unwrap().is_empty());
    assert!(src.validator().is_some());
    assert!(src.describe().ends_with("f.bin"));
}

#[tokio::test]
async fn missing_file_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let err = FileSource::open(dir.path().join("nope.h5")).unwrap_err();
    assert!(matches!(err, SourceError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn past_eof_is_out_of_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.bin");
    std::fs::write(&path, random_bytes(100, 1)).unwrap();
    let src = FileSource::open(&path).unwrap();
    for r in [
        ByteRange::new(90, 101),
        ByteRange::new(100, 101),
        ByteRange::at(1000, 1),
    ] {
        let err = src
            .read_ranges(&[ByteRange::new(0, 10), r])
            .await
            .unwrap_err();
        assert_eq!(
            err,
            SourceError::OutOfBounds {
                what: src.describe(),
                range: r,
                len: 100
            }
        );
    }
    // Ending exactly at EOF is fine.
    assert_eq!(
        src.read_ranges(&[ByteRange::new(90, 100)]).await.unwrap()[0].len(),
        10
    );
}

#[tokio::test]
async fn rewritten_file_is_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.bin");
    std::fs::write(&path, random_bytes(100, 1)).unwrap();
    let src = FileSource::open(&path).unwrap();
    src.read_ranges(&[ByteRange::new(0, 10)]).await.unwrap();
    // Rewrite in place (same inode): longer, and a different mtime.
    std::fs::write(&path, random_bytes(200, 2)).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
        .unwrap();
    let err = src.read_ranges(&[ByteRange::new(0, 10)]).await.unwrap_err();
    assert!(matches!(err, SourceError::Changed { .. }), "{err:?}");
}

#[tokio::test]
async fn directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = FileSource::open(dir.path()).unwrap_err();
    assert!(matches!(err, SourceError::Io { .. }), "{err:?}");
}
