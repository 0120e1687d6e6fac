//! `.png`: the window drawn on the CPU at sensor resolution with the viewer's colours and
//! formulas (`www/render.js`), one image pixel per sensor pixel, row 0 = `y = 0`.
//!
//! - polarity: no event → white (`dsec`) / black (`dark`); more or as many positive as
//!   negative events → blue `(0, 0, 255)` / cyan `(0, 191, 255)`; else red `(255, 0, 0)` /
//!   orange `(255, 89, 0)`.
//! - heatmap: `v = 0.12 + 0.88·ln(1 + n) / ln(1 + s)` for a pixel with `n` events, `s` the
//!   99th percentile of the lit pixels' counts, through the page's five-stop colour ramp;
//!   black where `n = 0`.
//! - timesurface: grey `exp(−(to − t_last) / tau)` of the pixel's latest event; black where
//!   none.
//!
//! Channels are `round(255·c)`, as the GPU stores them. Memory: two counters and a time per
//! pixel, whatever the window's length.

use std::io::Write;

use super::ExportError;
use crate::events::EventBatch;
use crate::render::Frame;

/// What the picture shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Polarity,
    Heatmap,
    TimeSurface,
}

/// Polarity colours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Palette {
    #[default]
    Dsec,
    Dark,
}

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    pub mode: Mode,
    pub palette: Palette,
    /// Time-surface decay, µs.
    pub tau: f32,
}

impl Default for Style {
    fn default() -> Self {
        Self {
            mode: Mode::Polarity,
            palette: Palette::Dsec,
            tau: 10_000.0,
        }
    }
}

/// One window's picture: the same per-pixel counts the page draws ([`Frame`]), coloured here.
#[derive(Debug, Clone)]
pub struct Picture {
    frame: Frame,
    from: i64,
    to: i64,
}

impl Picture {
    /// An empty picture of the window `[from, to)` on a `width × height` sensor.
    pub fn new(width: u32, height: u32, from: i64, to: i64) -> Self {
        let mut frame = Frame::counts_only(width, height);
        frame.clear(from);
        Self { frame, from, to }
    }

    /// Counts every event of `batch`.
    pub fn add(&mut self, batch: &EventBatch) {
        self.frame.add(batch);
    }

    /// Events outside the sensor (not drawn).
    pub fn outside(&self) -> u64 {
        self.frame.outside
    }

    /// RGB bytes, row by row.
    pub fn rgb(&self, style: &Style) -> Vec<u8> {
        let scale = self.frame.scale() as f32;
        let dt = (self.to - self.from).clamp(0, i64::from(u32::MAX)) as u32;
        let mut out = Vec::with_capacity(self.frame.cells.len() * 3);
        for c in &self.frame.cells {
            let last = c[2];
            let total = c[0].saturating_add(c[1]);
            let rgb = match style.mode {
                Mode::Polarity => polarity(c[0], c[1], style.palette),
                Mode::Heatmap => {
                    if total == 0 {
                        [0.0; 3]
                    } else {
                        let v = 0.12 + 0.88 * (1.0 + total as f32).ln() / (1.0 + scale).ln();
                        heat(v.clamp(0.0, 1.0))
                    }
                }
                Mode::TimeSurface => {
                    let v = if last == 0 {
                        0.0
                    } else {
                        let age = dt.saturating_sub(last - 1);
                        (-(age as f32) / style.tau.max(1.0)).exp()
                    };
                    [v; 3]
                }
            };
            out.extend(
                rgb.iter()
                    .map(|&c| (c.clamp(0.0, 1.0) * 255.0).round() as u8),
            );
        }
        out
    }

    /// Encodes the picture as an 8-bit RGB PNG.
    pub fn write_png<W: Write>(&self, mut out: W, style: &Style) -> Result<W, ExportError> {
        let rgb = self.rgb(style);
        let row = self.frame.width as usize * 3;
        let mut raw = Vec::with_capacity((row + 1) * self.frame.height as usize);
        for line in rgb.chunks_exact(row.max(1)) {
            raw.push(0); // filter: none
            raw.extend_from_slice(line);
        }
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&self.frame.width.to_be_bytes());
        ihdr.extend_from_slice(&self.frame.height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, no filter, no interlace
        out.write_all(b"\x89PNG\r\n\x1a\n")?;
        chunk(&mut out, b"IHDR", &ihdr)?;
        chunk(
            &mut out,
            b"IDAT",
            &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6),
        )?;
        chunk(&mut out, b"IEND", &[])?;
        out.flush()?;
        Ok(out)
    }
}

fn chunk<W: Write>(out: &mut W, kind: &[u8; 4], data: &[u8]) -> Result<(), ExportError> {
    let len = u32::try_from(data.len())
        .map_err(|_| std::io::Error::other("PNG chunk larger than 4 GiB"))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(kind)?;
    out.write_all(data)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.write_all(&crc.finalize().to_be_bytes())?;
    Ok(())
}

fn polarity(positive: u32, negative: u32, palette: Palette) -> [f32; 3] {
    let empty = positive == 0 && negative == 0;
    match (palette, empty, positive >= negative) {
        (Palette::Dsec, true, _) => [1.0, 1.0, 1.0],
        (Palette::Dsec, false, true) => [0.0, 0.0, 1.0],
        (Palette::Dsec, false, false) => [1.0, 0.0, 0.0],
        (Palette::Dark, true, _) => [0.0, 0.0, 0.0],
        (Palette::Dark, false, true) => [0.0, 0.75, 1.0],
        (Palette::Dark, false, false) => [1.0, 0.35, 0.0],
    }
}

/// The page's heatmap ramp: black, purple, red, orange, pale yellow.
fn heat(v: f32) -> [f32; 3] {
    const STOPS: [[f32; 3]; 5] = [
        [0.0, 0.0, 0.0],
        [0.34, 0.06, 0.43],
        [0.80, 0.20, 0.25],
        [0.98, 0.56, 0.04],
        [0.99, 1.0, 0.64],
    ];
    let (i, f) = if v < 0.25 {
        (0, v / 0.25)
    } else if v < 0.5 {
        (1, (v - 0.25) / 0.25)
    } else if v < 0.75 {
        (2, (v - 0.5) / 0.25)
    } else {
        (3, (v - 0.75) / 0.25)
    };
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    [0, 1, 2].map(|k| a[k] * (1.0 - f) + b[k] * f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hdf5::Values;

    #[test]
    fn polarity_majority_picks_the_colour_and_ties_are_positive() {
        let mut pic = Picture::new(3, 1, 0, 100);
        pic.add(&EventBatch {
            first_index: 0,
            x: Values::U16(vec![0, 1, 1, 1, 7]),
            y: Values::U16(vec![0, 0, 0, 0, 0]),
            t: Values::U32(vec![1, 2, 3, 4, 5]),
            p: Values::U8(vec![255, 0, 0, 1, 1]),
        });
        assert_eq!(pic.outside(), 1);
        let rgb = pic.rgb(&Style::default());
        assert_eq!(rgb, vec![0, 0, 255, 255, 0, 0, 255, 255, 255]);
        let dark = pic.rgb(&Style {
            palette: Palette::Dark,
            ..Style::default()
        });
        assert_eq!(dark, vec![0, 191, 255, 255, 89, 0, 0, 0, 0]);
    }

    #[test]
    fn time_surface_is_one_at_the_window_end() {
        let mut pic = Picture::new(2, 1, 1000, 2000);
        pic.add(&EventBatch {
            first_index: 0,
            x: Values::I32(vec![0, 1]),
            y: Values::I32(vec![0, 0]),
            t: Values::I64(vec![1000, 1999]),
            p: Values::I8(vec![1, 1]),
        });
        let rgb = pic.rgb(&Style {
            mode: Mode::TimeSurface,
            tau: 1000.0,
            ..Style::default()
        });
        // Ages 1000 µs and 1 µs: exp(-1) → 94, exp(-0.001) → 255.
        assert_eq!(rgb, vec![94, 94, 94, 255, 255, 255]);
    }
}
