#!/usr/bin/env python3
"""Turn the filter test vectors (tests/data/filters) into seeds of the filter fuzz targets, in
the harness's input format (fuzz/src/lib.rs): u32 LE decoded size, element size, mode byte,
u16 LE block size, then the stored chunk. `blosclz` seeds are the BloscLZ Blosc chunks' first
stream with its u32 LE block size in front.

Usage: python3 fuzz/seeds/filter_seeds.py OUTROOT   (writes OUTROOT/<target>/<vector name>)
"""

import json
import os
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "tests", "data", "filters")
TARGETS = {32001: "blosc", 32000: "lzf", 32004: "lz4", 32015: "zstd", 32008: "bitshuffle", 1: "deflate"}
CAP = 1 << 20


def main():
    out = sys.argv[1]
    manifest = json.load(open(os.path.join(DATA, "manifest.json")))
    for v in manifest["vectors"]:
        if v["chunk_bytes"] > CAP or v.get("filter_mask", 0):
            continue
        ids = [s["id"] for s in v["pipeline"]]
        main_ids = [i for i in ids if i in TARGETS]
        if len(main_ids) != 1:
            continue
        fid = main_ids[0]
        target = TARGETS[fid]
        mode, block = 0, 0
        if fid == 1:
            mode = (1 if 2 in ids else 0) | (2 if 3 in ids else 0)
            if ids not in ([1], [2, 1], [1, 3], [2, 1, 3]):
                continue
        if fid == 32008:
            cd = next(s["cd_values"] for s in v["pipeline"] if s["id"] == fid)
            comp = cd[4] if len(cd) > 4 else 0
            mode = {0: 0, 2: 1, 3: 2}.get(comp, 0)
            block = cd[3] if len(cd) > 3 else 0
            if block > 0xFFFF:
                continue
        stored = open(os.path.join(DATA, v["encoded"]), "rb").read()
        head = struct.pack("<IBBH", v["chunk_bytes"], v["element_size"] & 0xFF, mode, block)
        os.makedirs(os.path.join(out, target), exist_ok=True)
        open(os.path.join(out, target, v["name"]), "wb").write(head + stored)
        if fid == 32001 and "blosclz" in v["name"] and len(stored) > 20:
            blocksize = struct.unpack_from("<I", stored, 8)[0]
            start = struct.unpack_from("<i", stored, 16)[0]
            if 0 < start < len(stored) - 4:
                csize = struct.unpack_from("<i", stored, start)[0]
                body = stored[start + 4:start + 4 + max(csize, 0)]
                os.makedirs(os.path.join(out, "blosclz"), exist_ok=True)
                open(os.path.join(out, "blosclz", v["name"]), "wb").write(
                    struct.pack("<I", blocksize) + body)


if __name__ == "__main__":
    main()
