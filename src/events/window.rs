//! Time windows of events, streamed batch by batch so memory stays flat for any length.

use serde::Serialize;

use super::recording::Recording;
use super::time_index::{candidate_rows, first_rows_at_or_after};
use super::EventsError;
use crate::hdf5::plan::ChunkPlan;
use crate::hdf5::read::{decode_ahead, read_fields_into, DecodedCarry};
use crate::hdf5::{DatasetInfo, Values};

/// Rows read per batch: ~2 MB of decoded events, whatever the window's length (larger
/// batches measured no faster natively; smaller ones cost more index walks).
pub const BATCH_ROWS: u64 = 1 << 17;
/// Rows read per batch past the time index's estimate (usually only to find the end).
const TAIL_BATCH_ROWS: u64 = 1 << 14;
/// Rows after a batch whose chunks start decoding while it is consumed (natively, on the
/// decode threads; at most `AHEAD_BYTES` decoded): a few batches, so the threads never wait
/// for the caller between batches.
const AHEAD_ROWS: u64 = 4 * BATCH_ROWS;

/// A half-open time window `[from, to)` in microseconds of the stored `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

/// Consecutive events of a window, each column in the type the file stores it in
/// ([`Values`]; floats as `i64`, see [`crate::hdf5::Field::decode`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventBatch {
    /// Row of the first event of this batch.
    pub first_index: u64,
    pub x: Values,
    pub y: Values,
    pub t: Values,
    pub p: Values,
}

impl EventBatch {
    pub fn len(&self) -> usize {
        self.t.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// Keeps only the events at positions `range` (in place: the window's first and last
    /// batches drop the rows before its start and after its end).
    fn keep(&mut self, range: std::ops::Range<usize>) {
        for column in [&mut self.x, &mut self.y, &mut self.t, &mut self.p] {
            column.keep(range.clone());
        }
    }
}

/// numpy names of the four columns' types: `dtypes` as returned (the stored integer type, or
/// `int64` for floats), `stored` as the file holds them (`u2`, `>i4`, `f8`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnTypes {
    pub x: String,
    pub y: String,
    pub t: String,
    pub p: String,
}

/// Exact totals over a window, comparable with any other reader's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WindowDigest {
    pub from: i64,
    pub to: i64,
    pub events: u64,
    pub first_index: u64,
    #[serde(serialize_with = "exact_int")]
    pub sum_x: i128,
    #[serde(serialize_with = "exact_int")]
    pub sum_y: i128,
    #[serde(serialize_with = "exact_int")]
    pub sum_t: i128,
    #[serde(serialize_with = "exact_int")]
    pub sum_p: i128,
    pub positive: u64,
    /// The returned columns' numpy types (`uint8` for a `u1` polarity).
    pub dtypes: ColumnTypes,
    /// The columns' types in the file.
    pub stored_dtypes: ColumnTypes,
}

/// A sum as a JSON number while it fits in `i64`, else as its decimal string: MVSEC's `t`
/// (µs since 1970) summed over a few thousand events already exceeds it, and JSON readers
/// (serde_json's `Value`, JavaScript) cannot hold such numbers exactly.
fn exact_int<S: serde::Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
    match i64::try_from(*v) {
        Ok(n) => s.serialize_i64(n),
        Err(_) => s.collect_str(v),
    }
}

impl WindowDigest {
    /// An empty digest of `window` over `rec`'s columns (types filled in).
    pub fn new(rec: &Recording, window: Window) -> Self {
        Self {
            from: window.from,
            to: window.to,
            dtypes: rec.columns.dtypes(),
            stored_dtypes: rec.columns.stored_dtypes(),
            ..Default::default()
        }
    }

    /// Adds a batch's events: sums over the stored values, exact for every type; `positive`
    /// counts stored `p > 0`. Never inlined, for the browser's sake (see `Frame::add`).
    #[inline(never)]
    pub fn add(&mut self, batch: &EventBatch) {
        self.events += batch.len() as u64;
        self.sum_x += batch.x.sum();
        self.sum_y += batch.y.sum();
        self.sum_t += batch.t.sum();
        let (sum_p, positive) = batch.p.sum_and_positive();
        self.sum_p += sum_p;
        self.positive += positive;
    }
}

/// Reads one window batch by batch.
pub struct WindowReader<'r> {
    rec: &'r Recording,
    window: Window,
    /// Next row to read.
    next_row: u64,
    /// Where the time index expects the window to end.
    hint_end: u64,
    /// Rows are aligned to this so no chunk is decoded by two batches.
    align: u64,
    /// Whether rows before `from` may still come (only until the first event ≥ `from`).
    before_start: bool,
    first_index: Option<u64>,
    done: bool,
    /// Rows up to here are planned: located, and their first chunks fetched, in `plan`.
    prefetched_to: u64,
    /// The current slab's located pieces and fetched bytes, consumed by the batches.
    plan: ChunkPlan,
    /// The next slab's plan, `[from, to)`, made while the decode threads still work on this
    /// one's last batches (so that they do not wait for its fetch).
    next_plan: Option<(u64, u64, ChunkPlan)>,
    /// Rows planned together ([`SLAB_ROWS`]; fewer only in tests).
    slab_rows: u64,
    /// Rows the time index expects in the window (its candidate rows).
    expected_rows: u64,
    /// Chunks the last batch decoded that reach into the next one.
    carry: DecodedCarry,
    /// Row and `t` of the last event decoded, when the next batch continues from it: the
    /// order check spans batch boundaries.
    last_t: Option<(u64, i128)>,
}

impl<'r> WindowReader<'r> {
    /// Locates the window through the time index; reads no event data yet.
    pub async fn open(rec: &'r Recording, window: Window) -> Result<Self, EventsError> {
        if window.from > window.to {
            return Err(EventsError::BadWindow {
                from: window.from,
                to: window.to,
            });
        }
        let (lo, hi) = candidate_rows(rec, window.from, window.to).await?;
        Self::open_rows(rec, window, lo..hi).await
    }

    /// As [`Self::open`], for a caller that already found the window's rows (the exports,
    /// which need its exact count first: [`super::enumerate::window_rows`]), so they are not
    /// looked up twice. The rows are checked against `t` as the index's are.
    pub async fn open_rows(
        rec: &'r Recording,
        window: Window,
        rows: std::ops::Range<u64>,
    ) -> Result<Self, EventsError> {
        if window.from > window.to {
            return Err(EventsError::BadWindow {
                from: window.from,
                to: window.to,
            });
        }
        let n = rec.events;
        let (mut lo, hi) = (rows.start.min(n), rows.end.clamp(rows.start.min(n), n));
        let expected_rows = hi.saturating_sub(lo);
        // Read one row early: it proves the index (t[lo-1] < from) or is caught below.
        lo = lo.saturating_sub(1);
        let align = rec
            .columns
            .all()
            .iter()
            .filter_map(|d| chunk_rows(d))
            .fold(1u64, lcm)
            .clamp(1, BATCH_ROWS / 4);
        // Nothing fetched yet: the first batch plans the first slab. A caller learns where
        // the window lies (and how many events to expect) before any event data is read —
        // the page shows that count while the data comes.
        let (prefetched_to, plan) = (lo, ChunkPlan::default());
        Ok(Self {
            rec,
            window,
            next_row: lo,
            // One row past the estimate proves where the window ends in the same batch.
            hint_end: hi.saturating_add(1).max(lo.saturating_add(1)),
            align,
            before_start: true,
            first_index: None,
            done: false,
            prefetched_to,
            plan,
            next_plan: None,
            slab_rows: SLAB_ROWS,
            expected_rows,
            carry: DecodedCarry::default(),
            last_t: None,
        })
    }

    /// Plans slabs of `rows` rows instead of millions: lets tests on small files cross slab
    /// ends (the hand-over from one slab's plan to the next). Not for use beyond tests.
    #[doc(hidden)]
    pub fn with_slab_rows(mut self, rows: u64) -> Self {
        self.slab_rows = rows.max(1);
        self
    }

    pub fn window(&self) -> Window {
        self.window
    }

    /// Fetches the stored bytes of the window's first slab without decoding them: the page's
    /// read-ahead, so that reading the window later costs no round.
    pub async fn prefetch(rec: &'r Recording, window: Window) -> Result<(), EventsError> {
        let reader = Self::open(rec, window).await?;
        let end = reader
            .hint_end
            .min(rec.events)
            .min(reader.next_row.saturating_add(SLAB_ROWS));
        plan_rows(rec, reader.next_row, end).await?;
        Ok(())
    }

    /// Rows the time index expects the window to span (an estimate for progress: the
    /// window's events are counted as they are read).
    pub fn expected_rows(&self) -> u64 {
        self.expected_rows
    }

    /// Row of the first event at or after `from`, once known (after the first batch).
    pub fn first_index(&self) -> Option<u64> {
        self.first_index
    }

    /// The next batch of the window's events, `None` once the window is exhausted. Batches
    /// may be empty only when the window is.
    pub async fn next_batch(&mut self) -> Result<Option<EventBatch>, EventsError> {
        let n = self.rec.events;
        while !self.done {
            let start = self.next_row;
            if start >= n {
                self.finish(n);
                break;
            }
            let end = self.batch_end(start);
            if end > self.prefetched_to && start < self.hint_end {
                // The next slab of a long window: one index walk and one fetch round for
                // millions of rows, instead of two rounds per batch.
                self.plan = ChunkPlan::default();
                match self.next_plan.take() {
                    Some((from, to, plan)) if from == start && end <= to => {
                        self.plan = plan;
                        self.prefetched_to = to;
                    }
                    _ => {
                        let slab_end = self.slab_end(start);
                        self.plan = plan_rows(self.rec, start, slab_end).await?;
                        self.prefetched_to = slab_end;
                    }
                }
            }
            let mut batch =
                read_columns(self.rec, start, end, &mut self.carry, &mut self.plan).await?;
            self.check_order(start, &batch.t)?;
            self.next_row = end;
            if end < n && self.rec.file.threads().count() > 1 {
                self.start_ahead(end).await?;
            }
            let t = &batch.t;
            let mut from_i = 0;
            if self.before_start {
                from_i = t.partition_below(self.window.from);
                if from_i == 0
                    && start > 0
                    && t.get(0).is_some_and(|v| v >= i128::from(self.window.from))
                {
                    // The time index pointed past the window's start (a wrong table):
                    // search `t` itself and start again.
                    let exact = first_rows_at_or_after(self.rec, &[self.window.from]).await?;
                    self.next_row = exact[0];
                    self.hint_end = self.hint_end.max(exact[0].saturating_add(1));
                    self.carry = DecodedCarry::default();
                    self.next_plan = None;
                    self.last_t = None;
                    if self.next_row == start {
                        self.before_start = false;
                        self.first_index = Some(start);
                    }
                    continue;
                }
                if from_i == t.len() {
                    continue;
                }
                self.before_start = false;
                self.first_index = Some(start + from_i as u64);
            }
            // Sorted (checked above), so the end lies at or after the start.
            let to_i = t.partition_below(self.window.to).max(from_i);
            if to_i < t.len() {
                self.done = true;
            }
            batch.keep(from_i..to_i);
            batch.first_index = start + from_i as u64;
            if !batch.is_empty() || self.done {
                return Ok(Some(batch));
            }
        }
        Ok(None)
    }

    /// Where the slab of rows planned together from `start` ends.
    fn slab_end(&self, start: u64) -> u64 {
        self.hint_end
            .min(self.rec.events)
            .min(start.saturating_add(self.slab_rows))
            .max(self.batch_end(start))
    }

    /// Starts decoding the chunks of the batches after the one ending at `end` on the decode
    /// threads, while the caller consumes it; plans the next slab when they reach it, so that
    /// the threads keep working while its bytes are fetched.
    async fn start_ahead(&mut self, end: u64) -> Result<(), EventsError> {
        let until = end.saturating_add(AHEAD_ROWS);
        let file = &self.rec.file;
        if end < self.prefetched_to {
            let rows = end..until.min(self.prefetched_to);
            let requests = column_requests(self.rec, rows);
            decode_ahead(file, &requests, &mut self.carry, &mut self.plan);
        }
        let last = self.hint_end.min(self.rec.events);
        if self.next_plan.is_none() && self.prefetched_to < last && until >= self.prefetched_to {
            // The batch that will cross the slab's end starts the next plan.
            let mut from = end;
            while self.batch_end(from) <= self.prefetched_to {
                from = self.batch_end(from);
            }
            let to = self.slab_end(from);
            let plan = plan_rows(self.rec, from, to).await?;
            self.next_plan = Some((from, to, plan));
        }
        if let Some((from, to, plan)) = self.next_plan.as_mut() {
            if until > *from {
                let requests = column_requests(self.rec, *from..until.min(*to));
                decode_ahead(file, &requests, &mut self.carry, plan);
            }
        }
        Ok(())
    }

    /// Where the batch starting at row `start` ends: a whole batch (aligned to the chunks)
    /// up to the index's estimate, small ones past it.
    fn batch_end(&self, start: u64) -> u64 {
        let n = self.rec.events;
        let want = if start < self.hint_end {
            (self.hint_end - start).min(BATCH_ROWS)
        } else {
            TAIL_BATCH_ROWS
        };
        let mut end = start.saturating_add(want).min(n);
        if want == BATCH_ROWS && end < n && end - start > self.align {
            end -= end % self.align;
        }
        end
    }

    /// Fails unless `t` (rows from `start`) is non-decreasing, from the last event of the
    /// batch before (when it ends at `start`) on: with unsorted times the window's rows would
    /// hold events outside `[from, to)`. One compare per event.
    fn check_order(&mut self, start: u64, t: &Values) -> Result<(), EventsError> {
        if let Some((row, before, after)) = order_break(self.last_t, start, t) {
            return Err(EventsError::Unsorted {
                what: self.rec.what().to_string(),
                path: self.rec.paths.t.clone(),
                row,
                later: row + 1,
                before,
                after,
            });
        }
        let n = t.len();
        self.last_t = t.get(n.wrapping_sub(1)).map(|v| (start + n as u64 - 1, v));
        Ok(())
    }

    fn finish(&mut self, n: u64) {
        self.done = true;
        if self.first_index.is_none() {
            self.first_index = Some(n);
        }
    }

    /// Reads the whole window into its digest, batch by batch.
    pub async fn digest(mut self) -> Result<WindowDigest, EventsError> {
        let mut digest = WindowDigest::new(self.rec, self.window);
        while let Some(batch) = self.next_batch().await? {
            digest.add(&batch);
        }
        digest.first_index = self.first_index.unwrap_or(self.rec.events);
        Ok(digest)
    }
}

/// The first row `r` where `t[r + 1] < t[r]` among rows `start..` (values `t`) and the last
/// row read before them (`last`: its row and value; only compared when it is `start - 1`), with
/// the two values.
fn order_break(last: Option<(u64, i128)>, start: u64, t: &Values) -> Option<(u64, i128, i128)> {
    if let (Some((row, before)), Some(first)) = (last, t.get(0)) {
        if row.saturating_add(1) == start && first < before {
            return Some((row, before, first));
        }
    }
    t.first_decrease()
        .map(|(i, a, b)| (start + i as u64 - 1, a, b))
}

/// Compressed bytes a window fetches up front in one round; longer windows stream the rest.
const PREFETCH_BYTES: u64 = 32 << 20;
/// Rows whose chunks are fetched together (~10 MB compressed at DSEC's ~2.4 bytes/event).
const SLAB_ROWS: u64 = 1 << 22;

/// Plans rows `[start, end)` of all columns: one index walk, then the stored bytes of their
/// first [`PREFETCH_BYTES`] in one round, held for the batches that decode them.
async fn plan_rows(rec: &Recording, start: u64, end: u64) -> Result<ChunkPlan, EventsError> {
    if start >= end {
        return Ok(ChunkPlan::default());
    }
    let requests: Vec<(&DatasetInfo, u64, std::ops::Range<u64>)> = rec
        .columns
        .fields()
        .iter()
        .map(|(d, f)| (*d, f.column, start..end))
        .collect();
    Ok(ChunkPlan::build(&rec.file, &requests, PREFETCH_BYTES).await?)
}

/// Rows `[start, end)` of the four columns, decoded straight into a batch: from the slab's
/// plan when it covers them, else after one index walk and one fetch round for all.
async fn read_columns(
    rec: &Recording,
    start: u64,
    end: u64,
    carry: &mut DecodedCarry,
    plan: &mut ChunkPlan,
) -> Result<EventBatch, EventsError> {
    let requests = column_requests(rec, start..end);
    let rows = usize::try_from(end.saturating_sub(start)).unwrap_or(0);
    let [x, y, t, p] = rec.columns.kinds().map(|k| Values::with_capacity(k, rows));
    let mut batch = EventBatch {
        first_index: start,
        x,
        y,
        t,
        p,
    };
    let mut sinks = [&mut batch.x, &mut batch.y, &mut batch.t, &mut batch.p];
    read_fields_into(&rec.file, &requests, &mut sinks, carry, Some(plan)).await?;
    Ok(batch)
}

/// Rows `rows` of the four columns, as reads take them.
fn column_requests(
    rec: &Recording,
    rows: std::ops::Range<u64>,
) -> Vec<(&DatasetInfo, crate::hdf5::Field, std::ops::Range<u64>)> {
    rec.columns
        .fields()
        .iter()
        .map(|(d, f)| (*d, *f, rows.clone()))
        .collect()
}

fn chunk_rows(ds: &DatasetInfo) -> Option<u64> {
    match &ds.layout {
        crate::hdf5::DataLayout::Chunked { chunk, .. } => chunk.first().copied(),
        _ => None,
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn lcm(a: u64, b: u64) -> u64 {
    if a == 0 || b == 0 {
        a.max(b)
    } else {
        (a / gcd(a, b)).saturating_mul(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_breaks_are_found_inside_batches_and_across_their_boundary() {
        let t = Values::U32(vec![5, 5, 7]);
        assert_eq!(order_break(None, 100, &t), None);
        assert_eq!(order_break(Some((99, 5)), 100, &t), None);
        // The batch before ended on a later time: rows 99..100 are out of order.
        assert_eq!(order_break(Some((99, 6)), 100, &t), Some((99, 6, 5)));
        // Not the row before this batch (a restart elsewhere): not compared.
        assert_eq!(order_break(Some((50, 6)), 100, &t), None);
        let t = Values::I64(vec![-3, 9, 8, 1]);
        assert_eq!(order_break(Some((9, -4)), 10, &t), Some((11, 9, 8)));
    }
}
