//! The recording's event-rate curve for the timeline, from its millisecond index table.

use serde::Serialize;

/// Events per time bin over `[start, start + bins * bin_us)`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RateCurve {
    pub start: i64,
    pub bin_us: i64,
    pub counts: Vec<u64>,
}

/// Bins the table `ms → first event index` (milliseconds counted from `base`) into at most
/// `max_bins` bins covering `[t_first, t_last]`. Bins are whole milliseconds: the table says
/// nothing finer.
pub fn rate_curve(
    table: &[i64],
    base: i64,
    events: u64,
    t_first: i64,
    t_last: i64,
    max_bins: usize,
) -> Option<RateCurve> {
    if table.is_empty() || t_last < t_first || max_bins == 0 {
        return None;
    }
    let span = t_last.checked_sub(t_first)?.checked_add(1)?;
    let per_bin = (span as u64).div_ceil(max_bins as u64).max(1000);
    // Whole milliseconds so every bin edge is a table row.
    let bin_us = per_bin.div_ceil(1000).saturating_mul(1000) as i64;
    let start = base + (t_first - base).div_euclid(1000) * 1000;
    let bins = ((t_last - start) / bin_us + 1) as usize;
    let first_row = |t: i64| -> i64 {
        let ms = (t - base).div_euclid(1000);
        if ms < 0 {
            0
        } else if ms as u64 >= table.len() as u64 {
            events as i64
        } else {
            table[ms as usize].clamp(0, events as i64)
        }
    };
    let counts = (0..bins as i64)
        .map(|i| {
            let a = first_row(start + i * bin_us);
            let b = first_row(start + (i + 1) * bin_us);
            (b - a).max(0) as u64
        })
        .collect();
    Some(RateCurve {
        start,
        bin_us,
        counts,
    })
}
