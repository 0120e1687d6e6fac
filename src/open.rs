//! The one front door: a source string (path, URL, ...) plus options → a cached range source
//! and an opened [`Recording`].
//!
//! The CLI, the browser engine and the Python package all open recordings through here, so a
//! new kind of source (a URL scheme, a header, a cap) is added once and every front end has
//! it. Windows are then read from the returned [`Opened`] with [`crate::events::WindowReader`].

use std::rc::Rc;

use crate::events::{EventsError, LayoutOverrides, Recording, Summary};
use crate::hdf5::{Caps, DecodeThreads};
use crate::source::{RangeCache, RangeSource, SourceError};

/// The range cache every front end puts in front of its source.
pub type Cache = RangeCache<Box<dyn RangeSource>>;

/// Byte budget of the range cache when the caller does not choose one.
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;

/// How to open a recording: what the CLI's source flags, the page's link and the Python
/// keyword arguments each spell in their own way.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Explicit dataset paths and the camera (`--x`, `--camera right`, ...).
    pub layout: LayoutOverrides,
    /// Range cache budget in bytes.
    pub cache_bytes: u64,
    /// Files up to this many bytes on a server that ignores `Range` are read whole
    /// (0: refuse such servers with a message saying so).
    pub whole_file_limit: u64,
    /// Limits on every size the file claims.
    pub caps: Caps,
    /// Extra HTTP headers sent with every request to an http(s):// URL (`--header
    /// 'Authorization: Bearer …'`, Python's `headers={}`), as (name, value).
    pub headers: Vec<(String, String)>,
    /// Threads decoding chunks (`--threads N`, Python's `threads=`): `None` for every core.
    /// The browser decodes on its own thread whatever this says.
    pub threads: Option<usize>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            layout: LayoutOverrides::default(),
            cache_bytes: DEFAULT_CACHE_BYTES,
            whole_file_limit: 0,
            caps: Caps::default(),
            headers: Vec::new(),
            threads: None,
        }
    }
}

/// Where a source string points, by its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// `http://` or `https://`.
    Http(String),
    /// A local path (native only).
    Path(String),
    /// `s3://bucket/key`: Amazon S3 or an S3-compatible server (native only).
    S3(String),
    /// `gs://bucket/key`: Google Cloud Storage (native only).
    Gcs(String),
    /// `az://container/key`: Azure Blob Storage (native only).
    Azure(String),
}

impl SourceSpec {
    /// Classifies `spec`; refuses schemes Strobe cannot read with a line naming the ones it can.
    pub fn parse(spec: &str) -> Result<Self, OpenError> {
        let trimmed = spec.trim();
        if trimmed.is_empty() {
            return Err(OpenError::BadSource(
                "no source given — pass a path or an http(s):// URL".into(),
            ));
        }
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(Self::Http(trimmed.to_string()));
        }
        match scheme_of(trimmed) {
            Some(scheme) if scheme.eq_ignore_ascii_case("s3") => Ok(Self::S3(trimmed.to_string())),
            Some(scheme) if scheme.eq_ignore_ascii_case("gs") => Ok(Self::Gcs(trimmed.to_string())),
            Some(scheme) if scheme.eq_ignore_ascii_case("az") => {
                Ok(Self::Azure(trimmed.to_string()))
            }
            Some(scheme) => Err(OpenError::BadSource(format!(
                "{trimmed}: {scheme}:// sources are not supported — use a local path, an http(s):// URL or s3:// gs:// az://"
            ))),
            None => Ok(Self::Path(spec.to_string())),
        }
    }
}

/// The URL scheme of `spec` (`s3` of `s3://b/k`), if it has one. Windows drive letters
/// (`C:\…`) and plain paths have none.
fn scheme_of(spec: &str) -> Option<&str> {
    let (scheme, _) = spec.split_once("://")?;
    let valid = scheme.len() > 1
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// Why a recording could not be opened.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum OpenError {
    #[error("{0}")]
    BadSource(String),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Events(#[from] EventsError),
}

/// An opened recording and the cache its bytes come through (for request/round counts).
pub struct Opened {
    pub cache: Rc<Cache>,
    pub recording: Recording,
}

impl Opened {
    /// Reads first/last timestamps, offset and sensor size (see [`Recording::summary`]).
    pub async fn summary(&self) -> Result<Summary, EventsError> {
        self.recording.summary().await
    }
}

/// The range source `spec` names, without a cache (native: files and HTTP).
#[cfg(not(target_arch = "wasm32"))]
pub fn source(spec: &str, options: &OpenOptions) -> Result<Box<dyn RangeSource>, OpenError> {
    use crate::source::file::FileSource;
    use crate::source::http::HttpSource;
    use crate::source::object_store::ObjectStoreSource;
    let parsed = SourceSpec::parse(spec)?;
    if !options.headers.is_empty() && !matches!(parsed, SourceSpec::Http(_)) {
        return Err(OpenError::BadSource(format!(
            "{}: headers are sent to http(s):// URLs only — drop --header for this source",
            spec.trim()
        )));
    }
    Ok(match parsed {
        SourceSpec::Http(url) => Box::new(
            HttpSource::new(&url)?
                .with_whole_file_limit(options.whole_file_limit)
                .with_headers(header_map(&options.headers)?),
        ),
        SourceSpec::Path(path) => Box::new(FileSource::open(&path)?),
        SourceSpec::S3(url) | SourceSpec::Gcs(url) | SourceSpec::Azure(url) => {
            Box::new(ObjectStoreSource::new(&url)?)
        }
    })
}

/// The extra headers as a map; refuses names or values HTTP cannot carry, and the headers the
/// source sets itself (a user `Range` would break every read).
#[cfg(not(target_arch = "wasm32"))]
fn header_map(headers: &[(String, String)]) -> Result<reqwest::header::HeaderMap, OpenError> {
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let bad = |what: &str| {
            OpenError::BadSource(format!(
                "header '{name}': {what} — write it as --header 'Name: value'"
            ))
        };
        let key = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| bad("not a valid header name"))?;
        if key == reqwest::header::RANGE || key == reqwest::header::ACCEPT_ENCODING {
            return Err(OpenError::BadSource(format!(
                "header '{name}': Strobe sets this one itself for every range read — drop it"
            )));
        }
        let value =
            HeaderValue::from_str(value.trim()).map_err(|_| bad("not a valid header value"))?;
        map.append(key, value);
    }
    Ok(map)
}

/// `Name: value` (the command line's `--header`) as a pair.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!(
            "'{text}' is not a header — write it as 'Name: value', e.g. 'Authorization: Bearer TOKEN'"
        )),
    }
}

/// The range source `spec` names, without a cache (browser: URLs through `fetch`; local
/// files come in as `Blob`s through [`open_source`]).
#[cfg(target_arch = "wasm32")]
pub fn source(spec: &str, options: &OpenOptions) -> Result<Box<dyn RangeSource>, OpenError> {
    use crate::source::fetch::FetchSource;
    if !options.headers.is_empty() {
        return Err(OpenError::BadSource(format!(
            "{}: the page sends no custom headers — use a presigned or public https:// URL",
            spec.trim()
        )));
    }
    match SourceSpec::parse(spec)? {
        SourceSpec::S3(url) | SourceSpec::Gcs(url) | SourceSpec::Azure(url) => {
            Err(OpenError::BadSource(format!(
                "{url}: the page holds no cloud credentials — open a presigned or public https:// URL of the object instead"
            )))
        }
        SourceSpec::Http(url) => Ok(Box::new(
            FetchSource::new(url).with_whole_file_limit(options.whole_file_limit),
        )),
        SourceSpec::Path(path) => Err(OpenError::BadSource(format!(
            "{path}: the page opens http(s):// URLs or a file you pick — not a path"
        ))),
    }
}

/// Opens the recording `spec` names: metadata only, no event data.
pub async fn open(spec: &str, options: &OpenOptions) -> Result<Opened, OpenError> {
    open_source(source(spec, options)?, options).await
}

/// Opens a recording from a source the caller made (the page's `File`s, tests' memory).
pub async fn open_source(
    source: Box<dyn RangeSource>,
    options: &OpenOptions,
) -> Result<Opened, OpenError> {
    let cache = Rc::new(RangeCache::new(source, options.cache_bytes));
    let mut recording = Recording::open_with(
        cache.clone() as Rc<dyn RangeSource>,
        &options.layout,
        options.caps,
    )
    .await?;
    recording
        .file
        .set_threads(DecodeThreads::new(options.threads));
    Ok(Opened { cache, recording })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_classified_by_scheme() {
        assert_eq!(
            SourceSpec::parse("https://h/e.h5"),
            Ok(SourceSpec::Http("https://h/e.h5".into()))
        );
        assert_eq!(
            SourceSpec::parse("HTTP://h/e.h5"),
            Ok(SourceSpec::Http("HTTP://h/e.h5".into()))
        );
        assert_eq!(
            SourceSpec::parse("data/events.h5"),
            Ok(SourceSpec::Path("data/events.h5".into()))
        );
        assert_eq!(
            SourceSpec::parse("C:\\data\\e.h5"),
            Ok(SourceSpec::Path("C:\\data\\e.h5".into()))
        );
        assert_eq!(
            SourceSpec::parse("s3://b/dsec/e.h5"),
            Ok(SourceSpec::S3("s3://b/dsec/e.h5".into()))
        );
        assert_eq!(
            SourceSpec::parse("gs://b/e.h5"),
            Ok(SourceSpec::Gcs("gs://b/e.h5".into()))
        );
        assert_eq!(
            SourceSpec::parse("az://c/e.h5"),
            Ok(SourceSpec::Azure("az://c/e.h5".into()))
        );
        let err = SourceSpec::parse("ftp://h/e.h5").unwrap_err().to_string();
        assert!(err.contains("ftp:// sources are not supported"), "{err}");
        assert!(SourceSpec::parse("  ").is_err());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod header_tests {
    use super::*;

    #[test]
    fn headers_parse_and_bad_ones_are_refused() {
        assert_eq!(
            parse_header("Authorization: Bearer x"),
            Ok(("Authorization".into(), "Bearer x".into()))
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": v").is_err());
        let opts = |name: &str| OpenOptions {
            headers: vec![(name.into(), "v".into())],
            ..OpenOptions::default()
        };
        let err = |spec: &str, o: &OpenOptions| match source(spec, o) {
            Ok(_) => String::from("accepted"),
            Err(e) => e.to_string(),
        };
        let e = err("http://127.0.0.1:9/e.h5", &opts("Range"));
        assert!(e.contains("sets this one itself"), "{e}");
        let e = err("http://127.0.0.1:9/e.h5", &opts("bad name"));
        assert!(e.contains("not a valid header name"), "{e}");
        let e = err("data/e.h5", &opts("Authorization"));
        assert!(e.contains("http(s):// URLs only"), "{e}");
        assert_eq!(
            err("http://127.0.0.1:9/e.h5", &opts("Authorization")),
            "accepted"
        );
    }
}
