//! The recording's event-rate curve for the timeline: from its millisecond index table, or
//! from sampled timestamps where it has none.

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

/// Bins `[t_first, t_last]` into at most `max_bins` bins from `(row, t)` samples (sorted by
/// row, `t` non-decreasing): between two samples the events are taken as evenly spread in
/// time, so the curve is exact at the samples and a straight line of the cumulative count
/// between them. For recordings without a millisecond table.
pub fn sampled_rate_curve(
    samples: &[(u64, i64)],
    events: u64,
    t_first: i64,
    t_last: i64,
    max_bins: usize,
) -> Option<RateCurve> {
    if samples.len() < 2 || t_last < t_first || max_bins == 0 || events == 0 {
        return None;
    }
    let span = t_last.checked_sub(t_first)?.checked_add(1)?;
    let bin_us = (span as u64).div_ceil(max_bins as u64).max(1) as i64;
    let bins = (span as u64).div_ceil(bin_us as u64) as usize;
    // Events with t < v, interpolated between the samples around v.
    let before = |v: i64| -> f64 {
        let k = samples.partition_point(|&(_, t)| t < v);
        if k == 0 {
            return 0.0;
        }
        if k == samples.len() {
            return events as f64;
        }
        let (r0, t0) = samples[k - 1];
        let (r1, t1) = samples[k];
        let frac = if t1 > t0 {
            (v - t0) as f64 / (t1 - t0) as f64
        } else {
            1.0
        };
        r0 as f64 + 1.0 + frac * (r1 as f64 - r0 as f64 - 1.0)
    };
    let counts = (0..bins as i64)
        .map(|i| {
            // Rounded cumulatively, so the bins add up to the events.
            let a = before(t_first + i * bin_us).round();
            let b = before(t_first + (i + 1) * bin_us).round();
            (b - a).max(0.0) as u64
        })
        .collect();
    Some(RateCurve {
        start: t_first,
        bin_us,
        counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_curve_is_exact_where_the_rate_is_even() {
        // 1000 events, one every 10 µs from t = 0: samples every 100 rows.
        let samples: Vec<(u64, i64)> = (0..10)
            .map(|k| (k * 100, k as i64 * 1000))
            .chain([(999, 9990)])
            .collect();
        let c = sampled_rate_curve(&samples, 1000, 0, 9990, 10).expect("curve");
        assert_eq!(c.bin_us, 1000);
        assert_eq!(c.counts.len(), 10);
        assert_eq!(c.counts.iter().sum::<u64>(), 1000);
        assert!(c.counts.iter().all(|&n| n == 100), "{:?}", c.counts);
    }

    #[test]
    fn sampled_curve_shows_a_burst() {
        // 900 events in the first 1000 µs, 100 in the next 9000 µs.
        let samples = [(0, 0), (899, 999), (900, 1000), (999, 9999)];
        let c = sampled_rate_curve(&samples, 1000, 0, 9999, 10).expect("curve");
        assert_eq!(c.counts[0], 900);
        assert!(
            c.counts[1..].iter().all(|&n| (10..=12).contains(&n)),
            "{:?}",
            c.counts
        );
        assert_eq!(c.counts.iter().sum::<u64>(), 1000);
    }
}
