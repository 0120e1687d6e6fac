//! The picture of one window: events counted per pixel and polarity, batch by batch.

use crate::events::EventBatch;
use crate::hdf5::values::{each_values, Stored};

/// Most events kept for the point cloud; beyond, every other one is dropped and the stride
/// doubles, so a long window keeps an even sample across its length.
pub const MAX_POINTS: usize = 1 << 16;

/// Per pixel of a `width × height` sensor (rows from y = 0): positive count, negative count,
/// and the latest event time of the window as `t - origin + 1` (0: no event, saturating at
/// `u32::MAX`; the time surface is drawn from it). The three sit together so that counting
/// an event touches one place in memory ([`Frame::counts`] and [`Frame::last_times`] split
/// them for the page's textures).
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub cells: Vec<[u32; 3]>,
    /// Events that fell outside the sensor (x or y out of range); not drawn.
    pub outside: u64,
    pub positive: u64,
    pub negative: u64,
    /// The window's start (µs of the stored t): the cells' times count from here.
    pub origin: i64,
    /// A sample of the window's on-sensor events for the x-y-t point cloud: `x, y,
    /// t - origin (saturating u32), polarity (1 positive, 0 negative)` per event.
    pub points: Vec<u32>,
    /// Every `stride`-th on-sensor event goes into `points`.
    pub stride: u64,
    /// On-sensor events seen so far (for the stride).
    pub seen: u64,
    /// `seen % stride`: the next event is sampled when it is 0.
    pub phase: u64,
    /// Whether `points` is kept (the page's cloud); PNG export only needs the counts.
    pub sample_points: bool,
    /// One batch's columns in the forms counting needs, reused from batch to batch.
    scratch: Scratch,
}

/// A batch's columns turned, whatever their stored types, into what the counting loop reads:
/// x and y as sensor coordinates (`u32::MAX` off the sensor: negative, too large or beyond
/// `u32`), `p > 0` as 0/1, and each event's time as [`since`] the window's start.
#[derive(Debug, Clone, Default)]
struct Scratch {
    x: Vec<u32>,
    y: Vec<u32>,
    positive: Vec<u8>,
    since: Vec<u32>,
}

impl Scratch {
    fn fill(&mut self, batch: &EventBatch, width: u32, height: u32, origin: i64) {
        fn coords<T: Stored>(v: &[T], limit: u32, out: &mut Vec<u32>) {
            out.clear();
            out.extend(v.iter().map(|&e| e.index_below(limit)));
        }
        fn positive<T: Stored>(v: &[T], out: &mut Vec<u8>) {
            out.clear();
            out.extend(v.iter().map(|&e| u8::from(e.positive())));
        }
        fn times<T: Stored>(v: &[T], origin: i64, out: &mut Vec<u32>) {
            out.clear();
            // A u64 time beyond i64 is later than any window start: it saturates.
            out.extend(
                v.iter()
                    .map(|&e| since(e.to_i64().unwrap_or(i64::MAX), origin)),
            );
        }
        each_values!(&batch.x, v => coords(v, width, &mut self.x));
        each_values!(&batch.y, v => coords(v, height, &mut self.y));
        each_values!(&batch.p, v => positive(v, &mut self.positive));
        each_values!(&batch.t, v => times(v, origin, &mut self.since));
        let n = batch.len();
        for column in [&mut self.x, &mut self.y, &mut self.since] {
            column.resize(n, u32::MAX);
        }
        self.positive.resize(n, 0);
    }
}

impl Frame {
    pub fn new(width: u32, height: u32) -> Self {
        let cells = (width as usize) * (height as usize);
        Self {
            width,
            height,
            cells: vec![[0; 3]; cells],
            stride: 1,
            sample_points: true,
            ..Default::default()
        }
    }

    /// A frame that counts but keeps no point sample.
    pub fn counts_only(width: u32, height: u32) -> Self {
        Self {
            sample_points: false,
            ..Self::new(width, height)
        }
    }

    /// Starts over for a window beginning at `origin`, every count and time at zero (keeps
    /// the allocation).
    pub fn clear(&mut self, origin: i64) {
        self.cells.fill([0; 3]);
        self.origin = origin;
        self.outside = 0;
        self.positive = 0;
        self.negative = 0;
        self.points.clear();
        self.stride = 1;
        self.seen = 0;
        self.phase = 0;
    }

    /// Keeps event `(x, y, since, positive)` in the point sample if its turn has come: every
    /// `stride`-th on-sensor event (`phase` = `seen % stride`, kept without a division).
    #[inline]
    fn sample(&mut self, x: u32, y: u32, since: u32, positive: bool) {
        let turn = self.phase == 0;
        self.seen += 1;
        self.phase += 1;
        if self.phase >= self.stride {
            self.phase = 0;
        }
        if !turn {
            return;
        }
        if self.points.len() >= MAX_POINTS * 4 {
            // Full: keep every other point and take every other event from now on.
            self.halve_points();
            if !(self.seen - 1).is_multiple_of(self.stride) {
                return;
            }
        }
        self.points
            .extend_from_slice(&[x, y, since - 1, u32::from(positive)]);
    }

    /// Counts every event of `batch`: stored polarity > 0 is positive, anything else
    /// negative (files store 0/1, -1/1, 0/255). The hot loop of the viewer: the columns are
    /// first turned into coordinates, flags and times (one pass each, whatever their stored
    /// types), then one pass touches one place in memory per event, its state in locals; the
    /// point sample is taken in a pass of its own. Never inlined: in the browser a function
    /// is optimised only once it is called often, and the page's window loop that calls this
    /// runs once per window.
    #[inline(never)]
    pub fn add(&mut self, batch: &EventBatch) {
        let (w, h) = (self.width, self.height);
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.fill(batch, w, h, self.origin);
        let cells = &mut self.cells[..];
        let (mut positive, mut outside) = (0u64, 0u64);
        let events = scratch
            .x
            .iter()
            .zip(&scratch.y)
            .zip(&scratch.positive)
            .zip(&scratch.since);
        for (((&x, &y), &p), &since) in events {
            // Off-sensor coordinates are u32::MAX and fail the same test.
            if x >= w || y >= h {
                outside += 1;
                continue;
            }
            let pixel = y as usize * w as usize + x as usize;
            let is_positive = p != 0;
            positive += u64::from(is_positive);
            let Some(cell) = cells.get_mut(pixel) else {
                continue;
            };
            let slot = usize::from(!is_positive);
            cell[slot] = cell[slot].saturating_add(1);
            cell[2] = cell[2].max(since);
        }
        let events = scratch.x.len() as u64;
        self.positive += positive;
        self.negative += events - outside - positive;
        self.outside += outside;
        if self.sample_points {
            if outside == 0 {
                self.sample_all(&scratch);
            } else {
                self.sample_on_sensor(&scratch);
            }
        }
        self.scratch = scratch;
    }

    /// The point sample of a batch whose events are all on the sensor: the sampled events
    /// are every `stride`-th, so the loop jumps from one to the next.
    fn sample_all(&mut self, batch: &Scratch) {
        let n = batch.x.len() as u64;
        let start = self.seen;
        // Next event (batch position) whose on-sensor index is a multiple of the stride.
        let mut next = (self.stride - self.phase) % self.stride;
        while next < n {
            if self.points.len() >= MAX_POINTS * 4 {
                self.halve_points();
                let index = start + next;
                if !index.is_multiple_of(self.stride) {
                    next += self.stride - index % self.stride;
                    continue;
                }
            }
            let i = next as usize;
            let (Some(&x), Some(&y), Some(&since), Some(&p)) = (
                batch.x.get(i),
                batch.y.get(i),
                batch.since.get(i),
                batch.positive.get(i),
            ) else {
                break;
            };
            self.points
                .extend_from_slice(&[x, y, since - 1, u32::from(p)]);
            next += self.stride;
        }
        self.seen = start + n;
        self.phase = self.seen % self.stride;
    }

    /// The point sample of a batch with events off the sensor (which are never sampled and
    /// do not count towards the stride).
    fn sample_on_sensor(&mut self, batch: &Scratch) {
        let events = batch
            .x
            .iter()
            .zip(&batch.y)
            .zip(&batch.positive)
            .zip(&batch.since);
        for (((&x, &y), &p), &since) in events {
            if x < self.width && y < self.height {
                self.sample(x, y, since, p != 0);
            }
        }
    }

    /// Keeps every other point and doubles the stride (the sample is full).
    fn halve_points(&mut self) {
        let kept: Vec<u32> = self
            .points
            .chunks_exact(4)
            .step_by(2)
            .flatten()
            .copied()
            .collect();
        self.points = kept;
        self.stride = self.stride.max(1) * 2;
        self.phase = self.seen % self.stride;
    }

    /// Largest per-pixel total (positive + negative), for scaling the heatmap.
    pub fn max_total(&self) -> u32 {
        self.cells
            .iter()
            .map(|c| c[0].saturating_add(c[1]))
            .max()
            .unwrap_or(0)
    }

    /// Positive and negative counts per pixel, interleaved (`[2 * pixel]` positive, `+ 1`
    /// negative): one `RG32UI` texture holds both.
    pub fn counts(&self) -> Vec<u32> {
        self.cells.iter().flat_map(|c| [c[0], c[1]]).collect()
    }

    /// Each pixel's latest event time, `t - origin + 1` (0: none): the time surface's texture.
    pub fn last_times(&self) -> Vec<u32> {
        self.cells.iter().map(|c| c[2]).collect()
    }

    /// Pixels with events: `(all, positive-majority, negative-majority)`. Polarity mode
    /// draws the second blue and the third red (a tie counts as positive).
    pub fn pixels(&self) -> (u64, u64, u64) {
        let (mut pos, mut neg) = (0, 0);
        for c in &self.cells {
            if c[0] == 0 && c[1] == 0 {
                continue;
            }
            if c[0] >= c[1] {
                pos += 1;
            } else {
                neg += 1;
            }
        }
        (pos + neg, pos, neg)
    }

    /// The count the heatmap saturates at: the 99th percentile of lit pixels' totals (at
    /// least 1), so that a few hot pixels do not leave everything else dark.
    pub fn scale(&self) -> u32 {
        let mut totals: Vec<u32> = self
            .cells
            .iter()
            .map(|c| c[0].saturating_add(c[1]))
            .filter(|&t| t > 0)
            .collect();
        if totals.is_empty() {
            return 1;
        }
        let k = (totals.len() - 1) * 99 / 100;
        let (_, v, _) = totals.select_nth_unstable(k);
        (*v).max(1)
    }
}

/// µs since the window's start, plus one (0 means "no event here"), saturating at `u32::MAX`.
#[inline(always)]
fn since(t: i64, origin: i64) -> u32 {
    t.saturating_sub(origin)
        .saturating_add(1)
        .clamp(1, i64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_counts_from_one_and_saturates() {
        let max = i64::from(u32::MAX);
        for (t, origin, want) in [
            (1000, 1000, 1),
            (1005, 1000, 6),
            (999, 1000, 1),
            (i64::MIN, 1000, 1),
            (1000 + max - 2, 1000, u32::MAX - 1),
            (1000 + max - 1, 1000, u32::MAX),
            (1000 + max, 1000, u32::MAX),
            (i64::MAX, -5, u32::MAX),
            (i64::MIN, i64::MAX, 1),
        ] {
            assert_eq!(since(t, origin), want, "t {t} origin {origin}");
        }
    }

    fn batch(events: &[(i32, i32, i64, i8)]) -> EventBatch {
        use crate::hdf5::Values;
        EventBatch {
            first_index: 0,
            x: Values::I32(events.iter().map(|e| e.0).collect()),
            y: Values::I32(events.iter().map(|e| e.1).collect()),
            t: Values::I64(events.iter().map(|e| e.2).collect()),
            p: Values::I8(events.iter().map(|e| e.3).collect()),
        }
    }

    #[test]
    fn stored_polarity_255_is_positive_and_wide_coordinates_are_off_sensor() {
        use crate::hdf5::Values;
        let mut f = Frame::new(4, 3);
        f.clear(0);
        f.add(&EventBatch {
            first_index: 0,
            x: Values::U64(vec![1, 1, 1 << 32, 2]),
            y: Values::I16(vec![2, 2, 0, -1]),
            t: Values::U32(vec![5, 6, 7, 8]),
            p: Values::U8(vec![255, 0, 255, 255]),
        });
        let cell = 2 * (2 * 4 + 1);
        assert_eq!(&f.counts()[cell..cell + 2], &[1, 1]);
        assert_eq!((f.positive, f.negative, f.outside), (1, 1, 2));
    }

    #[test]
    fn counts_polarity_latest_time_and_outside() {
        let mut f = Frame::new(4, 3);
        f.clear(1000);
        f.add(&batch(&[
            (1, 2, 1000, 1),
            (1, 2, 1005, 0),
            (1, 2, 1003, -1),
            (3, 0, 1010, 1),
            (4, 0, 1, 1),
            (-1, 1, 1, 0),
        ]));
        let counts = f.counts();
        let cell = 2 * (2 * 4 + 1);
        assert_eq!(&counts[cell..cell + 2], &[1, 2]);
        assert_eq!(
            f.last_times()[2 * 4 + 1],
            6,
            "t - from + 1 of the latest event"
        );
        assert_eq!(counts[2 * 3], 1);
        assert_eq!((f.positive, f.negative, f.outside), (2, 2, 2));
        assert_eq!(f.max_total(), 3);
        assert_eq!(f.pixels(), (2, 1, 1));
        assert_eq!(
            f.points.len(),
            4 * 4,
            "every on-sensor event sampled while there is room"
        );
    }

    #[test]
    fn point_sample_stays_bounded_and_even() {
        let mut f = Frame::new(10, 10);
        f.clear(0);
        let n = MAX_POINTS * 5 + 3;
        let events: Vec<_> = (0..n).map(|i| ((i % 10) as i32, 0, i as i64, 1)).collect();
        f.add(&batch(&events));
        let kept = f.points.len() / 4;
        assert!(kept <= MAX_POINTS && kept > MAX_POINTS / 4, "{kept} points");
        // Kept events are exactly every stride-th: their times are multiples of the stride.
        let times: Vec<u32> = f.points.chunks_exact(4).map(|p| p[2]).collect();
        assert!(
            times.iter().all(|&t| u64::from(t) % f.stride == 0),
            "stride {}",
            f.stride
        );
        assert_eq!(times.len() as u64, (n as u64).div_ceil(f.stride));
        let mut counts_only = Frame::counts_only(10, 10);
        counts_only.clear(0);
        counts_only.add(&batch(&events));
        assert!(counts_only.points.is_empty());
        assert_eq!(counts_only.cells, f.cells);
    }

    #[test]
    fn point_sample_is_the_same_whatever_the_batches() {
        let n = MAX_POINTS * 3 + 17;
        let events: Vec<(i32, i32, i64, i8)> = (0..n)
            .map(|i| ((i % 7) as i32, (i % 5) as i32, i as i64, (i % 3) as i8 - 1))
            .collect();
        let sample = |batches: &[Vec<(i32, i32, i64, i8)>]| {
            let mut f = Frame::new(10, 10);
            f.clear(0);
            for b in batches {
                f.add(&batch(b));
            }
            (f.points, f.stride, f.cells)
        };
        let whole = sample(std::slice::from_ref(&events));
        // Uneven batches, jumping from one sampled event to the next.
        let cuts = [0, 1, 999, 65_536, 70_001, 131_072, 150_000, n];
        let split: Vec<Vec<_>> = cuts
            .windows(2)
            .map(|c| events[c[0]..c[1]].to_vec())
            .collect();
        assert_eq!(sample(&split), whole);
        // Off-sensor events (never sampled, not counted) in some batches: the per-event path.
        let mut with_outside = split.clone();
        with_outside[2].insert(10, (10, 0, 5, 1));
        with_outside[4].insert(0, (-1, 3, 5, 1));
        with_outside[5].push((0, 10, 5, 1));
        let (points, stride, _) = sample(&with_outside);
        assert_eq!((points, stride), (whole.0, whole.1));
    }
}
