//! How network sources ride out a flaky server: a bounded number of attempts with growing
//! pauses between them, and a stall timeout so that a server that stops sending can never
//! hang a read. Shared by the native (`http`) and browser (`fetch`) sources.

use std::time::Duration;

use super::SourceError;

/// Retry and timeout settings of a network source. `Default` is what the CLI and the viewer
/// use: 4 attempts, pauses of 0.25 s, 0.75 s and 2.25 s, and 10 s without a byte is a stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request, the first included (at least 1).
    pub attempts: u32,
    /// Pause before the second try; each later pause is `growth` times the one before.
    pub first_pause: Duration,
    pub growth: u32,
    /// Longest wait for the response head or for the next piece of its body. Measured
    /// between pieces, not over the whole body, so a slow but steady server is never cut off.
    pub stall: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_pause: Duration::from_millis(250),
            growth: 3,
            stall: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The pause before try number `attempt` (2 = the first retry), or `None` when the
    /// attempts are used up.
    pub fn pause_before(&self, attempt: u32) -> Option<Duration> {
        if attempt < 2 || attempt > self.attempts.max(1) {
            return None;
        }
        let factor = self.growth.max(1).saturating_pow(attempt - 2);
        Some(self.first_pause.saturating_mul(factor))
    }
}

/// The outcome of one try of a request, before retry decisions.
pub(crate) enum Attempt<T> {
    Done(Result<T, SourceError>),
    /// A failure worth another try (transport error, stall, 5xx, 408, 429, a body that is
    /// not the bytes asked for).
    Retry(SourceError),
}

/// The error for a request that failed `attempts` times: the last failure, without its URL.
pub(crate) fn gave_up(url: &str, attempts: u32, last: &SourceError) -> SourceError {
    let text = last.to_string();
    let last = text
        .strip_prefix(url)
        .and_then(|t| t.strip_prefix(": "))
        .unwrap_or(&text)
        .to_string();
    SourceError::GaveUp {
        url: url.to_string(),
        attempts,
        last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_and_stop() {
        let p = RetryPolicy::default();
        assert_eq!(p.pause_before(1), None);
        assert_eq!(p.pause_before(2), Some(Duration::from_millis(250)));
        assert_eq!(p.pause_before(3), Some(Duration::from_millis(750)));
        assert_eq!(p.pause_before(4), Some(Duration::from_millis(2250)));
        assert_eq!(p.pause_before(5), None);
        let once = RetryPolicy { attempts: 1, ..p };
        assert_eq!(once.pause_before(2), None);
    }
}
