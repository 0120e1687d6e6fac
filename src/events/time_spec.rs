//! Times as researchers write them, shared by the CLI (`--from 3.4s`), the page's go-to field
//! and its links (`t=abs:36610700798`): one parser so that the same text means the same
//! microsecond everywhere.
//!
//! Forms (µs are whole microseconds; the stored `t` is what `x, y, t, p` hold):
//! - `123456` — µs of the stored `t` (what links and `--from` always took);
//! - `abs:36610700798` — absolute µs, `t + t_offset` (DSEC's `image_timestamps.txt`);
//! - `3.4s`, `50ms`, `250us` / `250µs` — time since the recording's first event;
//! - `1:02:03.5`, `02:03.250000` — `[hh:]mm:ss[.ffffff]` since the first event.

use super::EventsError;

/// Which clock a time was written in; the page keeps it so a link keeps the form it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeForm {
    /// µs of the stored `t`.
    Stored,
    /// Absolute µs: stored `t + t_offset`.
    Absolute,
    /// µs since the recording's first event.
    SinceStart,
}

impl TimeForm {
    /// The form's name as the page's JSON carries it.
    pub fn name(self) -> &'static str {
        match self {
            TimeForm::Stored => "stored",
            TimeForm::Absolute => "abs",
            TimeForm::SinceStart => "start",
        }
    }
}

/// A time as written, before the recording it refers to is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpec {
    pub form: TimeForm,
    /// µs in the clock of `form` (for `SinceStart`, the offset from the first event).
    pub value: i64,
}

/// Largest magnitude accepted (µs): ~285 years, far inside i64 even after adding offsets.
const MAX_US: i128 = 9_000_000_000_000_000;

impl TimeSpec {
    /// Reads a time in any of the module's forms; the error says which forms exist.
    pub fn parse(text: &str) -> Result<TimeSpec, EventsError> {
        let t = text.trim();
        let bad = || bad_time(text);
        if t.is_empty() {
            return Err(bad());
        }
        if let Some(rest) = t.strip_prefix("abs:") {
            let value = whole(rest.trim()).ok_or_else(bad)?;
            return Ok(TimeSpec {
                form: TimeForm::Absolute,
                value,
            });
        }
        // µs of the stored t: any i64, as a file's t may hold (no offset is added to it).
        if let Some(value) = stored_us(t) {
            return Ok(TimeSpec {
                form: TimeForm::Stored,
                value,
            });
        }
        let value = if t.contains(':') {
            clock(t).ok_or_else(bad)?
        } else {
            with_unit(t).ok_or_else(bad)?
        };
        Ok(TimeSpec {
            form: TimeForm::SinceStart,
            value,
        })
    }

    /// Whether resolving needs the recording's summary (its first event or `t_offset`).
    pub fn needs_recording(&self) -> bool {
        self.form != TimeForm::Stored
    }

    /// µs of the stored `t`, given the recording's first event and `t_offset`. A time since
    /// the start of a recording without events is refused (there is no start).
    pub fn resolve(&self, t_first: Option<i64>, t_offset: i64) -> Result<i64, EventsError> {
        let stored = match self.form {
            TimeForm::Stored => i128::from(self.value),
            TimeForm::Absolute => i128::from(self.value) - i128::from(t_offset),
            TimeForm::SinceStart => {
                let Some(first) = t_first else {
                    return Err(EventsError::BadTime {
                        text: format!("{} µs since the start", self.value),
                        reason: "counts from the first event, and this recording has no events — give µs of the stored t".into(),
                    });
                };
                i128::from(first) + i128::from(self.value)
            }
        };
        i64::try_from(stored).map_err(|_| EventsError::BadTime {
            text: format!("{}", self.value),
            reason: "is out of range".into(),
        })
    }
}

/// A window length: `1s`, `50ms`, `250us`/`250µs`, or plain µs; at least 1 µs.
pub fn parse_duration(text: &str) -> Result<i64, EventsError> {
    let t = text.trim();
    let us = whole(t).or_else(|| with_unit(t));
    match us {
        Some(us) if us >= 1 => Ok(us),
        Some(_) => Err(EventsError::BadTime {
            text: text.to_string(),
            reason: "must be at least 1 µs (a window length)".into(),
        }),
        None => Err(EventsError::BadTime {
            text: text.to_string(),
            reason: "is not a duration — write e.g. 1s, 50ms, 250us or plain µs".into(),
        }),
    }
}

fn bad_time(text: &str) -> EventsError {
    EventsError::BadTime {
        text: text.to_string(),
        reason: "is not a time — write µs of the stored t (123456), abs:µs (t + t_offset), \
                 time since the first event (3.4s, 50ms, 250us) or [hh:]mm:ss.ffffff"
            .into(),
    }
}

/// A whole number of µs with an optional sign, anywhere in i64.
fn stored_us(t: &str) -> Option<i64> {
    let digits = t
        .strip_prefix('-')
        .or_else(|| t.strip_prefix('+'))
        .unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// A whole number of µs with an optional sign, within ±[`MAX_US`].
fn whole(t: &str) -> Option<i64> {
    stored_us(t).filter(|v| i128::from(*v).abs() <= MAX_US)
}

/// `3.4s`, `50ms`, `250us`: a decimal number and a unit, to whole µs (exact, no floats).
fn with_unit(t: &str) -> Option<i64> {
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1_000)
    } else if let Some(n) = t.strip_suffix("us").or_else(|| t.strip_suffix("µs")) {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000_000)
    } else {
        return None;
    };
    decimal(number.trim(), scale)
}

/// `[hh:]mm:ss[.ffffff]` to µs.
fn clock(t: &str) -> Option<i64> {
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let parts: Vec<&str> = t.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [m, s] => ("0", *m, *s),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let int = |p: &str| -> Option<i128> {
        (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let (h, m) = (int(h)?, int(m)?);
    let seconds = i128::from(decimal(s, 1_000_000)?);
    if m >= 60 || !(0..60_000_000).contains(&seconds) {
        return None;
    }
    let us = (h * 3600 + m * 60) * 1_000_000 + seconds;
    if us > MAX_US {
        return None;
    }
    Some(if negative { -(us as i64) } else { us as i64 })
}

/// A decimal `[-]int[.frac]` times `scale` µs, exact; more fraction digits than a µs holds
/// are refused rather than rounded.
fn decimal(text: &str, scale: i128) -> Option<i64> {
    let (negative, t) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || int.len() > 18 {
        return None;
    }
    let int_value: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut us = int_value * scale;
    let mut unit = scale;
    for b in frac.bytes() {
        if unit == 1 {
            if b != b'0' {
                return None;
            }
            continue;
        }
        unit /= 10;
        us += i128::from(b - b'0') * unit;
    }
    if us > MAX_US {
        return None;
    }
    Some(if negative { -(us as i64) } else { us as i64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        TimeSpec::parse(text)
            .and_then(|s| s.resolve(Some(1_000), 36_610_000_000))
            .expect(text)
    }

    #[test]
    fn every_form_resolves_to_stored_microseconds() {
        assert_eq!(at("123456"), 123_456);
        assert_eq!(at("-5"), -5);
        assert_eq!(at("abs:36610700798"), 700_798);
        assert_eq!(at(" abs: 36610000000 "), 0);
        assert_eq!(at("3.4s"), 1_000 + 3_400_000);
        assert_eq!(at("50ms"), 51_000);
        assert_eq!(at("0.5ms"), 1_500);
        assert_eq!(at("250us"), 1_250);
        assert_eq!(at("250µs"), 1_250);
        assert_eq!(at(".25s"), 251_000);
        assert_eq!(at("01:02.000001"), 1_000 + 62_000_001);
        assert_eq!(at("1:00:00"), 1_000 + 3_600_000_000);
    }

    #[test]
    fn forms_are_kept() {
        let form = |t: &str| TimeSpec::parse(t).map(|s| s.form).expect(t);
        assert_eq!(form("12"), TimeForm::Stored);
        assert_eq!(form("abs:12"), TimeForm::Absolute);
        assert_eq!(form("12s"), TimeForm::SinceStart);
        assert_eq!(form("0:12"), TimeForm::SinceStart);
        assert!(!TimeSpec::parse("12")
            .map(|s| s.needs_recording())
            .unwrap_or(true));
        assert!(TimeSpec::parse("abs:12")
            .map(|s| s.needs_recording())
            .unwrap_or(false));
    }

    #[test]
    fn malformed_times_are_refused_with_the_forms_named() {
        for text in [
            "",
            "abc",
            "3.4",
            "abs:",
            "abs:1.5",
            "1.2.3s",
            "1:60:00",
            "00:61",
            "1:2:3:4",
            "s",
            "1e6",
            "0.0000001s",
            "1:00:00:00",
            "99999999999999999999",
        ] {
            let err = TimeSpec::parse(text).expect_err(text).to_string();
            assert!(err.contains("abs:µs"), "{text}: {err}");
        }
    }

    #[test]
    fn since_start_needs_events() {
        let spec = TimeSpec::parse("1s").expect("1s");
        let err = spec.resolve(None, 0).expect_err("no events").to_string();
        assert!(err.contains("no events"), "{err}");
        assert_eq!(TimeSpec::parse("7").and_then(|s| s.resolve(None, 5)), Ok(7));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("50ms"), Ok(50_000));
        assert_eq!(parse_duration("1s"), Ok(1_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000));
        assert_eq!(parse_duration("250us"), Ok(250));
        assert_eq!(parse_duration("777"), Ok(777));
        assert!(parse_duration("0ms").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
