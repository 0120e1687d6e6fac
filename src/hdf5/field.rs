//! One value per row of a dataset, as an integer: a whole 1-D column, one column of a 2-D
//! table (MVSEC's N×4 float64), or one member of a compound record (Prophesee's `{x, y, p, t}`).

use super::dataset::{DatasetInfo, ElementType};
use super::layout::DataLayout;
use super::values::{ValueKind, Values};

/// Which value of each row a column is, and how it becomes an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// Column of a 2-D table; 0 for 1-D datasets.
    pub column: u64,
    /// Byte offset of the value inside one element: a compound member's offset, else 0.
    pub member_offset: usize,
    pub dtype: ElementType,
    /// Floats become `floor(v × scale + 0.5)` (round half up, the same in the h5py oracle)
    /// when it is not 1, else must be whole; integers are taken as stored and ignore it.
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

    /// The type this field's values are returned as: the stored integer type, or `i64` for
    /// floats (see [`Self::decode`]).
    pub fn kind(&self) -> ValueKind {
        match self.dtype {
            ElementType::Int { size, signed, .. } => {
                ValueKind::of_int(size, signed).unwrap_or(ValueKind::I64)
            }
            ElementType::Float { .. } => ValueKind::I64,
        }
    }

    /// Appends the value of each whole row in `bytes` (rows of `row_bytes`, the value at
    /// `offset`) to `out`, which must be of [`Self::kind`]. Rows too short to hold the value
    /// are skipped. Integers are taken exactly as stored (big-endian ones byte-swapped), with
    /// no detour through a wider type. Floats become `i64`: with a `scale` (MVSEC's seconds →
    /// µs) by `floor(v × scale + 0.5)`; without one they must be whole numbers. A float that
    /// is not whole, not finite or beyond `i64` is refused ([`Refusal`] names its row in
    /// `bytes`): rounding it silently would return a value the file does not hold.
    pub fn decode(
        &self,
        bytes: &[u8],
        row_bytes: usize,
        offset: usize,
        out: &mut Values,
    ) -> Result<(), Refusal> {
        let size = self.dtype.size();
        if row_bytes == 0 || size == 0 || offset.saturating_add(size) > row_bytes {
            return Ok(());
        }
        let rows = bytes.len() / row_bytes;
        let (big, float) = match self.dtype {
            ElementType::Int { big_endian, .. } => (big_endian, false),
            ElementType::Float { big_endian, .. } => (big_endian, true),
        };
        if float {
            let Values::I64(out) = out else {
                return Err(Refusal::kind(self.kind(), out));
            };
            return self.decode_floats(bytes, row_bytes, offset, big, out);
        }
        macro_rules! ints {
            ($($var:ident $t:ty),*) => {
                match out {
                    $(Values::$var(v) if self.kind() == ValueKind::$var => {
                        v.reserve(rows);
                        if big {
                            push(bytes, row_bytes, offset, v, <$t>::from_be_bytes);
                        } else {
                            push(bytes, row_bytes, offset, v, <$t>::from_le_bytes);
                        }
                        Ok(())
                    })*
                    other => Err(Refusal::kind(self.kind(), other)),
                }
            };
        }
        ints!(I8 i8, U8 u8, I16 i16, U16 u16, I32 i32, U32 u32, I64 i64, U64 u64)
    }

    fn decode_floats(
        &self,
        bytes: &[u8],
        row_bytes: usize,
        offset: usize,
        big: bool,
        out: &mut Vec<i64>,
    ) -> Result<(), Refusal> {
        let size = self.dtype.size();
        let rows = bytes
            .chunks_exact(row_bytes)
            .filter_map(|row| row.get(offset..offset + size));
        out.reserve(bytes.len() / row_bytes);
        for (i, e) in rows.enumerate() {
            let v = match (size, big) {
                (4, false) => f64::from(f32::from_le_bytes(array(e))),
                (4, true) => f64::from(f32::from_be_bytes(array(e))),
                (_, false) => f64::from_le_bytes(array(e)),
                (_, true) => f64::from_be_bytes(array(e)),
            };
            match float_to_i64(v, self.scale) {
                Some(n) => out.push(n),
                None => {
                    return Err(Refusal {
                        index: i,
                        reason: if self.scale == 1.0 {
                            format!("float {v} is not a whole number in the int64 range")
                        } else {
                            format!("float {v} × {} is not in the int64 range", self.scale)
                        },
                    })
                }
            }
        }
        Ok(())
    }
}

/// A value [`Field::decode`] will not return: `index` is its row among the decoded bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub index: usize,
    pub reason: String,
}

impl Refusal {
    fn kind(want: ValueKind, got: &Values) -> Self {
        Refusal {
            index: 0,
            reason: format!(
                "internal: values of {} decoded into a column of {}",
                want.numpy_name(),
                got.numpy_name()
            ),
        }
    }
}

/// Appends the `N`-byte value at `offset` of each row, converted by `conv`. Whole-row values
/// (1-D columns, the common case) take a loop the compiler vectorises.
fn push<const N: usize, T>(
    bytes: &[u8],
    row_bytes: usize,
    offset: usize,
    out: &mut Vec<T>,
    conv: impl Fn([u8; N]) -> T,
) {
    let take = |e: &[u8]| <[u8; N]>::try_from(e).unwrap_or([0; N]);
    if row_bytes == N && offset == 0 {
        out.extend(bytes.chunks_exact(N).map(|e| conv(take(e))));
    } else {
        out.extend(
            bytes
                .chunks_exact(row_bytes)
                .filter_map(|row| row.get(offset..offset + N))
                .map(|e| conv(take(e))),
        );
    }
}

/// A float as the integer Strobe returns for it. With `scale` 1 the value must be whole;
/// otherwise the documented rule `floor(v × scale + 0.5)` (round half up, the same in the h5py
/// oracle) turns MVSEC's seconds into µs. `None` for NaN, infinities, values beyond `i64`, and
/// (scale 1) fractions.
pub fn float_to_i64(v: f64, scale: f64) -> Option<i64> {
    // 2^63 as f64; every whole f64 in [-2^63, 2^63) converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let n = if scale == 1.0 {
        (v.fract() == 0.0).then_some(v)?
    } else {
        (v * scale + 0.5).floor()
    };
    (-LIMIT..LIMIT).contains(&n).then_some(n as i64)
}

fn array<const N: usize>(e: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    let n = e.len().min(N);
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

    fn decode(f: Field, bytes: &[u8], row_bytes: usize) -> Result<Values, Refusal> {
        let mut out = Values::with_capacity(f.kind(), 0);
        f.decode(bytes, row_bytes, f.member_offset, &mut out)?;
        Ok(out)
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
        let read = |f: Field| decode(f, &bytes, 16).unwrap();
        assert_eq!(
            read(field(int(2, false, false), 0, 1.0)),
            Values::U16(vec![5, 639])
        );
        assert_eq!(
            read(field(int(2, false, false), 2, 1.0)),
            Values::U16(vec![7, 479])
        );
        assert_eq!(
            read(field(int(2, true, false), 4, 1.0)),
            Values::I16(vec![-1, 1])
        );
        assert_eq!(
            read(field(int(8, true, false), 8, 1.0)),
            Values::I64(vec![1_000_000_007, 42])
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
        let want: Vec<i64> = values
            .iter()
            .map(|v| (v * 1e6 + 0.5).floor() as i64)
            .collect();
        assert_eq!(decode(field(f8, 0, 1e6), &bytes, 8), Ok(Values::I64(want)));
    }

    #[test]
    fn floats_that_are_not_whole_or_in_range_are_refused_with_their_row() {
        let f8 = ElementType::Float {
            size: 8,
            big_endian: true,
        };
        for (bad, scale) in [
            (1.5, 1.0),
            (f64::NAN, 1.0),
            (f64::INFINITY, 1e6),
            (9.3e18, 1.0),
            (1e13, 1e6),
        ] {
            let bytes: Vec<u8> = [3.0, bad]
                .iter()
                .flat_map(|v: &f64| v.to_be_bytes())
                .collect();
            let err = decode(field(f8, 0, scale), &bytes, 8).unwrap_err();
            assert_eq!(err.index, 1, "{bad}");
        }
        let whole: Vec<u8> = [-4.0f64, 639.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        assert_eq!(
            decode(field(f8, 0, 1.0), &whole, 8),
            Ok(Values::I64(vec![-4, 639]))
        );
    }

    #[test]
    fn big_endian_and_short_rows() {
        assert_eq!(
            decode(
                field(int(4, true, true), 0, 1.0),
                &[0xff, 0xff, 0xff, 0xfe],
                4
            ),
            Ok(Values::I32(vec![-2]))
        );
        // A value that does not fit in the row is not read.
        let f = field(int(8, true, false), 4, 1.0);
        assert_eq!(decode(f, &[0; 16], 8), Ok(Values::I64(vec![])));
    }

    #[test]
    fn every_integer_type_is_returned_as_stored() {
        // Values at the edges of each type, through both byte orders.
        let cases: [(u8, bool, Vec<i128>); 8] = [
            (1, false, vec![0, 1, 255]),
            (1, true, vec![-128, -1, 127]),
            (2, false, vec![0, 639, 65_535]),
            (2, true, vec![-32_768, -1, 32_767]),
            (4, false, vec![0, 70_000, u32::MAX.into()]),
            (4, true, vec![i32::MIN.into(), -1, i32::MAX.into()]),
            (8, false, vec![0, 1 << 40, u64::MAX.into()]),
            (8, true, vec![i64::MIN.into(), -1, i64::MAX.into()]),
        ];
        for (size, signed, values) in cases {
            for big in [false, true] {
                let n = usize::from(size);
                let bytes: Vec<u8> = values
                    .iter()
                    .flat_map(|&v| {
                        let le = v.to_le_bytes();
                        let mut e = le[..n].to_vec();
                        if big {
                            e.reverse();
                        }
                        e
                    })
                    .collect();
                let got = decode(field(int(size, signed, big), 0, 1.0), &bytes, n).unwrap();
                assert_eq!(got.kind(), ValueKind::of_int(size, signed).unwrap());
                let got: Vec<i128> = (0..got.len()).filter_map(|i| got.get(i)).collect();
                assert_eq!(got, values, "size {size} signed {signed} big {big}");
            }
        }
    }
}
