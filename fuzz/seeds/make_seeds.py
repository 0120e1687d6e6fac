#!/usr/bin/env python3
"""Write tiny event recordings (a few KB each) that seed the `open_window` and `chunk_index`
fuzz targets: every chunk index kind, storage layout and filter Strobe reads, in files small
enough that libFuzzer's mutations reach their headers, index nodes and chunks alike.

Usage: .venv/bin/python fuzz/seeds/make_seeds.py OUTDIR   (deterministic; run in the venv)
"""

import os
import sys

import h5py
import hdf5plugin
import numpy as np

N = 300  # events per file: a few chunks of 64 rows


def stream(n=N, seed=7):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.integers(0, 40, n)).astype("i8") + 1000
    return {
        "x": rng.integers(0, 640, n).astype("u2"),
        "y": rng.integers(0, 480, n).astype("u2"),
        "t": t,
        "p": rng.integers(0, 2, n).astype("u1"),
    }


def ms_index(t):
    ms = np.arange(0, int(t[-1]) // 1000 + 2) * 1000
    return np.searchsorted(t, ms, side="left").astype("u8")


def dsec(path, libver=None, chunks=(64,), maxshape=None, ms=True, **filt):
    ev = stream()
    kw = {"libver": libver} if libver else {}
    with h5py.File(path, "w", **kw) as f:
        g = f.create_group("events")
        for k, v in ev.items():
            args = dict(filt)
            if chunks is not None:
                args["chunks"] = chunks
            if maxshape is not None:
                args["maxshape"] = maxshape
            g.create_dataset(k, data=v, **args)
        if ms:
            f.create_dataset("ms_to_idx", data=ms_index(ev["t"]), **({"chunks": (4,)} if chunks else {}))
        f.create_dataset("t_offset", data=np.int64(5))


def blosc(cname, shuffle):
    sh = {"none": hdf5plugin.Blosc.NOSHUFFLE, "byte": hdf5plugin.Blosc.SHUFFLE,
          "bit": hdf5plugin.Blosc.BITSHUFFLE}[shuffle]
    return dict(hdf5plugin.Blosc(cname=cname, clevel=5, shuffle=sh))


def compact(path):
    ev = stream(100)
    with h5py.File(path, "w") as f:
        g = f.create_group("events")
        for k, v in ev.items():
            space = h5py.h5s.create_simple(v.shape)
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_layout(h5py.h5d.COMPACT)
            tid = h5py.h5t.py_create(v.dtype)
            d = h5py.h5d.create(g.id, k.encode(), tid, space, dcpl=dcpl)
            d.write(h5py.h5s.ALL, h5py.h5s.ALL, v)


SEEDS = {
    "btree_v1_plain": lambda p: dsec(p),
    "btree_v1_deep": lambda p: dsec(p, chunks=(4,)),
    "contiguous": lambda p: dsec(p, chunks=None),
    "compact": compact,
    "fixed_array": lambda p: dsec(p, libver="latest"),
    "fixed_array_paged": lambda p: dsec(p, libver="latest", chunks=(1,)),
    "extensible_array": lambda p: dsec(p, libver="latest", maxshape=(None,)),
    "btree_v2": lambda p: dsec(p, libver="latest", maxshape=(None,), chunks=(64,), ms=False),
    "single_chunk": lambda p: dsec(p, libver="latest", chunks=(N,)),
    "no_ms_index": lambda p: dsec(p, ms=False),
    "deflate_shuffle_fletcher": lambda p: dsec(p, compression="gzip", shuffle=True, fletcher32=True),
    "lzf": lambda p: dsec(p, compression="lzf"),
    "zstd": lambda p: dsec(p, **dict(hdf5plugin.Zstd())),
    "lz4": lambda p: dsec(p, **dict(hdf5plugin.LZ4())),
    "bitshuffle_lz4": lambda p: dsec(p, **dict(hdf5plugin.Bitshuffle(cname="lz4"))),
    "blosc_blosclz_bit": lambda p: dsec(p, **blosc("blosclz", "bit")),
    "blosc_lz4_byte": lambda p: dsec(p, **blosc("lz4", "byte")),
    "blosc_zstd_bit": lambda p: dsec(p, **blosc("zstd", "bit")),
    "blosc_zlib_none": lambda p: dsec(p, **blosc("zlib", "none")),
    "blosc_snappy_byte": lambda p: dsec(p, **blosc("snappy", "byte")),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/open_window"
    os.makedirs(out, exist_ok=True)
    for name, make in SEEDS.items():
        path = os.path.join(out, name + ".h5")
        make(path)
        print(f"{os.path.getsize(path):7d}  {path}")


if __name__ == "__main__":
    main()
