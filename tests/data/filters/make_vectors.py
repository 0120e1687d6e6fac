#!/usr/bin/env python3
"""Generate the filter test vectors in this folder with the real C implementations.

Oracle: python-blosc (c-blosc 1.21) for Blosc chunks; h5py + hdf5plugin (HDF5's own deflate,
shuffle and fletcher32; h5py's LZF; hdf5plugin's Blosc, LZ4, bitshuffle, Zstd and BZip2
filters) for HDF5 chunks, read back raw with `read_direct_chunk`.

Run from anywhere, in a throwaway venv outside the repo:

    python3 -m venv /work/venv-filters
    /work/venv-filters/bin/pip install numpy blosc hdf5plugin h5py zstandard
    /work/venv-filters/bin/python tests/data/filters/make_vectors.py

Writes `manifest.json`, `raw/*.bin` (decoded data, shared between vectors) and `enc/*.bin`
(stored chunks). Everything is deterministic except the compressors' own versions.
"""

import json
import os
import shutil
import tempfile

import blosc
import h5py
import hdf5plugin
import numpy as np
import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = os.path.join(HERE, "raw")
ENC = os.path.join(HERE, "enc")

manifest = {
    "generator": {
        "python-blosc": blosc.__version__,
        "c-blosc": blosc.blosclib_version,
        "h5py": h5py.version.version,
        "hdf5": h5py.version.hdf5_version,
        "hdf5plugin": hdf5plugin.version,
        "numpy": np.__version__,
        "zstd": ".".join(map(str, zstandard.ZSTD_VERSION)),
    },
    "vectors": [],
}
raw_files = {}


def put_raw(name, data):
    """Stores decoded bytes once; returns the file name relative to this folder."""
    data = bytes(data)
    key = data
    if key in raw_files:
        return raw_files[key]
    rel = f"raw/{name}.bin"
    with open(os.path.join(HERE, rel), "wb") as f:
        f.write(data)
    raw_files[key] = rel
    return rel


def put_vector(name, encoded, raw_rel, pipeline, filter_mask, element_size, chunk_bytes,
               expect_error=None):
    rel = f"enc/{name}.bin"
    with open(os.path.join(HERE, rel), "wb") as f:
        f.write(bytes(encoded))
    v = {
        "name": name,
        "encoded": rel,
        "expected": raw_rel,
        "pipeline": pipeline,
        "filter_mask": filter_mask,
        "element_size": element_size,
        "chunk_bytes": chunk_bytes,
    }
    if expect_error:
        v["expect_error"] = expect_error
    manifest["vectors"].append(v)


# ---------------------------------------------------------------- data that looks like events
rng = np.random.default_rng(20240601)


def event_t(n):  # u4 microseconds, non-decreasing, duplicates common
    return np.cumsum(rng.poisson(0.7, n)).astype("<u4") + np.uint32(123456)


def event_x(n):  # u2 columns, spatially correlated
    walk = np.cumsum(rng.integers(-3, 4, n)) % 640
    return walk.astype("<u2")


def event_p(n):  # u1 polarity with runs
    return (np.cumsum(rng.random(n) < 0.2) % 2).astype("u1")


def ms_to_idx(n):  # u8 increasing
    return np.cumsum(rng.integers(5000, 20000, n)).astype("<u8")


def struct3(n):  # typesize 3: slowly varying 3-byte records
    a = np.zeros((n, 3), dtype="u1")
    a[:, 0] = np.arange(n) % 7
    a[:, 1] = (np.arange(n) // 13) % 256
    a[:, 2] = rng.integers(0, 4, n)
    return a


def wide(n, width):  # typesize 16 / 24 records: a counter plus small noise
    a = np.zeros((n, width), dtype="u1")
    a[:, 0:4] = np.arange(n, dtype="<u4").view("u1").reshape(n, 4)
    a[:, 4:8] = rng.integers(0, 3, (n, 4))
    return a


BIG_T = event_t(66000)
P100K = event_p(100000)

# ---------------------------------------------------------------- Blosc (python-blosc)
# python-blosc is built without snappy; snappy vectors come from hdf5plugin below.
CNAMES = ["blosclz", "lz4", "lz4hc", "zlib", "zstd"]
# hdf5-blosc cd_values[6] numbering
CD_COMPRESSOR = {"blosclz": 0, "lz4": 1, "lz4hc": 2, "snappy": 3, "zlib": 4, "zstd": 5}
SHUFFLES = {"noshuf": blosc.NOSHUFFLE, "shuf": blosc.SHUFFLE, "bitshuf": blosc.BITSHUFFLE}

blosc.set_nthreads(1)


def blosc_vector(name, data, typesize, cname, shuffle, clevel=5, blocksize=0, splitmode=None):
    data = bytes(data)
    blosc.set_blocksize(blocksize)
    # c-blosc reads BLOSC_SPLITMODE on every compress call and keeps it in a global, so it is
    # always set explicitly (FORWARD_COMPAT is c-blosc's default).
    os.environ["BLOSC_SPLITMODE"] = splitmode or "FORWARD_COMPAT"
    try:
        enc = blosc.compress(data, typesize=typesize, clevel=clevel, shuffle=shuffle, cname=cname)
    finally:
        os.environ.pop("BLOSC_SPLITMODE", None)
        blosc.set_blocksize(0)
    assert blosc.decompress(enc) == data
    return enc


def add_blosc(name, data, typesize, cname, shuffle, raw_name, **kw):
    enc = blosc_vector(name, data, typesize, cname, SHUFFLES[shuffle], **kw)
    raw_rel = put_raw(raw_name, data)
    cd = [2, 2, typesize, len(data), kw.get("clevel", 5), SHUFFLES[shuffle], CD_COMPRESSOR[cname]]
    pipeline = [{"id": 32001, "name": "blosc", "cd_values": cd, "optional": True}]
    put_vector(name, enc, raw_rel, pipeline, 0, typesize, len(data))
    return enc


def build_blosc():
    datasets = {
        1: ("p9001", event_p(9001).tobytes()),
        2: ("x5003", event_x(5003).tobytes()),
        4: ("t3001", event_t(3001).tobytes()),
        8: ("ms1500", ms_to_idx(1500).tobytes()),
    }
    # Every codec x shuffle x typesize, forced 2 KiB blocks: many blocks and a short last
    # block. c-blosc enlarges the block size (to >= 64 KiB) for codecs it splits, so these use
    # split mode NEVER; split blocks are covered by the "auto", "big" and "splitalways" vectors.
    for ts, (rname, data) in datasets.items():
        for cname in CNAMES:
            for sname in SHUFFLES:
                add_blosc(f"blosc-{cname}-{sname}-ts{ts}-bs2k", data, ts, cname, sname, rname,
                          blocksize=2048, splitmode="NEVER")
        # Split blocks (one per chunk at these sizes) for every codec.
        for cname in CNAMES:
            add_blosc(f"blosc-{cname}-shuf-ts{ts}-split", data, ts, cname, "shuf", rname,
                      splitmode="ALWAYS")
    # Automatic block size (one block for these sizes).
    rname, data = datasets[4]
    for cname in CNAMES:
        for sname in SHUFFLES:
            add_blosc(f"blosc-{cname}-{sname}-ts4-auto", data, 4, cname, sname, rname)
    # nbytes not a multiple of typesize: shuffle leftovers.
    odd = datasets[4][1] + b"\x01\x02\x03"
    for sname in SHUFFLES:
        add_blosc(f"blosc-lz4-{sname}-ts4-oddbytes", odd, 4, "lz4", sname, "t3001_odd",
                  blocksize=2048)
        add_blosc(f"blosc-zstd-{sname}-ts4-oddbytes", odd, 4, "zstd", sname, "t3001_odd")
    # Bit-shuffle with a last block whose element count is not a multiple of 8.
    t_odd = event_t(1003).tobytes()  # 4012 bytes; 2048-byte blocks -> last block 1964 B = 491 el
    for cname in ["blosclz", "zstd", "lz4"]:
        add_blosc(f"blosc-{cname}-bitshuf-ts4-lastblock491", t_odd, 4, cname, "bitshuf",
                  "t1003", blocksize=2048)
    # Odd and wide type sizes (wide: no split, typesize > 16).
    s3 = struct3(4001).tobytes()
    w16 = wide(700, 16).tobytes()
    w24 = wide(500, 24).tobytes()
    for cname in ["blosclz", "lz4", "zstd"]:
        for sname in SHUFFLES:
            add_blosc(f"blosc-{cname}-{sname}-ts3", s3, 3, cname, sname, "s3_4001", blocksize=4096)
            add_blosc(f"blosc-{cname}-{sname}-ts16", w16, 16, cname, sname, "w16_700",
                      blocksize=4096)
            add_blosc(f"blosc-{cname}-{sname}-ts24", w24, 24, cname, sname, "w24_500",
                      blocksize=4096)
    # Split modes forced either way (the header flag 0x10 says which).
    rname, data = datasets[2]
    for mode in ["ALWAYS", "NEVER"]:
        for cname in ["blosclz", "lz4", "zstd", "zlib"]:
            add_blosc(f"blosc-{cname}-shuf-ts2-split{mode.lower()}", data, 2, cname, "shuf", rname,
                      blocksize=2048, splitmode=mode)
    # Incompressible data -> memcpyed chunk; tiny inputs (< 128 bytes) -> memcpyed too.
    noise = rng.integers(0, 256, 5000, dtype="u1").tobytes()
    for cname in ["blosclz", "zstd"]:
        add_blosc(f"blosc-{cname}-shuf-ts4-noise", noise, 4, cname, "shuf", "noise5000")
    tiny = event_t(25).tobytes()  # 100 bytes
    for cname in ["lz4", "zstd"]:
        add_blosc(f"blosc-{cname}-bitshuf-ts4-tiny", tiny, 4, cname, "bitshuf", "t25")
    one = b"\x07"
    add_blosc("blosc-lz4-noshuf-ts1-onebyte", one, 1, "lz4", "noshuf", "one")
    add_blosc("blosc-zstd-noshuf-ts1-empty", b"", 1, "zstd", "noshuf", "empty")
    # clevel 0 -> memcpyed.
    add_blosc("blosc-blosclz-shuf-ts4-clevel0", datasets[4][1], 4, "blosclz", "shuf", "t3001",
              clevel=0)
    # Partly random blocks: some streams stored raw inside a compressed chunk.
    mixed = bytearray(datasets[1][1][:6144])
    mixed[2048:4096] = rng.integers(0, 256, 2048, dtype="u1").tobytes()
    for cname in CNAMES:
        add_blosc(f"blosc-{cname}-noshuf-ts1-mixedraw", bytes(mixed), 1, cname, "noshuf",
                  "mixed6144", blocksize=2048)
    # A larger, realistic chunk: DSEC-like t column, 66000 elements, default block size
    # (several blocks, a short last one), clevel 1 as DSEC writes it.
    big_t = BIG_T.tobytes()
    for cname, sname in [("zstd", "shuf"), ("zstd", "bitshuf"), ("lz4", "bitshuf"),
                         ("blosclz", "bitshuf")]:
        add_blosc(f"blosc-{cname}-{sname}-ts4-big", big_t, 4, cname, sname, "t66000", clevel=1)


# ---------------------------------------------------------------- HDF5 filters (h5py + hdf5plugin)
def pipeline_of(dset):
    plist = dset.id.get_create_plist()
    steps = []
    for i in range(plist.get_nfilters()):
        code, flags, cd_values, name = plist.get_filter(i)
        steps.append({
            "id": int(code),
            "name": name.decode("ascii", "replace") if name else None,
            "cd_values": [int(v) for v in cd_values],
            "optional": bool(flags & 1),
        })
    return steps


def add_h5(name, data, chunk, tmpdir, raw_name, expect_error=None, **create_kw):
    """Writes `data` (1-D) in one dataset and adds a vector for every chunk."""
    data = np.ascontiguousarray(data)
    path = os.path.join(tmpdir, name + ".h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("d", data=data, chunks=(chunk,), **create_kw)
    with h5py.File(path, "r") as f:
        d = f["d"]
        pipeline = pipeline_of(d)
        itemsize = d.dtype.itemsize
        chunk_bytes = chunk * itemsize
        n = d.shape[0]
        for k, start in enumerate(range(0, n, chunk)):
            mask, stored = d.id.read_direct_chunk((start,))
            expected = np.zeros(chunk, dtype=d.dtype)  # edge chunks are stored full, fill 0
            part = data[start:start + chunk]
            expected[: len(part)] = part
            raw_rel = put_raw(f"{raw_name}_c{k}", expected.tobytes())
            put_vector(f"{name}-c{k}", stored, raw_rel, pipeline, int(mask), itemsize,
                       chunk_bytes, expect_error=expect_error)


def build_h5():
    tmpdir = tempfile.mkdtemp(prefix="strobe-filters-")
    try:
        t = event_t(2500)
        x = event_x(2500)
        p = event_p(2500)
        u8 = ms_to_idx(600)
        noise_u4 = rng.integers(0, 2**32, 1000, dtype="<u4")
        # LZF 32000 (h5py's own), with and without shuffle; last chunk is an edge chunk.
        add_h5("h5-lzf-u4", t, 1000, tmpdir, "h5t", compression="lzf")
        add_h5("h5-lzf-shuf-u2", x, 1000, tmpdir, "h5x", compression="lzf", shuffle=True)
        # Incompressible: LZF is optional, so the chunk is stored raw with filter-mask bit 0.
        add_h5("h5-lzf-noise", noise_u4, 1000, tmpdir, "h5noise", compression="lzf")
        # Deflate 1 (+ shuffle 2 + fletcher32 3).
        add_h5("h5-gzip-u4", t, 1000, tmpdir, "h5t", compression="gzip", compression_opts=6)
        add_h5("h5-gzip-shuf-fl32-u4", t, 1000, tmpdir, "h5t", compression="gzip",
               shuffle=True, fletcher32=True)
        add_h5("h5-fl32-u1-odd", p[:1001], 1001, tmpdir, "h5p1001", fletcher32=True)
        add_h5("h5-shuf-u8", u8, 300, tmpdir, "h5u8", shuffle=True)
        # LZ4 32004: 1 KiB blocks -> several blocks per chunk, short last block; the noise
        # chunk has blocks stored raw.
        add_h5("h5-lz4-u4", t, 1000, tmpdir, "h5t", **hdf5plugin.LZ4(nbytes=1024))
        add_h5("h5-lz4-default-u2", x, 1000, tmpdir, "h5x", **hdf5plugin.LZ4())
        mixed = t[:1000].copy()
        mixed[300:600] = noise_u4[:300]
        add_h5("h5-lz4-mixed-u4", mixed, 1000, tmpdir, "h5mixed", **hdf5plugin.LZ4(nbytes=1024))
        # Bitshuffle 32008: none / lz4 / zstd, element sizes 1..8, chunk element counts that
        # are not multiples of the block size nor of 8.
        for cname in [None, "lz4", "zstd"]:
            tag = cname or "none"
            add_h5(f"h5-bshuf-{tag}-u4", t, 1003, tmpdir, "h5t1003",
                   **hdf5plugin.Bitshuffle(nelems=256, cname=cname))
            add_h5(f"h5-bshuf-{tag}-u2-default", x, 1250, tmpdir, "h5x1250",
                   **hdf5plugin.Bitshuffle(cname=cname))
            add_h5(f"h5-bshuf-{tag}-u1", p, 2500, tmpdir, "h5p2500",
                   **hdf5plugin.Bitshuffle(nelems=1024, cname=cname))
            add_h5(f"h5-bshuf-{tag}-u8", u8, 299, tmpdir, "h5u8_299",
                   **hdf5plugin.Bitshuffle(nelems=64, cname=cname))
        # Zstd 32015.
        add_h5("h5-zstd-u2", x, 1000, tmpdir, "h5x", **hdf5plugin.Zstd(clevel=1))
        add_h5("h5-zstd-shuf-u4", t, 1000, tmpdir, "h5t", shuffle=True,
               **hdf5plugin.Zstd(clevel=9))
        # Blosc 32001 through hdf5plugin: DSEC-style zstd + bit-shuffle, lz4 + byte-shuffle,
        # and noise that Blosc cannot shrink (optional filter skipped via the mask).
        add_h5("h5-blosc-zstd-bitshuf-u4", t, 1000, tmpdir, "h5t",
               **hdf5plugin.Blosc(cname="zstd", clevel=1, shuffle=hdf5plugin.Blosc.BITSHUFFLE))
        add_h5("h5-blosc-lz4-shuf-u2", x, 1000, tmpdir, "h5x",
               **hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE))
        add_h5("h5-blosc-noise-u4", noise_u4, 1000, tmpdir, "h5noise",
               **hdf5plugin.Blosc(cname="zstd", clevel=1, shuffle=hdf5plugin.Blosc.SHUFFLE))
        # An unsupported filter must be reported by id and name.
        add_h5("h5-bzip2-u4", t[:1000], 1000, tmpdir, "h5t", expect_error="unsupported",
               **hdf5plugin.BZip2())
        # Blosc + snappy (only hdf5plugin's c-blosc has it): small single-block chunks (split
        # into typesize streams), and larger ones at clevel 1 whose 64 KiB blocks leave a short
        # last block.
        for sname, sh in [("noshuf", 0), ("shuf", 1), ("bitshuf", 2)]:
            for arr, chunk, rname in [(t, 1003, "h5t1003"), (u8, 299, "h5u8_299")]:
                ts = arr.dtype.itemsize
                add_h5(f"h5-blosc-snappy-{sname}-ts{ts}", arr, chunk, tmpdir, rname,
                       **hdf5plugin.Blosc(cname="snappy", clevel=5, shuffle=sh))
            if sname != "shuf":  # byte shuffle of 1-byte elements is no shuffle
                add_h5(f"h5-blosc-snappy-{sname}-ts1-big", P100K, 100000, tmpdir, "p100000",
                       **hdf5plugin.Blosc(cname="snappy", clevel=1, shuffle=sh))
        add_h5("h5-blosc-snappy-shuf-ts4-big", BIG_T, 66000, tmpdir, "t66000",
               **hdf5plugin.Blosc(cname="snappy", clevel=1, shuffle=1))
    finally:
        shutil.rmtree(tmpdir)


# ---------------------------------------------------------------- raw zstd frames (libzstd)
def add_zstd(name, data, **params):
    """A zstd frame as HDF5 filter 32015 stores it (one frame per chunk), made by libzstd."""
    frames = params.pop("frames", None)
    if frames is None:
        cctx = zstandard.ZstdCompressor(**params)
        enc = cctx.compress(data)
    else:
        enc = frames
    assert zstandard.ZstdDecompressor().decompressobj().decompress(enc) == data or frames
    raw_rel = put_raw(name, data)
    pipeline = [{"id": 32015, "name": "zstd", "cd_values": [], "optional": False}]
    put_vector(name, enc, raw_rel, pipeline, 0, 1, len(data))


def build_zstd():
    big = BIG_T.tobytes()  # 264000 bytes: several 128 KiB blocks
    mixed = bytearray(P100K.tobytes()[:60000])
    mixed[20000:26000] = rng.integers(0, 256, 6000, dtype="u1").tobytes()  # raw-ish region
    mixed[40000:48000] = bytes(8000)  # RLE-ish region
    mixed = bytes(mixed)
    text = (b"event camera recordings are sparse streams of polarity changes; " * 900)[:50000]
    # Every strategy (levels -5 fast ... 19 btultra2): predefined / RLE / FSE / repeat table
    # modes, treeless and 4-stream literals, repeat offsets.
    for level in [-5, 1, 3, 6, 9, 13, 19, 22]:
        add_zstd(f"zstd-l{level}-mixed", mixed, level=level)
    # More than one 128 KiB block: tables and offsets carried from block to block.
    for level in [3, 19]:
        add_zstd(f"zstd-l{level}-t66000", big, level=level)
    for level in [1, 19]:
        add_zstd(f"zstd-l{level}-text", text, level=level)
    # Content checksum (XXH64), no content size in the header, both.
    add_zstd("zstd-l3-checksum", text, level=3, write_checksum=True)
    add_zstd("zstd-l3-nosize", text, level=3, write_content_size=False)
    add_zstd("zstd-l3-nosize-checksum", text, level=3, write_content_size=False,
             write_checksum=True)
    # Streaming compression with small writes: many blocks, no declared size.
    cctx = zstandard.ZstdCompressor(level=5, write_checksum=True)
    co = cctx.compressobj()
    parts = [co.compress(text[i:i + 7000]) for i in range(0, len(text), 7000)]
    parts.append(co.flush())
    add_zstd("zstd-l5-stream", text, frames=b"".join(parts))
    # Two frames back to back, and a skippable frame in front.
    c = zstandard.ZstdCompressor(level=3)
    two = c.compress(text[:20000]) + c.compress(text[20000:])
    add_zstd("zstd-l3-twoframes", text, frames=two)
    skip = (0x184D2A50).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"hello"
    add_zstd("zstd-l3-skippable", text, frames=skip + c.compress(text))
    # Incompressible data (raw blocks) and all-zero data (RLE blocks); tiny and empty inputs.
    add_zstd("zstd-l3-noise", rng.integers(0, 256, 20000, dtype="u1").tobytes(), level=3)
    add_zstd("zstd-l3-zeros", bytes(131100), level=3)
    add_zstd("zstd-l3-tiny", b"abcabcabcabc!", level=3)
    add_zstd("zstd-l3-empty", b"", level=3)


def main():
    for d in (RAW, ENC):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    build_blosc()
    build_h5()
    build_zstd()
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = 0
    for d in (RAW, ENC):
        for fn in os.listdir(d):
            total += os.path.getsize(os.path.join(d, fn))
    print(f"{len(manifest['vectors'])} vectors, {len(raw_files)} raw files, {total} bytes")


if __name__ == "__main__":
    main()
