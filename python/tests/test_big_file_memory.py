"""The issue's memory test: iterating 1,000 random 1 s windows of a 100 M-event file keeps the
process's RSS flat — no growth beyond the largest window.

The file is DSEC's layout with Blosc (tests/fixtures/make_big_dsec.py, ~345 MB, cached by its
parameters); scripts/test.sh makes it and names it in STROBE_BIG_DSEC. Without that variable the
test is skipped with the command that makes the file.
"""

import os
from pathlib import Path

import numpy as np
import pytest

import strobe

BIG = os.environ.get("STROBE_BIG_DSEC")
WINDOWS = 1000
WARM_UP = 20  # windows before the baseline: the engine's caches, decode pools, allocator arenas
SLACK = 64 << 20  # the bound: 1.5 × one window's arrays + 64 MB
COLUMNS = ("x", "y", "t", "p")

pytestmark = pytest.mark.skipif(
    not BIG,
    reason="set STROBE_BIG_DSEC to a 100 M-event file: "
    "STROBE_BIG_DSEC=$(.venv/bin/python tests/fixtures/make_big_dsec.py target/big-fixtures)",
)


def status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak():
    """Starts a new VmHWM (peak RSS) period: Linux resets it on writing 5 to clear_refs. Returns
    False where that is not allowed (then the test samples VmRSS after every window)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return status_kb("VmHWM") <= status_kb("VmRSS") + 1024


def h5py_ranges(path, bounds):
    """Per window the index of its first event and its count of events t0 <= t < t1, by numpy's
    searchsorted on `t` read by h5py in slabs (the oracle: no strobe code, no ms_to_idx)."""
    import h5py
    import hdf5plugin  # noqa: F401

    t0 = np.array([b[0] for b in bounds], dtype=np.int64)
    t1 = np.array([b[1] for b in bounds], dtype=np.int64)
    before0 = np.zeros(len(bounds), dtype=np.int64)  # events with t < t0
    before1 = np.zeros(len(bounds), dtype=np.int64)  # events with t < t1
    with h5py.File(path, "r") as f:
        t = f["events/t"]
        slab = 8 << 20
        for a in range(0, t.shape[0], slab):
            part = t[a : a + slab].astype(np.int64)
            before0 += np.searchsorted(part, t0, "left")
            before1 += np.searchsorted(part, t1, "left")
        n = t.shape[0]
    return before0, before1 - before0, n


def test_rss_stays_flat_over_1000_random_1s_windows_of_100M_events():
    ds = strobe.EventWindows([BIG], "1s", random=True, windows_per_epoch=WINDOWS, seed=3)
    assert len(ds) == WINDOWS
    rec = ds.recordings[0]
    assert rec.events >= 100_000_000, f"{BIG} holds {rec.events} events, not the issue's 100 M"

    bounds, counts, sizes = [], [], []
    largest = 0
    base = peak = None
    hwm = False
    for i in range(WINDOWS):
        s = ds[i]
        n = len(s["t"])
        assert all(len(s[c]) == n for c in COLUMNS), i
        assert s["t1"] - s["t0"] == 1_000_000
        if n:  # training output: t - t0 in [0, 1 s), x/width and y/height in [0, 1), p ±1
            assert 0 <= s["t"][0] and s["t"][-1] < 1_000_000, i
            assert 0 <= s["x"].min() and s["x"].max() < 1 and 0 <= s["y"].min() and s["y"].max() < 1
        nbytes = sum(s[c].nbytes for c in COLUMNS)
        largest = max(largest, nbytes)
        bounds.append((s["t0"], s["t1"]))
        counts.append(n)
        sizes.append(nbytes)
        del s
        if i + 1 == WARM_UP:
            hwm = reset_peak()
            base = status_kb("VmRSS") << 10
            peak = base
        elif base is not None:
            peak = max(peak, (status_kb("VmHWM") if hwm else status_kb("VmRSS")) << 10)
            # never, not only at the end: a leak fails here long before it could fill the machine
            assert peak - base <= 1.5 * largest + SLACK, (
                f"RSS grew by {(peak - base) >> 20} MB after {i + 1} windows; the largest window's "
                f"arrays are {largest >> 20} MB (bound 1.5 × that + 64 MB)"
            )

    print(f"\n{WINDOWS} windows: RSS base {base >> 20} MB, peak {peak >> 20} MB (+{(peak - base) >> 20} MB); "
          f"largest window {max(counts):,} events, {largest >> 20} MB of arrays; bound +{int(1.5 * largest + SLACK) >> 20} MB")
    # the windows differ in size (the file's rate changes), and the largest is a real load
    assert max(counts) > 10 * min(counts), (min(counts), max(counts))
    assert largest >= 16 << 20, largest

    # every window's event count against h5py + searchsorted
    first, expected, n = h5py_ranges(BIG, bounds)
    assert n == rec.events
    bad = [(i, counts[i], int(expected[i])) for i in range(WINDOWS) if counts[i] != expected[i]]
    assert not bad, f"{len(bad)} windows differ from h5py (index, strobe, h5py): {bad[:5]}"

    # the largest, the smallest and one more window value for value through rec.window
    # (stored values and stored t)
    import h5py
    import hdf5plugin  # noqa: F401

    picks = sorted({int(np.argmax(counts)), int(np.argmin(counts)), WINDOWS // 2})
    with h5py.File(BIG, "r") as f:
        for i in picks:
            got = rec.window(*bounds[i])
            lo, hi = int(first[i]), int(first[i] + expected[i])
            for c in COLUMNS:
                want = f["events/" + c][lo:hi]
                assert np.array_equal(got[c], want), (i, c, len(got[c]), hi - lo)
            del got
