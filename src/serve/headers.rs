//! Header logic of the file server: `Range`, `If-Range`, validators, dates, CORS, types.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

/// What a `Range` header asks of a file of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAsk {
    /// No usable single range (absent, malformed, multi-range, other unit): send it all.
    Full,
    /// Inclusive `first..=last`, clamped to the file.
    Part { first: u64, last: u64 },
    /// Syntactically fine but outside the file: `416`.
    Unsatisfiable,
}

/// Interprets a `Range` header value for a file of `len` bytes. Only a single range is
/// honoured; anything else is ignored (answered in full), which RFC 9110 permits.
pub fn parse_range(value: &str, len: u64) -> RangeAsk {
    let value = value.trim();
    let Some((unit, specs)) = value.split_once('=') else {
        return RangeAsk::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || specs.contains(',') {
        return RangeAsk::Full;
    }
    let Some((a, b)) = specs.trim().split_once('-') else {
        return RangeAsk::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if a.is_empty() {
        // Suffix: the last n bytes.
        if !digits(b) {
            return RangeAsk::Full;
        }
        let Ok(n) = b.parse::<u64>() else {
            // More digits than u64: "all of it".
            return if len == 0 {
                RangeAsk::Unsatisfiable
            } else {
                RangeAsk::Part {
                    first: 0,
                    last: len - 1,
                }
            };
        };
        if n == 0 || len == 0 {
            return RangeAsk::Unsatisfiable;
        }
        return RangeAsk::Part {
            first: len - n.min(len),
            last: len - 1,
        };
    }
    if !digits(a) || !(b.is_empty() || digits(b)) {
        return RangeAsk::Full;
    }
    let Ok(first) = a.parse::<u64>() else {
        return RangeAsk::Unsatisfiable;
    };
    let last = if b.is_empty() {
        u64::MAX
    } else {
        b.parse::<u64>().unwrap_or(u64::MAX)
    };
    if last < first {
        return RangeAsk::Full;
    }
    if first >= len {
        return RangeAsk::Unsatisfiable;
    }
    RangeAsk::Part {
        first,
        last: last.min(len - 1),
    }
}

/// Whether an `If-Range` value still names the current file (strong ETag or exact date).
pub fn if_range_matches(value: &str, etag: &str, last_modified: &str) -> bool {
    let value = value.trim();
    if value.starts_with("W/") {
        return false; // weak tags never match for ranges
    }
    if value.starts_with('"') {
        return value == etag;
    }
    value == last_modified
}

/// A strong ETag from length and modification time.
pub fn etag(len: u64, mtime: SystemTime) -> String {
    let nanos = mtime
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("\"{len:x}-{nanos:x}\"")
}

/// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31), proleptic Gregorian.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Count from 0000-03-01 so leap days fall at the end of each 400/100/4-year cycle.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // day of era, 0..146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..365, from March 1
    let mp = (5 * doy + 2) / 153; // month from March, 0..11
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// The media type for a file name (the viewer needs `application/wasm` for streaming
/// compilation and a JavaScript type for modules).
pub fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        "h5" | "hdf5" | "he5" => "application/x-hdf5",
        _ => "application/octet-stream",
    }
}

/// CORS for every response: any origin may read, including the range headers. Also
/// `Cross-Origin-Resource-Policy: cross-origin`, so pages isolated with COEP (such as the
/// wasm-bindgen test runner's) may load these files.
pub fn add_cors(h: &mut HeaderMap) {
    h.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(
            "Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified, Content-Encoding, \
             Retry-After",
        ),
    );
}

/// The answer to a CORS preflight (`OPTIONS`): GET/HEAD with `Range` and `If-Range` allowed.
pub fn preflight() -> Response<Body> {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "Range, If-Range, If-None-Match, If-Modified-Since, Cache-Control",
        ),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    h.insert(
        header::ALLOW,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ranges() {
        use RangeAsk::*;
        assert_eq!(parse_range("bytes=0-9", 100), Part { first: 0, last: 9 });
        assert_eq!(
            parse_range("bytes=90-", 100),
            Part {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            parse_range("bytes=90-1000", 100),
            Part {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            parse_range("bytes=-10", 100),
            Part {
                first: 90,
                last: 99
            }
        );
        assert_eq!(parse_range("bytes=-1000", 100), Part { first: 0, last: 99 });
        assert_eq!(parse_range("BYTES = 5-5", 100), Part { first: 5, last: 5 });
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=9-0", 100), Full);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Full);
        assert_eq!(parse_range("items=0-1", 100), Full);
        assert_eq!(parse_range("bytes=x-1", 100), Full);
        assert_eq!(parse_range("bytes=-", 100), Full);
        assert_eq!(parse_range("bytes=+1-2", 100), Full);
    }

    #[test]
    fn dates() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(http_date(leap), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn if_range() {
        let lm = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert!(if_range_matches("\"a-b\"", "\"a-b\"", lm));
        assert!(!if_range_matches("\"a-c\"", "\"a-b\"", lm));
        assert!(!if_range_matches("W/\"a-b\"", "\"a-b\"", lm));
        assert!(if_range_matches(lm, "\"a-b\"", lm));
        assert!(!if_range_matches(
            "Mon, 07 Nov 1994 08:49:37 GMT",
            "\"a-b\"",
            lm
        ));
    }
}
