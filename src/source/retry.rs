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

/// The longest `Retry-After` honoured: a server asking for more is waited for this long.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(30);

/// The outcome of one try of a request, before retry decisions.
pub enum Attempt<T> {
    Done(Result<T, SourceError>),
    /// A failure worth another try (transport error, stall, 5xx, 408, 429, a body that is
    /// not the bytes asked for), with the wait the server asked for (`Retry-After`), if any.
    Retry {
        error: SourceError,
        after: Option<Duration>,
    },
}

impl<T> Attempt<T> {
    /// A failure worth another try after the policy's own pause.
    pub fn retry(error: SourceError) -> Attempt<T> {
        Attempt::Retry { error, after: None }
    }

    pub fn fail(error: SourceError) -> Attempt<T> {
        Attempt::Done(Err(error))
    }

    /// The same outcome with a success converted by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Attempt<U> {
        match self {
            Attempt::Done(r) => Attempt::Done(r.map(f)),
            Attempt::Retry { error, after } => Attempt::Retry { error, after },
        }
    }
}

/// Runs `attempt` while it asks for a retry, as `policy` allows, pausing with `sleep` (a
/// timer of whichever runtime runs this: tokio natively, `setTimeout` in a browser). The
/// pause is the policy's, or the server's `Retry-After` when that is longer (capped at
/// [`RETRY_AFTER_CAP`]). A failure that outlasts the retries becomes [`SourceError::GaveUp`]
/// naming the last one.
pub async fn with_retries<T, F, Fut, S, SFut>(
    url: &str,
    policy: &RetryPolicy,
    mut sleep: S,
    mut attempt: F,
) -> Result<T, SourceError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Attempt<T>>,
    S: FnMut(Duration) -> SFut,
    SFut: std::future::Future<Output = ()>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Attempt::Done(result) => return result,
            Attempt::Retry { error, after } => match policy.pause_before(tries + 1) {
                Some(pause) => {
                    let asked = after.unwrap_or_default().min(RETRY_AFTER_CAP);
                    sleep(pause.max(asked)).await;
                    tries += 1;
                }
                None if tries == 1 => return Err(error),
                None => return Err(gave_up(url, tries, &error)),
            },
        }
    }
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

    /// Polls a future that never waits on anything outside itself to its end.
    fn run<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }

    fn failing(status: u16) -> SourceError {
        SourceError::ServerFailing {
            url: "u".into(),
            status,
        }
    }

    /// Runs `with_retries` over scripted outcomes; returns the result and the pauses taken.
    fn scripted(
        policy: RetryPolicy,
        outcomes: Vec<Attempt<u32>>,
    ) -> (Result<u32, SourceError>, Vec<Duration>) {
        let slept = std::cell::RefCell::new(Vec::new());
        let outcomes = std::cell::RefCell::new(outcomes.into_iter());
        let result = run(with_retries(
            "u",
            &policy,
            |d| {
                slept.borrow_mut().push(d);
                std::future::ready(())
            },
            || {
                let next = outcomes.borrow_mut().next();
                std::future::ready(next.unwrap_or(Attempt::Done(Ok(0))))
            },
        ));
        (result, slept.into_inner())
    }

    #[test]
    fn retry_after_stretches_the_pause_up_to_the_cap() {
        let p = RetryPolicy::default();
        let after = |secs| Attempt::Retry {
            error: failing(503),
            after: Some(Duration::from_secs(secs)),
        };
        let (got, slept) = scripted(
            p,
            vec![
                after(1),
                Attempt::retry(failing(500)),
                after(3600),
                Attempt::Done(Ok(7)),
            ],
        );
        assert_eq!(got, Ok(7));
        assert_eq!(
            slept,
            vec![
                Duration::from_secs(1),
                Duration::from_millis(750),
                RETRY_AFTER_CAP
            ]
        );
        // A shorter Retry-After never shortens the policy's own pause.
        let (_, slept) = scripted(p, vec![after(0), Attempt::Done(Ok(1))]);
        assert_eq!(slept, vec![Duration::from_millis(250)]);
    }

    #[test]
    fn attempts_are_bounded_and_the_last_failure_is_named() {
        let p = RetryPolicy::default();
        let (got, slept) = scripted(p, (0..10).map(|_| Attempt::retry(failing(503))).collect());
        assert_eq!(slept.len(), 3);
        match got {
            Err(SourceError::GaveUp {
                attempts: 4, last, ..
            }) => assert!(last.contains("HTTP 503")),
            other => panic!("{other:?}"),
        }
        // One attempt only: the failure itself, not "gave up".
        let once = RetryPolicy { attempts: 1, ..p };
        let (got, slept) = scripted(once, vec![Attempt::retry(failing(429))]);
        assert_eq!(got, Err(failing(429)));
        assert!(slept.is_empty());
        let (got, _) = scripted(p, vec![Attempt::fail(failing(404))]);
        assert_eq!(got, Err(failing(404)));
    }
}
