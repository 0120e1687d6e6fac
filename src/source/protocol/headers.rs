//! What the headers of a range response say, parsed without any I/O: `Content-Range` (both
//! the `bytes a-b/total` form of a `206` and the `bytes */total` form of a `416`), the
//! validator (`ETag`, else `Last-Modified`), `Content-Encoding` and `Retry-After`. Each
//! transport hands over a [`Head`] built from its own header map; nothing here knows whether
//! it came from reqwest or from a browser `Response`.

use std::time::Duration;

/// The status and the headers of one response that the range protocol looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub content_range: Option<String>,
    pub content_length: Option<u64>,
    /// Every `Content-Encoding` value, comma-joined.
    pub content_encoding: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub retry_after: Option<String>,
}

impl Head {
    /// Reads the headers through `header(name)` (which returns a header's value, several
    /// values comma-joined, or `None`).
    pub fn read(status: u16, header: impl Fn(&str) -> Option<String>) -> Head {
        let text = |name: &str| header(name).map(|v| v.trim().to_string());
        Head {
            status,
            content_range: text("Content-Range"),
            content_length: text("Content-Length").and_then(|v| v.parse().ok()),
            content_encoding: text("Content-Encoding"),
            etag: text("ETag"),
            last_modified: text("Last-Modified"),
            retry_after: text("Retry-After"),
        }
    }

    /// The token that changes when the file changes: the ETag if present, else Last-Modified.
    /// A weak ETag (`W/"…"`) counts as it is: the same file keeps the same weak tag.
    pub fn validator(&self) -> Option<String> {
        [&self.etag, &self.last_modified]
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty())
            .cloned()
    }

    /// The encodings the body is wrapped in (`identity` is none), comma-joined, if any.
    pub fn encodings(&self) -> Option<String> {
        let value = self.content_encoding.as_deref()?;
        let list: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("identity"))
            .collect();
        (!list.is_empty()).then(|| list.join(", "))
    }
}

/// A parsed `Content-Range: bytes FIRST-LAST/TOTAL` (`LAST` inclusive; `TOTAL` may be `*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// First and last byte (inclusive) of the body, absent for the `bytes */TOTAL` form of 416.
    pub span: Option<(u64, u64)>,
    /// Length of the whole file, if the server said.
    pub total: Option<u64>,
}

/// Parses a `Content-Range` header value; `None` when it is not a single, consistent `bytes`
/// range (`LAST < FIRST`, `LAST ≥ TOTAL`, signs, spaces inside numbers, `bytes */*`).
pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    let value = value.trim();
    let (unit, rest) = value.split_once(|c: char| c.is_ascii_whitespace())?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (span, total) = rest.trim().split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(number(t)?),
    };
    let span = match span.trim() {
        "*" => None,
        s => {
            let (first, last) = s.split_once('-')?;
            let (first, last) = (number(first)?, number(last)?);
            if last < first || total.is_some_and(|t| last >= t) {
                return None;
            }
            Some((first, last))
        }
    };
    if span.is_none() && total.is_none() {
        return None;
    }
    Some(ContentRange { span, total })
}

/// A decimal number of digits only (no sign, no inner spaces).
fn number(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The `Range` request header value for the last `n` bytes (`n > 0`), whatever the length.
pub fn suffix_header(n: u64) -> String {
    format!("bytes=-{n}")
}

/// The byte span `[first, total)` a `206` answer to `bytes=-n` covers, when its
/// `Content-Range` is exactly the file's last `min(n, total)` bytes; `None` otherwise.
pub fn suffix_span(content_range: &str, n: u64) -> Option<(u64, u64)> {
    let cr = parse_content_range(content_range)?;
    let (first, last) = cr.span?;
    let total = cr.total?;
    (last.checked_add(1) == Some(total) && total - first == n.min(total)).then_some((first, total))
}

/// The `Range` request header value for `[start, end)` (`end > start`).
pub fn range_header(start: u64, end: u64) -> String {
    format!("bytes={start}-{}", end.saturating_sub(1))
}

/// How long `Retry-After` asks to wait: delay-seconds, or an HTTP-date (IMF-fixdate, the form
/// RFC 9110 requires senders to use) compared with `now` (seconds since the Unix epoch).
/// `None` when absent, unreadable, or a date while the clock is unknown.
pub fn retry_after(value: &str, now: Option<u64>) -> Option<Duration> {
    let value = value.trim();
    if let Some(secs) = number(value) {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(Duration::from_secs(at.saturating_sub(now?)))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → seconds since the Unix epoch.
pub fn parse_http_date(text: &str) -> Option<u64> {
    let (_weekday, rest) = text.trim().split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if *zone != "GMT" || day.len() != 2 || year.len() != 4 {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let (day, year) = (number(day)?, number(year)?);
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| if p.len() == 2 { number(p) } else { None })
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (year ≥ 1970), by the usual
/// era-of-400-years count (March-based years, so the leap day ends a year).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cr(first: u64, last: u64, total: Option<u64>) -> Option<ContentRange> {
        Some(ContentRange {
            span: Some((first, last)),
            total,
        })
    }

    #[test]
    fn suffix_answers_must_be_the_last_bytes() {
        assert_eq!(suffix_header(4096), "bytes=-4096");
        assert_eq!(suffix_span("bytes 90-99/100", 10), Some((90, 100)));
        // A file shorter than the suffix: all of it.
        assert_eq!(suffix_span("bytes 0-99/100", 4096), Some((0, 100)));
        // Not the end, not the length asked, no total: not a suffix answer.
        assert_eq!(suffix_span("bytes 80-89/100", 10), None);
        assert_eq!(suffix_span("bytes 91-99/100", 10), None);
        assert_eq!(suffix_span("bytes 90-99/*", 10), None);
        assert_eq!(suffix_span("bytes */100", 10), None);
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(parse_content_range("bytes 0-9/100"), cr(0, 9, Some(100)));
        assert_eq!(parse_content_range(" Bytes 10-19/* "), cr(10, 19, None));
        assert_eq!(
            parse_content_range("bytes 5000000000-5000000009/6000000000"),
            cr(5_000_000_000, 5_000_000_009, Some(6_000_000_000))
        );
        assert_eq!(
            parse_content_range("bytes */42"),
            Some(ContentRange {
                span: None,
                total: Some(42)
            })
        );
        for bad in [
            "",
            "bytes",
            "bytes 9-0/100",
            "bytes 0-100/100",
            "items 0-9/100",
            "bytes */*",
            "bytes 0-9",
            "bytes -1-9/100",
            "bytes +0-9/100",
            "bytes 0 -9/1 00",
            "bytes a-b/c",
            "bytes 0-99999999999999999999999/*",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn validators_encodings_and_lengths() {
        let head = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Head::read(206, move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            })
        };
        let h = head(&[
            ("ETag", "\"a\""),
            ("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ]);
        assert_eq!(h.validator().as_deref(), Some("\"a\""));
        let h = head(&[("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT")]);
        assert_eq!(
            h.validator().as_deref(),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
        assert_eq!(
            head(&[("ETag", "W/\"w1\"")]).validator().as_deref(),
            Some("W/\"w1\"")
        );
        assert_eq!(head(&[("ETag", "  ")]).validator(), None);
        assert_eq!(head(&[]).validator(), None);
        assert_eq!(head(&[("Content-Encoding", "identity")]).encodings(), None);
        assert_eq!(
            head(&[("Content-Encoding", "identity, gzip,br")])
                .encodings()
                .as_deref(),
            Some("gzip, br")
        );
        assert_eq!(head(&[("Content-Length", " 42 ")]).content_length, Some(42));
        assert_eq!(head(&[("Content-Length", "4x")]).content_length, None);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after("1", None), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(" 120 ", None), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("-1", Some(0)), None);
        assert_eq!(retry_after("soon", Some(0)), None);
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example).
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(parse_http_date(date), Some(784_111_777));
        assert_eq!(
            retry_after(date, Some(784_111_770)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_after(date, Some(784_111_999)), Some(Duration::ZERO));
        assert_eq!(retry_after(date, None), None);
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 23:59:59 GMT"),
            Some(951_868_799)
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"), None);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
    }

    #[test]
    fn range_headers_are_inclusive() {
        assert_eq!(range_header(0, 1), "bytes=0-0");
        assert_eq!(range_header(100, 150), "bytes=100-149");
    }
}
