//! Events as they are written: the window's batch rewritten by the export options into the
//! columns' output types, once, so that every format writes the same values.

use super::{ExportError, ExportOptions, Polarity};
use crate::events::EventBatch;
use crate::hdf5::values::{each_values, Stored};
use crate::hdf5::{ValueKind, Values};

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

/// The type a column is written in: an integer type (the stored one unless an option
/// rewrites the column), or `float32` for normalised pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    Int(ValueKind),
    F32,
}

impl OutputType {
    /// numpy's name (`uint16`, `float32`).
    pub fn numpy_name(self) -> &'static str {
        match self {
            OutputType::Int(k) => k.numpy_name(),
            OutputType::F32 => "float32",
        }
    }

    /// The `.npy` header's `descr`.
    pub fn npy_descr(self) -> &'static str {
        match self {
            OutputType::Int(k) => k.npy_descr(),
            OutputType::F32 => "<f4",
        }
    }

    pub fn size(self) -> usize {
        match self {
            OutputType::Int(k) => k.size(),
            OutputType::F32 => 4,
        }
    }
}

/// The written types of x, y, t, p for columns returned as `stored` (see the module docs):
/// every column as stored, unless `normalize` (x, y `float32`; t `int64`), `absolute_time` (t
/// `int64`) or a polarity coding (`int8`) rewrites it.
pub fn output_types(stored: [ValueKind; 4], options: &ExportOptions) -> [OutputType; 4] {
    let [x, y, t, p] = stored;
    let pixel = |k| {
        if options.normalize {
            OutputType::F32
        } else {
            OutputType::Int(k)
        }
    };
    let t = if options.normalize || options.absolute_time {
        ValueKind::I64
    } else {
        t
    };
    let p = match options.polarity {
        Polarity::Stored => p,
        Polarity::Binary | Polarity::Signed => ValueKind::I8,
    };
    [pixel(x), pixel(y), OutputType::Int(t), OutputType::Int(p)]
}

/// A pixel coordinate column: stored integers, or normalised to `[0, 1)`.
#[derive(Debug, Clone, PartialEq)]
pub enum PixelColumn {
    Stored(Values),
    F32(Vec<f32>),
}

impl PixelColumn {
    pub fn len(&self) -> usize {
        match self {
            PixelColumn::Stored(v) => v.len(),
            PixelColumn::F32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn output_type(&self) -> OutputType {
        match self {
            PixelColumn::Stored(v) => OutputType::Int(v.kind()),
            PixelColumn::F32(_) => OutputType::F32,
        }
    }
}

/// One batch of events in output form.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportBatch {
    pub x: PixelColumn,
    pub y: PixelColumn,
    pub t: Values,
    pub p: Values,
}

impl ExportBatch {
    pub fn len(&self) -> usize {
        self.t.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// The written types of x, y, t, p.
    pub fn output_types(&self) -> [OutputType; 4] {
        [
            self.x.output_type(),
            self.y.output_type(),
            OutputType::Int(self.t.kind()),
            OutputType::Int(self.p.kind()),
        ]
    }
}

/// Rewrites `batch` by `options`; fails on values the output type cannot hold.
pub fn convert(
    batch: &EventBatch,
    options: &ExportOptions,
    base: &TimeBase,
) -> Result<ExportBatch, ExportError> {
    let pixels = |values: &Values, size: u32| {
        if options.normalize {
            let size = size.max(1) as f32;
            PixelColumn::F32(each_values!(values, v => v
                .iter()
                .map(|&e| Into::<i128>::into(e) as f32 / size)
                .collect()))
        } else {
            PixelColumn::Stored(values.clone())
        }
    };
    let shift = if options.normalize {
        Some(base.from.checked_neg())
    } else if options.absolute_time {
        Some(Some(base.t_offset))
    } else {
        None
    };
    let t = match shift {
        None => batch.t.clone(),
        Some(shift) => {
            let out_of_range = |value: i128| ExportError::OutOfRange {
                column: "t",
                value,
                dtype: "int64 after the time shift",
            };
            let wide = batch.t.to_i64().map_err(|(_, v)| out_of_range(v))?;
            Values::I64(
                wide.iter()
                    .map(|&v| {
                        shift
                            .and_then(|s| v.checked_add(s))
                            .ok_or(out_of_range(i128::from(v)))
                    })
                    .collect::<Result<Vec<i64>, _>>()?,
            )
        }
    };
    let p = match options.polarity {
        Polarity::Stored => batch.p.clone(),
        Polarity::Binary => Values::I8(each_values!(&batch.p, v => v
            .iter()
            .map(|&e| i8::from(e.positive()))
            .collect())),
        Polarity::Signed => Values::I8(each_values!(&batch.p, v => v
            .iter()
            .map(|&e| if e.positive() { 1 } else { -1 })
            .collect())),
    };
    Ok(ExportBatch {
        x: pixels(&batch.x, base.width),
        y: pixels(&batch.y, base.height),
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
            x: Values::U16(vec![0, 3, 639]),
            y: Values::U16(vec![479, 1, 2]),
            t: Values::U32(vec![1000, 1500, 2999]),
            p: Values::U8(vec![0, 255, 1]),
        }
    }

    const BASE: TimeBase = TimeBase {
        from: 1000,
        t_offset: 50_000,
        width: 640,
        height: 480,
    };

    #[test]
    fn stored_values_pass_through_in_their_types() {
        let out = convert(&batch(), &ExportOptions::default(), &BASE).expect("converts");
        assert_eq!(out.x, PixelColumn::Stored(Values::U16(vec![0, 3, 639])));
        assert_eq!(out.t, Values::U32(vec![1000, 1500, 2999]));
        assert_eq!(out.p, Values::U8(vec![0, 255, 1]));
        let stored = [
            ValueKind::U16,
            ValueKind::U16,
            ValueKind::U32,
            ValueKind::U8,
        ];
        assert_eq!(
            out.output_types(),
            output_types(stored, &ExportOptions::default())
        );
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
        assert_eq!(out.t, Values::I64(vec![0, 500, 1999]));
        assert_eq!(out.p, Values::I8(vec![-1, 1, 1]));
        let absolute = ExportOptions {
            polarity: Polarity::Binary,
            absolute_time: true,
            ..Default::default()
        };
        let out = convert(&batch(), &absolute, &BASE).expect("converts");
        assert_eq!(out.t, Values::I64(vec![51_000, 51_500, 52_999]));
        assert_eq!(out.p, Values::I8(vec![0, 1, 1]));
        let stored = [
            ValueKind::U16,
            ValueKind::U16,
            ValueKind::U32,
            ValueKind::U8,
        ];
        assert_eq!(out.output_types(), output_types(stored, &absolute));
    }

    #[test]
    fn a_shift_beyond_int64_is_refused() {
        let mut b = batch();
        b.t = Values::I64(vec![i64::MAX - 10]);
        let absolute = ExportOptions {
            absolute_time: true,
            ..Default::default()
        };
        let err = convert(&b, &absolute, &BASE).unwrap_err();
        assert!(err.to_string().contains("t = 9223372036854775797"), "{err}");
    }
}
