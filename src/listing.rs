//! Listings of recordings the page opens with `index.html?list=<URL>`: what a URL that names
//! many recordings answers, read into `(url, name)` entries the page can open one by one.
//!
//! Three forms are read, told apart by their text (servers label them inconsistently):
//! - a JSON manifest `[{"url": "a/events.h5", "name": "a"}]` (`strobe info DIR --manifest`,
//!   and `strobe serve --data DIR` at `/data/`); `name` is optional;
//! - an S3 `ListObjectsV2` XML answer of a public bucket (`<ListBucketResult>…<Key>`): each
//!   `.h5`/`.hdf5`/`.hdf` key becomes the bucket URL the listing came from plus the key;
//! - an nginx `autoindex_format json` listing (`[{"name": …, "type": "file"}]`): files with a
//!   recording extension, named relative to the listing's URL.
//!
//! Relative URLs resolve against the listing's URL. Only `http:`/`https:` entries are kept:
//! others (`file:`, `javascript:`, `data:`, `ftp:` …) are skipped and counted, never opened.
//! Listings are untrusted input, so their size and entry count are capped and anything else
//! is refused with one line saying what was expected.

use serde::Serialize;
use serde_json::Value;

/// Most bytes of listing text read; more is refused (a manifest of 10,000 recordings is
/// about 1 MiB).
pub const MAX_LISTING_BYTES: usize = 4 << 20;
/// Most entries (kept or skipped) a listing may hold.
pub const MAX_LISTING_ENTRIES: usize = 10_000;
/// Extensions an S3 key or autoindex file needs to be listed as a recording.
pub const RECORDING_EXTENSIONS: [&str; 3] = ["h5", "hdf5", "hdf"];

/// What the page expects, said when a listing is something else.
const EXPECTED: &str = "expected a JSON manifest [{\"url\": …, \"name\": …}], an S3 \
    ListObjectsV2 answer (<ListBucketResult>) or an nginx autoindex_format json listing";

/// Which of the three forms a listing was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingForm {
    Manifest,
    S3,
    Autoindex,
}

/// One recording of a listing: an absolute `http(s)` URL and the name to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListingEntry {
    pub url: String,
    pub name: String,
}

/// A parsed listing: the recordings to open, and what was left out and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    pub form: ListingForm,
    pub entries: Vec<ListingEntry>,
    /// Entries with another scheme than http(s), or that are no URL at all: never opened.
    pub skipped_schemes: usize,
    /// Directories and files without a recording extension (S3 keys, autoindex files).
    pub skipped_other: usize,
    /// An S3 answer that says `<IsTruncated>true`: more keys exist than this page of them.
    pub truncated: bool,
}

/// Why a listing could not be read. Each message is one line saying what to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListingError {
    #[error("the listing at {base} is {bytes} bytes; at most {max} are read — split it into smaller listings", max = MAX_LISTING_BYTES)]
    TooLarge { base: String, bytes: usize },
    #[error("the listing at {base} has more than {max} entries — split it into smaller listings", max = MAX_LISTING_ENTRIES)]
    TooMany { base: String },
    #[error("the listing's own URL {base} is not an absolute http(s) URL")]
    BadBase { base: String },
    #[error("{base} is not a listing of recordings: {EXPECTED}; {found}")]
    NotAListing { base: String, found: String },
}

/// Reads the listing `text` fetched from `base` (its URL, against which relative entries
/// resolve).
pub fn parse(text: &str, base: &str) -> Result<Listing, ListingError> {
    let base_url = resolve(base, "").ok_or_else(|| ListingError::BadBase {
        base: base.to_string(),
    })?;
    if text.len() > MAX_LISTING_BYTES {
        return Err(ListingError::TooLarge {
            base: base.to_string(),
            bytes: text.len(),
        });
    }
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let not_a_listing = |found: String| ListingError::NotAListing {
        base: base.to_string(),
        found,
    };
    if body.starts_with('[') {
        let value: Value = serde_json::from_str(body)
            .map_err(|e| not_a_listing(format!("its JSON does not parse: {e}")))?;
        let Value::Array(items) = value else {
            return Err(not_a_listing("its JSON is not an array".into()));
        };
        if items.len() > MAX_LISTING_ENTRIES {
            return Err(ListingError::TooMany {
                base: base.to_string(),
            });
        }
        return json_listing(&items, &base_url).map_err(not_a_listing);
    }
    if body.starts_with('<') && body.contains("<ListBucketResult") {
        return s3_listing(body, &base_url, base);
    }
    let start: String = body.chars().take(40).collect();
    Err(not_a_listing(match start.is_empty() {
        true => "it is empty".to_string(),
        false => format!("it starts with {start:?}"),
    }))
}

/// A manifest (entries with `url`) or an nginx autoindex (entries with `name` and `type`).
fn json_listing(items: &[Value], base: &str) -> Result<Listing, String> {
    let manifest = items.iter().any(|v| v.get("url").is_some());
    let mut out = Listing {
        form: match manifest {
            true => ListingForm::Manifest,
            false => ListingForm::Autoindex,
        },
        entries: Vec::new(),
        skipped_schemes: 0,
        skipped_other: 0,
        truncated: false,
    };
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            return Err(format!("entry {i} is not an object"));
        };
        let name = obj.get("name").and_then(Value::as_str);
        if manifest {
            let Some(url) = obj.get("url").and_then(Value::as_str) else {
                return Err(format!("manifest entry {i} has no \"url\" string"));
            };
            match resolve(base, url) {
                Some(u) => out.entries.push(ListingEntry {
                    name: name.map(str::to_string).unwrap_or_else(|| last_segment(&u)),
                    url: u,
                }),
                None => out.skipped_schemes += 1,
            }
            continue;
        }
        let (Some(name), Some(kind)) = (name, obj.get("type").and_then(Value::as_str)) else {
            return Err(format!(
                "entry {i} has neither \"url\" (manifest) nor \"name\" and \"type\" (autoindex)"
            ));
        };
        if kind != "file" || !has_recording_extension(name) {
            out.skipped_other += 1;
            continue;
        }
        // Names are file names, not URLs: encode what a URL would read otherwise.
        match resolve(base, &encode_path(name)) {
            Some(url) => out.entries.push(ListingEntry {
                url,
                name: name.to_string(),
            }),
            None => out.skipped_schemes += 1,
        }
    }
    Ok(out)
}

/// An S3 `ListObjectsV2` answer: keys relative to the bucket URL (the listing URL without its
/// query).
fn s3_listing(xml: &str, base: &str, base_text: &str) -> Result<Listing, ListingError> {
    // `base` is absolute and normalised (its path starts with `/`): cut its query and
    // fragment, and make its path a directory.
    let mut bucket = base.split(['?', '#']).next().unwrap_or(base).to_string();
    if !bucket.ends_with('/') {
        bucket.push('/');
    }
    let mut out = Listing {
        form: ListingForm::S3,
        entries: Vec::new(),
        skipped_schemes: 0,
        skipped_other: 0,
        truncated: element_text(xml, "IsTruncated").is_some_and(|t| t.trim() == "true"),
    };
    let mut rest = xml;
    let mut seen = 0usize;
    while let Some((contents, after)) = next_element(rest, "Contents") {
        rest = after;
        seen += 1;
        if seen > MAX_LISTING_ENTRIES {
            return Err(ListingError::TooMany {
                base: base_text.to_string(),
            });
        }
        let Some(key) = element_text(contents, "Key").and_then(unescape_xml) else {
            out.skipped_other += 1;
            continue;
        };
        if !has_recording_extension(&key) {
            out.skipped_other += 1;
            continue;
        }
        match resolve(&bucket, &encode_path(&key)) {
            Some(url) => out.entries.push(ListingEntry { url, name: key }),
            None => out.skipped_other += 1,
        }
    }
    Ok(out)
}

/// The inside of the first `<tag>…</tag>` in `xml`, and the text after it.
fn next_element<'a>(xml: &'a str, tag: &str) -> Option<(&'a str, &'a str)> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml.get(start..)?.find(&close)?;
    let inner = xml.get(start..start + len)?;
    let after = xml.get(start + len + close.len()..)?;
    Some((inner, after))
}

fn element_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    next_element(xml, tag).map(|(inner, _)| inner)
}

/// XML text with its five named entities and numeric references replaced; `None` when a
/// reference is malformed.
fn unescape_xml(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp)?);
        let after = rest.get(amp + 1..)?;
        let semi = after.find(';')?;
        let name = after.get(..semi)?;
        let ch = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => name.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(ch);
        rest = after.get(semi + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// `reference` resolved against `base`, if it is an http(s) URL then.
fn resolve(base: &str, reference: &str) -> Option<String> {
    let url = href::join(base, reference.trim())?;
    (url.starts_with("http://") || url.starts_with("https://")).then_some(url)
}

/// URLs resolved as the WHATWG URL standard says (as a browser does): natively by the `url`
/// crate, in the page by the browser's own `URL` — the same standard, without a second copy
/// of its Unicode tables in the page's wasm (~340 KB).
mod href {
    /// `reference` against the absolute URL `base`, serialised (scheme and host lower case).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn join(base: &str, reference: &str) -> Option<String> {
        let url = url::Url::parse(base).ok()?.join(reference).ok()?;
        Some(url.into())
    }

    #[cfg(target_arch = "wasm32")]
    pub fn join(base: &str, reference: &str) -> Option<String> {
        web_sys::Url::new_with_base(reference, base)
            .ok()
            .map(|u| u.href())
    }
}

/// A relative path with each segment percent-encoded (`/` kept as the separator), so that
/// `#`, `?`, `%`, `:` and spaces in file names or keys stay part of the name.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        for b in segment.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    // ':' is encoded too, so a first segment never reads as a scheme.
    out
}

fn last_segment(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or(path)
        .to_string()
}

/// Whether `name` ends in `.h5`, `.hdf5` or `.hdf` (any case).
pub fn has_recording_extension(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| RECORDING_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://data.example.org/dsec/list.json";

    #[test]
    fn manifest_resolves_relative_urls_and_keeps_names() {
        let text = r#"[{"url": "train/a/events.h5", "name": "a"},
                       {"url": "/abs/b.h5"},
                       {"url": "https://other.example/c.hdf5", "name": "c"}]"#;
        let l = parse(text, BASE).unwrap();
        assert_eq!(l.form, ListingForm::Manifest);
        let urls: Vec<_> = l.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://data.example.org/dsec/train/a/events.h5",
                "https://data.example.org/abs/b.h5",
                "https://other.example/c.hdf5",
            ]
        );
        let names: Vec<_> = l.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "b.h5", "c"]);
        assert_eq!(l.skipped_schemes, 0);
    }

    #[test]
    fn other_schemes_are_skipped_and_counted() {
        let text = r#"[{"url": "javascript:alert(1)"}, {"url": "file:///etc/passwd"},
                       {"url": "data:text/plain,hi"}, {"url": "ftp://h/x.h5"},
                       {"url": " JavaScript:alert(2)"}, {"url": "ok.h5"}]"#;
        let l = parse(text, BASE).unwrap();
        assert_eq!(l.skipped_schemes, 5);
        assert_eq!(l.entries.len(), 1);
        assert_eq!(l.entries[0].url, "https://data.example.org/dsec/ok.h5");
    }

    #[test]
    fn s3_keys_become_bucket_urls() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>ev</Name>
<Prefix>dsec/</Prefix><KeyCount>4</KeyCount><IsTruncated>false</IsTruncated>
<Contents><Key>dsec/zurich_city_00_a/events.h5</Key><Size>10</Size></Contents>
<Contents><Key>dsec/readme.txt</Key></Contents>
<Contents><Key>dsec/a &amp; b#1.hdf5</Key></Contents>
<Contents><Key>javascript:x.h5</Key></Contents>
</ListBucketResult>"#;
        let l = parse(xml, "https://ev.s3.amazonaws.com/?list-type=2&prefix=dsec/").unwrap();
        assert_eq!(l.form, ListingForm::S3);
        let urls: Vec<_> = l.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://ev.s3.amazonaws.com/dsec/zurich_city_00_a/events.h5",
                "https://ev.s3.amazonaws.com/dsec/a%20&%20b%231.hdf5",
                "https://ev.s3.amazonaws.com/javascript%3Ax.h5",
            ]
        );
        assert_eq!(l.entries[1].name, "dsec/a & b#1.hdf5");
        assert_eq!(l.skipped_other, 1);
        assert!(!l.truncated);
        // Path-style: the bucket is the listing's path.
        let l = parse(xml, "http://127.0.0.1:9000/ev?list-type=2").unwrap();
        assert_eq!(
            l.entries[0].url,
            "http://127.0.0.1:9000/ev/dsec/zurich_city_00_a/events.h5"
        );
    }

    #[test]
    fn s3_truncated_answer_is_flagged() {
        let xml = "<ListBucketResult><IsTruncated>true</IsTruncated>\
                   <Contents><Key>a.h5</Key></Contents></ListBucketResult>";
        let l = parse(xml, "https://b.example/").unwrap();
        assert!(l.truncated);
        assert_eq!(l.entries.len(), 1);
    }

    #[test]
    fn autoindex_lists_recording_files_relative_to_the_listing() {
        let text = r#"[{"name":"sub","type":"directory","mtime":"x"},
            {"name":"a b.h5","type":"file","mtime":"x","size":1},
            {"name":"notes.txt","type":"file","size":1},
            {"name":"c:d.HDF","type":"file","size":1}]"#;
        let l = parse(text, "http://host/rec/").unwrap();
        assert_eq!(l.form, ListingForm::Autoindex);
        let urls: Vec<_> = l.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            ["http://host/rec/a%20b.h5", "http://host/rec/c%3Ad.HDF"]
        );
        assert_eq!(l.entries[0].name, "a b.h5");
        assert_eq!(l.skipped_other, 2);
    }

    #[test]
    fn huge_listings_are_refused() {
        let text = format!("[{}]", " ".repeat(MAX_LISTING_BYTES));
        let e = parse(&text, BASE).unwrap_err();
        assert!(matches!(e, ListingError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("split it"));
        let many = format!(
            "[{}]",
            vec![r#"{"url":"a.h5"}"#; MAX_LISTING_ENTRIES + 1].join(",")
        );
        let e = parse(&many, BASE).unwrap_err();
        assert!(matches!(e, ListingError::TooMany { .. }), "{e}");
        let many_keys = format!(
            "<ListBucketResult>{}</ListBucketResult>",
            "<Contents><Key>a.h5</Key></Contents>".repeat(MAX_LISTING_ENTRIES + 1)
        );
        let e = parse(&many_keys, BASE).unwrap_err();
        assert!(matches!(e, ListingError::TooMany { .. }), "{e}");
    }

    #[test]
    fn other_text_is_refused_with_what_was_expected() {
        for text in [
            "<!DOCTYPE html><html>Index of /</html>",
            "",
            "{\"url\": \"a.h5\"}",
            "[1, 2]",
            "[{\"url\": 3}]",
            "[{\"size\": 3}]",
            "[{\"url\": \"a.h5\"",
            "<Error><Code>AccessDenied</Code></Error>",
        ] {
            let e = parse(text, BASE).unwrap_err();
            let msg = e.to_string();
            assert!(
                matches!(e, ListingError::NotAListing { .. }),
                "{text}: {msg}"
            );
            assert!(msg.contains("expected a JSON manifest"), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn the_base_must_be_http() {
        let e = parse("[]", "file:///tmp/list.json").unwrap_err();
        assert!(matches!(e, ListingError::BadBase { .. }));
    }

    #[test]
    fn xml_entities_decode() {
        assert_eq!(
            unescape_xml("a&amp;b&#x41;&#66;&lt;").as_deref(),
            Some("a&bAB<")
        );
        assert_eq!(unescape_xml("a&bogus;"), None);
        assert_eq!(unescape_xml("a&amp"), None);
    }
}
