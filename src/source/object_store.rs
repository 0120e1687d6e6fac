//! Objects in S3, Google Cloud Storage or Azure Blob Storage (native only), read by byte
//! ranges through the `object_store` crate.
//!
//! The crate signs requests, retries failures and finds credentials in the standard
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP=true`; `GOOGLE_SERVICE_ACCOUNT`, ...;
//! `AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY`, ...), so Strobe holds no
//! storage client of its own. This module only turns its answers into [`SourceError`]s a
//! user can act on and keeps the object's ETag as the validator: every range after the first
//! is asked `If-Match` that ETag, so an object rewritten mid-read is reported, never mixed.
//!
//! The browser never gets here: a page holds no credentials, it opens presigned or public
//! `https://` URLs instead (see `crate::open`).

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, GetOptions, GetRange, ObjectStore, ObjectStoreExt, ObjectStoreScheme,
    RetryConfig,
};

use super::{read_each, ByteRange, Ends, RangeSource, SourceError};

/// How many range requests one `read_ranges` call keeps in flight at once (as over HTTP).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// URL schemes this source opens.
pub const SCHEMES: [&str; 3] = ["s3", "gs", "az"];

/// One object in a cloud bucket, read by byte ranges.
#[derive(Debug)]
pub struct ObjectStoreSource {
    url: String,
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    max_in_flight: usize,
    known: Mutex<Known>,
}

/// What the answers so far said about the object; every later answer must agree.
#[derive(Debug, Default, Clone)]
struct Known {
    len: Option<u64>,
    etag: Option<String>,
}

/// A bucket (or container) and the store that reaches it, for listing its keys.
pub struct Bucket {
    /// `s3://bucket` (no trailing slash): keys are appended to it to name objects.
    pub root: String,
    pub store: Arc<dyn ObjectStore>,
    /// The key prefix the URL named (may be empty).
    pub prefix: ObjectPath,
}

impl ObjectStoreSource {
    /// The object at `url` (`s3://bucket/key`, `gs://bucket/key`, `az://container/key`),
    /// credentials and endpoint from the environment. Nothing is requested yet.
    pub fn new(url: &str) -> Result<ObjectStoreSource, SourceError> {
        Self::with_options(url, std::iter::empty::<(String, String)>())
    }

    /// As [`ObjectStoreSource::new`], with builder options (`aws_access_key_id`,
    /// `aws_endpoint`, `allow_http`, ...) applied over the environment's.
    pub fn with_options<I, K, V>(url: &str, options: I) -> Result<ObjectStoreSource, SourceError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let bucket = bucket(url, options)?;
        if bucket.prefix.as_ref().is_empty() {
            return Err(SourceError::Io {
                what: url.to_string(),
                reason: "names a bucket, not an object — add the key (s3://bucket/path/events.h5)"
                    .into(),
            });
        }
        Ok(ObjectStoreSource {
            url: url.to_string(),
            store: bucket.store,
            path: bucket.prefix,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            known: Mutex::new(Known::default()),
        })
    }

    /// An object of a bucket already built (listing opens many objects over one client).
    pub fn in_bucket(bucket: &Bucket, key: ObjectPath) -> ObjectStoreSource {
        ObjectStoreSource {
            url: format!("{}/{key}", bucket.root),
            store: bucket.store.clone(),
            path: key,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            known: Mutex::new(Known::default()),
        }
    }

    fn known(&self) -> Known {
        self.known.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records the object's size and ETag from an answer; fails if they moved since the first.
    fn observe(&self, size: u64, etag: Option<String>) -> Result<(), SourceError> {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(before), Some(after)) = (&known.etag, &etag) {
            if before != after {
                return Err(self.changed(before.clone(), after.clone()));
            }
        }
        if let Some(before) = known.len {
            if before != size {
                return Err(self.changed(format!("length {before}"), format!("length {size}")));
            }
        }
        known.len = Some(size);
        if known.etag.is_none() {
            known.etag = etag;
        }
        Ok(())
    }

    fn changed(&self, before: String, after: String) -> SourceError {
        SourceError::Changed {
            what: self.url.clone(),
            before,
            after,
        }
    }

    /// One ranged GET, `If-Match` the ETag once one is known.
    async fn get(&self, range: GetRange) -> Result<(Bytes, Range<u64>, u64), SourceError> {
        let known = self.known();
        let options = GetOptions {
            range: Some(range),
            if_match: known.etag.clone(),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&self.path, options)
            .await
            .map_err(|e| self.error(e, &known))?;
        let size = result.meta.size;
        let etag = result.meta.e_tag.clone();
        let got = result.range.clone();
        let bytes = result.bytes().await.map_err(|e| self.error(e, &known))?;
        self.observe(size, etag)?;
        Ok((bytes, got, size))
    }

    async fn read_one(&self, range: ByteRange) -> Result<Bytes, SourceError> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let (bytes, got, size) = self.get(GetRange::Bounded(range.start..range.end)).await?;
        if range.end > size {
            return Err(SourceError::OutOfBounds {
                what: self.url.clone(),
                range,
                len: size,
            });
        }
        if got != (range.start..range.end) || bytes.len() as u64 != range.len() {
            return Err(SourceError::BadResponse {
                url: self.url.clone(),
                reason: format!(
                    "asked for {range}, got {} bytes of {}..{} — the store answered another range",
                    bytes.len(),
                    got.start,
                    got.end
                ),
            });
        }
        Ok(bytes)
    }

    /// The object's size and ETag, by a HEAD request.
    async fn head(&self) -> Result<u64, SourceError> {
        let known = self.known();
        let meta = self
            .store
            .head(&self.path)
            .await
            .map_err(|e| self.error(e, &known))?;
        self.observe(meta.size, meta.e_tag)?;
        Ok(meta.size)
    }

    /// One line saying what went wrong and what to check.
    fn error(&self, e: object_store::Error, known: &Known) -> SourceError {
        let url = self.url.clone();
        error_for(&url, e, known.etag.as_deref())
    }
}

/// Turns an `object_store` error about `url` into one actionable line. `etag`: the validator
/// a failed `If-Match` was made with.
pub fn error_for(url: &str, e: object_store::Error, etag: Option<&str>) -> SourceError {
    use object_store::Error as E;
    let reason = match e {
        E::NotFound { .. } => "not found — check the bucket and key".to_string(),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => access_denied(url),
        E::Precondition { .. } => {
            return SourceError::Changed {
                what: url.to_string(),
                before: etag.unwrap_or("ETag").to_string(),
                after: "another ETag".into(),
            }
        }
        other => {
            let text = first_line(&error_chain(&other));
            // No key in the environment: the crate then asks the cloud VM's metadata
            // endpoint, which off a cloud VM fails.
            if text.contains("169.254.169.254") || text.contains("metadata") {
                return SourceError::Io {
                    what: url.to_string(),
                    reason: format!(
                        "no credentials found — {}; for a public object use its https:// URL",
                        credential_hint(url)
                    ),
                };
            }
            // S3-compatible servers answer a wrong key with 403 InvalidAccessKeyId or
            // SignatureDoesNotMatch, which the crate may report generically.
            if [
                "403",
                "Forbidden",
                "InvalidAccessKeyId",
                "SignatureDoesNotMatch",
                "AccessDenied",
            ]
            .iter()
            .any(|s| text.contains(s))
            {
                format!("{} ({text})", access_denied(url))
            } else {
                return SourceError::Network {
                    url: url.to_string(),
                    reason: text,
                };
            }
        }
    };
    SourceError::Io {
        what: url.to_string(),
        reason,
    }
}

fn access_denied(url: &str) -> String {
    format!(
        "access denied — {} and that they may read this object",
        credential_hint(url)
    )
}

/// Where the credentials for `url`'s store come from.
fn credential_hint(url: &str) -> &'static str {
    match url.split_once("://").map(|(s, _)| s) {
        Some("gs") => "check GOOGLE_SERVICE_ACCOUNT / GOOGLE_APPLICATION_CREDENTIALS",
        Some("az") => {
            "check AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or a SAS token)"
        }
        _ => "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)",
    }
}

/// The error and its sources on one line (`object_store` nests the HTTP status inside).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

/// The store and key prefix `url` names, with credentials from the environment and
/// `options` over them.
pub fn bucket<I, K, V>(url: &str, options: I) -> Result<Bucket, SourceError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let bad = |reason: String| SourceError::Io {
        what: url.to_string(),
        reason,
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(format!("not a valid URL: {e}")))?;
    let (scheme, prefix) = ObjectStoreScheme::parse(&parsed)
        .map_err(|e| bad(format!("not an object store URL: {e}")))?;
    let Some(host) = parsed.host_str() else {
        return Err(bad("no bucket in the URL — write s3://bucket/key".into()));
    };
    let root = format!("{}://{host}", parsed.scheme());
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
    };
    let built = |e: object_store::Error| bad(format!("cannot set up the client: {e}"));
    let store: Arc<dyn ObjectStore> = match scheme {
        ObjectStoreScheme::AmazonS3 => {
            use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
            let mut b = AmazonS3Builder::from_env().with_url(url).with_retry(retry);
            for (k, v) in options {
                b = b.with_config(config_key::<AmazonS3ConfigKey>(k.as_ref()).map_err(bad)?, v);
            }
            Arc::new(b.build().map_err(built)?)
        }
        ObjectStoreScheme::GoogleCloudStorage => {
            use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
            let mut b = GoogleCloudStorageBuilder::from_env()
                .with_url(url)
                .with_retry(retry);
            for (k, v) in options {
                b = b.with_config(config_key::<GoogleConfigKey>(k.as_ref()).map_err(bad)?, v);
            }
            Arc::new(b.build().map_err(built)?)
        }
        ObjectStoreScheme::MicrosoftAzure => {
            use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
            let mut b = MicrosoftAzureBuilder::from_env()
                .with_url(url)
                .with_retry(retry);
            for (k, v) in options {
                b = b.with_config(config_key::<AzureConfigKey>(k.as_ref()).map_err(bad)?, v);
            }
            Arc::new(b.build().map_err(built)?)
        }
        _ => {
            return Err(bad(
                "not an object store URL — use s3://, gs:// or az://".into()
            ))
        }
    };
    Ok(Bucket {
        root,
        store,
        prefix,
    })
}

#[async_trait(?Send)]
impl RangeSource for ObjectStoreSource {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        read_each(ranges, self.max_in_flight, |r| self.read_one(r)).await
    }

    async fn len(&self) -> Result<u64, SourceError> {
        match self.known().len {
            Some(len) => Ok(len),
            None => self.head().await,
        }
    }

    /// The head and a suffix GET for the tail, together: one round. A tail that does not
    /// end where the head's length says is left out.
    async fn read_ends(&self, head: u64, tail: u64) -> Result<Ends, SourceError> {
        if tail == 0 || self.known().len.is_some() {
            let (head, len) = self.read_head(head).await?;
            return Ok(Ends {
                head,
                tail: Bytes::new(),
                len,
            });
        }
        let (first, last) = futures::join!(self.read_head(head), self.get(GetRange::Suffix(tail)));
        let (head, len) = first?;
        let tail = match last {
            Ok((bytes, got, size))
                if size == len && got.end == len && bytes.len() as u64 == got.end - got.start =>
            {
                bytes
            }
            _ => Bytes::new(),
        };
        Ok(Ends { head, tail, len })
    }

    /// One ranged GET gives the head and, from its `Content-Range`, the length: opening costs
    /// one request, as over HTTP.
    async fn read_head(&self, max: u64) -> Result<(Bytes, u64), SourceError> {
        if max == 0 {
            return Ok((Bytes::new(), self.len().await?));
        }
        match self.get(GetRange::Bounded(0..max)).await {
            Ok((bytes, got, size)) => {
                if got.start != 0 || bytes.len() as u64 != got.end.min(size) {
                    return Err(SourceError::BadResponse {
                        url: self.url.clone(),
                        reason: format!(
                            "asked for the first {max} bytes, got {} bytes of {}..{}",
                            bytes.len(),
                            got.start,
                            got.end
                        ),
                    });
                }
                Ok((bytes, size))
            }
            // An empty object has no byte 0 to range over; its length says what it is.
            Err(e) => match self.head().await {
                Ok(0) => Ok((Bytes::new(), 0)),
                _ => Err(e),
            },
        }
    }

    fn validator(&self) -> Option<String> {
        self.known().etag
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

/// A builder option's name as the store's config key (case-insensitive), or why not.
fn config_key<K>(name: &str) -> Result<K, String>
where
    K: std::str::FromStr,
    K::Err: std::fmt::Display,
{
    name.to_ascii_lowercase()
        .parse()
        .map_err(|e| format!("option {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_without_a_key_or_bucket_are_refused() {
        let e = ObjectStoreSource::new("s3://bucket")
            .unwrap_err()
            .to_string();
        assert!(e.contains("names a bucket, not an object"), "{e}");
        let e = ObjectStoreSource::new("s3://bucket/")
            .unwrap_err()
            .to_string();
        assert!(e.contains("names a bucket, not an object"), "{e}");
        let e = ObjectStoreSource::new("ftp://h/k").unwrap_err().to_string();
        assert!(e.contains("not an object store URL"), "{e}");
    }

    #[test]
    fn keys_keep_their_path() {
        let b = bucket(
            "s3://bkt/dsec/train/",
            std::iter::empty::<(String, String)>(),
        )
        .expect("bucket");
        assert_eq!(b.root, "s3://bkt");
        assert_eq!(b.prefix.as_ref(), "dsec/train");
    }
}
