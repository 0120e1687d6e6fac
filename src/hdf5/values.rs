//! A column's values in the type the file stored them in: no narrowing, no widening. A
//! `uint8` polarity of 0/255 stays 0/255 and an `int32` one keeps its sign; everything
//! downstream (sums, the picture, exports) works on the stored numbers exactly.
//!
//! Each variant is one contiguous `Vec` of a plain numeric type, so a Python binding can hand
//! it to numpy as an array of [`ValueKind::numpy_name`] without a conversion.

use std::ops::Range;

/// The returned type of a column: the stored integer type (in native byte order), or `I64`
/// for float columns (whole values, or MVSEC's seconds turned into µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
}

impl ValueKind {
    /// numpy's name for the type (`numpy.dtype(name)`): what `window --json` reports.
    pub fn numpy_name(self) -> &'static str {
        match self {
            ValueKind::I8 => "int8",
            ValueKind::U8 => "uint8",
            ValueKind::I16 => "int16",
            ValueKind::U16 => "uint16",
            ValueKind::I32 => "int32",
            ValueKind::U32 => "uint32",
            ValueKind::I64 => "int64",
            ValueKind::U64 => "uint64",
        }
    }

    /// The `.npy` header's `descr` (little-endian; one-byte types have no byte order).
    pub fn npy_descr(self) -> &'static str {
        match self {
            ValueKind::I8 => "|i1",
            ValueKind::U8 => "|u1",
            ValueKind::I16 => "<i2",
            ValueKind::U16 => "<u2",
            ValueKind::I32 => "<i4",
            ValueKind::U32 => "<u4",
            ValueKind::I64 => "<i8",
            ValueKind::U64 => "<u8",
        }
    }

    pub fn size(self) -> usize {
        match self {
            ValueKind::I8 | ValueKind::U8 => 1,
            ValueKind::I16 | ValueKind::U16 => 2,
            ValueKind::I32 | ValueKind::U32 => 4,
            ValueKind::I64 | ValueKind::U64 => 8,
        }
    }

    /// The type an integer of `size` bytes and this signedness is returned as.
    pub fn of_int(size: u8, signed: bool) -> Option<Self> {
        Some(match (size, signed) {
            (1, true) => ValueKind::I8,
            (1, false) => ValueKind::U8,
            (2, true) => ValueKind::I16,
            (2, false) => ValueKind::U16,
            (4, true) => ValueKind::I32,
            (4, false) => ValueKind::U32,
            (8, true) => ValueKind::I64,
            (8, false) => ValueKind::U64,
            _ => return None,
        })
    }
}

/// One column's values, in their stored type.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    I8(Vec<i8>),
    U8(Vec<u8>),
    I16(Vec<i16>),
    U16(Vec<u16>),
    I32(Vec<i32>),
    U32(Vec<u32>),
    I64(Vec<i64>),
    U64(Vec<u64>),
}

impl Default for Values {
    fn default() -> Self {
        Values::I64(Vec::new())
    }
}

/// Runs `$body` with `$v` bound to the inner `Vec` of any variant.
#[macro_export]
macro_rules! each_values {
    ($values:expr, $v:ident => $body:expr) => {
        match $values {
            $crate::hdf5::Values::I8($v) => $body,
            $crate::hdf5::Values::U8($v) => $body,
            $crate::hdf5::Values::I16($v) => $body,
            $crate::hdf5::Values::U16($v) => $body,
            $crate::hdf5::Values::I32($v) => $body,
            $crate::hdf5::Values::U32($v) => $body,
            $crate::hdf5::Values::I64($v) => $body,
            $crate::hdf5::Values::U64($v) => $body,
        }
    };
}
pub use each_values;

/// The plain integer types a column may hold.
pub trait Stored: Copy + PartialOrd + Into<i128> + std::fmt::Display + 'static {
    const ZERO: Self;
    /// `self > 0`: the polarity rule everywhere in Strobe.
    fn positive(self) -> bool;
    /// Exactly `v`, or `None` if this type cannot hold it.
    fn from_i128(v: i128) -> Option<Self>;
    /// The value as `i64`, `None` beyond its range (only `u64` values above `i64::MAX`).
    fn to_i64(self) -> Option<i64>;
    fn le_bytes(self, out: &mut Vec<u8>);
    /// The value as an index below `limit` (a pixel coordinate), `u32::MAX` when it is not one.
    fn index_below(self, limit: u32) -> u32;
}

macro_rules! stored {
    ($($t:ty),*) => {$(
        impl Stored for $t {
            const ZERO: Self = 0;
            #[inline(always)]
            fn positive(self) -> bool {
                self > 0
            }
            #[inline(always)]
            fn from_i128(v: i128) -> Option<Self> {
                <$t>::try_from(v).ok()
            }
            #[inline(always)]
            fn to_i64(self) -> Option<i64> {
                i64::try_from(self).ok()
            }
            #[inline(always)]
            fn le_bytes(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline(always)]
            fn index_below(self, limit: u32) -> u32 {
                match u32::try_from(self) {
                    Ok(v) if v < limit => v,
                    _ => u32::MAX,
                }
            }
        }
    )*};
}
stored!(i8, u8, i16, u16, i32, u32, i64, u64);

impl Values {
    /// An empty column of `kind` with room for `n` values.
    pub fn with_capacity(kind: ValueKind, n: usize) -> Self {
        match kind {
            ValueKind::I8 => Values::I8(Vec::with_capacity(n)),
            ValueKind::U8 => Values::U8(Vec::with_capacity(n)),
            ValueKind::I16 => Values::I16(Vec::with_capacity(n)),
            ValueKind::U16 => Values::U16(Vec::with_capacity(n)),
            ValueKind::I32 => Values::I32(Vec::with_capacity(n)),
            ValueKind::U32 => Values::U32(Vec::with_capacity(n)),
            ValueKind::I64 => Values::I64(Vec::with_capacity(n)),
            ValueKind::U64 => Values::U64(Vec::with_capacity(n)),
        }
    }

    pub fn kind(&self) -> ValueKind {
        match self {
            Values::I8(_) => ValueKind::I8,
            Values::U8(_) => ValueKind::U8,
            Values::I16(_) => ValueKind::I16,
            Values::U16(_) => ValueKind::U16,
            Values::I32(_) => ValueKind::I32,
            Values::U32(_) => ValueKind::U32,
            Values::I64(_) => ValueKind::I64,
            Values::U64(_) => ValueKind::U64,
        }
    }

    /// numpy's name of the values' type.
    pub fn numpy_name(&self) -> &'static str {
        self.kind().numpy_name()
    }

    pub fn len(&self) -> usize {
        each_values!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` exactly, as `i128` (every stored type fits).
    pub fn get(&self, i: usize) -> Option<i128> {
        each_values!(self, v => v.get(i).map(|&e| e.into()))
    }

    /// Keeps only the values at positions `range` (in place).
    pub fn keep(&mut self, range: Range<usize>) {
        each_values!(self, v => {
            v.truncate(range.end);
            v.drain(..range.start.min(v.len()));
        })
    }

    /// The exact sum.
    pub fn sum(&self) -> i128 {
        match self {
            Values::I8(v) => narrow_sum(v),
            Values::U8(v) => narrow_sum(v),
            Values::I16(v) => narrow_sum(v),
            Values::U16(v) => narrow_sum(v),
            Values::I32(v) => narrow_sum(v),
            Values::U32(v) => narrow_sum(v),
            Values::I64(v) => wide_sum(v, i64::unsigned_abs, |e| e),
            Values::U64(v) => wide_sum(v, |e| e, |e| e as i64),
        }
    }

    /// The exact sum and the count of values > 0, in one pass for the one-byte types that
    /// polarities nearly always are.
    pub fn sum_and_positive(&self) -> (i128, u64) {
        match self {
            Values::I8(v) => byte_sums(v, i16::from),
            Values::U8(v) => byte_sums(v, i16::from),
            other => {
                let positive = each_values!(other, v => {
                    v.iter().map(|&e| u64::from(e.positive())).sum::<u64>()
                });
                (other.sum(), positive)
            }
        }
    }

    /// Index of the first value that is smaller than the one before it (`values[i] <
    /// values[i - 1]`), with the two values: `None` when the column is non-decreasing. One
    /// compare per value, vectorised; the position is searched only once a drop is known.
    pub fn first_decrease(&self) -> Option<(usize, i128, i128)> {
        fn find<T: Stored>(v: &[T]) -> Option<(usize, i128, i128)> {
            let sorted = v
                .iter()
                .zip(v.iter().skip(1))
                .fold(true, |ok, (a, b)| ok & (a <= b));
            if sorted {
                return None;
            }
            let i = v.windows(2).position(|w| w[1] < w[0])? + 1;
            Some((i, v[i - 1].into(), v[i].into()))
        }
        each_values!(self, v => find(v))
    }

    /// Position of the first value `>= bound` (values sorted): exact for every type.
    pub fn partition_below(&self, bound: i64) -> usize {
        fn below<T: Stored>(v: &[T], bound: i64) -> usize {
            match T::from_i128(i128::from(bound)) {
                Some(b) => v.partition_point(|&e| e < b),
                // The bound lies beyond the type: every value is below it, or none.
                None if bound > 0 => v.len(),
                None => 0,
            }
        }
        each_values!(self, v => below(v, bound))
    }

    /// Every value as `i64`; the position and value of the first one beyond `i64` if any
    /// (only `u64` above `i64::MAX`).
    pub fn to_i64(&self) -> Result<Vec<i64>, (usize, i128)> {
        fn convert<T: Stored>(v: &[T]) -> Result<Vec<i64>, (usize, i128)> {
            v.iter()
                .enumerate()
                .map(|(i, &e)| e.to_i64().ok_or((i, e.into())))
                .collect()
        }
        each_values!(self, v => convert(v))
    }

    /// Appends the values' little-endian bytes (the `.npy` layout of [`ValueKind::npy_descr`]).
    pub fn extend_le_bytes(&self, out: &mut Vec<u8>) {
        out.reserve(self.len() * self.kind().size());
        each_values!(self, v => v.iter().for_each(|&e| e.le_bytes(out)))
    }

    /// Appends `other` (of the same kind; else returns false and changes nothing).
    pub fn append(&mut self, other: &Values) -> bool {
        macro_rules! join {
            ($($var:ident),*) => {
                match (self, other) {
                    $((Values::$var(a), Values::$var(b)) => { a.extend_from_slice(b); true })*
                    _ => false,
                }
            };
        }
        join!(I8, U8, I16, U16, I32, U32, I64, U64)
    }
}

/// Exact sum of a type of up to 4 bytes: 2^30 values below 2^32 in magnitude cannot
/// overflow an `i64`, so longer columns are summed in runs of that many.
fn narrow_sum<T: Stored + Into<i64>>(v: &[T]) -> i128 {
    v.chunks(1 << 30)
        .map(|run| i128::from(run.iter().map(|&e| Into::<i64>::into(e)).sum::<i64>()))
        .sum()
}

/// Exact sum of 8-byte values: runs of 4096 are added in `i64` (vectorised), which cannot
/// overflow while every magnitude is below 2^51; a run with a larger value is added in `i128`.
fn wide_sum<T: Stored>(v: &[T], magnitude: impl Fn(T) -> u64, wrapped: impl Fn(T) -> i64) -> i128 {
    const RUN: usize = 4096;
    const SAFE: u64 = 1 << 51;
    v.chunks(RUN)
        .map(|run| {
            let (sum, bits) = run.iter().fold((0i64, 0u64), |(s, b), &e| {
                (s.wrapping_add(wrapped(e)), b | magnitude(e))
            });
            if bits < SAFE {
                i128::from(sum)
            } else {
                run.iter().map(|&e| e.into()).sum()
            }
        })
        .sum()
}

/// Sum and count of positives of one-byte values, in one pass: runs of 128 are added in
/// `i16` lanes (|sum| ≤ 128 · 255 fits), eight to a vector on any x86-64.
fn byte_sums<T: Stored>(v: &[T], wide: impl Fn(T) -> i16 + Copy) -> (i128, u64) {
    let (mut sum, mut positive) = (0i64, 0u64);
    for run in v.chunks(128) {
        let (s, n) = run.iter().fold((0i16, 0u16), |(s, n), &e| {
            (s.wrapping_add(wide(e)), n + u16::from(e.positive()))
        });
        sum += i64::from(s);
        positive += u64::from(n);
    }
    (i128::from(sum), positive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_exact_for_every_type() {
        let cases = [
            Values::U8(vec![255; 1000]),
            Values::I8(vec![-128; 1000]),
            Values::U16(vec![65_535; 70_000]),
            Values::I32(vec![i32::MIN; 5000]),
            Values::U32(vec![u32::MAX; 5000]),
            Values::I64(vec![i64::MIN, i64::MIN, 3, i64::MAX]),
            Values::U64(vec![u64::MAX, u64::MAX, 1, 1 << 40]),
        ];
        for v in cases {
            let want: i128 = (0..v.len()).map(|i| v.get(i).unwrap()).sum();
            assert_eq!(v.sum(), want, "{:?}", v.kind());
            let positive = (0..v.len()).filter(|&i| v.get(i).unwrap() > 0).count() as u64;
            assert_eq!(v.sum_and_positive(), (want, positive), "{:?}", v.kind());
        }
    }

    #[test]
    fn bounds_compare_exactly_across_types() {
        let v = Values::U8(vec![0, 5, 200, 255]);
        assert_eq!(v.partition_below(-3), 0);
        assert_eq!(v.partition_below(200), 2);
        assert_eq!(v.partition_below(256), 4);
        let v = Values::U64(vec![1, u64::MAX]);
        assert_eq!(v.partition_below(i64::MAX), 1);
        let v = Values::I16(vec![-300, -1, 7]);
        assert_eq!(v.partition_below(i64::MIN), 0);
        assert_eq!(v.partition_below(0), 2);
        assert_eq!(v.partition_below(1 << 40), 3);
    }

    #[test]
    fn first_decrease_names_the_row_and_values() {
        assert_eq!(Values::U32(vec![1, 1, 2, 9]).first_decrease(), None);
        assert_eq!(
            Values::U32(vec![1, 1, 9, 2, 0]).first_decrease(),
            Some((3, 9, 2))
        );
        assert_eq!(
            Values::U64(vec![u64::MAX, 0]).first_decrease(),
            Some((1, i128::from(u64::MAX), 0))
        );
    }

    #[test]
    fn u64_beyond_i64_is_refused_not_wrapped() {
        assert_eq!(Values::U64(vec![1, 2]).to_i64(), Ok(vec![1, 2]));
        assert_eq!(
            Values::U64(vec![1, 1 << 63]).to_i64(),
            Err((1, 1i128 << 63))
        );
    }
}
