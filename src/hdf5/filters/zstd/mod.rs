//! Zstandard frames (HDF5 filter 32015; Blosc codec 4; bitshuffle compression 3), via `ruzstd`.
//!
//! `ruzstd` reserves the frame's declared window up front and, left to itself, decodes a whole
//! frame into its own buffer. So the frame header is parsed here first (window and content size
//! checked against the caller's cap), and blocks are decoded a few at a time and drained into the
//! caller's buffer, which bounds memory whatever the frame claims.

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use std::io::Read;

use super::{corrupt, FilterError};

const MAGIC: u32 = 0xFD2F_B528;
/// Largest window accepted regardless of the output size (legitimate frames written without a
/// known content size use the level's window: 512 KiB at level 1, 8 MiB at level 19).
const WINDOW_FLOOR: u64 = 8 << 20;

/// Total length of a skippable frame (magic 0x184D2A50..=0x184D2A5F) at the start of `src`.
fn skippable_len(src: &[u8]) -> Option<usize> {
    let b = src.get(..8)?;
    let magic = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    if magic & 0xFFFF_FFF0 != 0x184D_2A50 {
        return None;
    }
    let len = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    Some(len.saturating_add(8))
}

/// What a frame header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    pub window: u64,
    pub content_size: Option<u64>,
}

/// Parses a zstd frame header (RFC 8878 §3.1.1.1).
pub fn frame_info(src: &[u8]) -> Result<FrameInfo, String> {
    if src.len() < 6 {
        return Err(format!("{} bytes is too short for a zstd frame", src.len()));
    }
    let magic = u32::from_le_bytes([src[0], src[1], src[2], src[3]]);
    if magic != MAGIC {
        return Err(format!("bad zstd magic number {magic:#010x}"));
    }
    let fhd = src[4];
    let fcs_flag = fhd >> 6;
    let single_segment = fhd & 0x20 != 0;
    if fhd & 0x08 != 0 {
        return Err("reserved bit set in the zstd frame header".into());
    }
    let dict_len = [0usize, 1, 2, 4][usize::from(fhd & 3)];
    let fcs_len = match fcs_flag {
        0 => usize::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let mut at = 5;
    let mut window = 0u64;
    if !single_segment {
        let wd = src[at];
        at += 1;
        let exponent = u64::from(wd >> 3);
        let base = 1u64 << (10 + exponent);
        window = base + (base / 8) * u64::from(wd & 7);
    }
    at += dict_len;
    let fcs = src
        .get(at..at + fcs_len)
        .ok_or_else(|| "zstd frame header is truncated".to_string())?;
    let content_size = match fcs_len {
        0 => None,
        1 => Some(u64::from(fcs[0])),
        2 => Some(u64::from(u16::from_le_bytes([fcs[0], fcs[1]])) + 256),
        4 => Some(u64::from(u32::from_le_bytes([
            fcs[0], fcs[1], fcs[2], fcs[3],
        ]))),
        _ => {
            let mut b = [0u8; 8];
            b.copy_from_slice(fcs);
            Some(u64::from_le_bytes(b))
        }
    };
    if single_segment {
        window = content_size.unwrap_or(0);
    }
    Ok(FrameInfo {
        window,
        content_size,
    })
}

/// A reusable zstd decoder (its tables are allocated once per chunk, not once per block).
#[derive(Default)]
pub struct Decoder {
    inner: Option<FrameDecoder>,
}

impl Decoder {
    /// Decodes the zstd frame(s) in `src` into `dst`, returning the number of bytes written.
    /// Fails if the data would not fit in `dst`.
    pub fn decode_into(&mut self, src: &[u8], dst: &mut [u8]) -> Result<usize, String> {
        let dec = self.inner.get_or_insert_with(FrameDecoder::new);
        let cap = dst.len() as u64;
        let mut input = src;
        let mut written = 0usize;
        let mut frames = 0usize;
        while !input.is_empty() {
            if let Some(skip) = skippable_len(input) {
                input = input.get(skip..).unwrap_or(&[]);
                continue;
            }
            let info = frame_info(input)?;
            let window_cap = cap.saturating_mul(2).max(WINDOW_FLOOR);
            if info.window > window_cap {
                return Err(format!(
                    "zstd frame declares a {} byte window, more than this chunk can need",
                    info.window
                ));
            }
            if let Some(cs) = info.content_size {
                if cs > cap - written as u64 {
                    return Err(format!(
                        "zstd frame declares {cs} bytes, more than the {} left in the chunk",
                        cap - written as u64
                    ));
                }
            }
            dec.reset(&mut input)
                .map_err(|e| format!("zstd frame header: {e}"))?;
            let frame_start = written;
            loop {
                let finished = dec
                    .decode_blocks(&mut input, BlockDecodingStrategy::UptoBytes(256 << 10))
                    .map_err(|e| format!("zstd: {e}"))?;
                loop {
                    let n = dec
                        .read(&mut dst[written..])
                        .map_err(|e| format!("zstd: {e}"))?;
                    if n == 0 {
                        break;
                    }
                    written += n;
                }
                if dec.can_collect() > 0 {
                    return Err("zstd frame decodes to more bytes than the chunk holds".into());
                }
                if finished {
                    break;
                }
            }
            if let Some(cs) = info.content_size {
                if (written - frame_start) as u64 != cs {
                    return Err(format!(
                        "zstd frame decoded to {} bytes but declares {cs}",
                        written - frame_start
                    ));
                }
            }
            if let (Some(stored), Some(computed)) =
                (dec.get_checksum_from_data(), dec.get_calculated_checksum())
            {
                if stored != computed {
                    return Err("zstd frame checksum mismatch".into());
                }
            }
            frames += 1;
        }
        if frames == 0 {
            return Err("no zstd frame in the data".into());
        }
        Ok(written)
    }

    /// Decodes `src` into exactly `dst.len()` bytes.
    pub fn decode_exact(&mut self, src: &[u8], dst: &mut [u8]) -> Result<(), String> {
        let n = self.decode_into(src, dst)?;
        if n != dst.len() {
            return Err(format!(
                "zstd data decoded to {n} bytes, expected {}",
                dst.len()
            ));
        }
        Ok(())
    }
}

/// Decodes HDF5 filter 32015: one zstd frame holding the chunk.
pub fn decode_filter(data: &[u8], cap: usize) -> Result<Vec<u8>, FilterError> {
    let info = frame_info(data).map_err(|e| corrupt("zstd", e))?;
    let size = match info.content_size {
        Some(cs) if cs <= cap as u64 => cs as usize,
        Some(cs) => {
            return Err(corrupt(
                "zstd",
                format!("declares {cs} decoded bytes; the chunk holds at most {cap}"),
            ))
        }
        None => cap,
    };
    let mut out = vec![0u8; size];
    let n = Decoder::default()
        .decode_into(data, &mut out)
        .map_err(|e| corrupt("zstd", e))?;
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_header_fields() {
        // Single segment, 1-byte content size 5.
        let f = [0x28, 0xB5, 0x2F, 0xFD, 0x20, 5, 0, 0];
        let info = frame_info(&f).unwrap();
        assert_eq!(info.content_size, Some(5));
        assert_eq!(info.window, 5);
        // Window descriptor exponent 10 -> 1 MiB, no content size.
        let f = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 10 << 3, 0, 0];
        let info = frame_info(&f).unwrap();
        assert_eq!(info.content_size, None);
        assert_eq!(info.window, 1 << 20);
        assert!(frame_info(&[1, 2, 3, 4, 5, 6]).is_err());
        assert!(frame_info(&[0x28, 0xB5]).is_err());
    }

    #[test]
    fn huge_window_is_refused_before_allocating() {
        // Window exponent 31 -> 2 TiB.
        let f = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 31 << 3, 1, 0, 0];
        let mut out = vec![0u8; 100];
        let err = Decoder::default().decode_into(&f, &mut out).unwrap_err();
        assert!(err.contains("window"), "{err}");
    }
}
