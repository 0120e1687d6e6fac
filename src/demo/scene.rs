//! A synthetic event camera looking at a small scene: a rotating bar, a moving textured
//! square and a bouncing disc in front of a static, shaded background.
//!
//! Each pixel follows the usual event-sensor model: it remembers the log intensity at its
//! last event (the reference) and fires an event each time the current log intensity moves
//! a contrast threshold `C` away from it — positive when brighter, negative when darker —
//! then moves the reference by `C`. The scene is sampled every [`STEP_US`]; the times of
//! the threshold crossings are interpolated linearly inside the step. Thresholds vary a
//! little from pixel to pixel, and a sparse background-activity noise is added, as on a
//! real sensor.
//!
//! Only the pixels an object covers (with a margin for its soft edges) before or after a
//! step can change in that step, so each step evaluates just those row spans; the image is
//! split into horizontal bands simulated on separate threads. Everything is a pure function
//! of the step index and fixed seeds, so the output does not depend on the thread count.

use std::f32::consts::PI;

pub const WIDTH: usize = 640;
pub const HEIGHT: usize = 480;
/// Length of the recording.
pub const DURATION_US: u32 = 12_000_000;
/// Scene sampling period; event times are interpolated inside it.
pub const STEP_US: u32 = 500;
/// Background-activity noise, events per second over the whole sensor.
const NOISE_RATE: f64 = 25_000.0;
/// Mean contrast threshold (log intensity) and its pixel-to-pixel spread.
const THRESHOLD: f32 = 0.22;
const THRESHOLD_SPREAD: f32 = 0.03;
/// Fixed seed: the recording is the same on every machine.
pub const SEED: u64 = 0x5742_0be0_d3c0_0001;
/// Extra pixels around an object's outline that its soft edge may touch.
const MARGIN: f32 = 2.5;

/// Events in time order, DSEC column types.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Events {
    pub x: Vec<u16>,
    pub y: Vec<u16>,
    pub t: Vec<u32>,
    pub p: Vec<u8>,
}

impl Events {
    pub fn len(&self) -> usize {
        self.t.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// `ms_to_idx[ms]` = first index with `t >= ms*1000`, for `ms` in `0..=t_last/1000`.
    pub fn ms_to_idx(&self) -> Vec<u64> {
        let last = self.t.last().copied().unwrap_or(0) / 1000;
        let mut out = Vec::with_capacity(last as usize + 1);
        let mut i = 0usize;
        for ms in 0..=last {
            let bound = ms * 1000;
            while i < self.t.len() && self.t[i] < bound {
                i += 1;
            }
            out.push(i as u64);
        }
        out
    }
}

/// SplitMix64: small, fast, and good enough for noise and thresholds.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (sum of four uniforms), mean 0, standard deviation 1.
    fn normal(&mut self) -> f64 {
        let s: f64 = (0..4).map(|_| self.unit()).sum();
        (s - 2.0) * (3.0f64).sqrt()
    }
}

fn smoothstep(t: f32, a: f32, b: f32) -> f32 {
    let x = ((t - a) / (b - a)).clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// 0 before `on0`, rising to 1 by `on1`, falling from `off0` to 0 at `off1` (seconds).
fn active(t: f32, on0: f32, on1: f32, off0: f32, off1: f32) -> f32 {
    smoothstep(t, on0, on1) * (1.0 - smoothstep(t, off0, off1))
}

/// How fast each object's own clock runs at scene time `t` (seconds). The schedule gives
/// quiet stretches (0–1 s, 6.3–7.6 s: noise only), moderate ones (the disc alone, the bar
/// turning slowly) and a busy one (9.8–11 s: everything, the bar fast).
fn speeds(t: f32) -> [f32; 3] {
    let bar = 0.35 * active(t, 3.2, 4.0, 5.6, 6.3) + 1.3 * active(t, 9.2, 9.8, 11.0, 11.6);
    let square = active(t, 7.6, 8.2, 11.4, 12.0);
    let disc = active(t, 1.0, 1.01, 5.9, 6.3) + active(t, 8.8, 9.2, 12.0, 12.5);
    [bar, square, disc]
}

/// Where the objects are at one instant.
#[derive(Clone, Copy, Debug)]
struct State {
    /// Bar: centre, angle, half length, half width.
    bar_c: (f32, f32),
    bar_angle: f32,
    /// Square: centre and half side (axis-aligned; its texture moves with it).
    sq_c: (f32, f32),
    /// Disc: centre.
    disc_c: (f32, f32),
}

const BAR_HALF_LEN: f32 = 150.0;
const BAR_HALF_WIDTH: f32 = 7.0;
const BAR_LEVEL: f32 = 0.62;
const SQ_HALF: f32 = 60.0;
const SQ_CELL: f32 = 15.0;
const DISC_R: f32 = 28.0;
const DISC_LEVEL: f32 = 0.12;
const FLOOR_Y: f32 = 462.0;
const GRAVITY: f32 = 900.0;

/// Advances the objects' clocks step by step (the same sequence on every thread).
struct Motion {
    clocks: [f32; 3],
    disc_p: (f32, f32),
    disc_v: (f32, f32),
}

impl Motion {
    fn new() -> Self {
        Motion {
            clocks: [0.0; 3],
            disc_p: (520.0, 220.0),
            disc_v: (-220.0, 0.0),
        }
    }

    fn state(&self) -> State {
        let [tb, ts, _] = self.clocks;
        State {
            bar_c: (440.0, 250.0),
            bar_angle: 0.3 + 2.0 * PI * tb,
            sq_c: (
                175.0 + 95.0 * (1.3 * ts).sin(),
                240.0 + 150.0 * (0.9 * ts + 0.4).sin(),
            ),
            disc_c: self.disc_p,
        }
    }

    /// Moves the scene from `t` to `t + dt` (seconds).
    fn step(&mut self, t: f32, dt: f32) {
        let s = speeds(t + 0.5 * dt);
        for (c, v) in self.clocks.iter_mut().zip(s) {
            *c += v * dt;
        }
        // The disc: gravity and elastic bounces, on its own clock.
        let h = s[2] * dt;
        if h > 0.0 {
            self.disc_v.1 += GRAVITY * h;
            self.disc_p.0 += self.disc_v.0 * h;
            self.disc_p.1 += self.disc_v.1 * h;
            if self.disc_p.1 > FLOOR_Y - DISC_R {
                self.disc_p.1 = 2.0 * (FLOOR_Y - DISC_R) - self.disc_p.1;
                self.disc_v.1 = -self.disc_v.1.abs();
            }
            let (lo, hi) = (DISC_R + 4.0, WIDTH as f32 - DISC_R - 4.0);
            if self.disc_p.0 < lo {
                self.disc_p.0 = 2.0 * lo - self.disc_p.0;
                self.disc_v.0 = self.disc_v.0.abs();
            } else if self.disc_p.0 > hi {
                self.disc_p.0 = 2.0 * hi - self.disc_p.0;
                self.disc_v.0 = -self.disc_v.0.abs();
            }
        }
    }
}

/// Coverage of a soft edge from a signed distance (negative inside), about 1 px wide.
fn coverage(sd: f32) -> f32 {
    (0.5 - sd).clamp(0.0, 1.0)
}

/// Signed distance to an axis-aligned box of half sizes (hx, hy) centred at the origin.
fn box_sd(px: f32, py: f32, hx: f32, hy: f32) -> f32 {
    let dx = px.abs() - hx;
    let dy = py.abs() - hy;
    let outside = (dx.max(0.0).powi(2) + dy.max(0.0).powi(2)).sqrt();
    outside + dx.max(dy).min(0.0)
}

/// A soft square wave along one axis of the checker texture: ±1 inside cells, 0 on edges.
fn checker_axis(u: f32) -> f32 {
    let cell = (u / SQ_CELL).floor();
    let f = u - cell * SQ_CELL;
    let d = f.min(SQ_CELL - f);
    let sign = if (cell as i64) & 1 == 0 { 1.0 } else { -1.0 };
    sign * (d / 0.8).min(1.0)
}

/// Brightness (0..1) at a pixel centre given the background there.
fn shade(bg: f32, s: &State, x: f32, y: f32) -> f32 {
    let mut v = bg;
    // Square with a checker texture and a darker rim.
    let (ux, uy) = (x - s.sq_c.0, y - s.sq_c.1);
    if ux.abs() < SQ_HALF + MARGIN && uy.abs() < SQ_HALF + MARGIN {
        let a = coverage(box_sd(ux, uy, SQ_HALF, SQ_HALF));
        if a > 0.0 {
            let rim = coverage(-box_sd(ux, uy, SQ_HALF - 4.0, SQ_HALF - 4.0));
            let tex = 0.5 + 0.13 * checker_axis(ux + SQ_HALF) * checker_axis(uy + SQ_HALF);
            let tex = tex * (1.0 - rim) + 0.18 * rim;
            v += (tex - v) * a;
        }
    }
    // Bar.
    let (dx, dy) = (x - s.bar_c.0, y - s.bar_c.1);
    if dx * dx + dy * dy < (BAR_HALF_LEN + BAR_HALF_WIDTH + MARGIN).powi(2) {
        let (sn, cs) = s.bar_angle.sin_cos();
        let (lx, ly) = (dx * cs + dy * sn, -dx * sn + dy * cs);
        let a = coverage(box_sd(lx, ly, BAR_HALF_LEN, BAR_HALF_WIDTH));
        v += (BAR_LEVEL - v) * a;
    }
    // Disc.
    let (dx, dy) = (x - s.disc_c.0, y - s.disc_c.1);
    let r2 = dx * dx + dy * dy;
    if r2 < (DISC_R + MARGIN).powi(2) {
        let a = coverage(r2.sqrt() - DISC_R);
        v += (DISC_LEVEL - v) * a;
    }
    v
}

/// The static background: a soft vignette with gentle shading.
fn background(x: usize, y: usize) -> f32 {
    let (fx, fy) = (x as f32, y as f32);
    let (cx, cy) = (fx / WIDTH as f32 - 0.5, fy / HEIGHT as f32 - 0.5);
    let vignette = 1.0 - 0.6 * (cx * cx + cy * cy);
    let pattern =
        0.06 * (fx / 23.0).sin() * (fy / 31.0).sin() + 0.04 * (fx / 9.0 + fy / 13.0).sin();
    (0.30 * vignette + pattern).clamp(0.05, 1.0)
}

/// Which objects moved between two states: square, disc, bar.
fn moved(a: &State, b: &State) -> [bool; 3] {
    [
        a.sq_c != b.sq_c,
        a.disc_c != b.disc_c,
        a.bar_angle != b.bar_angle || a.bar_c != b.bar_c,
    ]
}

/// Row spans `[x0, x1)` that the objects marked in `which` (square, disc, bar) may touch in
/// `row` at state `s`, appended to `out`.
fn spans(s: &State, which: [bool; 3], row: usize, out: &mut Vec<(i32, i32)>) {
    let y = row as f32 + 0.5;
    let mut push = |a: f32, b: f32| {
        let (a, b) = ((a - 0.5).floor() as i32, (b + 0.5).ceil() as i32 + 1);
        let (a, b) = (a.max(0), b.min(WIDTH as i32));
        if a < b {
            out.push((a, b));
        }
    };
    // Square: its bounding box.
    let h = SQ_HALF + MARGIN;
    if which[0] && (y - s.sq_c.1).abs() <= h {
        push(s.sq_c.0 - h, s.sq_c.0 + h);
    }
    // Disc: the chord of the enlarged circle.
    let r = DISC_R + MARGIN;
    let dy = y - s.disc_c.1;
    if which[1] && dy.abs() <= r {
        let half = (r * r - dy * dy).max(0.0).sqrt();
        push(s.disc_c.0 - half, s.disc_c.0 + half);
    }
    // Bar: the row's cut through the enlarged rotated rectangle (a convex polygon).
    if !which[2] {
        return;
    }
    let (sn, cs) = s.bar_angle.sin_cos();
    let (hl, hw) = (BAR_HALF_LEN + MARGIN, BAR_HALF_WIDTH + MARGIN);
    let corners = [(hl, hw), (-hl, hw), (-hl, -hw), (hl, -hw)]
        .map(|(lx, ly)| (s.bar_c.0 + lx * cs - ly * sn, s.bar_c.1 + lx * sn + ly * cs));
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for i in 0..4 {
        let (a, b) = (corners[i], corners[(i + 1) % 4]);
        let (ymin, ymax) = (a.1.min(b.1), a.1.max(b.1));
        if y < ymin || y > ymax {
            continue;
        }
        let x = if (b.1 - a.1).abs() < 1e-6 {
            lo = lo.min(a.0.min(b.0));
            hi = hi.max(a.0.max(b.0));
            continue;
        } else {
            a.0 + (y - a.1) * (b.0 - a.0) / (b.1 - a.1)
        };
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if lo <= hi {
        push(lo, hi);
    }
}

/// Sorts and merges spans in place.
fn merge(spans: &mut Vec<(i32, i32)>) {
    spans.sort_unstable();
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(spans.len());
    for &(a, b) in spans.iter() {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    *spans = out;
}

/// Per-pixel contrast thresholds (positive, negative), fixed by the seed.
fn thresholds(index: usize) -> (f32, f32) {
    let mut rng = Rng::new(SEED ^ (index as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let mut one = || (THRESHOLD + THRESHOLD_SPREAD * rng.normal() as f32).max(0.08);
    (one(), one())
}

/// One event before sorting: time, row, column, polarity.
type Raw = (u32, u16, u16, u8);

/// Simulates the given rows over the whole recording; returns the events of each step.
fn simulate_rows(rows: &[usize], steps: u32) -> (Vec<Raw>, Vec<usize>) {
    let pixel = |i: usize| (i % WIDTH, rows[i / WIDTH]);
    let n = rows.len() * WIDTH;
    let bg: Vec<f32> = (0..n).map(&pixel).map(|(x, y)| background(x, y)).collect();
    let thr: Vec<(f32, f32)> = (0..n)
        .map(&pixel)
        .map(|(x, y)| thresholds(y * WIDTH + x))
        .collect();
    let mut motion = Motion::new();
    let mut prev = motion.state();
    // Log intensity at the last sample, and at the last event (the reference).
    let mut last: Vec<f32> = Vec::with_capacity(n);
    for (i, &b) in bg.iter().enumerate() {
        let (x, y) = pixel(i);
        last.push(shade(b, &prev, x as f32 + 0.5, y as f32 + 0.5).ln());
    }
    let mut reference = last.clone();
    let mut events: Vec<Raw> = Vec::new();
    let mut ends = Vec::with_capacity(steps as usize);
    let mut row_spans = Vec::new();
    let dt = STEP_US as f32 * 1e-6;
    for k in 0..steps {
        let t0 = k * STEP_US;
        motion.step(t0 as f32 * 1e-6, dt);
        let cur = motion.state();
        // Still objects change no pixel: only the moving ones' spans are evaluated.
        let which = moved(&prev, &cur);
        for (local, &y) in rows.iter().enumerate() {
            if which == [false; 3] {
                break;
            }
            row_spans.clear();
            spans(&prev, which, y, &mut row_spans);
            spans(&cur, which, y, &mut row_spans);
            if row_spans.is_empty() {
                continue;
            }
            merge(&mut row_spans);
            let row_base = local * WIDTH;
            for &(a, b) in &row_spans {
                for x in a as usize..b as usize {
                    let i = row_base + x;
                    let l1 = shade(bg[i], &cur, x as f32 + 0.5, y as f32 + 0.5).ln();
                    let l0 = last[i];
                    last[i] = l1;
                    let (cp, cn) = thr[i];
                    let r = &mut reference[i];
                    let span = l1 - l0;
                    while l1 - *r >= cp {
                        *r += cp;
                        let f = ((*r - l0) / span).clamp(0.0, 0.999);
                        events.push((t0 + (f * STEP_US as f32) as u32, y as u16, x as u16, 1));
                    }
                    while *r - l1 >= cn {
                        *r -= cn;
                        let f = ((*r - l0) / span).clamp(0.0, 0.999);
                        events.push((t0 + (f * STEP_US as f32) as u32, y as u16, x as u16, 0));
                    }
                }
            }
        }
        ends.push(events.len());
        prev = cur;
    }
    (events, ends)
}

/// Generates the whole recording with up to `threads` threads (the result is the same for
/// any count).
pub fn generate(threads: usize) -> Events {
    generate_until(threads, DURATION_US)
}

/// The first `until_us` of the recording (the whole of it is [`generate`]).
pub fn generate_until(threads: usize, until_us: u32) -> Events {
    let steps = until_us.min(DURATION_US) / STEP_US;
    let threads = threads.clamp(1, 8);
    // Stripes of 8 rows dealt round-robin, so every thread gets a share of each object.
    let bands: Vec<(Vec<Raw>, Vec<usize>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|b| {
                let rows: Vec<usize> = (0..HEIGHT).filter(|y| (y / 8) % threads == b).collect();
                scope.spawn(move || simulate_rows(&rows, steps))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scene thread"))
            .collect()
    });
    let total: usize = bands.iter().map(|(e, _)| e.len()).sum();
    let noise_per_step = NOISE_RATE * f64::from(STEP_US) * 1e-6;
    let mut out = Events::default();
    let cap = total + (noise_per_step * f64::from(steps)) as usize + 1024;
    out.x.reserve(cap);
    out.y.reserve(cap);
    out.t.reserve(cap);
    out.p.reserve(cap);
    let mut step_events: Vec<Raw> = Vec::new();
    let mut starts = vec![0usize; bands.len()];
    for k in 0..steps as usize {
        step_events.clear();
        for (b, (events, ends)) in bands.iter().enumerate() {
            step_events.extend_from_slice(&events[starts[b]..ends[k]]);
            starts[b] = ends[k];
        }
        // Background activity: a few isolated events anywhere.
        let mut rng = Rng::new(SEED.wrapping_add(k as u64).wrapping_mul(0x9e37_79b9));
        let count = (noise_per_step + rng.unit()) as usize;
        for _ in 0..count {
            let t = k as u32 * STEP_US + (rng.unit() * f64::from(STEP_US)) as u32;
            let x = (rng.unit() * WIDTH as f64) as u16;
            let y = (rng.unit() * HEIGHT as f64) as u16;
            let p = (rng.next_u64() & 1) as u8;
            step_events.push((t, y, x, p));
        }
        // Time order; ties by row then column, which makes the order independent of threads.
        step_events.sort_by_key(|&(t, y, x, _)| (t, y, x));
        for &(t, y, x, p) in &step_events {
            out.t.push(t);
            out.y.push(y);
            out.x.push(x);
            out.p.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_to_idx_is_first_index_at_or_after() {
        let ev = Events {
            x: vec![0; 6],
            y: vec![0; 6],
            t: vec![0, 5, 1000, 1000, 2999, 3000],
            p: vec![0; 6],
        };
        assert_eq!(ev.ms_to_idx(), vec![0, 2, 4, 5]);
    }

    #[test]
    fn same_events_for_any_thread_count() {
        // 1.0–1.4 s: the disc falls through several stripes, with noise everywhere.
        let one = generate_until(1, 1_400_000);
        let three = generate_until(3, 1_400_000);
        assert!(one.len() > 10_000, "{} events", one.len());
        assert!(one.t.windows(2).all(|w| w[0] <= w[1]), "time order");
        assert_eq!(one, three);
    }

    #[test]
    fn spans_cover_every_changed_pixel() {
        // Over a few steps of busy motion, pixels outside the spans keep the background.
        let mut m = Motion::new();
        for k in 0..2000 {
            m.step(8.0 + k as f32 * 5e-4, 5e-4);
        }
        let s = m.state();
        let mut sp = Vec::new();
        for y in 0..HEIGHT {
            sp.clear();
            spans(&s, [true; 3], y, &mut sp);
            merge(&mut sp);
            for x in 0..WIDTH {
                let inside = sp
                    .iter()
                    .any(|&(a, b)| (a as usize..b as usize).contains(&x));
                if !inside {
                    let bg = background(x, y);
                    let v = shade(bg, &s, x as f32 + 0.5, y as f32 + 0.5);
                    assert_eq!(v, bg, "pixel {x},{y} changed outside the spans");
                }
            }
        }
    }
}
