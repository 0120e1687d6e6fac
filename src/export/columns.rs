//! A whole window read into output columns in memory: what a caller that wants the events
//! themselves (the Python package's `rec.window`, a future page export) asks for, with the
//! same output options as the file writers, so every front end returns the same values.
//!
//! The file writers stream batch by batch instead; this gathers the batches, so its memory is
//! the window's arrays (pre-sized from the time index, so they are not grown by doubling).

use super::convert::{convert_into, output_types};
use super::{ExportBatch, ExportError, ExportOptions, TimeBase};
use crate::events::enumerate::window_rows;
use crate::events::time_index::{first_rows_at_or_after, sample_times};
use crate::events::{Recording, Summary, Window, WindowReader};
use crate::hdf5::Values;

/// Reservations beyond this many rows are left to grow: the time index is only a hint and a
/// hostile file may claim any count.
const MAX_RESERVE_ROWS: u64 = 1 << 28;

/// A window's events in output form, and the row of its first event.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowColumns {
    pub window: Window,
    /// Row of the first event (the file's event count when the window is empty).
    pub first_index: u64,
    pub events: ExportBatch,
}

/// Events `from ≤ t < to` of `rec`, rewritten by `options`.
pub async fn read_window(
    rec: &Recording,
    summary: &Summary,
    window: Window,
    options: &ExportOptions,
) -> Result<WindowColumns, ExportError> {
    let (first, count) = window_rows(rec, window.from, window.to).await?;
    let rows = first..first.saturating_add(count);
    read_into(rec, summary, window, options, rows, u64::MAX).await
}

/// The first `count` events at or after `from` (fewer when the recording ends first): the
/// window adapts its length to the event density. Its `to` is one µs past the last event
/// returned (`from` when there is none).
pub async fn read_count(
    rec: &Recording,
    summary: &Summary,
    from: i64,
    count: u64,
    options: &ExportOptions,
) -> Result<WindowColumns, ExportError> {
    let first = first_rows_at_or_after(rec, &[from])
        .await?
        .first()
        .copied()
        .unwrap_or(rec.events);
    let last = first.saturating_add(count);
    // A time at or after the t of row `last`: the end of the chunk holding it (t is sorted),
    // so the window [from, end] holds at least `count` events and is cut to exactly that.
    let to = if last < rec.events {
        sample_times(rec, &[last])
            .await?
            .iter()
            .filter(|(row, _)| *row >= last)
            .map(|&(_, t)| t)
            .max()
            .map_or(i64::MAX, |t| t.saturating_add(1))
    } else {
        i64::MAX
    };
    let window = Window {
        from,
        to: to.max(from),
    };
    let rows = first..first.saturating_add(count).min(rec.events);
    let mut out = read_into(rec, summary, window, options, rows, count).await?;
    out.window.to = match last_value(&out.events.t) {
        Some(t) => last_stored_t(t, &out, summary, options).saturating_add(1),
        None => from,
    };
    Ok(out)
}

/// The last value of a column, saturated into `i64`.
fn last_value(values: &Values) -> Option<i64> {
    let last = values.get(values.len().checked_sub(1)?)?;
    Some(i64::try_from(last).unwrap_or(if last < 0 { i64::MIN } else { i64::MAX }))
}

/// The stored `t` of the last event (`t`, as written), undoing the output time shift.
fn last_stored_t(
    t: i64,
    columns: &WindowColumns,
    summary: &Summary,
    options: &ExportOptions,
) -> i64 {
    if options.normalize {
        t.saturating_add(columns.window.from)
    } else if options.absolute_time {
        t.saturating_sub(summary.t_offset)
    } else {
        t
    }
}

/// Stored bytes an in-memory export fetches in its first round (a 1 s DSEC window is ~35 MB);
/// a window beyond this fetches the rest batch by batch.
const WHOLE_WINDOW_FETCH_BYTES: u64 = 256 << 20;

/// Reads `window` batch by batch into columns pre-sized for its `rows` (found by the caller,
/// so the reader does not look them up again), stopping after `limit` events.
async fn read_into(
    rec: &Recording,
    summary: &Summary,
    window: Window,
    options: &ExportOptions,
    rows: std::ops::Range<u64>,
    limit: u64,
) -> Result<WindowColumns, ExportError> {
    let hint = rows.end.saturating_sub(rows.start);
    let base = TimeBase::new(summary, window.from);
    let reserve = usize::try_from(hint.min(limit).min(MAX_RESERVE_ROWS)).unwrap_or(0);
    let mut events = ExportBatch::empty(output_types(rec.columns.kinds(), options), reserve);
    // The whole window ends up in memory: plan it in one walk and one fetch round.
    let mut reader = WindowReader::open_rows(rec, window, rows)
        .await?
        .whole_window(WHOLE_WINDOW_FETCH_BYTES);
    while (events.len() as u64) < limit {
        let Some(mut batch) = reader.next_batch().await? else {
            break;
        };
        let room = usize::try_from(limit - events.len() as u64).unwrap_or(usize::MAX);
        if batch.len() > room {
            for column in [&mut batch.x, &mut batch.y, &mut batch.t, &mut batch.p] {
                column.keep(0..room);
            }
        }
        convert_into(&batch, options, &base, &mut events)?;
    }
    Ok(WindowColumns {
        window,
        first_index: reader.first_index().unwrap_or(rec.events),
        events,
    })
}
