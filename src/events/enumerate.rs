//! Windows as a dataset: fixed-length windows over a recording's span, or seeded random ones,
//! each with its exact event count — from the millisecond table alone when the boundaries fall
//! on whole milliseconds (no event data read), else by a lazy search of `t`.

use serde::Serialize;

use super::recording::Recording;
use super::time_index::first_rows_at_or_after;
use super::EventsError;

/// One enumerated window and its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WindowCount {
    pub from: i64,
    pub to: i64,
    pub events: u64,
    pub first_index: u64,
}

/// How to choose windows.
#[derive(Debug, Clone, Copy)]
pub enum Plan {
    /// `from = start + k·stride` while the window fits in the span.
    Regular { length: i64, stride: i64 },
    /// `count` windows with starts uniform over the span (reproducible by `seed`).
    Random {
        length: i64,
        count: usize,
        seed: u64,
    },
}

/// The recording's span `[from, to)` in µs of the stored `t`, and the windows of `plan`.
#[derive(Debug, Clone, Serialize)]
pub struct Enumeration {
    pub span_from: i64,
    pub span_to: i64,
    pub windows: Vec<WindowCount>,
}

/// Most windows one call lists (a 1 µs stride over an hour would be billions).
pub const MAX_WINDOWS: usize = 1_000_000;

/// Lists the windows of `plan` with exact counts.
pub async fn enumerate(rec: &Recording, plan: Plan) -> Result<Enumeration, EventsError> {
    let (span_from, span_to, base) = span(rec).await?;
    let length = match plan {
        Plan::Regular { length, .. } | Plan::Random { length, .. } => length,
    };
    if length <= 0 {
        return Err(EventsError::BadWindow {
            from: 0,
            to: length,
        });
    }
    let last_start = span_to - length;
    let starts: Vec<i64> = match plan {
        _ if last_start < span_from => Vec::new(),
        Plan::Regular { stride, .. } => {
            let stride = stride.max(1);
            let n = ((last_start - span_from) / stride + 1) as usize;
            (0..n.min(MAX_WINDOWS))
                .map(|k| span_from + k as i64 * stride)
                .collect()
        }
        Plan::Random { count, seed, .. } => {
            let mut rng = SplitMix(seed);
            let choices = (last_start - span_from) as u64 + 1;
            // Whole milliseconds when the length is, so counts come from the table alone.
            let unit = if length % 1000 == 0 { 1000 } else { 1 };
            let slots = (choices - 1) / unit + 1;
            (0..count.min(MAX_WINDOWS))
                .map(|_| span_from + (rng.below(slots) * unit) as i64)
                .collect()
        }
    };
    let mut bounds: Vec<i64> = starts.iter().flat_map(|&s| [s, s + length]).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let rows = rows_at(rec, &bounds, base).await?;
    let at = |t: i64| bounds.binary_search(&t).map(|i| rows[i]).unwrap_or(0);
    let windows = starts
        .iter()
        .map(|&s| {
            let (a, b) = (at(s), at(s + length));
            WindowCount {
                from: s,
                to: s + length,
                events: b.saturating_sub(a),
                first_index: a,
            }
        })
        .collect();
    Ok(Enumeration {
        span_from,
        span_to,
        windows,
    })
}

/// `(first_index, events)` of the window `[from, to)`: rows from the millisecond table when
/// both ends fall on whole milliseconds, else from a search of `t` (a few chunks). Writers that
/// must know a window's length before its first event (`.npz`) ask this first.
pub async fn window_rows(rec: &Recording, from: i64, to: i64) -> Result<(u64, u64), EventsError> {
    if from > to {
        return Err(EventsError::BadWindow { from, to });
    }
    let base = if rec.ms_table.is_some() {
        rec.ms_base().await?
    } else {
        0
    };
    // Before the table's ms 0 the table says nothing (t may be negative): search `t`.
    let rows = if from < base {
        first_rows_at_or_after(rec, &[from, to]).await?
    } else {
        rows_at(rec, &[from, to], base).await?
    };
    let (a, b) = (
        rows.first().copied().unwrap_or(0),
        rows.get(1).copied().unwrap_or(0),
    );
    Ok((a, b.saturating_sub(a)))
}

/// `[first ms holding events, end of the table)` from the millisecond table, else the first
/// and last timestamps; with the table's time base (M3ED counts from its first event).
async fn span(rec: &Recording) -> Result<(i64, i64, i64), EventsError> {
    if let Some(table) = &rec.ms_table {
        let base = rec.ms_base().await?;
        let first = table.iter().rposition(|&i| i == 0).unwrap_or(0) as i64;
        return Ok((base + first * 1000, base + table.len() as i64 * 1000, base));
    }
    let s = rec.summary().await?;
    Ok((s.t_first.unwrap_or(0), s.t_last.map_or(0, |t| t + 1), 0))
}

/// `searchsorted(t, v, 'left')` for every boundary: table lookups for whole milliseconds,
/// one batched search of `t` for the rest.
async fn rows_at(rec: &Recording, bounds: &[i64], base: i64) -> Result<Vec<u64>, EventsError> {
    let n = rec.events;
    let mut rows = vec![0u64; bounds.len()];
    let mut search = Vec::new();
    for (i, &v) in bounds.iter().enumerate() {
        let ms = (v - base).div_euclid(1000);
        match &rec.ms_table {
            Some(table) if (v - base).rem_euclid(1000) == 0 && ms >= 0 => {
                rows[i] = table
                    .get(ms as usize)
                    .map_or(n, |&r| r.clamp(0, n as i64) as u64);
            }
            Some(_) if v - base < 0 => rows[i] = 0,
            _ => search.push(i),
        }
    }
    if !search.is_empty() {
        let targets: Vec<i64> = search.iter().map(|&i| bounds[i]).collect();
        let found = first_rows_at_or_after(rec, &targets).await?;
        for (i, r) in search.into_iter().zip(found) {
            rows[i] = r;
        }
    }
    Ok(rows)
}

/// SplitMix64: small, seedable, and the same on every platform.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (rejection keeps it unbiased).
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next();
            if v < zone {
                return v % n;
            }
        }
    }
}
