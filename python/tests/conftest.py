"""Shared test fixtures: the HDF5 fixture files, their manifest, an h5py oracle, and a
`strobe serve` of the fixtures on a free local port."""

import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("STROBE_FIXTURES", ROOT / "tests" / "fixtures" / "out"))


def manifest():
    path = FIXTURES / "manifest.json"
    if not path.exists():
        pytest.exit(
            f"{path} is missing — run: .venv/bin/python tests/fixtures/make_fixtures.py {FIXTURES}",
            returncode=2,
        )
    return json.loads(path.read_text())


MANIFEST = manifest()
READABLE = [f for f in MANIFEST["fixtures"] if not f["expect_error"]]
# Prophesee's ECF codec (filter 36559) has no plugin for PyPI's h5py: those fixtures are checked
# against the digests h5py + Prophesee's plugin wrote into the manifest when they were made.
ECF = [f for f in READABLE if 36559 in f.get("filters", {}).get("t", [])]
H5PY_READS = [f for f in READABLE if f not in ECF]
BROKEN = [f for f in MANIFEST["fixtures"] if f["expect_error"]]


def _dataset_part(h5, spec):
    """The h5py dataset of a column path and the part of each row it names."""
    m = re.match(r"^(.*?)(?:\[:,(\d+)\]|\[(\w+)\])?$", spec)
    return h5[m.group(1)], m.group(2), m.group(3)


def stored_dtypes(fixture):
    """numpy dtype each column should come back in: the stored integer type in native byte
    order, int64 for floats (t as µs, whole x/y/p)."""
    import h5py
    import hdf5plugin  # noqa: F401

    out = {}
    with h5py.File(FIXTURES / fixture["file"], "r") as h5:
        for c in ("x", "y", "t", "p"):
            ds, _, member = _dataset_part(h5, fixture["paths"][c])
            dt = ds.dtype[member] if member else ds.dtype
            out[c] = np.dtype(np.int64) if dt.kind == "f" else dt.newbyteorder("=")
    return out


def _column(h5, spec, scale=1.0):
    """One column as int64, read by h5py: `ds`, `ds[:,k]` or `ds[field]`; floats rounded by
    the fixtures' rule floor(v·scale + 0.5)."""
    m = re.match(r"^(.*?)(?:\[:,(\d+)\]|\[(\w+)\])?$", spec)
    ds = h5[m.group(1)]
    if m.group(2) is not None:
        values = ds[:, int(m.group(2))]
    elif m.group(3) is not None:
        values = ds[m.group(3)]
    else:
        values = ds[...]
    values = np.asarray(values).reshape(-1)
    if values.dtype.kind == "f":
        return np.floor(values * scale + 0.5).astype(np.int64)
    return values.astype(np.int64)


_ORACLE = {}


def oracle(fixture):
    """(x, y, t, p) of a fixture's event stream as int64 arrays, from h5py."""
    key = fixture["id"]
    if key not in _ORACLE:
        import h5py
        import hdf5plugin  # noqa: F401  (registers the filters)

        paths = fixture["paths"]
        with h5py.File(FIXTURES / fixture["file"], "r") as h5:
            scale = 1e6 if fixture["layout"] == "mvsec" else 1.0
            _ORACLE.clear()  # keep one file's columns in memory at a time
            _ORACLE[key] = tuple(
                _column(h5, paths[c], scale if c == "t" else 1.0) for c in ("x", "y", "t", "p")
            )
    return _ORACLE[key]


def oracle_window(fixture, t0, t1):
    x, y, t, p = oracle(fixture)
    a, b = np.searchsorted(t, t0, "left"), np.searchsorted(t, t1, "left")
    return x[a:b], y[a:b], t[a:b], p[a:b], a


def open_kwargs(fixture):
    return {"camera": fixture["camera"]} if fixture["camera"] else {}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """Base URL of `strobe serve --data <fixtures>` on a free port (Range + CORS)."""
    binary = Path(os.environ.get("STROBE_BIN", ROOT / "target" / "debug" / "strobe"))
    if not binary.exists():
        pytest.fail(f"{binary} is missing — build it with `cargo build --bin strobe` (or set STROBE_BIN)")
    port = _free_port()
    proc = subprocess.Popen(
        [str(binary), "serve", "--data", str(FIXTURES), "--port", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/data/"
    try:
        for _ in range(200):
            if proc.poll() is not None:
                pytest.fail(f"strobe serve exited: {proc.stderr.read().decode(errors='replace')}")
            try:
                req = urllib.request.Request(base + "manifest.json", headers={"Range": "bytes=0-0"})
                with urllib.request.urlopen(req, timeout=1) as r:
                    if r.status == 206:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("strobe serve did not answer a range request")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def vm_rss_kb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")
