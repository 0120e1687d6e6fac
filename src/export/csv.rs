//! `.csv`: a header `x,y,t,p` (the `.npz` order), then one event per line. Integers print
//! as integers; normalised pixels print the shortest decimal that reads back as the same
//! `float32`.

use std::io::Write;

use super::convert::{ExportBatch, PixelColumn};
use super::ExportError;

/// The first line of every export.
pub const HEADER: &str = "x,y,t,p\n";

/// Streams a window's events as CSV lines.
pub struct CsvWriter<W: Write> {
    out: W,
    /// One batch's text, written in one call.
    line: String,
}

impl<W: Write> CsvWriter<W> {
    pub fn create(mut out: W) -> Result<Self, ExportError> {
        out.write_all(HEADER.as_bytes())?;
        Ok(Self {
            out,
            line: String::new(),
        })
    }

    pub fn write_batch(&mut self, batch: &ExportBatch) -> Result<(), ExportError> {
        use std::fmt::Write as _;
        self.line.clear();
        for i in 0..batch.len() {
            // Every stored integer fits i128 and prints exactly.
            let (Some(t), Some(p)) = (batch.t.get(i), batch.p.get(i)) else {
                break;
            };
            push_pixel(&mut self.line, &batch.x, i);
            self.line.push(',');
            push_pixel(&mut self.line, &batch.y, i);
            // Writing into a String cannot fail.
            let _ = writeln!(self.line, ",{t},{p}");
        }
        self.out.write_all(self.line.as_bytes())?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<W, ExportError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn push_pixel(line: &mut String, column: &PixelColumn, i: usize) {
    use std::fmt::Write as _;
    let _ = match column {
        PixelColumn::Stored(v) => write!(line, "{}", v.get(i).unwrap_or_default()),
        PixelColumn::F32(v) => write!(line, "{}", v.get(i).copied().unwrap_or_default()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hdf5::Values;

    #[test]
    fn lines_follow_the_header() {
        let mut w = CsvWriter::create(Vec::new()).unwrap();
        w.write_batch(&ExportBatch {
            x: PixelColumn::F32(vec![0.5, 1.0 / 3.0]),
            y: PixelColumn::F32(vec![0.0, 0.25]),
            t: Values::I64(vec![-3, 12_345_678_901]),
            p: Values::I8(vec![-1, 1]),
        })
        .unwrap();
        w.write_batch(&ExportBatch {
            x: PixelColumn::Stored(Values::U32(vec![4_000_000_000])),
            y: PixelColumn::Stored(Values::I16(vec![-2])),
            t: Values::U64(vec![u64::MAX]),
            p: Values::U8(vec![255]),
        })
        .unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "x,y,t,p\n0.5,0,-3,-1\n0.33333334,0.25,12345678901,1\n4000000000,-2,18446744073709551615,255\n"
        );
    }
}
