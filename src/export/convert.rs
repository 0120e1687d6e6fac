//! Events as they are written: the window's batch rewritten by the export options into the
//! columns' output types, once, so that every format writes the same values.

use super::{ExportError, ExportOptions, Polarity};
use crate::events::EventBatch;

/// What the options need to know about the recording and the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBase {
    /// Window start, µs of the stored `t`.
    pub from: i64,
    /// The recording's `t_offset` (0 when it has none).
    pub t_offset: i64,
    /// Sensor size, the denominators of `normalize`.
    pub width: u32,
    pub height: u32,
}

impl TimeBase {
    /// The window starting at `from` of a recording with this summary.
    pub fn new(summary: &crate::events::Summary, from: i64) -> Self {
        Self {
            from,
            t_offset: summary.t_offset,
            width: summary.width,
            height: summary.height,
        }
    }
}

/// A pixel coordinate column: stored integers, or normalised to `[0, 1)`.
#[derive(Debug, Clone, PartialEq)]
pub enum PixelColumn {
    U16(Vec<u16>),
    F32(Vec<f32>),
}

impl PixelColumn {
    pub fn len(&self) -> usize {
        match self {
            PixelColumn::U16(v) => v.len(),
            PixelColumn::F32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One batch of events in output form.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportBatch {
    pub x: PixelColumn,
    pub y: PixelColumn,
    pub t: Vec<i64>,
    pub p: Vec<i8>,
}

impl ExportBatch {
    pub fn len(&self) -> usize {
        self.t.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }
}

/// Rewrites `batch` by `options`; fails on values the output type cannot hold.
pub fn convert(
    batch: &EventBatch,
    options: &ExportOptions,
    base: &TimeBase,
) -> Result<ExportBatch, ExportError> {
    let pixels = |values: &[i32], column: &'static str, size: u32| {
        if options.normalize {
            let size = size.max(1) as f32;
            Ok(PixelColumn::F32(
                values.iter().map(|&v| v as f32 / size).collect(),
            ))
        } else {
            values
                .iter()
                .map(|&v| {
                    u16::try_from(v).map_err(|_| ExportError::OutOfRange {
                        column,
                        value: i64::from(v),
                        dtype: "uint16",
                    })
                })
                .collect::<Result<Vec<u16>, _>>()
                .map(PixelColumn::U16)
        }
    };
    let shift = if options.normalize {
        base.from.checked_neg()
    } else if options.absolute_time {
        Some(base.t_offset)
    } else {
        Some(0)
    };
    let t = batch
        .t
        .iter()
        .map(|&v| {
            shift
                .and_then(|s| v.checked_add(s))
                .ok_or(ExportError::OutOfRange {
                    column: "t",
                    value: v,
                    dtype: "int64 after the time shift",
                })
        })
        .collect::<Result<Vec<i64>, _>>()?;
    let p = match options.polarity {
        Polarity::Stored => batch.p.clone(),
        Polarity::Binary => batch.p.iter().map(|&v| i8::from(v > 0)).collect(),
        Polarity::Signed => batch
            .p
            .iter()
            .map(|&v| if v > 0 { 1 } else { -1 })
            .collect(),
    };
    Ok(ExportBatch {
        x: pixels(&batch.x, "x", base.width)?,
        y: pixels(&batch.y, "y", base.height)?,
        t,
        p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> EventBatch {
        EventBatch {
            first_index: 0,
            x: vec![0, 3, 639],
            y: vec![479, 1, 2],
            t: vec![1000, 1500, 2999],
            p: vec![0, 1, -1],
        }
    }

    const BASE: TimeBase = TimeBase {
        from: 1000,
        t_offset: 50_000,
        width: 640,
        height: 480,
    };

    #[test]
    fn stored_values_pass_through() {
        let out = convert(&batch(), &ExportOptions::default(), &BASE).expect("converts");
        assert_eq!(out.x, PixelColumn::U16(vec![0, 3, 639]));
        assert_eq!(out.t, vec![1000, 1500, 2999]);
        assert_eq!(out.p, vec![0, 1, -1]);
    }

    #[test]
    fn options_rewrite_each_column() {
        let signed = ExportOptions {
            polarity: Polarity::Signed,
            normalize: true,
            absolute_time: true,
        };
        let out = convert(&batch(), &signed, &BASE).expect("converts");
        assert_eq!(
            out.x,
            PixelColumn::F32(vec![0.0, 3.0 / 640.0, 639.0 / 640.0])
        );
        assert_eq!(
            out.y,
            PixelColumn::F32(vec![479.0 / 480.0, 1.0 / 480.0, 2.0 / 480.0])
        );
        assert_eq!(out.t, vec![0, 500, 1999]);
        assert_eq!(out.p, vec![-1, 1, -1]);
        let absolute = ExportOptions {
            polarity: Polarity::Binary,
            absolute_time: true,
            ..Default::default()
        };
        let out = convert(&batch(), &absolute, &BASE).expect("converts");
        assert_eq!(out.t, vec![51_000, 51_500, 52_999]);
        assert_eq!(out.p, vec![0, 1, 0]);
    }

    #[test]
    fn pixels_beyond_uint16_are_refused() {
        let mut b = batch();
        b.x[1] = 70_000;
        let err = convert(&b, &ExportOptions::default(), &BASE).unwrap_err();
        assert!(err.to_string().contains("x = 70000"), "{err}");
    }
}
