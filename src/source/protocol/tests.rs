//! The range protocol's decisions, header case by header case, with no server at all.

use std::time::Duration;

use super::*;

const URL: &str = "http://h/f.h5";

fn proto() -> RangeProtocol {
    RangeProtocol::new(URL, None)
}

fn r(a: u64, b: u64) -> ByteRange {
    ByteRange::new(a, b)
}

/// A head of `status` with `headers` (name, value).
fn head(status: u16, headers: &[(&str, &str)]) -> Head {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Head::read(status, move |name| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    })
}

/// A correct 206 for `range` of a `total`-byte file with `etag`.
fn partial(range: ByteRange, total: u64, etag: Option<&str>) -> Head {
    let cr = format!("bytes {}-{}/{total}", range.start, range.end - 1);
    let cl = range.len().to_string();
    let mut h = vec![
        ("Content-Range", cr.as_str()),
        ("Content-Length", cl.as_str()),
    ];
    if let Some(e) = etag {
        h.push(("ETag", e));
    }
    head(206, &h)
}

/// The outcome's kind: "ok", "retry" or "fail", and the error text (if any).
fn kind<T: std::fmt::Debug>(a: &Attempt<T>) -> (&'static str, String) {
    match a {
        Attempt::Done(Ok(_)) => ("ok", String::new()),
        Attempt::Done(Err(e)) => ("fail", e.to_string()),
        Attempt::Retry { error, .. } => ("retry", error.to_string()),
    }
}

fn error_of<T>(a: Attempt<T>) -> SourceError {
    match a {
        Attempt::Done(Err(e)) | Attempt::Retry { error: e, .. } => e,
        Attempt::Done(Ok(_)) => panic!("accepted"),
    }
}

#[test]
fn a_correct_206_is_accepted_and_remembered() {
    let p = proto();
    let got = p.on_head(r(10, 20), &partial(r(10, 20), 100, Some("\"v1\"")), None);
    assert!(matches!(
        got,
        Attempt::Done(Ok(Expect::Range {
            want: 10,
            total: Some(100)
        }))
    ));
    assert_eq!(p.known_len(), Some(100));
    assert_eq!(p.validator().as_deref(), Some("\"v1\""));
    let body = BytesMut::from(&[7u8; 10][..]);
    let expect = Expect::Range {
        want: 10,
        total: Some(100),
    };
    match p.finish(r(10, 20), expect, body) {
        Attempt::Done(Ok((bytes, total))) => {
            assert_eq!(&bytes[..], &[7u8; 10]);
            assert_eq!(total, Some(100));
        }
        other => panic!("{:?}", kind(&other)),
    }
}

#[test]
fn content_range_problems() {
    let range = r(100, 150);
    for (headers, want_kind, needle) in [
        (vec![], "fail", "without a readable Content-Range"),
        (
            vec![("Content-Range", "bytes 100-149")],
            "fail",
            "unreadable Content-Range",
        ),
        (
            vec![("Content-Range", "bytes 149-100/1000")],
            "fail",
            "unreadable Content-Range",
        ),
        (
            vec![("Content-Range", "octets 100-149/1000")],
            "fail",
            "unreadable Content-Range",
        ),
        // Other bytes than asked: a confused proxy may do that once.
        (
            vec![("Content-Range", "bytes 101-150/1000")],
            "retry",
            "other bytes than asked",
        ),
        (
            vec![("Content-Range", "bytes 100-148/1000")],
            "retry",
            "other bytes than asked",
        ),
        // A range clamped at the end of a shorter file: past the end.
        (
            vec![("Content-Range", "bytes 100-119/120")],
            "fail",
            "lies past the end of the file (120 bytes)",
        ),
        (
            vec![("Content-Range", "bytes */1000")],
            "fail",
            "names no byte span",
        ),
        (
            vec![
                ("Content-Range", "bytes 100-149/1000"),
                ("Content-Length", "25"),
            ],
            "retry",
            "Content-Length 25",
        ),
    ] {
        let got = proto().on_head(range, &head(206, &headers), None);
        let (k, text) = kind(&got);
        assert_eq!(k, want_kind, "{headers:?}: {text}");
        assert!(text.contains(needle), "{headers:?}: {text}");
        assert!(!text.contains('\n'));
    }
    // `bytes a-b/*`: accepted, the length stays unknown.
    let p = proto();
    let got = p.on_head(
        range,
        &head(206, &[("Content-Range", "bytes 100-149/*")]),
        None,
    );
    assert_eq!(kind(&got).0, "ok");
    assert_eq!(p.known_len(), None);
}

#[test]
fn a_browser_hint_is_added_where_headers_may_be_hidden() {
    let p = RangeProtocol::new(URL, Some("expose Content-Range (CORS)"));
    let text = error_of(p.on_head(r(0, 1), &head(206, &[]), None)).to_string();
    assert!(text.contains("expose Content-Range (CORS)"), "{text}");
    let text = error_of(p.on_head(r(0, 1), &head(0, &[]), None)).to_string();
    assert!(text.contains("opaque") && text.contains("CORS"), "{text}");
    // Without a hint (natively), the message stands alone.
    let text = error_of(proto().on_head(r(0, 1), &head(206, &[]), None)).to_string();
    assert!(!text.contains(" — "), "{text}");
}

#[test]
fn statuses() {
    for (status, want_kind, needle) in [
        (500, "retry", "HTTP 500"),
        (502, "retry", "HTTP 502"),
        (503, "retry", "HTTP 503"),
        (408, "retry", "HTTP 408"),
        (429, "retry", "HTTP 429"),
        (404, "fail", "HTTP 404"),
        (403, "fail", "HTTP 403"),
        (304, "fail", "unexpected HTTP status 304"),
        (204, "fail", "unexpected HTTP status 204"),
    ] {
        let got = proto().on_head(r(0, 10), &head(status, &[]), None);
        let (k, text) = kind(&got);
        assert_eq!(k, want_kind, "{status}: {text}");
        assert!(text.contains(needle), "{status}: {text}");
    }
}

#[test]
fn retry_after_only_on_429_and_503() {
    let now = Some(784_111_770);
    for (status, value, want) in [
        (429, "2", Some(Duration::from_secs(2))),
        (
            503,
            "Sun, 06 Nov 1994 08:49:37 GMT",
            Some(Duration::from_secs(7)),
        ),
        (503, "later", None),
        (500, "2", None),
        (502, "2", None),
    ] {
        let got = proto().on_head(r(0, 10), &head(status, &[("Retry-After", value)]), now);
        assert_eq!(asked_pause(&got), want, "{status} {value}");
        assert_eq!(kind(&got).0, "retry");
    }
}

#[test]
fn unsatisfiable_ranges() {
    // Past the end: out of bounds, and the length is learnt.
    let p = proto();
    let got = p.on_head(
        r(5000, 5001),
        &head(416, &[("Content-Range", "bytes */1000")]),
        None,
    );
    assert!(matches!(
        error_of(got),
        SourceError::OutOfBounds { len: 1000, .. }
    ));
    assert_eq!(p.known_len(), Some(1000));
    // Inside the file: the server mishandles Range.
    let got = proto().on_head(
        r(0, 10),
        &head(416, &[("Content-Range", "bytes */1000")]),
        None,
    );
    let text = error_of(got).to_string();
    assert!(text.contains("mishandles Range"), "{text}");
    // No length given.
    let got = proto().on_head(r(0, 10), &head(416, &[]), None);
    let text = error_of(got).to_string();
    assert!(text.contains("without saying the file's length"), "{text}");
}

#[test]
fn a_file_that_got_shorter_is_changed_not_truncated() {
    let p = proto();
    assert_eq!(
        kind(&p.on_head(r(0, 10), &partial(r(0, 10), 1000, None), None)).0,
        "ok"
    );
    // The file was replaced by a shorter one: the next range past its new end gets a 416.
    let got = p.on_head(
        r(800, 900),
        &head(416, &[("Content-Range", "bytes */500")]),
        None,
    );
    let err = error_of(got);
    assert!(matches!(err, SourceError::Changed { .. }), "{err:?}");
    assert!(err.to_string().contains("reopen it"));
    assert!(err.to_string().contains("1000 bytes long"), "{err}");
    // A range inside both versions: the total in Content-Range tells.
    let got = p.on_head(r(0, 10), &partial(r(0, 10), 500, None), None);
    assert!(matches!(error_of(got), SourceError::Changed { .. }));
    // A longer one too.
    let got = p.on_head(r(0, 10), &partial(r(0, 10), 2000, None), None);
    assert!(matches!(error_of(got), SourceError::Changed { .. }));
}

#[test]
fn content_encoding_is_refused() {
    for (value, refused) in [
        ("gzip", Some("gzip")),
        ("br", Some("br")),
        ("identity", None),
        ("identity, gzip", Some("gzip")),
        ("", None),
    ] {
        let mut h = partial(r(0, 10), 100, None);
        h.content_encoding = Some(value.to_string());
        let got = proto().on_head(r(0, 10), &h, None);
        match refused {
            Some(enc) => assert_eq!(
                error_of(got),
                SourceError::ContentEncoded {
                    url: URL.into(),
                    encoding: enc.into()
                }
            ),
            None => assert_eq!(kind(&got).0, "ok", "{value}"),
        }
    }
}

#[test]
fn validators() {
    // ETag changes: changed, naming both.
    let p = proto();
    p.on_head(r(0, 10), &partial(r(0, 10), 100, Some("\"a\"")), None);
    let got = p.on_head(r(0, 10), &partial(r(0, 10), 100, Some("\"b\"")), None);
    assert_eq!(
        error_of(got),
        SourceError::Changed {
            what: URL.into(),
            before: "\"a\"".into(),
            after: "\"b\"".into()
        }
    );
    // Weak ETags compare as they are: the same weak tag is the same file.
    let p = proto();
    for _ in 0..2 {
        let got = p.on_head(r(0, 10), &partial(r(0, 10), 100, Some("W/\"w\"")), None);
        assert_eq!(kind(&got).0, "ok");
    }
    let got = p.on_head(r(0, 10), &partial(r(0, 10), 100, Some("W/\"x\"")), None);
    assert!(matches!(error_of(got), SourceError::Changed { .. }));
    // Last-Modified alone is the validator.
    let p = proto();
    let lm = |date: &str| {
        let mut h = partial(r(0, 10), 100, None);
        h.last_modified = Some(date.to_string());
        h
    };
    assert_eq!(
        kind(&p.on_head(r(0, 10), &lm("Sun, 06 Nov 1994 08:49:37 GMT"), None)).0,
        "ok"
    );
    let got = p.on_head(r(0, 10), &lm("Mon, 07 Nov 1994 08:49:37 GMT"), None);
    assert!(matches!(error_of(got), SourceError::Changed { .. }));
    // A response without a validator after one with: nothing to compare, accepted.
    let p = proto();
    p.on_head(r(0, 10), &partial(r(0, 10), 100, Some("\"a\"")), None);
    assert_eq!(
        kind(&p.on_head(r(0, 10), &partial(r(0, 10), 100, None), None)).0,
        "ok"
    );
    assert_eq!(p.validator().as_deref(), Some("\"a\""));
}

#[test]
fn a_200_to_a_range() {
    // No whole-file limit: the server ignores Range.
    let got = proto().on_head(r(0, 10), &head(200, &[("Content-Length", "100")]), None);
    assert!(matches!(error_of(got), SourceError::RangeIgnored { .. }));
    // Within the limit: read the whole file.
    let mut p = proto();
    p.set_whole_file_limit(1000);
    let got = p.on_head(r(10, 20), &head(200, &[("Content-Length", "100")]), None);
    let Attempt::Done(Ok(expect)) = got else {
        panic!("refused")
    };
    assert_eq!(expect.cap(), 1000);
    let whole: Vec<u8> = (0..100u8).collect();
    match p.finish(r(10, 20), expect, BytesMut::from(&whole[..])) {
        Attempt::Done(Ok((bytes, total))) => {
            assert_eq!(&bytes[..], &whole[10..20]);
            assert_eq!(total, Some(100));
        }
        other => panic!("{:?}", kind(&other)),
    }
    // Later ranges come from memory; past the end is refused without a request.
    assert_eq!(
        p.before(r(50, 60)),
        Before::Ready(Bytes::from(whole[50..60].to_vec()))
    );
    assert!(matches!(
        p.before(r(90, 101)),
        Before::Refused(SourceError::OutOfBounds { .. })
    ));
    assert_eq!(p.before(r(5, 5)), Before::Ready(Bytes::new()));
    // Promised over the limit: refused before reading.
    let mut p = proto();
    p.set_whole_file_limit(50);
    let got = p.on_head(r(0, 10), &head(200, &[("Content-Length", "100")]), None);
    let text = error_of(got).to_string();
    assert!(text.contains("over the 50-byte limit"), "{text}");
    // A body that runs past the limit without a Content-Length.
    let got = p.on_head(r(0, 10), &head(200, &[]), None);
    let Attempt::Done(Ok(expect)) = got else {
        panic!("refused")
    };
    let over: Attempt<()> = p.overlong(r(0, 10), &expect, 51);
    assert!(matches!(
        error_of(over),
        SourceError::RangeIgnoredTooLarge { len: 51, .. }
    ));
    // A body shorter than its Content-Length: retried.
    let got = p.on_head(r(0, 10), &head(200, &[("Content-Length", "40")]), None);
    let Attempt::Done(Ok(expect)) = got else {
        panic!("refused")
    };
    assert_eq!(
        kind(&p.finish(r(0, 10), expect, BytesMut::from(&[0u8; 30][..]))).0,
        "retry"
    );
}

#[test]
fn a_200_after_206s_with_another_validator_is_changed() {
    let mut p = proto();
    p.set_whole_file_limit(1000);
    p.on_head(r(0, 10), &partial(r(0, 10), 100, Some("\"a\"")), None);
    let got = p.on_head(r(0, 10), &head(200, &[("ETag", "\"b\"")]), None);
    assert!(matches!(error_of(got), SourceError::Changed { .. }));
}

#[test]
fn bodies_of_the_wrong_length_are_retried() {
    let p = proto();
    let expect = Expect::Range {
        want: 10,
        total: None,
    };
    let got = p.finish(r(0, 10), expect.clone(), BytesMut::from(&[0u8; 9][..]));
    let (k, text) = kind(&got);
    assert_eq!(k, "retry");
    assert!(text.contains("the body has 9 bytes"), "{text}");
    let over: Attempt<()> = p.overlong(r(0, 10), &expect, 11);
    let (k, text) = kind(&over);
    assert_eq!(k, "retry");
    assert!(text.contains("the body is longer"), "{text}");
}

#[test]
fn without_a_validator_the_probe_catches_a_same_length_replacement() {
    let p = proto();
    assert_eq!(p.probe(), None, "nothing read yet");
    p.on_head(r(0, 100), &partial(r(0, 100), 1000, None), None);
    let first: Vec<u8> = (0..100u8).collect();
    p.remember_probe(
        &[r(0, 0), r(0, 100)],
        &[Bytes::new(), Bytes::from(first.clone())],
    );
    let (range, before) = p.probe().expect("a probe");
    assert_eq!(range, r(0, PROBE_LEN));
    assert_eq!(&before[..], &first[..PROBE_LEN as usize]);
    assert_eq!(p.check_probe(range, &before, &before), Ok(()));
    let mut other = before.to_vec();
    other[3] ^= 1;
    let err = p.check_probe(range, &before, &other).unwrap_err();
    assert!(matches!(err, SourceError::Changed { .. }), "{err:?}");
    assert!(
        err.to_string().contains("sends no ETag or Last-Modified"),
        "{err}"
    );
    // Short ranges are probed whole.
    p.remember_probe(&[r(500, 510)], &[Bytes::from(vec![1u8; 10])]);
    assert_eq!(p.probe().map(|(r, _)| r), Some(r(500, 510)));
    // With a validator there is no probe: the validator does the job.
    let p = proto();
    p.on_head(r(0, 100), &partial(r(0, 100), 1000, Some("\"a\"")), None);
    p.remember_probe(&[r(0, 100)], &[Bytes::from(first)]);
    assert_eq!(p.probe(), None);
}
