//! Blosc 1 chunks (HDF5 filter 32001).
//!
//! Header (16 bytes): version, codec version, flags, typesize, then u32 LE `nbytes` (decoded),
//! `blocksize` and `cbytes` (whole chunk, header included). Flags: 0x01 byte shuffle, 0x02
//! memcpyed (the data follows the header as is), 0x04 bit shuffle, 0x10 blocks not split,
//! bits 5-7 codec (0 BloscLZ, 1 LZ4/LZ4HC, 2 Snappy, 3 zlib, 4 Zstd).
//!
//! Then one i32 LE start offset per block (from the chunk start). A block is `typesize` streams
//! when split (flag 0x10 clear, typesize <= 16, blocksize / typesize >= 128, not the short last
//! block), else one stream; each stream is i32 LE compressed size + payload, stored raw when the
//! size equals the stream's decoded size. After decoding, a block is un-shuffled (byte shuffle
//! when typesize > 1; bit shuffle when the block holds at least one element).
//!
//! The HDF5 filter's cd_values (`[2, 2, typesize, chunk bytes, clevel, shuffle, codec]`) are not
//! needed: the chunk header says everything.

use super::bitshuffle::blosc_bitunshuffle;
use super::bytes::u32_le;
use super::deflate::Inflater;
use super::shuffle::unshuffle_into;
use super::{blosclz, corrupt, lz4, zstd, FilterError};

const NAME: &str = "blosc";
const HEADER: usize = 16;
const MAX_SPLITS: usize = 16;
const MIN_BUFFERSIZE: usize = 128;

const DOSHUFFLE: u8 = 0x01;
const MEMCPYED: u8 = 0x02;
const DOBITSHUFFLE: u8 = 0x04;
const DODELTA: u8 = 0x08;
const DONT_SPLIT: u8 = 0x10;

/// The codecs a chunk's streams may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Codec {
    BloscLz,
    Lz4,
    Snappy,
    Zlib,
    Zstd,
}

/// Per-chunk decoder state, reused across streams.
#[derive(Default)]
struct Codecs {
    zlib: Inflater,
    snappy: Option<snap::raw::Decoder>,
}

impl Codecs {
    /// Decodes one stream into exactly `dst.len()` bytes.
    fn decode(&mut self, codec: Codec, src: &[u8], dst: &mut [u8]) -> Result<(), String> {
        let want = dst.len();
        let got = match codec {
            Codec::BloscLz => blosclz::decompress(src, dst).map_err(|e| format!("BloscLZ: {e}"))?,
            Codec::Lz4 => return lz4::decode_block_exact(src, dst),
            Codec::Snappy => {
                let declared =
                    snap::raw::decompress_len(src).map_err(|e| format!("snappy: {e}"))?;
                if declared != want {
                    return Err(format!(
                        "snappy stream declares {declared} bytes, expected {want}"
                    ));
                }
                self.snappy
                    .get_or_insert_with(snap::raw::Decoder::new)
                    .decompress(src, dst)
                    .map_err(|e| format!("snappy: {e}"))?
            }
            Codec::Zlib => self.zlib.inflate_into(src, dst)?,
            Codec::Zstd => zstd::with_decoder(|d| d.decode_into(src, dst))?,
        };
        if got != want {
            return Err(format!(
                "{codec:?} stream decoded to {got} bytes, expected {want}"
            ));
        }
        Ok(())
    }
}

/// A parsed chunk header.
#[derive(Debug, Clone, Copy)]
struct Header {
    flags: u8,
    typesize: usize,
    nbytes: usize,
    blocksize: usize,
    cbytes: usize,
}

fn parse_header(data: &[u8]) -> Result<Header, FilterError> {
    if data.len() < HEADER {
        return Err(corrupt(
            NAME,
            format!(
                "chunk of {} bytes is shorter than the 16-byte Blosc header",
                data.len()
            ),
        ));
    }
    let version = data[0];
    let flags = data[2];
    if version == 0 || version > 2 {
        return Err(FilterError::UnsupportedFeature {
            filter: NAME,
            feature: format!("format version {version} (Blosc2 or newer)"),
        });
    }
    if flags & DODELTA != 0 {
        return Err(FilterError::UnsupportedFeature {
            filter: NAME,
            feature: "the delta filter (flag 0x08)".into(),
        });
    }
    let h = Header {
        flags,
        typesize: usize::from(data[3]),
        nbytes: u32_le(data, 4).unwrap_or(0) as usize,
        blocksize: u32_le(data, 8).unwrap_or(0) as usize,
        cbytes: u32_le(data, 12).unwrap_or(0) as usize,
    };
    Ok(h)
}

/// Decodes a Blosc chunk; `cap` bounds the decoded size.
pub fn decode(data: &[u8], cap: usize) -> Result<Vec<u8>, FilterError> {
    let h = parse_header(data)?;
    if h.nbytes == 0 {
        return Ok(Vec::new());
    }
    if h.nbytes > cap {
        return Err(corrupt(
            NAME,
            format!(
                "declares {} decoded bytes; the chunk holds at most {cap}",
                h.nbytes
            ),
        ));
    }
    let mut out = vec![0u8; h.nbytes];
    decode_into(data, h, &mut out)?;
    Ok(out)
}

thread_local! {
    /// Per-thread block buffers (un-shuffle source and bit-shuffle scratch), reused across
    /// chunks; never larger than the largest block decoded (itself capped by the chunk size).
    static BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<u8>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

fn decode_into(data: &[u8], h: Header, out: &mut [u8]) -> Result<(), FilterError> {
    BUFFERS.with(|b| match b.try_borrow_mut() {
        Ok(mut bufs) => {
            let (tmp, scratch) = &mut *bufs;
            decode_blocks(data, h, out, tmp, scratch)
        }
        Err(_) => decode_blocks(data, h, out, &mut Vec::new(), &mut Vec::new()),
    })
}

fn decode_blocks(
    data: &[u8],
    h: Header,
    out: &mut [u8],
    tmp: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<(), FilterError> {
    if h.cbytes > data.len() {
        return Err(corrupt(
            NAME,
            format!(
                "header says the chunk has {} bytes, only {} are stored",
                h.cbytes,
                data.len()
            ),
        ));
    }
    if h.cbytes < HEADER {
        return Err(corrupt(
            NAME,
            format!("compressed size {} is smaller than the header", h.cbytes),
        ));
    }
    let src = &data[..h.cbytes];
    if h.flags & MEMCPYED != 0 {
        let body = src
            .get(HEADER..HEADER + h.nbytes)
            .ok_or_else(|| corrupt(NAME, "memcpyed chunk is shorter than its declared size"))?;
        out.copy_from_slice(body);
        return Ok(());
    }
    if h.typesize == 0 {
        return Err(corrupt(NAME, "typesize 0"));
    }
    if h.blocksize == 0 {
        return Err(corrupt(NAME, "block size 0"));
    }
    let codec = match h.flags >> 5 {
        0 => Codec::BloscLz,
        1 => Codec::Lz4,
        2 => Codec::Snappy,
        3 => Codec::Zlib,
        4 => Codec::Zstd,
        other => {
            return Err(FilterError::UnsupportedFeature {
                filter: NAME,
                feature: format!("codec format {other}"),
            })
        }
    };
    let nbytes = h.nbytes;
    let nblocks = nbytes.div_ceil(h.blocksize);
    let bstarts_end = nblocks
        .checked_mul(4)
        .and_then(|n| n.checked_add(HEADER))
        .filter(|&end| end <= src.len())
        .ok_or_else(|| {
            corrupt(
                NAME,
                format!("{nblocks} block offsets do not fit in {} bytes", src.len()),
            )
        })?;
    let bstarts = &src[HEADER..bstarts_end];
    let ts = h.typesize;
    let doshuffle = h.flags & DOSHUFFLE != 0 && ts > 1;
    let dobitshuffle = h.flags & DOBITSHUFFLE != 0;
    let blocksize = h.blocksize.min(nbytes);
    if (doshuffle || dobitshuffle) && tmp.len() < blocksize {
        tmp.resize(blocksize, 0);
    }
    let mut codecs = Codecs::default();
    for (j, (dst, start)) in out
        .chunks_mut(blocksize)
        .zip(bstarts.chunks_exact(4))
        .enumerate()
    {
        let bsize = dst.len();
        let leftover = bsize < h.blocksize;
        let start = i32::from_le_bytes([start[0], start[1], start[2], start[3]]);
        let start = usize::try_from(start)
            .ok()
            .filter(|&s| s >= bstarts_end && s < src.len())
            .ok_or_else(|| corrupt(NAME, format!("block {j} starts at bad offset {start}")))?;
        let unshuffle = doshuffle || (dobitshuffle && bsize >= ts);
        let target: &mut [u8] = if unshuffle {
            &mut tmp[..bsize]
        } else {
            &mut dst[..]
        };
        let split = h.flags & DONT_SPLIT == 0
            && ts <= MAX_SPLITS
            && bsize / ts >= MIN_BUFFERSIZE
            && !leftover;
        let nsplits = if split { ts } else { 1 };
        if !bsize.is_multiple_of(nsplits) {
            return Err(corrupt(
                NAME,
                format!("block {j} of {bsize} bytes cannot split into {nsplits} streams"),
            ));
        }
        let neblock = bsize / nsplits;
        let mut pos = start;
        for stream in target.chunks_exact_mut(neblock) {
            let csize =
                u32_le(src, pos).ok_or_else(|| corrupt(NAME, format!("block {j} is truncated")))?;
            let csize = usize::try_from(csize as i32)
                .map_err(|_| corrupt(NAME, format!("block {j} has a negative stream size")))?;
            pos += 4;
            let payload = src.get(pos..).and_then(|s| s.get(..csize)).ok_or_else(|| {
                corrupt(
                    NAME,
                    format!("block {j}: a stream of {csize} bytes runs past the chunk"),
                )
            })?;
            pos += csize;
            if csize == neblock {
                stream.copy_from_slice(payload);
            } else {
                codecs
                    .decode(codec, payload, stream)
                    .map_err(|e| corrupt(NAME, format!("block {j}: {e}")))?;
            }
        }
        if doshuffle {
            unshuffle_into(&tmp[..bsize], dst, ts);
        } else if unshuffle {
            blosc_bitunshuffle(&tmp[..bsize], dst, ts, scratch);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(flags: u8, ts: u8, nbytes: u32, blocksize: u32, cbytes: u32) -> Vec<u8> {
        let mut h = vec![2, 1, flags, ts];
        h.extend_from_slice(&nbytes.to_le_bytes());
        h.extend_from_slice(&blocksize.to_le_bytes());
        h.extend_from_slice(&cbytes.to_le_bytes());
        h
    }

    #[test]
    fn memcpyed_chunk() {
        let mut c = header(MEMCPYED, 1, 4, 4, 20);
        c.extend_from_slice(b"wxyz");
        assert_eq!(decode(&c, 4).unwrap(), b"wxyz");
        assert!(decode(&c, 3).is_err());
        assert!(decode(&c[..19], 4).is_err());
    }

    #[test]
    fn raw_streams_with_byte_shuffle() {
        // 8 bytes, typesize 2, one block, one raw stream (csize == 8), byte-shuffled.
        let mut c = header(DOSHUFFLE | DONT_SPLIT, 2, 8, 8, 0);
        c.extend_from_slice(&20u32.to_le_bytes());
        c.extend_from_slice(&8u32.to_le_bytes());
        c.extend_from_slice(&[1, 3, 5, 7, 2, 4, 6, 8]);
        let n = c.len() as u32;
        c[12..16].copy_from_slice(&n.to_le_bytes());
        assert_eq!(decode(&c, 8).unwrap(), vec![1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn hostile_headers() {
        // Declared size beyond the cap.
        let c = header(0, 1, u32::MAX, 1, 16);
        assert!(decode(&c, 1 << 20).is_err());
        // Block size 1 -> 1 M offsets that are not there.
        let c = header(0, 1, 1 << 20, 1, 16);
        assert!(decode(&c, 1 << 20).is_err());
        // Offsets pointing outside.
        let mut c = header(0, 1, 4, 4, 24);
        c.extend_from_slice(&1000u32.to_le_bytes());
        c.extend_from_slice(&[0; 4]);
        assert!(decode(&c, 4).is_err());
        // Future version, future flags, unknown codec.
        let mut c = header(0, 1, 4, 4, 16);
        c[0] = 3;
        assert!(matches!(
            decode(&c, 4),
            Err(FilterError::UnsupportedFeature { .. })
        ));
        let c = header(7 << 5, 1, 4, 4, 24);
        assert!(decode(&[c, vec![20, 0, 0, 0, 0, 0, 0, 0]].concat(), 4).is_err());
        // Short input.
        assert!(decode(&[2, 1, 0], 4).is_err());
    }
}
