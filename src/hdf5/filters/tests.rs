//! Filter decoders against vectors made by the real C implementations
//! (`tests/data/filters/make_vectors.py`: c-blosc via python-blosc, HDF5 + hdf5plugin), plus
//! corruption tests: damaged or hostile chunks must give errors, never panics or oversized
//! output.

use std::path::{Path, PathBuf};

use super::{decode_chunk, FilterError, FilterStep};

struct Vector {
    name: String,
    encoded: Vec<u8>,
    expected: Vec<u8>,
    pipeline: Vec<FilterStep>,
    filter_mask: u32,
    element_size: usize,
    chunk_bytes: usize,
    expect_error: Option<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/filters")
}

fn load() -> Vec<Vector> {
    let manifest = std::fs::read_to_string(dir().join("manifest.json")).expect("manifest.json");
    let m: serde_json::Value = serde_json::from_str(&manifest).expect("manifest is JSON");
    let read = |rel: &serde_json::Value| -> Vec<u8> {
        std::fs::read(dir().join(rel.as_str().expect("path"))).expect("vector file")
    };
    m["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap_or_default().to_string(),
            encoded: read(&v["encoded"]),
            expected: read(&v["expected"]),
            pipeline: v["pipeline"]
                .as_array()
                .expect("pipeline")
                .iter()
                .map(|s| FilterStep {
                    id: s["id"].as_u64().expect("id") as u16,
                    name: s["name"].as_str().map(str::to_string),
                    cd_values: s["cd_values"]
                        .as_array()
                        .expect("cd_values")
                        .iter()
                        .map(|c| c.as_u64().expect("cd") as u32)
                        .collect(),
                    optional: s["optional"].as_bool().unwrap_or(false),
                })
                .collect(),
            filter_mask: v["filter_mask"].as_u64().expect("mask") as u32,
            element_size: v["element_size"].as_u64().expect("element_size") as usize,
            chunk_bytes: v["chunk_bytes"].as_u64().expect("chunk_bytes") as usize,
            expect_error: v["expect_error"].as_str().map(str::to_string),
        })
        .collect()
}

fn decode(v: &Vector, data: Vec<u8>) -> Result<Vec<u8>, FilterError> {
    decode_chunk(
        &v.pipeline,
        v.filter_mask,
        data,
        v.element_size,
        v.chunk_bytes,
    )
}

/// Whether the vector runs at least one decoder (raw chunks stored with every filter masked
/// out pass through untouched).
fn has_active_filter(v: &Vector) -> bool {
    (0..v.pipeline.len()).any(|i| v.filter_mask & (1 << i) == 0)
}

#[test]
fn every_vector_decodes_byte_for_byte() {
    let vectors = load();
    assert!(vectors.len() > 200, "only {} vectors", vectors.len());
    let mut failures = vec![];
    for v in &vectors {
        let got = decode(v, v.encoded.clone());
        match (&v.expect_error, got) {
            (None, Ok(out)) if out == v.expected => {}
            (None, Ok(out)) => failures.push(format!(
                "{}: {} bytes decoded, {} expected, first difference at {:?}",
                v.name,
                out.len(),
                v.expected.len(),
                out.iter().zip(&v.expected).position(|(a, b)| a != b)
            )),
            (None, Err(e)) => failures.push(format!("{}: {e}", v.name)),
            (Some(kind), Err(e)) => {
                if kind == "unsupported" && !matches!(e, FilterError::Unsupported { .. }) {
                    failures.push(format!("{}: wrong error {e}", v.name));
                }
            }
            (Some(_), Ok(_)) => failures.push(format!("{}: decoded but should fail", v.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn vectors_cover_every_codec_and_shuffle() {
    let vectors = load();
    let names: Vec<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
    for part in [
        "blosc-blosclz-",
        "blosc-lz4-",
        "blosc-lz4hc-",
        "blosc-zlib-",
        "blosc-zstd-",
        "h5-blosc-snappy-",
        "-noshuf-",
        "-shuf-",
        "-bitshuf-",
        "-noise",
        "-tiny",
        "zstd-l19-",
        "zstd-l3-checksum",
        "zstd-l3-skippable",
        "h5-lzf-",
        "h5-lz4-",
        "h5-bshuf-lz4-",
        "h5-bshuf-zstd-",
        "h5-bshuf-none-",
        "h5-zstd-",
        "h5-gzip-shuf-fl32-",
        "h5-bzip2-",
    ] {
        assert!(
            names.iter().any(|n| n.contains(part)),
            "no vector named like {part}"
        );
    }
    // Both split and unsplit Blosc blocks, and memcpyed chunks, are present.
    let flags: Vec<u8> = vectors
        .iter()
        .filter(|v| v.name.starts_with("blosc-") && v.encoded.len() >= 16)
        .map(|v| v.encoded[2])
        .collect();
    assert!(flags.iter().any(|f| f & 0x10 != 0));
    assert!(flags.iter().any(|f| f & 0x12 == 0));
    assert!(flags.iter().any(|f| f & 0x02 != 0));
}

/// Small deterministic PRNG for the corruption tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Decoding damaged data must not panic, and whatever comes out is at most the chunk size.
fn must_not_misbehave(v: &Vector, data: Vec<u8>, what: &str) -> Result<Vec<u8>, FilterError> {
    let r = std::panic::catch_unwind(|| decode(v, data));
    match r {
        Ok(Ok(out)) => {
            assert_eq!(
                out.len(),
                v.chunk_bytes,
                "{} ({what}): decoded to a wrong size",
                v.name
            );
            Ok(out)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => panic!("{} ({what}): decoder panicked", v.name),
    }
}

#[test]
fn truncated_chunks_are_errors() {
    for v in load() {
        if v.expect_error.is_some() || !has_active_filter(&v) || v.encoded.is_empty() {
            continue;
        }
        let n = v.encoded.len();
        let mut cuts: Vec<usize> = vec![0, 1, 4, 11, 12, 15, 16, 17, n / 2, n - 1];
        cuts.retain(|&c| c < n);
        for cut in cuts {
            let r = must_not_misbehave(&v, v.encoded[..cut].to_vec(), "truncated");
            // Blosc ignores bytes after cbytes and a zstd frame may end early only if it is
            // the very last byte of a checksum-less frame; everything else must be refused.
            if let Ok(out) = r {
                assert_eq!(
                    out, v.expected,
                    "{}: truncated to {cut} decoded wrongly",
                    v.name
                );
            }
        }
    }
}

#[test]
fn random_damage_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut errors = 0usize;
    let mut runs = 0usize;
    for v in load() {
        if v.expect_error.is_some() || !has_active_filter(&v) || v.encoded.is_empty() {
            continue;
        }
        for round in 0..24 {
            let mut d = v.encoded.clone();
            match round % 4 {
                // Flip a few bits anywhere.
                0 => {
                    for _ in 0..1 + rng.below(4) {
                        let i = rng.below(d.len());
                        d[i] ^= 1 << rng.below(8);
                    }
                }
                // Overwrite a 4-byte word with an extreme value (lying sizes, offsets).
                1 => {
                    let i = rng.below(d.len().saturating_sub(4) + 1);
                    let val: [u8; 4] = match rng.below(4) {
                        0 => [0xFF; 4],
                        1 => [0; 4],
                        2 => [0xFF, 0xFF, 0xFF, 0x7F],
                        _ => (rng.next() as u32).to_le_bytes(),
                    };
                    let end = (i + 4).min(d.len());
                    d[i..end].copy_from_slice(&val[..end - i]);
                }
                // Damage inside the header area specifically.
                2 => {
                    let i = rng.below(d.len().min(32));
                    d[i] = rng.next() as u8;
                }
                // Random garbage of the same length.
                _ => {
                    for b in d.iter_mut() {
                        *b = rng.next() as u8;
                    }
                }
            }
            runs += 1;
            if must_not_misbehave(&v, d, "random damage").is_err() {
                errors += 1;
            }
        }
    }
    assert!(runs > 1000);
    assert!(
        errors > runs / 4,
        "only {errors} of {runs} damaged chunks were refused"
    );
}

fn find(vs: &[Vector], name: &str) -> Vector {
    let v = vs.iter().find(|v| v.name == name).expect(name);
    Vector {
        name: v.name.clone(),
        encoded: v.encoded.clone(),
        expected: v.expected.clone(),
        pipeline: v.pipeline.clone(),
        filter_mask: v.filter_mask,
        element_size: v.element_size,
        chunk_bytes: v.chunk_bytes,
        expect_error: None,
    }
}

#[test]
fn hostile_blosc_headers_are_refused() {
    let vs = load();
    let v = find(&vs, "blosc-zstd-bitshuf-ts4-bs2k");
    let mut d = v.encoded.clone();
    // nbytes far beyond the chunk.
    d[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = decode(&v, d).unwrap_err();
    assert!(e.to_string().contains("at most"), "{e}");
    // blocksize 1: millions of blocks whose offsets cannot be there.
    let mut d = v.encoded.clone();
    d[8..12].copy_from_slice(&1u32.to_le_bytes());
    assert!(decode(&v, d).is_err());
    // cbytes larger than the data.
    let mut d = v.encoded.clone();
    d[12..16].copy_from_slice(&(v.encoded.len() as u32 + 1).to_le_bytes());
    assert!(decode(&v, d).is_err());
    // A block offset pointing past the end, and one pointing into the header.
    for bad in [u32::MAX, v.encoded.len() as u32, 3] {
        let mut d = v.encoded.clone();
        d[16..20].copy_from_slice(&bad.to_le_bytes());
        assert!(decode(&v, d).is_err(), "offset {bad}");
    }
    // A chunk size smaller than the header declares.
    let mut small = find(&vs, "blosc-lz4-bitshuf-ts4-big");
    small.chunk_bytes = 1000;
    assert!(decode(&small, small.encoded.clone()).is_err());
}

#[test]
fn hostile_hdf5_filter_headers_are_refused() {
    let vs = load();
    // LZ4 32004 and bitshuffle 32008: 8-byte BE total size far beyond the chunk.
    for name in ["h5-lz4-u4-c0", "h5-bshuf-lz4-u4-c0", "h5-bshuf-zstd-u4-c0"] {
        let v = find(&vs, name);
        let mut d = v.encoded.clone();
        d[..8].copy_from_slice(&(1u64 << 40).to_be_bytes());
        let e = decode(&v, d).unwrap_err();
        assert!(e.to_string().contains("at most"), "{name}: {e}");
        // Block size 0 / not a multiple of 8 elements.
        let mut d = v.encoded.clone();
        d[8..12].copy_from_slice(&0u32.to_be_bytes());
        assert!(decode(&v, d).is_err(), "{name}: block size 0");
        // First block's compressed size larger than the data.
        let mut d = v.encoded.clone();
        d[12..16].copy_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
        assert!(decode(&v, d).is_err(), "{name}: huge block");
    }
    // Zstd 32015: frame content size beyond the chunk.
    let v = find(&vs, "h5-zstd-u2-c0");
    let e = decode(&v, v.encoded.clone()).map(|_| ());
    assert!(e.is_ok());
    let mut small = find(&vs, "h5-zstd-u2-c0");
    small.chunk_bytes = 100;
    assert!(decode(&small, small.encoded.clone()).is_err());
    // Deflate decoding to more than the chunk.
    let mut small = find(&vs, "h5-gzip-u4-c0");
    small.chunk_bytes = 100;
    assert!(decode(&small, small.encoded.clone()).is_err());
    // Fletcher32 mismatch.
    let v = find(&vs, "h5-fl32-u1-odd-c0");
    let mut d = v.encoded.clone();
    d[10] ^= 0x40;
    let e = decode(&v, d).unwrap_err();
    assert!(e.to_string().contains("checksum"), "{e}");
}

#[test]
fn zstd_bomb_is_bounded() {
    // A frame of RLE blocks claiming no content size: 4 bytes per 128 KiB block would decode
    // to gigabytes; the decoder must stop at the chunk size.
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 7 << 3]; // no FCS, window 128 KiB
    for i in 0..100_000u32 {
        let last = u32::from(i == 99_999);
        let header = last | (1 << 1) | ((128 * 1024) << 3); // RLE block, 128 KiB
        f.extend_from_slice(&header.to_le_bytes()[..3]);
        f.push(0xAB);
    }
    let step = FilterStep {
        id: 32015,
        name: None,
        cd_values: vec![],
        optional: false,
    };
    let e = decode_chunk(&[step], 0, f, 1, 1 << 20).unwrap_err();
    assert!(e.to_string().contains("more bytes than the chunk"), "{e}");
}
