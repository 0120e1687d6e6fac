"""Oracle for tests/export.rs: reads a file written by `strobe export` with numpy/h5py (and a
PNG decoder made of zlib + struct), computes the same window from the source with h5py
(searchsorted on t) and the documented rewrites with numpy, and compares.

Usage: export_oracle.py SPEC_JSON. Prints {"events": N} when everything matches; otherwise
prints what differs to stderr and exits 1.
"""
import json
import struct
import sys
import zlib

import h5py
import hdf5plugin  # noqa: F401  (registers the filters the sources use)
import numpy as np


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def same(name, got, want):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        fail(f"{name}: shape {got.shape} vs expected {want.shape}")
    if not np.array_equal(got, want):
        bad = np.flatnonzero(got.reshape(-1) != want.reshape(-1))
        k = bad[0]
        fail(f"{name}: {bad.size} values differ, first at {k}: {got.reshape(-1)[k]} vs {want.reshape(-1)[k]}")


def native(dt):
    """The stored integer dtype in little-endian order: what Strobe returns and writes."""
    return np.dtype(dt).newbyteorder("<")


def source_window(spec):
    """The window's columns as h5py reads them, each in its stored dtype (native order)."""
    f = h5py.File(spec["source"], "r")
    paths = spec["paths"]
    t = f[paths["t"]][:]
    i = int(np.searchsorted(t, spec["from"], "left"))
    j = int(np.searchsorted(t, spec["to"], "left"))
    cols = {k: f[paths[k]][i:j] for k in "xyp"}
    cols["t"] = t[i:j]
    cols = {k: v.astype(native(v.dtype)) for k, v in cols.items()}
    t_offset = 0
    if paths.get("t_offset"):
        t_offset = int(np.asarray(f[paths["t_offset"]][()]).reshape(-1)[0])
    return cols, t_offset


def expected(spec, cols, t_offset):
    w, h = spec["width"], spec["height"]
    out = {}
    for k, size in (("x", w), ("y", h)):
        if spec["normalize"]:
            out[k] = cols[k].astype(np.float32) / np.float32(size)
        else:
            out[k] = cols[k]
    t = cols["t"]
    if spec["normalize"]:
        t = t.astype(np.int64) - spec["from"]
    elif spec["absolute_time"]:
        t = t.astype(np.int64) + t_offset
    out["t"] = t
    p = cols["p"]
    if spec["polarity"] == "binary":
        p = (p > 0).astype(np.int8)
    elif spec["polarity"] == "signed":
        p = np.where(p > 0, 1, -1).astype(np.int8)
    out["p"] = p
    return out


def check_dtypes(got, want):
    """Documented: every column in its stored dtype unless an option rewrites it."""
    for k in "xytp":
        if np.dtype(got[k].dtype) != want[k].dtype:
            fail(f"{k}: dtype {got[k].dtype}, documented {want[k].dtype}")


def load_npz(spec, want):
    d = np.load(spec["out"])
    if sorted(d.files) != ["p", "t", "x", "y"]:
        fail(f"npz holds {d.files}")
    got = {k: d[k] for k in "xytp"}
    check_dtypes(got, want)
    return got


def load_csv(spec, want):
    with open(spec["out"]) as fh:
        header = fh.readline().strip()
        rows = [line.rstrip("\n").split(",") for line in fh]
    if header != "x,y,t,p":
        fail(f"csv header {header!r}")
    if any(len(r) != 4 for r in rows):
        fail("csv: a line without 4 fields")
    parse = float if spec["normalize"] else int
    return {
        k: np.array([(parse if k in "xy" else int)(r[i]) for r in rows], dtype=want[k].dtype)
        for i, k in enumerate("xytp")
    }


def load_h5(spec, t_offset, want):
    g = h5py.File(spec["out"], "r")
    got = {k: g[f"/events/{k}"][:] for k in "xytp"}
    check_dtypes(got, want)
    if int(g["t_offset"][()]) != t_offset or g["t_offset"].shape != ():
        fail(f"t_offset {g['t_offset'][()]} (shape {g['t_offset'].shape}) vs source {t_offset}")
    ms = g["ms_to_idx"][:]
    if ms.dtype != np.dtype("<u8"):
        fail(f"ms_to_idx dtype {ms.dtype}")
    t = got["t"]
    rows = int(t[-1]) // 1000 + 1 if t.size and t[-1] >= 0 else 0
    want = np.searchsorted(t, np.arange(rows, dtype=np.int64) * 1000, "left")
    same("ms_to_idx", ms, want)
    for k in "xytp":
        ds = g[f"/events/{k}"]
        if ds.chunks is None or ds.maxshape != (None,):
            fail(f"{k}: not chunked and resizable ({ds.chunks}, {ds.maxshape})")
    return got


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG signature")
    at, idat, ihdr = 8, b"", None
    while at < len(data):
        (n,) = struct.unpack(">I", data[at:at + 4])
        kind = data[at + 4:at + 8]
        body = data[at + 8:at + 8 + n]
        (crc,) = struct.unpack(">I", data[at + 8 + n:at + 12 + n])
        if zlib.crc32(kind + body) != crc:
            fail(f"PNG chunk {kind} has a bad CRC")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + n
    w, h, depth, colour, _, _, interlace = ihdr
    if (depth, colour, interlace) != (8, 2, 0):
        fail(f"PNG is depth {depth}, colour type {colour}, interlace {interlace}; expected 8-bit RGB")
    raw = zlib.decompress(idat)
    stride = w * 3
    img = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for r in range(h):
        kind = raw[r * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, r * (stride + 1) + 1).astype(np.int32)
        out = np.zeros(stride, dtype=np.int32)
        for i in range(stride):
            a = out[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if kind == 0:
                pred = 0
            elif kind == 1:
                pred = a
            elif kind == 2:
                pred = b
            elif kind == 3:
                pred = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[i] = (line[i] + pred) & 0xFF
            if kind == 0:
                out = line.copy()
                break
        img[r] = out
        prev = out
    return img.reshape(h, w, 3)


def render(spec, cols):
    """The page's fragment shader (www/render.js), in numpy."""
    w, h = spec["width"], spec["height"]
    x, y, t, p = cols["x"], cols["y"], cols["t"], cols["p"]
    inside = (x >= 0) & (y >= 0) & (x < w) & (y < h)
    x, y, t, p = x[inside], y[inside], t[inside], p[inside]
    cell = y * w + x
    pos = np.bincount(cell[p > 0], minlength=w * h)
    neg = np.bincount(cell[p <= 0], minlength=w * h)
    total = pos + neg
    mode, palette = spec["mode"], spec["palette"]
    if mode == "polarity":
        bg, plus, minus = ((255, 255, 255), (0, 0, 255), (255, 0, 0)) if palette == "dsec" else (
            (0, 0, 0), (0, 191, 255), (255, 89, 0))
        img = np.empty((w * h, 3), dtype=np.float64)
        img[:] = bg
        img[(total > 0) & (pos >= neg)] = plus
        img[(total > 0) & (pos < neg)] = minus
        return img.reshape(h, w, 3)
    if mode == "heatmap":
        lit = np.sort(total[total > 0])
        scale = max(int(lit[(lit.size - 1) * 99 // 100]), 1) if lit.size else 1
        v = np.where(total > 0, 0.12 + 0.88 * np.log1p(total) / np.log1p(scale), 0.0).clip(0, 1)
        stops = np.array([[0, 0, 0], [0.34, 0.06, 0.43], [0.80, 0.20, 0.25], [0.98, 0.56, 0.04],
                          [0.99, 1.0, 0.64]])
        seg = np.minimum((v / 0.25).astype(int), 3)
        f = (v - seg * 0.25) / 0.25
        rgb = stops[seg] * (1 - f)[:, None] + stops[seg + 1] * f[:, None]
        return (rgb * 255).reshape(h, w, 3)
    last = np.zeros(w * h, dtype=np.int64)
    np.maximum.at(last, cell, t - spec["from"] + 1)
    age = (spec["to"] - spec["from"]) - (last - 1)
    v = np.where(last > 0, np.exp(-np.maximum(age, 0) / max(spec["tau"], 1)), 0.0)
    return (np.repeat(v[:, None], 3, axis=1) * 255).reshape(h, w, 3)


def main():
    spec = json.loads(sys.argv[1])
    cols, t_offset = source_window(spec)
    fmt = spec["format"]
    if fmt == "png":
        img = read_png(spec["out"]).astype(np.int64)
        want = render(spec, {k: v.astype(np.int64) for k, v in cols.items()})
        if img.shape != want.shape:
            fail(f"PNG is {img.shape}, sensor {want.shape}")
        # Polarity colours are exact; the other modes allow the GPU's last-bit rounding.
        tolerance = 0 if spec["mode"] == "polarity" else 1
        diff = np.abs(img - np.round(want).astype(np.int64))
        if diff.max() > tolerance:
            k = np.unravel_index(np.argmax(diff), diff.shape)
            fail(f"PNG pixel {k}: {img[k[0], k[1]]} vs numpy {np.round(want[k[0], k[1]])}")
        lit = int(((img != img[0, 0]).any(axis=2)).sum()) if spec["mode"] == "polarity" else int((img.sum(axis=2) > 0).sum())
        print(json.dumps({"events": int(cols["t"].size), "lit_pixels": lit}))
        return
    want = expected(spec, cols, t_offset)
    if fmt == "npz":
        got = load_npz(spec, want)
    elif fmt == "csv":
        got = load_csv(spec, want)
    else:
        got = load_h5(spec, t_offset, want)
    for k in "xytp":
        same(k, got[k], want[k])
    print(json.dumps({"events": int(cols["t"].size)}))


main()
