//! One value per row of a dataset, as an integer: a whole 1-D column, one column of a 2-D
//! table (MVSEC's N×4 float64), or one member of a compound record (Prophesee's `{x, y, p, t}`).

use super::dataset::{DatasetInfo, ElementType};
use super::layout::DataLayout;

/// Which value of each row a column is, and how it becomes an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// Column of a 2-D table; 0 for 1-D datasets.
    pub column: u64,
    /// Byte offset of the value inside one element: a compound member's offset, else 0.
    pub member_offset: usize,
    pub dtype: ElementType,
    /// Floats become `floor(v × scale + 0.5)` (round half up, the same in the h5py oracle);
    /// integers are taken as stored and ignore it.
    pub scale: f64,
}

impl Field {
    /// The first element of each row of a numeric dataset (1-D columns, `(N, 1)` tables).
    pub fn first(ds: &DatasetInfo) -> Option<Self> {
        Some(Self {
            column: 0,
            member_offset: 0,
            dtype: ds.dtype?,
            scale: 1.0,
        })
    }

    /// Where the value sits in a decoded piece of `ds`: (bytes of one row of the piece,
    /// offset of the value in that row). Pieces of a table chunked across its columns hold
    /// only the chunk's columns, so the offset counts from the chunk's first column.
    pub fn placement(&self, ds: &DatasetInfo) -> (usize, usize) {
        let dims: &[u64] = match &ds.layout {
            DataLayout::Chunked { chunk, .. } => chunk,
            _ => &ds.shape,
        };
        let elem = ds.element_size as u64;
        let per_row = dims.iter().skip(1).fold(1u64, |a, &d| a.saturating_mul(d));
        let row = elem.saturating_mul(per_row);
        let column = match dims.get(1) {
            Some(&width) if width > 0 => self.column % width,
            _ => 0,
        };
        let inner = dims.iter().skip(2).fold(1u64, |a, &d| a.saturating_mul(d));
        let offset = column
            .saturating_mul(inner)
            .saturating_mul(elem)
            .saturating_add(self.member_offset as u64);
        let fit = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        (fit(row), fit(offset))
    }

    /// Appends the value of each whole row in `bytes` (rows of `row_bytes`, the value at
    /// `offset`) to `out`. Rows too short to hold the value are skipped. Values are taken as
    /// `i64` and narrowed to `T` as `as` does, in the same pass: event columns go straight
    /// into their batch types without an `i64` copy in between.
    pub fn extend<T: FromI64>(
        &self,
        bytes: &[u8],
        row_bytes: usize,
        offset: usize,
        out: &mut Vec<T>,
    ) {
        let size = self.dtype.size();
        if row_bytes == 0 || size == 0 || offset.saturating_add(size) > row_bytes {
            return;
        }
        out.reserve(bytes.len() / row_bytes);
        match self.dtype {
            ElementType::Int {
                size,
                signed,
                big_endian: false,
            } => {
                // Hot path: little-endian integers, the type of nearly every event column.
                match (size, signed) {
                    (1, false) => push(bytes, row_bytes, offset, out, |e: [u8; 1]| i64::from(e[0])),
                    (1, true) => push(bytes, row_bytes, offset, out, |e: [u8; 1]| {
                        i64::from(e[0] as i8)
                    }),
                    (2, false) => push(bytes, row_bytes, offset, out, |e| {
                        i64::from(u16::from_le_bytes(e))
                    }),
                    (2, true) => push(bytes, row_bytes, offset, out, |e| {
                        i64::from(i16::from_le_bytes(e))
                    }),
                    (4, false) => push(bytes, row_bytes, offset, out, |e| {
                        i64::from(u32::from_le_bytes(e))
                    }),
                    (4, true) => push(bytes, row_bytes, offset, out, |e| {
                        i64::from(i32::from_le_bytes(e))
                    }),
                    // u8 values above i64::MAX do not occur in event data; they wrap.
                    (8, _) => push(bytes, row_bytes, offset, out, i64::from_le_bytes),
                    _ => {}
                }
            }
            ElementType::Int { size, signed, .. } => {
                let shift = 64 - 8 * u32::from(size);
                let values = bytes
                    .chunks_exact(row_bytes)
                    .filter_map(|row| row.get(offset..offset + usize::from(size)));
                out.extend(values.map(|e| {
                    let v = e.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
                    T::from_i64(if signed {
                        ((v << shift) as i64) >> shift
                    } else {
                        v as i64
                    })
                }));
            }
            ElementType::Float { size, big_endian } => {
                let scale = self.scale;
                let values = bytes
                    .chunks_exact(row_bytes)
                    .filter_map(|row| row.get(offset..offset + usize::from(size)));
                out.extend(values.map(|e| {
                    let v = match (size, big_endian) {
                        (4, false) => f64::from(f32::from_le_bytes([e[0], e[1], e[2], e[3]])),
                        (4, true) => f64::from(f32::from_be_bytes([e[0], e[1], e[2], e[3]])),
                        (_, false) => f64::from_le_bytes(array8(e)),
                        (_, true) => f64::from_be_bytes(array8(e)),
                    };
                    T::from_i64(float_to_i64(v, scale))
                }));
            }
        }
    }
}

/// Appends the `N`-byte value at `offset` of each row, converted by `conv`. Whole-row values
/// (1-D columns, the common case) take a loop the compiler vectorises.
fn push<const N: usize, T: FromI64>(
    bytes: &[u8],
    row_bytes: usize,
    offset: usize,
    out: &mut Vec<T>,
    conv: impl Fn([u8; N]) -> i64,
) {
    let take = |e: &[u8]| <[u8; N]>::try_from(e).unwrap_or([0; N]);
    if row_bytes == N && offset == 0 {
        out.extend(bytes.chunks_exact(N).map(|e| T::from_i64(conv(take(e)))));
    } else {
        out.extend(
            bytes
                .chunks_exact(row_bytes)
                .filter_map(|row| row.get(offset..offset + N))
                .map(|e| T::from_i64(conv(take(e)))),
        );
    }
}

/// The integer types a column is read into. `from_i64` narrows as `as` does (wrapping): event
/// coordinates and polarities fit their batch types in every layout Strobe reads.
pub trait FromI64: Copy {
    fn from_i64(v: i64) -> Self;
}

macro_rules! from_i64 {
    ($($t:ty),*) => {$(
        impl FromI64 for $t {
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
        }
    )*};
}
from_i64!(i8, i16, i32, i64);

/// The documented float rule: `floor(v × scale + 0.5)`, saturating at the `i64` range (NaN
/// gives 0). MVSEC's `t` in seconds becomes microseconds with `scale` = 1e6.
pub fn float_to_i64(v: f64, scale: f64) -> i64 {
    (v * scale + 0.5).floor() as i64
}

fn array8(e: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    let n = e.len().min(8);
    a[..n].copy_from_slice(&e[..n]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(size: u8, signed: bool, big_endian: bool) -> ElementType {
        ElementType::Int {
            size,
            signed,
            big_endian,
        }
    }

    fn field(dtype: ElementType, member_offset: usize, scale: f64) -> Field {
        Field {
            column: 0,
            member_offset,
            dtype,
            scale,
        }
    }

    #[test]
    fn compound_members_are_read_at_their_offsets() {
        // Two Prophesee-style records {x u2 @0, y u2 @2, p i2 @4, t i8 @8}.
        let mut bytes = Vec::new();
        for (x, y, p, t) in [(5u16, 7u16, -1i16, 1_000_000_007i64), (639, 479, 1, 42)] {
            bytes.extend(x.to_le_bytes());
            bytes.extend(y.to_le_bytes());
            bytes.extend(p.to_le_bytes());
            bytes.extend([0u8; 2]);
            bytes.extend(t.to_le_bytes());
        }
        let read = |f: Field| {
            let mut out: Vec<i64> = Vec::new();
            f.extend(&bytes, 16, f.member_offset, &mut out);
            out
        };
        assert_eq!(read(field(int(2, false, false), 0, 1.0)), [5, 639]);
        assert_eq!(read(field(int(2, false, false), 2, 1.0)), [7, 479]);
        assert_eq!(read(field(int(2, true, false), 4, 1.0)), [-1, 1]);
        assert_eq!(
            read(field(int(8, true, false), 8, 1.0)),
            [1_000_000_007, 42]
        );
    }

    #[test]
    fn floats_round_half_up_after_scaling() {
        let f8 = ElementType::Float {
            size: 8,
            big_endian: false,
        };
        let values = [0.0000025f64, -0.0000025, 1.5e-6, 12.345678, -1.0];
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut out: Vec<i64> = Vec::new();
        field(f8, 0, 1e6).extend(&bytes, 8, 0, &mut out);
        let want: Vec<i64> = values
            .iter()
            .map(|v| (v * 1e6 + 0.5).floor() as i64)
            .collect();
        assert_eq!(out, want);
        assert_eq!(out[4], -1_000_000);
        assert_eq!(out[3], 12_345_678);
    }

    #[test]
    fn big_endian_and_short_rows() {
        let mut out: Vec<i64> = Vec::new();
        field(int(4, true, true), 0, 1.0).extend(&[0xff, 0xff, 0xff, 0xfe], 4, 0, &mut out);
        assert_eq!(out, [-2]);
        // A value that does not fit in the row is not read.
        let mut out: Vec<i64> = Vec::new();
        field(int(8, true, false), 4, 1.0).extend(&[0; 16], 8, 4, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn narrow_columns_equal_i64_values_narrowed() {
        let values: [i64; 5] = [0, 1, 639, 65_535, 70_000];
        for dtype in [
            int(4, false, false),
            int(8, true, false),
            int(4, true, true),
        ] {
            let size = dtype.size();
            let bytes: Vec<u8> = values
                .iter()
                .flat_map(|&v| match dtype {
                    ElementType::Int {
                        big_endian: true, ..
                    } => v.to_be_bytes()[8 - size..].to_vec(),
                    _ => v.to_le_bytes()[..size].to_vec(),
                })
                .collect();
            let f = field(dtype, 0, 1.0);
            let mut wide: Vec<i64> = Vec::new();
            let mut x: Vec<i32> = Vec::new();
            let mut p: Vec<i8> = Vec::new();
            f.extend(&bytes, size, 0, &mut wide);
            f.extend(&bytes, size, 0, &mut x);
            f.extend(&bytes, size, 0, &mut p);
            assert_eq!(wide, values);
            assert_eq!(x, wide.iter().map(|&v| v as i32).collect::<Vec<_>>());
            assert_eq!(p, wide.iter().map(|&v| v as i8).collect::<Vec<_>>());
        }
    }
}
