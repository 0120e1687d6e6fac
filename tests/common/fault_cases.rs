//! The server faults both HTTP transports are tested against, in one table: the native
//! (`tests/faults_http.rs`, `HttpSource`) and browser (`tests/wasm_faults.rs`, `FetchSource`)
//! fault tests run the same cases through the same range protocol, so a case added here is
//! checked on both (included by path in both).

#![allow(dead_code)]

/// The fixture every case reads, and one with other events for "the file changed".
pub const FIXTURE: &str = "blosc_lz4_bit";
pub const OTHER: &str = "blosc_lz4_byte";

/// Faults that go away when retried: every window must still be h5py's, and the same fault
/// without retries must fail (proof that it was injected).
pub const TRANSIENT: &[&str] = &[
    "status=503,first=2",
    "status=500,every=4",
    "status=429,first=1",
    "drop,first=1",
    "drop,every=5",
    "truncate,every=3",
    "stall=3,first=1",
    "bad-range,first=2",
    "short,every=6",
    "long,first=2",
];

/// A fault that stays: one line holding every needle.
pub struct Persistent {
    pub spec: &'static str,
    pub needles: &'static [&'static str],
    /// Whether the browser case applies (a browser hides some failures behind its own).
    pub in_browser: bool,
}

const fn case(spec: &'static str, needles: &'static [&'static str]) -> Persistent {
    Persistent {
        spec,
        needles,
        in_browser: true,
    }
}

pub const PERSISTENT: &[Persistent] = &[
    case("status=503", &["gave up after 4 attempts", "HTTP 503"]),
    case("status=404", &["HTTP 404", "check the URL"]),
    case("status=416", &["HTTP 416", "mishandles Range"]),
    case(
        "drop",
        &[
            "gave up after 4 attempts",
            "reading the response body failed",
        ],
    ),
    Persistent {
        // Chromium reports a body cut short of its Content-Length in its own way.
        in_browser: false,
        ..case(
            "truncate",
            &[
                "gave up after 4 attempts",
                "reading the response body failed",
            ],
        )
    },
    case("stall=5", &["gave up after 4 attempts", "stalled"]),
    case("bad-range", &["gave up", "other bytes than asked"]),
    case(
        "short",
        &[
            "gave up",
            "Content-Length",
            "the response is not the bytes asked for",
        ],
    ),
    case(
        "long",
        &[
            "gave up",
            "Content-Length",
            "the response is not the bytes asked for",
        ],
    ),
    // Natively the label is refused at once; Chromium fails the fetch itself on a body
    // labelled gzip that is not, and the error lists the likely causes, compression among them.
    case("gzip", &["turn off gzip"]),
    case("ignore-range", &["ignores Range", "supports HTTP Range"]),
];

/// A new version of the file appears a few requests into reading windows: with its own bytes
/// (`other`: the other fixture) or the same bytes with a new validator, and served with or
/// without validators (`no-validator`: only the length and the probe can tell).
pub struct Change {
    pub other: bool,
    pub no_validator: bool,
}

pub const CHANGES: &[Change] = &[
    Change {
        other: true,
        no_validator: false,
    },
    Change {
        other: false,
        no_validator: false,
    },
    Change {
        other: true,
        no_validator: true,
    },
];

impl Change {
    /// The fault spec for a change after `after` requests.
    pub fn spec(&self, after: u64, other_file: &str) -> String {
        let mut spec = format!("change-after={after}");
        if self.other {
            spec.push_str(&format!(",other={other_file}"));
        }
        if self.no_validator {
            spec.push_str(",no-validator");
        }
        spec
    }
}

/// What a changed-file error must say.
pub fn says_changed(error: &str) -> bool {
    error.contains("the file changed while it was being read") && error.contains("reopen it")
}

/// A `429` that asks for a pause of one second (`Retry-After: 1`), once.
pub const RETRY_AFTER: &str = "status=429,retry-after=1,first=1";
/// The pause it asks for, in ms.
pub const RETRY_AFTER_MS: u64 = 1000;

/// The slow load that is dropped, and how long it runs before the drop and after it.
pub const SLOW_DROP: &str = "slow=20000";
pub const RUN_BEFORE_DROP_MS: u64 = 1000;
pub const WAIT_AFTER_DROP_MS: u64 = 600;
