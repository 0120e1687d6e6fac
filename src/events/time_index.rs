//! Finding where a time lies among the events: through the file's millisecond table when it
//! has one, or Prophesee's `/CD/indexes`, else by a lazy search of `t` that reads a few chunks
//! per round.

use super::recording::Recording;
use super::EventsError;
use super::LayoutKind;
use crate::hdf5::field::Field;
use crate::hdf5::file::Object;
use crate::hdf5::read::{check_type, read_fields_i64, read_pieces_i64, read_rows_i64};
use crate::hdf5::{DatasetInfo, H5File};

/// Probes per target and round of the search: the candidate span shrinks ~(PROBES+1)× per round.
const PROBES: u64 = 8;
/// A search that has not converged after this many rounds is given up. Each round shrinks
/// the span ~9×, so sorted data converges in ~12 rounds for any row count a file may claim.
const MAX_SEARCH_ROUNDS: usize = 64;

/// Rows `[lo, hi)` that hold every event with `t0 <= t < t1`, from the millisecond table; the
/// caller refines both ends against `t` itself.
pub async fn candidate_rows(rec: &Recording, t0: i64, t1: i64) -> Result<(u64, u64), EventsError> {
    let n = rec.events;
    if let (None, Some(index), true) = (&rec.ms_index, &rec.cd_index, n > 0) {
        return Ok(index.candidate_rows(t0, t1, n));
    }
    let Some(table) = &rec.ms_index else {
        let found = first_rows_at_or_after(rec, &[t0, t1]).await?;
        return Ok((found[0], found[1]));
    };
    let m = table.rows();
    if m == 0 || n == 0 {
        let found = first_rows_at_or_after(rec, &[t0, t1]).await?;
        return Ok((found[0], found[1]));
    }
    let base = rec.ms_base().await?;
    // Row counts and times come from the file: keep every step inside i64.
    let last_ms = i64::try_from(m - 1).unwrap_or(i64::MAX);
    let ms0 = t0.saturating_sub(base).div_euclid(1000);
    let ms1 = t1.saturating_sub(base).saturating_add(999).div_euclid(1000);
    let row0 = ms0.clamp(0, last_ms) as u64;
    let row1 = ms1.clamp(0, last_ms) as u64;
    let values = match &rec.ms_table {
        Some(all) => vec![
            all.get(row0 as usize).copied().into_iter().collect(),
            all.get(row1 as usize).copied().into_iter().collect(),
        ],
        None => {
            read_rows_i64(
                &rec.file,
                &[(table, row0..row0 + 1), (table, row1..row1 + 1)],
            )
            .await?
        }
    };
    let n_max = i64::try_from(n).unwrap_or(i64::MAX);
    let at = |v: &Vec<i64>| v.first().copied().unwrap_or(0).clamp(0, n_max) as u64;
    let lo = if ms0 < 0 { 0 } else { at(&values[0]) };
    let hi = if ms1 > last_ms { n } else { at(&values[1]) };
    Ok((lo.min(n), hi.clamp(lo.min(n), n)))
}

/// Where the recording starts, to the millisecond, from the whole millisecond table alone (no
/// read): the last millisecond before which no event lies. `None` without a table in memory,
/// or for M3ED, whose table counts from the first event (finding it is a read of `t`).
pub fn start_estimate(rec: &Recording) -> Option<i64> {
    if rec.layout.time_base() != super::layout::TimeBase::Zero {
        return None;
    }
    let table = rec.ms_table.as_ref()?;
    // table[i] = events with t < i ms: the last zero row is the start's millisecond.
    let zeros = table.partition_point(|&v| v <= 0);
    let ms = i64::try_from(zeros).ok()?.checked_sub(1)?;
    ms.checked_mul(1000)
}

/// `(row, t)` pairs at about `rows` (sorted), read in one round: each row's chunk is fetched
/// anyway, so the first and last row of every chunk read come along as extra samples. For a
/// picture of the event rate where the file has no time index.
pub async fn sample_times(rec: &Recording, rows: &[u64]) -> Result<Vec<(u64, i64)>, EventsError> {
    let rows: Vec<u64> = rows.iter().copied().filter(|&r| r < rec.events).collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let t = &rec.columns.t;
    let pieces = read_pieces_i64(&rec.file, &t.ds, t.field, &rows).await?;
    let mut samples = Vec::new();
    for (first, values) in &pieces {
        let (Some(&head), Some(&tail)) = (values.first(), values.last()) else {
            continue;
        };
        samples.push((*first, head));
        samples.push((first + values.len() as u64 - 1, tail));
    }
    samples.sort_unstable();
    samples.dedup_by_key(|s| s.0);
    Ok(samples)
}

/// For each target `v`, the first row with `t >= v` (`searchsorted(t, v, 'left')`), found
/// together in rounds of parallel probes. Never reads all of `t`.
pub async fn first_rows_at_or_after(
    rec: &Recording,
    targets: &[i64],
) -> Result<Vec<u64>, EventsError> {
    struct Search {
        v: i64,
        lo: u64,
        hi: u64,
        found: Option<u64>,
    }
    let n = rec.events;
    let mut searches: Vec<Search> = targets
        .iter()
        .map(|&v| Search {
            v,
            lo: 0,
            hi: n,
            found: (n == 0).then_some(0),
        })
        .collect();
    for _ in 0..MAX_SEARCH_ROUNDS {
        let mut probes = Vec::new();
        for s in searches.iter_mut().filter(|s| s.found.is_none()) {
            if s.lo >= s.hi {
                s.found = Some(s.lo);
                continue;
            }
            let span = s.hi - s.lo;
            for k in 0..=PROBES {
                // In u128: `span * k` overflows u64 for row counts a file may claim.
                let step = u128::from(span) * u128::from(k) / u128::from(PROBES + 1);
                probes.push(s.lo + step as u64);
            }
            probes.push(s.hi - 1);
        }
        if probes.is_empty() {
            break;
        }
        probes.sort_unstable();
        probes.dedup();
        let t = &rec.columns.t;
        let pieces = read_pieces_i64(&rec.file, &t.ds, t.field, &probes).await?;
        check_pieces_sorted(rec, &pieces)?;
        for s in searches.iter_mut().filter(|s| s.found.is_none()) {
            for (first, values) in &pieces {
                let (Some(&head), Some(&tail)) = (values.first(), values.last()) else {
                    continue;
                };
                let end = first + values.len() as u64;
                if end <= s.lo || *first >= s.hi {
                    continue;
                }
                if tail < s.v {
                    s.lo = s.lo.max(end);
                } else if head >= s.v {
                    s.hi = s.hi.min(*first);
                } else {
                    s.found = Some(first + values.partition_point(|&t| t < s.v) as u64);
                    break;
                }
            }
            if s.found.is_none() && s.lo >= s.hi {
                s.found = Some(s.lo);
            }
        }
    }
    searches
        .iter()
        .map(|s| {
            s.found.ok_or_else(|| EventsError::BadColumn {
                what: rec.what().to_string(),
                path: rec.paths.t.clone(),
                reason: format!(
                    "the search for t = {} did not converge in {MAX_SEARCH_ROUNDS} rounds (rows {}..{} left)",
                    s.v, s.lo, s.hi
                ),
            })
        })
        .collect()
}

/// The search learns from each chunk's first and last value, which is only right for sorted
/// `t`: every value a search step decoded is checked (one compare each), within and across
/// the chunks (sorted by first row), so unsorted timestamps are named where they are seen —
/// never mistaken for a place in time. All-equal times (an all-zero `t`) are sorted.
fn check_pieces_sorted(rec: &Recording, pieces: &[(u64, Vec<i64>)]) -> Result<(), EventsError> {
    let mut previous: Option<(u64, i64)> = None;
    for (first, values) in pieces {
        let drop = values.windows(2).position(|w| w[1] < w[0]).map(|i| {
            (
                first + i as u64,
                first + i as u64 + 1,
                values[i],
                values[i + 1],
            )
        });
        let across = match (previous, values.first()) {
            (Some((row, last)), Some(&head)) if row < *first && head < last => {
                Some((row, *first, last, head))
            }
            _ => None,
        };
        if let Some((row, later, before, after)) = across.or(drop) {
            return Err(EventsError::Unsorted {
                what: rec.what().to_string(),
                path: rec.paths.t.clone(),
                row,
                later,
                before: i128::from(before),
                after: i128::from(after),
            });
        }
        if let Some(&tail) = values.last() {
            previous = Some((first + values.len() as u64 - 1, tail));
        }
    }
    Ok(())
}

/// Largest `/CD/indexes` read whole at open (one row per 2 ms: ~35 minutes of recording).
const CD_INDEX_READ_ROWS: u64 = 1 << 20;

/// Prophesee's `/CD/indexes` as `(row, t)` samples of the events: each says "event `row` has
/// time `t` and opens it" (Metavision's writer stores, every 2 ms, the id of the first event of
/// an earlier bin and that event's time relative to the first event; the dataset's attribute
/// `offset` is minus the first event's time). Only a hint: the window reader checks the rows
/// it gives against `t` and searches `t` itself when they are wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledIndex {
    /// Sorted by both fields: rows non-decreasing, times non-decreasing.
    samples: Vec<(u64, i64)>,
}

impl SampledIndex {
    /// Builds the index from the table's columns; `None` when they do not describe sorted
    /// events (then the file's `t` is searched instead).
    pub fn from_table(ids: &[i64], ts: &[i64], offset: i64) -> Option<Self> {
        let mut samples: Vec<(u64, i64)> = Vec::with_capacity(ids.len());
        for (&id, &t) in ids.iter().zip(ts) {
            // Metavision's first row is (0, -1): "nothing yet".
            if id < 0 || t < 0 {
                continue;
            }
            let time = t.checked_sub(offset)?;
            if let Some(&(row, at)) = samples.last() {
                if (id as u64) < row || time < at {
                    return None;
                }
                if id as u64 == row {
                    continue;
                }
            }
            samples.push((id as u64, time));
        }
        (!samples.is_empty()).then_some(Self { samples })
    }

    /// Rows `[lo, hi)` holding every event with `t0 <= t < t1` among `n`, if the samples hold.
    pub fn candidate_rows(&self, t0: i64, t1: i64, n: u64) -> (u64, u64) {
        // Events before a sample at time < v are all < v: the last such sample is a start.
        let below = |v: i64| {
            let k = self.samples.partition_point(|&(_, t)| t < v);
            k.checked_sub(1)
                .and_then(|k| self.samples.get(k))
                .map_or(0, |&(row, _)| row)
        };
        // A sample at time >= v is at or past the first event >= v: the first such is an end.
        let above = |v: i64| {
            let k = self.samples.partition_point(|&(_, t)| t < v);
            self.samples.get(k).map_or(n, |&(row, _)| row)
        };
        let lo = below(t0).min(n);
        let hi = above(t1).clamp(lo, n);
        (lo, hi)
    }
}

/// The `/CD/indexes` dataset of a Prophesee recording, when it has one `index` can read whole:
/// 1-D compound records with integer members `id` and `ts`.
pub fn cd_index_dataset(layout: LayoutKind, objects: &[Object]) -> Option<DatasetInfo> {
    let ds = super::layout::dataset_at(objects, layout.spec().sampled_index?)?;
    let ok = ds.shape.len() == 1
        && ds.rows() > 0
        && ds.rows() <= CD_INDEX_READ_ROWS
        && cd_field(ds, "id").is_some()
        && cd_field(ds, "ts").is_some();
    ok.then(|| ds.clone())
}

fn cd_field(ds: &DatasetInfo, name: &str) -> Option<Field> {
    let member = ds.members.iter().find(|m| m.name == name)?;
    let dtype = check_type(Some(member.dtype))?;
    matches!(dtype, crate::hdf5::ElementType::Int { .. }).then_some(Field {
        column: 0,
        member_offset: member.offset,
        dtype,
        scale: 1.0,
    })
}

/// The table's `offset` attribute (text such as "-1017"), when it has one.
pub async fn cd_index_offset(file: &H5File, ds: Option<&DatasetInfo>) -> Option<i64> {
    let ds = ds?;
    let text = file
        .dataset_attribute_text(&ds.path, "offset")
        .await
        .ok()??;
    text.trim().parse().ok()
}

/// Reads `/CD/indexes` whole. Any failure leaves the recording without it (its windows are
/// then found by searching `t`), never fails the open.
pub async fn read_cd_index(
    file: &H5File,
    ds: Option<&DatasetInfo>,
    offset: Option<i64>,
) -> Option<SampledIndex> {
    let (ds, offset) = (ds?, offset?);
    let (id, ts) = (cd_field(ds, "id")?, cd_field(ds, "ts")?);
    let rows = 0..ds.rows();
    let columns = read_fields_i64(file, &[(ds, id, rows.clone()), (ds, ts, rows)])
        .await
        .ok()?;
    SampledIndex::from_table(columns.first()?, columns.get(1)?, offset)
}

#[cfg(test)]
mod tests {
    use super::SampledIndex;

    #[test]
    fn cd_index_samples_bound_the_window() {
        // t: 10 10 12 15 15 15 30 (offset -10: ts relative to the first event).
        let index = SampledIndex::from_table(&[0, 0, 3, 6], &[-1, 0, 5, 20], -10).expect("sorted");
        assert_eq!(index.candidate_rows(10, 31, 7), (0, 7));
        assert_eq!(index.candidate_rows(16, 30, 7), (3, 6));
        assert_eq!(index.candidate_rows(15, 15, 7), (0, 3));
        assert_eq!(index.candidate_rows(31, 40, 7), (6, 7));
        assert_eq!(index.candidate_rows(0, 5, 7), (0, 0));
    }

    #[test]
    fn unsorted_tables_are_not_trusted() {
        assert!(SampledIndex::from_table(&[0, 5, 3], &[0, 1, 2], 0).is_none());
        assert!(SampledIndex::from_table(&[0, 1, 3], &[0, 9, 2], 0).is_none());
        assert!(SampledIndex::from_table(&[0], &[-1], 0).is_none());
        assert!(SampledIndex::from_table(&[0], &[5], i64::MIN).is_none());
    }
}
