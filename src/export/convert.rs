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
    let kinds = [&batch.x, &batch.y, &batch.t, &batch.p].map(Values::kind);
    let mut out = ExportBatch::empty(output_types(kinds, options), batch.len());
    convert_into(batch, options, base, &mut out)?;
    Ok(out)
}

/// Rewrites `batch` by `options` straight onto the end of `out` (whose columns have the
/// types [`output_types`] gives): a window gathered in memory is written once, not converted
/// into a batch and then copied. Fails on values the output type cannot hold.
pub fn convert_into(
    batch: &EventBatch,
    options: &ExportOptions,
    base: &TimeBase,
    out: &mut ExportBatch,
) -> Result<(), ExportError> {
    pixels_into(&batch.x, base.width, &mut out.x);
    pixels_into(&batch.y, base.height, &mut out.y);
    let shift = if options.normalize {
        Some(base.from.checked_neg())
    } else if options.absolute_time {
        Some(Some(base.t_offset))
    } else {
        None
    };
    match (shift, &mut out.t) {
        (Some(shift), Values::I64(t)) => {
            let out_of_range = |value: i128| ExportError::OutOfRange {
                column: "t",
                value,
                dtype: "int64 after the time shift",
            };
            t.reserve(batch.t.len());
            each_values!(&batch.t, v => {
                for &e in v.iter() {
                    let wide = e.to_i64().ok_or_else(|| out_of_range(e.into()))?;
                    let moved = shift.and_then(|s| wide.checked_add(s));
                    t.push(moved.ok_or_else(|| out_of_range(i128::from(wide)))?);
                }
            });
        }
        (_, t) => push_values(t, &batch.t),
    }
    match (options.polarity, &mut out.p) {
        (Polarity::Binary, Values::I8(p)) => {
            each_values!(&batch.p, v => p.extend(v.iter().map(|&e| i8::from(e.positive()))))
        }
        (Polarity::Signed, Values::I8(p)) => each_values!(&batch.p, v => {
            p.extend(v.iter().map(|&e| if e.positive() { 1 } else { -1 }))
        }),
        (_, p) => push_values(p, &batch.p),
    }
    Ok(())
}

/// Appends a pixel column: as stored, or normalised by `size` into float32.
fn pixels_into(values: &Values, size: u32, out: &mut PixelColumn) {
    match out {
        PixelColumn::F32(o) => {
            let size = size.max(1) as f32;
            // `as f32` rounds an integer to the nearest float, as numpy's astype does.
            each_values!(values, v => o.extend(v.iter().map(|&e| e as f32 / size)))
        }
        PixelColumn::Stored(o) => push_values(o, values),
    }
}

/// Appends `from` to `into` (of the same kind; an empty `into` of another kind takes it).
fn push_values(into: &mut Values, from: &Values) {
    if !into.append(from) && into.is_empty() {
        *into = from.clone();
    }
}

impl ExportBatch {
    /// No events yet, columns of the given output types with room for `capacity` events.
    pub fn empty(types: [OutputType; 4], capacity: usize) -> Self {
        let pixels = |t: OutputType| match t {
            OutputType::F32 => PixelColumn::F32(Vec::with_capacity(capacity)),
            OutputType::Int(k) => PixelColumn::Stored(Values::with_capacity(k, capacity)),
        };
        let column = |t: OutputType| match t {
            OutputType::Int(k) => Values::with_capacity(k, capacity),
            // t and p are never floats; an F32 here would be a caller's mistake.
            OutputType::F32 => Values::default(),
        };
        let [x, y, t, p] = types;
        ExportBatch {
            x: pixels(x),
            y: pixels(y),
            t: column(t),
            p: column(p),
        }
    }
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
